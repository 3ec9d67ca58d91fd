// Who may do what, decided without I/O. Two sources of restriction mirror AWS:
//
// - Per-job artifact credentials. CodePipeline's job credentials carry a session policy that
//   allows s3:GetObject on the input artifacts and s3:PutObject on the output artifacts, nothing
//   else (no s3:ListBucket, so a missing input artifact reads as 403, not 404). Past their expiry
//   S3 answers 400 ExpiredToken before looking at anything else.
// - The artifact-store bucket policy CodePipeline creates by default, which denies s3:PutObject
//   unless `s3:x-amz-server-side-encryption` is `aws:kms`. It applies to every principal.
//
// Any other access key is unrestricted (like moto, secrets are not checked).

import type { IssuedCredential } from '../context.js';

/** What a request does, in the terms the two policies care about. */
export type S3Access =
  | { readonly kind: 'read-object'; readonly bucket: string; readonly key: string }
  /** PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload. */
  | { readonly kind: 'write-object'; readonly bucket: string; readonly key: string; readonly startsObject: boolean; readonly serverSideEncryption?: string }
  | { readonly kind: 'delete-object'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'bucket'; readonly bucket?: string };

export type AccessDecision = 'allow' | 'deny' | 'expired';

export interface AccessFacts {
  /** The issued credential for the request's access key, when it is a per-job one. */
  readonly credential: IssuedCredential | undefined;
  readonly now: number;
  readonly isArtifactStoreBucket: (bucket: string) => boolean;
}

export function decideAccess(access: S3Access, facts: AccessFacts): AccessDecision {
  const scoped = decideCredentialAccess(access, facts.credential, facts.now);
  if (scoped !== 'allow') return scoped;
  return decideBucketPolicy(access, facts.isArtifactStoreBucket);
}

export function decideCredentialAccess(access: S3Access, credential: IssuedCredential | undefined, now: number): AccessDecision {
  if (!credential) return 'allow';
  if (now > credential.expiresAt) return 'expired';
  switch (access.kind) {
    case 'read-object':
      return credential.readable.includes(`${access.bucket}/${access.key}`) ? 'allow' : 'deny';
    case 'write-object':
      return credential.writable.includes(`${access.bucket}/${access.key}`) ? 'allow' : 'deny';
    default:
      return 'deny';
  }
}

/** CodePipeline's default artifact bucket policy: `DenyUnEncryptedObjectUploads`. */
export function decideBucketPolicy(access: S3Access, isArtifactStoreBucket: (bucket: string) => boolean): AccessDecision {
  if (access.kind !== 'write-object' || !access.startsObject) return 'allow';
  if (!isArtifactStoreBucket(access.bucket)) return 'allow';
  // StringNotEquals aws:kms: a missing header and aws:kms:dsse are both denied.
  return access.serverSideEncryption === 'aws:kms' ? 'allow' : 'deny';
}
