// Carries out a planned target through the CodePipeline interface, in the order that keeps every
// intermediate state valid: create action types, update their tags, update pipelines (including
// removals of owned stages), then delete action types nothing uses any more.
//
// Each pipeline is re-read right before its write and its version compared with the planned one;
// written; and read again to check that it converged. CodePipeline has no conditional update, so
// a concurrent write by someone else is detected afterwards (the version jumped) and their
// declaration is rebased on, so their edit is never lost.

import type { CodePipelineApi } from '../aws/codepipeline-api.js';
import { formatTypeRef, type ActionTypeDefinition } from '../model/action-type.js';
import { actionsOf, stagesOf, type JsonObject } from '../model/pipeline.js';
import type { LivePipelineState, PipelineWrite, PlannedTarget } from '../plan/plan-target.js';
import type { PlanError } from '../plan/types.js';
import { describeError } from '../util/errors.js';
import { mapBounded } from '../util/pool.js';
import { readPipeline } from './read-live.js';

export type ItemStatus = 'applied' | 'failed' | 'skipped';

export interface ApplyItemResult {
  readonly address: string;
  readonly status: ItemStatus;
  readonly message?: string;
}

export interface ApplyReport {
  readonly target: string;
  readonly items: readonly ApplyItemResult[];
}

/** Re-plans one pipeline against a fresh read: a write, or an error (e.g. a new conflict). */
export type Replan = (fresh: LivePipelineState) => PipelineWrite | PlanError;

export interface ApplyOptions {
  readonly parallelism: number;
  /** 'rebase': a pipeline that moved since the plan is re-planned on its new version (plan and
   *  apply in one run). 'strict': it is refused as stale (a saved plan). */
  readonly onMoved: 'rebase' | 'strict';
  readonly replan: (name: string) => Replan;
  /** Progress lines for stderr. */
  readonly progress?: (line: string) => void;
}

const MAX_WRITE_ROUNDS = 3;

export async function applyTarget(api: CodePipelineApi, planned: PlannedTarget, options: ApplyOptions): Promise<ApplyReport> {
  const items: ApplyItemResult[] = [];
  const say = options.progress ?? (() => undefined);
  const record = (result: ApplyItemResult) => {
    items.push(result);
    say(`${result.status === 'applied' ? 'done' : result.status}: ${result.address}${result.message ? ` (${result.message})` : ''}`);
  };

  // 1. Create action types, 2. update their tags.
  const failedTypes = new Set<string>();
  for (const typePlan of planned.plan.actionTypes) {
    const change = typePlan.changes[0];
    if (!change) continue;
    if (change.action === 'create' && typePlan.definition) {
      try {
        await createActionType(api, typePlan.definition, typePlan.tags ?? []);
        record({ address: typePlan.address, status: 'applied' });
      } catch (error) {
        failedTypes.add(formatTypeRef(typePlan.definition));
        record({ address: typePlan.address, status: 'failed', message: explainTypeError(error, typePlan.definition) });
      }
    } else if (change.action === 'tag') {
      try {
        const arn = await api.actionTypeArn(parseRef(typePlan.address));
        await api.tagResource(arn, typePlan.tags ?? []);
        await api.untagResource(arn, typePlan.tagKeysToRemove ?? []);
        record({ address: typePlan.address, status: 'applied' });
      } catch (error) {
        record({ address: typePlan.address, status: 'failed', message: describeError(error) });
      }
    }
  }

  // 3. Pipelines, independent of each other, in parallel.
  const stillUsing = new Map<string, JsonObject>();
  const pending = planned.writes.filter((write) => write.declaration || write.tagsToSet.length || write.tagKeysToRemove.length);
  await mapBounded(pending, options.parallelism, async (write) => {
    const address = `pipeline:${write.name}`;
    const missingType = write.declaration && usedCustomRefs(write.declaration).find((ref) => failedTypes.has(ref));
    if (missingType) {
      record({ address, status: 'skipped', message: `it needs action type ${missingType}, which could not be created` });
      return;
    }
    try {
      const outcome = await applyPipeline(api, write, options);
      if (outcome.status !== 'applied' && outcome.live) stillUsing.set(write.name, outcome.live.declaration);
      record({ address, status: outcome.status, ...(outcome.message ? { message: outcome.message } : {}) });
    } catch (error) {
      record({ address, status: 'failed', message: describeError(error) });
    }
  });

  // 4. Delete action types that nothing uses, unless a pipeline that was to stop using it failed.
  for (const typePlan of planned.plan.actionTypes) {
    if (typePlan.changes[0]?.action !== 'delete') continue;
    const id = parseRef(typePlan.address);
    const ref = formatTypeRef(id);
    const blockers = [...stillUsing.entries()].filter(([, declaration]) => usedCustomRefs(declaration).includes(ref)).map(([name]) => name);
    if (blockers.length) {
      record({ address: typePlan.address, status: 'skipped', message: `still used by ${blockers.join(', ')}, whose update failed` });
      continue;
    }
    try {
      await api.deleteCustomActionType(id);
      record({ address: typePlan.address, status: 'applied' });
    } catch (error) {
      record({ address: typePlan.address, status: 'failed', message: describeError(error) });
    }
  }
  return { target: planned.plan.target, items };
}

interface PipelineOutcome {
  readonly status: ItemStatus;
  readonly message?: string;
  readonly live?: LivePipelineState;
}

async function applyPipeline(api: CodePipelineApi, planned: PipelineWrite, options: ApplyOptions): Promise<PipelineOutcome> {
  const replan = options.replan(planned.name);
  let fresh = await readPipeline(api, planned.name);
  if (!fresh) return { status: 'failed', message: 'the pipeline no longer exists' };
  let write: PipelineWrite = planned;
  if (fresh.version !== planned.observedVersion) {
    if (options.onMoved === 'strict') {
      return { status: 'failed', message: `stale plan: the pipeline is at version ${fresh.version}, the plan was made at version ${planned.observedVersion}; run cpsync plan again`, live: fresh };
    }
    const rebased = replan(fresh);
    if ('code' in rebased) return { status: 'failed', message: rebased.message, live: fresh };
    write = rebased;
  }

  for (let round = 0; round < MAX_WRITE_ROUNDS; round++) {
    if (write.declaration) {
      const written = await writeDeclaration(api, fresh, write.declaration);
      if (written.version > fresh.version + 1) {
        // Someone else wrote between our read and our write. If their version came first, our
        // write replaced it: rebase on theirs so their edit is kept.
        const theirs = await api.getPipeline(planned.name, written.version - 1);
        if (theirs && theirs.version > fresh.version) {
          const previous = await readPipeline(api, planned.name);
          if (!previous) return { status: 'failed', message: 'the pipeline disappeared during apply' };
          const rebased = replan({ ...previous, declaration: theirs.declaration, version: previous.version });
          if ('code' in rebased) return { status: 'failed', message: rebased.message, live: previous };
          fresh = previous;
          write = rebased;
          continue;
        }
      }
    }
    await api.tagResource(fresh.arn, write.tagsToSet);
    await api.untagResource(fresh.arn, write.tagKeysToRemove);

    // Converged? A fresh plan against what is there now must find nothing to do.
    const after = await readPipeline(api, planned.name);
    if (!after) return { status: 'failed', message: 'the pipeline disappeared during apply' };
    const check = replan(after);
    if ('code' in check) return { status: 'failed', message: check.message, live: after };
    if (!check.declaration && !check.tagsToSet.length && !check.tagKeysToRemove.length) return { status: 'applied' };
    fresh = after;
    write = check;
  }
  return { status: 'failed', message: `did not converge after ${MAX_WRITE_ROUNDS} writes: another writer keeps changing the pipeline` };
}

/** UpdatePipeline, tolerating a lost response: if the write happened, the re-read shows it. */
async function writeDeclaration(api: CodePipelineApi, fresh: LivePipelineState, declaration: JsonObject): Promise<{ version: number }> {
  try {
    const written = await api.updatePipeline({ ...declaration, version: fresh.version });
    return { version: written.version };
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined && (error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode < 500 && (error as Error).name !== 'ThrottlingException') {
      throw error;
    }
    // Throttled, a 5xx, or no answer: find out whether it happened before trying again.
    const now = await api.getPipeline(fresh.name);
    if (now && now.version > fresh.version) return { version: now.version };
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 300));
    const retried = await api.updatePipeline({ ...declaration, version: fresh.version });
    return { version: retried.version };
  }
}

async function createActionType(api: CodePipelineApi, definition: ActionTypeDefinition, tags: readonly { key: string; value: string }[]): Promise<void> {
  try {
    await api.createCustomActionType(definition, tags);
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const lostAnswer = status === undefined || status >= 500 || (error as Error).name === 'ThrottlingException';
    if (!lostAnswer) throw error;
    // A lost answer may hide a create that happened: look before trying again.
    const existing = await api.listCustomActionTypes();
    if (existing.some((type) => formatTypeRef(type) === formatTypeRef(definition))) return;
    await api.createCustomActionType(definition, tags);
  }
}

function explainTypeError(error: unknown, definition: ActionTypeDefinition): string {
  const name = (error as Error).name;
  const ref = formatTypeRef(definition);
  if (name === 'LimitExceededException') return `the Region already has the maximum of 50 custom action types (deleted ones count); delete unused ones first`;
  if (name === 'ValidationException' || name === 'ActionTypeAlreadyExistsException') {
    return `${describeError(error)} — if ${ref} was deleted before with a different definition, that version is burned: declare a new version`;
  }
  return describeError(error);
}

function parseRef(address: string): { category: string; provider: string; version: string } {
  const [category = '', provider = '', version = ''] = address.replace(/^action-type:/, '').split('/');
  return { category, provider, version };
}

function usedCustomRefs(declaration: JsonObject): string[] {
  const refs = new Set<string>();
  for (const stage of stagesOf(declaration)) {
    for (const action of actionsOf(stage)) {
      const id = action.actionTypeId as Record<string, unknown> | undefined;
      if (id?.owner === 'Custom') refs.add(`${String(id.category)}/${String(id.provider)}/${String(id.version)}`);
    }
  }
  return [...refs];
}
