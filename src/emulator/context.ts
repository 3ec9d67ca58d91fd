// What every part of the local endpoint shares: the store, the clock, identity, options and the
// hooks one part offers another (the job engine issues artifact credentials; S3 checks them).

import type { Store } from './store.js';
import type { Signer } from './sigv4.js';

export interface FaultRule {
  /** A CodePipeline operation (`PollForJobs`), an S3 operation (`s3:PutObject`), `s3:*` or `*`. */
  readonly operation: string;
  /** Added before the request is handled, in milliseconds. */
  readonly latencyMs?: number;
  /** Share of requests (0-1) answered with ThrottlingException (S3: SlowDown 503) without applying them. */
  readonly throttleRate?: number;
  /** Share of requests (0-1) answered with a 500 InternalFailure without applying them. */
  readonly errorRate?: number;
  /** Share of requests (0-1) that are applied but whose response is never sent (the socket is destroyed). */
  readonly dropResponseRate?: number;
}

export interface LocalEndpointOptions {
  readonly host?: string;
  /** 0 picks a free port. Default 4599. */
  readonly port?: number;
  /** Where state and S3 objects persist; undefined keeps state in memory and objects in a temp folder. */
  readonly dataDir?: string;
  readonly reset?: boolean;
  readonly region?: string;
  readonly accountId?: string;
  /** How long a dispatched job may go unacknowledged before it is queued again (default 30 s). */
  readonly dispatchTimeoutMs?: number;
  /** How long an acknowledged job may run without a result before it times out (default 1 h). */
  readonly actionTimeoutMs?: number;
  /** How long per-job artifact credentials stay valid (default 15 min). */
  readonly credentialLifetimeMs?: number;
  /** AWS-owned actions (other than S3 sources) that fail instead of succeeding: `Pipeline/Stage/Action` or `Stage/Action`. */
  readonly failingActions?: readonly string[];
  readonly faults?: readonly FaultRule[];
  /** Seed for the fault-injection random numbers, so a failing run can be repeated. */
  readonly seed?: number;
  /** fsync the journal after each write (default true). */
  readonly durable?: boolean;
}

/** Artifact credentials the job engine issued, as S3 needs to know them. */
export interface IssuedCredential {
  readonly accessKeyId: string;
  readonly jobId: string;
  readonly expiresAt: number;
  /** `bucket/key` pairs the credential may read. */
  readonly readable: readonly string[];
  /** `bucket/key` pairs the credential may write. */
  readonly writable: readonly string[];
}

/** What the S3 side offers the rest of the endpoint (the job engine copies source artifacts). */
export interface ObjectStoreApi {
  createBucket(bucket: string): void;
  hasBucket(bucket: string): boolean;
  /** Reads an object as a stream, or undefined when the bucket or key does not exist. */
  openObject(bucket: string, key: string): Promise<{ readonly stream: NodeJS.ReadableStream; readonly size: number; readonly versionId?: string; readonly etag: string } | undefined>;
  /** Writes an object (streamed to disk, then renamed into place). */
  putObject(
    bucket: string,
    key: string,
    body: NodeJS.ReadableStream | Buffer,
    meta?: { readonly serverSideEncryption?: string; readonly kmsKeyId?: string; readonly contentType?: string },
  ): Promise<{ readonly etag: string; readonly versionId?: string }>;
}

export interface EmulatorContext {
  readonly store: Store;
  readonly region: string;
  readonly accountId: string;
  readonly options: Required<Pick<LocalEndpointOptions, 'dispatchTimeoutMs' | 'actionTimeoutMs' | 'credentialLifetimeMs'>> & LocalEndpointOptions;
  /** Milliseconds since the epoch; tests may replace it. */
  now(): number;
  /** Looks up per-job credentials by access key id (S3 uses this to scope and expire them). */
  findCredential(accessKeyId: string): IssuedCredential | undefined;
  /** True when some pipeline uses the bucket as its artifact store (S3 then requires SSE-KMS on writes). */
  isArtifactStoreBucket(bucket: string): boolean;
  readonly objects: ObjectStoreApi;
}

export interface RequestInfo {
  readonly signer: Signer;
}
