// The worker's structured log: JSON lines when stderr is not a terminal (for log shippers),
// readable lines on one. A child logger carries the job's fields (job id, pipeline, stage, action,
// provider) and the job's secrets, which are redacted from every message and field it writes.

import { createRedactor, REDACTED, type Redactor } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to each line and redacts `secrets` from it. */
  child(fields: LogFields, secrets?: readonly string[]): Logger;
}

export interface LoggerOptions {
  readonly write: (line: string) => void;
  readonly json: boolean;
  readonly level?: LogLevel;
  readonly now?: () => Date;
}

/** Field names that must never be logged whatever their value. */
const FORBIDDEN = /^(nonce|secretAccessKey|sessionToken|accessKeyId|artifactCredentials|credentials|continuationToken)$/i;

export function createLogger(options: LoggerOptions, base: LogFields = {}, secrets: readonly string[] = []): Logger {
  const threshold = ORDER[options.level ?? 'info'];
  const now = options.now ?? (() => new Date());
  // Built once per logger: job loggers write every line of a tool's output through it.
  const redactor = createRedactor(secrets);
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < threshold) return;
    const all = clean({ ...base, ...fields }, redactor);
    const msg = redactor.redact(message);
    if (options.json) {
      options.write(`${JSON.stringify({ time: now().toISOString(), level, msg, ...all })}\n`);
      return;
    }
    const pairs = Object.entries(all)
      .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s|"/.test(value) ? value : JSON.stringify(value)}`)
      .join(' ');
    options.write(`${now().toISOString().slice(11, 19)} ${level.toUpperCase().padEnd(5)} ${msg}${pairs ? `  ${pairs}` : ''}\n`);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields, more = []) => createLogger(options, { ...base, ...fields }, [...secrets, ...more]),
  };
}

function clean(fields: LogFields, redactor: Redactor): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = FORBIDDEN.test(key) ? REDACTED : redactValue(value, redactor);
  }
  return out;
}

function redactValue(value: unknown, redactor: Redactor): unknown {
  if (typeof value === 'string') return redactor.redact(value);
  if (value instanceof Error) return redactor.redact(value.message);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redactor));
  if (value && typeof value === 'object') return clean(value as LogFields, redactor);
  return value;
}

/** A logger that writes nothing (tests, library use). */
export const silentLogger: Logger = createLogger({ write: () => undefined, json: true, level: 'error' });
