// The bundled `command` plugin, loaded the way the worker loads it and run through the host with
// real fixture tools on PATH.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { JobIdentity, PluginLogger } from '../../src/plugin.js';
import { CpsyncError } from '../../src/util/errors.js';
import { preparePlugin, runPlugin, type PluginJobInput } from '../../src/worker/plugins/host.js';
import { loadPlugin, type AnyPlugin } from '../../src/worker/plugins/load.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TOOLS = fileURLToPath(new URL('../fixtures/tools/', import.meta.url));

const job: JobIdentity = {
  jobId: 'job-9',
  pipeline: 'MyFirstPipeline',
  stage: 'Build',
  action: 'MyBuild',
  pipelineExecutionId: 'exec-9',
  actionExecutionId: 'action-exec-9',
  actionType: 'Build/My-Build-Provider-Name/1',
};

let command: AnyPlugin;
let root: string;
let workspace: string;

before(async () => {
  process.env.PATH = `${TOOLS}:${process.env.PATH ?? ''}`;
  process.env.AWS_SECRET_ACCESS_KEY = 'worker-secret-access-key';
  command = (await loadPlugin('command', { pluginsDir: join(REPO, 'plugins'), cwd: REPO })).plugin;
  root = realpathSync(mkdtempSync(join(tmpdir(), 'cpsync-command-')));
});
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
beforeEach(() => {
  workspace = join(root, `job-${++counter}`);
  mkdirSync(join(workspace, 'inputs', 'MyApp'), { recursive: true });
  mkdirSync(join(workspace, 'outputs', 'MyBuiltApp'), { recursive: true });
  writeFileSync(join(workspace, 'inputs', 'MyApp', 'Makefile'), 'build:\n');
});

function recordingLogger(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  const record = (message: string) => void lines.push(message);
  return { lines, debug: () => undefined, info: record, warn: record, error: record };
}

function input(overrides: Partial<PluginJobInput> = {}): PluginJobInput & { log: ReturnType<typeof recordingLogger> } {
  return {
    job,
    configuration: { ProjectName: 'MyProject' },
    inputs: { MyApp: join(workspace, 'inputs', 'MyApp') },
    outputs: { MyBuiltApp: join(workspace, 'outputs', 'MyBuiltApp') },
    workspace,
    log: recordingLogger(),
    signal: new AbortController().signal,
    execOptions: { killGraceMs: 200 },
    ...overrides,
  } as PluginJobInput & { log: ReturnType<typeof recordingLogger> };
}

const runCommand = (options: Record<string, unknown>, overrides: Partial<PluginJobInput> = {}) => {
  const jobInput = input(overrides);
  return runPlugin(preparePlugin(command, options), jobInput).then((outcome) => ({ outcome, log: (jobInput.log as ReturnType<typeof recordingLogger>).lines }));
};

describe('command plugin: options at start-up', () => {
  it('accepts the executor options in the repository actions.yaml', () => {
    const file = parse(readFileSync(join(REPO, 'actions.yaml'), 'utf8')) as { actionTypes: { provider: string; executor?: { plugin: string; options?: unknown }; configurationProperties?: { name: string }[] }[] };
    const executors = file.actionTypes.filter((type) => type.executor?.plugin === 'command');
    assert.ok(executors.length > 0);
    for (const type of executors) {
      assert.doesNotThrow(() => preparePlugin(command, type.executor?.options, { configurationKeys: (type.configurationProperties ?? []).map((property) => property.name) }), type.provider);
    }
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no argv', {}, /executor\.options\.argv: /],
    ['an empty argv', { argv: [] }, /executor\.options\.argv: must name at least the program/],
    ['argv as one string', { argv: 'make build' }, /executor\.options\.argv: must be a list of arguments/],
    ['an empty program', { argv: [''] }, /executor\.options\.argv: the program \(first item\) must not be empty/],
    ['a non-text argument', { argv: ['make', 3] }, /executor\.options\.argv\[1\]: must be text/],
    ['an empty placeholder', { argv: ['make', 'X={Config:}'] }, /executor\.options\.argv\[1\]: "\{Config:\}" names no configuration property/],
    ['an output outside the workspace', { argv: ['make'], outputs: { MyBuiltApp: '../elsewhere' } }, /executor\.options\.outputs\.MyBuiltApp: must be a path inside the job workspace/],
    ['an absolute output', { argv: ['make'], outputs: { MyBuiltApp: '/etc' } }, /executor\.options\.outputs\.MyBuiltApp: must be a path inside/],
    ['a cwd outside', { argv: ['make'], cwd: 'inputs/../..' }, /executor\.options\.cwd: must be a path inside/],
    ['a bad duration', { argv: ['make'], timeout: 'soon' }, /executor\.options\.timeout: "soon" is not a duration/],
    ['a bad environment name', { argv: ['make'], env: { 'NOT-OK': 'x' } }, /executor\.options\.env\.NOT-OK: environment variable names/],
    ['an unknown option', { argv: ['make'], shell: true }, /shell/],
  ];
  for (const [name, options, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => preparePlugin(command, options, { actionType: 'Build/My-Build-Provider-Name/1' }), (error: unknown) => error instanceof CpsyncError && message.test(error.message));
    });
  }

  it('refuses a placeholder naming no configuration property, when the properties are known', () => {
    assert.throws(() => preparePlugin(command, { argv: ['make', '{Config:ProjectNmae}'] }, { configurationKeys: ['ProjectName'] }), /executor\.options\.argv\[1\] uses \{Config:ProjectNmae\}/);
  });
});

describe('command plugin: running', () => {
  it('fills placeholders inside one argument, never splitting or interpreting them', async () => {
    const hostile = '; rm -rf / $(whoami) `id` "quoted" \'single\'\nnext line';
    const { outcome, log } = await runCommand({ argv: ['fx-args', 'PROJECT={Config:ProjectName}', '{Config:ProjectName}', 'plain'] }, { configuration: { ProjectName: hostile } });
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(JSON.parse(log.find((line) => line.startsWith('[')) ?? ''), [`PROJECT=${hostile}`, hostile, 'plain']);
  });

  it('succeeds on exit 0 with a summary', async () => {
    const { outcome } = await runCommand({ argv: ['fx-exit', '0', 'built'] });
    assert.equal(outcome.status, 'succeeded');
    assert.match(outcome.status === 'succeeded' ? outcome.summary ?? '' : '', /^command exited 0 in \d+(\.\d+)?m?s$/);
  });

  it('fails with JobFailed and the output tail on a non-zero exit', async () => {
    const { outcome } = await runCommand({ argv: ['fx-exit', '2', 'compiling', 'error: missing semicolon'] });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'JobFailed', message: 'command exited 2: compiling\nerror: missing semicolon\nfx-exit: exiting with 2' });
  });

  it('fails with JobFailed when the command times out', async () => {
    const { outcome } = await runCommand({ argv: ['fx-sleep', '30'], timeout: '300ms' });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.status === 'failed' && outcome.failureType, 'JobFailed');
    assert.match(outcome.status === 'failed' ? outcome.message : '', /^timed out after 300ms(: sleeping 30s)?$/);
  });

  it('runs in the workspace by default and in options.cwd when given', async () => {
    const atRoot = await runCommand({ argv: ['fx-pwd'] });
    assert.ok(atRoot.log.includes(workspace));
    const inApp = await runCommand({ argv: ['fx-pwd'], cwd: 'inputs/MyApp' });
    assert.ok(inApp.log.includes(join(workspace, 'inputs', 'MyApp')));
  });

  it('passes options.env with placeholders, and no worker credentials', async () => {
    const { log } = await runCommand({ argv: ['fx-env'], env: { PROJECT: 'p-{Config:ProjectName}' } });
    const env = JSON.parse(log.find((line) => line.startsWith('{')) ?? '{}') as Record<string, string>;
    assert.equal(env.PROJECT, 'p-MyProject');
    assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
    assert.equal(env.CPSYNC_JOB_ID, 'job-9');
  });

  it('fails with ConfigurationError naming a placeholder the action has no value for', async () => {
    const { outcome } = await runCommand({ argv: ['fx-args', '--token={Config:ApiToken}'] });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'ConfigurationError', message: "executor options use {Config:ApiToken}, but the action's configuration has no such value" });
  });

  it('redacts secret configuration values from the log and the failure message', async () => {
    const { outcome, log } = await runCommand({ argv: ['fx-exit', '1', 'token={Config:ApiToken}'] }, { configuration: { ApiToken: 'tok_live_SECRET123' }, secretKeys: ['ApiToken'] });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'JobFailed', message: 'command exited 1: token=***\nfx-exit: exiting with 1' });
    for (const line of log) assert.doesNotMatch(line, /SECRET123/);
  });

  it('reports a program missing from PATH as a ConfigurationError', async () => {
    const { outcome } = await runCommand({ argv: ['no-such-build-tool'] });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'ConfigurationError', message: 'cannot run "no-such-build-tool": not found on PATH' });
  });

  it('stops when the job is aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('worker shutting down')), 300);
    const started = Date.now();
    const { outcome } = await runCommand({ argv: ['fx-sleep', '30'] }, { signal: controller.signal });
    assert.ok(Date.now() - started < 2000);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.status === 'failed' && outcome.failureType, 'SystemUnavailable');
  });
});

describe('command plugin: outputs', () => {
  it('copies a declared output folder into the output artifact folder', async () => {
    const { outcome } = await runCommand({ argv: ['fx-write', 'inputs/MyApp/build/bin/app.txt', 'built!'], outputs: { MyBuiltApp: 'inputs/MyApp/build' } });
    assert.equal(outcome.status, 'succeeded');
    assert.match(outcome.status === 'succeeded' ? outcome.summary ?? '' : '', /1 output collected$/);
    assert.equal(readFileSync(join(workspace, 'outputs', 'MyBuiltApp', 'bin', 'app.txt'), 'utf8'), 'built!');
  });

  it('copies a declared output file into the folder', async () => {
    const { outcome } = await runCommand({ argv: ['fx-write', 'dist/report.xml', '<ok/>'], outputs: { MyBuiltApp: 'dist/report.xml' } });
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(readdirSync(join(workspace, 'outputs', 'MyBuiltApp')), ['report.xml']);
  });

  it('accepts a command that writes straight into the output folder', async () => {
    const { outcome } = await runCommand({ argv: ['fx-write', 'outputs/MyBuiltApp/a.txt', 'a'], outputs: { MyBuiltApp: 'outputs/MyBuiltApp' } });
    assert.equal(outcome.status, 'succeeded');
    assert.equal(readFileSync(join(workspace, 'outputs', 'MyBuiltApp', 'a.txt'), 'utf8'), 'a');
  });

  it('fails with ConfigurationError when a declared output is missing', async () => {
    const { outcome } = await runCommand({ argv: ['fx-exit', '0'], outputs: { MyBuiltApp: 'inputs/MyApp/build' } });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'ConfigurationError', message: 'output MyBuiltApp: inputs/MyApp/build does not exist after the command ran' });
  });

  it('refuses an output that a symlink leads out of the workspace', async () => {
    mkdirSync(join(root, 'outside'), { recursive: true });
    writeFileSync(join(root, 'outside', 'passwd'), 'secret');
    symlinkSync(join(root, 'outside'), join(workspace, 'inputs', 'MyApp', 'build'));
    const { outcome } = await runCommand({ argv: ['fx-exit', '0'], outputs: { MyBuiltApp: 'inputs/MyApp/build' } });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'ConfigurationError', message: 'output MyBuiltApp: inputs/MyApp/build leads outside the job workspace' });
    assert.equal(existsSync(join(workspace, 'outputs', 'MyBuiltApp', 'passwd')), false);
  });

  it('leaves outputs alone when the command fails, and skips mapped names the job does not produce', async () => {
    const failed = await runCommand({ argv: ['fx-exit', '3'], outputs: { MyBuiltApp: 'inputs/MyApp' } });
    assert.equal(failed.outcome.status, 'failed');
    assert.deepEqual(readdirSync(join(workspace, 'outputs', 'MyBuiltApp')), []);
    const skipped = await runCommand({ argv: ['fx-exit', '0'], outputs: { Other: 'inputs/MyApp' } }, { outputs: {} });
    assert.equal(skipped.outcome.status, 'succeeded');
  });
});
