// Creating and closing jobs for custom actions (store writes only; no execution logic, so
// executions.ts and jobs.ts can both use it without importing each other in a cycle).

import { randomUUID } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import type { ActionPlan } from './executions-plan.js';
import { TABLES, type ArtifactLocationRecord, type ExecutionRecord, type JobRecord } from './records.js';

export interface NewJob {
  readonly execution: Pick<ExecutionRecord, 'pipelineName' | 'pipelineExecutionId'>;
  readonly pipelineArn: string;
  readonly action: Pick<ActionPlan, 'stageName' | 'name' | 'actionTypeId'>;
  readonly actionExecutionId: string;
  readonly configuration: Record<string, string>;
  readonly inputArtifacts: readonly ArtifactLocationRecord[];
  readonly outputArtifacts: readonly ArtifactLocationRecord[];
  readonly encryptionKey?: { readonly id: string; readonly type: 'KMS' };
  readonly continuationToken?: string;
}

/** Queues a job. (AWS lists a `Created` status too; a job here is queued the moment it exists.) */
export function createJob(context: EmulatorContext, request: NewJob): JobRecord {
  return context.store.transaction(() => {
    const sequence = (context.store.get<number>(TABLES.counters, 'jobSequence') ?? 0) + 1;
    context.store.put(TABLES.counters, 'jobSequence', sequence);
    const job: JobRecord = {
      id: randomUUID(),
      actionTypeId: { ...request.action.actionTypeId },
      pipelineName: request.execution.pipelineName,
      pipelineArn: request.pipelineArn,
      pipelineExecutionId: request.execution.pipelineExecutionId,
      stageName: request.action.stageName,
      actionName: request.action.name,
      actionExecutionId: request.actionExecutionId,
      status: 'Queued',
      createdAt: context.now(),
      sequence,
      configuration: request.configuration,
      inputArtifacts: request.inputArtifacts,
      outputArtifacts: request.outputArtifacts,
      ...(request.encryptionKey ? { encryptionKey: request.encryptionKey } : {}),
      ...(request.continuationToken ? { continuationToken: request.continuationToken } : {}),
    };
    context.store.put(TABLES.jobs, job.id, job);
    return job;
  });
}

/** Ends a job that has not reported, because its action was abandoned. It ends `Failed` (the
 *  nearest JobStatus AWS has); a later result for it gets InvalidJobStateException. */
export function closeJob(context: EmulatorContext, jobId: string): void {
  context.store.transaction(() => {
    const job = context.store.get<JobRecord>(TABLES.jobs, jobId);
    if (!job || job.status === 'Succeeded' || job.status === 'Failed' || job.status === 'TimedOut') return;
    context.store.put(TABLES.jobs, jobId, { ...job, status: 'Failed', finishedAt: context.now() } satisfies JobRecord);
  });
}
