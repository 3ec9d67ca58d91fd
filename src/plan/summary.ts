// Counts what a plan would do, for the summary line, the JSON document and the exit code. Pure.

import type { PipelinePlan, PlanSummary, TargetPlan } from './types.js';

/**
 * Counts changes over all targets, the way Terraform's footer does:
 * - `create`, `update`, `delete` count changes with that action;
 * - a tag change (`tag`) is an in-place update of the resource, so it counts as `update`
 *   (PlanSummary has no separate tag count);
 * - a replacement (not planned today) counts once as create and once as delete;
 * - a pipeline whose only pending write is cpsync's ownership record (its tags) counts as one
 *   update, because apply does write it;
 * - `errors` counts every PlanError.
 */
export function summarizePlan(targets: readonly TargetPlan[]): PlanSummary {
  let create = 0;
  let update = 0;
  let remove = 0;
  let errors = 0;
  for (const target of targets) {
    errors += target.errors.length;
    const changes = [...target.actionTypes.flatMap((type) => type.changes), ...target.pipelines.flatMap((pipeline) => pipeline.changes)];
    for (const change of changes) {
      const action: string = change.action;
      if (action === 'create') create++;
      else if (action === 'update' || action === 'tag') update++;
      else if (action === 'delete') remove++;
      else if (action === 'replace') {
        create++;
        remove++;
      }
    }
    update += target.pipelines.filter(onlyOwnershipTags).length;
  }
  return { create, update, delete: remove, errors };
}

/** A pipeline with no change but with inventory tags to write (apply tags it, nothing else). */
export function onlyOwnershipTags(pipeline: PipelinePlan): boolean {
  return pipeline.changes.length === 0 && (pipeline.tagsToSet.length > 0 || pipeline.tagKeysToRemove.length > 0);
}
