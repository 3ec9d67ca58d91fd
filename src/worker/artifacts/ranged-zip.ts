// An input artifact in S3 as a ZipSource (extract.ts), so extraction overlaps the download and no
// staging file is written. A ZIP's central directory is at its end, so the first request is a
// ranged GET of the object's last TAIL_BYTES: its Content-Range tells the object's size, it holds
// the end records and (nearly always) the whole central directory, and a small artifact arrives
// whole in it, in one request. The rest is one streaming GET, consumed front to back while entries
// are written. Every later request carries If-Match with the first response's ETag, so the parts
// cannot come from two versions of the object. A body that breaks off mid-way is picked up again
// from where it stopped (the SDK retries a request, not a body already streaming).

import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { JobFailure } from '../types.js';
import { TAIL_BYTES, type ZipSource } from './extract.js';
import { classifyTransferError, type TransferSite } from './transfer-errors.js';

/** One ranged GetObject of the artifact (s3-transfer.ts sends it with the job's credentials). */
export type RangedGet = (range: string, ifMatch: string | undefined, signal: AbortSignal) => Promise<GetObjectCommandOutput>;

export interface S3ZipRequest {
  readonly get: RangedGet;
  readonly site: TransferSite;
  readonly signal: AbortSignal;
  /** How many times a body that breaks off is requested again from where it stopped. */
  readonly resumes: number;
  /** Body GETs in flight at once for a large artifact (one connection each; default 1), each
   *  for a stretch of at least `minBytes` (default 64 MiB). */
  readonly streams?: { readonly count: number; readonly minBytes?: number };
}

const MIN_STREAM_BYTES = 64 * 1024 * 1024;

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

/** Fetches the object's tail (all of it when small) and returns it as a source for the rest. */
export async function openS3Zip(request: S3ZipRequest): Promise<ZipSource> {
  const { site, signal } = request;
  let lastError: unknown;
  for (let attempt = 0; attempt <= request.resumes; attempt++) {
    const response = await send(request, `bytes=-${TAIL_BYTES}`, undefined);
    if (!response) return { size: 0, tail: { start: 0, bytes: Buffer.alloc(0) }, read: () => emptyRange() };
    const { start, end, size } = rangeOf(response, site);
    if (end !== size) throw new JobFailure('SystemUnavailable', `could not download input artifact ${site.artifact} from s3://${site.bucket}/${site.key}: S3 answered a request for the object's end with bytes ${start}–${end} of ${size}`);
    try {
      const bytes = await readWhole(response, end - start);
      const etag = response.ETag;
      return { size, tail: { start, bytes }, streams: { count: request.streams?.count ?? 1, minBytes: request.streams?.minBytes ?? MIN_STREAM_BYTES }, read: (from, to, stop) => readRange({ ...request, signal: stop }, etag, size, from, to) };
    } catch (error) {
      if (signal.aborted) throw classifyTransferError(abortError(), site);
      lastError = error;
    }
  }
  throw brokenOff(site, lastError);
}

async function* emptyRange(): AsyncGenerator<Buffer> {
  // An empty object has nothing before its (empty) tail.
}

/** One GetObject; undefined for a range S3 cannot satisfy, which only an empty object gives here.
 *  `request.signal` may be the extraction's own (it stops the other streams when one fails): an
 *  abort is reported as a cancellation either way, and the extraction reports its first error. */
async function send(request: S3ZipRequest, range: string, etag: string | undefined): Promise<GetObjectCommandOutput | undefined> {
  const { get, site, signal } = request;
  try {
    signal.throwIfAborted();
    return await get(range, etag, signal);
  } catch (error) {
    if (signal.aborted) throw classifyTransferError(abortError(), site);
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 416 && etag === undefined) return undefined;
    if (status === 412) {
      throw new JobFailure('SystemUnavailable', `could not download input artifact ${site.artifact} from s3://${site.bucket}/${site.key}: the object changed while it was being downloaded (PreconditionFailed, HTTP 412)`);
    }
    throw classifyTransferError(error, site);
  }
}

/** The byte range a response holds: its Content-Range, or the whole object when S3 sent it all. */
function rangeOf(response: GetObjectCommandOutput, site: TransferSite): { start: number; end: number; size: number } {
  const match = response.ContentRange ? CONTENT_RANGE.exec(response.ContentRange) : null;
  if (match) {
    const [start, last, size] = [Number(match[1]), Number(match[2]), Number(match[3])];
    return { start, end: last + 1, size };
  }
  if (!response.ContentRange && response.ContentLength !== undefined && response.ContentLength <= TAIL_BYTES) {
    return { start: 0, end: response.ContentLength, size: response.ContentLength };
  }
  throw new JobFailure('SystemUnavailable', `could not download input artifact ${site.artifact} from s3://${site.bucket}/${site.key}: S3 answered a ranged GET with ${JSON.stringify(response.ContentRange ?? `${response.ContentLength} bytes and no Content-Range`)}`);
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function readWhole(response: GetObjectCommandOutput, length: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(length);
  let received = 0;
  for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
    const take = Math.min(chunk.byteLength, length - received);
    bytes.set(take === chunk.byteLength ? chunk : chunk.subarray(0, take), received);
    received += take;
  }
  if (received !== length) throw Object.assign(new Error(`the body ended after ${received} of ${length} bytes`), { code: 'ECONNRESET' });
  return bytes;
}

/** A resume that brought at least this much is progress, and does not count against `resumes`. */
const PROGRESS_BYTES = 1024 * 1024;

/** Bytes [start, end) as they arrive, resumed with a new ranged GET if the body breaks off. Only
 *  breaks without progress count against `resumes`: a long body on a flaky link gets through. */
async function* readRange(request: S3ZipRequest, etag: string | undefined, size: number, start: number, end: number): AsyncGenerator<Buffer> {
  const { site, signal } = request;
  let position = start;
  let lastError: unknown;
  for (let failures = 0; position < end; ) {
    if (failures > request.resumes) throw brokenOff(site, lastError, position, size);
    const response = await send(request, `bytes=${position}-${end - 1}`, etag);
    const range = response ? rangeOf(response, site) : undefined;
    if (!response || !range || range.start !== position || range.size !== size) {
      throw new JobFailure('SystemUnavailable', `could not download input artifact ${site.artifact} from s3://${site.bucket}/${site.key}: S3 did not send the bytes from offset ${position} it was asked for`);
    }
    const from = position;
    try {
      for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
        const bytes = asBuffer(chunk);
        const take = Math.min(bytes.length, end - position);
        position += take;
        yield take === bytes.length ? bytes : bytes.subarray(0, take);
        if (position >= end) break;
      }
      if (position < end) throw Object.assign(new Error(`the body ended at offset ${position}, before ${end}`), { code: 'ECONNRESET' });
    } catch (error) {
      if (signal.aborted) throw classifyTransferError(abortError(), site);
      lastError = error;
      failures = position - from >= PROGRESS_BYTES ? 1 : failures + 1;
    }
  }
}

function brokenOff(site: TransferSite, error: unknown, position?: number, size?: number): JobFailure {
  const code = (error as { code?: unknown } | undefined)?.code;
  const where = position !== undefined && size !== undefined ? ` after ${position} of ${size} bytes` : '';
  return new JobFailure(
    'SystemUnavailable',
    `could not download input artifact ${site.artifact} from s3://${site.bucket}/${site.key}: the download broke off${where} and resuming it failed too${typeof code === 'string' ? ` (${code})` : ''}`,
  );
}
