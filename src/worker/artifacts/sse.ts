// The one place that decides SSE-KMS for output artifacts (§0 rule 14, §13 upload step 2).

/**
 * The KMS key id to send with uploads: the artifact store's key when the job names one of type KMS,
 * otherwise undefined, and S3 then uses the account's `aws/s3` key. The upload always sends
 * `ServerSideEncryption: aws:kms`; console-made artifact buckets deny anything else.
 */
export function kmsKeyFor(encryptionKey: { readonly id?: string; readonly type?: string } | undefined): string | undefined {
  if (encryptionKey?.type !== 'KMS') return undefined;
  const id = encryptionKey.id?.trim();
  return id ? id : undefined;
}
