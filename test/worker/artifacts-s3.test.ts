// The ArtifactTransfer against the local endpoint with real jobs: per-job credentials, the
// artifact-store SSE-KMS policy, the job's KMS key (or none), error mapping and cancellation.

import { strict as assert } from 'node:assert';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { GetJobDetailsCommand, type Job } from '@aws-sdk/client-codepipeline';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createArtifactTransfer, ExpiredCredentials, HostileArchive, isExpiredCredentials, kmsKeyFor, zipDirectory } from '../../src/worker/artifacts/index.js';
import { DEFAULT_EXTRACT_LIMITS, type ArtifactCredentials } from '../../src/worker/types.js';
import { startTestEndpoint, TEST_CREDENTIALS, type TestEndpoint } from '../helpers/endpoint.js';
import { ARTIFACT_BUCKET, createPipeline, KMS_KEY_ARN, pollAndAcknowledge, seedWorld, SOURCE_BUCKET, SOURCE_KEY, threeStagePipeline } from '../helpers/pipeline-world.js';
import { generatedStream, readBody, s3Rejection } from '../helpers/s3-fixtures.js';
import { jobFailureOf, transferTarget } from '../helpers/transfers.js';
import { describeTree } from '../helpers/zips.js';
import { chmod, symlink } from 'node:fs/promises';

const MIB = 1024 * 1024;
const never = new AbortController().signal;
const ADMIN: ArtifactCredentials = { ...TEST_CREDENTIALS, sessionToken: '' };
// Small parts so a 12 MiB artifact goes multipart (three parts), as large artifacts do.
const transfer = createArtifactTransfer({ partSize: 5 * MIB, queueSize: 4 });

/** A tree with nested folders, an executable, an empty file, an empty folder, a safe symlink and a
 *  12 MiB incompressible file (so the upload takes the multipart path). */
async function makeSourceTree(directory: string): Promise<void> {
  await mkdir(join(directory, 'src/lib'), { recursive: true });
  await mkdir(join(directory, 'empty-dir'));
  await writeFile(join(directory, 'src/lib/util.ts'), 'export const util = 1;\n');
  await writeFile(join(directory, 'build.sh'), '#!/bin/sh\necho build\n');
  await chmod(join(directory, 'build.sh'), 0o755);
  await writeFile(join(directory, 'empty.txt'), '');
  await symlink('src/lib/util.ts', join(directory, 'util-link'));
  await pipeline(generatedStream(12 * MIB), createWriteStream(join(directory, 'blob.bin')));
}

async function zipToBuffer(directory: string): Promise<Buffer> {
  const zipped = await zipDirectory(directory, 'fixture');
  return readBody(zipped.stream);
}

for (const withKey of [true, false]) {
  describe(`artifacts over S3: round trip, ${withKey ? 'with the pipeline KMS key' : 'without an encryption key (aws/s3)'}`, () => {
    let world: TestEndpoint;
    let root: string;
    let job: Job;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'cpsync-artifacts-s3-'));
      world = await startTestEndpoint();
      await seedWorld(world, { withSource: false });
      await makeSourceTree(join(root, 'source'));
      await world.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: await zipToBuffer(join(root, 'source')) }));
      await createPipeline(world, threeStagePipeline('RoundTrip', withKey ? {} : { artifactStore: { type: 'S3', location: ARTIFACT_BUCKET } }));
      job = await pollAndAcknowledge(world.codepipeline);
    });
    after(async () => {
      await world.close();
      await rm(root, { recursive: true, force: true });
    });

    it('passes the job encryption key through kmsKeyFor', () => {
      assert.equal(kmsKeyFor(job.data?.encryptionKey), withKey ? KMS_KEY_ARN : undefined);
    });

    it('downloads and extracts the input with the job credentials: same tree, modes and symlink, no staging file left', async () => {
      const inputs = join(root, 'ws/inputs');
      const result = await transfer.downloadAndExtract(transferTarget(world, job, 'input'), join(inputs, 'SourceOut'), DEFAULT_EXTRACT_LIMITS, never);
      assert.equal(result.files, 5);
      assert.equal(result.bytes, 12 * MIB + 21 + 23 + 15, 'file bytes plus the symlink target');
      assert.deepEqual(await describeTree(join(inputs, 'SourceOut')), await describeTree(join(root, 'source')));
      assert.deepEqual(await readdir(inputs), ['SourceOut'], 'the staging file is gone and nothing else was written');
    });

    it('zips and uploads the output (multipart) with aws:kms and the right key, deterministic bytes; it extracts to the same tree', async () => {
      const folder = join(root, 'ws/inputs/SourceOut');
      const target = transferTarget(world, job, 'output');
      const result = await transfer.zipAndUpload(target, folder, kmsKeyFor(job.data?.encryptionKey), never);
      assert.equal(result.files, 5);

      const head = await world.s3.send(new HeadObjectCommand({ Bucket: target.location.bucketName, Key: target.location.objectKey }));
      assert.equal(head.ServerSideEncryption, 'aws:kms');
      assert.equal(head.SSEKMSKeyId, withKey ? KMS_KEY_ARN : 'arn:aws:kms:us-east-1:123456789012:alias/aws/s3');
      assert.equal(head.ContentType, 'application/zip');
      assert.equal(head.ContentLength, result.bytes);
      assert.match(head.ETag ?? '', /-3"$/, 'three 5 MiB parts');

      const stored = await readBody((await world.s3.send(new GetObjectCommand({ Bucket: target.location.bucketName, Key: target.location.objectKey }))).Body);
      assert.ok(stored.equals(await zipToBuffer(folder)), 'the uploaded bytes equal a fresh zip of the same folder');

      const again = join(root, 'elsewhere/BuildOut');
      await transfer.downloadAndExtract({ ...target, credentials: ADMIN }, again, DEFAULT_EXTRACT_LIMITS, never);
      assert.deepEqual(await describeTree(again), await describeTree(join(root, 'source')));
    });
  });
}

describe('artifacts over S3: error mapping through the endpoint', () => {
  let world: TestEndpoint;
  let root: string;
  let dataDir: string;
  let first: Job;
  let second: Job;
  let folder: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-artifacts-errors-'));
    dataDir = await mkdtemp(join(tmpdir(), 'cpsync-artifacts-data-'));
    world = await startTestEndpoint({ dataDir });
    await seedWorld(world, { withSource: false });
    folder = join(root, 'out');
    await mkdir(folder);
    await writeFile(join(folder, 'a.txt'), 'a');
    await world.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: await zipToBuffer(folder) }));
    await createPipeline(world, threeStagePipeline('First'));
    first = await pollAndAcknowledge(world.codepipeline);
    await createPipeline(world, threeStagePipeline('Second'));
    second = await pollAndAcknowledge(world.codepipeline);
  });
  after(async () => {
    await world.close();
    await rm(root, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a missing input object is RevisionUnavailable, with the job credentials (NoSuchKey) or with a missing bucket', async () => {
    const target = transferTarget(world, second, 'input');
    await world.s3.send(new DeleteObjectCommand({ Bucket: target.location.bucketName, Key: target.location.objectKey }));
    const missingKey = await jobFailureOf(transfer.downloadAndExtract(target, join(root, 'missing-key'), DEFAULT_EXTRACT_LIMITS, never));
    assert.equal(missingKey.failureType, 'RevisionUnavailable');
    assert.match(missingKey.message, /^could not download input artifact SourceOut from s3:\/\/codepipeline-us-east-1-artifacts\/Second\/SourceOut\/\S+: the object does not exist \(NoSuchKey, HTTP 404/);
    const admin = transferTarget(world, first, 'input', ADMIN);
    const missingBucket = await jobFailureOf(transfer.downloadAndExtract({ ...admin, location: { ...admin.location, bucketName: 'no-such-bucket' } }, join(root, 'missing-bucket'), DEFAULT_EXTRACT_LIMITS, never));
    assert.equal(missingBucket.failureType, 'RevisionUnavailable');
    assert.match(missingBucket.message, /the artifact bucket does not exist \(NoSuchBucket/);
  });

  it('reading an object outside the job (another job\'s input) is a PermissionError', async () => {
    const failure = await jobFailureOf(transfer.downloadAndExtract({ ...transferTarget(world, first, 'input'), credentials: transferTarget(world, second, 'input').credentials }, join(root, 'foreign'), DEFAULT_EXTRACT_LIMITS, never));
    assert.equal(failure.failureType, 'PermissionError');
    assert.match(failure.message, /access denied \(AccessDenied, HTTP 403.*s3:GetObject and kms:Decrypt/);
  });

  it('an input that is not a ZIP is JobFailed, named, and leaves nothing behind', async () => {
    const target = transferTarget(world, second, 'input');
    await world.s3.send(new PutObjectCommand({ Bucket: target.location.bucketName, Key: target.location.objectKey, Body: 'plain text, not a zip', ServerSideEncryption: 'aws:kms' }));
    const parent = join(root, 'not-zip');
    const failure = await jobFailureOf(transfer.downloadAndExtract(target, join(parent, 'SourceOut'), DEFAULT_EXTRACT_LIMITS, never));
    assert.ok(failure instanceof HostileArchive);
    assert.equal(failure.failureType, 'JobFailed');
    assert.equal(failure.message, 'input artifact SourceOut is not a ZIP file: it does not start with a ZIP signature (PK\\x03\\x04)');
    assert.deepEqual(await readdir(parent), ['SourceOut']);
    assert.deepEqual(await readdir(join(parent, 'SourceOut')), []);
  });

  it('writing with another job’s credentials, or to a key not in the job’s outputs, is a PermissionError', async () => {
    const firstOutput = transferTarget(world, first, 'output');
    const secondCredentials = transferTarget(world, second, 'output').credentials;
    const otherJob = await jobFailureOf(transfer.zipAndUpload({ ...firstOutput, credentials: secondCredentials }, folder, KMS_KEY_ARN, never));
    assert.equal(otherJob.failureType, 'PermissionError');
    assert.match(otherJob.message, /could not upload output artifact BuildOut to s3:\/\/codepipeline-us-east-1-artifacts\/First\/BuildOut\/\S+: access denied \(AccessDenied, HTTP 403/);
    const otherKey = await jobFailureOf(transfer.zipAndUpload({ ...firstOutput, location: { ...firstOutput.location, objectKey: `${firstOutput.location.objectKey}-other` } }, folder, KMS_KEY_ARN, never));
    assert.equal(otherKey.failureType, 'PermissionError');
    for (const failure of [otherJob, otherKey]) {
      assert.doesNotMatch(failure.message, new RegExp(`${secondCredentials.accessKeyId}|${secondCredentials.secretAccessKey}|${root}`));
    }
    await s3Rejection(world.s3.send(new HeadObjectCommand({ Bucket: firstOutput.location.bucketName, Key: firstOutput.location.objectKey })));
  });

  it('expired credentials give the distinguishable ExpiredCredentials; fresh ones from GetJobDetails work', async () => {
    const context = world.endpoint.context as { now: () => number };
    const realNow = context.now;
    context.now = () => realNow() + world.endpoint.context.options.credentialLifetimeMs + 60_000;
    const output = transferTarget(world, first, 'output');
    try {
      const download = await jobFailureOf(transfer.downloadAndExtract(transferTarget(world, first, 'input'), join(root, 'expired'), DEFAULT_EXTRACT_LIMITS, never));
      assert.ok(download instanceof ExpiredCredentials);
      assert.ok(isExpiredCredentials(download));
      assert.equal(download.failureType, 'PermissionError');
      assert.match(download.message, /the job's artifact credentials expired \(ExpiredToken, HTTP 400/);
      const upload = await jobFailureOf(transfer.zipAndUpload(output, folder, KMS_KEY_ARN, never));
      assert.ok(isExpiredCredentials(upload));

      // What the caller does: GetJobDetails, then one retry with the fresh set.
      const details = await world.codepipeline.send(new GetJobDetailsCommand({ jobId: first.id }));
      const fresh = details.jobDetails?.data?.artifactCredentials;
      const credentials = { accessKeyId: fresh!.accessKeyId!, secretAccessKey: fresh!.secretAccessKey!, sessionToken: fresh!.sessionToken! };
      await transfer.downloadAndExtract({ ...transferTarget(world, first, 'input'), credentials }, join(root, 'refreshed'), DEFAULT_EXTRACT_LIMITS, never);
      assert.deepEqual(await readdir(join(root, 'refreshed')), ['a.txt']);
      await transfer.zipAndUpload({ ...output, credentials }, folder, KMS_KEY_ARN, never);
    } finally {
      context.now = realNow;
    }
  });

  it('an aborted signal cancels an upload in flight: SystemUnavailable, no object, no multipart upload left', async () => {
    const big = join(root, 'big');
    await mkdir(big);
    await pipeline(generatedStream(40 * MIB, 3), createWriteStream(join(big, 'blob.bin')));
    const output = transferTarget(world, second, 'output');
    await world.s3.send(new DeleteObjectCommand({ Bucket: output.location.bucketName, Key: output.location.objectKey }));
    const controller = new AbortController();
    const running = transfer.zipAndUpload(output, big, KMS_KEY_ARN, controller.signal);
    // Abort once the multipart upload exists (a part is being written), not on a timer.
    const uploads = join(dataDir, 's3/uploads');
    for (let tries = 0; tries < 500 && (await readdir(uploads)).length === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const failure = await jobFailureOf(running);
    assert.equal(failure.failureType, 'SystemUnavailable');
    assert.match(failure.message, /could not upload output artifact BuildOut .*: the transfer was cancelled/);
    assert.deepEqual(await readdir(uploads), [], 'the multipart upload was aborted');
    const head = await s3Rejection(world.s3.send(new HeadObjectCommand({ Bucket: output.location.bucketName, Key: output.location.objectKey })));
    assert.equal(head.$metadata?.httpStatusCode, 404);

    const before = await jobFailureOf(transfer.downloadAndExtract(transferTarget(world, first, 'input'), join(root, 'cancelled'), DEFAULT_EXTRACT_LIMITS, AbortSignal.abort()));
    assert.equal(before.failureType, 'SystemUnavailable');
  });
});

describe('artifacts over S3: throttling and 5xx after the SDK retries (fault injection)', () => {
  let world: TestEndpoint;
  let root: string;
  let dataDir: string;
  let job: Job;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-artifacts-faults-'));
    dataDir = await mkdtemp(join(tmpdir(), 'cpsync-artifacts-faults-data-'));
    world = await startTestEndpoint({
      dataDir,
      faults: [
        { operation: 's3:GetObject', throttleRate: 1 },
        { operation: 's3:CompleteMultipartUpload', errorRate: 1 },
      ],
    });
    await seedWorld(world, { withSource: false });
    const folder = join(root, 'source');
    await mkdir(folder);
    await writeFile(join(folder, 'a.txt'), 'a');
    await world.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: await zipToBuffer(folder) }));
    await createPipeline(world, threeStagePipeline('Faulty'));
    job = await pollAndAcknowledge(world.codepipeline);
  });
  after(async () => {
    await world.close();
    await rm(root, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  const patient = createArtifactTransfer({ partSize: 5 * MIB, maxAttempts: 2 });

  it('SlowDown on every GetObject attempt is SystemUnavailable', async () => {
    const failure = await jobFailureOf(patient.downloadAndExtract(transferTarget(world, job, 'input'), join(root, 'in/SourceOut'), DEFAULT_EXTRACT_LIMITS, never));
    assert.equal(failure.failureType, 'SystemUnavailable');
    assert.match(failure.message, /S3 kept failing after retries \(SlowDown, HTTP 503/);
    assert.deepEqual(await readdir(join(root, 'in')), ['SourceOut'], 'no staging file left');
  });

  it('a 500 on CompleteMultipartUpload is SystemUnavailable and the multipart upload is aborted', async () => {
    const big = join(root, 'big');
    await mkdir(big);
    await pipeline(generatedStream(7 * MIB, 5), createWriteStream(join(big, 'blob.bin')));
    const failure = await jobFailureOf(patient.zipAndUpload(transferTarget(world, job, 'output'), big, KMS_KEY_ARN, never));
    assert.equal(failure.failureType, 'SystemUnavailable');
    assert.match(failure.message, /could not upload output artifact BuildOut .*S3 kept failing after retries \(InternalError, HTTP 500/);
    assert.deepEqual(await readdir(join(dataDir, 's3/uploads')), [], 'no parts left behind');
  });
});
