// Server-side encryption headers. Since January 2023 S3 encrypts every new object with SSE-S3
// (AES256) unless told otherwise, and says so in `x-amz-server-side-encryption` on PUT, GET and
// HEAD. SSE-KMS without a key id uses the AWS-managed `aws/s3` key.

import type { IncomingHttpHeaders } from 'node:http';
import { S3Error, s3Errors } from './errors.js';

export interface Encryption {
  readonly serverSideEncryption: string;
  readonly kmsKeyId?: string;
}

/** What the client asked for, before defaults (the bucket policy looks at this). */
export interface RequestedEncryption {
  readonly serverSideEncryption?: string;
  readonly kmsKeyId?: string;
}

const ALGORITHMS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);

export function parseEncryptionHeaders(headers: IncomingHttpHeaders): RequestedEncryption | S3Error {
  const serverSideEncryption = single(headers['x-amz-server-side-encryption']);
  const kmsKeyId = single(headers['x-amz-server-side-encryption-aws-kms-key-id']);
  if (serverSideEncryption !== undefined && !ALGORITHMS.has(serverSideEncryption)) {
    return s3Errors.invalidArgument('The encryption method specified is not supported', 'x-amz-server-side-encryption', serverSideEncryption);
  }
  if (kmsKeyId !== undefined && !serverSideEncryption?.startsWith('aws:kms')) {
    return s3Errors.invalidArgument(
      'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      'x-amz-server-side-encryption',
      serverSideEncryption ?? 'null',
    );
  }
  return { serverSideEncryption, kmsKeyId };
}

/** Fills in S3's defaults; KMS key ids are returned as ARNs, as S3 does. */
export function resolveEncryption(requested: RequestedEncryption, region: string, accountId: string): Encryption {
  const serverSideEncryption = requested.serverSideEncryption ?? 'AES256';
  if (!serverSideEncryption.startsWith('aws:kms')) return { serverSideEncryption };
  const id = requested.kmsKeyId;
  const prefix = `arn:aws:kms:${region}:${accountId}:`;
  if (id === undefined) return { serverSideEncryption, kmsKeyId: `${prefix}alias/aws/s3` };
  if (id.startsWith('arn:')) return { serverSideEncryption, kmsKeyId: id };
  return { serverSideEncryption, kmsKeyId: id.startsWith('alias/') ? `${prefix}${id}` : `${prefix}key/${id}` };
}

export function renderEncryptionHeaders(encryption: Encryption): Record<string, string> {
  const headers: Record<string, string> = { 'x-amz-server-side-encryption': encryption.serverSideEncryption };
  if (encryption.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = encryption.kmsKeyId;
  return headers;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
