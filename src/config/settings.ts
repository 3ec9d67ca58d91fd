// Finds and reads cpsync's settings with cosmiconfig, checks them against the schema and fills in
// defaults. Reading is I/O; `normalizeSettings` is pure.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { CpsyncError, describeError } from '../util/errors.js';
import { parseDuration } from '../util/duration.js';
import { sortProblems, type Problem } from './problems.js';
import { knownKeysFor } from './schema-keys.js';
import { settingsSchema, type WrittenSettings } from './settings-schema.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import { problemsFromIssues } from './zod-problems.js';

export interface Target {
  readonly name: string;
  readonly region?: string;
  readonly profile?: string;
  readonly roleArn?: string;
  readonly endpointUrl?: string;
}

export interface WorkerSettings {
  readonly concurrency: number;
  readonly pollIntervalMinMs: number;
  readonly pollIntervalMaxMs: number;
  readonly workDir: string;
  readonly graceMs: number;
  /** As written: may be a `${env:NAME}` reference, resolved when the worker starts. */
  readonly tokenKey?: string;
}

export interface Settings {
  /** Folder paths are relative to: the settings file's folder, or the working directory. */
  readonly root: string;
  /** The settings file, when one was found. */
  readonly file?: string;
  readonly actionsFile: string;
  readonly pipelinesDir: string;
  readonly pluginsDir: string;
  readonly tagPrefix: string;
  readonly targets: readonly Target[];
  readonly worker: WorkerSettings;
}

export const DEFAULT_TAG_PREFIX = 'cpsync:';

/** Where settings are looked for, in each folder from the working directory up to the project root. */
export const SEARCH_PLACES = [
  'package.json',
  '.cpsyncrc',
  '.cpsyncrc.json',
  '.cpsyncrc.yaml',
  '.cpsyncrc.yml',
  '.cpsyncrc.js',
  '.cpsyncrc.mjs',
  '.cpsyncrc.cjs',
  '.cpsyncrc.ts',
  'cpsync.config.json',
  'cpsync.config.yaml',
  'cpsync.config.yml',
  'cpsync.config.js',
  'cpsync.config.mjs',
  'cpsync.config.cjs',
  'cpsync.config.ts',
];

export interface LoadedSettings {
  readonly settings: Settings;
  readonly problems: readonly Problem[];
}

/** Finds the settings (or reads `explicitFile`), validates and normalizes them. Problems are
 *  returned, not thrown, so `validate` can report them with everything else. */
export async function loadSettings(cwd: string, explicitFile?: string): Promise<LoadedSettings> {
  const explorer = cosmiconfig('cpsync', { searchStrategy: 'project', searchPlaces: SEARCH_PLACES });
  let found: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    found = explicitFile ? await explorer.load(resolve(cwd, explicitFile)) : await explorer.search(cwd);
  } catch (error) {
    const file = explicitFile ?? 'settings';
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CpsyncError('settings.not-found', `settings file ${JSON.stringify(explicitFile)} does not exist`, { hint: 'check the path given to --config' });
    }
    const source = explicitFile ? readSourceForPositions(resolve(cwd, explicitFile), cwd) : undefined;
    const problem = source?.problems.find((p) => p.severity === 'error');
    if (problem) return { settings: normalizeSettings({}, cwd), problems: [problem] };
    return {
      settings: normalizeSettings({}, cwd),
      problems: [{ severity: 'error', code: 'settings.unreadable', file, message: `cannot read settings: ${describeError(error)}`, hint: 'fix the file, or remove it to use the defaults' }],
    };
  }

  if (!found || found.isEmpty) return { settings: normalizeSettings({}, cwd, found?.filepath), problems: [] };

  const file = found.filepath;
  const shownFile = relative(cwd, file) || basename(file);
  const parsed = settingsSchema.safeParse(found.config);

  // Positions come from re-reading the file as YAML (JSON is YAML); JavaScript settings have none.
  const source = readSourceForPositions(file, cwd);
  const prefix = basename(file) === 'package.json' ? ['cpsync'] : [];
  const located: YamlSource = source
    ? { ...source, data: found.config, locate: (path, target) => source.locate([...prefix, ...path], target) }
    : { file: shownFile, data: found.config, problems: [], locate: () => ({ line: 1, column: 1 }) };
  // The poll interval bounds are compared on the raw settings, so a mistake elsewhere in the file
  // does not hide this one.
  const problems = [...(parsed.success ? [] : problemsFromIssues(located, parsed.error.issues, knownKeysFor(settingsSchema))), ...durationProblems(found.config, located)];
  const withoutPositions = source ? problems : problems.map(({ line: _l, column: _c, ...rest }) => rest);
  const written = parsed.success ? parsed.data : {};
  return { settings: normalizeSettings(written, dirname(file), file), problems: sortProblems(withoutPositions) };
}

function readSourceForPositions(file: string, cwd: string): YamlSource | undefined {
  if (/\.(c|m)?(js|ts)$/.test(file)) return undefined;
  try {
    return parseYamlSource(relative(cwd, file) || basename(file), readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** worker.pollInterval.min must not exceed max; each bound is only compared when it is itself valid. */
function durationProblems(config: unknown, source: YamlSource): Problem[] {
  const problems: Problem[] = [];
  const interval = (config as { worker?: { pollInterval?: { min?: unknown; max?: unknown } } } | null | undefined)?.worker?.pollInterval;
  const bound = settingsSchema.shape.worker.unwrap().shape.pollInterval.unwrap().shape.min.unwrap();
  const min = bound.safeParse(interval?.min);
  const max = bound.safeParse(interval?.max);
  if (min.success && max.success && parseDuration(min.data) > parseDuration(max.data)) {
    problems.push({
      severity: 'error',
      code: 'settings.poll-interval',
      file: source.file,
      ...source.locate(['worker', 'pollInterval', 'min']),
      message: `worker.pollInterval.min (${String(min.data)}) is longer than worker.pollInterval.max (${String(max.data)})`,
      hint: 'the minimum poll interval must not exceed the maximum: lower min or raise max',
    });
  }
  return problems;
}

/** Fills in defaults and resolves paths against `root`. Pure. */
export function normalizeSettings(written: WrittenSettings, root: string, file?: string): Settings {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(root, path));
  const worker = written.worker ?? {};
  return {
    root,
    ...(file ? { file } : {}),
    actionsFile: at(written.actions ?? 'actions.yaml'),
    pipelinesDir: at(written.pipelines ?? 'pipelines'),
    pluginsDir: at(written.plugins ?? 'plugins'),
    tagPrefix: written.tagPrefix ?? DEFAULT_TAG_PREFIX,
    // With no targets configured, one target takes its Region, profile and endpoint from the
    // standard AWS variables and flags, as the AWS CLI would.
    targets: written.targets ?? [{ name: 'default' }],
    worker: {
      concurrency: worker.concurrency ?? availableParallelism(),
      pollIntervalMinMs: worker.pollInterval?.min !== undefined ? parseDuration(worker.pollInterval.min) : 1_000,
      pollIntervalMaxMs: worker.pollInterval?.max !== undefined ? parseDuration(worker.pollInterval.max) : 30_000,
      workDir: at(worker.workDir ?? '.cpsync/worker'),
      graceMs: worker.grace !== undefined ? parseDuration(worker.grace) : 30_000,
      ...(worker.tokenKey ? { tokenKey: worker.tokenKey } : {}),
    },
  };
}
