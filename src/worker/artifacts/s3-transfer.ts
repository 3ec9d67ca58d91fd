// The ArtifactTransfer over the real S3 SDK, with the job's temporary credentials in the bucket's
// Region (SigV4, which SSE-KMS objects require). Clients come from a small pool keyed by the
// credentials, so a job's download and upload (and jobs sharing credentials) reuse one client,
// its signing key and its connections. Downloads are extracted as they stream in (ranged-zip.ts:
// the tail first, then the body in file order, no staging file); a small output is zipped in
// memory and sent with one PutObject, a large one streams from the zipper into a multipart upload
// through a few reused part buffers. Memory stays flat either way.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { CompletedPart, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type { ArtifactTransfer, ExtractLimits, TransferTarget } from '../types.js';
import { JobFailure } from '../types.js';
import { extractArchive } from './extract.js';
import { openS3Zip, type RangedGet } from './ranged-zip.js';
import { classifyTransferError, type TransferSite } from './transfer-errors.js';
import { zipDirectory, type ZipStream } from './zip.js';

const MIB = 1024 * 1024;
/** S3's smallest part (except the last). */
export const MIN_PART_SIZE = 5 * MIB;

export interface ArtifactTransferOptions {
  /** Multipart part size; at least 5 MiB. Memory for uploads is about partSize × queueSize. */
  readonly partSize?: number;
  /** Parts uploaded in parallel (default 2: deflate, not the network, limits the pace, and each
   *  part in flight is partSize of memory; bench/worker.ts measured 4 as ~20 MiB more peak RSS and
   *  no faster). */
  readonly queueSize?: number;
  /** SDK attempts per request (throttling and 5xx are retried with backoff). */
  readonly maxAttempts?: number;
  /** Ranged GETs in flight at once for a large input artifact, each for a stretch of at least
   *  64 MiB (default 1: against a local endpoint on two cores a second stream only added CPU; far
   *  from S3, where one connection carries less than extraction consumes, 2–4 help). */
  readonly downloadStreams?: number;
  /** How long a client nobody uses is kept for the next transfer with the same credentials. */
  readonly clientIdleMs?: number;
}

/** A client unused this long is closed (a job's tool usually runs between its two transfers). */
const CLIENT_IDLE_MS = 30_000;
/** At most this many unused clients are kept; the least recently used are closed first. */
const MAX_IDLE_CLIENTS = 16;

// The SDK is imported on first use so `cpsync --help` and `cpsync validate` do not load it.
let sdk: Promise<[typeof import('@aws-sdk/client-s3')]> | undefined;
function loadSdk() {
  sdk ??= Promise.all([import('@aws-sdk/client-s3')]);
  return sdk;
}

/** A client lent for one transfer; `release` hands it back (once). */
interface ClientLease {
  readonly client: S3Client;
  release(): void;
}

interface PooledClient {
  readonly key: string;
  readonly client: S3Client;
  users: number;
  idle?: NodeJS.Timeout;
}

/**
 * S3 clients by everything they sign with: Region, endpoint and the whole credential set. A first
 * request on a new client resolves its configuration, derives a SigV4 signing key and opens a
 * connection (~3 ms of CPU here); a transfer with the same credentials reuses all three. A client is
 * only ever shared by transfers that hold the same credentials, so no job signs with another's.
 */
class ClientPool {
  /** In order of last use: the first unused ones are the ones to close. */
  private readonly clients = new Map<string, PooledClient>();
  /** Connections are shared by every client: each job has credentials of its own, so a client per
   *  job would open a connection per job. A connection carries no identity (every request is
   *  signed), so sharing it lends nothing of one job to another. The SDK's own defaults. */
  private readonly agents = { httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 50 }), httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 50 }) };

  constructor(
    private readonly maxAttempts: number,
    private readonly idleMs: number,
  ) {}

  async acquire(target: TransferTarget): Promise<ClientLease> {
    const [{ S3Client }] = await loadSdk();
    const { accessKeyId, secretAccessKey, sessionToken } = target.credentials;
    // Hashed, so the map holds no second copy of the secret in a form that could be printed.
    const key = createHash('sha256').update(JSON.stringify([target.region, target.endpoint ?? '', accessKeyId, secretAccessKey, sessionToken])).digest('base64');
    let pooled = this.clients.get(key);
    if (pooled) {
      clearTimeout(pooled.idle);
      pooled.idle = undefined;
      this.clients.delete(key);
    } else {
      const client = new S3Client({
        region: target.region,
        credentials: { accessKeyId, secretAccessKey, sessionToken },
        maxAttempts: this.maxAttempts,
        ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
        requestHandler: this.agents,
      });
      pooled = { key, client, users: 0 };
    }
    this.clients.set(key, pooled);
    pooled.users += 1;
    const lent = pooled;
    let released = false;
    return {
      client: lent.client,
      release: () => {
        if (released) return;
        released = true;
        this.release(lent);
      },
    };
  }

  /** Clients held now (in use or idle). */
  size(): number {
    return this.clients.size;
  }

  private release(pooled: PooledClient): void {
    pooled.users -= 1;
    if (pooled.users > 0) return;
    pooled.idle = setTimeout(() => this.close(pooled), this.idleMs);
    pooled.idle.unref();
    let idle = 0;
    for (const other of this.clients.values()) if (other.users === 0) idle += 1;
    for (const other of [...this.clients.values()]) {
      if (idle <= MAX_IDLE_CLIENTS) break;
      if (other.users > 0) continue;
      this.close(other);
      idle -= 1;
    }
  }

  private close(pooled: PooledClient): void {
    if (pooled.users > 0) return;
    clearTimeout(pooled.idle);
    if (this.clients.get(pooled.key) === pooled) this.clients.delete(pooled.key);
    // Not client.destroy(): it would destroy the shared agents. The client holds nothing else, and
    // the agents' idle connections do not keep the process alive (Node unrefs them).
  }
}

/** The job's cancellation, when that is why a transfer failed (its own error is then only noise). */
function abortedOr(error: unknown, signal: AbortSignal): unknown {
  return signal.aborted ? Object.assign(new Error('aborted'), { name: 'AbortError' }) : error;
}

function siteOf(target: TransferTarget, direction: TransferSite['direction']): TransferSite {
  return { direction, artifact: target.location.name, bucket: target.location.bucketName, key: target.location.objectKey };
}

/** The transfer, plus how many clients its pool holds (for tests). */
export interface PooledArtifactTransfer extends ArtifactTransfer {
  clientCount(): number;
}

export function createArtifactTransfer(options: ArtifactTransferOptions = {}): PooledArtifactTransfer {
  const partSize = Math.max(options.partSize ?? 8 * MIB, MIN_PART_SIZE);
  const queueSize = Math.max(options.queueSize ?? 2, 1);
  const maxAttempts = options.maxAttempts ?? 3;
  const downloadStreams = Math.max(options.downloadStreams ?? 1, 1);
  const clients = new ClientPool(maxAttempts, options.clientIdleMs ?? CLIENT_IDLE_MS);

  async function downloadAndExtract(target: TransferTarget, directory: string, limits: ExtractLimits, signal: AbortSignal) {
    // Extraction reads the object's tail (central directory) first and then its body in file order,
    // checking every entry against the central directory: a plain streaming unzipper would have to
    // trust local headers, which is how zip-slip and size lies get past readers.
    try {
      await mkdir(directory, { recursive: true });
    } catch (error) {
      throw classifyTransferError(error, siteOf(target, 'extract'));
    }
    const lease = await clients.acquire(target);
    const client = lease.client;
    try {
      const [{ GetObjectCommand }] = await loadSdk();
      const { bucketName: Bucket, objectKey: Key } = target.location;
      const get: RangedGet = (Range, IfMatch, abortSignal) => client.send(new GetObjectCommand({ Bucket, Key, Range, ...(IfMatch ? { IfMatch } : {}) }), { abortSignal });
      const source = await openS3Zip({ get, site: siteOf(target, 'download'), signal, resumes: maxAttempts - 1, streams: { count: downloadStreams } });
      return await extractArchive(source, directory, { artifact: target.location.name, limits, signal });
    } catch (error) {
      // Download failures are already JobFailures naming the object; what is left is the workspace's.
      if (error instanceof JobFailure) throw error;
      throw classifyTransferError(abortedOr(error, signal), siteOf(target, signal.aborted ? 'download' : 'extract'));
    } finally {
      lease.release();
    }
  }

  async function zipAndUpload(target: TransferTarget, directory: string, kmsKeyId: string | undefined, signal: AbortSignal) {
    const { bucketName, objectKey } = target.location;
    const lease = await clients.acquire(target);
    let zipped: ZipStream | undefined;
    const onAbort = () => zipped?.cancel(Object.assign(new Error('the upload was cancelled'), { name: 'AbortError' }));
    try {
      signal.throwIfAborted();
      zipped = await zipDirectory(directory, target.location.name);
      const params = {
        Bucket: bucketName,
        Key: objectKey,
        ContentType: 'application/zip',
        // Always aws:kms: artifact buckets deny other uploads. The key id only when the store has one.
        ServerSideEncryption: 'aws:kms',
        ...(kmsKeyId ? { SSEKMSKeyId: kmsKeyId } : {}),
      } satisfies Omit<PutObjectCommandInput, 'Body'>;
      // Cancelling fails the body stream and the requests in flight; a multipart upload already
      // begun is aborted before this rejects, so no parts are left billed.
      signal.addEventListener('abort', onAbort, { once: true });
      signal.throwIfAborted();
      if (zipped.buffer) await putObject(lease.client, params, zipped.buffer, signal);
      else await uploadStream(lease.client, params, zipped.stream, partSize, queueSize, signal);
      return { files: zipped.files, bytes: zipped.bytes() };
    } catch (error) {
      zipped?.cancel();
      throw classifyTransferError(abortedOr(error, signal), siteOf(target, 'upload'));
    } finally {
      signal.removeEventListener('abort', onAbort);
      lease.release();
    }
  }

  return { downloadAndExtract, zipAndUpload, clientCount: () => clients.size() };
}

type UploadParams = Omit<PutObjectCommandInput, 'Body'> & { readonly Bucket: string; readonly Key: string };

/** One PutObject: what an artifact that fits in one part needs (no multipart calls). */
async function putObject(client: S3Client, params: UploadParams, body: Buffer, signal: AbortSignal): Promise<void> {
  const [{ PutObjectCommand }] = await loadSdk();
  await client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.length }), { abortSignal: signal });
}

/**
 * Uploads a stream: one PutObject if it ends within the first part, else a multipart upload with
 * up to `queueSize` parts in flight. Parts are filled by copying the stream's chunks into
 * `partSize` buffers that are reused once their part is stored, so memory is about
 * (queueSize + 1) × partSize whatever the size, and no part is assembled twice (lib-storage's
 * chunker concatenates every part from the stream's chunks into a fresh buffer). On any failure the
 * multipart upload is aborted before this rejects. Checksums as lib-storage does them: with the
 * SDK's default WHEN_SUPPORTED, the upload is created with CRC32 and each part's CRC32 (computed by
 * the SDK) goes into CompleteMultipartUpload.
 */
async function uploadStream(client: S3Client, params: UploadParams, body: Readable, partSize: number, queueSize: number, signal: AbortSignal): Promise<void> {
  const [{ AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand }] = await loadSdk();
  const spare: Buffer[] = [];
  const parts = readParts(body, partSize, () => spare.pop() ?? Buffer.allocUnsafeSlow(partSize));
  const first = await parts.next();
  if (first.done || first.value.last) {
    await putObject(client, params, first.done ? Buffer.alloc(0) : first.value.data, signal);
    return;
  }
  const withChecksums = (await client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  // Create and Complete run without the signal: cut off mid-request, the upload might exist
  // without our knowing its id (or be completed after all); a cancelled job instead stops
  // between requests, and the parts in flight, and the upload is aborted.
  const created = await client.send(new CreateMultipartUploadCommand({ ...params, ...(withChecksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}) }));
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  const { Bucket, Key } = params;
  const done: CompletedPart[] = [];
  let failed = false;
  const send = async (part: FilledPart) => {
    const result = await client.send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber: part.number, Body: part.data, ContentLength: part.data.length }), { abortSignal: signal });
    if (!result.ETag) throw new Error(`UploadPart ${part.number} returned no ETag`);
    done.push({ PartNumber: part.number, ETag: result.ETag, ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}) });
    // Stored: the SDK holds no reference to the body once send() has resolved.
    spare.push(part.buffer);
  };
  const uploader = async (firstPart?: FilledPart) => {
    if (firstPart) await send(firstPart);
    while (!failed) {
      const next = await parts.next();
      if (next.done) return;
      await send(next.value);
    }
  };
  try {
    signal.throwIfAborted();
    const uploaders = [uploader(first.value), ...Array.from({ length: queueSize - 1 }, () => uploader())];
    const settled = await Promise.allSettled(uploaders.map((running) => running.catch((error: unknown) => {
      failed = true;
      throw error;
    })));
    const rejected = settled.find((result) => result.status === 'rejected');
    if (rejected) throw (rejected as PromiseRejectedResult).reason;
    done.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    signal.throwIfAborted();
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: done } }));
  } catch (error) {
    // Not with the job's signal: the abort must go out even when that signal is why we stop.
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch((abortError: unknown) => {
      if (error instanceof Error && error.cause === undefined) error.cause = abortError;
    });
    throw error;
  }
}

export interface FilledPart {
  readonly number: number;
  /** The part's bytes: a view of `buffer`. */
  readonly data: Buffer;
  /** The whole buffer, to reuse once the part is stored. */
  readonly buffer: Buffer;
  /** The stream ended with this part. */
  readonly last: boolean;
}

/** The stream's bytes in parts of exactly `partSize` (the last one up to `partSize`, empty only
 *  for an empty stream), each copied into a buffer from `take`. A full part is handed out once more
 *  data follows it, so the last part is never empty (S3 wants data in every part). */
export async function* readParts(body: Readable, partSize: number, take: () => Buffer): AsyncGenerator<FilledPart, void, undefined> {
  let number = 1;
  let buffer = take();
  let filled = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      if (filled === partSize) {
        yield { number, data: buffer, buffer, last: false };
        number += 1;
        buffer = take();
        filled = 0;
      }
      const n = Math.min(chunk.length - offset, partSize - filled);
      chunk.copy(buffer, filled, offset, offset + n);
      filled += n;
      offset += n;
    }
  }
  yield { number, data: buffer.subarray(0, filled), buffer, last: true };
}
