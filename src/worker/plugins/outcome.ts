// What a plugin's `execute` may return, checked at the boundary (a plugin is third-party code), and
// the CodePipeline API's size limits applied to it. Pure.

import { z } from 'zod';
import { FAILURE_TYPES, QUOTAS, RULES, type FailureType } from '../../model/limits.js';
import type { JobOutcome } from '../../plugin.js';

/** A plugin's outcome after the host has checked it: a failure always carries its type. */
export type SettledOutcome =
  | Extract<JobOutcome, { status: 'succeeded' | 'in-progress' }>
  | {
      readonly status: 'failed';
      readonly message: string;
      readonly failureType: FailureType;
      readonly externalExecutionId?: string;
    };

const text = z.string({ error: 'must be text' });

const outcomeSchema = z.discriminatedUnion(
  'status',
  [
    z.strictObject({
      status: z.literal('succeeded'),
      summary: text.optional(),
      outputVariables: z.record(z.string(), text).optional(),
      externalExecutionId: text.optional(),
    }),
    z.strictObject({
      status: z.literal('failed'),
      message: text.min(1, { error: 'must not be empty' }),
      failureType: z.enum(FAILURE_TYPES, { error: `must be one of ${FAILURE_TYPES.join(', ')}` }).optional(),
      externalExecutionId: text.optional(),
    }),
    z.strictObject({
      status: z.literal('in-progress'),
      state: z.unknown(),
      summary: text.optional(),
      percentComplete: z
        .number({ error: 'must be a number' })
        .min(QUOTAS.percentMin, { error: `must be from ${QUOTAS.percentMin} to ${QUOTAS.percentMax}` })
        .max(QUOTAS.percentMax, { error: `must be from ${QUOTAS.percentMin} to ${QUOTAS.percentMax}` })
        .optional(),
      externalExecutionId: text.optional(),
    }),
  ],
  { error: 'status must be "succeeded", "failed" or "in-progress"' },
);

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
  return path ? `${path.slice(1)} ${issue.message}` : issue.message;
}

/** Checks a value returned by `execute`; returns what is wrong in words, or the outcome. */
export function validateOutcome(value: unknown): { readonly ok: true; readonly outcome: JobOutcome } | { readonly ok: false; readonly problem: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: `expected an object with a status, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` };
  }
  if (!('status' in value)) return { ok: false, problem: 'status is missing' };
  if (value.status === 'in-progress' && !('state' in value)) return { ok: false, problem: 'state is missing (an in-progress result carries the state for the next hop)' };
  const parsed = outcomeSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map(describeIssue).join('; ') };
  const outcome = parsed.data as JobOutcome;
  if (outcome.status === 'in-progress') {
    const problem = checkSerializable(outcome.state);
    if (problem) return { ok: false, problem: `state ${problem}` };
  }
  if (outcome.status === 'succeeded' && outcome.outputVariables) {
    const badName = Object.keys(outcome.outputVariables).find((key) => !RULES.outputVariableKey.pattern.test(key));
    if (badName !== undefined) return { ok: false, problem: `output variable ${JSON.stringify(badName)}: names may only contain letters, digits, @, - and _` };
    const bytes = Object.entries(outcome.outputVariables).reduce((sum, [key, val]) => sum + Buffer.byteLength(key) + Buffer.byteLength(val), 0);
    if (bytes > QUOTAS.outputVariablesBytes) return { ok: false, problem: `outputVariables take ${bytes} bytes; CodePipeline allows ${QUOTAS.outputVariablesBytes}` };
  }
  return { ok: true, outcome };
}

function checkSerializable(state: unknown): string | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(state, (_key, value: unknown) => {
      if (typeof value === 'function' || typeof value === 'symbol') throw new TypeError(`holds a ${typeof value}`);
      if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`holds ${String(value)}`);
      return value;
    });
  } catch (error) {
    return `does not serialize to JSON: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
  if (json === undefined) return 'is missing (it must serialize to JSON)';
  return undefined;
}

/** The first `max` characters, with an ellipsis when cut. */
export function truncateHead(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** The last `max` characters, with an ellipsis when cut: tool errors are at the end. */
export function truncateTail(value: string, max: number): string {
  return value.length <= max ? value : `…${value.slice(value.length - (max - 1))}`;
}

/** The outcome cut to what the API accepts: summary ≤ 2048, message ≤ 5000 (keeping the tail),
 *  externalExecutionId ≤ 1500, a whole percentage; empty summaries dropped (the API wants ≥ 1). */
export function fitOutcomeToApiLimits(outcome: JobOutcome, defaultFailureType: FailureType = 'JobFailed'): SettledOutcome {
  const externalExecutionId = outcome.externalExecutionId ? truncateHead(outcome.externalExecutionId, RULES.externalExecutionId.max) : undefined;
  const summary = 'summary' in outcome && outcome.summary ? truncateHead(outcome.summary, RULES.executionSummary.max) : undefined;
  switch (outcome.status) {
    case 'succeeded':
      return {
        status: 'succeeded',
        ...(summary && { summary }),
        ...(outcome.outputVariables && { outputVariables: outcome.outputVariables }),
        ...(externalExecutionId && { externalExecutionId }),
      };
    case 'failed':
      return {
        status: 'failed',
        message: truncateTail(outcome.message, RULES.failureMessage.max),
        failureType: outcome.failureType ?? defaultFailureType,
        ...(externalExecutionId && { externalExecutionId }),
      };
    case 'in-progress':
      return {
        status: 'in-progress',
        state: outcome.state,
        ...(summary && { summary }),
        ...(outcome.percentComplete !== undefined && { percentComplete: Math.round(outcome.percentComplete) }),
        ...(externalExecutionId && { externalExecutionId }),
      };
  }
}
