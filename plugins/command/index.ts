// The bundled `command` executor plugin: runs one command from actions.yaml and collects declared
// output folders or files.
//
//   executor:
//     plugin: command
//     options:
//       argv: [make, -C, inputs/MyApp, "PROJECT={Config:ProjectName}", build]
//       outputs: { MyBuiltApp: inputs/MyApp/build }
//       cwd: inputs/MyApp        # optional, relative to the job workspace
//       timeout: 20m             # optional
//       env: { PROJECT: "{Config:ProjectName}" }   # optional
//
// The argv comes from actions.yaml, which the repository owns; a pipeline supplies only
// configuration values. `{Config:Name}` placeholders are filled in inside one argument, never split
// or given to a shell: `PROJECT={Config:ProjectName}` stays one argument whatever the value holds.

import { cp, mkdir, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
// Only the plugin contract comes from cpsync itself: bundled plugins ship as TypeScript and are
// loaded through tsx, so they stay independent of the compiled worker.
import { definePlugin, type JobOutcome } from '../../src/plugin.js';

const PLACEHOLDER = /\{Config:([^}]*)\}/g;

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from seconds (a number) or text such as 500ms, 30s, 20m, 1h (cpsync's duration grammar). */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.round(value * 1000) : undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  const ms = match ? Math.round(Number(match[1]) * (UNITS[match[2] as string] as number)) : 0;
  return ms > 0 ? ms : undefined;
}

/** 1500 → "1.5s", 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return seconds ? `${minutes}m${seconds}s` : `${minutes}m`;
  return minutes % 60 ? `${Math.floor(minutes / 60)}h${minutes % 60}m` : `${minutes / 60}h`;
}

/** Text that may hold `{Config:Name}` placeholders; a malformed one is refused up front. */
const templated = z.string({ error: 'must be text' }).superRefine((value, context) => {
  for (const match of value.matchAll(PLACEHOLDER)) {
    if (!match[1]?.trim()) context.addIssue({ code: 'custom', message: `${JSON.stringify(match[0])} names no configuration property` });
  }
});

/** A path inside the job workspace: relative, without `..`. */
const workspacePath = z
  .string({ error: 'must be text' })
  .min(1, { error: 'must not be empty' })
  .refine((path) => !isAbsolute(path) && !path.split(/[\\/]/).includes('..'), { error: 'must be a path inside the job workspace (relative, no "..")' });

const duration = z.union([z.number().positive(), z.string()], { error: 'must be a duration such as 30s, 20m or 1h' }).transform((value, context) => {
  const ms = parseDuration(value);
  if (ms !== undefined) return ms;
  context.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a duration (write e.g. 30s, 20m or 1h)` });
  return z.NEVER;
});

export const commandOptionsSchema = z.strictObject({
  argv: z
    .array(templated, { error: 'must be a list of arguments, the program first' })
    .min(1, { error: 'must name at least the program' })
    .refine((argv) => argv[0] !== undefined && argv[0].trim() !== '', { error: 'the program (first item) must not be empty' }),
  outputs: z
    .record(z.string().regex(/^[a-zA-Z0-9_-]{1,100}$/, { error: 'output artifact names may only contain letters, digits, - and _' }), workspacePath)
    .optional(),
  cwd: workspacePath.optional(),
  timeout: duration.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'environment variable names may only contain letters, digits and _' }), templated).optional(),
});

export type CommandOptions = z.output<typeof commandOptionsSchema>;

/** The action configuration as CodePipeline sends it: text values by property name. */
export const commandConfigurationSchema = z.record(z.string(), z.string());

/** Fills `{Config:Name}` placeholders inside one string; names without a value are collected. */
export function fillPlaceholders(text: string, config: Readonly<Record<string, string>>, missing: Set<string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = Object.hasOwn(config, name) ? config[name] : undefined;
    if (value === undefined) {
      missing.add(name);
      return whole;
    }
    return value;
  });
}

async function isInside(root: string, path: string): Promise<boolean> {
  const rel = relative(await realpath(root), await realpath(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

const failed = (message: string, failureType: 'JobFailed' | 'ConfigurationError' | 'SystemUnavailable' = 'JobFailed'): JobOutcome => ({ status: 'failed', failureType, message });

export default definePlugin<Readonly<Record<string, string>>, CommandOptions>({
  meta: {
    name: 'command',
    description: 'Runs a command given as an argv list in actions.yaml; copies declared outputs into output artifacts.',
  },
  configSchema: {
    configuration: commandConfigurationSchema,
    options: commandOptionsSchema,
  },
  async execute(ctx) {
    const { options, config } = ctx;
    const missing = new Set<string>();
    const argv = options.argv.map((part) => fillPlaceholders(part, config, missing));
    const env = options.env ? Object.fromEntries(Object.entries(options.env).map(([name, value]) => [name, fillPlaceholders(value, config, missing)])) : undefined;
    if (missing.size > 0) {
      const names = [...missing].map((name) => `{Config:${name}}`).join(', ');
      return failed(`executor options use ${names}, but the action's configuration has no such value`, 'ConfigurationError');
    }

    const result = await ctx.exec(argv as [string, ...string[]], {
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(env && { env }),
      ...(options.timeout !== undefined && { timeoutMs: options.timeout }),
    });
    const tail = result.outputTail.trim();
    const withTail = (head: string) => (tail ? `${head}: ${tail}` : head);
    if (result.cancelled) return failed('command was stopped: the job was cancelled', 'SystemUnavailable');
    if (result.timedOut) return failed(withTail(`timed out after ${formatDuration(options.timeout ?? result.durationMs)}`));
    if (result.exitCode !== 0) return failed(withTail(result.exitCode === undefined ? `command was killed by ${result.signal ?? 'a signal'}` : `command exited ${result.exitCode}`));

    let copied = 0;
    for (const [name, path] of Object.entries(options.outputs ?? {})) {
      const target = ctx.outputs[name];
      if (target === undefined) {
        // The job does not produce this artifact (the action declares fewer outputs): nothing to do.
        ctx.log.debug(`output ${name} is not an output artifact of this action; skipped`);
        continue;
      }
      const source = resolve(ctx.workspace, path);
      let kind: 'file' | 'folder';
      try {
        const stats = await stat(source);
        kind = stats.isDirectory() ? 'folder' : 'file';
      } catch {
        return failed(`output ${name}: ${path} does not exist after the command ran`, 'ConfigurationError');
      }
      if (!(await isInside(ctx.workspace, source))) return failed(`output ${name}: ${path} leads outside the job workspace`, 'ConfigurationError');
      if ((await realpath(source)) === (await realpath(target))) continue;
      await mkdir(target, { recursive: true });
      // Symlinks are copied as links (not followed), so a link cannot pull files from outside in.
      if (kind === 'folder') await cp(source, target, { recursive: true, verbatimSymlinks: true, force: true });
      else await cp(source, join(target, basename(source)), { verbatimSymlinks: true });
      copied += 1;
    }
    const outputsNote = copied ? `; ${copied} output${copied === 1 ? '' : 's'} collected` : '';
    return { status: 'succeeded', summary: `command exited 0 in ${formatDuration(result.durationMs)}${outputsNote}` };
  },
});
