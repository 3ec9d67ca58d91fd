// Copying a folder or a file for the bundled plugins, in fewer system calls than `fs.cp`, and
// without a thread-pool round trip for each small one.
//
// `fs.cp` stats every path several times (source, destination, parents) before it copies; for a
// job's small output tree that was most of the plugin's time. And each asynchronous fs call is a
// round trip to libuv's thread pool that costs several times the call itself (bench/worker: a
// dozen small files took ~5 ms copied with async copyFile, ~1 ms with the same calls made
// directly). So the walk and small files are synchronous, and the event loop gets a turn every
// SLICE_ENTRIES entries or SLICE_BYTES copied; a file over SYNC_COPY_MAX_BYTES is copied on the
// pool, so no single call holds the loop for long.
//
// What is kept from the `fs.cp(..., { verbatimSymlinks: true, force: true })` this replaces:
// symlinks are copied as links with their target text unchanged (never followed, so a link cannot
// pull a file from outside the workspace into an artifact), files overwrite files and keep their
// mode (libuv's copyfile copies it), folders are merged. Sockets, FIFOs and devices are refused by
// name, as `fs.cp` refuses them. Nothing is ever written through a symlink already at the
// destination (a tool may plant one in an output folder): it is replaced, or, where a folder is
// expected, refused.

import { chmodSync, constants, copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, unlinkSync, type Stats } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pacer } from '../../src/util/pacer.js';

/** Files up to this size are copied synchronously (in the kernel: copy_file_range). */
const SYNC_COPY_MAX_BYTES = 1024 * 1024;
/** The event loop gets a turn after this many entries or bytes copied synchronously. */
const SLICE_ENTRIES = 64;
const SLICE_BYTES = 4 * 1024 * 1024;

/** Copies `source` (a file, a symlink or a folder's whole tree) to `destination`. */
export async function copyTree(source: string, destination: string): Promise<void> {
  await copyEntry(source, destination, lstatSync(source), new Pacer(SLICE_ENTRIES, SLICE_BYTES));
}

async function copyEntry(source: string, destination: string, stats: Stats, pacer: Pacer): Promise<void> {
  await pacer.pace();
  pacer.count(stats.isFile() && stats.size <= SYNC_COPY_MAX_BYTES ? stats.size : 0);
  if (stats.isDirectory()) {
    const created = makeFolder(destination);
    for (const name of readdirSync(source)) await copyEntry(join(source, name), join(destination, name), lstatSync(join(source, name)), pacer);
    // A new folder gets the source's mode once its contents are in (a read-only one could not be
    // filled otherwise); a folder merged into keeps its own.
    if (created) chmodSync(destination, stats.mode & 0o7777);
  } else if (stats.isFile()) {
    if (stats.size <= SYNC_COPY_MAX_BYTES) {
      replacing(destination, () => copyFileSync(source, destination, constants.COPYFILE_EXCL));
    } else {
      await replacingAsync(destination, () => copyFile(source, destination, constants.COPYFILE_EXCL));
    }
  } else if (stats.isSymbolicLink()) {
    const target = readlinkSync(source);
    replacing(destination, () => symlinkSync(target, destination));
  } else {
    throw new Error(`cannot copy ${source}: it is not a file, folder or symlink (a socket, FIFO or device)`);
  }
}

/** Creates `destination` with `create`, which must fail with EEXIST rather than overwrite: a file
 *  or link already there is removed and the creation retried; a folder in the way is an error. */
function replacing(destination: string, create: () => void): void {
  try {
    return create();
  } catch (error) {
    if (!clearFor(destination, error)) throw error;
  }
  create();
}

async function replacingAsync(destination: string, create: () => Promise<void>): Promise<void> {
  try {
    return await create();
  } catch (error) {
    if (!clearFor(destination, error)) throw error;
  }
  await create();
}

/** After `error` from an exclusive create: removes the file or link in the way and returns true;
 *  false for any other error. */
function clearFor(destination: string, error: unknown): boolean {
  if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  if (lstatSync(destination).isDirectory()) throw new Error(`cannot copy over ${destination}: a folder is in the way`);
  unlinkSync(destination);
  return true;
}

/** A folder to copy into: created (true), or an existing real folder to merge into (false);
 *  never a symlink. */
function makeFolder(destination: string): boolean {
  try {
    mkdirSync(destination);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!lstatSync(destination).isDirectory()) throw new Error(`cannot copy a folder to ${destination}: something that is not a folder is in the way`);
    return false;
  }
}
