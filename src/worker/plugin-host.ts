// Wires the selected action types to their executor plugins: loads and prepares every plugin at
// start-up (all problems reported together, naming actions.yaml and the type), and turns each
// prepared plugin into the runner's Executor. The plugin host (plugins/host.ts) builds the frozen
// context, the exec gateway and validates the outcome; the runner checks it again regardless.

import { CpsyncError, describeError } from '../util/errors.js';
import { loadPlugin } from './plugins/load.js';
import { preparePlugin, runPlugin, type PreparedPlugin } from './plugins/host.js';
import type { Executor, JobType } from './run-job.js';
import type { SelectedType } from './select-types.js';

export interface PluginLocation {
  readonly pluginsDir: string;
  readonly cwd: string;
  /** actions.yaml as shown to the user. */
  readonly actionsFile: string;
  /** Environment variable names tools may inherit besides the base allow-list. */
  readonly extraEnvNames?: readonly string[];
}

export function executorFor(prepared: PreparedPlugin, type: SelectedType, location: Pick<PluginLocation, 'extraEnvNames'> = {}): Executor {
  return (job) =>
    runPlugin(prepared, {
      job: job.identity,
      configuration: job.configuration,
      inputs: job.workspace.inputs,
      outputs: job.workspace.outputs,
      workspace: job.workspace.root,
      state: job.state,
      log: job.log,
      signal: job.signal,
      secretKeys: type.secretProperties,
      secrets: job.secrets,
      execOptions: { homeDir: job.workspace.home, tmpDir: job.workspace.tmp, ...(location.extraEnvNames ? { extraEnvNames: location.extraEnvNames } : {}) },
    });
}

export async function prepareJobTypes(selected: readonly SelectedType[], location: PluginLocation): Promise<JobType[]> {
  const problems: string[] = [];
  const types: JobType[] = [];
  for (const type of selected) {
    try {
      const loaded = await loadPlugin(type.executor.plugin, { pluginsDir: location.pluginsDir, cwd: location.cwd });
      const prepared = preparePlugin(loaded.plugin, type.executor.options, { file: location.actionsFile, actionType: type.label, ...(type.propertyNames ? { configurationKeys: type.propertyNames } : {}) });
      types.push({ selected: type, executor: executorFor(prepared, type, location) });
    } catch (error) {
      const message = describeError(error);
      const hint = error instanceof CpsyncError && error.hint ? ` (${error.hint})` : '';
      problems.push(message.includes(location.actionsFile) ? `${message}${hint}` : `${location.actionsFile}, action type ${type.label}: ${message}${hint}`);
    }
  }
  if (problems.length) {
    throw new CpsyncError('worker.plugin', problems.length === 1 ? (problems[0] as string) : `${problems.length} executor plugins cannot be used:\n  ${problems.join('\n  ')}`, {
      hint: `fix executor in ${location.actionsFile}; bundled plugins: command; local plugins live in plugins/<name>/index.ts`,
    });
  }
  return types;
}
