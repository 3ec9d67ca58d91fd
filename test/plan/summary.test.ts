import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change } from '../../src/plan/types.js';
import { summarizePlan } from '../../src/plan/summary.js';
import { aBlockedDeletion, anActionTypeCreate, anActionTypeTag, aPipelinePlan, aRewire, aStageCreate, aStageDelete, aTargetPlan } from '../helpers/plans.js';

describe('summarizePlan', () => {
  it('counts create, update (tags included) and delete over every target, and errors', () => {
    const targets = [
      aTargetPlan({
        actionTypes: [anActionTypeCreate(), anActionTypeTag('Build/X/1', { a: '1' }, { a: '2' }, { set: { a: '2' } }), aBlockedDeletion('Build/Old/1', ['P']).plan],
        pipelines: [aPipelinePlan({ changes: [aStageCreate(), aRewire()] })],
      }),
      aTargetPlan({ target: 'prod', pipelines: [aPipelinePlan({ changes: [aStageDelete()] })], errors: [{ address: 'pipeline:Y', code: 'plan.pipeline-missing', message: 'missing' }] }),
    ];
    assert.deepEqual(summarizePlan(targets), { create: 2, update: 2, delete: 1, errors: 1 });
  });

  it('is all zeros for a converged plan; no-op changes do not count', () => {
    const noop: Change = { address: 'pipeline:P/stage:S', action: 'no-op', reasons: [] };
    assert.deepEqual(summarizePlan([aTargetPlan({ pipelines: [aPipelinePlan({ changes: [noop], tagsToSet: [] })] })]), { create: 0, update: 0, delete: 0, errors: 0 });
    assert.deepEqual(summarizePlan([]), { create: 0, update: 0, delete: 0, errors: 0 });
  });

  it('counts a pipeline whose only write is its ownership tags as one update', () => {
    assert.deepEqual(summarizePlan([aTargetPlan({ pipelines: [aPipelinePlan({ tagKeysToRemove: ['cpsync:owned:1'] })] })]), { create: 0, update: 1, delete: 0, errors: 0 });
  });
});
