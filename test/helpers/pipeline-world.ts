// A small world for execution and job tests, built only through the real SDK clients: a source
// bucket holding app.zip, an artifact store bucket, custom action types and pipelines that use them.

import {
  AcknowledgeJobCommand,
  CreateCustomActionTypeCommand,
  CreatePipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  PollForJobsCommand,
  type ActionDeclaration,
  type ActionTypeId,
  type CodePipelineClient,
  type CreateCustomActionTypeCommandInput,
  type Job,
  type PipelineDeclaration,
  type PipelineExecution,
} from '@aws-sdk/client-codepipeline';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { TestEndpoint } from './endpoint.js';

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service';
export const SOURCE_BUCKET = 'source-bucket';
export const SOURCE_KEY = 'app.zip';
export const ARTIFACT_BUCKET = 'codepipeline-us-east-1-artifacts';
export const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';

export const BUILD_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Local-Build', version: '1' };

/** A custom Build type: a required ProjectName (used in the URL templates) and a secret Token. */
export function buildTypeDefinition(overrides: Partial<CreateCustomActionTypeCommandInput> = {}): CreateCustomActionTypeCommandInput {
  return {
    category: 'Build',
    provider: 'Local-Build',
    version: '1',
    settings: {
      entityUrlTemplate: 'https://ci.example/projects/{Config:ProjectName}',
      executionUrlTemplate: 'https://ci.example/projects/{Config:ProjectName}/runs/{ExternalExecutionId}',
    },
    configurationProperties: [
      { name: 'ProjectName', required: true, key: true, secret: false, queryable: false, type: 'String' },
      { name: 'Token', required: false, key: false, secret: true, queryable: false, type: 'String' },
    ],
    inputArtifactDetails: { minimumCount: 0, maximumCount: 5 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 5 },
    ...overrides,
  };
}

export function s3SourceAction(outputName = 'SourceOut'): ActionDeclaration {
  return {
    name: 'Source',
    actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
    outputArtifacts: [{ name: outputName }],
    configuration: { S3Bucket: SOURCE_BUCKET, S3ObjectKey: SOURCE_KEY, PollForSourceChanges: 'false' },
    runOrder: 1,
  };
}

export function buildAction(name = 'Build', overrides: Partial<ActionDeclaration> = {}): ActionDeclaration {
  return {
    name,
    actionTypeId: BUILD_TYPE,
    inputArtifacts: [{ name: 'SourceOut' }],
    outputArtifacts: [{ name: `${name}Out` }],
    configuration: { ProjectName: `proj-${name}`, Token: 's3cr3t-value' },
    runOrder: 1,
    ...overrides,
  };
}

export function deployAction(input = 'BuildOut'): ActionDeclaration {
  return {
    name: 'Deploy',
    actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CodeDeploy', version: '1' },
    inputArtifacts: [{ name: input }],
    configuration: { ApplicationName: 'App', DeploymentGroupName: 'Fleet' },
    runOrder: 1,
  };
}

/** Source (S3) → Build (custom) → Deploy (CodeDeploy), with a KMS key on the artifact store. */
export function threeStagePipeline(name: string, overrides: Partial<PipelineDeclaration> = {}): PipelineDeclaration {
  return {
    name,
    roleArn: ROLE_ARN,
    artifactStore: { type: 'S3', location: ARTIFACT_BUCKET, encryptionKey: { id: KMS_KEY_ARN, type: 'KMS' } },
    pipelineType: 'V2',
    stages: [
      { name: 'Source', actions: [s3SourceAction()] },
      { name: 'Build', actions: [buildAction()] },
      { name: 'Deploy', actions: [deployAction()] },
    ],
    ...overrides,
  };
}

/** Buckets, the source object and the Build custom type. */
export async function seedWorld(world: TestEndpoint, options: { withSource?: boolean } = {}): Promise<void> {
  await world.s3.send(new CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
  await world.s3.send(new CreateBucketCommand({ Bucket: ARTIFACT_BUCKET }));
  if (options.withSource ?? true) await world.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: 'source-bytes' }));
  await world.codepipeline.send(new CreateCustomActionTypeCommand(buildTypeDefinition()));
}

export async function createPipeline(world: TestEndpoint, declaration: PipelineDeclaration): Promise<void> {
  await world.codepipeline.send(new CreatePipelineCommand({ pipeline: declaration }));
}

/** Waits for a condition the endpoint reaches on its own (a background copy, a sweep). Not a timing
 *  assertion: the limit only bounds a test that would otherwise hang. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls until a job for the type appears (at most `maxBatchSize`). */
export async function pollJob(client: CodePipelineClient, actionTypeId: ActionTypeId = BUILD_TYPE, queryParam?: Record<string, string>): Promise<Job> {
  return waitFor(`a job for ${actionTypeId.provider}`, async () => {
    const { jobs } = await client.send(new PollForJobsCommand({ actionTypeId, maxBatchSize: 1, ...(queryParam ? { queryParam } : {}) }));
    return jobs?.[0];
  });
}

export async function pollAndAcknowledge(client: CodePipelineClient, actionTypeId: ActionTypeId = BUILD_TYPE): Promise<Job> {
  const job = await pollJob(client, actionTypeId);
  const { status } = await client.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce }));
  if (status !== 'InProgress') throw new Error(`acknowledge returned ${status}`);
  return job;
}

export async function latestExecutionId(client: CodePipelineClient, pipelineName: string): Promise<string> {
  const { pipelineExecutionSummaries } = await client.send(new ListPipelineExecutionsCommand({ pipelineName }));
  const id = pipelineExecutionSummaries?.[0]?.pipelineExecutionId;
  if (!id) throw new Error(`no execution of ${pipelineName}`);
  return id;
}

export async function getExecution(client: CodePipelineClient, pipelineName: string, pipelineExecutionId: string): Promise<PipelineExecution> {
  const { pipelineExecution } = await client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId }));
  return pipelineExecution as PipelineExecution;
}

/** Waits until the execution leaves InProgress/Stopping and returns it. */
export async function waitForEnd(client: CodePipelineClient, pipelineName: string, pipelineExecutionId: string): Promise<PipelineExecution> {
  return waitFor(`execution ${pipelineExecutionId} to end`, async () => {
    const execution = await getExecution(client, pipelineName, pipelineExecutionId);
    return execution.status === 'InProgress' || execution.status === 'Stopping' ? undefined : execution;
  });
}

export async function actionState(client: CodePipelineClient, pipelineName: string, stageName: string, actionName: string) {
  const state = await client.send(new GetPipelineStateCommand({ name: pipelineName }));
  const stage = state.stageStates?.find((candidate) => candidate.stageName === stageName);
  return { stage, action: stage?.actionStates?.find((candidate) => candidate.actionName === actionName) };
}

/** An S3 client that signs with a job's artifact credentials. */
export function artifactClient(world: TestEndpoint, job: Job): S3Client {
  const credentials = job.data?.artifactCredentials;
  if (!credentials?.accessKeyId || !credentials.secretAccessKey || !credentials.sessionToken) throw new Error('job has no artifact credentials');
  return new S3Client({
    endpoint: world.endpoint.url,
    region: world.endpoint.region,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
  });
}

/** Asserts that `promise` rejects with an SDK error of the given class name; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, name: string): Promise<Error & { message: string }> {
  try {
    await promise;
  } catch (error) {
    if ((error as Error).name !== name) throw new Error(`expected ${name}, got ${(error as Error).name}: ${(error as Error).message}`);
    return error as Error;
  }
  throw new Error(`expected ${name}, but the call succeeded`);
}
