// Pure decisions about pipeline executions: how a stored declaration reads as stages and actions,
// which step an execution takes next, which waiting executions may enter a stage (and which are
// superseded), and how URL templates and artifact keys are formed. No store, no clock, no random:
// callers pass those in, so every rule here is testable as data.

import type { ActionTypeId } from '../../model/action-type.js';
import type { ActionRunRecord, ExecutionMode, ExecutionRecord, ExecutionStatus, StageStatus } from './records.js';

export interface ActionPlan {
  readonly stageName: string;
  readonly name: string;
  readonly actionTypeId: ActionTypeId;
  readonly runOrder: number;
  readonly configuration: Record<string, string>;
  readonly inputArtifacts: readonly string[];
  readonly outputArtifacts: readonly string[];
  readonly namespace?: string;
}

export interface StagePlan {
  readonly name: string;
  readonly actions: readonly ActionPlan[];
}

export interface ArtifactStorePlan {
  readonly bucketName: string;
  readonly encryptionKey?: { readonly id: string; readonly type: 'KMS' };
}

export interface PipelinePlan {
  readonly stages: readonly StagePlan[];
  readonly executionMode: ExecutionMode;
  readonly artifactStore?: ArtifactStorePlan;
  readonly variables: readonly { readonly name: string; readonly defaultValue?: string }[];
}

/** Reads a PipelineDeclaration as stored (the control plane already validated it). Defensive about
 *  absent members because the declaration is raw JSON. `region` picks the entry of `artifactStores`. */
export function readPipelinePlan(declaration: Record<string, unknown>, region: string): PipelinePlan {
  const stages = asArray(declaration.stages).map((stage): StagePlan => {
    const stageName = String(asRecord(stage).name ?? '');
    return {
      name: stageName,
      actions: asArray(asRecord(stage).actions).map((raw): ActionPlan => {
        const action = asRecord(raw);
        const namespace = typeof action.namespace === 'string' ? action.namespace : undefined;
        return {
          stageName,
          name: String(action.name ?? ''),
          actionTypeId: asRecord(action.actionTypeId) as unknown as ActionTypeId,
          // AWS treats an omitted runOrder as 1.
          runOrder: typeof action.runOrder === 'number' ? action.runOrder : 1,
          configuration: Object.fromEntries(Object.entries(asRecord(action.configuration)).map(([key, value]) => [key, String(value)])),
          inputArtifacts: asArray(action.inputArtifacts).map((artifact) => String(asRecord(artifact).name)),
          outputArtifacts: asArray(action.outputArtifacts).map((artifact) => String(asRecord(artifact).name)),
          ...(namespace ? { namespace } : {}),
        };
      }),
    };
  });
  const mode = declaration.executionMode;
  const single = asRecord(declaration.artifactStore);
  const store = Object.keys(single).length ? single : asRecord(asRecord(declaration.artifactStores)[region]);
  const key = asRecord(store.encryptionKey);
  return {
    stages,
    // SUPERSEDED is the documented default execution mode.
    executionMode: mode === 'QUEUED' || mode === 'PARALLEL' ? mode : 'SUPERSEDED',
    ...(typeof store.location === 'string'
      ? { artifactStore: { bucketName: store.location, ...(typeof key.id === 'string' ? { encryptionKey: { id: key.id, type: 'KMS' as const } } : {}) } }
      : {}),
    variables: asArray(declaration.variables).map((raw) => {
      const variable = asRecord(raw);
      return { name: String(variable.name), ...(typeof variable.defaultValue === 'string' ? { defaultValue: variable.defaultValue } : {}) };
    }),
  };
}

export function actionKey(stageName: string, actionName: string): string {
  return `${stageName}/${actionName}`;
}

export type ExecutionStep =
  | { readonly kind: 'none' }
  | { readonly kind: 'enter-stage'; readonly stage: StagePlan }
  | { readonly kind: 'start-actions'; readonly stage: StagePlan; readonly actions: readonly ActionPlan[] }
  | { readonly kind: 'finish-stage'; readonly stage: StagePlan; readonly status: StageStatus; readonly summary?: string }
  | { readonly kind: 'finish-execution'; readonly status: ExecutionStatus; readonly summary?: string };

const ACTIVE_EXECUTION: readonly ExecutionStatus[] = ['InProgress', 'Stopping'];

export function isActiveExecution(execution: ExecutionRecord): boolean {
  return ACTIVE_EXECUTION.includes(execution.status);
}

/** What an execution does next. `mayEnter` says whether the stage it waits for is free to enter
 *  (see planStageEntries). Stages run in order; inside a stage, actions run in runOrder groups and
 *  the actions of one group run in parallel; a failed action fails its stage and the execution. */
export function planNextStep(execution: ExecutionRecord, stages: readonly StagePlan[], mayEnter: boolean): ExecutionStep {
  if (!isActiveExecution(execution)) return { kind: 'none' };
  const stage = stages[execution.currentStageIndex];
  if (!stage) return { kind: 'finish-execution', status: 'Succeeded' };
  const stageStatus = execution.stageStatuses[stage.name];
  if (stageStatus === undefined) {
    if (execution.stopRequest) return { kind: 'finish-execution', status: 'Stopped', summary: execution.stopRequest.reason };
    return mayEnter ? { kind: 'enter-stage', stage } : { kind: 'none' };
  }
  if (stageStatus !== 'InProgress' && stageStatus !== 'Stopping') {
    return { kind: 'finish-execution', status: stageStatus === 'Succeeded' ? 'Succeeded' : stageStatus === 'Failed' ? 'Failed' : 'Stopped' };
  }
  const runs = stage.actions.map((action) => execution.actions[actionKey(stage.name, action.name)]);
  if (runs.some((run) => run?.status === 'InProgress')) return { kind: 'none' };
  const failed = runs.find((run) => run?.status === 'Failed');
  if (failed) return { kind: 'finish-stage', stage, status: 'Failed', summary: describeFailure(failed) };
  if (runs.some((run) => run?.status === 'Abandoned') || execution.stopRequest) {
    return { kind: 'finish-stage', stage, status: 'Stopped', summary: execution.stopRequest?.reason };
  }
  const notStarted = stage.actions.filter((_, index) => runs[index] === undefined);
  if (notStarted.length) {
    const nextOrder = Math.min(...notStarted.map((action) => action.runOrder));
    return { kind: 'start-actions', stage, actions: notStarted.filter((action) => action.runOrder === nextOrder) };
  }
  return { kind: 'finish-stage', stage, status: 'Succeeded' };
}

function describeFailure(run: ActionRunRecord): string {
  return `Action ${run.actionName} in stage ${run.stageName} failed${run.errorDetails ? `: ${run.errorDetails.message}` : ''}`;
}

/** The execution status that follows a finished stage. */
export function executionStatusAfterStage(status: StageStatus, isLastStage: boolean): ExecutionStatus {
  if (status === 'Failed') return 'Failed';
  if (status === 'Stopped' || status === 'Stopping' || status === 'Cancelled') return 'Stopped';
  return isLastStage ? 'Succeeded' : 'InProgress';
}

export interface StageEntries {
  /** Executions that may enter the stage they wait for. */
  readonly enter: ReadonlySet<string>;
  /** Waiting executions overtaken by a newer one (SUPERSEDED mode). */
  readonly supersede: ReadonlySet<string>;
}

/** Decides which waiting executions of one pipeline enter their next stage. A stage holds one
 *  execution at a time except in PARALLEL mode. In SUPERSEDED mode (the default) a newer execution
 *  waiting for a stage replaces an older one waiting for the same stage, which ends Superseded; in
 *  QUEUED mode they enter oldest first. The newest waiting execution's mode decides for its stage. */
export function planStageEntries(executions: readonly ExecutionRecord[], stagesOf: (execution: ExecutionRecord) => readonly StagePlan[]): StageEntries {
  const enter = new Set<string>();
  const supersede = new Set<string>();
  const occupied = new Set<string>();
  const waiting = new Map<string, ExecutionRecord[]>();
  for (const execution of executions) {
    if (!isActiveExecution(execution)) continue;
    for (const [name, status] of Object.entries(execution.stageStatuses)) if (status === 'InProgress' || status === 'Stopping') occupied.add(name);
    const stage = stagesOf(execution)[execution.currentStageIndex];
    if (stage && execution.stageStatuses[stage.name] === undefined && !execution.stopRequest) {
      waiting.set(stage.name, [...(waiting.get(stage.name) ?? []), execution]);
    }
  }
  for (const [stageName, group] of waiting) {
    const ordered = [...group].sort((a, b) => a.sequence - b.sequence);
    const newest = ordered[ordered.length - 1] as ExecutionRecord;
    if (newest.executionMode === 'PARALLEL') {
      for (const execution of ordered) enter.add(execution.pipelineExecutionId);
      continue;
    }
    if (newest.executionMode === 'SUPERSEDED') {
      for (const execution of ordered.slice(0, -1)) supersede.add(execution.pipelineExecutionId);
      if (!occupied.has(stageName)) enter.add(newest.pipelineExecutionId);
      continue;
    }
    if (!occupied.has(stageName)) enter.add((ordered[0] as ExecutionRecord).pipelineExecutionId);
  }
  return { enter, supersede };
}

/** Fills `{Config:Name}` and `{ExternalExecutionId}` in an action type's URL template; undefined
 *  when a placeholder has no value (AWS then shows no link). */
export function fillUrlTemplate(template: string | undefined, configuration: Record<string, string>, externalExecutionId?: string): string | undefined {
  if (!template) return undefined;
  let missing = false;
  const filled = template.replace(/\{(Config:([^}]*)|ExternalExecutionId)\}/g, (_, whole: string, name: string | undefined) => {
    const value = whole === 'ExternalExecutionId' ? externalExecutionId : configuration[name ?? ''];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : filled;
}

/** Object key of an output artifact: `<pipeline name, 20 chars>/<artifact name, 10 chars>/<7 random>`,
 *  the layout AWS artifact stores show (UNVERIFIED: workers must use the key they are given). */
export function artifactObjectKey(pipelineName: string, artifactName: string, random: string): string {
  return `${pipelineName.slice(0, 20)}/${artifactName.slice(0, 10)}/${random}`;
}

/** Whether `failingActions` (`Pipeline/Stage/Action` or `Stage/Action`) names this action. */
export function isListedAsFailing(failingActions: readonly string[] | undefined, pipelineName: string, stageName: string, actionName: string): boolean {
  if (!failingActions) return false;
  const short = `${stageName}/${actionName}`;
  return failingActions.includes(short) || failingActions.includes(`${pipelineName}/${short}`);
}

/** Resolves `#{namespace.key}` references as CodePipeline does before handing configuration to an
 *  action: `#{variables.x}` (pipeline variables), `#{codepipeline.PipelineExecutionId}` and the
 *  output variables of earlier actions that declare a namespace. Unknown references are kept. */
export function resolveVariables(configuration: Record<string, string>, lookup: (namespace: string, key: string) => string | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(configuration).map(([name, value]) => [
      name,
      value.replace(/#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_]+)\}/g, (whole, namespace: string, key: string) => lookup(namespace, key) ?? whole),
    ]),
  );
}

/** The size AWS counts against the 122,880-byte output variable quota: keys plus values, UTF-8
 *  (UNVERIFIED how AWS measures; this is the natural reading). */
export function outputVariablesBytes(variables: Record<string, string>): number {
  return Object.entries(variables).reduce((total, [key, value]) => total + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
