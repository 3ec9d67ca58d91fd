// From a plugin's outcome (or a caught error) to the exact result sent to CodePipeline. Pure.
// Every field is cut to the API's limits and redacted here, so a result is always accepted and
// never carries a secret or a workspace path.

import type { JobOutcome } from '../plugin.js';
import { FAILURE_TYPES, RULES, type FailureType } from '../model/limits.js';
import { clip, redactSecrets, sanitizeMessage } from './classify-failure.js';
import { encodeContinuation, type EncodeResult } from './continuation.js';
import type { LedgerEntry, PendingResult } from './ledger.js';
import type { FailureResult, SuccessResult } from './types.js';

export interface ResultContext {
  readonly secrets: readonly string[];
  readonly workspace?: string;
}

export type CheckedOutcome = { readonly ok: true; readonly outcome: JobOutcome } | { readonly ok: false; readonly reason: string };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const optionalString = (value: unknown) => value === undefined || typeof value === 'string';

/** Checks that a plugin returned a JobOutcome; describes what is wrong when it did not. */
export function checkOutcome(value: unknown): CheckedOutcome {
  const got = (text: string) => ({ ok: false as const, reason: `the executor plugin returned an invalid outcome: ${text}` });
  if (!isRecord(value)) return got(`expected an object with a status, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  if (!optionalString(value.externalExecutionId)) return got('externalExecutionId must be a string');
  switch (value.status) {
    case 'succeeded': {
      if (!optionalString(value.summary)) return got('summary must be a string');
      if (value.outputVariables !== undefined) {
        if (!isRecord(value.outputVariables)) return got('outputVariables must be an object of strings');
        for (const [key, variable] of Object.entries(value.outputVariables)) {
          if (typeof variable !== 'string') return got(`output variable ${JSON.stringify(key)} must be a string`);
          if (!RULES.outputVariableKey.pattern.test(key)) return got(`output variable name ${JSON.stringify(key)} may only contain letters, digits, '@', '-' and '_'`);
        }
      }
      return { ok: true, outcome: value as JobOutcome };
    }
    case 'failed': {
      if (typeof value.message !== 'string') return got('a failed outcome needs a message string');
      if (value.failureType !== undefined && !(FAILURE_TYPES as readonly unknown[]).includes(value.failureType)) return got(`unknown failureType ${JSON.stringify(value.failureType)} (use ${FAILURE_TYPES.join(', ')})`);
      return { ok: true, outcome: value as JobOutcome };
    }
    case 'in-progress': {
      if (!optionalString(value.summary)) return got('summary must be a string');
      if (value.percentComplete !== undefined && (typeof value.percentComplete !== 'number' || !Number.isFinite(value.percentComplete))) return got('percentComplete must be a number');
      return { ok: true, outcome: value as JobOutcome };
    }
    default:
      return got(`status must be "succeeded", "failed" or "in-progress", got ${JSON.stringify(value.status)}`);
  }
}

function cleanText(text: string | undefined, max: number, context: ResultContext): string | undefined {
  if (text === undefined) return undefined;
  return clip(sanitizeMessage(text, { ...context, maxLength: Number.MAX_SAFE_INTEGER }), max);
}

function executionDetails(outcome: { summary?: string; externalExecutionId?: string; percentComplete?: number }, context: ResultContext): SuccessResult['executionDetails'] {
  const summary = cleanText(outcome.summary, RULES.executionSummary.max, context);
  const externalExecutionId = cleanText(outcome.externalExecutionId, RULES.externalExecutionId.max, context);
  const percent = outcome.percentComplete === undefined ? undefined : Math.max(0, Math.min(100, Math.round(outcome.percentComplete)));
  if (summary === undefined && externalExecutionId === undefined && percent === undefined) return undefined;
  return { ...(summary ? { summary } : {}), ...(externalExecutionId ? { externalExecutionId } : {}), ...(percent !== undefined ? { percentComplete: percent } : {}) };
}

export function failure(type: FailureType, message: string, context: ResultContext, externalExecutionId?: string): PendingResult {
  const id = cleanText(externalExecutionId, RULES.externalExecutionId.max, context);
  const result: FailureResult = { type, message: sanitizeMessage(message, context), ...(id ? { externalExecutionId: id } : {}) };
  return { kind: 'failure', result };
}

/** The final success: output variables only here (CodePipeline refuses them with a token). */
export function finalSuccess(outcome: Extract<JobOutcome, { status: 'succeeded' }>, context: ResultContext): PendingResult {
  const details = executionDetails(outcome, context);
  const variables = outcome.outputVariables && Object.keys(outcome.outputVariables).length ? Object.fromEntries(Object.entries(outcome.outputVariables).map(([key, value]) => [key, redactSecrets(value, context.secrets)])) : undefined;
  return { kind: 'success', result: { ...(details ? { executionDetails: details } : {}), ...(variables ? { outputVariables: variables } : {}) } };
}

/** A hop of a long job: success with the state in a continuation token; too large a state fails.
 *  `encode` makes the token (the worker passes its signer; the default is the unsigned form). */
export function continuation(outcome: Extract<JobOutcome, { status: 'in-progress' }>, context: ResultContext, encode: (state: unknown) => EncodeResult = encodeContinuation): PendingResult {
  let json: string | undefined;
  try {
    json = JSON.stringify(outcome.state);
  } catch {
    json = undefined;
  }
  // The token is stored by CodePipeline and shown to anyone who can read the job: no secrets in it.
  if (json !== undefined && context.secrets.some((secret) => secret.length > 0 && json.includes(secret))) {
    return failure('JobFailed', "the plugin's in-progress state contains a secret value; refusing to put it in a continuation token", context, outcome.externalExecutionId);
  }
  const encoded = encode(outcome.state);
  if (!encoded.ok) return failure('JobFailed', encoded.reason, context, outcome.externalExecutionId);
  const details = executionDetails({ summary: outcome.summary ?? 'in progress', ...(outcome.externalExecutionId !== undefined ? { externalExecutionId: outcome.externalExecutionId } : {}), ...(outcome.percentComplete !== undefined ? { percentComplete: outcome.percentComplete } : {}) }, context);
  return { kind: 'success', result: { continuationToken: encoded.token, ...(details ? { executionDetails: details } : {}) } };
}

/** The outcome label for metrics and logs. */
export function outcomeLabel(pending: PendingResult): string {
  if (pending.kind === 'failure') return pending.result.type;
  return pending.result.continuationToken ? 'continued' : 'succeeded';
}

/**
 * What to report for a ledger entry a stopped worker left: the result it computed; else the
 * fallback it recorded before acknowledging (a result that needed no local work, or an async
 * plugin's same token); else SystemUnavailable, as the tool it ran died with it.
 */
export function pendingOnRecovery(entry: LedgerEntry): PendingResult | undefined {
  if (entry.state === 'result-computed' && entry.result) return entry.result;
  if (entry.state !== 'running') return undefined;
  return (
    entry.fallback ??
    failure('SystemUnavailable', `the worker running this job stopped (pid ${entry.pid}, host ${entry.host}) before it finished; it was acknowledged at ${entry.acknowledgedAt}. Run the action again.`, { secrets: [] })
  );
}

/** One line for the log saying what recovering the entry sends, and why it may be refused. */
export function recoveryNote(entry: LedgerEntry): string {
  if (entry.state === 'result-computed') return 'sending the result it computed but did not report';
  // The entry is written just before AcknowledgeJob: if the worker died before CodePipeline applied
  // it, the job is not in progress, the result is refused and CodePipeline hands the job out again.
  if (entry.fallback) return 'sending the result it recorded for this case (refused if it never acknowledged the job)';
  return 'failing it SystemUnavailable, as its tool stopped with it (refused if it never acknowledged the job)';
}

