import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionTypeDefinition } from '../../src/model/action-type.js';
import { definitionDifferences, nextVersion, planActionTypes, type ObservedActionType } from '../../src/plan/plan-action-types.js';

function aDefinition(overrides: Partial<ActionTypeDefinition> = {}): ActionTypeDefinition {
  return {
    category: 'Build',
    provider: 'My-Build-Provider-Name',
    version: '1',
    settings: { entityUrlTemplate: 'https://ci/job/{Config:ProjectName}/' },
    configurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: false, queryable: false, type: 'String', description: 'Project' }],
    inputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
    ...overrides,
  };
}
const managed = { key: 'cpsync:managed', value: 'true' };
const observed = (definition: ActionTypeDefinition, tags = [managed]): ObservedActionType => ({ definition, tags });
const summary = (result: ReturnType<typeof planActionTypes>) => result.plans.flatMap((plan) => plan.changes.map((c) => `${c.action} ${c.address} ${c.reasons.join(',')}`));

describe('planActionTypes', () => {
  it('creates a declared type that is missing, tagged as owned', () => {
    const result = planActionTypes({ desired: [{ definition: aDefinition(), tags: [{ key: 'Project', value: 'A' }] }], observed: [], tagPrefix: 'cpsync:', usersAfterApply: () => [] });
    assert.deepEqual(summary(result), ['create action-type:Build/My-Build-Provider-Name/1 missing']);
    assert.deepEqual(result.plans[0]?.tags, [{ key: 'Project', value: 'A' }, managed]);
  });

  it('plans nothing for an identical type, even when the service leaves out type and description', () => {
    const live = aDefinition({ configurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: false }] });
    const result = planActionTypes({ desired: [{ definition: aDefinition(), tags: [] }], observed: [observed(live)], tagPrefix: 'cpsync:', usersAfterApply: () => [] });
    assert.deepEqual(result.plans, []);
    assert.deepEqual(result.errors, []);
  });

  it('refuses an in-place change, names the fields and proposes the next unused version', () => {
    const result = planActionTypes({
      desired: [{ definition: aDefinition({ outputArtifactDetails: { minimumCount: 0, maximumCount: 2 }, settings: { entityUrlTemplate: 'https://new/' } }), tags: [] }],
      observed: [observed(aDefinition()), observed(aDefinition({ version: '2' }), [])],
      tagPrefix: 'cpsync:',
      usersAfterApply: () => [],
      knownVersions: () => ['3'],
    });
    assert.deepEqual(result.plans, []);
    assert.equal(result.errors[0]?.code, 'plan.immutable-action-type');
    assert.match(result.errors[0]?.message ?? '', /different settings\.entityUrlTemplate, outputArtifactDetails;/);
    assert.match(result.errors[0]?.hint ?? '', /declare the new definition as version "4"/);
  });

  it('changes tags in place, and adopts an identical type it did not own', () => {
    const retag = planActionTypes({ desired: [{ definition: aDefinition(), tags: [{ key: 'Project', value: 'B' }] }], observed: [observed(aDefinition(), [managed, { key: 'Project', value: 'A' }])], tagPrefix: 'cpsync:', usersAfterApply: () => [] });
    assert.deepEqual(summary(retag), ['tag action-type:Build/My-Build-Provider-Name/1 tags-changed']);
    assert.deepEqual(retag.plans[0]?.tags, [{ key: 'Project', value: 'B' }]);
    const adopt = planActionTypes({ desired: [{ definition: aDefinition(), tags: [] }], observed: [observed(aDefinition(), [])], tagPrefix: 'cpsync:', usersAfterApply: () => [] });
    assert.deepEqual(summary(adopt), ['tag action-type:Build/My-Build-Provider-Name/1 adopt']);
  });

  it('deletes an owned type no longer declared only when nothing uses it', () => {
    const free = planActionTypes({ desired: [], observed: [observed(aDefinition())], tagPrefix: 'cpsync:', usersAfterApply: () => [] });
    assert.deepEqual(summary(free), ['delete action-type:Build/My-Build-Provider-Name/1 removed-from-config']);
    const used = planActionTypes({ desired: [], observed: [observed(aDefinition())], tagPrefix: 'cpsync:', usersAfterApply: () => ['MyFirstPipeline'] });
    assert.deepEqual(summary(used), []);
    assert.deepEqual(used.plans[0]?.blockedBy, ['MyFirstPipeline']);
    assert.match(used.warnings[0]?.message ?? '', /still use it: MyFirstPipeline/);
  });

  it('never deletes a type it does not own', () => {
    const result = planActionTypes({ desired: [], observed: [observed(aDefinition(), [])], tagPrefix: 'cpsync:', usersAfterApply: () => [] });
    assert.deepEqual(result.plans, []);
  });

  it('computes differences and next versions', () => {
    assert.deepEqual(definitionDifferences(aDefinition(), aDefinition({ configurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: true }] })), ['configurationProperties[ProjectName].secret']);
    assert.equal(nextVersion('1', ['2', '7']), '8');
    assert.equal(nextVersion('beta', []), 'beta-2');
  });
});
