import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionTypeId, Tag } from '../../src/model/action-type.js';
import { checkPipelineDeclaration } from '../../src/model/pipeline-rules.js';
import { findCatalogueType } from '../../src/model/aws-action-types.js';
import type { JsonObject } from '../../src/model/pipeline.js';
import { encodeInventory } from '../../src/plan/inventory.js';
import { planPipeline, type PipelineContributions, type PipelinePlanInput } from '../../src/plan/plan-pipeline.js';

const BUILD: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'My-Build-Provider-Name', version: '1' };
const TEST: ActionTypeId = { category: 'Test', owner: 'Custom', provider: 'My-Test-Lab', version: '1' };

function myFirstPipeline(extra: Partial<JsonObject> = {}): JsonObject {
  return {
    name: 'MyFirstPipeline',
    roleArn: 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service',
    artifactStore: { type: 'S3', location: 'codepipeline-us-east-1-1234567890' },
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
            runOrder: 1,
            configuration: { S3Bucket: 'awscodepipeline-demobucket-example-date', S3ObjectKey: 'SampleApp_Linux.zip', PollForSourceChanges: 'false' },
            outputArtifacts: [{ name: 'MyApp' }],
            inputArtifacts: [],
          },
        ],
      },
      {
        name: 'Staging',
        actions: [
          {
            name: 'Deploy-CodeDeploy-Application',
            actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CodeDeploy', version: '1' },
            runOrder: 1,
            configuration: { ApplicationName: 'CodePipelineDemoApplication', DeploymentGroupName: 'CodePipelineDemoFleet' },
            inputArtifacts: [{ name: 'MyApp' }],
            outputArtifacts: [],
          },
        ],
      },
    ],
    version: 1,
    ...extra,
  };
}

const guideContributions: PipelineContributions = {
  insertStages: [
    {
      file: 'pipelines/MyFirstPipeline.yaml',
      name: 'MyBuildStage',
      placement: { before: 'Staging' },
      actions: [{ name: 'MyBuildCustomAction', actionTypeId: BUILD, configuration: { ProjectName: 'MyBuildProject' }, inputArtifacts: ['MyApp'], outputArtifacts: ['MyBuiltApp'], runOrder: 1 }],
    },
  ],
  addActions: [],
  rewires: [{ file: 'pipelines/MyFirstPipeline.yaml', stage: 'Staging', action: 'Deploy-CodeDeploy-Application', inputArtifacts: ['MyBuiltApp'] }],
};

const customTypes = [
  { id: BUILD, actionConfigurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: false }], inputArtifactDetails: { minimumCount: 1, maximumCount: 1 }, outputArtifactDetails: { minimumCount: 1, maximumCount: 1 } },
  {
    id: TEST,
    actionConfigurationProperties: [
      { name: 'Suite', required: true, key: true, secret: false, queryable: true },
      { name: 'ApiToken', required: false, key: false, secret: true },
    ],
    inputArtifactDetails: { minimumCount: 1, maximumCount: 2 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
  },
];

function input(declaration: JsonObject, contributions: PipelineContributions, tags: Tag[] = [], env: Record<string, string> = {}): PipelinePlanInput {
  return {
    observed: { name: 'MyFirstPipeline', version: Number(declaration.version), declaration, tags, runningExecutions: 0 },
    contributions,
    tagPrefix: 'cpsync:',
    env,
    secretProperties: (id) => new Set((customTypes.find((t) => t.id.provider === id.provider && t.id.version === id.version)?.actionConfigurationProperties ?? []).filter((p) => p.secret).map((p) => p.name)),
    validate: (d) =>
      checkPipelineDeclaration(d, (id) => {
        const custom = customTypes.find((t) => t.id.provider === id.provider && t.id.category === id.category && t.id.version === id.version && id.owner === 'Custom');
        return custom ?? findCatalogueType(id) ?? 'unavailable';
      }),
  };
}

/** Applies a planned result as AWS would store it: the declaration, secrets masked, and tags. */
function afterApply(result: ReturnType<typeof planPipeline>, previous: JsonObject, tags: Tag[]): { declaration: JsonObject; tags: Tag[] } {
  const declaration = (result.maskedDeclaration ? structuredClone(result.maskedDeclaration) : previous) as JsonObject;
  // GetPipeline shows secrets as ****; the masked declaration shows them as (sensitive).
  const text = JSON.stringify(declaration).replaceAll('"(sensitive)"', '"****"');
  const kept = tags.filter((tag) => !result.tagKeysToRemove.includes(tag.key) && !result.tagsToSet.some((t) => t.key === tag.key));
  return { declaration: { ...(JSON.parse(text) as JsonObject), version: Number(previous.version) + 1 }, tags: [...kept, ...result.tagsToSet] };
}

describe('planPipeline: the AWS guide scenario', () => {
  it('inserts MyBuildStage before Staging and rewires Staging to MyBuiltApp', () => {
    const result = planPipeline(input(myFirstPipeline(), guideContributions));
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.stagesAfter, ['Source', '+MyBuildStage', 'Staging']);
    assert.deepEqual(result.changes.map((c) => `${c.action} ${c.address} ${c.reasons.join(',')}`), [
      'create pipeline:MyFirstPipeline/stage:MyBuildStage missing',
      'update pipeline:MyFirstPipeline/rewire:Staging/Deploy-CodeDeploy-Application missing',
    ]);
    const stages = result.declaration?.stages as JsonObject[];
    assert.deepEqual((stages[2]?.actions as JsonObject[])[0]?.inputArtifacts, [{ name: 'MyBuiltApp' }]);
    assert.equal(result.tagsToSet.length, 1);
  });

  it('plans nothing once converged, and writes nothing', () => {
    const first = planPipeline(input(myFirstPipeline(), guideContributions));
    const applied = afterApply(first, myFirstPipeline(), []);
    const second = planPipeline(input(applied.declaration, guideContributions, applied.tags));
    assert.deepEqual(second.changes, []);
    assert.equal(second.declaration, undefined);
    assert.deepEqual(second.tagsToSet, []);
  });

  it('keeps a human edit to a stage it does not own, and fields it does not know', () => {
    const first = planPipeline(input(myFirstPipeline({ futureField: { keep: true } }), guideContributions));
    const applied = afterApply(first, myFirstPipeline(), []);
    const edited = structuredClone(applied.declaration);
    ((edited.stages as JsonObject[])[0]?.actions as JsonObject[])[0]!.configuration = { S3Bucket: 'other', S3ObjectKey: 'x.zip' };
    (edited as JsonObject).futureField = { keep: true };
    const next = planPipeline(input(edited, { ...guideContributions, insertStages: [{ ...guideContributions.insertStages[0]!, actions: [{ ...guideContributions.insertStages[0]!.actions[0]!, configuration: { ProjectName: 'Renamed' } }] }] }, applied.tags));
    assert.deepEqual(next.errors, []);
    assert.deepEqual(next.changes.map((c) => `${c.action} ${c.address} ${c.reasons.join(',')}`), ['update pipeline:MyFirstPipeline/stage:MyBuildStage config-changed']);
    const out = next.declaration as JsonObject;
    assert.deepEqual(out.futureField, { keep: true });
    assert.deepEqual(((out.stages as JsonObject[])[0]?.actions as JsonObject[])[0]?.configuration, { S3Bucket: 'other', S3ObjectKey: 'x.zip' });
  });

  it('reverts owned drift and says so', () => {
    const first = planPipeline(input(myFirstPipeline(), guideContributions));
    const applied = afterApply(first, myFirstPipeline(), []);
    const edited = structuredClone(applied.declaration);
    (((edited.stages as JsonObject[])[1]?.actions as JsonObject[])[0] as JsonObject).configuration = { ProjectName: 'hand-edited' };
    const next = planPipeline(input(edited, guideContributions, applied.tags));
    assert.deepEqual(next.changes.map((c) => `${c.action} ${c.address} ${c.reasons.join(',')}`), ['update pipeline:MyFirstPipeline/stage:MyBuildStage owned-drift']);
    assert.deepEqual(next.changes[0]?.changedPaths, ['actions[MyBuildCustomAction].configuration.ProjectName']);
  });

  it('removes an owned stage and undoes the rewire when they leave the configuration', () => {
    const first = planPipeline(input(myFirstPipeline(), guideContributions));
    const applied = afterApply(first, myFirstPipeline(), []);
    const next = planPipeline(input(applied.declaration, { insertStages: [], addActions: [], rewires: [] }, applied.tags));
    assert.deepEqual(next.errors, []);
    assert.deepEqual(next.changes.map((c) => `${c.action} ${c.address}`), ['delete pipeline:MyFirstPipeline/stage:MyBuildStage', 'update pipeline:MyFirstPipeline/rewire:Staging/Deploy-CodeDeploy-Application']);
    assert.deepEqual(next.stagesAfter, ['Source', '-MyBuildStage', 'Staging']);
    assert.deepEqual((((next.declaration?.stages as JsonObject[])[1]?.actions as JsonObject[])[0] as JsonObject).inputArtifacts, [{ name: 'MyApp' }]);
    assert.deepEqual(next.tagKeysToRemove, ['cpsync:owned:0']);
  });

  it('refuses to take over a stage it does not own, and touches nothing', () => {
    const live = myFirstPipeline();
    (live.stages as JsonObject[]).splice(1, 0, { name: 'MyBuildStage', actions: [] });
    const result = planPipeline(input(live, guideContributions));
    assert.deepEqual(result.changes, []);
    assert.equal(result.errors[0]?.code, 'plan.not-owned');
  });

  it('says so when the anchor stage is gone, and touches nothing', () => {
    const live = myFirstPipeline();
    (live.stages as JsonObject[])[1]!.name = 'Production';
    const result = planPipeline(input(live, guideContributions));
    assert.deepEqual(result.changes, []);
    assert.match(result.errors[0]?.message ?? '', /has no stage Staging \(its stages: Source, Production\)/);
  });

  it('refuses to insert before the first stage', () => {
    const result = planPipeline(input(myFirstPipeline(), { ...guideContributions, insertStages: [{ ...guideContributions.insertStages[0]!, placement: { before: 'Source' } }], rewires: [] }));
    assert.equal(result.errors[0]?.code, 'plan.before-first');
  });

  it('validates the merged pipeline before any write', () => {
    const broken: PipelineContributions = { ...guideContributions, rewires: [{ ...guideContributions.rewires[0]!, inputArtifacts: ['NoSuchArtifact'] }] };
    const result = planPipeline(input(myFirstPipeline(), broken));
    assert.deepEqual(result.changes, []);
    assert.equal(result.errors[0]?.code, 'plan.invalid-result');
    assert.match(result.errors[0]?.message ?? '', /NoSuchArtifact/);
  });
});

describe('planPipeline: secrets', () => {
  const withSmoke = (token: string): PipelineContributions => ({
    ...guideContributions,
    addActions: [
      {
        file: 'pipelines/MyFirstPipeline.yaml',
        stage: 'Staging',
        actions: [{ name: 'SmokeTest', actionTypeId: TEST, configuration: { Suite: 'smoke', ApiToken: token }, inputArtifacts: ['MyBuiltApp'], outputArtifacts: [], runOrder: 2 }],
      },
    ],
  });

  it('resolves ${env:...} for the write, never shows the value, and notices a changed secret through the digest', () => {
    const first = planPipeline(input(myFirstPipeline(), withSmoke('${env:TEST_LAB_TOKEN}'), [], { TEST_LAB_TOKEN: 's3cr3t-value-1' }));
    assert.deepEqual(first.errors, []);
    assert.ok(JSON.stringify(first.declaration).includes('s3cr3t-value-1'), 'the write carries the secret');
    for (const shown of [first.changes, first.maskedDeclaration, first.tagsToSet]) assert.ok(!JSON.stringify(shown).includes('s3cr3t'), 'nothing shown carries it');
    const applied = afterApply(first, myFirstPipeline(), []);
    const same = planPipeline(input(applied.declaration, withSmoke('${env:TEST_LAB_TOKEN}'), applied.tags, { TEST_LAB_TOKEN: 's3cr3t-value-1' }));
    assert.deepEqual(same.changes, []);
    const rotated = planPipeline(input(applied.declaration, withSmoke('${env:TEST_LAB_TOKEN}'), applied.tags, { TEST_LAB_TOKEN: 's3cr3t-value-2' }));
    assert.deepEqual(rotated.changes.map((c) => `${c.action} ${c.address} ${c.reasons.join(',')}`), ['update pipeline:MyFirstPipeline/stage:Staging/action:SmokeTest secret-changed']);
    assert.ok(!JSON.stringify(rotated.changes).includes('s3cr3t'));
  });

  it('names a missing environment variable instead of writing anything', () => {
    const result = planPipeline(input(myFirstPipeline(), withSmoke('${env:TEST_LAB_TOKEN}')));
    assert.deepEqual(result.changes, []);
    assert.match(result.errors[0]?.message ?? '', /configuration\.ApiToken refers to \$\{env:TEST_LAB_TOKEN\}, which is not set/);
  });

  it('carries the owned inventory forward in tags', () => {
    const result = planPipeline(input(myFirstPipeline(), withSmoke('${env:T}'), [], { T: 'x' }));
    assert.deepEqual(Object.keys(result.inventory.actions), ['Staging/SmokeTest']);
    assert.deepEqual(encodeInventory('cpsync:', result.inventory), result.tagsToSet);
  });
});
