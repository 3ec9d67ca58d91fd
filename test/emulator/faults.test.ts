// Fault injection seen through the job API with the real SDK: throttling, 500s, and a response lost
// after the endpoint applied the request (the classic lost acknowledgement).

import { strict as assert } from 'node:assert';
import { afterEach, describe, it } from 'node:test';
import { AcknowledgeJobCommand, CodePipelineClient, GetJobDetailsCommand, PollForJobsCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { startTestEndpoint, TEST_CREDENTIALS, type TestEndpoint } from '../helpers/endpoint.js';
import { BUILD_TYPE, createPipeline, latestExecutionId, pollJob, rejectsWith, seedWorld, threeStagePipeline, waitFor, waitForEnd } from '../helpers/pipeline-world.js';
import type { FaultRule } from '../../src/emulator/index.js';

describe('fault injection on the job API', () => {
  const opened: TestEndpoint[] = [];
  const open = async (faults: FaultRule[]) => {
    const world = await startTestEndpoint({ faults, seed: 7 });
    opened.push(world);
    await seedWorld(world);
    return world;
  };
  afterEach(async () => {
    for (const world of opened.splice(0)) await world.close();
  });

  it('answers throttled polls with ThrottlingException and hands out nothing', async () => {
    const world = await open([{ operation: 'PollForJobs', throttleRate: 1 }]);
    await createPipeline(world, threeStagePipeline('Throttled'));
    const jobs = world.endpoint.context.store.table<{ status: string }>('jobs');
    await waitFor('the Build job to be queued', async () => (jobs.size ? true : undefined));
    await rejectsWith(world.codepipeline.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE })), 'ThrottlingException');
    // The refused poll dispatched nothing: the job is still queued.
    assert.deepEqual([...jobs.values()].map((job) => job.status), ['Queued']);
  });

  it('answers with InternalFailure (500) without applying the call', async () => {
    const world = await open([{ operation: 'AcknowledgeJob', errorRate: 1 }]);
    await createPipeline(world, threeStagePipeline('Erroring'));
    const job = await pollJob(world.codepipeline);
    const error = await rejectsWith(world.codepipeline.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce })), 'InternalFailure');
    assert.equal((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 500);
    // Not applied: the job is still only dispatched, so a result is refused.
    await rejectsWith(world.codepipeline.send(new PutJobSuccessResultCommand({ jobId: job.id })), 'InvalidJobStateException');
  });

  it('the SDK retries a throttled call and succeeds when the fault clears', async () => {
    const world = await open([{ operation: 'GetJobDetails', throttleRate: 0.5 }]);
    await createPipeline(world, threeStagePipeline('Retried'));
    const job = await pollJob(world.codepipeline);
    const retrying = new CodePipelineClient({ endpoint: world.endpoint.url, region: world.endpoint.region, credentials: TEST_CREDENTIALS, maxAttempts: 10 });
    try {
      for (let i = 0; i < 5; i++) {
        const details = await retrying.send(new GetJobDetailsCommand({ jobId: job.id }));
        assert.equal(details.jobDetails?.id, job.id);
      }
    } finally {
      retrying.destroy();
    }
  });

  it('applies an acknowledgement whose response is lost: the retry gets InvalidNonceException, the job is ours', async () => {
    const world = await open([{ operation: 'AcknowledgeJob', dropResponseRate: 1 }]);
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('LostAck'));
    const executionId = await latestExecutionId(cp, 'LostAck');
    const job = await pollJob(cp);
    await assert.rejects(cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce })), (error: Error) => {
      // A network-level failure, not an AWS error answer.
      assert.notEqual(error.name, 'InvalidNonceException');
      return true;
    });
    await rejectsWith(cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce })), 'InvalidNonceException');
    // The acknowledgement did happen: the job is InProgress and takes its result.
    await cp.send(new PutJobSuccessResultCommand({ jobId: job.id }));
    assert.equal((await waitForEnd(cp, 'LostAck', executionId)).status, 'Succeeded');
  });
});
