// Runs one action's job locally, hop by hop, with the worker's own pieces and no AWS: the same
// workspace layout (a fresh one per hop, as each continuation is a new job), the plugin host
// (frozen context, exec gateway, redaction, outcome validation), the failure classification, the
// results exactly as PutJobSuccessResult / PutJobFailureResult would receive them, and the signed
// continuation token (its size limit, its overall deadline). Only S3 is replaced: inputs come from
// local folders or ZIPs, outputs go to a folder (local-artifacts.ts).

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { JobIdentity } from '../../plugin.js';
import { formatDuration } from '../../util/duration.js';
import { classifyFailure } from '../classify-failure.js';
import { bindingOf, randomTokenKey, signToken, verifyToken, type TokenKey, type TokenPayload } from '../continuation.js';
import type { PendingResult } from '../ledger.js';
import { runPlugin, type PreparedPlugin } from '../plugins/host.js';
import { createRedactor, type Redactor } from '../redact.js';
import { continuation, failure, finalSuccess, type ResultContext } from '../results.js';
import { JobFailure } from '../types.js';
import { createWorkspace, isEmptyDir, removeWorkspace } from '../workspace.js';
import { collectOutput, stageInput, type ArtifactCount, type CollectedOutput } from './local-artifacts.js';
import type { LocalJobPlan } from './plan-local-job.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LocalJobEvent =
  | { readonly kind: 'hop-start'; readonly hop: number; readonly maxHops: number; readonly jobId: string; readonly state: unknown; readonly continued: boolean }
  | { readonly kind: 'input'; readonly hop: number; readonly name: string; readonly count: ArtifactCount }
  /** A plugin log line or a tool's output line (`stream` set), already redacted. */
  | { readonly kind: 'log'; readonly level: LogLevel; readonly message: string; readonly stream?: 'stdout' | 'stderr'; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly kind: 'hop-end'; readonly hop: number; readonly result: PendingResult; readonly durationMs: number };

export interface LocalJobOptions {
  readonly plan: LocalJobPlan;
  readonly prepared: PreparedPlugin;
  /** Receives the final outputs: `<outputDir>/<Name>/` (and `<Name>.zip` with `zip`). */
  readonly outputDir: string;
  /** Job workspaces go to `<workDir>/jobs/<jobId>/`. */
  readonly workDir: string;
  readonly keepWorkspaces: boolean;
  readonly zip: boolean;
  readonly maxHops: number;
  /** The whole run, all hops together (the token's overall deadline). */
  readonly timeoutMs: number;
  /** Pause between hops, as CodePipeline hands out the next job only when a worker polls again. */
  readonly hopDelayMs: number;
  /** Start as a continuation with this state (as if a previous hop had returned it). */
  readonly initialState?: { readonly state: unknown };
  readonly onEvent: (event: LocalJobEvent) => void;
  /** Stops the run (Ctrl-C): the running hop fails with the reason, as a worker shutdown does. */
  readonly signal?: AbortSignal;
  readonly extraEnvNames?: readonly string[];
  readonly redactor?: Redactor;
  readonly now?: () => number;
}

export type LocalJobStatus = 'succeeded' | 'failed' | 'in-progress';

export interface LocalJobResult {
  /** `in-progress`: the run stopped at --max-hops while the plugin still wanted to continue. */
  readonly status: LocalJobStatus;
  readonly hops: number;
  /** The last result, as the job API would have received it. */
  readonly result: PendingResult;
  readonly outputs: readonly CollectedOutput[];
  /** The state the next hop would get, when the run stopped in progress. */
  readonly pendingState?: unknown;
  readonly durationMs: number;
}

/** The identity local jobs carry (tools see it as CPSYNC_PIPELINE, CPSYNC_STAGE, ...). */
export const LOCAL_JOB_NAMES = { pipeline: 'local', stage: 'Local', action: 'RunJob' } as const;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function runLocalJob(options: LocalJobOptions): Promise<LocalJobResult> {
  const { plan, prepared } = options;
  const now = options.now ?? Date.now;
  const started = performance.now();
  const startedAt = now();
  const deadline = startedAt + options.timeoutMs;
  const key: TokenKey = randomTokenKey();
  const secrets = plan.secretKeys.map((name) => plan.configuration[name] ?? '').filter(Boolean);
  const redactor = options.redactor ?? createRedactor();
  for (const secret of secrets) redactor.add(secret);
  const base = { ...LOCAL_JOB_NAMES, pipelineExecutionId: randomUUID(), actionExecutionId: randomUUID(), actionType: plan.label };
  const expectation = () => ({ actionType: plan.label, binding: bindingOf(base), now: now() });
  const runId = randomUUID();
  const payload = (hop: number, state: unknown): TokenPayload => ({
    actionType: plan.label,
    binding: bindingOf(base),
    runId,
    phase: 'resume',
    startedAt,
    deadline,
    lastOwnerReport: now(),
    hop,
    attempt: 1,
    ...(state !== undefined ? { state } : {}),
  });
  const elapsed = () => Math.round(performance.now() - started);

  let token: string | undefined;
  if (options.initialState) {
    const signed = signToken(payload(0, options.initialState.state), key, plan.type.executor?.plugin ?? prepared.name);
    if (!signed.ok) return { status: 'failed', hops: 0, result: failure('JobFailed', signed.reason, { secrets }), outputs: [], durationMs: elapsed() };
    token = signed.token;
  }

  let last: PendingResult | undefined;
  let lastState: unknown;
  let hops = 0;
  for (let hop = 1; hop <= options.maxHops; hop++) {
    hops = hop;
    if (hop > 1) await sleep(options.hopDelayMs, options.signal);
    let state: unknown;
    if (token !== undefined) {
      // Every hop trusts only what the verified token carries, as a worker does.
      const verified = verifyToken(token, key, expectation());
      if (!verified.ok) {
        last = failure('JobFailed', verified.reason, { secrets });
        options.onEvent({ kind: 'hop-end', hop, result: last, durationMs: 0 });
        return { status: 'failed', hops: hop, result: last, outputs: [], durationMs: elapsed() };
      }
      state = verified.payload.state;
    }
    const jobId = randomUUID();
    options.onEvent({ kind: 'hop-start', hop, maxHops: options.maxHops, jobId, state, continued: token !== undefined });
    const hopStarted = performance.now();
    const outcome = await runHop({ ...options, redactor }, { hop, jobId, identity: { ...base, jobId }, state, secrets, deadline, now, sign: (next) => signToken(payload(hop, next), key, plan.type.executor?.plugin ?? prepared.name) });
    last = outcome.result;
    options.onEvent({ kind: 'hop-end', hop, result: last, durationMs: Math.round(performance.now() - hopStarted) });
    if (last.kind === 'failure') return { status: 'failed', hops: hop, result: last, outputs: [], durationMs: elapsed() };
    if (last.result.continuationToken === undefined) return { status: 'succeeded', hops: hop, result: last, outputs: outcome.outputs, durationMs: elapsed() };
    token = last.result.continuationToken;
    lastState = outcome.state;
    if (options.signal?.aborted) break;
  }
  return { status: 'in-progress', hops, result: last as PendingResult, outputs: [], pendingState: lastState, durationMs: elapsed() };
}

interface Hop {
  readonly hop: number;
  readonly jobId: string;
  readonly identity: JobIdentity;
  readonly state: unknown;
  readonly secrets: readonly string[];
  readonly deadline: number;
  readonly now: () => number;
  readonly sign: (state: unknown) => ReturnType<typeof signToken>;
}

async function runHop(options: LocalJobOptions & { readonly redactor: Redactor }, hop: Hop): Promise<{ result: PendingResult; outputs: CollectedOutput[]; state?: unknown }> {
  const { plan, prepared } = options;
  let context: ResultContext = { secrets: hop.secrets };
  const controller = new AbortController();
  const onStop = () => controller.abort(new JobFailure('SystemUnavailable', `the job was stopped: ${describeReason(options.signal?.reason)}`));
  if (options.signal?.aborted) onStop();
  else options.signal?.addEventListener('abort', onStop, { once: true });
  const remaining = hop.deadline - hop.now();
  const timer = setTimeout(
    () => controller.abort(new JobFailure('JobFailed', `the run did not finish within ${formatDuration(options.timeoutMs)} (run-job --timeout); it was stopped`)),
    Math.max(0, remaining),
  );
  try {
    const workspace = await createWorkspace(options.workDir, hop.jobId, plan.inputs.map((input) => input.name), plan.outputs);
    context = { ...context, workspace: workspace.root };
    for (const input of plan.inputs) {
      const count = await stageInput(input, workspace.inputs[input.name] as string, controller.signal);
      options.onEvent({ kind: 'input', hop: hop.hop, name: input.name, count });
    }
    if (controller.signal.aborted) throw controller.signal.reason;

    const emit = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
      const { stream, ...rest } = fields ?? {};
      options.onEvent({ kind: 'log', level, message, ...(stream === 'stdout' || stream === 'stderr' ? { stream } : {}), fields: rest });
    };
    const outcome = await runPlugin(prepared, {
      job: hop.identity,
      configuration: plan.configuration,
      inputs: workspace.inputs,
      outputs: workspace.outputs,
      workspace: workspace.root,
      state: hop.state,
      log: { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') },
      signal: controller.signal,
      secretKeys: plan.secretKeys,
      redactor: options.redactor,
      execOptions: { homeDir: workspace.home, tmpDir: workspace.tmp, ...(options.extraEnvNames ? { extraEnvNames: options.extraEnvNames } : {}) },
    });

    if (outcome.status === 'failed') return { result: failure(outcome.failureType, outcome.message, context, outcome.externalExecutionId), outputs: [] };
    if (outcome.status === 'in-progress') {
      // The worker's own result: no secret in the state, the details cut to the API's limits,
      // and the signed token, whose size is what CodePipeline limits.
      return { result: continuation(outcome, context, hop.sign), outputs: [], state: outcome.state };
    }

    // As the worker: every declared output must hold something.
    const missing: string[] = [];
    for (const name of plan.outputs) if (await isEmptyDir(workspace.outputs[name] as string)) missing.push(name);
    if (missing.length) {
      throw new JobFailure(
        'ConfigurationError',
        `the plugin produced nothing for the output artifact${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; check the executor's outputs in actions.yaml for ${plan.label} against the action's output artifacts`,
      );
    }
    const outputs: CollectedOutput[] = [];
    for (const name of plan.outputs) outputs.push(await collectOutput(name, workspace.outputs[name] as string, options.outputDir, options.zip));
    return { result: finalSuccess(outcome, context), outputs };
  } catch (error) {
    const classified = classifyFailure(controller.signal.aborted && controller.signal.reason instanceof JobFailure ? controller.signal.reason : error);
    return { result: failure(classified.type, classified.message, context), outputs: [] };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onStop);
    if (!options.keepWorkspaces) await removeWorkspace(options.workDir, hop.jobId).catch(() => undefined);
  }
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'cancelled';
}
