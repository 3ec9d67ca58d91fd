import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CreateCustomActionTypeCommand, GetPipelineCommand, StartPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { createMyFirstPipeline, cpsync, exampleFiles, makeProject } from '../helpers/reconcile.js';

describe('apply: independent failures and running executions', () => {
  let t: TestEndpoint | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('applies what it can when one item fails, lists what failed and why, and exits 1', async () => {
    t = await startTestEndpoint();
    await createMyFirstPipeline(t, 'PipelineA');
    await createMyFirstPipeline(t, 'PipelineB');
    // 49 hand-made types: the Region has room for exactly one more.
    for (let i = 0; i < 49; i++) {
      await t.codepipeline.send(new CreateCustomActionTypeCommand({ category: 'Build', provider: `Filler${i}`, version: '1', inputArtifactDetails: { minimumCount: 0, maximumCount: 1 }, outputArtifactDetails: { minimumCount: 0, maximumCount: 1 } }));
    }
    const files = exampleFiles();
    const project = makeProject({
      'actions.yaml': files['actions.yaml'] as string,
      // A uses the Build type (created first); B uses the Test type, which hits the quota.
      'pipelines/A.yaml': (files['pipelines/MyFirstPipeline.yaml'] as string).replace('insertStages:', 'pipelines: [PipelineA]\ninsertStages:'),
      'pipelines/B.yaml': `pipelines: [PipelineB]
addActions:
  - stage: Staging
    actions:
      - name: Smoke
        type: Test/My-Test-Lab/1
        runOrder: 2
        configuration: { Suite: smoke }
        inputArtifacts: [MyApp]
`,
    });
    const result = await cpsync(t, project, ['apply', '--auto-approve']);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /failed: action-type:Test\/My-Test-Lab\/1: the Region already has the maximum of 50 custom action types/);
    assert.match(result.stdout, /skipped: pipeline:PipelineB: it needs action type Test\/My-Test-Lab\/1, which could not be created/);
    assert.match(result.stdout, /Run `cpsync apply` again after fixing the cause/);
    const a = (await t.codepipeline.send(new GetPipelineCommand({ name: 'PipelineA' }))).pipeline;
    assert.deepEqual(a?.stages?.map((stage) => stage.name), ['Source', 'MyBuildStage', 'Staging'], 'the independent pipeline was applied');
    const b = (await t.codepipeline.send(new GetPipelineCommand({ name: 'PipelineB' }))).pipeline;
    assert.equal(b?.version, 1, 'the dependent one was left alone');
  });

  it('warns when a pipeline about to be updated has an execution in progress', async () => {
    t = await startTestEndpoint();
    await createMyFirstPipeline(t);
    const project = makeProject(exampleFiles());
    assert.equal((await cpsync(t, project, ['apply', '--auto-approve'])).code, 0);
    // The new execution waits at the custom build action: nobody runs a worker here.
    await t.codepipeline.send(new StartPipelineExecutionCommand({ name: 'MyFirstPipeline' }));
    const { writeFileSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    writeFileSync(join(project, 'pipelines/MyFirstPipeline.yaml'), readFileSync(join(project, 'pipelines/MyFirstPipeline.yaml'), 'utf8').replace('ProjectName: MyBuildProject', 'ProjectName: Other'));
    let plan = await cpsync(t, project, ['plan']);
    for (let i = 0; i < 20 && !/execution/.test(plan.stdout); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      plan = await cpsync(t, project, ['plan']);
    }
    assert.match(plan.stdout, /1 execution in progress; updating it stops it/);
  });
});
