// Wire compatibility with a client nobody here wrote: the AWS CLI v2 (/usr/bin/aws, Debian's awscli
// 2.9.19, which .ci/run installs) goes through the AWS guide's custom-action steps
// (docs/../shared/reference/aws-guide-custom-action.md) against an endpoint started in this process.
//
// CLI 2.9.19 predates AWS_ENDPOINT_URL (2.13): it ignores the variable and would go to
// codepipeline.us-east-1.amazonaws.com, so every command also gets --endpoint-url.
// Exit codes of CLI v2: 254 for an error the service answered, 252 for parameter validation, 1 for a
// failed `aws s3` transfer.
//
// CPSYNC_SKIP_AWS_CLI=1 skips this file (loudly); otherwise a missing or v1 CLI is a failure.

import { myCustomAction } from '../../src/examples/my-custom-action.js';
import { myFirstPipeline } from '../../src/examples/my-first-pipeline.js';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yazl from 'yazl';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/emulator/index.js';

const AWS = '/usr/bin/aws';
const SKIP = process.env.CPSYNC_SKIP_AWS_CLI === '1';
if (SKIP) process.stderr.write('\n*** test/emulator/aws-cli.test.ts SKIPPED: CPSYNC_SKIP_AWS_CLI=1 — AWS CLI v2 wire compatibility is NOT checked in this run ***\n\n');

const ARTIFACT_BUCKET = 'codepipeline-us-east-1-artifacts';
const SOURCE_BUCKET = 'awscodepipeline-demobucket-example';
const SOURCE_KEY = 'SampleApp_Linux.zip';
const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const BUILD_TYPE = 'category=Build,owner=Custom,provider=My-Build-Provider-Name,version=1';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** Runs the CLI asynchronously: the endpoint answers from this same event loop, so nothing here may block it. */
function runAws(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(AWS, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(files)) zip.addBuffer(Buffer.from(text), name, { mtime: new Date(0) });
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.once('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The guide's MyCustomAction.json with concrete counts (inputs 1..1, outputs 0..1: the example produces MyBuiltApp). */
const MY_CUSTOM_ACTION = myCustomAction();

/** MyFirstPipeline before the guide's edit: S3 source → Staging (CodeDeploy), with a KMS key on the store. */
const MY_FIRST_PIPELINE = {
  pipeline: { ...myFirstPipeline({ artifactBucket: ARTIFACT_BUCKET, kmsKeyArn: KMS_KEY_ARN, sourceBucket: SOURCE_BUCKET, sourceKey: SOURCE_KEY, withoutV2Fields: true }), version: 1 },
};

/** The guide's step 4 block: MyBuildStage, inserted before Staging. */
const MY_BUILD_STAGE = {
  name: 'MyBuildStage',
  actions: [
    {
      name: 'MyBuildCustomAction',
      actionTypeId: { category: 'Build', owner: 'Custom', version: '1', provider: 'My-Build-Provider-Name' },
      inputArtifacts: [{ name: 'MyApp' }],
      outputArtifacts: [{ name: 'MyBuiltApp' }],
      configuration: { ProjectName: 'MyBuildProject' },
      runOrder: 1,
    },
  ],
};

describe('AWS CLI v2 against the local endpoint', { concurrency: true, skip: SKIP ? 'CPSYNC_SKIP_AWS_CLI=1: AWS CLI wire compatibility NOT checked' : false }, () => {
  let endpoint: LocalEndpoint;
  let dir: string;
  let baseEnv: NodeJS.ProcessEnv;

  /** `aws --endpoint-url … --output json <args>`, with the test's environment (plus `env`). */
  const aws = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    runAws(['--endpoint-url', endpoint.url, '--output', 'json', ...args], { ...baseEnv, ...env }, dir);

  /** Runs a command that must succeed; returns its stdout (text for `aws s3`, JSON for the rest). */
  async function okText(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
    const run = await aws(args, env);
    assert.equal(run.code, 0, `aws ${args.join(' ')} exited ${run.code}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`);
    return run.stdout;
  }

  /** Runs a command that must succeed and parses its JSON output (`{}` for none). */
  async function ok(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<any> {
    const stdout = await okText(args, env);
    return stdout.trim() === '' ? {} : JSON.parse(stdout);
  }

  /** Runs a command that must fail; returns the run for the exit code and stderr. */
  async function fails(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Run> {
    const run = await aws(args, env);
    assert.notEqual(run.code, 0, `aws ${args.join(' ')} should have failed\nstdout: ${run.stdout}`);
    return run;
  }

  const jobEnv = (c: Credentials): NodeJS.ProcessEnv => ({ AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey, AWS_SESSION_TOKEN: c.sessionToken });

  before(async () => {
    if (!existsSync(AWS)) {
      assert.fail(`${AWS} is missing: the AWS CLI v2 wire-compatibility test needs it (apt-get install awscli, as .ci/run does; or set CPSYNC_SKIP_AWS_CLI=1 to skip loudly)`);
    }
    dir = mkdtempSync(join(tmpdir(), 'cpsync-aws-cli-'));
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(dir, 'config'), '');
    writeFileSync(join(dir, 'credentials'), '');
    endpoint = await startLocalEndpoint({ port: 0, durable: false });
    baseEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      AWS_ACCESS_KEY_ID: 'AKIDAWSCLITEST',
      AWS_SECRET_ACCESS_KEY: 'aws-cli-test-secret',
      AWS_DEFAULT_REGION: endpoint.region,
      AWS_ENDPOINT_URL: endpoint.url,
      AWS_PAGER: '',
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const version = await runAws(['--version'], baseEnv, dir);
    const text = `${version.stdout}${version.stderr}`.trim();
    assert.ok(version.code === 0 && /^aws-cli\/2\./.test(text), `${AWS} is not the AWS CLI v2 (got exit ${version.code}: ${text}); install Debian's awscli 2.x as .ci/run does, or set CPSYNC_SKIP_AWS_CLI=1 to skip loudly`);
  });

  after(async () => {
    await endpoint?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs the AWS guide's custom-action steps end to end", async () => {
    // Step 1: the custom action type.
    writeFileSync(join(dir, 'MyCustomAction.json'), JSON.stringify(MY_CUSTOM_ACTION, null, 2));
    const created = await ok(['codepipeline', 'create-custom-action-type', '--cli-input-json', 'file://MyCustomAction.json']);
    assert.deepEqual(created.actionType.id, { category: 'Build', owner: 'Custom', provider: 'My-Build-Provider-Name', version: '1' });
    assert.equal(created.actionType.actionConfigurationProperties[0].name, 'ProjectName');
    assert.deepEqual(created.actionType.outputArtifactDetails, { minimumCount: 0, maximumCount: 1 });
    assert.deepEqual(created.tags, [{ key: 'Project', value: 'ProjectA' }]);

    // Buckets and the source object.
    assert.match(await okText(['s3', 'mb', `s3://${ARTIFACT_BUCKET}`]), new RegExp(`make_bucket: ${ARTIFACT_BUCKET}`));
    assert.match(await okText(['s3', 'mb', `s3://${SOURCE_BUCKET}`]), new RegExp(`make_bucket: ${SOURCE_BUCKET}`));
    const app = await zipOf({ 'index.html': '<h1>Sample</h1>\n', 'appspec.yml': 'version: 0.0\nos: linux\n' });
    writeFileSync(join(dir, 'SampleApp_Linux.zip'), app);
    assert.match(await okText(['s3', 'cp', 'SampleApp_Linux.zip', `s3://${SOURCE_BUCKET}/${SOURCE_KEY}`, '--no-progress']), /upload: /);
    assert.match(await okText(['s3', 'ls', `s3://${SOURCE_BUCKET}/`]), new RegExp(`\\s${app.length} ${SOURCE_KEY}\\n`));

    // MyFirstPipeline, then the guide's get-pipeline > pipeline.json, edit, update-pipeline.
    writeFileSync(join(dir, 'MyFirstPipeline.json'), JSON.stringify(MY_FIRST_PIPELINE, null, 2));
    const createdPipeline = await ok(['codepipeline', 'create-pipeline', '--cli-input-json', 'file://MyFirstPipeline.json']);
    assert.equal(createdPipeline.pipeline.version, 1);

    const got = await aws(['codepipeline', 'get-pipeline', '--name', 'MyFirstPipeline']);
    assert.equal(got.code, 0, got.stderr);
    writeFileSync(join(dir, 'pipeline.json'), got.stdout);
    const edited = JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8'));
    assert.equal(edited.metadata.pipelineArn, `arn:aws:codepipeline:${endpoint.region}:${endpoint.accountId}:MyFirstPipeline`);
    // Without removing metadata the CLI itself refuses the file (parameter validation, exit 252).
    const withMetadata = await fails(['codepipeline', 'update-pipeline', '--cli-input-json', 'file://pipeline.json']);
    assert.equal(withMetadata.code, 252, withMetadata.stderr);
    assert.match(withMetadata.stderr, /Unknown parameter in input: "metadata"/);
    delete edited.metadata;
    const [source, staging] = edited.pipeline.stages;
    staging.actions[0].inputArtifacts = [{ name: 'MyBuiltApp' }];
    edited.pipeline.stages = [source, MY_BUILD_STAGE, staging];
    writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(edited, null, 2));
    const updated = await ok(['codepipeline', 'update-pipeline', '--cli-input-json', 'file://pipeline.json']);
    assert.equal(updated.pipeline.version, 2);
    assert.deepEqual(updated.pipeline.stages.map((s: { name: string }) => s.name), ['Source', 'MyBuildStage', 'Staging']);

    const { pipelineExecutionId } = await ok(['codepipeline', 'start-pipeline-execution', '--name', 'MyFirstPipeline']);
    assert.match(pipelineExecutionId, /^[0-9a-f-]{36}$/);

    // Step 3: the worker. Poll until the job appears (the S3 source runs first).
    let job: any;
    for (let attempt = 0; attempt < 40 && !job; attempt++) {
      const polled = await ok(['codepipeline', 'poll-for-jobs', '--action-type-id', BUILD_TYPE, '--max-batch-size', '1']);
      job = polled.jobs?.[0];
      if (!job) await sleep(250);
    }
    assert.ok(job, 'poll-for-jobs returned no job');
    assert.equal(job.data.pipelineContext.pipelineExecutionId, pipelineExecutionId);
    assert.equal(job.data.pipelineContext.stage.name, 'MyBuildStage');
    assert.deepEqual(job.data.actionConfiguration.configuration, { ProjectName: 'MyBuildProject' });

    const acknowledged = await ok(['codepipeline', 'acknowledge-job', '--job-id', job.id, '--nonce', job.nonce]);
    assert.equal(acknowledged.status, 'InProgress');
    const again = await fails(['codepipeline', 'acknowledge-job', '--job-id', job.id, '--nonce', job.nonce]);
    assert.equal(again.code, 254, again.stderr);
    assert.match(again.stderr, /InvalidNonceException/);

    const { jobDetails } = await ok(['codepipeline', 'get-job-details', '--job-id', job.id]);
    assert.equal(jobDetails.id, job.id);
    const data = jobDetails.data;
    const credentials: Credentials = data.artifactCredentials;
    assert.match(credentials.accessKeyId, /^ASIA/);
    const input = data.inputArtifacts[0].location.s3Location;
    const output = data.outputArtifacts[0].location.s3Location;
    assert.equal(output.bucketName, ARTIFACT_BUCKET);
    assert.deepEqual(data.encryptionKey, { id: KMS_KEY_ARN, type: 'KMS' });

    // Download the input artifact with the job's credentials: the source zip, byte for byte.
    await okText(['s3', 'cp', `s3://${input.bucketName}/${input.objectKey}`, 'input.zip', '--no-progress'], jobEnv(credentials));
    assert.deepEqual(readFileSync(join(dir, 'input.zip')), app);

    // Upload the output artifact: refused without SSE-KMS (single PUT and multipart alike), accepted with it.
    const built = await zipOf({ 'index.html': '<h1>Built</h1>\n', 'build.txt': 'MyBuildProject\n' });
    writeFileSync(join(dir, 'MyBuiltApp.zip'), built);
    const target = `s3://${output.bucketName}/${output.objectKey}`;
    const plain = await fails(['s3', 'cp', 'MyBuiltApp.zip', target, '--no-progress'], jobEnv(credentials));
    assert.match(plain.stderr, /AccessDenied/);
    // 9 MiB is over the CLI's 8 MiB multipart threshold.
    const large = Buffer.alloc(9 * 1024 * 1024);
    for (let i = 0; i < large.length; i += 4) large.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(join(dir, 'large.bin'), large);
    const plainMultipart = await fails(['s3', 'cp', 'large.bin', target, '--no-progress'], jobEnv(credentials));
    assert.match(plainMultipart.stderr, /AccessDenied/);
    assert.match(plainMultipart.stderr, /CreateMultipartUpload/);
    await okText(['s3', 'cp', 'large.bin', target, '--no-progress', '--sse', 'aws:kms', '--sse-kms-key-id', data.encryptionKey.id], jobEnv(credentials));
    const largeHead = await ok(['s3api', 'head-object', '--bucket', output.bucketName, '--key', output.objectKey]);
    assert.equal(largeHead.ContentLength, large.length);
    assert.match(largeHead.ETag, /-2"$/, 'the CLI uploaded in two parts');
    await okText(['s3', 'cp', 'MyBuiltApp.zip', target, '--no-progress', '--sse', 'aws:kms', '--sse-kms-key-id', data.encryptionKey.id], jobEnv(credentials));

    // The job's credentials may not read their own output or anything else in the bucket.
    const readOutput = await fails(['s3', 'cp', target, 'nope.zip', '--no-progress'], jobEnv(credentials));
    assert.match(readOutput.stderr, /403|Forbidden|AccessDenied/);

    const head = await ok(['s3api', 'head-object', '--bucket', output.bucketName, '--key', output.objectKey]);
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, KMS_KEY_ARN);
    assert.equal(head.ContentLength, built.length);
    const range = await ok(['s3api', 'get-object', '--bucket', output.bucketName, '--key', output.objectKey, '--range', 'bytes=0-3', 'range.bin']);
    assert.equal(range.ContentRange, `bytes 0-3/${built.length}`);
    assert.deepEqual(readFileSync(join(dir, 'range.bin')), built.subarray(0, 4));

    await ok([
      'codepipeline', 'put-job-success-result', '--job-id', job.id,
      '--execution-details', 'summary=Built MyBuildProject,externalExecutionId=build-42,percentComplete=100',
    ]);

    // The Build stage succeeds and the execution moves on through Staging.
    let state: any;
    for (let attempt = 0; attempt < 40; attempt++) {
      state = await ok(['codepipeline', 'get-pipeline-state', '--name', 'MyFirstPipeline']);
      const staging = state.stageStates.find((s: { stageName: string }) => s.stageName === 'Staging');
      if (staging?.latestExecution?.pipelineExecutionId === pipelineExecutionId && staging.latestExecution.status === 'Succeeded') break;
      await sleep(250);
    }
    assert.equal(state.pipelineVersion, 2);
    const stages = Object.fromEntries(state.stageStates.map((s: { stageName: string }) => [s.stageName, s]));
    assert.deepEqual(stages.MyBuildStage.latestExecution, { pipelineExecutionId, status: 'Succeeded' });
    assert.deepEqual(stages.Staging.latestExecution, { pipelineExecutionId, status: 'Succeeded' });
    const buildAction = stages.MyBuildStage.actionStates[0];
    assert.equal(buildAction.latestExecution.status, 'Succeeded');
    assert.equal(buildAction.latestExecution.summary, 'Built MyBuildProject');
    assert.equal(buildAction.latestExecution.externalExecutionId, 'build-42');
    assert.equal(buildAction.latestExecution.externalExecutionUrl, 'https://my-build-instance/job/MyBuildProject/lastSuccessfulBuild/build-42/');
    assert.equal(buildAction.entityUrl, 'https://my-build-instance/job/MyBuildProject/');

    const execution = await ok(['codepipeline', 'get-pipeline-execution', '--pipeline-name', 'MyFirstPipeline', '--pipeline-execution-id', pipelineExecutionId]);
    assert.equal(execution.pipelineExecution.status, 'Succeeded');
    assert.equal(execution.pipelineExecution.pipelineVersion, 2);
  });

  it('reports errors the way the CLI expects (exit 254, exception name in stderr)', async () => {
    const pipeline = await fails(['codepipeline', 'get-pipeline', '--name', 'Nope']);
    assert.equal(pipeline.code, 254, pipeline.stderr);
    assert.match(pipeline.stderr, /An error occurred \(PipelineNotFoundException\) when calling the GetPipeline operation: .*'Nope'/);

    const actionType = await fails(['codepipeline', 'poll-for-jobs', '--action-type-id', 'category=Test,owner=Custom,provider=Nobody,version=9']);
    assert.equal(actionType.code, 254, actionType.stderr);
    assert.match(actionType.stderr, /\(ActionTypeNotFoundException\) when calling the PollForJobs operation/);

    const validation = await fails(['codepipeline', 'get-pipeline', '--name', 'bad name']);
    assert.equal(validation.code, 254, validation.stderr);
    assert.match(validation.stderr, /\(ValidationException\)/);

    const job = await fails(['codepipeline', 'get-job-details', '--job-id', '00000000-0000-4000-8000-000000000000']);
    assert.equal(job.code, 254, job.stderr);
    assert.match(job.stderr, /\(JobNotFoundException\)/);

    const bucket = await fails(['s3api', 'list-objects-v2', '--bucket', 'no-such-bucket-cpsync']);
    assert.equal(bucket.code, 254, bucket.stderr);
    assert.match(bucket.stderr, /\(NoSuchBucket\) when calling the ListObjectsV2 operation/);

    await okText(['s3', 'mb', 's3://cpsync-errors']);
    const key = await fails(['s3api', 'get-object', '--bucket', 'cpsync-errors', '--key', 'missing.zip', 'missing.zip']);
    assert.equal(key.code, 254, key.stderr);
    assert.match(key.stderr, /\(NoSuchKey\) when calling the GetObject operation/);

    const name = await fails(['s3', 'mb', 's3://Not_A_Bucket']);
    assert.match(name.stderr, /InvalidBucketName|Invalid bucket name/);
  });
});
