import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Plan } from '../../src/plan/types.js';
import { escapeText, PLAN_COMMENT_MARKER, renderPlanMarkdown } from '../../src/render/plan-markdown.js';
import { aPipelinePlan, aPlan, aRewire, aRunningExecutionsWarning, aStageCreate, aTargetPlan } from '../helpers/plans.js';

function fanOut(count: number, extra: Partial<Parameters<typeof aTargetPlan>[0]> = {}): Plan {
  const pipelines = Array.from({ length: count }, (_, index) => {
    const name = `svc-${index + 1}`;
    return aPipelinePlan({ name, changes: [aStageCreate(name), aRewire({ pipeline: name })], stagesAfter: ['Source', '+MyBuildStage', 'Staging'] });
  });
  return aPlan([aTargetPlan({ pipelines, ...extra })]);
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('renderPlanMarkdown', () => {
  it('starts with the hidden marker and the summary heading', () => {
    const text = renderPlanMarkdown(fanOut(1));
    assert.ok(text.startsWith(`${PLAN_COMMENT_MARKER}\n## cpsync plan: 1 to create, 1 to update, 0 to delete\n`));
    assert.match(text, /\| `\+` create \| `pipeline:svc-1\/stage:MyBuildStage` \| not in the account \|/);
    assert.match(text, /Stages: `Source` → \*\*`\+ MyBuildStage`\*\* → `Staging`/);
    assert.match(text, /<details><summary>\+ <code>pipeline:svc-1\/stage:MyBuildStage<\/code>: before and after<\/summary>/);
    assert.doesNotMatch(text, /\[!NOTE\]/);
  });

  it('puts errors and warnings first, as alerts', () => {
    const text = renderPlanMarkdown(fanOut(1, { errors: [{ address: 'pipeline:X', code: 'plan.pipeline-missing', message: 'pipeline X does not exist', hint: 'create it' }], warnings: [aRunningExecutionsWarning('svc-1', 1)] }));
    const caution = text.indexOf('> [!CAUTION]');
    const warning = text.indexOf('> [!WARNING]');
    assert.ok(caution > 0 && warning > caution && warning < text.indexOf('### Target'), text);
    assert.match(text, /> - `pipeline:X`: pipeline X does not exist \(`plan.pipeline-missing`\)<br>\n> {3}_Hint:_ create it/);
  });

  it('escapes markup in messages but not inside code spans', () => {
    assert.equal(escapeText('restore the cpsync:owned:<n> tags, or run `cpsync import <name>`'), 'restore the cpsync:owned:&lt;n&gt; tags, or run `cpsync import <name>`');
    assert.equal(escapeText('pattern "svc-*" and *x*'), 'pattern "svc-\\*" and \\*x\\*');
  });

  it('stays within the limit by cutting details, then whole pipelines, and says how many changes are left out', () => {
    const plan = fanOut(200);
    for (const limit of [65_000, 20_000, 5_000]) {
      const text = renderPlanMarkdown(plan, { maxLength: limit });
      assert.ok(bytes(text) <= limit, `${bytes(text)} > ${limit}`);
      const note = /Left out: (\d+) of 400 changes and the before\/after details of (\d+) more\./.exec(text);
      assert.ok(note, text.slice(-600));
      const listed = (text.match(/^\| `[+~]`/gm) ?? []).length;
      assert.equal(listed + Number(note[1]), 400, 'listed plus left out is every change');
      // Whole sections: every listed pipeline shows both of its changes.
      assert.equal(listed % 2, 0);
      assert.ok(text.startsWith(`${PLAN_COMMENT_MARKER}\n## cpsync plan: 200 to create, 200 to update, 0 to delete\n`));
      assert.ok(text.trimEnd().endsWith('</sub>'));
    }
  });

  it('cuts only the before/after details when the tables fit', () => {
    const plan = fanOut(30);
    const full = renderPlanMarkdown(plan, { maxLength: 10_000_000 });
    const text = renderPlanMarkdown(plan, { maxLength: Math.floor(bytes(full) * 0.6) });
    assert.match(text, /Left out: the before\/after details of \d+ changes\./);
    assert.equal((text.match(/^\| `[+~]`/gm) ?? []).length, 60);
    assert.ok((text.match(/<details>/g) ?? []).length > 0);
  });

  it('keeps every error and the note when even the tables do not fit', () => {
    const errors = Array.from({ length: 3 }, (_, index) => ({ address: `pipeline:Missing${index}`, code: 'plan.pipeline-missing', message: `pipeline Missing${index} does not exist` }));
    const text = renderPlanMarkdown(fanOut(50, { errors }), { maxLength: 2_000 });
    assert.ok(bytes(text) <= 2_000);
    for (const error of errors) assert.ok(text.includes(error.message));
    assert.match(text, /Left out: \d+ of 100 changes/);
  });

  it('never exceeds even a limit smaller than its heading', () => {
    const text = renderPlanMarkdown(fanOut(5), { maxLength: 40 });
    assert.ok(bytes(text) <= 40, text);
    assert.ok(text.startsWith(PLAN_COMMENT_MARKER));
  });
});
