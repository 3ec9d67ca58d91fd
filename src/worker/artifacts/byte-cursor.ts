// Reads an archive's bytes by position from any async stream of chunks (a file read in 1 MiB
// pieces, an HTTP body in whatever the socket delivers), copying only when a read spans chunks.
// Waiting for the next chunk also waits on the extraction's signal, so a source that stops
// answering cannot outlive it.

import { HostileArchive } from './archive-rules.js';

/** Reads an async stream of chunks by position, copying only when a read spans chunks. */
export class ByteCursor {
  readonly #iterator: AsyncIterator<Buffer>;
  #chunk: Buffer = Buffer.alloc(0);
  #offset = 0;
  #waiting = false;
  /** Archive offset of the next byte. */
  position = 0;

  constructor(
    chunks: AsyncIterable<Buffer>,
    start: number,
    readonly artifact: string,
    readonly signal: AbortSignal,
  ) {
    this.#iterator = chunks[Symbol.asyncIterator]();
    this.position = start;
  }

  async #fill(): Promise<void> {
    while (this.#offset === this.#chunk.length) {
      this.#waiting = true;
      const next = await this.#nextOrAbort();
      this.#waiting = false;
      if (next.done) throw new HostileArchive('corrupt', `input artifact ${this.artifact} is not a valid ZIP file: it ends at offset ${this.position}, before the entries its central directory lists`);
      this.#chunk = next.value;
      this.#offset = 0;
    }
  }

  /** The source's next chunk, unless the signal fires first: a source that stops answering must
   *  not outlive the signal. (A listener per call, not Promise.race with one long-lived promise,
   *  which would keep every chunk reachable until the end.) */
  #nextOrAbort(): Promise<IteratorResult<Buffer>> {
    const { signal } = this;
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#iterator.next().then(
        (next) => {
          signal.removeEventListener('abort', onAbort);
          resolve(next);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** The next 1 to `max` bytes, without copying. */
  async take(max: number): Promise<Buffer> {
    await this.#fill();
    const length = Math.min(max, this.#chunk.length - this.#offset);
    const bytes = this.#chunk.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    this.position += length;
    return bytes;
  }

  /** Exactly `length` bytes. */
  async read(length: number): Promise<Buffer> {
    if (length === 0) return Buffer.alloc(0);
    const first = await this.take(length);
    if (first.length === length) return first;
    const bytes = Buffer.allocUnsafe(length);
    first.copy(bytes);
    for (let done = first.length; done < length; ) {
      const more = await this.take(length - done);
      more.copy(bytes, done);
      done += more.length;
    }
    return bytes;
  }

  async skip(length: number): Promise<void> {
    for (let remaining = length; remaining > 0; ) remaining -= (await this.take(remaining)).length;
  }

  async skipTo(offset: number): Promise<void> {
    if (offset < this.position) throw new Error(`cannot go back from offset ${this.position} to ${offset}`);
    await this.skip(offset - this.position);
  }

  /** Lets the source release what it holds (an HTTP body, a read in flight). */
  async close(): Promise<void> {
    const closing = this.#iterator.return?.();
    // A source still busy with a next() that was given up on (aborted) closes when that ends.
    if (this.#waiting) void closing?.catch(() => undefined);
    else await closing;
  }
}
