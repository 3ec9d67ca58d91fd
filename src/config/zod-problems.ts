import type { z } from 'zod';
import { closestMatch } from '../util/suggest.js';
import { describeType, showValue, type Problem } from './problems.js';
import type { PathSegment, YamlSource } from './yaml-source.js';

/** Where a schema issue was found and the keys that would have been valid there. */
export interface KnownKeys {
  (path: readonly PathSegment[]): readonly string[];
}

/** Turns schema issues into problems with positions, the offending value and a hint. Pure. */
export function problemsFromIssues(source: YamlSource, issues: readonly z.core.$ZodIssue[], knownKeys: KnownKeys): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) problems.push(...fromIssue(source, issue, issue.path as PathSegment[], knownKeys));
  return problems;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let node = data;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/** The name a message uses for the field at `path`: `provider`, `actionTypes[2]`, `configuration.Token`. */
export function fieldName(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'the file';
  const last = path[path.length - 1] as PathSegment;
  if (typeof last === 'number') {
    const parent = path[path.length - 2];
    return `${parent === undefined ? '' : String(parent)}[${last}]`;
  }
  const parent = path[path.length - 2];
  // Keys of free-form maps (configuration, tags, options) read better with their map's name.
  if (parent === 'configuration' || parent === 'tags' || parent === 'options') return `${parent}.${last}`;
  return last;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

function fromIssue(source: YamlSource, issue: z.core.$ZodIssue, path: PathSegment[], knownKeys: KnownKeys): Problem[] {
  const at = (p: readonly PathSegment[], target: 'value' | 'key' = 'value') => ({ file: source.file, ...source.locate(p, target) });
  const value = valueAt(source.data, path);
  const field = fieldName(path);

  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const candidates = knownKeys(path);
        const match = closestMatch(key, candidates);
        return {
          severity: 'error',
          code: 'schema.unknown-key',
          ...at([...path, key], 'key'),
          message: `unknown key "${key}"${path.length ? ` in ${fieldName(path)}` : ''}${match ? ` (did you mean "${match}"?)` : ''}`,
          hint: match ? `rename it to "${match}"` : `remove it; allowed here: ${candidates.join(', ')}`,
        } satisfies Problem;
      });

    case 'invalid_type': {
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (value === undefined) {
        return [{ severity: 'error', code: 'schema.missing', ...at(path.slice(0, -1)), message: `${field} is required in ${fieldName(path.slice(0, -1))}`, hint: `add ${String(path[path.length - 1])}: <${expected}>` }];
      }
      const hint =
        issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')
          ? `quote it: "${String(value)}"`
          : `write ${field} as ${expected}`;
      return [{ severity: 'error', code: 'schema.type', ...at(path), message: `${field} must be ${expected}, got ${describeType(value)}`, hint }];
    }

    case 'invalid_value': {
      const options = issue.values.map(String);
      const match = typeof value === 'string' ? closestMatch(value, options) : undefined;
      return [
        {
          severity: 'error',
          code: 'schema.enum',
          ...at(path),
          message: `${field} ${showValue(value)} is not one of ${options.join(', ')}${match ? ` (did you mean "${match}"?)` : ''}`,
          hint: match ? `write ${match}` : `use one of ${options.join(', ')}`,
        },
      ];
    }

    case 'invalid_union': {
      // Report the branch that got furthest: the one whose failures are not just "wrong type here".
      const branches = issue.errors.filter((branch) => branch.some((inner) => !(inner.code === 'invalid_type' && inner.path.length === 0)));
      if (branches.length === 1) {
        return (branches[0] as z.core.$ZodIssue[]).flatMap((inner) => fromIssue(source, inner, [...path, ...(inner.path as PathSegment[])], knownKeys));
      }
      const expected = issue.errors
        .map((branch) => branch[0])
        .filter((inner): inner is z.core.$ZodIssue => inner?.code === 'invalid_type')
        .map((inner) => TYPE_WORDS[(inner as z.core.$ZodIssueInvalidType).expected] ?? (inner as z.core.$ZodIssueInvalidType).expected);
      return [
        {
          severity: 'error',
          code: 'schema.type',
          ...at(path),
          message: `${field} must be ${expected.length ? expected.join(' or ') : 'a different kind of value'}, got ${describeType(value)}`,
          hint: typeof value === 'number' && !Number.isInteger(value) ? `quote it: "${String(value)}"` : undefined,
        },
      ];
    }

    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'not_multiple_of':
    case 'custom': {
      const shown = Array.isArray(value) ? `has ${value.length} item${value.length === 1 ? '' : 's'}; it` : typeof value === 'object' ? '' : showValue(value);
      const message = issue.message.startsWith('Too ') || issue.message.startsWith('Invalid') ? genericLimit(issue) : issue.message;
      return [{ severity: 'error', code: `schema.${issue.code.replace(/_/g, '-')}`, ...at(path), message: `${field} ${shown ? `${shown} ` : ''}${message}`.replace(/\s+/g, ' ') }];
    }

    default:
      return [{ severity: 'error', code: 'schema.invalid', ...at(path), message: `${field}: ${issue.message}` }];
  }
}

function genericLimit(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_small') return `must be at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `must be at most ${String(issue.maximum)}`;
  return issue.message.toLowerCase();
}
