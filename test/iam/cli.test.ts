// `cpsync iam-policy`: the repository's own examples against golden documents (the same ones
// docs/iam.md shows), --help, and every error message. Most cases run in-process the way main.ts
// runs a command (same parsing, same error rendering) with an empty environment; a few go through
// the real binary. Regenerate the golden files with UPDATE_GOLDEN=1 and read every change.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/cli/commands.js';
import { runIamPolicy } from '../../src/cli/commands/iam-policy.js';
import { parseArgs } from '../../src/cli/parse-args.js';
import { renderFatal } from '../../src/cli/render-error.js';
import { GLOBAL_FLAGS, type CommandContext } from '../../src/cli/spec.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

const GOLDEN = fileURLToPath(new URL('../golden/iam/', import.meta.url));
const PATTERNS = fileURLToPath(new URL('../fixtures/iam/patterns/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const SPEC = COMMANDS.find((command) => command.name === 'iam-policy');
if (!SPEC) throw new Error('iam-policy is missing from COMMANDS');

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

async function iamPolicy(argv: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  try {
    const args = parseArgs(argv, [...(SPEC as NonNullable<typeof SPEC>).flags, ...GLOBAL_FLAGS], SPEC?.positionals, 'cpsync iam-policy');
    const context: CommandContext = { args, stdin: process.stdin, stdout, stderr, cwd: options.cwd ?? REPO_ROOT, env: options.env ?? {}, interactive: false };
    return { code: await runIamPolicy(context), stdout: stdout.text, stderr: stderr.text };
  } catch (error) {
    stderr.write(renderFatal(error, { debug: false, color: false }));
    return { code: 1, stdout: stdout.text, stderr: stderr.text };
  }
}

function assertGolden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (UPDATE) writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs; regenerate with UPDATE_GOLDEN=1 and review the change`);
}

const GOLDEN_CASES: readonly { name: string; cwd: string; argv: string[] }[] = [
  { name: 'deployer', cwd: REPO_ROOT, argv: ['--for', 'deployer', '--account', '111122223333', '--region', 'us-east-1'] },
  { name: 'worker', cwd: REPO_ROOT, argv: ['--for', 'worker', '--account', '111122223333', '--region', 'us-east-1'] },
  {
    name: 'deployer-pass-role',
    cwd: REPO_ROOT,
    argv: ['--for', 'deployer', '--account', '111122223333', '--region', 'eu-west-1', '--pass-role', 'arn:aws:iam::111122223333:role/MyFirstPipelineRole', '--allow-delete-undeclared'],
  },
  // Pattern selectors, the China partition and the account from the target's roleArn.
  { name: 'patterns-china-deployer', cwd: PATTERNS, argv: ['--for', 'deployer', '--target', 'china'] },
  { name: 'patterns-china-worker', cwd: PATTERNS, argv: ['--for', 'worker', '--target', 'china'] },
  { name: 'patterns-gov-deployer', cwd: PATTERNS, argv: ['--for', 'deployer', '--target', 'gov', '--account', '444455556666', '--format', 'yaml'] },
];

describe('cpsync iam-policy: golden documents', () => {
  for (const { name, cwd, argv } of GOLDEN_CASES) {
    it(`${name}: cpsync iam-policy ${argv.join(' ')}`, async () => {
      const result = await iamPolicy(argv, { cwd });
      assert.equal(result.code, 0, result.stderr);
      const format = argv.includes('yaml') ? 'yaml' : 'json';
      assertGolden(`${name}.${format}`, result.stdout);
      assertGolden(`${name}.notes.txt`, result.stderr);
      if (format === 'json') assert.equal(JSON.parse(result.stdout).Version, '2012-10-17');
    });
  }

  it('docs/iam.md shows exactly the golden documents of the repository\'s examples', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs/iam.md'), 'utf8');
    for (const name of ['deployer', 'worker']) {
      const golden = readFileSync(join(GOLDEN, `${name}.json`), 'utf8');
      assert.ok(docs.includes(`\`\`\`json\n${golden}\`\`\``), `docs/iam.md does not show test/golden/iam/${name}.json; copy it in`);
    }
  });
});

describe('cpsync iam-policy: errors', () => {
  const cases: readonly { title: string; argv: string[]; cwd?: string; stderr: string | RegExp }[] = [
    {
      title: 'missing --for',
      argv: ['--account', '111122223333'],
      stderr: 'error: --for is required: deployer (plan/apply) or worker\n  hint: write `cpsync iam-policy --for deployer` or `cpsync iam-policy --for worker`\n',
    },
    { title: 'invalid --for, with a suggestion', argv: ['--for', 'deployr'], stderr: 'error: --for must be deployer or worker, got "deployr" (did you mean deployer?)\n' },
    { title: 'invalid --for', argv: ['--for', 'admin'], stderr: 'error: --for must be deployer or worker, got "admin"\n' },
    {
      title: 'an account id that is not 12 digits',
      argv: ['--for', 'worker', '--account', '12345'],
      stderr: 'error: --account must be a 12-digit AWS account id, got "12345"\n  hint: write e.g. --account 111122223333 (`aws sts get-caller-identity --query Account` prints yours)\n',
    },
    { title: 'an account id with a letter', argv: ['--for', 'worker', '--account', '11112222333x'], stderr: /^error: --account must be a 12-digit AWS account id, got "11112222333x"\n/ },
    { title: 'a bad Region', argv: ['--for', 'worker', '--region', 'useast1'], stderr: 'error: --region must be an AWS Region such as us-east-1, got "useast1"\n' },
    { title: 'a bad format', argv: ['--for', 'worker', '--format', 'xml'], stderr: 'error: --format must be json or yaml, got "xml"\n' },
    {
      title: '--pass-role with --for worker',
      argv: ['--for', 'worker', '--pass-role', 'arn:aws:iam::111122223333:role/R'],
      stderr: 'error: --pass-role only applies to --for deployer\n  hint: the worker passes no role and deletes nothing; leave the flag out\n',
    },
    { title: '--allow-delete-undeclared with --for worker', argv: ['--for', 'worker', '--allow-delete-undeclared'], stderr: /^error: --allow-delete-undeclared only applies to --for deployer\n/ },
    {
      title: 'a --pass-role that is not a role ARN',
      argv: ['--for', 'deployer', '--pass-role', 'MyRole'],
      stderr: 'error: --pass-role must be an IAM role ARN, got "MyRole"\n  hint: write e.g. --pass-role arn:aws:iam::111122223333:role/MyPipelineRole\n',
    },
    { title: 'an unknown target', argv: ['--for', 'deployer', '--target', 'prod'], cwd: PATTERNS, stderr: 'error: unknown target "prod"\n  hint: configured targets: china, gov\n' },
    {
      title: 'a configuration with errors',
      argv: ['--for', 'deployer'],
      cwd: fileURLToPath(new URL('../fixtures/validate/09-bad-category/', import.meta.url)),
      stderr: /^actions\.yaml:\d+:\d+: error: category "Biuld"[\s\S]*\nerror: the configuration has errors; no policy was written\n {2}hint: fix them \(see `cpsync validate`\) and run it again\n$/,
    },
    {
      title: 'a worker policy with nothing to poll',
      argv: ['--for', 'worker'],
      cwd: fileURLToPath(new URL('../fixtures/iam/no-executor/', import.meta.url)),
      stderr: /error: no action type in actions.yaml has an executor, so the worker polls nothing\n {2}hint: give the types the worker runs an `executor:` in actions.yaml\n$/,
    },
  ];
  for (const { title, argv, cwd, stderr } of cases) {
    it(title, async () => {
      const result = await iamPolicy(argv, cwd ? { cwd } : {});
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '', 'nothing on stdout when it fails');
      if (typeof stderr === 'string') assert.equal(result.stderr, stderr);
      else assert.match(result.stderr, stderr);
    });
  }
});

describe('cpsync iam-policy through the binary', () => {
  it('--help describes the flags and examples', async () => {
    const result = await runCli(['iam-policy', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: cpsync iam-policy \[flags\]\n/);
    for (const flag of ['--for deployer|worker', '--account ID', '--region REGION', '--target NAME', '--pass-role ARN', '--allow-delete-undeclared', '--format json|yaml']) assert.ok(result.stdout.includes(flag), flag);
    assert.match(result.stdout, /\nExamples:\n {2}cpsync iam-policy --for deployer/);
    assert.equal(result.stderr, '');
  });

  it('is listed in cpsync --help', async () => {
    const result = await runCli(['--help']);
    assert.match(result.stdout, /\n {2}iam-policy +Print least-privilege IAM policies/);
  });

  it('prints the JSON policy on stdout only, and refuses a missing --for with exit 1', async () => {
    const env = { AWS_REGION: '', AWS_DEFAULT_REGION: '' };
    const ok = await runCli(['iam-policy', '--for', 'worker', '--account', '111122223333', '--region', 'us-east-1'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, readFileSync(join(GOLDEN, 'worker.json'), 'utf8'));
    assert.match(ok.stderr, /^note: /m);
    const failed = await runCli(['iam-policy'], { env });
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, '');
    assert.match(failed.stderr, /^error: --for is required/);
  });

  describe('offline', () => {
    let workDir: string;
    before(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'cpsync-iam-'));
    });
    after(async () => {
      await rm(workDir, { recursive: true, force: true });
    });

    it('never loads the AWS SDK (so it cannot call AWS)', async () => {
      const file = join(workDir, 'modules.txt');
      const recorder = fileURLToPath(new URL('../helpers/record-loaded-modules.mjs', import.meta.url));
      const env: NodeJS.ProcessEnv = { ...process.env, CPSYNC_RECORD_MODULES: file, NO_COLOR: '1', AWS_REGION: '' };
      delete env.NODE_OPTIONS;
      const code = await new Promise<number>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', '--import', recorder, join(REPO_ROOT, 'src/cli/main.ts'), 'iam-policy', '--for', 'deployer'], { cwd: REPO_ROOT, env, timeout: 60_000 }, (error) =>
          resolve(error ? Number(error.code ?? 1) : 0),
        );
      });
      assert.equal(code, 0);
      const modules = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      assert.ok(modules.some((path) => path.includes('/src/iam/policy.ts')), 'the recorder did not see the policy builder');
      assert.deepEqual(modules.filter((path) => path.includes('/@aws-sdk/') || path.includes('/@smithy/')), []);
    });
  });
});
