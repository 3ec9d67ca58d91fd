// `cpsync run-job`'s decisions, before anything runs: which action type, which inputs, outputs and
// configuration, each checked the way a pipeline would be held to them (the type's artifact
// counts, its configuration properties, AWS's value limits). Pure: the file system is seen only
// through `probe`, and every problem is collected so they are reported together.

import { formatTypeRef, type ConfigurationProperty } from '../../model/action-type.js';
import type { DesiredActionType, DesiredPipelineFile } from '../../model/desired.js';
import { ACTION_CATEGORIES, describeStringViolation, RULES } from '../../model/limits.js';
import { CpsyncError } from '../../util/errors.js';
import { closestMatch } from '../../util/suggest.js';

/** What a path is, as far as `--input` cares. */
export type PathKind = 'directory' | 'zip' | 'other-file' | 'missing';

export interface LocalInput {
  readonly name: string;
  /** As given on the command line (for messages). */
  readonly given: string;
  /** Absolute. */
  readonly path: string;
  readonly kind: 'directory' | 'zip';
}

export interface LocalJobPlan {
  readonly type: DesiredActionType;
  readonly label: string;
  readonly inputs: readonly LocalInput[];
  readonly outputs: readonly string[];
  /** Where the output names came from, for the header. */
  readonly outputsFrom: 'flags' | 'pipeline' | 'default';
  readonly configuration: Readonly<Record<string, string>>;
  /** Names of the type's secret properties: their values are redacted from everything printed. */
  readonly secretKeys: readonly string[];
}

export interface LocalJobFlags {
  readonly type: string | undefined;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly configuration: readonly string[];
}

export interface PlanContext {
  readonly actionTypes: readonly DesiredActionType[];
  readonly pipelineFiles: readonly DesiredPipelineFile[];
  readonly actionsFile: string;
  /** Absolute path of an `--input` path (relative to the current folder). */
  readonly resolvePath: (path: string) => string;
  readonly probe: (absolutePath: string) => PathKind;
}

const typeHint = (types: readonly DesiredActionType[]) =>
  types.length ? `action types with an executor: ${types.map((type) => formatTypeRef(type.definition)).join(', ')}` : 'add an action type with an executor to actions.yaml';

/** Finds the action type `--type` names; throws with a suggestion when there is none. */
export function findActionType(reference: string | undefined, context: Pick<PlanContext, 'actionTypes' | 'actionsFile'>): DesiredActionType {
  const runnable = context.actionTypes.filter((type) => type.executor);
  if (!reference) {
    throw new CpsyncError('run-job.type-missing', '--type is required: which action type to run', {
      hint: runnable[0] ? `e.g. --type ${formatTypeRef(runnable[0].definition)}; ${typeHint(runnable)}` : typeHint(runnable),
    });
  }
  const found = context.actionTypes.find((type) => formatTypeRef(type.definition) === reference);
  if (found && !found.executor) {
    throw new CpsyncError('run-job.no-executor', `action type ${reference} in ${context.actionsFile} has no executor, so there is no plugin to run`, {
      hint: 'add `executor: { plugin: <name>, options: {...} }` to it in actions.yaml',
    });
  }
  if (found) return found;
  const labels = context.actionTypes.map((type) => formatTypeRef(type.definition));
  const parts = reference.split('/');
  let suggestion = closestMatch(reference, labels);
  if (!suggestion && parts.length === 3) {
    const category = closestMatch(parts[0] ?? '', ACTION_CATEGORIES);
    const fixed = category ? [category, ...parts.slice(1)].join('/') : undefined;
    if (fixed && labels.includes(fixed)) suggestion = fixed;
  }
  const shape = parts.length === 3 ? '' : ' (write Category/Provider/Version)';
  throw new CpsyncError('run-job.unknown-type', `action type ${JSON.stringify(reference)} is not declared in ${context.actionsFile}${shape}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`, {
    hint: typeHint(runnable),
  });
}

/** `Name=value` split at the first `=`; undefined when there is no name or no `=`. */
export function splitPair(text: string): { readonly name: string; readonly value: string } | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  return { name: text.slice(0, eq), value: text.slice(eq + 1) };
}

/** The output artifact names a pipeline gives the first action of this type in pipelines/*.yaml. */
export function pipelineOutputNames(type: DesiredActionType, pipelineFiles: readonly DesiredPipelineFile[]): readonly string[] | undefined {
  const label = formatTypeRef(type.definition);
  for (const file of pipelineFiles) {
    const actions = [...file.insertStages.flatMap((stage) => stage.actions), ...file.addActions.flatMap((group) => group.actions)];
    const action = actions.find((candidate) => candidate.actionTypeId.owner === 'Custom' && formatTypeRef(candidate.actionTypeId) === label);
    if (action) return action.outputArtifacts;
  }
  return undefined;
}

function countProblem(what: 'input' | 'output', count: number, details: { minimumCount: number; maximumCount: number }, label: string): string | undefined {
  if (count >= details.minimumCount && count <= details.maximumCount) return undefined;
  const range = details.minimumCount === details.maximumCount ? `exactly ${details.minimumCount}` : `${details.minimumCount} to ${details.maximumCount}`;
  return `action type ${label} takes ${range} ${what} artifact${details.maximumCount === 1 ? '' : 's'} (its ${what}ArtifactDetails), got ${count}`;
}

/** Checks the configuration as CodePipeline checks an action's: known keys, required ones present,
 *  values within AWS's limits. Never repeats a value (it may be a secret). */
export function checkConfiguration(properties: readonly ConfigurationProperty[], configuration: Readonly<Record<string, string>>, label: string): string[] {
  const problems: string[] = [];
  const names = properties.map((property) => property.name);
  for (const [key, value] of Object.entries(configuration)) {
    const property = properties.find((candidate) => candidate.name === key);
    if (!property) {
      const match = closestMatch(key, names);
      problems.push(
        `--config ${key}: not a configuration property of ${label}${match ? ` (did you mean ${match}?)` : names.length ? ` (its properties: ${names.join(', ')})` : ' (it takes no configuration)'}`,
      );
      continue;
    }
    const violation = describeStringViolation(value, RULES.configurationValue);
    if (violation) problems.push(`--config ${key}: the value ${violation}${value === '' ? ' (AWS rejects empty configuration values)' : ''}`);
    else if (property.queryable) {
      const queryable = describeStringViolation(value, RULES.queryableConfigurationValue);
      if (queryable) problems.push(`--config ${key}: the value of a queryable property ${queryable}`);
    }
  }
  for (const property of properties) {
    if (property.required && !Object.hasOwn(configuration, property.name)) {
      problems.push(`--config ${property.name}=… is required by ${label}${property.description ? ` (${property.description})` : ''}`);
    }
  }
  return problems;
}

/** Everything `run-job` needs to know before running, or one error listing every problem. */
export function planLocalJob(flags: LocalJobFlags, context: PlanContext): LocalJobPlan {
  const type = findActionType(flags.type, context);
  const label = formatTypeRef(type.definition);
  const problems: string[] = [];

  const inputs: LocalInput[] = [];
  for (const text of flags.inputs) {
    const pair = splitPair(text);
    if (!pair || pair.value === '') {
      problems.push(`--input ${JSON.stringify(text)} is not Name=path (e.g. --input MyApp=./app or --input MyApp=app.zip)`);
      continue;
    }
    const nameProblem = describeStringViolation(pair.name, RULES.artifactName);
    if (nameProblem) problems.push(`--input ${pair.name}: the artifact name ${nameProblem}`);
    if (inputs.some((input) => input.name === pair.name)) {
      problems.push(`--input ${pair.name} is given twice (artifact names are unique in a pipeline)`);
      continue;
    }
    const path = context.resolvePath(pair.value);
    const kind = context.probe(path);
    if (kind === 'missing') problems.push(`--input ${pair.name}=${pair.value}: ${pair.value} does not exist`);
    else if (kind === 'other-file') problems.push(`--input ${pair.name}=${pair.value}: ${pair.value} is neither a folder nor a .zip file`);
    else if (!nameProblem) inputs.push({ name: pair.name, given: pair.value, path, kind });
  }
  const inputCount = countProblem('input', flags.inputs.length, type.definition.inputArtifactDetails, label);
  if (inputCount) problems.push(`${inputCount}; give each with --input Name=path`);

  let outputs: readonly string[];
  let outputsFrom: LocalJobPlan['outputsFrom'];
  if (flags.outputs.length) {
    outputs = flags.outputs;
    outputsFrom = 'flags';
    const seen = new Set<string>();
    for (const name of flags.outputs) {
      const problem = describeStringViolation(name, RULES.artifactName);
      if (problem) problems.push(`--output ${JSON.stringify(name)}: the artifact name ${problem}`);
      if (seen.has(name) || inputs.some((input) => input.name === name)) problems.push(`--output ${name}: the artifact name is already used (names are unique in a pipeline)`);
      seen.add(name);
    }
    const outputCount = countProblem('output', outputs.length, type.definition.outputArtifactDetails, label);
    if (outputCount) problems.push(outputCount);
  } else {
    const fromPipeline = pipelineOutputNames(type, context.pipelineFiles);
    if (fromPipeline && !countProblem('output', fromPipeline.length, type.definition.outputArtifactDetails, label)) {
      outputs = fromPipeline;
      outputsFrom = 'pipeline';
    } else {
      // The fewest outputs the type allows: a declared output the plugin leaves empty is an error.
      outputs = Array.from({ length: type.definition.outputArtifactDetails.minimumCount }, (_, index) => `Output${index + 1}`);
      outputsFrom = 'default';
    }
  }

  const configuration: Record<string, string> = {};
  for (const text of flags.configuration) {
    const pair = splitPair(text);
    if (!pair) {
      // Only the part before any `=` is repeated: the rest may be a secret.
      problems.push(`--config ${JSON.stringify(text.includes('=') ? `${text.slice(0, text.indexOf('='))}=…` : text)} is not Key=value`);
      continue;
    }
    if (Object.hasOwn(configuration, pair.name)) {
      problems.push(`--config ${pair.name} is given twice`);
      continue;
    }
    configuration[pair.name] = pair.value;
  }
  problems.push(...checkConfiguration(type.definition.configurationProperties, configuration, label));

  if (problems.length) {
    throw new CpsyncError('run-job.invalid', problems.length === 1 ? (problems[0] as string) : `${problems.length} problems with the job:\n  ${problems.join('\n  ')}`, {
      hint: `see \`cpsync run-job --help\`; ${label} is declared in ${context.actionsFile}`,
    });
  }
  return {
    type,
    label,
    inputs,
    outputs,
    outputsFrom,
    configuration,
    secretKeys: type.definition.configurationProperties.filter((property) => property.secret).map((property) => property.name),
  };
}
