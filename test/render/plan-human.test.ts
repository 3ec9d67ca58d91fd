import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change, ChangeReason } from '../../src/plan/types.js';
import { COLOURS, PLAIN, type Palette } from '../../src/render/palette.js';
import { renderPlanHuman, renderStageOrder } from '../../src/render/plan-human.js';
import { changedValues, describeSummary, REASON_PHRASES, reasonPhrase, resolvePath } from '../../src/render/plan-words.js';
import { aChange, anAction, aPipelinePlan, aPlan, aRewire, aStage, aStageCreate, aStageDelete, aTargetPlan } from '../helpers/plans.js';

/** Marks each colour so a test can see which one was used. */
const TAGGED: Palette = { red: (t) => `<red>${t}</red>`, green: (t) => `<green>${t}</green>`, yellow: (t) => `<yellow>${t}</yellow>`, bold: (t) => t, dim: (t) => t };

describe('renderPlanHuman', () => {
  it('colours through the palette only: green create, yellow update, red delete', () => {
    const plan = aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ changes: [aStageCreate('MyFirstPipeline', aStage('New')), aRewire(), aStageDelete(aStage('Old'))], stagesAfter: ['Source', '+New', '-Old', 'Staging'] })] })]);
    const text = renderPlanHuman(plan, TAGGED);
    assert.match(text, /^ {4}<green>\+<\/green> pipeline:MyFirstPipeline\/stage:New$/m);
    assert.match(text, /^ {4}<yellow>~<\/yellow> pipeline:MyFirstPipeline\/rewire:Staging\/Deploy-CodeDeploy-Application$/m);
    assert.match(text, /^ {4}<red>-<\/red> pipeline:MyFirstPipeline\/stage:Old$/m);
    assert.match(text, /stages: Source → <green>\+ New<\/green> → <red>- Old<\/red> → Staging/);
    assert.match(renderPlanHuman(plan, COLOURS), /\u001b\[32m\+\u001b\[39m pipeline:MyFirstPipeline\/stage:New/);
    assert.doesNotMatch(renderPlanHuman(plan, PLAIN), /\u001b|<green>/);
  });

  it('shows a replacement as -/+ and counts it as a create and a delete', () => {
    const replace = { address: 'pipeline:MyFirstPipeline/stage:MyBuildStage', action: 'replace', reasons: ['config-changed'], before: aStage(), after: aStage(), changedPaths: ['actions[MyBuildCustomAction].runOrder'] } as unknown as Change;
    const plan = aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ changes: [replace] })] })]);
    const text = renderPlanHuman(plan, TAGGED);
    assert.match(text, /^ {4}<red>-<\/red>\/<green>\+<\/green> pipeline:MyFirstPipeline\/stage:MyBuildStage$/m);
    assert.match(text, /Symbols: <red>-<\/red>\/<green>\+<\/green> delete, then create/);
    assert.match(text, /Plan: 1 to create, 0 to update, 1 to delete\./);
  });

  it('has words for every reason code, and rewords the ones that read wrong for a rewire', () => {
    const codes = Object.keys(REASON_PHRASES) as ChangeReason[];
    assert.equal(codes.length, 11);
    for (const code of codes) assert.ok(reasonPhrase(code, { address: 'pipeline:P/stage:S' }).length > 5, code);
    assert.equal(reasonPhrase('missing', { address: 'action-type:Build/X/1' }), 'not in the account');
    assert.equal(reasonPhrase('missing', { address: 'pipeline:P/rewire:S/A' }), 'inputs not rewired yet');
    assert.equal(reasonPhrase('adopt', { address: 'action-type:Build/X/1' }), 'adopted: marked as owned');
    assert.equal(reasonPhrase('brand-new-code' as ChangeReason, { address: 'pipeline:P' }), 'brand-new-code');
  });

  it('lists several reasons one per line', () => {
    const change = aChange({ address: 'pipeline:MyFirstPipeline/stage:MyBuildStage', reasons: ['owned-drift', 'moved'], before: aStage(), after: aStage() });
    const text = renderPlanHuman(aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ changes: [change] })] })]), PLAIN);
    assert.match(text, /reasons:\n {10}- edited outside cpsync; apply restores the declaration\n {10}- not at its declared place; apply moves it back\n/);
  });

  it('shows a pipeline whose only write is its ownership record, by tag keys only', () => {
    const pipeline = aPipelinePlan({ tagsToSet: [{ key: 'cpsync:owned:0', value: 'SECRET-DIGEST-VALUE' }], tagKeysToRemove: ['cpsync:owned:1'] });
    const plan = aPlan([aTargetPlan({ pipelines: [pipeline] })]);
    const text = renderPlanHuman(plan, PLAIN);
    assert.match(text, /~ pipeline:MyFirstPipeline \(tags\)\n {8}reason: cpsync's ownership record \(tags\) is out of date\n {8}set: cpsync:owned:0\n {8}remove: cpsync:owned:1/);
    assert.ok(!text.includes('SECRET-DIGEST-VALUE'));
    assert.match(text, /Plan: 0 to create, 1 to update, 0 to delete\./);
  });

  it('keeps pipelines with errors out of the unchanged list', () => {
    const plan = aPlan([
      aTargetPlan({
        pipelines: [aPipelinePlan({ name: 'Good' }), aPipelinePlan({ name: 'Broken' })],
        errors: [{ address: 'pipeline:Broken/stage:MyBuildStage', code: 'plan.anchor-missing', message: 'cannot place stage MyBuildStage before Staging', hint: 'update the file' }],
      }),
    ]);
    const text = renderPlanHuman(plan, PLAIN);
    assert.match(text, /Unchanged: 1 pipeline \(Good\)/);
    assert.match(text, /Error: cannot place stage MyBuildStage before Staging\n {4}at pipeline:Broken\/stage:MyBuildStage \(plan.anchor-missing\)\n {4}hint: update the file/);
  });

  it('renders stage orders with insertions and removals marked', () => {
    assert.equal(renderStageOrder(['Source', '+MyBuildStage', '-Old', 'Staging'], PLAIN), 'Source → + MyBuildStage → - Old → Staging');
  });
});

describe('plan words', () => {
  it('summary lines: changes, no changes, errors', () => {
    assert.deepEqual(describeSummary({ create: 2, update: 1, delete: 0, errors: 0 }), ['Plan: 2 to create, 1 to update, 0 to delete.']);
    assert.deepEqual(describeSummary({ create: 0, update: 0, delete: 0, errors: 0 }), ['No changes. The account matches the configuration.']);
    assert.deepEqual(describeSummary({ create: 0, update: 0, delete: 0, errors: 2 }), ['Plan: 0 to create, 0 to update, 0 to delete.', '2 errors: nothing is applied for the items with errors.']);
  });

  it('resolves changed paths through named lists and keys with dots', () => {
    const stage = aStage('S', [anAction({ name: 'My.Action', configuration: { 'a.b': 'x', a: { b: 'wrong' } } })]);
    assert.deepEqual(resolvePath(stage, 'actions[My.Action].configuration.a.b'), { found: true, value: 'x' });
    assert.deepEqual(resolvePath(stage, 'actions[Missing].runOrder'), { found: false, value: null });
    assert.deepEqual(resolvePath(stage, '(root)'), { found: true, value: stage });
  });

  it('shows a masked secret once, and an added or removed value as (none)', () => {
    const before = anAction({ configuration: { ApiToken: '(sensitive)' } });
    const after = anAction({ configuration: { ApiToken: '(sensitive)', Extra: 'on' } });
    assert.deepEqual(changedValues({ address: 'pipeline:P/stage:S/action:A', before, after, changedPaths: ['configuration.ApiToken', 'configuration.Extra'] }), [
      { path: 'configuration.ApiToken', text: '(sensitive)' },
      { path: 'configuration.Extra', text: '(none) → "on"' },
    ]);
  });
});
