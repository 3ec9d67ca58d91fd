// Extracts a ZIP archive into an empty directory in one front-to-back pass over its bytes, refusing
// hostile archives (the rules live in archive-rules.ts and extract-plan.ts). The central directory
// is read first, from the archive's tail (zip-directory.ts), and every name, path, kind and declared
// size is checked before any entry data is read; the body then streams past once, in file order, so
// an S3 download (ranged-zip.ts) overlaps with extraction and needs no staging file. Each entry's
// raw bytes pass through its own meter, inflater and CRC, so limits and ratios use real bytes and
// not headers.
//
// Speed comes from doing fewer, bigger things: reads of 1 MiB (or whatever the socket delivers),
// small deflated entries inflated in one call, large ones by a stream with 256 KiB output chunks,
// writes gathered into 1 MiB writev calls, and several files written at once (each file's open,
// writes, times and close are still strictly ordered; file-writer.ts), so the libuv pool works
// while this thread parses and inflates. Memory stays bounded: file-writer.ts caps what is
// accepted but not yet written.

import { readFileSync, type Stats } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, open, readdir, realpath, rm, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { ExtractLimits } from '../types.js';
import { JobFailure } from '../types.js';
import { checkSymlink, detectArchiveFormat, ExtractionBudget, HostileArchive, notZipMessage, quoteName, type EntryMeter } from './archive-rules.js';
import { planExtraction, planSegments, ZIP_METHOD_STORED, MAX_SYMLINK_TARGET_BYTES, type ExtractionPlan, type PlannedDirectory, type PlannedEntry, type PlannedFile, type PlannedSymlink, type Segment } from './extract-plan.js';
import { ByteCursor } from './byte-cursor.js';
import { FileWriter, SYNC_WRITE_MAX_BYTES, type OutputFile } from './file-writer.js';
import { crc32Portable, LOCAL_HEADER_SIZE, readCentralDirectory, readEndRecords, readLocalHeader, type ArchiveWindow } from './zip-directory.js';

const KIB = 1024;
const MIB = 1024 * KIB;
/** How much of an archive's end is read first: the end records, usually the whole central
 *  directory, and all of an archive this small (so small artifacts take one read). */
export const TAIL_BYTES = 4 * MIB;
/** The largest central directory read (about 500,000 entries with 80-byte names). */
const MAX_DIRECTORY_BYTES = 64 * MIB;
/** Reads from a file on disk. */
const READ_CHUNK = 1 * MIB;
/** Folder and symlink operations in flight at once (the libuv pool has four threads). */
const FS_CONCURRENCY = 8;
/** Deflated entries up to these sizes are inflated in one synchronous call (a few ms at most). */
const ONE_SHOT_COMPRESSED = 256 * KIB;
const ONE_SHOT_UNCOMPRESSED = 1 * MIB;
/** Output chunks of the streaming inflater for larger entries. */
const INFLATE_CHUNK = 256 * KIB;

// zlib.crc32 arrived in Node 20.15; older 20.x computes it in JavaScript (slower), so every entry is
// still checked: ranged GETs carry no checksum of the object, the entries' CRCs are the check.
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32 ?? crc32Portable;

export interface ExtractOptions {
  readonly artifact: string;
  readonly limits: ExtractLimits;
  readonly signal: AbortSignal;
}

export interface ExtractResult {
  /** Regular files and symlinks written. */
  readonly files: number;
  /** Uncompressed bytes written. */
  readonly bytes: number;
}

/** An archive's bytes: its size, its tail already in memory, and any earlier range on demand. */
export interface ZipSource {
  readonly size: number;
  /** The archive's end: all of it, or at least its last END_RECORDS_MAX_BYTES (TAIL_BYTES is what
   *  the sources here read first). */
  readonly tail: ArchiveWindow;
  /** Bytes [start, end) in order, in chunks of any size; `end` is at most `tail.start`. Several
   *  ranges may be read at once; `signal` ends a read early. */
  read(start: number, end: number, signal: AbortSignal): AsyncIterable<Buffer>;
  /** Whether to read several ranges at once (S3: a connection each), and in stretches of at least
   *  how many bytes; by default one stream reads everything. */
  readonly streams?: { readonly count: number; readonly minBytes: number };
}

/**
 * Extracts the ZIP file `zipPath` into `directory`, which must be empty (or absent). On any refusal
 * or error the directory is emptied again, so a half-extracted hostile archive never reaches a plugin.
 */
export async function extractZip(zipPath: string, directory: string, options: ExtractOptions): Promise<ExtractResult> {
  const handle = await open(zipPath, 'r');
  try {
    return await extractArchive(await fileSource(handle), directory, options);
  } finally {
    await handle.close();
  }
}

/** Like extractZip, from any source (ranged-zip.ts streams one from S3). */
export async function extractArchive(source: ZipSource, directory: string, options: ExtractOptions): Promise<ExtractResult> {
  await mkdir(directory, { recursive: true });
  const root = await realpath(directory);
  if ((await readdir(root)).length > 0) throw new Error(`extractZip needs an empty directory (input artifact ${options.artifact})`);
  try {
    return await extractInto(source, root, options);
  } catch (error) {
    await emptyDirectory(root);
    throw asExtractionError(error, options);
  }
}

async function fileSource(handle: FileHandle): Promise<ZipSource> {
  const { size } = await handle.stat();
  const tail = Buffer.allocUnsafe(Math.min(size, TAIL_BYTES));
  await readFully(handle, tail, size - tail.length);
  return { size, tail: { start: size - tail.length, bytes: tail }, read: (start, end) => readFileRange(handle, start, end) };
}

async function readFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buffer.length; ) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw Object.assign(new Error('the file ended early (was it truncated while being read?)'), { code: 'EIO' });
    done += bytesRead;
  }
}

/** 1 MiB reads, the next one already in flight while the caller works on the last. */
async function* readFileRange(handle: FileHandle, start: number, end: number): AsyncGenerator<Buffer> {
  let position = start;
  const readNext = (): Promise<Buffer> | undefined => {
    if (position >= end) return undefined;
    const chunk = Buffer.allocUnsafeSlow(Math.min(READ_CHUNK, end - position));
    const read = readFully(handle, chunk, position).then(() => chunk);
    position += chunk.length;
    return read;
  };
  let pending = readNext();
  try {
    while (pending) {
      const chunk = await pending;
      pending = readNext();
      yield chunk;
    }
  } finally {
    await pending?.catch(() => undefined);
  }
}

async function emptyDirectory(root: string): Promise<void> {
  // rm does not follow symlinks, so this only ever deletes what extraction created below root.
  for (const child of await readdir(root)) await rm(join(root, child), { recursive: true, force: true });
}

function asExtractionError(error: unknown, options: ExtractOptions): unknown {
  if (error instanceof JobFailure) return error;
  if (options.signal.aborted) return options.signal.reason ?? error;
  const code = (error as { code?: unknown }).code;
  // Plain errno codes (ENOSPC, EACCES, ENAMETOOLONG) are the workspace's problem: the caller maps them.
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return error;
  // Everything else is zlib finding the data malformed.
  const detail = error instanceof Error ? error.message : String(error);
  return new HostileArchive('corrupt', `input artifact ${options.artifact} is not a valid ZIP file: ${detail.slice(0, 300)}`);
}

function corrupt(artifact: string, why: string): HostileArchive {
  return new HostileArchive('corrupt', `input artifact ${artifact} is not a valid ZIP file: ${why}`);
}

/** Bytes [start, end) of the archive, from the source and then from the window already in memory. */
async function* archiveBytes(source: ZipSource, window: ArchiveWindow, start: number, end: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  if (start < window.start) yield* source.read(start, Math.min(end, window.start), signal);
  if (end > window.start) yield window.bytes.subarray(Math.max(start, window.start) - window.start, end - window.start);
}

async function readWindow(source: ZipSource, window: ArchiveWindow, start: number, end: number, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of archiveBytes(source, window, start, end, signal)) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  if (bytes.length !== end - start) throw new Error(`read ${bytes.length} bytes of the archive's ${end - start} from offset ${start}`);
  return bytes;
}

/** Grows the window in memory down to `from`. */
async function extendWindow(source: ZipSource, window: ArchiveWindow, from: number, signal: AbortSignal): Promise<ArchiveWindow> {
  if (from >= window.start) return window;
  return { start: from, bytes: Buffer.concat([await readWindow(source, window, from, window.start, signal), window.bytes]) };
}

function umaskOf(): number | undefined {
  // Read from /proc: process.umask() with no argument sets the umask to 0 for a moment, which could
  // give a file created meanwhile by another thread the wrong permissions.
  try {
    const match = /^Umask:\s+([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number.parseInt(match[1] as string, 8) : undefined;
  } catch {
    return undefined;
  }
}

async function extractInto(source: ZipSource, root: string, options: ExtractOptions): Promise<ExtractResult> {
  const { artifact, limits, signal } = options;
  const { plan, window, budget } = await readPlan(source, artifact, limits, signal);
  signal.throwIfAborted();

  // Parents before children: one depth at a time, the folders of a depth at once.
  for (const level of byDepth(plan.directories)) {
    await eachBounded(level, FS_CONCURRENCY, (directory) => mkdir(join(root, directory.path), { mode: directory.fromEntry ? 0o700 : 0o755 }));
  }

  // The first failure, a stream's or a file's, stops every stream (and its request) at once, not at
  // its next chunk.
  const stop = new AbortController();
  const streams = AbortSignal.any([signal, stop.signal]);
  const writer = new FileWriter(umaskOf(), (error) => stop.abort(error));
  const links = new Map<string, string>();
  const symlinks: Array<{ readonly entry: PlannedSymlink; readonly target: string }> = [];
  const segments = planSegments(plan.entries, source.streams?.count ?? 1, source.streams?.minBytes ?? Number.MAX_SAFE_INTEGER);
  await Promise.allSettled(
    segments.map(async (segment) => {
      try {
        await extractSegment(segment, { source, window, root, artifact, budget, writer, signal: streams }, (entry, target) => {
          links.set(entry.path, target);
          symlinks.push({ entry, target });
        });
      } catch (error) {
        writer.fail(error);
      }
    }),
  );
  await writer.settle();
  writer.throwIfFailed();

  // Symlinks last, once every target is known: one that stays inside on its own can still leave
  // through another. None exists while files are written, so no write can pass through one.
  for (const { entry, target } of symlinks) checkSymlink(artifact, entry.entry.name, entry.segments, target, links);
  await eachBounded(symlinks, FS_CONCURRENCY, async ({ entry, target }) => {
    const absolute = join(root, entry.path);
    await symlink(target, absolute);
    if (entry.mtime) await lutimes(absolute, entry.mtime, entry.mtime);
  });

  // Directory modes and times last: adding entries changes a directory's mtime, and a read-only
  // mode would have stopped us filling it. Deepest first, so a parent's time is set after its child.
  for (const level of byDepth(plan.directories.filter((directory) => directory.fromEntry)).reverse()) {
    await eachBounded(level, FS_CONCURRENCY, async (directory) => {
      const absolute = join(root, directory.path);
      const stats: Stats = await lstat(absolute);
      if (!stats.isDirectory()) return;
      await chmod(absolute, directory.mode);
      if (directory.mtime) await utimes(absolute, directory.mtime, directory.mtime);
    });
  }
  return { files: plan.entries.length, bytes: budget.totalBytes };
}

/** Directories grouped by depth, shallowest first. */
function byDepth(directories: readonly PlannedDirectory[]): PlannedDirectory[][] {
  const levels: PlannedDirectory[][] = [];
  for (const directory of directories) (levels[directory.path.split('/').length - 1] ??= []).push(directory);
  return levels.filter((level) => level.length > 0);
}

/** Runs `work` over `items`, at most `limit` at once; waits for every started one before throwing
 *  the first error, so nothing is still being created while the caller cleans up. */
async function eachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failure) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(runners);
  if (failure) throw failure.error;
}

/** The end records and central directory, from the tail (and more of the end if they need it),
 *  checked and planned before any entry data is read. */
async function readPlan(source: ZipSource, artifact: string, limits: ExtractLimits, signal: AbortSignal): Promise<{ plan: ExtractionPlan; window: ArchiveWindow; budget: ExtractionBudget }> {
  let window = source.tail;
  if (window.start === 0) refuseIfNotZip(window.bytes, artifact);
  let records = readEndRecords(window, source.size, artifact);
  if ('needFrom' in records) {
    if (window.start - records.needFrom > MAX_DIRECTORY_BYTES) throw corrupt(artifact, `its ZIP64 end record at offset ${records.needFrom} is far from its end`);
    window = await extendWindow(source, window, records.needFrom, signal);
    records = readEndRecords(window, source.size, artifact);
  }
  if ('missing' in records) {
    refuseIfNotZip(window.start === 0 ? window.bytes : await readWindow(source, window, 0, Math.min(4, source.size), signal), artifact);
    throw corrupt(artifact, 'it has no end of central directory record (is it truncated?)');
  }
  if (!('found' in records)) throw corrupt(artifact, 'its ZIP64 end record is not where its locator says');
  const end = records.found;
  const budget = new ExtractionBudget(artifact, limits, source.size);
  budget.checkEntryCount(end.entryCount);
  if (end.directorySize > MAX_DIRECTORY_BYTES) {
    throw new HostileArchive('too-many-entries', `input artifact ${artifact}: refused: its central directory is ${end.directorySize} bytes, more than cpsync reads (${MAX_DIRECTORY_BYTES})`);
  }
  window = await extendWindow(source, window, end.directoryOffset, signal);
  const plan = planExtraction(artifact, readCentralDirectory(window, end, artifact), end.directoryOffset, budget);
  return { plan, window, budget };
}

interface SegmentContext {
  readonly source: ZipSource;
  readonly window: ArchiveWindow;
  readonly root: string;
  readonly artifact: string;
  readonly budget: ExtractionBudget;
  readonly writer: FileWriter;
  readonly signal: AbortSignal;
}

/** Streams one stretch of the archive front to back, writing its files and collecting its symlinks. */
async function extractSegment(segment: Segment, context: SegmentContext, onSymlink: (entry: PlannedSymlink, target: string) => void): Promise<void> {
  const { source, window, root, artifact, budget, writer, signal } = context;
  const cursor = new ByteCursor(archiveBytes(source, window, segment.start, segment.end, signal), segment.start, artifact, signal);
  try {
    // The first bytes say whether this is a ZIP at all (a valid-looking tail on something else).
    const first = segment.entries[0]?.entry.localHeaderOffset ?? 0;
    if (segment.start === 0 && first >= 4) refuseIfNotZip(await cursor.read(4), artifact);
    for (const planned of segment.entries) {
      signal.throwIfAborted();
      writer.throwIfFailed();
      await cursor.skipTo(planned.entry.localHeaderOffset);
      const header = await cursor.read(LOCAL_HEADER_SIZE);
      if (planned.entry.localHeaderOffset === 0) refuseIfNotZip(header, artifact);
      const { variableLength } = readLocalHeader(header, planned.entry.localHeaderOffset, planned.entry.name, artifact);
      await cursor.skip(variableLength);
      const dataEnd = cursor.position + planned.entry.compressedSize;
      if (dataEnd > planned.limit) {
        throw new HostileArchive(
          'overlapping-entries',
          `input artifact ${artifact}: refused entry ${quoteName(planned.entry.name)}: its data (to offset ${dataEnd}) runs into the next entry or the central directory at offset ${planned.limit}`,
        );
      }
      const meter = budget.meter(planned.entry.name, planned.entry.uncompressedSize);
      if (planned.kind === 'symlink') {
        onSymlink(planned, (await readSmallEntry(cursor, planned, meter, artifact)).toString('utf8'));
        continue;
      }
      if (isSmallFile(planned)) {
        writer.writeWhole(join(root, planned.path), planned.mode, planned.mtime, await readSmallEntry(cursor, planned, meter, artifact));
        await writer.pace();
        continue;
      }
      if (writer.needsRoom(true)) await writer.room(true);
      await writeFileEntry(cursor, planned, meter, writer.create(join(root, planned.path), planned.mode, planned.mtime), artifact, signal);
    }
  } finally {
    await cursor.close();
  }
}

function refuseIfNotZip(head: Buffer, artifact: string): void {
  const format = detectArchiveFormat(head.subarray(0, 4));
  if (format !== 'zip' && format !== 'empty-zip') throw new HostileArchive('not-zip', notZipMessage(artifact, format));
}

function checkCrc(planned: PlannedEntry, crc: number, artifact: string): void {
  if (crc >>> 0 !== planned.entry.crc32 >>> 0) {
    throw new HostileArchive('corrupt', `input artifact ${artifact}: refused entry ${quoteName(planned.entry.name)}: its CRC-32 does not match its data (the archive is corrupt)`);
  }
}

/** A file read whole into memory and written synchronously (file-writer.ts says why). The
 *  compressed size is bounded too: a stored entry may claim a small size over a large body. */
function isSmallFile(planned: PlannedFile): boolean {
  return planned.entry.uncompressedSize <= SYNC_WRITE_MAX_BYTES && planned.entry.compressedSize <= ONE_SHOT_COMPRESSED;
}

/** An entry small enough to have whole in memory (inflated in one call if deflated), or a
 *  symlink's target. */
async function readSmallEntry(cursor: ByteCursor, planned: PlannedEntry, meter: EntryMeter, artifact: string): Promise<Buffer> {
  const { compressedSize, uncompressedSize, method } = planned.entry;
  if (planned.kind === 'symlink' && compressedSize > 2 * MAX_SYMLINK_TARGET_BYTES) {
    throw new HostileArchive('symlink-target', `input artifact ${artifact}: refused entry ${quoteName(planned.entry.name)}: its symlink target takes ${compressedSize} bytes, more than a target of ${MAX_SYMLINK_TARGET_BYTES} bytes needs`);
  }
  const raw = await cursor.read(compressedSize);
  meter.consumed(raw.length);
  let data = raw;
  if (method !== ZIP_METHOD_STORED) {
    try {
      // One byte over the declared size is enough to show the entry lies, and bounds the memory.
      data = zlib.inflateRawSync(raw, { maxOutputLength: uncompressedSize + 1, chunkSize: Math.max(64, uncompressedSize + 1) });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') meter.produced(uncompressedSize + 1);
      throw error;
    }
  }
  meter.produced(data.length);
  meter.end();
  checkCrc(planned, crc32(data), artifact);
  return data;
}

async function writeFileEntry(cursor: ByteCursor, planned: PlannedFile, meter: EntryMeter, out: OutputFile, artifact: string, signal: AbortSignal): Promise<void> {
  const { compressedSize, uncompressedSize, method } = planned.entry;
  let crc = 0;
  const accept = async (chunk: Buffer): Promise<void> => {
    meter.produced(chunk.length);
    crc = crc32(chunk, crc);
    await out.write(chunk);
  };
  if (method === ZIP_METHOD_STORED) {
    for (let remaining = compressedSize; remaining > 0; ) {
      const chunk = await cursor.take(remaining);
      remaining -= chunk.length;
      meter.consumed(chunk.length);
      await accept(chunk);
    }
    meter.end();
    checkCrc(planned, crc, artifact);
  } else if (compressedSize <= ONE_SHOT_COMPRESSED && uncompressedSize <= ONE_SHOT_UNCOMPRESSED) {
    await out.write(await readSmallEntry(cursor, planned, meter, artifact));
  } else {
    await pipeline(
      async function* compressed() {
        for (let remaining = compressedSize; remaining > 0; ) {
          const chunk = await cursor.take(remaining);
          remaining -= chunk.length;
          meter.consumed(chunk.length);
          yield chunk;
        }
      },
      zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK }),
      async (inflated: AsyncIterable<Buffer>) => {
        for await (const chunk of inflated) await accept(chunk);
      },
      { signal },
    );
    meter.end();
    checkCrc(planned, crc, artifact);
  }
  out.end();
}
