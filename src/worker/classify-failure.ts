// Which CodePipeline failure type a problem is, and a message the API accepts. Pure: the job
// runner catches everything, and this table decides. No public worker does this (they all send
// JobFailed); the type tells the pipeline's owner whose move it is.

import { createRedactor, REDACTED } from './redact.js';
import type { FailureType } from '../model/limits.js';
import { RULES } from '../model/limits.js';
import { isCpsyncError } from '../util/errors.js';
import { JobFailure } from './types.js';

export interface ClassifiedFailure {
  readonly type: FailureType;
  readonly message: string;
}

const PERMISSION = new Set(['AccessDenied', 'AccessDeniedException', 'KMS.AccessDeniedException', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired', 'KMS.DisabledException', 'KMS.KMSInvalidStateException', 'UnauthorizedOperation', 'Forbidden']);
const MISSING = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchVersion']);
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown', 'RequestThrottled', 'ServiceUnavailable', 'InternalError', 'InternalFailure']);
const DISK = new Set(['ENOSPC', 'EDQUOT']);
const CONFIGURATION_ERRORS = new Set(['PluginConfigurationError', 'ConfigurationError']);

function errorName(error: unknown): string {
  if (!(error instanceof Error)) return '';
  const code = (error as { Code?: unknown; code?: unknown }).Code ?? (error as { code?: unknown }).code;
  return typeof code === 'string' && (MISSING.has(code) || PERMISSION.has(code)) ? code : error.name;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Maps anything thrown while running a job to a failure type and a first-draft message. */
export function classifyFailure(error: unknown): ClassifiedFailure {
  if (error instanceof JobFailure) return { type: error.failureType, message: error.message };
  const message = describe(error);
  if (isCpsyncError(error)) return { type: error.who === 'user' || error.who === 'plugin' ? 'ConfigurationError' : 'JobFailed', message: error.hint ? `${message} (${error.hint})` : message };
  if (!(error instanceof Error)) return { type: 'JobFailed', message };
  const name = errorName(error);
  const errno = (error as NodeJS.ErrnoException).code;
  if (CONFIGURATION_ERRORS.has(error.name)) return { type: 'ConfigurationError', message };
  if (errno && DISK.has(errno)) return { type: 'SystemUnavailable', message: `the worker's disk is full (${errno}): ${message}` };
  if (PERMISSION.has(name) || httpStatus(error) === 403) return { type: 'PermissionError', message: `access denied by S3 or KMS (${name}): ${message}` };
  if (MISSING.has(name) || httpStatus(error) === 404) return { type: 'RevisionUnavailable', message: `an input artifact is missing (${name}): ${message}` };
  if (THROTTLING.has(name) || (httpStatus(error) ?? 0) >= 500) return { type: 'SystemUnavailable', message: `AWS kept refusing a call after retries (${name}): ${message}` };
  if (error.name === 'AbortError') return { type: 'SystemUnavailable', message };
  return { type: 'JobFailed', message };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return `the plugin threw a non-error value: ${JSON.stringify(error)}`;
  } catch {
    return `the plugin threw a non-error value: ${String(error)}`;
  }
}

export interface SanitizeOptions {
  /** The job's workspace folder: its absolute path is stripped from messages. */
  readonly workspace?: string;
  /** Values that must never leave the worker: secret configuration values and artifact credentials. */
  readonly secrets: readonly string[];
  /** Defaults to the API's limit for the field. */
  readonly maxLength?: number;
}

export { REDACTED };

/** Replaces every occurrence of each secret (longest first, so one that contains another goes whole). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  // One redaction for logs, messages and tool output (redact.ts: longest first, multi-line secrets line by line).
  return createRedactor(secrets).redact(text);
}

/**
 * Makes a message safe and the right size for FailureDetails.message (1–5000): workspace paths
 * stripped, secrets redacted, and when too long the first line kept with the tail, where a
 * tool's error usually is.
 */
export function sanitizeMessage(text: string, options: SanitizeOptions): string {
  const max = options.maxLength ?? RULES.failureMessage.max;
  let out = text;
  if (options.workspace) {
    const root = options.workspace.replace(/\/+$/, '');
    out = out.split(`${root}/`).join('').split(root).join('.');
  }
  out = redactSecrets(out, options.secrets).replace(/\r\n/g, '\n').trim();
  if (!out) out = 'the job failed without a message';
  if (out.length <= max) return out;
  const marker = '\n…\n';
  const newline = out.indexOf('\n');
  const head = newline > 0 && newline <= max / 4 ? out.slice(0, newline) : '';
  const tail = out.slice(out.length - (max - head.length - marker.length));
  return head ? `${head}${marker}${tail}` : `…${out.slice(out.length - (max - 1))}`;
}

/** Cuts a string to `max` characters (for summaries and ids), undefined when empty. */
export function clip(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}
