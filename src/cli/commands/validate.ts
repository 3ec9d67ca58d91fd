import type { CommandContext } from '../spec.js';
export async function runValidate(_context: CommandContext): Promise<number> {
  throw new Error('not yet');
}
