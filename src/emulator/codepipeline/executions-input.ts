// Request-shape checks for the execution and job operations. They collect every violation and
// answer with one ValidationException worded the way AWS words them ("1 validation error detected:
// Value 'x' at 'jobId' failed to satisfy constraint: ..."), so SDK users see familiar text.
// Pure apart from throwing.

import { validation } from '../aws-error.js';
import type { StringRule } from '../../model/limits.js';

export class InputReader {
  private readonly problems: string[] = [];

  constructor(private readonly input: Record<string, unknown>) {}

  string(field: string, rule: StringRule, required: true): string;
  string(field: string, rule: StringRule, required?: false): string | undefined;
  string(field: string, rule: StringRule, required = false): string | undefined {
    return this.stringAt(field, this.input[field], rule, required);
  }

  /** Checks a string found somewhere inside the request; `path` names it as AWS does (`a.b`). */
  stringAt(path: string, value: unknown, rule: StringRule, required = false): string | undefined {
    if (value === undefined || value === null) {
      if (required) this.problems.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (typeof value !== 'string') {
      this.problems.push(`Value at '${path}' failed to satisfy constraint: Member must be a string`);
      return undefined;
    }
    const before = this.problems.length;
    if (value.length < rule.min || value.length > rule.max) {
      this.problems.push(
        `Value '${shorten(value)}' at '${path}' failed to satisfy constraint: Member must have length ${value.length < rule.min ? 'greater than or equal to ' + rule.min : 'less than or equal to ' + rule.max}`,
      );
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      this.problems.push(`Value '${shorten(value)}' at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${rule.pattern.source}`);
    }
    return this.problems.length === before ? value : undefined;
  }

  integer(field: string, range: { min: number; max?: number }, required = false): number | undefined {
    return this.integerAt(field, this.input[field], range, required);
  }

  integerAt(path: string, value: unknown, range: { min: number; max?: number }, required = false): number | undefined {
    if (value === undefined || value === null) {
      if (required) this.problems.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.problems.push(`Value at '${path}' failed to satisfy constraint: Member must be an integer`);
      return undefined;
    }
    if (value < range.min) {
      this.problems.push(`Value '${value}' at '${path}' failed to satisfy constraint: Member must have value greater than or equal to ${range.min}`);
      return undefined;
    }
    if (range.max !== undefined && value > range.max) {
      this.problems.push(`Value '${value}' at '${path}' failed to satisfy constraint: Member must have value less than or equal to ${range.max}`);
      return undefined;
    }
    return value;
  }

  boolean(field: string): boolean | undefined {
    const value = this.input[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.problems.push(`Value at '${field}' failed to satisfy constraint: Member must be a boolean`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[], required = false): T | undefined {
    if (value === undefined || value === null) {
      if (required) this.problems.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.problems.push(`Value '${shorten(String(value))}' at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`);
      return undefined;
    }
    return value as T;
  }

  object(path: string, value: unknown, required = false): Record<string, unknown> | undefined {
    if (value === undefined || value === null) {
      if (required) this.problems.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problems.push(`Value at '${path}' failed to satisfy constraint: Member must be a structure`);
      return undefined;
    }
    return value as Record<string, unknown>;
  }

  list(path: string, value: unknown, range: { min: number; max: number }): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.problems.push(`Value at '${path}' failed to satisfy constraint: Member must be a list`);
      return undefined;
    }
    if (value.length < range.min || value.length > range.max) {
      this.problems.push(
        `Value at '${path}' failed to satisfy constraint: Member must have length ${value.length < range.min ? 'greater than or equal to ' + range.min : 'less than or equal to ' + range.max}`,
      );
      return undefined;
    }
    return value;
  }

  /** A map of strings to strings (outputVariables, queryParam). */
  stringMap(path: string, value: unknown, keyRule: StringRule, valueRule: StringRule | undefined, maxEntries?: number): Record<string, string> | undefined {
    const map = this.object(path, value);
    if (!map) return undefined;
    const entries = Object.entries(map);
    if (maxEntries !== undefined && entries.length > maxEntries) {
      this.problems.push(`Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${maxEntries}`);
      return undefined;
    }
    const result: Record<string, string> = {};
    for (const [key, entry] of entries) {
      const checkedKey = this.stringAt(`${path}.key`, key, keyRule, true);
      const checkedValue = valueRule ? this.stringAt(`${path}.${key}.member`, entry, valueRule, true) : typeof entry === 'string' ? entry : this.fail(`${path}.${key}`);
      if (checkedKey !== undefined && checkedValue !== undefined) result[checkedKey] = checkedValue;
    }
    return result;
  }

  /** Adds a problem written by the caller. */
  add(problem: string): void {
    this.problems.push(problem);
  }

  /** Throws one ValidationException listing every problem found so far. */
  done(): void {
    if (!this.problems.length) return;
    const count = this.problems.length;
    throw validation(`${count} validation error${count === 1 ? '' : 's'} detected: ${this.problems.join('; ')}`);
  }

  private fail(path: string): undefined {
    this.problems.push(`Value at '${path}' failed to satisfy constraint: Member must be a string`);
    return undefined;
  }
}

function shorten(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}...` : value;
}
