import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, isRetryable, withRetries } from '../../src/aws/retry.js';

const awsError = (name: string, status?: number) => Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });

describe('retry policy', () => {
  it('retries throttling, 5xx, conflicts and lost connections', () => {
    for (const error of [awsError('ThrottlingException', 400), awsError('SlowDown', 503), awsError('InternalFailure', 500), awsError('Whatever', 502), awsError('ConcurrentModificationException', 400), awsError('ConflictException', 409), Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })]) {
      assert.equal(isRetryable(error), true, error.name);
    }
  });

  it('never retries a quota error, although the SDK would', () => {
    assert.equal(isRetryable(awsError('LimitExceededException', 400)), false);
  });

  it('does not retry other client errors', () => {
    for (const name of ['ValidationException', 'PipelineNotFoundException', 'InvalidNonceException', 'InvalidJobStateException']) assert.equal(isRetryable(awsError(name, 400)), false, name);
  });

  it('backs off exponentially with full jitter, capped', () => {
    const options = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000, random: () => 1 };
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, options)), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(backoffDelay(3, { ...options, random: () => 0 }), 0);
  });

  it('gives up after the last attempt and passes non-retryable errors through at once', async () => {
    let calls = 0;
    const sleep = async () => undefined;
    await assert.rejects(withRetries(async () => { calls++; throw awsError('ThrottlingException', 400); }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep }), /ThrottlingException/);
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(withRetries(async () => { calls++; throw awsError('LimitExceededException', 400); }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep }), /LimitExceededException/);
    assert.equal(calls, 1);
    calls = 0;
    assert.equal(await withRetries(async () => (++calls < 3 ? Promise.reject(awsError('InternalFailure', 500)) : 'ok'), { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleep }), 'ok');
  });
});
