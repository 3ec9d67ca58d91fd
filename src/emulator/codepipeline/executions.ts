// Pipeline executions over the store: start, advance, stop, complete actions, and run the
// AWS-owned actions the endpoint stands in for. Decisions come from executions-plan.ts; this
// module applies them. Every write happens inside `store.transaction`, and nothing is written
// before the checks that could reject a request (the store has no rollback).

import { randomBytes, randomUUID } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import { createJob, closeJob } from './jobs-create.js';
import {
  actionKey,
  artifactObjectKey,
  executionStatusAfterStage,
  isActiveExecution,
  isListedAsFailing,
  planNextStep,
  planStageEntries,
  readPipelinePlan,
  resolveVariables,
  type ActionPlan,
  type ExecutionStep,
  type PipelinePlan,
} from './executions-plan.js';
import { TABLES, type ActionRunRecord, type ArtifactLocationRecord, type ExecutionRecord, type PipelineRecord } from './records.js';

export interface ExecutionTrigger {
  readonly triggerType: string;
  readonly triggerDetail?: string;
}

export interface StartRequest {
  readonly trigger: ExecutionTrigger;
  readonly clientRequestToken?: string;
  readonly variables?: readonly { readonly name: string; readonly value: string }[];
}

/** An empty ZIP archive (just the end-of-central-directory record): what stand-in AWS actions
 *  write when they have nothing to pass through. */
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);

const SAFETY_ROUNDS = 10_000;

export function findPipeline(context: EmulatorContext, name: string): PipelineRecord | undefined {
  return context.store.get<PipelineRecord>(TABLES.pipelines, name);
}

/** The plan of the declaration version an execution runs. */
export function planOf(context: EmulatorContext, execution: ExecutionRecord): PipelinePlan | undefined {
  const pipeline = findPipeline(context, execution.pipelineName);
  const version = pipeline?.versions.find((candidate) => candidate.version === execution.pipelineVersion);
  return version ? readPipelinePlan(version.declaration, context.region) : undefined;
}

/** The executions of this incarnation of a pipeline (a deleted namesake's history is not shown). */
export function executionsOf(context: EmulatorContext, pipeline: PipelineRecord): ExecutionRecord[] {
  const result: ExecutionRecord[] = [];
  for (const execution of context.store.table<ExecutionRecord>(TABLES.executions).values()) {
    if (execution.pipelineName === pipeline.name && execution.pipelineCreated === pipeline.created) result.push(execution);
  }
  return result.sort((a, b) => a.sequence - b.sequence);
}

/** Marks that a pipeline incarnation got its CreatePipeline execution, so it is started once. */
const CREATION_STARTS = TABLES.creationExecutions;

function creationKey(pipeline: PipelineRecord): string {
  return `${pipeline.name}@${pipeline.created}`;
}

/** AWS starts an execution (trigger type `CreatePipeline`) when a pipeline is created. This starts
 *  it for every pipeline that has not had one yet. CreatePipeline itself may call startExecution
 *  with that trigger instead; the marker keeps it to one execution either way. */
export function startCreationExecutions(context: EmulatorContext): void {
  for (const pipeline of context.store.table<PipelineRecord>(TABLES.pipelines).values()) {
    if (context.store.get(CREATION_STARTS, creationKey(pipeline))) continue;
    startExecution(context, pipeline.name, { trigger: { triggerType: 'CreatePipeline', triggerDetail: `arn:aws:iam::${context.accountId}:root` } });
  }
}

export function nextSequence(context: EmulatorContext, counter: string): number {
  const value = (context.store.get<number>(TABLES.counters, counter) ?? 0) + 1;
  context.store.put(TABLES.counters, counter, value);
  return value;
}

/** Starts an execution of the pipeline's current version. CreatePipeline calls this with trigger
 *  type `CreatePipeline`, as AWS starts one on create. With a clientRequestToken already used for
 *  this pipeline, the earlier execution is returned instead (idempotency). Callers validate first. */
export function startExecution(context: EmulatorContext, pipelineName: string, request: StartRequest): ExecutionRecord {
  return context.store.transaction(() => {
    const pipeline = findPipeline(context, pipelineName);
    if (!pipeline) throw new Error(`startExecution: no pipeline ${pipelineName}`);
    if (request.clientRequestToken) {
      const earlier = executionsOf(context, pipeline).find((execution) => execution.clientRequestToken === request.clientRequestToken);
      if (earlier) return earlier;
    }
    if (request.trigger.triggerType === 'CreatePipeline') {
      if (context.store.get(CREATION_STARTS, creationKey(pipeline))) {
        const first = executionsOf(context, pipeline).find((execution) => execution.trigger.triggerType === 'CreatePipeline');
        if (first) return first;
      }
      context.store.put(CREATION_STARTS, creationKey(pipeline), true);
    }
    const version = pipeline.versions[pipeline.versions.length - 1];
    if (!version) throw new Error(`startExecution: pipeline ${pipelineName} has no version`);
    const plan = readPipelinePlan(version.declaration, context.region);
    const given = new Map((request.variables ?? []).map((variable) => [variable.name, variable.value]));
    const variables = plan.variables.flatMap((variable) => {
      const value = given.get(variable.name) ?? variable.defaultValue;
      return value === undefined ? [] : [{ name: variable.name, resolvedValue: value }];
    });
    const now = context.now();
    const execution: ExecutionRecord = {
      pipelineExecutionId: randomUUID(),
      pipelineName,
      pipelineCreated: pipeline.created,
      pipelineVersion: version.version,
      sequence: nextSequence(context, 'executionSequence'),
      executionMode: plan.executionMode,
      status: 'InProgress',
      startedAt: now,
      lastUpdateAt: now,
      trigger: request.trigger,
      currentStageIndex: 0,
      stageStatuses: {},
      actions: {},
      artifacts: {},
      ...(variables.length ? { variables } : {}),
      ...(request.clientRequestToken ? { clientRequestToken: request.clientRequestToken } : {}),
    };
    context.store.put(TABLES.executions, execution.pipelineExecutionId, execution);
    advancePipeline(context, pipelineName);
    return context.store.get<ExecutionRecord>(TABLES.executions, execution.pipelineExecutionId) ?? execution;
  });
}

/** Moves every active execution of a pipeline as far as it can go now: supersedes overtaken
 *  executions, lets waiting ones into free stages, starts the next runOrder group, finishes stages
 *  and executions. One step per round, then the locks are recomputed. */
export function advancePipeline(context: EmulatorContext, pipelineName: string): void {
  context.store.transaction(() => {
    const pipeline = findPipeline(context, pipelineName);
    if (!pipeline) return;
    const plans = new Map<number, PipelinePlan | undefined>();
    const planFor = (execution: ExecutionRecord) => {
      if (!plans.has(execution.pipelineVersion)) plans.set(execution.pipelineVersion, planOf(context, execution));
      return plans.get(execution.pipelineVersion);
    };
    for (let round = 0; round < SAFETY_ROUNDS; round++) {
      const active = executionsOf(context, pipeline).filter(isActiveExecution);
      const entries = planStageEntries(active, (execution) => planFor(execution)?.stages ?? []);
      const now = context.now();
      let changed = false;
      for (const execution of active) {
        if (entries.supersede.has(execution.pipelineExecutionId)) {
          context.store.put(TABLES.executions, execution.pipelineExecutionId, {
            ...execution,
            status: 'Superseded',
            statusSummary: 'This execution was superseded by a newer execution',
            lastUpdateAt: now,
          } satisfies ExecutionRecord);
          changed = true;
        }
      }
      if (changed) continue;
      for (const execution of active) {
        const plan = planFor(execution);
        const step: ExecutionStep = plan
          ? planNextStep(execution, plan.stages, entries.enter.has(execution.pipelineExecutionId))
          : { kind: 'finish-execution', status: 'Failed', summary: 'The pipeline version this execution ran no longer exists' };
        if (step.kind === 'none') continue;
        applyStep(context, execution, plan, step, now);
        changed = true;
        break;
      }
      if (!changed) break;
    }
  });
  launchBuiltInActions(context, pipelineName);
}

function applyStep(context: EmulatorContext, execution: ExecutionRecord, plan: PipelinePlan | undefined, step: ExecutionStep, now: number): void {
  const save = (next: ExecutionRecord) => context.store.put(TABLES.executions, next.pipelineExecutionId, { ...next, lastUpdateAt: now });
  switch (step.kind) {
    case 'none':
      return;
    case 'enter-stage':
      return save({ ...execution, stageStatuses: { ...execution.stageStatuses, [step.stage.name]: 'InProgress' } });
    case 'start-actions': {
      const actions = { ...execution.actions };
      let artifacts = { ...execution.artifacts };
      for (const action of step.actions) {
        const run = startAction(context, execution, plan as PipelinePlan, action, now);
        actions[actionKey(action.stageName, action.name)] = run;
        if (run.status === 'Succeeded') artifacts = { ...artifacts, ...artifactsOf(run) };
      }
      return save({ ...execution, actions, artifacts });
    }
    case 'finish-stage': {
      const stages = plan?.stages ?? [];
      const isLast = execution.currentStageIndex >= stages.length - 1;
      const status = executionStatusAfterStage(step.status, isLast);
      return save({
        ...execution,
        stageStatuses: { ...execution.stageStatuses, [step.stage.name]: step.status },
        status,
        currentStageIndex: status === 'InProgress' ? execution.currentStageIndex + 1 : execution.currentStageIndex,
        ...(status !== 'InProgress' && step.summary ? { statusSummary: step.summary } : {}),
      });
    }
    case 'finish-execution':
      return save({ ...execution, status: step.status, ...(step.summary ? { statusSummary: step.summary } : {}) });
  }
}

function artifactsOf(run: ActionRunRecord): Record<string, ArtifactLocationRecord> {
  return Object.fromEntries(run.outputLocations.map((location) => [location.name, location]));
}

/** Begins one action. Custom actions get a queued job; AWS-owned actions listed in
 *  `failingActions` fail at once; those that must write artifacts stay InProgress for the
 *  built-in runner; the rest succeed at once (the endpoint does not run AWS services). */
function startAction(context: EmulatorContext, execution: ExecutionRecord, plan: PipelinePlan, action: ActionPlan, now: number): ActionRunRecord {
  const store = plan.artifactStore;
  const outputLocations: ArtifactLocationRecord[] = store
    ? action.outputArtifacts.map((name) => ({ name, bucketName: store.bucketName, objectKey: artifactObjectKey(execution.pipelineName, name, randomKeySuffix()) }))
    : [];
  const base: ActionRunRecord = {
    stageName: action.stageName,
    actionName: action.name,
    actionExecutionId: randomUUID(),
    runOrder: action.runOrder,
    status: 'InProgress',
    startedAt: now,
    lastStatusChange: now,
    outputLocations,
  };
  if (action.actionTypeId.owner === 'Custom') {
    const pipeline = findPipeline(context, execution.pipelineName) as PipelineRecord;
    const job = createJob(context, {
      execution,
      pipelineArn: pipeline.arn,
      action,
      actionExecutionId: base.actionExecutionId,
      configuration: resolveVariables(action.configuration, variableLookup(execution, plan)),
      inputArtifacts: action.inputArtifacts.flatMap((name) => {
        const artifact = execution.artifacts[name];
        return artifact ? [artifact] : [];
      }),
      outputArtifacts: outputLocations,
      ...(store?.encryptionKey ? { encryptionKey: store.encryptionKey } : {}),
    });
    return { ...base, currentJobId: job.id };
  }
  if (isListedAsFailing(context.options.failingActions, execution.pipelineName, action.stageName, action.name)) {
    return { ...base, status: 'Failed', errorDetails: { code: 'JobFailed', message: `Action ${action.name} failed (listed in the local endpoint's failingActions)` } };
  }
  if (isS3Source(action) || outputLocations.length) return base;
  return { ...base, status: 'Succeeded' };
}

function variableLookup(execution: ExecutionRecord, plan: PipelinePlan): (namespace: string, key: string) => string | undefined {
  return (namespace, key) => {
    if (namespace === 'codepipeline' && key === 'PipelineExecutionId') return execution.pipelineExecutionId;
    if (namespace === 'variables') return execution.variables?.find((variable) => variable.name === key)?.resolvedValue;
    const producer = plan.stages.flatMap((stage) => stage.actions).find((action) => action.namespace === namespace);
    return producer ? execution.actions[actionKey(producer.stageName, producer.name)]?.outputVariables?.[key] : undefined;
  };
}

function isS3Source(action: ActionPlan): boolean {
  return action.actionTypeId.owner === 'AWS' && action.actionTypeId.category === 'Source' && action.actionTypeId.provider === 'S3';
}

function randomKeySuffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(7), (byte) => alphabet[byte % alphabet.length]).join('');
}

export interface ActionOutcome {
  readonly status: 'Succeeded' | 'Failed';
  readonly summary?: string;
  readonly externalExecutionId?: string;
  readonly percentComplete?: number;
  readonly errorDetails?: { readonly code: string; readonly message: string };
  readonly outputVariables?: Record<string, string>;
  readonly revision?: string;
  readonly currentRevision?: ActionRunRecord['currentRevision'];
}

/** Records how an action run ended and moves the pipeline on. Ignored (returns false) when that run
 *  is no longer in progress, e.g. it was abandoned by StopPipelineExecution meanwhile. */
export function completeActionRun(context: EmulatorContext, executionId: string, key: string, actionExecutionId: string, outcome: ActionOutcome): boolean {
  return context.store.transaction(() => {
    const execution = context.store.get<ExecutionRecord>(TABLES.executions, executionId);
    const run = execution?.actions[key];
    if (!execution || !run || run.actionExecutionId !== actionExecutionId || run.status !== 'InProgress') return false;
    const now = context.now();
    const outputLocations = outcome.revision ? run.outputLocations.map((location) => ({ ...location, revision: outcome.revision as string })) : run.outputLocations;
    const { currentJobId: _finishedJob, ...rest } = run;
    const finished: ActionRunRecord = {
      ...rest,
      status: outcome.status,
      lastStatusChange: now,
      outputLocations,
      ...(outcome.summary !== undefined ? { summary: outcome.summary } : {}),
      ...(outcome.externalExecutionId !== undefined ? { externalExecutionId: outcome.externalExecutionId } : {}),
      ...(outcome.percentComplete !== undefined ? { percentComplete: outcome.percentComplete } : {}),
      ...(outcome.errorDetails ? { errorDetails: outcome.errorDetails } : {}),
      ...(outcome.outputVariables ? { outputVariables: outcome.outputVariables } : {}),
      ...(outcome.currentRevision ? { currentRevision: outcome.currentRevision } : {}),
    };
    context.store.put(TABLES.executions, executionId, {
      ...execution,
      actions: { ...execution.actions, [key]: finished },
      artifacts: outcome.status === 'Succeeded' ? { ...execution.artifacts, ...artifactsOf(finished) } : execution.artifacts,
      lastUpdateAt: now,
    } satisfies ExecutionRecord);
    advancePipeline(context, execution.pipelineName);
    return true;
  });
}

/** Updates an in-progress action run without ending it (continuation jobs, progress details). */
export function updateActionRun(context: EmulatorContext, executionId: string, key: string, update: Partial<Pick<ActionRunRecord, 'summary' | 'externalExecutionId' | 'percentComplete' | 'currentJobId'>>): void {
  context.store.transaction(() => {
    const execution = context.store.get<ExecutionRecord>(TABLES.executions, executionId);
    const run = execution?.actions[key];
    if (!execution || !run) return;
    const now = context.now();
    context.store.put(TABLES.executions, executionId, {
      ...execution,
      actions: { ...execution.actions, [key]: { ...run, ...update, lastStatusChange: now } },
      lastUpdateAt: now,
    } satisfies ExecutionRecord);
  });
}

/** StopPipelineExecution after its checks: with `abandon`, in-progress actions end Abandoned and
 *  their jobs are closed; without it they may finish, but nothing after them starts. */
export function stopExecution(context: EmulatorContext, execution: ExecutionRecord, abandon: boolean, reason: string | undefined): void {
  context.store.transaction(() => {
    const now = context.now();
    const actions = { ...execution.actions };
    const stageStatuses = { ...execution.stageStatuses };
    for (const [key, run] of Object.entries(actions)) {
      if (run.status !== 'InProgress') continue;
      if (stageStatuses[run.stageName] === 'InProgress') stageStatuses[run.stageName] = 'Stopping';
      if (!abandon) continue;
      if (run.currentJobId) closeJob(context, run.currentJobId);
      const { currentJobId: _closed, ...rest } = run;
      actions[key] = { ...rest, status: 'Abandoned', lastStatusChange: now };
    }
    context.store.put(TABLES.executions, execution.pipelineExecutionId, {
      ...execution,
      status: 'Stopping',
      actions,
      stageStatuses,
      stopRequest: { abandon, ...(reason ? { reason } : {}) },
      stopTrigger: reason ? { reason } : {},
      ...(reason ? { statusSummary: reason } : {}),
      lastUpdateAt: now,
    } satisfies ExecutionRecord);
    advancePipeline(context, execution.pipelineName);
  });
}

/** Removes executions (and their jobs) whose pipeline was deleted: AWS drops the history with the
 *  pipeline, and a worker holding such a job then gets JobNotFoundException. */
export function purgeOrphanExecutions(context: EmulatorContext): void {
  const isOrphan = (execution: ExecutionRecord) => findPipeline(context, execution.pipelineName)?.created !== execution.pipelineCreated;
  const orphans = [...context.store.table<ExecutionRecord>(TABLES.executions).values()].filter(isOrphan);
  const staleMarkers = [...context.store.table<true>(CREATION_STARTS).keys()].filter((key) => {
    const at = key.lastIndexOf('@');
    return findPipeline(context, key.slice(0, at))?.created !== Number(key.slice(at + 1));
  });
  if (!orphans.length && !staleMarkers.length) return;
  context.store.transaction(() => {
    for (const key of staleMarkers) context.store.delete(CREATION_STARTS, key);
    for (const { pipelineExecutionId: id } of orphans) {
      context.store.delete(TABLES.executions, id);
      for (const [jobId, job] of context.store.table<{ pipelineExecutionId: string }>(TABLES.jobs)) {
        if (job.pipelineExecutionId === id) context.store.delete(TABLES.jobs, jobId);
      }
    }
  });
}

/** Names of pipelines with executions still in progress (the engine advances these). */
export function pipelinesWithActiveExecutions(context: EmulatorContext): Set<string> {
  const names = new Set<string>();
  for (const execution of context.store.table<ExecutionRecord>(TABLES.executions).values()) if (isActiveExecution(execution)) names.add(execution.pipelineName);
  return names;
}

// Built-in runs in flight, per endpoint, by action execution id. Kept in memory on purpose: after a
// restart the set is empty and the next advance starts the interrupted runs again.
const running = new WeakMap<EmulatorContext, Set<string>>();

function launchBuiltInActions(context: EmulatorContext, pipelineName: string): void {
  let inFlight = running.get(context);
  if (!inFlight) running.set(context, (inFlight = new Set()));
  for (const execution of context.store.table<ExecutionRecord>(TABLES.executions).values()) {
    if (execution.pipelineName !== pipelineName || !isActiveExecution(execution)) continue;
    for (const [key, run] of Object.entries(execution.actions)) {
      if (run.status !== 'InProgress' || run.currentJobId || inFlight.has(run.actionExecutionId)) continue;
      const action = planOf(context, execution)?.stages.flatMap((stage) => stage.actions).find((candidate) => actionKey(candidate.stageName, candidate.name) === key);
      if (!action || action.actionTypeId.owner === 'Custom') continue;
      inFlight.add(run.actionExecutionId);
      void runBuiltInAction(context, execution, action, run).finally(() => inFlight.delete(run.actionExecutionId));
    }
  }
}

/** Stands in for an AWS-owned action that writes artifacts. An S3 source copies the configured
 *  object into the artifact store (SSE-KMS, like CodePipeline); a missing object fails the action.
 *  Other actions pass their first input artifact through to each output, or write an empty ZIP. */
async function runBuiltInAction(context: EmulatorContext, execution: ExecutionRecord, action: ActionPlan, run: ActionRunRecord): Promise<void> {
  // Yield first: the caller is inside a store transaction that must finish before this run writes.
  await Promise.resolve();
  const encryption = planOf(context, execution)?.artifactStore?.encryptionKey;
  const meta = { serverSideEncryption: 'aws:kms', ...(encryption ? { kmsKeyId: encryption.id } : {}), contentType: 'application/zip' };
  let outcome: ActionOutcome;
  try {
    if (isS3Source(action)) {
      const bucket = action.configuration.S3Bucket ?? '';
      const key = action.configuration.S3ObjectKey ?? '';
      const source = await context.objects.openObject(bucket, key);
      if (!source) {
        outcome = { status: 'Failed', errorDetails: { code: 'JobFailed', message: `The object with key '${key}' does not exist in bucket '${bucket}'.` } };
      } else {
        for (const location of run.outputLocations) await context.objects.putObject(location.bucketName, location.objectKey, source.stream, meta);
        const revision = source.versionId ?? source.etag.replace(/"/g, '');
        outcome = { status: 'Succeeded', revision, summary: `Amazon S3 version id: ${revision}`, currentRevision: { revisionId: revision, created: context.now() } };
      }
    } else {
      const input = action.inputArtifacts.map((name) => execution.artifacts[name]).find((artifact) => artifact !== undefined);
      for (const location of run.outputLocations) {
        const source = input ? await context.objects.openObject(input.bucketName, input.objectKey) : undefined;
        await context.objects.putObject(location.bucketName, location.objectKey, source?.stream ?? EMPTY_ZIP, meta);
      }
      outcome = { status: 'Succeeded' };
    }
  } catch (error) {
    outcome = { status: 'Failed', errorDetails: { code: 'JobFailed', message: `The local endpoint could not run the action: ${(error as Error).message}` } };
  }
  completeActionRun(context, execution.pipelineExecutionId, actionKey(action.stageName, action.name), run.actionExecutionId, outcome);
}
