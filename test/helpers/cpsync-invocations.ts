// Finds the `cpsync …` commands in shell text (examples, CI scripts, a systemd ExecStart) and checks
// each against the command definitions with the CLI's own argument parser, so documentation cannot
// use a command or flag that does not exist. A small scanner, not a shell: enough for the plain
// command lines docs and CI templates hold.

import { COMMANDS } from '../../src/cli/commands.js';
import { parseArgs } from '../../src/cli/parse-args.js';
import { GLOBAL_FLAGS, type CommandSpec, type ParsedArgs } from '../../src/cli/spec.js';

export interface Invocation {
  /** The words after `cpsync`. */
  readonly argv: readonly string[];
  /** The text it was read from, for messages. */
  readonly text: string;
}

// `cpsync` where a command starts: line start, after an operator, `=` or `$(`, optionally through npx
// or a path ending in /cpsync (as in a systemd ExecStart).
const START = /(^|[\s;&|(=]|\$\()((?:npx\s+(?:--no-install\s+)?)?(?:[\w./-]*\/)?cpsync)(?=\s|$)/gm;

/** The words of a command until the first shell operator, `)` of a `$(…)` or a comment. */
function readWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '\\' && text[i + 1] === '\n') {
      i++;
      continue;
    }
    if (char === "'" || char === '"') {
      const end = text.indexOf(char, i + 1);
      if (end === -1) break;
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
      continue;
    }
    if (/\s/.test(char) && char !== '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    if (char === '\n' || ';&|<>)'.includes(char) || (char === '#' && word === undefined)) break;
    word = (word ?? '') + char;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Every `cpsync` command in the text. Pure. */
export function findCpsyncInvocations(text: string): Invocation[] {
  const found: Invocation[] = [];
  for (const match of text.matchAll(START)) {
    const start = (match.index ?? 0) + (match[1] ?? '').length + (match[2] ?? '').length;
    const argv = readWords(text.slice(start));
    found.push({ argv, text: `cpsync ${argv.join(' ')}`.trim() });
  }
  return found;
}

export interface CheckedInvocation {
  readonly command: CommandSpec | undefined;
  readonly args: ParsedArgs | undefined;
  /** Why the CLI would refuse it, or undefined. */
  readonly problem: string | undefined;
}

/** Parses an invocation as `cpsync` would. Pure. */
export function checkInvocation(invocation: Invocation, commands: readonly CommandSpec[] = COMMANDS): CheckedInvocation {
  const [name, ...rest] = invocation.argv;
  if (name === undefined || ['--help', '-h', '--version', '-v', 'help', 'version'].includes(name)) {
    return { command: undefined, args: undefined, problem: rest.length ? `"${invocation.text}": nothing may follow ${name}` : undefined };
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) return { command: undefined, args: undefined, problem: `"${invocation.text}": there is no command "${name}"` };
  try {
    const args = parseArgs(rest, [...command.flags, ...GLOBAL_FLAGS], command.positionals, `cpsync ${command.name}`);
    return { command, args, problem: undefined };
  } catch (error) {
    return { command, args: undefined, problem: `"${invocation.text}": ${error instanceof Error ? error.message : String(error)}` };
  }
}
