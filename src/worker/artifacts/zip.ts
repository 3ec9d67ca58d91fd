// Zips a directory deterministically, as a stream: entries sorted by path, one fixed timestamp,
// Unix modes as on disk, directories as entries, symlinks stored as symlinks when they stay inside
// the directory. The same tree gives the same bytes, so re-running a job gives the same artifact.

import type { Stats } from 'node:fs';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import yazl from 'yazl';
import { JobFailure } from '../types.js';
import { checkSymlink, HostileArchive, quoteName } from './archive-rules.js';

/** 1980-01-01 00:00, the earliest DOS time, built from local fields so the DOS fields (which yazl
 *  writes in local time) are the same in every time zone. The UT extra field is switched off for
 *  the same reason: it holds UTC seconds, which would differ by zone. */
export const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

export interface TreeEntry {
  /** Path below the directory with `/` separators; directories without a trailing slash. */
  readonly path: string;
  readonly kind: 'file' | 'directory' | 'symlink';
  readonly mode: number;
  readonly size: number;
  readonly linkTarget?: string;
}

/** Lists the tree below `directory` (not following symlinks), sorted by path as UTF-8 bytes. */
export async function listTree(directory: string, artifact: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  async function visit(relative: string): Promise<void> {
    const names = await readdir(relative ? join(directory, relative) : directory);
    for (const name of names) {
      const path = relative ? `${relative}/${name}` : name;
      if (name.includes('\\')) {
        throw new HostileArchive('unsupported-file-type', `output artifact ${artifact}: ${quoteName(path)} has a backslash in its name, which ZIP readers take as a folder separator`);
      }
      const stats: Stats = await lstat(join(directory, path));
      if (stats.isDirectory()) {
        entries.push({ path, kind: 'directory', mode: stats.mode & 0o777, size: 0 });
        await visit(path);
      } else if (stats.isFile()) {
        entries.push({ path, kind: 'file', mode: stats.mode & 0o777, size: stats.size });
      } else if (stats.isSymbolicLink()) {
        entries.push({ path, kind: 'symlink', mode: 0o777, size: 0, linkTarget: await readlink(join(directory, path)) });
      } else {
        throw new HostileArchive('unsupported-file-type', `output artifact ${artifact}: ${quoteName(path)} is not a file, directory or symlink (a socket, FIFO or device cannot go into a ZIP)`);
      }
    }
  }
  await visit('');
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const links = new Map(entries.filter((entry) => entry.kind === 'symlink').map((entry) => [entry.path, entry.linkTarget as string]));
  for (const [path, target] of links) {
    try {
      checkSymlink(artifact, path, path.split('/'), target, links);
    } catch (error) {
      if (!(error instanceof HostileArchive)) throw error;
      // Re-word for outputs: the folder is ours, not an archive we were given.
      throw new HostileArchive(error.rule, `output artifact ${artifact}: the symlink ${quoteName(path)} -> ${quoteName(target)} points outside the artifact directory (or loops); cpsync does not follow or store it`);
    }
  }
  return entries;
}

export interface ZipStream {
  /** The archive's bytes; errors (a file that vanished or changed size) are raised on it. */
  readonly stream: Readable;
  /** Regular files and symlinks in the archive. */
  readonly files: number;
  /** Bytes emitted so far (final once the stream has ended). */
  bytes(): number;
  /** Stops zipping and closes the file being read; with a reason, the consumer sees it as an error. */
  cancel(reason?: Error): void;
}

/** Starts zipping `directory`; the caller consumes `stream` (backpressure reaches file reads). */
export async function zipDirectory(directory: string, artifact: string): Promise<ZipStream> {
  const entries = await listTree(directory, artifact);
  const zip = new yazl.ZipFile();
  let emitted = 0;
  const counted = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      emitted += chunk.length;
      callback(null, chunk);
    },
  });
  // yazl reports read errors (a file that vanished or changed size) on the ZipFile, not the stream.
  // Errno errors go on as they are (the caller maps ENOSPC, EACCES...); yazl's own say what changed.
  zip.on('error', (error: Error) => {
    const errno = typeof (error as { code?: unknown }).code === 'string';
    counted.destroy(errno ? error : new JobFailure('JobFailed', `output artifact ${artifact}: a file changed while it was being zipped (${error.message}); is a process still writing to the output folder?`));
  });
  zip.outputStream.on('error', (error: Error) => counted.destroy(error));
  zip.outputStream.pipe(counted);
  let files = 0;
  let current: Readable | undefined;
  const common = { mtime: FIXED_MTIME, forceDosTimestamp: true };
  for (const entry of entries) {
    if (entry.kind === 'directory') {
      zip.addEmptyDirectory(entry.path, { ...common, mode: 0o040000 | entry.mode });
    } else if (entry.kind === 'symlink') {
      zip.addBuffer(Buffer.from(entry.linkTarget as string), entry.path, { ...common, mode: 0o120000 | 0o777, compress: false });
      files += 1;
    } else {
      const absolute = join(directory, entry.path);
      // Lazy: a file is opened only when yazl reaches it, so descriptors stay at one.
      zip.addReadStreamLazy(entry.path, { ...common, mode: 0o100000 | entry.mode, size: entry.size }, (callback) => {
        current = createReadStream(absolute);
        callback(null, current);
      });
      files += 1;
    }
  }
  zip.end();
  return {
    stream: counted,
    files,
    bytes: () => emitted,
    cancel: (reason?: Error) => {
      zip.outputStream.unpipe(counted);
      current?.destroy();
      counted.destroy(reason);
    },
  };
}
