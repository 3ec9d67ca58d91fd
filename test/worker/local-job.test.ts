// `run-job`'s planner (pure, table-driven) and its runner in-process with small inline plugins:
// ZIP inputs through the worker's extraction, a hostile ZIP refused, state too large for a
// continuation token, a declared output left empty, and the --timeout limit.

import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ConfigurationProperty } from '../../src/model/action-type.js';
import type { DesiredActionType, DesiredPipelineFile } from '../../src/model/desired.js';
import { definePlugin, type JobOutcome } from '../../src/plugin.js';
import { CpsyncError } from '../../src/util/errors.js';
import { planLocalJob, type LocalJobFlags, type PathKind } from '../../src/worker/local/plan-local-job.js';
import { runLocalJob, type LocalJobEvent } from '../../src/worker/local/run-local-job.js';
import { preparePlugin } from '../../src/worker/plugins/host.js';
import { writeZip } from '../helpers/zips.js';

const root = mkdtempSync(join(tmpdir(), 'cpsync-local-job-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => join(root, `${name}-${++counter}`);

function aType(overrides: { properties?: ConfigurationProperty[]; inputs?: [number, number]; outputs?: [number, number] } = {}): DesiredActionType {
  return {
    definition: {
      category: 'Build',
      provider: 'Local',
      version: '1',
      configurationProperties: overrides.properties ?? [
        { name: 'ProjectName', required: true, key: true, secret: false },
        { name: 'Token', required: false, key: false, secret: true },
      ],
      inputArtifactDetails: { minimumCount: overrides.inputs?.[0] ?? 0, maximumCount: overrides.inputs?.[1] ?? 1 },
      outputArtifactDetails: { minimumCount: overrides.outputs?.[0] ?? 1, maximumCount: overrides.outputs?.[1] ?? 2 },
    },
    tags: [],
    executor: { plugin: 'inline', options: {} },
  };
}

const pipelineUsing = (outputs: string[]): DesiredPipelineFile => ({
  file: 'pipelines/P.yaml',
  selectors: ['P'],
  insertStages: [
    {
      name: 'Build',
      placement: { before: 'Deploy' },
      actions: [{ name: 'B', actionTypeId: { category: 'Build', owner: 'Custom', provider: 'Local', version: '1' }, configuration: {}, inputArtifacts: [], outputArtifacts: outputs, runOrder: 1 }],
    },
  ],
  addActions: [],
  rewires: [],
});

function plan(flags: Partial<LocalJobFlags>, type = aType(), pipelineFiles: DesiredPipelineFile[] = [], paths: Record<string, PathKind> = {}) {
  return planLocalJob(
    { type: 'Build/Local/1', inputs: [], outputs: [], configuration: ['ProjectName=p'], ...flags },
    { actionTypes: [type], pipelineFiles, actionsFile: 'actions.yaml', resolvePath: (path) => `/abs/${path}`, probe: (path) => paths[path] ?? 'missing' },
  );
}

const problemsOf = (call: () => unknown): string => {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof CpsyncError);
    return error.message;
  }
  assert.fail('expected a CpsyncError');
};

describe('planLocalJob', () => {
  it('names the outputs from --output, else as the pipeline names them, else Output1..N for the minimum', () => {
    assert.deepEqual(plan({ outputs: ['A', 'B'] }).outputs, ['A', 'B']);
    const fromPipeline = plan({}, aType(), [pipelineUsing(['Built'])]);
    assert.deepEqual([fromPipeline.outputs, fromPipeline.outputsFrom], [['Built'], 'pipeline']);
    assert.deepEqual(plan({}, aType({ outputs: [2, 3] })).outputs, ['Output1', 'Output2']);
    assert.deepEqual(plan({}, aType({ outputs: [0, 1] })).outputs, []);
    // A pipeline action whose count does not fit the type is not a source of names.
    assert.deepEqual(plan({}, aType({ outputs: [1, 1] }), [pipelineUsing(['X', 'Y'])]).outputs, ['Output1']);
  });

  it('takes folders and ZIPs as inputs, values with "=" as configuration, and knows the secret keys', () => {
    const planned = plan({ inputs: ['Src=src', 'Zip=a.zip'], configuration: ['ProjectName=a=b', 'Token=t'] }, aType({ inputs: [0, 2] }), [], { '/abs/src': 'directory', '/abs/a.zip': 'zip' });
    assert.deepEqual(planned.inputs.map((input) => [input.name, input.kind, input.path]), [['Src', 'directory', '/abs/src'], ['Zip', 'zip', '/abs/a.zip']]);
    assert.deepEqual(planned.configuration, { ProjectName: 'a=b', Token: 't' });
    assert.deepEqual(planned.secretKeys, ['Token']);
  });

  const cases: [string, Partial<LocalJobFlags>, RegExp][] = [
    ['a file that is not a ZIP', { inputs: ['Src=notes.txt'] }, /--input Src=notes\.txt: notes\.txt is neither a folder nor a \.zip file/],
    ['a bad artifact name', { inputs: ['My App=src'] }, /--input My App: the artifact name/],
    ['too many outputs', { outputs: ['A', 'B', 'C'] }, /takes 1 to 2 output artifacts .* got 3/],
    ['an output named like an input', { inputs: ['Src=src'], outputs: ['Src'] }, /--output Src: the artifact name is already used/],
    ['a configuration key twice', { configuration: ['ProjectName=a', 'ProjectName=b'] }, /--config ProjectName is given twice/],
    ['an empty value', { configuration: ['ProjectName='] }, /--config ProjectName: the value .*AWS rejects empty configuration values/],
    ['an overlong value', { configuration: [`ProjectName=${'x'.repeat(1001)}`] }, /--config ProjectName: the value/],
  ];
  for (const [name, flags, expected] of cases) {
    it(`refuses ${name}`, () => assert.match(problemsOf(() => plan(flags, aType(), [], { '/abs/src': 'directory', '/abs/notes.txt': 'other-file' })), expected));
  }

  it('never repeats a configuration value in a message', () => {
    const message = problemsOf(() => plan({ configuration: ['ProjectName=p', 'Tokn=sup3r-s3cret', '=sup3r-s3cret'] }));
    assert.match(message, /Tokn: not a configuration property .*did you mean Token\?/);
    assert.ok(!message.includes('sup3r-s3cret'), message);
  });

  it('refuses a type without an executor, and suggests the category for a misspelt one', () => {
    const noExecutor = { ...aType(), executor: undefined };
    assert.match(problemsOf(() => plan({}, noExecutor)), /has no executor/);
    assert.match(problemsOf(() => plan({ type: 'Biuld/Local/1' })), /did you mean Build\/Local\/1\?/);
  });
});

async function runInline(execute: (ctx: Parameters<Parameters<typeof definePlugin>[0]['execute']>[0]) => Promise<JobOutcome>, flags: Partial<LocalJobFlags> = {}, extra: { timeoutMs?: number; paths?: Record<string, PathKind> } = {}) {
  const planned = planLocalJob(
    { type: 'Build/Local/1', inputs: [], outputs: ['Out'], configuration: ['ProjectName=p'], ...flags },
    { actionTypes: [aType()], pipelineFiles: [], actionsFile: 'actions.yaml', resolvePath: (path) => path, probe: (path) => extra.paths?.[path] ?? 'directory' },
  );
  const prepared = preparePlugin(definePlugin({ meta: { name: 'inline' }, execute }), {});
  const events: LocalJobEvent[] = [];
  const outputDir = fresh('out');
  const result = await runLocalJob({ plan: planned, prepared, outputDir, workDir: fresh('work'), keepWorkspaces: false, zip: false, maxHops: 5, timeoutMs: extra.timeoutMs ?? 60_000, hopDelayMs: 0, onEvent: (event) => events.push(event) });
  return { result, events, outputDir };
}

describe('runLocalJob', () => {
  it('extracts a ZIP input with the worker\'s extraction, modes kept', async () => {
    const zip = join(root, `in-${++counter}.zip`);
    await writeZip(zip, [{ name: 'bin/run.sh', data: '#!/bin/sh\n', mode: 0o100755 }, { name: 'README', data: 'hi\n', mode: 0o100644 }]);
    const { result, outputDir } = await runInline(
      async (ctx) => {
        const { stat } = await import('node:fs/promises');
        const mode = (await stat(join(ctx.inputs.Src as string, 'bin/run.sh'))).mode & 0o777;
        await writeFile(join(ctx.outputs.Out as string, 'mode.txt'), mode.toString(8));
        return { status: 'succeeded' };
      },
      { inputs: [`Src=${zip}`] },
      { paths: { [zip]: 'zip' } },
    );
    assert.equal(result.status, 'succeeded', JSON.stringify(result.result));
    assert.equal(readFileSync(join(outputDir, 'Out/mode.txt'), 'utf8'), '755');
  });

  it('refuses a hostile ZIP input before the plugin runs', async () => {
    const zip = join(root, `evil-${++counter}.zip`);
    await writeZip(zip, [{ name: '../escape.txt', data: 'x' }]);
    let ran = false;
    const { result } = await runInline(
      async () => {
        ran = true;
        return { status: 'succeeded' };
      },
      { inputs: [`Src=${zip}`] },
      { paths: { [zip]: 'zip' } },
    );
    assert.equal(ran, false);
    assert.equal(result.result.kind, 'failure');
    assert.ok(result.result.kind === 'failure' && result.result.result.type === 'JobFailed' && /escape\.txt/.test(result.result.result.message), JSON.stringify(result.result));
  });

  it('fails a declared output the plugin left empty with ConfigurationError, and writes no outputs', async () => {
    const { result, outputDir } = await runInline(async () => ({ status: 'succeeded' }));
    assert.ok(result.result.kind === 'failure' && result.result.result.type === 'ConfigurationError' && /produced nothing for the output artifact Out/.test(result.result.result.message));
    assert.equal(existsSync(join(outputDir, 'Out')), false);
  });

  it('fails state too large for a continuation token, naming its size', async () => {
    const { result } = await runInline(async () => ({ status: 'in-progress', state: { blob: 'x'.repeat(4000) } }));
    assert.equal(result.hops, 1);
    assert.ok(result.result.kind === 'failure' && result.result.result.type === 'JobFailed' && /continuation tokens hold at most 2,048/.test(result.result.result.message), JSON.stringify(result.result));
  });

  it('stops a hop that outlives --timeout and fails it with JobFailed', async () => {
    const started = Date.now();
    const { result } = await runInline((ctx) => new Promise<JobOutcome>((resolve) => ctx.signal.addEventListener('abort', () => resolve({ status: 'failed', message: 'aborted' }))), {}, { timeoutMs: 300 });
    assert.ok(Date.now() - started < 10_000);
    assert.ok(result.result.kind === 'failure' && result.result.result.type === 'JobFailed' && /did not finish within 300ms/.test(result.result.result.message), JSON.stringify(result.result));
  });
});
