// What a ZIP entry may be, decided without touching the disk: path normalization (zip-slip),
// symlink containment, Unix modes, and the size/ratio budget that stops zip bombs. The extractor
// and the zipper do the I/O and ask these functions; every refusal is a `HostileArchive` that
// names the entry and the rule, so the pipeline's owner sees what was wrong with the artifact.

import type { ExtractLimits } from '../types.js';
import { JobFailure } from '../types.js';

export const HOSTILE_RULES = [
  'not-zip',
  'corrupt',
  'nul-in-name',
  'empty-name',
  'absolute-path',
  'drive-letter',
  'escapes-directory',
  'symlink-outside',
  'symlink-loop',
  'symlink-target',
  'through-symlink',
  'duplicate-entry',
  'path-conflict',
  'too-many-entries',
  'too-large',
  'compression-ratio',
  'size-mismatch',
  'overlapping-entries',
  'encrypted',
  'unsupported-compression',
  'unsupported-file-type',
] as const;
export type HostileRule = (typeof HOSTILE_RULES)[number];

/** An archive (or output folder) cpsync refuses. Always JobFailed: the artifact is at fault. */
export class HostileArchive extends JobFailure {
  constructor(
    readonly rule: HostileRule,
    message: string,
  ) {
    super('JobFailed', message);
    this.name = 'HostileArchive';
  }
}

/** Entry names come from the archive: quote them, strip control characters and cap the length so a
 *  name cannot forge log lines or flood a failure message (5000 characters at most). */
export function quoteName(name: string): string {
  const printable = name.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return JSON.stringify(printable.length > 200 ? `${printable.slice(0, 200)}…` : printable);
}

/** A refusal that names the entry and says why. */
export function refuse(artifact: string, rule: HostileRule, entry: string, why: string): HostileArchive {
  return new HostileArchive(rule, `input artifact ${artifact}: refused entry ${quoteName(entry)}: ${why}`);
}

export interface NormalizedPath {
  /** Path segments below the artifact directory; empty for the directory itself (`./`). */
  readonly segments: readonly string[];
  /** The name ended with a separator. */
  readonly isDirectory: boolean;
}

/**
 * Normalizes an entry name to segments inside the target directory, or refuses it. Backslashes are
 * separators (Windows tools write them; a reader that kept them literal would let `..\x` through on
 * Windows). `.` and empty segments vanish and `a/../b` becomes `b`: only a `..` that would climb
 * above the directory is refused (JEN #32: `./a` is harmless and must extract).
 */
export function normalizeEntryPath(artifact: string, name: string): NormalizedPath {
  if (name.includes('\0')) throw refuse(artifact, 'nul-in-name', name, 'the name contains a NUL byte');
  const slashed = name.replace(/\\/g, '/');
  const viaBackslash = slashed !== name ? ' (backslash-separated)' : '';
  if (/^[a-zA-Z]:/.test(slashed)) throw refuse(artifact, 'drive-letter', name, `the path starts with a drive letter${viaBackslash}; entries must be relative`);
  if (slashed.startsWith('/')) throw refuse(artifact, 'absolute-path', name, `the path is absolute${viaBackslash}; entries must be relative`);
  const segments: string[] = [];
  for (const segment of slashed.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) throw refuse(artifact, 'escapes-directory', name, `its ".." segments${viaBackslash} climb out of the artifact directory`);
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  return { segments, isDirectory: slashed.endsWith('/') };
}

export type EntryKind = 'file' | 'directory' | 'symlink';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MSDOS_DIRECTORY = 0x10;

export interface EntryShape {
  readonly kind: EntryKind;
  /** Permission bits to apply (no setuid/setgid/sticky). */
  readonly mode: number;
}

/**
 * Kind and permissions from the central directory. Unix tools keep `st_mode` in the high 16 bits of
 * the external attributes (Info-ZIP's convention, which yazl follows); DOS tools leave them zero, and
 * then files get 0644 and directories 0755. Directories always keep u+rwx so extraction can fill
 * them and the workspace can be deleted; setuid, setgid and sticky bits are dropped.
 */
export function entryShape(externalFileAttributes: number, isDirectoryName: boolean): EntryShape {
  const unixMode = (externalFileAttributes >>> 16) & 0xffff;
  const type = unixMode & S_IFMT;
  const permissions = unixMode & 0o777;
  if (type === S_IFLNK) return { kind: 'symlink', mode: 0o777 };
  if (isDirectoryName || type === S_IFDIR || (externalFileAttributes & MSDOS_DIRECTORY) !== 0) {
    return { kind: 'directory', mode: (permissions || 0o755) | 0o700 };
  }
  return { kind: 'file', mode: permissions || 0o644 };
}

const MAX_SYMLINK_HOPS = 40; // Linux's MAXSYMLINKS

/**
 * Where a symlink at `linkSegments` pointing to `target` lands, following the other symlinks of the
 * tree the way the kernel would (lexical resolution alone is fooled by `a/b -> x` plus
 * `c -> a/b/../..`). Returns the segments of the resolved path, or why it does not stay inside.
 */
export function resolveSymlink(
  linkSegments: readonly string[],
  target: string,
  links: ReadonlyMap<string, string>,
): { readonly inside: readonly string[] } | { readonly problem: 'absolute' | 'escapes' | 'loop' } {
  if (target.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(target)) return { problem: 'absolute' };
  const resolved: string[] = [];
  let pending = [...linkSegments.slice(0, -1), ...target.split('/')];
  let hops = 0;
  while (pending.length > 0) {
    const segment = pending[0] as string;
    pending = pending.slice(1);
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (resolved.length === 0) return { problem: 'escapes' };
      resolved.pop();
      continue;
    }
    resolved.push(segment);
    const next = links.get(resolved.join('/'));
    if (next === undefined) continue;
    if (++hops > MAX_SYMLINK_HOPS) return { problem: 'loop' };
    if (next.startsWith('/')) return { problem: 'absolute' };
    resolved.pop();
    pending = [...next.split('/'), ...pending];
  }
  return { inside: resolved };
}

/** Refuses a symlink whose target leaves the directory (alone, or through other symlinks). */
export function checkSymlink(artifact: string, entryName: string, linkSegments: readonly string[], target: string, links: ReadonlyMap<string, string>): void {
  if (target === '' || target.includes('\0')) throw refuse(artifact, 'symlink-target', entryName, 'the symlink target is empty or contains a NUL byte');
  if (target.includes('\\')) throw refuse(artifact, 'symlink-target', entryName, `the symlink target ${quoteName(target)} contains a backslash`);
  const outcome = resolveSymlink(linkSegments, target, links);
  if ('inside' in outcome) return;
  if (outcome.problem === 'loop') throw refuse(artifact, 'symlink-loop', entryName, `the symlink target ${quoteName(target)} loops through other symlinks`);
  throw refuse(artifact, 'symlink-outside', entryName, `it is a symlink to ${quoteName(target)}, which points outside the artifact directory`);
}

/** What is already in the tree, so a later entry cannot reuse or pass through it. */
export class EntryTree {
  readonly #kinds = new Map<string, EntryKind>();
  readonly #links = new Map<string, string>();

  get links(): ReadonlyMap<string, string> {
    return this.#links;
  }

  /**
   * Checks the parents of a new entry and the entry itself. Returns the parent paths that do not
   * exist yet (to create, shallowest first) and whether the entry repeats an existing directory.
   */
  admit(artifact: string, entryName: string, segments: readonly string[], kind: EntryKind): { readonly missingParents: readonly string[]; readonly repeatsDirectory: boolean } {
    const missingParents: string[] = [];
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      const existing = this.#kinds.get(parent);
      if (existing === 'symlink') throw refuse(artifact, 'through-symlink', entryName, `its path passes through the symlink ${quoteName(parent)} earlier in the archive`);
      if (existing === 'file') throw refuse(artifact, 'path-conflict', entryName, `its parent ${quoteName(parent)} is a file earlier in the archive`);
      if (existing === undefined) missingParents.push(parent);
    }
    const path = segments.join('/');
    const existing = this.#kinds.get(path);
    if (existing === 'directory' && kind === 'directory') return { missingParents, repeatsDirectory: true };
    if (existing === 'symlink') throw refuse(artifact, 'duplicate-entry', entryName, `it would overwrite the symlink ${quoteName(path)} earlier in the archive`);
    if (existing !== undefined) throw refuse(artifact, 'duplicate-entry', entryName, `the archive already had an entry at ${quoteName(path)}`);
    return { missingParents, repeatsDirectory: false };
  }

  record(path: string, kind: EntryKind, linkTarget?: string): void {
    this.#kinds.set(path, kind);
    if (kind === 'symlink' && linkTarget !== undefined) this.#links.set(path, linkTarget);
  }
}

/** Where an entry sits in the archive, from its central directory header. */
export interface EntryPlacement {
  readonly name: string;
  readonly localHeaderOffset: number;
  readonly compressedSize: number;
}

/** The smallest local file header (its name and extra field follow). */
const MIN_LOCAL_HEADER_BYTES = 30;

/**
 * Orders entries as they lie in the archive and refuses any two that share bytes, or one that runs
 * into the central directory. Real writers never overlap entries; overlapping ones are how the
 * densest zip bombs reuse one compressed stream, and the extractor reads the archive once, front to
 * back, so every entry must end before the next begins. (A local header's name and extra field are
 * only known when it is read; the extractor checks the exact end then.)
 */
export function orderEntries<T extends EntryPlacement>(artifact: string, entries: readonly T[], directoryOffset: number): T[] {
  const ordered = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let index = 0; index < ordered.length; index++) {
    const entry = ordered[index] as T;
    const next = ordered[index + 1];
    const end = entry.localHeaderOffset + MIN_LOCAL_HEADER_BYTES + entry.compressedSize;
    if (next && end > next.localHeaderOffset) {
      throw refuse(artifact, 'overlapping-entries', entry.name, `its data (from offset ${entry.localHeaderOffset}, ${entry.compressedSize} bytes) overlaps entry ${quoteName(next.name)} at offset ${next.localHeaderOffset}`);
    }
    if (!next && end > directoryOffset) {
      throw refuse(artifact, 'overlapping-entries', entry.name, `its data (from offset ${entry.localHeaderOffset}, ${entry.compressedSize} bytes) runs into the central directory at offset ${directoryOffset}`);
    }
  }
  return ordered;
}

/** Below this many bytes a ratio says nothing (a 10 KiB file of zeros is legitimately 300:1). */
export const RATIO_GRACE_BYTES = 1024 * 1024;

/**
 * Counts real bytes as they stream, per entry and overall, and refuses at the first byte over a
 * limit. Headers are only used to refuse early: a bomb's declared sizes lie, the stream does not.
 * Ratios compare bytes produced with bytes consumed so far (per entry) and with the archive's size
 * (overall, which also catches entries that overlap the same compressed data). Entries are declared
 * up front (from the central directory, before any data is read); each then streams through its
 * own meter, so several may stream at once.
 */
export class ExtractionBudget {
  #entries = 0;
  #declaredTotal = 0;
  #total = 0;

  constructor(
    readonly artifact: string,
    readonly limits: ExtractLimits,
    readonly archiveBytes: number,
  ) {}

  get totalBytes(): number {
    return this.#total;
  }

  checkEntryCount(declaredEntries: number): void {
    if (declaredEntries > this.limits.maxEntries) {
      throw new HostileArchive('too-many-entries', `input artifact ${this.artifact}: refused: the archive has ${declaredEntries} entries, more than the limit of ${this.limits.maxEntries}`);
    }
  }

  /** Counts an entry and its declared size against the limits, before any of its data is read. */
  declare(name: string, declaredSize: number): void {
    this.#entries += 1;
    if (this.#entries > this.limits.maxEntries) throw refuse(this.artifact, 'too-many-entries', name, `the archive has more than ${this.limits.maxEntries} entries`);
    this.#declaredTotal += declaredSize;
    if (this.#declaredTotal > this.limits.maxTotalBytes) {
      throw refuse(this.artifact, 'too-large', name, `the entries declare ${this.#declaredTotal} bytes in all, more than the limit of ${this.limits.maxTotalBytes}`);
    }
  }

  /** The meter one entry's bytes pass through while it streams. */
  meter(name: string, declaredSize: number): EntryMeter {
    return new EntryMeter(this, name, declaredSize, (bytes) => {
      this.#total += bytes;
      return this.#total;
    });
  }
}

export class EntryMeter {
  #in = 0;
  #out = 0;

  constructor(
    readonly budget: ExtractionBudget,
    readonly name: string,
    readonly declaredSize: number,
    readonly addToTotal: (bytes: number) => number,
  ) {}

  consumed(compressedBytes: number): void {
    this.#in += compressedBytes;
  }

  produced(bytes: number): void {
    const { artifact, limits, archiveBytes } = this.budget;
    this.#out += bytes;
    const total = this.addToTotal(bytes);
    if (this.#out > this.declaredSize) {
      throw refuse(artifact, 'size-mismatch', this.name, `it declares ${this.declaredSize} bytes but expands to more`);
    }
    if (total > limits.maxTotalBytes) {
      throw refuse(artifact, 'too-large', this.name, `the archive expands to more than the limit of ${limits.maxTotalBytes} bytes`);
    }
    const ratio = limits.maxCompressionRatio;
    if (this.#out > RATIO_GRACE_BYTES && this.#out > ratio * Math.max(this.#in, 1)) {
      throw refuse(artifact, 'compression-ratio', this.name, `it expands more than ${ratio} times its compressed size (a zip bomb?)`);
    }
    if (total > RATIO_GRACE_BYTES && total > ratio * Math.max(archiveBytes, 1)) {
      throw refuse(artifact, 'compression-ratio', this.name, `the archive expands more than ${ratio} times its own size (a zip bomb?)`);
    }
  }

  end(): void {
    if (this.#out !== this.declaredSize) {
      throw refuse(this.budget.artifact, 'size-mismatch', this.name, `it declares ${this.declaredSize} bytes but holds ${this.#out}`);
    }
  }
}

/** The first bytes of a file, as far as artifacts go. */
export function detectArchiveFormat(head: Buffer): 'zip' | 'empty-zip' | 'gzip' | 'empty' | 'unknown' {
  if (head.length === 0) return 'empty';
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0x06054b50) return 'empty-zip';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  return 'unknown';
}

export function notZipMessage(artifact: string, format: ReturnType<typeof detectArchiveFormat>): string {
  const what = format === 'empty' ? 'the object is empty' : format === 'gzip' ? 'it is gzip data (tar.gz artifacts are not supported)' : 'it does not start with a ZIP signature (PK\\x03\\x04)';
  return `input artifact ${artifact} is not a ZIP file: ${what}`;
}
