// The worker: reports what a previous run left in the ledger, then polls each action type and
// runs its jobs, at most `concurrency` at once across all types. Scheduling decisions come from
// poll-schedule.ts; this file only keeps timers, counters and promises.
//
// Shutdown: stop() stops polling at once and lets running jobs finish for `graceMs`; then their
// signals abort (the exec gateway kills the tools' process groups) and they are reported failed as
// SystemUnavailable. stop(true) (a second signal) aborts at once.

import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { formatDuration } from '../util/duration.js';
import { ownedByLiveWorker, Ledger, type LedgerEntry } from './ledger.js';
import type { Logger } from './logger.js';
import { WorkerMetrics } from './metrics.js';
import { JobBoard } from './job-board.js';
import { batchSize, nextPoll, pollOutcome, type PollBounds, type PollOutcome } from './poll-schedule.js';
import { pendingOnRecovery, recoveryNote } from './results.js';
import { processJob, reportResult, type JobEnd, type JobRunnerOptions, type JobType } from './run-job.js';
import { JobFailure, type ArtifactTransfer, type ExtractLimits, type JobsApi } from './types.js';
import { removeWorkspace } from './workspace.js';
import { randomTokenKey, tokenKeyFrom, MIN_KEY_LENGTH, type TokenKey } from './continuation.js';
import { longRunSettings, newOwnerId, RunRegistry, type LongRunSettings } from './long-run.js';
import { CpsyncError } from '../util/errors.js';

export interface WorkerOptions {
  readonly api: JobsApi;
  readonly transfer: ArtifactTransfer;
  readonly types: readonly JobType[];
  readonly concurrency: number;
  readonly poll: PollBounds;
  readonly workDir: string;
  readonly keepWorkspaces?: boolean;
  readonly graceMs: number;
  readonly jobTimeoutMs?: number;
  readonly credentialRefreshMs?: number;
  readonly settleMs?: number;
  /** Process what is available, then stop (tests, CI). */
  readonly once?: boolean;
  readonly log: Logger;
  readonly metrics?: WorkerMetrics;
  readonly s3Endpoint?: string;
  readonly extractLimits?: ExtractLimits;
  readonly random?: () => number;
  /** The fleet key for continuation tokens: a key, or text as in settings (`${env:NAME}` resolved
   *  from `env`). Unset: a per-worker random key, with a warning. */
  readonly tokenKey?: TokenKey | string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides of every type's long-run settings (progress interval, owner timeout...). */
  readonly longRun?: Partial<LongRunSettings>;
  /** The job pages' registry (serve it with serveMetrics); one is made when not given. */
  readonly jobBoard?: JobBoard;
}

export interface WorkerSummary {
  /** Results reported, by outcome label (succeeded, continued or a failure type). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly lostAcknowledgements: number;
  /** Results left in the ledger because they could not be sent. */
  readonly unreported: number;
  /** Jobs from a previous run reported at start-up. */
  readonly recovered: number;
}

export interface Worker {
  readonly metrics: WorkerMetrics;
  /** Current and recent runs, for the job pages. */
  readonly jobs: JobBoard;
  /** Resolves when polling has stopped and every job has been reported (or left in the ledger). */
  readonly done: Promise<WorkerSummary>;
  /** Stops polling and drains; `immediate` aborts running jobs at once. `reason` goes in messages. */
  stop(immediate?: boolean, reason?: string): void;
}

export const DEFAULT_JOB_TIMEOUT_MS = 60 * 60 * 1000;
export const DEFAULT_CREDENTIAL_REFRESH_MS = 10 * 60 * 1000;
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown']);

export function startWorker(options: WorkerOptions): Worker {
  const metrics = options.metrics ?? new WorkerMetrics();
  const ledger = new Ledger(options.workDir);
  const log = options.log;
  const random = options.random ?? Math.random;
  const shutdown = new AbortController();
  const outcomes: Record<string, number> = {};
  let unreported = 0;
  let recovered = 0;
  let stopping = false;
  let running = 0;
  let reserved = 0;
  const jobs = new Set<Promise<void>>();
  // Loops that found every slot taken wait for one. A slot frees when a job ends (wakeAll) or when
  // another type's poll in flight returns with fewer jobs than it reserved slots for: that second
  // case wakes only the waiting loops (releaseSlots), not the sleeping ones, whose back-off stands.
  let slotWaiters: (() => void)[] = [];
  const waitForSlot = () => new Promise<void>((resolve) => slotWaiters.push(resolve));
  const releaseSlots = () => {
    const waiting = slotWaiters;
    slotWaiters = [];
    for (const resolve of waiting) resolve();
  };
  // Wakes loops waiting for a free slot or sleeping between polls.
  let wake: (() => void) | undefined;
  let woken = new Promise<void>((resolve) => (wake = resolve));
  const wakeAll = () => {
    const resolve = wake;
    woken = new Promise<void>((next) => (wake = next));
    resolve?.();
    releaseSlots();
  };
  let graceTimer: NodeJS.Timeout | undefined;
  const tokenKey = resolveTokenKey(options.tokenKey, options.env ?? process.env);
  if (tokenKey.ephemeral) {
    log.warn('worker.tokenKey is not set: continuation tokens are signed with a key only this worker process knows, so a continuation job picked up by another worker (or by this one after a restart) fails; set worker.tokenKey to ${env:NAME} with the same key on every worker');
  }
  const owner = newOwnerId();
  const runs = new RunRegistry();
  const board = options.jobBoard ?? new JobBoard();
  const settingsOf = (type: JobType) => longRunSettings(type.selected.executor, options.longRun);
  // After a hand-back (reported at once, never held), leave that type's queue to the others for a
  // while, so the owner wins the next job; while a run of ours waits for its continuation job,
  // poll it fast.
  const coolUntil = new Map<string, number>();

  const runner: JobRunnerOptions = {
    api: options.api,
    transfer: options.transfer,
    ledger,
    metrics,
    log,
    workDir: options.workDir,
    keepWorkspaces: options.keepWorkspaces ?? false,
    jobTimeoutMs: options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
    credentialRefreshMs: options.credentialRefreshMs ?? DEFAULT_CREDENTIAL_REFRESH_MS,
    settleMs: options.settleMs ?? 5_000,
    region: options.api.region,
    ...(options.s3Endpoint ? { s3Endpoint: options.s3Endpoint } : {}),
    ...(options.extractLimits ? { extractLimits: options.extractLimits } : {}),
    shutdown: shutdown.signal,
    tokenKey,
    owner,
    runs,
    maxRuns: options.concurrency,
    ...(options.longRun ? { longRun: options.longRun } : {}),
    board,
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) return resolve();
      const timer = setTimeout(resolve, ms);
      void woken.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  const startJob = (job: Parameters<typeof processJob>[0], type: JobType) => {
    running++;
    const promise = processJob(job, type, runner)
      .then((end: JobEnd) => {
        if (!end.acknowledged) return;
        outcomes[end.outcome] = (outcomes[end.outcome] ?? 0) + 1;
        if (end.coolMs !== undefined) coolUntil.set(type.selected.label, Date.now() + end.coolMs);
        if (!end.reported) unreported++;
      })
      .catch((error: unknown) => log.error('unexpected error in the job runner', { job: job.id, error: (error as Error).message }))
      .finally(() => {
        running--;
        jobs.delete(promise);
        wakeAll();
      });
    jobs.add(promise);
  };

  const pollLoop = async (type: JobType) => {
    const label = type.selected.label;
    const typeLog = log.child({ provider: type.selected.ref.provider, actionType: label });
    let streak = 0;
    while (!stopping) {
      const size = batchSize(options.concurrency, running, reserved);
      if (size === 0) {
        await waitForSlot();
        continue;
      }
      reserved += size;
      let outcome: PollOutcome;
      try {
        const polled = await options.api.poll(type.selected.ref, size, type.selected.queryParam);
        reserved -= size;
        outcome = pollOutcome(size, polled.length);
        metrics.countPoll(type.selected.ref.provider, polled.length ? 'jobs' : 'empty');
        if (polled.length) typeLog.debug(`polled ${polled.length} job${polled.length > 1 ? 's' : ''}`);
        // A poll that raced a shutdown still acknowledges nothing: jobs not acknowledged go back to the queue.
        for (const job of polled) if (!stopping) startJob(job, type);
        if (polled.length < size) releaseSlots();
      } catch (error) {
        reserved -= size;
        releaseSlots();
        const name = (error as Error).name;
        outcome = THROTTLING.has(name) ? 'throttled' : 'error';
        metrics.countPoll(type.selected.ref.provider, outcome === 'throttled' ? 'throttled' : 'error');
        if (outcome === 'error') typeLog.warn('PollForJobs failed; backing off', { error: `${name}: ${(error as Error).message}` });
        else typeLog.debug('PollForJobs throttled; backing off');
      }
      if (options.once && (outcome === 'empty' || outcome === 'partial')) {
        // Done when the queue is empty and nothing we run can queue more (continuations).
        if (running === 0 && runs.all().length === 0) {
          if (outcome === 'empty') break;
          continue;
        }
        await woken;
        continue;
      }
      const decision = nextPoll(outcome, streak, options.poll, random);
      streak = decision.streak;
      let delay = decision.delayMs;
      if (runs.waitingFor(label) > 0) delay = Math.min(delay, options.poll.minMs);
      else delay = Math.max(delay, (coolUntil.get(label) ?? 0) - Date.now());
      if (delay > 0) await sleep(delay);
    }
  };

  // Reports what a stopped worker's ledger entry says, then removes the entry. Reporting first:
  // a worker that dies in between leaves the entry for the next one, and a second report of the
  // same entry (two siblings racing, or this one) is refused by CodePipeline as the job is done.
  const recoverEntry = async (entry: LedgerEntry, why: string): Promise<void> => {
    const entryLog = log.child({ job: entry.jobId, pipeline: entry.pipeline, stage: entry.stage, action: entry.action, actionType: entry.actionType });
    const pending = pendingOnRecovery(entry);
    if (pending) {
      entryLog.info(`${why}: ${recoveryNote(entry)}`);
      if (!(await reportResult(options.api, entry.jobId, pending, entryLog))) {
        unreported++;
        return;
      }
      recovered++;
    }
    await ledger.remove(entry.jobId);
    if (!options.keepWorkspaces) await removeWorkspace(options.workDir, entry.jobId).catch(() => undefined);
  };

  // At start-up every entry no live worker owns (a previous run of this worker, or anyone sharing
  // the folder); later only this host's dead siblings (see the maintenance tick below). Another
  // sibling may recover the same entry at once; reporting twice is harmless (see above).
  const recoverStopped = async (siblingsOnly: boolean) => {
    for (const entry of await ledger.list()) {
      if (ownedByLiveWorker(entry)) continue;
      if (siblingsOnly && (entry.host !== hostname() || entry.pid === process.pid)) continue;
      await recoverEntry(entry, siblingsOnly ? 'a stopped worker on this host left this job in the ledger' : 'a previous worker process left this job in the ledger');
    }
  };
  const recover = () => recoverStopped(false);
  const recoverSiblings = () => recoverStopped(true);
  // The start-up pass, then the periodic ones, never two at once (a slow pass would otherwise
  // overlap the next tick and send the same entries twice).
  let recovering: Promise<void> | undefined = recover().finally(() => (recovering = undefined));

  // Every few seconds: report held jobs of dead sibling processes on this host (they share the
  // work folder), and forget runs no continuation job reached for twice the owner timeout. At most
  // 5 s apart (a readdir of a small folder): a dead owner's held job is failed within seconds, and
  // an entry whose acknowledgement never happened is settled well before CodePipeline could hand
  // that job to someone else (its dispatch timeout).
  const ownerTimeout = Math.min(...options.types.map((type) => settingsOf(type).ownerTimeoutMs));
  const maintenance = setInterval(() => {
    recovering ??= recoverSiblings()
      .catch((error: unknown) => log.warn('could not check the ledger for stopped workers', { error: (error as Error).message }))
      .finally(() => (recovering = undefined));
    for (const run of runs.sweep(Date.now(), 2 * ownerTimeout)) {
      board.finish(run.runId, 'stopped', 'no continuation job of this run reached this worker within twice the owner timeout; its tool was stopped');
      log.warn(`forgetting run ${run.runId}: none of its continuation jobs reached this worker within twice the owner timeout (another worker failed it); its tool was stopped`);
      if (!options.keepWorkspaces) void rm(run.workspace.root, { recursive: true, force: true }).catch(() => undefined);
    }
  }, Math.max(250, Math.min(ownerTimeout / 3, 5_000)));
  maintenance.unref();

  const done = (async (): Promise<WorkerSummary> => {
    await recovering;
    log.info(`worker polling ${options.types.map((type) => type.selected.label + (type.selected.queryParam ? ` (${Object.entries(type.selected.queryParam).map(([k, v]) => `${k}=${v}`).join('')})` : '')).join(', ')}`, {
      concurrency: options.concurrency,
      host: hostname(),
      pid: process.pid,
    });
    await Promise.all(options.types.map((type) => pollLoop(type)));
    while (jobs.size) await Promise.all([...jobs]);
    clearInterval(maintenance);
    // Tools no held job waits for stop with the worker; their next continuation job goes to
    // another worker, which fails the run (or restarts it) once the owner timeout passes.
    for (const run of runs.all()) {
      if (!run.ended) log.warn(`stopping run ${run.runId}: the worker is stopping`);
      board.finish(run.runId, 'stopped', 'the worker running it stopped');
      run.controller.abort(new JobFailure('SystemUnavailable', 'the worker running this build stopped'));
    }
    await Promise.race([Promise.all(runs.all().map((run) => run.settled)), new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 5_000).unref())]);
    if (graceTimer) clearTimeout(graceTimer);
    return { outcomes: { ...outcomes }, lostAcknowledgements: metrics.lostAcknowledgements, unreported, recovered };
  })();

  const abortJobs = (reason: string) => {
    if (shutdown.signal.aborted) return;
    shutdown.abort(new JobFailure('SystemUnavailable', reason));
  };

  return {
    metrics,
    jobs: board,
    done,
    stop(immediate = false, reason = 'the worker was asked to stop') {
      if (!stopping) {
        stopping = true;
        metrics.shuttingDown = true;
        log.info(`stopping: ${reason}; no new jobs${running ? `, waiting up to ${formatDuration(options.graceMs)} for ${running} running job${running > 1 ? 's' : ''}` : ''}`);
        wakeAll();
        graceTimer = setTimeout(() => abortJobs(`the worker shut down (${reason}) and the job did not finish within the ${formatDuration(options.graceMs)} grace period; run the action again`), options.graceMs);
        graceTimer.unref();
      }
      if (immediate) abortJobs(`the worker shut down at once (${reason}) before the job finished; run the action again`);
    },
  };
}

/** The token key from settings: `${env:NAME}` read from `env`, text used as it is, none → random. */
export function resolveTokenKey(given: TokenKey | string | undefined, env: Readonly<Record<string, string | undefined>>): TokenKey {
  if (given === undefined) return randomTokenKey();
  if (typeof given !== 'string') return given;
  const reference = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(given.trim());
  const text = reference ? env[reference[1] as string] : given;
  if (text === undefined || text === '') {
    throw new CpsyncError('worker.token-key', `worker.tokenKey refers to the environment variable ${reference?.[1]}, which is not set`, { hint: `export ${reference?.[1]}=<a long random key> (the same on every worker), or remove worker.tokenKey` });
  }
  if (text.length < MIN_KEY_LENGTH) {
    throw new CpsyncError('worker.token-key', `worker.tokenKey is ${text.length} characters; continuation tokens need a key of at least ${MIN_KEY_LENGTH}`, { hint: 'use e.g. `openssl rand -base64 32`' });
  }
  return tokenKeyFrom(text);
}
