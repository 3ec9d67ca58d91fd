// The rows the local endpoint keeps in its store, one table per kind. Values are plain JSON so
// the journal can hold them. Timestamps are milliseconds since the epoch (converted to the wire's
// seconds at the edge).

import type { ActionTypeId, ConfigurationProperty, ActionTypeSettings, ArtifactDetails, Tag } from '../../model/action-type.js';

export const TABLES = {
  actionTypes: 'actionTypes',
  pipelines: 'pipelines',
  executions: 'executions',
  jobs: 'jobs',
  counters: 'counters',
  jobCredentials: 'jobCredentials',
  creationExecutions: 'creationExecutions',
} as const;

/** A custom action type, keyed by `Category/Provider/Version` (owner is always Custom). */
export interface ActionTypeRecord {
  readonly id: ActionTypeId;
  readonly settings?: ActionTypeSettings;
  readonly actionConfigurationProperties: readonly ConfigurationProperty[];
  readonly inputArtifactDetails: ArtifactDetails;
  readonly outputArtifactDetails: ArtifactDetails;
  readonly tags: readonly Tag[];
  readonly created: number;
  /** Deleted types stay as records: their version is burned and may only be restored identically. */
  readonly deleted: boolean;
}

/** One stored version of a pipeline: the declaration exactly as accepted (secrets unmasked). */
export interface PipelineVersionRecord {
  readonly version: number;
  /** The PipelineDeclaration JSON as sent (with `version` set), unknown fields kept. */
  readonly declaration: Record<string, unknown>;
  readonly created: number;
}

/** A pipeline, keyed by name. */
export interface PipelineRecord {
  readonly name: string;
  readonly arn: string;
  readonly created: number;
  readonly updated: number;
  /** Every version, oldest first; the last is current. */
  readonly versions: readonly PipelineVersionRecord[];
  readonly tags: readonly Tag[];
}

export type ExecutionStatus = 'InProgress' | 'Stopping' | 'Stopped' | 'Succeeded' | 'Failed' | 'Superseded' | 'Cancelled';
export type StageStatus = 'InProgress' | 'Stopping' | 'Stopped' | 'Succeeded' | 'Failed' | 'Cancelled';
export type ActionStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Abandoned';
export type ExecutionMode = 'SUPERSEDED' | 'QUEUED' | 'PARALLEL';

/** An S3 location inside an artifact store, with the revision the producing action reported. */
export interface ArtifactLocationRecord {
  readonly name: string;
  readonly bucketName: string;
  readonly objectKey: string;
  readonly revision?: string;
}

/** The latest run of one action inside an execution. */
export interface ActionRunRecord {
  readonly stageName: string;
  readonly actionName: string;
  readonly actionExecutionId: string;
  /** The runOrder group the action belongs to (1 when the declaration omits it). */
  readonly runOrder: number;
  readonly status: ActionStatus;
  readonly startedAt: number;
  readonly lastStatusChange: number;
  readonly summary?: string;
  readonly externalExecutionId?: string;
  readonly percentComplete?: number;
  readonly errorDetails?: { readonly code: string; readonly message: string };
  /** The job currently carrying this action (custom actions), if any. */
  readonly currentJobId?: string;
  /** Where the action must write each declared output artifact; fixed for the whole action run. */
  readonly outputLocations: readonly ArtifactLocationRecord[];
  readonly outputVariables?: Record<string, string>;
  /** The revision a source action produced (GetPipelineState currentRevision). */
  readonly currentRevision?: { readonly revisionId: string; readonly revisionChangeId?: string; readonly created: number; readonly summary?: string };
}

/** A pipeline execution, keyed by its id. */
export interface ExecutionRecord {
  readonly pipelineExecutionId: string;
  readonly pipelineName: string;
  /** The pipeline's `created` time: tells this incarnation of the name from a deleted namesake. */
  readonly pipelineCreated: number;
  /** The declaration version the execution runs; an UpdatePipeline does not change running executions. */
  readonly pipelineVersion: number;
  /** Increases with every execution started by this endpoint: orders executions (newest wins). */
  readonly sequence: number;
  readonly executionMode: ExecutionMode;
  readonly status: ExecutionStatus;
  readonly statusSummary?: string;
  readonly startedAt: number;
  readonly lastUpdateAt: number;
  readonly trigger: { readonly triggerType: string; readonly triggerDetail?: string };
  readonly stopTrigger?: { readonly reason?: string };
  /** Set by StopPipelineExecution while in-progress actions finish (or after they were abandoned). */
  readonly stopRequest?: { readonly abandon: boolean; readonly reason?: string };
  /** Index of the stage the execution is in, or waits to enter when that stage has no status yet. */
  readonly currentStageIndex: number;
  readonly stageStatuses: Record<string, StageStatus>;
  /** Keyed by `Stage/Action`. */
  readonly actions: Record<string, ActionRunRecord>;
  /** Output artifacts produced so far, by artifact name. */
  readonly artifacts: Record<string, ArtifactLocationRecord>;
  readonly variables?: readonly { readonly name: string; readonly resolvedValue: string }[];
  readonly clientRequestToken?: string;
}

/** Job statuses as the API names them. `Created` is never stored: jobs are queued as they are made. */
export type JobRecordStatus = 'Queued' | 'Dispatched' | 'InProgress' | 'Succeeded' | 'Failed' | 'TimedOut';

/** A job for a custom action, keyed by job id. */
export interface JobRecord {
  readonly id: string;
  readonly actionTypeId: ActionTypeId;
  readonly pipelineName: string;
  readonly pipelineArn: string;
  readonly pipelineExecutionId: string;
  readonly stageName: string;
  readonly actionName: string;
  readonly actionExecutionId: string;
  readonly status: JobRecordStatus;
  /** The nonce of the latest dispatch; a nonce is good for one acknowledgement. */
  readonly nonce?: string;
  /** True once `nonce` has been used by an AcknowledgeJob. */
  readonly nonceUsed?: boolean;
  readonly dispatchedAt?: number;
  readonly acknowledgedAt?: number;
  readonly createdAt: number;
  readonly finishedAt?: number;
  /** Orders jobs in the queue (oldest first), stable across restarts. */
  readonly sequence: number;
  readonly continuationToken?: string;
  /** The action's configuration, secrets included, as workers receive it. */
  readonly configuration: Record<string, string>;
  readonly inputArtifacts: readonly ArtifactLocationRecord[];
  readonly outputArtifacts: readonly ArtifactLocationRecord[];
  readonly encryptionKey?: { readonly id: string; readonly type: 'KMS' };
}

/** Per-job artifact credentials, keyed by access key id. Old ones stay valid until they expire,
 *  as STS credentials do: a refresh through GetJobDetails does not revoke the previous set. */
export interface JobCredentialRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly jobId: string;
  readonly expiresAt: number;
}

export function actionTypeRecordKey(id: { category: string; provider: string; version: string }): string {
  return `${id.category}/${id.provider}/${id.version}`;
}
