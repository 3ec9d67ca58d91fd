// The job worker side over the store: deadlines, dispatch, acknowledgement and results. Request
// shapes are checked in jobs-operations.ts before anything here runs.

import { randomInt } from 'node:crypto';
import { AwsError } from '../aws-error.js';
import type { EmulatorContext } from '../context.js';
import { issueJobCredential } from './credentials.js';
import { completeActionRun, updateActionRun } from './executions.js';
import { actionKey } from './executions-plan.js';
import { createJob } from './jobs-create.js';
import { earliestJobDeadline, groupQueuedJobs, planJobDeadline, selectJobsToDispatch, type QueryFilter } from './jobs-plan.js';
import { renderJobDetails, renderPolledJob } from './jobs-render.js';
import { actionTypeRecordKey, TABLES, type JobRecord } from './records.js';
import { derivedFrom } from '../table-memo.js';

/** Message and code an action gets when its acknowledged job never reports (our choice: AWS's
 *  wording is UNVERIFIED; `JobFailed` is the generic FailureType). */
export const JOB_TIMED_OUT_CODE = 'JobFailed';

/** Requeues dispatched jobs nobody acknowledged in time and times out acknowledged jobs that never
 *  reported (failing their action). Called lazily by every job operation and by the engine. */
export function applyJobDeadlines(context: EmulatorContext): void {
  const now = context.now();
  const timeouts = context.options;
  const jobs = context.store.table<JobRecord>(TABLES.jobs);
  if (now < derivedFrom(context.store, 'earliestJobDeadline', [TABLES.jobs], () => earliestJobDeadline(jobs.values(), timeouts))) return;
  const due: { job: JobRecord; decision: 'requeue' | 'time-out' }[] = [];
  for (const job of jobs.values()) {
    const decision = planJobDeadline(job, now, timeouts);
    if (decision) due.push({ job, decision });
  }
  if (!due.length) return;
  context.store.transaction(() => {
    for (const { job, decision } of due) {
      if (decision === 'requeue') {
        const { nonce: _stale, nonceUsed: _used, dispatchedAt: _at, ...rest } = job;
        context.store.put(TABLES.jobs, job.id, { ...rest, status: 'Queued' } satisfies JobRecord);
        continue;
      }
      context.store.put(TABLES.jobs, job.id, { ...job, status: 'TimedOut', finishedAt: now } satisfies JobRecord);
      completeActionRun(context, job.pipelineExecutionId, actionKey(job.stageName, job.actionName), job.actionExecutionId, {
        status: 'Failed',
        errorDetails: {
          code: JOB_TIMED_OUT_CODE,
          message: `The job ${job.id} timed out: no result was reported within ${timeouts.actionTimeoutMs} ms of its acknowledgement`,
        },
      });
    }
  });
}

/** Hands out queued jobs: each gets a fresh nonce, status Dispatched and fresh credentials. */
export function dispatchJobs(context: EmulatorContext, type: { category: string; provider: string; version: string }, filter: QueryFilter | undefined, maxBatchSize: number): unknown[] {
  applyJobDeadlines(context);
  const jobs = context.store.table<JobRecord>(TABLES.jobs);
  const queued = derivedFrom(context.store, 'queuedJobsByType', [TABLES.jobs], () => groupQueuedJobs(jobs.values())).get(actionTypeRecordKey(type));
  if (!queued) return [];
  return context.store.transaction(() => {
    const now = context.now();
    return selectJobsToDispatch(queued, type, filter, maxBatchSize).map((job) => {
      const { nonceUsed: _used, ...rest } = job;
      const dispatched: JobRecord = { ...rest, status: 'Dispatched', nonce: String(randomInt(1, 2 ** 31 - 1)), dispatchedAt: now };
      context.store.put(TABLES.jobs, job.id, dispatched);
      return renderPolledJob(dispatched, issueJobCredential(context, job.id), context.accountId);
    });
  });
}

export function requireJob(context: EmulatorContext, jobId: string): JobRecord {
  const job = context.store.get<JobRecord>(TABLES.jobs, jobId);
  if (!job) throw new AwsError('JobNotFoundException', `The job with id '${jobId}' was not found.`);
  return job;
}

/** A nonce is good once, and only the latest dispatch's nonce is good: a second acknowledgement,
 *  a nonce from before a redispatch or a made-up one all get InvalidNonceException. A job closed
 *  while dispatched (its action was abandoned) answers with its final status, which tells the
 *  worker not to start (AWS workers proceed only on `InProgress`). */
export function acknowledgeJob(context: EmulatorContext, jobId: string, nonce: string): string {
  applyJobDeadlines(context);
  return context.store.transaction(() => {
    const job = requireJob(context, jobId);
    if (job.nonce !== nonce || job.nonceUsed) throw new AwsError('InvalidNonceException', `The nonce for job '${jobId}' is not valid.`);
    if (job.status !== 'Dispatched') {
      context.store.put(TABLES.jobs, job.id, { ...job, nonceUsed: true } satisfies JobRecord);
      return job.status;
    }
    context.store.put(TABLES.jobs, job.id, { ...job, status: 'InProgress', nonceUsed: true, acknowledgedAt: context.now() } satisfies JobRecord);
    return 'InProgress';
  });
}

/** GetJobDetails: the same data as the poll, no nonce, and a fresh credential. */
export function readJobDetails(context: EmulatorContext, jobId: string): unknown {
  applyJobDeadlines(context);
  return context.store.transaction(() => {
    const job = requireJob(context, jobId);
    return renderJobDetails(job, issueJobCredential(context, job.id), context.accountId);
  });
}

/** A job accepts a result only while acknowledged and running (UNVERIFIED in AWS's docs; it is the
 *  reading AWS's own workers rely on). */
export function requireInProgressJob(context: EmulatorContext, jobId: string): JobRecord {
  applyJobDeadlines(context);
  const job = requireJob(context, jobId);
  if (job.status !== 'InProgress') throw new AwsError('InvalidJobStateException', `The job '${jobId}' is in state ${job.status} and cannot accept a result; results are accepted only for InProgress jobs.`);
  return job;
}

export interface SuccessResult {
  readonly continuationToken?: string;
  readonly executionDetails?: { readonly summary?: string; readonly externalExecutionId?: string; readonly percentComplete?: number };
  readonly outputVariables?: Record<string, string>;
  readonly currentRevision?: { readonly revision: string; readonly changeIdentifier: string; readonly created?: number; readonly revisionSummary?: string };
}

/** With a continuation token the job ends Succeeded and a new job (new id, nonce on dispatch)
 *  carrying the token is queued for the same action execution; without one the action succeeds. */
export function recordJobSuccess(context: EmulatorContext, job: JobRecord, result: SuccessResult): void {
  context.store.transaction(() => {
    const now = context.now();
    context.store.put(TABLES.jobs, job.id, { ...job, status: 'Succeeded', finishedAt: now } satisfies JobRecord);
    const key = actionKey(job.stageName, job.actionName);
    const details = result.executionDetails ?? {};
    if (result.continuationToken) {
      const next = createJob(context, {
        execution: job,
        pipelineArn: job.pipelineArn,
        action: { stageName: job.stageName, name: job.actionName, actionTypeId: job.actionTypeId },
        actionExecutionId: job.actionExecutionId,
        configuration: job.configuration,
        inputArtifacts: job.inputArtifacts,
        outputArtifacts: job.outputArtifacts,
        continuationToken: result.continuationToken,
        ...(job.encryptionKey ? { encryptionKey: job.encryptionKey } : {}),
      });
      updateActionRun(context, job.pipelineExecutionId, key, { ...details, currentJobId: next.id });
      return;
    }
    completeActionRun(context, job.pipelineExecutionId, key, job.actionExecutionId, {
      status: 'Succeeded',
      ...details,
      ...(result.outputVariables ? { outputVariables: result.outputVariables } : {}),
      ...(result.currentRevision
        ? {
            revision: result.currentRevision.revision,
            currentRevision: {
              revisionId: result.currentRevision.revision,
              revisionChangeId: result.currentRevision.changeIdentifier,
              created: result.currentRevision.created ?? now,
              ...(result.currentRevision.revisionSummary ? { summary: result.currentRevision.revisionSummary } : {}),
            },
          }
        : {}),
    });
  });
}

/** The action fails with the failure type as errorDetails.code and the message as its message. */
export function recordJobFailure(context: EmulatorContext, job: JobRecord, failure: { type: string; message: string; externalExecutionId?: string }): void {
  context.store.transaction(() => {
    context.store.put(TABLES.jobs, job.id, { ...job, status: 'Failed', finishedAt: context.now() } satisfies JobRecord);
    completeActionRun(context, job.pipelineExecutionId, actionKey(job.stageName, job.actionName), job.actionExecutionId, {
      status: 'Failed',
      errorDetails: { code: failure.type, message: failure.message },
      ...(failure.externalExecutionId ? { externalExecutionId: failure.externalExecutionId } : {}),
    });
  });
}
