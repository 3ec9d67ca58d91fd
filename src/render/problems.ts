import type { Problem } from '../config/problems.js';
import type { Palette } from './palette.js';

/** `file:line:column: error: message` plus an indented hint, one block per problem, and a
 *  summary line. Pure. */
export function renderProblems(problems: readonly Problem[], palette: Palette): string {
  const lines: string[] = [];
  for (const problem of problems) {
    const where = [problem.file, problem.line, problem.column].filter((part) => part !== undefined).join(':');
    const label = problem.severity === 'error' ? palette.red('error') : palette.yellow('warning');
    lines.push(`${palette.bold(where)}: ${label}: ${problem.message}`);
    if (problem.hint) lines.push(`  ${palette.dim('hint:')} ${problem.hint}`);
  }
  const errors = problems.filter((problem) => problem.severity === 'error').length;
  const warnings = problems.length - errors;
  if (lines.length) lines.push('');
  lines.push(errors === 0 ? palette.green(`valid${warnings ? ` (${plural(warnings, 'warning')})` : ''}`) : palette.red(`${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`));
  return `${lines.join('\n')}\n`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
