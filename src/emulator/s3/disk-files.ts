// The two ways the S3 side writes files, both crash-safe: a body is streamed into a temporary
// file in its final folder, fsync'd, and renamed into place only once complete; small JSON
// records are written the same way, so a reader sees the old record or the new one, never half.

import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export const TEMP_PREFIX = '.tmp-';

export interface StagedFile {
  readonly path: string;
  readonly size: number;
}

/** Bytes gathered while the previous write is on its way to disk; bounds memory per upload. */
const WRITE_BATCH = 1024 * 1024;

/** Bytes written after which a body's file is flushed to disk (fdatasync in the thread pool) while
 *  the rest keeps arriving. Without it a large body sits dirty in the page cache (1 GiB is below
 *  the kernel's background write-back threshold on most machines) and all of it is written out by
 *  the fsync before the answer, after the last byte came in; with it the disk works while the
 *  socket does, and that fsync finds at most this much left. Bodies smaller than this (16 MiB
 *  multipart parts) are unaffected. */
const EARLY_SYNC_BYTES = 64 * 1024 * 1024;

/**
 * Streams `chunks` into a new temporary file in `dir` and fsyncs it. Deletes it on failure.
 * One batched write is in flight while the next batch is read and hashed, so disk and CPU overlap;
 * waiting for it once a batch is full is the backpressure (the socket is not read meanwhile).
 */
export async function stageStream(dir: string, chunks: AsyncIterable<Buffer>, observe: (chunk: Buffer) => void): Promise<StagedFile> {
  const path = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  const file = await open(path, 'wx');
  let size = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async () => {
    await inFlight;
    const buffers = batch;
    batch = [];
    batchBytes = 0;
    inFlight = buffers.length ? file.writev(buffers) : Promise.resolve();
    // Keep a rejection observed until the next await picks it up.
    inFlight.catch(() => undefined);
  };
  try {
    for await (const chunk of chunks) {
      observe(chunk);
      size += chunk.length;
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH) await flush();
    }
    await flush();
    await inFlight;
    await file.sync();
  } catch (error) {
    await inFlight.catch(() => undefined);
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
  await file.close();
  return { path, size };
}

/** What `stageBody` does with the raw chunks of a body: `write` returns the bytes to store (the
 *  chunk itself, decoded pieces of it, or none), `end` runs once the body is complete. Either may
 *  throw to refuse the body; the file is then removed and the error passed on. */
export interface BodyFilter {
  write(raw: Buffer): Buffer | readonly Buffer[];
  end(): void;
}

/**
 * Streams a request body into a new temporary file in `dir` and fsyncs it; deletes it on failure.
 * Driven by 'data' events (no async iteration per chunk): the bytes of a 1 GiB upload arrive in
 * some 16,000 socket reads, and per-chunk promises were a visible share of the server's CPU. One
 * batched write is in flight while the next batch is filled; when that one is full too the body is
 * paused until the write is done (back-pressure, so memory stays at about two batches per upload).
 * Every EARLY_SYNC_BYTES written, a datasync starts beside the writes; the file is still fsync'd
 * once complete, before the caller commits it, so durability is what it was without them.
 */
export async function stageBody(dir: string, body: Readable, filter: BodyFilter): Promise<StagedFile> {
  const path = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  const file = await open(path, 'wx');
  try {
    const size = await pumpInto(file, body, filter);
    await file.sync();
    await file.close();
    return { path, size };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

function pumpInto(file: FileHandle, body: Readable, filter: BodyFilter): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let size = 0;
    let writing: Promise<void> | undefined;
    // The early datasync in flight, if any, and what was written since the last one started.
    let syncing: Promise<void> | undefined;
    let unsynced = 0;
    let ended = false;
    let failed = false;
    let paused = false;

    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      body.off('data', onData);
      // Keep reading (and discarding) so the connection can still carry the error response.
      body.resume();
      // The caller closes and removes the file: let the operations on it finish first.
      if (writing || syncing) void Promise.all([writing, syncing]).then(() => reject(error));
      else reject(error);
    };
    const startSync = () => {
      unsynced = 0;
      // A failed flush fails the upload: Linux reports a write-back error to a file once, so the
      // final fsync might not see it again.
      syncing = file.datasync().then(
        () => {
          syncing = undefined;
        },
        (error: unknown) => {
          syncing = undefined;
          fail(error);
        },
      );
    };
    const startWrite = () => {
      const buffers = batch;
      const bytes = batchBytes;
      batch = [];
      batchBytes = 0;
      writing = file.writev(buffers).then(
        () => {
          writing = undefined;
          if (failed) return;
          unsynced += bytes;
          if (ended) return finish();
          // Not after the last write: the fsync that follows it writes out the rest anyway.
          if (unsynced >= EARLY_SYNC_BYTES && !syncing) startSync();
          if (batchBytes >= WRITE_BATCH) startWrite();
          if (paused) {
            paused = false;
            body.resume();
          }
        },
        (error: unknown) => {
          writing = undefined;
          fail(error);
        },
      );
    };
    const keep = (piece: Buffer) => {
      if (!piece.length) return;
      batch.push(piece);
      batchBytes += piece.length;
      size += piece.length;
    };
    const onData = (raw: Buffer) => {
      try {
        const kept = filter.write(raw);
        if (Buffer.isBuffer(kept)) keep(kept);
        else for (const piece of kept) keep(piece);
      } catch (error) {
        return fail(error);
      }
      if (batchBytes < WRITE_BATCH) return;
      if (!writing) startWrite();
      else if (!paused) {
        paused = true;
        body.pause();
      }
    };
    const finish = () => {
      if (batch.length) return startWrite();
      // Wait for an early flush still running (its failure rejects instead).
      if (syncing) return void syncing.then(() => failed || resolve(size));
      resolve(size);
    };
    body.on('data', onData);
    body.once('end', () => {
      ended = true;
      if (failed) return;
      try {
        filter.end();
      } catch (error) {
        return fail(error);
      }
      if (!writing) finish();
    });
    body.once('error', fail);
    body.once('close', () => {
      if (!ended) fail(new Error('the request body ended before it was complete (connection closed)'));
    });
  });
}

export async function discardStaged(staged: StagedFile): Promise<void> {
  await rm(staged.path, { force: true });
}

/** Writes JSON to a new temporary file in `dir` and fsyncs it, without blocking the event loop;
 *  returns its path. The caller commits it with a synchronous `renameSync` over the final name,
 *  together with the in-memory update, so no other commit can come between the two. */
export async function stageJson(dir: string, value: unknown): Promise<string> {
  const temporary = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  const file = await open(temporary, 'wx');
  try {
    await file.writeFile(JSON.stringify(value));
    await file.sync();
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  return temporary;
}

/** Writes JSON to a temporary file, fsyncs it, and renames it over `path` (synchronous on purpose: the rename is the commit point and must not interleave with another commit). */
export function writeJsonAtomically(path: string, value: unknown, dir: string): void {
  const temporary = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  const fd = openSync(temporary, 'wx');
  try {
    writeSync(fd, JSON.stringify(value));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
