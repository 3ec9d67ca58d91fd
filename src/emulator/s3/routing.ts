// Names an S3 REST request (path style) from its method, raw path and query. The raw path is used,
// not a normalized URL, because S3 keys are literal: `a/../b` and `a//b` are keys of their own.

import { S3Error, s3Errors } from './errors.js';

export type S3Route =
  | { readonly op: 'ListBuckets' }
  | { readonly op: 'CreateBucket' | 'HeadBucket' | 'DeleteBucket' | 'ListObjectsV2'; readonly bucket: string }
  | { readonly op: 'PutObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'CreateMultipartUpload'; readonly bucket: string; readonly key: string }
  | { readonly op: 'UploadPart'; readonly bucket: string; readonly key: string; readonly uploadId: string; readonly partNumber: string }
  | { readonly op: 'CompleteMultipartUpload' | 'AbortMultipartUpload'; readonly bucket: string; readonly key: string; readonly uploadId: string };

export interface ParsedTarget {
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: URLSearchParams;
}

/** Splits `/bucket/key?query` without normalizing dot segments or repeated slashes in the key. */
export function parseTarget(rawUrl: string): ParsedTarget {
  const mark = rawUrl.indexOf('?');
  const path = mark < 0 ? rawUrl : rawUrl.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? '' : rawUrl.slice(mark + 1));
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  const slash = trimmed.indexOf('/');
  const rawBucket = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const rawKey = slash < 0 ? '' : trimmed.slice(slash + 1);
  return { bucket: rawBucket ? safeDecode(rawBucket) : undefined, key: rawKey ? safeDecode(rawKey) : undefined, query };
}

// Query parameters that select a sub-resource this endpoint does not implement. Serving them as
// the plain operation (GET ?versioning as ListObjects) would answer something AWS never would.
const UNSUPPORTED_SUBRESOURCES = [
  'acl', 'analytics', 'accelerate', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'location', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls',
  'policy', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select',
  'tagging', 'torrent', 'versioning', 'versions', 'website', 'uploads-list',
] as const;

export function routeS3Request(method: string, target: ParsedTarget, headers: { readonly copySource?: string }): S3Route | S3Error {
  const { bucket, key, query } = target;
  const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
  if (unsupported) return s3Errors.notImplemented(`?${unsupported}`);
  if (bucket === undefined) {
    if (method === 'GET') return { op: 'ListBuckets' };
    return s3Errors.methodNotAllowed(method);
  }
  if (key === undefined) {
    switch (method) {
      case 'PUT':
        return { op: 'CreateBucket', bucket };
      case 'HEAD':
        return { op: 'HeadBucket', bucket };
      case 'DELETE':
        return { op: 'DeleteBucket', bucket };
      case 'GET':
        if (query.has('uploads')) return s3Errors.notImplemented('ListMultipartUploads');
        if (query.get('list-type') !== '2') return s3Errors.notImplemented('ListObjects (v1); use ListObjectsV2');
        return { op: 'ListObjectsV2', bucket };
      default:
        return s3Errors.methodNotAllowed(method);
    }
  }
  const uploadId = query.get('uploadId');
  switch (method) {
    case 'PUT':
      if (headers.copySource !== undefined) return s3Errors.notImplemented(uploadId === null ? 'CopyObject' : 'UploadPartCopy');
      if (uploadId !== null) return { op: 'UploadPart', bucket, key, uploadId, partNumber: query.get('partNumber') ?? '' };
      return { op: 'PutObject', bucket, key };
    case 'GET':
      if (uploadId !== null) return s3Errors.notImplemented('ListParts');
      return { op: 'GetObject', bucket, key };
    case 'HEAD':
      return { op: 'HeadObject', bucket, key };
    case 'DELETE':
      if (uploadId !== null) return { op: 'AbortMultipartUpload', bucket, key, uploadId };
      return { op: 'DeleteObject', bucket, key };
    case 'POST':
      if (query.has('uploads')) return { op: 'CreateMultipartUpload', bucket, key };
      if (uploadId !== null) return { op: 'CompleteMultipartUpload', bucket, key, uploadId };
      return s3Errors.notImplemented('POST object');
    default:
      return s3Errors.methodNotAllowed(method);
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
