// What a long run costs in polls: the owner polls its type eagerly only between reporting a hop and
// the next job of the run reaching it, never while it holds one (a one-hour tool would otherwise
// poll every --poll-min for the whole hour). No timing assertions: counts, with bounded waits.

import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { RunRegistry, type Run } from '../../src/worker/long-run.js';
import type { Executor } from '../../src/worker/run-job.js';
import { buildAction } from '../helpers/pipeline-world.js';
import {
  countingApi,
  createPipeline,
  jobsApiFor,
  jobType,
  latestExecutionId,
  seedWorkerWorld,
  startTestEndpoint,
  startTestWorker,
  threeStagePipeline,
  waitForEnd,
  type TestEndpoint,
} from '../helpers/worker-world.js';

describe('long runs: polling', () => {
  it('counts only runs waiting for their next job as reasons to poll eagerly', () => {
    const registry = new RunRegistry();
    const run = (runId: string, actionType: string, awaitingJob: boolean) =>
      ({ runId, actionType, awaitingJob, startedAt: 0, deadline: 1, attempt: 1, lastReportAt: 0, hop: 1, progress: {}, lastSeenAt: 0 }) as unknown as Run;
    registry.add(run('held', 'Build/A/1', false));
    assert.equal(registry.waitingFor('Build/A/1'), 0, 'a run whose job the owner holds');
    registry.add(run('reported', 'Build/A/1', true));
    registry.add(run('other', 'Build/B/1', true));
    assert.equal(registry.waitingFor('Build/A/1'), 1);
    assert.equal(registry.waitingFor('Build/B/1'), 1);
    assert.equal(registry.activeCount(), 3, 'every unfinished run still takes a slot');
  });

  const opened: TestEndpoint[] = [];
  afterEach(async () => {
    for (const world of opened.splice(0)) await world.close();
  });

  it('does not poll every --poll-min while the owner holds its run\'s job', async () => {
    const world = await startTestEndpoint();
    opened.push(world);
    await seedWorkerWorld(world);
    await createPipeline(
      world,
      threeStagePipeline('Held', {
        stages: [threeStagePipeline('x').stages![0]!, { name: 'Build', actions: [buildAction('Build', { configuration: { ProjectName: 'held' } })] }, threeStagePipeline('x').stages![2]!],
      }),
    );
    const executor: Executor = async (job) => {
      // Outlives two progress intervals: the owner holds a job of the run most of this time.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      for (const dir of Object.values(job.workspace.outputs)) await writeFile(join(dir, 'x.txt'), 'x');
      return { status: 'succeeded', summary: 'done' };
    };
    const calls = { empty: 0, jobs: 0 };
    const api = countingApi(await jobsApiFor(world));
    const poll = api.poll.bind(api);
    api.poll = async (...args) => {
      const jobs = await poll(...args);
      if (jobs.length) calls.jobs++;
      else calls.empty++;
      return jobs;
    };
    // Eager polling would be every 20 ms: ~150 empty polls over the 3 s run. Backing off (up to
    // 2^n × 20 ms, reset when a poll brings the run's next job) it is about log2(hold ÷ 20 ms) ≈ 7 per
    // hold of 1.5 s, so some 15-25 in all.
    const worker = await startTestWorker(world, {
      api,
      types: [jobType(executor)],
      tokenKey: 'long-run-polling-test-key-0123456789',
      concurrency: 2,
      poll: { minMs: 20, maxMs: 10_000 },
      random: () => 0.5,
      longRun: { progressIntervalMs: 1_500 },
    });
    const execution = await latestExecutionId(world.codepipeline, 'Held');
    assert.equal((await waitForEnd(world.codepipeline, 'Held', execution)).status, 'Succeeded');
    worker.stop();
    await worker.done;
    assert.ok(calls.jobs >= 2, `the run reported progress hops (${calls.jobs} polls returned a job)`);
    assert.ok(calls.empty <= 50, `${calls.empty} empty polls while a 3 s run held its job (eager polling makes ~150)`);
  });
});
