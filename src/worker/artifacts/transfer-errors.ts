// Which CodePipeline failure type an artifact transfer problem is, decided from the error's name,
// HTTP status and errno only. Pure, so the table is tested without S3. Messages say the artifact,
// bucket and key and the error's code; never an SDK message (it may carry principal ARNs), never
// credentials, never the workspace path.

import { JobFailure } from '../types.js';

export interface TransferSite {
  readonly direction: 'download' | 'extract' | 'upload';
  readonly artifact: string;
  readonly bucket: string;
  readonly key: string;
}

/**
 * The job's artifact credentials expired (S3 `ExpiredToken`). The caller gets fresh ones with
 * GetJobDetails and retries once (§13 step 5); if it does not, this still reports as PermissionError.
 */
export class ExpiredCredentials extends JobFailure {
  readonly expiredCredentials = true;
  constructor(message: string) {
    super('PermissionError', message);
    this.name = 'ExpiredCredentials';
  }
}

export function isExpiredCredentials(error: unknown): error is ExpiredCredentials {
  return error instanceof ExpiredCredentials;
}

const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired', 'RequestExpired']);
const PERMISSION = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'InvalidToken',
  'SignatureDoesNotMatch',
  'AccountProblem',
  'Forbidden',
]);
const MISSING = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound', 'NoSuchVersion']);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'ServiceUnavailable', 'InternalError', 'InternalFailure', 'RequestTimeout', 'RequestTimeTooSkewed']);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError', 'NetworkingError', 'RequestTimeoutException']);
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);
const LOCAL_RESOURCES = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EACCES', 'EPERM', 'EROFS', 'EIO']);

interface ErrorFacts {
  readonly name: string;
  readonly status: number | undefined;
  readonly fault: string | undefined;
  readonly errno: string | undefined;
  readonly requestId: string | undefined;
}

function factsOf(error: unknown): ErrorFacts {
  const record = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    Code?: unknown;
    code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  };
  const code = typeof record.Code === 'string' ? record.Code : undefined;
  const name = code ?? (typeof record.name === 'string' ? record.name : 'Error');
  const status = typeof record.$metadata?.httpStatusCode === 'number' ? record.$metadata.httpStatusCode : undefined;
  const errno = typeof record.code === 'string' ? record.code : undefined;
  const requestId = typeof record.$metadata?.requestId === 'string' ? record.$metadata.requestId : undefined;
  return { name, status, fault: typeof record.$fault === 'string' ? record.$fault : undefined, errno, requestId };
}

function describeCode(facts: ErrorFacts): string {
  const parts = [facts.errno && facts.errno !== facts.name ? facts.errno : facts.name];
  if (facts.status !== undefined) parts.push(`HTTP ${facts.status}`);
  if (facts.requestId) parts.push(`request ${facts.requestId}`);
  return parts.join(', ');
}

/** Maps an error thrown while moving an artifact to a JobFailure with a safe message. */
export function classifyTransferError(error: unknown, site: TransferSite): JobFailure {
  if (error instanceof JobFailure) return error;
  const facts = factsOf(error);
  const what =
    site.direction === 'download'
      ? `download input artifact ${site.artifact} from s3://${site.bucket}/${site.key}`
      : site.direction === 'extract'
        ? `extract input artifact ${site.artifact} into the workspace`
        : `upload output artifact ${site.artifact} to s3://${site.bucket}/${site.key}`;
  const code = describeCode(facts);
  const name = facts.name;

  if (EXPIRED.has(name)) return new ExpiredCredentials(`could not ${what}: the job's artifact credentials expired (${code}); fresh ones come from GetJobDetails`);
  if (name === 'AbortError' || facts.errno === 'ABORT_ERR') return new JobFailure('SystemUnavailable', `could not ${what}: the transfer was cancelled (the worker is stopping or the job was abandoned)`);
  if (facts.errno && DISK_FULL.has(facts.errno)) return new JobFailure('SystemUnavailable', `could not ${what}: the worker's disk is full (${facts.errno})`);
  if (facts.errno && LOCAL_RESOURCES.has(facts.errno) && facts.status === undefined) {
    return new JobFailure('SystemUnavailable', `could not ${what}: the worker could not use its workspace (${facts.errno})`);
  }
  if (PERMISSION.has(name) || name.startsWith('KMS') || facts.status === 403) {
    const hint = site.direction !== 'upload' ? 's3:GetObject and kms:Decrypt' : 's3:PutObject and kms:GenerateDataKey';
    const missing = site.direction === 'download' ? '; a missing object also looks like this without s3:ListBucket' : '';
    return new JobFailure('PermissionError', `could not ${what}: access denied (${code}); the job's artifact credentials need ${hint}${missing}`);
  }
  if (MISSING.has(name) || facts.status === 404) {
    if (site.direction !== 'upload') {
      const gone = name === 'NoSuchBucket' ? 'the artifact bucket does not exist' : 'the object does not exist';
      return new JobFailure('RevisionUnavailable', `could not ${what}: ${gone} (${code})`);
    }
    return new JobFailure('ConfigurationError', `could not ${what}: the artifact store bucket does not exist (${code})`);
  }
  if (THROTTLED.has(name) || (facts.errno !== undefined && NETWORK.has(facts.errno)) || NETWORK.has(name) || facts.fault === 'server' || (facts.status ?? 0) >= 500) {
    return new JobFailure('SystemUnavailable', `could not ${what}: S3 kept failing after retries (${code})`);
  }
  return new JobFailure('JobFailed', `could not ${what}: ${code}`);
}
