import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { GetPipelineCommand, UpdatePipelineCommand, type PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import type { PipelineRecord } from '../../src/emulator/codepipeline/records.js';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { createMyFirstPipeline, cpsync, exampleFiles, makeProject } from '../helpers/reconcile.js';

const SECRET = 'tok-3f9a-VERY-SECRET-77';

const withSmokeTest = (files: Record<string, string>): Record<string, string> => ({
  ...files,
  'pipelines/MyFirstPipeline.yaml': `${files['pipelines/MyFirstPipeline.yaml']}
addActions:
  - stage: Staging
    actions:
      - name: SmokeTest
        type: Test/My-Test-Lab/1
        runOrder: 2
        configuration: { Suite: smoke, ApiToken: "\${env:TEST_LAB_TOKEN}" }
        inputArtifacts: [MyBuiltApp]
`,
});

async function pipeline(t: TestEndpoint, name = 'MyFirstPipeline'): Promise<PipelineDeclaration> {
  return (await t.codepipeline.send(new GetPipelineCommand({ name }))).pipeline as PipelineDeclaration;
}

describe('plan and apply: secrets, races and faults', () => {
  let t: TestEndpoint | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('never prints, saves or logs a secret value, yet writes it to the pipeline', async () => {
    t = await startTestEndpoint();
    await createMyFirstPipeline(t);
    const project = makeProject(withSmokeTest(exampleFiles()));
    const env = { TEST_LAB_TOKEN: SECRET };
    const outputs: string[] = [];
    for (const format of ['human', 'json', 'markdown']) {
      const result = await cpsync(t, project, ['plan', '--format', format, '--out', join(project, `plan-${format}.json`)], { env });
      assert.equal(result.code, 0, result.stderr);
      outputs.push(result.stdout, result.stderr, readFileSync(join(project, `plan-${format}.json`), 'utf8'));
    }
    assert.ok(outputs[0]?.includes('(sensitive)'), 'the human plan shows the secret as (sensitive)');
    const applied = await cpsync(t, project, ['apply', '--auto-approve'], { env });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    outputs.push(applied.stdout, applied.stderr);
    const again = await cpsync(t, project, ['plan', '--format', 'json'], { env });
    outputs.push(again.stdout, again.stderr);
    for (const output of outputs) assert.ok(!output.includes(SECRET), `secret leaked into: ${output.slice(0, 200)}`);

    const smoke = (await pipeline(t)).stages?.[2]?.actions?.find((action) => action.name === 'SmokeTest');
    assert.equal(smoke?.configuration?.ApiToken, '****');
    const record = t.endpoint.context.store.get<PipelineRecord>('pipelines', 'MyFirstPipeline');
    const stored = record?.versions.at(-1)?.declaration as unknown as PipelineDeclaration;
    assert.equal(stored.stages?.[2]?.actions?.find((action) => action.name === 'SmokeTest')?.configuration?.ApiToken, SECRET);

    // A rotated secret is noticed through the recorded digest and written again.
    const rotated = await cpsync(t, project, ['plan', '--detailed-exitcode'], { env: { TEST_LAB_TOKEN: `${SECRET}-2` } });
    assert.equal(rotated.code, 2);
    assert.match(rotated.stdout, /secret value changed/);
    assert.ok(!rotated.stdout.includes(SECRET));
  });

  it('refuses to plan when a referenced environment variable is missing', async () => {
    t = await startTestEndpoint();
    await createMyFirstPipeline(t);
    const project = makeProject(withSmokeTest(exampleFiles()));
    const result = await cpsync(t, project, ['apply', '--auto-approve']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /\$\{env:TEST_LAB_TOKEN\}, which is not set/);
    assert.equal((await pipeline(t)).version, 1, 'the pipeline was not touched');
  });

  it('loses nothing when two teams apply to one pipeline at the same time', async () => {
    t = await startTestEndpoint({ faults: [{ operation: 'UpdatePipeline', latencyMs: 60 }, { operation: 'GetPipeline', latencyMs: 15 }] });
    await createMyFirstPipeline(t);
    const teamA = makeProject(exampleFiles());
    const teamB = makeProject({
      'cpsync.config.yaml': 'tagPrefix: "team-b:"\nactions: actions.yaml\n',
      'actions.yaml': 'actionTypes: []\n',
      'pipelines/MyFirstPipeline.yaml': `insertStages:
  - name: Approval
    after: Staging
    actions:
      - name: Approve
        actionTypeId: { category: Approval, owner: AWS, provider: Manual, version: "1" }
`,
    });
    // Team A's action type must exist before its stage can be written.
    assert.equal((await cpsync(t, teamA, ['apply', '--auto-approve'])).code, 0);
    writeFileSync(
      join(teamA, 'pipelines/MyFirstPipeline.yaml'),
      `insertStages:
  - name: MyBuildStage
    before: Staging
    actions:
      - name: MyBuildCustomAction
        type: Build/My-Build-Provider-Name/1
        configuration: { ProjectName: MyBuildProject }
        inputArtifacts: [MyApp]
        outputArtifacts: [MyBuiltApp]
  - name: PostDeploy
    after: Staging
    actions:
      - name: Notify
        actionTypeId: { category: Invoke, owner: AWS, provider: Lambda, version: "1" }
        configuration: { FunctionName: notify }
rewires:
  - stage: Staging
    action: Deploy-CodeDeploy-Application
    inputArtifacts: [MyBuiltApp]
`,
    );

    const [a, b] = await Promise.all([cpsync(t, teamA, ['apply', '--auto-approve']), cpsync(t, teamB, ['apply', '--auto-approve'])]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    const stages = (await pipeline(t)).stages?.map((stage) => stage.name);
    assert.ok(stages?.includes('MyBuildStage') && stages.includes('PostDeploy') && stages.includes('Approval'), `every team's stage is there: ${stages?.join(', ')}`);
    // And both plans are clean afterwards: nobody's write was lost or half-done.
    const planA = await cpsync(t, teamA, ['plan', '--detailed-exitcode']);
    assert.equal(planA.code, 0, planA.stdout);
    const planB = await cpsync(t, teamB, ['plan', '--detailed-exitcode']);
    assert.equal(planB.code, 0, planB.stdout);
  });

  it('never loses a human edit made between its read and its write', async () => {
    t = await startTestEndpoint({ faults: [{ operation: 'UpdatePipeline', latencyMs: 120 }] });
    await createMyFirstPipeline(t);
    const project = makeProject(exampleFiles());
    assert.equal((await cpsync(t, project, ['apply', '--auto-approve'])).code, 0);
    writeFileSync(join(project, 'pipelines/MyFirstPipeline.yaml'), readFileSync(join(project, 'pipelines/MyFirstPipeline.yaml'), 'utf8').replace('ProjectName: MyBuildProject', 'ProjectName: SecondProject'));
    const human = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      const live = await pipeline(t!);
      live.stages![0]!.actions![0]!.configuration = { ...live.stages![0]!.actions![0]!.configuration, S3ObjectKey: 'human.zip' };
      await t!.codepipeline.send(new UpdatePipelineCommand({ pipeline: live }));
    })();
    const [result] = await Promise.all([cpsync(t, project, ['apply', '--auto-approve']), human]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const after = await pipeline(t);
    assert.equal(after.stages?.[0]?.actions?.[0]?.configuration?.S3ObjectKey, 'human.zip', 'the human edit survived');
    assert.equal(after.stages?.[1]?.actions?.[0]?.configuration?.ProjectName, 'SecondProject', 'cpsync\'s change landed');
  });

  it('converges through throttling, 500s and dropped responses', async () => {
    const dataDir = makeProject({});
    const setup = await startTestEndpoint({ dataDir });
    await createMyFirstPipeline(setup);
    await setup.close();
    t = await startTestEndpoint({
      dataDir,
      seed: 7,
      faults: [
        { operation: 'UpdatePipeline', dropResponseRate: 0.3, errorRate: 0.1 },
        { operation: 'CreateCustomActionType', dropResponseRate: 0.3 },
        { operation: '*', throttleRate: 0.15, errorRate: 0.1 },
      ],
    });
    const project = makeProject(exampleFiles());
    let last = { code: 1, stdout: '', stderr: '' };
    for (let run = 0; run < 6 && last.code !== 0; run++) last = await cpsync(t, project, ['apply', '--auto-approve']);
    assert.equal(last.code, 0, last.stdout + last.stderr);
    await t.close();
    // Checked without faults: the result is exactly the declared state.
    t = await startTestEndpoint({ dataDir });
    assert.deepEqual((await pipeline(t)).stages?.map((stage) => stage.name), ['Source', 'MyBuildStage', 'Staging']);
    assert.equal((await cpsync(t, project, ['plan', '--detailed-exitcode'])).code, 0);
  });
});
