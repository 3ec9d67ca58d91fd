// Wire shapes of executions and pipeline state (GetPipelineExecution, ListPipelineExecutions,
// GetPipelineState). Pure: callers pass the records and a way to find custom action types.
// Timestamps go out as epoch seconds, as AWS JSON 1.1 sends them.

import type { ActionTypeSettings } from '../../model/action-type.js';
import { actionKey, fillUrlTemplate, type PipelinePlan } from './executions-plan.js';
import type { ActionRunRecord, ExecutionRecord, PipelineRecord } from './records.js';

const seconds = (ms: number) => ms / 1000;

/** Source revisions: what the first stage's actions produced. */
function sourceRuns(execution: ExecutionRecord, plan: PipelinePlan | undefined): ActionRunRecord[] {
  const first = plan?.stages[0];
  if (!first) return [];
  return first.actions.flatMap((action) => {
    const run = execution.actions[actionKey(first.name, action.name)];
    return run?.currentRevision ? [run] : [];
  });
}

export function renderExecution(execution: ExecutionRecord, plan: PipelinePlan | undefined): Record<string, unknown> {
  return {
    pipelineName: execution.pipelineName,
    pipelineVersion: execution.pipelineVersion,
    pipelineExecutionId: execution.pipelineExecutionId,
    status: execution.status,
    ...(execution.statusSummary ? { statusSummary: execution.statusSummary } : {}),
    artifactRevisions: sourceRuns(execution, plan).flatMap((run) =>
      run.outputLocations.map((location) => ({
        name: location.name,
        revisionId: run.currentRevision?.revisionId,
        ...(run.currentRevision?.revisionChangeId ? { revisionChangeIdentifier: run.currentRevision.revisionChangeId } : {}),
        ...(run.currentRevision?.summary ? { revisionSummary: run.currentRevision.summary } : {}),
        created: seconds(run.currentRevision?.created ?? run.lastStatusChange),
      })),
    ),
    variables: execution.variables ?? [],
    trigger: execution.trigger,
    executionMode: execution.executionMode,
    executionType: 'STANDARD',
  };
}

export function renderExecutionSummary(execution: ExecutionRecord, plan: PipelinePlan | undefined): Record<string, unknown> {
  return {
    pipelineExecutionId: execution.pipelineExecutionId,
    status: execution.status,
    ...(execution.statusSummary ? { statusSummary: execution.statusSummary } : {}),
    startTime: seconds(execution.startedAt),
    lastUpdateTime: seconds(execution.lastUpdateAt),
    sourceRevisions: sourceRuns(execution, plan).map((run) => ({
      actionName: run.actionName,
      revisionId: run.currentRevision?.revisionId,
      ...(run.currentRevision?.summary ? { revisionSummary: run.currentRevision.summary } : {}),
    })),
    trigger: execution.trigger,
    ...(execution.stopTrigger ? { stopTrigger: execution.stopTrigger } : {}),
    executionMode: execution.executionMode,
    executionType: 'STANDARD',
  };
}

export interface StateInputs {
  readonly pipeline: PipelineRecord;
  /** The pipeline's current version. */
  readonly plan: PipelinePlan;
  /** This pipeline's executions, oldest first. */
  readonly executions: readonly ExecutionRecord[];
  /** Settings of a custom action type (URL templates), when the action uses one. */
  readonly settingsOf: (actionTypeId: { owner: string; category: string; provider: string; version: string }) => ActionTypeSettings | undefined;
}

/** GetPipelineState: per stage, the latest execution that entered it and any waiting to enter; per
 *  action, its most recent run in any execution, with URLs filled from the type's templates. */
export function renderPipelineState({ pipeline, plan, executions, settingsOf }: StateInputs): Record<string, unknown> {
  const newestFirst = [...executions].reverse();
  const version = pipeline.versions[pipeline.versions.length - 1];
  return {
    pipelineName: pipeline.name,
    pipelineVersion: version?.version,
    stageStates: plan.stages.map((stage, index) => {
      const latest = newestFirst.find((execution) => execution.stageStatuses[stage.name] !== undefined);
      const inbound = newestFirst.filter(
        (execution) => (execution.status === 'InProgress' || execution.status === 'Stopping') && execution.currentStageIndex === index && execution.stageStatuses[stage.name] === undefined,
      );
      return {
        stageName: stage.name,
        ...(inbound[0] ? { inboundExecution: { pipelineExecutionId: inbound[0].pipelineExecutionId, status: 'InProgress', type: 'STANDARD' } } : {}),
        ...(inbound.length ? { inboundExecutions: inbound.map((execution) => ({ pipelineExecutionId: execution.pipelineExecutionId, status: 'InProgress', type: 'STANDARD' })) } : {}),
        inboundTransitionState: { enabled: true },
        actionStates: stage.actions.map((action) => {
          const key = actionKey(stage.name, action.name);
          const run = newestFirst.map((execution) => execution.actions[key]).filter((candidate) => candidate !== undefined).sort((a, b) => b.startedAt - a.startedAt)[0];
          const settings = action.actionTypeId.owner === 'Custom' ? settingsOf(action.actionTypeId) : undefined;
          const entityUrl = fillUrlTemplate(settings?.entityUrlTemplate, action.configuration);
          const externalExecutionUrl = run?.externalExecutionId ? fillUrlTemplate(settings?.executionUrlTemplate, action.configuration, run.externalExecutionId) : undefined;
          const revision = newestFirst.map((execution) => execution.actions[key]?.currentRevision).find((candidate) => candidate !== undefined);
          return {
            actionName: action.name,
            ...(revision ? { currentRevision: { revisionId: revision.revisionId, ...(revision.revisionChangeId ? { revisionChangeId: revision.revisionChangeId } : {}), created: seconds(revision.created) } } : {}),
            ...(run
              ? {
                  latestExecution: {
                    actionExecutionId: run.actionExecutionId,
                    status: run.status,
                    ...(run.summary !== undefined ? { summary: run.summary } : {}),
                    lastStatusChange: seconds(run.lastStatusChange),
                    ...(run.externalExecutionId !== undefined ? { externalExecutionId: run.externalExecutionId } : {}),
                    ...(externalExecutionUrl ? { externalExecutionUrl } : {}),
                    ...(run.percentComplete !== undefined ? { percentComplete: run.percentComplete } : {}),
                    ...(run.errorDetails ? { errorDetails: run.errorDetails } : {}),
                  },
                }
              : {}),
            ...(entityUrl ? { entityUrl } : {}),
          };
        }),
        ...(latest ? { latestExecution: { pipelineExecutionId: latest.pipelineExecutionId, status: latest.stageStatuses[stage.name], type: 'STANDARD' } } : {}),
      };
    }),
    created: seconds(pipeline.created),
    updated: seconds(pipeline.updated),
  };
}
