// Background progress of executions and jobs. (Being written: see the helper brief.)
import type { EmulatorContext } from '../context.js';

export interface Engine {
  stop(): void;
}

export function startEngine(_context: EmulatorContext): Engine {
  return { stop: () => undefined };
}
