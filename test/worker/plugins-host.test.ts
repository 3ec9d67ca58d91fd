// The plugin host: options checked at start-up, configuration parsed per job, a frozen context, and
// whatever `execute` returns or throws turned into a valid, redacted, API-sized outcome.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { definePlugin, type JobContext, type JobIdentity, type JobOutcome, type Plugin, type PluginLogger, type SchemaLike } from '../../src/plugin.js';
import { CpsyncError } from '../../src/util/errors.js';
import { preparePlugin, runPlugin, type PluginJobInput, type PreparedPlugin } from '../../src/worker/plugins/host.js';
import { fitOutcomeToApiLimits, truncateTail, validateOutcome } from '../../src/worker/plugins/outcome.js';
import { JobFailure } from '../../src/worker/types.js';

const TOOLS = fileURLToPath(new URL('../fixtures/tools/', import.meta.url));

const job: JobIdentity = {
  jobId: 'job-7',
  pipeline: 'MyFirstPipeline',
  stage: 'Test',
  action: 'Lab',
  pipelineExecutionId: 'exec-7',
  actionExecutionId: 'action-exec-7',
  actionType: 'Test/My-Test-Lab/1',
};

let workspace: string;
before(() => {
  workspace = realpathSync(mkdtempSync(join(tmpdir(), 'cpsync-host-')));
  mkdirSync(join(workspace, 'inputs', 'MyBuiltApp'), { recursive: true });
  mkdirSync(join(workspace, 'outputs', 'Report'), { recursive: true });
  process.env.PATH = `${TOOLS}:${process.env.PATH ?? ''}`;
});
after(() => rmSync(workspace, { recursive: true, force: true }));

function recordingLogger(): PluginLogger & { messages: string[] } {
  const messages: string[] = [];
  const record = (message: string, fields?: Record<string, unknown>) => void messages.push(fields ? `${message} ${JSON.stringify(fields)}` : message);
  return { messages, debug: record, info: record, warn: record, error: record };
}

function input(overrides: Partial<PluginJobInput> = {}): PluginJobInput {
  return {
    job,
    configuration: { Suite: 'smoke', ApiToken: 'tok_live_SECRET123' },
    inputs: { MyBuiltApp: join(workspace, 'inputs', 'MyBuiltApp') },
    outputs: { Report: join(workspace, 'outputs', 'Report') },
    workspace,
    log: recordingLogger(),
    signal: new AbortController().signal,
    secretKeys: ['ApiToken'],
    execOptions: { killGraceMs: 200 },
    ...overrides,
  };
}

const pluginReturning = (execute: (ctx: JobContext) => unknown, extra: Partial<Plugin> = {}): PreparedPlugin =>
  preparePlugin(definePlugin({ meta: { name: 'probe' }, execute: execute as Plugin['execute'], ...extra }), undefined);

const run = (execute: (ctx: JobContext) => unknown, overrides: Partial<PluginJobInput> = {}) => runPlugin(pluginReturning(execute), input(overrides));

describe('preparePlugin: executor options from actions.yaml', () => {
  const plugin = definePlugin<Record<string, string>, { argv: string[]; retries: number }>({
    meta: { name: 'strict' },
    configSchema: {
      options: z.strictObject({ argv: z.array(z.string()).min(1, { error: 'must name at least the program' }), retries: z.number().int().default(0) }),
    },
    async execute() {
      return { status: 'succeeded' };
    },
  });

  it('parses the options once and freezes them', () => {
    const prepared = preparePlugin(plugin, { argv: ['make'] });
    assert.deepEqual(prepared.options, { argv: ['make'], retries: 0 });
    assert.ok(Object.isFrozen(prepared.options));
    assert.ok(Object.isFrozen((prepared.options as { argv: string[] }).argv));
    assert.equal(prepared.name, 'strict');
  });

  it('names actions.yaml, the action type and each offending field', () => {
    let caught: unknown;
    try {
      preparePlugin(plugin, { argv: [], retries: 'three', colour: 'blue' }, { actionType: 'Build/My-Build-Provider-Name/1' });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof CpsyncError);
    assert.equal(caught.code, 'plugin.options-invalid');
    assert.match(caught.message, /^actions\.yaml, action type Build\/My-Build-Provider-Name\/1: /);
    assert.match(caught.message, /executor\.options\.argv: must name at least the program/);
    assert.match(caught.message, /executor\.options\.retries: /);
    assert.match(caught.message, /colour/);
    assert.doesNotMatch(caught.message, /\n/);
    assert.match(caught.hint ?? '', /"strict" plugin/);
  });

  it('refuses options for a plugin that takes none', () => {
    const bare = definePlugin({ meta: { name: 'bare' }, execute: async () => ({ status: 'succeeded' as const }) });
    assert.throws(() => preparePlugin(bare, { argv: ['x'] }), /executor\.options: the "bare" plugin takes no options/);
    assert.doesNotThrow(() => preparePlugin(bare, undefined));
  });

  it('refuses {Config:Name} placeholders that name no configuration property', () => {
    assert.throws(
      () => preparePlugin(plugin, { argv: ['make', 'P={Config:ProjectName}', 'X={Config:Nope}'] }, { file: 'ci/actions.yaml', configurationKeys: ['ProjectName'] }),
      (error: unknown) => error instanceof CpsyncError && error.code === 'plugin.unknown-config-reference' && /^ci\/actions\.yaml: executor\.options\.argv\[2\] uses \{Config:Nope\}/.test(error.message) && /ProjectName/.test(error.hint ?? ''),
    );
    assert.doesNotThrow(() => preparePlugin(plugin, { argv: ['make', 'P={Config:ProjectName}'] }, { configurationKeys: ['ProjectName'] }));
  });
});

describe('runPlugin: configuration and context', () => {
  const configured = (schema: SchemaLike<unknown>) =>
    preparePlugin(definePlugin({ meta: { name: 'configured' }, configSchema: { configuration: schema }, execute: async () => ({ status: 'succeeded' as const }) }), undefined);

  it('fails with ConfigurationError naming the key when the configuration does not parse', async () => {
    const outcome = await runPlugin(configured(z.object({ Suite: z.enum(['smoke', 'full']), Shards: z.string() })), input());
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.status === 'failed' && outcome.failureType, 'ConfigurationError');
    assert.match(outcome.status === 'failed' ? outcome.message : '', /^action configuration is invalid: Shards: /);
  });

  it('never repeats a secret value, even when the schema puts it in its message', async () => {
    const leaky: SchemaLike<unknown> = {
      safeParse: (value) => ({ success: false, error: { issues: [{ path: ['ApiToken'], message: `${(value as Record<string, string>).ApiToken} is not a valid token` }] } }),
    };
    const outcome = await runPlugin(configured(leaky), input());
    assert.equal(outcome.status === 'failed' && outcome.message, 'action configuration is invalid: ApiToken: *** is not a valid token');
  });

  it('gives execute a deeply frozen context with the parsed configuration', async () => {
    const attempts: string[] = [];
    const prepared = preparePlugin(
      definePlugin<{ Suite: string; Shards: number }, { labels: string[] }>({
        meta: { name: 'mutator' },
        configSchema: {
          configuration: z.object({ Suite: z.string(), Shards: z.coerce.number().default(4) }),
          options: z.object({ labels: z.array(z.string()) }),
        },
        async execute(ctx) {
          const tries: [string, () => void][] = [
            ['config', () => ((ctx.config as { Suite: string }).Suite = 'hacked')],
            ['options', () => ctx.options.labels.push('hacked')],
            ['inputs', () => ((ctx.inputs as Record<string, string>).Extra = '/etc')],
            ['outputs', () => delete (ctx.outputs as Record<string, string>).Report],
            ['job', () => ((ctx.job as { jobId: string }).jobId = 'other')],
            ['state', () => ((ctx.state as { hop: number }).hop = 99)],
            ['context', () => ((ctx as { workspace: string }).workspace = '/')],
          ];
          for (const [name, attempt] of tries) {
            try {
              attempt();
              attempts.push(`${name}: changed`);
            } catch (error) {
              attempts.push(`${name}: ${error instanceof TypeError ? 'refused' : String(error)}`);
            }
          }
          return { status: 'succeeded', summary: `${ctx.config.Suite} x${ctx.config.Shards}` };
        },
      }),
      { labels: ['a'] },
    );
    const outcome = await runPlugin(prepared, input({ state: { hop: 1 } }));
    assert.deepEqual(outcome, { status: 'succeeded', summary: 'smoke x4' });
    assert.deepEqual(attempts, ['config: refused', 'options: refused', 'inputs: refused', 'outputs: refused', 'job: refused', 'state: refused', 'context: refused']);
  });

  it('gives execute a working exec and a logger that redacts secrets', async () => {
    const log = recordingLogger();
    const outcome = await run(async (ctx) => {
      ctx.log.info(`token is ${ctx.config.ApiToken}`, { token: ctx.config.ApiToken });
      const result = await ctx.exec(['fx-args', `--token=${ctx.config.ApiToken}`]);
      return { status: 'succeeded', summary: `exit ${result.exitCode}; ${result.outputTail}` };
    }, { log });
    assert.deepEqual(outcome, { status: 'succeeded', summary: 'exit 0; ["--token=***"]' });
    assert.ok(log.messages.some((message) => message === 'token is *** {"token":"***"}'));
    for (const message of log.messages) assert.doesNotMatch(message, /SECRET123/);
  });
});

describe('runPlugin: what execute returns', () => {
  const invalid: [string, unknown, RegExp][] = [
    ['undefined', undefined, /expected an object with a status, got undefined/],
    ['a string', 'ok', /got string/],
    ['null', null, /got null/],
    ['an array', [], /got an array/],
    ['no status', { summary: 'done' }, /status is missing/],
    ['an unknown status', { status: 'done' }, /status must be "succeeded", "failed" or "in-progress"/],
    ['failed without a message', { status: 'failed' }, /message/],
    ['failed with an empty message', { status: 'failed', message: '' }, /message must not be empty/],
    ['an unknown failure type', { status: 'failed', message: 'x', failureType: 'Oops' }, /failureType must be one of JobFailed/],
    ['a summary that is not text', { status: 'succeeded', summary: 42 }, /summary must be text/],
    ['a percentage over 100', { status: 'in-progress', state: {}, percentComplete: 150 }, /percentComplete must be from 0 to 100/],
    ['a negative percentage', { status: 'in-progress', state: {}, percentComplete: -1 }, /percentComplete must be from 0 to 100/],
    ['a BigInt in the state', { status: 'in-progress', state: { n: 1n } }, /state does not serialize to JSON/],
    ['a circular state', (() => { const state: Record<string, unknown> = {}; state.self = state; return { status: 'in-progress', state }; })(), /state does not serialize to JSON/],
    ['a function in the state', { status: 'in-progress', state: { next: () => 1 } }, /state does not serialize to JSON: holds a function/],
    ['no state at all', { status: 'in-progress' }, /state is missing/],
    ['output variables with a continuation', { status: 'in-progress', state: 1, outputVariables: { A: 'b' } }, /outputVariables/],
    ['a misspelled field', { status: 'succeeded', sumary: 'x' }, /sumary/],
    ['a bad output variable name', { status: 'succeeded', outputVariables: { 'has space': 'x' } }, /output variable "has space": names may only contain/],
  ];
  for (const [name, value, problem] of invalid) {
    it(`refuses ${name} as JobFailed`, async () => {
      const outcome = await run(() => value);
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.status === 'failed' && outcome.failureType, 'JobFailed');
      const message = outcome.status === 'failed' ? outcome.message : '';
      assert.match(message, /^plugin probe returned an invalid result: /);
      assert.match(message, problem);
    });
  }

  it('passes a valid in-progress outcome with its state', async () => {
    const outcome = await run(() => ({ status: 'in-progress', state: { runId: 'r-1', hop: 2 }, summary: 'running', percentComplete: 33.4, externalExecutionId: 'r-1' }));
    assert.deepEqual(outcome, { status: 'in-progress', state: { runId: 'r-1', hop: 2 }, summary: 'running', percentComplete: 33, externalExecutionId: 'r-1' });
  });

  it('fills in JobFailed for a failure without a type and keeps a given one', async () => {
    assert.deepEqual(await run(() => ({ status: 'failed', message: 'tests failed' })), { status: 'failed', message: 'tests failed', failureType: 'JobFailed' });
    assert.deepEqual(await run(() => ({ status: 'failed', message: 'no access', failureType: 'PermissionError' })), { status: 'failed', message: 'no access', failureType: 'PermissionError' });
  });

  it('cuts huge texts to the API limits: summary 2048, message 5000 keeping the tail, externalExecutionId 1500', async () => {
    const succeeded = await run(() => ({ status: 'succeeded', summary: 's'.repeat(10_000), externalExecutionId: 'e'.repeat(2000) }));
    assert.equal(succeeded.status === 'succeeded' && succeeded.summary?.length, 2048);
    assert.equal(succeeded.externalExecutionId?.length, 1500);
    const failed = await run(() => ({ status: 'failed', message: `${'x'.repeat(20_000)} the real error at the end` }));
    const message = failed.status === 'failed' ? failed.message : '';
    assert.equal(message.length, 5000);
    assert.match(message, /^….*the real error at the end$/);
  });

  it('redacts secrets and strips workspace paths from what it reports', async () => {
    const outcome = await run((ctx) => ({ status: 'failed', message: `login with tok_live_SECRET123 failed in ${ctx.inputs.MyBuiltApp}/run.sh` }));
    assert.equal(outcome.status === 'failed' && outcome.message, 'login with *** failed in ./inputs/MyBuiltApp/run.sh');
    const succeeded = await run(() => ({ status: 'succeeded', summary: 'used tok_live_SECRET123', outputVariables: { TOKEN: 'tok_live_SECRET123' } }));
    assert.deepEqual(succeeded, { status: 'succeeded', summary: 'used ***', outputVariables: { TOKEN: '***' } });
  });
});

describe('runPlugin: what execute throws', () => {
  it('an Error becomes JobFailed with its message, redacted and without workspace paths', async () => {
    const outcome = await run((ctx) => {
      throw new Error(`cannot read ${join(ctx.workspace, 'inputs', 'MyBuiltApp', 'config.json')} with tok_live_SECRET123`);
    });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'JobFailed', message: 'cannot read ./inputs/MyBuiltApp/config.json with ***' });
  });

  it('a JobFailure keeps its failure type', async () => {
    const outcome = await run(async () => {
      throw new JobFailure('PermissionError', 'access denied to the test lab');
    });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'PermissionError', message: 'access denied to the test lab' });
  });

  it('a JobFailure from another copy of the module is recognised by its shape', async () => {
    class JobFailure extends Error {
      constructor(
        readonly failureType: string,
        message: string,
      ) {
        super(message);
        this.name = 'JobFailure';
      }
    }
    const outcome = await run(() => {
      throw new JobFailure('RevisionUnavailable', 'input gone');
    });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'RevisionUnavailable', message: 'input gone' });
  });

  it('a thrown string, and a synchronous throw', async () => {
    assert.deepEqual(
      await run(() => {
        throw 'plain string';
      }),
      { status: 'failed', failureType: 'JobFailed', message: 'plain string' },
    );
  });
});

describe('runPlugin: abort', () => {
  const hang = () => new Promise<JobOutcome>(() => undefined);

  it('resolves promptly when the job is aborted, even if execute never returns', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('worker shutting down')), 100);
    const started = Date.now();
    const outcome = await run(hang, { signal: controller.signal });
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(outcome, { status: 'failed', failureType: 'SystemUnavailable', message: 'plugin probe was stopped: worker shutting down' });
  });

  it('reports a timeout signal as JobFailed', async () => {
    // AbortSignal.timeout's timer does not keep the process alive (the worker's poll loop does).
    const keepAlive = setTimeout(() => undefined, 5000);
    const outcome = await run(hang, { signal: AbortSignal.timeout(50) });
    clearTimeout(keepAlive);
    assert.deepEqual(outcome, { status: 'failed', failureType: 'JobFailed', message: "plugin probe did not finish within the job's time limit" });
  });

  it('keeps the failure given as the abort reason', async () => {
    const outcome = await run(hang, { signal: AbortSignal.abort(new JobFailure('SystemUnavailable', 'disk full')) });
    assert.deepEqual(outcome, { status: 'failed', failureType: 'SystemUnavailable', message: 'disk full' });
  });

  it('stops the tool a plugin is running', async () => {
    const controller = new AbortController();
    let result: unknown;
    setTimeout(() => controller.abort(), 300);
    const outcome = await run(async (ctx) => {
      result = await ctx.exec(['fx-sleep', '30']);
      return { status: 'succeeded' };
    }, { signal: controller.signal });
    assert.equal(outcome.status, 'failed');
    for (let waited = 0; result === undefined && waited < 3000; waited += 20) await new Promise((done) => setTimeout(done, 20));
    assert.equal((result as { cancelled: boolean } | undefined)?.cancelled, true);
  });
});

describe('outcome helpers', () => {
  it('validateOutcome accepts the three statuses', () => {
    assert.ok(validateOutcome({ status: 'succeeded' }).ok);
    assert.ok(validateOutcome({ status: 'failed', message: 'x' }).ok);
    assert.ok(validateOutcome({ status: 'in-progress', state: null }).ok);
  });

  it('fitOutcomeToApiLimits drops an empty summary and rounds the percentage', () => {
    assert.deepEqual(fitOutcomeToApiLimits({ status: 'succeeded', summary: '' }), { status: 'succeeded' });
    assert.deepEqual(fitOutcomeToApiLimits({ status: 'in-progress', state: 1, percentComplete: 99.6 }), { status: 'in-progress', state: 1, percentComplete: 100 });
  });

  it('truncateTail keeps the end', () => {
    assert.equal(truncateTail('abcdefghij', 5), '…ghij');
    assert.equal(truncateTail('abc', 5), 'abc');
  });
});
