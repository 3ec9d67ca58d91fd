// The bundled `make` plugin, loaded the way the worker loads it and run through the host with the
// real `make` on a small fixture project (test/fixtures/projects/make-app).

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { JobIdentity, PluginLogger } from '../../src/plugin.js';
import { CpsyncError } from '../../src/util/errors.js';
import { preparePlugin, runPlugin, type PluginJobInput } from '../../src/worker/plugins/host.js';
import { loadPlugin, type AnyPlugin } from '../../src/worker/plugins/load.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PROJECT = fileURLToPath(new URL('../fixtures/projects/make-app/', import.meta.url));

const job: JobIdentity = {
  jobId: 'job-11',
  pipeline: 'MyFirstPipeline',
  stage: 'Build',
  action: 'Make',
  pipelineExecutionId: 'exec-11',
  actionExecutionId: 'action-exec-11',
  actionType: 'Build/My-Make-Build/1',
};

let make: AnyPlugin;
let root: string;
let workspace: string;

before(async () => {
  make = (await loadPlugin('make', { pluginsDir: join(REPO, 'plugins'), cwd: REPO })).plugin;
  root = realpathSync(mkdtempSync(join(tmpdir(), 'cpsync-make-')));
});
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
beforeEach(() => {
  workspace = join(root, `job-${++counter}`);
  cpSync(PROJECT, join(workspace, 'inputs', 'MyApp'), { recursive: true });
  mkdirSync(join(workspace, 'outputs', 'MyBuiltApp'), { recursive: true });
});

function recordingLogger(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  const record = (message: string) => void lines.push(message);
  return { lines, debug: record, info: record, warn: record, error: record };
}

const runMake = async (options: Record<string, unknown>, overrides: Partial<PluginJobInput> = {}) => {
  const log = recordingLogger();
  const outcome = await runPlugin(preparePlugin(make, options), {
    job,
    configuration: { Target: 'build', Version: '1.4.2' },
    inputs: { MyApp: join(workspace, 'inputs', 'MyApp') },
    outputs: { MyBuiltApp: join(workspace, 'outputs', 'MyBuiltApp') },
    workspace,
    log,
    signal: new AbortController().signal,
    execOptions: { killGraceMs: 200 },
    ...overrides,
  });
  return { outcome, log: log.lines };
};

const summaryOf = (outcome: Awaited<ReturnType<typeof runMake>>['outcome']) => (outcome.status === 'succeeded' ? (outcome.summary ?? '') : `not a success: ${JSON.stringify(outcome)}`);
const messageOf = (outcome: Awaited<ReturnType<typeof runMake>>['outcome']) => (outcome.status === 'failed' ? outcome.message : `not a failure: ${JSON.stringify(outcome)}`);

/** The executor section of the first ```yaml block in a doc page. */
function docExample(page: string): { plugin: string; options: unknown } {
  const text = readFileSync(join(REPO, 'docs', 'plugins', page), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(text)?.[1];
  assert.ok(block, `a yaml example in docs/plugins/${page}`);
  const parsed = parse(block) as { executor?: { plugin: string; options: unknown } };
  assert.ok(parsed.executor, 'the example is an executor section');
  return parsed.executor;
}

describe('make plugin: options at start-up', () => {
  it('accepts the example in docs/plugins/make.md', () => {
    const executor = docExample('make.md');
    assert.equal(executor.plugin, 'make');
    assert.doesNotThrow(() => preparePlugin(make, executor.options, { configurationKeys: ['Target', 'Version'] }));
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['a configured target without allowedTargets', { target: '{Config:Target}' }, /executor\.options\.allowedTargets: the target "\{Config:Target\}" comes from the action configuration; list the targets/],
    ['a target that is an option', { target: '-n' }, /executor\.options\.target: must be a make target/],
    ['a target that is an assignment', { target: 'CC=evil' }, /executor\.options\.target: must be a make target/],
    ['a fixed target outside allowedTargets', { target: 'deploy', allowedTargets: ['build'] }, /executor\.options\.target: "deploy" is not in allowedTargets/],
    ['an allowed target with a space', { target: '{Config:Target}', allowedTargets: ['build all'] }, /executor\.options\.allowedTargets\[0\]: must be a make target/],
    ['zero jobs', { jobs: 0 }, /executor\.options\.jobs: must be at least 1/],
    ['jobs as text', { jobs: '4' }, /executor\.options\.jobs: must be a whole number/],
    ['a bad variable name', { variables: { 'NOT-OK': 'x' } }, /executor\.options\.variables\.NOT-OK: make variable names/],
    ['a directory outside the workspace', { directory: '../elsewhere' }, /executor\.options\.directory: must be a path inside the job workspace/],
    ['an output outside the workspace', { outputs: { MyBuiltApp: '/etc' } }, /executor\.options\.outputs\.MyBuiltApp: must be a path inside/],
  ];
  for (const [name, options, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => preparePlugin(make, options, { actionType: 'Build/My-Make-Build/1' }), (error: unknown) => error instanceof CpsyncError && message.test(error.message));
    });
  }
});

describe('make plugin: running the real make', () => {
  it('runs the target in the first input folder, passes variables and collects outputs', async () => {
    const { outcome } = await runMake({ target: 'build', variables: { VERSION: '{Config:Version}', CHANNEL: 'stable' }, outputs: { MyBuiltApp: 'inputs/MyApp/build' } });
    assert.match(summaryOf(outcome), /^make build: exited 0 in \d+(\.\d+)?m?s; 1 output collected$/);
    assert.equal(readFileSync(join(workspace, 'outputs', 'MyBuiltApp', 'app.txt'), 'utf8'), 'app 1.4.2 (stable)\nhello from main\n');
  });

  it("runs the Makefile's default goal when no target is set", async () => {
    const { outcome } = await runMake({});
    assert.match(summaryOf(outcome), /^make: exited 0 in /);
    assert.ok(existsSync(join(workspace, 'inputs', 'MyApp', 'build', 'app.txt')));
  });

  it('lets the configuration pick one of allowedTargets, and passes -j (default: the cores)', async () => {
    const options = { target: '{Config:Target}', allowedTargets: ['build', 'flags'] };
    const byDefault = await runMake(options, { configuration: { Target: 'flags' } });
    assert.match(summaryOf(byDefault.outcome), /^make flags: exited 0/);
    assert.ok(byDefault.log.some((line) => line.startsWith('MAKEFLAGS=') && line.includes(`-j${availableParallelism()}`)), byDefault.log.join('\n'));
    const three = await runMake({ ...options, jobs: 3 }, { configuration: { Target: 'flags' } });
    assert.ok(three.log.some((line) => line.startsWith('MAKEFLAGS=') && line.includes('-j3')), three.log.join('\n'));
  });

  it('refuses a configured target outside allowedTargets, options included, without running make', async () => {
    const options = { target: '{Config:Target}', allowedTargets: ['build', 'flags'] };
    const notAllowed = await runMake(options, { configuration: { Target: 'broken' } });
    assert.deepEqual(notAllowed.outcome, { status: 'failed', failureType: 'ConfigurationError', message: 'make target "broken" is not allowed by the executor options; allowed: build, flags' });
    const option = await runMake(options, { configuration: { Target: '--eval=x:=1' } });
    assert.equal(option.outcome.status === 'failed' && option.outcome.failureType, 'ConfigurationError');
    assert.deepEqual(option.log, []);
  });

  it('fills a placeholder inside the target from the configuration', async () => {
    const { outcome } = await runMake({ target: 'fl{Config:Target}', allowedTargets: ['flags'] }, { configuration: { Target: 'ags' } });
    assert.match(summaryOf(outcome), /^make flags: exited 0/);
  });

  it('passes configuration values to make literally: $(shell …) is not expanded', async () => {
    const marker = join(workspace, 'pwned');
    const { outcome } = await runMake({ target: 'build', variables: { VERSION: '{Config:Version}' }, outputs: { MyBuiltApp: 'inputs/MyApp/build' } }, { configuration: { Version: `$(shell touch ${marker})` } });
    assert.equal(outcome.status, 'succeeded');
    assert.equal(existsSync(marker), false);
    assert.equal(readFileSync(join(workspace, 'outputs', 'MyBuiltApp', 'app.txt'), 'utf8').split('\n')[0], `app $(shell touch ${marker}) (dev)`);
  });

  it('refuses a configuration value with a line break in a variable', async () => {
    const { outcome } = await runMake({ variables: { VERSION: '{Config:Version}' } }, { configuration: { Version: '1\nbuild: ; touch pwned' } });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'ConfigurationError', message: 'make variable VERSION: the value from the action configuration contains a line break' });
  });

  it("fails with JobFailed and make's output tail when the target fails", async () => {
    const { outcome } = await runMake({ target: 'broken' });
    assert.equal(outcome.status === 'failed' && outcome.failureType, 'JobFailed');
    const message = messageOf(outcome);
    assert.match(message, /^make broken exited 2: /);
    assert.ok(message.includes('compiling broken.c'), message);
    assert.ok(message.includes("broken.c:3: error: expected ';'"), message);
    assert.ok(message.endsWith('make: *** [Makefile:17: broken] Error 1'), message);
    assert.deepEqual(readdirSync(join(workspace, 'outputs', 'MyBuiltApp')), []);
  });

  it('runs in options.directory when given', async () => {
    cpSync(PROJECT, join(workspace, 'inputs', 'Other', 'app'), { recursive: true });
    const { outcome } = await runMake({ directory: 'inputs/Other/app', target: 'build', outputs: { MyBuiltApp: 'inputs/Other/app/build' } });
    assert.equal(outcome.status, 'succeeded');
    assert.ok(existsSync(join(workspace, 'inputs', 'Other', 'app', 'build', 'app.txt')));
    assert.equal(existsSync(join(workspace, 'inputs', 'MyApp', 'build')), false);
  });

  it('fails with ConfigurationError when there is no folder to run in', async () => {
    const none = await runMake({}, { inputs: {} });
    assert.deepEqual(none.outcome, { status: 'failed', failureType: 'ConfigurationError', message: 'make needs a folder to run in: the action has no input artifact and executor.options.directory is not set' });
    const missing = await runMake({ directory: 'inputs/Nope' });
    assert.deepEqual(missing.outcome, { status: 'failed', failureType: 'ConfigurationError', message: 'working directory "inputs/Nope" does not exist in the job workspace' });
  });

  it('fails with ConfigurationError for a placeholder without a value, or a declared output make did not write', async () => {
    const placeholder = await runMake({ variables: { TOKEN: '{Config:ApiToken}' } });
    assert.deepEqual(placeholder.outcome, { status: 'failed', failureType: 'ConfigurationError', message: "executor options use {Config:ApiToken}, but the action's configuration has no such value" });
    const output = await runMake({ target: 'flags', outputs: { MyBuiltApp: 'inputs/MyApp/dist' } });
    assert.deepEqual(output.outcome, { status: 'failed', failureType: 'ConfigurationError', message: 'output MyBuiltApp: inputs/MyApp/dist does not exist after make flags ran' });
  });
});
