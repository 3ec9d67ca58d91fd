import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integerFlag, parseArgs } from '../../src/cli/parse-args.js';
import type { FlagSpec } from '../../src/cli/spec.js';
import { CpsyncError } from '../../src/util/errors.js';

const flags: FlagSpec[] = [
  { name: 'format', type: 'string', description: '' },
  { name: 'auto-approve', type: 'boolean', description: '' },
  { name: 'query', type: 'string', multiple: true, description: '' },
  { name: 'help', short: 'h', type: 'boolean', description: '' },
  { name: 'port', short: 'p', type: 'string', description: '' },
];

describe('parseArgs', () => {
  it('reads --flag value, --flag=value, short flags, repeats and negation', () => {
    const args = parseArgs(['--format', 'json', '--query=A=1', '--query', 'B=2', '-p', '80', '--no-auto-approve', '-h'], flags);
    assert.deepEqual(args.flags, { format: 'json', query: ['A=1', 'B=2'], port: '80', 'auto-approve': false, help: true });
  });

  it('keeps everything after -- as positional', () => {
    const args = parseArgs(['--', '--format'], flags, [{ name: 'x', description: '' }]);
    assert.deepEqual(args.positionals, ['--format']);
  });

  it('names the closest flag for a typo, in one line', () => {
    assert.throws(
      () => parseArgs(['--auto-aprove'], flags, [], 'cpsync apply'),
      (error: unknown) => error instanceof CpsyncError && error.code === 'cli.unknown-flag' && error.message.includes('did you mean --auto-approve?') && !error.message.includes('\n'),
    );
  });

  it('does not suggest unrelated flags', () => {
    assert.throws(() => parseArgs(['--zzzzzzzz'], flags), (error: unknown) => error instanceof CpsyncError && !error.message.includes('did you mean'));
  });

  it('refuses a missing value and a value for a boolean', () => {
    assert.throws(() => parseArgs(['--format'], flags), /--format needs a value/);
    assert.throws(() => parseArgs(['--format', '--help'], flags), /--format needs a value/);
    assert.throws(() => parseArgs(['--auto-approve=yes'], flags), /takes no value/);
  });

  it('refuses unexpected positional arguments', () => {
    assert.throws(() => parseArgs(['stray'], flags), /unexpected argument "stray"/);
  });

  it("lets a command's own flag win over a global flag of the same name", () => {
    const own: FlagSpec = { name: 'config', type: 'string', multiple: true, description: 'action configuration' };
    const global: FlagSpec = { name: 'config', type: 'string', description: 'settings file' };
    assert.deepEqual(parseArgs(['--config', 'A=1', '--config', 'B=2'], [own, global]).flags, { config: ['A=1', 'B=2'] });
  });

  it('checks whole-number flags', () => {
    const args = parseArgs(['--port', '70000'], flags);
    assert.throws(() => integerFlag(args, 'port', 1, 0, 65535), /--port must be a whole number from 0 to 65535, got "70000"/);
    assert.equal(integerFlag(parseArgs(['--port', '0'], flags), 'port', 1, 0, 65535), 0);
    assert.equal(integerFlag(parseArgs([], flags), 'port', 4599), 4599);
  });
});
