import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { readBody, s3ClientFor, s3Rejection, signedFetch } from '../helpers/s3-fixtures.js';

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

describe('s3: buckets', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
  });
  after(async () => t.close());

  it('creates, heads and lists a bucket; HeadBucket of a missing one is a bodiless 404 (NotFound)', async () => {
    await t.s3.send(new CreateBucketCommand({ Bucket: 'alpha-bucket' }));
    const head = await t.s3.send(new HeadBucketCommand({ Bucket: 'alpha-bucket' }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    assert.equal(head.BucketRegion, 'us-east-1');
    const list = await t.s3.send(new ListBucketsCommand({}));
    assert.deepEqual(list.Buckets?.map((bucket) => bucket.Name), ['alpha-bucket']);
    assert.ok(list.Buckets?.[0]?.CreationDate instanceof Date);
    const missing = await s3Rejection(t.s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })));
    assert.equal(missing.name, 'NotFound');
    assert.equal(missing.$metadata?.httpStatusCode, 404);
  });

  it('answers 200 to re-creating an owned bucket in us-east-1 and BucketAlreadyOwnedByYou elsewhere', async () => {
    await t.s3.send(new CreateBucketCommand({ Bucket: 'twice-bucket' }));
    const again = await t.s3.send(new CreateBucketCommand({ Bucket: 'twice-bucket' }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    const euClient = s3ClientFor(t.endpoint, { accessKeyId: 'AKIDEU', secretAccessKey: 'x' }, 'eu-west-1');
    try {
      await euClient.send(new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      assert.equal((await euClient.send(new HeadBucketCommand({ Bucket: 'eu-bucket' }))).BucketRegion, 'eu-west-1');
      const error = await s3Rejection(euClient.send(new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
      assert.equal(error.name, 'BucketAlreadyOwnedByYou');
      assert.equal(error.$metadata?.httpStatusCode, 409);
    } finally {
      euClient.destroy();
    }
  });

  it('refuses invalid bucket names with InvalidBucketName', async () => {
    for (const name of ['UpperCase', 'ab', 'a..b', '192.168.1.1', 'xn--abc']) {
      const error = await s3Rejection(signedFetch(t.endpoint, `/${name}`, { method: 'PUT' }).then(async (response) => {
        if (response.ok) return;
        throw Object.assign(new Error(await response.text()), { name: String(response.status) });
      }));
      assert.equal(error.name, '400', name);
      assert.match(error.message, /<Code>InvalidBucketName<\/Code>/, name);
    }
  });

  it('raises NoSuchBucket for object operations and listing in a missing bucket', async () => {
    const put = await s3Rejection(t.s3.send(new PutObjectCommand({ Bucket: 'missing-bucket', Key: 'k', Body: 'x' })));
    assert.ok(put instanceof NoSuchBucket, put.name);
    const list = await s3Rejection(t.s3.send(new ListObjectsV2Command({ Bucket: 'missing-bucket' })));
    assert.ok(list instanceof NoSuchBucket);
    const get = await s3Rejection(t.s3.send(new GetObjectCommand({ Bucket: 'missing-bucket', Key: 'k' })));
    assert.ok(get instanceof NoSuchBucket);
    assert.equal((get as unknown as { BucketName?: string }).BucketName, 'missing-bucket');
  });

  it('deletes only empty buckets (BucketNotEmpty otherwise)', async () => {
    await t.s3.send(new CreateBucketCommand({ Bucket: 'to-delete' }));
    await t.s3.send(new PutObjectCommand({ Bucket: 'to-delete', Key: 'k', Body: 'x' }));
    const error = await s3Rejection(t.s3.send(new DeleteBucketCommand({ Bucket: 'to-delete' })));
    assert.ok(error instanceof S3ServiceException);
    assert.equal(error.name, 'BucketNotEmpty');
    await t.s3.send(new DeleteObjectCommand({ Bucket: 'to-delete', Key: 'k' }));
    await t.s3.send(new DeleteBucketCommand({ Bucket: 'to-delete' }));
    assert.equal((await s3Rejection(t.s3.send(new HeadBucketCommand({ Bucket: 'to-delete' })))).name, 'NotFound');
  });

  it('answers NotImplemented for sub-resources it does not serve instead of a wrong answer', async () => {
    const response = await signedFetch(t.endpoint, '/alpha-bucket?versioning');
    assert.equal(response.status, 501);
    assert.match(await response.text(), /<Code>NotImplemented<\/Code>/);
  });
});

describe('s3: objects', () => {
  let t: TestEndpoint;
  const Bucket = 'objects-bucket';
  before(async () => {
    t = await startTestEndpoint();
    await t.s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => t.close());

  it('puts, gets, heads and deletes an object with its MD5 ETag, type and user metadata', async () => {
    const body = 'hello, artifact store';
    const put = await t.s3.send(new PutObjectCommand({ Bucket, Key: 'dir/hello.txt', Body: body, ContentType: 'text/plain', Metadata: { origin: 'test' }, CacheControl: 'no-cache' }));
    assert.equal(put.ETag, `"${md5(body)}"`);
    const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
    assert.equal(await get.Body?.transformToString(), body);
    assert.equal(get.ETag, put.ETag);
    assert.equal(get.ContentType, 'text/plain');
    assert.equal(get.ContentLength, body.length);
    assert.equal(get.CacheControl, 'no-cache');
    assert.deepEqual(get.Metadata, { origin: 'test' });
    assert.ok(get.LastModified instanceof Date && Math.abs(get.LastModified.getTime() - Date.now()) < 60_000);
    const head = await t.s3.send(new HeadObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, put.ETag);
    assert.equal(head.AcceptRanges, 'bytes');
    await t.s3.send(new DeleteObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
    const error = await s3Rejection(t.s3.send(new GetObjectCommand({ Bucket, Key: 'dir/hello.txt' })));
    assert.ok(error instanceof NoSuchKey, error.name);
    assert.equal(error.$metadata?.httpStatusCode, 404);
    // Deleting what is not there is still 204, as in S3.
    const again = await t.s3.send(new DeleteObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
    assert.equal(again.$metadata.httpStatusCode, 204);
  });

  it('answers HeadObject of a missing key with a bodiless 404 (NotFound)', async () => {
    const error = await s3Rejection(t.s3.send(new HeadObjectCommand({ Bucket, Key: 'nope' })));
    assert.equal(error.name, 'NotFound');
    assert.equal(error.$metadata?.httpStatusCode, 404);
  });

  it('keeps keys literal: dot segments, double slashes, spaces, plus signs and non-ASCII', async () => {
    const keys = ['a/../b', 'a//b', 'with space+plus', 'ünïcødé/ключ', '/leading', 'x?y#z%20'];
    for (const [index, Key] of keys.entries()) await t.s3.send(new PutObjectCommand({ Bucket, Key, Body: `body-${index}` }));
    for (const [index, Key] of keys.entries()) {
      const get = await t.s3.send(new GetObjectCommand({ Bucket, Key }));
      assert.equal(await get.Body?.transformToString(), `body-${index}`, Key);
    }
    const listed = await t.s3.send(new ListObjectsV2Command({ Bucket }));
    for (const key of keys) assert.ok(listed.Contents?.some((object) => object.Key === key), key);
    for (const Key of keys) await t.s3.send(new DeleteObjectCommand({ Bucket, Key }));
  });

  it('streams a body of unknown framing (aws-chunked with a CRC32 trailer) and stores the decoded bytes', async () => {
    const parts = [Buffer.from('first chunk '), Buffer.from('second chunk '), Buffer.alloc(70_000, 0x61)];
    const whole = Buffer.concat(parts);
    const put = await t.s3.send(new PutObjectCommand({ Bucket, Key: 'streamed', Body: Readable.from(parts), ContentLength: whole.length }));
    assert.equal(put.ETag, `"${md5(whole)}"`);
    assert.ok(put.ChecksumCRC32, 'the checksum sent in the trailer is echoed');
    const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'streamed', ChecksumMode: 'ENABLED' }));
    assert.ok((await readBody(get.Body)).equals(whole));
    assert.equal(get.ChecksumCRC32, put.ChecksumCRC32);
  });

  it('decodes signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and refuses truncated framing with IncompleteBody', async () => {
    const signature = 'a'.repeat(64);
    const chunks = ['hello ', 'signed world'];
    const framed = chunks.map((chunk) => `${chunk.length.toString(16)};chunk-signature=${signature}\r\n${chunk}\r\n`).join('') + `0;chunk-signature=${signature}\r\n\r\n`;
    const headers = { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '18' };
    const put = await signedFetch(t.endpoint, `/${Bucket}/signed-chunks`, { method: 'PUT', headers, body: framed });
    assert.equal(put.status, 200);
    assert.equal(put.headers.get('etag'), `"${md5('hello signed world')}"`);
    assert.equal(await (await t.s3.send(new GetObjectCommand({ Bucket, Key: 'signed-chunks' }))).Body?.transformToString(), 'hello signed world');
    const truncated = await signedFetch(t.endpoint, `/${Bucket}/truncated`, { method: 'PUT', headers, body: framed.slice(0, 40) });
    assert.equal(truncated.status, 400);
    assert.match(await truncated.text(), /<Code>IncompleteBody<\/Code>/);
    const wrongLength = await signedFetch(t.endpoint, `/${Bucket}/truncated`, { method: 'PUT', headers: { ...headers, 'x-amz-decoded-content-length': '99' }, body: framed });
    assert.equal(wrongLength.status, 400);
    assert.equal((await s3Rejection(t.s3.send(new HeadObjectCommand({ Bucket, Key: 'truncated' })))).name, 'NotFound');
  });

  it('returns stored checksums the SDK validates, and refuses a wrong one with BadDigest', async () => {
    await t.s3.send(new PutObjectCommand({ Bucket, Key: 'checked', Body: 'checked body', ChecksumAlgorithm: 'SHA256' }));
    const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'checked', ChecksumMode: 'ENABLED' }));
    assert.equal(await get.Body?.transformToString(), 'checked body');
    assert.equal(get.ChecksumSHA256, createHash('sha256').update('checked body').digest('base64'));
    const wrong = await s3Rejection(t.s3.send(new PutObjectCommand({ Bucket, Key: 'bad-crc', Body: 'body', ChecksumCRC32: 'AAAAAA==' })));
    assert.equal(wrong.name, 'BadDigest');
    const wrongMd5 = await s3Rejection(t.s3.send(new PutObjectCommand({ Bucket, Key: 'bad-md5', Body: 'body', ContentMD5: createHash('md5').update('other').digest('base64') })));
    assert.equal(wrongMd5.name, 'BadDigest');
    assert.equal((await s3Rejection(t.s3.send(new HeadObjectCommand({ Bucket, Key: 'bad-crc' })))).name, 'NotFound', 'a refused upload stores nothing');
  });

  it('stores and returns SSE headers: SSE-S3 by default, SSE-KMS with the aws/s3 key or the given one', async () => {
    const plain = await t.s3.send(new PutObjectCommand({ Bucket, Key: 'sse/plain', Body: 'p' }));
    assert.equal(plain.ServerSideEncryption, 'AES256');
    const managed = await t.s3.send(new PutObjectCommand({ Bucket, Key: 'sse/managed', Body: 'm', ServerSideEncryption: 'aws:kms' }));
    assert.equal(managed.ServerSideEncryption, 'aws:kms');
    assert.equal(managed.SSEKMSKeyId, 'arn:aws:kms:us-east-1:123456789012:alias/aws/s3');
    const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    await t.s3.send(new PutObjectCommand({ Bucket, Key: 'sse/custom', Body: 'c', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
    const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'sse/custom' }));
    await get.Body?.transformToString();
    assert.equal(get.ServerSideEncryption, 'aws:kms');
    assert.equal(get.SSEKMSKeyId, keyArn);
    const head = await t.s3.send(new HeadObjectCommand({ Bucket, Key: 'sse/managed' }));
    assert.equal(head.SSEKMSKeyId, 'arn:aws:kms:us-east-1:123456789012:alias/aws/s3');
    const bare = await t.s3.send(new PutObjectCommand({ Bucket, Key: 'sse/bare-id', Body: 'b', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }));
    assert.equal(bare.SSEKMSKeyId, keyArn, 'a bare key id comes back as its ARN');
    const invalid = await s3Rejection(t.s3.send(new PutObjectCommand({ Bucket, Key: 'sse/bad', Body: 'b', ServerSideEncryption: 'AES256', SSEKMSKeyId: keyArn })));
    assert.equal(invalid.name, 'InvalidArgument');
  });

  it('honours If-None-Match on reads (304) and on writes (412 PreconditionFailed)', async () => {
    const put = await t.s3.send(new PutObjectCommand({ Bucket, Key: 'conditional', Body: 'v1' }));
    const notModified = await s3Rejection(t.s3.send(new GetObjectCommand({ Bucket, Key: 'conditional', IfNoneMatch: put.ETag })));
    assert.equal(notModified.$metadata?.httpStatusCode, 304);
    const failed = await s3Rejection(t.s3.send(new GetObjectCommand({ Bucket, Key: 'conditional', IfMatch: '"0000"' })));
    assert.equal(failed.name, 'PreconditionFailed');
    const overwrite = await s3Rejection(t.s3.send(new PutObjectCommand({ Bucket, Key: 'conditional', Body: 'v2', IfNoneMatch: '*' })));
    assert.equal(overwrite.name, 'PreconditionFailed');
    assert.equal(await (await t.s3.send(new GetObjectCommand({ Bucket, Key: 'conditional' }))).Body?.transformToString(), 'v1');
  });
});

describe('s3: range reads', () => {
  let t: TestEndpoint;
  const Bucket = 'range-bucket';
  const body = '0123456789abcdefghij';
  before(async () => {
    t = await startTestEndpoint();
    await t.s3.send(new CreateBucketCommand({ Bucket }));
    await t.s3.send(new PutObjectCommand({ Bucket, Key: 'r', Body: body }));
  });
  after(async () => t.close());

  const cases = [
    { range: 'bytes=0-4', text: '01234', contentRange: 'bytes 0-4/20' },
    { range: 'bytes=15-', text: 'fghij', contentRange: 'bytes 15-19/20' },
    { range: 'bytes=-3', text: 'hij', contentRange: 'bytes 17-19/20' },
    { range: 'bytes=18-100', text: 'ij', contentRange: 'bytes 18-19/20' },
    { range: 'bytes=-100', text: body, contentRange: 'bytes 0-19/20' },
  ];
  for (const testCase of cases) {
    it(`${testCase.range} → 206 ${testCase.contentRange}`, async () => {
      const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'r', Range: testCase.range }));
      assert.equal(get.$metadata.httpStatusCode, 206);
      assert.equal(await get.Body?.transformToString(), testCase.text);
      assert.equal(get.ContentRange, testCase.contentRange);
      assert.equal(get.ContentLength, testCase.text.length);
    });
  }

  it('ignores a range S3 does not understand (several ranges, start after end): 200 and the whole object', async () => {
    for (const Range of ['bytes=0-1,4-5', 'bytes=5-2', 'items=0-1']) {
      const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'r', Range }));
      assert.equal(get.$metadata.httpStatusCode, 200, Range);
      assert.equal(await get.Body?.transformToString(), body);
    }
  });

  it('refuses an unsatisfiable range with 416 InvalidRange (and a bodiless 416 on HEAD)', async () => {
    const error = await s3Rejection(t.s3.send(new GetObjectCommand({ Bucket, Key: 'r', Range: 'bytes=20-' })));
    assert.equal(error.name, 'InvalidRange');
    assert.equal(error.$metadata?.httpStatusCode, 416);
    const raw = await signedFetch(t.endpoint, `/${Bucket}/r`, { headers: { range: 'bytes=-0' } });
    assert.equal(raw.status, 416);
    assert.equal(raw.headers.get('content-range'), 'bytes */20');
    assert.match(await raw.text(), /<ActualObjectSize>20<\/ActualObjectSize>/);
    const head = await s3Rejection(t.s3.send(new HeadObjectCommand({ Bucket, Key: 'r', Range: 'bytes=50-60' })));
    assert.equal(head.$metadata?.httpStatusCode, 416);
  });

  it('answers HeadObject with a range as 206 with Content-Range', async () => {
    const head = await t.s3.send(new HeadObjectCommand({ Bucket, Key: 'r', Range: 'bytes=2-5' }));
    assert.equal(head.$metadata.httpStatusCode, 206);
    assert.equal(head.ContentRange, 'bytes 2-5/20');
    assert.equal(head.ContentLength, 4);
  });
});

describe('s3: ListObjectsV2', () => {
  let t: TestEndpoint;
  const Bucket = 'list-bucket';
  const keys = ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'd/4.txt', 'e.txt', 'f/5.txt', 'f/6.txt'];
  before(async () => {
    t = await startTestEndpoint();
    await t.s3.send(new CreateBucketCommand({ Bucket }));
    for (const Key of [...keys].reverse()) await t.s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
  });
  after(async () => t.close());

  it('lists every key in order with size, ETag and date', async () => {
    const list = await t.s3.send(new ListObjectsV2Command({ Bucket }));
    assert.deepEqual(list.Contents?.map((object) => object.Key), keys);
    assert.equal(list.KeyCount, keys.length);
    assert.equal(list.IsTruncated, false);
    assert.equal(list.Contents?.[0]?.Size, 'a.txt'.length);
    assert.equal(list.Contents?.[0]?.ETag, `"${md5('a.txt')}"`);
    assert.equal(list.Contents?.[0]?.StorageClass, 'STANDARD');
    assert.ok(list.Contents?.[0]?.LastModified instanceof Date);
  });

  it('filters by prefix and rolls up by delimiter into CommonPrefixes', async () => {
    const root = await t.s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
    assert.deepEqual(root.Contents?.map((object) => object.Key), ['a.txt', 'e.txt']);
    assert.deepEqual(root.CommonPrefixes?.map((prefix) => prefix.Prefix), ['b/', 'd/', 'f/']);
    assert.equal(root.KeyCount, 5);
    const nested = await t.s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'b/', Delimiter: '/' }));
    assert.deepEqual(nested.Contents?.map((object) => object.Key), ['b/1.txt', 'b/2.txt']);
    assert.deepEqual(nested.CommonPrefixes?.map((prefix) => prefix.Prefix), ['b/c/']);
    assert.equal(nested.Prefix, 'b/');
    const none = await t.s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'zzz' }));
    assert.equal(none.KeyCount, 0);
    assert.equal(none.Contents, undefined);
  });

  it('pages with MaxKeys and ContinuationToken, counting CommonPrefixes as entries', async () => {
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    let pages = 0;
    do {
      const page = await t.s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/', MaxKeys: 2, ContinuationToken }));
      pages++;
      assert.ok((page.KeyCount ?? 0) <= 2);
      seen.push(...(page.Contents ?? []).map((object) => object.Key!), ...(page.CommonPrefixes ?? []).map((prefix) => prefix.Prefix!));
      assert.equal(page.IsTruncated, page.NextContinuationToken !== undefined);
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['a.txt', 'b/', 'd/', 'e.txt', 'f/']);
  });

  it('pages through every key without a delimiter', async () => {
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await t.s3.send(new ListObjectsV2Command({ Bucket, MaxKeys: 3, ContinuationToken }));
      seen.push(...(page.Contents ?? []).map((object) => object.Key!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    assert.deepEqual(seen, keys);
  });

  it('starts after StartAfter and refuses a forged continuation token', async () => {
    const list = await t.s3.send(new ListObjectsV2Command({ Bucket, StartAfter: 'b/2.txt' }));
    assert.deepEqual(list.Contents?.map((object) => object.Key), keys.slice(3));
    assert.equal(list.StartAfter, 'b/2.txt');
    const error = await s3Rejection(t.s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken: 'bm90LWEtdG9rZW4=' })));
    assert.equal(error.name, 'InvalidArgument');
  });

  it('url-encodes keys when asked (encoding-type=url, as the AWS CLI asks)', async () => {
    await t.s3.send(new PutObjectCommand({ Bucket, Key: 'g/with space&amp', Body: 'x' }));
    const list = await t.s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'g/', EncodingType: 'url' }));
    assert.equal(list.Contents?.[0]?.Key, 'g/with%20space%26amp');
    assert.equal(list.EncodingType, 'url');
  });
});

describe('s3: persistence and the object API', () => {
  it('leaves nothing behind when the connection drops mid-upload, and keeps serving', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpsync-s3-cut-'));
    const t = await startTestEndpoint({ dataDir });
    try {
      await t.s3.send(new CreateBucketCommand({ Bucket: 'cut-bucket' }));
      const { port } = new URL(t.endpoint.url);
      const size = 8 * 1024 * 1024;
      const sent = 3 * 1024 * 1024;
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            [
              'PUT /cut-bucket/cut HTTP/1.1',
              `Host: 127.0.0.1:${port}`,
              `Authorization: AWS4-HMAC-SHA256 Credential=AKIDRAW/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
              'x-amz-content-sha256: UNSIGNED-PAYLOAD',
              `Content-Length: ${size}`,
              '',
              '',
            ].join('\r\n'),
          );
          // More than one write batch reaches the server before the client goes away.
          socket.write(Buffer.alloc(sent, 0x62), () => setTimeout(() => socket.destroy(), 200));
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      const objectsDir = join(dataDir, 's3', 'buckets', 'cut-bucket', 'objects');
      let left: string[] = [];
      for (let attempt = 0; attempt < 100; attempt++) {
        left = readdirSync(objectsDir);
        if (!left.length) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(left, [], 'no temporary or data file remains');
      assert.equal((await s3Rejection(t.s3.send(new HeadObjectCommand({ Bucket: 'cut-bucket', Key: 'cut' })))).name, 'NotFound');
      const put = await t.s3.send(new PutObjectCommand({ Bucket: 'cut-bucket', Key: 'cut', Body: 'whole' }));
      assert.equal(put.ETag, `"${md5('whole')}"`);
    } finally {
      await t.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps buckets, objects and metadata across a restart with the same dataDir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpsync-s3-persist-'));
    try {
      const first = await startTestEndpoint({ dataDir });
      await first.s3.send(new CreateBucketCommand({ Bucket: 'durable-bucket' }));
      const put = await first.s3.send(new PutObjectCommand({ Bucket: 'durable-bucket', Key: 'kept/one', Body: 'survives', ServerSideEncryption: 'aws:kms', ContentType: 'application/zip' }));
      await first.s3.send(new PutObjectCommand({ Bucket: 'durable-bucket', Key: 'kept/one', Body: 'survives, version 2', ServerSideEncryption: 'aws:kms', ContentType: 'application/zip' }));
      await first.close();

      const second = await startTestEndpoint({ dataDir });
      try {
        const get = await second.s3.send(new GetObjectCommand({ Bucket: 'durable-bucket', Key: 'kept/one' }));
        assert.equal(await get.Body?.transformToString(), 'survives, version 2');
        assert.notEqual(get.ETag, put.ETag);
        assert.equal(get.ContentType, 'application/zip');
        assert.equal(get.ServerSideEncryption, 'aws:kms');
        const list = await second.s3.send(new ListObjectsV2Command({ Bucket: 'durable-bucket' }));
        assert.deepEqual(list.Contents?.map((object) => object.Key), ['kept/one']);
      } finally {
        await second.close();
      }
      const reset = await startTestEndpoint({ dataDir, reset: true });
      try {
        assert.equal((await s3Rejection(reset.s3.send(new HeadBucketCommand({ Bucket: 'durable-bucket' })))).name, 'NotFound', 'reset starts empty');
      } finally {
        await reset.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('offers createBucket, hasBucket, putObject and openObject to the rest of the endpoint', async () => {
    const t = await startTestEndpoint();
    try {
      const objects = t.endpoint.context.objects;
      assert.equal(objects.hasBucket('api-bucket'), false);
      objects.createBucket('api-bucket');
      assert.equal(objects.hasBucket('api-bucket'), true);
      const written = await objects.putObject('api-bucket', 'from/buffer', Buffer.from('buffer body'), { serverSideEncryption: 'aws:kms', contentType: 'application/zip' });
      // SSE-KMS: an opaque ETag, as S3 gives; without KMS the MD5.
      assert.match(written.etag, /^"[0-9a-f]{32}"$/);
      assert.notEqual(written.etag, `"${md5('buffer body')}"`);
      const plain = await objects.putObject('api-bucket', 'from/stream', Readable.from([Buffer.from('stream '), Buffer.from('body')]));
      assert.equal(plain.etag, `"${md5('stream body')}"`);
      const opened = await objects.openObject('api-bucket', 'from/buffer');
      assert.ok(opened);
      assert.equal(opened.size, 'buffer body'.length);
      assert.equal((await readBody(opened.stream)).toString(), 'buffer body');
      assert.equal(await objects.openObject('api-bucket', 'missing'), undefined);
      const get = await t.s3.send(new GetObjectCommand({ Bucket: 'api-bucket', Key: 'from/buffer' }));
      await get.Body?.transformToString();
      assert.equal(get.SSEKMSKeyId, 'arn:aws:kms:us-east-1:123456789012:alias/aws/s3');
      assert.equal(get.ContentType, 'application/zip');
      const streamed = await t.s3.send(new GetObjectCommand({ Bucket: 'api-bucket', Key: 'from/stream' }));
      assert.equal(await streamed.Body?.transformToString(), 'stream body');
      await assert.rejects(objects.putObject('no-bucket-here', 'k', Buffer.from('x')), /does not exist/);
    } finally {
      await t.close();
    }
  });

  it('refuses unsigned requests with 403 AccessDenied', async () => {
    const t = await startTestEndpoint();
    try {
      const response = await fetch(`${t.endpoint.url}/some-bucket/key`);
      assert.equal(response.status, 403);
      assert.match(await response.text(), /<Code>AccessDenied<\/Code>/);
    } finally {
      await t.close();
    }
  });
});
