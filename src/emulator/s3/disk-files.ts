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

/** Streams `chunks` into a new temporary file in `dir` and fsyncs it. Deletes it on failure. */
export async function stageStream(dir: string, chunks: AsyncIterable<Buffer>, observe: (chunk: Buffer) => void): Promise<StagedFile> {
  const path = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  const file = await open(path, 'wx');
  let size = 0;
  try {
    for await (const chunk of chunks) {
      observe(chunk);
      size += chunk.length;
      // Awaiting each write is the backpressure: the socket is not read while the disk is busy.
      await file.write(chunk);
    }
    await file.sync();
  } catch (error) {
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
