// One job, from acknowledgement to exactly one result. Everything after a successful
// acknowledgement is inside one try: whatever the plugin, a tool, S3 or the disk does, a result is
// computed, written to the ledger and reported. The plugin never sees credentials; the worker
// downloads inputs and uploads outputs with them, refreshing them on long jobs.

import { hostname } from 'node:os';
import type { JobIdentity, JobOutcome } from '../plugin.js';
import { isRetryable } from '../aws/retry.js';
import { formatDuration } from '../util/duration.js';
import { kmsKeyFor } from './artifacts/sse.js';
import { classifyFailure } from './classify-failure.js';
import { decodeContinuation } from './continuation.js';
import type { Ledger, LedgerEntry, PendingResult } from './ledger.js';
import type { Logger } from './logger.js';
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
}

export type JobEnd = { readonly acknowledged: false; readonly reason: 'lost-race' | 'not-in-progress' | 'ack-error' } | { readonly acknowledged: true; readonly outcome: string; readonly reported: boolean };

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

  // Acknowledge with the nonce; only an InProgress answer makes the job ours.
  let status: string;
  try {
    status = await options.api.acknowledge(polled.id, polled.nonce);
  } catch (error) {
    if ((error as Error).name === 'InvalidNonceException') {
      options.metrics.lostAcknowledgements++;
      log.debug('another worker acknowledged the job first');
      return { acknowledged: false, reason: 'lost-race' };
    }
    log.error('could not acknowledge the job; leaving it to CodePipeline to hand out again', { error: describe(error) });
    return { acknowledged: false, reason: 'ack-error' };
  }
  if (status !== 'InProgress') {
    log.info(`acknowledgement answered ${status}; not running the job`);
    return { acknowledged: false, reason: 'not-in-progress' };
  }

  const acknowledgedAt = now();
  options.metrics.inFlight++;
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
  };
  let context: ResultContext = { secrets: [...secrets] };
  let pending: PendingResult;
  const controller = new AbortController();
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
    await options.ledger.write(entry);
    const job = new RunningJob(polled, type, options, controller.signal, log, (fresh) => {
      for (const value of secretsOf(fresh)) secrets.add(value);
      context = { ...context, secrets: [...secrets] };
    });
    context = { ...context, workspace: job.workspaceRoot };
    pending = await job.run(() => context);
  } catch (error) {
    const classified = classifyFailure(controller.signal.aborted && controller.signal.reason instanceof JobFailure ? controller.signal.reason : error);
    if (classified.type === 'JobFailed' && !(error instanceof JobFailure)) log.warn('the job failed', { error: describe(error) });
    pending = failure(classified.type, classified.message, context);
  } finally {
    clearTimeout(timer);
    options.shutdown.removeEventListener('abort', onShutdown);
  }

  let reported = false;
  try {
    await options.ledger.write({ ...entry, state: 'result-computed', result: pending });
  } catch (error) {
    // The disk may be full: report anyway, the ledger only protects against a crash.
    log.warn('could not record the result in the ledger', { error: describe(error) });
  }
  reported = await reportResult(options.api, polled.id, pending, log);
  if (reported) await options.ledger.remove(polled.id).catch(() => undefined);
  if (!options.keepWorkspaces) await removeWorkspace(options.workDir, polled.id).catch((error: unknown) => log.warn('could not remove the workspace', { error: describe(error) }));
  options.metrics.inFlight--;
  const label = outcomeLabel(pending);
  options.metrics.countJob(type.selected.ref.provider, label as JobOutcomeLabel, (now() - acknowledgedAt) / 1000);
  return { acknowledged: true, outcome: label, reported };
}

/**
 * Sends a result, retrying throttling and 5xx (the adapter's policy). A job that is already
 * finished or gone on the AWS side is left alone. A success CodePipeline refuses (too many output
 * variables, a bad field) becomes a failure, so the action never waits for a timeout.
 * Returns false when the result could not be delivered (the ledger keeps it for the next start).
 */
export async function reportResult(api: JobsApi, jobId: string, pending: PendingResult, log: Logger): Promise<boolean> {
  try {
    if (pending.kind === 'success') await api.succeed(jobId, pending.result);
    else await api.fail(jobId, pending.result);
    log.info(pending.kind === 'success' ? (pending.result.continuationToken ? 'job continues in a new job' : 'job succeeded') : `job failed (${pending.result.type})`, pending.kind === 'failure' ? { failureType: pending.result.type } : {});
    return true;
  } catch (error) {
    const name = (error as Error).name;
    if (GONE.has(name)) {
      log.warn(`CodePipeline no longer accepts a result for this job (${name}): it finished, timed out or was abandoned`);
      return true;
    }
    if (pending.kind === 'success' && !isRetryable(error)) {
      log.warn('CodePipeline refused the success result; reporting a failure instead', { error: describe(error) });
      return reportResult(api, jobId, { kind: 'failure', result: { type: 'JobFailed', message: `CodePipeline refused the job's result (${name}): ${describe(error)}`.slice(0, 5000) } }, log);
    }
    log.error('could not report the result; it stays in the ledger for the next start', { error: describe(error) });
    return false;
  }
}

class RunningJob {
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

  async run(context: () => ResultContext): Promise<PendingResult> {
    const data = this.data;
    let state: unknown;
    if (data.continuationToken !== undefined) {
      const decoded = decodeContinuation(data.continuationToken);
      if (!decoded.ok) throw new JobFailure('JobFailed', decoded.reason);
      state = decoded.state;
    }
    const workspace = await createWorkspace(
      this.options.workDir,
      this.polled.id,
      data.inputArtifacts.map((artifact) => artifact.name),
      data.outputArtifacts.map((artifact) => artifact.name),
    );
    this.throwIfAborted();

    if (data.inputArtifacts.length) {
      await this.s3Phase(async () => {
        for (const artifact of data.inputArtifacts) {
          this.throwIfAborted();
          const directory = workspace.inputs[artifact.name] as string;
          const got = await this.withCredentials((target) => this.options.transfer.downloadAndExtract(target, directory, this.options.extractLimits ?? DEFAULT_EXTRACT_LIMITS, this.signal), artifact);
          this.log.debug('input artifact extracted', { artifact: artifact.name, files: got.files, bytes: got.bytes });
        }
      });
    }

    const outcome = await this.execute({
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
      signal: this.signal,
      secrets: this.type.selected.secretProperties.map((name) => data.configuration[name] ?? '').filter(Boolean),
      log: this.log,
    });

    if (outcome.status === 'failed') return failure(outcome.failureType ?? 'JobFailed', outcome.message, context(), outcome.externalExecutionId);
    if (outcome.status === 'in-progress') return continuation(outcome, context());

    // Every declared output must have been produced; an empty folder is a configuration mistake
    // (the executor's outputs mapping does not match the pipeline's output artifacts).
    const missing: string[] = [];
    for (const artifact of data.outputArtifacts) if (await isEmptyDir(workspace.outputs[artifact.name] as string)) missing.push(artifact.name);
    if (missing.length) {
      throw new JobFailure(
        'ConfigurationError',
        `the plugin produced nothing for the output artifact${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; check the executor's outputs in actions.yaml for ${this.type.selected.label} against the action's output artifacts`,
      );
    }
    if (data.outputArtifacts.length) {
      await this.s3Phase(async () => {
        const key = kmsKeyFor(this.data.encryptionKey);
        for (const artifact of data.outputArtifacts) {
          this.throwIfAborted();
          const got = await this.withCredentials((target) => this.options.transfer.zipAndUpload(target, workspace.outputs[artifact.name] as string, key, this.signal), artifact);
          this.log.debug('output artifact uploaded', { artifact: artifact.name, files: got.files, bytes: got.bytes });
        }
      });
    }
    return finalSuccess(outcome, context());
  }

  /** Runs the executor; gives up waiting `settleMs` after the job's signal aborts (a plugin that ignores it). */
  private async execute(job: ExecutorJob): Promise<JobOutcome> {
    let giveUp: (() => void) | undefined;
    const abandoned = new Promise<never>((_, reject) => {
      giveUp = () => {
        const timer = setTimeout(() => reject(this.signal.reason instanceof Error ? this.signal.reason : new JobFailure('SystemUnavailable', 'the job was stopped')), this.options.settleMs);
        timer.unref();
      };
      if (this.signal.aborted) giveUp();
      else this.signal.addEventListener('abort', giveUp, { once: true });
    });
    abandoned.catch(() => undefined);
    let value: unknown;
    try {
      value = await Promise.race([Promise.resolve().then(() => this.type.executor(job)), abandoned]);
    } finally {
      if (giveUp) this.signal.removeEventListener('abort', giveUp);
    }
    // Stopped by the timeout or the shutdown: that, not what the cancelled tool said, is the result.
    this.throwIfAborted();
    const checked = checkOutcome(value);
    if (!checked.ok) throw new JobFailure('JobFailed', checked.reason);
    return checked.outcome;
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

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
