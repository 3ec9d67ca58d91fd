// The SDK job API adapter against the local endpoint: job data mapped, and acknowledgements and
// results retried through dropped responses, 500s and throttling without losing a job.

import { strict as assert } from 'node:assert';
import { afterEach, describe, it } from 'node:test';
import type { FaultRule } from '../../src/emulator/index.js';
import { BUILD_SELECTED } from '../helpers/worker-world.js';

const BUILD_TYPE = BUILD_SELECTED.ref;
import { createPipeline, jobRecords, jobsApiFor, KMS_KEY_ARN, seedWorkerWorld, startTestEndpoint, threeStagePipeline, waitFor, type TestEndpoint } from '../helpers/worker-world.js';

describe('jobs API adapter', () => {
  const opened: TestEndpoint[] = [];
  const open = async (faults: FaultRule[] = []) => {
    const world = await startTestEndpoint({ faults, seed: 3 });
    opened.push(world);
    await seedWorkerWorld(world);
    return world;
  };
  afterEach(async () => {
    for (const world of opened.splice(0)) await world.close();
  });

  it('maps a polled job (artifacts, key, configuration with secrets, context)', async () => {
    const world = await open();
    await createPipeline(world, threeStagePipeline('Mapped'));
    await waitFor('a queued job', async () => (jobRecords(world).length ? true : undefined));
    const api = await jobsApiFor(world);
    try {
      const [job] = await api.poll(BUILD_TYPE, 5);
      assert.ok(job);
      assert.equal(job.data.pipeline, 'Mapped');
      assert.equal(job.data.stage, 'Build');
      assert.equal(job.data.action, 'Build');
      assert.deepEqual(job.data.actionType, { category: 'Build', provider: 'Local-Build', version: '1' });
      assert.deepEqual(job.data.configuration, { ProjectName: 'proj-Build', Token: 's3cr3t-value' });
      assert.deepEqual(job.data.encryptionKey, { id: KMS_KEY_ARN, type: 'KMS' });
      assert.deepEqual(job.data.inputArtifacts.map((artifact) => artifact.name), ['SourceOut']);
      assert.deepEqual(job.data.outputArtifacts.map((artifact) => artifact.name), ['BuildOut']);
      assert.match(job.data.credentials.accessKeyId, /^ASIA/);
      assert.equal(await api.acknowledge(job.id, job.nonce), 'InProgress');
      await assert.rejects(api.acknowledge(job.id, job.nonce), { name: 'InvalidNonceException' });
      const fresh = await api.details(job.id);
      assert.notEqual(fresh.credentials.accessKeyId, job.data.credentials.accessKeyId);
      assert.deepEqual(await api.listCustomActionTypes(), [{ category: 'Build', provider: 'Local-Build', version: '1' }]);
    } finally {
      api.close();
    }
  });

  it('keeps a job whose acknowledgement response was lost, and delivers results through 500s, throttling and dropped responses', async () => {
    const world = await open([
      { operation: 'AcknowledgeJob', dropResponseRate: 0.5 },
      { operation: 'PutJobFailureResult', throttleRate: 0.3, errorRate: 0.2 },
    ]);
    for (let i = 0; i < 6; i++) await createPipeline(world, threeStagePipeline(`Drop-${i}`));
    await waitFor('six queued jobs', async () => (jobRecords(world).length === 6 ? true : undefined));
    const api = await jobsApiFor(world);
    try {
      const jobs = await api.poll(BUILD_TYPE, 10);
      assert.equal(jobs.length, 6);
      for (const job of jobs) assert.equal(await api.acknowledge(job.id, job.nonce), 'InProgress');
      for (const job of jobs) await api.fail(job.id, { type: 'JobFailed', message: 'checked' });
      assert.deepEqual(jobRecords(world).map((job) => job.status), Array(6).fill('Failed'));
    } finally {
      api.close();
    }
  });
});
