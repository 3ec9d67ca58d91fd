import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { generatedMd5, generatedSlice, generatedStream, md5OfBody, s3Rejection } from '../helpers/s3-fixtures.js';

const MiB = 1024 * 1024;
const md5Hex = (data: Buffer) => createHash('md5').update(data).digest('hex');

/** S3's multipart ETag for parts of the given bodies. */
function multipartEtag(parts: Buffer[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(createHash('md5').update(part).digest());
  return `"${hash.digest('hex')}-${parts.length}"`;
}

describe('s3: multipart through lib-storage Upload', () => {
  let t: TestEndpoint;
  const Bucket = 'multipart-bucket';
  before(async () => {
    t = await startTestEndpoint();
    await t.s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => t.close());

  it('uploads a 20 MiB stream in several parts with SSE-KMS; the object reads back byte for byte', async () => {
    const size = 20 * MiB + 12345;
    const parts: number[] = [];
    const upload = new Upload({
      client: t.s3,
      params: { Bucket, Key: 'artifacts/big.zip', Body: generatedStream(size), ServerSideEncryption: 'aws:kms', ContentType: 'application/zip' },
      partSize: 5 * MiB,
      queueSize: 3,
    });
    upload.on('httpUploadProgress', (progress) => {
      if (progress.part !== undefined) parts.push(progress.part);
    });
    const result = await upload.done();
    assert.ok(Math.max(...parts) >= 5, `parts: ${parts.join(',')}`);
    // SSE-KMS: as on S3, the ETag is not derived from MD5s of the data (see the SSE-KMS test below).
    const expectedParts = Array.from({ length: 5 }, (_, index) => generatedSlice(index * 5 * MiB, Math.min((index + 1) * 5 * MiB, size) - 1));
    assert.match(result.ETag ?? '', /^"[0-9a-f]{32}-5"$/);
    assert.notEqual(result.ETag, multipartEtag(expectedParts));
    const head = await t.s3.send(new HeadObjectCommand({ Bucket, Key: 'artifacts/big.zip' }));
    assert.equal(head.ContentLength, size);
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, 'arn:aws:kms:us-east-1:123456789012:alias/aws/s3');
    assert.equal(head.ContentType, 'application/zip');
    const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'artifacts/big.zip', ChecksumMode: 'ENABLED' }));
    assert.deepEqual(await md5OfBody(get.Body), { md5: generatedMd5(size), size });
    // A range across a part boundary reads the assembled bytes.
    const ranged = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'artifacts/big.zip', Range: `bytes=${5 * MiB - 3}-${5 * MiB + 2}` }));
    assert.ok(Buffer.from(await ranged.Body!.transformToByteArray()).equals(generatedSlice(5 * MiB - 3, 5 * MiB + 2)));
  });

  it('uses a single PutObject for a body under one part, with a plain MD5 ETag', async () => {
    const result = await new Upload({ client: t.s3, params: { Bucket, Key: 'small', Body: generatedStream(1000) } }).done();
    assert.equal(result.ETag, `"${generatedMd5(1000)}"`);
  });
});

describe('s3: multipart operations and their errors', () => {
  let t: TestEndpoint;
  const Bucket = 'parts-bucket';
  const big = generatedSlice(0, 5 * MiB - 1);
  const tail = Buffer.from('the last part may be small');
  before(async () => {
    t = await startTestEndpoint();
    await t.s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => t.close());

  async function start(Key: string, extra: Partial<ConstructorParameters<typeof CreateMultipartUploadCommand>[0]> = {}): Promise<string> {
    const created = await t.s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ...extra }));
    assert.equal(created.Bucket, Bucket);
    assert.equal(created.Key, Key);
    assert.ok(created.UploadId && created.UploadId.length > 20);
    return created.UploadId;
  }

  it('completes with the -N ETag; parts may be re-uploaded and skipped; SSE from the create applies', async () => {
    const UploadId = await start('manual', { ServerSideEncryption: 'AES256' });
    const first = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'manual', UploadId, PartNumber: 1, Body: Buffer.from('to be replaced') }));
    const replaced = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'manual', UploadId, PartNumber: 1, Body: big }));
    assert.notEqual(first.ETag, replaced.ETag);
    assert.equal(replaced.ETag, `"${md5Hex(big)}"`);
    assert.equal(replaced.ServerSideEncryption, 'AES256');
    await t.s3.send(new UploadPartCommand({ Bucket, Key: 'manual', UploadId, PartNumber: 2, Body: Buffer.from('never listed') }));
    const last = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'manual', UploadId, PartNumber: 3, Body: tail }));
    const done = await t.s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'manual', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: replaced.ETag }, { PartNumber: 3, ETag: last.ETag }] } }),
    );
    assert.equal(done.ETag, multipartEtag([big, tail]));
    assert.equal(done.ServerSideEncryption, 'AES256');
    const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'manual' }));
    assert.equal(get.ETag, done.ETag);
    assert.equal(get.ServerSideEncryption, 'AES256');
    assert.ok(Buffer.from(await get.Body!.transformToByteArray()).equals(Buffer.concat([big, tail])));
    const gone = await s3Rejection(t.s3.send(new UploadPartCommand({ Bucket, Key: 'manual', UploadId, PartNumber: 4, Body: tail })));
    assert.equal(gone.name, 'NoSuchUpload', 'a completed upload is gone');
  });

  it('gives SSE-KMS parts and objects ETags that are not MD5s of their data, as S3 does, and still checks Content-MD5', async () => {
    const UploadId = await start('kms', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/artifacts' });
    const one = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'kms', UploadId, PartNumber: 1, Body: big }));
    const again = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'kms', UploadId, PartNumber: 1, Body: big }));
    assert.match(one.ETag ?? '', /^"[0-9a-f]{32}"$/);
    assert.notEqual(one.ETag, `"${md5Hex(big)}"`);
    assert.notEqual(again.ETag, one.ETag, 'every write gets a new one');
    assert.equal(again.ServerSideEncryption, 'aws:kms');
    const badMd5 = await s3Rejection(t.s3.send(new UploadPartCommand({ Bucket, Key: 'kms', UploadId, PartNumber: 2, Body: tail, ContentMD5: createHash('md5').update('other').digest('base64') })));
    assert.equal(badMd5.name, 'BadDigest');
    const last = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'kms', UploadId, PartNumber: 2, Body: tail, ContentMD5: createHash('md5').update(tail).digest('base64') }));
    const stale = await s3Rejection(
      t.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'kms', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: last.ETag }] } })),
    );
    assert.equal(stale.name, 'InvalidPart', 'the replaced part ETag is no longer valid');
    const done = await t.s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'kms', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: again.ETag }, { PartNumber: 2, ETag: last.ETag }] } }),
    );
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    assert.notEqual(done.ETag, multipartEtag([big, tail]));
    assert.equal(done.SSEKMSKeyId, 'arn:aws:kms:us-east-1:123456789012:alias/artifacts');
    const get = await t.s3.send(new GetObjectCommand({ Bucket, Key: 'kms' }));
    assert.equal(get.ETag, done.ETag);
    assert.equal(get.SSEKMSKeyId, 'arn:aws:kms:us-east-1:123456789012:alias/artifacts');
    assert.ok(Buffer.from(await get.Body!.transformToByteArray()).equals(Buffer.concat([big, tail])));

    const put = await t.s3.send(new PutObjectCommand({ Bucket, Key: 'kms-single', Body: tail, ServerSideEncryption: 'aws:kms' }));
    assert.match(put.ETag ?? '', /^"[0-9a-f]{32}"$/);
    assert.notEqual(put.ETag, `"${md5Hex(tail)}"`);
    const conditional = await s3Rejection(t.s3.send(new GetObjectCommand({ Bucket, Key: 'kms-single', IfMatch: `"${md5Hex(tail)}"` })));
    assert.equal(conditional.$metadata?.httpStatusCode, 412, 'If-Match compares with the stored ETag, not an MD5');
    assert.equal((await t.s3.send(new HeadObjectCommand({ Bucket, Key: 'kms-single', IfMatch: put.ETag }))).ETag, put.ETag);
  });

  it('refuses a part whose ETag does not match with InvalidPart, and an unknown part number too', async () => {
    const UploadId = await start('bad-etag');
    await t.s3.send(new UploadPartCommand({ Bucket, Key: 'bad-etag', UploadId, PartNumber: 1, Body: tail }));
    const wrong = await s3Rejection(t.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'bad-etag', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] } })));
    assert.equal(wrong.name, 'InvalidPart');
    assert.equal(wrong.$metadata?.httpStatusCode, 400);
    const unknown = await s3Rejection(t.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'bad-etag', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: `"${md5Hex(tail)}"` }] } })));
    assert.equal(unknown.name, 'InvalidPart');
    assert.equal((await s3Rejection(t.s3.send(new HeadObjectCommand({ Bucket, Key: 'bad-etag' })))).name, 'NotFound');
  });

  it('refuses a non-last part under 5 MiB with EntityTooSmall, and parts out of order with InvalidPartOrder', async () => {
    const UploadId = await start('too-small');
    const one = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'too-small', UploadId, PartNumber: 1, Body: tail }));
    const two = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'too-small', UploadId, PartNumber: 2, Body: tail }));
    const small = await s3Rejection(
      t.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'too-small', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: two.ETag }] } })),
    );
    assert.equal(small.name, 'EntityTooSmall');
    const order = await s3Rejection(
      t.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'too-small', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: two.ETag }, { PartNumber: 1, ETag: one.ETag }] } })),
    );
    assert.equal(order.name, 'InvalidPartOrder');
    // A single small part is a valid (last) part.
    const single = await t.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'too-small', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: two.ETag }] } }));
    assert.equal(single.ETag, multipartEtag([tail]));
  });

  it('aborts an upload: its parts are gone and further calls raise NoSuchUpload', async () => {
    const UploadId = await start('aborted');
    const part = await t.s3.send(new UploadPartCommand({ Bucket, Key: 'aborted', UploadId, PartNumber: 1, Body: tail }));
    const aborted = await t.s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'aborted', UploadId }));
    assert.equal(aborted.$metadata.httpStatusCode, 204);
    const complete = await s3Rejection(t.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'aborted', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } })));
    assert.equal(complete.name, 'NoSuchUpload');
    assert.equal(complete.$metadata?.httpStatusCode, 404);
    assert.equal((await s3Rejection(t.s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'aborted', UploadId })))).name, 'NoSuchUpload');
    assert.equal((await s3Rejection(t.s3.send(new UploadPartCommand({ Bucket, Key: 'other-key', UploadId: 'made-up', PartNumber: 1, Body: tail })))).name, 'NoSuchUpload');
  });

  it('refuses part numbers outside 1-10000 with InvalidArgument', async () => {
    const UploadId = await start('numbers');
    for (const PartNumber of [0, 10001]) {
      const error = await s3Rejection(t.s3.send(new UploadPartCommand({ Bucket, Key: 'numbers', UploadId, PartNumber, Body: tail })));
      assert.equal(error.name, 'InvalidArgument', String(PartNumber));
    }
  });
});

describe('s3: multipart persistence', () => {
  it('keeps an upload in progress across a restart and completes it afterwards', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpsync-s3-mpu-'));
    try {
      const first = await startTestEndpoint({ dataDir });
      await first.s3.send(new CreateBucketCommand({ Bucket: 'mpu-bucket' }));
      const { UploadId } = await first.s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu-bucket', Key: 'resumed' }));
      const part = await first.s3.send(new UploadPartCommand({ Bucket: 'mpu-bucket', Key: 'resumed', UploadId, PartNumber: 1, Body: Buffer.from('part one') }));
      await first.close();
      const second = await startTestEndpoint({ dataDir });
      try {
        await second.s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu-bucket', Key: 'resumed', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
        assert.equal(await (await second.s3.send(new GetObjectCommand({ Bucket: 'mpu-bucket', Key: 'resumed' }))).Body?.transformToString(), 'part one');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('s3: a completed multipart object is stored as its parts', () => {
  it('reads ranges across parts, survives a restart, and keeps a version being read until the reader is done', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpsync-s3-parts-'));
    const Bucket = 'parts-bucket';
    const size = 11 * MiB;
    try {
      const first = await startTestEndpoint({ dataDir });
      await first.s3.send(new CreateBucketCommand({ Bucket }));
      await new Upload({ client: first.s3, partSize: 5 * MiB, queueSize: 1, params: { Bucket, Key: 'parts', Body: generatedStream(size) } }).done();
      const objectsDir = join(dataDir, 's3', 'buckets', Bucket, 'objects');
      assert.equal(readdirSync(objectsDir).filter((name) => name.endsWith('.data')).length, 3, 'one data file per part, nothing assembled');
      assert.deepEqual(readdirSync(join(dataDir, 's3', 'uploads')), [], 'the upload folder is gone');
      await first.close();

      const second = await startTestEndpoint({ dataDir });
      try {
        const whole = await second.s3.send(new GetObjectCommand({ Bucket, Key: 'parts' }));
        assert.deepEqual(await md5OfBody(whole.Body), { md5: generatedMd5(size), size });
        // From the middle of part 1 to the middle of part 3, and a suffix inside the last part.
        const across = await second.s3.send(new GetObjectCommand({ Bucket, Key: 'parts', Range: `bytes=${4 * MiB}-${10 * MiB + 6}` }));
        assert.equal(across.ContentRange, `bytes ${4 * MiB}-${10 * MiB + 6}/${size}`);
        assert.ok(Buffer.from(await across.Body!.transformToByteArray()).equals(generatedSlice(4 * MiB, 10 * MiB + 6)));
        const suffix = await second.s3.send(new GetObjectCommand({ Bucket, Key: 'parts', Range: 'bytes=-5' }));
        assert.ok(Buffer.from(await suffix.Body!.transformToByteArray()).equals(generatedSlice(size - 5, size - 1)));

        // A reader that started before an overwrite and a delete still gets every byte of its version.
        const reading = await second.s3.send(new GetObjectCommand({ Bucket, Key: 'parts' }));
        await second.s3.send(new PutObjectCommand({ Bucket, Key: 'parts', Body: 'replaced' }));
        assert.deepEqual(await md5OfBody(reading.Body), { md5: generatedMd5(size), size });
        assert.equal(await (await second.s3.send(new GetObjectCommand({ Bucket, Key: 'parts' }))).Body?.transformToString(), 'replaced');
        for (let attempt = 0; attempt < 50 && readdirSync(objectsDir).filter((name) => name.endsWith('.data')).length > 1; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(readdirSync(objectsDir).filter((name) => name.endsWith('.data')).length, 1, 'the old parts are removed once read');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('loads objects recorded before multipart objects kept their parts (one dataFile)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpsync-s3-legacy-'));
    try {
      const first = await startTestEndpoint({ dataDir });
      await first.s3.send(new CreateBucketCommand({ Bucket: 'legacy' }));
      await first.s3.send(new PutObjectCommand({ Bucket: 'legacy', Key: 'old', Body: 'old bytes' }));
      await first.close();
      const objectsDir = join(dataDir, 's3', 'buckets', 'legacy', 'objects');
      const recordFile = readdirSync(objectsDir).find((name) => name.endsWith('.json'))!;
      const { dataFiles, ...record } = JSON.parse(readFileSync(join(objectsDir, recordFile), 'utf8'));
      writeFileSync(join(objectsDir, recordFile), JSON.stringify({ ...record, dataFile: dataFiles[0].name }));
      const second = await startTestEndpoint({ dataDir });
      try {
        assert.equal(await (await second.s3.send(new GetObjectCommand({ Bucket: 'legacy', Key: 'old' }))).Body?.transformToString(), 'old bytes');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('s3: large objects stream through without buffering', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
    await t.s3.send(new CreateBucketCommand({ Bucket: 'large-bucket' }));
  });
  after(async () => t.close());

  it('puts and gets a 300 MiB object with process memory growing far less than its size', async () => {
    const size = 300 * MiB;
    let peak = process.memoryUsage().rss;
    const baseline = peak;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      // A stream with a known length: the SDK sends it aws-chunked, nothing is buffered client-side.
      const put = await t.s3.send(new PutObjectCommand({ Bucket: 'large-bucket', Key: 'large', Body: generatedStream(size), ContentLength: size }));
      assert.equal(put.ETag, `"${generatedMd5(size)}"`);
      const get = await t.s3.send(new GetObjectCommand({ Bucket: 'large-bucket', Key: 'large' }));
      assert.deepEqual(await md5OfBody(get.Body), { md5: generatedMd5(size), size });
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    // Client and server share this process; either buffering the object would add ≥ 300 MiB.
    assert.ok(growth < 100 * MiB, `RSS grew by ${Math.round(growth / MiB)} MiB for a ${size / MiB} MiB object`);
  });
});
