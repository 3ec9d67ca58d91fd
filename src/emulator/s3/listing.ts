// ListObjectsV2 as a pure function of the sorted keys and the query. Keys come back in UTF-8 byte
// order; with a delimiter, keys that share `prefix + … + delimiter` roll up into one CommonPrefix,
// and MaxKeys counts keys and CommonPrefixes together. The continuation token is opaque to the
// client; here it names the last key or CommonPrefix returned, so the next page starts after it.

import { S3Error, s3Errors } from './errors.js';
import { compareKeys } from './names.js';

export interface ListParams {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly startAfter: string | undefined;
  readonly continuationToken: string | undefined;
  readonly encodingType: 'url' | undefined;
}

export interface ListPage {
  readonly keys: readonly string[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextContinuationToken: string | undefined;
}

const MAX_KEYS = 1000;
const TOKEN_VERSION = 'cpsync-1:';

export function parseListParams(query: URLSearchParams): ListParams | S3Error {
  const rawMaxKeys = query.get('max-keys');
  let maxKeys = MAX_KEYS;
  if (rawMaxKeys !== null) {
    if (!/^\d+$/.test(rawMaxKeys)) return s3Errors.invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', rawMaxKeys);
    maxKeys = Math.min(Number(rawMaxKeys), MAX_KEYS);
  }
  const encodingType = query.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') return s3Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  const continuationToken = query.get('continuation-token') ?? undefined;
  if (continuationToken !== undefined && decodeContinuationToken(continuationToken) === undefined) {
    return s3Errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', continuationToken);
  }
  const delimiter = query.get('delimiter');
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: delimiter === null || delimiter === '' ? undefined : delimiter,
    maxKeys,
    startAfter: query.get('start-after') ?? undefined,
    continuationToken,
    encodingType: encodingType === 'url' ? 'url' : undefined,
  };
}

/** `sortedKeys` must be in `compareKeys` order. */
export function planListPage(sortedKeys: readonly string[], params: ListParams): ListPage {
  const marker = params.continuationToken !== undefined ? decodeContinuationToken(params.continuationToken) : params.startAfter;
  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  let count = 0;
  for (const key of sortedKeys) {
    if (!key.startsWith(params.prefix)) continue;
    if (marker !== undefined && compareKeys(key, marker) <= 0) continue;
    const rolledUp = rollUp(key, params.prefix, params.delimiter);
    if (rolledUp !== undefined) {
      if (rolledUp === last) continue;
      // Continuing after a CommonPrefix: its remaining keys sort after it but are already counted.
      if (marker !== undefined && compareKeys(rolledUp, marker) <= 0) continue;
    }
    if (count === params.maxKeys) {
      return { keys, commonPrefixes, isTruncated: params.maxKeys > 0, nextContinuationToken: params.maxKeys > 0 && last !== undefined ? encodeContinuationToken(last) : undefined };
    }
    count++;
    if (rolledUp !== undefined) {
      commonPrefixes.push(rolledUp);
      last = rolledUp;
    } else {
      keys.push(key);
      last = key;
    }
  }
  return { keys, commonPrefixes, isTruncated: false, nextContinuationToken: undefined };
}

function rollUp(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

export function encodeContinuationToken(marker: string): string {
  return Buffer.from(TOKEN_VERSION + marker, 'utf8').toString('base64');
}

export function decodeContinuationToken(token: string): string | undefined {
  const text = Buffer.from(token, 'base64').toString('utf8');
  return text.startsWith(TOKEN_VERSION) ? text.slice(TOKEN_VERSION.length) : undefined;
}
