import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GetPipelineCommand, ListActionTypesCommand, ListTagsForResourceCommand, UpdatePipelineCommand, type PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { createMyFirstPipeline, cpsync, exampleFiles, makeProject } from '../helpers/reconcile.js';

async function pipeline(t: TestEndpoint, name = 'MyFirstPipeline'): Promise<PipelineDeclaration> {
  return (await t.codepipeline.send(new GetPipelineCommand({ name }))).pipeline as PipelineDeclaration;
}

function stageNames(declaration: PipelineDeclaration): string[] {
  return (declaration.stages ?? []).map((stage) => stage.name ?? '');
}

describe('cpsync plan and apply against the local endpoint', () => {
  let t: TestEndpoint;
  let project: string;

  before(async () => {
    t = await startTestEndpoint();
  });
  after(() => t.close());
  beforeEach(async () => {
    await t.endpoint.close();
    t = await startTestEndpoint();
    await createMyFirstPipeline(t);
    project = makeProject(exampleFiles());
  });

  it('runs the AWS guide scenario from scratch: creates the type, inserts MyBuildStage before Staging, rewires Staging', async () => {
    const planned = await cpsync(t, project, ['plan', '--detailed-exitcode']);
    assert.equal(planned.code, 2, planned.stderr);
    assert.match(planned.stdout, /MyBuildStage/);
    assert.equal((await pipeline(t)).version, 1, 'plan writes nothing');

    const applied = await cpsync(t, project, ['apply', '--auto-approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const live = await pipeline(t);
    assert.deepEqual(stageNames(live), ['Source', 'MyBuildStage', 'Staging']);
    const build = live.stages?.[1]?.actions?.[0];
    assert.deepEqual(build?.actionTypeId, { category: 'Build', owner: 'Custom', provider: 'My-Build-Provider-Name', version: '1' });
    assert.deepEqual(build?.outputArtifacts, [{ name: 'MyBuiltApp' }]);
    assert.deepEqual(live.stages?.[2]?.actions?.[0]?.inputArtifacts, [{ name: 'MyBuiltApp' }]);
    const types = await t.codepipeline.send(new ListActionTypesCommand({ actionOwnerFilter: 'Custom' }));
    assert.deepEqual(types.actionTypes?.map((type) => `${type.id?.category}/${type.id?.provider}/${type.id?.version}`).sort(), ['Build/My-Build-Provider-Name/1', 'Test/My-Test-Lab/1']);
  });

  it('is idempotent: a second apply finds nothing to do and writes nothing', async () => {
    assert.equal((await cpsync(t, project, ['apply', '--auto-approve'])).code, 0);
    const version = (await pipeline(t)).version;
    const tags = await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:codepipeline:us-east-1:123456789012:MyFirstPipeline` }));
    const second = await cpsync(t, project, ['plan', '--detailed-exitcode']);
    assert.equal(second.code, 0, second.stdout);
    const again = await cpsync(t, project, ['apply', '--auto-approve']);
    assert.equal(again.code, 0);
    assert.equal((await pipeline(t)).version, version);
    assert.deepEqual(await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:codepipeline:us-east-1:123456789012:MyFirstPipeline` })).then((r) => r.tags), tags.tags);
  });

  it('keeps a human edit to a stage it does not own, and reverts drift in the stage it owns', async () => {
    assert.equal((await cpsync(t, project, ['apply', '--auto-approve'])).code, 0);
    const live = await pipeline(t);
    live.stages![2]!.actions![0]!.configuration = { ApplicationName: 'EditedByHand', DeploymentGroupName: 'CodePipelineDemoFleet' };
    live.stages![1]!.actions![0]!.configuration = { ProjectName: 'DriftedByHand' };
    await t.codepipeline.send(new UpdatePipelineCommand({ pipeline: live }));

    const plan = await cpsync(t, project, ['plan']);
    assert.match(plan.stdout, /MyBuildStage/);
    assert.doesNotMatch(plan.stdout, /EditedByHand/);
    assert.equal((await cpsync(t, project, ['apply', '--auto-approve'])).code, 0);
    const after = await pipeline(t);
    assert.equal(after.stages?.[2]?.actions?.[0]?.configuration?.ApplicationName, 'EditedByHand');
    assert.equal(after.stages?.[1]?.actions?.[0]?.configuration?.ProjectName, 'MyBuildProject');
  });

  it('applies a saved plan, and refuses it once the pipeline has moved', async () => {
    const planFile = join(project, 'plan.json');
    assert.equal((await cpsync(t, project, ['plan', '--out', planFile])).code, 0);
    const live = await pipeline(t);
    live.stages![0]!.actions![0]!.configuration = { ...live.stages![0]!.actions![0]!.configuration, S3ObjectKey: 'moved.zip' };
    await t.codepipeline.send(new UpdatePipelineCommand({ pipeline: live }));
    const stale = await cpsync(t, project, ['apply', planFile]);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /the saved plan is stale for target default: pipeline MyFirstPipeline is at version 2, the plan saw version 1/);
    assert.deepEqual(stageNames(await pipeline(t)), ['Source', 'Staging'], 'nothing applied');

    assert.equal((await cpsync(t, project, ['plan', '--out', planFile])).code, 0);
    const fresh = await cpsync(t, project, ['apply', planFile]);
    assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
    assert.deepEqual(stageNames(await pipeline(t)), ['Source', 'MyBuildStage', 'Staging']);
  });

  it('refuses to apply without a terminal unless told to', async () => {
    const result = await cpsync(t, project, ['apply']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /refusing to apply without confirmation/);
    assert.equal((await pipeline(t)).version, 1);
  });

  it('asks on a terminal and applies only on "yes"', async () => {
    const no = await cpsync(t, project, ['apply'], { interactive: true, input: 'no\n' });
    assert.equal(no.code, 1);
    assert.equal((await pipeline(t)).version, 1);
    const yes = await cpsync(t, project, ['apply'], { interactive: true, input: 'yes\n' });
    assert.equal(yes.code, 0, yes.stdout + yes.stderr);
    assert.equal((await pipeline(t)).version, 2);
  });

  it('refuses an in-place change to a custom action type and proposes the next version', async () => {
    assert.equal((await cpsync(t, project, ['apply', '--auto-approve'])).code, 0);
    const actions = readFileSync(join(project, 'actions.yaml'), 'utf8').replace('https://my-build-instance/job/{Config:ProjectName}/\n', 'https://new-build-instance/job/{Config:ProjectName}/\n');
    writeFileSync(join(project, 'actions.yaml'), actions);
    const result = await cpsync(t, project, ['plan']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Build\/My-Build-Provider-Name\/1 already exists with a different settings\.entityUrlTemplate/);
    assert.match(result.stdout, /version "2"/);
  });

  it('rolls a version bump out in one apply: create v2, move the owned action, delete v1', async () => {
    assert.equal((await cpsync(t, project, ['apply', '--auto-approve'])).code, 0);
    const actions = readFileSync(join(project, 'actions.yaml'), 'utf8')
      .replace('version: "1"\n    settings:\n      entityUrlTemplate: https://my-build-instance', 'version: "2"\n    settings:\n      entityUrlTemplate: https://my-build-instance')
      .replace('https://my-build-instance/job/{Config:ProjectName}/\n', 'https://new-build-instance/job/{Config:ProjectName}/\n');
    writeFileSync(join(project, 'actions.yaml'), actions);
    writeFileSync(join(project, 'pipelines/MyFirstPipeline.yaml'), readFileSync(join(project, 'pipelines/MyFirstPipeline.yaml'), 'utf8').replace('Build/My-Build-Provider-Name/1', 'Build/My-Build-Provider-Name/2'));
    // The plan shows the rollout in the order apply carries it out.
    const plan = (await cpsync(t, project, ['plan'])).stdout;
    const create = plan.indexOf('+ action-type:Build/My-Build-Provider-Name/2');
    const move = plan.indexOf('~ pipeline:MyFirstPipeline/stage:MyBuildStage');
    const remove = plan.indexOf('- action-type:Build/My-Build-Provider-Name/1');
    assert.ok(create !== -1 && move > create && remove > move, plan);
    const applied = await cpsync(t, project, ['apply', '--auto-approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.equal((await pipeline(t)).stages?.[1]?.actions?.[0]?.actionTypeId?.version, '2');
    const types = await t.codepipeline.send(new ListActionTypesCommand({ actionOwnerFilter: 'Custom' }));
    assert.deepEqual(types.actionTypes?.map((type) => `${type.id?.provider}/${type.id?.version}`).sort(), ['My-Build-Provider-Name/2', 'My-Test-Lab/1']);
  });

  it('keeps an owned type no longer declared while a pipeline still uses it', async () => {
    assert.equal((await cpsync(t, project, ['apply', '--auto-approve'])).code, 0);
    // Someone else's pipeline uses the Test type by hand.
    const other = await pipeline(t);
    other.name = 'OtherPipeline';
    other.stages![2]!.actions!.push({ name: 'Smoke', actionTypeId: { category: 'Test', owner: 'Custom', provider: 'My-Test-Lab', version: '1' }, configuration: { Suite: 'smoke' }, inputArtifacts: [{ name: 'MyBuiltApp' }], runOrder: 2 });
    const { CreatePipelineCommand } = await import('@aws-sdk/client-codepipeline');
    await t.codepipeline.send(new CreatePipelineCommand({ pipeline: other }));
    const actions = readFileSync(join(project, 'actions.yaml'), 'utf8');
    writeFileSync(join(project, 'actions.yaml'), actions.slice(0, actions.indexOf('  # A test action')));
    const result = await cpsync(t, project, ['apply', '--auto-approve']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /still use it: OtherPipeline/);
    const types = await t.codepipeline.send(new ListActionTypesCommand({ actionOwnerFilter: 'Custom' }));
    assert.ok(types.actionTypes?.some((type) => type.id?.provider === 'My-Test-Lab'));
  });
});
