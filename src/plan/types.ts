// A plan is data: every change carries an address, an action and the reasons for it. The human,
// JSON and markdown renderers all read this one model, so they cannot disagree, and apply executes
// it. Nothing here holds a secret value: secret configuration values appear as "(sensitive)".

import type { ActionTypeDefinition, Tag } from '../model/action-type.js';
import type { Json, JsonObject } from '../model/pipeline.js';

export const PLAN_FORMAT_VERSION = 1;

export type ChangeAction = 'create' | 'update' | 'delete' | 'tag' | 'no-op';

/** Why a change is planned; stable codes for machines, explained by the renderers. */
export type ChangeReason =
  | 'missing' // declared but not in the account
  | 'config-changed' // the declaration changed since cpsync last wrote it
  | 'secret-changed' // only a secret value changed (compared through the recorded digest)
  | 'owned-drift' // someone edited what cpsync owns; apply restores the declaration
  | 'owned-removed-outside' // someone deleted what cpsync owns; apply puts it back
  | 'moved' // an owned stage is no longer at its declared place
  | 'removed-from-config' // cpsync owns it but it is no longer declared
  | 'version-rollout' // owned actions move to a new version of their action type
  | 'tags-changed'
  | 'adopt' // an existing resource becomes owned (cpsync import)
  | 'unused-old-version'; // an owned action type is no longer declared nor used

export interface Change {
  /** `action-type:Build/My-Build-Provider-Name/1`, `pipeline:P/stage:S`, `pipeline:P/stage:S/action:A`, `pipeline:P/rewire:S/A`. */
  readonly address: string;
  readonly action: ChangeAction;
  readonly reasons: readonly ChangeReason[];
  /** Masked: secret values are "(sensitive)". */
  readonly before?: Json;
  readonly after?: Json;
  /** Keys whose values differ, for a quick read; secret ones included by name. */
  readonly changedPaths?: readonly string[];
}

/** A problem that stops part of the plan (nothing in that pipeline or type is changed). */
export interface PlanError {
  readonly address: string;
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export interface PlanWarning {
  readonly address: string;
  readonly message: string;
}

export interface ActionTypePlan {
  readonly address: string;
  readonly changes: readonly Change[];
  /** For create: the definition to send. */
  readonly definition?: ActionTypeDefinition;
  /** For create: all tags; for tag changes: the tags to set. */
  readonly tags?: readonly Tag[];
  readonly tagKeysToRemove?: readonly string[];
  /** For delete: pipelines that still use the type (blocks the deletion). */
  readonly blockedBy?: readonly string[];
}

export interface PipelinePlan {
  readonly name: string;
  readonly address: string;
  /** The version read while planning; apply refuses when the pipeline has moved on. */
  readonly observedVersion: number;
  readonly changes: readonly Change[];
  readonly stagesBefore: readonly string[];
  /** Stage names after the change, inserted ones marked by `+`, removed ones by `-`. */
  readonly stagesAfter: readonly string[];
  /** The declaration to write, masked, for review and the stale check. Absent when unchanged. */
  readonly declarationDigest?: string;
  readonly tagsToSet: readonly Tag[];
  readonly tagKeysToRemove: readonly string[];
  readonly runningExecutions: number;
}

export interface TargetPlan {
  readonly target: string;
  readonly region: string;
  readonly accountId?: string;
  readonly actionTypes: readonly ActionTypePlan[];
  readonly pipelines: readonly PipelinePlan[];
  readonly errors: readonly PlanError[];
  readonly warnings: readonly PlanWarning[];
}

export interface PlanSummary {
  readonly create: number;
  readonly update: number;
  readonly delete: number;
  readonly errors: number;
}

export interface Plan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  readonly createdAt: string;
  readonly cpsyncVersion: string;
  readonly targets: readonly TargetPlan[];
  readonly summary: PlanSummary;
}

export function pipelineAddress(pipeline: string): string {
  return `pipeline:${pipeline}`;
}
export function stageAddress(pipeline: string, stage: string): string {
  return `pipeline:${pipeline}/stage:${stage}`;
}
export function actionAddress(pipeline: string, stage: string, action: string): string {
  return `pipeline:${pipeline}/stage:${stage}/action:${action}`;
}
export function rewireAddress(pipeline: string, stage: string, action: string): string {
  return `pipeline:${pipeline}/rewire:${stage}/${action}`;
}

export type { JsonObject };
