import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CodePipelineClient, CreatePipelineCommand, ListPipelinesCommand } from '@aws-sdk/client-codepipeline';
import { parseFaultRule, parseLocalOptions } from '../../src/cli/commands/local.js';
import { CpsyncError } from '../../src/util/errors.js';
import { startTestEndpoint } from '../helpers/endpoint.js';
import { myFirstPipeline } from './control-plane-fixtures.js';

const ROOT = new URL('../../', import.meta.url).pathname;

interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exit: Promise<number | null>;
}

function startCli(args: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'local', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (chunk: Buffer) => (running.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (running.stderr += chunk.toString()));
  return running;
}

async function waitFor(running: Running, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(running.stdout);
    if (match) return match;
    if (Date.now() > deadline || running.child.exitCode !== null) throw new Error(`no ${pattern} in stdout: ${running.stdout}\nstderr: ${running.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function env(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((match) => [match[1] as string, match[2] as string]));
}

describe('cpsync local (child process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cpsync-local-cli-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints the environment, serves the real SDK, and exits 0 on SIGTERM with state kept', async () => {
    const running = startCli(['--port', '0', '--data', dataDir, '--dispatch-timeout', '5s', '--fault', 'GetPipelineState:latency=1ms']);
    try {
      await waitFor(running, /^export AWS_DEFAULT_REGION=.*$/m);
      const vars = env(running.stdout);
      assert.match(vars.AWS_ENDPOINT_URL ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(vars.AWS_ACCESS_KEY_ID && vars.AWS_SECRET_ACCESS_KEY);
      assert.equal(vars.AWS_REGION, 'us-east-1');
      assert.equal(vars.AWS_DEFAULT_REGION, 'us-east-1', 'the AWS CLI reads AWS_DEFAULT_REGION');
      assert.match(running.stderr, /CodePipeline \+ S3 endpoint at http:\/\/127\.0\.0\.1:\d+/);

      const client = new CodePipelineClient({
        endpoint: vars.AWS_ENDPOINT_URL,
        region: vars.AWS_REGION,
        credentials: { accessKeyId: vars.AWS_ACCESS_KEY_ID!, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY! },
        maxAttempts: 1,
      });
      await client.send(new CreatePipelineCommand({ pipeline: myFirstPipeline() }));
      assert.deepEqual((await client.send(new ListPipelinesCommand({}))).pipelines?.map((p) => p.name), ['MyFirstPipeline']);
      client.destroy();
    } finally {
      running.child.kill('SIGTERM');
    }
    assert.equal(await running.exit, 0, running.stderr);
    assert.match(running.stderr, /SIGTERM received, stopping/);

    // The state is on disk: the same data folder serves it again.
    const again = await startTestEndpoint({ dataDir });
    try {
      assert.deepEqual((await again.codepipeline.send(new ListPipelinesCommand({}))).pipelines?.map((p) => p.name), ['MyFirstPipeline']);
    } finally {
      await again.close();
    }
  });

  it('exits 1 with a clear message when the port is in use', async () => {
    const busy = await startTestEndpoint();
    try {
      const port = new URL(busy.endpoint.url).port;
      const running = startCli(['--port', port, '--data', join(dataDir, 'other')]);
      assert.equal(await running.exit, 1);
      assert.match(running.stderr, new RegExp(`error: port ${port} on 127\\.0\\.0\\.1 is already in use`));
      assert.match(running.stderr, /hint: .*--port/);
    } finally {
      await busy.close();
    }
  });

  it('exits 1 with a one-line message for a bad flag value', async () => {
    const running = startCli(['--port', '0', '--action-timeout', 'soon']);
    assert.equal(await running.exit, 1);
    assert.match(running.stderr, /^error: --action-timeout must be a duration such as 500ms, 30s, 15m or 1h, got "soon"\n  hint: /);
  });
});

describe('local command options (pure)', () => {
  it('parses fault rules, including S3 operations with a colon', () => {
    assert.deepEqual(parseFaultRule('PollForJobs:latency=50ms,throttle=0.1,error=0.05,drop=0.01'), {
      operation: 'PollForJobs',
      latencyMs: 50,
      throttleRate: 0.1,
      errorRate: 0.05,
      dropResponseRate: 0.01,
    });
    assert.deepEqual(parseFaultRule('s3:PutObject:error=1'), { operation: 's3:PutObject', errorRate: 1 });
    assert.deepEqual(parseFaultRule('*:drop=.5'), { operation: '*', dropResponseRate: 0.5 });
  });

  for (const bad of ['PollForJobs', 'PollForJobs:', ':throttle=0.1', 'X:throttle=2', 'X:colour=red', 'X:latency=fast', 'X:throttle']) {
    it(`refuses --fault ${bad}`, () => {
      assert.throws(() => parseFaultRule(bad), (error: unknown) => error instanceof CpsyncError && error.code === 'cli.bad-flag-value' && Boolean(error.hint));
    });
  }

  it('turns flags into endpoint options with durations in ms and the data folder resolved', () => {
    const options = parseLocalOptions(
      {
        flags: { port: '0', data: 'state', reset: true, 'dispatch-timeout': '30s', 'action-timeout': '15m', 'credential-lifetime': '1h', seed: '7', fault: ['*:error=0.5'] },
        positionals: [],
      },
      '/work',
    );
    assert.equal(options.port, 0);
    assert.equal(options.dataDir, '/work/state');
    assert.equal(options.reset, true);
    assert.equal(options.dispatchTimeoutMs, 30_000);
    assert.equal(options.actionTimeoutMs, 900_000);
    assert.equal(options.credentialLifetimeMs, 3_600_000);
    assert.equal(options.seed, 7);
    assert.deepEqual(options.faults, [{ operation: '*', errorRate: 0.5 }]);
    const defaults = parseLocalOptions({ flags: {}, positionals: [] }, '/work');
    assert.equal(defaults.port, 4599);
    assert.equal(defaults.host, '127.0.0.1');
    assert.equal(defaults.dataDir, '/work/.cpsync/local');
  });

  it('refuses a bad port, seed and account id', () => {
    for (const flags of [{ port: '70000' }, { seed: 'x' }, { 'account-id': '12' }]) {
      assert.throws(() => parseLocalOptions({ flags, positionals: [] }, '/'), CpsyncError);
    }
  });
});
