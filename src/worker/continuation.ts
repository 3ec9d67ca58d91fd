// The continuation token: how a plugin's `in-progress` state travels from one job to the next.
// CodePipeline stores the token and hands it back on the action's next job (data.continuationToken).
// Pure. Version 1 is base64url of the JSON state behind a `v1.` prefix; a later version signs it
// (the encoding lives only here so that change stays in one place).

import { RULES } from '../model/limits.js';

const PREFIX = 'v1.';
/** CodePipeline accepts continuation tokens of 1–2048 characters. */
export const MAX_TOKEN_LENGTH = RULES.continuationToken.max;

export type EncodeResult = { readonly ok: true; readonly token: string } | { readonly ok: false; readonly reason: string };
export type DecodeResult = { readonly ok: true; readonly state: unknown } | { readonly ok: false; readonly reason: string };

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
