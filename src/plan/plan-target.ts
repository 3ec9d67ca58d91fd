// Plans one target (an account and Region): its action types and every pipeline the pipeline
// files select. Pure: the live state comes in already read.

import { formatTypeRef, type ActionTypeId, type Tag } from '../model/action-type.js';
import { AWS_ACTION_TYPES } from '../model/aws-action-types.js';
import type { DesiredActionType, DesiredPipelineFile } from '../model/desired.js';
import { matchesSelector, isPattern } from '../model/desired.js';
import { checkPipelineDeclaration, type ActionTypeShape } from '../model/pipeline-rules.js';
import { actionsOf, digest, stagesOf, type JsonObject } from '../model/pipeline.js';
import { isOwnedActionType, planActionTypes, type ObservedActionType } from './plan-action-types.js';
import { planPipeline, type PipelineContributions } from './plan-pipeline.js';
import { pipelineAddress, type PipelinePlan, type PlanError, type PlanWarning, type TargetPlan } from './types.js';

export interface LivePipelineState {
  readonly name: string;
  readonly arn: string;
  readonly version: number;
  readonly declaration: JsonObject;
  readonly tags: readonly Tag[];
  readonly runningExecutions: number;
}

export interface LiveState {
  readonly target: string;
  readonly region: string;
  readonly accountId: string;
  readonly actionTypes: readonly ObservedActionType[];
  /** Every pipeline name in the Region (read when a selector is a pattern or a deletion needs a usage scan). */
  readonly pipelineNames?: readonly string[];
  /** The pipelines read, by name. */
  readonly pipelines: ReadonlyMap<string, LivePipelineState>;
}

export interface TargetPlanInput {
  readonly target: string;
  readonly actionTypes: readonly DesiredActionType[];
  readonly pipelineFiles: readonly DesiredPipelineFile[];
  readonly tagPrefix: string;
  readonly live: LiveState;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What apply needs beyond the printable plan: the declarations with secrets in clear. */
export interface PipelineWrite {
  readonly name: string;
  readonly arn: string;
  readonly observedVersion: number;
  readonly declaration?: JsonObject;
  readonly tagsToSet: readonly Tag[];
  readonly tagKeysToRemove: readonly string[];
}

export interface PlannedTarget {
  readonly plan: TargetPlan;
  readonly writes: readonly PipelineWrite[];
}

/** The pipelines each selector names: exact names as given, patterns against all live names. */
export function selectPipelines(files: readonly DesiredPipelineFile[], allNames: readonly string[] | undefined): { names: string[]; unmatched: { file: string; selector: string }[] } {
  const names = new Set<string>();
  const unmatched: { file: string; selector: string }[] = [];
  for (const file of files) {
    for (const selector of file.selectors) {
      if (!isPattern(selector)) {
        names.add(selector);
        continue;
      }
      const matches = (allNames ?? []).filter((name) => matchesSelector(selector, name));
      if (!matches.length) unmatched.push({ file: file.file, selector });
      for (const match of matches) names.add(match);
    }
  }
  return { names: [...names].sort(), unmatched };
}

export function contributionsFor(pipeline: string, files: readonly DesiredPipelineFile[]): PipelineContributions {
  const matching = files.filter((file) => file.selectors.some((selector) => matchesSelector(selector, pipeline)));
  return {
    insertStages: matching.flatMap((file) => file.insertStages.map((stage) => ({ ...stage, file: file.file }))),
    addActions: matching.flatMap((file) => file.addActions.map((group) => ({ ...group, file: file.file }))),
    rewires: matching.flatMap((file) => file.rewires.map((rewire) => ({ ...rewire, file: file.file }))),
  };
}

/** Type lookups as they will be after apply: live types plus the declared ones about to be created. */
function typeLookups(input: TargetPlanInput) {
  const shapes = new Map<string, ActionTypeShape>();
  const shapeOf = (definition: { configurationProperties: ActionTypeShape['actionConfigurationProperties']; inputArtifactDetails: ActionTypeShape['inputArtifactDetails']; outputArtifactDetails: ActionTypeShape['outputArtifactDetails'] }): ActionTypeShape => ({
    actionConfigurationProperties: definition.configurationProperties,
    inputArtifactDetails: definition.inputArtifactDetails,
    outputArtifactDetails: definition.outputArtifactDetails,
  });
  for (const type of input.live.actionTypes) shapes.set(formatTypeRef(type.definition), shapeOf(type.definition));
  for (const type of input.actionTypes) shapes.set(formatTypeRef(type.definition), shapeOf(type.definition));
  const lookup = (id: ActionTypeId): ActionTypeShape | 'unavailable' | 'unknown' => {
    if (id.owner === 'Custom') return shapes.get(formatTypeRef(id)) ?? 'unavailable';
    const catalogue = AWS_ACTION_TYPES.find((t) => t.id.owner === id.owner && t.id.category === id.category && t.id.provider === id.provider && t.id.version === id.version);
    return catalogue ?? 'unknown';
  };
  const secretProperties = (id: ActionTypeId): ReadonlySet<string> => {
    const shape = lookup(id);
    return new Set(typeof shape === 'string' ? [] : shape.actionConfigurationProperties.filter((p) => p.secret).map((p) => p.name));
  };
  return { lookup, secretProperties };
}

/** Plans one pipeline of the target against the given live state. */
export function planOnePipeline(input: TargetPlanInput, state: LivePipelineState, lookups: ReturnType<typeof typeLookups> = typeLookups(input)) {
  const { lookup, secretProperties } = lookups;
  return planPipeline({
    observed: { name: state.name, version: state.version, declaration: withoutVersion(state.declaration), tags: state.tags, runningExecutions: state.runningExecutions },
    contributions: contributionsFor(state.name, input.pipelineFiles),
    tagPrefix: input.tagPrefix,
    secretProperties,
    env: input.env,
    validate: (declaration) => checkPipelineDeclaration(declaration, lookup, { region: input.live.region }),
  });
}

/** A fresh plan of one pipeline as apply needs it: what to write, or why not. */
export function replanPipeline(input: TargetPlanInput, state: LivePipelineState): PipelineWrite | PlanError {
  const result = planOnePipeline(input, state);
  if (result.errors.length) return result.errors[0] as PlanError;
  return {
    name: state.name,
    arn: state.arn,
    observedVersion: state.version,
    ...(result.declaration ? { declaration: { ...result.declaration, version: state.version } } : {}),
    tagsToSet: result.tagsToSet,
    tagKeysToRemove: result.tagKeysToRemove,
  };
}

export function planTarget(input: TargetPlanInput): PlannedTarget {
  const { live } = input;
  const errors: PlanError[] = [];
  const warnings: PlanWarning[] = [];

  // Built once: planning 200 pipelines must not rebuild the type tables 200 times.
  const lookups = typeLookups(input);
  const { names, unmatched } = selectPipelines(input.pipelineFiles, live.pipelineNames);
  for (const { file, selector } of unmatched) warnings.push({ address: `file:${file}`, message: `pattern ${JSON.stringify(selector)} in ${file} matches no pipeline in ${live.region}` });

  const pipelines: PipelinePlan[] = [];
  const writes: PipelineWrite[] = [];
  const after = new Map<string, JsonObject>();
  for (const name of names) {
    const state = live.pipelines.get(name);
    if (!state) {
      errors.push({
        address: pipelineAddress(name),
        code: 'plan.pipeline-missing',
        message: `pipeline ${name} does not exist in ${live.region}`,
        hint: 'cpsync inserts into existing pipelines: create the pipeline first, or fix the name in the pipeline file',
      });
      continue;
    }
    const result = planOnePipeline(input, state, lookups);
    errors.push(...result.errors);
    warnings.push(...result.warnings);
    after.set(name, result.declaration ?? state.declaration);
    pipelines.push({
      name,
      address: pipelineAddress(name),
      observedVersion: state.version,
      changes: result.changes,
      stagesBefore: result.stagesBefore,
      stagesAfter: result.stagesAfter,
      ...(result.maskedDeclaration ? { declarationDigest: digest(result.maskedDeclaration) } : {}),
      tagsToSet: result.tagsToSet,
      tagKeysToRemove: result.tagKeysToRemove,
      runningExecutions: state.runningExecutions,
    });
    writes.push({
      name,
      arn: state.arn,
      observedVersion: state.version,
      ...(result.declaration ? { declaration: { ...result.declaration, version: state.version } } : {}),
      tagsToSet: result.tagsToSet,
      tagKeysToRemove: result.tagKeysToRemove,
    });
  }

  // Which custom types pipelines will use after apply: planned pipelines as planned, every other
  // read pipeline as it is. A deletion candidate is only deleted when this says nobody.
  for (const [name, state] of live.pipelines) if (!after.has(name)) after.set(name, state.declaration);
  const usersAfterApply = (ref: string) =>
    [...after.entries()]
      .filter(([, declaration]) => stagesOf(declaration).some((stage) => actionsOf(stage).some((action) => isCustomRef(action, ref))))
      .map(([name]) => name)
      .sort();
  const undeclaredOwned = live.actionTypes.some((type) => isOwnedActionType(type, input.tagPrefix) && !input.actionTypes.some((d) => formatTypeRef(d.definition) === formatTypeRef(type.definition)));
  if (undeclaredOwned && live.pipelineNames === undefined) {
    throw new Error('planTarget needs every pipeline read to decide whether an action type may be deleted');
  }
  const typePlan = planActionTypes({ desired: input.actionTypes, observed: live.actionTypes, tagPrefix: input.tagPrefix, usersAfterApply });
  errors.push(...typePlan.errors);
  warnings.push(...typePlan.warnings);

  return {
    plan: { target: input.target, region: live.region, accountId: live.accountId, actionTypes: typePlan.plans, pipelines, errors, warnings },
    writes,
  };
}

function isCustomRef(action: JsonObject, ref: string): boolean {
  const id = action.actionTypeId as Record<string, unknown> | undefined;
  return id?.owner === 'Custom' && `${String(id.category)}/${String(id.provider)}/${String(id.version)}` === ref;
}

function withoutVersion(declaration: JsonObject): JsonObject {
  const { version: _version, ...rest } = declaration;
  return rest;
}
