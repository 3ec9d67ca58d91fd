import { parseDuration } from '../util/duration.js';
import { CpsyncError } from '../util/errors.js';
import { closestMatch } from '../util/suggest.js';
import type { FlagSpec, ParsedArgs, PositionalSpec } from './spec.js';

/**
 * Parses argv against a command's flags. Pure. Accepts `--flag value`, `--flag=value`, `-x value`,
 * `--no-<boolean>` and `--` (everything after it is positional). Unknown flags are an error that
 * names the closest known flag.
 */
export function parseArgs(
  argv: readonly string[],
  flags: readonly FlagSpec[],
  positionals: readonly PositionalSpec[] = [],
  commandName = 'cpsync',
): ParsedArgs {
  // A command's own flag wins over a global flag of the same name (it comes first in `flags`).
  const byName = new Map<string, FlagSpec>();
  for (const flag of flags) if (!byName.has(flag.name)) byName.set(flag.name, flag);
  const byShort = new Map(flags.filter((flag) => flag.short).map((flag) => [flag.short as string, flag]));
  const values: Record<string, string | boolean | string[] | undefined> = {};
  const rest: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      rest.push(arg);
      continue;
    }

    let flag: FlagSpec | undefined;
    let inline: string | undefined;
    let negated = false;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      flag = byName.get(name);
      if (!flag && name.startsWith('no-')) {
        const positive = byName.get(name.slice(3));
        if (positive?.type === 'boolean') {
          flag = positive;
          negated = true;
        }
      }
      if (!flag) throw unknownFlag(`--${name}`, flags, commandName);
    } else {
      const short = arg.slice(1, 2);
      flag = byShort.get(short);
      if (!flag) throw unknownFlag(arg, flags, commandName);
      if (arg.length > 2) inline = arg.slice(2);
    }

    if (flag.type === 'boolean') {
      if (inline !== undefined) {
        if (inline !== 'true' && inline !== 'false') {
          throw new CpsyncError('cli.bad-flag-value', `--${flag.name} takes no value, got "${inline}"`, {
            hint: `write --${flag.name} or --no-${flag.name}`,
          });
        }
        values[flag.name] = inline === 'true';
      } else {
        values[flag.name] = !negated;
      }
      continue;
    }

    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) {
        throw new CpsyncError('cli.missing-flag-value', `--${flag.name} needs a value`, {
          hint: `write --${flag.name} ${flag.valueName ?? 'VALUE'}; see \`${commandName} --help\``,
        });
      }
      value = next;
      i++;
    }
    if (flag.multiple) {
      const list = (values[flag.name] as string[] | undefined) ?? [];
      list.push(value);
      values[flag.name] = list;
    } else {
      values[flag.name] = value;
    }
  }

  const maxPositionals = positionals.length;
  if (rest.length > maxPositionals) {
    const extra = rest[maxPositionals] as string;
    throw new CpsyncError('cli.unexpected-argument', `unexpected argument "${extra}"`, {
      hint: `see \`${commandName} --help\` for what this command takes`,
    });
  }
  return { flags: values, positionals: rest };
}

function unknownFlag(given: string, flags: readonly FlagSpec[], commandName: string): CpsyncError {
  const names = flags.map((flag) => `--${flag.name}`);
  const match = closestMatch(given, names);
  return new CpsyncError(
    'cli.unknown-flag',
    `unknown flag ${given}${match ? ` (did you mean ${match}?)` : ''}; see \`${commandName} --help\``,
  );
}

/** Reads a string flag that must be a whole number within bounds. Pure. */
export function integerFlag(args: ParsedArgs, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = args.flags[name];
  if (raw === undefined) return fallback;
  const text = String(raw);
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CpsyncError('cli.bad-flag-value', `--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return Number(text);
}

/** Reads a duration flag (500ms, 30s, 15m, 1h) in milliseconds. */
export function durationFlag(args: ParsedArgs, name: string, fallback: number): number {
  const text = stringFlag(args, name);
  if (text === undefined) return fallback;
  try {
    return parseDuration(text);
  } catch {
    throw new CpsyncError('cli.bad-flag-value', `--${name} must be a duration such as 500ms, 30s, 15m or 1h, got "${text}"`, { hint: `write e.g. --${name} 30s` });
  }
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const raw = args.flags[name];
  return typeof raw === 'string' ? raw : undefined;
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true;
}
