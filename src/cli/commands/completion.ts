import { CpsyncError } from '../../util/errors.js';
import { COMMANDS } from '../commands.js';
import { COMPLETION_SHELLS, renderCompletion, type CompletionShell } from '../render-completion.js';
import type { CommandContext } from '../spec.js';

export async function runCompletion(context: CommandContext): Promise<number> {
  const shell = context.args.positionals[0];
  if (!isCompletionShell(shell)) {
    throw new CpsyncError(
      'cli.bad-argument',
      shell === undefined ? 'cpsync completion needs a shell: bash or zsh' : `cannot complete for the shell ${JSON.stringify(shell)}: bash or zsh`,
      { hint: 'eval "$(cpsync completion bash)" in bash, source <(cpsync completion zsh) in zsh' },
    );
  }
  context.stdout.write(renderCompletion(shell, COMMANDS));
  return 0;
}

function isCompletionShell(value: string | undefined): value is CompletionShell {
  return (COMPLETION_SHELLS as readonly (string | undefined)[]).includes(value);
}
