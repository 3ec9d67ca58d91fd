import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetPipelineCommand } from '@aws-sdk/client-codepipeline';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { createMyFirstPipeline, cpsync, exampleFiles, makeProject } from '../helpers/reconcile.js';

describe('targets, formats and exit codes', () => {
  let staging: TestEndpoint;
  let prod: TestEndpoint;
  let project: string;

  before(async () => {
    staging = await startTestEndpoint({ region: 'eu-west-1', accountId: '111111111111' });
    prod = await startTestEndpoint({ region: 'us-west-2', accountId: '222222222222' });
    await createMyFirstPipeline(staging);
    await createMyFirstPipeline(prod);
    project = makeProject({
      ...exampleFiles(),
      'cpsync.config.yaml': `targets:\n  - { name: staging, region: eu-west-1, endpointUrl: "${staging.endpoint.url}" }\n  - { name: prod, region: us-west-2, endpointUrl: "${prod.endpoint.url}" }\n`,
    });
  });
  after(async () => {
    await staging.close();
    await prod.close();
  });

  const version = async (t: TestEndpoint) => (await t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }))).pipeline?.version;

  it('plans every configured target, each reported separately', async () => {
    const result = await cpsync(staging, project, ['plan', '--detailed-exitcode']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /Target staging \(eu-west-1, account 111111111111\)/);
    assert.match(result.stdout, /Target prod \(us-west-2, account 222222222222\)/);
  });

  it('writes the markdown plan to the GitHub step summary and prints JSON alone on stdout', async () => {
    const summary = join(project, 'step-summary.md');
    const result = await cpsync(staging, project, ['plan', '--format', 'json'], { env: { GITHUB_STEP_SUMMARY: summary } });
    assert.equal(result.code, 0);
    const document = JSON.parse(result.stdout) as { formatVersion: number; summary: { create: number } };
    assert.equal(document.formatVersion, 1);
    assert.ok(document.summary.create > 0);
    const markdown = readFileSync(summary, 'utf8');
    assert.match(markdown, /<!-- cpsync-plan -->/);
    assert.match(markdown, /MyBuildStage/);
  });

  it('applies only the selected target with --target', async () => {
    const result = await cpsync(staging, project, ['apply', '--auto-approve', '--target', 'prod']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(await version(prod), 2);
    assert.equal(await version(staging), 1);
    const planProd = await cpsync(staging, project, ['plan', '--target', 'prod', '--detailed-exitcode']);
    assert.equal(planProd.code, 0);
    const planStaging = await cpsync(staging, project, ['plan', '--target', 'staging', '--detailed-exitcode']);
    assert.equal(planStaging.code, 2);
  });

  it('names the configured targets when given an unknown one', async () => {
    const result = await cpsync(staging, project, ['plan', '--target', 'qa']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /unknown target "qa"\n  hint: configured targets: staging, prod/);
  });

  it('exits 1 on a plan error even with --detailed-exitcode', async () => {
    const broken = makeProject({ ...exampleFiles(), 'pipelines/NoSuchPipeline.yaml': 'rewires:\n  - { stage: Staging, action: X, inputArtifacts: [MyApp] }\n', 'cpsync.config.yaml': `targets:\n  - { name: staging, region: eu-west-1, endpointUrl: "${staging.endpoint.url}" }\n` });
    const result = await cpsync(staging, broken, ['plan', '--detailed-exitcode']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /pipeline NoSuchPipeline does not exist in eu-west-1/);
  });
});
