// The plan for a terminal or a CI log, Terraform-style: a symbol per change (`+` create,
// `~` update, `-` delete, `-/+` replace), the reason in words, what changes (before → after), the
// stage order of each touched pipeline, warnings and errors, and a summary line. Rendered from
// the same model as the JSON and markdown forms. Values arrive masked ("(sensitive)"); this file
// only ever prints values it finds in the plan. Pure.

import { actionsOf, isObject, nameOf, type Json, type JsonObject } from '../model/pipeline.js';
import { onlyOwnershipTags, summarizePlan } from '../plan/summary.js';
import type { ActionTypePlan, Change, PipelinePlan, Plan, PlanError, PlanWarning, TargetPlan } from '../plan/types.js';
import type { Palette } from './palette.js';
import {
  ACTION_SYMBOLS,
  ACTION_VERBS,
  addressKind,
  artifactList,
  changedValues,
  describeCounts,
  describeReasons,
  describeSummary,
  formatValue,
  parseStageMark,
  plural,
  stageOrderChanged,
  type RenderedAction,
} from './plan-words.js';

export function renderPlanHuman(plan: Plan, palette: Palette): string {
  const out: string[] = [];
  const used = usedActions(plan.targets);
  if (used.length) {
    out.push(`Symbols: ${used.map((action) => `${symbol(action, palette)} ${ACTION_VERBS[action]}`).join(', ')}`, '');
  }
  for (const target of plan.targets) {
    out.push(...renderTarget(target, palette, plan.targets.length > 1), '');
  }
  const summary = describeSummary(plan.summary, plan.targets.length);
  // The first line says what would change; a second one, in red, that some items cannot be applied.
  out.push(...summary.map((line, index) => (index === 0 ? palette.bold(line) : palette.red(palette.bold(line)))));
  return `${out.join('\n')}\n`;
}

function usedActions(targets: readonly TargetPlan[]): RenderedAction[] {
  const seen = new Set<RenderedAction>();
  for (const target of targets) {
    for (const change of allChanges(target)) seen.add(change.action as RenderedAction);
    if (target.pipelines.some(onlyOwnershipTags)) seen.add('tag');
  }
  const order: RenderedAction[] = ['create', 'update', 'tag', 'delete', 'replace'];
  // `tag` shares `~` with update: list the symbol once.
  const listed = order.filter((action) => seen.has(action));
  return listed.includes('update') ? listed.filter((action) => action !== 'tag') : listed;
}

function allChanges(target: TargetPlan): Change[] {
  return [...target.actionTypes.flatMap((type) => type.changes), ...target.pipelines.flatMap((pipeline) => pipeline.changes)].filter((change) => change.action !== 'no-op');
}

export function symbol(action: RenderedAction, palette: Palette): string {
  switch (action) {
    case 'create':
      return palette.green(ACTION_SYMBOLS.create);
    case 'update':
    case 'tag':
      return palette.yellow(ACTION_SYMBOLS[action]);
    case 'delete':
      return palette.red(ACTION_SYMBOLS.delete);
    case 'replace':
      return `${palette.red('-')}/${palette.green('+')}`;
    case 'no-op':
      return ACTION_SYMBOLS['no-op'];
  }
}

// ----------------------------------------------------------------------------------------------
// One target

function renderTarget(target: TargetPlan, palette: Palette, several: boolean): string[] {
  const lines: string[] = [palette.bold(`Target ${target.target} (${[target.region, target.accountId ? `account ${target.accountId}` : undefined].filter(Boolean).join(', ')})`)];
  const inline = new Set<PlanWarning>();
  const blocks: string[][] = [];

  // In apply's order: types are created (and tagged) before the pipelines that use them are
  // written, and deleted only after, once nothing uses them.
  const deletions: string[][] = [];
  for (const type of target.actionTypes) {
    for (const change of type.changes) {
      if (change.action === 'no-op') continue;
      (change.action === 'delete' ? deletions : blocks).push(indent(renderChange(change, palette, type), 2));
    }
    if (type.blockedBy?.length) {
      const warnings = target.warnings.filter((warning) => warning.address === type.address);
      warnings.forEach((warning) => inline.add(warning));
      blocks.push(indent(renderBlocked(type, warnings, palette), 2));
    }
  }

  const unchanged: string[] = [];
  const failed = (pipeline: PipelinePlan) => target.errors.some((error) => error.address === pipeline.address || error.address.startsWith(`${pipeline.address}/`));
  for (const pipeline of target.pipelines) {
    const changes = pipeline.changes.filter((change) => change.action !== 'no-op');
    if (!changes.length && !onlyOwnershipTags(pipeline)) {
      if (!failed(pipeline)) unchanged.push(pipeline.name);
      continue;
    }
    const warnings = target.warnings.filter((warning) => warning.address === pipeline.address);
    warnings.forEach((warning) => inline.add(warning));
    blocks.push(indent(renderPipeline(pipeline, changes, warnings, palette), 2));
  }
  blocks.push(...deletions);

  const checked = unchanged.length ? ` (${unchanged.join(', ')})` : '';
  if (!blocks.length && !target.errors.length) lines.push('', `  No changes${unchanged.length ? ` in ${plural(unchanged.length, 'pipeline')}${checked}` : ''}.`);
  for (const block of blocks) lines.push('', ...block);
  if (unchanged.length && (blocks.length || target.errors.length)) lines.push('', `  ${palette.dim(`Unchanged: ${plural(unchanged.length, 'pipeline')}${checked}`)}`);

  const others = target.warnings.filter((warning) => !inline.has(warning));
  for (const warning of others) lines.push('', ...indent(renderWarning(warning, palette), 2));
  for (const error of target.errors) lines.push('', ...indent(renderError(error, palette), 2));
  if (several) {
    const summary = summarizePlan([target]);
    const errors = summary.errors ? `, ${plural(summary.errors, 'error')}` : '';
    lines.push('', `  ${palette.bold(`Target ${target.target}: ${describeCounts(summary)}${errors}.`)}`);
  }
  return lines;
}

function renderWarning(warning: PlanWarning, palette: Palette): string[] {
  return [`${palette.yellow(palette.bold('Warning:'))} ${warning.message}`, `  ${palette.dim(`at ${warning.address}`)}`];
}

function renderError(error: PlanError, palette: Palette): string[] {
  const lines = [`${palette.red(palette.bold('Error:'))} ${error.message}`, `  ${palette.dim(`at ${error.address} (${error.code})`)}`];
  if (error.hint) lines.push(`  ${palette.dim('hint:')} ${error.hint}`);
  return lines;
}

function renderBlocked(type: ActionTypePlan, warnings: readonly PlanWarning[], palette: Palette): string[] {
  const lines = [`${palette.yellow('!')} ${type.address}: deletion blocked`];
  if (warnings.length) for (const warning of warnings) lines.push(`    ${warning.message}`);
  else lines.push(`    no longer declared, but still used by ${(type.blockedBy ?? []).join(', ')}; kept until nothing uses it`);
  return lines;
}

function renderPipeline(pipeline: PipelinePlan, changes: readonly Change[], warnings: readonly PlanWarning[], palette: Palette): string[] {
  const lines = [palette.bold(`Pipeline ${pipeline.name} (version ${pipeline.observedVersion})`)];
  if (stageOrderChanged(pipeline.stagesBefore, pipeline.stagesAfter)) {
    lines.push(`  stages before: ${pipeline.stagesBefore.join(' → ')}`);
    lines.push(`  stages after:  ${renderStageOrder(pipeline.stagesAfter, palette)}`);
  } else {
    lines.push(`  stages: ${renderStageOrder(pipeline.stagesAfter, palette)}`);
  }
  for (const warning of warnings) lines.push(`  ${palette.yellow('!')} ${warning.message}`);
  for (const change of changes) lines.push('', ...indent(renderChange(change, palette), 2));
  if (!changes.length && onlyOwnershipTags(pipeline)) lines.push('', ...indent(renderOwnershipTags(pipeline, palette), 2));
  return lines;
}

export function renderStageOrder(stages: readonly string[], palette: Palette): string {
  return stages
    .map((entry) => {
      const { mark, name } = parseStageMark(entry);
      if (mark === '+') return palette.green(`+ ${name}`);
      if (mark === '-') return palette.red(`- ${name}`);
      return name;
    })
    .join(' → ');
}

function renderOwnershipTags(pipeline: PipelinePlan, palette: Palette): string[] {
  const lines = [`${symbol('tag', palette)} ${pipeline.address} (tags)`, "    reason: cpsync's ownership record (tags) is out of date"];
  // Inventory tag values hold digests of the declarations, secrets included: keys only.
  if (pipeline.tagsToSet.length) lines.push(`    set: ${pipeline.tagsToSet.map((tag) => tag.key).join(', ')}`);
  if (pipeline.tagKeysToRemove.length) lines.push(`    remove: ${pipeline.tagKeysToRemove.join(', ')}`);
  return lines;
}

// ----------------------------------------------------------------------------------------------
// One change

function renderChange(change: Change, palette: Palette, type?: ActionTypePlan): string[] {
  const action = change.action as RenderedAction;
  const kind = addressKind(change.address);
  const head = `${symbol(action, palette)} ${change.address}${action === 'tag' ? ' (tags)' : ''}`;
  const reasons = describeReasons(change);
  const lines = [head];
  if (reasons.length === 1) lines.push(`    reason: ${reasons[0]}`);
  else if (reasons.length > 1) lines.push('    reasons:', ...reasons.map((reason) => `      - ${reason}`));
  lines.push(...indent(changeDetails(change, action, kind, palette, type), 4));
  return lines;
}

function changeDetails(change: Change, action: RenderedAction, kind: ReturnType<typeof addressKind>, palette: Palette, type?: ActionTypePlan): string[] {
  if (action === 'tag') return tagLines(change, palette, type);
  if (kind === 'rewire') return changedValues(change).map(({ path, text }) => `${path}: ${text}`);
  if (action === 'create') {
    if (kind === 'stage' && isObject(change.after)) return stageLines(change.after, palette);
    if (kind === 'action' && isObject(change.after)) return actionLines(change.after);
    if (kind === 'action-type' && isObject(change.after)) return actionTypeLines(change.after);
    return change.after === undefined ? [] : [`after: ${formatValue(change.after)}`];
  }
  if (action === 'delete') {
    if (kind === 'stage' && isObject(change.before)) return actionsOf(change.before).map((item) => `${palette.red('-')} ${actionSummary(item)}`);
    if (kind === 'action' && isObject(change.before)) return [actionSummary(change.before)];
    return [];
  }
  return changedLines(change);
}

function changedLines(change: Change): string[] {
  const values = changedValues(change);
  return values.length ? ['changed:', ...values.map(({ path, text }) => `  ${path}: ${text}`)] : [];
}

function tagLines(change: Change, palette: Palette, type?: ActionTypePlan): string[] {
  const before = isObject(change.before) ? change.before : {};
  const after = isObject(change.after) ? change.after : {};
  // The plan's own tag lists say exactly what apply sends; hand-made tags that stay are not in them.
  const set = type?.tags ? type.tags.map((tag) => tag.key) : Object.keys(after).filter((key) => before[key] !== after[key]);
  const removed = type?.tagKeysToRemove ?? Object.keys(before).filter((key) => !(key in after));
  const lines: string[] = [];
  for (const key of set) {
    const value = type?.tags?.find((tag) => tag.key === key)?.value ?? after[key] ?? null;
    lines.push(key in before ? `${palette.yellow('~')} ${key}: ${formatValue(before[key] ?? null)} → ${formatValue(value)}` : `${palette.green('+')} ${key} = ${formatValue(value)}`);
  }
  for (const key of removed) lines.push(`${palette.red('-')} ${key}${key in before ? ` = ${formatValue(before[key] ?? null)}` : ''}`);
  return lines;
}

function stageLines(stage: JsonObject, palette: Palette): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(stage)) {
    if (key === 'name' || key === 'actions') continue;
    lines.push(`${key}: ${formatValue(value)}`);
  }
  for (const action of actionsOf(stage)) {
    const [first, ...rest] = actionLines(action);
    lines.push(`${palette.green('+')} ${first ?? ''}`, ...indent(rest, 2));
  }
  return lines;
}

const ACTION_KEYS_SHOWN = new Set(['name', 'actionTypeId', 'runOrder', 'configuration', 'inputArtifacts', 'outputArtifacts']);

/** An action declaration: type, run order, inputs → outputs, configuration (masked as given), and any other field. */
function actionLines(action: JsonObject): string[] {
  const lines = [`action ${nameOf(action)} (${typeRef(action.actionTypeId)}${typeof action.runOrder === 'number' ? `, runOrder ${action.runOrder}` : ''})`];
  lines.push(`  artifacts: ${artifactList(action.inputArtifacts)} → ${artifactList(action.outputArtifacts)}`);
  const configuration = isObject(action.configuration) ? action.configuration : {};
  const keys = Object.keys(configuration);
  if (keys.length) {
    lines.push('  configuration:');
    lines.push(...alignedPairs(keys.map((key) => [key, formatValue(configuration[key] ?? null)]), 4));
  }
  for (const [key, value] of Object.entries(action)) {
    if (!ACTION_KEYS_SHOWN.has(key)) lines.push(`  ${key}: ${formatValue(value)}`);
  }
  return lines;
}

function actionSummary(action: JsonObject): string {
  return `action ${nameOf(action)} (${typeRef(action.actionTypeId)}): ${artifactList(action.inputArtifacts)} → ${artifactList(action.outputArtifacts)}`;
}

function actionTypeLines(definition: JsonObject): string[] {
  const lines: string[] = [];
  const settings = isObject(definition.settings) ? definition.settings : {};
  if (Object.keys(settings).length) {
    lines.push('settings:', ...alignedPairs(Object.entries(settings).map(([key, value]) => [key, formatValue(value)]), 2));
  }
  const properties = Array.isArray(definition.configurationProperties) ? definition.configurationProperties.filter(isObject) : [];
  if (properties.length) {
    lines.push('configuration properties:');
    for (const property of properties) {
      const flags = ['required', 'key', 'secret', 'queryable'].filter((flag) => property[flag] === true);
      const type = typeof property.type === 'string' ? ` (${property.type})` : '';
      lines.push(`  ${nameOf(property)}${type}: ${flags.length ? flags.join(', ') : 'optional'}`);
    }
  }
  for (const [key, label] of [
    ['inputArtifactDetails', 'input artifacts'],
    ['outputArtifactDetails', 'output artifacts'],
  ] as const) {
    const details = definition[key];
    if (isObject(details)) lines.push(`${label}: min ${formatValue(details.minimumCount ?? null)}, max ${formatValue(details.maximumCount ?? null)}`);
  }
  const tags = isObject(definition.tags) ? definition.tags : {};
  if (Object.keys(tags).length) lines.push('tags:', ...alignedPairs(Object.entries(tags).map(([key, value]) => [key, formatValue(value)]), 2));
  return lines;
}

// ----------------------------------------------------------------------------------------------
// Values

function typeRef(id: Json | undefined): string {
  if (!isObject(id)) return 'unknown type';
  return [id.owner, id.category, id.provider, id.version].map((part) => (typeof part === 'string' ? part : '?')).join('/');
}

function alignedPairs(pairs: readonly (readonly [string, string])[], spaces: number): string[] {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${' '.repeat(spaces)}${key.padEnd(width)} = ${value}`);
}

function indent(lines: readonly string[], spaces: number): string[] {
  const pad = ' '.repeat(spaces);
  return lines.map((line) => (line ? `${pad}${line}` : line));
}
