// Building blocks the bundled plugins share for their executor options: `{Config:Name}`
// placeholders, paths inside the job workspace, durations, output artifact names. Pure.
//
// Bundled plugins import only the plugin contract and this folder, never the worker itself: they
// ship as TypeScript and are loaded through tsx, independent of the compiled worker.

import { isAbsolute } from 'node:path';
import { z } from 'zod';

export const PLACEHOLDER = /\{Config:([^}]*)\}/g;

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

/** True when `text` holds at least one `{Config:Name}` placeholder. */
export function hasPlaceholder(text: string): boolean {
  return text.search(PLACEHOLDER) !== -1;
}

/** Text that may hold `{Config:Name}` placeholders; a malformed one is refused up front. */
export const templated = z.string({ error: 'must be text' }).superRefine((value, context) => {
  for (const match of value.matchAll(PLACEHOLDER)) {
    if (!match[1]?.trim()) context.addIssue({ code: 'custom', message: `${JSON.stringify(match[0])} names no configuration property` });
  }
});

/** A command as an argv list from actions.yaml, the program first; arguments may hold placeholders. */
export const argvSchema = z
  .array(templated, { error: 'must be a list of arguments, the program first' })
  .min(1, { error: 'must name at least the program' })
  .refine((argv) => argv[0] !== undefined && argv[0].trim() !== '', { error: 'the program (first item) must not be empty' });

/** A path inside the job workspace: relative, without `..`. */
export const workspacePath = z
  .string({ error: 'must be text' })
  .min(1, { error: 'must not be empty' })
  .refine((path) => !isAbsolute(path) && !path.split(/[\\/]/).includes('..'), { error: 'must be a path inside the job workspace (relative, no "..")' });

export const duration = z.union([z.number().positive(), z.string()], { error: 'must be a duration such as 30s, 20m or 1h' }).transform((value, context) => {
  const ms = parseDuration(value);
  if (ms !== undefined) return ms;
  context.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a duration (write e.g. 30s, 20m or 1h)` });
  return z.NEVER;
});

/** CodePipeline's artifact name rule. */
export const artifactName = z.string().regex(/^[a-zA-Z0-9_-]{1,100}$/, { error: 'output artifact names may only contain letters, digits, - and _' });

export const environmentName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'environment variable names may only contain letters, digits and _' });

/** The action configuration as CodePipeline sends it: text values by property name. */
export const textConfigurationSchema = z.record(z.string(), z.string());

/** Fills `{Config:Name}` placeholders inside one string; names without a value are collected.
 *  `escapeValue` transforms each value taken from the configuration (not the text around it), for
 *  tools that would otherwise interpret it (make expands `$`). */
export function fillPlaceholders(text: string, config: Readonly<Record<string, string>>, missing: Set<string>, escapeValue: (value: string) => string = (value) => value): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = Object.hasOwn(config, name) ? config[name] : undefined;
    if (value === undefined) {
      missing.add(name);
      return whole;
    }
    return escapeValue(value);
  });
}

/** An argv list and environment from executor options, with `{Config:Name}` filled in; names
 *  the action configuration lacks are collected in `missing`. */
export function fillCommand(
  options: { readonly argv: readonly string[]; readonly env?: Readonly<Record<string, string>> },
  config: Readonly<Record<string, string>>,
): { argv: string[]; env: Record<string, string> | undefined; missing: Set<string> } {
  const missing = new Set<string>();
  const argv = options.argv.map((part) => fillPlaceholders(part, config, missing));
  const env = options.env ? Object.fromEntries(Object.entries(options.env).map(([name, value]) => [name, fillPlaceholders(value, config, missing)])) : undefined;
  return { argv, env, missing };
}

/** The failure message for placeholders the configuration has no value for. */
export function describeMissingPlaceholders(missing: ReadonlySet<string>): string {
  const names = [...missing].map((name) => `{Config:${name}}`).join(', ');
  return `executor options use ${names}, but the action's configuration has no such value`;
}
