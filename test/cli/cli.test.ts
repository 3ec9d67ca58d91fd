import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { runCli } from '../helpers/cli.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('cpsync command line', () => {
  it('prints the version', async () => {
    for (const flag of ['--version', '-v']) {
      const result = await runCli([flag]);
      assert.equal(result.code, 0);
      assert.equal(result.stdout, `${version}\n`);
      assert.equal(result.stderr, '');
    }
  });

  it('lists every registered command in --help, and nothing else', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    const listed = result.stdout
      .split('Commands:\n')[1]
      ?.split('\n\n')[0]
      ?.split('\n')
      .map((line) => line.trim().split(/\s+/)[0]);
    assert.deepEqual(listed, COMMANDS.map((command) => command.name));
  });

  it('gives each command a --help with examples', async () => {
    for (const command of COMMANDS) {
      const result = await runCli([command.name, '--help']);
      assert.equal(result.code, 0, command.name);
      assert.match(result.stdout, new RegExp(`^Usage: cpsync ${command.name}`));
      assert.match(result.stdout, /\nExamples:\n {2}cpsync /);
      assert.equal(result.stderr, '');
    }
  });

  it('answers an unknown command with one line naming the closest one', async () => {
    const result = await runCli(['valdate']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'error: unknown command "valdate" (did you mean "validate"?); see `cpsync --help`\n');
  });

  it('answers an unknown flag with one line naming the closest one', async () => {
    const result = await runCli(['validate', '--fromat', 'json']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'error: unknown flag --fromat (did you mean --format?); see `cpsync validate --help`\n');
  });

  it('exits 1 with usage when run without a command', async () => {
    const result = await runCli([]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^cpsync .*\n\nUsage: cpsync <command>/);
  });

  it('validates the repository examples without noise on stderr', async () => {
    const result = await runCli(['validate']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^valid\nchecked 2 action types and 1 pipeline file\n$/);
    assert.equal(result.stderr, '');
  });

  it('prints JSON with --format json', async () => {
    const result = await runCli(['validate', '--format', 'json']);
    assert.equal(result.code, 0);
    const report = JSON.parse(result.stdout) as { formatVersion: number; valid: boolean; problems: unknown[] };
    assert.equal(report.formatVersion, 1);
    assert.equal(report.valid, true);
    assert.deepEqual(report.problems, []);
  });

  it('refuses a bad --format value', async () => {
    const result = await runCli(['validate', '--format', 'xml']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'error: --format must be text or json, got "xml"\n');
  });
});
