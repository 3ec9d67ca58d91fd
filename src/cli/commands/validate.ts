import { hasErrors } from '../../config/problems.js';
import { loadProject } from '../../config/load.js';
import { choosePalette } from '../../render/palette.js';
import { renderProblems } from '../../render/problems.js';
import { CpsyncError } from '../../util/errors.js';
import { booleanFlag, stringFlag } from '../parse-args.js';
import type { CommandContext } from '../spec.js';

export async function runValidate(context: CommandContext): Promise<number> {
  const format = stringFlag(context.args, 'format') ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new CpsyncError('cli.bad-flag-value', `--format must be text or json, got ${JSON.stringify(format)}`);
  }
  const project = await loadProject({ cwd: context.cwd, configFile: stringFlag(context.args, 'config') });
  const failed = hasErrors(project.problems);
  if (format === 'json') {
    context.stdout.write(`${JSON.stringify({ formatVersion: 1, valid: !failed, problems: project.problems }, null, 2)}\n`);
  } else {
    const palette = choosePalette({ interactive: context.interactive, env: context.env, noColor: booleanFlag(context.args, 'no-color') });
    const summary = failed
      ? ''
      : `checked ${project.actionTypes.length} action type${project.actionTypes.length === 1 ? '' : 's'} and ${project.pipelineFiles.length} pipeline file${project.pipelineFiles.length === 1 ? '' : 's'}\n`;
    context.stdout.write(renderProblems(project.problems, palette) + summary);
  }
  return failed ? 1 : 0;
}
