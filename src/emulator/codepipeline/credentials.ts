// Per-job artifact credentials. (Being written: see the helper brief.)
import type { EmulatorContext, IssuedCredential } from '../context.js';

export function findIssuedCredential(_context: EmulatorContext, _accessKeyId: string): IssuedCredential | undefined {
  return undefined;
}
