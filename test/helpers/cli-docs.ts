// Reads docs/cli.md back into commands and flags (from its markdown structure, not by comparing
// text) and lists every disagreement with the command definitions, each as one sentence that says
// what to do. Used by test/cli/cli-docs.test.ts.

import { isAwsFlag } from '../../src/cli/render-cli-docs.js';
import type { CommandSpec, FlagSpec } from '../../src/cli/spec.js';

export interface DocFlag {
  readonly name: string;
  readonly short: string | undefined;
  /** The Value column without backticks; '' for a boolean flag. */
  readonly value: string;
  readonly description: string;
  readonly group: 'flags' | 'aws' | 'global';
}

export interface DocCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly arguments: readonly { readonly name: string; readonly required: boolean }[];
  readonly flags: readonly DocFlag[];
  readonly examples: readonly string[];
}

export interface CliDoc {
  /** Commands named in the "Commands" table. */
  readonly index: readonly string[];
  readonly globalFlags: readonly DocFlag[];
  readonly commands: readonly DocCommand[];
}

interface Section {
  readonly heading: string;
  readonly lines: readonly string[];
}

/** Splits at headings of one level (`## ` or `### `); code blocks are not headings. */
function splitSections(lines: readonly string[], marker: '## ' | '### '): Section[] {
  const sections: { heading: string; lines: string[] }[] = [{ heading: '', lines: [] }];
  let fenced = false;
  for (const line of lines) {
    if (line.startsWith('```')) fenced = !fenced;
    if (!fenced && line.startsWith(marker)) sections.push({ heading: line.slice(marker.length).trim(), lines: [] });
    else sections.at(-1)?.lines.push(line);
  }
  return sections;
}

/** The body rows of the first table in the lines, as unescaped cells. */
function tableRows(lines: readonly string[]): string[][] {
  const rows = lines.filter((line) => line.startsWith('|'));
  return rows
    .slice(2) // header and |---|
    .map((row) =>
      row
        .replace(/^\|/, '')
        .replace(/\|\s*$/, '')
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
}

function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]*)`/g)].map((match) => match[1] as string);
}

function fencedBlock(lines: readonly string[]): string[] {
  const start = lines.findIndex((line) => line.startsWith('```'));
  if (start === -1) return [];
  const end = lines.findIndex((line, index) => index > start && line.startsWith('```'));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

function firstParagraph(lines: readonly string[]): string {
  const start = lines.findIndex((line) => line.trim() !== '');
  if (start === -1) return '';
  const end = lines.findIndex((line, index) => index > start && line.trim() === '');
  return lines.slice(start, end === -1 ? undefined : end).join(' ');
}

function parseFlagRows(lines: readonly string[], group: DocFlag['group']): DocFlag[] {
  return tableRows(lines).map(([names = '', value = '', description = '']) => {
    const spans = codeSpans(names);
    const long = spans.find((span) => span.startsWith('--')) ?? names;
    const short = spans.find((span) => /^-[^-]/.test(span));
    return { name: long.replace(/^--/, ''), short: short?.slice(1), value: codeSpans(value)[0] ?? value, description, group };
  });
}

/** Parses docs/cli.md. Pure. */
export function parseCliDoc(markdown: string): CliDoc {
  const sections = splitSections(markdown.split('\n'), '## ');
  const index = tableRows(sections.find((section) => section.heading === 'Commands')?.lines ?? []).map(
    ([name = '']) => codeSpans(name)[0] ?? name,
  );
  const globalFlags = parseFlagRows(sections.find((section) => section.heading === 'Global flags')?.lines ?? [], 'global');
  const commands = sections
    .filter((section) => section.heading.startsWith('cpsync '))
    .map((section): DocCommand => {
      const parts = splitSections(section.lines, '### ');
      const part = (heading: string) => parts.find((candidate) => candidate.heading === heading)?.lines ?? [];
      const intro = parts[0]?.lines ?? [];
      return {
        name: section.heading.slice('cpsync '.length).trim(),
        summary: firstParagraph(intro),
        usage: fencedBlock(intro)[0] ?? '',
        arguments: tableRows(part('Arguments')).map(([name = '', required = '']) => ({ name: codeSpans(name)[0] ?? name, required: required === 'yes' })),
        flags: [...parseFlagRows(part('Flags'), 'flags'), ...parseFlagRows(part('AWS flags'), 'aws')],
        examples: fencedBlock(part('Examples')),
      };
    });
  return { index, globalFlags, commands };
}

function flagValue(flag: FlagSpec): string {
  return flag.type === 'string' ? (flag.valueName ?? 'VALUE') : '';
}

function compareFlags(documented: readonly DocFlag[], defined: readonly FlagSpec[], where: string, groupOf: (flag: FlagSpec) => DocFlag['group']): string[] {
  const problems: string[] = [];
  const byName = new Map(defined.map((flag) => [flag.name, flag]));
  const seen = new Set<string>();
  for (const doc of documented) {
    const flag = byName.get(doc.name);
    if (seen.has(doc.name)) problems.push(`docs/cli.md lists --${doc.name} twice under ${where}`);
    seen.add(doc.name);
    if (!flag) {
      problems.push(`docs/cli.md lists --${doc.name} under ${where}, but the CLI has no such flag there (was it added by hand? run \`npm run docs\`)`);
      continue;
    }
    if (doc.value !== flagValue(flag)) {
      problems.push(`docs/cli.md gives --${doc.name} under ${where} the value "${doc.value}", the CLI "${flagValue(flag)}"`);
    }
    if (doc.short !== flag.short) problems.push(`docs/cli.md gives --${doc.name} under ${where} the short form ${doc.short ? `-${doc.short}` : 'none'}, the CLI ${flag.short ? `-${flag.short}` : 'none'}`);
    if (doc.group !== groupOf(flag)) problems.push(`docs/cli.md lists --${doc.name} under ${where} among the ${doc.group} flags, the CLI among the ${groupOf(flag)} flags`);
  }
  for (const flag of defined) {
    if (!seen.has(flag.name)) problems.push(`${where} accepts --${flag.name}, but docs/cli.md does not list it there (run \`npm run docs\`)`);
  }
  return problems;
}

/** Every disagreement between docs/cli.md and the definitions, both ways. Pure. */
export function compareCliDoc(doc: CliDoc, commands: readonly CommandSpec[], globalFlags: readonly FlagSpec[]): string[] {
  const problems: string[] = [];
  const defined = new Map(commands.map((command) => [command.name, command]));
  const documented = new Map(doc.commands.map((command) => [command.name, command]));

  for (const name of doc.index) {
    if (!defined.has(name)) problems.push(`docs/cli.md lists the command \`cpsync ${name}\` in its Commands table, but the CLI has no such command`);
  }
  for (const command of doc.commands) {
    if (!defined.has(command.name)) problems.push(`docs/cli.md documents \`cpsync ${command.name}\`, but the CLI has no such command`);
  }
  for (const command of commands) {
    if (!doc.index.includes(command.name)) problems.push(`the CLI has \`cpsync ${command.name}\`, but the Commands table of docs/cli.md does not list it (run \`npm run docs\`)`);
    if (!documented.has(command.name)) problems.push(`the CLI has \`cpsync ${command.name}\`, but docs/cli.md has no section for it (run \`npm run docs\`)`);
  }

  problems.push(...compareFlags(doc.globalFlags, globalFlags, 'Global flags', () => 'global'));

  for (const command of doc.commands) {
    const spec = defined.get(command.name);
    if (!spec) continue;
    const where = `\`cpsync ${command.name}\``;
    if (command.summary !== spec.summary) problems.push(`docs/cli.md summarises ${where} as "${command.summary}", the CLI as "${spec.summary}"`);
    problems.push(...compareFlags(command.flags, spec.flags, where, (flag) => (isAwsFlag(flag) ? 'aws' : 'flags')));

    const specArguments = (spec.positionals ?? []).map((p) => `${p.name}${p.optional ? '' : ' (required)'}`);
    const docArguments = command.arguments.map((a) => `${a.name}${a.required ? ' (required)' : ''}`);
    if (specArguments.join(', ') !== docArguments.join(', ')) {
      problems.push(`docs/cli.md gives ${where} the arguments [${docArguments.join(', ')}], the CLI [${specArguments.join(', ')}]`);
    }
    for (const example of command.examples) {
      if (!spec.examples.includes(example)) problems.push(`docs/cli.md shows the example "${example}" for ${where}, which the CLI definitions do not have`);
    }
    for (const example of spec.examples) {
      if (!command.examples.includes(example)) problems.push(`the CLI definitions have the example "${example}" for ${where}, but docs/cli.md does not show it`);
    }
  }
  return problems;
}
