// Golden files for the three plan renderers: each case below is rendered as text (no colour),
// JSON and markdown and compared with test/golden/plan/<case>.{txt,json,md}. What users read is
// the product, so the whole text is compared. Regenerate with UPDATE_GOLDEN=1 and read every
// changed file before committing it.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PLAIN } from '../../src/render/palette.js';
import { renderPlanHuman } from '../../src/render/plan-human.js';
import { renderPlanJson } from '../../src/render/plan-json.js';
import { DEFAULT_MARKDOWN_LIMIT, renderPlanMarkdown } from '../../src/render/plan-markdown.js';
import type { Plan } from '../../src/plan/types.js';
import {
  aBlockedDeletion,
  aDefinitionJson,
  anAction,
  anActionChange,
  anActionTypeCreate,
  anActionTypeTag,
  anError,
  aPipelinePlan,
  aPlan,
  aRewire,
  aRunningExecutionsWarning,
  aSmokeTestAction,
  aStage,
  aStageCreate,
  aStageDelete,
  aStageUpdate,
  aTargetPlan,
} from '../helpers/plans.js';

const GOLDEN = resolve(dirname(fileURLToPath(import.meta.url)), '../golden/plan');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const guidePipeline = () =>
  aPipelinePlan({
    changes: [aStageCreate(), aRewire()],
    stagesAfter: ['Source', '+MyBuildStage', 'Staging'],
  });

const testLabDefinition = aDefinitionJson({
  category: 'Test',
  provider: 'My-Test-Lab',
  version: '1',
  settings: { executionUrlTemplate: 'https://test-lab.example/runs/{ExternalExecutionId}' },
  configurationProperties: [
    { name: 'Suite', required: true, key: true, secret: false, queryable: true, description: 'Test suite to run; workers poll by this value.', type: 'String' },
    { name: 'ApiToken', required: false, key: false, secret: true, queryable: false, description: 'Token for the test lab; give it as ${env:NAME} in pipeline files.' },
  ],
  inputArtifactDetails: { minimumCount: 1, maximumCount: 2 },
  outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
  tags: { 'cpsync:managed': 'true' },
});

const blocked = aBlockedDeletion('Build/Legacy-Builder/1', ['LegacyPipeline', 'MyFirstPipeline']);

/** Many pipelines selected by one pattern, each getting the guide's stage: far over a comment. */
function hugePlan(): Plan {
  const pipelines = Array.from({ length: 300 }, (_, index) => {
    const name = `svc-${String(index + 1).padStart(3, '0')}`;
    return aPipelinePlan({ name, changes: [aStageCreate(name), aRewire({ pipeline: name })], stagesAfter: ['Source', '+MyBuildStage', 'Staging'], observedVersion: 4 });
  });
  return aPlan([aTargetPlan({ target: 'prod', region: 'eu-west-1', actionTypes: [anActionTypeCreate()], pipelines })]);
}

interface Case {
  readonly plan: Plan;
  /** Which forms have a golden file (the huge plan only matters as markdown). */
  readonly forms: readonly ('txt' | 'json' | 'md')[];
}

const ALL = ['txt', 'json', 'md'] as const;

export const CASES: Record<string, Case> = {
  // The AWS guide: MyBuildStage inserted before Staging, Staging rewired to deploy the build.
  'guide-insertion': { forms: ALL, plan: aPlan([aTargetPlan({ actionTypes: [anActionTypeCreate()], pipelines: [guidePipeline()] })]) },

  'no-changes': {
    forms: ALL,
    plan: aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ stagesBefore: ['Source', 'MyBuildStage', 'Staging'], stagesAfter: ['Source', 'MyBuildStage', 'Staging'] })] })]),
  },

  // Someone edited the owned stage by hand (and moved it); apply restores the declaration.
  'owned-drift': {
    forms: ALL,
    plan: aPlan([
      aTargetPlan({
        pipelines: [
          aPipelinePlan({
            observedVersion: 7,
            stagesBefore: ['Source', 'Staging', 'MyBuildStage'],
            stagesAfter: ['Source', 'MyBuildStage', 'Staging'],
            changes: [
              aStageUpdate(
                aStage('MyBuildStage', [anAction({ runOrder: 2, configuration: { ProjectName: 'HotfixProject' } })]),
                aStage(),
                ['actions[MyBuildCustomAction].configuration.ProjectName', 'actions[MyBuildCustomAction].runOrder'],
                ['owned-drift', 'moved'],
              ),
            ],
          }),
        ],
      }),
    ]),
  },

  // The stage was removed from the pipeline file: it goes, and the rewire is undone.
  'stage-removal': {
    forms: ALL,
    plan: aPlan([
      aTargetPlan({
        pipelines: [
          aPipelinePlan({
            observedVersion: 3,
            stagesBefore: ['Source', 'MyBuildStage', 'Staging'],
            stagesAfter: ['Source', '-MyBuildStage', 'Staging'],
            changes: [aStageDelete(), aRewire({ from: ['MyBuiltApp'], to: ['MyApp'], reasons: ['removed-from-config'] })],
            tagsToSet: [],
            tagKeysToRemove: ['cpsync:owned:0'],
          }),
        ],
      }),
    ]),
  },

  // A new type with a secret property, a tag change on the guide's type, and an old type that
  // cannot be deleted yet because pipelines use it.
  'action-types': {
    forms: ALL,
    plan: aPlan([
      aTargetPlan({
        actionTypes: [
          anActionTypeCreate(testLabDefinition),
          anActionTypeTag('Build/My-Build-Provider-Name/1', { Project: 'ProjectA', 'cpsync:managed': 'true', Owner: 'platform-team' }, { Project: 'ProjectB', 'cpsync:managed': 'true' }, { set: { Project: 'ProjectB' } }),
          blocked.plan,
        ],
        warnings: [blocked.warning],
      }),
    ]),
  },

  // A changed definition under the same version: refused, with the next version proposed.
  'immutable-change': {
    forms: ALL,
    plan: aPlan([
      aTargetPlan({
        pipelines: [aPipelinePlan({ stagesBefore: ['Source', 'MyBuildStage', 'Staging'], stagesAfter: ['Source', 'MyBuildStage', 'Staging'] })],
        errors: [
          anError({
            address: 'action-type:Build/My-Build-Provider-Name/1',
            code: 'plan.immutable-action-type',
            message: 'action type Build/My-Build-Provider-Name/1 already exists with a different settings.entityUrlTemplate, outputArtifactDetails; custom action types cannot be changed in place',
            hint: 'declare the new definition as version "2" (and point the pipeline files at it); cpsync then creates Build/My-Build-Provider-Name/2, moves its actions over and deletes Build/My-Build-Provider-Name/1 once nothing uses it',
          }),
        ],
      }),
    ]),
  },

  // Only the token changed: the values are never shown, only that it changed; executions running.
  'secret-changed': {
    forms: ALL,
    plan: aPlan([
      aTargetPlan({
        pipelines: [
          aPipelinePlan({
            observedVersion: 12,
            runningExecutions: 2,
            stagesBefore: ['Source', 'MyBuildStage', 'Staging'],
            stagesAfter: ['Source', 'MyBuildStage', 'Staging'],
            changes: [anActionChange({ stage: 'Staging', name: 'SmokeTest', action: 'update', reasons: ['secret-changed'], before: aSmokeTestAction(), after: aSmokeTestAction(), changedPaths: ['configuration.ApiToken'] })],
          }),
        ],
        warnings: [aRunningExecutionsWarning('MyFirstPipeline', 2)],
      }),
    ]),
  },

  // Staging and production accounts: one converges, the other names a pipeline that is missing.
  'two-targets': {
    forms: ALL,
    plan: aPlan([
      aTargetPlan({ target: 'staging', region: 'eu-west-1', accountId: '111111111111', actionTypes: [anActionTypeCreate()], pipelines: [guidePipeline()] }),
      aTargetPlan({
        target: 'prod',
        region: 'eu-west-1',
        accountId: '222222222222',
        pipelines: [
          aPipelinePlan({
            changes: [anActionChange({ stage: 'Staging', name: 'SmokeTest', after: aSmokeTestAction() })],
            stagesBefore: ['Source', 'MyBuildStage', 'Staging'],
            stagesAfter: ['Source', 'MyBuildStage', 'Staging'],
          }),
        ],
        errors: [
          anError({
            address: 'pipeline:MySecondPipeline',
            code: 'plan.pipeline-missing',
            message: 'pipeline MySecondPipeline does not exist in eu-west-1',
            hint: 'cpsync inserts into existing pipelines: create the pipeline first, or fix the name in the pipeline file',
          }),
        ],
      }),
    ]),
  },

  'huge-truncated': { forms: ['md'], plan: hugePlan() },
};

function render(form: 'txt' | 'json' | 'md', plan: Plan): string {
  if (form === 'txt') return renderPlanHuman(plan, PLAIN);
  if (form === 'json') return renderPlanJson(plan);
  return renderPlanMarkdown(plan);
}

describe('plan renderers: golden files', () => {
  for (const [name, { plan, forms }] of Object.entries(CASES)) {
    for (const form of forms) {
      it(`${name}.${form}`, () => {
        const actual = render(form, plan);
        const file = join(GOLDEN, `${name}.${form}`);
        if (UPDATE || !existsSync(file)) {
          mkdirSync(GOLDEN, { recursive: true });
          writeFileSync(file, actual);
          if (!UPDATE) assert.fail(`wrote missing golden file ${file}; read it, then run again`);
        }
        assert.equal(actual, readFileSync(file, 'utf8'));
      });
    }
  }

  it('keeps the golden text free of ANSI escape codes', () => {
    for (const { plan } of Object.values(CASES)) assert.doesNotMatch(renderPlanHuman(plan, PLAIN), /\u001b\[/);
  });

  it('cuts the huge plan under the comment limit and says what it left out', () => {
    const markdown = renderPlanMarkdown(CASES['huge-truncated']!.plan);
    assert.ok(Buffer.byteLength(markdown) <= DEFAULT_MARKDOWN_LIMIT, `${Buffer.byteLength(markdown)} bytes`);
    assert.match(markdown, /Left out: \d+ of 601 changes and the before\/after details of \d+ more\./);
    assert.ok(markdown.startsWith('<!-- cpsync-plan -->\n## cpsync plan: 301 to create, 300 to update, 0 to delete\n'));
  });
});
