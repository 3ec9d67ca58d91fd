// `cpsync run-job`: runs one job of an action type locally, with its executor plugin, on local
// folders or ZIPs, with no AWS and no endpoint, continuation hops included; the outputs land in a
// folder. For plugin authors (docs/plugins.md). Thin: flags → plan → run → render → exit code.

import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { loadProject } from '../../config/load.js';
import { hasErrors } from '../../config/problems.js';
import { choosePalette } from '../../render/palette.js';
import { renderProblems } from '../../render/problems.js';
import { renderLocalJobEvent, renderLocalJobHeader, renderLocalJobResult } from '../../render/local-job.js';
import { CpsyncError, describeError } from '../../util/errors.js';
import { createRedactor } from '../../worker/redact.js';
import { loadPlugin } from '../../worker/plugins/load.js';
import { preparePlugin } from '../../worker/plugins/host.js';
import { planLocalJob, type PathKind } from '../../worker/local/plan-local-job.js';
import { runLocalJob } from '../../worker/local/run-local-job.js';
import { booleanFlag, durationFlag, integerFlag, stringFlag } from '../parse-args.js';
import type { CommandContext } from '../spec.js';

export const DEFAULT_MAX_HOPS = 20;
export const DEFAULT_TIMEOUT_MS = 60 * 60 * 1000;
export const DEFAULT_HOP_DELAY_MS = 1_000;
/** Written to the output folder when the run stops in progress; its name cannot be an artifact's. */
export const STATE_FILE_NAME = 'continuation-state.json';

const list = (context: CommandContext, flag: string) => (context.args.flags[flag] as string[] | undefined) ?? [];


function probe(path: string): PathKind {
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) return 'directory';
    return stats.isFile() && path.toLowerCase().endsWith('.zip') ? 'zip' : 'other-file';
  } catch {
    return 'missing';
  }
}

function timestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

function readStateFile(path: string, shown: string): { state: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CpsyncError('run-job.state-file', `--state-file ${shown} cannot be read: ${describeError(error)}`, { hint: 'give a JSON file with the state a previous hop returned' });
  }
  try {
    return { state: JSON.parse(text) as unknown };
  } catch (error) {
    throw new CpsyncError('run-job.state-file', `--state-file ${shown} is not JSON: ${describeError(error)}`, { hint: `give a JSON file, e.g. the ${STATE_FILE_NAME} an earlier run-job left` });
  }
}

export async function runRunJob(context: CommandContext): Promise<number> {
  // Here `--config` takes action configuration (KEY=VALUE, repeatable), as a pipeline supplies it;
  // a value that is not KEY=VALUE is still the settings file every other command takes.
  const configFlags = (context.args.flags.config as string[] | undefined) ?? [];
  const settingsFiles = configFlags.filter((value) => !/^[^=\s]+=/.test(value) || existsSync(resolve(context.cwd, value)));
  if (settingsFiles.length > 1) throw new CpsyncError('cli.bad-flag-value', `--config names more than one settings file: ${settingsFiles.join(', ')}`, { hint: 'give action configuration as --config KEY=VALUE and at most one settings file' });
  const settingsFlag = settingsFiles[0];
  const configurationValues = [...configFlags.filter((value) => !settingsFiles.includes(value)), ...list(context, 'configuration')];
  const palette = choosePalette({ interactive: Boolean((context.stderr as { isTTY?: boolean }).isTTY), env: context.env, noColor: booleanFlag(context.args, 'no-color') });
  const show = (path: string) => {
    const rel = relative(context.cwd, path);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  };

  const project = await loadProject({ cwd: context.cwd, configFile: settingsFlag });
  if (hasErrors(project.problems)) {
    context.stderr.write(renderProblems(project.problems.filter((problem) => problem.severity === 'error'), palette));
    throw new CpsyncError('config.invalid', 'the configuration has errors; the job did not run', { hint: 'fix them (see `cpsync validate`) and run it again' });
  }
  const settings = project.settings;
  const actionsFile = show(settings.actionsFile);
  const plan = planLocalJob(
    { type: stringFlag(context.args, 'type'), inputs: list(context, 'input'), outputs: list(context, 'output'), configuration: configurationValues },
    { actionTypes: project.actionTypes, pipelineFiles: project.pipelineFiles, actionsFile, resolvePath: (path) => resolve(context.cwd, path), probe },
  );
  const maxHops = integerFlag(context.args, 'max-hops', DEFAULT_MAX_HOPS, 1, 10_000);
  const timeoutMs = durationFlag(context.args, 'timeout', DEFAULT_TIMEOUT_MS);
  const hopDelayMs = durationFlag(context.args, 'hop-delay', DEFAULT_HOP_DELAY_MS);
  const stateFlag = stringFlag(context.args, 'state-file');
  const initialState = stateFlag === undefined ? undefined : readStateFile(resolve(context.cwd, stateFlag), stateFlag);

  // The plugin is loaded and its options checked as the worker does at start-up.
  const executor = plan.type.executor;
  if (!executor) throw new CpsyncError('run-job.no-executor', `action type ${plan.label} has no executor`);
  let loaded: Awaited<ReturnType<typeof loadPlugin>>;
  let prepared: ReturnType<typeof preparePlugin>;
  try {
    loaded = await loadPlugin(executor.plugin, { pluginsDir: settings.pluginsDir, cwd: context.cwd });
    prepared = preparePlugin(loaded.plugin, executor.options, { file: actionsFile, actionType: plan.label, configurationKeys: plan.type.definition.configurationProperties.map((property) => property.name) });
  } catch (error) {
    const message = describeError(error);
    const hint = error instanceof CpsyncError ? error.hint : undefined;
    throw new CpsyncError('run-job.plugin', message.includes(actionsFile) ? message : `${actionsFile}, action type ${plan.label}: ${message}`, { ...(hint ? { hint } : {}), who: 'plugin', cause: error });
  }

  const outputDir = resolve(context.cwd, stringFlag(context.args, 'output-dir') ?? `cpsync-run-${timestamp(new Date())}`);
  if (existsSync(outputDir) && (!statSync(outputDir).isDirectory() || readdirSync(outputDir).length > 0)) {
    throw new CpsyncError('run-job.output-dir', `--output-dir ${show(outputDir)} already exists and is not an empty folder`, { hint: 'remove it, or give another --output-dir' });
  }
  await mkdir(outputDir, { recursive: true });
  const keepWorkspaces = booleanFlag(context.args, 'keep-workspace');
  const workDir = keepWorkspaces ? join(outputDir, '.workspaces') : await mkdtemp(join(tmpdir(), 'cpsync-run-job-'));

  // Everything printed passes the redactor: secret configuration values never reach the terminal.
  const redactor = createRedactor(plan.secretKeys.map((key) => plan.configuration[key] ?? '').filter(Boolean));
  const err = (text: string) => {
    if (text) context.stderr.write(redactor.redact(text));
  };
  const debug = booleanFlag(context.args, 'debug');
  err(
    renderLocalJobHeader(
      { plan, plugin: prepared.name, pluginSource: loaded.source, pluginFile: show(loaded.file), outputDir: show(outputDir), ...(keepWorkspaces ? { workDir: show(workDir) } : {}), maxHops, timeoutMs, initialState: initialState !== undefined },
      palette,
    ),
  );

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => stop.abort(`${signal} received`);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runLocalJob({
      plan,
      prepared,
      outputDir,
      workDir,
      keepWorkspaces,
      zip: booleanFlag(context.args, 'zip'),
      maxHops,
      timeoutMs,
      hopDelayMs,
      ...(initialState ? { initialState } : {}),
      onEvent: (event) => err(renderLocalJobEvent(event, palette, debug)),
      signal: stop.signal,
      redactor,
    });
    let stateFile: string | undefined;
    if (result.status === 'in-progress') {
      stateFile = join(outputDir, STATE_FILE_NAME);
      await writeFile(stateFile, `${JSON.stringify(result.pendingState ?? null, null, 2)}\n`);
    }
    context.stdout.write(redactor.redact(renderLocalJobResult(result, palette, show, stateFile)));
    return result.status === 'succeeded' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!keepWorkspaces) await rm(workDir, { recursive: true, force: true }).catch(() => rmSync(workDir, { recursive: true, force: true }));
  }
}
