// The checks CompleteMultipartUpload makes before it assembles anything, and the multipart ETag.

import { createHash } from 'node:crypto';
import { S3Error, s3Errors } from './errors.js';
import type { PartRecord } from './upload-store.js';
import type { RequestedPart } from './xml.js';

/** Every part but the last must be at least 5 MiB. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;

export function parsePartNumber(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const number = Number(text);
  return number >= 1 && number <= MAX_PART_NUMBER ? number : undefined;
}

/** The stored parts the request names, in order, or the error S3 returns for the first problem. */
export function planCompletion(uploadId: string, requested: readonly RequestedPart[], stored: ReadonlyMap<number, PartRecord>): PartRecord[] | S3Error {
  const chosen: PartRecord[] = [];
  let previous = 0;
  for (const part of requested) {
    if (part.partNumber <= previous) return s3Errors.invalidPartOrder(uploadId);
    previous = part.partNumber;
    const record = stored.get(part.partNumber);
    // The SDK sends ETags quoted; S3 also accepts them bare.
    if (!record || normalizeEtag(record.etag) !== normalizeEtag(part.etag)) return s3Errors.invalidPart(uploadId, part.partNumber, part.etag);
    chosen.push(record);
  }
  for (const [index, record] of chosen.entries()) {
    if (index < chosen.length - 1 && record.size < MIN_PART_SIZE) return s3Errors.entityTooSmall(record.size, record.partNumber, record.etag);
  }
  return chosen;
}

/** S3's multipart ETag: MD5 of the concatenated binary part MD5s, then `-<number of parts>`. */
export function renderMultipartEtag(parts: readonly PartRecord[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(Buffer.from(normalizeEtag(part.etag), 'hex'));
  return `"${hash.digest('hex')}-${parts.length}"`;
}

function normalizeEtag(etag: string): string {
  return etag.replace(/^"|"$/g, '').toLowerCase();
}
