// CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload: what
// `@aws-sdk/lib-storage`'s Upload uses for large artifacts.

import { dropResponse, type S3Call } from './call.js';
import { checksumHeaderName, parseChecksumAlgorithm } from './checksums.js';
import { decideWriteConditions } from './conditions.js';
import { s3Errors } from './errors.js';
import { isMd5Etag, renderUploadEtag } from './etags.js';
import { planCompletion, parsePartNumber, renderMultipartEtag } from './multipart-plan.js';
import { isKeyTooLong } from './names.js';
import { pickStoredHeaders } from './object-headers.js';
import { header, planUpload } from './payload.js';
import { receiveUpload } from './receive.js';
import { readSmallBody, sendEmpty, sendXml } from './respond.js';
import { renderEncryptionHeaders, resolveEncryption, type RequestedEncryption } from './sse.js';
import type { UploadRecord } from './upload-store.js';
import { parseCompleteMultipartUpload, renderCompleteMultipartUpload, renderInitiateMultipartUpload } from './xml.js';

export async function createMultipartUpload(call: S3Call, bucket: string, key: string, requested: RequestedEncryption): Promise<void> {
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  if (isKeyTooLong(key)) throw s3Errors.keyTooLong();
  const stored = pickStoredHeaders(call.request.headers);
  const checksumAlgorithm = parseChecksumAlgorithm(header(call.request.headers, 'x-amz-checksum-algorithm'));
  const encryption = resolveEncryption(requested, call.context.region, call.context.accountId);
  const upload = call.uploads.create({ bucket, key, initiatedAt: call.context.now(), contentType: stored.contentType, headers: stored.headers, encryption, checksumAlgorithm });
  if (dropResponse(call)) return;
  const headers = renderEncryptionHeaders(encryption);
  if (checksumAlgorithm) headers['x-amz-checksum-algorithm'] = checksumAlgorithm;
  sendXml(call.response, renderInitiateMultipartUpload(bucket, key, upload.uploadId), headers);
}

export async function uploadPart(call: S3Call, bucket: string, key: string, uploadId: string, rawPartNumber: string): Promise<void> {
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  const partNumber = parsePartNumber(rawPartNumber);
  if (partNumber === undefined) throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', rawPartNumber);
  const upload = findUpload(call, bucket, key, uploadId);
  const expected = planUpload(call.request.headers);
  if (expected instanceof Error) throw expected;
  const received = await receiveUpload(call.request, expected, call.uploads.stagingDir(uploadId), { md5: isMd5Etag(upload.encryption) });
  const part = await call.uploads.commitPart(uploadId, partNumber, renderUploadEtag(upload.encryption, received.md5Hex), received.staged, call.context.now());
  // Aborted or completed while the part streamed in.
  if (!part) throw s3Errors.noSuchUpload(uploadId);
  if (dropResponse(call)) return;
  const headers: Record<string, string> = { etag: part.etag, ...renderEncryptionHeaders(upload.encryption) };
  if (received.checksum) headers[checksumHeaderName(received.checksum.algorithm)] = received.checksum.value;
  sendEmpty(call.response, 200, headers);
}

export async function completeMultipartUpload(call: S3Call, bucket: string, key: string, uploadId: string): Promise<void> {
  const body = await readSmallBody(call.request, 4 * 1024 * 1024);
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  const upload = findUpload(call, bucket, key, uploadId);
  const requested = body === undefined ? undefined : parseCompleteMultipartUpload(body);
  if (!requested) throw s3Errors.malformedXml();
  const stored = call.uploads.get(uploadId);
  const chosen = planCompletion(uploadId, requested, stored?.parts ?? new Map());
  if (chosen instanceof Error) throw chosen;
  const ifNoneMatch = header(call.request.headers, 'if-none-match');
  if (decideWriteConditions({ ifNoneMatch }, call.objects.getObject(bucket, key)?.etag) === 'precondition-failed') throw s3Errors.preconditionFailed('If-None-Match');

  // The parts become the object's data files as they are (linked, not copied); the upload's own
  // folder goes once the record is committed.
  const record = call.objects.commitParts(
    bucket,
    {
      key,
      etag: renderMultipartEtag(chosen),
      lastModified: call.context.now(),
      contentType: upload.contentType,
      headers: upload.headers,
      encryption: upload.encryption,
      partsCount: chosen.length,
    },
    chosen.map((part) => call.uploads.partFile(uploadId, part)),
  );
  call.uploads.remove(uploadId);
  if (dropResponse(call)) return;
  const host = header(call.request.headers, 'host') ?? 'localhost';
  const location = `http://${host}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  sendXml(call.response, renderCompleteMultipartUpload(location, bucket, key, record.etag), renderEncryptionHeaders(upload.encryption));
}

export async function abortMultipartUpload(call: S3Call, bucket: string, key: string, uploadId: string): Promise<void> {
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  findUpload(call, bucket, key, uploadId);
  call.uploads.remove(uploadId);
  if (dropResponse(call)) return;
  sendEmpty(call.response, 204);
}

/** An upload belongs to one bucket and key; any other pairing is NoSuchUpload, as in S3. */
function findUpload(call: S3Call, bucket: string, key: string, uploadId: string): UploadRecord {
  const upload = call.uploads.get(uploadId)?.record;
  if (!upload || upload.bucket !== bucket || upload.key !== key) throw s3Errors.noSuchUpload(uploadId);
  return upload;
}
