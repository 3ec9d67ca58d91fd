// What extracting an archive will do, decided from its central directory alone, before any entry
// data is read and before anything is written: every name, kind, mode, path and size rule of
// archive-rules.ts is applied here, so a hostile name or layout is refused without downloading the
// body. The extractor then only streams bytes into the files this plan admitted. Pure.

import { entryShape, EntryTree, normalizeEntryPath, orderEntries, refuse, type ExtractionBudget } from './archive-rules.js';
import type { DirectoryEntry } from './zip-directory.js';

export const ZIP_METHOD_STORED = 0;
export const ZIP_METHOD_DEFLATED = 8;
const ZIP_FLAG_ENCRYPTED = 0x1;
const ZIP_FLAG_STRONG_ENCRYPTION = 0x40;
const ZIP_METHOD_AES = 99;
/** PATH_MAX: the longest symlink target accepted. */
export const MAX_SYMLINK_TARGET_BYTES = 4096;

export interface PlannedDirectory {
  /** Path below the artifact directory, '/'-separated. */
  readonly path: string;
  /** Created as 0700 and given `mode` at the end (an entry of its own), or created 0755 (a parent only). */
  readonly fromEntry: boolean;
  readonly mode: number;
  readonly mtime: Date | undefined;
}

interface PlannedData {
  readonly entry: DirectoryEntry;
  readonly path: string;
  readonly mtime: Date | undefined;
  /** Where the next entry (or the central directory) starts: this entry's bytes must end by then. */
  readonly limit: number;
}
export interface PlannedFile extends PlannedData {
  readonly kind: 'file';
  readonly mode: number;
}
export interface PlannedSymlink extends PlannedData {
  readonly kind: 'symlink';
  readonly segments: readonly string[];
}
export type PlannedEntry = PlannedFile | PlannedSymlink;

export interface ExtractionPlan {
  /** Every directory, parents before children. */
  readonly directories: readonly PlannedDirectory[];
  /** Files and symlinks in the order their data lies in the archive. */
  readonly entries: readonly PlannedEntry[];
}

/** Checks every entry against the rules and the budget's declared limits, in archive order. */
export function planExtraction(artifact: string, entries: readonly DirectoryEntry[], directoryOffset: number, budget: ExtractionBudget): ExtractionPlan {
  budget.checkEntryCount(entries.length);
  const ordered = orderEntries(artifact, entries, directoryOffset);
  const tree = new EntryTree();
  const directories = new Map<string, PlannedDirectory>();
  const planned: PlannedEntry[] = [];
  ordered.forEach((entry, index) => {
    const { name } = entry;
    const limit = ordered[index + 1]?.localHeaderOffset ?? directoryOffset;
    budget.declare(name, entry.uncompressedSize);
    if ((entry.flags & (ZIP_FLAG_ENCRYPTED | ZIP_FLAG_STRONG_ENCRYPTION)) !== 0 || entry.method === ZIP_METHOD_AES) {
      throw refuse(artifact, 'encrypted', name, 'it is encrypted, and cpsync has no password to decrypt it');
    }
    const { segments, isDirectory } = normalizeEntryPath(artifact, name);
    const shape = entryShape(entry.externalAttributes, isDirectory);
    if (shape.kind !== 'directory') {
      if (entry.method !== ZIP_METHOD_STORED && entry.method !== ZIP_METHOD_DEFLATED) {
        throw refuse(artifact, 'unsupported-compression', name, `compression method ${entry.method} is not supported (only stored and deflate)`);
      }
      if (entry.method === ZIP_METHOD_STORED && entry.compressedSize !== entry.uncompressedSize) {
        throw refuse(artifact, 'size-mismatch', name, `it is stored (not compressed) in ${entry.compressedSize} bytes but declares ${entry.uncompressedSize}`);
      }
    }
    if (segments.length === 0) {
      if (shape.kind === 'directory') return; // "./": the directory itself
      throw refuse(artifact, 'empty-name', name, 'it names no file');
    }
    const path = segments.join('/');
    const { missingParents, repeatsDirectory } = tree.admit(artifact, name, segments, shape.kind);
    for (const parent of missingParents) {
      tree.record(parent, 'directory');
      directories.set(parent, { path: parent, fromEntry: false, mode: 0o755, mtime: undefined });
    }
    if (shape.kind === 'directory') {
      if (!repeatsDirectory) tree.record(path, 'directory');
      // A repeated or late directory entry keeps its place (parents first) and takes the entry's mode.
      directories.set(path, { path, fromEntry: true, mode: shape.mode, mtime: entry.lastModified });
      return;
    }
    tree.record(path, shape.kind);
    if (shape.kind === 'symlink') {
      if (entry.uncompressedSize > MAX_SYMLINK_TARGET_BYTES) {
        throw refuse(artifact, 'symlink-target', name, `its symlink target is longer than ${MAX_SYMLINK_TARGET_BYTES} bytes`);
      }
      planned.push({ kind: 'symlink', entry, path, segments, mtime: entry.lastModified, limit });
      return;
    }
    planned.push({ kind: 'file', entry, path, mode: shape.mode, mtime: entry.lastModified, limit });
  });
  return { directories: [...directories.values()], entries: planned };
}

/** A stretch of the archive read by one stream: [start, end) holds `entries`, in file order. */
export interface Segment {
  readonly start: number;
  readonly end: number;
  readonly entries: readonly PlannedEntry[];
}

/**
 * Splits the entries into at most `streams` stretches of about equal bytes, each at least
 * `minBytes` long, cut between entries. Entries are independent once planned (every directory
 * exists first, symlinks come last), so the stretches may be extracted at once. The first starts at
 * offset 0, where the archive's first bytes say whether it is a ZIP at all.
 */
export function planSegments(entries: readonly PlannedEntry[], streams: number, minBytes: number): Segment[] {
  const last = entries.at(-1);
  if (!last) return [];
  const count = Math.max(1, Math.min(Math.floor(streams), Math.floor(last.limit / minBytes)));
  const target = last.limit / count;
  const segments: Segment[] = [];
  let start = 0;
  let current: PlannedEntry[] = [];
  for (const entry of entries) {
    const offset = entry.entry.localHeaderOffset;
    if (current.length > 0 && segments.length < count - 1 && offset >= (segments.length + 1) * target) {
      segments.push({ start, end: offset, entries: current });
      start = offset;
      current = [];
    }
    current.push(entry);
  }
  segments.push({ start, end: last.limit, entries: current });
  return segments;
}
