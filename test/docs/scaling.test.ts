import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { WorkerMetrics } from '../../src/worker/metrics.js';
import { checkInvocation, findCpsyncInvocations } from '../helpers/cpsync-invocations.js';

const text = readFileSync(new URL('../../docs/scaling.md', import.meta.url), 'utf8');

/** The metric families the worker exports, from its own /metrics text. */
function exportedFamilies(): Set<string> {
  const metrics = new WorkerMetrics();
  metrics.countJob('My-Test-Lab', 'succeeded', 1);
  metrics.countPoll('My-Test-Lab', 'jobs');
  return new Set([...metrics.render().matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] as string));
}

describe('docs/scaling.md', () => {
  it('names only metrics the worker exports, and all of them', () => {
    const exported = exportedFamilies();
    const named = new Set([...text.matchAll(/\bcpsync_worker_\w+/g)].map((match) => match[0].replace(/_(bucket|sum|count)$/, '')));
    assert.deepEqual([...named].filter((name) => !exported.has(name)), [], 'documented but not exported');
    assert.deepEqual([...exported].filter((name) => !named.has(name)), [], 'exported but not documented');
  });

  it('uses only cpsync commands and flags that exist', () => {
    const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
    const invocations = blocks.flatMap(findCpsyncInvocations);
    assert.ok(invocations.length >= 3);
    assert.deepEqual(invocations.flatMap((invocation) => checkInvocation(invocation).problem ?? []), []);
  });
});
