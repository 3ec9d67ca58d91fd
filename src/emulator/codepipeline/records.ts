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
export type ActionStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Abandoned';

/** The latest run of one action inside an execution. */
export interface ActionRunRecord {
  readonly stageName: string;
  readonly actionName: string;
  readonly actionExecutionId: string;
  readonly status: ActionStatus;
  readonly startedAt: number;
  readonly lastStatusChange: number;
  readonly summary?: string;
  readonly externalExecutionId?: string;
  readonly percentComplete?: number;
  readonly errorDetails?: { readonly code: string; readonly message: string };
  /** The job currently carrying this action (custom actions), if any. */
  readonly currentJobId?: string;
  readonly outputVariables?: Record<string, string>;
}

/** A pipeline execution, keyed by its id. */
export interface ExecutionRecord {
  readonly pipelineExecutionId: string;
  readonly pipelineName: string;
  readonly pipelineVersion: number;
  readonly status: ExecutionStatus;
  readonly statusSummary?: string;
  readonly startedAt: number;
  readonly lastUpdateAt: number;
  readonly trigger: { readonly triggerType: string; readonly triggerDetail?: string };
  /** Index of the stage running now (or last run). */
  readonly currentStageIndex: number;
  readonly stageStatuses: Record<string, 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped' | 'Cancelled'>;
  readonly actions: Record<string, ActionRunRecord>;
  /** Output artifacts produced so far: artifact name → S3 location and revision. */
  readonly artifacts: Record<string, { readonly bucketName: string; readonly objectKey: string; readonly revision?: string }>;
  readonly clientRequestToken?: string;
}

export type JobRecordStatus = 'Queued' | 'Dispatched' | 'InProgress' | 'Succeeded' | 'Failed' | 'TimedOut';

/** A job for a custom action, keyed by job id. */
export interface JobRecord {
  readonly id: string;
  readonly actionTypeId: ActionTypeId;
  readonly pipelineName: string;
  readonly pipelineExecutionId: string;
  readonly stageName: string;
  readonly actionName: string;
  readonly actionExecutionId: string;
  readonly status: JobRecordStatus;
  /** The nonce of the latest dispatch; a nonce is good for one acknowledgement. */
  readonly nonce?: string;
  readonly dispatchedAt?: number;
  readonly acknowledgedAt?: number;
  readonly createdAt: number;
  readonly continuationToken?: string;
  /** The action's configuration, secrets included, as workers receive it. */
  readonly configuration: Record<string, string>;
  readonly inputArtifacts: readonly { readonly name: string; readonly bucketName: string; readonly objectKey: string; readonly revision?: string }[];
  readonly outputArtifacts: readonly { readonly name: string; readonly bucketName: string; readonly objectKey: string }[];
  readonly encryptionKey?: { readonly id: string; readonly type: 'KMS' };
  /** Artifact credentials currently issued for this job. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string; readonly expiresAt: number };
}

export function actionTypeRecordKey(id: { category: string; provider: string; version: string }): string {
  return `${id.category}/${id.provider}/${id.version}`;
}
