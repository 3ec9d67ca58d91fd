import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { renderCliDocs } from '../../src/cli/render-cli-docs.js';
import { GLOBAL_FLAGS, type CommandSpec } from '../../src/cli/spec.js';
import { compareCliDoc, parseCliDoc } from '../helpers/cli-docs.js';
import { checkInvocation, findCpsyncInvocations } from '../helpers/cpsync-invocations.js';

const DOC_PATH = new URL('../../docs/cli.md', import.meta.url);
const committed = readFileSync(DOC_PATH, 'utf8');
const rendered = renderCliDocs(COMMANDS);

/** Why the CLI would refuse each example in the markdown. */
function exampleProblems(markdown: string): string[] {
  const examples = parseCliDoc(markdown).commands.flatMap((command) => command.examples);
  return examples.flatMap(findCpsyncInvocations).flatMap((invocation) => checkInvocation(invocation).problem ?? []);
}

function problemsOf(markdown: string, commands: readonly CommandSpec[] = COMMANDS): string[] {
  return compareCliDoc(parseCliDoc(markdown), commands, GLOBAL_FLAGS);
}

/** Inserts a row right after the header of the Flags table of `cpsync <command>`. */
function withRowAfterFlagsHeader(markdown: string, command: string, row: string): string {
  const section = markdown.indexOf(`\n## cpsync ${command}\n`);
  const table = markdown.indexOf('|---|---|---|\n', markdown.indexOf('\n### Flags\n', section));
  const at = table + '|---|---|---|\n'.length;
  return markdown.slice(0, at) + row + '\n' + markdown.slice(at);
}

describe('docs/cli.md', () => {
  it('documents every command and flag of the CLI, and nothing else', () => {
    assert.deepEqual(problemsOf(committed), [], 'docs/cli.md disagrees with src/cli/commands.ts');
  });

  it('is up to date with the command definitions (npm run docs rewrites it)', () => {
    assert.ok(committed === rendered, 'docs/cli.md is out of date: run `npm run docs` and commit docs/cli.md');
  });

  it('uses only commands and flags that exist in its examples', () => {
    assert.deepEqual(exampleProblems(committed), []);
  });

  it('renders every command with its summary, arguments, flags (global and AWS too) and examples', () => {
    const doc = parseCliDoc(rendered);
    assert.deepEqual(doc.index, COMMANDS.map((command) => command.name));
    assert.deepEqual(doc.globalFlags.map((flag) => flag.name), GLOBAL_FLAGS.map((flag) => flag.name));
    for (const command of COMMANDS) {
      const section = doc.commands.find((candidate) => candidate.name === command.name);
      assert.ok(section, command.name);
      assert.equal(section.summary, command.summary);
      assert.deepEqual(section.flags.map((flag) => flag.name), command.flags.map((flag) => flag.name));
      assert.deepEqual(section.examples, command.examples);
      assert.match(section.usage, new RegExp(`^cpsync ${command.name}\\b`));
    }
    const plan = doc.commands.find((command) => command.name === 'plan');
    assert.deepEqual(plan?.flags.filter((flag) => flag.group === 'aws').map((flag) => flag.name), ['region', 'profile', 'endpoint-url']);
    assert.equal(plan?.flags.find((flag) => flag.name === 'format')?.value, 'human|json|markdown', 'a | inside a table cell survives escaping');
    assert.deepEqual(doc.commands.find((command) => command.name === 'apply')?.arguments, [{ name: 'PLAN_FILE', required: false }]);
  });

  it('is a pure function of the definitions', () => {
    assert.equal(renderCliDocs(COMMANDS), rendered);
    assert.ok(rendered.endsWith('\n') && !rendered.endsWith('\n\n'));
  });

  describe('catches hand edits, with a message that names them', () => {
    it('a flag the CLI does not have', () => {
      const edited = withRowAfterFlagsHeader(rendered, 'plan', '| `--fake` |  | Does nothing. |');
      assert.deepEqual(problemsOf(edited), [
        'docs/cli.md lists --fake under `cpsync plan`, but the CLI has no such flag there (was it added by hand? run `npm run docs`)',
      ]);
    });

    it('a flag moved to a command that does not accept it', () => {
      const edited = withRowAfterFlagsHeader(rendered, 'validate', '| `--out` | `FILE` | Save it. |');
      assert.match(problemsOf(edited).join('\n'), /lists --out under `cpsync validate`, but the CLI has no such flag there/);
    });

    it('a flag left out, a wrong value name and a fake global flag', () => {
      const edited = rendered
        .replace(/\n\| `--detailed-exitcode` \|[^\n]*/, '')
        .replace('| `--parallelism` | `N` |', '| `--parallelism` | `COUNT` |')
        .replace('| `--no-color` |', '| `--quiet` |  | Say less. |\n| `--no-color` |');
      assert.deepEqual(problemsOf(edited), [
        'docs/cli.md lists --quiet under Global flags, but the CLI has no such flag there (was it added by hand? run `npm run docs`)',
        'docs/cli.md gives --parallelism under `cpsync plan` the value "COUNT", the CLI "N"',
        '`cpsync plan` accepts --detailed-exitcode, but docs/cli.md does not list it there (run `npm run docs`)',
      ]);
    });

    it('a command the CLI does not have, and one it has but the docs lack', () => {
      const edited = rendered.replace('\n## cpsync validate\n', '\n## cpsync validat\n');
      assert.deepEqual(problemsOf(edited), [
        'docs/cli.md documents `cpsync validat`, but the CLI has no such command',
        'the CLI has `cpsync validate`, but docs/cli.md has no section for it (run `npm run docs`)',
      ]);
    });

    it('a command registered after the docs were written', () => {
      const extra: CommandSpec = {
        name: 'frobnicate',
        summary: 'New.',
        description: 'New.',
        flags: [{ name: 'level', type: 'string', valueName: 'N', description: 'How much.' }],
        examples: ['cpsync frobnicate --level 2'],
        load: async () => async () => 0,
      };
      const problems = problemsOf(rendered, [...COMMANDS, extra]);
      assert.deepEqual(problems, [
        'the CLI has `cpsync frobnicate`, but the Commands table of docs/cli.md does not list it (run `npm run docs`)',
        'the CLI has `cpsync frobnicate`, but docs/cli.md has no section for it (run `npm run docs`)',
      ]);
      assert.deepEqual(problemsOf(renderCliDocs([...COMMANDS, extra]), [...COMMANDS, extra]), []);
    });

    it('an example the definitions do not have', () => {
      const edited = rendered.replace('```sh\ncpsync validate\n', '```sh\ncpsync validate --strict\ncpsync validate\n');
      assert.deepEqual(problemsOf(edited), ['docs/cli.md shows the example "cpsync validate --strict" for `cpsync validate`, which the CLI definitions do not have']);
      assert.deepEqual(exampleProblems(edited), ['"cpsync validate --strict": unknown flag --strict; see `cpsync validate --help`']);
    });
  });
});
