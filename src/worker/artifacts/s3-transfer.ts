// The ArtifactTransfer over the real S3 SDK: one client per call, built from the job's temporary
// credentials in the bucket's Region (SigV4, which SSE-KMS objects require). Downloads are extracted
// as they stream in (ranged-zip.ts: the tail first, then the body in file order, no staging file),
// uploads stream from the zipper into a multipart Upload; memory stays flat either way.

import { mkdir } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
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

export function createArtifactTransfer(options: ArtifactTransferOptions = {}): ArtifactTransfer {
  const partSize = Math.max(options.partSize ?? 8 * MIB, MIN_PART_SIZE);
  const queueSize = Math.max(options.queueSize ?? 2, 1);
  const maxAttempts = options.maxAttempts ?? 3;
  const downloadStreams = Math.max(options.downloadStreams ?? 1, 1);

  async function downloadAndExtract(target: TransferTarget, directory: string, limits: ExtractLimits, signal: AbortSignal) {
    // Extraction reads the object's tail (central directory) first and then its body in file order,
    // checking every entry against the central directory: a plain streaming unzipper would have to
    // trust local headers, which is how zip-slip and size lies get past readers.
    try {
      await mkdir(directory, { recursive: true });
    } catch (error) {
      throw classifyTransferError(error, siteOf(target, 'extract'));
    }
    const client = await createClient(target, maxAttempts);
    try {
      const [{ GetObjectCommand }] = await loadSdk();
      const { bucketName: Bucket, objectKey: Key } = target.location;
      const get: RangedGet = (Range, IfMatch, abortSignal) => client.send(new GetObjectCommand({ Bucket, Key, Range, ...(IfMatch ? { IfMatch } : {}) }), { abortSignal });
      const source = await openS3Zip({ get, site: siteOf(target, 'download'), signal, resumes: maxAttempts - 1, streams: { count: downloadStreams } });
      return await extractArchive(source, directory, { artifact: target.location.name, limits, signal });
    } catch (error) {
      // Download failures are already JobFailures naming the object; what is left is the workspace's.
      if (error instanceof JobFailure) throw error;
      throw classifyTransferError(signal.aborted ? Object.assign(new Error('aborted'), { name: 'AbortError' }) : error, siteOf(target, signal.aborted ? 'download' : 'extract'));
    } finally {
      client.destroy();
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
