// Plans one pipeline: merges what cpsync declares into the live declaration, touching only what
// cpsync owns, and says what changes and why. Pure: the live declaration, its tags and the
// environment come in as arguments; the new declaration and the changes come out.
//
// Ownership rules:
// - cpsync owns the stages it inserted, the actions it added to other stages and the input
//   artifacts of the actions it rewired, as recorded in the pipeline's inventory tags.
// - Everything else is copied from the live JSON untouched, byte-for-byte, secrets masked as
//   `****` included (sending the mask back keeps the stored value).
// - A declared stage or action whose name is already taken by something cpsync does not own is a
//   conflict: the pipeline is left alone and the plan says why.

import type { ActionTypeId } from '../model/action-type.js';
import { formatTypeRef } from '../model/action-type.js';
import type { DesiredAction, DesiredAddActions, DesiredInsertStage, DesiredRewire } from '../model/desired.js';
import { ENV_REFERENCE } from '../model/desired.js';
import type { Finding } from '../model/findings.js';
import {
  actionsOf,
  artifactNames,
  canonicalJson,
  deepEqual,
  digest,
  isObject,
  nameOf,
  normalizeActionDeclaration,
  normalizeStageDeclaration,
  SECRET_MASK,
  stagesOf,
  type Json,
  type JsonObject,
} from '../model/pipeline.js';
import type { Tag } from '../model/action-type.js';
import { decodeInventory, encodeInventory, isInventoryTag, type Inventory, type OwnedRewire } from './inventory.js';
import { actionAddress, pipelineAddress, rewireAddress, stageAddress, type Change, type ChangeReason, type PlanError, type PlanWarning } from './types.js';

export const SENSITIVE = '(sensitive)';

/** Declarations from every pipeline file whose selectors match this pipeline, with their files. */
export interface PipelineContributions {
  readonly insertStages: readonly (DesiredInsertStage & { readonly file: string })[];
  readonly addActions: readonly (DesiredAddActions & { readonly file: string })[];
  readonly rewires: readonly (DesiredRewire & { readonly file: string })[];
}

export interface ObservedPipeline {
  readonly name: string;
  readonly version: number;
  /** The declaration as GetPipeline returned it (secrets masked), without `metadata`. */
  readonly declaration: JsonObject;
  readonly tags: readonly Tag[];
  readonly runningExecutions: number;
}

export interface PipelinePlanInput {
  readonly observed: ObservedPipeline;
  readonly contributions: PipelineContributions;
  readonly tagPrefix: string;
  /** Names of the secret configuration properties of a type (empty when unknown). */
  readonly secretProperties: (id: ActionTypeId) => ReadonlySet<string>;
  /** Environment for `${env:NAME}` references. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Structural validation of the merged declaration (the rules the endpoint enforces). */
  readonly validate: (declaration: JsonObject) => readonly Finding[];
}

export interface PipelinePlanResult {
  readonly changes: Change[];
  readonly errors: PlanError[];
  readonly warnings: PlanWarning[];
  readonly stagesBefore: string[];
  readonly stagesAfter: string[];
  /** The declaration to write, secrets in clear; undefined when nothing must be written. */
  readonly declaration?: JsonObject;
  /** The same, with secret values masked: safe to print, digest or save. */
  readonly maskedDeclaration?: JsonObject;
  readonly inventory: Inventory;
  readonly tagsToSet: Tag[];
  readonly tagKeysToRemove: string[];
}

class PipelineConflict extends Error {
  constructor(readonly error: PlanError) {
    super(error.message);
  }
}

export function planPipeline(input: PipelinePlanInput): PipelinePlanResult {
  const { observed } = input;
  const name = observed.name;
  const stagesBefore = stagesOf(observed.declaration).map(nameOf);
  const nothing = (errors: PlanError[], warnings: PlanWarning[] = []): PipelinePlanResult => ({
    changes: [],
    errors,
    warnings,
    stagesBefore,
    stagesAfter: stagesBefore,
    inventory: { stages: {}, actions: {}, rewires: {} },
    tagsToSet: [],
    tagKeysToRemove: [],
  });

  const decoded = decodeInventory(input.tagPrefix, observed.tags);
  if (!decoded.ok) {
    return nothing([
      {
        address: pipelineAddress(name),
        code: 'plan.inventory-unreadable',
        message: `cannot tell what cpsync owns in pipeline ${name}: ${decoded.reason}`,
        hint: `restore the ${input.tagPrefix}owned:<n> tags from a previous version of the pipeline's tags, or remove them all and re-adopt with \`cpsync import\``,
      },
    ]);
  }
  try {
    return planWithInventory(input, decoded.inventory, stagesBefore);
  } catch (error) {
    if (error instanceof PipelineConflict) return nothing([error.error]);
    throw error;
  }
}

function planWithInventory(input: PipelinePlanInput, previous: Inventory, stagesBefore: string[]): PipelinePlanResult {
  const { observed, contributions } = input;
  const name = observed.name;
  const live = observed.declaration;
  const next = structuredClone(live) as JsonObject;
  const stages = () => next.stages as JsonObject[];
  if (!Array.isArray(next.stages)) next.stages = [];
  const changes: Change[] = [];
  const warnings: PlanWarning[] = [];
  const inventory = { stages: {} as Record<string, { hash: string }>, actions: {} as Record<string, { hash: string }>, rewires: {} as Record<string, OwnedRewire> };
  const removedStages: string[] = [];
  const insertedStages = new Set<string>();

  const fail = (address: string, code: string, message: string, hint?: string): never => {
    throw new PipelineConflict({ address, code, message, ...(hint ? { hint } : {}) });
  };
  const findStage = (stageName: string) => stages().find((stage) => nameOf(stage) === stageName);

  // 1. Owned things no longer declared are removed (rewires are undone).
  const declaredStages = new Set(contributions.insertStages.map((stage) => stage.name));
  for (const stageName of Object.keys(previous.stages)) {
    if (declaredStages.has(stageName)) continue;
    const index = stages().findIndex((stage) => nameOf(stage) === stageName);
    if (index === -1) continue;
    const [removed] = stages().splice(index, 1);
    removedStages.push(stageName);
    changes.push({ address: stageAddress(name, stageName), action: 'delete', reasons: ['removed-from-config'], before: maskStage(removed as JsonObject, input) });
  }
  const declaredActions = new Set(contributions.addActions.flatMap((group) => group.actions.map((action) => `${group.stage}/${action.name}`)));
  for (const key of Object.keys(previous.actions)) {
    if (declaredActions.has(key)) continue;
    const [stageName, actionName] = splitKey(key);
    const stage = findStage(stageName);
    const actions = stage ? actionsOf(stage) : [];
    const index = actions.findIndex((action) => nameOf(action) === actionName);
    if (!stage || index === -1) continue;
    const [removed] = actions.splice(index, 1);
    stage.actions = actions;
    if (!actions.length) {
      fail(actionAddress(name, stageName, actionName), 'plan.empty-stage', `removing ${key} would leave stage ${stageName} of pipeline ${name} with no actions`, 'keep the action declared, or remove the stage by hand first');
    }
    changes.push({ address: actionAddress(name, stageName, actionName), action: 'delete', reasons: ['removed-from-config'], before: maskAction(removed as JsonObject, input) });
  }
  const declaredRewires = new Set(contributions.rewires.map((rewire) => `${rewire.stage}/${rewire.action}`));
  for (const [key, record] of Object.entries(previous.rewires)) {
    if (declaredRewires.has(key)) continue;
    const [stageName, actionName] = splitKey(key);
    const action = findStage(stageName) && actionsOf(findStage(stageName) as JsonObject).find((candidate) => nameOf(candidate) === actionName);
    if (!action) continue;
    const before = artifactNames(action.inputArtifacts);
    if (!sameList(before, record.from)) {
      action.inputArtifacts = record.from.map((artifact) => ({ name: artifact }));
      changes.push({ address: rewireAddress(name, stageName, actionName), action: 'update', reasons: ['removed-from-config'], before: before, after: [...record.from], changedPaths: ['inputArtifacts'] });
    }
  }

  // 2. Inserted stages: created, updated, moved or left alone.
  for (const desired of contributions.insertStages) {
    const address = stageAddress(name, desired.name);
    const rendered = renderStage(desired, input, address);
    const existingIndex = stages().findIndex((stage) => nameOf(stage) === desired.name);
    const existing = existingIndex === -1 ? undefined : stages()[existingIndex];
    const recorded = previous.stages[desired.name];
    if (existing && !recorded) {
      fail(address, 'plan.not-owned', `pipeline ${name} already has a stage ${desired.name} that cpsync does not own (declared in ${desired.file})`, 'rename the stage in the pipeline file, or adopt the existing one with `cpsync import`');
    }
    const hash = digest(rendered.clear);
    inventory.stages[desired.name] = { hash };

    let reasons: ChangeReason[] = [];
    if (!existing) reasons = [recorded ? 'owned-removed-outside' : 'missing'];
    else {
      const same = deepEqual(normalizeStageDeclaration(existing), normalizeStageDeclaration(rendered.masked));
      if (!same) reasons = [recorded?.hash === hash ? 'owned-drift' : 'config-changed'];
      else if (recorded?.hash !== hash) reasons = ['secret-changed'];
    }

    // Place it. A stage already on the declared side of its anchor stays where it is (other
    // tools or people may have put their own stages in between; moving it would make two
    // declarations fight); otherwise it goes right next to the anchor.
    const before = 'before' in desired.placement;
    const anchorName = before ? (desired.placement as { before: string }).before : (desired.placement as { after: string }).after;
    const anchorAt = stages().findIndex((stage) => nameOf(stage) === anchorName);
    if (anchorAt === -1) {
      fail(
        address,
        'plan.anchor-missing',
        `cannot place stage ${desired.name} ${before ? 'before' : 'after'} ${anchorName}: pipeline ${name} has no stage ${anchorName} (its stages: ${stagesBefore.join(', ')})`,
        `the anchor stage may have been renamed or removed; update ${desired.file}`,
      );
    }
    if (before && (anchorAt === 0 || (existing && existingIndex === 0))) {
      fail(address, 'plan.before-first', `cannot place stage ${desired.name} before ${anchorName}: it is the first stage of pipeline ${name}, which holds the source actions`, `place it after ${anchorName} instead (${desired.file})`);
    }
    const inPlace = existing !== undefined && (before ? existingIndex < anchorAt : existingIndex > anchorAt);
    const write = reasons.length > 0 ? rendered.clear : (existing as JsonObject);
    if (inPlace) {
      stages()[existingIndex] = write;
    } else {
      if (existing) stages().splice(existingIndex, 1);
      const anchorIndex = stages().findIndex((stage) => nameOf(stage) === anchorName);
      stages().splice(before ? anchorIndex : anchorIndex + 1, 0, write);
      if (existing) reasons = [...reasons, 'moved'];
    }
    insertedStages.add(desired.name);

    if (reasons.length) {
      changes.push({
        address,
        action: existing ? 'update' : 'create',
        reasons,
        ...(existing ? { before: maskStage(existing, input) } : {}),
        after: maskStage(rendered.masked, input),
        ...(existing ? { changedPaths: changedPaths(normalizeStageDeclaration(existing), normalizeStageDeclaration(rendered.masked)) } : {}),
      });
    }
  }

  // 3. Actions added to stages cpsync does not own.
  for (const group of contributions.addActions) {
    const stage = findStage(group.stage);
    if (!stage) {
      fail(stageAddress(name, group.stage), 'plan.stage-missing', `cannot add actions to stage ${group.stage}: pipeline ${name} has no such stage (its stages: ${stagesBefore.join(', ')})`, `the stage may have been renamed or removed; update ${group.file}`);
    }
    const target = stage as JsonObject;
    const actions = actionsOf(target);
    for (const desired of group.actions) {
      const key = `${group.stage}/${desired.name}`;
      const address = actionAddress(name, group.stage, desired.name);
      const rendered = renderAction(desired, input, address);
      const index = actions.findIndex((action) => nameOf(action) === desired.name);
      const existing = index === -1 ? undefined : actions[index];
      const recorded = previous.actions[key];
      if (existing && !recorded) {
        fail(address, 'plan.not-owned', `stage ${group.stage} of pipeline ${name} already has an action ${desired.name} that cpsync does not own (declared in ${group.file})`, 'rename the action in the pipeline file, or adopt the existing one with `cpsync import`');
      }
      const hash = digest(rendered.clear);
      inventory.actions[key] = { hash };
      let reasons: ChangeReason[] = [];
      if (!existing) reasons = [recorded ? 'owned-removed-outside' : 'missing'];
      else if (!deepEqual(normalizeActionDeclaration(existing), normalizeActionDeclaration(rendered.masked))) reasons = [recorded?.hash === hash ? 'owned-drift' : 'config-changed'];
      else if (recorded?.hash !== hash) reasons = ['secret-changed'];
      if (!reasons.length) continue;
      if (existing) actions[index] = rendered.clear;
      else actions.push(rendered.clear);
      target.actions = actions;
      changes.push({
        address,
        action: existing ? 'update' : 'create',
        reasons,
        ...(existing ? { before: maskAction(existing, input), changedPaths: changedPaths(normalizeActionDeclaration(existing), normalizeActionDeclaration(rendered.masked)) } : {}),
        after: maskAction(rendered.masked, input),
      });
    }
  }

  // 4. Rewires of actions cpsync does not own.
  for (const rewire of contributions.rewires) {
    const key = `${rewire.stage}/${rewire.action}`;
    const address = rewireAddress(name, rewire.stage, rewire.action);
    const stage = findStage(rewire.stage);
    const action = stage ? actionsOf(stage).find((candidate) => nameOf(candidate) === rewire.action) : undefined;
    if (!action) {
      fail(address, 'plan.rewire-missing', `cannot rewire ${key}: pipeline ${name} has no such action`, `the stage or action may have been renamed; update ${rewire.file}`);
    }
    if (insertedStages.has(rewire.stage) || previous.actions[key] || inventory.actions[key]) {
      fail(address, 'plan.rewire-owned', `cannot rewire ${key}: cpsync owns it`, `set its inputArtifacts where it is declared (${rewire.file})`);
    }
    const target = action as JsonObject;
    const current = artifactNames(target.inputArtifacts);
    const from = previous.rewires[key]?.from ?? current;
    const hash = digest(rewire.inputArtifacts as unknown as Json);
    inventory.rewires[key] = { hash, from: [...from] };
    if (sameList(current, rewire.inputArtifacts)) continue;
    target.inputArtifacts = rewire.inputArtifacts.map((artifact) => ({ name: artifact }));
    changes.push({
      address,
      action: 'update',
      reasons: [previous.rewires[key] ? 'owned-drift' : 'missing'],
      before: current,
      after: [...rewire.inputArtifacts],
      changedPaths: ['inputArtifacts'],
    });
  }

  // 5. The merged declaration must be valid, and may differ from the live one only where cpsync owns.
  const stagesAfter = [
    ...stages().map((stage) => (insertedStages.has(nameOf(stage)) && !stagesBefore.includes(nameOf(stage)) ? `+${nameOf(stage)}` : nameOf(stage))),
  ];
  const withRemoved = mergeRemovedStageMarks(stagesBefore, stagesAfter, removedStages);
  const newTags = encodeInventory(input.tagPrefix, inventory);
  const oldInventoryTags = observed.tags.filter((tag) => isInventoryTag(input.tagPrefix, tag.key));
  const tagsChanged = !sameTags(newTags, oldInventoryTags);
  const tagsToSet = tagsChanged ? newTags : [];
  const tagKeysToRemove = tagsChanged ? oldInventoryTags.map((tag) => tag.key).filter((key) => !newTags.some((tag) => tag.key === key)) : [];

  if (!changes.length) {
    return { changes, errors: [], warnings, stagesBefore, stagesAfter: withRemoved, inventory, tagsToSet, tagKeysToRemove };
  }

  const findings = input.validate(next);
  if (findings.length) {
    const first = findings[0] as Finding;
    return {
      changes: [],
      errors: findings.map((finding) => ({
        address: pipelineAddress(name),
        code: 'plan.invalid-result',
        message: `after cpsync's changes, pipeline ${name} would be invalid: ${finding.message}`,
        hint: finding.hint ?? 'check the inputs, outputs and placement in the pipeline files',
      })),
      warnings: first ? warnings : warnings,
      stagesBefore,
      stagesAfter: stagesBefore,
      inventory: previous,
      tagsToSet: [],
      tagKeysToRemove: [],
    };
  }
  const owned = ownedParts(previous, inventory);
  const violation = findForeignChange(live, next, owned);
  if (violation) {
    return {
      changes: [],
      errors: [{ address: pipelineAddress(name), code: 'plan.ownership-violation', message: `internal error: the planned update of ${name} would change ${violation}, which cpsync does not own; nothing was planned for this pipeline`, hint: 'this is a bug in cpsync; please report it with --debug output' }],
      warnings,
      stagesBefore,
      stagesAfter: stagesBefore,
      inventory: previous,
      tagsToSet: [],
      tagKeysToRemove: [],
    };
  }
  if (observed.runningExecutions > 0) {
    warnings.push({ address: pipelineAddress(name), message: `pipeline ${name} has ${observed.runningExecutions} execution${observed.runningExecutions === 1 ? '' : 's'} in progress; updating it stops ${observed.runningExecutions === 1 ? 'it' : 'them'} at the changed stages` });
  }
  return {
    changes,
    errors: [],
    warnings,
    stagesBefore,
    stagesAfter: withRemoved,
    declaration: next,
    maskedDeclaration: maskDeclaration(next, input),
    inventory,
    tagsToSet,
    tagKeysToRemove,
  };
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function sameTags(a: readonly Tag[], b: readonly Tag[]): boolean {
  const key = (tags: readonly Tag[]) => canonicalJson([...tags].sort((x, y) => x.key.localeCompare(y.key)).map((tag) => [tag.key, tag.value]));
  return key(a) === key(b);
}

/** Stage names with removed ones shown as `-Name` where they were. */
function mergeRemovedStageMarks(before: readonly string[], after: readonly string[], removed: readonly string[]): string[] {
  if (!removed.length) return [...after];
  const result = [...after];
  for (const stage of removed) {
    const index = before.indexOf(stage);
    const previousSurvivor = before.slice(0, index).reverse().find((name) => result.includes(name) || result.includes(`+${name}`));
    const at = previousSurvivor === undefined ? 0 : result.findIndex((name) => name === previousSurvivor || name === `+${previousSurvivor}`) + 1;
    result.splice(at, 0, `-${stage}`);
  }
  return result;
}

// ----------------------------------------------------------------------------------------------
// Rendering declarations into AWS JSON, with secrets resolved (clear) and masked.

interface Rendered {
  readonly clear: JsonObject;
  readonly masked: JsonObject;
}

function renderStage(stage: DesiredInsertStage, input: PipelinePlanInput, address: string): Rendered {
  const actions = stage.actions.map((action) => renderAction(action, input, `${address}/action:${action.name}`));
  return {
    clear: { name: stage.name, actions: actions.map((action) => action.clear) },
    masked: { name: stage.name, actions: actions.map((action) => action.masked) },
  };
}

function renderAction(action: DesiredAction, input: PipelinePlanInput, address: string): Rendered {
  const secrets = input.secretProperties(action.actionTypeId);
  const clearConfiguration: JsonObject = {};
  const maskedConfiguration: JsonObject = {};
  for (const [key, value] of Object.entries(action.configuration)) {
    clearConfiguration[key] = resolveEnv(value, input.env, `${address} configuration.${key}`);
    maskedConfiguration[key] = secrets.has(key) ? SECRET_MASK : clearConfiguration[key] as string;
  }
  const base = (configuration: JsonObject): JsonObject => ({
    name: action.name,
    actionTypeId: { ...action.actionTypeId },
    runOrder: action.runOrder,
    configuration,
    inputArtifacts: action.inputArtifacts.map((artifact) => ({ name: artifact })),
    outputArtifacts: action.outputArtifacts.map((artifact) => ({ name: artifact })),
    ...(action.region !== undefined ? { region: action.region } : {}),
    ...(action.namespace !== undefined ? { namespace: action.namespace } : {}),
    ...(action.roleArn !== undefined ? { roleArn: action.roleArn } : {}),
  });
  return { clear: base(clearConfiguration), masked: base(maskedConfiguration) };
}

function resolveEnv(value: string, env: PipelinePlanInput['env'], where: string): string {
  return value.replace(ENV_REFERENCE, (_whole, variable: string) => {
    const resolved = env[variable];
    if (resolved === undefined || resolved === '') {
      throw new PipelineConflict({
        address: where.split(' ')[0] as string,
        code: 'plan.env-missing',
        message: `${where} refers to \${env:${variable}}, which is not set`,
        hint: `set ${variable} in the environment where cpsync plan and apply run`,
      });
    }
    return resolved;
  });
}

// ----------------------------------------------------------------------------------------------
// Masking for display: secret values (clear or `****`) become "(sensitive)".

function maskAction(action: JsonObject, input: PipelinePlanInput): JsonObject {
  const id = action.actionTypeId as unknown as ActionTypeId | undefined;
  const secrets = id ? input.secretProperties(id) : new Set<string>();
  if (!isObject(action.configuration)) return action;
  const configuration: JsonObject = {};
  for (const [key, value] of Object.entries(action.configuration)) configuration[key] = secrets.has(key) || value === SECRET_MASK ? SENSITIVE : value;
  return { ...action, configuration };
}

function maskStage(stage: JsonObject, input: PipelinePlanInput): JsonObject {
  return { ...stage, actions: actionsOf(stage).map((action) => maskAction(action, input)) };
}

function maskDeclaration(declaration: JsonObject, input: PipelinePlanInput): JsonObject {
  return { ...declaration, stages: stagesOf(declaration).map((stage) => maskStage(stage, input)) };
}

/** Dotted paths whose values differ between two JSON values (for "what changed" at a glance). */
export function changedPaths(before: Json, after: Json, prefix = ''): string[] {
  if (deepEqual(before, after)) return [];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedPaths(before[key] ?? null, after[key] ?? null, prefix ? `${prefix}.${key}` : key));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length && before.every((item) => isObject(item) && typeof item.name === 'string')) {
    return before.flatMap((item, index) => {
      const label = `${prefix}[${(item as JsonObject).name as string}]`;
      return changedPaths(item, after[index] as Json, label);
    });
  }
  return [prefix || '(root)'];
}

// ----------------------------------------------------------------------------------------------
// The ownership invariant.

interface OwnedParts {
  readonly stages: ReadonlySet<string>;
  readonly actions: ReadonlySet<string>;
  readonly rewires: ReadonlySet<string>;
}

function ownedParts(before: Inventory, after: Inventory): OwnedParts {
  return {
    stages: new Set([...Object.keys(before.stages), ...Object.keys(after.stages)]),
    actions: new Set([...Object.keys(before.actions), ...Object.keys(after.actions)]),
    rewires: new Set([...Object.keys(before.rewires), ...Object.keys(after.rewires)]),
  };
}

/** Removes everything cpsync owns from a declaration, leaving what must never change. */
function withoutOwned(declaration: JsonObject, owned: OwnedParts): JsonObject {
  const copy = structuredClone(declaration) as JsonObject;
  copy.stages = stagesOf(copy)
    .filter((stage) => !owned.stages.has(nameOf(stage)))
    .map((stage) => ({
      ...stage,
      actions: actionsOf(stage)
        .filter((action) => !owned.actions.has(`${nameOf(stage)}/${nameOf(action)}`))
        .map((action) => (owned.rewires.has(`${nameOf(stage)}/${nameOf(action)}`) ? { ...action, inputArtifacts: '(owned)' } : action)),
    }));
  return copy;
}

/** Describes the first difference outside what cpsync owns, or undefined when there is none. */
export function findForeignChange(live: JsonObject, next: JsonObject, owned: OwnedParts): string | undefined {
  const a = withoutOwned(live, owned);
  const b = withoutOwned(next, owned);
  if (canonicalJson(a) === canonicalJson(b)) return undefined;
  const paths = changedPaths(a, b);
  return paths.slice(0, 3).join(', ') || 'the declaration';
}

export { formatTypeRef };
