// The client side of `npm run bench -- local`, one transfer per process so the harness can time it
// against `cp`:
//
//   node --import tsx bench/local-client.ts upload   <endpoint> <bucket> <key> <file>
//   node --import tsx bench/local-client.ts download <endpoint> <bucket> <key> <file>
//   node --import tsx bench/local-client.ts noop     (loads the SDK and exits: the start-up share of the above)
//
// Upload is `@aws-sdk/lib-storage`'s Upload (multipart, 16 MiB parts, 4 in flight, SSE aws:kms);
// download is GetObject streamed to a file. Both stream: neither holds the file in memory.

import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const PART_SIZE = 16 * 1024 * 1024;
export const QUEUE_SIZE = 4;

const [mode, endpoint, bucket, key, file] = process.argv.slice(2);

function client(): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDBENCHBENCH', secretAccessKey: 'bench-secret' },
    maxAttempts: 1,
  });
}

if (mode === 'noop') {
  client().destroy();
} else if (mode === 'upload' && endpoint && bucket && key && file) {
  const s3 = client();
  const upload = new Upload({
    client: s3,
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
    params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1024 * 1024 }), ServerSideEncryption: 'aws:kms' },
  });
  const result = await upload.done();
  if (!result.ETag?.endsWith('"') || !/-\d+"$/.test(result.ETag)) throw new Error(`not a multipart upload: ETag ${result.ETag}`);
  s3.destroy();
} else if (mode === 'download' && endpoint && bucket && key && file) {
  const s3 = client();
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(answer.Body as Readable, createWriteStream(file, { highWaterMark: 1024 * 1024 }));
  const size = statSync(file).size;
  if (size !== answer.ContentLength) throw new Error(`downloaded ${size} bytes, expected ${answer.ContentLength}`);
  s3.destroy();
} else {
  process.stderr.write('usage: local-client.ts upload|download <endpoint> <bucket> <key> <file> | noop\n');
  process.exit(2);
}
