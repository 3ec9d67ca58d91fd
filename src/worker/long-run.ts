// Long runs: a tool that outlives one job. The owner (the worker process that started the tool)
// keeps it in its in-process registry across hops; continuation jobs carry a signed token naming
// the owner, and whichever worker polls one decides here what to do with it, before acknowledging
// it (planJob; see docs/architecture.md, "Long-running work"). The routing and planning decisions
// are pure; the registry and the progress tap are small in-process objects.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DesiredExecutor } from '../model/desired.js';
import type { JobOutcome } from '../plugin.js';
import { formatDuration } from '../util/duration.js';
import type { OwnerId, TokenPayload, VerifyResult } from './continuation.js';
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
  /** After handing a job back (or on), how long a worker leaves the type's queue to the others. */
  readonly handBackCoolMs: number;
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
    handBackCoolMs: overrides.handBackCoolMs ?? Math.max(1, Math.min(progressIntervalMs / 2, ownerTimeoutMs / 8)),
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
  /** Another live worker owns it: give the token back unchanged at once, then leave the type's
   *  queue to the others for `coolMs`. */
  | { readonly kind: 'hand-back'; readonly coolMs: number }
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
  // Cool no longer than until the owner timeout passes, so a dead owner is noticed on time.
  return { kind: 'hand-back', coolMs: Math.min(settings.handBackCoolMs, Math.max(1, settings.ownerTimeoutMs - silentMs)) };
}

/** Where a run stands when a job of it arrives: its id, times and counters (from the token, or
 *  fresh for a first job). */
export interface Basis {
  readonly runId: string;
  readonly startedAt: number;
  readonly deadline: number;
  readonly attempt: number;
  readonly hop: number;
}

/**
 * What a worker does with a polled job, decided *before* it acknowledges the job, so the ledger
 * entry written before the acknowledgement already holds what to report should the worker die
 * (see `fallbackKind`).
 */
export type JobPlan =
  /** First job, details link first: report a `start` hop at once; the tool runs in the next job. */
  | { readonly kind: 'details-link'; readonly basis: Basis }
  /** Start the tool here and own the run: a first job, a `start` token, or a restart of a run whose
   *  owner stopped reporting `restartAfterMs` ago (a restartable executor). */
  | { readonly kind: 'start'; readonly basis: Basis; readonly token?: string; readonly restartAfterMs?: number }
  /** Call the async plugin again here with the token's state. */
  | { readonly kind: 'resume'; readonly basis: Basis; readonly state: unknown; readonly token: string }
  /** A job of a run this worker owns: hold it until progress is due or the tool ends. */
  | { readonly kind: 'own'; readonly runId: string }
  /** Another live worker owns the run: the same token back at once, then cool. */
  | { readonly kind: 'hand-back'; readonly token: string; readonly coolMs: number }
  /** Every run slot here is busy: leave the start to another worker (the same token, or a new
   *  `start` token for a first job), then cool. */
  | { readonly kind: 'hand-on'; readonly basis: Basis; readonly token?: string; readonly coolMs: number }
  /** Refused or lost: this failure at once. */
  | { readonly kind: 'fail'; readonly failureType: 'JobFailed' | 'SystemUnavailable'; readonly message: string };

export interface PlanInput {
  /** The job's continuation token, if any. */
  readonly token: string | undefined;
  /** verifyToken's answer for it (undefined when there is no token). */
  readonly verified: VerifyResult | undefined;
  /** The basis a first job starts from (a new run id, now, now + the job timeout). */
  readonly fresh: Basis;
  readonly me: OwnerId;
  readonly now: number;
  readonly settings: LongRunSettings;
  /** Whether this worker's registry holds the run. */
  readonly hasRun: (runId: string) => boolean;
  /** Run slots free here (max runs minus running tools and starts already planned). */
  readonly freeSlots: number;
}

/** Plans one job. Pure. */
export function planJob(input: PlanInput): JobPlan {
  const { token, verified, settings } = input;
  const cool = settings.handBackCoolMs;
  if (token === undefined || verified === undefined) {
    if (settings.detailsLinkFirst) return { kind: 'details-link', basis: input.fresh };
    return input.freeSlots > 0 ? { kind: 'start', basis: input.fresh } : { kind: 'hand-on', basis: input.fresh, coolMs: cool };
  }
  // Never trust a token before it verifies: signature, version, action type, action, deadline.
  if (!verified.ok) return { kind: 'fail', failureType: 'JobFailed', message: verified.reason };
  const payload = verified.payload;
  const basis: Basis = { runId: payload.runId, startedAt: payload.startedAt, deadline: payload.deadline, attempt: payload.attempt, hop: payload.hop };
  const route = routeToken(payload, input.me, input.hasRun(payload.runId), input.now, settings);
  switch (route.kind) {
    case 'start':
      return input.freeSlots > 0 ? { kind: 'start', basis, token } : { kind: 'hand-on', basis, token, coolMs: cool };
    case 'resume':
      return input.freeSlots > 0 ? { kind: 'resume', basis, state: payload.state, token } : { kind: 'hand-on', basis, token, coolMs: cool };
    case 'own':
      return { kind: 'own', runId: payload.runId };
    case 'lost':
      return { kind: 'fail', failureType: 'SystemUnavailable', message: lostRunMessage(input.me, payload.runId) };
    case 'hand-back':
      return { kind: 'hand-back', token, coolMs: route.coolMs };
    case 'owner-gone':
      if (!route.restart) return { kind: 'fail', failureType: 'SystemUnavailable', message: ownerGoneMessage(payload, route.silentMs) };
      return input.freeSlots > 0 ? { kind: 'start', basis: { ...basis, attempt: basis.attempt + 1 }, restartAfterMs: route.silentMs } : { kind: 'hand-on', basis, token, coolMs: cool };
  }
}

/**
 * What the ledger entry of a planned job says to report if the worker dies before reporting.
 * - `result`: the plan's own result, known before the acknowledgement (a hand-back, a hand-on, a
 *   refusal, the details link): whoever recovers the entry sends exactly what this worker would.
 * - `same-token`: an async plugin's resume holds nothing local, so the same token lets the next
 *   worker call the plugin again.
 * - `none`: a tool runs (or is about to) in this process and dies with it: recovery fails the
 *   action SystemUnavailable.
 */
export function fallbackKind(plan: JobPlan): 'result' | 'same-token' | 'none' {
  switch (plan.kind) {
    case 'details-link':
    case 'hand-back':
    case 'hand-on':
    case 'fail':
      return 'result';
    case 'resume':
      return 'same-token';
    case 'start':
    case 'own':
      return 'none';
  }
}

export function lostRunMessage(me: OwnerId, runId: string): string {
  return `this worker (pid ${me.pid}) no longer holds run ${runId}; its tool is gone. Run the action again.`;
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
  /** Starts planned (before their acknowledgement) that have not registered a run yet. */
  private reserved = 0;

  /** Holds a slot for a planned start; call the returned function once the run is added or the
   *  start is abandoned (calling it again does nothing). */
  reserve(): () => void {
    this.reserved++;
    let held = true;
    return () => {
      if (held) this.reserved--;
      held = false;
    };
  }

  get(runId: string): Run | undefined {
    return this.runs.get(runId);
  }

  add(run: Run): void {
    this.runs.set(run.runId, run);
  }

  delete(runId: string): void {
    this.runs.delete(runId);
  }

  /** Tools still running or about to start (they take worker slots). */
  activeCount(): number {
    let count = this.reserved;
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
