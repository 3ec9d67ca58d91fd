// Background progress of executions and jobs. Deadlines are also checked lazily by every job and
// execution call; the sweep makes them happen when nobody calls (a dispatched job goes back to the
// queue, an acknowledged job times out) and resumes stand-in AWS actions after a restart.

import type { EmulatorContext } from '../context.js';
import { purgeJobCredentials } from './credentials.js';
import { catchUp } from './executions-catch-up.js';
import { advancePipeline, pipelinesWithActiveExecutions } from './executions.js';

export interface Engine {
  stop(): void;
}

const MAX_INTERVAL_MS = 250;
const MIN_INTERVAL_MS = 10;

/** Sweep often enough to honour the smallest timeout within a fraction of it. Pure. */
export function sweepIntervalMs(options: { dispatchTimeoutMs: number; actionTimeoutMs: number }): number {
  return Math.max(MIN_INTERVAL_MS, Math.min(MAX_INTERVAL_MS, Math.floor(Math.min(options.dispatchTimeoutMs, options.actionTimeoutMs) / 4)));
}

export function sweep(context: EmulatorContext): void {
  catchUp(context);
  for (const name of pipelinesWithActiveExecutions(context)) advancePipeline(context, name);
  context.store.transaction(() => purgeJobCredentials(context));
}

export function startEngine(context: EmulatorContext): Engine {
  const tick = () => {
    try {
      sweep(context);
    } catch (error) {
      // A sweep must never take the endpoint down; the next tick tries again.
      process.emitWarning(`cpsync local: engine sweep failed: ${(error as Error).message}`);
    }
  };
  tick();
  const timer = setInterval(tick, sweepIntervalMs(context.options));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
