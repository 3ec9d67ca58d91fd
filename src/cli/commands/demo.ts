// `cpsync demo` (what `npm start` runs): a whole release on the embedded local endpoint, with no
// AWS account and no network. It sets the stage the way a team has it before cpsync (the AWS
// guide's MyFirstPipeline, made by hand), then runs cpsync exactly as a user would: plan, apply,
// and the worker running the repository's own actions.yaml with the bundled plugins, while a new
// version of examples/MyApp goes through the pipeline.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../config/load.js';
import { myFirstPipeline } from '../../examples/my-first-pipeline.js';
import { CpsyncError, describeError } from '../../util/errors.js';
import { formatDuration } from '../../util/duration.js';
import { booleanFlag, stringFlag } from '../parse-args.js';
import type { CommandContext } from '../spec.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PIPELINE = 'MyFirstPipeline';
const SOURCE_BUCKET = 'my-app-releases';
const SOURCE_KEY = 'MyApp.zip';
const ARTIFACT_BUCKET = 'codepipeline-us-east-1-artifacts';
const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/0e5c2a3b-demo-4c1d-9f00-123456789abc';
const DEADLINE_MS = 50_000;

export async function runDemo(context: CommandContext): Promise<number> {
  const started = Date.now();
  const say = (text = '') => context.stdout.write(`${text}\n`);
  const step = (n: number, text: string) => say(`\n${n}. ${text}`);
  const kept = stringFlag(context.args, 'data');
  const dataDir = kept ?? mkdtempSync(join(tmpdir(), 'cpsync-demo-'));
  // The repository's own configuration, wherever the demo is started from.
  const cwd = REPO;

  // The SDK clients (ours and cpsync's) pick these up; the endpoint accepts any key.
  const { startLocalEndpoint } = await import('../../emulator/index.js');
  say('cpsync demo: a whole release on a local CodePipeline + S3 endpoint (no AWS account, no network)');
  const endpoint = await startLocalEndpoint({ port: 0, dataDir: join(dataDir, 'endpoint'), reset: true, dispatchTimeoutMs: 5_000 });
  const env: NodeJS.ProcessEnv = {
    ...context.env,
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_REGION: endpoint.region,
    AWS_ACCESS_KEY_ID: 'cpsync-demo',
    AWS_SECRET_ACCESS_KEY: 'cpsync-demo',
  };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const) process.env[name] = env[name];
  delete process.env.AWS_PROFILE;
  // plan and apply run exactly as on the command line, with these flags and this environment.
  const sub = (flags: Record<string, boolean>): CommandContext => ({ ...context, cwd, env, args: { flags: { 'no-color': booleanFlag(context.args, 'no-color'), ...flags }, positionals: [] } });

  const sdk = await import('@aws-sdk/client-codepipeline');
  const s3sdk = await import('@aws-sdk/client-s3');
  const clientConfig = { endpoint: endpoint.url, region: endpoint.region, credentials: { accessKeyId: 'cpsync-demo', secretAccessKey: 'cpsync-demo' } };
  const codepipeline = new sdk.CodePipelineClient(clientConfig);
  const s3 = new s3sdk.S3Client({ ...clientConfig, forcePathStyle: true });
  let worker: { stop(immediate?: boolean, reason?: string): void; done: Promise<unknown> } | undefined;
  try {
    step(1, `Local endpoint at ${endpoint.url} (state in ${shown(context.cwd, dataDir)})`);

    step(2, `Before cpsync: the AWS guide's ${PIPELINE}, made by hand: Source (S3, produces MyApp) → Staging (CodeDeploy)`);
    await s3.send(new s3sdk.CreateBucketCommand({ Bucket: ARTIFACT_BUCKET }));
    await s3.send(new s3sdk.CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
    await codepipeline.send(new sdk.CreatePipelineCommand({ pipeline: myFirstPipeline({ name: PIPELINE, artifactBucket: ARTIFACT_BUCKET, kmsKeyArn: KMS_KEY, sourceBucket: SOURCE_BUCKET, sourceKey: SOURCE_KEY }) }));
    say(`   created ${PIPELINE}, its artifact bucket ${ARTIFACT_BUCKET} (SSE-KMS) and the source bucket ${SOURCE_BUCKET}`);

    // The reviewed-plan flow CI uses: save the plan, then apply exactly it.
    const planFile = join(dataDir, 'plan.json');
    step(3, `cpsync plan --out ${shown(context.cwd, planFile)} (the repository's actions.yaml and pipelines/)`);
    const plan = await runSub('plan', { ...sub({}), args: { flags: { 'detailed-exitcode': true, out: planFile, 'no-color': booleanFlag(context.args, 'no-color') }, positionals: [] } }, context);
    if (plan !== 2) throw new CpsyncError('demo.plan', `cpsync plan exited ${plan}; expected changes (2)`);

    step(4, `cpsync apply ${shown(context.cwd, planFile)}`);
    const apply = await runSub('apply', { ...sub({}), args: { flags: { 'no-color': booleanFlag(context.args, 'no-color') }, positionals: [planFile] } }, context);
    if (apply !== 0) throw new CpsyncError('demo.apply', `cpsync apply exited ${apply}`);
    const afterApply = (await codepipeline.send(new sdk.GetPipelineCommand({ name: PIPELINE }))).pipeline;
    say(`   ${PIPELINE} is now at version ${afterApply?.version}: ${(afterApply?.stages ?? []).map((stage) => stage.name).join(' → ')}`);

    step(5, 'cpsync worker (in this process), with the bundled command plugin running make');
    worker = await startDemoWorker(env, cwd, join(dataDir, 'worker'), context);

    step(6, `A new version of examples/MyApp arrives in s3://${SOURCE_BUCKET}/${SOURCE_KEY}; a release starts`);
    await uploadSample(s3, s3sdk);
    const { pipelineExecutionId } = await codepipeline.send(new sdk.StartPipelineExecutionCommand({ name: PIPELINE }));
    say(`   execution ${pipelineExecutionId}`);
    const final = await follow(codepipeline, sdk, pipelineExecutionId ?? '', started, say);
    worker.stop(false, 'the demo release finished');
    await worker.done;
    worker = undefined;

    step(7, `Result: the release ${final.status === 'Succeeded' ? 'went through' : 'stopped'} (${final.status}) in ${formatDuration(Date.now() - started)}`);
    await summarize(codepipeline, sdk, s3, s3sdk, pipelineExecutionId ?? '', say);
    say('\nWhere to look next:');
    say('  actions.yaml, pipelines/MyFirstPipeline.yaml   what cpsync declared (see README.md)');
    say('  docs/local-endpoint.md, docs/worker.md          the endpoint and the worker');
    say('  npx cpsync local --data .cpsync/local           keep an endpoint running and try `cpsync plan` against it');
    if (kept) say(`  ${shown(context.cwd, dataDir)}   this run's endpoint state, plan file and worker files`);
    return final.status === 'Succeeded' ? 0 : 1;
  } catch (error) {
    throw error instanceof CpsyncError ? error : new CpsyncError('demo.failed', `the demo failed: ${describeError(error)}`, { hint: 'run again with --debug for details', cause: error });
  } finally {
    worker?.stop(true, 'the demo is stopping');
    await worker?.done.catch(() => undefined);
    codepipeline.destroy();
    s3.destroy();
    await endpoint.close();
    if (!kept) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A path as the user would type it: relative below the working directory, absolute elsewhere. */
function shown(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

async function runSub(name: 'plan' | 'apply', subContext: CommandContext, context: CommandContext): Promise<number> {
  const indented = { ...subContext, stdout: indent(context.stdout), stderr: indent(context.stderr) };
  const load = name === 'plan' ? (await import('./plan.js')).runPlan : (await import('./apply.js')).runApply;
  return load(indented);
}

function indent(stream: NodeJS.WritableStream): NodeJS.WritableStream {
  let atLineStart = true;
  const write = (chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let out = '';
    for (const char of text) {
      if (atLineStart && char !== '\n') out += '   ';
      out += char;
      atLineStart = char === '\n';
    }
    return stream.write(out);
  };
  return { write } as unknown as NodeJS.WritableStream;
}


async function uploadSample(s3: import('@aws-sdk/client-s3').S3Client, s3sdk: typeof import('@aws-sdk/client-s3')): Promise<void> {
  const { zipDirectory } = await import('../../worker/artifacts/index.js');
  const zip = await zipDirectory(join(REPO, 'examples', 'MyApp'), 'MyApp');
  const chunks: Buffer[] = [];
  for await (const chunk of zip.stream) chunks.push(chunk as Buffer);
  await s3.send(new s3sdk.PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: Buffer.concat(chunks), ContentType: 'application/zip' }));
}

async function startDemoWorker(env: NodeJS.ProcessEnv, cwd: string, workDir: string, context: CommandContext) {
  const project = await loadProject({ cwd });
  const { selectActionTypes } = await import('../../worker/select-types.js');
  const { prepareJobTypes } = await import('../../worker/plugin-host.js');
  const { createLogger } = await import('../../worker/logger.js');
  const { createJobsApi } = await import('../../aws/jobs-api.js');
  const { createArtifactTransfer } = await import('../../worker/artifacts/index.js');
  const { startWorker } = await import('../../worker/worker.js');
  const { resolveClientConfig } = await import('../../aws/client-config.js');
  const actionsFile = relative(cwd, project.settings.actionsFile) || project.settings.actionsFile;
  const selection = selectActionTypes(project.actionTypes, { providers: ['My-Build-Provider-Name'], categories: [], queries: [] }, actionsFile);
  const types = await prepareJobTypes(selection.types, { pluginsDir: project.settings.pluginsDir, cwd, actionsFile });
  const config = resolveClientConfig({ name: 'demo' }, {}, env);
  const api = await createJobsApi(config);
  // The story is told on stdout from the pipeline's state; the worker's own log (stderr) only
  // speaks up for warnings, or everything with --debug.
  const log = createLogger({ write: (line) => context.stderr.write(`   ${line}`), json: false, level: booleanFlag(context.args, 'debug') ? 'debug' : 'warn' });
  const worker = startWorker({
    api,
    transfer: createArtifactTransfer(),
    types,
    concurrency: 2,
    poll: { minMs: 200, maxMs: 1_000 },
    workDir,
    graceMs: 5_000,
    // One worker in one process: a key of its own signs its continuation tokens.
    tokenKey: randomBytes(32).toString('hex'),
    log,
    ...(config.s3Endpoint ? { s3Endpoint: config.s3Endpoint } : {}),
  });
  context.stdout.write(`   polling for ${selection.types.map((type) => type.label).join(', ')}\n`);
  return { stop: worker.stop, done: worker.done.finally(() => api.close()) };
}

interface FinalState {
  readonly status: string;
}

/** Prints each action's status as it changes, until the execution ends. */
async function follow(
  codepipeline: import('@aws-sdk/client-codepipeline').CodePipelineClient,
  sdk: typeof import('@aws-sdk/client-codepipeline'),
  executionId: string,
  started: number,
  say: (text: string) => void,
): Promise<FinalState> {
  const seen = new Map<string, string>();
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    // The execution's status first, then the actions': once it has ended, the state read after it
    // shows every action's last status (read the other way round, an action that failed in between
    // would never be printed).
    const execution = await codepipeline.send(new sdk.GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId: executionId }));
    const status = execution.pipelineExecution?.status ?? 'Unknown';
    const state = await codepipeline.send(new sdk.GetPipelineStateCommand({ name: PIPELINE }));
    for (const stage of state.stageStates ?? []) {
      if (stage.latestExecution?.pipelineExecutionId !== executionId) continue;
      for (const action of stage.actionStates ?? []) {
        const latest = action.latestExecution;
        if (!latest?.status) continue;
        const line = `${latest.status}${latest.percentComplete !== undefined && latest.status === 'InProgress' ? ` ${latest.percentComplete}%` : ''}${latest.summary ? ` — ${latest.summary}` : ''}${latest.errorDetails?.message ? ` — ${latest.errorDetails.message}` : ''}`;
        const key = `${stage.stageName}/${action.actionName}`;
        if (seen.get(key) === line) continue;
        seen.set(key, line);
        say(`   [${formatDuration(Date.now() - started).padStart(5)}] ${key}: ${line}`);
      }
    }
    if (status !== 'InProgress' && status !== 'Stopping') return { status };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new CpsyncError('demo.timeout', `the release did not finish within ${formatDuration(DEADLINE_MS)}`, { hint: 'run with --data .cpsync/demo to keep the state and look at the worker log above' });
}

async function summarize(
  codepipeline: import('@aws-sdk/client-codepipeline').CodePipelineClient,
  sdk: typeof import('@aws-sdk/client-codepipeline'),
  s3: import('@aws-sdk/client-s3').S3Client,
  s3sdk: typeof import('@aws-sdk/client-s3'),
  executionId: string,
  say: (text: string) => void,
): Promise<void> {
  const state = await codepipeline.send(new sdk.GetPipelineStateCommand({ name: PIPELINE }));
  const mark = (status?: string) => (status === 'Succeeded' ? '✓' : status === 'Failed' ? '✗' : '…');
  say(`   stages: ${(state.stageStates ?? []).map((stage) => `${stage.stageName} ${mark(stage.latestExecution?.status)}`).join(' → ')}`);
  const build = state.stageStates?.find((stage) => stage.stageName === 'MyBuildStage')?.actionStates?.[0]?.latestExecution;
  if (build) {
    say(`   build job: ${build.status}${build.summary ? `: ${build.summary}` : ''}`);
    if (build.externalExecutionUrl) say(`   details link: ${build.externalExecutionUrl}`);
    if (build.errorDetails?.message) say(`   error: ${build.errorDetails.message}`);
  }
  const execution = await codepipeline.send(new sdk.GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId: executionId }));
  for (const revision of execution.pipelineExecution?.artifactRevisions ?? []) say(`   source revision ${revision.name}: ${revision.revisionId}`);
  const listed = await s3.send(new s3sdk.ListObjectsV2Command({ Bucket: ARTIFACT_BUCKET, Prefix: `${PIPELINE.slice(0, 20)}/` }));
  const built = (listed.Contents ?? []).filter((object) => object.Key?.includes('/MyBuiltApp/'));
  for (const object of built) {
    const head = await s3.send(new s3sdk.HeadObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: object.Key }));
    say(`   output artifact MyBuiltApp: s3://${ARTIFACT_BUCKET}/${object.Key} (${object.Size} bytes, ${head.ServerSideEncryption} with ${head.SSEKMSKeyId === KMS_KEY ? "the pipeline's KMS key" : head.SSEKMSKeyId})`);
    const body = Buffer.from(await (await s3.send(new s3sdk.GetObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: object.Key }))).Body!.transformToByteArray());
    const release = await readArtifactFile(body, 'release.txt');
    if (release) for (const line of release.trim().split('\n')) say(`     release.txt | ${line}`);
  }
}

/** Unpacks the output artifact with the worker's own (safe) extraction and reads one file of it. */
async function readArtifactFile(zip: Buffer, name: string): Promise<string | undefined> {
  const { extractZip } = await import('../../worker/artifacts/index.js');
  const { DEFAULT_EXTRACT_LIMITS } = await import('../../worker/types.js');
  const dir = mkdtempSync(join(tmpdir(), 'cpsync-demo-artifact-'));
  try {
    writeFileSync(join(dir, 'artifact.zip'), zip);
    await extractZip(join(dir, 'artifact.zip'), join(dir, 'files'), { artifact: 'MyBuiltApp', limits: DEFAULT_EXTRACT_LIMITS, signal: new AbortController().signal });
    return readFileSync(join(dir, 'files', name), 'utf8');
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
