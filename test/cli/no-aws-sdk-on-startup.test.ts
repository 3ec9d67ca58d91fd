// `cpsync --version` and `cpsync validate` must not load the AWS SDK: it costs hundreds of
// milliseconds of start-up and validate promises to make no AWS call. The CLI runs from source
// (tsx) with a preload that records every module file loaded (test/helpers/record-loaded-modules.mjs).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const recorder = fileURLToPath(new URL('../helpers/record-loaded-modules.mjs', import.meta.url));
const cli = join(repoRoot, 'src', 'cli', 'main.ts');

let workDir: string;
let runCount = 0;

interface Recorded {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly modules: readonly string[];
}

/** Runs `node [nodeArgs] <args>` in the repo root with the recorder preloaded. */
function runRecorded(nodeArgs: readonly string[]): Promise<Recorded> {
  const file = join(workDir, `modules-${++runCount}.txt`);
  const env: NodeJS.ProcessEnv = { ...process.env, CPSYNC_RECORD_MODULES: file, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--import', recorder, ...nodeArgs], { cwd: repoRoot, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (exitCode === -1) {
        reject(error);
        return;
      }
      readFile(file, 'utf8')
        .catch(() => '')
        .then((text) => resolve({ exitCode, stdout, stderr, modules: text.split('\n').filter(Boolean) }), reject);
    });
  });
}

const awsSdk = (modules: readonly string[]) => modules.filter((path) => path.includes('/@aws-sdk/') || path.includes('/@smithy/'));

describe('start-up does not load the AWS SDK', () => {
  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'cpsync-modules-'));
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('the recorder sees an SDK import (control)', async () => {
    const run = await runRecorded(['--input-type=module', '-e', "await import('@aws-sdk/client-codepipeline')"]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.ok(awsSdk(run.modules).length > 0, 'the recorder did not see @aws-sdk being loaded');
  });

  it('cpsync --version', async () => {
    const run = await runRecorded([cli, '--version']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^\d+\.\d+\.\d+/);
    assert.ok(run.modules.some((path) => path.endsWith('/src/cli/main.ts')), 'the recorder saw nothing');
    assert.deepEqual(awsSdk(run.modules), []);
  });

  it('cpsync validate', async () => {
    const run = await runRecorded([cli, 'validate']);
    // Valid or not, the example project must be read without the SDK.
    assert.ok(run.exitCode === 0 || run.exitCode === 1, run.stderr);
    assert.ok(run.modules.some((path) => path.includes('/src/config/')), 'validate did not load src/config');
    assert.deepEqual(awsSdk(run.modules), []);
  });
});
