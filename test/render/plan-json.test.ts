import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PLAN_FORMAT_VERSION } from '../../src/plan/types.js';
import { renderPlanJson } from '../../src/render/plan-json.js';
import { aBlockedDeletion, anActionTypeCreate, aPipelinePlan, aPlan, aRewire, aStageCreate, aTargetPlan, FIXED_CREATED_AT } from '../helpers/plans.js';

describe('renderPlanJson', () => {
  const blocked = aBlockedDeletion('Build/Old/1', ['MyFirstPipeline']);
  const plan = aPlan([
    aTargetPlan({ target: 'a', actionTypes: [anActionTypeCreate(), blocked.plan], pipelines: [aPipelinePlan({ changes: [aStageCreate(), aRewire()] })], warnings: [blocked.warning] }),
    aTargetPlan({ target: 'b', accountId: undefined, errors: [{ address: 'pipeline:X', code: 'plan.pipeline-missing', message: 'pipeline X does not exist in us-east-1' }] }),
  ]);
  const text = renderPlanJson(plan);
  const document = JSON.parse(text) as Record<string, unknown> & { changes: Record<string, unknown>[]; targets: Record<string, unknown>[] };

  it('is one JSON document with a final newline, versioned first', () => {
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(Object.keys(document), ['formatVersion', 'cpsyncVersion', 'createdAt', 'summary', 'targets', 'changes', 'errors', 'warnings']);
    assert.equal(document.formatVersion, PLAN_FORMAT_VERSION);
    assert.equal(document.createdAt, FIXED_CREATED_AT);
    assert.deepEqual(document.summary, { create: 2, update: 1, delete: 0, errors: 1 });
  });

  it('has one entry per change across targets, with a fixed set of keys', () => {
    assert.deepEqual(
      document.changes.map((change) => `${String(change.target)} ${String(change.action)} ${String(change.address)}`),
      ['a create action-type:Build/My-Build-Provider-Name/1', 'a create pipeline:MyFirstPipeline/stage:MyBuildStage', 'a update pipeline:MyFirstPipeline/rewire:Staging/Deploy-CodeDeploy-Application'],
    );
    for (const change of document.changes) assert.deepEqual(Object.keys(change), ['target', 'address', 'action', 'reasons', 'before', 'after', 'changedPaths']);
    assert.equal(document.changes[1]?.before, null);
    assert.equal(document.changes[1]?.changedPaths, null);
  });

  it('carries blocked deletions, stage orders, errors and warnings with their target', () => {
    const a = document.targets[0] as { actionTypes: { blockedBy: string[] }[]; pipelines: { stagesAfter: string[] }[] };
    assert.deepEqual(a.actionTypes[1]?.blockedBy, ['MyFirstPipeline']);
    assert.equal((document.targets[1] as { accountId: unknown }).accountId, null);
    assert.deepEqual(document.errors, [{ target: 'b', address: 'pipeline:X', code: 'plan.pipeline-missing', message: 'pipeline X does not exist in us-east-1', hint: null }]);
    assert.deepEqual((document.warnings as { target: string }[]).map((warning) => warning.target), ['a']);
  });

  it('never prints ownership tag values (they digest declarations with their secrets)', () => {
    const withTags = aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ tagsToSet: [{ key: 'cpsync:owned:0', value: 'DIGEST-OF-SECRETS' }] })] })]);
    const rendered = renderPlanJson(withTags);
    assert.ok(!rendered.includes('DIGEST-OF-SECRETS'));
    assert.match(rendered, /"tagKeysToSet": \[\n\s+"cpsync:owned:0"\n\s+\]/);
  });

  it('gives byte-equal output for equal plans whatever the key order of before/after', () => {
    const one = aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ changes: [{ address: 'pipeline:P/stage:S', action: 'create', reasons: ['missing'], after: { name: 'S', actions: [] } }] })] })]);
    const two = aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ changes: [{ address: 'pipeline:P/stage:S', action: 'create', reasons: ['missing'], after: { actions: [], name: 'S' } }] })] })]);
    assert.equal(renderPlanJson(one), renderPlanJson(two));
  });
});
