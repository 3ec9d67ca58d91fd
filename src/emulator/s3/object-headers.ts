// Which request headers an object keeps (S3 stores Content-Type, the other representation
// headers and x-amz-meta-*, and returns them on GET and HEAD), and the response headers of a read.

import type { IncomingHttpHeaders } from 'node:http';
import { checksumHeaderName } from './checksums.js';
import type { ObjectRecord } from './object-store.js';
import { renderEncryptionHeaders } from './sse.js';

const KEPT = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires', 'x-amz-website-redirect-location'] as const;

/** S3's default when a PUT has no Content-Type. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

export function pickStoredHeaders(headers: IncomingHttpHeaders): { contentType: string; headers: Record<string, string> } {
  const kept: Record<string, string> = {};
  for (const name of KEPT) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value;
  }
  // aws-chunked is the transfer framing of this request, not an encoding of the object.
  if (kept['content-encoding'] !== undefined) {
    const encoding = kept['content-encoding']
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item && item.toLowerCase() !== 'aws-chunked')
      .join(',');
    if (encoding) kept['content-encoding'] = encoding;
    else delete kept['content-encoding'];
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-amz-meta-') && typeof value === 'string') kept[name] = value;
  }
  const contentType = typeof headers['content-type'] === 'string' ? headers['content-type'] : DEFAULT_CONTENT_TYPE;
  return { contentType, headers: kept };
}

// GetObject's response-* query parameters override the stored headers (presigned downloads use them).
const OVERRIDES = {
  'response-content-type': 'content-type',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
  'response-content-language': 'content-language',
  'response-cache-control': 'cache-control',
  'response-expires': 'expires',
} as const;

export interface ReadHeaderOptions {
  readonly query: URLSearchParams;
  /** x-amz-checksum-mode: ENABLED and the whole object is sent. */
  readonly includeChecksum: boolean;
}

export function renderObjectHeaders(object: ObjectRecord, options: ReadHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': object.contentType,
    etag: object.etag,
    'last-modified': new Date(object.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    ...object.headers,
    ...renderEncryptionHeaders(object.encryption),
  };
  for (const [parameter, name] of Object.entries(OVERRIDES)) {
    const value = options.query.get(parameter);
    if (value !== null) headers[name] = value;
  }
  // Only a single-request upload has a full-object checksum the SDK can validate. (S3 returns a
  // composite `…-N` one for multipart objects, which the SDK skips; returning none is equivalent.)
  if (options.includeChecksum && object.checksum && object.partsCount === undefined) {
    headers[checksumHeaderName(object.checksum.algorithm)] = object.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return headers;
}
