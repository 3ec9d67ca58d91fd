// No renderer may print a secret or a value that is not in the plan. The first half runs the real
// target planner with a secret in the environment (first insertion, then a rotated token) and
// searches all three outputs for it; the second half checks that every value a renderer prints
// comes from the plan it was given.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionTypeDefinition } from '../../src/model/action-type.js';
import { isObject, type Json, type JsonObject } from '../../src/model/pipeline.js';
import { planTarget, type LiveState, type TargetPlanInput } from '../../src/plan/plan-target.js';
import type { Plan } from '../../src/plan/types.js';
import { COLOURS, PLAIN } from '../../src/render/palette.js';
import { renderPlanHuman } from '../../src/render/plan-human.js';
import { buildPlanJson, renderPlanJson } from '../../src/render/plan-json.js';
import { renderPlanMarkdown } from '../../src/render/plan-markdown.js';
import { aPlan, aSmokeTestAction, anActionChange, aPipelinePlan, aStage, aStageCreate, aTargetPlan, SENSITIVE } from '../helpers/plans.js';

const TOKEN_1 = 's3cr3t-token-first';
const TOKEN_2 = 's3cr3t-token-rotated';

const BUILD: ActionTypeDefinition = {
  category: 'Build',
  provider: 'My-Build-Provider-Name',
  version: '1',
  configurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: false }],
  inputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
  outputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
};
const TEST: ActionTypeDefinition = {
  category: 'Test',
  provider: 'My-Test-Lab',
  version: '1',
  configurationProperties: [
    { name: 'Suite', required: true, key: true, secret: false, queryable: true },
    { name: 'ApiToken', required: false, key: false, secret: true },
  ],
  inputArtifactDetails: { minimumCount: 1, maximumCount: 2 },
  outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
};
const managed = [{ key: 'cpsync:managed', value: 'true' }];

function myFirstPipeline(): JsonObject {
  return {
    name: 'MyFirstPipeline',
    roleArn: 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service',
    artifactStore: { type: 'S3', location: 'codepipeline-us-east-1-1234567890' },
    stages: [
      {
        name: 'Source',
        actions: [{ name: 'Source', actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' }, runOrder: 1, configuration: { S3Bucket: 'awscodepipeline-demobucket-example-date', S3ObjectKey: 'SampleApp_Linux.zip', PollForSourceChanges: 'false' }, outputArtifacts: [{ name: 'MyApp' }], inputArtifacts: [] }],
      },
      {
        name: 'Staging',
        actions: [{ name: 'Deploy-CodeDeploy-Application', actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CodeDeploy', version: '1' }, runOrder: 1, configuration: { ApplicationName: 'CodePipelineDemoApplication', DeploymentGroupName: 'CodePipelineDemoFleet' }, inputArtifacts: [{ name: 'MyApp' }], outputArtifacts: [] }],
      },
    ],
    version: 1,
  };
}

function targetInput(declaration: JsonObject, tags: { key: string; value: string }[], token: string): TargetPlanInput {
  const live: LiveState = {
    target: 'default',
    region: 'us-east-1',
    accountId: '123456789012',
    actionTypes: [
      { definition: BUILD, tags: managed },
      { definition: TEST, tags: managed },
    ],
    pipelineNames: ['MyFirstPipeline'],
    pipelines: new Map([['MyFirstPipeline', { name: 'MyFirstPipeline', arn: 'arn:aws:codepipeline:us-east-1:123456789012:MyFirstPipeline', version: Number(declaration.version), declaration, tags, runningExecutions: 0 }]]),
  };
  const buildId = { category: 'Build', owner: 'Custom', provider: 'My-Build-Provider-Name', version: '1' } as const;
  const testId = { category: 'Test', owner: 'Custom', provider: 'My-Test-Lab', version: '1' } as const;
  return {
    target: 'default',
    actionTypes: [
      { definition: BUILD, tags: [] },
      { definition: TEST, tags: [] },
    ],
    pipelineFiles: [
      {
        file: 'pipelines/MyFirstPipeline.yaml',
        selectors: ['MyFirstPipeline'],
        insertStages: [{ name: 'MyBuildStage', placement: { before: 'Staging' }, actions: [{ name: 'MyBuildCustomAction', actionTypeId: buildId, configuration: { ProjectName: 'MyBuildProject' }, inputArtifacts: ['MyApp'], outputArtifacts: ['MyBuiltApp'], runOrder: 1 }] }],
        addActions: [{ stage: 'Staging', actions: [{ name: 'SmokeTest', actionTypeId: testId, configuration: { Suite: 'smoke', ApiToken: '${env:TEST_LAB_TOKEN}' }, inputArtifacts: ['MyBuiltApp'], outputArtifacts: [], runOrder: 2 }] }],
        rewires: [{ stage: 'Staging', action: 'Deploy-CodeDeploy-Application', inputArtifacts: ['MyBuiltApp'] }],
      },
    ],
    tagPrefix: 'cpsync:',
    live,
    env: { TEST_LAB_TOKEN: token },
  };
}

function renderAll(plan: Plan): Record<string, string> {
  return { human: renderPlanHuman(plan, PLAIN), colour: renderPlanHuman(plan, COLOURS), json: renderPlanJson(plan), markdown: renderPlanMarkdown(plan) };
}

describe('plan renderers: secrets', () => {
  it('never print a secret resolved from the environment, on insertion or rotation', () => {
    const first = planTarget(targetInput(myFirstPipeline(), [], TOKEN_1));
    assert.deepEqual(first.plan.errors, []);
    const written = first.writes[0]?.declaration;
    assert.ok(written && JSON.stringify(written).includes(TOKEN_1), 'the write carries the clear secret, so the test is meaningful');
    const firstPlan = aPlan([first.plan]);
    for (const [form, text] of Object.entries(renderAll(firstPlan))) {
      assert.ok(!text.includes('s3cr3t'), `${form} output shows the secret`);
      assert.ok(text.includes(SENSITIVE), `${form} output does not say (sensitive)`);
    }

    // As AWS stores it: the secret comes back as ****, the inventory tags as written.
    const stored = JSON.parse(JSON.stringify(written).replaceAll(TOKEN_1, '****')) as JsonObject;
    const rotated = planTarget(targetInput({ ...stored, version: 2 }, [...(first.writes[0]?.tagsToSet ?? [])], TOKEN_2));
    const changes = rotated.plan.pipelines.flatMap((pipeline) => pipeline.changes);
    assert.deepEqual(changes.map((change) => `${change.action} ${change.address} ${change.reasons.join(',')}`), ['update pipeline:MyFirstPipeline/stage:Staging/action:SmokeTest secret-changed']);
    for (const [form, text] of Object.entries(renderAll(aPlan([rotated.plan])))) {
      assert.ok(!text.includes('s3cr3t'), `${form} output shows the secret`);
      assert.ok(text.includes(form === 'json' ? '"secret-changed"' : 'a secret value changed (sensitive)'), `${form} output does not explain the change`);
    }
  });

  it('show "(sensitive)" where the plan has it, and never the mask "****"', () => {
    const plan = aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ changes: [anActionChange({ stage: 'Staging', name: 'SmokeTest', after: aSmokeTestAction() })] })] })]);
    for (const [form, text] of Object.entries(renderAll(plan))) {
      assert.ok(text.includes(SENSITIVE), `${form}: ${text}`);
      assert.ok(!text.includes('****'), form);
    }
    assert.match(renderPlanHuman(plan, PLAIN), /ApiToken = \(sensitive\)$/m);
  });
});

/** Every string and number in a JSON value. */
function leaves(value: Json | undefined, into = new Set<string>()): Set<string> {
  if (value === undefined || value === null) return into;
  if (Array.isArray(value)) value.forEach((item) => leaves(item, into));
  else if (isObject(value)) Object.entries(value).forEach(([key, item]) => (into.add(key), leaves(item, into)));
  else into.add(String(value));
  return into;
}

describe('plan renderers: print only values from the plan', () => {
  const stage = aStage('MyBuildStage', [aSmokeTestAction({ name: 'Build', configuration: { ProjectName: 'Alpha', Mode: 'fast', ApiToken: SENSITIVE } })]);
  const plan = aPlan([aTargetPlan({ pipelines: [aPipelinePlan({ changes: [aStageCreate('MyFirstPipeline', stage)], stagesAfter: ['Source', '+MyBuildStage', 'Staging'] })] })]);
  const known = leaves(plan.targets[0]?.pipelines[0]?.changes[0]?.after);

  it('human: every quoted value is one the plan holds', () => {
    const text = renderPlanHuman(plan, PLAIN);
    const quoted = [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => JSON.parse(`"${match[1]}"`) as string);
    assert.ok(quoted.length >= 2, text);
    for (const value of quoted) assert.ok(known.has(value), `invented value ${JSON.stringify(value)}`);
  });

  it('JSON: before/after are the plan values, only with sorted keys', () => {
    const document = JSON.parse(renderPlanJson(plan)) as ReturnType<typeof buildPlanJson>;
    assert.deepEqual(document.changes[0]?.after, plan.targets[0]?.pipelines[0]?.changes[0]?.after);
    assert.equal(document.changes[0]?.before, null);
  });

  it('markdown: each details block is the change, verbatim', () => {
    const text = renderPlanMarkdown(plan);
    const blocks = [...text.matchAll(/```json\n([\s\S]*?)\n```/g)].map((match) => JSON.parse(match[1] ?? '') as JsonObject);
    assert.equal(blocks.length, 1);
    assert.deepEqual(blocks[0], { after: plan.targets[0]?.pipelines[0]?.changes[0]?.after });
  });
});
