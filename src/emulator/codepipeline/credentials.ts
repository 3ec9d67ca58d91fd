// Per-job artifact credentials. The job engine issues a fresh set on every PollForJobs dispatch and
// GetJobDetails call (the documented way to refresh them); S3 looks them up by access key id to
// scope a request to the job's artifacts and to refuse expired ones.

import { randomBytes } from 'node:crypto';
import type { EmulatorContext, IssuedCredential } from '../context.js';
import { TABLES, type JobCredentialRecord, type JobRecord } from './records.js';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The credential's job and the bucket/key pairs it may read (inputs) and write (outputs). */
export function findIssuedCredential(context: EmulatorContext, accessKeyId: string): IssuedCredential | undefined {
  const credential = context.store.get<JobCredentialRecord>(TABLES.jobCredentials, accessKeyId);
  if (!credential) return undefined;
  const job = context.store.get<JobRecord>(TABLES.jobs, credential.jobId);
  return {
    accessKeyId,
    jobId: credential.jobId,
    expiresAt: credential.expiresAt,
    readable: (job?.inputArtifacts ?? []).map((artifact) => `${artifact.bucketName}/${artifact.objectKey}`),
    writable: (job?.outputArtifacts ?? []).map((artifact) => `${artifact.bucketName}/${artifact.objectKey}`),
  };
}

/** Issues a new credential for a job (inside the caller's transaction). STS-style shapes: an
 *  `ASIA` access key id of 20 characters, a 40-character secret and an opaque session token. */
export function issueJobCredential(context: EmulatorContext, jobId: string): JobCredentialRecord {
  const bytes = randomBytes(16);
  const suffix = Array.from(bytes, (byte) => KEY_ALPHABET[byte % KEY_ALPHABET.length]).join('');
  const credential: JobCredentialRecord = {
    accessKeyId: `ASIA${suffix}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(96).toString('base64')}`,
    jobId,
    expiresAt: context.now() + context.options.credentialLifetimeMs,
  };
  context.store.put(TABLES.jobCredentials, credential.accessKeyId, credential);
  return credential;
}

/** Drops credentials that expired long enough ago that no client can still be told "expired"
 *  usefully, and those whose job is gone. */
export function purgeJobCredentials(context: EmulatorContext): void {
  const cutoff = context.now() - context.options.credentialLifetimeMs;
  for (const [key, credential] of context.store.table<JobCredentialRecord>(TABLES.jobCredentials)) {
    if (credential.expiresAt < cutoff || !context.store.get(TABLES.jobs, credential.jobId)) context.store.delete(TABLES.jobCredentials, key);
  }
}
