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
  for (const issue of withoutEchoes(source.data, issues)) problems.push(...fromIssue(source, issue, issue.path as PathSegment[], knownKeys));
  return problems;
}

/** An empty text fails both "must not be empty" and its pattern; saying it once is enough. */
function withoutEchoes(data: unknown, issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.filter((issue) => {
    if (issue.code !== 'invalid_format' || valueAt(data, issue.path as PathSegment[]) !== '') return true;
    const key = JSON.stringify(issue.path);
    return !issues.some((other) => other.code === 'too_small' && JSON.stringify(other.path) === key);
  });
}

/** Hints for fields whose rule is not a plain length or character set. */
const FIELD_HINTS: Record<string, string> = {
  tagPrefix: 'choose a prefix of your own, such as the default "cpsync:" or "acme-cpsync:"; AWS reserves keys starting with "aws:"',
  endpointUrl: 'write a full http(s) URL, e.g. http://127.0.0.1:4599 for a `cpsync local` endpoint',
  roleArn: 'give the ARN of an IAM role, e.g. arn:aws:iam::123456789012:role/cpsync-deployer',
  grace: 'write a number of seconds, or text such as 500ms, 5s, 2m or 1h',
  min: 'write a number of seconds, or text such as 500ms, 5s, 2m or 1h',
  max: 'write a number of seconds, or text such as 500ms, 5s, 2m or 1h',
  minimumCount: 'artifact counts are whole numbers from 0 to 5',
  maximumCount: 'artifact counts are whole numbers from 0 to 5',
  runOrder: 'runOrder is a whole number from 1 to 999; actions with the same runOrder run in parallel',
  configurationProperties: 'merge related settings into one property, or move options into the executor section',
  concurrency: 'give the number of jobs a worker runs at once, from 1 to 256',
  tokenKey: 'use a long random key, given as ${env:NAME} so it stays out of Git',
};

/** Text fields that must be present, where "remove the key" would be bad advice. */
const REQUIRED_TEXT = new Set(['name', 'provider', 'version', 'plugin', 'stage', 'action']);

/** Hints for keys that look plausible but do not belong where they are. */
const UNKNOWN_KEY_HINTS: Record<string, string> = {
  owner: 'remove it: CodePipeline always gives custom action types the owner Custom (use actionTypeId in pipeline files for AWS-owned types)',
  timeoutInMinutes: 'remove it: AWS only allows timeoutInMinutes on manual approval actions',
};

/** A close or prefix match among the allowed keys: "entityUrl" suggests "entityUrlTemplate". */
function suggestKey(key: string, candidates: readonly string[]): string | undefined {
  const close = closestMatch(key, candidates);
  if (close) return close;
  if (key.length < 4) return undefined;
  const lowered = key.toLowerCase();
  const prefixed = candidates.filter((candidate) => candidate.toLowerCase().startsWith(lowered) || lowered.startsWith(candidate.toLowerCase()));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** The value with every character the pattern rejects replaced, as an example of a valid one. */
function repairedExample(value: unknown, pattern: string | undefined): string | undefined {
  if (typeof value !== 'string' || !pattern || !value.length) return undefined;
  let whole: RegExp;
  try {
    // Zod gives the pattern as a regex literal: /^[...]+$/flags.
    const literal = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
    whole = literal ? new RegExp(literal[1] ?? '', literal[2]) : new RegExp(pattern);
  } catch {
    return undefined;
  }
  const filler = whole.test('-') ? '-' : whole.test('_') ? '_' : '';
  const repaired = [...value].map((char) => (whole.test(char) ? char : filler)).join('').replace(/([-_])\1+/g, '$1').replace(/^[-_]+|[-_]+$/g, '');
  return repaired && repaired !== value && whole.test(repaired) ? repaired : undefined;
}

function limitHint(issue: z.core.$ZodIssue, value: unknown, field: string): string | undefined {
  const last = String(issue.path[issue.path.length - 1] ?? '');
  if (FIELD_HINTS[last] && !(last === 'roleArn' && issue.code !== 'invalid_format')) return FIELD_HINTS[last];
  if (issue.code === 'too_big') {
    const max = String(issue.maximum);
    if (issue.origin === 'string') return `shorten it to at most ${max} characters`;
    if (issue.origin === 'array') return `remove items until at most ${max} remain`;
    return `use a value of at most ${max}`;
  }
  if (issue.code === 'too_small') {
    const min = String(issue.minimum);
    if (issue.origin === 'string') {
      if (Number(issue.minimum) > 1) return `make it at least ${min} characters long`;
      return REQUIRED_TEXT.has(last) ? `give ${field} a value` : `give ${field} a value, or remove the key`;
    }
    if (issue.origin === 'array') return `list at least ${min} item${min === '1' ? '' : 's'}`;
    return `use a value of at least ${min}`;
  }
  if (issue.code === 'invalid_format') {
    if (issue.format === 'url') return 'write a full URL including the scheme, e.g. https://example.com/';
    const example = repairedExample(value, issue.format === 'regex' ? (issue as z.core.$ZodIssueInvalidStringFormat).pattern : undefined);
    return example ? `use only the allowed characters, e.g. ${JSON.stringify(example)}` : 'use only the allowed characters';
  }
  return undefined;
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
        const match = suggestKey(key, candidates);
        return {
          severity: 'error',
          code: 'schema.unknown-key',
          ...at([...path, key], 'key'),
          message: `unknown key "${key}"${path.length ? ` in ${fieldName(path)}` : ''}${match ? ` (did you mean "${match}"?)` : ''}`,
          hint: match ? `rename it to "${match}"` : (UNKNOWN_KEY_HINTS[key] ?? `remove it; allowed here: ${candidates.join(', ')}`),
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
          : issue.expected === 'string' && Array.isArray(value) && value.every((item) => typeof item !== 'object')
            ? `${field} takes one text; join the items, e.g. "${value.map(String).join(', ')}"`
          : issue.expected === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
            ? `remove the quotes: ${value.trim()}`
            : issue.expected === 'boolean' && typeof value === 'string'
              ? 'write true or false, without quotes'
              : Array.isArray(value) && issue.expected === 'object'
                ? `write ${field} as a mapping (key: value lines), not a list (- items)`
                : issue.expected === 'array' && value !== null && typeof value === 'object'
                  ? `write ${field} as a list: put "- " before each item`
                  : issue.expected === 'array'
                    ? `write ${field} as a list, e.g. [${typeof value === 'string' ? value : '...'}]`
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
      if (value === undefined && path.length) {
        return [{ severity: 'error', code: 'schema.missing', ...at(path.slice(0, -1)), message: `${field} is required in ${fieldName(path.slice(0, -1))}`, hint: `add ${String(path[path.length - 1])}: <value>` }];
      }
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
          hint: typeof value === 'number' && !Number.isInteger(value) ? `quote it: "${String(value)}"` : `write ${field} as ${expected.length ? expected.join(' or ') : 'described in the schema'}`,
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
      const hint = limitHint(issue, value, field);
      return [{ severity: 'error', code: `schema.${issue.code.replace(/_/g, '-')}`, ...at(path), message: `${field} ${shown ? `${shown} ` : ''}${message}`.replace(/\s+/g, ' '), ...(hint ? { hint } : {}) }];
    }

    default:
      return [{ severity: 'error', code: 'schema.invalid', ...at(path), message: `${field}: ${issue.message}`, hint: 'see the JSON Schema in schemas/ for what this field takes' }];
  }
}

function genericLimit(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_small') return `must be at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `must be at most ${String(issue.maximum)}`;
  return issue.message.toLowerCase();
}
