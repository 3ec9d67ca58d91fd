// The upload half of the ArtifactTransfer against the local endpoint: a small output goes up as one
// PutObject carrying SSE-KMS with the job's key, a large one as a multipart upload through reused
// part buffers, and S3 clients are pooled by credentials without one job ever signing with
// another's.

import { strict as assert } from 'node:assert';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createArtifactTransfer, zipDirectory } from '../../src/worker/artifacts/index.js';
import { readParts } from '../../src/worker/artifacts/s3-transfer.js';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { ARTIFACT_BUCKET, createPipeline, KMS_KEY_ARN, pollAndAcknowledge, seedWorld, SOURCE_BUCKET, SOURCE_KEY, threeStagePipeline } from '../helpers/pipeline-world.js';
import { generatedStream, readBody } from '../helpers/s3-fixtures.js';
import { jobFailureOf, transferTarget } from '../helpers/transfers.js';

const MIB = 1024 * 1024;
const never = new AbortController().signal;

async function zipBytes(folder: string): Promise<Buffer> {
  return readBody((await zipDirectory(folder, 'BuildOut')).stream);
}

for (const withKey of [true, false]) {
  describe(`artifacts upload: a small output is one PutObject with SSE-KMS, ${withKey ? "with the job's KMS key" : 'with the default aws/s3 key'}`, () => {
    let world: TestEndpoint;
    let root: string;
    let job: Job;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'cpsync-upload-small-'));
      // Every multipart call fails: the small upload can only succeed if it makes none.
      world = await startTestEndpoint({
        faults: [
          { operation: 's3:CreateMultipartUpload', errorRate: 1 },
          { operation: 's3:UploadPart', errorRate: 1 },
        ],
      });
      await seedWorld(world, { withSource: false });
      await world.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: Buffer.from('unused') }));
      await createPipeline(world, threeStagePipeline('Small', withKey ? {} : { artifactStore: { type: 'S3', location: ARTIFACT_BUCKET } }));
      job = await pollAndAcknowledge(world.codepipeline);
    });
    after(async () => {
      await world.close();
      await rm(root, { recursive: true, force: true });
    });

    it('stores the zip with aws:kms and the right key id in one request', async () => {
      const folder = join(root, 'out');
      await mkdir(join(folder, 'bin'), { recursive: true });
      await writeFile(join(folder, 'report.txt'), 'all good\n'.repeat(100));
      await writeFile(join(folder, 'bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
      const target = transferTarget(world, job, 'output');
      const transfer = createArtifactTransfer({ partSize: 5 * MIB });
      const result = await transfer.zipAndUpload(target, folder, withKey ? KMS_KEY_ARN : undefined, never);
      assert.equal(result.files, 2);

      const head = await world.s3.send(new HeadObjectCommand({ Bucket: target.location.bucketName, Key: target.location.objectKey }));
      assert.equal(head.ServerSideEncryption, 'aws:kms');
      assert.equal(head.SSEKMSKeyId, withKey ? KMS_KEY_ARN : 'arn:aws:kms:us-east-1:123456789012:alias/aws/s3');
      assert.equal(head.ContentType, 'application/zip');
      assert.equal(head.ContentLength, result.bytes);
      assert.doesNotMatch(head.ETag ?? '', /-\d+"$/, 'a single-request ETag, not a multipart one');
      const stored = await readBody((await world.s3.send(new GetObjectCommand({ Bucket: target.location.bucketName, Key: target.location.objectKey }))).Body);
      assert.ok(stored.equals(await zipBytes(folder)), 'the stored bytes are the deterministic zip of the folder');
    });
  });
}

describe('artifacts upload: S3 clients are pooled by credentials, never shared across them', () => {
  let world: TestEndpoint;
  let root: string;
  let folder: string;
  let first: Job;
  let second: Job;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-upload-pool-'));
    world = await startTestEndpoint();
    await seedWorld(world, { withSource: false });
    await world.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: Buffer.from('unused') }));
    folder = join(root, 'out');
    await mkdir(folder);
    await writeFile(join(folder, 'a.txt'), 'a');
    await createPipeline(world, threeStagePipeline('First'));
    first = await pollAndAcknowledge(world.codepipeline);
    await createPipeline(world, threeStagePipeline('Second'));
    second = await pollAndAcknowledge(world.codepipeline);
  });
  after(async () => {
    await world.close();
    await rm(root, { recursive: true, force: true });
  });

  it('reuses one client per credential set, and each job signs with its own credentials', async () => {
    const transfer = createArtifactTransfer();
    const firstTarget = transferTarget(world, first, 'output');
    const secondTarget = transferTarget(world, second, 'output');
    assert.notEqual(firstTarget.credentials.accessKeyId, secondTarget.credentials.accessKeyId, 'the endpoint issues each job its own credentials');

    await Promise.all([transfer.zipAndUpload(firstTarget, folder, KMS_KEY_ARN, never), transfer.zipAndUpload(firstTarget, folder, KMS_KEY_ARN, never)]);
    assert.equal(transfer.clientCount(), 1, 'two transfers with the same credentials share a client');
    // With the first job's client in the pool, the second job's upload to its own key must be
    // signed with the second job's credentials: the endpoint refuses the first job's there.
    await transfer.zipAndUpload(secondTarget, folder, KMS_KEY_ARN, never);
    assert.equal(transfer.clientCount(), 2);
    // And the second job's credentials stay its own: they cannot write the first job's key, even
    // though a client for the first job's credentials sits in the pool.
    const crossed = await jobFailureOf(transfer.zipAndUpload({ ...firstTarget, credentials: secondTarget.credentials }, folder, KMS_KEY_ARN, never));
    assert.equal(crossed.failureType, 'PermissionError');
    assert.equal(transfer.clientCount(), 2, 'the second job’s client was reused for the refused upload');
    // The same key id with another secret or session token is another client.
    await transfer.zipAndUpload({ ...firstTarget, credentials: { ...firstTarget.credentials, sessionToken: 'another-session' } }, folder, KMS_KEY_ARN, never).catch(() => undefined);
    assert.equal(transfer.clientCount(), 3);
  });

  it('shares connections across clients: jobs with their own credentials do not open one each', async () => {
    // A TCP relay in front of the endpoint counts the connections the transfers open.
    let connections = 0;
    const upstream = new URL(world.endpoint.url);
    const sockets = new Set<Socket>();
    const relay = createServer((socket) => {
      connections += 1;
      const outbound = connect(Number(upstream.port), upstream.hostname);
      sockets.add(socket).add(outbound);
      socket.pipe(outbound).pipe(socket);
      socket.on('error', () => outbound.destroy());
      outbound.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    try {
      const transfer = createArtifactTransfer();
      for (const job of [first, second, first, second]) await transfer.zipAndUpload({ ...transferTarget(world, job, 'output'), endpoint: relayUrl }, folder, KMS_KEY_ARN, never);
      assert.equal(transfer.clientCount(), 2, 'a client per credential set');
      assert.equal(connections, 1, 'one kept-alive connection for both');
    } finally {
      for (const socket of sockets) socket.destroy();
      relay.close();
    }
  });

  it('closes clients nobody used for the idle time', async () => {
    const transfer = createArtifactTransfer({ clientIdleMs: 20 });
    await transfer.zipAndUpload(transferTarget(world, first, 'output'), folder, KMS_KEY_ARN, never);
    assert.equal(transfer.clientCount(), 1);
    for (let tries = 0; tries < 200 && transfer.clientCount() > 0; tries++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(transfer.clientCount(), 0);
    // A later transfer with the same credentials gets a new client and works.
    await transfer.zipAndUpload(transferTarget(world, first, 'output'), folder, KMS_KEY_ARN, never);
    assert.equal(transfer.clientCount(), 1);
  });
});

describe('artifacts upload: a large output goes up in parts of exactly partSize', () => {
  let world: TestEndpoint;
  let root: string;
  let job: Job;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-upload-large-'));
    world = await startTestEndpoint();
    await seedWorld(world, { withSource: false });
    await world.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: Buffer.from('unused') }));
    await createPipeline(world, threeStagePipeline('Large'));
    job = await pollAndAcknowledge(world.codepipeline);
  });
  after(async () => {
    await world.close();
    await rm(root, { recursive: true, force: true });
  });

  it('uploads every part with the right bytes through reused buffers (more parts than buffers)', async () => {
    const folder = join(root, 'big');
    await mkdir(folder);
    // Incompressible, so the zip is a little over 22 MiB: five 5 MiB parts with queueSize 1
    // means two buffers take turns, and a wrong reuse would corrupt the stored bytes.
    await pipeline(generatedStream(22 * MIB, 11), createWriteStream(join(folder, 'blob.bin')));
    const target = transferTarget(world, job, 'output');
    const transfer = createArtifactTransfer({ partSize: 5 * MIB, queueSize: 1 });
    const result = await transfer.zipAndUpload(target, folder, KMS_KEY_ARN, never);
    const head = await world.s3.send(new HeadObjectCommand({ Bucket: target.location.bucketName, Key: target.location.objectKey }));
    assert.match(head.ETag ?? '', /-5"$/, 'five parts');
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.equal(head.SSEKMSKeyId, KMS_KEY_ARN);
    assert.equal(head.ContentLength, result.bytes);
    const stored = await readBody((await world.s3.send(new GetObjectCommand({ Bucket: target.location.bucketName, Key: target.location.objectKey }))).Body);
    assert.ok(stored.equals(await zipBytes(folder)), 'the stored bytes are the zip of the folder');
  });

  it('cuts a stream into full parts and one last part, never an empty one', async () => {
    const sizes = async (chunks: number[], partSize: number) => {
      const parts: string[] = [];
      const stream = Readable.from(chunks.map((size, index) => Buffer.alloc(size, index)));
      for await (const part of readParts(stream, partSize, () => Buffer.alloc(partSize))) parts.push(`${part.number}:${part.data.length}${part.last ? ' last' : ''}`);
      return parts;
    };
    assert.deepEqual(await sizes([3, 4, 3], 5), ['1:5', '2:5 last'], 'a stream ending on a part boundary has no empty last part');
    assert.deepEqual(await sizes([12], 5), ['1:5', '2:5', '3:2 last']);
    assert.deepEqual(await sizes([5], 5), ['1:5 last'], 'exactly one part is the last part');
    assert.deepEqual(await sizes([], 5), ['1:0 last'], 'an empty stream is one empty part');
    // The bytes arrive in order across chunk and part boundaries.
    const data = Buffer.from(Array.from({ length: 23 }, (_, i) => i));
    const out: Buffer[] = [];
    for await (const part of readParts(Readable.from([data.subarray(0, 7), data.subarray(7, 8), data.subarray(8)]), 5, () => Buffer.alloc(5))) out.push(Buffer.from(part.data));
    assert.ok(Buffer.concat(out).equals(data));
  });
});
