// The S3 REST side of the local endpoint (path style): routes a signed request, applies the access
// policies, runs the operation, and answers errors the way S3 does. Also offers the object store
// to the rest of the endpoint (`ObjectStoreApi`), which the job engine uses to copy artifacts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { EmulatorContext, ObjectStoreApi, RequestInfo } from '../context.js';
import type { FaultGate, S3Handler } from '../server.js';
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, uploadPart } from './multipart-operations.js';
import { createBucket, deleteBucket, headBucket, listBuckets, listObjectsV2 } from './bucket-operations.js';
import type { S3Call } from './call.js';
import { S3Error, s3Errors } from './errors.js';
import { deleteObject, getObject, putObject } from './object-operations.js';
import { ObjectStore } from './object-store.js';
import { decideAccess, type S3Access } from './policy.js';
import { drainRequest, sendError } from './respond.js';
import { parseTarget, routeS3Request, type S3Route } from './routing.js';
import { parseEncryptionHeaders, type RequestedEncryption } from './sse.js';
import { UploadStore } from './upload-store.js';
import { writeObjectFrom } from './object-api.js';
import { header } from './payload.js';

export interface S3Backend {
  readonly handler: S3Handler;
  readonly objects: ObjectStoreApi;
  close(): Promise<void>;
}

export function createS3Backend(context: () => EmulatorContext, dir: string): S3Backend {
  const objects = new ObjectStore(dir);
  const uploads = new UploadStore(dir);
  const inFlight = new Set<Promise<void>>();

  const handler: S3Handler = async (request, response, _url, info, faults) => {
    const work = handleRequest({ request, response, info, faults, context: context(), objects, uploads });
    inFlight.add(work);
    try {
      await work;
    } finally {
      inFlight.delete(work);
    }
  };

  const api: ObjectStoreApi = {
    createBucket: (bucket) => void objects.createBucket(bucket, context().region, context().now()),
    hasBucket: (bucket) => objects.getBucket(bucket) !== undefined,
    async openObject(bucket, key) {
      const opened = await objects.openObject(bucket, key);
      if (!opened) return undefined;
      // The version stays readable until the stream has been read or destroyed.
      const stream = opened.read(0, opened.record.size - 1);
      stream.once('close', () => void opened.close());
      return { stream, size: opened.record.size, etag: opened.record.etag };
    },
    async putObject(bucket, key, body, meta = {}) {
      const source = Buffer.isBuffer(body) ? Readable.from([body]) : (body as AsyncIterable<Buffer>);
      const record = await writeObjectFrom(objects, context(), bucket, key, source, meta);
      return { etag: record.etag };
    },
  };

  return {
    handler,
    objects: api,
    async close() {
      // Let requests that are mid-way finish their file work before the folder may be removed.
      await Promise.allSettled([...inFlight]);
    },
  };
}

interface Incoming {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly info: RequestInfo;
  readonly faults: FaultGate;
  readonly context: EmulatorContext;
  readonly objects: ObjectStore;
  readonly uploads: UploadStore;
}

async function handleRequest(incoming: Incoming): Promise<void> {
  const { request, response } = incoming;
  try {
    const target = parseTarget(request.url ?? '/');
    const call: S3Call = { ...incoming, query: target.query };
    const route = routeS3Request(request.method ?? 'GET', target, { copySource: header(request.headers, 'x-amz-copy-source') });
    if (route instanceof S3Error) throw route;
    const encryption = parseEncryptionHeaders(request.headers);
    if (encryption instanceof S3Error) throw encryption;
    authorize(call, route, encryption);
    await runOperation(call, route, encryption);
  } catch (error) {
    if (!(error instanceof S3Error)) {
      // A failure mid-stream (client gone, disk error): the connection cannot carry an answer.
      if (response.headersSent || request.destroyed) return void response.destroy();
      throw error;
    }
    if (response.headersSent) return void response.destroy();
    await drainRequest(request);
    sendError(request, response, error);
  }
}

function authorize(call: S3Call, route: S3Route, encryption: RequestedEncryption): void {
  const signer = call.info.signer;
  // Presigned URLs expire on S3's side: X-Amz-Date + X-Amz-Expires.
  const expires = call.query.get('X-Amz-Expires');
  if (expires !== null && signer.signedAt && call.context.now() > signer.signedAt.getTime() + Number(expires) * 1000) throw s3Errors.requestExpired();
  const decision = decideAccess(describeAccess(route, encryption), {
    credential: call.context.findCredential(signer.accessKeyId),
    now: call.context.now(),
    isArtifactStoreBucket: (bucket) => call.context.isArtifactStoreBucket(bucket),
  });
  if (decision === 'expired') throw s3Errors.expiredToken();
  if (decision === 'deny') throw s3Errors.accessDenied();
}

export function describeAccess(route: S3Route, encryption: RequestedEncryption): S3Access {
  switch (route.op) {
    case 'GetObject':
    case 'HeadObject':
      return { kind: 'read-object', bucket: route.bucket, key: route.key };
    case 'PutObject':
    case 'CreateMultipartUpload':
      return { kind: 'write-object', bucket: route.bucket, key: route.key, startsObject: true, serverSideEncryption: encryption.serverSideEncryption };
    case 'UploadPart':
    case 'CompleteMultipartUpload':
    case 'AbortMultipartUpload':
      return { kind: 'write-object', bucket: route.bucket, key: route.key, startsObject: false };
    case 'DeleteObject':
      return { kind: 'delete-object', bucket: route.bucket, key: route.key };
    case 'ListBuckets':
      return { kind: 'bucket' };
    default:
      return { kind: 'bucket', bucket: route.bucket };
  }
}

async function runOperation(call: S3Call, route: S3Route, encryption: RequestedEncryption): Promise<void> {
  switch (route.op) {
    case 'ListBuckets':
      return listBuckets(call);
    case 'CreateBucket':
      return createBucket(call, route.bucket);
    case 'HeadBucket':
      return headBucket(call, route.bucket);
    case 'DeleteBucket':
      return deleteBucket(call, route.bucket);
    case 'ListObjectsV2':
      return listObjectsV2(call, route.bucket);
    case 'PutObject':
      return putObject(call, route.bucket, route.key, encryption);
    case 'GetObject':
      return getObject(call, route.bucket, route.key, false);
    case 'HeadObject':
      return getObject(call, route.bucket, route.key, true);
    case 'DeleteObject':
      return deleteObject(call, route.bucket, route.key);
    case 'CreateMultipartUpload':
      return createMultipartUpload(call, route.bucket, route.key, encryption);
    case 'UploadPart':
      return uploadPart(call, route.bucket, route.key, route.uploadId, route.partNumber);
    case 'CompleteMultipartUpload':
      return completeMultipartUpload(call, route.bucket, route.key, route.uploadId);
    case 'AbortMultipartUpload':
      return abortMultipartUpload(call, route.bucket, route.key, route.uploadId);
  }
}
