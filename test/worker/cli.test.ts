// `cpsync worker` as a real child process against the local endpoint: start-up checks (exit 1
// before polling), a real tool through the exec gateway, shell metacharacters passed literally,
// SIGKILL mid-job then the ledger on restart, SIGTERM drain with --grace, and secret scans.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { TEST_CREDENTIALS } from '../helpers/endpoint.js';
import { buildAction } from '../helpers/pipeline-world.js';
import { makeProject } from '../helpers/reconcile.js';
import { actionState, createPipeline, jobRecords, latestExecutionId, seedWorkerWorld, startTestEndpoint, tempWorkDir, threeStagePipeline, waitFor, waitForEnd, type TestEndpoint } from '../helpers/worker-world.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
const SECRET = 'tok-3xq-SECRET-9';

const TOOL = `#!/usr/bin/env node
// cp-tool <outDir> <name> <token>: "fail..." prints 80 lines and the token, exits 2; "sleep-N..."
// sleeps N seconds first; anything else writes args.json with the name to <outDir>.
import { mkdirSync, writeFileSync } from 'node:fs';
const [dir, name = '', token = ''] = process.argv.slice(2);
const write = () => { mkdirSync(dir, { recursive: true }); writeFileSync(dir + '/args.json', JSON.stringify([name])); console.log('wrote args.json'); };
if (name.startsWith('fail')) {
  for (let i = 0; i < 80; i++) console.log('line ' + i);
  console.log('using ' + token);
  console.error('cp-tool: compilation failed');
  process.exitCode = 2;
} else if (name.startsWith('sleep-')) {
  console.log('sleeping');
  setTimeout(write, Number(name.split('-')[1]) * 1000);
} else write();
`;

/** A local plugin: runs options.argv ({Config:X} and {Output} filled in) through ctx.exec. */
const PLUGIN = `export default {
  meta: { name: 'run' },
  configSchema: { options: { safeParse: (value) => (Array.isArray(value?.argv) ? { success: true, data: value } : { success: false, error: { issues: [{ path: ['argv'], message: 'must be a list' }] } }) } },
  async execute(ctx) {
    const output = Object.values(ctx.outputs)[0] ?? ctx.workspace;
    const argv = ctx.options.argv.map((arg) => arg.replace('{Output}', output).replace(/\\{Config:(\\w+)\\}/g, (_, name) => ctx.config[name] ?? ''));
    const result = await ctx.exec(argv);
    if (result.exitCode !== 0) return { status: 'failed', message: argv[0] + ' exited with ' + result.exitCode + '\\n' + result.outputTail };
    return { status: 'succeeded', summary: 'ran ' + argv[0] };
  },
};
`;

function actionsYaml(argv: string[], plugin = 'command'): string {
  return `actionTypes:
  - category: Build
    provider: Local-Build
    version: "1"
    configurationProperties:
      - { name: ProjectName, required: true, key: true, secret: false }
      - { name: Token, required: false, key: false, secret: true }
    inputArtifactDetails: { minimumCount: 0, maximumCount: 5 }
    outputArtifactDetails: { minimumCount: 0, maximumCount: 5 }
    executor:
      plugin: ${plugin}
      options:
        argv: ${JSON.stringify(argv)}${plugin === 'command' ? '\n        outputs: { BuildOut: out }' : ''}
`;
}

function project(argv: string[], plugin = 'command'): string {
  const dir = makeProject({ 'actions.yaml': actionsYaml(argv, plugin), 'plugins/run/index.ts': PLUGIN, 'bin/cp-tool': TOOL });
  chmodSync(join(dir, 'bin/cp-tool'), 0o755);
  return dir;
}

function envFor(world: TestEndpoint, dir: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: world.endpoint.url,
    AWS_REGION: world.endpoint.region,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
  };
}

/** Starts the worker in the background; resolves its exit and collects stderr. */
function spawnWorker(dir: string, env: NodeJS.ProcessEnv, args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'worker', ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, exited };
}

function pipelineWith(name: string, configuration: Record<string, string>) {
  const base = threeStagePipeline(name);
  return { ...base, stages: [base.stages![0]!, { name: 'Build', actions: [buildAction('Build', { configuration: { Token: SECRET, ...configuration } })] }, base.stages![2]!] };
}

describe('cpsync worker (child process)', () => {
  let world: TestEndpoint;
  let dir: string;
  before(async () => {
    dir = project(['cp-tool', 'out', '{Config:ProjectName}', '{Config:Token}']);
    world = await startTestEndpoint();
    await seedWorkerWorld(world);
  });
  after(async () => {
    await world.close();
  });

  const queued = (count: number) => waitFor(`${count} queued jobs`, async () => (jobRecords(world).filter((job) => job.status === 'Queued').length >= count ? true : undefined), 20_000);

  it('refuses a broken configuration before any AWS call (exit 1)', async () => {
    const dir = makeProject({ 'actions.yaml': 'actionTypes:\n  - category: Build\n    provider: [oops\n' });
    const result = await runCli(['worker', '--once', '--endpoint-url', 'http://127.0.0.1:9'], { cwd: dir, env: { AWS_REGION: 'us-east-1' } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /actions\.yaml/);
    assert.match(result.stderr, /the worker did not start/);
  });

  it('refuses an unknown plugin and bad plugin options, naming actions.yaml and the type (exit 1)', async () => {
    // An unknown plugin is a configuration problem, found (with its position) before anything else.
    const dir = makeProject({ 'actions.yaml': actionsYaml(['x'], 'no-such-plugin') });
    const result = await runCli(['worker', '--once', '--endpoint-url', 'http://127.0.0.1:9'], { cwd: dir, env: { AWS_REGION: 'us-east-1' } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /actions\.yaml:\d+:\d+: error: executor plugin "no-such-plugin" not found/);
    assert.match(result.stderr, /the worker did not start/);
    // Options the plugin's own schema refuses are named with the file and the type.
    const badOptions = makeProject({ 'actions.yaml': actionsYaml([]) });
    const refused = await runCli(['worker', '--once', '--endpoint-url', 'http://127.0.0.1:9'], { cwd: badOptions, env: { AWS_REGION: 'us-east-1' } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /actions\.yaml, action type Build\/Local-Build\/1: executor\.options\.argv/);
  });

  it('refuses a type that does not exist in the account, hinting cpsync apply (exit 1)', async () => {
    const yaml = actionsYaml(['x']).replace('Local-Build', 'Not-Created');
    const other = makeProject({ 'actions.yaml': yaml });
    const result = await runCli(['worker', '--once'], { cwd: other, env: envFor(world, dir) });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Build\/Not-Created\/1 from actions\.yaml does not exist/);
    assert.match(result.stderr, /cpsync apply/);
  });

  it('runs a real tool: a value with shell metacharacters arrives literally, the output is uploaded, the pipeline moves on; a failing tool fails the action with its output tail', async () => {
    const nasty = `a; echo pwned > x $(id) \`id\` | cat && "q" 'r' * ~ \${HOME}`;
    await createPipeline(world, pipelineWith('Cli-Ok', { ProjectName: nasty, Token: SECRET }));
    await createPipeline(world, pipelineWith('Cli-Fail', { ProjectName: 'fails', Token: SECRET }));
    await queued(2);
    const result = await runCli(['worker', '--once', '--work-dir', tempWorkDir(), '--poll-min', '10ms', '--poll-max', '50ms'], { cwd: dir, env: envFor(world, dir) });
    assert.equal(result.code, 0, result.stderr);
    for (const line of result.stderr.trim().split('\n')) JSON.parse(line);
    assert.ok(!result.stderr.includes(SECRET), 'the secret is not in the logs');

    assert.equal((await waitForEnd(world.codepipeline, 'Cli-Ok', await latestExecutionId(world.codepipeline, 'Cli-Ok'))).status, 'Succeeded');
    const okJob = jobRecords(world).find((job) => job.pipelineName === 'Cli-Ok');
    const output = okJob?.outputArtifacts[0];
    assert.ok(output);
    const zip = Buffer.from(await (await world.s3.send(new GetObjectCommand({ Bucket: output.bucketName, Key: output.objectKey }))).Body!.transformToByteArray());
    const files = await unzip(zip);
    assert.deepEqual(JSON.parse(files['args.json'] ?? 'null'), [nasty]);

    const failed = await actionState(world.codepipeline, 'Cli-Fail', 'Build', 'Build');
    const details = failed.action?.latestExecution?.errorDetails;
    assert.equal(details?.code, 'JobFailed');
    assert.match(details?.message ?? '', /command exited 2/);
    assert.match(details?.message ?? '', /line 79\nusing \*\*\*/);
    assert.ok(!(details?.message ?? '').includes(SECRET));
  });

  const inProgress = (pipelines: string[]) =>
    waitFor(`jobs of ${pipelines.join(', ')} in progress`, async () => (pipelines.every((name) => jobRecords(world).some((job) => job.pipelineName === name && job.status === 'InProgress')) ? true : undefined), 20_000);

  it('a worker killed with SIGKILL mid-job: the next start fails its jobs SystemUnavailable from the ledger', async () => {
    await createPipeline(world, pipelineWith('Kill-1', { ProjectName: 'sleep-5' }));
    await createPipeline(world, pipelineWith('Kill-2', { ProjectName: 'sleep-5' }));
    await queued(2);
    const workDir = tempWorkDir();
    const { child, exited } = spawnWorker(dir, envFor(world, dir), ['--work-dir', workDir, '--poll-min', '10ms', '--poll-max', '50ms']);
    await inProgress(['Kill-1', 'Kill-2']);
    await waitFor('two ledger entries', async () => (existsSync(join(workDir, 'ledger')) && readdirSync(join(workDir, 'ledger')).filter((name) => name.endsWith('.json')).length === 2 ? true : undefined));
    const pid = child.pid;
    child.kill('SIGKILL');
    assert.equal((await exited).signal, 'SIGKILL');

    const restart = await runCli(['worker', '--once', '--work-dir', workDir, '--poll-min', '10ms', '--poll-max', '50ms'], { cwd: dir, env: envFor(world, dir) });
    assert.equal(restart.code, 0, restart.stderr);
    for (const name of ['Kill-1', 'Kill-2']) {
      const { action } = await actionState(world.codepipeline, name, 'Build', 'Build');
      assert.equal(action?.latestExecution?.errorDetails?.code, 'SystemUnavailable', name);
      assert.match(action?.latestExecution?.errorDetails?.message ?? '', new RegExp(`the worker running this job stopped \\(pid ${pid}, host [^)]+\\) before it finished`));
    }
    assert.deepEqual(readdirSync(join(workDir, 'ledger')), []);
  });

  it('SIGTERM drains: a short job finishes, a long one is failed SystemUnavailable after --grace, exit 0', async () => {
    await createPipeline(world, pipelineWith('Term-short', { ProjectName: 'sleep-1' }));
    await createPipeline(world, pipelineWith('Term-long', { ProjectName: 'sleep-600' }));
    await queued(2);
    const { child, exited } = spawnWorker(dir, envFor(world, dir), ['--work-dir', tempWorkDir(), '--grace', '4s', '--poll-min', '10ms', '--poll-max', '50ms']);
    await inProgress(['Term-short', 'Term-long']);
    child.kill('SIGTERM');
    const result = await exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /stopping: SIGTERM received/);
    const short = await actionState(world.codepipeline, 'Term-short', 'Build', 'Build');
    assert.equal(short.action?.latestExecution?.status, 'Succeeded', JSON.stringify(short.action?.latestExecution) + result.stderr);
    assert.equal((await waitForEnd(world.codepipeline, 'Term-short', await latestExecutionId(world.codepipeline, 'Term-short'))).status, 'Succeeded');
    const long = await actionState(world.codepipeline, 'Term-long', 'Build', 'Build');
    assert.equal(long.action?.latestExecution?.errorDetails?.code, 'SystemUnavailable');
    assert.match(long.action?.latestExecution?.errorDetails?.message ?? '', /the worker shut down \(SIGTERM received\) and the job did not finish within the 4s grace period/);
  });
});

async function unzip(zip: Buffer): Promise<Record<string, string>> {
  const yauzl = await import('yauzl');
  return new Promise((resolve, reject) => {
    const files: Record<string, string> = {};
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, archive) => {
      if (error || !archive) return reject(error);
      archive.on('entry', (entry: import('yauzl').Entry) => {
        archive.openReadStream(entry, (openError, stream) => {
          if (openError || !stream) return reject(openError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            files[entry.fileName] = Buffer.concat(chunks).toString('utf8');
            archive.readEntry();
          });
        });
      });
      archive.on('end', () => resolve(files));
      archive.readEntry();
    });
  });
}
