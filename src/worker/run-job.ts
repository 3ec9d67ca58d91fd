// One job, from acknowledgement to exactly one result. Everything after a successful
// acknowledgement is inside one try: whatever the plugin, a tool, S3 or the disk does, a result is
// computed, written to the ledger and reported. The plugin never sees credentials; the worker
// downloads inputs and uploads outputs with them, refreshing them on long jobs.

import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { JobIdentity, JobOutcome } from '../plugin.js';
import { isRetryable } from '../aws/retry.js';
import { formatDuration } from '../util/duration.js';
import { kmsKeyFor } from './artifacts/sse.js';
import { boardTap, recordResult, type JobBoard } from './job-board.js';
import { classifyFailure } from './classify-failure.js';
import { bindingOf, signToken, verifyToken, type OwnerId, type RunPhase, type TokenKey, type TokenPayload } from './continuation.js';
import { fallbackKind, longRunSettings, lostRunMessage, newRunId, planJob, progressSummary, progressTap, type Basis, type JobPlan, type LongRunSettings, type Run, type RunEnd, type RunRegistry } from './long-run.js';
import type { Ledger, LedgerEntry, PendingResult } from './ledger.js';
import type { LogFields, Logger } from './logger.js';
import type { WorkerMetrics, JobOutcomeLabel } from './metrics.js';
import { checkOutcome, continuation, failure, finalSuccess, outcomeLabel, type ResultContext } from './results.js';
import type { SelectedType } from './select-types.js';
import { DEFAULT_EXTRACT_LIMITS, JobFailure, type ArtifactLocation, type ArtifactTransfer, type ExtractLimits, type JobData, type JobsApi, type PolledJob, type TransferTarget } from './types.js';
import { createWorkspace, isEmptyDir, removeWorkspace, workspacePath, type Workspace } from './workspace.js';

/** What the worker hands an executor for one job (the plugin host turns it into a JobContext). */
export interface ExecutorJob {
  readonly identity: JobIdentity;
  readonly configuration: Readonly<Record<string, string>>;
  readonly workspace: Workspace;
  /** State from the previous hop, on continuation jobs. */
  readonly state: unknown;
  readonly signal: AbortSignal;
  /** Values the executor must redact from tool output (secret configuration values). */
  readonly secrets: readonly string[];
  readonly log: Logger;
}

/** Runs a job's work with a prepared plugin. May throw or return anything: the runner checks. */
export type Executor = (job: ExecutorJob) => Promise<JobOutcome>;

export interface JobType {
  readonly selected: SelectedType;
  readonly executor: Executor;
}

export interface JobRunnerOptions {
  readonly api: JobsApi;
  readonly transfer: ArtifactTransfer;
  readonly ledger: Ledger;
  readonly metrics: WorkerMetrics;
  readonly log: Logger;
  readonly workDir: string;
  readonly keepWorkspaces: boolean;
  /** A job still running after this long is stopped and failed. */
  readonly jobTimeoutMs: number;
  /** Refresh artifact credentials with GetJobDetails before an S3 phase once they are this old. */
  readonly credentialRefreshMs: number;
  /** How long a plugin gets to return after its signal aborts before the runner stops waiting. */
  readonly settleMs: number;
  /** The artifact buckets' Region (the pipeline's) and an endpoint override. */
  readonly region: string;
  readonly s3Endpoint?: string;
  readonly extractLimits?: ExtractLimits;
  /** Aborted (with a JobFailure as reason) when the worker stops jobs at shutdown. */
  readonly shutdown: AbortSignal;
  readonly now?: () => number;
  /** Signs and verifies continuation tokens (the fleet's worker.tokenKey, or a per-worker key). */
  readonly tokenKey: TokenKey;
  /** This worker in tokens (host, pid, start time). */
  readonly owner: OwnerId;
  /** Tools this worker runs across hops. */
  readonly runs: RunRegistry;
  /** At most this many tools at once; a start beyond it is handed on. */
  readonly maxRuns: number;
  /** Overrides of the executors' long-run settings (flags, tests). */
  readonly longRun?: Partial<LongRunSettings>;
  /** The job pages' registry (job-board.ts): told when a run starts, its output, and its result. */
  readonly board?: JobBoard;
}

export type JobEnd =
  | { readonly acknowledged: false; readonly reason: 'lost-race' | 'not-in-progress' | 'ack-error' | 'ledger-error' }
  /** `coolMs`: the job was handed back (or on); leave the type's queue to other workers this long. */
  | { readonly acknowledged: true; readonly outcome: string; readonly reported: boolean; readonly coolMs?: number };

const GONE = new Set(['InvalidJobStateException', 'JobNotFoundException']);

export async function processJob(polled: PolledJob, type: JobType, options: JobRunnerOptions): Promise<JobEnd> {
  const now = options.now ?? Date.now;
  const data = polled.data;
  const fields = { job: polled.id, pipeline: data.pipeline, stage: data.stage, action: data.action, provider: type.selected.ref.provider };
  const secretsOf = (jobData: JobData) => [
    ...type.selected.secretProperties.map((name) => jobData.configuration[name] ?? '').filter(Boolean),
    jobData.credentials.accessKeyId,
    jobData.credentials.secretAccessKey,
    jobData.credentials.sessionToken,
  ];
  const secrets = new Set(secretsOf(data));
  const log = options.log.child(fields, [...secrets]);
  let context: ResultContext = { secrets: [...secrets] };
  const controller = new AbortController();
  const job = new RunningJob(polled, type, options, controller.signal, log, (fresh) => {
    for (const value of secretsOf(fresh)) secrets.add(value);
    context = { ...context, secrets: [...secrets] };
  });

  // Plan first, then write the ledger entry, then acknowledge: a worker killed at any point after
  // CodePipeline applies the acknowledgement leaves an entry saying what to report, and CodePipeline
  // itself only ends an acknowledged job without a result at the action timeout (hours).
  const planned = job.plan(context);
  const acknowledgedAt = now();
  const entry: LedgerEntry = {
    version: 1,
    jobId: polled.id,
    actionType: type.selected.label,
    pipeline: data.pipeline,
    stage: data.stage,
    action: data.action,
    acknowledgedAt: new Date(acknowledgedAt).toISOString(),
    pid: process.pid,
    host: hostname(),
    state: 'running',
    ...(planned.fallback ? { fallback: planned.fallback } : {}),
  };
  const giveUp = async () => {
    planned.release();
    await options.ledger.remove(polled.id).catch(() => undefined);
  };
  try {
    await options.ledger.write(entry);
  } catch (error) {
    planned.release();
    log.error('could not write the job ledger; not acknowledging the job, CodePipeline hands it out again', { error: describe(error) });
    return { acknowledged: false, reason: 'ledger-error' };
  }

  // Acknowledge with the nonce; only an InProgress answer makes the job ours.
  let status: string;
  try {
    status = await options.api.acknowledge(polled.id, polled.nonce);
  } catch (error) {
    await giveUp();
    if ((error as Error).name === 'InvalidNonceException') {
      options.metrics.lostAcknowledgements++;
      log.debug('another worker acknowledged the job first');
      return { acknowledged: false, reason: 'lost-race' };
    }
    log.error('could not acknowledge the job; leaving it to CodePipeline to hand out again', { error: describe(error) });
    return { acknowledged: false, reason: 'ack-error' };
  }
  if (status !== 'InProgress') {
    await giveUp();
    log.info(`acknowledgement answered ${status}; not running the job`);
    return { acknowledged: false, reason: 'not-in-progress' };
  }

  options.metrics.inFlight++;
  const runningSince = now();
  let pending: PendingResult;
  const onShutdown = () => controller.abort(options.shutdown.reason);
  if (options.shutdown.aborted) onShutdown();
  else options.shutdown.addEventListener('abort', onShutdown, { once: true });
  const timer = setTimeout(
    () => controller.abort(new JobFailure('JobFailed', `the job did not finish within ${formatDuration(options.jobTimeoutMs)} (the worker's --job-timeout); it was stopped`)),
    options.jobTimeoutMs,
  );
  timer.unref();
  try {
    log.info('job acknowledged', { continuation: data.continuationToken !== undefined });
    context = { ...context, workspace: job.workspaceRoot };
    job.onWorkspace = (root) => (context = { ...context, workspace: root });
    pending = planned.immediate ?? (await job.run(planned.plan, planned.release, () => context));
  } catch (error) {
    const classified = classifyFailure(controller.signal.aborted && controller.signal.reason instanceof JobFailure ? controller.signal.reason : error);
    if (classified.type === 'JobFailed' && !(error instanceof JobFailure)) log.warn('the job failed', { error: describe(error) });
    pending = failure(classified.type, classified.message, context);
  } finally {
    planned.release();
    clearTimeout(timer);
    options.shutdown.removeEventListener('abort', onShutdown);
  }
  if (options.board && job.runId !== undefined) recordResult(options.board, job.runId, pending, options.runs.get(job.runId) !== undefined);

  // The result is recorded and reported at once. A crash is covered as well as with the record
  // first: until the record is durable a restart reports the entry's fallback or the job as
  // orphaned, which CodePipeline refuses if the report got there (the job is finished) and takes if
  // it did not, exactly as when the crash comes before a record written first; once it is durable,
  // a restart sends it. The entry is removed only after both, so a late record cannot bring it back.
  const computed = options.ledger.write({ ...entry, state: 'result-computed', result: pending }).catch((error: unknown) => {
    // The disk may be full: report anyway, the ledger only protects against a crash.
    log.warn('could not record the result in the ledger', { error: describe(error) });
  });
  // How long the job took and where the artifact time went, on the line that ends it (so an
  // operator sees it at the default level).
  const timings = { durationMs: Math.round(now() - runningSince), inputMs: Math.round(job.timings.inputMs), outputMs: Math.round(job.timings.outputMs) };
  const reported = await reportResult(options.api, polled.id, pending, log, timings);
  await computed;
  if (reported) await options.ledger.remove(polled.id).catch(() => undefined);
  // The run's workspace goes after the report: removing it is not part of the job's result.
  await job.dropWorkspaces();
  if (!options.keepWorkspaces) await removeWorkspace(options.workDir, polled.id).catch((error: unknown) => log.warn('could not remove the workspace', { error: describe(error) }));
  options.metrics.inFlight--;
  const coolMs = 'coolMs' in planned.plan ? planned.plan.coolMs : undefined;
  const label = coolMs !== undefined ? 'handed-back' : outcomeLabel(pending);
  options.metrics.countJob(type.selected.ref.provider, (coolMs !== undefined ? 'continued' : label) as JobOutcomeLabel, (now() - acknowledgedAt) / 1000);
  return { acknowledged: true, outcome: label, reported, ...(coolMs !== undefined ? { coolMs } : {}) };
}

/**
 * Sends a result, retrying throttling and 5xx (the adapter's policy). A job that is already
 * finished or gone on the AWS side is left alone. A success CodePipeline refuses (too many output
 * variables, a bad field) becomes a failure, so the action never waits for a timeout.
 * Returns false when the result could not be delivered (the ledger keeps it for the next start).
 */
export async function reportResult(api: JobsApi, jobId: string, pending: PendingResult, log: Logger, fields: LogFields = {}): Promise<boolean> {
  try {
    if (pending.kind === 'success') await api.succeed(jobId, pending.result);
    else await api.fail(jobId, pending.result);
    log.info(pending.kind === 'success' ? (pending.result.continuationToken ? 'job continues in a new job' : 'job succeeded') : `job failed (${pending.result.type})`, pending.kind === 'failure' ? { failureType: pending.result.type, ...fields } : fields);
    return true;
  } catch (error) {
    const name = (error as Error).name;
    if (GONE.has(name)) {
      log.warn(`CodePipeline no longer accepts a result for this job (${name}): it finished, timed out or was abandoned`);
      return true;
    }
    if (pending.kind === 'success' && !isRetryable(error)) {
      log.warn('CodePipeline refused the success result; reporting a failure instead', { error: describe(error) });
      return reportResult(api, jobId, { kind: 'failure', result: { type: 'JobFailed', message: `CodePipeline refused the job's result (${name}): ${describe(error)}`.slice(0, 5000) } }, log, fields);
    }
    log.error('could not report the result; it stays in the ledger for the next start', { error: describe(error) });
    return false;
  }
}

class RunningJob {
  /** Time spent downloading and extracting inputs, and zipping and uploading outputs. */
  readonly timings = { inputMs: 0, outputMs: 0 };
  private data: JobData;
  private credentialsAt: number;
  private readonly now: () => number;
  readonly workspaceRoot: string;

  constructor(
    private readonly polled: PolledJob,
    private readonly type: JobType,
    private readonly options: JobRunnerOptions,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
    private readonly onFreshData: (data: JobData) => void,
  ) {
    this.data = polled.data;
    this.now = options.now ?? Date.now;
    this.credentialsAt = this.now();
    this.workspaceRoot = workspacePath(options.workDir, polled.id);
  }

  /** The run this job reported on, when this worker runs its tool (for the job pages). */
  runId: string | undefined;
  /** Told the run's workspace, so messages have its paths stripped. */
  onWorkspace: (root: string) => void = () => undefined;
  /** Run workspaces to remove once the result is reported. */
  private readonly finished: string[] = [];

  /** Removes the workspaces of runs this job finished (after the report). */
  async dropWorkspaces(): Promise<void> {
    for (const root of this.finished.splice(0)) await this.dropWorkspace(root);
  }

  /**
   * Decides what to do with the job before it is acknowledged (planJob, pure), holds a run slot
   * for a start, and computes what can be known now: the result of a plan that needs no work (it
   * is also the ledger fallback) and the fallback of a resume (the same token).
   */
  plan(context: ResultContext): Planned {
    const data = this.data;
    const settings = longRunSettings(this.type.selected.executor, this.options.longRun);
    const now = this.now();
    const token = data.continuationToken;
    const plan = planJob({
      token,
      verified: token === undefined ? undefined : verifyToken(token, this.options.tokenKey, { actionType: this.type.selected.label, binding: bindingOf(data), now }),
      fresh: { runId: newRunId(now), startedAt: now, deadline: now + this.options.jobTimeoutMs, attempt: 1, hop: 0 },
      me: this.options.owner,
      now,
      settings,
      hasRun: (runId) => this.options.runs.get(runId) !== undefined,
      freeSlots: this.options.maxRuns - this.options.runs.activeCount(),
    });
    if (token !== undefined) this.log.debug(`continuation job planned: ${plan.kind}`, 'basis' in plan ? { run: plan.basis.runId, hop: plan.basis.hop } : {});
    const release = plan.kind === 'start' || plan.kind === 'resume' ? this.options.runs.reserve() : () => undefined;
    const immediate = this.immediateResult(plan, context);
    const fallback = fallbackKind(plan);
    return {
      plan,
      release,
      ...(immediate ? { immediate } : {}),
      ...(fallback === 'result' && immediate ? { fallback: immediate } : {}),
      // The state lives in the token: if this worker dies mid-call, the same token lets the next
      // one call the plugin again (an async plugin's hop asks its external system again).
      ...(fallback === 'same-token' && plan.kind === 'resume' ? { fallback: { kind: 'success', result: { continuationToken: plan.token } } } : {}),
    };
  }

  /** The result of a plan that needs no work here; undefined when the work decides it. */
  private immediateResult(plan: JobPlan, context: ResultContext): PendingResult | undefined {
    switch (plan.kind) {
      case 'details-link':
        return this.hop(plan.basis, 'start', undefined, { status: 'in-progress', state: undefined, summary: 'started; the work runs in the next job', externalExecutionId: plan.basis.runId }, context);
      case 'hand-back':
        // Another live worker owns the tool: give the same token back at once (the worker then
        // leaves the type's queue to the others for a while); its owner reports when one of these
        // jobs reaches it. Holding the job here instead would strand it if this worker died.
        return { kind: 'success', result: { continuationToken: plan.token } };
      case 'hand-on':
        // Every slot here runs a tool already: leave the start to another worker (or to us, later).
        if (plan.token !== undefined) return { kind: 'success', result: { continuationToken: plan.token } };
        return this.hop(plan.basis, 'start', undefined, { status: 'in-progress', state: undefined, summary: 'waiting for a free worker', externalExecutionId: plan.basis.runId }, context);
      case 'fail':
        return failure(plan.failureType, plan.message, context);
      case 'start':
      case 'resume':
      case 'own':
        return undefined;
    }
  }

  /** Does the work of a plan that has some: starts or resumes the tool, or waits on our own run. */
  async run(plan: JobPlan, release: () => void, context: () => ResultContext): Promise<PendingResult> {
    const settings = longRunSettings(this.type.selected.executor, this.options.longRun);
    switch (plan.kind) {
      case 'start':
        if (plan.restartAfterMs !== undefined) this.log.warn(`the worker running run ${plan.basis.runId} stopped reporting; restarting it here (the executor is restartable)`, { silentMs: plan.restartAfterMs });
        return this.startAndWait(plan.basis, undefined, settings, context, release);
      case 'resume':
        return this.startAndWait(plan.basis, plan.state, settings, context, release);
      case 'own': {
        const mine = this.options.runs.get(plan.runId);
        // Swept between the plan and the acknowledgement (no job of it came for a long time).
        if (!mine) throw new JobFailure('SystemUnavailable', lostRunMessage(this.options.owner, plan.runId));
        mine.lastSeenAt = this.now();
        mine.awaitingJob = false;
        this.runId = mine.runId;
        this.onWorkspace(mine.workspace.root);
        return this.waitAndReport(mine, settings, context);
      }
      default:
        throw new Error(`a ${plan.kind} plan has no work; its result is known before the acknowledgement`);
    }
  }

  /** A continuation result for `basis` at the next hop; the signer enforces the size limit. */
  private hop(basis: Basis, phase: RunPhase, owner: OwnerId | undefined, outcome: Extract<JobOutcome, { status: 'in-progress' }>, context: ResultContext): PendingResult {
    const now = this.now();
    const sign = (state: unknown) => {
      const payload: TokenPayload = {
        actionType: this.type.selected.label,
        binding: bindingOf(this.data),
        runId: basis.runId,
        phase,
        ...(owner ? { owner } : {}),
        startedAt: basis.startedAt,
        deadline: basis.deadline,
        lastOwnerReport: now,
        hop: basis.hop + 1,
        attempt: basis.attempt,
        ...(state !== undefined ? { state } : {}),
      };
      return signToken(payload, this.options.tokenKey, this.type.selected.executor.plugin);
    };
    return continuation(outcome, context, sign);
  }

  /** Starts the tool here (this worker becomes the run's owner), then waits as the owner does. */
  private async startAndWait(basis: Basis, state: unknown, settings: LongRunSettings, context: () => ResultContext, release: () => void): Promise<PendingResult> {
    const data = this.data;
    const workspace = await createWorkspace(
      this.options.workDir,
      `run-${basis.runId}`,
      data.inputArtifacts.map((artifact) => artifact.name),
      data.outputArtifacts.map((artifact) => artifact.name),
    );
    this.onWorkspace(workspace.root);
    try {
      this.throwIfAborted();
      if (data.inputArtifacts.length) {
        const started = performance.now();
        await this.s3Phase(async () => {
          for (const artifact of data.inputArtifacts) {
            this.throwIfAborted();
            const directory = workspace.inputs[artifact.name] as string;
            const got = await this.withCredentials((target) => this.options.transfer.downloadAndExtract(target, directory, this.options.extractLimits ?? DEFAULT_EXTRACT_LIMITS, this.signal), artifact);
            this.log.debug('input artifact extracted', { artifact: artifact.name, files: got.files, bytes: got.bytes });
          }
        });
        this.timings.inputMs += performance.now() - started;
      }
    } catch (error) {
      await this.dropWorkspace(workspace.root);
      throw error;
    }
    const now = this.now();
    const controller = new AbortController();
    const run: Run = {
      runId: basis.runId,
      actionType: this.type.selected.label,
      startedAt: basis.startedAt,
      deadline: basis.deadline,
      attempt: basis.attempt,
      workspace,
      controller,
      settled: undefined as unknown as Promise<RunEnd>,
      lastReportAt: now,
      hop: basis.hop,
      progress: {},
      lastSeenAt: now,
      awaitingJob: false,
    };
    const deadlineTimer = setTimeout(
      () => controller.abort(new JobFailure('JobFailed', `the run did not finish within ${formatDuration(basis.deadline - basis.startedAt)} (the worker's --job-timeout, counted across ${run.hop} continuation jobs); it was stopped`)),
      Math.max(0, basis.deadline - now),
    );
    deadlineTimer.unref();
    const job: ExecutorJob = {
      identity: {
        jobId: this.polled.id,
        pipeline: data.pipeline,
        stage: data.stage,
        action: data.action,
        pipelineExecutionId: data.pipelineExecutionId,
        actionExecutionId: data.actionExecutionId,
        actionType: this.type.selected.label,
      },
      configuration: data.configuration,
      workspace,
      state,
      signal: controller.signal,
      secrets: this.type.selected.secretProperties.map((name) => data.configuration[name] ?? '').filter(Boolean),
      log: progressTap(this.options.board ? boardTap(this.log, this.options.board, basis.runId) : this.log, run),
    };
    this.options.board?.start({
      runId: basis.runId,
      pipeline: data.pipeline,
      stage: data.stage,
      action: data.action,
      provider: this.type.selected.ref.provider,
      actionType: this.type.selected.label,
      startedAt: basis.startedAt,
      secrets: [...job.secrets, data.credentials.accessKeyId, data.credentials.secretAccessKey, data.credentials.sessionToken],
      progress: () => run.progress,
    });
    (run as { settled: Promise<RunEnd> }).settled = this.executeRun(job, controller.signal).then((end) => {
      clearTimeout(deadlineTimer);
      run.ended = end;
      return end;
    });
    this.options.runs.add(run);
    release();
    this.runId = basis.runId;
    return this.waitAndReport(run, settings, context);
  }

  /** Runs the executor for a run; never rejects. Gives up `settleMs` after the run's signal aborts. */
  private async executeRun(job: ExecutorJob, signal: AbortSignal): Promise<RunEnd> {
    let giveUp: (() => void) | undefined;
    const abandoned = new Promise<never>((_, reject) => {
      giveUp = () => {
        const timer = setTimeout(() => reject(signal.reason instanceof Error ? signal.reason : new JobFailure('SystemUnavailable', 'the run was stopped')), this.options.settleMs);
        timer.unref();
      };
      if (signal.aborted) giveUp();
      else signal.addEventListener('abort', giveUp, { once: true });
    });
    abandoned.catch(() => undefined);
    try {
      const value = await Promise.race([Promise.resolve().then(() => this.type.executor(job)), abandoned]);
      if (signal.aborted) return { error: signal.reason instanceof Error ? signal.reason : new JobFailure('SystemUnavailable', 'the run was stopped') };
      const checked = checkOutcome(value);
      if (!checked.ok) return { error: new JobFailure('JobFailed', checked.reason) };
      return { outcome: checked.outcome };
    } catch (error) {
      return { error };
    } finally {
      if (giveUp) signal.removeEventListener('abort', giveUp);
    }
  }

  /**
   * The owner holding a job of its run: keeps it until the progress interval since the last report
   * passes or the run ends. Then reports the end (final result, failure, or the async plugin's
   * state to resume anywhere), or progress with a token naming this worker as the owner.
   */
  private async waitAndReport(run: Run, settings: LongRunSettings, context: () => ResultContext): Promise<PendingResult> {
    if (!run.ended) {
      const wait = Math.max(0, run.lastReportAt + settings.progressIntervalMs - this.now());
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      await Promise.race([
        run.settled,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, wait);
          onAbort = resolve;
          this.signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      clearTimeout(timer);
      if (onAbort) this.signal.removeEventListener('abort', onAbort);
      if (this.signal.aborted && !run.ended) {
        // The job is being stopped (shutdown, job timeout): the tool stops with it.
        run.controller.abort(this.signal.reason);
        await run.settled;
      }
    }
    const basis: Basis = { runId: run.runId, startedAt: run.startedAt, deadline: run.deadline, attempt: run.attempt, hop: run.hop };
    if (!run.ended) {
      const now = this.now();
      const pending = this.hop(basis, 'run', this.options.owner, {
        status: 'in-progress',
        state: undefined,
        summary: progressSummary(run.progress, now - run.startedAt, `${this.options.owner.host} (pid ${this.options.owner.pid})`),
        ...(run.progress.percent !== undefined ? { percentComplete: run.progress.percent } : {}),
        externalExecutionId: run.runId,
      }, context());
      run.lastReportAt = now;
      run.hop++;
      run.awaitingJob = true;
      return pending;
    }
    this.options.runs.delete(run.runId);
    const end = run.ended;
    try {
      if ('error' in end) throw end.error;
      const outcome = end.outcome;
      const linkShown = run.hop > 0;
      const withId = <T extends { externalExecutionId?: string }>(o: T): T => (o.externalExecutionId === undefined && linkShown ? { ...o, externalExecutionId: run.runId } : o);
      if (outcome.status === 'failed') return failure(outcome.failureType ?? 'JobFailed', outcome.message, context(), withId(outcome).externalExecutionId);
      // An async plugin: its state goes in the token and the next job resumes it anywhere.
      if (outcome.status === 'in-progress') return this.hop(basis, 'resume', undefined, withId(outcome), context());
      return await this.finishOutputs(run.workspace, withId(outcome), context);
    } finally {
      this.finished.push(run.workspace.root);
    }
  }

  private async dropWorkspace(root: string): Promise<void> {
    if (this.options.keepWorkspaces) return;
    await rm(root, { recursive: true, force: true, maxRetries: 2 }).catch((error: unknown) => this.log.warn('could not remove the run workspace', { error: describe(error) }));
  }

  private async finishOutputs(workspace: Workspace, outcome: Extract<JobOutcome, { status: 'succeeded' }>, context: () => ResultContext): Promise<PendingResult> {
    const data = this.data;
    this.throwIfAborted();
    // Every declared output must have been produced; an empty folder is a configuration mistake
    // (the executor's outputs mapping does not match the pipeline's output artifacts).
    const missing: string[] = [];
    for (const artifact of data.outputArtifacts) if (await isEmptyDir(workspace.outputs[artifact.name] ?? '')) missing.push(artifact.name);
    if (missing.length) {
      throw new JobFailure(
        'ConfigurationError',
        `the plugin produced nothing for the output artifact${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; check the executor's outputs in actions.yaml for ${this.type.selected.label} against the action's output artifacts`,
      );
    }
    if (data.outputArtifacts.length) {
      const started = performance.now();
      await this.s3Phase(async () => {
        const key = kmsKeyFor(this.data.encryptionKey);
        for (const artifact of data.outputArtifacts) {
          this.throwIfAborted();
          const got = await this.withCredentials((target) => this.options.transfer.zipAndUpload(target, workspace.outputs[artifact.name] as string, key, this.signal), artifact);
          this.log.debug('output artifact uploaded', { artifact: artifact.name, files: got.files, bytes: got.bytes });
        }
      });
      this.timings.outputMs += performance.now() - started;
    }
    return finalSuccess(outcome, context());
  }

  private throwIfAborted(): void {
    if (!this.signal.aborted) return;
    throw this.signal.reason instanceof Error ? this.signal.reason : new JobFailure('SystemUnavailable', 'the job was stopped');
  }

  /** Refreshes the credentials first when they are old (the job's ones last about 15 minutes). */
  private async s3Phase(phase: () => Promise<void>): Promise<void> {
    if (this.now() - this.credentialsAt >= this.options.credentialRefreshMs) await this.refresh('they are old');
    await phase();
  }

  private async refresh(why: string): Promise<void> {
    this.log.info(`refreshing the artifact credentials (${why})`);
    const fresh = await this.options.api.details(this.polled.id);
    this.data = { ...this.data, credentials: fresh.credentials, ...(fresh.encryptionKey ? { encryptionKey: fresh.encryptionKey } : {}) };
    this.credentialsAt = this.now();
    this.onFreshData(fresh);
  }

  private target(artifact: ArtifactLocation): TransferTarget {
    return { location: artifact, credentials: this.data.credentials, region: this.options.region, ...(this.options.s3Endpoint ? { endpoint: this.options.s3Endpoint } : {}) };
  }

  /** One transfer, retried once with fresh credentials when S3 says they expired. */
  private async withCredentials<T>(call: (target: TransferTarget) => Promise<T>, artifact: ArtifactLocation): Promise<T> {
    try {
      return await call(this.target(artifact));
    } catch (error) {
      if (!isExpiredCredentials(error)) throw error;
      await this.refresh('S3 said they expired');
      return call(this.target(artifact));
    }
  }
}

/** The artifact transfer's expired-credentials error (or a raw S3 ExpiredToken). */
function isExpiredCredentials(error: unknown): boolean {
  const record = error as { expiredCredentials?: unknown; name?: unknown; Code?: unknown } | undefined;
  return record?.expiredCredentials === true || record?.name === 'ExpiredToken' || record?.Code === 'ExpiredToken';
}

/** A job's plan, with what is known before its acknowledgement. */
interface Planned {
  readonly plan: JobPlan;
  /** Frees the run slot a start holds until its run is registered; idempotent. */
  readonly release: () => void;
  /** The result, when the plan needs no work. */
  readonly immediate?: PendingResult;
  /** What the ledger says to report if this worker dies before reporting (see fallbackKind). */
  readonly fallback?: PendingResult;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
