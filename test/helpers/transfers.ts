// What the artifact-transfer tests share: the TransferTarget a polled job's data describes, and the
// JobFailure a transfer rejects with.

import { strict as assert } from 'node:assert';
import type { Job } from '@aws-sdk/client-codepipeline';
import { JobFailure, type ArtifactCredentials, type TransferTarget } from '../../src/worker/types.js';
import type { TestEndpoint } from './endpoint.js';

/** The job's first input or output artifact, with the job's own credentials unless others are given. */
export function transferTarget(world: TestEndpoint, job: Job, which: 'input' | 'output', credentials?: ArtifactCredentials): TransferTarget {
  const artifact = (which === 'input' ? job.data?.inputArtifacts : job.data?.outputArtifacts)?.[0];
  const location = artifact?.location?.s3Location;
  const issued = job.data?.artifactCredentials;
  if (!artifact?.name || !location?.bucketName || !location.objectKey || !issued) throw new Error(`job without an ${which} artifact`);
  return {
    location: { name: artifact.name, bucketName: location.bucketName, objectKey: location.objectKey },
    credentials: credentials ?? { accessKeyId: issued.accessKeyId!, secretAccessKey: issued.secretAccessKey!, sessionToken: issued.sessionToken! },
    region: world.endpoint.region,
    endpoint: world.endpoint.url,
  };
}

/** The JobFailure `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function jobFailureOf(promise: Promise<unknown>): Promise<JobFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof JobFailure, `expected a JobFailure, got ${String(error)}`);
    return error;
  }
  throw new Error('expected a rejection');
}
