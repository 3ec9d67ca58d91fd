// Buckets and objects on disk, with an in-memory index loaded at start.
//
//   <root>/buckets/<bucket>/bucket.json
//   <root>/buckets/<bucket>/objects/<sha256(key)>.json          the object's record (its metadata)
//   <root>/buckets/<bucket>/objects/<sha256(key)>.<uuid>.data   its bytes
//
// Each version of an object gets a data file of its own, and the record names it: renaming the
// record into place is the single commit point of a PUT. A crash before it leaves the old object
// intact (plus an orphan data or temp file, removed at the next start); readers that opened the old
// data file keep reading it after an overwrite. Keys are hashed for file names because S3 keys
// may hold any character and be 1024 bytes long.

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
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
  /** File name of the bytes, inside the bucket's objects folder. */
  readonly dataFile: string;
}

export type NewObject = Omit<ObjectRecord, 'dataFile' | 'size'>;

interface BucketState {
  readonly record: BucketRecord;
  readonly objects: Map<string, ObjectRecord>;
  sorted: string[] | undefined;
}

export class ObjectStore {
  private readonly buckets = new Map<string, BucketState>();
  private readonly bucketsDir: string;

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
    const state = this.buckets.get(bucket);
    if (!state) throw new Error(`bucket ${bucket} vanished during the upload`);
    const dir = this.stagingDir(bucket);
    const base = hashKey(object.key);
    const dataFile = `${base}.${randomUUID()}.data`;
    renameSync(staged.path, join(dir, dataFile));
    const record: ObjectRecord = { ...object, size: staged.size, dataFile };
    writeJsonAtomically(join(dir, `${base}.json`), record, dir);
    const previous = state.objects.get(object.key);
    state.objects.set(object.key, record);
    if (!previous) state.sorted = undefined;
    if (previous) void rm(join(dir, previous.dataFile), { force: true });
    return record;
  }

  deleteObject(bucket: string, key: string): void {
    const state = this.buckets.get(bucket);
    const previous = state?.objects.get(key);
    if (!state || !previous) return;
    const dir = this.stagingDir(bucket);
    unlinkSync(join(dir, `${hashKey(key)}.json`));
    state.objects.delete(key);
    state.sorted = undefined;
    void rm(join(dir, previous.dataFile), { force: true });
  }

  /**
   * Opens the current bytes of an object. An overwrite may remove the data file between reading
   * the record and opening it; then the newer record is used.
   */
  async openObject(bucket: string, key: string): Promise<{ record: ObjectRecord; file: FileHandle } | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = this.getObject(bucket, key);
      if (!record) return undefined;
      try {
        return { record, file: await open(join(this.stagingDir(bucket), record.dataFile), 'r') };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return undefined;
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
        const object = JSON.parse(readFileSync(join(objectsDir, file), 'utf8')) as ObjectRecord;
        objects.set(object.key, object);
        referenced.add(object.dataFile);
      }
      // Leftovers of uploads interrupted by a crash: temp files and data never committed.
      for (const file of files) {
        if (file.startsWith(TEMP_PREFIX) || (file.endsWith('.data') && !referenced.has(file))) rmSync(join(objectsDir, file), { force: true });
      }
      this.buckets.set(name, { record, objects, sorted: undefined });
    }
  }
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
