// One error base for everything cpsync reports to a person. `code` is stable (docs and tests key on
// it), `message` is one line naming the offending value, `hint` says what to do next. `who` tells
// the entry point whose move it is, which decides the exit code and whether a stack trace helps.

export type ErrorOwner = 'user' | 'plugin' | 'aws' | 'bug';

export interface CpsyncErrorOptions {
  readonly hint?: string;
  readonly who?: ErrorOwner;
  readonly cause?: unknown;
}

export class CpsyncError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly who: ErrorOwner;

  constructor(code: string, message: string, options: CpsyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CpsyncError';
    this.code = code;
    this.hint = options.hint;
    this.who = options.who ?? 'user';
  }
}

export function isCpsyncError(error: unknown): error is CpsyncError {
  return error instanceof CpsyncError;
}

/** A short, single-line description of any thrown value, for places that must not print stacks. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}
