// Writing S3 responses: XML errors (headers only for HEAD, as S3 does, so the SDK falls back to
// the status: 404 → NotFound), XML results, and empty successes. Every response carries a
// request id like S3's.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Error } from './errors.js';
import { renderError } from './xml.js';

export function requestIdHeaders(): Record<string, string> {
  const id = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  return { 'x-amz-request-id': id, 'x-amz-id-2': Buffer.from(randomUUID()).toString('base64') };
}

export function sendError(request: IncomingMessage, response: ServerResponse, error: S3Error): void {
  const ids = requestIdHeaders();
  if (request.method === 'HEAD') {
    response.writeHead(error.status, { ...ids, ...error.headers });
    response.end();
    return;
  }
  const payload = renderError(error.code, error.message, error.fields, ids['x-amz-request-id'] as string);
  response.writeHead(error.status, { ...ids, ...error.headers, 'content-type': 'application/xml', 'content-length': Buffer.byteLength(payload) });
  response.end(payload);
}

export function sendXml(response: ServerResponse, payload: string, headers: Record<string, string> = {}): void {
  response.writeHead(200, { ...requestIdHeaders(), ...headers, 'content-type': 'application/xml', 'content-length': Buffer.byteLength(payload) });
  response.end(payload);
}

export function sendEmpty(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...requestIdHeaders(), ...headers, 'content-length': 0 });
  response.end();
}

/** Reads a small request body (CreateBucket configuration, CompleteMultipartUpload part list). */
export async function readSmallBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks).toString('utf8');
}

export async function drainRequest(request: IncomingMessage): Promise<void> {
  if (request.complete || request.destroyed) return;
  for await (const _ of request) {
    // discard the body so the connection can carry the response and the next request
  }
}
