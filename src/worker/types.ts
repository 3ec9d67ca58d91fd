// The seams of the worker: the job API it calls, the artifact transfer it uses, and the error
// class every part throws when it knows which CodePipeline failure type a problem is. The poll
// loop and job runner depend on these interfaces only, so tests can drive them against the local
// endpoint or a fake.

import type { FailureType } from '../model/limits.js';

export interface ActionTypeRef {
  readonly category: string;
  readonly provider: string;
  readonly version: string;
}

export interface ArtifactCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface ArtifactLocation {
  readonly name: string;
  readonly bucketName: string;
  readonly objectKey: string;
  readonly revision?: string;
}

/** The parts of a job's data the worker uses, as PollForJobs / GetJobDetails return them. */
export interface JobData {
  readonly actionType: ActionTypeRef;
  readonly configuration: Readonly<Record<string, string>>;
  readonly pipeline: string;
  readonly stage: string;
  readonly action: string;
  readonly actionExecutionId: string;
  readonly pipelineExecutionId: string;
  readonly pipelineArn?: string;
  readonly inputArtifacts: readonly ArtifactLocation[];
  readonly outputArtifacts: readonly ArtifactLocation[];
  readonly credentials: ArtifactCredentials;
  readonly continuationToken?: string;
  /** The artifact store's KMS key, when the pipeline declares one. */
  readonly encryptionKey?: { readonly id: string; readonly type: string };
}

export interface PolledJob {
  readonly id: string;
  readonly nonce: string;
  readonly accountId?: string;
  readonly data: JobData;
}

export interface SuccessResult {
  readonly continuationToken?: string;
  readonly executionDetails?: { readonly summary?: string; readonly externalExecutionId?: string; readonly percentComplete?: number };
  readonly outputVariables?: Readonly<Record<string, string>>;
}

export interface FailureResult {
  readonly type: FailureType;
  readonly message: string;
  readonly externalExecutionId?: string;
}

/** The CodePipeline job API as the worker uses it (an adapter over the SDK implements it). */
export interface JobsApi {
  readonly region: string;
  /** Custom action types that exist (for the start-up check). */
  listCustomActionTypes(): Promise<ActionTypeRef[]>;
  poll(type: ActionTypeRef, maxBatchSize: number, queryParam?: Readonly<Record<string, string>>): Promise<PolledJob[]>;
  /** The job's status after acknowledging; throws an error named InvalidNonceException on a lost race. */
  acknowledge(jobId: string, nonce: string): Promise<string>;
  details(jobId: string): Promise<JobData>;
  succeed(jobId: string, result: SuccessResult): Promise<void>;
  fail(jobId: string, result: FailureResult): Promise<void>;
  close(): void;
}

export interface ExtractLimits {
  /** Most bytes all entries may expand to. */
  readonly maxTotalBytes: number;
  readonly maxEntries: number;
  /** Largest allowed uncompressed ÷ compressed size, per entry and overall (zip bombs). */
  readonly maxCompressionRatio: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxTotalBytes: 20 * 1024 ** 3,
  maxEntries: 200_000,
  maxCompressionRatio: 200,
};

export interface TransferTarget {
  readonly location: ArtifactLocation;
  readonly credentials: ArtifactCredentials;
  /** The bucket's Region (the pipeline's). */
  readonly region: string;
  /** Endpoint override (the local endpoint in tests and demos). */
  readonly endpoint?: string;
}

/** Moving artifacts between S3 and the workspace, streaming, with the job's own credentials. */
export interface ArtifactTransfer {
  /** Downloads a ZIP artifact and extracts it into `directory`, refusing hostile archives. */
  downloadAndExtract(target: TransferTarget, directory: string, limits: ExtractLimits, signal: AbortSignal): Promise<{ readonly files: number; readonly bytes: number }>;
  /** Zips `directory` deterministically and uploads it with SSE-KMS (the job's key when it has one). */
  zipAndUpload(target: TransferTarget, directory: string, kmsKeyId: string | undefined, signal: AbortSignal): Promise<{ readonly files: number; readonly bytes: number }>;
}

/** A problem whose CodePipeline failure type is known. The message is already safe to report. */
export class JobFailure extends Error {
  constructor(
    readonly failureType: FailureType,
    message: string,
  ) {
    super(message);
    this.name = 'JobFailure';
  }
}
