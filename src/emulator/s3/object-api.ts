// Writes an object on behalf of the rest of the endpoint (no HTTP request): the job engine copies
// S3 source artifacts into the artifact store through `ObjectStoreApi.putObject`.

import { createHash } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import { stageStream } from './disk-files.js';
import { isMd5Etag, renderUploadEtag } from './etags.js';
import { DEFAULT_CONTENT_TYPE } from './object-headers.js';
import type { ObjectRecord, ObjectStore } from './object-store.js';
import { resolveEncryption } from './sse.js';

export interface DirectWriteMeta {
  readonly serverSideEncryption?: string;
  readonly kmsKeyId?: string;
  readonly contentType?: string;
}

export async function writeObjectFrom(
  objects: ObjectStore,
  context: EmulatorContext,
  bucket: string,
  key: string,
  source: AsyncIterable<Buffer | string>,
  meta: DirectWriteMeta,
): Promise<ObjectRecord> {
  if (!objects.getBucket(bucket)) throw new Error(`putObject: bucket ${bucket} does not exist`);
  const encryption = resolveEncryption({ serverSideEncryption: meta.serverSideEncryption, kmsKeyId: meta.kmsKeyId }, context.region, context.accountId);
  const md5 = isMd5Etag(encryption) ? createHash('md5') : undefined;
  async function* buffers(): AsyncGenerator<Buffer> {
    for await (const chunk of source) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
  const staged = await stageStream(objects.stagingDir(bucket), buffers(), (chunk) => md5?.update(chunk));
  return objects.commitObject(
    bucket,
    {
      key,
      etag: renderUploadEtag(encryption, md5?.digest('hex')),
      lastModified: context.now(),
      contentType: meta.contentType ?? DEFAULT_CONTENT_TYPE,
      headers: {},
      encryption,
    },
    staged,
  );
}
