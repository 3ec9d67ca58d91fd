// The pure decisions of the job runner: failure types, message sanitizing, continuation tokens and
// result building. Table-driven.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CpsyncError } from '../../src/util/errors.js';
import { classifyFailure, redactSecrets, sanitizeMessage } from '../../src/worker/classify-failure.js';
import { decodeContinuation, encodeContinuation, MAX_TOKEN_LENGTH } from '../../src/worker/continuation.js';
import { checkOutcome, continuation, failure, finalSuccess } from '../../src/worker/results.js';
import { JobFailure } from '../../src/worker/types.js';

const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...extra });
const errno = (code: string) => Object.assign(new Error(`${code}: something`), { code });

describe('classifyFailure', () => {
  const cases: [string, unknown, string][] = [
    ['a JobFailure keeps its type', new JobFailure('RevisionOutOfSync', 'x'), 'RevisionOutOfSync'],
    ['a user configuration error', new CpsyncError('plugin.options', 'bad options'), 'ConfigurationError'],
    ['a plugin configuration error', Object.assign(new Error('bad'), { name: 'PluginConfigurationError' }), 'ConfigurationError'],
    ['S3 AccessDenied', sdkError('AccessDenied', 403), 'PermissionError'],
    ['KMS access denied', sdkError('KMS.AccessDeniedException', 400), 'PermissionError'],
    ['any 403', sdkError('Weird', 403), 'PermissionError'],
    ['a missing input object', sdkError('NoSuchKey', 404), 'RevisionUnavailable'],
    ['a missing bucket', sdkError('NoSuchBucket', 404), 'RevisionUnavailable'],
    ['a full disk', errno('ENOSPC'), 'SystemUnavailable'],
    ['a disk quota', errno('EDQUOT'), 'SystemUnavailable'],
    ['throttled after retries', sdkError('ThrottlingException', 400), 'SystemUnavailable'],
    ['S3 SlowDown', sdkError('SlowDown', 503), 'SystemUnavailable'],
    ['a 500', sdkError('InternalFailure', 500), 'SystemUnavailable'],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'SystemUnavailable'],
    ['a TypeError in a plugin', new TypeError('x is not a function'), 'JobFailed'],
    ['a thrown string', 'boom', 'JobFailed'],
    ['a thrown object', { weird: true }, 'JobFailed'],
    ['undefined', undefined, 'JobFailed'],
  ];
  for (const [name, error, type] of cases) {
    it(`${name} → ${type}`, () => {
      const classified = classifyFailure(error);
      assert.equal(classified.type, type);
      assert.ok(classified.message.length > 0);
    });
  }
});

describe('sanitizeMessage', () => {
  it('strips the workspace path and redacts secrets', () => {
    const text = 'make: *** /work/w/jobs/abc/inputs/Src/Makefile:3: token s3cr3t-value and AKIA123 failed';
    const out = sanitizeMessage(text, { workspace: '/work/w/jobs/abc', secrets: ['s3cr3t-value', 'AKIA123'] });
    assert.equal(out, 'make: *** inputs/Src/Makefile:3: token *** and *** failed');
  });

  it('redacts a secret that contains another one whole', () => {
    assert.equal(redactSecrets('abc-long-secret', ['abc', 'abc-long-secret']), '***');
  });

  it('keeps the first line and the tail when the message is too long', () => {
    const lines = ['the tool exited with code 2', ...Array.from({ length: 2000 }, (_, i) => `line ${i}`), 'FINAL ERROR: missing semicolon'];
    const out = sanitizeMessage(lines.join('\n'), { secrets: [] });
    assert.ok(out.length <= 5000, `length ${out.length}`);
    assert.ok(out.startsWith('the tool exited with code 2\n…\n'));
    assert.ok(out.endsWith('FINAL ERROR: missing semicolon'));
  });

  it('cuts a single huge line to the tail', () => {
    const out = sanitizeMessage(`${'x'.repeat(10_000)}END`, { secrets: [] });
    assert.equal(out.length, 5000);
    assert.ok(out.startsWith('…') && out.endsWith('END'));
  });

  it('never sends an empty message', () => {
    assert.equal(sanitizeMessage('   ', { secrets: [] }), 'the job failed without a message');
  });
});

describe('continuation tokens', () => {
  it('round-trips JSON state', () => {
    const state = { buildId: 'b-1', attempt: 3, nested: { ok: true, list: [1, 'two'] } };
    const encoded = encodeContinuation(state);
    assert.ok(encoded.ok);
    if (!encoded.ok) return;
    assert.match(encoded.token, /^v1\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeContinuation(encoded.token), { ok: true, state });
  });

  it('refuses state over 2048 characters, naming the size', () => {
    const encoded = encodeContinuation({ blob: 'x'.repeat(2000) });
    assert.equal(encoded.ok, false);
    if (encoded.ok) return;
    assert.match(encoded.reason, /\d{4} characters encoded/);
    assert.match(encoded.reason, new RegExp(`at most ${MAX_TOKEN_LENGTH}`));
  });

  it('refuses state that is not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(encodeContinuation(cyclic).ok, false);
    assert.equal(encodeContinuation(10n).ok, false);
  });

  for (const token of ['garbage', 'v1.@@@', `v1.${Buffer.from('{not json').toString('base64url')}`]) {
    it(`rejects the foreign or damaged token ${JSON.stringify(token)}`, () => assert.equal(decodeContinuation(token).ok, false));
  }
});

describe('results', () => {
  const context = { secrets: ['hunter2'], workspace: '/w/jobs/1' };

  const garbage: [string, unknown][] = [
    ['undefined', undefined],
    ['a string', 'done'],
    ['an array', []],
    ['no status', {}],
    ['an unknown status', { status: 'ok' }],
    ['a failure without a message', { status: 'failed' }],
    ['an unknown failure type', { status: 'failed', message: 'x', failureType: 'Oops' }],
    ['a non-string output variable', { status: 'succeeded', outputVariables: { a: 1 } }],
    ['a bad output variable name', { status: 'succeeded', outputVariables: { 'a b': 'x' } }],
    ['a non-number percentage', { status: 'in-progress', state: 1, percentComplete: 'half' }],
  ];
  for (const [name, value] of garbage) {
    it(`refuses ${name} as an outcome`, () => {
      const checked = checkOutcome(value);
      assert.equal(checked.ok, false);
    });
  }

  it('builds a final success with redacted output variables and clipped details', () => {
    const pending = finalSuccess({ status: 'succeeded', summary: `built with hunter2 ${'y'.repeat(3000)}`, outputVariables: { URL: 'https://x/hunter2' }, externalExecutionId: 'run-7' }, context);
    assert.equal(pending.kind, 'success');
    if (pending.kind !== 'success') return;
    assert.equal(pending.result.outputVariables?.URL, 'https://x/***');
    assert.ok((pending.result.executionDetails?.summary ?? '').length <= 2048);
    assert.ok(!(pending.result.executionDetails?.summary ?? '').includes('hunter2'));
    assert.equal(pending.result.executionDetails?.externalExecutionId, 'run-7');
    assert.equal(pending.result.continuationToken, undefined);
  });

  it('builds a continuation without output variables, percentage clamped', () => {
    const pending = continuation({ status: 'in-progress', state: { step: 2 }, percentComplete: 140 }, context);
    assert.equal(pending.kind, 'success');
    if (pending.kind !== 'success') return;
    assert.ok(pending.result.continuationToken?.startsWith('v1.'));
    assert.equal(pending.result.executionDetails?.percentComplete, 100);
    assert.equal(pending.result.outputVariables, undefined);
  });

  it('fails a continuation whose state is too large or holds a secret', () => {
    const big = continuation({ status: 'in-progress', state: 'z'.repeat(4000) }, context);
    assert.equal(big.kind, 'failure');
    if (big.kind === 'failure') assert.match(big.result.message, /too large.*\d+ characters/);
    const leaky = continuation({ status: 'in-progress', state: { token: 'hunter2' } }, context);
    assert.equal(leaky.kind, 'failure');
    if (leaky.kind === 'failure') assert.ok(!leaky.result.message.includes('hunter2'));
  });

  it('builds a failure with the workspace stripped and the secret gone', () => {
    const pending = failure('JobFailed', 'failed in /w/jobs/1/inputs/Src with hunter2', context);
    assert.deepEqual(pending, { kind: 'failure', result: { type: 'JobFailed', message: 'failed in inputs/Src with ***' } });
  });
});
