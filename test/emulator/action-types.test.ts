import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  CreateCustomActionTypeCommand,
  DeleteCustomActionTypeCommand,
  ListActionTypesCommand,
  type ActionType,
} from '@aws-sdk/client-codepipeline';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { errorName, myCustomAction, rejection } from './control-plane-fixtures.js';

async function listAll(t: TestEndpoint, filter: { actionOwnerFilter?: 'AWS' | 'Custom' | 'ThirdParty'; regionFilter?: string } = {}): Promise<{ types: ActionType[]; pages: number }> {
  const types: ActionType[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await t.codepipeline.send(new ListActionTypesCommand({ ...filter, nextToken }));
    types.push(...(page.actionTypes ?? []));
    nextToken = page.nextToken;
    pages++;
  } while (nextToken);
  return { types, pages };
}

describe('custom action types', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
  });
  after(async () => t.close());

  it('creates the guide MyCustomAction.json and answers as the guide shows (owner Custom, actionConfigurationProperties)', async () => {
    const out = await t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction()));
    assert.deepEqual(out.actionType?.id, { category: 'Build', owner: 'Custom', provider: 'My-Build-Provider-Name', version: '1' });
    assert.equal(out.actionType?.actionConfigurationProperties?.[0]?.name, 'ProjectName');
    assert.equal(out.actionType?.actionConfigurationProperties?.[0]?.required, true);
    assert.deepEqual(out.actionType?.inputArtifactDetails, { minimumCount: 1, maximumCount: 1 });
    assert.equal(out.actionType?.settings?.entityUrlTemplate, 'https://my-build-instance/job/{Config:ProjectName}/');
    assert.deepEqual(out.tags, [{ key: 'Project', value: 'ProjectA' }]);
    assert.equal((out.actionType as unknown as Record<string, unknown>).configurationProperties, undefined);
  });

  it('lists custom types with actionOwnerFilter Custom and the built-in catalogue for AWS', async () => {
    const custom = await listAll(t, { actionOwnerFilter: 'Custom' });
    assert.deepEqual(custom.types.map((type) => type.id?.provider), ['My-Build-Provider-Name']);
    const aws = await listAll(t, { actionOwnerFilter: 'AWS' });
    assert.ok(aws.types.some((type) => type.id?.provider === 'CodeDeploy' && type.id.category === 'Deploy'));
    assert.ok(aws.types.every((type) => type.id?.owner === 'AWS'));
    const thirdParty = await listAll(t, { actionOwnerFilter: 'ThirdParty' });
    assert.deepEqual(thirdParty.types.map((type) => type.id?.provider), ['GitHub']);
    const all = await listAll(t);
    assert.equal(all.types.length, custom.types.length + aws.types.length + thirdParty.types.length);
  });

  it('answers an empty list for another Region in regionFilter', async () => {
    const other = await listAll(t, { regionFilter: 'eu-west-1' });
    assert.equal(other.types.length, 0);
    const same = await listAll(t, { regionFilter: t.endpoint.region, actionOwnerFilter: 'Custom' });
    assert.equal(same.types.length, 1);
  });

  it('refuses to create a live type again, even with the identical definition', async () => {
    const error = await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction())));
    assert.equal(error.name, 'ValidationException');
    assert.match(error.message, /already exists/);
  });

  it('delete marks the type deleted: not listed, burned for other definitions, restored by the identical one', async () => {
    const id = { category: 'Build' as const, provider: 'My-Build-Provider-Name', version: '1' };
    const deleted = await t.codepipeline.send(new DeleteCustomActionTypeCommand(id));
    assert.equal(deleted.$metadata.httpStatusCode, 200);
    assert.equal((await listAll(t, { actionOwnerFilter: 'Custom' })).types.length, 0);

    assert.equal(await errorName(t.codepipeline.send(new DeleteCustomActionTypeCommand(id))), 'ValidationException');

    const different = myCustomAction({ outputArtifactDetails: { minimumCount: 0, maximumCount: 2 } });
    const error = await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(different)));
    assert.equal(error.name, 'ValidationException');
    assert.match(error.message, /cannot be reused/);

    // Identical definition (queryable omitted is the same as false): restored.
    const identical = myCustomAction();
    identical.configurationProperties = identical.configurationProperties!.map(({ queryable: _q, ...rest }) => rest);
    await t.codepipeline.send(new CreateCustomActionTypeCommand(identical));
    assert.deepEqual((await listAll(t, { actionOwnerFilter: 'Custom' })).types.map((type) => type.id?.version), ['1']);
  });

  it('deleting a type that never existed is a ValidationException', async () => {
    assert.equal(await errorName(t.codepipeline.send(new DeleteCustomActionTypeCommand({ category: 'Test', provider: 'Nope', version: '9' }))), 'ValidationException');
  });

  it('reports missing, malformed and out-of-range members in AWS words, all at once', async () => {
    const request = myCustomAction({ provider: 'has space', version: '1234567890' }) as unknown as Record<string, unknown>;
    delete request.inputArtifactDetails;
    const error = await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(request as never)));
    assert.equal(error.name, 'ValidationException');
    assert.match(error.message, /^3 validation errors detected: /);
    assert.match(error.message, /Value 'has space' at 'provider' failed to satisfy constraint: Member must satisfy regular expression pattern: \^\[0-9A-Za-z_-\]\+\$/);
    assert.match(error.message, /Value '1234567890' at 'version' failed to satisfy constraint: Member must have length less than or equal to 9/);
    assert.match(error.message, /Value null at 'inputArtifactDetails' failed to satisfy constraint: Member must not be null/);
  });

  it('checks enums, counts and list members with member paths', async () => {
    const badCategory = await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ category: 'Banana' as never, version: 'x1' }))));
    assert.match(badCategory.message, /Value 'Banana' at 'category' failed to satisfy constraint: Member must satisfy enum value set: \[Source, Build, Deploy, Test, Invoke, Approval, Compute\]/);
    const badCount = await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ version: 'x2', outputArtifactDetails: { minimumCount: 0, maximumCount: 6 } }))));
    assert.match(badCount.message, /at 'outputArtifactDetails.maximumCount' failed to satisfy constraint: Member must have value less than or equal to 5/);
    const missingFlag = myCustomAction({ version: 'x3' });
    delete (missingFlag.configurationProperties![0] as unknown as Record<string, unknown>).secret;
    const flag = await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(missingFlag)));
    assert.match(flag.message, /Value null at 'configurationProperties.1.member.secret' failed to satisfy constraint: Member must not be null/);
  });

  it('applies the action type rules: queryable must be required, URL templates only use required non-secret properties', async () => {
    const queryable = myCustomAction({
      version: 'q1',
      configurationProperties: [{ name: 'ProjectName', required: false, key: true, secret: false, queryable: true }],
      settings: {},
    });
    const error = await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(queryable)));
    assert.equal(error.name, 'ValidationException');
    assert.match(error.message, /queryable property "ProjectName" must be required/);

    const secretInUrl = myCustomAction({ version: 'q2', configurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: true }] });
    assert.match((await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(secretInUrl)))).message, /secret/);

    const minOverMax = myCustomAction({ version: 'q3', inputArtifactDetails: { minimumCount: 2, maximumCount: 1 } });
    assert.match((await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(minOverMax)))).message, /greater than maximumCount/);
  });

  it('refuses the Compute category for custom types', async () => {
    assert.equal(await errorName(t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ category: 'Compute', version: 'c1' })))), 'ValidationException');
  });

  it('checks tags on create: aws: prefix is InvalidTagsException, more than 50 is TooManyTagsException', async () => {
    assert.equal(await errorName(t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ version: 't1', tags: [{ key: 'aws:owner', value: 'x' }] })))), 'InvalidTagsException');
    const many = Array.from({ length: 51 }, (_, index) => ({ key: `k${index}`, value: 'v' }));
    assert.equal(await errorName(t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ version: 't2', tags: many })))), 'TooManyTagsException');
    assert.equal((await listAll(t, { actionOwnerFilter: 'Custom' })).types.length, 1, 'failed creates leave nothing behind');
  });
});

describe('ListActionTypes pagination and the quota of 50', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
  });
  after(async () => t.close());

  it('pages with nextToken and rejects a token it did not issue', async () => {
    for (let index = 0; index < 25; index++) {
      await t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ provider: `Prov-${String(index).padStart(2, '0')}`, tags: undefined })));
    }
    const { types, pages } = await listAll(t, { actionOwnerFilter: 'Custom' });
    assert.equal(types.length, 25);
    assert.equal(pages, 2);
    assert.equal(new Set(types.map((type) => type.id?.provider)).size, 25, 'no duplicates across pages');
    assert.equal(await errorName(t.codepipeline.send(new ListActionTypesCommand({ nextToken: 'not-a-token' }))), 'InvalidNextTokenException');
  });

  it('counts deleted types toward the 50 custom types per Region', async () => {
    for (let index = 25; index < 50; index++) {
      await t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ provider: `Prov-${String(index).padStart(2, '0')}`, tags: undefined })));
    }
    await t.codepipeline.send(new DeleteCustomActionTypeCommand({ category: 'Build', provider: 'Prov-00', version: '1' }));
    const error = await rejection(t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ provider: 'Prov-50' }))));
    assert.equal(error.name, 'LimitExceededException');
    assert.equal(error.$metadata?.httpStatusCode, 400);
    // Restoring the deleted one adds no record, so it is still allowed.
    await t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ provider: 'Prov-00', tags: undefined })));
    assert.equal((await listAll(t, { actionOwnerFilter: 'Custom' })).types.length, 50);
  });
});
