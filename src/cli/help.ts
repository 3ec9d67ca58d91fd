import { GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './spec.js';

function renderFlag(flag: FlagSpec): [string, string] {
  const short = flag.short ? `-${flag.short}, ` : '    ';
  const value = flag.type === 'string' ? ` ${flag.valueName ?? 'VALUE'}` : '';
  const repeat = flag.multiple ? ' (repeatable)' : '';
  return [`${short}--${flag.name}${value}`, flag.description + repeat];
}

function columns(rows: readonly [string, string][], indent = '  '): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`).join('\n');
}

/** `cpsync --help`. Pure. */
export function renderMainHelp(commands: readonly CommandSpec[], version: string): string {
  return [
    `cpsync ${version}: GitOps for AWS CodePipeline custom actions`,
    '',
    'Usage: cpsync <command> [flags]',
    '',
    'Commands:',
    columns(commands.map((command) => [command.name, command.summary])),
    '',
    'Flags:',
    columns([...GLOBAL_FLAGS.map(renderFlag), ['-v, --version', 'Print the version.']]),
    '',
    'Run `cpsync <command> --help` for a command\'s flags and examples.',
    '',
  ].join('\n');
}

/** `cpsync <command> --help`. Pure. */
export function renderCommandHelp(command: CommandSpec): string {
  const positionals = (command.positionals ?? []).map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`)).join(' ');
  const lines = [
    `Usage: cpsync ${command.name}${positionals ? ` ${positionals}` : ''} [flags]`,
    '',
    command.description,
    '',
  ];
  if (command.positionals?.length) {
    lines.push('Arguments:', columns(command.positionals.map((p) => [p.name, p.description])), '');
  }
  lines.push('Flags:', columns([...command.flags, ...GLOBAL_FLAGS].map(renderFlag)), '');
  if (command.examples.length) {
    lines.push('Examples:', ...command.examples.map((example) => `  ${example}`), '');
  }
  return lines.join('\n');
}
