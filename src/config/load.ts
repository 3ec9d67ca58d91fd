// Reads everything a user configures (settings, actions.yaml, pipelines/*.yaml), checks it and
// returns the desired model with every problem found. `read → schema → normalize → rules`.
// The only I/O is reading files; no AWS module is loaded here.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { z } from 'zod';
import type { PathSegment } from './yaml-source.js';
import type { DesiredActionType, DesiredPipelineFile } from '../model/desired.js';
import type { Finding } from '../model/findings.js';
import { normalizeActionType, normalizePipelineFile } from './normalize.js';
import { sortProblems, type Problem } from './problems.js';
import { checkActionsFile } from './rules-actions.js';
import { checkPipelineFile, checkPipelineFilesTogether, type KnownActionType } from './rules-pipelines.js';
import {
  actionSchema,
  actionsFileFrame,
  actionsFileSchema,
  actionTypeSchema,
  addActionsFrame,
  insertStageFrame,
  pipelineFileFrame,
  pipelineFileSchema,
  rewireSchema,
  type SalvagedActionsFile,
  type SalvagedPipelineFile,
  type WrittenActionType,
} from './schema.js';
import { knownKeysFor } from './schema-keys.js';
import { loadSettings, normalizeSettings, type Settings } from './settings.js';
import { isCpsyncError } from '../util/errors.js';
import { findPlugin } from '../worker/plugins/load.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import { problemsFromIssues } from './zod-problems.js';

export interface Project {
  readonly settings: Settings;
  readonly actionTypes: readonly DesiredActionType[];
  readonly pipelineFiles: readonly DesiredPipelineFile[];
  /** Every problem, sorted by file and position. */
  readonly problems: readonly Problem[];
}

export interface LoadOptions {
  readonly cwd: string;
  readonly configFile?: string;
}

const PIPELINE_FILE = /\.ya?ml$/;

export async function loadProject(options: LoadOptions): Promise<Project> {
  let loaded: Awaited<ReturnType<typeof loadSettings>>;
  try {
    loaded = await loadSettings(options.cwd, options.configFile);
  } catch (error) {
    // --config naming a missing file: without the settings, where actions.yaml and pipelines/
    // live is unknown, so that is the only problem to report.
    if (!(isCpsyncError(error) && error.code === 'settings.not-found' && options.configFile)) throw error;
    const problem: Problem = {
      severity: 'error',
      code: 'settings.not-found',
      file: options.configFile,
      message: `settings file ${JSON.stringify(options.configFile)} given to --config does not exist`,
      hint: 'check the path (it is relative to the current folder), or leave --config out to search for cpsync.config.* / .cpsyncrc* / package.json#cpsync',
    };
    return { settings: normalizeSettings({}, options.cwd), actionTypes: [], pipelineFiles: [], problems: [problem] };
  }
  const { settings, problems: settingsProblems } = loaded;
  const problems: Problem[] = [...settingsProblems];
  const show = (path: string) => relative(options.cwd, path) || path;

  // actions.yaml
  let writtenActions: SalvagedActionsFile | undefined;
  const actionsFile = show(settings.actionsFile);
  if (!existsSync(settings.actionsFile)) {
    problems.push({
      severity: settings.file ? 'error' : 'warning',
      code: 'actions.missing',
      file: actionsFile,
      message: `${actionsFile} does not exist, so no custom action types are declared`,
      hint: settings.file ? `create it, or fix "actions" in ${show(settings.file)}` : 'create actions.yaml to declare custom action types',
    });
  } else {
    const checked = checkFile(actionsFile, readFileSync(settings.actionsFile, 'utf8'), salvageActionsFile, actionsFileSchema, { actionTypes: [] });
    problems.push(...checked.problems);
    if (checked.written) {
      writtenActions = checked.written;
      problems.push(...locateFindings(checked.source, checkActionsFile(checked.written)));
      problems.push(...locateFindings(checked.source, findMissingPlugins(checked.written, settings.pluginsDir, settings.root)));
    }
  }
  const actionTypes = (writtenActions?.actionTypes ?? []).filter((t): t is WrittenActionType => t !== undefined).map(normalizeActionType);

  // pipelines/*.yaml
  const known: KnownActionType[] = actionTypes.map((type) => ({
    id: { category: type.definition.category, owner: 'Custom', provider: type.definition.provider, version: type.definition.version },
    properties: type.definition.configurationProperties,
    inputArtifactDetails: type.definition.inputArtifactDetails,
    outputArtifactDetails: type.definition.outputArtifactDetails,
  }));
  const pipelineFiles: DesiredPipelineFile[] = [];
  const writtenPipelines: { file: string; written: SalvagedPipelineFile; source: YamlSource }[] = [];
  for (const path of listPipelineFiles(settings.pipelinesDir)) {
    const file = show(path);
    const checked = checkFile(file, readFileSync(path, 'utf8'), salvagePipelineFile, pipelineFileSchema, undefined);
    problems.push(...checked.problems);
    if (!checked.written) continue;
    problems.push(...locateFindings(checked.source, checkPipelineFile(checked.written, file, { declared: known, actionsFile })));
    writtenPipelines.push({ file, written: checked.written, source: checked.source });
    pipelineFiles.push(normalizePipelineFile(file, checked.written));
  }
  for (const { file, finding } of checkPipelineFilesTogether(writtenPipelines)) {
    const source = writtenPipelines.find((entry) => entry.file === file)?.source;
    if (source) problems.push(...locateFindings(source, [finding]));
  }

  return { settings, actionTypes, pipelineFiles, problems: sortProblems(problems) };
}

/** Each executor's plugin must be findable (bundled, under plugins/, or an installed npm package).
 *  Only located, never imported: validate stays offline and fast. */
function findMissingPlugins(file: SalvagedActionsFile, pluginsDir: string, cwd: string): Finding[] {
  const findings: Finding[] = [];
  file.actionTypes.forEach((type, index) => {
    const reference = type?.executor?.plugin;
    if (!reference) return;
    try {
      findPlugin(reference, { pluginsDir, cwd });
    } catch (error) {
      if (!isCpsyncError(error)) throw error;
      // The syntax of the reference is checked by the rules already; report only what is missing.
      if (error.code === 'plugin.bad-reference') return;
      findings.push({ code: 'actions.plugin-missing', path: ['actionTypes', index, 'executor', 'plugin'], message: error.message, ...(error.hint ? { hint: error.hint } : {}) });
    }
  });
  return findings;
}

function listPipelineFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((name) => PIPELINE_FILE.test(name) && !name.startsWith('.'))
    .sort()
    .map((name) => join(dir, name));
}

interface CheckedFile<T> {
  readonly source: YamlSource;
  readonly written: T | undefined;
  readonly problems: Problem[];
}

type Issue = z.core.$ZodIssue;
/** Checks parsed data item by item; returns what could be salvaged (undefined if nothing) and the issues. */
type Salvage<T> = (data: unknown) => { written: T | undefined; issues: Issue[] };

/** Parses one YAML file and checks it item by item. An empty file is `empty`. `fullSchema`
 *  names the keys allowed anywhere, for suggestions. */
function checkFile<T>(file: string, text: string, salvage: Salvage<T>, fullSchema: z.ZodType, empty: T | undefined): CheckedFile<T> {
  const source = parseYamlSource(file, text);
  const problems = [...source.problems];
  if (problems.some((problem) => problem.severity === 'error')) return { source, written: undefined, problems };
  if (source.data === null || source.data === undefined) {
    if (empty !== undefined) return { source, written: empty, problems };
    problems.push({ severity: 'error', code: 'schema.empty', file, line: 1, column: 1, message: `${file} is empty`, hint: 'declare insertStages, addActions or rewires, or delete the file' });
    return { source, written: undefined, problems };
  }
  const { written, issues } = salvage(source.data);
  problems.push(...problemsFromIssues(source, issues, knownKeysFor(fullSchema)));
  return { source, written, problems };
}

function prefixIssues(prefix: readonly PathSegment[], issues: readonly Issue[]): Issue[] {
  return issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] }) as Issue);
}

/** Checks each item of a list on its own; failed items become holes. */
function salvageList<T>(items: readonly unknown[], at: readonly PathSegment[], check: (item: unknown, path: readonly PathSegment[]) => { written: T | undefined; issues: Issue[] }) {
  const issues: Issue[] = [];
  const written = items.map((item, index) => {
    const result = check(item, [...at, index]);
    issues.push(...result.issues);
    return result.written;
  });
  return { written, issues };
}

function bySchema<T>(schema: z.ZodType<T>) {
  return (item: unknown, path: readonly PathSegment[]) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) return { written: parsed.data, issues: [] };
    return { written: pruneAndParse(schema, item, parsed.error.issues), issues: prefixIssues(path, parsed.error.issues) };
  };
}

/**
 * Removes what the schema rejected (unknown keys, bad optional values) and parses again, so the
 * rules can still check the rest of an item: one mistyped tag must not hide a broken URL template
 * in the same action type. Gives up (undefined) when a required field was the problem.
 */
function pruneAndParse<T>(schema: z.ZodType<T>, item: unknown, firstIssues: readonly Issue[]): T | undefined {
  let data: unknown = structuredClone(item);
  let issues = firstIssues;
  for (let round = 0; round < 5; round++) {
    for (const issue of issues) {
      const path = issue.path as PathSegment[];
      if (issue.code === 'unrecognized_keys') for (const key of issue.keys) removeAt(data, [...path, key]);
      else if (path.length && typeof path[path.length - 1] === 'string') removeAt(data, path);
      else return undefined;
    }
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    issues = parsed.error.issues;
  }
  return undefined;
}

function removeAt(data: unknown, path: readonly PathSegment[]): void {
  let node = data;
  for (const segment of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  if (node !== null && typeof node === 'object' && !Array.isArray(node)) delete (node as Record<PathSegment, unknown>)[path[path.length - 1] as PathSegment];
}

/** Parses a file's or stage's frame; when it fails, drops what it rejected and tries again so the
 *  rest (other top-level keys, the stage's actions) is still checked. */
function parseFrame<T>(schema: z.ZodType<T>, data: unknown): { data: T | undefined; issues: Issue[] } {
  const parsed = schema.safeParse(data);
  if (parsed.success) return { data: parsed.data, issues: [] };
  return { data: pruneAndParse(schema, data, parsed.error.issues), issues: parsed.error.issues };
}

export const salvageActionsFile: Salvage<SalvagedActionsFile> = (data) => {
  const frame = parseFrame(actionsFileFrame, data);
  if (!frame.data) return { written: undefined, issues: frame.issues };
  const { written, issues } = salvageList(frame.data.actionTypes, ['actionTypes'], bySchema(actionTypeSchema));
  return { written: { actionTypes: written }, issues: [...frame.issues, ...issues] };
};

export const salvagePipelineFile: Salvage<SalvagedPipelineFile> = (data) => {
  const frame = parseFrame(pipelineFileFrame, data);
  if (!frame.data) return { written: undefined, issues: frame.issues };
  const issues: Issue[] = [...frame.issues];
  const withActions = <F extends { actions: unknown[] }>(schema: z.ZodType<F>) => (item: unknown, path: readonly PathSegment[]) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) {
      const actions = salvageList(parsed.data.actions, [...path, 'actions'], bySchema(actionSchema));
      return { written: { ...parsed.data, actions: actions.written }, issues: actions.issues };
    }
    // The stage itself is broken; its actions are still worth checking on their own.
    const listed = item !== null && typeof item === 'object' ? (item as { actions?: unknown }).actions : undefined;
    const actions = Array.isArray(listed) ? salvageList(listed, [...path, 'actions'], bySchema(actionSchema)) : { written: [], issues: [] };
    return { written: undefined, issues: [...prefixIssues(path, parsed.error.issues), ...actions.issues] };
  };
  const insertStages = salvageList(frame.data.insertStages ?? [], ['insertStages'], withActions(insertStageFrame));
  const addActions = salvageList(frame.data.addActions ?? [], ['addActions'], withActions(addActionsFrame));
  const rewires = salvageList(frame.data.rewires ?? [], ['rewires'], bySchema(rewireSchema));
  issues.push(...insertStages.issues, ...addActions.issues, ...rewires.issues);
  return {
    written: {
      ...(frame.data.pipelines ? { pipelines: frame.data.pipelines } : {}),
      ...(frame.data.insertStages ? { insertStages: insertStages.written as SalvagedPipelineFile['insertStages'] } : {}),
      ...(frame.data.addActions ? { addActions: addActions.written as SalvagedPipelineFile['addActions'] } : {}),
      ...(frame.data.rewires ? { rewires: rewires.written } : {}),
    },
    issues,
  };
};

function locateFindings(source: YamlSource, findings: readonly Finding[]): Problem[] {
  return findings.map((finding) => ({
    severity: finding.severity ?? 'error',
    code: finding.code,
    file: source.file,
    ...source.locate(finding.path, finding.target),
    message: finding.message,
    ...(finding.hint ? { hint: finding.hint } : {}),
  }));
}
