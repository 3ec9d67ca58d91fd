// The broken-input corpus: every folder under test/fixtures/validate is a tiny project with one
// mistake (a few combine several), and expected.txt is exactly what `cpsync validate --no-color`
// prints for it. Message quality is part of the product, so the whole text is compared, not just
// the exit code. Regenerate with UPDATE_GOLDEN=1 and read every changed expected.txt before
// committing it: each must name file:line:column, the offending value, what is wrong and a hint.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { COMMANDS } from '../../src/cli/commands.js';
import { parseArgs } from '../../src/cli/parse-args.js';
import { renderFatal } from '../../src/cli/render-error.js';
import { GLOBAL_FLAGS, type CommandContext } from '../../src/cli/spec.js';
import { runValidate } from '../../src/cli/commands/validate.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CORPUS = join(REPO, 'test/fixtures/validate');
const MAIN = join(REPO, 'src/cli/main.ts');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Cases also run through the real binary path (child process), not only in-process. */
const THROUGH_CLI = new Set(['01-yaml-syntax-error', '09-bad-category', '40-type-not-declared', '62-config-flag-missing-file', '63-every-problem-at-once']);

const VALIDATE = COMMANDS.find((command) => command.name === 'validate');
if (!VALIDATE) throw new Error('validate command is missing from COMMANDS');

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** Extra arguments of a case: the file `args`, one argument per line. */
function caseArgs(dir: string): string[] {
  const file = join(dir, 'args');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Runs validate in-process the way main.ts does: same argument parsing, same fatal rendering. */
async function validateInProcess(cwd: string, extra: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const stdout = new Capture();
  const stderr = new Capture();
  try {
    const args = parseArgs(['--no-color', ...extra], [...(VALIDATE as NonNullable<typeof VALIDATE>).flags, ...GLOBAL_FLAGS], VALIDATE?.positionals, 'cpsync validate');
    const context: CommandContext = { args, stdin: process.stdin, stdout, stderr, cwd, env: {}, interactive: false };
    const code = await runValidate(context);
    return { stdout: stdout.text, stderr: stderr.text, code };
  } catch (error) {
    stderr.write(renderFatal(error, { debug: false, color: false }));
    return { stdout: stdout.text, stderr: stderr.text, code: 1 };
  }
}

async function validateThroughCli(cwd: string, extra: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'validate', '--no-color', ...extra], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    if (typeof failed.code !== 'number') throw error;
    return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', code: failed.code };
  }
}

function expectedExit(dir: string): number {
  const file = join(dir, 'expected-exit');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 1;
}

function writeGolden(dir: string, stdout: string, code: number): void {
  writeFileSync(join(dir, 'expected.txt'), stdout);
  const exitFile = join(dir, 'expected-exit');
  if (code === 1) rmSync(exitFile, { force: true });
  else writeFileSync(exitFile, `${code}\n`);
}

const cases = readdirSync(CORPUS)
  .filter((name) => statSync(join(CORPUS, name)).isDirectory())
  .sort();

describe('validate corpus', () => {
  it('has at least 45 cases, each with an expected.txt', () => {
    assert.ok(cases.length >= 45, `only ${cases.length} cases`);
    if (!UPDATE) for (const name of cases) assert.ok(existsSync(join(CORPUS, name, 'expected.txt')), `${name} has no expected.txt`);
  });

  for (const name of cases) {
    const dir = join(CORPUS, name);
    it(name, async () => {
      const result = await validateInProcess(dir, caseArgs(dir));
      assert.doesNotMatch(result.stdout + result.stderr, /^ {4}at /m, 'output contains a stack trace');
      assert.equal(result.stderr, '', 'validate reports problems on stdout, not as a fatal error');
      if (UPDATE) writeGolden(dir, result.stdout, result.code);

      const expected = readFileSync(join(dir, 'expected.txt'), 'utf8');
      const exit = expectedExit(dir);
      assert.equal(result.stdout, expected);
      assert.equal(result.code, exit, `exit code of ${name}`);

      if (exit === 1) {
        assert.match(expected, /^[^\s:][^:]*(:\d+:\d+)?: error: /m, 'an exit-1 case has at least one error: line');
        assert.match(expected, /^\d+ errors?(, \d+ warnings?)?$/m, 'an exit-1 case ends with the error count');
      } else {
        assert.match(expected, /^valid\b/m);
      }
      // Every problem line names file:line:column (only a file that does not exist has no
      // position) and is followed by a hint saying what to do.
      const lines = expected.split('\n');
      lines.forEach((line, index) => {
        if (!/: (error|warning): /.test(line)) return;
        if (!/does not exist/.test(line)) assert.match(line, /^[^\s:][^:]*:\d+:\d+: (error|warning): \S/, `problem without a position: ${line}`);
        assert.match(lines[index + 1] ?? '', /^ {2}hint: \S/, `problem without a hint: ${line}`);
      });
    });

    if (THROUGH_CLI.has(name)) {
      it(`${name} (through the CLI binary)`, async () => {
        const result = await validateThroughCli(dir, caseArgs(dir));
        assert.doesNotMatch(result.stdout + result.stderr, /^ {4}at /m);
        assert.equal(result.stdout, readFileSync(join(dir, 'expected.txt'), 'utf8'));
        assert.equal(result.code, expectedExit(dir));
      });
    }
  }

  it('the examples at the repository root are valid', async () => {
    const result = await validateInProcess(REPO, []);
    assert.equal(result.code, 0, result.stdout);
    assert.equal(result.stdout.split('\n')[0], 'valid');
  });

  it('the examples at the repository root are valid through the CLI binary', async () => {
    const result = await validateThroughCli(REPO, []);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(result.stdout.split('\n')[0], 'valid');
  });
});
