// The plan as a versioned JSON document (`cpsync plan --format json`), modelled on Terraform's
// `show -json`: `formatVersion` first (consumers reject an unknown major version and ignore
// unknown keys), then one flat entry per change so `jq '.changes[] | select(.action == "delete")'`
// works across targets. Keys come in a fixed order and values inside before/after are sorted by
// key, so equal plans give byte-equal documents. Values arrive masked; nothing is added. Pure.

import { sortKeys, type Json } from '../model/pipeline.js';
import type { Change, Plan, TargetPlan } from '../plan/types.js';

export interface PlanJsonChange {
  readonly target: string;
  readonly address: string;
  readonly action: string;
  readonly reasons: readonly string[];
  /** Absent sides are `null` (a create has no before, a delete no after). */
  readonly before: Json;
  readonly after: Json;
  /** `null` when the planner does not list paths (creates, deletes). */
  readonly changedPaths: readonly string[] | null;
}

export interface PlanJsonPipeline {
  readonly address: string;
  readonly name: string;
  readonly observedVersion: number;
  readonly stagesBefore: readonly string[];
  readonly stagesAfter: readonly string[];
  readonly runningExecutions: number;
  readonly declarationDigest: string | null;
  /** Keys only: the values of ownership tags hold digests of declarations with their secrets. */
  readonly tagKeysToSet: readonly string[];
  readonly tagKeysToRemove: readonly string[];
}

export interface PlanJsonActionType {
  readonly address: string;
  readonly tagsToSet: readonly { readonly key: string; readonly value: string }[];
  readonly tagKeysToRemove: readonly string[];
  readonly blockedBy: readonly string[];
}

export interface PlanJsonTarget {
  readonly target: string;
  readonly region: string;
  readonly accountId: string | null;
  readonly actionTypes: readonly PlanJsonActionType[];
  readonly pipelines: readonly PlanJsonPipeline[];
}

export interface PlanJsonDocument {
  readonly formatVersion: number;
  readonly cpsyncVersion: string;
  readonly createdAt: string;
  readonly summary: { readonly create: number; readonly update: number; readonly delete: number; readonly errors: number };
  readonly targets: readonly PlanJsonTarget[];
  readonly changes: readonly PlanJsonChange[];
  readonly errors: readonly { readonly target: string; readonly address: string; readonly code: string; readonly message: string; readonly hint: string | null }[];
  readonly warnings: readonly { readonly target: string; readonly address: string; readonly message: string }[];
}

/** The document as an object (for tests and for callers that embed it). */
export function buildPlanJson(plan: Plan): PlanJsonDocument {
  return {
    formatVersion: plan.formatVersion,
    cpsyncVersion: plan.cpsyncVersion,
    createdAt: plan.createdAt,
    summary: { create: plan.summary.create, update: plan.summary.update, delete: plan.summary.delete, errors: plan.summary.errors },
    targets: plan.targets.map(targetEntry),
    changes: plan.targets.flatMap((target) => targetChanges(target).map((change) => changeEntry(target.target, change))),
    errors: plan.targets.flatMap((target) => target.errors.map((error) => ({ target: target.target, address: error.address, code: error.code, message: error.message, hint: error.hint ?? null }))),
    warnings: plan.targets.flatMap((target) => target.warnings.map((warning) => ({ target: target.target, address: warning.address, message: warning.message }))),
  };
}

/** Pretty-printed (two spaces) with a final newline: the only thing `--format json` writes to stdout. */
export function renderPlanJson(plan: Plan): string {
  return `${JSON.stringify(buildPlanJson(plan), null, 2)}\n`;
}

function targetChanges(target: TargetPlan): Change[] {
  // Action types first: apply creates them before the pipelines that use them.
  return [...target.actionTypes.flatMap((type) => type.changes), ...target.pipelines.flatMap((pipeline) => pipeline.changes)];
}

function changeEntry(target: string, change: Change): PlanJsonChange {
  return {
    target,
    address: change.address,
    action: change.action,
    reasons: [...change.reasons],
    before: change.before === undefined ? null : sortKeys(change.before),
    after: change.after === undefined ? null : sortKeys(change.after),
    changedPaths: change.changedPaths ? [...change.changedPaths] : null,
  };
}

function targetEntry(target: TargetPlan): PlanJsonTarget {
  return {
    target: target.target,
    region: target.region,
    accountId: target.accountId ?? null,
    actionTypes: target.actionTypes.map((type) => ({
      address: type.address,
      tagsToSet: (type.tags ?? []).map((tag) => ({ key: tag.key, value: tag.value })),
      tagKeysToRemove: [...(type.tagKeysToRemove ?? [])],
      blockedBy: [...(type.blockedBy ?? [])],
    })),
    pipelines: target.pipelines.map((pipeline) => ({
      address: pipeline.address,
      name: pipeline.name,
      observedVersion: pipeline.observedVersion,
      stagesBefore: [...pipeline.stagesBefore],
      stagesAfter: [...pipeline.stagesAfter],
      runningExecutions: pipeline.runningExecutions,
      declarationDigest: pipeline.declarationDigest ?? null,
      tagKeysToSet: pipeline.tagsToSet.map((tag) => tag.key),
      tagKeysToRemove: [...pipeline.tagKeysToRemove],
    })),
  };
}
