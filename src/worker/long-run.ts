// Long runs: a tool that outlives one job. The owner (the worker process that started the tool)
// keeps it in its in-process registry across hops; continuation jobs carry a signed token naming
// the owner, and whichever worker polls one decides here what to do with it (see
// docs/architecture.md, "Long-running work"). The routing decision is pure; the registry and the
// progress tap are small in-process objects.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DesiredExecutor } from '../model/desired.js';
import type { JobOutcome } from '../plugin.js';
import { formatDuration } from '../util/duration.js';
import type { OwnerId, TokenPayload } from './continuation.js';
import type { LogFields, Logger } from './logger.js';
import type { Workspace } from './workspace.js';

export const DEFAULT_PROGRESS_INTERVAL_MS = 2 * 60_000;
export const DEFAULT_OWNER_TIMEOUT_MS = 15 * 60_000;

export interface LongRunSettings {
  readonly detailsLinkFirst: boolean;
  /** How long a worker holds a continuation job of a running tool before reporting progress. */
  readonly progressIntervalMs: number;
  /** A run whose owner has not reported for this long is failed (or restarted). */
  readonly ownerTimeoutMs: number;
  readonly restartable: boolean;
  /** How long a non-owner holds a continuation job before handing it back unchanged. */
  readonly handBackHoldMs: number;
}

export function longRunSettings(executor: DesiredExecutor | undefined, overrides: Partial<LongRunSettings> = {}): LongRunSettings {
  const progressIntervalMs = overrides.progressIntervalMs ?? executor?.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const ownerTimeoutMs = overrides.ownerTimeoutMs ?? executor?.ownerTimeoutMs ?? DEFAULT_OWNER_TIMEOUT_MS;
  return {
    detailsLinkFirst: overrides.detailsLinkFirst ?? executor?.detailsLinkFirst ?? false,
    progressIntervalMs,
    ownerTimeoutMs,
    restartable: overrides.restartable ?? executor?.restartable ?? false,
    // Short enough that the owner gets several chances within the owner timeout, long enough
    // that hand-backs do not spin.
    handBackHoldMs: overrides.handBackHoldMs ?? Math.max(1, Math.min(progressIntervalMs / 2, ownerTimeoutMs / 8)),
  };
}

let lastStart = 0;
/** This worker's identity in tokens. Two workers in one process get different start times. */
export function newOwnerId(now = Date.now()): OwnerId {
  lastStart = Math.max(now, lastStart + 1);
  return { host: hostname(), pid: process.pid, startedAt: lastStart };
}

export const sameOwner = (a: OwnerId | undefined, b: OwnerId | undefined) => !!a && !!b && a.host === b.host && a.pid === b.pid && a.startedAt === b.startedAt;

export const newRunId = (now = Date.now()) => `${now.toString(36)}-${randomBytes(6).toString('hex')}`;

export type Route =
  /** Start the tool here (first job, or a `start` token). */
  | { readonly kind: 'start' }
  /** Call the async plugin again with the token's state. */
  | { readonly kind: 'resume' }
  /** Our own run: wait for progress or its end, then report. */
  | { readonly kind: 'own' }
  /** Ours by identity but not in the registry: cannot happen short of a bug; fail it. */
  | { readonly kind: 'lost' }
  /** Another live worker owns it: hold, then hand the token back unchanged. */
  | { readonly kind: 'hand-back'; readonly holdMs: number }
  /** Its owner stopped reporting: fail SystemUnavailable, or restart when the plugin allows. */
  | { readonly kind: 'owner-gone'; readonly silentMs: number; readonly restart: boolean };

/** What to do with a verified continuation token. Pure. */
export function routeToken(payload: TokenPayload, me: OwnerId, hasRun: boolean, now: number, settings: LongRunSettings): Route {
  if (payload.phase === 'start') return { kind: 'start' };
  if (payload.phase === 'resume') return { kind: 'resume' };
  if (sameOwner(payload.owner, me)) return hasRun ? { kind: 'own' } : { kind: 'lost' };
  // Clock skew between workers shifts this comparison; the owner timeout should dwarf it.
  const silentMs = now - payload.lastOwnerReport;
  if (silentMs > settings.ownerTimeoutMs) return { kind: 'owner-gone', silentMs, restart: settings.restartable };
  return { kind: 'hand-back', holdMs: Math.min(settings.handBackHoldMs, Math.max(1, settings.ownerTimeoutMs - silentMs)) };
}

export function ownerGoneMessage(payload: TokenPayload, silentMs: number): string {
  const owner = payload.owner;
  return `the worker running this build (${owner ? `host ${owner.host}, pid ${owner.pid}` : 'unknown'}) stopped reporting ${formatDuration(silentMs)} ago (owner timeout reached); run ${payload.runId} is lost. Run the action again, or mark the executor restartable if running the tool again is safe.`;
}

// ---------------------------------------------------------------------------------------------
// Progress: the last meaningful output line and a percentage, tapped from the job's logger.

export interface Progress {
  readonly percent?: number;
  readonly lastLine?: string;
}

const BRACKET_PERCENT = /^\s*\[\s*(\d{1,3})%\]/;

/** Wraps a logger: tool output lines (fields.stream) and `progress`/`percent` fields are remembered. */
export function progressTap(log: Logger, sink: { progress: Progress }): Logger {
  const look = (message: string, fields?: LogFields) => {
    const percent = fields && (typeof fields.progress === 'number' ? fields.progress : typeof fields.percent === 'number' ? fields.percent : undefined);
    let next: Progress = sink.progress;
    if (percent !== undefined && Number.isFinite(percent)) next = { ...next, percent: Math.max(0, Math.min(100, percent)) };
    if (fields && typeof fields.stream === 'string') {
      const line = message.trim();
      if (line) {
        next = { ...next, lastLine: line };
        const match = BRACKET_PERCENT.exec(line);
        if (match) next = { ...next, percent: Math.min(100, Number(match[1])) };
      }
    }
    sink.progress = next;
  };
  const wrap = (inner: Logger): Logger => ({
    debug: (message, fields) => (look(message, fields), inner.debug(message, fields)),
    info: (message, fields) => (look(message, fields), inner.info(message, fields)),
    warn: (message, fields) => (look(message, fields), inner.warn(message, fields)),
    error: (message, fields) => (look(message, fields), inner.error(message, fields)),
    child: (fields, secrets) => wrap(inner.child(fields, secrets)),
  });
  return wrap(log);
}

export function progressSummary(progress: Progress, elapsedMs: number, where: string): string {
  const head = progress.percent !== undefined ? `${Math.round(progress.percent)}% after ${formatDuration(elapsedMs)}` : `running for ${formatDuration(elapsedMs)}`;
  return `${head} on ${where}${progress.lastLine ? `: ${progress.lastLine}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// The owner's registry of running tools.

export type RunEnd = { readonly outcome: JobOutcome } | { readonly error: unknown };

export interface Run {
  readonly runId: string;
  readonly actionType: string;
  readonly startedAt: number;
  readonly deadline: number;
  readonly attempt: number;
  readonly workspace: Workspace;
  readonly controller: AbortController;
  readonly settled: Promise<RunEnd>;
  ended?: RunEnd;
  /** When the owner last reported this run (its token's lastOwnerReport). */
  lastReportAt: number;
  /** Hops so far. */
  hop: number;
  progress: Progress;
  /** When a job of this run was last seen here (for discarding runs nobody asks about). */
  lastSeenAt: number;
  /** The owner reported a hop and no job of the run has reached it since: the worker polls the
   *  type eagerly until one does. False while the owner holds a job of the run (most of the time). */
  awaitingJob: boolean;
}

export class RunRegistry {
  private readonly runs = new Map<string, Run>();

  get(runId: string): Run | undefined {
    return this.runs.get(runId);
  }

  add(run: Run): void {
    this.runs.set(run.runId, run);
  }

  delete(runId: string): void {
    this.runs.delete(runId);
  }

  /** Tools still running (they take worker slots). */
  activeCount(): number {
    let count = 0;
    for (const run of this.runs.values()) if (!run.ended) count++;
    return count;
  }

  /** Runs waiting for a continuation job of their type (the worker polls eagerly for them). Runs
   *  whose job the owner holds do not count: polling every second for a whole run would cost
   *  thousands of calls an hour for nothing. */
  waitingFor(actionType: string): number {
    let count = 0;
    for (const run of this.runs.values()) if (run.actionType === actionType && run.awaitingJob) count++;
    return count;
  }

  all(): Run[] {
    return [...this.runs.values()];
  }

  /** Runs no job asked about for `idleMs` (their action was failed elsewhere or stopped): stop and forget them. */
  sweep(now: number, idleMs: number): Run[] {
    const gone: Run[] = [];
    for (const run of this.runs.values()) {
      if (now - run.lastSeenAt > idleMs) {
        run.controller.abort(new Error('no continuation job of this run reached its worker within the owner timeout'));
        this.runs.delete(run.runId);
        gone.push(run);
      }
    }
    return gone;
  }
}
