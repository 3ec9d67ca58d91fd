// Request bodies of uploads: which framing the client used (plain or aws-chunked), which length
// and checksums it promised, and the decoder that undoes the framing chunk by chunk. What to
// expect and whether the result matches are decided by pure functions; receive.ts does the I/O.

import type { IncomingHttpHeaders } from 'node:http';
import { AwsChunkedDecoder, AwsChunkedError } from './aws-chunked.js';
import { checksumHeaderName, parseChecksumAlgorithm, type ChecksumAlgorithm, type StoredChecksum } from './checksums.js';
import { S3Error, s3Errors } from './errors.js';

/** S3's single-request upload limit (PutObject, UploadPart). */
export const MAX_SINGLE_UPLOAD = 5 * 1024 * 1024 * 1024;

export interface UploadExpectations {
  readonly chunked: boolean;
  /** Bytes of the decoded body. */
  readonly length: number;
  readonly contentMd5: string | undefined;
  readonly checksum: { readonly algorithm: ChecksumAlgorithm; readonly value: string | undefined; readonly inTrailer: boolean } | undefined;
}

export function planUpload(headers: IncomingHttpHeaders): UploadExpectations | S3Error {
  const encodings = (header(headers, 'content-encoding') ?? '').split(',').map((item) => item.trim().toLowerCase());
  const sha = header(headers, 'x-amz-content-sha256') ?? '';
  const chunked = encodings.includes('aws-chunked') || sha.startsWith('STREAMING-');
  const rawLength = chunked ? header(headers, 'x-amz-decoded-content-length') : header(headers, 'content-length');
  if (rawLength === undefined || !/^\d+$/.test(rawLength)) return s3Errors.missingContentLength();
  const length = Number(rawLength);
  if (length > MAX_SINGLE_UPLOAD) return s3Errors.entityTooLarge(length, MAX_SINGLE_UPLOAD);

  const contentMd5 = header(headers, 'content-md5');
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16) return s3Errors.invalidDigest();

  const trailer = header(headers, 'x-amz-trailer')?.toLowerCase();
  const trailerAlgorithm = trailer?.startsWith('x-amz-checksum-') ? parseChecksumAlgorithm(trailer.slice('x-amz-checksum-'.length)) : undefined;
  let checksum: UploadExpectations['checksum'];
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
    const value = header(headers, checksumHeaderName(algorithm));
    if (value !== undefined) checksum = { algorithm, value, inTrailer: false };
  }
  if (!checksum && trailerAlgorithm) checksum = { algorithm: trailerAlgorithm, value: undefined, inTrailer: true };
  if (!checksum) {
    // The algorithm alone: S3 computes the checksum itself and stores it.
    const named = parseChecksumAlgorithm(header(headers, 'x-amz-sdk-checksum-algorithm') ?? header(headers, 'x-amz-checksum-algorithm'));
    if (named) checksum = { algorithm: named, value: undefined, inTrailer: false };
  }
  return { chunked, length, contentMd5, checksum };
}

export interface ReceivedBody {
  readonly size: number;
  /** Base64 MD5 of the decoded body (computed whenever Content-MD5 was sent). */
  readonly md5: string | undefined;
  /** What the endpoint computed for the expected algorithm (undefined when it cannot, CRC64NVME). */
  readonly computedChecksum: string | undefined;
  readonly trailers: ReadonlyMap<string, string>;
}

/** Checks the body against what the headers promised; returns the checksum to store. */
export function verifyUpload(expected: UploadExpectations, received: ReceivedBody): StoredChecksum | undefined | S3Error {
  if (received.size !== expected.length) return s3Errors.incompleteBody();
  if (expected.contentMd5 !== undefined && expected.contentMd5 !== received.md5) return s3Errors.badContentMd5();
  const checksum = expected.checksum;
  if (!checksum) return undefined;
  const sent = checksum.inTrailer ? received.trailers.get(checksumHeaderName(checksum.algorithm)) : checksum.value;
  if (checksum.inTrailer && sent === undefined) return s3Errors.invalidRequest(`The ${checksumHeaderName(checksum.algorithm)} trailer was declared but not sent.`);
  if (sent !== undefined && received.computedChecksum !== undefined && sent !== received.computedChecksum) {
    return s3Errors.badDigest(checksum.algorithm);
  }
  const value = sent ?? received.computedChecksum;
  return value === undefined ? undefined : { algorithm: checksum.algorithm, value };
}

/** Undoes the body's framing chunk by chunk (nothing to undo for a plain body). */
export interface PayloadDecoder {
  /** The body bytes in a raw chunk (views into it, not copies). Throws IncompleteBody on bad framing. */
  write(raw: Buffer): Buffer | readonly Buffer[];
  /** Throws IncompleteBody when the framing did not end properly. */
  end(): void;
  /** Trailers of an aws-chunked body, known once `end` has run. */
  readonly trailers: ReadonlyMap<string, string>;
}

const NO_TRAILERS: ReadonlyMap<string, string> = new Map();

export function createPayloadDecoder(expected: UploadExpectations): PayloadDecoder {
  if (!expected.chunked) return { write: (raw) => raw, end: () => undefined, trailers: NO_TRAILERS };
  const decoder = new AwsChunkedDecoder();
  const framing = <T>(step: () => T): T => {
    try {
      return step();
    } catch (error) {
      if (error instanceof AwsChunkedError) throw s3Errors.incompleteBody();
      throw error;
    }
  };
  return { write: (raw) => framing(() => decoder.write(raw)), end: () => framing(() => decoder.end()), trailers: decoder.trailers };
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
