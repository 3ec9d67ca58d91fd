import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ActionTypeId } from '../../src/model/action-type.js';
import { findCatalogueType } from '../../src/model/aws-action-types.js';
import { checkPipelineDeclaration, exceptionFor, type ActionTypeLookup, type ActionTypeShape } from '../../src/model/pipeline-rules.js';

// Small builders: a valid two-stage pipeline, tweaked per case.
type Action = Record<string, unknown>;
const source = (extra: Action = {}): Action => ({
  name: 'Source',
  actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
  outputArtifacts: [{ name: 'Src' }],
  configuration: { S3Bucket: 'b', S3ObjectKey: 'k' },
  ...extra,
});
const build = (extra: Action = {}): Action => ({
  name: 'Build',
  actionTypeId: { category: 'Build', owner: 'Custom', provider: 'My-Build', version: '1' },
  inputArtifacts: [{ name: 'Src' }],
  outputArtifacts: [{ name: 'Built' }],
  configuration: { ProjectName: 'p' },
  ...extra,
});
const stage = (name: string, ...actions: Action[]) => ({ name, actions });
const aPipeline = (extra: Record<string, unknown> = {}) => ({
  name: 'p',
  roleArn: 'arn:aws:iam::123456789012:role/r',
  artifactStore: { type: 'S3', location: 'bucket' },
  stages: [stage('Source', source()), stage('Build', build())],
  ...extra,
});

const customType: ActionTypeShape = {
  actionConfigurationProperties: [
    { name: 'ProjectName', required: true, key: true, secret: false, queryable: true },
    { name: 'Token', required: false, key: false, secret: true },
  ],
  inputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
  outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
};
const lookup: ActionTypeLookup = (id: ActionTypeId) =>
  id.owner === 'Custom' ? (id.provider === 'My-Build' && id.version === '1' ? customType : 'unavailable') : (findCatalogueType(id) ?? 'unknown');

const codes = (pipeline: Record<string, unknown>, options = {}) => checkPipelineDeclaration(pipeline, lookup, options).map((finding) => finding.code);

describe('checkPipelineDeclaration', () => {
  it('accepts a valid pipeline', () => {
    assert.deepEqual(checkPipelineDeclaration(aPipeline(), lookup, { region: 'us-east-1' }), []);
  });

  const cases: { name: string; pipeline: Record<string, unknown>; code: string; path?: (string | number)[]; exception: string }[] = [
    { name: 'one stage', pipeline: aPipeline({ stages: [stage('Source', source())] }), code: 'pipeline.stage-count', path: ['stages'], exception: 'InvalidStructureException' },
    {
      name: '51 stages',
      pipeline: aPipeline({ stages: [stage('Source', source()), ...Array.from({ length: 50 }, (_, i) => stage(`S${i}`, build({ outputArtifacts: [] })))] }),
      code: 'pipeline.stage-count',
      exception: 'InvalidStructureException',
    },
    {
      name: 'a non-Source action in the first stage',
      pipeline: aPipeline({ stages: [stage('Source', source(), build({ name: 'B0', inputArtifacts: [], outputArtifacts: [] })), stage('Build', build())] }),
      code: 'pipeline.no-source-stage',
      path: ['stages', 0, 'actions', 1, 'actionTypeId', 'category'],
      exception: 'InvalidStructureException',
    },
    {
      name: 'a Source action in a later stage',
      pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build(), source({ name: 'S2', outputArtifacts: [{ name: 'Other' }] }))] }),
      code: 'pipeline.source-outside-first-stage',
      path: ['stages', 1, 'actions', 1, 'actionTypeId', 'category'],
      exception: 'InvalidStructureException',
    },
    {
      name: 'only Source stages',
      pipeline: aPipeline({ stages: [stage('Source', source()), stage('Source2', source({ outputArtifacts: [{ name: 'X' }] }))] }),
      code: 'pipeline.no-non-source-stage',
      exception: 'InvalidStructureException',
    },
    { name: 'duplicate stage name', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build()), stage('Build', build({ outputArtifacts: [] }))] }), code: 'pipeline.duplicate-stage', path: ['stages', 2, 'name'], exception: 'InvalidStructureException' },
    { name: 'duplicate action name', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build(), build({ outputArtifacts: [], runOrder: 2 }))] }), code: 'pipeline.duplicate-action', path: ['stages', 1, 'actions', 1, 'name'], exception: 'InvalidStageDeclarationException' },
    { name: 'a stage without actions', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build()), stage('Empty')] }), code: 'pipeline.stage-action-count', exception: 'InvalidStageDeclarationException' },
    { name: 'runOrder 0', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build({ runOrder: 0 }))] }), code: 'pipeline.run-order', exception: 'ValidationException' },
    {
      name: 'an input produced later in the same stage',
      pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build(), build({ name: 'B2', inputArtifacts: [{ name: 'Built' }], outputArtifacts: [] }))] }),
      code: 'pipeline.input-artifact-not-produced',
      path: ['stages', 1, 'actions', 1, 'inputArtifacts', 0, 'name'],
      exception: 'InvalidStructureException',
    },
    { name: 'duplicate output name', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build({ outputArtifacts: [{ name: 'Src' }] }))] }), code: 'pipeline.duplicate-output-artifact', exception: 'InvalidStructureException' },
    { name: 'unavailable custom type', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build({ actionTypeId: { category: 'Build', owner: 'Custom', provider: 'My-Build', version: '2' } }))] }), code: 'pipeline.action-type-unavailable', path: ['stages', 1, 'actions', 0, 'actionTypeId'], exception: 'InvalidActionDeclarationException' },
    { name: 'too many inputs', pipeline: aPipeline({ stages: [stage('Source', source(), source({ name: 'S2', outputArtifacts: [{ name: 'S2' }] })), stage('Build', build({ inputArtifacts: [{ name: 'Src' }, { name: 'S2' }] }))] }), code: 'pipeline.artifact-count', exception: 'InvalidActionDeclarationException' },
    { name: 'unknown key', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build({ configuration: { ProjectName: 'p', Colour: 'x' } }))] }), code: 'pipeline.unknown-configuration-key', path: ['stages', 1, 'actions', 0, 'configuration', 'Colour'], exception: 'InvalidActionDeclarationException' },
    { name: 'missing required key', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build({ configuration: {} }))] }), code: 'pipeline.missing-configuration-key', exception: 'InvalidActionDeclarationException' },
    { name: 'empty value', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build({ configuration: { ProjectName: 'p', Token: '' } }))] }), code: 'pipeline.invalid-string', exception: 'ValidationException' },
    { name: 'queryable value with a dot', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build({ configuration: { ProjectName: 'a.b' } }))] }), code: 'pipeline.queryable-value', exception: 'InvalidActionDeclarationException' },
    { name: 'both artifact stores', pipeline: aPipeline({ artifactStores: { 'us-east-1': { type: 'S3', location: 'bucket' } } }), code: 'pipeline.artifact-store', exception: 'InvalidStructureException' },
    { name: 'no artifact store', pipeline: aPipeline({ artifactStore: undefined }), code: 'pipeline.artifact-store', exception: 'InvalidStructureException' },
    { name: 'cross-Region custom action', pipeline: aPipeline({ stages: [stage('Source', source()), stage('Build', build({ region: 'eu-west-1' }))] }), code: 'pipeline.cross-region-action', path: ['stages', 1, 'actions', 0, 'region'], exception: 'InvalidActionDeclarationException' },
    {
      name: 'duplicate namespace',
      pipeline: aPipeline({ stages: [stage('Source', source({ namespace: 'NS' })), stage('Build', build({ namespace: 'NS' }))] }),
      code: 'pipeline.duplicate-namespace',
      exception: 'InvalidStructureException',
    },
    { name: 'bad roleArn', pipeline: aPipeline({ roleArn: 'role' }), code: 'pipeline.invalid-string', path: ['roleArn'], exception: 'ValidationException' },
    { name: 'V2 triggers on V1', pipeline: aPipeline({ triggers: [{ providerType: 'CodeStarSourceConnection' }] }), code: 'pipeline.v2-feature', exception: 'InvalidStructureException' },
  ];

  for (const testCase of cases) {
    it(`finds ${testCase.name}`, () => {
      const findings = checkPipelineDeclaration(testCase.pipeline, lookup, { region: 'us-east-1' });
      const finding = findings.find((candidate) => candidate.code === testCase.code);
      assert.ok(finding, `expected ${testCase.code}, got ${JSON.stringify(findings.map((f) => f.code))}`);
      if (testCase.path) assert.deepEqual(finding.path, testCase.path);
      assert.equal(exceptionFor(finding), testCase.exception);
      assert.ok(finding.message.length > 10);
    });
  }

  it('allows an input from a lower runOrder in the same stage, and parallel actions with equal runOrder', () => {
    const pipeline = aPipeline({ stages: [stage('Source', source()), stage('Build', build({ runOrder: 1 }), build({ name: 'B2', runOrder: 3, inputArtifacts: [{ name: 'Built' }], outputArtifacts: [] }))] });
    assert.deepEqual(codes(pipeline, { region: 'us-east-1' }), []);
  });

  it('names the unavailable type the way AWS does', () => {
    const pipeline = aPipeline({ stages: [stage('Source', source()), stage('Build', build({ actionTypeId: { category: 'Build', owner: 'Custom', provider: 'Jenkins', version: '1' } }))] });
    const finding = checkPipelineDeclaration(pipeline, lookup).find((candidate) => candidate.code === 'pipeline.action-type-unavailable');
    assert.equal(finding?.message, "ActionType (Category: 'Build', Provider: 'Jenkins', Owner: 'Custom', Version: '1') in action 'Build' is not available");
    assert.ok(finding?.hint?.includes('Build/Jenkins/1'));
  });

  it('skips the type rules for types the caller cannot tell (offline, unknown AWS types)', () => {
    const pipeline = aPipeline({ stages: [stage('Source', source()), stage('Deploy', { name: 'D', actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'ECS', version: '1' }, inputArtifacts: [{ name: 'Src' }], configuration: { Anything: 'x' } })] });
    assert.deepEqual(codes(pipeline), []);
  });

  it('points an unknown configuration key at the key, with the known keys as hint', () => {
    const finding = checkPipelineDeclaration(aPipeline({ stages: [stage('Source', source()), stage('Build', build({ configuration: { ProjectName: 'p', Colour: 'x' } }))] }), lookup)[0];
    assert.equal(finding?.target, 'key');
    assert.equal(finding?.hint, 'use one of: ProjectName, Token');
  });

  it('requires an artifact store for every action Region with artifactStores', () => {
    const pipeline = aPipeline({
      artifactStore: undefined,
      artifactStores: { 'us-east-1': { type: 'S3', location: 'bucket' } },
      stages: [stage('Source', source()), stage('Deploy', { name: 'D', actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CodeDeploy', version: '1' }, region: 'eu-west-1', inputArtifacts: [{ name: 'Src' }], configuration: { ApplicationName: 'a', DeploymentGroupName: 'g' } })],
    });
    const findings = checkPipelineDeclaration(pipeline, lookup, { region: 'us-east-1' });
    assert.deepEqual(findings.map((finding) => finding.code), ['pipeline.artifact-store-region']);
    assert.match(findings[0]!.message, /'eu-west-1'/);
  });

  it('survives junk without throwing and reports every problem at once', () => {
    const findings = checkPipelineDeclaration({ stages: 'nope' } as never, lookup);
    assert.ok(findings.some((finding) => finding.code === 'pipeline.stage-count'));
    assert.ok(findings.some((finding) => finding.code === 'pipeline.artifact-store'));
    const many = codes(aPipeline({ roleArn: 'x', stages: [stage('Source', source()), stage('Build', build({ runOrder: 0, configuration: {} }))] }));
    assert.ok(many.length >= 3, JSON.stringify(many));
  });
});
