// ETags of what an upload stores. S3 documents that objects stored as plaintext or with SSE-S3 have
// the MD5 of their data as ETag, while SSE-KMS (and SSE-C) objects "have ETags that are not an MD5
// digest of their object data". The endpoint follows that: for aws:kms and aws:kms:dsse it hands
// out an opaque ETag (new for every write, as a fresh data key makes new ciphertext) and does not
// hash the data at all, unless the request sent Content-MD5, which is always verified. Whether a
// KMS part's ETag is an MD5 is not documented [UNVERIFIED]; the strict reading is that it is not,
// so code that compares ETags with MD5s fails here as it would on S3. Artifact stores require
// aws:kms, so this is what every artifact gets, and hashing 1 GiB with MD5 costs about as much CPU
// as everything else the endpoint does for the upload together.

import { randomBytes } from 'node:crypto';
import type { Encryption } from './sse.js';

/** Whether S3 makes the ETag of a single-request upload or part with this encryption the MD5 of its data. */
export function isMd5Etag(encryption: Pick<Encryption, 'serverSideEncryption'>): boolean {
  return !encryption.serverSideEncryption.startsWith('aws:kms');
}

/** A quoted ETag: the MD5 when S3 gives one for this encryption, an opaque value otherwise. */
export function renderUploadEtag(encryption: Pick<Encryption, 'serverSideEncryption'>, md5Hex: string | undefined): string {
  if (isMd5Etag(encryption)) {
    if (md5Hex === undefined) throw new Error('renderUploadEtag: an MD5 ETag needs the MD5');
    return `"${md5Hex}"`;
  }
  return `"${randomBytes(16).toString('hex')}"`;
}
