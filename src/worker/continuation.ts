// The continuation token: how a long action's run travels from one job to the next. CodePipeline
// stores the token and hands it back on the action's next job (data.continuationToken), to any
// worker polling the type. Pure.
//
// Format (version 1): `v1.<base64url(JSON payload)>.<base64url(HMAC-SHA256(key, "v1.<payload>"))>`,
// signed with the fleet key (settings `worker.tokenKey`). Every hop verifies it before trusting a
// byte: a token that is malformed, tampered with, signed with another key, written for another
// action (type or pipeline/stage/action), past its overall deadline or of an unknown version is
// refused with a message saying which.
//
// The old unsigned encoding (`encodeContinuation`/`decodeContinuation`) stays for callers that only
// size state; the worker never accepts an unsigned token.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RULES } from '../model/limits.js';

/** CodePipeline accepts continuation tokens of 1–2048 characters. */
export const MAX_TOKEN_LENGTH = RULES.continuationToken.max;
export const TOKEN_VERSION = 'v1';

/** Which worker process holds a run's tool: host, pid and the process's start time (ms). */
export interface OwnerId {
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
}

/**
 * What a hop carries.
 * - `start`: nothing has run yet (details link first, or a fresh start handed on); any worker starts it.
 * - `run`: the tool runs on `owner`; only the owner can report its end.
 * - `resume`: an async plugin returned in-progress with `state`; any worker calls it again.
 */
export type RunPhase = 'start' | 'run' | 'resume';

export interface TokenPayload {
  /** `Category/Provider/Version` of the action type. */
  readonly actionType: string;
  /** `pipeline/stage/action` (and the pipeline execution id when known) the run belongs to. */
  readonly binding: string;
  readonly runId: string;
  readonly phase: RunPhase;
  readonly owner?: OwnerId;
  /** When the run's first job was acknowledged (ms since the epoch). */
  readonly startedAt: number;
  /** The run fails once this passes, however many hops it took (ms since the epoch). */
  readonly deadline: number;
  /** When the owner last reported (its clock); a stale value means the owner stopped. */
  readonly lastOwnerReport: number;
  /** Jobs this run has used so far (the first job is hop 0). */
  readonly hop: number;
  /** How many times the run was started (restarts after a lost owner add one). */
  readonly attempt: number;
  /** The plugin's state (phase `resume`). */
  readonly state?: unknown;
}

/** The key as configured, after `${env:NAME}` resolution. */
export interface TokenKey {
  readonly secret: Buffer;
  /** True when the worker made the key up (no worker.tokenKey): only this process can verify. */
  readonly ephemeral: boolean;
}

export const MIN_KEY_LENGTH = 16;

export function randomTokenKey(): TokenKey {
  return { secret: randomBytes(32), ephemeral: true };
}

export function tokenKeyFrom(text: string): TokenKey {
  return { secret: Buffer.from(text, 'utf8'), ephemeral: false };
}

export type SignResult = { readonly ok: true; readonly token: string } | { readonly ok: false; readonly reason: string; readonly stateChars?: number };

export type VerifyProblem = 'malformed' | 'version' | 'signature' | 'foreign-type' | 'foreign-action' | 'expired';
export type VerifyResult = { readonly ok: true; readonly payload: TokenPayload } | { readonly ok: false; readonly problem: VerifyProblem; readonly reason: string };

export interface Expectation {
  readonly actionType: string;
  readonly binding: string;
  readonly now: number;
}

/** `pipeline/stage/action` plus the execution id, the identity a token is bound to. */
export function bindingOf(job: { readonly pipeline: string; readonly stage: string; readonly action: string; readonly pipelineExecutionId?: string }): string {
  return `${job.pipeline}/${job.stage}/${job.action}${job.pipelineExecutionId ? `@${job.pipelineExecutionId}` : ''}`;
}

// Short keys keep the token compact; the payload type above is the readable form.
interface Wire {
  t: string;
  b: string;
  r: string;
  ph: RunPhase;
  o?: [string, number, number];
  st: number;
  dl: number;
  lr: number;
  n: number;
  a: number;
  s?: unknown;
}

function toWire(payload: TokenPayload): Wire {
  return {
    t: payload.actionType,
    b: payload.binding,
    r: payload.runId,
    ph: payload.phase,
    ...(payload.owner ? { o: [payload.owner.host, payload.owner.pid, payload.owner.startedAt] as [string, number, number] } : {}),
    st: payload.startedAt,
    dl: payload.deadline,
    lr: payload.lastOwnerReport,
    n: payload.hop,
    a: payload.attempt,
    ...(payload.state !== undefined ? { s: payload.state } : {}),
  };
}

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function fromWire(value: unknown): TokenPayload | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const w = value as Partial<Wire>;
  if (typeof w.t !== 'string' || typeof w.b !== 'string' || typeof w.r !== 'string' || !w.r) return undefined;
  if (w.ph !== 'start' && w.ph !== 'run' && w.ph !== 'resume') return undefined;
  if (![w.st, w.dl, w.lr, w.n, w.a].every(isInt)) return undefined;
  let owner: OwnerId | undefined;
  if (w.o !== undefined) {
    if (!Array.isArray(w.o) || w.o.length !== 3 || typeof w.o[0] !== 'string' || !isInt(w.o[1]) || !isInt(w.o[2])) return undefined;
    owner = { host: w.o[0], pid: w.o[1], startedAt: w.o[2] };
  }
  if (w.ph === 'run' && !owner) return undefined;
  return {
    actionType: w.t,
    binding: w.b,
    runId: w.r,
    phase: w.ph,
    ...(owner ? { owner } : {}),
    startedAt: w.st as number,
    deadline: w.dl as number,
    lastOwnerReport: w.lr as number,
    hop: w.n as number,
    attempt: w.a as number,
    ...(w.s !== undefined ? { state: w.s } : {}),
  };
}

function mac(key: TokenKey, signed: string): string {
  return createHmac('sha256', key.secret).update(signed, 'utf8').digest('base64url');
}

const grouped = (n: number) => n.toLocaleString('en-US');

/**
 * Signs a payload. Refuses a payload whose token would not fit CodePipeline's 2048 characters,
 * naming the plugin state's encoded size (the only part that can grow).
 */
export function signToken(payload: TokenPayload, key: TokenKey, pluginName = 'the plugin'): SignResult {
  let json: string | undefined;
  try {
    json = JSON.stringify(toWire(payload));
  } catch (error) {
    return { ok: false, reason: `plugin ${pluginName} returned in-progress state that cannot be written as JSON (${(error as Error).message})` };
  }
  if (json === undefined) return { ok: false, reason: `plugin ${pluginName} returned in-progress state that cannot be written as JSON` };
  const body = `${TOKEN_VERSION}.${Buffer.from(json, 'utf8').toString('base64url')}`;
  const token = `${body}.${mac(key, body)}`;
  if (token.length > MAX_TOKEN_LENGTH) {
    const stateJson = payload.state === undefined ? '' : JSON.stringify(payload.state);
    const stateChars = Math.ceil((Buffer.byteLength(stateJson, 'utf8') * 4) / 3);
    return {
      ok: false,
      stateChars,
      reason: `plugin ${pluginName} returned ${grouped(stateChars)} characters of state; continuation tokens hold at most ${grouped(MAX_TOKEN_LENGTH)} (the whole token would be ${grouped(token.length)}; keep a pointer, not the data)`,
    };
  }
  return { ok: true, token };
}

/** Checks a token and returns its payload; never trusts anything before the signature matches. */
export function verifyToken(token: unknown, key: TokenKey, expect: Expectation): VerifyResult {
  const bad = (problem: VerifyProblem, reason: string): VerifyResult => ({ ok: false, problem, reason: `refusing the continuation token: ${reason}` });
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return bad('malformed', 'it is not a token this worker writes (malformed)');
  const parts = token.split('.');
  const version = parts[0] ?? '';
  if (/^v\d+$/.test(version) && version !== TOKEN_VERSION) {
    return bad('version', `it has version ${version}, and this worker reads only ${TOKEN_VERSION} (a newer or older cpsync wrote it; run one cpsync version per fleet)`);
  }
  if (parts.length !== 3 || version !== TOKEN_VERSION || !/^[A-Za-z0-9_-]+$/.test(parts[1] ?? '') || !/^[A-Za-z0-9_-]{43}$/.test(parts[2] ?? '')) {
    return bad('malformed', 'it is not a token this worker writes (malformed: expected v1.<payload>.<signature>)');
  }
  const body = `${parts[0]}.${parts[1]}`;
  const expected = Buffer.from(mac(key, body), 'utf8');
  const given = Buffer.from(parts[2] as string, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return bad(
      'signature',
      key.ephemeral
        ? 'its signature does not match: it was changed, or written by another worker process (worker.tokenKey is not set, so each worker signs with its own key; set the same worker.tokenKey on every worker of the fleet)'
        : 'its signature does not match: it was changed, or signed with a different worker.tokenKey (every worker of the fleet needs the same key)',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
  } catch {
    return bad('malformed', 'its payload is not JSON (malformed)');
  }
  const payload = fromWire(parsed);
  if (!payload) return bad('malformed', 'its payload lacks required fields (malformed)');
  if (payload.actionType !== expect.actionType) return bad('foreign-type', `it was written for action type ${payload.actionType}, not ${expect.actionType}`);
  if (payload.binding !== expect.binding) return bad('foreign-action', `it was written for action ${payload.binding}, not ${expect.binding}`);
  if (expect.now > payload.deadline) {
    return bad('expired', `the run passed its overall deadline ${new Date(payload.deadline).toISOString()} (started ${new Date(payload.startedAt).toISOString()}, ${payload.hop} hops)`);
  }
  return { ok: true, payload };
}

// ---------------------------------------------------------------------------------------------
// Unsigned state encoding (version 1 of the earlier format), kept for sizing and old callers.

const PREFIX = 'v1.';

export type EncodeResult = { readonly ok: true; readonly token: string } | { readonly ok: false; readonly reason: string };
export type DecodeResult = { readonly ok: true; readonly state: unknown } | { readonly ok: false; readonly reason: string };

/** @deprecated unsigned; the worker signs tokens with `signToken`. */
export function encodeContinuation(state: unknown): EncodeResult {
  let json: string | undefined;
  try {
    json = JSON.stringify(state === undefined ? null : state);
  } catch (error) {
    return { ok: false, reason: `the plugin's in-progress state cannot be written as JSON (${(error as Error).message})` };
  }
  if (json === undefined) return { ok: false, reason: "the plugin's in-progress state cannot be written as JSON" };
  const token = PREFIX + Buffer.from(json, 'utf8').toString('base64url');
  if (token.length > MAX_TOKEN_LENGTH) {
    return {
      ok: false,
      reason: `the plugin's in-progress state is too large for a continuation token: ${token.length} characters encoded (${Buffer.byteLength(json)} bytes of JSON); CodePipeline allows at most ${MAX_TOKEN_LENGTH}`,
    };
  }
  return { ok: true, token };
}

/** @deprecated unsigned; the worker verifies tokens with `verifyToken`. */
export function decodeContinuation(token: string): DecodeResult {
  if (!token.startsWith(PREFIX)) return { ok: false, reason: 'the continuation token was not written by this cpsync worker (unknown format)' };
  const body = token.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) return { ok: false, reason: 'the continuation token is damaged (not base64url)' };
  try {
    return { ok: true, state: JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown };
  } catch {
    return { ok: false, reason: 'the continuation token is damaged (its state is not JSON)' };
  }
}
