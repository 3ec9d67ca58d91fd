// `cpsync plan --out plan.json` writes the plan together with everything needed to apply exactly
// it later: the desired configuration (which holds `${env:…}` references, never secret values) and
// what was observed. `cpsync apply plan.json` refuses when anything it saw has moved. Pure.

import { formatTypeRef } from '../model/action-type.js';
import type { DesiredActionType, DesiredPipelineFile } from '../model/desired.js';
import { canonicalJson, digest, type Json } from '../model/pipeline.js';
import type { LiveState } from './plan-target.js';
import type { Plan, TargetPlan } from './types.js';

export const PLAN_FILE_KIND = 'cpsync-plan';

export interface ObservedSnapshot {
  /** Pipeline name → version read while planning. */
  readonly pipelines: Readonly<Record<string, number>>;
  /** Digest of the custom action types and their tags. */
  readonly actionTypes: string;
}

export interface PlanFile {
  readonly kind: typeof PLAN_FILE_KIND;
  readonly plan: Plan;
  readonly inputs: {
    readonly tagPrefix: string;
    readonly actionTypes: readonly DesiredActionType[];
    readonly pipelineFiles: readonly DesiredPipelineFile[];
  };
  readonly observed: Readonly<Record<string, ObservedSnapshot>>;
}

export function snapshotOf(live: LiveState): ObservedSnapshot {
  return {
    pipelines: Object.fromEntries([...live.pipelines.values()].map((pipeline) => [pipeline.name, pipeline.version])),
    actionTypes: digestActionTypes(live),
  };
}

function digestActionTypes(live: LiveState): string {
  const rows = live.actionTypes
    .map((type) => ({ ref: formatTypeRef(type.definition), tags: [...type.tags].sort((a, b) => a.key.localeCompare(b.key)).map((tag) => [tag.key, tag.value]) }))
    .sort((a, b) => a.ref.localeCompare(b.ref));
  return digest(rows as unknown as Json);
}

/** What moved since the snapshot, in words; empty when nothing did. */
export function describeDrift(saved: ObservedSnapshot, live: LiveState): string[] {
  const moved: string[] = [];
  for (const [name, version] of Object.entries(saved.pipelines)) {
    const now = live.pipelines.get(name);
    if (!now) moved.push(`pipeline ${name} no longer exists`);
    else if (now.version !== version) moved.push(`pipeline ${name} is at version ${now.version}, the plan saw version ${version}`);
  }
  if (digestActionTypes(live) !== saved.actionTypes) moved.push('the custom action types or their tags changed');
  return moved;
}

/** Whether a fresh plan of a target says exactly what the saved one said. */
export function samePlannedChanges(saved: TargetPlan, fresh: TargetPlan): boolean {
  const essence = (plan: TargetPlan) =>
    canonicalJson({
      actionTypes: plan.actionTypes.map((type) => ({ address: type.address, changes: type.changes })),
      pipelines: plan.pipelines.map((pipeline) => ({ name: pipeline.name, changes: pipeline.changes, digest: pipeline.declarationDigest ?? null, tags: pipeline.tagsToSet, untag: pipeline.tagKeysToRemove })),
      errors: plan.errors,
    } as unknown as Json);
  return essence(saved) === essence(fresh);
}

export function encodePlanFile(file: PlanFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

export type DecodedPlanFile = { readonly ok: true; readonly file: PlanFile } | { readonly ok: false; readonly reason: string };

export function decodePlanFile(text: string, expectedVersion: number): DecodedPlanFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'it is not JSON' };
  }
  const file = parsed as Partial<PlanFile>;
  if (file?.kind !== PLAN_FILE_KIND || !file.plan || !file.inputs || !file.observed) return { ok: false, reason: 'it is not a plan written by `cpsync plan --out`' };
  if (file.plan.formatVersion !== expectedVersion) return { ok: false, reason: `it has plan format version ${String(file.plan.formatVersion)}; this cpsync reads version ${expectedVersion}` };
  return { ok: true, file: file as PlanFile };
}
