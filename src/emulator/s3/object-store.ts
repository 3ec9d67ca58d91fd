// Buckets and objects on disk, with an in-memory index loaded at start.
//
//   <root>/buckets/<bucket>/bucket.json
//   <root>/buckets/<bucket>/objects/<sha256(key)>.json                 the object's record (its metadata)
//   <root>/buckets/<bucket>/objects/<sha256(key)>.<uuid>.data          its bytes (PutObject), or
//   <root>/buckets/<bucket>/objects/<sha256(key)>.<uuid>.<n>.data      its parts, in order (multipart)
//
// Each version of an object gets data files of its own, and the record names them: renaming the
// record into place is the single commit point of a PUT or CompleteMultipartUpload. A crash before
// it leaves the old object intact (plus orphan data or temp files, removed at the next start). A
// completed multipart upload keeps its parts as they are (hard links to the uploaded part files, so
// completing copies nothing, as in S3); GET streams them in order. Readers pin the version they
// opened: an overwrite or delete removes the old files only once the last reader is done. Keys are
// hashed for file names because S3 keys may hold any character and be 1024 bytes long.

import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { StoredChecksum } from './checksums.js';
import { TEMP_PREFIX, writeJsonAtomically, type StagedFile } from './disk-files.js';
import { compareKeys, isValidBucketName } from './names.js';
import type { Encryption } from './sse.js';

export interface BucketRecord {
  readonly name: string;
  readonly createdAt: number;
  readonly region: string;
}

export interface ObjectRecord {
  readonly key: string;
  readonly size: number;
  /** Quoted, as in the ETag header: `"<md5 hex>"` or `"<hex>-<parts>"`. */
  readonly etag: string;
  readonly lastModified: number;
  readonly contentType: string;
  /** Content-* headers, Cache-Control, Expires and x-amz-meta-* as they are returned on GET. */
  readonly headers: Readonly<Record<string, string>>;
  readonly encryption: Encryption;
  readonly checksum?: StoredChecksum;
  readonly partsCount?: number;
  /** The bytes: files inside the bucket's objects folder, concatenated in order (one for PutObject). */
  readonly dataFiles: readonly DataFile[];
}

export interface DataFile {
  readonly name: string;
  readonly size: number;
}

export type NewObject = Omit<ObjectRecord, 'dataFiles' | 'size'>;

/** An object opened for reading: its version stays on disk until `close()`. */
export interface OpenedObject {
  readonly record: ObjectRecord;
  /** Bytes `start` to `end` (inclusive; nothing when end < start), streamed from the data files in order. */
  read(start: number, end: number): Readable;
  /** Releases the version (idempotent). */
  close(): Promise<void>;
}

/** How a record was stored before multipart objects kept their parts: one `dataFile`. */
interface LegacyObjectRecord extends Omit<ObjectRecord, 'dataFiles'> {
  readonly dataFile?: string;
  readonly dataFiles?: readonly DataFile[];
}

/** Read size per data file, and what a download may buffer; bounds memory per download (a few
 *  MiB) while keeping the number of reads, socket writes and stream hand-offs per GiB small. */
const READ_CHUNK = 1024 * 1024;

interface BucketState {
  readonly record: BucketRecord;
  readonly objects: Map<string, ObjectRecord>;
  sorted: string[] | undefined;
}

export class ObjectStore {
  private readonly buckets = new Map<string, BucketState>();
  private readonly bucketsDir: string;
  /** Open readers per version (keyed by the path of its first data file), and removals waiting for them. */
  private readonly pins = new Map<string, { readers: number; remove?: () => void }>();

  constructor(root: string) {
    this.bucketsDir = join(root, 'buckets');
    mkdirSync(this.bucketsDir, { recursive: true });
    this.load();
  }

  listBuckets(): BucketRecord[] {
    return [...this.buckets.values()].map((state) => state.record).sort((a, b) => compareKeys(a.name, b.name));
  }

  getBucket(name: string): BucketRecord | undefined {
    return this.buckets.get(name)?.record;
  }

  /** Creates the bucket if it does not exist; returns false when it already did. */
  createBucket(name: string, region: string, now: number): boolean {
    if (!isValidBucketName(name)) throw new Error(`invalid bucket name: ${name}`);
    if (this.buckets.has(name)) return false;
    const dir = this.bucketDir(name);
    mkdirSync(join(dir, 'objects'), { recursive: true });
    const record: BucketRecord = { name, createdAt: now, region };
    writeJsonAtomically(join(dir, 'bucket.json'), record, dir);
    this.buckets.set(name, { record, objects: new Map(), sorted: undefined });
    return true;
  }

  /** Deletes an empty bucket; returns false when it still holds objects. */
  deleteBucket(name: string): boolean {
    const state = this.buckets.get(name);
    if (!state) return true;
    if (state.objects.size) return false;
    this.buckets.delete(name);
    rmSync(this.bucketDir(name), { recursive: true, force: true });
    return true;
  }

  getObject(bucket: string, key: string): ObjectRecord | undefined {
    return this.buckets.get(bucket)?.objects.get(key);
  }

  objectsOf(bucket: string): ReadonlyMap<string, ObjectRecord> {
    return this.buckets.get(bucket)?.objects ?? new Map();
  }

  /** Keys in S3 listing order (cached until the bucket changes). */
  sortedKeys(bucket: string): readonly string[] {
    const state = this.buckets.get(bucket);
    if (!state) return [];
    state.sorted ??= [...state.objects.keys()].sort(compareKeys);
    return state.sorted;
  }

  /** Folder for temporary files of uploads into `bucket` (same file system as the final place). */
  stagingDir(bucket: string): string {
    return join(this.bucketDir(bucket), 'objects');
  }

  /** Moves staged bytes into place and commits the record; the previous version's bytes are removed. */
  commitObject(bucket: string, object: NewObject, staged: StagedFile): ObjectRecord {
    const state = this.requireBucket(bucket);
    const dir = this.stagingDir(bucket);
    const name = `${hashKey(object.key)}.${randomUUID()}.data`;
    renameSync(staged.path, join(dir, name));
    return this.commitRecord(state, dir, { ...object, size: staged.size, dataFiles: [{ name, size: staged.size }] });
  }

  /**
   * Commits an object made of `parts` (files elsewhere on the same file system, in order) without
   * copying them: each is hard-linked into the objects folder, so the sources stay intact until the
   * record is committed (a crash before leaves the upload whole and orphan links, removed at start).
   * Where hard links are not supported the part is copied instead.
   */
  commitParts(bucket: string, object: NewObject, parts: readonly StagedFile[]): ObjectRecord {
    const state = this.requireBucket(bucket);
    const dir = this.stagingDir(bucket);
    const version = `${hashKey(object.key)}.${randomUUID()}`;
    const dataFiles: DataFile[] = [];
    try {
      parts.forEach((part, index) => {
        const name = `${version}.${index + 1}.data`;
        linkOrCopy(part.path, join(dir, name));
        dataFiles.push({ name, size: part.size });
      });
    } catch (error) {
      for (const file of dataFiles) rmSync(join(dir, file.name), { force: true });
      throw error;
    }
    const size = parts.reduce((sum, part) => sum + part.size, 0);
    return this.commitRecord(state, dir, { ...object, size, dataFiles });
  }

  deleteObject(bucket: string, key: string): void {
    const state = this.buckets.get(bucket);
    const previous = state?.objects.get(key);
    if (!state || !previous) return;
    const dir = this.stagingDir(bucket);
    unlinkSync(join(dir, `${hashKey(key)}.json`));
    state.objects.delete(key);
    state.sorted = undefined;
    this.removeVersion(dir, previous);
  }

  /** Opens the current version of an object for reading, or undefined when it does not exist. */
  async openObject(bucket: string, key: string): Promise<OpenedObject | undefined> {
    const record = this.getObject(bucket, key);
    if (!record) return undefined;
    const dir = this.stagingDir(bucket);
    const pinKey = versionKey(dir, record);
    const pin = this.pins.get(pinKey) ?? { readers: 0 };
    pin.readers += 1;
    this.pins.set(pinKey, pin);
    let closed = false;
    return {
      record,
      read: (start, end) => Readable.from(readRange(dir, record.dataFiles, start, end), { objectMode: false, highWaterMark: READ_CHUNK }),
      close: async () => {
        if (closed) return;
        closed = true;
        pin.readers -= 1;
        if (pin.readers > 0) return;
        this.pins.delete(pinKey);
        pin.remove?.();
      },
    };
  }

  private requireBucket(bucket: string): BucketState {
    const state = this.buckets.get(bucket);
    if (!state) throw new Error(`bucket ${bucket} vanished during the upload`);
    return state;
  }

  private commitRecord(state: BucketState, dir: string, record: ObjectRecord): ObjectRecord {
    writeJsonAtomically(join(dir, `${hashKey(record.key)}.json`), record, dir);
    const previous = state.objects.get(record.key);
    state.objects.set(record.key, record);
    if (!previous) state.sorted = undefined;
    if (previous) this.removeVersion(dir, previous);
    return record;
  }

  /** Removes a replaced or deleted version's files, at once or when its last reader closes. */
  private removeVersion(dir: string, record: ObjectRecord): void {
    const remove = () => {
      for (const file of record.dataFiles) void rm(join(dir, file.name), { force: true });
    };
    const pin = this.pins.get(versionKey(dir, record));
    if (pin) pin.remove = remove;
    else remove();
  }

  private bucketDir(name: string): string {
    return join(this.bucketsDir, name);
  }

  private load(): void {
    for (const name of readdirSync(this.bucketsDir)) {
      const dir = this.bucketDir(name);
      const recordPath = join(dir, 'bucket.json');
      if (!isValidBucketName(name) || !existsSync(recordPath)) continue;
      const record = JSON.parse(readFileSync(recordPath, 'utf8')) as BucketRecord;
      const objects = new Map<string, ObjectRecord>();
      const objectsDir = join(dir, 'objects');
      mkdirSync(objectsDir, { recursive: true });
      const files = readdirSync(objectsDir);
      const referenced = new Set<string>();
      for (const file of files) {
        if (!file.endsWith('.json') || file.startsWith(TEMP_PREFIX)) continue;
        const object = upgradeRecord(JSON.parse(readFileSync(join(objectsDir, file), 'utf8')) as LegacyObjectRecord);
        objects.set(object.key, object);
        for (const data of object.dataFiles) referenced.add(data.name);
      }
      // Leftovers of uploads interrupted by a crash: temp files and data never committed.
      for (const file of files) {
        if (file.startsWith(TEMP_PREFIX) || (file.endsWith('.data') && !referenced.has(file))) rmSync(join(objectsDir, file), { force: true });
      }
      this.buckets.set(name, { record, objects, sorted: undefined });
    }
  }
}

function upgradeRecord(stored: LegacyObjectRecord): ObjectRecord {
  const { dataFile, dataFiles, ...rest } = stored;
  return { ...rest, dataFiles: dataFiles ?? [{ name: dataFile as string, size: stored.size }] };
}

function versionKey(dir: string, record: ObjectRecord): string {
  return join(dir, record.dataFiles[0]?.name ?? `${hashKey(record.key)}.empty`);
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw error;
    copyFileSync(from, to);
  }
}

/** The bytes `start`..`end` (inclusive) of the concatenation of `files`, one file open at a time. */
async function* readRange(dir: string, files: readonly DataFile[], start: number, end: number): AsyncGenerator<Buffer> {
  let offset = 0;
  for (const data of files) {
    const first = Math.max(start, offset);
    const last = Math.min(end, offset + data.size - 1);
    offset += data.size;
    if (first > last) continue;
    const file = await open(join(dir, data.name), 'r');
    try {
      const local = first - (offset - data.size);
      for await (const chunk of file.createReadStream({ start: local, end: local + (last - first), highWaterMark: READ_CHUNK, autoClose: false })) yield chunk as Buffer;
    } finally {
      await file.close();
    }
  }
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
