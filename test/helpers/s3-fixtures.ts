// Helpers for the S3 tests: deterministic generated bodies (so large uploads need no memory),
// reading SDK bodies, raw signed requests for what the SDK cannot send, and error capture.

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import type { LocalEndpoint } from '../../src/emulator/index.js';

const BLOCK = 1024 * 1024;

/** One MiB of pseudo-random bytes derived from `seed`; generated bodies repeat it. */
export function patternBlock(seed: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < BLOCK; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    block.writeUInt32LE(state >>> 0, i);
  }
  return block;
}

/** A stream of `size` bytes that never holds more than one MiB block (shared, not copied). */
export function generatedStream(size: number, seed = 7): Readable {
  const block = patternBlock(seed);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const take = Math.min(BLOCK, size - sent);
      sent += take;
      this.push(take === BLOCK ? block : block.subarray(0, take));
    },
  });
}

/** The MD5 (hex) of `generatedStream(size, seed)`. */
export function generatedMd5(size: number, seed = 7): string {
  const block = patternBlock(seed);
  const hash = createHash('md5');
  for (let sent = 0; sent < size; sent += BLOCK) hash.update(block.subarray(0, Math.min(BLOCK, size - sent)));
  return hash.digest('hex');
}

/** Bytes [start, end] of a generated body. */
export function generatedSlice(start: number, end: number, seed = 7): Buffer {
  const block = patternBlock(seed);
  const out = Buffer.alloc(end - start + 1);
  for (let i = start; i <= end; i++) out[i - start] = block[i % BLOCK] as number;
  return out;
}

export async function readBody(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Hashes a body as it streams, without keeping it. */
export async function md5OfBody(body: unknown): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { md5: hash.digest('hex'), size };
}

export function s3ClientFor(endpoint: LocalEndpoint, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region = endpoint.region): S3Client {
  return new S3Client({ endpoint: endpoint.url, region, credentials, forcePathStyle: true, maxAttempts: 1 });
}

/** A raw request with a syntactically valid SigV4 header (the endpoint does not check secrets). */
export async function signedFetch(endpoint: LocalEndpoint, path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${endpoint.url}${path}`, {
    ...init,
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDRAW/20250101/${endpoint.region}/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      'x-amz-date': '20250101T000000Z',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      ...init.headers,
    },
  });
}

/** The rejection of `promise` (fails when it resolves). */
export async function s3Rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; Code?: string; $response?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}
