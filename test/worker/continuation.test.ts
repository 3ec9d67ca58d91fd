// The signed continuation token: pure encode, decode and verify, as a table of good and bad tokens.

import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { bindingOf, MAX_TOKEN_LENGTH, randomTokenKey, signToken, tokenKeyFrom, verifyToken, type TokenPayload } from '../../src/worker/continuation.js';

const KEY = tokenKeyFrom('fleet-key-0123456789abcdef');
const OTHER = tokenKeyFrom('another-key-0123456789abcdef');
const NOW = Date.UTC(2024, 0, 1, 12);
const BINDING = bindingOf({ pipeline: 'P', stage: 'Build', action: 'Make', pipelineExecutionId: 'e-1' });
const expect = { actionType: 'Build/Local-Build/1', binding: BINDING, now: NOW };

const payload = (over: Partial<TokenPayload> = {}): TokenPayload => ({
  actionType: 'Build/Local-Build/1',
  binding: BINDING,
  runId: 'r-abc',
  phase: 'run',
  owner: { host: 'runner-1', pid: 4242, startedAt: NOW - 60_000 },
  startedAt: NOW - 30_000,
  deadline: NOW + 3_600_000,
  lastOwnerReport: NOW - 1_000,
  hop: 3,
  attempt: 1,
  state: { buildId: 'b-7' },
  ...over,
});

const sign = (p: TokenPayload, key = KEY) => {
  const signed = signToken(p, key, 'make');
  assert.ok(signed.ok, signed.ok ? '' : signed.reason);
  return signed.token;
};

/** Flips one character of the payload part (keeps it base64url). */
function tamper(token: string): string {
  const [v, body, sig] = token.split('.') as [string, string, string];
  const i = Math.floor(body.length / 2);
  const flipped = body[i] === 'A' ? 'B' : 'A';
  return `${v}.${body.slice(0, i)}${flipped}${body.slice(i + 1)}.${sig}`;
}

describe('continuation token v1', () => {
  it('round-trips every field and is compact', () => {
    const token = sign(payload());
    assert.match(token, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.ok(token.length < 400, `compact: ${token.length}`);
    const verified = verifyToken(token, KEY, expect);
    assert.ok(verified.ok);
    if (verified.ok) assert.deepEqual(verified.payload, payload());
  });

  it('round-trips a start token without owner or state', () => {
    const p = payload({ phase: 'start', state: undefined, owner: undefined });
    const { owner: _o, state: _s, ...rest } = p;
    const verified = verifyToken(sign(p), KEY, expect);
    assert.ok(verified.ok);
    if (verified.ok) assert.deepEqual(verified.payload, rest);
  });

  const refused: [string, () => unknown, RegExp, string][] = [
    ['a tampered byte', () => tamper(sign(payload())), /signature does not match/, 'signature'],
    ['a tampered signature', () => sign(payload()).slice(0, -1) + (sign(payload()).endsWith('A') ? 'B' : 'A'), /signature does not match/, 'signature'],
    ['the wrong key', () => sign(payload(), OTHER), /different worker\.tokenKey/, 'signature'],
    ['a foreign action type', () => sign(payload({ actionType: 'Test/Other/2' })), /written for action type Test\/Other\/2, not Build\/Local-Build\/1/, 'foreign-type'],
    ['a foreign action', () => sign(payload({ binding: 'Q/Build/Make@e-1' })), /written for action Q\/Build\/Make@e-1/, 'foreign-action'],
    ['a past deadline', () => sign(payload({ deadline: NOW - 1 })), /passed its overall deadline/, 'expired'],
    ['an unknown version', () => sign(payload()).replace(/^v1\./, 'v2.'), /version v2.*reads only v1/, 'version'],
    ['garbage', () => 'garbage', /malformed/, 'malformed'],
    ['an empty string', () => '', /malformed/, 'malformed'],
    ['a number', () => 42, /malformed/, 'malformed'],
    ['the old unsigned format', () => `v1.${Buffer.from('{"hop":1}').toString('base64url')}`, /malformed/, 'malformed'],
    ['bad base64 in the payload', () => `v1.@@@.${'A'.repeat(43)}`, /malformed/, 'malformed'],
    ['a signed payload of the wrong shape', () => {
      // A correctly signed token whose JSON lacks fields: only a holder of the key could make it.
      const body = `v1.${Buffer.from('{"t":"Build/Local-Build/1"}').toString('base64url')}`;
      return `${body}.${createHmac('sha256', KEY.secret).update(body).digest('base64url')}`;
    }, /lacks required fields/, 'malformed'],
  ];
  for (const [name, make, message, problem] of refused) {
    it(`refuses ${name}`, () => {
      const token = make();
      const verified = verifyToken(token, KEY, expect);
      assert.equal(verified.ok, false);
      if (verified.ok) return;
      assert.equal(verified.problem, problem);
      assert.match(verified.reason, message);
      assert.match(verified.reason, /^refusing the continuation token: /);
    });
  }

  it('says so when the key is a per-worker one', () => {
    const verified = verifyToken(sign(payload(), OTHER), randomTokenKey(), expect);
    assert.equal(verified.ok, false);
    if (!verified.ok) assert.match(verified.reason, /worker\.tokenKey is not set/);
  });

  it('refuses oversized state at signing, naming the size', () => {
    const signed = signToken(payload({ state: { log: 'x'.repeat(2300) } }), KEY, 'make');
    assert.equal(signed.ok, false);
    if (signed.ok) return;
    assert.match(signed.reason, /^plugin make returned 3,\d{3} characters of state; continuation tokens hold at most 2,048/);
    assert.match(signed.reason, /keep a pointer, not the data/);
  });

  it('fits state up to the limit', () => {
    const base = sign(payload({ state: '' })).length;
    const room = Math.floor(((MAX_TOKEN_LENGTH - base) * 3) / 4) - 4;
    const token = sign(payload({ state: 'y'.repeat(room) }));
    assert.ok(token.length <= MAX_TOKEN_LENGTH);
  });

  it('refuses state that is not JSON', () => {
    assert.equal(signToken(payload({ state: 10n }), KEY).ok, false);
  });
});
