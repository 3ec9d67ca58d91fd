// The exec gateway against real child processes: tiny fixture programs under
// test/fixtures/tools/ put on PATH (as execa's own tests do), no mocks of child_process.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { JobIdentity, PluginLogger } from '../../src/plugin.js';
import { buildChildEnv, createExec, OutputTail, type CreateExecOptions } from '../../src/worker/exec.js';
import { createLineSplitter, createRedactor, stripWorkspacePaths } from '../../src/worker/redact.js';
import { JobFailure } from '../../src/worker/types.js';

const TOOLS = fileURLToPath(new URL('../fixtures/tools/', import.meta.url));

const job: JobIdentity = {
  jobId: 'job-1',
  pipeline: 'MyFirstPipeline',
  stage: 'Build',
  action: 'MyBuild',
  pipelineExecutionId: 'exec-1',
  actionExecutionId: 'action-exec-1',
  actionType: 'Build/My-Build-Provider-Name/1',
};

interface LoggedLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

function recordingLogger(): PluginLogger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

/** True while the process exists and is not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((done) => setTimeout(done, 20));
  }
  return condition();
}

let root: string;
let workspace: string;
const savedEnv = { ...process.env };

before(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'cpsync-exec-')));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'inputs', 'MyApp'), { recursive: true });
  mkdirSync(join(workspace, 'outputs', 'MyBuiltApp'), { recursive: true });
  // The worker's own environment holds credentials a tool must never see.
  process.env.PATH = `${TOOLS}:${process.env.PATH ?? ''}`;
  process.env.AWS_ACCESS_KEY_ID = 'AKIAWORKERKEY000000';
  process.env.AWS_SECRET_ACCESS_KEY = 'worker-secret-access-key';
  process.env.AWS_SESSION_TOKEN = 'worker-session-token';
  process.env.AWS_PROFILE = 'worker-profile';
  process.env.CPSYNC_TOKEN_KEY = 'hmac-key';
  process.env.NPM_CONFIG_REGISTRY = 'https://registry.example';
  process.env.LANG = 'C.UTF-8';
});

after(() => {
  process.env = savedEnv;
  rmSync(root, { recursive: true, force: true });
});

const makeExec = (options: Partial<CreateExecOptions> = {}) => createExec({ workspace, job, killGraceMs: 300, ...options });

const parseLastJson = (tail: string) => JSON.parse(tail.split('\n').find((line) => line.startsWith('[') || line.startsWith('{')) ?? 'null');

describe('exec: argv without a shell', () => {
  const hostile = ['; rm -rf /', '$(whoami)', '`id`', '&& echo pwned', 'two words', `"double" and 'single' quotes`, 'line one\nline two', '*', '$HOME', '|', '> /tmp/x', ''];

  it('passes every argument literally, one argument each', async () => {
    const result = await makeExec()(['fx-args', ...hostile]);
    assert.equal(result.exitCode, 0);
    assert.deepEqual(parseLastJson(result.outputTail), hostile);
  });

  it('does not look the program up through a shell either', async () => {
    await assert.rejects(makeExec()(['fx-args; id']), (error: unknown) => error instanceof JobFailure && error.failureType === 'ConfigurationError' && /not found on PATH/.test(error.message));
  });

  it('reports a missing program as a ConfigurationError', async () => {
    await assert.rejects(makeExec()(['no-such-tool-cpsync', 'x']), (error: unknown) => error instanceof JobFailure && error.failureType === 'ConfigurationError' && error.message === 'cannot run "no-such-tool-cpsync": not found on PATH');
  });

  it('refuses an empty argv', async () => {
    // @ts-expect-error: a JavaScript plugin can pass anything
    await assert.rejects(makeExec()([]), JobFailure);
  });

  it('writes input to standard input', async () => {
    const result = await makeExec()(['fx-stdin'], { input: 'hello\n' });
    assert.equal(result.outputTail, 'HELLO');
  });
});

describe('exec: environment allow-list', () => {
  it('gives the tool only allow-listed variables, the per-job HOME and TMPDIR, and the job identity', async () => {
    const result = await makeExec({ extraEnvNames: ['NPM_CONFIG_REGISTRY'] })(['fx-env'], { env: { EXTRA: 'from plugin' } });
    const env = parseLastJson(result.outputTail) as Record<string, string>;
    for (const name of Object.keys(env)) assert.doesNotMatch(name, /^AWS_/, `${name} leaked`);
    assert.equal(env.CPSYNC_TOKEN_KEY, undefined);
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(env.LANG, 'C.UTF-8');
    assert.equal(env.HOME, join(workspace, '.home'));
    assert.equal(env.TMPDIR, join(workspace, '.tmp'));
    assert.equal(env.NPM_CONFIG_REGISTRY, 'https://registry.example');
    assert.equal(env.EXTRA, 'from plugin');
    assert.equal(env.CPSYNC_JOB_ID, 'job-1');
    assert.equal(env.CPSYNC_PIPELINE, 'MyFirstPipeline');
    assert.equal(env.CPSYNC_STAGE, 'Build');
    assert.equal(env.CPSYNC_ACTION, 'MyBuild');
    assert.equal(env.CPSYNC_EXECUTION_ID, 'exec-1');
    assert.doesNotMatch(result.outputTail, /worker-secret-access-key|worker-session-token|AKIAWORKERKEY/);
  });

  it('never inherits AWS credentials, even when a setting allow-lists them', () => {
    assert.throws(() => makeExec({ extraEnvNames: ['AWS_SECRET_ACCESS_KEY'] }), /AWS_SECRET_ACCESS_KEY cannot be passed to tools/);
  });

  it('keeps the job identity when a plugin tries to override it', () => {
    const env = buildChildEnv({ sourceEnv: {}, homeDir: '/w/.home', tmpDir: '/w/.tmp', job, env: { CPSYNC_JOB_ID: 'forged', HOME: '/plugin-home' } });
    assert.equal(env.CPSYNC_JOB_ID, 'job-1');
    assert.equal(env.HOME, '/plugin-home');
  });
});

describe('exec: exit codes, output and the tail', () => {
  it('returns the exit code and the last lines of both streams, and streams each line to the logger', async () => {
    const log = recordingLogger();
    const result = await makeExec({ log })(['fx-exit', '2', 'compiling', 'error: missing semicolon']);
    assert.equal(result.exitCode, 2);
    assert.equal(result.signal, undefined);
    assert.equal(result.timedOut, false);
    assert.equal(result.cancelled, false);
    assert.match(result.outputTail, /compiling\nerror: missing semicolon/);
    assert.match(result.outputTail, /fx-exit: exiting with 2/);
    const streamed = log.lines.filter((line) => line.level === 'info');
    assert.deepEqual(
      streamed.filter((line) => line.fields?.stream === 'stdout').map((line) => line.message),
      ['compiling', 'error: missing semicolon'],
    );
    assert.deepEqual(streamed.filter((line) => line.fields?.stream === 'stderr').map((line) => line.message), ['fx-exit: exiting with 2']);
    assert.ok(result.durationMs >= 0);
  });

  it('keeps at most 50 lines and 4 KiB of output', async () => {
    const result = await makeExec()(['fx-lines', '5000', '30']);
    assert.equal(result.exitCode, 1);
    const lines = result.outputTail.split('\n');
    assert.ok(lines.length <= 50, `${lines.length} lines`);
    assert.ok(Buffer.byteLength(result.outputTail) <= 4096);
    assert.match(lines.at(-1) ?? '', /^line 5000 x+$/);
  });

  it('keeps the end of one huge line within 4 KiB', async () => {
    const result = await makeExec({ tailLines: 10 })(['fx-lines', '1', '200000']);
    assert.ok(Buffer.byteLength(result.outputTail) <= 4096, `${Buffer.byteLength(result.outputTail)} bytes`);
    assert.match(result.outputTail, /x$/);
  });

  it('bounds the tail in bytes for multi-byte text', () => {
    const tail = new OutputTail(50, 100);
    for (let i = 0; i < 30; i++) tail.push(`é${i}`.repeat(10));
    assert.ok(Buffer.byteLength(tail.text()) <= 100);
    assert.match(tail.text(), /é29$/);
  });
});

describe('exec: secrets are redacted from streamed lines and the tail', () => {
  it('hides a secret written in several pieces', async () => {
    const log = recordingLogger();
    const redactor = createRedactor(['hunter2-s3cr3t-value']);
    const result = await makeExec({ log, redactor })(['fx-secret', 'hunter2', '-s3cr', '3t-val', 'ue']);
    const lines = log.lines.filter((line) => line.level === 'info').map((line) => line.message);
    assert.deepEqual(lines.sort(), ['done', 'token=***', 'token=***']);
    assert.doesNotMatch(result.outputTail, /hunter2|s3cr3t/);
    assert.equal(result.outputTail.split('\n').filter((line) => line === 'token=***').length, 2);
  });

  it('hides secrets in the argv it logs', async () => {
    const log = recordingLogger();
    await makeExec({ log, redactor: createRedactor(['pa55word']) })(['fx-args', '--password=pa55word']);
    assert.ok(log.lines.length > 0);
    for (const line of log.lines) assert.doesNotMatch(line.message, /pa55word/);
  });

  it('redacts the lines of a multi-line secret one by one', () => {
    const redactor = createRedactor(['-----BEGIN KEY-----\nMIIEabcdefgh\n-----END KEY-----']);
    assert.equal(redactor.redact('MIIEabcdefgh'), '***');
  });

  it('cuts an overlong line only outside a secret, and joins UTF-8 split between chunks', () => {
    const lines: string[] = [];
    const splitter = createLineSplitter({ redactor: createRedactor(['SECRETSECRET']), onLine: (line) => lines.push(line), maxLineLength: 16 });
    for (const chunk of ['aaaaaaaaaaaaSEC', 'RETSEC', 'RETbbbb', '\n']) splitter.write(chunk);
    const euro = Buffer.from('€\n');
    splitter.write(euro.subarray(0, 1));
    splitter.write(euro.subarray(1));
    splitter.end();
    assert.equal(lines.join(''), 'aaaaaaaaaaaa***bbbb€');
    for (const line of lines) assert.doesNotMatch(line, /SEC|RET/);
  });

  it('strips workspace paths from messages', () => {
    assert.equal(stripWorkspacePaths('cannot open /w/job-1/inputs/a.txt in /w/job-1', '/w/job-1'), 'cannot open ./inputs/a.txt in .');
  });
});

describe('exec: working directory', () => {
  it('runs in the workspace by default and in a folder inside it when asked', async () => {
    assert.equal((await makeExec()(['fx-pwd'])).outputTail, workspace);
    assert.equal((await makeExec()(['fx-pwd'], { cwd: 'inputs/MyApp' })).outputTail, join(workspace, 'inputs', 'MyApp'));
    assert.equal((await makeExec()(['fx-pwd'], { cwd: join(workspace, 'outputs') })).outputTail, join(workspace, 'outputs'));
  });

  const refused: [string, string, RegExp][] = [
    ['a parent folder', '..', /outside the job workspace/],
    ['a climb through a subfolder', 'inputs/../../..', /outside the job workspace/],
    ['an absolute path elsewhere', '/etc', /outside the job workspace/],
    ['a symlink out of the workspace', 'inputs/escape', /outside the job workspace/],
    ['a folder that does not exist', 'inputs/Nope', /does not exist/],
  ];
  for (const [name, cwd, message] of refused) {
    it(`refuses ${name}`, async () => {
      try {
        symlinkSync(root, join(workspace, 'inputs', 'escape'));
      } catch {
        // made by an earlier case
      }
      await assert.rejects(makeExec()(['fx-pwd'], { cwd }), (error: unknown) => error instanceof JobFailure && error.failureType === 'ConfigurationError' && message.test(error.message));
    });
  }
});

describe('exec: timeouts and cancellation end the whole process group', () => {
  it('stops a tool at its timeout', async () => {
    const started = Date.now();
    // Long enough for node to start and print under load; far shorter than the sleep.
    const result = await makeExec()(['fx-sleep', '30'], { timeoutMs: 1500 });
    assert.equal(result.timedOut, true);
    assert.equal(result.cancelled, false);
    assert.equal(result.exitCode, undefined);
    assert.equal(result.signal, 'SIGTERM');
    assert.match(result.outputTail, /sleeping 30s/);
    assert.ok(Date.now() - started < 5000);
  });

  it('kills a grandchild that ignores SIGTERM when the tool times out', async () => {
    const pidfile = join(root, 'grandchild-timeout.pid');
    const result = await makeExec()(['fx-grandchild', pidfile, 'stay'], { timeoutMs: 2500 });
    const grandchild = Number(readFileSync(pidfile, 'utf8'));
    assert.equal(result.timedOut, true);
    assert.match(result.outputTail, /grandchild up/);
    // Left alone, it would sleep for a minute.
    assert.ok(await waitFor(() => !isAlive(grandchild), 1000), `grandchild ${grandchild} survived`);
  });

  it('kills the group when the job is aborted, and returns promptly', async () => {
    const pidfile = join(root, 'grandchild-abort.pid');
    const controller = new AbortController();
    const running = makeExec({ signal: controller.signal })(['fx-grandchild', pidfile, 'stay']);
    assert.ok(await waitFor(() => { try { return readFileSync(pidfile, 'utf8').length > 0; } catch { return false; } }, 5000));
    const grandchild = Number(readFileSync(pidfile, 'utf8'));
    assert.equal(isAlive(grandchild), true);
    const aborted = Date.now();
    controller.abort();
    const result = await running;
    assert.ok(Date.now() - aborted < 2000, 'took too long after abort');
    assert.equal(result.cancelled, true);
    assert.equal(result.timedOut, false);
    assert.ok(await waitFor(() => !isAlive(grandchild), 1000), `grandchild ${grandchild} survived`);
  });

  for (const stdio of ['inherit', 'ignore']) {
    it(`ends a grandchild the tool leaves behind when it exits (grandchild output: ${stdio})`, async () => {
      const pidfile = join(root, `grandchild-leave-${stdio}.pid`);
      const result = await makeExec()(['fx-grandchild', pidfile, 'leave', stdio]);
      const grandchild = Number(readFileSync(pidfile, 'utf8'));
      assert.equal(result.exitCode, 0);
      assert.equal(result.timedOut, false);
      assert.ok(await waitFor(() => !isAlive(grandchild), 1000), `grandchild ${grandchild} survived`);
    });
  }

  it('does not start a tool when the job is already aborted', async () => {
    const pidfile = join(root, 'never.pid');
    const result = await makeExec({ signal: AbortSignal.abort() })(['fx-grandchild', pidfile, 'stay']);
    assert.equal(result.cancelled, true);
    assert.throws(() => readFileSync(pidfile));
  });
});
