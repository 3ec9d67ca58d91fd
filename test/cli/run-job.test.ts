// `cpsync run-job` as a real child process: the repository's own example type on examples/MyApp,
// the docs' example plugin (read from docs/plugins.md) going through three hops, a failing tool,
// a secret that is never printed, --state-file / --max-hops, and the flag checks. Tools are the
// real fixture programs under test/fixtures/tools on PATH.

import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import yauzl from 'yauzl';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';

const TOOLS = join(REPO_ROOT, 'test/fixtures/tools');
const ENV = { PATH: `${TOOLS}:${process.env.PATH ?? ''}` };
const SECRET = 'hunter2-Zq8-secret';

const root = mkdtempSync(join(tmpdir(), 'cpsync-run-job-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (name: string) => join(root, `${name}-${++counter}`);

/** The example plugin exactly as docs/plugins.md shows it: the ```ts block after the marker. */
function docsExamplePlugin(): string {
  const docs = readFileSync(join(REPO_ROOT, 'docs/plugins.md'), 'utf8');
  const marker = docs.indexOf('<!-- example-plugin: plugins/wait-until/index.ts');
  assert.ok(marker >= 0, 'docs/plugins.md marks its example plugin');
  const block = /```ts\n([\s\S]*?)\n```/.exec(docs.slice(marker));
  assert.ok(block?.[1], 'a ```ts block follows the marker');
  return `${block[1]}\n`;
}

/**
 * A project as a plugin author has one: actions.yaml, plugins/wait-until/index.ts from the docs,
 * and `cpsync` and `zod` resolvable from node_modules (cpsync's plugin contract from this checkout).
 */
function makeProject(): string {
  const dir = freshDir('project');
  mkdirSync(join(dir, 'plugins/wait-until'), { recursive: true });
  mkdirSync(join(dir, 'node_modules/cpsync'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules/zod'), join(dir, 'node_modules/zod'), 'dir');
  writeFileSync(join(dir, 'node_modules/cpsync/package.json'), JSON.stringify({ name: 'cpsync', type: 'module', exports: { '.': './index.js' } }));
  writeFileSync(join(dir, 'node_modules/cpsync/index.js'), `export { definePlugin } from '${pathToFileURL(join(REPO_ROOT, 'src/plugin.ts')).href}';\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'plugin-author', private: true, type: 'module' }));
  writeFileSync(join(dir, 'plugins/wait-until/index.ts'), docsExamplePlugin());
  writeFileSync(
    join(dir, 'actions.yaml'),
    `actionTypes:
  - category: Test
    provider: Wait-Until
    version: "1"
    configurationProperties:
      - { name: Target, required: true, key: true, secret: false, description: The host to wait for }
    inputArtifactDetails: { minimumCount: 0, maximumCount: 1 }
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 }
    executor:
      plugin: wait-until
      options:
        check: [sh, -c, 'echo "checking $TARGET, attempt $ATTEMPT"; test "$ATTEMPT" -ge 3']
        attempts: 5
  - category: Build
    provider: Failing-Build
    version: "1"
    configurationProperties:
      - { name: ProjectName, required: true, key: true, secret: false }
    inputArtifactDetails: { minimumCount: 1, maximumCount: 1 }
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 }
    executor:
      plugin: command
      options:
        argv: [fx-exit, "1", "compiling {Config:ProjectName}", "error: missing semicolon"]
  - category: Deploy
    provider: Secret-Deploy
    version: "1"
    configurationProperties:
      - { name: Stage, required: true, key: true, secret: false }
      - { name: ApiToken, required: true, key: false, secret: true }
    inputArtifactDetails: { minimumCount: 0, maximumCount: 1 }
    outputArtifactDetails: { minimumCount: 0, maximumCount: 0 }
    executor:
      plugin: command
      options:
        argv: [fx-exit, "3", "deploying {Config:Stage} with token={Config:ApiToken}"]
`,
  );
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app/main.c'), 'int main(void) { return 0 }\n');
  return dir;
}

const project = makeProject();
const run = (args: string[], cwd = project): Promise<CliResult> => runCli(['run-job', ...args], { cwd, env: ENV });
const both = (result: CliResult) => `${result.stdout}\n${result.stderr}`;

function zipEntries(file: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const modes = new Map<string, number>();
      zip.on('entry', (entry: yauzl.Entry) => {
        modes.set(entry.fileName, (entry.externalFileAttributes >>> 16) & 0o777);
        zip.readEntry();
      });
      zip.on('end', () => resolve(modes));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('cpsync run-job', { concurrency: 2 }, () => {
  it('runs the repository example type on examples/MyApp: make builds, outputs land in the folder with their modes', async () => {
    const out = freshDir('myapp');
    const builtBefore = existsSync(join(REPO_ROOT, 'examples/MyApp/build'));
    const result = await run(['--type', 'Build/My-Build-Provider-Name/1', '--input', 'MyApp=examples/MyApp', '--config', 'ProjectName=LocalProject', '--output-dir', out, '--zip', '--hop-delay', '0s'], REPO_ROOT);
    assert.equal(result.code, 0, both(result));
    // The output is named as pipelines/MyFirstPipeline.yaml names it.
    const hello = join(out, 'MyBuiltApp/hello.sh');
    assert.equal(statSync(hello).mode & 0o777, 0o755);
    assert.match(readFileSync(join(out, 'MyBuiltApp/release.txt'), 'utf8'), /project: LocalProject\nversion: /);
    const modes = await zipEntries(join(out, 'MyBuiltApp.zip'));
    assert.equal(modes.get('hello.sh'), 0o755);
    assert.ok(modes.has('release.txt'));
    // The tool's output is streamed; the result is on stdout.
    assert.match(result.stderr, /│ .*chmod 755 build\/hello\.sh/);
    assert.match(result.stderr, /hop 1 → succeeded/);
    assert.match(result.stdout, /^succeeded after 1 hop/);
    assert.match(result.stdout, /executionDetails\.summary: command exited 0/);
    assert.match(result.stdout, /MyBuiltApp .*\(2 files/);
    // The job built in its own workspace, not in examples/MyApp.
    assert.equal(existsSync(join(REPO_ROOT, 'examples/MyApp/build')), builtBefore);
  });

  it('runs the docs example plugin through its hops: in progress twice with its state, then succeeds', async () => {
    const out = freshDir('hops');
    const result = await run(['--type', 'Test/Wait-Until/1', '--configuration', 'Target=staging.example.com', '--output', 'Report', '--output-dir', out, '--hop-delay', '0s']);
    assert.equal(result.code, 0, both(result));
    const hops = result.stderr.split('\n').filter((line) => /^hop \d/.test(line));
    assert.equal(hops.length, 6, result.stderr);
    assert.match(hops[0] as string, /^hop 1 · job [0-9a-f-]{36}$/);
    assert.match(hops[1] as string, /^hop 1 → in progress 20% · waiting for staging\.example\.com/);
    assert.match(hops[2] as string, /^hop 2 · job .* · state \{"attempt":1\}$/);
    assert.match(hops[3] as string, /^hop 2 → in progress 40%/);
    assert.match(hops[4] as string, /^hop 3 · job .* · state \{"attempt":2\}$/);
    assert.match(hops[5] as string, /^hop 3 → succeeded · staging\.example\.com is ready after 3 attempt\(s\)/);
    assert.match(result.stderr, /│ checking staging\.example\.com, attempt 2/);
    assert.match(result.stderr, /· attempt 2 of 5 failed; trying again in the next job/);
    assert.match(result.stdout, /^succeeded after 3 hops/);
    assert.match(result.stdout, /outputVariables:\n\s+Attempts: 3/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'Report/wait-until.json'), 'utf8')), { target: 'staging.example.com', attempts: 3 });
  });

  it('stops at --max-hops with the state saved, and --state-file continues from it', async () => {
    const out = freshDir('stopped');
    const first = await run(['--type', 'Test/Wait-Until/1', '--configuration', 'Target=db', '--max-hops', '1', '--output-dir', out]);
    assert.equal(first.code, 1, both(first));
    assert.match(first.stdout, /^still in progress after 1 hop/);
    const stateFile = join(out, 'continuation-state.json');
    assert.deepEqual(JSON.parse(readFileSync(stateFile, 'utf8')), { attempt: 1 });

    const second = await run(['--type', 'Test/Wait-Until/1', '--configuration', 'Target=db', '--state-file', stateFile, '--output-dir', freshDir('resumed'), '--hop-delay', '0s']);
    assert.equal(second.code, 0, both(second));
    assert.match(second.stderr, /^hop 1 · job .* · state \{"attempt":1\}$/m);
    assert.match(second.stdout, /^succeeded after 2 hops/);
  });

  it('reports a failing tool as the API would receive it: JobFailed with the output tail, exit 1', async () => {
    const out = freshDir('failing');
    const result = await run(['--type', 'Build/Failing-Build/1', '--input', 'App=app', '--configuration', 'ProjectName=Shop', '--output-dir', out, '--keep-workspace']);
    assert.equal(result.code, 1, both(result));
    assert.match(result.stderr, /│ compiling Shop/);
    assert.match(result.stderr, /hop 1 → failed \(JobFailed\)/);
    assert.match(result.stdout, /^failed after 1 hop/);
    assert.match(result.stdout, /type: JobFailed\n/);
    assert.match(result.stdout, /message:\n\s+command exited 1: compiling Shop\n\s+error: missing semicolon\n\s+fx-exit: exiting with 1/);
    // No outputs from a failed job; the kept workspace shows what the plugin saw.
    const jobs = join(out, '.workspaces/jobs');
    assert.ok(existsSync(jobs));
    const [job] = readdirSync(jobs);
    assert.ok(job && existsSync(join(jobs, job, 'inputs/App/main.c')));
  });

  it('accepts a secret configuration value and never prints it', async () => {
    const result = await run(['--type', 'Deploy/Secret-Deploy/1', '--configuration', 'Stage=prod', '--configuration', `ApiToken=${SECRET}`, '--output-dir', freshDir('secret')]);
    assert.equal(result.code, 1, both(result));
    assert.ok(!both(result).includes(SECRET), both(result));
    assert.ok(!both(result).includes(SECRET.slice(0, 12)), 'not even a part of it');
    assert.match(result.stderr, /configuration: Stage=prod, ApiToken=\*\*\*/);
    assert.match(result.stderr, /│ deploying prod with token=\*\*\*/);
    assert.match(result.stdout, /command exited 3: deploying prod with token=\*\*\*/);
  });

  it('suggests the declared type for a misspelt --type', async () => {
    const result = await run(['--type', 'Test/Wait-Untill/1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /action type "Test\/Wait-Untill\/1" is not declared in actions\.yaml \(did you mean Test\/Wait-Until\/1\?\)/);
  });

  it('reports every problem with inputs and configuration together, before running anything', async () => {
    const out = freshDir('bad');
    const result = await run(['--type', 'Build/Failing-Build/1', '--input', 'App', '--input', 'Lib=./no-such-dir', '--configuration', 'ProjectNam=x', '--output-dir', out]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--input "App" is not Name=path/);
    assert.match(result.stderr, /--input Lib=\.\/no-such-dir: \.\/no-such-dir does not exist/);
    assert.match(result.stderr, /takes exactly 1 input artifact .* got 2/);
    assert.match(result.stderr, /--config ProjectNam: not a configuration property of Build\/Failing-Build\/1 \(did you mean ProjectName\?\)/);
    assert.match(result.stderr, /--config ProjectName=… is required/);
    assert.equal(existsSync(out), false, 'nothing was created');
  });

  it('takes --config KEY=VALUE as action configuration, as the issue spells it, and still a settings file otherwise', async () => {
    const result = await run(['--type', 'Deploy/Secret-Deploy/1', '--config', 'Stage=prod', '--config', `ApiToken=${SECRET}`, '--output-dir', freshDir('config-flag')]);
    assert.ok(!result.stdout.includes(SECRET) && !result.stderr.includes(SECRET), 'the secret is never printed');
    assert.match(result.stderr, /configuration: Stage=prod, ApiToken=\*\*\*/);
    const twoFiles = await run(['--type', 'Deploy/Secret-Deploy/1', '--config', 'a.yaml', '--config', 'b.yaml']);
    assert.equal(twoFiles.code, 1);
    assert.match(twoFiles.stderr, /--config names more than one settings file: a\.yaml, b\.yaml/);
  });

});
