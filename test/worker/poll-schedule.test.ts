import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { batchSize, jitteredBackoff, nextPoll, pollOutcome, pollingHealthy } from '../../src/worker/poll-schedule.js';

const bounds = { minMs: 1_000, maxMs: 30_000 };

describe('poll scheduling', () => {
  const sizes: [number, number, number, number][] = [
    // concurrency, running, reserved → maxBatchSize
    [4, 0, 0, 4],
    [4, 3, 0, 1],
    [4, 2, 2, 0],
    [4, 4, 0, 0],
    [4, 5, 0, 0],
    [1, 0, 0, 1],
  ];
  for (const [concurrency, running, reserved, expected] of sizes) {
    it(`asks for ${expected} with concurrency ${concurrency}, ${running} running, ${reserved} promised to other polls`, () => {
      assert.equal(batchSize(concurrency, running, reserved), expected);
    });
  }

  const outcomes: [number, number, string][] = [
    [4, 4, 'full'],
    [4, 2, 'partial'],
    [4, 0, 'empty'],
    [1, 1, 'full'],
  ];
  for (const [asked, got, expected] of outcomes) it(`${got} of ${asked} is ${expected}`, () => assert.equal(pollOutcome(asked, got), expected));

  it('re-polls at once after a full batch and resets the back-off', () => {
    assert.deepEqual(nextPoll('full', 7, bounds, () => 0.5), { delayMs: 0, streak: 0 });
  });

  it('waits the minimum after a partial batch', () => {
    assert.deepEqual(nextPoll('partial', 3, bounds, () => 0.9), { delayMs: 1_000, streak: 0 });
  });

  it('backs off exponentially while idle, within [min, max]', () => {
    let streak = 0;
    const caps: number[] = [];
    for (let i = 0; i < 8; i++) {
      const decision = nextPoll('empty', streak, bounds, () => 1);
      streak = decision.streak;
      caps.push(decision.delayMs);
    }
    assert.deepEqual(caps, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('uses full jitter: random 0 gives the minimum, never below it', () => {
    for (let streak = 0; streak < 10; streak++) assert.equal(nextPoll('empty', streak, bounds, () => 0).delayMs, 1_000);
  });

  it('backs off faster when throttled than when idle', () => {
    assert.ok(nextPoll('throttled', 0, bounds, () => 1).streak > nextPoll('empty', 0, bounds, () => 1).streak);
    assert.equal(nextPoll('throttled', 0, bounds, () => 1).delayMs, 2_000);
    assert.equal(nextPoll('error', 4, bounds, () => 1).delayMs, 30_000);
  });

  it('handles min = max and min = 0', () => {
    assert.equal(jitteredBackoff(5, { minMs: 500, maxMs: 500 }, () => 0.7), 500);
    assert.ok(jitteredBackoff(3, { minMs: 0, maxMs: 100 }, () => 1) <= 100);
  });

  it('reports health from consecutive poll failures', () => {
    assert.equal(pollingHealthy(4, 5), true);
    assert.equal(pollingHealthy(5, 5), false);
  });
});
