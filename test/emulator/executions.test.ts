// Pipeline executions through the real SDK: the CreatePipeline execution, an end-to-end run with a
// scripted worker, StartPipelineExecution idempotency, stop, listing, state and failures.

import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  AcknowledgeJobCommand,
  GetJobDetailsCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import {
  actionState,
  ARTIFACT_BUCKET,
  artifactClient,
  buildAction,
  createPipeline,
  deployAction,
  getExecution,
  KMS_KEY_ARN,
  latestExecutionId,
  pollAndAcknowledge,
  pollJob,
  rejectsWith,
  s3SourceAction,
  seedWorld,
  threeStagePipeline,
  waitFor,
  waitForEnd,
} from '../helpers/pipeline-world.js';
import type { ActionRunRecord, ExecutionRecord } from '../../src/emulator/codepipeline/records.js';
import { fillUrlTemplate, planNextStep, planStageEntries, readPipelinePlan, type StagePlan } from '../../src/emulator/codepipeline/executions-plan.js';

describe('pipeline executions', () => {
  let world: TestEndpoint;

  // A fresh endpoint per test: jobs of one custom type share a queue, so tests must not share one.
  beforeEach(async () => {
    world = await startTestEndpoint({ failingActions: ['Failing/Deploy/Deploy'] });
    await seedWorld(world);
  });
  afterEach(async () => world.close());

  it('runs an execution end to end with a scripted worker, continuation included', async () => {
    await createPipeline(world, threeStagePipeline('EndToEnd'));
    const cp = world.codepipeline;

    // CreatePipeline starts the first execution, as AWS does.
    const executionId = await latestExecutionId(cp, 'EndToEnd');
    const first = await getExecution(cp, 'EndToEnd', executionId);
    assert.equal(first.trigger?.triggerType, 'CreatePipeline');
    assert.equal(first.executionMode, 'SUPERSEDED');

    const job = await pollJob(cp);
    assert.match(job.id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(job.nonce);
    assert.equal(job.accountId, world.endpoint.accountId);
    const data = job.data!;
    assert.deepEqual(data.actionTypeId, { category: 'Build', owner: 'Custom', provider: 'Local-Build', version: '1' });
    // Secret values reach the worker in clear, as AWS gives them.
    assert.deepEqual(data.actionConfiguration?.configuration, { ProjectName: 'proj-Build', Token: 's3cr3t-value' });
    assert.equal(data.pipelineContext?.pipelineName, 'EndToEnd');
    assert.equal(data.pipelineContext?.stage?.name, 'Build');
    assert.equal(data.pipelineContext?.action?.name, 'Build');
    assert.equal(data.pipelineContext?.pipelineExecutionId, executionId);
    assert.equal(data.pipelineContext?.pipelineArn, `arn:aws:codepipeline:us-east-1:${world.endpoint.accountId}:EndToEnd`);
    const actionExecutionId = data.pipelineContext?.action?.actionExecutionId;
    assert.ok(actionExecutionId);
    assert.equal(data.encryptionKey?.id, KMS_KEY_ARN);
    assert.equal(data.encryptionKey?.type, 'KMS');
    assert.match(data.artifactCredentials?.accessKeyId ?? '', /^ASIA[A-Z0-9]{16}$/);
    assert.equal(data.continuationToken, undefined);

    const input = data.inputArtifacts?.[0];
    assert.equal(input?.name, 'SourceOut');
    assert.equal(input?.location?.type, 'S3');
    assert.equal(input?.location?.s3Location?.bucketName, ARTIFACT_BUCKET);
    assert.match(input?.location?.s3Location?.objectKey ?? '', /^EndToEnd\/SourceOut\/[A-Za-z0-9]{7}$/);
    assert.ok(input?.revision);
    const output = data.outputArtifacts?.[0];
    assert.equal(output?.name, 'BuildOut');
    assert.match(output?.location?.s3Location?.objectKey ?? '', /^EndToEnd\/BuildOut\/[A-Za-z0-9]{7}$/);

    // The worker reads its input and writes its output with the job's credentials.
    const s3 = artifactClient(world, job);
    const source = await s3.send(new GetObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: input!.location!.s3Location!.objectKey! }));
    assert.equal(await source.Body?.transformToString(), 'source-bytes');
    const { status } = await cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce }));
    assert.equal(status, 'InProgress');

    const details = await cp.send(new GetJobDetailsCommand({ jobId: job.id }));
    assert.equal(details.jobDetails?.id, job.id);
    assert.equal(details.jobDetails?.accountId, world.endpoint.accountId);
    assert.equal((details.jobDetails as Record<string, unknown>).nonce, undefined);
    assert.notEqual(details.jobDetails?.data?.artifactCredentials?.accessKeyId, data.artifactCredentials?.accessKeyId);
    assert.deepEqual(details.jobDetails?.data?.outputArtifacts, data.outputArtifacts);

    await cp.send(
      new PutJobSuccessResultCommand({
        jobId: job.id,
        continuationToken: 'build-42',
        executionDetails: { summary: 'building', externalExecutionId: '42', percentComplete: 40 },
      }),
    );
    const during = await actionState(cp, 'EndToEnd', 'Build', 'Build');
    assert.equal(during.action?.latestExecution?.status, 'InProgress');
    assert.equal(during.action?.latestExecution?.summary, 'building');
    assert.equal(during.action?.latestExecution?.externalExecutionId, '42');
    assert.equal(during.action?.latestExecution?.externalExecutionUrl, 'https://ci.example/projects/proj-Build/runs/42');
    assert.equal(during.action?.latestExecution?.percentComplete, 40);
    assert.equal(during.action?.latestExecution?.actionExecutionId, actionExecutionId);
    assert.equal(during.action?.entityUrl, 'https://ci.example/projects/proj-Build');

    // The continuation: a new job (new id and nonce) for the same action execution, carrying the token.
    const next = await pollAndAcknowledge(cp);
    assert.notEqual(next.id, job.id);
    assert.equal(next.data?.continuationToken, 'build-42');
    assert.equal(next.data?.pipelineContext?.action?.actionExecutionId, actionExecutionId);
    assert.deepEqual(next.data?.outputArtifacts, data.outputArtifacts);
    await rejectsWith(cp.send(new PutJobSuccessResultCommand({ jobId: job.id })), 'InvalidJobStateException');

    await artifactClient(world, next).send(
      new PutObjectCommand({
        Bucket: ARTIFACT_BUCKET,
        Key: output!.location!.s3Location!.objectKey!,
        Body: 'built',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: KMS_KEY_ARN,
      }),
    );
    await cp.send(new PutJobSuccessResultCommand({ jobId: next.id, executionDetails: { summary: 'done', percentComplete: 100 }, outputVariables: { IMAGE: 'v1' } }));

    // The Deploy stage then runs (a stand-in AWS action) and the execution succeeds.
    const ended = await waitForEnd(cp, 'EndToEnd', executionId);
    assert.equal(ended.status, 'Succeeded');
    assert.equal(ended.artifactRevisions?.[0]?.name, 'SourceOut');
    const state = await cp.send(new GetPipelineStateCommand({ name: 'EndToEnd' }));
    assert.deepEqual(
      state.stageStates?.map((stage) => [stage.stageName, stage.latestExecution?.status, stage.latestExecution?.pipelineExecutionId]),
      [
        ['Source', 'Succeeded', executionId],
        ['Build', 'Succeeded', executionId],
        ['Deploy', 'Succeeded', executionId],
      ],
    );
    const build = state.stageStates?.[1]?.actionStates?.[0]?.latestExecution;
    assert.equal(build?.status, 'Succeeded');
    assert.equal(build?.summary, 'done');
    assert.equal(build?.percentComplete, 100);
    assert.ok(state.stageStates?.[0]?.actionStates?.[0]?.currentRevision?.revisionId);
    const copied = await world.s3.send(new HeadObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: input!.location!.s3Location!.objectKey! }));
    assert.equal(copied.ServerSideEncryption, 'aws:kms');
  });

  it('starts executions idempotently per clientRequestToken and reports unknown pipelines', async () => {
    await createPipeline(world, threeStagePipeline('Idempotent'));
    const cp = world.codepipeline;
    const a = await cp.send(new StartPipelineExecutionCommand({ name: 'Idempotent', clientRequestToken: 'token-1' }));
    const b = await cp.send(new StartPipelineExecutionCommand({ name: 'Idempotent', clientRequestToken: 'token-1' }));
    const c = await cp.send(new StartPipelineExecutionCommand({ name: 'Idempotent', clientRequestToken: 'token-2' }));
    assert.equal(a.pipelineExecutionId, b.pipelineExecutionId);
    assert.notEqual(a.pipelineExecutionId, c.pipelineExecutionId);
    const started = await getExecution(cp, 'Idempotent', a.pipelineExecutionId!);
    assert.equal(started.trigger?.triggerType, 'StartPipelineExecution');
    await rejectsWith(cp.send(new StartPipelineExecutionCommand({ name: 'NoSuchPipeline' })), 'PipelineNotFoundException');
    const bad = await rejectsWith(cp.send(new StartPipelineExecutionCommand({ name: 'Idempotent', clientRequestToken: 'not valid!' })), 'ValidationException');
    assert.match(bad.message, /clientRequestToken/);
  });

  it('tells executions of other pipelines and unknown ids apart from real ones', async () => {
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Lookup-A'));
    await createPipeline(world, threeStagePipeline('Lookup-B'));
    const ofA = await latestExecutionId(cp, 'Lookup-A');
    await rejectsWith(cp.send(new GetPipelineExecutionCommand({ pipelineName: 'Lookup-B', pipelineExecutionId: ofA })), 'PipelineExecutionNotFoundException');
    await rejectsWith(
      cp.send(new GetPipelineExecutionCommand({ pipelineName: 'Lookup-A', pipelineExecutionId: '00000000-0000-0000-0000-000000000000' })),
      'PipelineExecutionNotFoundException',
    );
    await rejectsWith(cp.send(new GetPipelineExecutionCommand({ pipelineName: 'Lookup-A', pipelineExecutionId: 'nope' })), 'ValidationException');
    await rejectsWith(cp.send(new GetPipelineExecutionCommand({ pipelineName: 'Missing', pipelineExecutionId: ofA })), 'PipelineNotFoundException');
    await rejectsWith(cp.send(new GetPipelineStateCommand({ name: 'Missing' })), 'PipelineNotFoundException');
  });

  it('lists executions newest first, in pages', async () => {
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Listed'));
    const started = [await latestExecutionId(cp, 'Listed')];
    for (let i = 0; i < 4; i++) started.push((await cp.send(new StartPipelineExecutionCommand({ name: 'Listed' }))).pipelineExecutionId!);
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'Listed', maxResults: 2, nextToken }));
      assert.ok((page.pipelineExecutionSummaries?.length ?? 0) <= 2);
      seen.push(...(page.pipelineExecutionSummaries ?? []).map((summary) => summary.pipelineExecutionId!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...started].reverse());
    await rejectsWith(cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'Listed', nextToken: 'garbage' })), 'InvalidNextTokenException');
    await rejectsWith(cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'Listed', maxResults: 101 })), 'ValidationException');
    await rejectsWith(cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'Nope' })), 'PipelineNotFoundException');
  });

  it('fails the source action when the S3 object is missing', async () => {
    const cp = world.codepipeline;
    const pipeline = threeStagePipeline('MissingSource');
    const source = { ...s3SourceAction(), configuration: { S3Bucket: 'source-bucket', S3ObjectKey: 'absent.zip' } };
    await createPipeline(world, { ...pipeline, stages: [{ name: 'Source', actions: [source] }, ...pipeline.stages!.slice(1)] });
    const ended = await waitForEnd(cp, 'MissingSource', await latestExecutionId(cp, 'MissingSource'));
    assert.equal(ended.status, 'Failed');
    const { stage, action } = await actionState(cp, 'MissingSource', 'Source', 'Source');
    assert.equal(stage?.latestExecution?.status, 'Failed');
    assert.equal(action?.latestExecution?.status, 'Failed');
    assert.match(action?.latestExecution?.errorDetails?.message ?? '', /absent\.zip/);
    const build = await actionState(cp, 'MissingSource', 'Build', 'Build');
    assert.equal(build.action?.latestExecution, undefined);
  });

  it('fails an AWS action listed in failingActions, and with it the stage and the execution', async () => {
    const cp = world.codepipeline;
    const pipeline = threeStagePipeline('Failing', { artifactStore: { type: 'S3', location: ARTIFACT_BUCKET } });
    await createPipeline(world, { ...pipeline, stages: [pipeline.stages![0]!, { name: 'Deploy', actions: [deployAction('SourceOut')] }] });
    const ended = await waitForEnd(cp, 'Failing', await latestExecutionId(cp, 'Failing'));
    assert.equal(ended.status, 'Failed');
    const { stage, action } = await actionState(cp, 'Failing', 'Deploy', 'Deploy');
    assert.equal(stage?.latestExecution?.status, 'Failed');
    assert.equal(action?.latestExecution?.errorDetails?.code, 'JobFailed');
  });

  it('fails the action with the worker failure details', async () => {
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('WorkerFails'));
    const executionId = await latestExecutionId(cp, 'WorkerFails');
    const job = await pollAndAcknowledge(cp);
    assert.equal(job.data?.pipelineContext?.pipelineName, 'WorkerFails');
    await cp.send(new PutJobFailureResultCommand({ jobId: job.id, failureDetails: { type: 'ConfigurationError', message: 'no such project', externalExecutionId: 'run-7' } }));
    const ended = await waitForEnd(cp, 'WorkerFails', executionId);
    assert.equal(ended.status, 'Failed');
    const { action } = await actionState(cp, 'WorkerFails', 'Build', 'Build');
    assert.deepEqual(action?.latestExecution?.errorDetails, { code: 'ConfigurationError', message: 'no such project' });
    assert.equal(action?.latestExecution?.externalExecutionId, 'run-7');
    const deploy = await actionState(cp, 'WorkerFails', 'Deploy', 'Deploy');
    assert.equal(deploy.stage?.latestExecution, undefined);
  });

  it('runs runOrder groups in order and equal runOrders in parallel', async () => {
    const cp = world.codepipeline;
    const pipeline = threeStagePipeline('Ordered');
    await createPipeline(world, {
      ...pipeline,
      stages: [
        pipeline.stages![0]!,
        {
          name: 'Build',
          actions: [buildAction('First', { runOrder: 1 }), buildAction('Second', { runOrder: 1 }), buildAction('Third', { runOrder: 2 })],
        },
      ],
    });
    const first = await pollAndAcknowledge(cp);
    const second = await pollAndAcknowledge(cp);
    assert.deepEqual([first.data?.pipelineContext?.action?.name, second.data?.pipelineContext?.action?.name].sort(), ['First', 'Second']);
    const third = await actionState(cp, 'Ordered', 'Build', 'Third');
    assert.equal(third.action?.latestExecution, undefined);
    await cp.send(new PutJobSuccessResultCommand({ jobId: first.id }));
    assert.equal((await actionState(cp, 'Ordered', 'Build', 'Third')).action?.latestExecution, undefined);
    await cp.send(new PutJobSuccessResultCommand({ jobId: second.id }));
    const last = await pollAndAcknowledge(cp);
    assert.equal(last.data?.pipelineContext?.action?.name, 'Third');
    // Third consumes SourceOut like the others; its outputs are its own.
    assert.equal(last.data?.outputArtifacts?.[0]?.name, 'ThirdOut');
    await cp.send(new PutJobSuccessResultCommand({ jobId: last.id }));
    assert.equal((await waitForEnd(cp, 'Ordered', await latestExecutionId(cp, 'Ordered'))).status, 'Succeeded');
  });

  it('stops an execution by abandoning, or by letting in-progress actions finish', async () => {
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Stoppable'));
    const abandoned = await latestExecutionId(cp, 'Stoppable');
    const job = await pollAndAcknowledge(cp);
    await cp.send(new StopPipelineExecutionCommand({ pipelineName: 'Stoppable', pipelineExecutionId: abandoned, abandon: true, reason: 'hotfix' }));
    const stopped = await waitForEnd(cp, 'Stoppable', abandoned);
    assert.equal(stopped.status, 'Stopped');
    assert.equal((await actionState(cp, 'Stoppable', 'Build', 'Build')).action?.latestExecution?.status, 'Abandoned');
    await rejectsWith(cp.send(new PutJobSuccessResultCommand({ jobId: job.id })), 'InvalidJobStateException');
    const listed = await cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'Stoppable' }));
    assert.equal(listed.pipelineExecutionSummaries?.[0]?.stopTrigger?.reason, 'hotfix');
    await rejectsWith(cp.send(new StopPipelineExecutionCommand({ pipelineName: 'Stoppable', pipelineExecutionId: abandoned })), 'PipelineExecutionNotStoppableException');

    const waiting = (await cp.send(new StartPipelineExecutionCommand({ name: 'Stoppable' }))).pipelineExecutionId!;
    const running = await pollAndAcknowledge(cp);
    assert.equal(running.data?.pipelineContext?.pipelineExecutionId, waiting);
    await cp.send(new StopPipelineExecutionCommand({ pipelineName: 'Stoppable', pipelineExecutionId: waiting }));
    assert.equal((await getExecution(cp, 'Stoppable', waiting)).status, 'Stopping');
    await rejectsWith(cp.send(new StopPipelineExecutionCommand({ pipelineName: 'Stoppable', pipelineExecutionId: waiting })), 'DuplicatedStopRequestException');
    await cp.send(new PutJobSuccessResultCommand({ jobId: running.id }));
    const ended = await waitForEnd(cp, 'Stoppable', waiting);
    assert.equal(ended.status, 'Stopped');
    assert.equal((await actionState(cp, 'Stoppable', 'Build', 'Build')).action?.latestExecution?.status, 'Succeeded');
    // Nothing after the finished action started.
    assert.notEqual((await actionState(cp, 'Stoppable', 'Deploy', 'Deploy')).stage?.latestExecution?.pipelineExecutionId, waiting);
    await rejectsWith(
      cp.send(new StopPipelineExecutionCommand({ pipelineName: 'Stoppable', pipelineExecutionId: '00000000-0000-0000-0000-000000000000' })),
      'PipelineExecutionNotStoppableException',
    );
  });

  it('supersedes an execution waiting for a busy stage when a newer one arrives (SUPERSEDED mode)', async () => {
    const cp = world.codepipeline;
    await createPipeline(world, threeStagePipeline('Superseding'));
    const holder = await latestExecutionId(cp, 'Superseding');
    const job = await pollAndAcknowledge(cp); // the first execution now holds the Build stage
    const older = (await cp.send(new StartPipelineExecutionCommand({ name: 'Superseding' }))).pipelineExecutionId!;
    await waitFor('the older execution to wait for Build', async () => {
      const state = await cp.send(new GetPipelineStateCommand({ name: 'Superseding' }));
      return state.stageStates?.[1]?.inboundExecution?.pipelineExecutionId === older ? true : undefined;
    });
    const newer = (await cp.send(new StartPipelineExecutionCommand({ name: 'Superseding' }))).pipelineExecutionId!;
    const superseded = await waitForEnd(cp, 'Superseding', older);
    assert.equal(superseded.status, 'Superseded');
    assert.equal((await getExecution(cp, 'Superseding', newer)).status, 'InProgress');
    await cp.send(new PutJobSuccessResultCommand({ jobId: job.id }));
    assert.equal((await waitForEnd(cp, 'Superseding', holder)).status, 'Succeeded');
    const next = await pollAndAcknowledge(cp);
    assert.equal(next.data?.pipelineContext?.pipelineExecutionId, newer);
    await cp.send(new PutJobSuccessResultCommand({ jobId: next.id }));
    assert.equal((await waitForEnd(cp, 'Superseding', newer)).status, 'Succeeded');
  });
});

// The pure decisions behind the engine, as tables built from small builders.

function aStage(name: string, actions: [string, number][]): StagePlan {
  return {
    name,
    actions: actions.map(([action, runOrder]) => ({
      stageName: name,
      name: action,
      actionTypeId: { category: 'Build', owner: 'Custom', provider: 'P', version: '1' },
      runOrder,
      configuration: {},
      inputArtifacts: [],
      outputArtifacts: [],
    })),
  };
}

function aRun(stageName: string, actionName: string, status: ActionRunRecord['status']): ActionRunRecord {
  return { stageName, actionName, actionExecutionId: `${stageName}-${actionName}`, runOrder: 1, status, startedAt: 0, lastStatusChange: 0, outputLocations: [] };
}

function anExecution(overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    pipelineExecutionId: 'e1',
    pipelineName: 'p',
    pipelineCreated: 0,
    pipelineVersion: 1,
    sequence: 1,
    executionMode: 'SUPERSEDED',
    status: 'InProgress',
    startedAt: 0,
    lastUpdateAt: 0,
    trigger: { triggerType: 'StartPipelineExecution' },
    currentStageIndex: 0,
    stageStatuses: {},
    actions: {},
    artifacts: {},
    ...overrides,
  };
}

describe('planNextStep', () => {
  const stages = [aStage('Source', [['S', 1]]), aStage('Build', [['A', 1], ['B', 1], ['C', 2]])];
  const inBuild = (actions: Record<string, ActionRunRecord>, extra: Partial<ExecutionRecord> = {}) =>
    anExecution({ currentStageIndex: 1, stageStatuses: { Source: 'Succeeded', Build: 'InProgress' }, actions: { 'Source/S': aRun('Source', 'S', 'Succeeded'), ...actions }, ...extra });
  const cases: { name: string; execution: ExecutionRecord; mayEnter?: boolean; expect: string }[] = [
    { name: 'enters a free stage', execution: anExecution(), mayEnter: true, expect: 'enter-stage Source' },
    { name: 'waits for a busy stage', execution: anExecution(), mayEnter: false, expect: 'none' },
    { name: 'starts the lowest runOrder group together', execution: inBuild({}), expect: 'start-actions A,B' },
    { name: 'waits while a group member runs', execution: inBuild({ 'Build/A': aRun('Build', 'A', 'Succeeded'), 'Build/B': aRun('Build', 'B', 'InProgress') }), expect: 'none' },
    { name: 'starts the next group once the first succeeded', execution: inBuild({ 'Build/A': aRun('Build', 'A', 'Succeeded'), 'Build/B': aRun('Build', 'B', 'Succeeded') }), expect: 'start-actions C' },
    { name: 'fails the stage on a failed action', execution: inBuild({ 'Build/A': aRun('Build', 'A', 'Failed'), 'Build/B': aRun('Build', 'B', 'Succeeded') }), expect: 'finish-stage Build Failed' },
    {
      name: 'finishes the stage when every action succeeded',
      execution: inBuild({ 'Build/A': aRun('Build', 'A', 'Succeeded'), 'Build/B': aRun('Build', 'B', 'Succeeded'), 'Build/C': aRun('Build', 'C', 'Succeeded') }),
      expect: 'finish-stage Build Succeeded',
    },
    { name: 'stops instead of starting the next group', execution: inBuild({ 'Build/A': aRun('Build', 'A', 'Succeeded'), 'Build/B': aRun('Build', 'B', 'Succeeded') }, { status: 'Stopping', stopRequest: { abandon: false } }), expect: 'finish-stage Build Stopped' },
    { name: 'stops a waiting execution at once', execution: anExecution({ status: 'Stopping', stopRequest: { abandon: false } }), mayEnter: true, expect: 'finish-execution Stopped' },
    { name: 'does nothing for a finished execution', execution: anExecution({ status: 'Succeeded' }), mayEnter: true, expect: 'none' },
  ];
  for (const { name, execution, mayEnter, expect } of cases) {
    it(name, () => {
      const step = planNextStep(execution, stages, mayEnter ?? true);
      const shown =
        step.kind === 'enter-stage'
          ? `enter-stage ${step.stage.name}`
          : step.kind === 'start-actions'
            ? `start-actions ${step.actions.map((action) => action.name).join(',')}`
            : step.kind === 'finish-stage'
              ? `finish-stage ${step.stage.name} ${step.status}`
              : step.kind === 'finish-execution'
                ? `finish-execution ${step.status}`
                : 'none';
      assert.equal(shown, expect);
    });
  }
});

describe('planStageEntries', () => {
  const stages = [aStage('Source', [['S', 1]]), aStage('Build', [['A', 1]])];
  const holder = anExecution({ pipelineExecutionId: 'holder', sequence: 1, currentStageIndex: 1, stageStatuses: { Source: 'Succeeded', Build: 'InProgress' } });
  const waiting = (id: string, sequence: number, mode: ExecutionRecord['executionMode']) =>
    anExecution({ pipelineExecutionId: id, sequence, executionMode: mode, currentStageIndex: 1, stageStatuses: { Source: 'Succeeded' } });
  const cases: { mode: ExecutionRecord['executionMode']; held: boolean; enter: string[]; supersede: string[] }[] = [
    { mode: 'SUPERSEDED', held: true, enter: [], supersede: ['older'] },
    { mode: 'SUPERSEDED', held: false, enter: ['newer'], supersede: ['older'] },
    { mode: 'QUEUED', held: true, enter: [], supersede: [] },
    { mode: 'QUEUED', held: false, enter: ['older'], supersede: [] },
    { mode: 'PARALLEL', held: true, enter: ['older', 'newer'], supersede: [] },
  ];
  for (const { mode, held, enter, supersede } of cases) {
    it(`${mode} with the stage ${held ? 'held' : 'free'}`, () => {
      const executions = [...(held ? [holder] : []), waiting('older', 2, mode), waiting('newer', 3, mode)];
      const entries = planStageEntries(executions, () => stages);
      assert.deepEqual([...entries.enter].sort(), [...enter].sort());
      assert.deepEqual([...entries.supersede], supersede);
    });
  }
});

describe('URL templates and declarations', () => {
  it('fills {Config:X} and {ExternalExecutionId}, and gives no URL when a value is missing', () => {
    assert.equal(fillUrlTemplate('https://x/{Config:P}/r/{ExternalExecutionId}', { P: 'proj' }, '7'), 'https://x/proj/r/7');
    assert.equal(fillUrlTemplate('https://x/{Config:P}/r/{ExternalExecutionId}', { P: 'proj' }), undefined);
    assert.equal(fillUrlTemplate('https://x/{Config:Q}', { P: 'proj' }), undefined);
    assert.equal(fillUrlTemplate(undefined, {}), undefined);
  });

  it('reads runOrder 1 by default, SUPERSEDED by default and the Region entry of artifactStores', () => {
    const plan = readPipelinePlan(
      {
        artifactStores: { 'eu-west-1': { type: 'S3', location: 'other' }, 'us-east-1': { type: 'S3', location: 'mine', encryptionKey: { id: 'k', type: 'KMS' } } },
        stages: [{ name: 'S', actions: [{ name: 'A', actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' } }] }],
      },
      'us-east-1',
    );
    assert.equal(plan.stages[0]?.actions[0]?.runOrder, 1);
    assert.equal(plan.executionMode, 'SUPERSEDED');
    assert.deepEqual(plan.artifactStore, { bucketName: 'mine', encryptionKey: { id: 'k', type: 'KMS' } });
  });
});
