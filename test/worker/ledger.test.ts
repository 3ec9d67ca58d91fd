// The job ledger on a real folder: a worker reading the ledger (recovery of stopped siblings runs
// every few seconds) while it writes an entry of its own must not delete that entry's temporary
// file, or the write fails and the job with it; temporary files of dead writers are cleaned up.
// And what recovering an entry sends (pendingOnRecovery, pure).

import { strict as assert } from 'node:assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ledger, type LedgerEntry } from '../../src/worker/ledger.js';
import { pendingOnRecovery } from '../../src/worker/results.js';
import { tempWorkDir } from '../helpers/worker-world.js';

const anEntry = (jobId: string, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  version: 1,
  jobId,
  actionType: 'Build/Local-Build/1',
  pipeline: 'P',
  stage: 'Build',
  action: 'Build',
  acknowledgedAt: new Date(0).toISOString(),
  pid: process.pid,
  host: hostname(),
  state: 'running',
  ...over,
});

describe('job ledger', () => {
  it('keeps its own in-flight temporary files while listing (a sibling check during a write)', async () => {
    const ledger = new Ledger(tempWorkDir());
    // Two instances in one process share a work folder when tests run two workers in-process.
    const other = new Ledger(ledger.dir.replace(/\/ledger$/, ''));
    const ids = Array.from({ length: 150 }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`);
    const results = await Promise.allSettled(ids.flatMap((id) => [ledger.write(anEntry(id)), ledger.list(), other.list()]));
    const failed = results.filter((result) => result.status === 'rejected');
    assert.deepEqual(failed.map((result) => String((result as PromiseRejectedResult).reason)), []);
    assert.equal((await ledger.list()).length, ids.length);
  });

  it('removes temporary files a dead writer left behind, and keeps complete entries', async () => {
    const ledger = new Ledger(tempWorkDir());
    await ledger.write(anEntry('11111111-1111-1111-1111-111111111111'));
    const dead = 2 ** 22 + 17; // no such process
    writeFileSync(join(ledger.dir, `.22222222-2222-2222-2222-222222222222.${dead}.1.0.tmp`), '{"vers');
    const entries = await ledger.list();
    assert.deepEqual(entries.map((entry) => entry.jobId), ['11111111-1111-1111-1111-111111111111']);
    assert.deepEqual(readdirSync(ledger.dir), ['11111111-1111-1111-1111-111111111111.json']);
  });
});

describe('what recovering a ledger entry sends', () => {
  const handBack = { kind: 'success', result: { continuationToken: 'v1.token.sig' } } as const;
  const computed = { kind: 'failure', result: { type: 'JobFailed', message: 'the tool failed' } } as const;
  it('the result the stopped worker computed, even when it also recorded a fallback', () => {
    assert.deepEqual(pendingOnRecovery(anEntry('j', { state: 'result-computed', result: computed, fallback: handBack })), computed);
  });
  it('the fallback recorded before the acknowledgement for a running job', () => {
    assert.deepEqual(pendingOnRecovery(anEntry('j', { fallback: handBack })), handBack);
  });
  it('SystemUnavailable naming the stopped worker for a running job without a fallback (its tool died with it)', () => {
    const pending = pendingOnRecovery(anEntry('j', { pid: 4242, host: 'runner-b', acknowledgedAt: '2024-01-02T03:04:05.000Z' }));
    assert.equal(pending?.kind, 'failure');
    assert.equal(pending.kind === 'failure' && pending.result.type, 'SystemUnavailable');
    assert.match(pending.kind === 'failure' ? pending.result.message : '', /^the worker running this job stopped \(pid 4242, host runner-b\) before it finished; it was acknowledged at 2024-01-02T03:04:05.000Z/);
  });
  it('nothing for a job already reported', () => {
    assert.equal(pendingOnRecovery(anEntry('j', { state: 'reported' })), undefined);
  });
});
