// The policy builder, statement by statement, against the IAM rules of codepipeline-api.md §14 and
// §0 rule 15: which actions support resource-level permissions (and so must never get "*"), which
// accept only "*", PassRole's condition, ARN spelling, partitions and pattern selectors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DesiredActionType, DesiredPipelineFile } from '../../src/model/desired.js';
import type { ActionCategory } from '../../src/model/limits.js';
import { partitionForRegion, pipelineArn, scopeFor } from '../../src/iam/arns.js';
import { buildDeployerPolicy, buildWorkerPolicy, type PolicyDocument, type PolicyStatement } from '../../src/iam/policy.js';
import { renderPolicy } from '../../src/iam/render.js';
import { resolvePolicyScope } from '../../src/iam/scope.js';
import { isCpsyncError } from '../../src/util/errors.js';
import { parse as parseYaml } from 'yaml';

const anActionType = (overrides: { category?: ActionCategory; provider?: string; version?: string; executor?: boolean } = {}): DesiredActionType => ({
  definition: {
    category: overrides.category ?? 'Build',
    provider: overrides.provider ?? 'My-Build-Provider-Name',
    version: overrides.version ?? '1',
    configurationProperties: [],
    inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
  },
  tags: [],
  ...(overrides.executor === false ? {} : { executor: { plugin: 'command', options: {} } }),
});

const aPipelineFile = (selectors: string[], roleArn?: string): DesiredPipelineFile => ({
  file: `pipelines/${selectors[0] ?? 'x'}.yaml`,
  selectors,
  insertStages: [
    {
      name: 'Build',
      placement: { before: 'Staging' },
      actions: [{ name: 'B', actionTypeId: { category: 'Build', owner: 'Custom', provider: 'My-Build-Provider-Name', version: '1' }, configuration: {}, inputArtifacts: [], outputArtifacts: [], runOrder: 1, ...(roleArn ? { roleArn } : {}) }],
    },
  ],
  addActions: [],
  rewires: [],
});

const ACCOUNT = '111122223333';
const scope = scopeFor('us-east-1', ACCOUNT);
const typeArn = (ref: string, s = scope) => `arn:${s.partition}:codepipeline:${s.region}:${s.account}:actiontype:Custom/${ref}`;

/** Action → the resources every statement allowing it names together. */
function resourcesByAction(document: PolicyDocument): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const statement of document.Statement) for (const action of statement.Action) map.set(action, [...(map.get(action) ?? []), ...statement.Resource].sort());
  return map;
}
const statement = (document: PolicyDocument, sid: string): PolicyStatement | undefined => document.Statement.find((s) => s.Sid === sid);

/** Actions that support resource-level permissions (§14): "*" on them would be more than needed. */
const RESOURCE_LEVEL = [
  'codepipeline:CreateCustomActionType',
  'codepipeline:DeleteCustomActionType',
  'codepipeline:ListTagsForResource',
  'codepipeline:TagResource',
  'codepipeline:UntagResource',
  'codepipeline:GetPipeline',
  'codepipeline:UpdatePipeline',
  'codepipeline:ListPipelineExecutions',
  'codepipeline:PollForJobs',
  'iam:PassRole',
];
/** Actions IAM accepts only on "*" (§14, §0 rule 15; ListActionTypes per the 2025 SAR). */
const STAR_ONLY = ['codepipeline:ListActionTypes', 'codepipeline:ListPipelines', 'sts:GetCallerIdentity', 'codepipeline:AcknowledgeJob', 'codepipeline:GetJobDetails', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'];

function assertWellFormed(document: PolicyDocument): void {
  assert.equal(document.Version, '2012-10-17');
  const sids = document.Statement.map((s) => s.Sid);
  assert.equal(new Set(sids).size, sids.length, 'Sids are unique');
  for (const s of document.Statement) {
    assert.match(s.Sid, /^[A-Za-z0-9]+$/, 'IAM allows only letters and digits in a Sid');
    assert.equal(s.Effect, 'Allow');
    assert.ok(s.Action.length > 0 && s.Resource.length > 0, `${s.Sid} has actions and resources`);
    assert.deepEqual([...s.Action].sort(), s.Action, `${s.Sid} actions sorted`);
    for (const action of s.Action) {
      if (RESOURCE_LEVEL.includes(action)) assert.ok(!s.Resource.includes('*'), `${action} supports resource-level permissions and must not get "*"`);
      if (STAR_ONLY.includes(action)) assert.deepEqual(s.Resource, ['*'], `${action} accepts only "*"`);
    }
  }
}

describe('deployer policy', () => {
  const project = {
    actionTypes: [anActionType(), anActionType({ category: 'Test', provider: 'My-Test-Lab', executor: false })],
    pipelineFiles: [aPipelineFile(['MyFirstPipeline'])],
  };
  const { document, notes } = buildDeployerPolicy(project, { scope });
  const byAction = resourcesByAction(document);
  const types = [typeArn('Build/My-Build-Provider-Name/1'), typeArn('Test/My-Test-Lab/1')];
  const pipeline = `arn:aws:codepipeline:us-east-1:${ACCOUNT}:MyFirstPipeline`;

  it('is a well-formed policy where no resource-level action gets "*"', () => {
    assertWellFormed(document);
  });

  it('creates and deletes exactly the declared action types, with or without an executor', () => {
    assert.deepEqual(byAction.get('codepipeline:CreateCustomActionType'), types);
    assert.deepEqual(byAction.get('codepipeline:DeleteCustomActionType'), types);
  });

  it('lists, adds and removes tags on exactly those types and the named pipelines', () => {
    for (const action of ['codepipeline:ListTagsForResource', 'codepipeline:TagResource', 'codepipeline:UntagResource']) {
      assert.deepEqual(byAction.get(action), [pipeline, ...types].sort(), action);
    }
  });

  it('reads and updates exactly the named pipelines', () => {
    for (const action of ['codepipeline:GetPipeline', 'codepipeline:UpdatePipeline', 'codepipeline:ListPipelineExecutions']) {
      assert.deepEqual(byAction.get(action), [pipeline], action);
    }
  });

  it('lists types and pipelines and asks STS for the account on "*"', () => {
    for (const action of ['codepipeline:ListActionTypes', 'codepipeline:ListPipelines', 'sts:GetCallerIdentity']) assert.deepEqual(byAction.get(action), ['*'], action);
  });

  it('passes roles only to CodePipeline, every role of the account by default, with a note', () => {
    const passRole = statement(document, 'PassPipelineRolesToCodePipeline');
    assert.deepEqual(passRole?.Action, ['iam:PassRole']);
    assert.deepEqual(passRole?.Resource, [`arn:aws:iam::${ACCOUNT}:role/*`]);
    assert.deepEqual(passRole?.Condition, { StringEquals: { 'iam:PassedToService': 'codepipeline.amazonaws.com' } });
    assert.ok(notes.some((note) => note.includes('--pass-role')));
  });

  it('passes exactly the roles given with --pass-role, and no note then', () => {
    const roles = [`arn:aws:iam::${ACCOUNT}:role/PipelineB`, `arn:aws:iam::${ACCOUNT}:role/PipelineA`];
    const result = buildDeployerPolicy(project, { scope, passRoles: roles });
    assert.deepEqual(statement(result.document, 'PassPipelineRolesToCodePipeline')?.Resource, [...roles].sort());
    assert.ok(!result.notes.some((note) => note.includes('--pass-role')));
  });

  it('allows nothing else: every action is one the reconciler calls, or PassRole', () => {
    assert.deepEqual(
      [...byAction.keys()].sort(),
      [
        'codepipeline:CreateCustomActionType',
        'codepipeline:DeleteCustomActionType',
        'codepipeline:GetPipeline',
        'codepipeline:ListActionTypes',
        'codepipeline:ListPipelineExecutions',
        'codepipeline:ListPipelines',
        'codepipeline:ListTagsForResource',
        'codepipeline:TagResource',
        'codepipeline:UntagResource',
        'codepipeline:UpdatePipeline',
        'iam:PassRole',
        'sts:GetCallerIdentity',
      ],
    );
  });

  it('does not allow deleting undeclared types unless asked, and says why', () => {
    assert.ok(!document.Statement.some((s) => s.Resource.some((r) => r.endsWith('actiontype:Custom/*'))));
    assert.ok(notes.some((note) => note.includes('--allow-delete-undeclared')));
    const result = buildDeployerPolicy(project, { scope, allowDeleteUndeclared: true });
    assertWellFormed(result.document);
    assert.deepEqual(statement(result.document, 'DeleteUndeclaredActionTypes'), {
      Sid: 'DeleteUndeclaredActionTypes',
      Effect: 'Allow',
      Action: ['codepipeline:DeleteCustomActionType'],
      Resource: [`arn:aws:codepipeline:us-east-1:${ACCOUNT}:actiontype:Custom/*`],
    });
    // Creating stays limited to the declared types.
    assert.deepEqual(resourcesByAction(result.document).get('codepipeline:CreateCustomActionType'), types);
  });

  it('turns pattern selectors into ARN wildcards (`?` is one character in both)', () => {
    const result = buildDeployerPolicy({ actionTypes: [], pipelineFiles: [aPipelineFile(['svc-*', 'api-?']), aPipelineFile(['Release', 'svc-*'])] }, { scope });
    assertWellFormed(result.document);
    const arn = (name: string) => `arn:aws:codepipeline:us-east-1:${ACCOUNT}:${name}`;
    assert.deepEqual(statement(result.document, 'ReadAndUpdateSelectedPipelines')?.Resource, [arn('Release'), arn('api-?'), arn('svc-*')]);
    assert.deepEqual(statement(result.document, 'TagDeclaredActionTypesAndSelectedPipelines')?.Resource, [arn('Release'), arn('api-?'), arn('svc-*')]);
    assert.equal(statement(result.document, 'CreateAndDeleteDeclaredActionTypes'), undefined, 'no types, no statement with an empty Resource');
  });

  it('warns when a selector starts with a wildcard (it can reach action-type ARNs too)', () => {
    const result = buildDeployerPolicy({ actionTypes: [], pipelineFiles: [aPipelineFile(['*-prod'])] }, { scope });
    assert.ok(result.notes.some((note) => note.includes('"*-prod"')));
  });

  it('names the roles actions declare in a note', () => {
    const role = `arn:aws:iam::${ACCOUNT}:role/ActionRole`;
    const result = buildDeployerPolicy({ actionTypes: [anActionType()], pipelineFiles: [aPipelineFile(['P'], role)] }, { scope });
    assert.ok(result.notes.some((note) => note.includes(role)));
  });

  it('leaves out pipeline statements and PassRole when no pipeline is selected', () => {
    const result = buildDeployerPolicy({ actionTypes: [anActionType()], pipelineFiles: [] }, { scope });
    assertWellFormed(result.document);
    assert.deepEqual(
      result.document.Statement.map((s) => s.Sid),
      ['ListActionTypesAndPipelines', 'GetCallerIdentity', 'CreateAndDeleteDeclaredActionTypes', 'TagDeclaredActionTypesAndSelectedPipelines'],
    );
    assert.deepEqual(statement(result.document, 'TagDeclaredActionTypesAndSelectedPipelines')?.Resource, [typeArn('Build/My-Build-Provider-Name/1')]);
  });

  it('is the same document whatever the order of the configuration', () => {
    const reversed = { actionTypes: [...project.actionTypes].reverse(), pipelineFiles: [aPipelineFile(['b', 'a']), aPipelineFile(['c'])] };
    const forward = { actionTypes: project.actionTypes, pipelineFiles: [aPipelineFile(['c']), aPipelineFile(['a', 'b'])] };
    assert.equal(renderPolicy(buildDeployerPolicy(reversed, { scope }).document, 'json'), renderPolicy(buildDeployerPolicy(forward, { scope }).document, 'json'));
  });
});

describe('worker policy', () => {
  const project = {
    actionTypes: [anActionType({ category: 'Test', provider: 'My-Test-Lab' }), anActionType(), anActionType({ category: 'Deploy', provider: 'Someone-Else', executor: false })],
    pipelineFiles: [aPipelineFile(['MyFirstPipeline'])],
  };
  const { document, notes } = buildWorkerPolicy(project, { scope });
  const byAction = resourcesByAction(document);

  it('is a well-formed policy', () => {
    assertWellFormed(document);
  });

  it('polls exactly the action types with an executor', () => {
    assert.deepEqual(byAction.get('codepipeline:PollForJobs'), [typeArn('Build/My-Build-Provider-Name/1'), typeArn('Test/My-Test-Lab/1')]);
  });

  it('acknowledges, reads and reports jobs on "*", the only resource they accept', () => {
    for (const action of ['codepipeline:AcknowledgeJob', 'codepipeline:GetJobDetails', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult']) {
      assert.deepEqual(byAction.get(action), ['*'], action);
    }
  });

  it('lists action types for the start-up check, and allows nothing else (no S3, no KMS, no pipelines)', () => {
    assert.deepEqual(byAction.get('codepipeline:ListActionTypes'), ['*']);
    assert.deepEqual([...byAction.keys()].sort(), [
      'codepipeline:AcknowledgeJob',
      'codepipeline:GetJobDetails',
      'codepipeline:ListActionTypes',
      'codepipeline:PollForJobs',
      'codepipeline:PutJobFailureResult',
      'codepipeline:PutJobSuccessResult',
    ]);
    assert.ok(notes.some((note) => /S3 or KMS/.test(note) && note.includes('artifactCredentials')));
  });

  it('is an error when no type has an executor', () => {
    assert.throws(
      () => buildWorkerPolicy({ actionTypes: [anActionType({ executor: false })], pipelineFiles: [] }, { scope }),
      (error) => isCpsyncError(error) && error.code === 'iam.nothing-to-poll' && /no action type in actions.yaml has an executor/.test(error.message),
    );
  });
});

describe('ARNs', () => {
  it('use the SAR spelling of the action-type ARN', () => {
    const { document } = buildWorkerPolicy({ actionTypes: [anActionType({ provider: 'My-Build', version: '1' })], pipelineFiles: [] }, { scope: scopeFor('us-east-1', ACCOUNT) });
    assert.deepEqual(statement(document, 'PollForJobsOfExecutedActionTypes')?.Resource, ['arn:aws:codepipeline:us-east-1:111122223333:actiontype:Custom/Build/My-Build/1']);
  });

  for (const [region, partition] of [
    ['us-east-1', 'aws'],
    ['eu-central-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
  ] as const) {
    it(`put ${region} in the ${partition} partition, for CodePipeline and IAM ARNs alike`, () => {
      assert.equal(partitionForRegion(region), partition);
      const s = scopeFor(region, ACCOUNT);
      const { document } = buildDeployerPolicy({ actionTypes: [anActionType()], pipelineFiles: [aPipelineFile(['P'])] }, { scope: s });
      assert.equal(pipelineArn(s, 'P'), `arn:${partition}:codepipeline:${region}:${ACCOUNT}:P`);
      const arns = document.Statement.flatMap((st) => st.Resource).filter((r) => r !== '*');
      assert.ok(arns.length > 0);
      for (const arn of arns) assert.ok(arn.startsWith(`arn:${partition}:`), arn);
      assert.deepEqual(statement(document, 'PassPipelineRolesToCodePipeline')?.Resource, [`arn:${partition}:iam::${ACCOUNT}:role/*`]);
    });
  }

  it('use "*" for an unknown Region and account', () => {
    const s = scopeFor(undefined, undefined);
    assert.deepEqual(s, { partition: 'aws', region: '*', account: '*' });
    assert.equal(pipelineArn(s, 'P'), 'arn:aws:codepipeline:*:*:P');
  });
});

describe('Region and account resolution', () => {
  const target = { name: 'default' };
  it('prefers the flags, then the target (its roleArn for the account), then AWS_REGION', () => {
    assert.deepEqual(resolvePolicyScope({ account: ACCOUNT, region: 'eu-west-1', target: { name: 't', region: 'us-east-2', roleArn: 'arn:aws:iam::999988887777:role/x' }, env: { AWS_REGION: 'ap-south-1' } }), {
      scope: { partition: 'aws', region: 'eu-west-1', account: ACCOUNT },
      notes: [],
    });
    assert.deepEqual(resolvePolicyScope({ target: { name: 't', region: 'cn-north-1', roleArn: 'arn:aws-cn:iam::999988887777:role/x' }, env: { AWS_REGION: 'ap-south-1' } }).scope, {
      partition: 'aws-cn',
      region: 'cn-north-1',
      account: '999988887777',
    });
    assert.deepEqual(resolvePolicyScope({ target, env: { AWS_DEFAULT_REGION: 'ap-south-1' } }).scope.region, 'ap-south-1');
  });

  it('notes each field left as "*"', () => {
    const { scope: s, notes } = resolvePolicyScope({ target, env: {} });
    assert.deepEqual(s, { partition: 'aws', region: '*', account: '*' });
    assert.equal(notes.length, 2);
    assert.match(notes.join('\n'), /--region/);
    assert.match(notes.join('\n'), /--account/);
  });

  for (const bad of ['12345678901', '1234567890123', '11112222333a', 'self', '']) {
    it(`refuses the account id ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => resolvePolicyScope({ account: bad, target, env: {} }),
        (error) => isCpsyncError(error) && error.code === 'cli.bad-flag-value' && error.message === `--account must be a 12-digit AWS account id, got ${JSON.stringify(bad)}`,
      );
    });
  }

  it('refuses a Region that is not a Region name', () => {
    assert.throws(() => resolvePolicyScope({ region: 'US_EAST', target, env: {} }), /--region must be an AWS Region/);
  });
});

describe('rendering', () => {
  const { document } = buildWorkerPolicy({ actionTypes: [anActionType()], pipelineFiles: [] }, { scope });
  it('prints JSON that parses back to the document', () => {
    assert.deepEqual(JSON.parse(renderPolicy(document, 'json')), document);
  });
  it('prints YAML that parses back to the document, Version quoted for YAML 1.1 readers', () => {
    const text = renderPolicy(document, 'yaml');
    assert.match(text, /^Version: "2012-10-17"\n/);
    assert.deepEqual(parseYaml(text), document);
  });
});
