// Request-shape checks for CodePipeline operations, worded the way AWS (Coral) words them:
//
//   1 validation error detected: Value 'x y' at 'pipeline.name' failed to satisfy constraint:
//   Member must satisfy regular expression pattern: ^[A-Za-z0-9.@\-_]+$
//
// AWS checks the model constraints (required, length, pattern, range, enum) of the whole request
// first and reports every violation in one ValidationException ("2 validation errors detected:
// A; B"), so `InputCheck` collects them and `done()` throws once. A value of the wrong JSON type
// cannot be deserialized at all; AWS answers that with SerializationException, thrown at once.
//
// Paths use the request's member names; list members are `name.<1-based index>.member` as Coral
// prints them (`tags.1.member.key`), map values are `name.<key>`.
//
// Two ways to use it:
//   const check = new InputCheck();
//   const name = check.requireString(input, 'name', RULES.pipelineName);
//   const version = check.optionalInteger(input, 'version', { min: 1 });
//   check.done();                    // throws ValidationException listing every violation
// or, for a single field, the free functions below throw at once:
//   const jobId = requireUuid(input, 'jobId');

import { AwsError } from '../aws-error.js';
import { ACTION_CATEGORIES, ACTION_OWNERS, RULES, UUID_PATTERN, type ActionCategory, type ActionOwner, type StringRule } from '../../model/limits.js';

export type InputObject = Record<string, unknown>;

export interface IntegerRange {
  readonly min?: number;
  readonly max?: number;
}

export interface ListRange {
  readonly min?: number;
  readonly max?: number;
}

export interface StringCheckOptions {
  /** Sensitive members (secrets, credentials) are reported without their value, as AWS does. */
  readonly sensitive?: boolean;
}

/** The member path of list item `index` (0-based) under `path`: `tags.1.member`. */
export function memberPath(path: string, index: number): string {
  return `${path}.${index + 1}.member`;
}

/** The member name a path reads from its parent object: the last dotted segment. */
function keyOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot === -1 ? path : path.slice(dot + 1);
}

function show(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  return `'${JSON.stringify(value)}'`;
}

/** A SerializationException: the JSON had the wrong type for a member (AWS cannot deserialize it). */
export function serializationError(path: string, expected: string): AwsError {
  return new AwsError('SerializationException', `Expected ${expected} at '${path}'`);
}

/** Collects model-constraint violations of one request; `done()` throws them as one ValidationException. */
export class InputCheck {
  private readonly violations: string[] = [];

  get ok(): boolean {
    return this.violations.length === 0;
  }

  /** Records a violation in AWS words: `Value 'x' at 'path' failed to satisfy constraint: <constraint>`. */
  fail(path: string, value: unknown, constraint: string, options: StringCheckOptions = {}): void {
    const shown = options.sensitive ? 'Value' : `Value ${show(value)}`;
    this.violations.push(`${shown} at '${path}' failed to satisfy constraint: ${constraint}`);
  }

  /** Throws the collected violations as one ValidationException, if there are any. */
  done(): void {
    if (this.violations.length) throw validationException(this.violations);
  }

  private present(object: InputObject, path: string, required: boolean): unknown {
    const value = object[keyOf(path)];
    if (value === undefined || value === null) {
      if (required) this.fail(path, null, 'Member must not be null');
      return undefined;
    }
    return value;
  }

  requireString(object: InputObject, path: string, rule?: StringRule, options?: StringCheckOptions): string | undefined {
    return this.string(object, path, rule, true, options);
  }

  optionalString(object: InputObject, path: string, rule?: StringRule, options?: StringCheckOptions): string | undefined {
    return this.string(object, path, rule, false, options);
  }

  /** Checks a string already read (a list item or map value) against a rule. */
  checkString(value: string, path: string, rule: StringRule | undefined, options?: StringCheckOptions): boolean {
    if (!rule) return true;
    const before = this.violations.length;
    if (value.length < rule.min) this.fail(path, value, `Member must have length greater than or equal to ${rule.min}`, options);
    if (value.length > rule.max) this.fail(path, value, `Member must have length less than or equal to ${rule.max}`, options);
    if (rule.pattern && !rule.pattern.test(value)) this.fail(path, value, `Member must satisfy regular expression pattern: ${rule.pattern.source}`, options);
    return this.violations.length === before;
  }

  private string(object: InputObject, path: string, rule: StringRule | undefined, required: boolean, options?: StringCheckOptions): string | undefined {
    const value = this.present(object, path, required);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw serializationError(path, 'a string');
    return this.checkString(value, path, rule, options) ? value : undefined;
  }

  /** A job id or pipeline execution id: a lower-case UUID. */
  requireUuid(object: InputObject, path: string): string | undefined {
    return this.string(object, path, { min: 1, max: Number.MAX_SAFE_INTEGER, pattern: UUID_PATTERN }, true);
  }

  optionalUuid(object: InputObject, path: string): string | undefined {
    return this.string(object, path, { min: 1, max: Number.MAX_SAFE_INTEGER, pattern: UUID_PATTERN }, false);
  }

  requireEnum<T extends string>(object: InputObject, path: string, values: readonly T[]): T | undefined {
    return this.enumValue(object, path, values, true);
  }

  optionalEnum<T extends string>(object: InputObject, path: string, values: readonly T[]): T | undefined {
    return this.enumValue(object, path, values, false);
  }

  private enumValue<T extends string>(object: InputObject, path: string, values: readonly T[], required: boolean): T | undefined {
    const value = this.present(object, path, required);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw serializationError(path, 'a string');
    if (!(values as readonly string[]).includes(value)) {
      this.fail(path, value, `Member must satisfy enum value set: [${values.join(', ')}]`);
      return undefined;
    }
    return value as T;
  }

  requireInteger(object: InputObject, path: string, range: IntegerRange = {}): number | undefined {
    return this.integer(object, path, range, true);
  }

  optionalInteger(object: InputObject, path: string, range: IntegerRange = {}): number | undefined {
    return this.integer(object, path, range, false);
  }

  private integer(object: InputObject, path: string, range: IntegerRange, required: boolean): number | undefined {
    const value = this.present(object, path, required);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(path, 'an integer');
    const before = this.violations.length;
    if (range.min !== undefined && value < range.min) this.fail(path, value, `Member must have value greater than or equal to ${range.min}`);
    if (range.max !== undefined && value > range.max) this.fail(path, value, `Member must have value less than or equal to ${range.max}`);
    return this.violations.length === before ? value : undefined;
  }

  requireBoolean(object: InputObject, path: string): boolean | undefined {
    return this.boolean(object, path, true);
  }

  optionalBoolean(object: InputObject, path: string): boolean | undefined {
    return this.boolean(object, path, false);
  }

  private boolean(object: InputObject, path: string, required: boolean): boolean | undefined {
    const value = this.present(object, path, required);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw serializationError(path, 'a boolean');
    return value;
  }

  /** A timestamp member: epoch seconds (the SDK sends a number, possibly fractional). Returns ms. */
  optionalTimestamp(object: InputObject, path: string): number | undefined {
    const value = this.present(object, path, false);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw serializationError(path, 'a timestamp (epoch seconds)');
    return Math.round(value * 1000);
  }

  requireObject(object: InputObject, path: string): InputObject | undefined {
    return this.structure(object, path, true);
  }

  optionalObject(object: InputObject, path: string): InputObject | undefined {
    return this.structure(object, path, false);
  }

  private structure(object: InputObject, path: string, required: boolean): InputObject | undefined {
    const value = this.present(object, path, required);
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw serializationError(path, 'an object');
    return value as InputObject;
  }

  requireList(object: InputObject, path: string, range: ListRange = {}): unknown[] | undefined {
    return this.list(object, path, range, true);
  }

  optionalList(object: InputObject, path: string, range: ListRange = {}): unknown[] | undefined {
    return this.list(object, path, range, false);
  }

  private list(object: InputObject, path: string, range: ListRange, required: boolean): unknown[] | undefined {
    const value = this.present(object, path, required);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw serializationError(path, 'a list');
    const before = this.violations.length;
    if (range.min !== undefined && value.length < range.min) this.fail(path, value, `Member must have length greater than or equal to ${range.min}`);
    if (range.max !== undefined && value.length > range.max) this.fail(path, value, `Member must have length less than or equal to ${range.max}`);
    return this.violations.length === before ? value : undefined;
  }

  /** Each item of a list that must be a structure, with its member path. Non-objects are a SerializationException. */
  objectItems(list: readonly unknown[] | undefined, path: string): { readonly item: InputObject; readonly path: string; readonly index: number }[] {
    return (list ?? []).map((item, index) => {
      const itemPath = memberPath(path, index);
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw serializationError(itemPath, 'an object');
      return { item: item as InputObject, path: itemPath, index };
    });
  }

  /** A list of strings, each checked against `rule`. */
  optionalStringList(object: InputObject, path: string, rule?: StringRule, range: ListRange = {}): string[] | undefined {
    return this.stringList(object, path, rule, range, false);
  }

  requireStringList(object: InputObject, path: string, rule?: StringRule, range: ListRange = {}): string[] | undefined {
    return this.stringList(object, path, rule, range, true);
  }

  private stringList(object: InputObject, path: string, rule: StringRule | undefined, range: ListRange, required: boolean): string[] | undefined {
    const list = this.list(object, path, range, required);
    if (!list) return undefined;
    list.forEach((item, index) => {
      if (typeof item !== 'string') throw serializationError(memberPath(path, index), 'a string');
      this.checkString(item, memberPath(path, index), rule);
    });
    return list as string[];
  }

  /** A map of string to string (configuration, queryParam, outputVariables), keys and values checked. */
  optionalStringMap(object: InputObject, path: string, keyRule?: StringRule, valueRule?: StringRule, options: StringCheckOptions = {}): Record<string, string> | undefined {
    const map = this.structure(object, path, false);
    if (!map) return undefined;
    for (const [key, value] of Object.entries(map)) {
      if (typeof value !== 'string') throw serializationError(`${path}.${key}`, 'a string');
      this.checkString(key, `${path}`, keyRule);
      this.checkString(value, `${path}.${key}`, valueRule, options);
    }
    return map as Record<string, string>;
  }
}

/** Builds the ValidationException AWS returns for a list of violation sentences. */
export function validationException(violations: readonly string[]): AwsError {
  const count = violations.length;
  return new AwsError('ValidationException', `${count} validation error${count === 1 ? '' : 's'} detected: ${violations.join('; ')}`);
}

function once<T>(read: (check: InputCheck) => T): T {
  const check = new InputCheck();
  const value = read(check);
  check.done();
  return value;
}

// Single-field forms: throw a ValidationException at once. Required ones return a definite value.

export function requireString(input: InputObject, path: string, rule?: StringRule, options?: StringCheckOptions): string {
  return once((check) => check.requireString(input, path, rule, options)) as string;
}

export function optionalString(input: InputObject, path: string, rule?: StringRule, options?: StringCheckOptions): string | undefined {
  return once((check) => check.optionalString(input, path, rule, options));
}

export function requireUuid(input: InputObject, path: string): string {
  return once((check) => check.requireUuid(input, path)) as string;
}

export function requireEnum<T extends string>(input: InputObject, path: string, values: readonly T[]): T {
  return once((check) => check.requireEnum(input, path, values)) as T;
}

export function optionalEnum<T extends string>(input: InputObject, path: string, values: readonly T[]): T | undefined {
  return once((check) => check.optionalEnum(input, path, values));
}

export function requireInteger(input: InputObject, path: string, range?: IntegerRange): number {
  return once((check) => check.requireInteger(input, path, range)) as number;
}

export function optionalInteger(input: InputObject, path: string, range?: IntegerRange): number | undefined {
  return once((check) => check.optionalInteger(input, path, range));
}

export function optionalBoolean(input: InputObject, path: string): boolean | undefined {
  return once((check) => check.optionalBoolean(input, path));
}

export function requireObject(input: InputObject, path: string): InputObject {
  return once((check) => check.requireObject(input, path)) as InputObject;
}

export function optionalObject(input: InputObject, path: string): InputObject | undefined {
  return once((check) => check.optionalObject(input, path));
}

/** Reads an ActionTypeId structure (all four members required), e.g. PollForJobs' `actionTypeId`. */
export function checkActionTypeId(
  check: InputCheck,
  object: InputObject,
  path: string,
  required = true,
): { category: ActionCategory; owner: ActionOwner; provider: string; version: string } | undefined {
  const id = required ? check.requireObject(object, path) : check.optionalObject(object, path);
  if (!id) return undefined;
  const category = check.requireEnum(id, `${path}.category`, ACTION_CATEGORIES);
  const owner = check.requireEnum(id, `${path}.owner`, ACTION_OWNERS);
  const provider = check.requireString(id, `${path}.provider`, RULES.provider);
  const version = check.requireString(id, `${path}.version`, RULES.version);
  if (!category || !owner || provider === undefined || version === undefined) return undefined;
  return { category, owner, provider, version };
}
