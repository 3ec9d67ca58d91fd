// Multipart uploads in progress, on disk so they survive a restart like S3's do:
//
//   <root>/uploads/<uploadId>/upload.json
//   <root>/uploads/<uploadId>/part-<n>.json         the part's record (size, ETag)
//   <root>/uploads/<uploadId>/part-<n>.<uuid>.data  its bytes
//
// Re-uploading a part number replaces it (same commit-by-rename as objects). Completing hands the
// chosen parts' files to the object store, which links them into the bucket's folder as the
// object's data files (no copy); the upload's folder is removed afterwards.

import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChecksumAlgorithm } from './checksums.js';
import { stageJson, TEMP_PREFIX, writeJsonAtomically, type StagedFile } from './disk-files.js';
import type { Encryption } from './sse.js';

export interface UploadRecord {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly initiatedAt: number;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly encryption: Encryption;
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

export interface PartRecord {
  readonly partNumber: number;
  readonly size: number;
  /** Quoted MD5 hex, as returned in the UploadPart ETag header. */
  readonly etag: string;
  readonly lastModified: number;
  readonly dataFile: string;
}

interface UploadState {
  readonly record: UploadRecord;
  readonly parts: Map<number, PartRecord>;
}

class UploadGone extends Error {}

export class UploadStore {
  private readonly uploads = new Map<string, UploadState>();
  private readonly uploadsDir: string;

  constructor(root: string) {
    this.uploadsDir = join(root, 'uploads');
    mkdirSync(this.uploadsDir, { recursive: true });
    this.load();
  }

  create(fields: Omit<UploadRecord, 'uploadId'>): UploadRecord {
    // Opaque and long like S3's; also a safe folder name.
    const uploadId = randomBytes(36).toString('base64url');
    const record: UploadRecord = { uploadId, ...fields };
    const dir = this.uploadDir(uploadId);
    mkdirSync(dir, { recursive: true });
    writeJsonAtomically(join(dir, 'upload.json'), record, dir);
    this.uploads.set(uploadId, { record, parts: new Map() });
    return record;
  }

  get(uploadId: string): { readonly record: UploadRecord; readonly parts: ReadonlyMap<number, PartRecord> } | undefined {
    return this.uploads.get(uploadId);
  }

  stagingDir(uploadId: string): string {
    return this.uploadDir(uploadId);
  }

  /**
   * Makes a received part durable: its record is written and fsync'd off the event loop (other
   * parts keep streaming meanwhile), then renamed into place in the same synchronous step as the
   * in-memory update: the rename is the commit point. Undefined, with the staged bytes removed,
   * when the upload was completed or aborted in the meantime.
   */
  async commitPart(uploadId: string, partNumber: number, etag: string, staged: StagedFile, now: number): Promise<PartRecord | undefined> {
    const dir = this.uploadDir(uploadId);
    const dataFile = `part-${partNumber}.${randomUUID()}.data`;
    const record: PartRecord = { partNumber, size: staged.size, etag, lastModified: now, dataFile };
    let recordFile: string | undefined;
    try {
      if (!this.uploads.has(uploadId)) throw new UploadGone();
      recordFile = await stageJson(dir, record);
      const state = this.uploads.get(uploadId);
      if (!state) throw new UploadGone();
      renameSync(staged.path, join(dir, dataFile));
      renameSync(recordFile, join(dir, `part-${partNumber}.json`));
      const previous = state.parts.get(partNumber);
      state.parts.set(partNumber, record);
      if (previous) void rm(join(dir, previous.dataFile), { force: true });
      return record;
    } catch (error) {
      await rm(staged.path, { force: true });
      if (recordFile) await rm(recordFile, { force: true });
      // The upload's folder went away under us (completed or aborted): the part is not needed.
      if (error instanceof UploadGone || (!this.uploads.has(uploadId) && (error as NodeJS.ErrnoException).code === 'ENOENT')) return undefined;
      throw error;
    }
  }

  /** Where a part's bytes are (for the object store to link them in on completion). */
  partFile(uploadId: string, part: PartRecord): StagedFile {
    return { path: join(this.uploadDir(uploadId), part.dataFile), size: part.size };
  }

  /** Forgets an upload (completed or aborted) and removes its parts. */
  remove(uploadId: string): void {
    if (!this.uploads.delete(uploadId)) return;
    rmSync(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  private uploadDir(uploadId: string): string {
    return join(this.uploadsDir, uploadId);
  }

  private load(): void {
    for (const uploadId of readdirSync(this.uploadsDir)) {
      const dir = this.uploadDir(uploadId);
      const recordPath = join(dir, 'upload.json');
      if (!existsSync(recordPath)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const record = JSON.parse(readFileSync(recordPath, 'utf8')) as UploadRecord;
      const parts = new Map<number, PartRecord>();
      const files = readdirSync(dir);
      for (const file of files) {
        if (!/^part-\d+\.json$/.test(file)) continue;
        const part = JSON.parse(readFileSync(join(dir, file), 'utf8')) as PartRecord;
        parts.set(part.partNumber, part);
      }
      const referenced = new Set([...parts.values()].map((part) => part.dataFile));
      for (const file of files) {
        if (file.startsWith(TEMP_PREFIX) || (file.endsWith('.data') && !referenced.has(file))) rmSync(join(dir, file), { force: true });
      }
      this.uploads.set(uploadId, { record, parts });
    }
  }
}
