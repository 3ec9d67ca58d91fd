// When to poll next and for how many jobs. Pure: the poll loop asks these functions and only
// keeps timers. AWS's sample worker polls every 30 s for `free threads` jobs; cpsync re-polls at
// once after a full batch (there is probably more), and backs off exponentially with full jitter
// while idle or throttled, so a quiet worker costs almost nothing and a busy one never waits.

export interface PollBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

export type PollOutcome =
  /** As many jobs came back as were asked for: there may be more waiting. */
  | 'full'
  /** Some jobs, fewer than asked: the queue is probably empty now. */
  | 'partial'
  | 'empty'
  | 'throttled'
  | 'error';

export interface PollDecision {
  /** Wait this long before the next poll of the type. */
  readonly delayMs: number;
  /** Consecutive idle or refused polls, carried to the next decision. */
  readonly streak: number;
}

/** How many jobs one poll may ask for: the free slots not already promised to polls in flight. */
export function batchSize(concurrency: number, running: number, reserved: number): number {
  return Math.max(0, concurrency - running - reserved);
}

/** Full jitter between `min` and an exponentially growing cap (at most `max`). */
export function jitteredBackoff(streak: number, bounds: PollBounds, random: () => number): number {
  const min = Math.max(0, Math.min(bounds.minMs, bounds.maxMs));
  const cap = Math.min(bounds.maxMs, Math.max(min, min || 1) * 2 ** Math.max(0, streak - 1));
  return Math.round(min + random() * Math.max(0, cap - min));
}

export function nextPoll(outcome: PollOutcome, streak: number, bounds: PollBounds, random: () => number = Math.random): PollDecision {
  switch (outcome) {
    case 'full':
      return { delayMs: 0, streak: 0 };
    case 'partial':
      return { delayMs: Math.max(0, bounds.minMs), streak: 0 };
    case 'empty':
    case 'throttled':
    case 'error': {
      // Refusals grow the back-off twice as fast as idleness: AWS asked us to slow down.
      const next = streak + (outcome === 'empty' ? 1 : 2);
      return { delayMs: jitteredBackoff(next, bounds, random), streak: next };
    }
  }
}

/** The outcome of a poll that returned `got` jobs when `asked` were requested. */
export function pollOutcome(asked: number, got: number): PollOutcome {
  if (got <= 0) return 'empty';
  return got >= asked ? 'full' : 'partial';
}

/** Ready for /healthz: polling works unless the last `threshold` polls all failed. */
export function pollingHealthy(consecutiveFailures: number, threshold: number): boolean {
  return consecutiveFailures < threshold;
}
