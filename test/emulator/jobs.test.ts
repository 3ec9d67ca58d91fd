// The job worker API through the real SDK: polling rules, nonces, results and their validation,
// deadlines (redispatch and action timeout), credentials and persistence across a restart.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import {
  AcknowledgeJobCommand,
  CreateCustomActionTypeCommand,
  DeleteCustomActionTypeCommand,
  GetJobDetailsCommand,
  PollForJobsCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  StartPipelineExecutionCommand,
  type ActionTypeId,
  type PutJobSuccessResultCommandInput,
} from '@aws-sdk/client-codepipeline';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import {
  actionState,
  ARTIFACT_BUCKET,
  artifactClient,
  BUILD_TYPE,
  buildAction,
  buildTypeDefinition,
  createPipeline,
  latestExecutionId,
  pollAndAcknowledge,
  pollJob,
  rejectsWith,
  seedWorld,
  SOURCE_BUCKET,
  threeStagePipeline,
  waitFor,
  waitForEnd,
} from '../helpers/pipeline-world.js';
import { earliestJobDeadline, groupQueuedJobs, planJobDeadline, planQueryFilter } from '../../src/emulator/codepipeline/jobs-plan.js';
import type { JobRecord } from '../../src/emulator/codepipeline/records.js';

const UNKNOWN_JOB = '00000000-0000-0000-0000-000000000000';
const QUEUE_TYPE: ActionTypeId = { category: 'Test', owner: 'Custom', provider: 'Queued-Test', version: '1' };

describe('job worker API', () => {
  const opened: TestEndpoint[] = [];
  const open = async (options: Parameters<typeof startTestEndpoint>[0] = {}) => {
    const world = await startTestEndpoint(options);
    opened.push(world);
    await seedWorld(world);
    return world;
  };
  afterEach(async () => {
    for (const world of opened.splice(0)) await world.close();
  });

  it('refuses polls for AWS-owned, unknown and deleted action types, and bad batch sizes', async () => {
    const { codepipeline: cp } = await open();
    const aws = await rejectsWith(cp.send(new PollForJobsCommand({ actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' } })), 'ValidationException');
    assert.equal(aws.message, "ActionType with owner 'AWS' is not supported");
    await rejectsWith(cp.send(new PollForJobsCommand({ actionTypeId: { ...BUILD_TYPE, provider: 'Nobody' } })), 'ActionTypeNotFoundException');
    await rejectsWith(cp.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, maxBatchSize: 0 })), 'ValidationException');
    const empty = await cp.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE }));
    assert.deepEqual(empty.jobs, []);
    await cp.send(new DeleteCustomActionTypeCommand({ category: 'Build', provider: 'Local-Build', version: '1' }));
    await rejectsWith(cp.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE })), 'ActionTypeNotFoundException');
  });

  it('routes jobs by the queryable property and checks queryParam against the type', async () => {
    const world = await open();
    const cp = world.codepipeline;
    await cp.send(
      new CreateCustomActionTypeCommand(
        buildTypeDefinition({
          category: 'Test',
          provider: 'Queued-Test',
          configurationProperties: [{ name: 'Queue', required: true, key: true, secret: false, queryable: true, type: 'String' }],
          settings: {},
        }),
      ),
    );
    const pipeline = threeStagePipeline('Routed');
    const tester = (name: string, queue: string) => buildAction(name, { actionTypeId: QUEUE_TYPE, configuration: { Queue: queue }, outputArtifacts: [] });
    await createPipeline(world, { ...pipeline, stages: [pipeline.stages![0]!, { name: 'Test', actions: [tester('OnA', 'queue-a'), tester('OnB', 'queue-b')] }] });

    const onB = await pollJob(cp, QUEUE_TYPE, { Queue: 'queue-b' });
    assert.equal(onB.data?.pipelineContext?.action?.name, 'OnB');
    const none = await cp.send(new PollForJobsCommand({ actionTypeId: QUEUE_TYPE, queryParam: { Queue: 'queue-b' } }));
    assert.deepEqual(none.jobs, []);
    const onA = await cp.send(new PollForJobsCommand({ actionTypeId: QUEUE_TYPE, queryParam: { Queue: 'queue-a' } }));
    assert.equal(onA.jobs?.[0]?.data?.pipelineContext?.action?.name, 'OnA');

    await rejectsWith(cp.send(new PollForJobsCommand({ actionTypeId: QUEUE_TYPE })), 'ValidationException');
    await rejectsWith(cp.send(new PollForJobsCommand({ actionTypeId: QUEUE_TYPE, queryParam: { Other: 'queue-a' } })), 'ValidationException');
    await rejectsWith(cp.send(new PollForJobsCommand({ actionTypeId: QUEUE_TYPE, queryParam: { Queue: 'has space' } })), 'ValidationException');
    // A type without a queryable property takes only an omitted or empty queryParam.
    await rejectsWith(cp.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, queryParam: { ProjectName: 'x' } })), 'ValidationException');
    assert.deepEqual((await cp.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, queryParam: {} }))).jobs, []);
  });

  it('hands out at most maxBatchSize jobs, each with a fresh nonce, and only once', async () => {
    const world = await open();
    const cp = world.codepipeline;
    const pipeline = threeStagePipeline('Batched');
    await createPipeline(world, { ...pipeline, stages: [pipeline.stages![0]!, { name: 'Build', actions: [buildAction('One'), buildAction('Two'), buildAction('Three')] }] });
    const first = await pollJob(cp);
    const rest = await cp.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, maxBatchSize: 5 }));
    assert.equal(rest.jobs?.length, 2);
    const ids = new Set([first.id, ...(rest.jobs ?? []).map((job) => job.id)]);
    assert.equal(ids.size, 3);
    const nonces = new Set([first.nonce, ...(rest.jobs ?? []).map((job) => job.nonce)]);
    assert.equal(nonces.size, 3);
    assert.deepEqual((await cp.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, maxBatchSize: 5 }))).jobs, []);
  });

  it('accepts a nonce once: a second acknowledgement, a wrong nonce or an unknown job is refused', async () => {
    const world = await open();
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Acks'));
    const job = await pollJob(cp);
    await rejectsWith(cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: `${job.nonce}0` })), 'InvalidNonceException');
    await rejectsWith(cp.send(new AcknowledgeJobCommand({ jobId: UNKNOWN_JOB, nonce: '1' })), 'JobNotFoundException');
    await rejectsWith(cp.send(new AcknowledgeJobCommand({ jobId: 'not-a-uuid', nonce: '1' })), 'ValidationException');
    await rejectsWith(cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: '' })), 'ValidationException');
    // A result before the acknowledgement: the job is only Dispatched.
    await rejectsWith(cp.send(new PutJobSuccessResultCommand({ jobId: job.id })), 'InvalidJobStateException');
    assert.equal((await cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce }))).status, 'InProgress');
    await rejectsWith(cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce })), 'InvalidNonceException');
  });

  it('lets exactly one of two racing workers claim a job', async () => {
    const world = await open();
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Race'));
    await waitFor('a queued job', async () => (world.endpoint.context.store.table('jobs').size ? true : undefined));
    // Two pollers at once: the job goes to one of them.
    const polls = await Promise.all([0, 1].map(() => cp.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE }))));
    const handed = polls.flatMap((poll) => poll.jobs ?? []);
    assert.equal(handed.length, 1);
    const job = handed[0]!;
    // Two workers acknowledging the same dispatch at once: one wins, the other is told the nonce is spent.
    const acks = await Promise.allSettled([0, 1].map(() => cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce }))));
    const won = acks.filter((ack) => ack.status === 'fulfilled');
    const lost = acks.filter((ack): ack is PromiseRejectedResult => ack.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal((won[0] as PromiseFulfilledResult<{ status?: string }>).value.status, 'InProgress');
    assert.equal(lost.length, 1);
    assert.equal((lost[0]!.reason as Error).name, 'InvalidNonceException');
  });

  it('redispatches a job nobody acknowledged after the dispatch timeout; the old nonce is stale', async () => {
    const world = await open({ dispatchTimeoutMs: 200 });
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Redispatch'));
    const first = await pollJob(cp);
    const again = await pollJob(cp);
    assert.equal(again.id, first.id);
    assert.notEqual(again.nonce, first.nonce);
    await rejectsWith(cp.send(new AcknowledgeJobCommand({ jobId: first.id, nonce: first.nonce })), 'InvalidNonceException');
    assert.equal((await cp.send(new AcknowledgeJobCommand({ jobId: again.id, nonce: again.nonce }))).status, 'InProgress');
  });

  it('times out an acknowledged job without a result and fails its action', async () => {
    const world = await open({ actionTimeoutMs: 200 });
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('TimesOut'));
    const executionId = await latestExecutionId(cp, 'TimesOut');
    const job = await pollAndAcknowledge(cp);
    const ended = await waitForEnd(cp, 'TimesOut', executionId);
    assert.equal(ended.status, 'Failed');
    const { action } = await actionState(cp, 'TimesOut', 'Build', 'Build');
    assert.equal(action?.latestExecution?.status, 'Failed');
    assert.equal(action?.latestExecution?.errorDetails?.code, 'JobFailed');
    assert.match(action?.latestExecution?.errorDetails?.message ?? '', /timed out/);
    await rejectsWith(cp.send(new PutJobSuccessResultCommand({ jobId: job.id })), 'InvalidJobStateException');
    await rejectsWith(cp.send(new PutJobFailureResultCommand({ jobId: job.id, failureDetails: { type: 'JobFailed', message: 'late' } })), 'InvalidJobStateException');
  });

  it('checks every result field against the model', async () => {
    const world = await open();
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Results'));
    const job = await pollAndAcknowledge(cp);
    const jobId = job.id!;
    const invalid: PutJobSuccessResultCommandInput[] = [
      { jobId, executionDetails: { summary: '' } },
      { jobId, executionDetails: { summary: 'x'.repeat(2049) } },
      { jobId, executionDetails: { externalExecutionId: 'x'.repeat(1501) } },
      { jobId, executionDetails: { percentComplete: 101 } },
      { jobId, executionDetails: { percentComplete: -1 } },
      { jobId, continuationToken: 'x'.repeat(2049) },
      { jobId, continuationToken: '' },
      { jobId, currentRevision: { revision: 'r', changeIdentifier: 'x'.repeat(101) } },
      { jobId, continuationToken: 'more', outputVariables: { A: 'b' } },
      { jobId, outputVariables: { 'bad key!': 'b' } },
      { jobId: 'not-a-uuid' },
    ];
    for (const input of invalid) await rejectsWith(cp.send(new PutJobSuccessResultCommand(input)), 'ValidationException');
    const failures = [
      { jobId, failureDetails: { type: 'JobFailed' as const, message: '' } },
      { jobId, failureDetails: { type: 'JobFailed' as const, message: 'x'.repeat(5001) } },
      { jobId, failureDetails: { type: 'Nonsense' as 'JobFailed', message: 'm' } },
      { jobId, failureDetails: { type: 'JobFailed' as const, message: 'm', externalExecutionId: '' } },
    ];
    for (const input of failures) await rejectsWith(cp.send(new PutJobFailureResultCommand(input)), 'ValidationException');
    await rejectsWith(cp.send(new PutJobSuccessResultCommand({ jobId: UNKNOWN_JOB })), 'JobNotFoundException');
    await rejectsWith(cp.send(new PutJobFailureResultCommand({ jobId: UNKNOWN_JOB, failureDetails: { type: 'JobFailed', message: 'm' } })), 'JobNotFoundException');
    await rejectsWith(cp.send(new GetJobDetailsCommand({ jobId: UNKNOWN_JOB })), 'JobNotFoundException');

    const tooBig = { A: 'x'.repeat(70_000), B: 'y'.repeat(60_000) };
    await rejectsWith(cp.send(new PutJobSuccessResultCommand({ jobId, outputVariables: tooBig })), 'OutputVariablesSizeExceededException');
    // None of the refused calls changed the job: it still takes exactly one result.
    await cp.send(new PutJobSuccessResultCommand({ jobId, outputVariables: { A: 'x'.repeat(100) }, currentRevision: { revision: 'abc', changeIdentifier: 'c1' } }));
    await rejectsWith(cp.send(new PutJobSuccessResultCommand({ jobId })), 'InvalidJobStateException');
    await rejectsWith(cp.send(new PutJobFailureResultCommand({ jobId, failureDetails: { type: 'JobFailed', message: 'm' } })), 'InvalidJobStateException');
  });

  it('scopes artifact credentials to the job: read inputs, write outputs, nothing else', async () => {
    const world = await open();
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Scoped'));
    const job = await pollAndAcknowledge(cp);
    const context = world.endpoint.context;
    const accessKeyId = job.data!.artifactCredentials!.accessKeyId!;
    const issued = context.findCredential(accessKeyId);
    assert.equal(issued?.jobId, job.id);
    const input = job.data!.inputArtifacts![0]!.location!.s3Location!;
    const output = job.data!.outputArtifacts![0]!.location!.s3Location!;
    assert.deepEqual(issued?.readable, [`${input.bucketName}/${input.objectKey}`]);
    assert.deepEqual(issued?.writable, [`${output.bucketName}/${output.objectKey}`]);
    assert.ok((issued?.expiresAt ?? 0) > context.now());
    assert.equal(context.findCredential('ASIANOTISSUEDANYWHERE'), undefined);

    const s3 = artifactClient(world, job);
    await s3.send(new PutObjectCommand({ Bucket: output.bucketName, Key: output.objectKey, Body: 'ok', ServerSideEncryption: 'aws:kms' }));
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: 'elsewhere/object', Body: 'no', ServerSideEncryption: 'aws:kms' })), 'AccessDenied');
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: 'app.zip', Body: 'no' })), 'AccessDenied');

    // GetJobDetails issues a new credential; the old one stays valid until it expires (STS-like).
    const refreshed = await cp.send(new GetJobDetailsCommand({ jobId: job.id }));
    const fresh = refreshed.jobDetails?.data?.artifactCredentials?.accessKeyId;
    assert.ok(fresh && fresh !== accessKeyId);
    assert.equal(context.findCredential(fresh)?.jobId, job.id);
    assert.equal(context.findCredential(accessKeyId)?.jobId, job.id);
  });

  it('refuses expired artifact credentials', async () => {
    const world = await open({ credentialLifetimeMs: 150 });
    await createPipeline(world, threeStagePipeline('Expiring'));
    const job = await pollAndAcknowledge(world.codepipeline);
    const output = job.data!.outputArtifacts![0]!.location!.s3Location!;
    // The endpoint's clock stops just past the expiry: waiting in real time instead raced with the
    // sweep that forgets long-expired credentials (an unknown key is not refused) on a busy machine.
    const issued = world.endpoint.context.findCredential(job.data!.artifactCredentials!.accessKeyId!);
    assert.ok(issued);
    (world.endpoint.context as { now: () => number }).now = () => issued.expiresAt + 1;
    await rejectsWith(
      artifactClient(world, job).send(new PutObjectCommand({ Bucket: output.bucketName, Key: output.objectKey, Body: 'late', ServerSideEncryption: 'aws:kms' })),
      'ExpiredToken',
    );
  });

  it('keeps queued and in-progress jobs across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpsync-jobs-'));
    try {
      const first = await startTestEndpoint({ dataDir });
      await seedWorld(first);
      await createPipeline(first, threeStagePipeline('Durable'));
      const executionId = await latestExecutionId(first.codepipeline, 'Durable');
      const acknowledged = await pollAndAcknowledge(first.codepipeline);
      await first.codepipeline.send(new StartPipelineExecutionCommand({ name: 'Durable' }));
      await first.codepipeline.send(new PutJobSuccessResultCommand({ jobId: acknowledged.id, continuationToken: 'resume-here' }));
      await first.close();

      const second = await startTestEndpoint({ dataDir });
      opened.push(second);
      // The continuation job queued before the restart is still there, token and all.
      const job = await pollAndAcknowledge(second.codepipeline);
      assert.equal(job.data?.continuationToken, 'resume-here');
      assert.equal(job.data?.pipelineContext?.pipelineExecutionId, executionId);
      await second.codepipeline.send(new PutJobSuccessResultCommand({ jobId: job.id }));
      assert.equal((await waitForEnd(second.codepipeline, 'Durable', executionId)).status, 'Succeeded');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// The pure job decisions, as tables.

/** A job record for the tables below, with `id` first and only what a case sets. */
const aJob = (id: string, overrides: Partial<JobRecord> = {}): JobRecord => ({
  id,
  actionTypeId: BUILD_TYPE as JobRecord['actionTypeId'],
  pipelineName: 'p',
  pipelineArn: 'arn',
  pipelineExecutionId: 'e',
  stageName: 's',
  actionName: 'a',
  actionExecutionId: 'x',
  status: 'Queued',
  createdAt: 0,
  sequence: 1,
  configuration: {},
  inputArtifacts: [],
  outputArtifacts: [],
  ...overrides,
});
const timeouts = { dispatchTimeoutMs: 100, actionTimeoutMs: 1000 };

describe('planJobDeadline', () => {
  const cases: { name: string; job: JobRecord; now: number; expect: string | undefined }[] = [
    { name: 'a queued job has no deadline', job: aJob('j'), now: 10_000, expect: undefined },
    { name: 'a fresh dispatch waits', job: aJob('j', { status: 'Dispatched', dispatchedAt: 0 }), now: 99, expect: undefined },
    { name: 'an unacknowledged dispatch is requeued', job: aJob('j', { status: 'Dispatched', dispatchedAt: 0 }), now: 100, expect: 'requeue' },
    { name: 'an acknowledged job within the action timeout waits', job: aJob('j', { status: 'InProgress', dispatchedAt: 0, acknowledgedAt: 50 }), now: 1049, expect: undefined },
    { name: 'an acknowledged job past the action timeout times out', job: aJob('j', { status: 'InProgress', dispatchedAt: 0, acknowledgedAt: 50 }), now: 1050, expect: 'time-out' },
    { name: 'a finished job never times out', job: aJob('j', { status: 'Succeeded', acknowledgedAt: 0 }), now: 10_000, expect: undefined },
  ];
  for (const { name, job, now, expect } of cases) it(name, () => assert.equal(planJobDeadline(job, now, timeouts), expect));
});

describe('earliestJobDeadline and groupQueuedJobs (what a poll may skip)', () => {
  it('is the soonest dispatch or action deadline, and Infinity when no job waits', () => {
    assert.equal(earliestJobDeadline([aJob('q', {}), aJob('done', { status: 'Succeeded', acknowledgedAt: 0 })], timeouts), Number.POSITIVE_INFINITY);
    const jobs = [aJob('d', { status: 'Dispatched', dispatchedAt: 500 }), aJob('p', { status: 'InProgress', dispatchedAt: 0, acknowledgedAt: 10 })];
    assert.equal(earliestJobDeadline(jobs, timeouts), 600);
    // Every job's deadline is no earlier than the earliest: a poll before it has nothing to apply.
    for (const job of jobs) assert.equal(planJobDeadline(job, 599, timeouts), undefined);
    assert.equal(planJobDeadline(jobs[0]!, 600, timeouts), 'requeue');
  });

  it('groups queued custom jobs by type, oldest first, and leaves out the rest', () => {
    const other = { category: 'Test', owner: 'Custom', provider: 'Other', version: '2' } as JobRecord['actionTypeId'];
    const groups = groupQueuedJobs([
      aJob('late', { sequence: 3 }),
      aJob('early', { sequence: 1 }),
      aJob('taken', { sequence: 2, status: 'Dispatched', dispatchedAt: 0 }),
      aJob('other', { sequence: 4, actionTypeId: other }),
    ]);
    assert.deepEqual([...groups.keys()].sort(), ['Build/Local-Build/1', 'Test/Other/2'].sort());
    assert.deepEqual(groups.get('Build/Local-Build/1')?.map((job) => job.id), ['early', 'late']);
    assert.deepEqual(groups.get('Test/Other/2')?.map((job) => job.id), ['other']);
  });
});

describe('planQueryFilter', () => {
  const plain = [{ name: 'P', required: true, key: true, secret: false }];
  const queryable = [{ name: 'Q', required: true, key: true, secret: false, queryable: true }];
  it('accepts an omitted or empty queryParam for a type without a queryable property', () => {
    assert.deepEqual(planQueryFilter(plain, undefined), {});
    assert.deepEqual(planQueryFilter(plain, {}), {});
    assert.ok('problem' in planQueryFilter(plain, { P: 'x' }));
  });
  it('requires exactly the queryable property for a type that has one', () => {
    assert.deepEqual(planQueryFilter(queryable, { Q: 'x' }), { filter: { name: 'Q', value: 'x' } });
    assert.ok('problem' in planQueryFilter(queryable, undefined));
    assert.ok('problem' in planQueryFilter(queryable, { P: 'x' }));
  });
});
