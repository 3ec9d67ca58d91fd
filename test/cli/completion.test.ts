import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { renderBashCompletion, renderZshCompletion, valueCompletion } from '../../src/cli/render-completion.js';
import { GLOBAL_FLAGS, type CommandSpec } from '../../src/cli/spec.js';
import { runCli } from '../helpers/cli.js';

function available(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

const HAVE_ZSH = available('zsh');
const ZSH_SKIP = HAVE_ZSH ? false : 'zsh is not installed here (the bash script is still run for real); install zsh to check the zsh script';

function flagWords(command: CommandSpec): string[] {
  return [...command.flags, ...GLOBAL_FLAGS].flatMap((flag) => [`--${flag.name}`, ...(flag.short ? [`-${flag.short}`] : [])]).sort();
}

describe('cpsync completion', () => {
  let dir: string;
  let bashScript: string;
  let zshScript: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpsync-completion-'));
    const bash = await runCli(['completion', 'bash']);
    const zsh = await runCli(['completion', 'zsh']);
    assert.equal(bash.code, 0, bash.stderr);
    assert.equal(zsh.code, 0, zsh.stderr);
    bashScript = join(dir, 'cpsync.bash');
    zshScript = join(dir, '_cpsync');
    writeFileSync(bashScript, bash.stdout);
    writeFileSync(zshScript, zsh.stdout);
    // A folder to complete file names in.
    mkdirSync(join(dir, 'work', 'plans'), { recursive: true });
    writeFileSync(join(dir, 'work', 'plan.json'), '{}');
    writeFileSync(join(dir, 'work', 'pipelines.md'), '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Sources the script in a real bash, completes the last word of `line` and returns COMPREPLY (sorted). */
  function complete(line: string): string[] {
    // Split as bash does for completion: at blanks, with = as a word of its own (COMP_WORDBREAKS).
    // The cursor is at the end of the line: after a blank, the word under it is empty.
    const words = line.split(' ').flatMap((word) => (word === '' ? [''] : word.split(/(=)/).filter((part) => part !== '')));
    const result = spawnSync(
      'bash',
      ['--norc', '--noprofile', '-c', 'source "$1" || exit 9; shift; COMP_CWORD=$1; shift; COMP_WORDS=("$@"); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _cpsync; printf "%s\\n" "${COMPREPLY[@]}"', 'bash', bashScript, String(words.length - 1), ...words],
      { cwd: join(dir, 'work'), encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
    return result.stdout.split('\n').filter(Boolean).sort();
  }

  it('registers _cpsync for cpsync in bash', () => {
    const result = spawnSync('bash', ['--norc', '--noprofile', '-c', 'source "$1" && complete -p cpsync', 'bash', bashScript], { encoding: 'utf8' });
    assert.equal(result.stdout.trim(), 'complete -F _cpsync cpsync');
  });

  it('completes every registered command, and the top-level flags', () => {
    assert.deepEqual(complete('cpsync '), COMMANDS.map((command) => command.name).sort());
    assert.deepEqual(complete('cpsync pl'), ['plan']);
    assert.deepEqual(complete('cpsync -'), ['--help', '--version']);
  });

  it("completes each command's flags, its own and the global ones", () => {
    for (const command of COMMANDS) {
      assert.deepEqual(complete(`cpsync ${command.name} -`), flagWords(command), command.name);
    }
    assert.deepEqual(complete('cpsync plan --det'), ['--detailed-exitcode']);
    assert.deepEqual(complete('cpsync worker --metrics'), ['--metrics-port']);
  });

  it('completes the values of flags that take one of a fixed set', () => {
    assert.deepEqual(complete('cpsync plan --format '), ['human', 'json', 'markdown']);
    assert.deepEqual(complete('cpsync plan --format m'), ['markdown']);
    assert.deepEqual(complete('cpsync plan --format='), ['human', 'json', 'markdown']);
    assert.deepEqual(complete('cpsync apply --auto-approve --format=j'), ['json']);
    assert.deepEqual(complete('cpsync validate --format '), ['json', 'text']);
    // Every enumerated valueName of every command, whoever registered it.
    for (const command of COMMANDS) {
      for (const flag of command.flags) {
        const completion = valueCompletion(flag.valueName);
        if (flag.type !== 'string' || completion.kind !== 'values') continue;
        assert.deepEqual(complete(`cpsync ${command.name} --${flag.name} `), [...completion.values].sort(), `${command.name} --${flag.name}`);
      }
    }
  });

  it('offers nothing for a free value, and no flags where a value goes', () => {
    assert.deepEqual(complete('cpsync plan --target '), []);
    assert.deepEqual(complete('cpsync worker --concurrency '), []);
    assert.deepEqual(complete('cpsync worker --once '), [], 'a boolean flag takes no value and worker takes no argument');
  });

  it('completes file names for plan files and FILE values, folders for DIR values', () => {
    assert.deepEqual(complete('cpsync apply '), ['pipelines.md', 'plan.json', 'plans']);
    assert.deepEqual(complete('cpsync apply plan.'), ['plan.json']);
    assert.deepEqual(complete('cpsync apply --target prod --format json pla'), ['plan.json', 'plans']);
    assert.deepEqual(complete('cpsync apply plan.json '), [], 'apply takes one plan file');
    assert.deepEqual(complete('cpsync plan --out pl'), ['plan.json', 'plans']);
    assert.deepEqual(complete('cpsync validate --config pi'), ['pipelines.md']);
    assert.deepEqual(complete('cpsync worker --work-dir '), ['plans']);
  });

  it('completes its own shells', () => {
    assert.deepEqual(complete('cpsync completion '), ['bash', 'zsh']);
    assert.deepEqual(complete('cpsync completion z'), ['zsh']);
  });

  it('ignores commands it does not know', () => {
    assert.deepEqual(complete('cpsync frobnicate --'), []);
  });

  it('picks up a newly registered command and its flags without other changes', () => {
    const extra: CommandSpec = {
      name: 'frobnicate',
      summary: 'New: frobnicates.',
      description: 'New.',
      positionals: [{ name: 'INPUT_FILE', description: 'What to read.' }],
      flags: [{ name: 'level', type: 'string', valueName: 'low|high', description: "How much [it's] frobnicated: a lot." }],
      examples: [],
      load: async () => async () => 0,
    };
    const bash = renderBashCompletion([...COMMANDS, extra]);
    assert.match(bash, /frobnicate\) flags="--level --help -h/);
    assert.match(bash, /"frobnicate --level"\) COMPREPLY=\( \$\(compgen -P "\$prefix" -W "low high"/);
    assert.match(bash, /"frobnicate 0"\) _cpsync_files "" "\$cur" ;;/);
    const zsh = renderZshCompletion([...COMMANDS, extra]);
    assert.ok(zsh.includes(`'frobnicate:New\\: frobnicates.'`), 'colons in summaries are escaped for _describe');
    assert.ok(zsh.includes(`'--level=[How much \\[it'\\''s\\] frobnicated\\: a lot.]:low|high:(low high)'`), zsh);
    assert.ok(zsh.includes(`'1:INPUT_FILE:_files'`));
    assert.throws(() => renderBashCompletion([...COMMANDS, { ...extra, name: 'rm -rf' }]), /cannot complete the command "rm -rf"/);
  });

  it('refuses a shell it cannot complete for', async () => {
    const result = await runCli(['completion', 'fish']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: cannot complete for the shell "fish": bash or zsh\n/);
    const none = await runCli(['completion']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /cpsync completion needs a shell: bash or zsh/);
  });

  it('writes a zsh script that zsh parses', { skip: ZSH_SKIP }, () => {
    const result = spawnSync('zsh', ['-n', zshScript], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  it('writes a zsh script that registers _cpsync with compinit when sourced', { skip: ZSH_SKIP }, () => {
    const result = spawnSync(
      'zsh',
      ['-f', '-c', 'autoload -Uz compinit && compinit -u -d "$2" && source "$1" && print -r -- "${_comps[cpsync]}" && whence -w _cpsync', 'zsh', zshScript, join(dir, 'zcompdump')],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '_cpsync\n_cpsync: function\n');
  });
});
