// The bundled `make` executor plugin: runs one make target in an input artifact's folder and
// collects declared output folders or files.
//
//   executor:
//     plugin: make
//     options:
//       target: "{Config:Target}"             # optional; default: the Makefile's default goal
//       allowedTargets: [build, test, dist]   # required when the target comes from the configuration
//       directory: inputs/MyApp               # optional; default: the first input artifact's folder
//       jobs: 4                               # optional; default: the worker's number of cores
//       variables: { VERSION: "{Config:Version}" }
//       outputs: { MyBuiltApp: inputs/MyApp/build }
//       timeout: 20m
//
// Who decides what: actions.yaml (the repository) decides what may run — the fixed target, or the
// list of targets a pipeline may choose from, the variables, the folders. A pipeline's action
// configuration only picks among those or fills a `{Config:Name}` placeholder. Make reads more
// than a shell would from its command line, so values from the configuration are constrained:
//
// - a target must be one of `allowedTargets` and is passed after `--`, so `-n`, `--eval=…` or
//   `X=1` can never become an option or a variable assignment;
// - in `variables`, each configuration value has `$` doubled, so make takes it literally instead
//   of expanding `$(shell …)`; values with line breaks are refused.

import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { z } from 'zod';
import { definePlugin, type JobOutcome } from '../../src/plugin.js';
import {
  artifactName,
  describeMissingPlaceholders,
  duration,
  fillPlaceholders,
  formatDuration,
  hasPlaceholder,
  templated,
  textConfigurationSchema,
  workspacePath,
} from '../shared/options.js';
import { copyDeclaredOutputs } from '../shared/outputs.js';

/** A make goal given on the command line: not an option (`-…`), not an assignment (`=`), one word. */
const GOAL = /^[^\s=-][^\s=]*$/;
const isGoal = (value: string) => GOAL.test(value) && !/[\p{Cc}]/u.test(value);

const goal = z.string({ error: 'must be text' }).refine(isGoal, { error: 'must be a make target: one word, not starting with "-", without "="' });

/** A make variable name as cpsync accepts it (a subset of make's, which allows almost anything). */
const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'make variable names may only contain letters, digits and _' });

export const makeOptionsSchema = z
  .strictObject({
    target: templated.optional(),
    allowedTargets: z.array(goal, { error: 'must be a list of make targets' }).min(1, { error: 'must name at least one target' }).optional(),
    directory: workspacePath.optional(),
    makefile: workspacePath.optional(),
    jobs: z.number({ error: 'must be a whole number of parallel jobs' }).int({ error: 'must be a whole number of parallel jobs' }).min(1, { error: 'must be at least 1' }).max(1024, { error: 'must be at most 1024' }).optional(),
    variables: z.record(variableName, templated).optional(),
    outputs: z.record(artifactName, workspacePath).optional(),
    timeout: duration.optional(),
  })
  .superRefine((options, context) => {
    if (options.target === undefined) return;
    if (hasPlaceholder(options.target)) {
      // The pipeline chooses the target: the repository must say which ones it may choose.
      if (!options.allowedTargets) {
        context.addIssue({ code: 'custom', path: ['allowedTargets'], message: `the target ${JSON.stringify(options.target)} comes from the action configuration; list the targets a pipeline may choose in allowedTargets` });
      }
    } else if (!isGoal(options.target)) {
      context.addIssue({ code: 'custom', path: ['target'], message: 'must be a make target: one word, not starting with "-", without "="' });
    } else if (options.allowedTargets && !options.allowedTargets.includes(options.target)) {
      context.addIssue({ code: 'custom', path: ['target'], message: `${JSON.stringify(options.target)} is not in allowedTargets` });
    }
  });

export type MakeOptions = z.output<typeof makeOptionsSchema>;

/** make expands `$` in variable values given on its command line, even `$(shell …)`; `$$` is a literal `$`. */
export const escapeMakeValue = (value: string): string => value.replaceAll('$', '$$$$');

/** The make command line for these options, with configuration values filled in. Pure. */
export function planMakeArgv(
  options: MakeOptions,
  config: Readonly<Record<string, string>>,
  defaultJobs: number,
): { readonly ok: true; readonly argv: [string, ...string[]]; readonly target: string | undefined } | { readonly ok: false; readonly message: string } {
  const missing = new Set<string>();
  const target = options.target === undefined ? undefined : fillPlaceholders(options.target, config, missing);
  const variables = Object.entries(options.variables ?? {}).map(([name, value]) => [name, fillPlaceholders(value, config, missing, escapeMakeValue)] as const);
  if (missing.size > 0) return { ok: false, message: describeMissingPlaceholders(missing) };
  if (target !== undefined && (!isGoal(target) || (options.allowedTargets && !options.allowedTargets.includes(target)))) {
    // The value came from the pipeline; name it (it is a target name, not a secret) and the choices.
    const allowed = options.allowedTargets ? `; allowed: ${options.allowedTargets.join(', ')}` : '';
    return { ok: false, message: `make target ${JSON.stringify(target)} is not allowed by the executor options${allowed}` };
  }
  for (const [name, value] of variables) {
    if (/[\r\n]/.test(value)) return { ok: false, message: `make variable ${name}: the value from the action configuration contains a line break` };
  }
  const argv: [string, ...string[]] = ['make', '-j', String(options.jobs ?? defaultJobs)];
  if (options.makefile !== undefined) argv.push('-f', options.makefile);
  for (const [name, value] of variables) argv.push(`${name}=${value}`);
  // `--` ends make's options: whatever the target is, it is a goal.
  if (target !== undefined) argv.push('--', target);
  return { ok: true, argv, target };
}

const failed = (message: string, failureType: 'JobFailed' | 'ConfigurationError' | 'SystemUnavailable' = 'JobFailed'): JobOutcome => ({ status: 'failed', failureType, message });

export default definePlugin<Readonly<Record<string, string>>, MakeOptions>({
  meta: {
    name: 'make',
    description: 'Runs a make target in an input artifact folder (target, -j, variables from actions.yaml); copies declared outputs into output artifacts.',
  },
  configSchema: {
    configuration: textConfigurationSchema,
    options: makeOptionsSchema,
  },
  async execute(ctx) {
    const { options, config } = ctx;
    const planned = planMakeArgv(options, config, availableParallelism());
    if (!planned.ok) return failed(planned.message, 'ConfigurationError');

    let directory = options.directory;
    if (directory === undefined) {
      const first = Object.values(ctx.inputs)[0];
      if (first === undefined) return failed('make needs a folder to run in: the action has no input artifact and executor.options.directory is not set', 'ConfigurationError');
      directory = relative(ctx.workspace, first) || '.';
    }

    const label = planned.target === undefined ? 'make' : `make ${planned.target}`;
    const result = await ctx.exec(planned.argv, { cwd: directory, ...(options.timeout !== undefined && { timeoutMs: options.timeout }) });
    const tail = result.outputTail.trim();
    const withTail = (head: string) => (tail ? `${head}: ${tail}` : head);
    if (result.cancelled) return failed(`${label} was stopped: the job was cancelled`, 'SystemUnavailable');
    if (result.timedOut) return failed(withTail(`${label} timed out after ${formatDuration(options.timeout ?? result.durationMs)}`));
    if (result.exitCode !== 0) return failed(withTail(result.exitCode === undefined ? `${label} was killed by ${result.signal ?? 'a signal'}` : `${label} exited ${result.exitCode}`));

    const collected = await copyDeclaredOutputs(ctx, options.outputs ?? {}, `after ${label} ran`);
    if (!collected.ok) return failed(collected.message, 'ConfigurationError');
    const outputsNote = collected.copied ? `; ${collected.copied} output${collected.copied === 1 ? '' : 's'} collected` : '';
    return { status: 'succeeded', summary: `${label}: exited 0 in ${formatDuration(result.durationMs)}${outputsNote}` };
  },
});
