// Four workers on one action type, with the endpoint throttling 10% and failing 5% of the job API
// calls: 200 jobs, each acknowledged once and reported once, none lost. Checked behind the API in
// the endpoint's store and through a counting wrapper around each worker's job API.

import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import type { FaultRule } from '../../src/emulator/index.js';
import type { Executor } from '../../src/worker/run-job.js';
import { buildAction, s3SourceAction } from '../helpers/pipeline-world.js';
import { ARTIFACT_BUCKET, countingApi, createPipeline, executionRecords, jobRecords, jobsApiFor, jobType, seedWorkerWorld, startExecution, startTestEndpoint, startTestWorker, waitFor, type ApiLedger, type TestEndpoint } from '../helpers/worker-world.js';

const PIPELINES = 50;
const EXECUTIONS_PER_PIPELINE = 4;
const JOBS = PIPELINES * EXECUTIONS_PER_PIPELINE;
const JOB_OPERATIONS = ['PollForJobs', 'AcknowledgeJob', 'GetJobDetails', 'PutJobSuccessResult', 'PutJobFailureResult'];

function twoStage(name: string): PipelineDeclaration {
  return {
    name,
    roleArn: 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service',
    artifactStore: { type: 'S3', location: ARTIFACT_BUCKET },
    pipelineType: 'V2',
    executionMode: 'PARALLEL',
    stages: [
      { name: 'Source', actions: [s3SourceAction()] },
      { name: 'Build', actions: [buildAction('Build', { configuration: { ProjectName: 'load' } })] },
    ],
  };
}

const noop: Executor = async (job) => {
  for (const dir of Object.values(job.workspace.outputs)) await writeFile(join(dir, 'ok.txt'), 'ok\n');
  return { status: 'succeeded' };
};

describe('four workers under fault injection', () => {
  let world: TestEndpoint;
  after(async () => {
    await world?.close();
  });

  it(`process ${JOBS} jobs: each acknowledged once and reported once, none lost`, { timeout: 120_000 }, async () => {
    const faults: FaultRule[] = JOB_OPERATIONS.map((operation) => ({ operation, throttleRate: 0.1, errorRate: 0.05 }));
    world = await startTestEndpoint({ faults, seed: 20261125 });
    await seedWorkerWorld(world);
    for (let p = 0; p < PIPELINES; p++) {
      await createPipeline(world, twoStage(`Load-${p}`));
      for (let e = 1; e < EXECUTIONS_PER_PIPELINE; e++) await startExecution(world, `Load-${p}`);
    }

    const ledger: ApiLedger = { acknowledged: new Map(), reported: new Map(), credentials: new Set() };
    const workers = [];
    for (let i = 0; i < 4; i++) {
      workers.push(await startTestWorker(world, { api: countingApi(await jobsApiFor(world), ledger), types: [jobType(noop)], concurrency: 4, poll: { minMs: 5, maxMs: 40 } }));
    }
    await waitFor(
      `${JOBS} succeeded jobs`,
      async () => {
        const jobs = jobRecords(world);
        return jobs.length === JOBS && jobs.every((job) => job.status === 'Succeeded') ? true : undefined;
      },
      100_000,
    );
    for (const worker of workers) worker.stop();
    const summaries = await Promise.all(workers.map((worker) => worker.done));

    const jobs = jobRecords(world);
    assert.equal(jobs.length, JOBS);
    for (const job of jobs) {
      assert.equal(job.status, 'Succeeded');
      assert.equal(ledger.acknowledged.get(job.id), 1, `job ${job.id} acknowledged ${ledger.acknowledged.get(job.id) ?? 0} times`);
      assert.equal(ledger.reported.get(job.id), 1, `job ${job.id} reported ${ledger.reported.get(job.id) ?? 0} times`);
    }
    assert.equal(ledger.acknowledged.size, JOBS);
    assert.equal(ledger.reported.size, JOBS);
    const executions = executionRecords(world);
    assert.equal(executions.length, JOBS);
    assert.ok(executions.every((execution) => execution.status === 'Succeeded'));
    assert.equal(summaries.reduce((sum, summary) => sum + (summary.outcomes.succeeded ?? 0), 0), JOBS);
    assert.equal(summaries.reduce((sum, summary) => sum + summary.unreported, 0), 0);
    // The faults were really there: some polls were refused.
    const metrics = workers.map((worker) => worker.metrics.render()).join('\n');
    assert.match(metrics, /cpsync_worker_polls_total\{provider="Local-Build",result="(throttled|error)"\} [1-9]/);
  });
});
