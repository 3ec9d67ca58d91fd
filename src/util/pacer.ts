// Synchronous file-system work in slices. Where a thread-pool round trip costs more than the call
// itself (small files, lstat, mkdir), cpsync makes the calls directly and gives the event loop a
// turn after each slice, so other jobs' requests and timers wait at most about a millisecond.

import { setImmediate as nextTurn } from 'node:timers/promises';

export class Pacer {
  #items = 0;
  #bytes = 0;

  /** A slice ends after `items` calls or `bytes` handled, whichever comes first. */
  constructor(
    private readonly items: number,
    private readonly bytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Counts one call that handled `bytes`. */
  count(bytes = 0): void {
    this.#items += 1;
    this.#bytes += bytes;
  }

  /** Gives the event loop a turn if the slice is full. */
  async pace(): Promise<void> {
    if (this.#items < this.items && this.#bytes < this.bytes) return;
    this.#items = 0;
    this.#bytes = 0;
    await nextTurn();
  }
}
