#!/usr/bin/env node
// The only place that writes the final error, picks the exit code and calls process.exit.

// The AWS SDK warns on stderr about Node versions it will stop supporting; that is noise for
// cpsync's users, who cannot act on it mid-command. Set before any SDK module can load.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { cpsyncVersion } from '../util/version.js';
import * as nodeModule from 'node:module';
// Only what every path needs is imported statically; help, argument parsing (and with it the
// "did you mean" distance code) load when used, so `--version` stays close to bare Node start-up.
import { COMMANDS } from './commands.js';
import { GLOBAL_FLAGS, type CommandContext } from './spec.js';
import { CpsyncError } from '../util/errors.js';
import { renderFatal } from './render-error.js';


export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const [first, ...rest] = argv;
    if (first === '--version' || first === '-v' || first === 'version') {
      process.stdout.write(`${cpsyncVersion()}\n`);
      return 0;
    }
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const { renderMainHelp } = await import('./help.js');
      process.stdout.write(renderMainHelp(COMMANDS, cpsyncVersion()));
      return first === undefined ? 1 : 0;
    }
    if (first.startsWith('-')) {
      // A flag before any command: accept the global ones only to explain where they go.
      const { closestMatch } = await import('../util/suggest.js');
      const match = closestMatch(first, ['--help', '--version']);
      throw new CpsyncError('cli.unknown-flag', `unknown flag ${first}${match ? ` (did you mean ${match}?)` : ''}; flags go after the command, see \`cpsync --help\``);
    }
    const command = COMMANDS.find((candidate) => candidate.name === first);
    if (!command) {
      const { closestMatch } = await import('../util/suggest.js');
      const match = closestMatch(first, COMMANDS.map((candidate) => candidate.name));
      throw new CpsyncError('cli.unknown-command', `unknown command "${first}"${match ? ` (did you mean "${match}"?)` : ''}; see \`cpsync --help\``);
    }
    const { parseArgs } = await import('./parse-args.js');
    const args = parseArgs(rest, [...command.flags, ...GLOBAL_FLAGS], command.positionals, `cpsync ${command.name}`);
    if (args.flags.help === true) {
      const { renderCommandHelp } = await import('./help.js');
      process.stdout.write(renderCommandHelp(command));
      return 0;
    }
    const run = await command.load();
    const context: CommandContext = {
      args,
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      cwd: process.cwd(),
      env: process.env,
      interactive: Boolean(process.stdout.isTTY),
    };
    return await run(context);
  } catch (error) {
    process.stderr.write(renderFatal(error, { debug, color: false }));
    return 1;
  }
}

// Start-up (docs/benchmarks.md): Node >= 22.1 can cache the compiled code of the modules loaded
// after this point (the command, zod, yaml) in the OS temp folder; Node 20 has no such API, and
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. Only an optimisation, so a failure is ignored.
try {
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // start without the cache
}

const exitCode = await main(process.argv.slice(2));
// Let pending writes to a pipe drain before leaving.
process.exitCode = exitCode;
