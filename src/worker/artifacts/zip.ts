// Zips a directory deterministically, as a stream: entries sorted by path, one fixed timestamp,
// Unix modes as on disk, directories as entries, symlinks stored as symlinks when they stay inside
// the directory. The same tree gives the same bytes, so re-running a job gives the same artifact.
//
// Two writers, one format. A large tree streams through yazl (files opened one at a time, memory
// flat). A small tree (most build outputs of small jobs) is written in memory in one pass by
// writeSmallZip below, which lays out exactly the bytes yazl would (a test compares them): yazl's
// per-entry stream pipeline (a read stream, two counters, a CRC watcher and a zlib stream per file)
// costs ~10 ms of CPU for a dozen small files, the in-memory writer well under 2 ms.

import type { Stats } from 'node:fs';
import { closeSync, constants as fsConstants, createReadStream, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import yazl from 'yazl';
import { Pacer } from '../../util/pacer.js';
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

/** Entries listed before the event loop gets a turn. */
const LIST_SLICE = 256;

/** Lists the tree below `directory` (not following symlinks), sorted by path as UTF-8 bytes.
 *  With synchronous calls, in slices: a thread-pool round trip per lstat cost more than the
 *  lstat (a small output's listing went from ~1.5 ms to ~0.2 ms). */
export async function listTree(directory: string, artifact: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const pacer = new Pacer(LIST_SLICE);
  async function visit(relative: string): Promise<void> {
    const names = readdirSync(relative ? join(directory, relative) : directory);
    for (const name of names) {
      pacer.count();
      await pacer.pace();
      const path = relative ? `${relative}/${name}` : name;
      if (name.includes('\\')) {
        throw new HostileArchive('unsupported-file-type', `output artifact ${artifact}: ${quoteName(path)} has a backslash in its name, which ZIP readers take as a folder separator`);
      }
      const stats: Stats = lstatSync(join(directory, path));
      if (stats.isDirectory()) {
        entries.push({ path, kind: 'directory', mode: stats.mode & 0o777, size: 0 });
        await visit(path);
      } else if (stats.isFile()) {
        entries.push({ path, kind: 'file', mode: stats.mode & 0o777, size: stats.size });
      } else if (stats.isSymbolicLink()) {
        entries.push({ path, kind: 'symlink', mode: 0o777, size: 0, linkTarget: readlinkSync(join(directory, path)) });
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
  /** The whole archive, when the tree was small enough to zip in memory (`stream` yields it too). */
  readonly buffer?: Buffer;
  /** Regular files and symlinks in the archive. */
  readonly files: number;
  /** Bytes emitted so far (final once the stream has ended). */
  bytes(): number;
  /** Stops zipping and closes the file being read; with a reason, the consumer sees it as an error. */
  cancel(reason?: Error): void;
}

/** Trees whose files add up to at most this many bytes are zipped in memory... */
export const IN_MEMORY_ZIP_BYTES = 1024 * 1024;
/** ...when they have at most this many entries: small files are read synchronously, and a few
 *  milliseconds of blocked event loop is the bound (it also keeps the end record free of ZIP64). */
export const IN_MEMORY_ZIP_ENTRIES = 1000;

export interface ZipOptions {
  /** Zip in memory when the files add up to at most this many bytes (default IN_MEMORY_ZIP_BYTES). */
  readonly inMemoryBytes?: number;
}

/** Starts zipping `directory`; the caller consumes `stream` (backpressure reaches file reads). A
 *  small tree is zipped before this returns, and `buffer` holds the archive. */
export async function zipDirectory(directory: string, artifact: string, options: ZipOptions = {}): Promise<ZipStream> {
  const entries = await listTree(directory, artifact);
  let total = 0;
  for (const entry of entries) total += entry.size;
  if (total <= (options.inMemoryBytes ?? IN_MEMORY_ZIP_BYTES) && entries.length <= IN_MEMORY_ZIP_ENTRIES) {
    const buffer = await writeSmallZip(directory, artifact, entries);
    const stream = Readable.from([buffer], { objectMode: false });
    return { stream, buffer, files: entries.filter((entry) => entry.kind !== 'directory').length, bytes: () => buffer.length, cancel: (reason?: Error) => stream.destroy(reason) };
  }
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

// ---------------------------------------------------------------------------------------------
// The in-memory writer: yazl's layout, field for field (yazl/index.js, Entry.getLocalFileHeader,
// getDataDescriptor, getCentralDirectoryRecord, getEndOfCentralDirectoryRecord), for what
// zipDirectory adds: directories (stored, no data), symlinks (stored, size and CRC in the local
// header) and files (deflated at level 6, CRC and sizes in a data descriptor after the data, as
// yazl writes streamed entries). Deflate's output does not depend on how the input was split
// into writes, so a file deflated in one call gives the bytes yazl's zlib stream gives.

const VERSION_MADE_BY = (3 << 8) | 63; // Unix, spec 6.3
const VERSION_NEEDED = 20;
const NAME_IS_UTF8 = 1 << 11;
const DATA_DESCRIPTOR_FOLLOWS = 1 << 3;
const STORED = 0;
const DEFLATED = 8;
/** Files up to this size are deflated synchronously: a thread-pool round trip costs more than the
 *  work. Larger ones are deflated on the pool so the event loop stays free. */
const SYNC_FILE_BYTES = 64 * 1024;
const deflateRaw = promisify(zlib.deflateRaw);
/** FIXED_MTIME as DOS date and time fields, from local fields as yazl's dateToDosDateTime does. */
const DOS_DATE = FIXED_MTIME.getDate() | ((FIXED_MTIME.getMonth() + 1) << 5) | ((FIXED_MTIME.getFullYear() - 1980) << 9);
const DOS_TIME = Math.floor(FIXED_MTIME.getSeconds() / 2) | (FIXED_MTIME.getMinutes() << 5) | (FIXED_MTIME.getHours() << 11);
const crc32: (data: Uint8Array) => number = typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : crc32Js;

async function writeSmallZip(directory: string, artifact: string, entries: readonly TreeEntry[]): Promise<Buffer> {
  const body: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.kind === 'directory' ? `${entry.path}/` : entry.path);
    let flags = NAME_IS_UTF8;
    let method = STORED;
    let crc = 0;
    let size = 0;
    let data: Buffer | undefined;
    let mode: number;
    if (entry.kind === 'directory') {
      mode = 0o040000 | entry.mode;
    } else if (entry.kind === 'symlink') {
      data = Buffer.from(entry.linkTarget as string);
      crc = crc32(data);
      size = data.length;
      mode = 0o120000 | 0o777;
    } else {
      const raw = readListedFile(join(directory, entry.path), entry, artifact);
      crc = crc32(raw);
      size = raw.length;
      data = raw.length <= SYNC_FILE_BYTES ? zlib.deflateRawSync(raw, { level: 6 }) : await deflateRaw(raw, { level: 6 });
      method = DEFLATED;
      flags |= DATA_DESCRIPTOR_FOLLOWS;
      mode = 0o100000 | entry.mode;
    }
    const stored = data?.length ?? 0;
    const described = (flags & DATA_DESCRIPTOR_FOLLOWS) !== 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    // With a data descriptor, CRC and sizes are zero here and follow the data.
    local.writeUInt32LE(described ? 0 : crc, 14);
    local.writeUInt32LE(described ? 0 : stored, 18);
    local.writeUInt32LE(described ? 0 : size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    body.push(local, name);
    if (data) body.push(data);
    if (described) {
      const descriptor = Buffer.alloc(16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc, 4);
      descriptor.writeUInt32LE(stored, 8);
      descriptor.writeUInt32LE(size, 12);
      body.push(descriptor);
    }
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(VERSION_MADE_BY, 4);
    record.writeUInt16LE(VERSION_NEEDED, 6);
    record.writeUInt16LE(flags, 8);
    record.writeUInt16LE(method, 10);
    record.writeUInt16LE(DOS_TIME, 12);
    record.writeUInt16LE(DOS_DATE, 14);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(stored, 20);
    record.writeUInt32LE(size, 24);
    record.writeUInt16LE(name.length, 28);
    // Extra field, comment, disk number and internal attributes: all zero.
    record.writeUInt32LE((mode << 16) >>> 0, 38);
    record.writeUInt32LE(offset, 42);
    central.push(record, name);
    offset += 30 + name.length + stored + (described ? 16 : 0);
  }
  let centralSize = 0;
  for (const part of central) centralSize += part.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...body, ...central, end]);
}

/** A listed file's bytes, refusing one that changed since it was listed: a different size, or
 *  no longer a regular file (O_NOFOLLOW: a symlink swapped in is not followed out of the tree).
 *  Synchronous: only trees of at most IN_MEMORY_ZIP_BYTES in all are read whole, and a read from
 *  the page cache costs less than a thread-pool round trip (the deflate of a larger file is what
 *  goes to the pool). */
function readListedFile(path: string, entry: TreeEntry, artifact: string): Buffer {
  const changed = (detail: string) => new JobFailure('JobFailed', `output artifact ${artifact}: a file changed while it was being zipped (${quoteName(entry.path)} ${detail}); is a process still writing to the output folder?`);
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw changed('became a symlink');
    throw error;
  }
  try {
    if (!fstatSync(fd).isFile()) throw changed('is no longer a regular file');
    // One byte more than listed, to see a file that grew.
    const buffer = Buffer.allocUnsafe(entry.size + 1);
    let read = 0;
    for (let n = -1; n !== 0 && read < buffer.length; read += n) n = readSync(fd, buffer, read, buffer.length - read, read);
    if (read !== entry.size) throw changed(`has ${read > entry.size ? 'more' : 'fewer'} than the ${entry.size} bytes listed`);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE) for Node versions before zlib.crc32 (20.15). */
function crc32Js(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
