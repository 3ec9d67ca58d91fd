// The two ways the S3 side writes files, both crash-safe: a body is streamed into a temporary
// file in its final folder, fsync'd, and renamed into place only once complete; small JSON
// records are written the same way, so a reader sees the old record or the new one, never half.

import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const TEMP_PREFIX = '.tmp-';

export interface StagedFile {
  readonly path: string;
  readonly size: number;
}

/** Bytes gathered while the previous write is on its way to disk; bounds memory per upload. */
const WRITE_BATCH = 1024 * 1024;

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

export async function discardStaged(staged: StagedFile): Promise<void> {
  await rm(staged.path, { force: true });
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
