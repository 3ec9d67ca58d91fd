// A problem found in a user's files. Validation collects all of them before reporting, so a user
// fixes everything in one round instead of one error per run.

export type Severity = 'error' | 'warning';

export interface Problem {
  readonly severity: Severity;
  readonly code: string;
  /** Path relative to the working directory, as the user would type it. */
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  /** One line: the field, the offending value and what is wrong with it. */
  readonly message: string;
  /** What to do about it. */
  readonly hint?: string;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((problem) => problem.severity === 'error');
}

/** Orders problems by file, then position, so output is stable and reads top to bottom. Pure. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      a.message.localeCompare(b.message),
  );
}

/** Quotes a value the way messages show it: strings in double quotes, cut when very long. Pure. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return JSON.stringify(cut);
  }
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** Describes a YAML value's type in words. Pure. */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${showValue(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  return typeof value;
}
