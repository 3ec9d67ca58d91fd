// The artifact-store bucket policy and per-job credential scoping, driven through the real
// CodePipeline API: a pipeline's artifact store bucket, and the artifactCredentials of a job.

import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { AcknowledgeJobCommand, CreateCustomActionTypeCommand, CreatePipelineCommand, GetJobDetailsCommand, PollForJobsCommand, type Job } from '@aws-sdk/client-codepipeline';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { generatedStream, s3ClientFor, s3Rejection } from '../helpers/s3-fixtures.js';
import { myCustomAction, myFirstPipeline, withMyBuildStage } from './control-plane-fixtures.js';

const ARTIFACT_BUCKET = 'codepipeline-us-east-1-1234567890';
const SOURCE_BUCKET = 'awscodepipeline-demobucket-example-date';
const SOURCE_KEY = 'SampleApp_Linux.zip';
const SOURCE_BODY = 'PK pretend zip of the sample app';
const BUILD_TYPE = { category: 'Build', owner: 'Custom', provider: 'My-Build-Provider-Name', version: '1' } as const;

/** Buckets, MyCustomAction and the guide's pipeline with MyBuildStage (CreatePipeline starts an execution). */
async function createGuidePipeline(t: TestEndpoint): Promise<void> {
  await t.s3.send(new CreateBucketCommand({ Bucket: ARTIFACT_BUCKET }));
  await t.s3.send(new CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
  await t.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: SOURCE_BODY }));
  await t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction()));
  await t.codepipeline.send(new CreatePipelineCommand({ pipeline: withMyBuildStage(myFirstPipeline()) }));
}

async function pollBuildJob(t: TestEndpoint): Promise<Job> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { jobs } = await t.codepipeline.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, maxBatchSize: 1 }));
    if (jobs?.[0]) return jobs[0];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no build job was dispatched');
}

describe('s3: the artifact-store bucket policy (SSE-KMS required on writes)', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
    await createGuidePipeline(t);
    await t.s3.send(new CreateBucketCommand({ Bucket: 'ordinary-bucket' }));
  });
  after(async () => t.close());

  it('knows the pipeline artifact store as such', () => {
    assert.equal(t.endpoint.context.isArtifactStoreBucket(ARTIFACT_BUCKET), true);
    assert.equal(t.endpoint.context.isArtifactStoreBucket('ordinary-bucket'), false);
  });

  it('refuses PutObject without aws:kms (none, or AES256) with 403 AccessDenied and stores nothing', async () => {
    for (const ServerSideEncryption of [undefined, 'AES256'] as const) {
      const error = await s3Rejection(t.s3.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: 'plain', Body: 'x', ServerSideEncryption })));
      assert.equal(error.name, 'AccessDenied', String(ServerSideEncryption));
      assert.equal(error.$metadata?.httpStatusCode, 403);
    }
    assert.equal((await s3Rejection(t.s3.send(new HeadObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: 'plain' })))).name, 'NotFound');
  });

  it('accepts PutObject with aws:kms, with or without a key id', async () => {
    const put = await t.s3.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: 'encrypted', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    const withKey = await t.s3.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: 'encrypted-2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/pipeline-key' }));
    assert.equal(withKey.SSEKMSKeyId, 'arn:aws:kms:us-east-1:123456789012:alias/pipeline-key');
  });

  it('applies to CreateMultipartUpload too, and not to other buckets', async () => {
    const error = await s3Rejection(t.s3.send(new CreateMultipartUploadCommand({ Bucket: ARTIFACT_BUCKET, Key: 'mpu' })));
    assert.equal(error.name, 'AccessDenied');
    const allowed = await t.s3.send(new CreateMultipartUploadCommand({ Bucket: ARTIFACT_BUCKET, Key: 'mpu', ServerSideEncryption: 'aws:kms' }));
    assert.ok(allowed.UploadId);
    const ordinary = await t.s3.send(new PutObjectCommand({ Bucket: 'ordinary-bucket', Key: 'plain', Body: 'x' }));
    assert.equal(ordinary.ServerSideEncryption, 'AES256');
  });
});

describe('s3: per-job artifact credentials', () => {
  let t: TestEndpoint;
  let job: Job;
  let jobS3: S3Client;
  let input: { bucketName: string; objectKey: string };
  let output: { bucketName: string; objectKey: string };
  before(async () => {
    t = await startTestEndpoint();
    await createGuidePipeline(t);
    job = await pollBuildJob(t);
    await t.codepipeline.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce }));
    const credentials = job.data!.artifactCredentials!;
    jobS3 = s3ClientFor(t.endpoint, { accessKeyId: credentials.accessKeyId!, secretAccessKey: credentials.secretAccessKey!, sessionToken: credentials.sessionToken! });
    input = job.data!.inputArtifacts![0]!.location!.s3Location! as typeof input;
    output = job.data!.outputArtifacts![0]!.location!.s3Location! as typeof output;
  });
  after(async () => {
    jobS3.destroy();
    await t.close();
  });

  it('reads the input artifact (the S3 source copied into the artifact store, SSE-KMS)', async () => {
    assert.equal(input.bucketName, ARTIFACT_BUCKET);
    const get = await jobS3.send(new GetObjectCommand({ Bucket: input.bucketName, Key: input.objectKey }));
    assert.equal(await get.Body?.transformToString(), SOURCE_BODY);
    assert.equal(get.ServerSideEncryption, 'aws:kms');
    const head = await jobS3.send(new HeadObjectCommand({ Bucket: input.bucketName, Key: input.objectKey }));
    assert.equal(head.ContentLength, SOURCE_BODY.length);
  });

  it('writes the output artifact with aws:kms (PutObject and a multipart Upload), but not without it', async () => {
    const plain = await s3Rejection(jobS3.send(new PutObjectCommand({ Bucket: output.bucketName, Key: output.objectKey, Body: 'out' })));
    assert.equal(plain.name, 'AccessDenied');
    await jobS3.send(new PutObjectCommand({ Bucket: output.bucketName, Key: output.objectKey, Body: 'out', ServerSideEncryption: 'aws:kms' }));
    const upload = await new Upload({
      client: jobS3,
      params: { Bucket: output.bucketName, Key: output.objectKey, Body: generatedStream(11 * 1024 * 1024), ServerSideEncryption: 'aws:kms' },
      partSize: 5 * 1024 * 1024,
    }).done();
    assert.match(upload.ETag ?? '', /-3"$/);
    const stored = await t.s3.send(new HeadObjectCommand({ Bucket: output.bucketName, Key: output.objectKey }));
    assert.equal(stored.ContentLength, 11 * 1024 * 1024);
  });

  it('refuses everything else with 403 AccessDenied: other keys, writing the input, reading the source bucket, listing, deleting', async () => {
    const refused = [
      () => jobS3.send(new GetObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY })),
      () => jobS3.send(new PutObjectCommand({ Bucket: input.bucketName, Key: input.objectKey, Body: 'overwrite', ServerSideEncryption: 'aws:kms' })),
      () => jobS3.send(new PutObjectCommand({ Bucket: output.bucketName, Key: `${output.objectKey}-other`, Body: 'x', ServerSideEncryption: 'aws:kms' })),
      () => jobS3.send(new ListObjectsV2Command({ Bucket: ARTIFACT_BUCKET })),
      () => jobS3.send(new DeleteObjectCommand({ Bucket: input.bucketName, Key: input.objectKey })),
      () => jobS3.send(new CreateBucketCommand({ Bucket: 'job-made-bucket' })),
      () => jobS3.send(new CreateMultipartUploadCommand({ Bucket: input.bucketName, Key: input.objectKey, ServerSideEncryption: 'aws:kms' })),
    ];
    for (const [index, call] of refused.entries()) {
      const error = await s3Rejection(call());
      assert.equal(error.$metadata?.httpStatusCode, 403, `call ${index}`);
      assert.equal(error.name, 'AccessDenied', `call ${index}`);
    }
    // HEAD errors have no body (as in S3), so only the status tells.
    const head = await s3Rejection(jobS3.send(new HeadObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY })));
    assert.equal(head.$metadata?.httpStatusCode, 403);
    assert.ok(t.endpoint.context.objects.hasBucket(input.bucketName), 'nothing was deleted');
    assert.ok(await t.endpoint.context.objects.openObject(input.bucketName, input.objectKey).then((opened) => (opened?.stream.resume(), opened)));
    // Without s3:ListBucket, a missing object in scope is 403 as well, not 404 (AWS hides existence).
    await t.s3.send(new DeleteObjectCommand({ Bucket: output.bucketName, Key: output.objectKey }));
    const hidden = await s3Rejection(jobS3.send(new GetObjectCommand({ Bucket: output.bucketName, Key: output.objectKey })));
    assert.equal(hidden.name, 'AccessDenied');
  });

  it('answers ExpiredToken after expiry; GetJobDetails issues fresh credentials that work', async () => {
    const context = t.endpoint.context as { now: () => number };
    const realNow = context.now;
    const lifetime = t.endpoint.context.options.credentialLifetimeMs;
    context.now = () => realNow() + lifetime + 60_000;
    try {
      const expired = await s3Rejection(jobS3.send(new GetObjectCommand({ Bucket: input.bucketName, Key: input.objectKey })));
      assert.equal(expired.name, 'ExpiredToken');
      assert.equal(expired.$metadata?.httpStatusCode, 400);
      assert.equal(expired.message, 'The provided token has expired.');
      const details = await t.codepipeline.send(new GetJobDetailsCommand({ jobId: job.id }));
      const fresh = details.jobDetails!.data!.artifactCredentials!;
      assert.notEqual(fresh.accessKeyId, job.data!.artifactCredentials!.accessKeyId);
      const freshS3 = s3ClientFor(t.endpoint, { accessKeyId: fresh.accessKeyId!, secretAccessKey: fresh.secretAccessKey!, sessionToken: fresh.sessionToken! });
      try {
        const get = await freshS3.send(new GetObjectCommand({ Bucket: input.bucketName, Key: input.objectKey }));
        assert.equal(await get.Body?.transformToString(), SOURCE_BODY);
      } finally {
        freshS3.destroy();
      }
    } finally {
      context.now = realNow;
    }
  });
});
