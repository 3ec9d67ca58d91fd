// Builders of plan objects for renderer tests. Defaults follow the AWS guide ("Create and add a
// custom action in CodePipeline"): MyFirstPipeline with stages Source and Staging, the custom type
// Build/My-Build-Provider-Name/1 and its action MyBuildCustomAction. The shapes mirror what the
// planners produce (plan-pipeline.ts, plan-action-types.ts), secrets already "(sensitive)".

import type { Json, JsonObject } from '../../src/model/pipeline.js';
import { summarizePlan } from '../../src/plan/summary.js';
import {
  actionAddress,
  PLAN_FORMAT_VERSION,
  pipelineAddress,
  rewireAddress,
  stageAddress,
  type ActionTypePlan,
  type Change,
  type ChangeReason,
  type PipelinePlan,
  type Plan,
  type PlanError,
  type PlanWarning,
  type TargetPlan,
} from '../../src/plan/types.js';

export const FIXED_CREATED_AT = '2025-01-15T09:30:00.000Z';
export const TEST_CPSYNC_VERSION = '0.1.0';
export const SENSITIVE = '(sensitive)';

export const BUILD_TYPE = { category: 'Build', owner: 'Custom', provider: 'My-Build-Provider-Name', version: '1' } as const;
export const TEST_TYPE = { category: 'Test', owner: 'Custom', provider: 'My-Test-Lab', version: '1' } as const;

/** An action declaration as the planner shows it (the guide's MyBuildCustomAction by default). */
export function anAction(overrides: JsonObject = {}): JsonObject {
  return {
    name: 'MyBuildCustomAction',
    actionTypeId: { ...BUILD_TYPE },
    runOrder: 1,
    configuration: { ProjectName: 'MyBuildProject' },
    inputArtifacts: [{ name: 'MyApp' }],
    outputArtifacts: [{ name: 'MyBuiltApp' }],
    ...overrides,
  };
}

/** The test-lab action with a secret token, masked. */
export function aSmokeTestAction(overrides: JsonObject = {}): JsonObject {
  return anAction({
    name: 'SmokeTest',
    actionTypeId: { ...TEST_TYPE },
    runOrder: 2,
    configuration: { Suite: 'smoke', ApiToken: SENSITIVE },
    inputArtifacts: [{ name: 'MyBuiltApp' }],
    outputArtifacts: [],
    ...overrides,
  });
}

export function aStage(name = 'MyBuildStage', actions: JsonObject[] = [anAction()]): JsonObject {
  return { name, actions };
}

export function aChange(change: Partial<Change> & Pick<Change, 'address'>): Change {
  return { action: 'update', reasons: ['config-changed'], ...change };
}

export function aStageCreate(pipeline = 'MyFirstPipeline', stage: JsonObject = aStage(), reasons: ChangeReason[] = ['missing']): Change {
  return { address: stageAddress(pipeline, String(stage.name)), action: 'create', reasons, after: stage };
}

export function aStageUpdate(before: JsonObject, after: JsonObject, changedPaths: string[], reasons: ChangeReason[], pipeline = 'MyFirstPipeline'): Change {
  return { address: stageAddress(pipeline, String(after.name)), action: 'update', reasons, before, after, changedPaths };
}

export function aStageDelete(before: JsonObject = aStage(), pipeline = 'MyFirstPipeline'): Change {
  return { address: stageAddress(pipeline, String(before.name)), action: 'delete', reasons: ['removed-from-config'], before };
}

export function anActionChange(action: Partial<Change> & { stage: string; name: string }, pipeline = 'MyFirstPipeline'): Change {
  const { stage, name, ...rest } = action;
  return { address: actionAddress(pipeline, stage, name), action: 'create', reasons: ['missing'], ...rest };
}

/** The guide's rewire: Staging's deployment takes the build output instead of the source. */
export function aRewire(options: { pipeline?: string; stage?: string; action?: string; from?: string[]; to?: string[]; reasons?: ChangeReason[] } = {}): Change {
  return {
    address: rewireAddress(options.pipeline ?? 'MyFirstPipeline', options.stage ?? 'Staging', options.action ?? 'Deploy-CodeDeploy-Application'),
    action: 'update',
    reasons: options.reasons ?? ['missing'],
    before: options.from ?? ['MyApp'],
    after: options.to ?? ['MyBuiltApp'],
    changedPaths: ['inputArtifacts'],
  };
}

export function aPipelinePlan(overrides: Partial<PipelinePlan> = {}): PipelinePlan {
  const name = overrides.name ?? 'MyFirstPipeline';
  const changes = overrides.changes ?? [];
  return {
    name,
    address: pipelineAddress(name),
    observedVersion: 1,
    changes,
    stagesBefore: ['Source', 'Staging'],
    stagesAfter: ['Source', 'Staging'],
    ...(changes.length ? { declarationDigest: '3f2a9c41d07be615' } : {}),
    // Ownership-record tags: their values are compressed digests and never rendered.
    tagsToSet: changes.length ? [{ key: 'cpsync:owned:0', value: 'q1YqU7JSMjQwMDE1VzIx0TEz0jEzNzIzNAHyDIyM' }] : [],
    tagKeysToRemove: [],
    runningExecutions: 0,
    ...overrides,
  };
}

/** A definition in the form the action-type planner puts in before/after (with its tags). */
export function aDefinitionJson(overrides: JsonObject = {}): JsonObject {
  return {
    category: 'Build',
    provider: 'My-Build-Provider-Name',
    version: '1',
    settings: {
      entityUrlTemplate: 'https://my-build-instance/job/{Config:ProjectName}/',
      executionUrlTemplate: 'https://my-build-instance/job/{Config:ProjectName}/lastSuccessfulBuild/{ExternalExecutionId}/',
    },
    configurationProperties: [
      { name: 'ProjectName', required: true, key: true, secret: false, queryable: false, description: 'The name of the build project must be provided when this action is added to the pipeline.', type: 'String' },
    ],
    inputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
    tags: { Project: 'ProjectA', 'cpsync:managed': 'true' },
    ...overrides,
  };
}

export function typeAddress(ref: string): string {
  return `action-type:${ref}`;
}

export function anActionTypeCreate(definition: JsonObject = aDefinitionJson()): ActionTypePlan {
  const address = typeAddress(`${String(definition.category)}/${String(definition.provider)}/${String(definition.version)}`);
  const tags = Object.entries((definition.tags ?? {}) as Record<string, Json>).map(([key, value]) => ({ key, value: String(value) }));
  return { address, changes: [{ address, action: 'create', reasons: ['missing'], after: definition }], tags };
}

export function anActionTypeTag(ref: string, before: Record<string, string>, after: Record<string, string>, options: { set: Record<string, string>; remove?: string[]; adopt?: boolean }): ActionTypePlan {
  const address = typeAddress(ref);
  return {
    address,
    changes: [{ address, action: 'tag', reasons: [options.adopt ? 'adopt' : 'tags-changed'], before, after }],
    tags: Object.entries(options.set).map(([key, value]) => ({ key, value })),
    tagKeysToRemove: options.remove ?? [],
  };
}

export function anActionTypeDelete(definition: JsonObject, reasons: ChangeReason[] = ['removed-from-config']): ActionTypePlan {
  const address = typeAddress(`${String(definition.category)}/${String(definition.provider)}/${String(definition.version)}`);
  return { address, changes: [{ address, action: 'delete', reasons, before: definition }] };
}

export function aBlockedDeletion(ref: string, users: string[]): { plan: ActionTypePlan; warning: PlanWarning } {
  const address = typeAddress(ref);
  return {
    plan: { address, changes: [], blockedBy: users },
    warning: { address, message: `action type ${ref} is no longer declared, but pipelines still use it: ${users.join(', ')}; it is kept until they no longer do` },
  };
}

export function aRunningExecutionsWarning(pipeline: string, count: number): PlanWarning {
  return {
    address: pipelineAddress(pipeline),
    message: `pipeline ${pipeline} has ${count} execution${count === 1 ? '' : 's'} in progress; updating it stops ${count === 1 ? 'it' : 'them'} at the changed stages`,
  };
}

export function anError(error: Partial<PlanError> & Pick<PlanError, 'address'>): PlanError {
  return { code: 'plan.example', message: 'something is wrong', ...error };
}

export function aTargetPlan(overrides: Partial<TargetPlan> = {}): TargetPlan {
  return { target: 'default', region: 'us-east-1', accountId: '123456789012', actionTypes: [], pipelines: [], errors: [], warnings: [], ...overrides };
}

/** A whole plan with the fixed creation time and version the golden files use; the summary is computed. */
export function aPlan(targets: TargetPlan[], overrides: Partial<Omit<Plan, 'targets'>> = {}): Plan {
  return { formatVersion: PLAN_FORMAT_VERSION, createdAt: FIXED_CREATED_AT, cpsyncVersion: TEST_CPSYNC_VERSION, targets, summary: summarizePlan(targets), ...overrides };
}
