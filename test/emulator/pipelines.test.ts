import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  CreateCustomActionTypeCommand,
  CreatePipelineCommand,
  DeleteCustomActionTypeCommand,
  DeletePipelineCommand,
  GetPipelineCommand,
  ListPipelinesCommand,
  UpdatePipelineCommand,
  type PipelineDeclaration,
} from '@aws-sdk/client-codepipeline';
import { startTestEndpoint, TEST_CREDENTIALS, type TestEndpoint } from '../helpers/endpoint.js';
import { errorName, myCustomAction, myFirstPipeline, rejection, ROLE_ARN, withMyBuildStage } from './control-plane-fixtures.js';

/** A raw signed-looking JSON call, for what the SDK cannot send (unknown members, wrong types). */
async function rawCall(t: TestEndpoint, operation: string, body: unknown, signed = true): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(t.endpoint.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `CodePipeline_20150709.${operation}`,
      ...(signed
        ? {
            authorization: `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20250101/us-east-1/codepipeline/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
            'x-amz-date': '20250101T000000Z',
          }
        : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('pipelines: the AWS guide flow', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
  });
  after(async () => t.close());

  it('creates MyFirstPipeline as version 1 and returns it with tags', async () => {
    const out = await t.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline(), tags: [{ key: 'team', value: 'a' }] }));
    assert.equal(out.pipeline?.version, 1);
    assert.equal(out.pipeline?.stages?.[1]?.name, 'Staging');
    assert.deepEqual(out.tags, [{ key: 'team', value: 'a' }]);
  });

  it('GetPipeline returns the declaration and metadata {pipelineArn, created, updated} as dates', async () => {
    const out = await t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }));
    assert.equal(out.pipeline?.version, 1);
    assert.equal(out.metadata?.pipelineArn, 'arn:aws:codepipeline:us-east-1:123456789012:MyFirstPipeline');
    assert.ok(out.metadata?.created instanceof Date);
    assert.ok(Math.abs((out.metadata?.created?.getTime() ?? 0) - Date.now()) < 60_000);
    assert.deepEqual(out.pipeline?.stages?.[0]?.actions?.[0]?.outputArtifacts, [{ name: 'MyApp' }]);
  });

  it('refuses the guide step 4 edit while the custom type does not exist, with the AWS message', async () => {
    const error = await rejection(t.codepipeline.send(new UpdatePipelineCommand({ pipeline: withMyBuildStage(myFirstPipeline()) })));
    assert.equal(error.name, 'InvalidActionDeclarationException');
    assert.equal(error.message, "ActionType (Category: 'Build', Provider: 'My-Build-Provider-Name', Owner: 'Custom', Version: '1') in action 'MyBuildCustomAction' is not available");
  });

  it('accepts MyBuildStage once MyCustomAction exists: version 2, whole structure replaced', async () => {
    await t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction()));
    const current = await t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }));
    const updated = await t.codepipeline.send(new UpdatePipelineCommand({ pipeline: withMyBuildStage(current.pipeline!) }));
    assert.equal(updated.pipeline?.version, 2);
    assert.deepEqual(updated.pipeline?.stages?.map((stage) => stage.name), ['Source', 'MyBuildStage', 'Staging']);
    const again = await t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }));
    assert.equal(again.pipeline?.version, 2);
    assert.deepEqual(again.pipeline?.stages?.[2]?.actions?.[0]?.inputArtifacts, [{ name: 'MyBuiltApp' }]);
    assert.ok((again.metadata?.updated?.getTime() ?? 0) >= (again.metadata?.created?.getTime() ?? Infinity));
  });

  it('keeps old versions readable and answers PipelineVersionNotFoundException for unknown ones', async () => {
    const v1 = await t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline', version: 1 }));
    assert.equal(v1.pipeline?.version, 1);
    assert.equal(v1.pipeline?.stages?.length, 2);
    assert.equal(await errorName(t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline', version: 7 }))), 'PipelineVersionNotFoundException');
  });

  it('refuses a pipeline using a deleted custom type', async () => {
    await t.codepipeline.send(new DeleteCustomActionTypeCommand({ category: 'Build', provider: 'My-Build-Provider-Name', version: '1' }));
    const current = await t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }));
    const error = await rejection(t.codepipeline.send(new UpdatePipelineCommand({ pipeline: current.pipeline! })));
    assert.equal(error.name, 'InvalidActionDeclarationException');
    assert.match(error.message, /is not available$/);
  });

  it('answers PipelineNameInUseException, PipelineNotFoundException and LimitExceeded-free deletes', async () => {
    assert.equal(await errorName(t.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline() }))), 'PipelineNameInUseException');
    assert.equal(await errorName(t.codepipeline.send(new GetPipelineCommand({ name: 'Nope' }))), 'PipelineNotFoundException');
    assert.equal(await errorName(t.codepipeline.send(new UpdatePipelineCommand({ pipeline: myFirstPipeline({ name: 'Nope' }) }))), 'PipelineNotFoundException');
    await t.codepipeline.send(new DeletePipelineCommand({ name: 'MyFirstPipeline' }));
    assert.equal(await errorName(t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }))), 'PipelineNotFoundException');
    // Deleting an unknown pipeline succeeds (the model lists no not-found error for it).
    const again = await t.codepipeline.send(new DeletePipelineCommand({ name: 'MyFirstPipeline' }));
    assert.equal(again.$metadata.httpStatusCode, 200);
  });

  it('answers GetPipeline from the pipeline as it is now after a delete and a re-create under the same name', async () => {
    // GetPipeline answers are cached per stored pipeline: a new incarnation must not see the old one's.
    await t.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline({ name: 'Reborn' }) }));
    const first = await t.codepipeline.send(new GetPipelineCommand({ name: 'Reborn' }));
    assert.equal(first.pipeline?.artifactStore?.location, 'codepipeline-us-east-1-1234567890');
    await t.codepipeline.send(new DeletePipelineCommand({ name: 'Reborn' }));
    await t.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline({ name: 'Reborn', artifactStore: { type: 'S3', location: 'another-artifact-bucket' } }) }));
    const second = await t.codepipeline.send(new GetPipelineCommand({ name: 'Reborn' }));
    assert.equal(second.pipeline?.artifactStore?.location, 'another-artifact-bucket');
    assert.equal(second.pipeline?.version, 1);
    assert.equal((await t.codepipeline.send(new GetPipelineCommand({ name: 'Reborn', version: 1 }))).pipeline?.artifactStore?.location, 'another-artifact-bucket');
  });
});

describe('pipelines: structure rules map to AWS exceptions', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
  });
  after(async () => t.close());

  const cases: { name: string; pipeline: () => PipelineDeclaration; error: string; message: RegExp }[] = [
    {
      name: 'one stage',
      pipeline: () => myFirstPipeline({ stages: myFirstPipeline().stages!.slice(0, 1) }),
      error: 'InvalidStructureException',
      message: /Pipeline has only 1 stage\(s\)\. There should be a minimum of 2 stages in a pipeline/,
    },
    {
      name: 'a Source action outside the first stage',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages![1]!.actions!.push({ name: 'Src2', actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' }, outputArtifacts: [{ name: 'Other' }], configuration: { S3Bucket: 'b', S3ObjectKey: 'k' } });
        return p;
      },
      error: 'InvalidStructureException',
      message: /Source actions may only appear in the first stage/,
    },
    {
      name: 'duplicate stage names',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages!.push({ ...p.stages![1]!, actions: [{ ...p.stages![1]!.actions![0]!, name: 'Other' }] });
        return p;
      },
      error: 'InvalidStructureException',
      message: /Stage name 'Staging' is used by more than one stage/,
    },
    {
      name: 'duplicate action names in a stage',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages![1]!.actions!.push({ ...p.stages![1]!.actions![0]!, runOrder: 2 });
        return p;
      },
      error: 'InvalidStageDeclarationException',
      message: /Action name 'Deploy-CodeDeploy-Application' is used more than once in stage 'Staging'/,
    },
    {
      name: 'an input artifact nobody produced',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages![1]!.actions![0]!.inputArtifacts = [{ name: 'Ghost' }];
        return p;
      },
      error: 'InvalidStructureException',
      message: /Input artifact 'Ghost' of action 'Deploy-CodeDeploy-Application' in stage 'Staging' is not the output artifact of any action that runs before it/,
    },
    {
      name: 'a missing required configuration key',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages![1]!.actions![0]!.configuration = { ApplicationName: 'x' };
        return p;
      },
      error: 'InvalidActionDeclarationException',
      message: /missing required configuration 'DeploymentGroupName'/,
    },
    {
      name: 'an unknown configuration key',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages![1]!.actions![0]!.configuration = { ...p.stages![1]!.actions![0]!.configuration, Colour: 'blue' };
        return p;
      },
      error: 'InvalidActionDeclarationException',
      message: /Configuration key 'Colour'/,
    },
    {
      name: 'too many output artifacts for the type',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages![1]!.actions![0]!.outputArtifacts = [{ name: 'Extra' }];
        return p;
      },
      error: 'InvalidActionDeclarationException',
      message: /has 1 output artifact\(s\); its action type AWS\/Deploy\/CodeDeploy\/1 allows exactly 0/,
    },
    {
      name: 'both artifactStore and artifactStores',
      pipeline: () => myFirstPipeline({ artifactStores: { 'us-east-1': { type: 'S3', location: 'bucket-one' } } }),
      error: 'InvalidStructureException',
      message: /both artifactStore and artifactStores/,
    },
    {
      name: 'neither artifactStore nor artifactStores',
      pipeline: () => myFirstPipeline({ artifactStore: undefined }),
      error: 'InvalidStructureException',
      message: /neither artifactStore nor artifactStores/,
    },
    {
      name: 'a runOrder of 1000',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages![1]!.actions![0]!.runOrder = 1000;
        return p;
      },
      error: 'ValidationException',
      message: /Value '1000' at 'pipeline.stages.2.member.actions.1.member.runOrder' failed to satisfy constraint: Member must have value less than or equal to 999/,
    },
    {
      name: 'an empty configuration value',
      pipeline: () => {
        const p = myFirstPipeline();
        p.stages![1]!.actions![0]!.configuration = { ApplicationName: '', DeploymentGroupName: 'g' };
        return p;
      },
      error: 'ValidationException',
      message: /at 'pipeline.stages.2.member.actions.1.member.configuration.ApplicationName' failed to satisfy constraint: Member must have length greater than or equal to 1/,
    },
    {
      name: 'a bad roleArn',
      pipeline: () => myFirstPipeline({ roleArn: 'arn:aws:iam::12:role/x' }),
      error: 'ValidationException',
      message: /^1 validation error detected: Value 'arn:aws:iam::12:role\/x' at 'pipeline.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    },
    {
      name: 'a bad pipeline name',
      pipeline: () => myFirstPipeline({ name: 'my pipeline' }),
      error: 'ValidationException',
      message: /Value 'my pipeline' at 'pipeline.name' failed to satisfy constraint: Member must satisfy regular expression pattern: \^\[A-Za-z0-9.@\\-_\]\+\$/,
    },
    {
      name: 'a V2 feature on a V1 pipeline',
      pipeline: () => myFirstPipeline({ pipelineType: 'V1', variables: [{ name: 'env', defaultValue: 'dev' }] }),
      error: 'InvalidStructureException',
      message: /variables can only be used with V2 pipelines/,
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.error}`, async () => {
      const pipeline = testCase.pipeline();
      if (pipeline.name === 'MyFirstPipeline') pipeline.name = `p-${cases.indexOf(testCase)}`;
      const error = await rejection(t.codepipeline.send(new CreatePipelineCommand({ pipeline })));
      assert.equal(error.name, testCase.error);
      assert.equal(error.$metadata?.httpStatusCode, 400);
      assert.match(error.message, testCase.message);
    });
  }

  it('refuses a custom action that is cross-Region and a queryable value over 20 characters', async () => {
    await t.codepipeline.send(
      new CreateCustomActionTypeCommand(
        myCustomAction({ configurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: false, queryable: true }], tags: undefined }),
      ),
    );
    const crossRegion = withMyBuildStage(myFirstPipeline({ name: 'cross' }));
    crossRegion.stages![1]!.actions![0]!.region = 'eu-west-1';
    const error = await rejection(t.codepipeline.send(new CreatePipelineCommand({ pipeline: crossRegion })));
    assert.equal(error.name, 'InvalidActionDeclarationException');
    assert.match(error.message, /custom action and cannot be cross-Region/);

    const longValue = withMyBuildStage(myFirstPipeline({ name: 'queryable' }));
    longValue.stages![1]!.actions![0]!.configuration = { ProjectName: 'a'.repeat(21) };
    const queryable = await rejection(t.codepipeline.send(new CreatePipelineCommand({ pipeline: longValue })));
    assert.equal(queryable.name, 'InvalidActionDeclarationException');
    assert.match(queryable.message, /Queryable configuration value of ProjectName/);

    const ok = withMyBuildStage(myFirstPipeline({ name: 'queryable-ok' }));
    ok.stages![1]!.actions![0]!.configuration = { ProjectName: 'a'.repeat(20) };
    assert.equal((await t.codepipeline.send(new CreatePipelineCommand({ pipeline: ok }))).pipeline?.version, 1);
  });

  it('leaves nothing behind after a refused create', async () => {
    const list = await t.codepipeline.send(new ListPipelinesCommand({}));
    assert.deepEqual(list.pipelines?.map((p) => p.name), ['queryable-ok']);
  });
});

describe('pipelines: secrets, unknown members, listing', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
    await t.codepipeline.send(
      new CreateCustomActionTypeCommand(
        myCustomAction({
          configurationProperties: [
            { name: 'ProjectName', required: true, key: true, secret: false },
            { name: 'ApiToken', required: true, key: false, secret: true },
          ],
          tags: undefined,
        }),
      ),
    );
  });
  after(async () => t.close());

  const secretPipeline = (token: string, stageName = 'MyBuildStage') => {
    const p = withMyBuildStage(myFirstPipeline({ name: 'secrets' }));
    p.stages![1]!.name = stageName;
    p.stages![1]!.actions![0]!.configuration = { ProjectName: 'MyBuildProject', ApiToken: token };
    return p;
  };
  const tokenOf = (p: PipelineDeclaration | undefined) => p?.stages?.[1]?.actions?.[0]?.configuration?.ApiToken;

  it('masks secret values as **** in create, get (current and historic) and update answers, and keeps them with ****', async () => {
    const created = await t.codepipeline.send(new CreatePipelineCommand({ pipeline: secretPipeline('s3cr3t-v1') }));
    assert.equal(tokenOf(created.pipeline), '****');
    const got = await t.codepipeline.send(new GetPipelineCommand({ name: 'secrets' }));
    assert.equal(tokenOf(got.pipeline), '****');
    assert.equal(got.pipeline?.stages?.[1]?.actions?.[0]?.configuration?.ProjectName, 'MyBuildProject');

    // Round trip: send the masked pipeline back unchanged → the stored secret is kept.
    const updated = await t.codepipeline.send(new UpdatePipelineCommand({ pipeline: got.pipeline! }));
    assert.equal(tokenOf(updated.pipeline), '****');
    const stored = t.endpoint.context.store.get<{ versions: { declaration: PipelineDeclaration }[] }>('pipelines', 'secrets');
    assert.equal(tokenOf(stored?.versions[1]?.declaration), 's3cr3t-v1');

    // A new value replaces it; the old version still answers masked.
    await t.codepipeline.send(new UpdatePipelineCommand({ pipeline: secretPipeline('s3cr3t-v3') }));
    const stored3 = t.endpoint.context.store.get<{ versions: { declaration: PipelineDeclaration }[] }>('pipelines', 'secrets');
    assert.equal(tokenOf(stored3?.versions[2]?.declaration), 's3cr3t-v3');
    const v1 = await t.codepipeline.send(new GetPipelineCommand({ name: 'secrets', version: 1 }));
    assert.equal(tokenOf(v1.pipeline), '****');
  });

  it('refuses **** when the stage was renamed (no stored value to keep) and on create', async () => {
    const renamed = await rejection(t.codepipeline.send(new UpdatePipelineCommand({ pipeline: secretPipeline('****', 'RenamedStage') })));
    assert.equal(renamed.name, 'InvalidActionDeclarationException');
    assert.match(renamed.message, /Secret configuration 'ApiToken' of action 'MyBuildCustomAction' in stage 'RenamedStage' is the mask/);
    const created = await rejection(t.codepipeline.send(new CreatePipelineCommand({ pipeline: { ...secretPipeline('****'), name: 'secrets-2' } })));
    assert.equal(created.name, 'InvalidActionDeclarationException');
  });

  it('masks the partner type GitHub OAuthToken', async () => {
    const p = myFirstPipeline({ name: 'github' });
    p.stages![0]!.actions![0] = {
      name: 'Source',
      actionTypeId: { category: 'Source', owner: 'ThirdParty', provider: 'GitHub', version: '1' },
      outputArtifacts: [{ name: 'MyApp' }],
      configuration: { Owner: 'o', Repo: 'r', Branch: 'main', OAuthToken: 'ghp_secret' },
    };
    await t.codepipeline.send(new CreatePipelineCommand({ pipeline: p }));
    const got = await t.codepipeline.send(new GetPipelineCommand({ name: 'github' }));
    assert.equal(got.pipeline?.stages?.[0]?.actions?.[0]?.configuration?.OAuthToken, '****');
  });

  it('keeps members it does not know, byte for byte, through GetPipeline and UpdatePipeline', async () => {
    const pipeline = { ...myFirstPipeline({ name: 'unknown-fields' }), futureFeature: { nested: [1, 'two', { three: true }] } } as Record<string, unknown>;
    (pipeline.stages as Record<string, unknown>[])[1]!.stageExtra = 'kept';
    ((pipeline.stages as { actions: Record<string, unknown>[] }[])[1]!.actions[0] as Record<string, unknown>).actionExtra = { x: 1 };
    const created = await rawCall(t, 'CreatePipeline', { pipeline });
    assert.equal(created.status, 200);
    const got = await rawCall(t, 'GetPipeline', { name: 'unknown-fields' });
    const expected = { ...pipeline, version: 1 };
    assert.equal(JSON.stringify(got.body.pipeline), JSON.stringify(expected));
    const updated = await rawCall(t, 'UpdatePipeline', { pipeline: got.body.pipeline });
    assert.equal(updated.status, 200);
    assert.equal(JSON.stringify(updated.body.pipeline), JSON.stringify({ ...pipeline, version: 2 }));
  });

  it('answers a wrong JSON type with SerializationException and an unsigned request with MissingAuthenticationTokenException', async () => {
    const wrongType = await rawCall(t, 'GetPipeline', { name: 42 });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.__type, 'SerializationException');
    const unsigned = await rawCall(t, 'ListPipelines', {}, false);
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.body.__type, 'MissingAuthenticationTokenException');
  });

  it('lists pipelines by name with maxResults and nextToken, and refuses bad arguments', async () => {
    for (const name of ['a-1', 'a-2', 'a-3']) await t.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline({ name, pipelineType: 'V2', executionMode: 'QUEUED' }) }));
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await t.codepipeline.send(new ListPipelinesCommand({ maxResults: 2, nextToken }));
      assert.ok((page.pipelines?.length ?? 0) <= 2);
      names.push(...(page.pipelines ?? []).map((p) => p.name as string));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.deepEqual(names, ['a-1', 'a-2', 'a-3', 'github', 'secrets', 'unknown-fields']);
    assert.equal(pages, 3);
    const first = (await t.codepipeline.send(new ListPipelinesCommand({}))).pipelines?.[0];
    assert.equal(first?.pipelineType, 'V2');
    assert.equal(first?.executionMode, 'QUEUED');
    assert.ok(first?.created instanceof Date);
    assert.equal(await errorName(t.codepipeline.send(new ListPipelinesCommand({ maxResults: 1001 }))), 'ValidationException');
    assert.equal(await errorName(t.codepipeline.send(new ListPipelinesCommand({ nextToken: 'garbage' }))), 'InvalidNextTokenException');
  });

  it('checks the role ARN pattern of actions too', async () => {
    const p = myFirstPipeline({ name: 'role' });
    p.stages![1]!.actions![0]!.roleArn = ROLE_ARN.replace('iam', 'sts');
    assert.equal(await errorName(t.codepipeline.send(new CreatePipelineCommand({ pipeline: p }))), 'ValidationException');
  });
});
