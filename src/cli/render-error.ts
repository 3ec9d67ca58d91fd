import { isCpsyncError } from '../util/errors.js';

export interface RenderErrorOptions {
  readonly debug: boolean;
  readonly color: boolean;
}

/** Formats an error that ended a command. User errors are one line plus a hint; stack traces only
 *  with --debug or for cpsync's own bugs. Pure. */
export function renderFatal(error: unknown, options: RenderErrorOptions): string {
  if (isCpsyncError(error)) {
    const lines = [`error: ${error.message}`];
    if (error.hint) lines.push(`  hint: ${error.hint}`);
    if (error.who === 'bug') lines.push('  this is a bug in cpsync; please report it with the output of --debug');
    if (options.debug && error.stack) lines.push(error.stack);
    return `${lines.join('\n')}\n`;
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`error: unexpected failure: ${message.split('\n')[0]}`];
  if (options.debug && error instanceof Error && error.stack) lines.push(error.stack);
  else lines.push('  run again with --debug for details; if it persists, report it as a cpsync bug');
  return `${lines.join('\n')}\n`;
}
