// PutObject, GetObject, HeadObject, DeleteObject.

import { pipeline } from 'node:stream/promises';
import { dropResponse, type S3Call } from './call.js';
import { checksumHeaderName } from './checksums.js';
import { decideReadConditions, decideWriteConditions, type ConditionHeaders } from './conditions.js';
import { discardStaged } from './disk-files.js';
import { isMd5Etag, renderUploadEtag } from './etags.js';
import { s3Errors } from './errors.js';
import { isKeyTooLong } from './names.js';
import { pickStoredHeaders, renderObjectHeaders } from './object-headers.js';
import { header, planUpload } from './payload.js';
import { planRange, renderContentRange } from './range.js';
import { receiveUpload } from './receive.js';
import { requestIdHeaders, sendEmpty } from './respond.js';
import { renderEncryptionHeaders, resolveEncryption, type RequestedEncryption } from './sse.js';

export async function putObject(call: S3Call, bucket: string, key: string, requested: RequestedEncryption): Promise<void> {
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  if (isKeyTooLong(key)) throw s3Errors.keyTooLong();
  const expected = planUpload(call.request.headers);
  if (expected instanceof Error) throw expected;
  const conditions = readConditions(call);
  if (decideWriteConditions(conditions, call.objects.getObject(bucket, key)?.etag) === 'precondition-failed') throw s3Errors.preconditionFailed(conditions.ifNoneMatch ? 'If-None-Match' : 'If-Match');

  const encryption = resolveEncryption(requested, call.context.region, call.context.accountId);
  const received = await receiveUpload(call.request, expected, call.objects.stagingDir(bucket), { md5: isMd5Etag(encryption) });
  // Checked again at commit: another PUT may have created the object while this body streamed in.
  if (decideWriteConditions(conditions, call.objects.getObject(bucket, key)?.etag) === 'precondition-failed') {
    await discardStaged(received.staged);
    throw s3Errors.preconditionFailed(conditions.ifNoneMatch ? 'If-None-Match' : 'If-Match');
  }
  const stored = pickStoredHeaders(call.request.headers);
  const record = call.objects.commitObject(
    bucket,
    { key, etag: renderUploadEtag(encryption, received.md5Hex), lastModified: call.context.now(), contentType: stored.contentType, headers: stored.headers, encryption, checksum: received.checksum },
    received.staged,
  );
  if (dropResponse(call)) return;
  const headers: Record<string, string> = { etag: record.etag, ...renderEncryptionHeaders(encryption) };
  if (record.checksum) {
    headers[checksumHeaderName(record.checksum.algorithm)] = record.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  sendEmpty(call.response, 200, headers);
}

export async function getObject(call: S3Call, bucket: string, key: string, head: boolean): Promise<void> {
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  const opened = head ? undefined : await call.objects.openObject(bucket, key);
  const record = head ? call.objects.getObject(bucket, key) : opened?.record;
  if (!record) throw s3Errors.noSuchKey(key);
  try {
    const conditions = readConditions(call);
    const outcome = decideReadConditions(conditions, record.etag, record.lastModified);
    if (outcome === 'precondition-failed') throw s3Errors.preconditionFailed(conditions.ifMatch !== undefined ? 'If-Match' : 'If-Unmodified-Since');
    if (outcome === 'not-modified') {
      if (dropResponse(call)) return;
      sendEmpty(call.response, 304, { etag: record.etag, 'last-modified': new Date(record.lastModified).toUTCString() });
      return;
    }
    const rangeHeader = header(call.request.headers, 'range');
    const range = planRange(rangeHeader, record.size);
    if (range.kind === 'unsatisfiable') throw s3Errors.invalidRange(rangeHeader ?? '', record.size);
    const checksumMode = header(call.request.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
    const headers = renderObjectHeaders(record, { query: call.query, includeChecksum: checksumMode && range.kind === 'full' });
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : record.size - 1;
    if (range.kind === 'partial') headers['content-range'] = renderContentRange(range.start, range.end, record.size);
    headers['content-length'] = String(end - start + 1);
    if (dropResponse(call)) return;
    call.response.writeHead(range.kind === 'partial' ? 206 : 200, { ...requestIdHeaders(), ...headers });
    if (!opened || end < start) {
      call.response.end();
      return;
    }
    await pipeline(opened.read(start, end), call.response).catch(() => {
      // The client went away mid-download (or a data file vanished with its bucket); nothing to answer.
      call.response.destroy();
    });
  } finally {
    await opened?.close();
  }
}

export async function deleteObject(call: S3Call, bucket: string, key: string): Promise<void> {
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  // S3 answers 204 whether or not the key existed.
  call.objects.deleteObject(bucket, key);
  if (dropResponse(call)) return;
  sendEmpty(call.response, 204);
}

function readConditions(call: S3Call): ConditionHeaders {
  const headers = call.request.headers;
  return {
    ifMatch: header(headers, 'if-match'),
    ifNoneMatch: header(headers, 'if-none-match'),
    ifModifiedSince: header(headers, 'if-modified-since'),
    ifUnmodifiedSince: header(headers, 'if-unmodified-since'),
  };
}
