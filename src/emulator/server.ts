// The local endpoint's HTTP front door: one port serving CodePipeline (AWS JSON 1.1, `POST /` with
// X-Amz-Target) and S3 (REST, path style). It checks SigV4 presence, applies fault injection, and
// hands the request to the CodePipeline operation table or the S3 handler.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { AwsError } from './aws-error.js';
import type { EmulatorContext, FaultRule, RequestInfo } from './context.js';
import { JsonText } from './json-text.js';
import { readSigner } from './sigv4.js';

const TARGET_PREFIX = 'CodePipeline_20150709.';
const MAX_JSON_BODY = 10 * 1024 * 1024;
const NO_QUERY = new URLSearchParams();

/** A CodePipeline operation: parsed JSON input in, JSON output (undefined: empty body; JsonText:
 *  sent as it is) out. */
export type Operation = (input: Record<string, unknown>, context: EmulatorContext, request: RequestInfo) => unknown;

/** The S3 side: handles one REST request entirely (it streams bodies itself). */
export type S3Handler = (request: IncomingMessage, response: ServerResponse, url: URL, info: RequestInfo, faults: FaultGate) => Promise<void>;

/** Lets a handler apply the "drop the response" fault after it has done its work. */
export interface FaultGate {
  /** True when the response to an applied request must be dropped (destroy the socket instead). */
  shouldDropResponse(): boolean;
}

export interface HttpServerParts {
  readonly context: EmulatorContext;
  readonly operations: ReadonlyMap<string, Operation>;
  readonly s3: S3Handler;
  readonly faults: readonly FaultRule[];
  readonly random: () => number;
}

export function createHttpServer(parts: HttpServerParts): Server {
  const server = createServer((request, response) => {
    handle(parts, request, response).catch((error: unknown) => {
      // Handlers answer their own errors; reaching here means a bug in the endpoint.
      if (!response.headersSent) sendJsonError(response, new AwsError('InternalFailure', `internal error: ${(error as Error).message}`, 500));
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

export async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}

async function handle(parts: HttpServerParts, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const target = request.headers['x-amz-target'];
  // The common case of a CodePipeline call (`POST /`) is recognized without building a URL.
  const rawUrl = request.url ?? '/';
  const url = rawUrl === '/' ? undefined : new URL(rawUrl, 'http://localhost');
  const isRoot = url === undefined || url.pathname === '/';
  if (request.method === 'POST' && isRoot && typeof target === 'string' && target.startsWith(TARGET_PREFIX)) {
    return handleCodePipeline(parts, request, response, url, target.slice(TARGET_PREFIX.length));
  }
  const fullUrl = url ?? new URL(rawUrl, 'http://localhost');
  if (isStsRequest(request, fullUrl)) return handleSts(parts.context, request, response);
  const rule = parts.faults.length ? matchFault(parts.faults, `s3:${s3OperationName(request, fullUrl)}`) : undefined;

  if (rule?.latencyMs) await new Promise((resolve) => setTimeout(resolve, rule.latencyMs));
  const roll = () => parts.random();
  const signer = readSigner(request, fullUrl.searchParams);
  const gate: FaultGate = { shouldDropResponse: () => Boolean(rule?.dropResponseRate && roll() < rule.dropResponseRate) };
  if (signer && rule?.throttleRate && roll() < rule.throttleRate) {
    await drain(request);
    return sendS3Error(response, 503, 'SlowDown', 'Please reduce your request rate.');
  }
  if (signer && rule?.errorRate && roll() < rule.errorRate) {
    await drain(request);
    return sendS3Error(response, 500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
  if (!signer) {
    await drain(request);
    return sendS3Error(response, 403, 'AccessDenied', 'Access Denied');
  }
  await parts.s3(request, response, fullUrl, { signer }, gate);
}

/** One AWS JSON 1.1 call: read the small body, check the signature is there, run the operation.
 *  Kept free of per-request work the answer does not need: no URL unless the request has a query,
 *  body chunks collected by listeners rather than an async iterator. */
async function handleCodePipeline(parts: HttpServerParts, request: IncomingMessage, response: ServerResponse, url: URL | undefined, operationName: string): Promise<void> {
  const rule = matchFault(parts.faults, operationName);
  if (rule?.latencyMs) await new Promise((resolve) => setTimeout(resolve, rule.latencyMs));
  const roll = () => parts.random();

  const body = await readBody(request, MAX_JSON_BODY);
  const signer = readSigner(request, url?.searchParams ?? NO_QUERY);
  if (!signer) return sendJsonError(response, new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403));
  if (rule?.throttleRate && roll() < rule.throttleRate) return sendJsonError(response, new AwsError('ThrottlingException', 'Rate exceeded'));
  if (rule?.errorRate && roll() < rule.errorRate) return sendJsonError(response, new AwsError('InternalFailure', 'An internal error occurred.', 500));
  const operation = parts.operations.get(operationName);
  if (!operation) return sendJsonError(response, new AwsError('UnknownOperationException', `Unknown operation ${operationName}`));
  let input: Record<string, unknown>;
  try {
    const text = body.toString('utf8');
    input = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error('not an object');
  } catch {
    return sendJsonError(response, new AwsError('SerializationException', 'Request body is not a JSON object'));
  }
  let output: unknown;
  try {
    output = await operation(input, parts.context, { signer });
  } catch (error) {
    if (error instanceof AwsError) return sendJsonError(response, error);
    throw error;
  }
  if (rule?.dropResponseRate && roll() < rule.dropResponseRate) return void request.socket.destroy();
  const payload = output === undefined ? '' : output instanceof JsonText ? output.text : JSON.stringify(output);
  response.writeHead(200, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(payload);
}

/** STS's Query protocol: a form-encoded `POST /` with no X-Amz-Target (S3 never gets such a POST). */
function isStsRequest(request: IncomingMessage, url: URL): boolean {
  const type = request.headers['content-type'] ?? '';
  return request.method === 'POST' && url.pathname === '/' && type.startsWith('application/x-www-form-urlencoded');
}

/** Just enough STS for clients to learn the account: GetCallerIdentity. */
async function handleSts(context: EmulatorContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const form = new URLSearchParams((await readBody(request, MAX_JSON_BODY)).toString('utf8'));
  const signer = readSigner(request, NO_QUERY);
  const send = (status: number, body: string) => {
    response.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID() });
    response.end(body);
  };
  if (!signer) return send(403, '<ErrorResponse><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message></Error></ErrorResponse>');
  if (form.get('Action') !== 'GetCallerIdentity') {
    return send(400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation ${escapeXml(form.get('Action') ?? '')} for version ${escapeXml(form.get('Version') ?? '')}</Message></Error></ErrorResponse>`);
  }
  send(
    200,
    `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${context.accountId}:user/cpsync-local</Arn><UserId>${escapeXml(signer.accessKeyId)}</UserId><Account>${context.accountId}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  );
}

function matchFault(faults: readonly FaultRule[], operation: string): FaultRule | undefined {
  if (!faults.length) return undefined;
  return (
    faults.find((rule) => rule.operation === operation) ??
    (operation.startsWith('s3:') ? faults.find((rule) => rule.operation === 's3:*') : undefined) ??
    faults.find((rule) => rule.operation === '*')
  );
}

/** Names an S3 REST request the way AWS names the operation, for fault rules. */
export function s3OperationName(request: IncomingMessage, url: URL): string {
  const parts = url.pathname.split('/').filter(Boolean);
  const hasKey = parts.length > 1;
  const q = url.searchParams;
  switch (request.method) {
    case 'PUT':
      if (!hasKey) return 'CreateBucket';
      if (q.has('partNumber') && q.has('uploadId')) return 'UploadPart';
      return 'PutObject';
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload';
      if (q.has('uploadId')) return 'CompleteMultipartUpload';
      if (q.has('delete')) return 'DeleteObjects';
      return 'PostObject';
    case 'GET':
      if (!parts.length) return 'ListBuckets';
      if (!hasKey) return 'ListObjectsV2';
      return 'GetObject';
    case 'HEAD':
      return hasKey ? 'HeadObject' : 'HeadBucket';
    case 'DELETE':
      if (q.has('uploadId')) return 'AbortMultipartUpload';
      return hasKey ? 'DeleteObject' : 'DeleteBucket';
    default:
      return 'Unknown';
  }
}

/** Collects a small request body. Listeners, not `for await`: an async iterator per request costs
 *  more than the rest of a typical CodePipeline call. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.destroy();
        reject(new AwsError('ValidationException', 'Request body too large'));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

async function drain(request: IncomingMessage): Promise<void> {
  for await (const _ of request) {
    // discard
  }
}

export function sendJsonError(response: ServerResponse, error: AwsError): void {
  const payload = JSON.stringify({ __type: error.type, message: error.message });
  response.writeHead(error.status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': error.type,
  });
  response.end(payload);
}

export function sendS3Error(response: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const fields = Object.entries({ Code: code, Message: message, ...extra, RequestId: randomUUID() })
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  const payload = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${fields}</Error>`;
  response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(payload), 'x-amz-request-id': randomUUID() });
  response.end(payload);
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}
