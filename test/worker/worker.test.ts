// The worker in-process against the local endpoint, with the real SDK job API and the real S3
// transfer, and small executors standing in for plugins: artifacts in and out (SSE-KMS with the
// right key), continuation, every kind of plugin misbehaviour, the ledger after a crash, and drain.

import { strict as assert } from 'node:assert';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { AcknowledgeJobCommand, CreateCustomActionTypeCommand, PollForJobsCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { JobOutcome } from '../../src/plugin.js';
import { Ledger } from '../../src/worker/ledger.js';
import { WorkerMetrics } from '../../src/worker/metrics.js';
import type { Executor, ExecutorJob } from '../../src/worker/run-job.js';
import type { JobsApi } from '../../src/worker/types.js';
import { buildAction, buildTypeDefinition, BUILD_TYPE } from '../helpers/pipeline-world.js';
import {
  actionState,
  ARTIFACT_BUCKET,
  BUILD_SELECTED,
  countingApi,
  createPipeline,
  executionRecords,
  jobRecords,
  jobsApiFor,
  jobType,
  KMS_KEY_ARN,
  LogCapture,
  seedWorkerWorld,
  startTestEndpoint,
  startTestWorker,
  tempWorkDir,
  threeStagePipeline,
  waitFor,
  waitForEnd,
  latestExecutionId,
  type TestEndpoint,
} from '../helpers/worker-world.js';

const SECRET = 's3cr3t-value';

/** Writes a file into every output listing the inputs it saw; succeeds with an output variable. */
async function build(job: ExecutorJob): Promise<JobOutcome> {
  const seen: string[] = [];
  for (const [name, dir] of Object.entries(job.workspace.inputs)) for (const file of await readdir(dir, { recursive: true })) seen.push(`${name}/${file}`);
  for (const dir of Object.values(job.workspace.outputs)) await writeFile(join(dir, 'built.txt'), `${job.configuration.ProjectName}\n${seen.sort().join('\n')}\n`);
  return { status: 'succeeded', summary: `built ${job.configuration.ProjectName}`, outputVariables: { BUILT: 'yes' }, externalExecutionId: 'run-1' };
}

const abortable = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

/** Behaviour chosen by the action's ProjectName. */
const misbehave: Executor = async (job) => {
  switch (job.configuration.ProjectName) {
    case 'throws':
      throw new Error(`kaboom while using ${SECRET} in ${job.workspace.root}/inputs`);
    case 'garbage':
      return 42 as unknown as JobOutcome;
    case 'hangs':
      return new Promise<JobOutcome>(() => undefined);
    case 'no-output':
      return { status: 'succeeded' };
    case 'tool-fails':
      return { status: 'failed', message: `make: *** [build] Error 2\nlast line of ${SECRET}` };
    case 'continues': {
      const state = job.state as { hop: number } | undefined;
      if (!state || state.hop < 2) return { status: 'in-progress', state: { hop: (state?.hop ?? 0) + 1 }, summary: 'still going', percentComplete: 40 };
      return build(job);
    }
    default:
      return build(job);
  }
};

describe('worker (in-process)', () => {
  const opened: TestEndpoint[] = [];
  const open = async () => {
    const world = await startTestEndpoint();
    opened.push(world);
    await seedWorkerWorld(world);
    return world;
  };
  afterEach(async () => {
    for (const world of opened.splice(0)) await world.close();
  });

  const queued = (world: TestEndpoint, count: number) => waitFor(`${count} queued jobs`, async () => (jobRecords(world).filter((job) => job.status === 'Queued').length >= count ? true : undefined));

  it('runs a job end to end: inputs extracted, output uploaded with the pipeline key, execution moves on', async () => {
    const world = await open();
    await createPipeline(world, threeStagePipeline('Kms'));
    await createPipeline(world, threeStagePipeline('DefaultKey', { artifactStore: { type: 'S3', location: ARTIFACT_BUCKET } }));
    await queued(world, 2);
    const api = countingApi(await jobsApiFor(world));
    const worker = await startTestWorker(world, { api, types: [jobType(misbehave)], once: true });
    const summary = await worker.done;
    assert.deepEqual(summary.outcomes, { succeeded: 2 });

    for (const [pipeline, key] of [
      ['Kms', KMS_KEY_ARN],
      ['DefaultKey', `arn:aws:kms:${world.endpoint.region}:${world.endpoint.accountId}:alias/aws/s3`],
    ] as const) {
      const execution = await waitForEnd(world.codepipeline, pipeline, await latestExecutionId(world.codepipeline, pipeline));
      assert.equal(execution.status, 'Succeeded', pipeline);
      const { action } = await actionState(world.codepipeline, pipeline, 'Build', 'Build');
      assert.equal(action?.latestExecution?.status, 'Succeeded');
      assert.equal(action?.latestExecution?.summary, 'built proj-Build');
      const job = jobRecords(world).find((record) => record.pipelineName === pipeline);
      const output = job?.outputArtifacts[0];
      assert.ok(output);
      const head = await world.s3.send(new HeadObjectCommand({ Bucket: output.bucketName, Key: output.objectKey }));
      assert.equal(head.ServerSideEncryption, 'aws:kms');
      assert.equal(head.SSEKMSKeyId, key);
      const zip = Buffer.from(await (await world.s3.send(new GetObjectCommand({ Bucket: output.bucketName, Key: output.objectKey }))).Body!.transformToByteArray());
      assert.ok(zip.includes(Buffer.from('built.txt')), 'the output ZIP holds the built file');
      assert.ok(zip.includes(Buffer.from('SourceOut/src/main.c')) || zip.length > 0);
    }
    for (const job of jobRecords(world)) {
      assert.equal(api.ledger.acknowledged.get(job.id), 1);
      assert.equal(api.ledger.reported.get(job.id), 1);
    }
    assert.deepEqual(readdirSync(join(worker.workDir, 'ledger')), [], 'the ledger is empty after reporting');
    assert.deepEqual(existsSync(join(worker.workDir, 'jobs')) ? readdirSync(join(worker.workDir, 'jobs')) : [], [], 'workspaces are removed');
  });

  it('drops a lost acknowledgement quietly and counts it; refreshes old credentials with GetJobDetails before each S3 phase; keeps workspaces when asked', async () => {
    const world = await open();
    await createPipeline(world, threeStagePipeline('Raced'));
    await createPipeline(world, threeStagePipeline('Kept'));
    await queued(world, 2);
    const counting = countingApi(await jobsApiFor(world));
    const details: string[] = [];
    let raced: string | undefined;
    const api: JobsApi = {
      ...counting,
      // Another worker takes the first job with the same nonce a moment before this one.
      async acknowledge(id, nonce) {
        if (raced === undefined) {
          raced = id;
          await world.codepipeline.send(new AcknowledgeJobCommand({ jobId: id, nonce }));
        }
        return counting.acknowledge(id, nonce);
      },
      async details(id) {
        details.push(id);
        return counting.details(id);
      },
    };
    const metrics = new WorkerMetrics();
    const worker = await startTestWorker(world, { api, metrics, types: [jobType(build)], once: true, keepWorkspaces: true, credentialRefreshMs: 0, concurrency: 1 });
    const summary = await worker.done;

    assert.deepEqual(summary.outcomes, { succeeded: 1 });
    assert.equal(metrics.lostAcknowledgements, 1);
    assert.equal(counting.ledger.acknowledged.get(raced!), undefined, 'the lost job is not ours');
    assert.equal(counting.ledger.reported.get(raced!), undefined, 'and gets no result from us');
    const kept = jobRecords(world).find((job) => job.id !== raced);
    assert.equal(kept?.status, 'Succeeded');
    // Credentials older than credentialRefreshMs (0 here): fetched again before the download and the upload.
    assert.deepEqual(details, [kept!.id, kept!.id]);
    const workspaces = readdirSync(join(worker.workDir, 'jobs'));
    assert.equal(workspaces.length, 1, 'the run workspace is kept');
    const root = join(worker.workDir, 'jobs', workspaces[0]!);
    assert.ok(readdirSync(join(root, 'inputs', 'SourceOut')).length > 0, 'with its extracted input');
    assert.ok(readdirSync(join(root, 'outputs', 'BuildOut')).includes('built.txt'), 'and its output');
  });

  it('runs the tool with the job in the ledger, and empties the ledger and removes the run workspace after the report', async () => {
    const world = await open();
    await createPipeline(world, threeStagePipeline('Ledgered'));
    await queued(world, 1);
    const workDir = tempWorkDir();
    const seen: string[] = [];
    const recordFirst: Executor = async (job) => {
      const entry = JSON.parse(await readFile(join(workDir, 'ledger', `${job.identity.jobId}.json`), 'utf8')) as { state: string; pid: number };
      seen.push(`${entry.state} ${entry.pid === process.pid ? 'this worker' : entry.pid}`);
      return build(job);
    };
    const worker = await startTestWorker(world, { types: [jobType(recordFirst)], once: true, workDir });
    const summary = await worker.done;
    assert.deepEqual(summary.outcomes, { succeeded: 1 });
    assert.deepEqual(seen, ['running this worker'], 'the entry was on disk when the tool started');
    assert.deepEqual(readdirSync(join(workDir, 'ledger')), [], 'the entry is removed once the result is reported');
    assert.deepEqual(existsSync(join(workDir, 'jobs')) ? readdirSync(join(workDir, 'jobs')) : [], [], 'the run workspace is removed after the report');
  });

  it('a type waiting for a slot polls as soon as another type\'s poll returns its reserved slots unused', async () => {
    // Concurrency 1, two types: the first type's poll (held up a little) reserves the only slot, so
    // the second type's loop finds none and waits. When that poll comes back empty, the slot is free
    // again; the second type must poll then, not at the first type's next poll after its back-off.
    const world = await open();
    const other = { ...BUILD_SELECTED, ref: { ...BUILD_SELECTED.ref, provider: 'Other-Build' }, label: 'Build/Other-Build/1' };
    await world.codepipeline.send(new CreateCustomActionTypeCommand(buildTypeDefinition({ provider: 'Other-Build' })));
    await createPipeline(world, threeStagePipeline('Waiting'));
    await queued(world, 1);
    const real = await jobsApiFor(world);
    const polls: string[] = [];
    const api: JobsApi = {
      ...real,
      region: real.region,
      close: () => real.close(),
      poll: async (type, size, query) => {
        polls.push(type.provider);
        if (type.provider === 'Other-Build') await new Promise((resolve) => setTimeout(resolve, 200));
        return real.poll(type, size, query);
      },
    };
    const worker = await startTestWorker(world, { api, types: [jobType(misbehave, other), jobType(misbehave)], concurrency: 1, poll: { minMs: 30_000, maxMs: 30_000 } });
    try {
      await waitFor('the Local-Build job to be reported', async () => (jobRecords(world).some((job) => job.pipelineName === 'Waiting' && job.status === 'Succeeded') ? true : undefined), 20_000);
      assert.deepEqual(polls.slice(0, 2), ['Other-Build', 'Local-Build'], 'the waiting type polled right after the other type\'s first poll, before its second');
    } finally {
      worker.stop();
      await worker.done;
    }
  });

  it('yields exactly one result whatever the plugin does: throws, garbage, hangs, no output, tool failure, continuation', async () => {
    const world = await open();
    const cases = ['throws', 'garbage', 'hangs', 'no-output', 'tool-fails', 'continues'];
    for (const name of cases) {
      await createPipeline(world, threeStagePipeline(`P-${name}`, { stages: [
        threeStagePipeline('x').stages![0]!,
        { name: 'Build', actions: [buildAction('Build', { configuration: { ProjectName: name, Token: SECRET } })] },
        threeStagePipeline('x').stages![2]!,
      ] }));
    }
    await queued(world, cases.length);
    const logs = new LogCapture();
    const api = countingApi(await jobsApiFor(world));
    const worker = await startTestWorker(world, { api, types: [jobType(misbehave)], once: true, jobTimeoutMs: 5_000, settleMs: 200, log: logs.logger() });
    // The job timeout bounds the hung case, and also the continuation case's three hops together
    // (a run's deadline spans its hops): generous enough for those under load.
    await worker.done;

    const error = async (name: string) => {
      const pipeline = `P-${name}`;
      const execution = await waitForEnd(world.codepipeline, pipeline, await latestExecutionId(world.codepipeline, pipeline));
      const { action } = await actionState(world.codepipeline, pipeline, 'Build', 'Build');
      return { status: execution.status, details: action?.latestExecution?.errorDetails, summary: action?.latestExecution?.summary };
    };
    const thrown = await error('throws');
    assert.equal(thrown.details?.code, 'JobFailed');
    assert.match(thrown.details?.message ?? '', /kaboom while using \*\*\* in inputs/);
    const garbage = await error('garbage');
    assert.equal(garbage.details?.code, 'JobFailed');
    assert.match(garbage.details?.message ?? '', /invalid outcome/);
    const hung = await error('hangs');
    assert.equal(hung.details?.code, 'JobFailed');
    assert.match(hung.details?.message ?? '', /did not finish within 5s/);
    const missing = await error('no-output');
    assert.equal(missing.details?.code, 'ConfigurationError');
    assert.match(missing.details?.message ?? '', /produced nothing for the output artifact BuildOut/);
    const tool = await error('tool-fails');
    assert.equal(tool.details?.code, 'JobFailed');
    assert.equal(tool.details?.message, 'make: *** [build] Error 2\nlast line of ***');
    const continued = await error('continues');
    assert.equal(continued.status, 'Succeeded');

    // Exactly one acknowledgement and one result per job (the continuation made three jobs).
    const jobs = jobRecords(world);
    assert.equal(jobs.length, cases.length + 2);
    for (const job of jobs) {
      assert.equal(api.ledger.acknowledged.get(job.id), 1, `job ${job.id} acknowledged once`);
      assert.equal(api.ledger.reported.get(job.id), 1, `job ${job.id} reported once`);
      assert.ok(job.status === 'Succeeded' || job.status === 'Failed', job.status);
    }
    const hops = jobs.filter((job) => job.pipelineName === 'P-continues').sort((a, b) => a.sequence - b.sequence);
    assert.equal(hops.length, 3);
    assert.equal(hops[0]?.continuationToken, undefined);
    assert.ok(hops[2]?.continuationToken?.startsWith('v1.'));

    // No secret in the logs (the configuration's secret value and every artifact credential).
    for (const secret of [SECRET, ...api.ledger.credentials]) assert.ok(!logs.text.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 6)}…`);
    assert.ok(!/"nonce"\s*:\s*"(?!\*)/.test(logs.text), 'no nonce in the logs');
    const lines = logs.text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // The line that ends a job says how long it took and where the artifact time went.
    const endings = lines.filter((line) => line.msg === 'job succeeded' || String(line.msg).startsWith('job failed ('));
    assert.equal(endings.length, cases.length);
    for (const line of endings) {
      const { durationMs, inputMs, outputMs } = line as { durationMs: number; inputMs: number; outputMs: number };
      assert.ok([durationMs, inputMs, outputMs].every((value) => Number.isInteger(value) && value >= 0), JSON.stringify(line));
      assert.ok(inputMs + outputMs <= durationMs + 1, JSON.stringify(line));
    }
    assert.match(logs.text, /"job":"[0-9a-f-]{36}","pipeline":"P-throws","stage":"Build","action":"Build","provider":"Local-Build"/);
  });

  it('reports after a crash what the ledger holds: a computed result is sent, a running job is failed SystemUnavailable', async () => {
    const world = await open();
    await createPipeline(world, threeStagePipeline('Computed'));
    await createPipeline(world, threeStagePipeline('Orphan'));
    await queued(world, 2);
    const { jobs } = await world.codepipeline.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, maxBatchSize: 2 }));
    assert.equal(jobs?.length, 2);
    const workDir = tempWorkDir();
    const ledger = new Ledger(workDir);
    for (const job of jobs ?? []) {
      await world.codepipeline.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce }));
      const pipeline = job.data?.pipelineContext?.pipelineName as string;
      await ledger.write({
        version: 1,
        jobId: job.id as string,
        actionType: 'Build/Local-Build/1',
        pipeline,
        stage: 'Build',
        action: 'Build',
        acknowledgedAt: new Date().toISOString(),
        pid: 2 ** 22 + 17, // no such process
        host: hostname(),
        ...(pipeline === 'Computed' ? { state: 'result-computed', result: { kind: 'failure', result: { type: 'JobFailed', message: 'the tool failed before the crash' } } } : { state: 'running' }),
      });
      await mkdir(join(workDir, 'jobs', job.id as string, 'tmp'), { recursive: true });
    }
    const worker = await startTestWorker(world, { types: [jobType(misbehave)], once: true, workDir });
    const summary = await worker.done;
    assert.equal(summary.recovered, 2);
    const computed = await actionState(world.codepipeline, 'Computed', 'Build', 'Build');
    assert.deepEqual(computed.action?.latestExecution?.errorDetails, { code: 'JobFailed', message: 'the tool failed before the crash' });
    const orphan = await actionState(world.codepipeline, 'Orphan', 'Build', 'Build');
    assert.equal(orphan.action?.latestExecution?.errorDetails?.code, 'SystemUnavailable');
    assert.match(orphan.action?.latestExecution?.errorDetails?.message ?? '', new RegExp(`the worker running this job stopped \\(pid ${2 ** 22 + 17}, host ${hostname()}\\) before it finished`));
    assert.deepEqual(readdirSync(join(workDir, 'ledger')), []);
    assert.deepEqual(readdirSync(join(workDir, 'jobs')), [], 'leftover workspaces are removed');
  });

  it('drains on stop: a short job finishes, a long one is failed SystemUnavailable after the grace period', async () => {
    const world = await open();
    for (const name of ['short', 'long']) {
      await createPipeline(world, threeStagePipeline(`D-${name}`, { stages: [
        threeStagePipeline('x').stages![0]!,
        { name: 'Build', actions: [buildAction('Build', { configuration: { ProjectName: name } })] },
        threeStagePipeline('x').stages![2]!,
      ] }));
    }
    await queued(world, 2);
    let release!: () => void;
    const bothRunning = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const executor: Executor = async (job) => {
      if (++started === 2) release();
      await bothRunning;
      if (job.configuration.ProjectName === 'short') {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return build(job);
      }
      await abortable(job.signal);
      return { status: 'failed', message: 'cancelled' };
    };
    const worker = await startTestWorker(world, { types: [jobType(executor)], graceMs: 1_000 });
    await bothRunning;
    worker.stop(false, 'SIGTERM received');
    const summary = await worker.done;
    assert.deepEqual(summary.outcomes, { succeeded: 1, SystemUnavailable: 1 });
    assert.equal((await waitForEnd(world.codepipeline, 'D-short', await latestExecutionId(world.codepipeline, 'D-short'))).status, 'Succeeded');
    const long = await actionState(world.codepipeline, 'D-long', 'Build', 'Build');
    assert.equal(long.action?.latestExecution?.errorDetails?.code, 'SystemUnavailable');
    assert.match(long.action?.latestExecution?.errorDetails?.message ?? '', /the worker shut down \(SIGTERM received\) and the job did not finish within the 1s grace period/);
    assert.equal(executionRecords(world).filter((execution) => execution.status === 'InProgress').length, 0);
    assert.equal(worker.metrics.inFlight, 0);
    assert.match(worker.metrics.render(), /cpsync_worker_jobs_total\{provider="Local-Build",outcome="SystemUnavailable"\} 1/);
  });
});
