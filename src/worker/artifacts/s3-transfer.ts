// The ArtifactTransfer over the real S3 SDK: one client per call, built from the job's temporary
// credentials in the bucket's Region (SigV4, which SSE-KMS objects require). Downloads stream to a
// staging file, uploads stream from the zipper into a multipart Upload; memory stays flat either way.

import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArtifactTransfer, ExtractLimits, TransferTarget } from '../types.js';
import { JobFailure } from '../types.js';
import { detectArchiveFormat, HostileArchive, notZipMessage } from './archive-rules.js';
import { extractZip } from './extract.js';
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
}

// The SDK is imported on first use so `cpsync --help` and `cpsync validate` do not load it.
let sdk: Promise<[typeof import('@aws-sdk/client-s3'), typeof import('@aws-sdk/lib-storage')]> | undefined;
function loadSdk() {
  sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
  return sdk;
}

async function createClient(target: TransferTarget, maxAttempts: number): Promise<S3Client> {
  const [{ S3Client }] = await loadSdk();
  const { accessKeyId, secretAccessKey, sessionToken } = target.credentials;
  return new S3Client({
    region: target.region,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    maxAttempts,
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
  });
}

function siteOf(target: TransferTarget, direction: TransferSite['direction']): TransferSite {
  return { direction, artifact: target.location.name, bucket: target.location.bucketName, key: target.location.objectKey };
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export function createArtifactTransfer(options: ArtifactTransferOptions = {}): ArtifactTransfer {
  const partSize = Math.max(options.partSize ?? 8 * MIB, MIN_PART_SIZE);
  const queueSize = Math.max(options.queueSize ?? 2, 1);
  const maxAttempts = options.maxAttempts ?? 3;

  async function downloadAndExtract(target: TransferTarget, directory: string, limits: ExtractLimits, signal: AbortSignal) {
    const { name, bucketName, objectKey } = target.location;
    // A ZIP's central directory is at its end, so extraction needs random access: the object is
    // streamed to a staging file first (beside the directory, inside the workspace, removed after).
    // Piping S3 straight into a streaming unzipper would have to trust local headers, which is how
    // zip-slip and size lies get past readers that never see the central directory.
    const staging = join(dirname(directory), `.${basename(directory)}.${randomUUID()}.zip.part`);
    try {
      await mkdir(directory, { recursive: true });
    } catch (error) {
      throw classifyTransferError(error, siteOf(target, 'extract'));
    }
    const client = await createClient(target, maxAttempts);
    try {
      try {
        signal.throwIfAborted();
        const [{ GetObjectCommand }] = await loadSdk();
        const response = await client.send(new GetObjectCommand({ Bucket: bucketName, Key: objectKey }), { abortSignal: signal });
        let received = 0;
        const count = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            received += chunk.length;
            callback(null, chunk);
          },
        });
        await pipeline(response.Body as Readable, count, createWriteStream(staging, { flags: 'wx', mode: 0o600 }), { signal });
        if (response.ContentLength !== undefined && received !== response.ContentLength) {
          throw new JobFailure('SystemUnavailable', `could not download input artifact ${name} from s3://${bucketName}/${objectKey}: the download ended after ${received} of ${response.ContentLength} bytes`);
        }
      } catch (error) {
        throw classifyTransferError(signal.aborted ? Object.assign(new Error('aborted'), { name: 'AbortError' }) : error, siteOf(target, 'download'));
      }
      const format = detectArchiveFormat(await readHead(staging));
      if (format !== 'zip' && format !== 'empty-zip') throw new HostileArchive('not-zip', notZipMessage(name, format));
      try {
        return await extractZip(staging, directory, { artifact: name, limits, signal });
      } catch (error) {
        throw classifyTransferError(error, siteOf(target, 'extract'));
      }
    } finally {
      client.destroy();
      await rm(staging, { force: true });
    }
  }

  async function zipAndUpload(target: TransferTarget, directory: string, kmsKeyId: string | undefined, signal: AbortSignal) {
    const { bucketName, objectKey } = target.location;
    const client = await createClient(target, maxAttempts);
    let zipped: ZipStream | undefined;
    const onAbort = () => zipped?.cancel(Object.assign(new Error('the upload was cancelled'), { name: 'AbortError' }));
    try {
      signal.throwIfAborted();
      const [, { Upload }] = await loadSdk();
      zipped = await zipDirectory(directory, target.location.name);
      const upload = new Upload({
        client,
        params: {
          Bucket: bucketName,
          Key: objectKey,
          Body: zipped.stream,
          ContentType: 'application/zip',
          // Always aws:kms: artifact buckets deny other uploads. The key id only when the store has one.
          ServerSideEncryption: 'aws:kms',
          ...(kmsKeyId ? { SSEKMSKeyId: kmsKeyId } : {}),
        },
        partSize,
        queueSize,
        // false: on any failure lib-storage sends AbortMultipartUpload, so no parts are left billed.
        leavePartsOnError: false,
      });
      // Cancelling fails the body stream rather than calling upload.abort(): abort() makes done()
      // reject at once and leaves AbortMultipartUpload racing our client.destroy(); a failed body
      // lets lib-storage abort the multipart upload before done() rejects.
      signal.addEventListener('abort', onAbort, { once: true });
      signal.throwIfAborted();
      await upload.done();
      return { files: zipped.files, bytes: zipped.bytes() };
    } catch (error) {
      zipped?.cancel();
      throw classifyTransferError(signal.aborted ? Object.assign(new Error('aborted'), { name: 'AbortError' }) : error, siteOf(target, 'upload'));
    } finally {
      signal.removeEventListener('abort', onAbort);
      client.destroy();
    }
  }

  return { downloadAndExtract, zipAndUpload };
}
