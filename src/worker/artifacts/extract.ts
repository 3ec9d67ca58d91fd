// Extracts a ZIP file already on disk into an empty directory, refusing hostile archives (the rules
// live in archive-rules.ts). Every entry streams to disk with bounded memory: yauzl reads the
// central directory with random access (hence a file, not the S3 stream), each entry's raw bytes
// pass through our own counter, inflater and budget, so ratios use real bytes and not headers.

import { constants, type Stats } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, open, readdir, realpath, rm, stat, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import yauzl from 'yauzl';
import type { ExtractLimits } from '../types.js';
import { JobFailure } from '../types.js';
import { checkSymlink, entryShape, EntryTree, ExtractionBudget, HostileArchive, normalizeEntryPath, quoteName, type EntryShape } from './archive-rules.js';

const MAX_SYMLINK_TARGET_BYTES = 4096; // PATH_MAX
const ZIP_METHOD_STORED = 0;
const ZIP_METHOD_DEFLATED = 8;
const ZIP_FLAG_ENCRYPTED = 0x1;
const ZIP_FLAG_STRONG_ENCRYPTION = 0x40;
const ZIP_METHOD_AES = 99;

// zlib.crc32 arrived in Node 20.15; on older 20.x the CRC is not checked (S3 already verifies the
// object's checksum in transit, so this only catches archives that were corrupt when made).
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

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

/**
 * Extracts `zipPath` into `directory`, which must be empty (or absent). On any refusal or error the
 * directory is emptied again, so a half-extracted hostile archive never reaches a plugin.
 */
export async function extractZip(zipPath: string, directory: string, options: ExtractOptions): Promise<ExtractResult> {
  await mkdir(directory, { recursive: true });
  const root = await realpath(directory);
  if ((await readdir(root)).length > 0) throw new Error(`extractZip needs an empty directory (input artifact ${options.artifact})`);
  try {
    return await extractInto(zipPath, root, options);
  } catch (error) {
    await emptyDirectory(root);
    throw asExtractionError(error, options);
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
  // Everything else is yauzl or zlib finding the archive malformed.
  const detail = error instanceof Error ? error.message : String(error);
  return new HostileArchive('corrupt', `input artifact ${options.artifact} is not a valid ZIP file: ${detail.slice(0, 300)}`);
}

interface PendingDirectory {
  readonly path: string;
  readonly mode: number;
  readonly mtime: Date | undefined;
}

async function extractInto(zipPath: string, root: string, options: ExtractOptions): Promise<ExtractResult> {
  const { artifact, limits, signal } = options;
  const archiveBytes = (await stat(zipPath)).size;
  const budget = new ExtractionBudget(artifact, limits, archiveBytes);
  const tree = new EntryTree();
  const directories: PendingDirectory[] = [];
  let files = 0;

  // decodeStrings: false keeps yauzl from rejecting names with its own terse messages; the same
  // decoding (UTF-8 flag, Info-ZIP Unicode path field) is applied below with backslashes kept, so
  // our rules see exactly what a Windows reader would.
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true });
  try {
    budget.checkEntryCount(zip.entryCount);
    for await (const entry of zip.eachEntry()) {
      signal.throwIfAborted();
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, true);
      budget.startEntry(name, entry.uncompressedSize);
      if ((entry.generalPurposeBitFlag & (ZIP_FLAG_ENCRYPTED | ZIP_FLAG_STRONG_ENCRYPTION)) !== 0 || entry.compressionMethod === ZIP_METHOD_AES) {
        throw new HostileArchive('encrypted', `input artifact ${artifact}: refused entry ${quoteName(name)}: it is encrypted, and cpsync has no password to decrypt it`);
      }
      const { segments, isDirectory } = normalizeEntryPath(artifact, name);
      const shape = entryShape(entry.externalFileAttributes, isDirectory);
      if (shape.kind !== 'directory' && entry.compressionMethod !== ZIP_METHOD_STORED && entry.compressionMethod !== ZIP_METHOD_DEFLATED) {
        throw new HostileArchive('unsupported-compression', `input artifact ${artifact}: refused entry ${quoteName(name)}: compression method ${entry.compressionMethod} is not supported (only stored and deflate)`);
      }
      if (segments.length === 0) {
        if (shape.kind === 'directory') continue; // "./": the directory itself
        throw new HostileArchive('empty-name', `input artifact ${artifact}: refused entry ${quoteName(name)}: it names no file`);
      }
      const path = segments.join('/');
      const { missingParents, repeatsDirectory } = tree.admit(artifact, name, segments, shape.kind);
      for (const parent of missingParents) {
        await mkdir(join(root, parent), { mode: 0o755 });
        tree.record(parent, 'directory');
      }
      const mtime = validDate(entry.getLastModDate());
      const absolute = join(root, ...segments);

      if (shape.kind === 'directory') {
        if (!repeatsDirectory) {
          await mkdir(absolute, { mode: 0o700 });
          tree.record(path, 'directory');
        }
        directories.push({ path: absolute, mode: shape.mode, mtime });
        continue;
      }
      if (shape.kind === 'symlink') {
        const target = await readSymlinkTarget(zip, entry, budget, name, artifact, signal);
        checkSymlink(artifact, name, segments, target, tree.links);
        await symlink(target, absolute);
        tree.record(path, 'symlink', target);
        if (mtime) await lutimes(absolute, mtime, mtime);
        files += 1;
        continue;
      }
      await writeFileEntry(zip, entry, budget, absolute, shape, mtime, name, artifact, signal);
      tree.record(path, 'file');
      files += 1;
    }
  } finally {
    zip.close();
  }

  // A symlink that stays inside on its own can still leave through a symlink extracted after it.
  for (const [path, target] of tree.links) checkSymlink(artifact, path, path.split('/'), target, tree.links);

  // Directory modes and times last: adding entries changes a directory's mtime, and a read-only
  // mode would have stopped us filling it. Deepest first, so a parent's time is set after its child.
  directories.sort((a, b) => b.path.length - a.path.length);
  for (const directory of directories) {
    const stats: Stats = await lstat(directory.path);
    if (!stats.isDirectory()) continue;
    await chmod(directory.path, directory.mode);
    if (directory.mtime) await utimes(directory.path, directory.mtime, directory.mtime);
  }
  return { files, bytes: budget.totalBytes };
}

function validDate(date: Date): Date | undefined {
  return Number.isFinite(date.getTime()) ? date : undefined;
}

/** Raw bytes → counter → (inflate) → budget and CRC → sink. Memory stays at a few stream buffers. */
async function streamEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, budget: ExtractionBudget, sink: Writable, name: string, artifact: string, signal: AbortSignal): Promise<void> {
  const raw: Readable = await zip.openReadStreamPromise(entry, { decodeFileData: false });
  const countIn = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      budget.consumed(chunk.length);
      callback(null, chunk);
    },
  });
  let crc = 0;
  const countOut = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        budget.produced(chunk.length);
        if (crc32) crc = crc32(chunk, crc);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  const stages = entry.compressionMethod === ZIP_METHOD_DEFLATED ? [raw, countIn, zlib.createInflateRaw(), countOut, sink] : [raw, countIn, countOut, sink];
  await pipeline(stages, { signal });
  budget.endEntry();
  if (crc32 && crc >>> 0 !== entry.crc32 >>> 0) {
    throw new HostileArchive('corrupt', `input artifact ${artifact}: refused entry ${quoteName(name)}: its CRC-32 does not match its data (the archive is corrupt)`);
  }
}

async function writeFileEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  budget: ExtractionBudget,
  absolute: string,
  shape: EntryShape,
  mtime: Date | undefined,
  name: string,
  artifact: string,
  signal: AbortSignal,
): Promise<void> {
  // O_EXCL | O_NOFOLLOW: never reuse or follow anything already at the path, whatever the checks said.
  const handle = await open(absolute, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await streamEntry(zip, entry, budget, writerFor(handle), name, artifact, signal);
    await handle.chmod(shape.mode);
    if (mtime) await handle.utimes(mtime, mtime);
  } finally {
    await handle.close();
  }
}

/** A Writable over a FileHandle that leaves the handle open: fs.WriteStream closes its fd when it is
 *  destroyed (even with autoClose: false), and the handle must outlive the data for chmod/utimes. */
function writerFor(handle: FileHandle): Writable {
  return new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      void (async () => {
        for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
      })().then(() => callback(), callback);
    },
  });
}

async function readSymlinkTarget(zip: yauzl.ZipFile, entry: yauzl.Entry, budget: ExtractionBudget, name: string, artifact: string, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > MAX_SYMLINK_TARGET_BYTES) {
        return callback(new HostileArchive('symlink-target', `input artifact ${artifact}: refused entry ${quoteName(name)}: its symlink target is longer than ${MAX_SYMLINK_TARGET_BYTES} bytes`));
      }
      chunks.push(chunk);
      callback();
    },
  });
  await streamEntry(zip, entry, budget, collect, name, artifact, signal);
  return Buffer.concat(chunks).toString('utf8');
}
