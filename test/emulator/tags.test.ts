import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  CreateCustomActionTypeCommand,
  CreatePipelineCommand,
  DeleteCustomActionTypeCommand,
  GetPipelineCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-codepipeline';
import { actionTypeArn } from '../../src/model/action-type.js';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { errorName, myCustomAction, myFirstPipeline, rejection } from './control-plane-fixtures.js';

describe('tags on pipelines and custom action types', () => {
  let t: TestEndpoint;
  let pipelineArn: string;
  let typeArn: string;
  before(async () => {
    t = await startTestEndpoint();
    await t.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline(), tags: [{ key: 'team', value: 'a' }] }));
    pipelineArn = (await t.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }))).metadata!.pipelineArn!;
    await t.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction()));
    typeArn = actionTypeArn(t.endpoint.region, t.endpoint.accountId, { category: 'Build', provider: 'My-Build-Provider-Name', version: '1' });
  });
  after(async () => t.close());

  it('lists the tags given on create, for both resource kinds', async () => {
    assert.deepEqual((await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn }))).tags, [{ key: 'team', value: 'a' }]);
    assert.deepEqual((await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: typeArn }))).tags, [{ key: 'Project', value: 'ProjectA' }]);
  });

  it('TagResource adds and overwrites; UntagResource removes (unknown keys ignored)', async () => {
    const tagged = await t.codepipeline.send(new TagResourceCommand({ resourceArn: pipelineArn, tags: [{ key: 'team', value: 'b' }, { key: 'cost', value: '' }] }));
    assert.equal(tagged.$metadata.httpStatusCode, 200);
    assert.deepEqual((await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn }))).tags, [
      { key: 'team', value: 'b' },
      { key: 'cost', value: '' },
    ]);
    await t.codepipeline.send(new UntagResourceCommand({ resourceArn: pipelineArn, tagKeys: ['team', 'never-there'] }));
    assert.deepEqual((await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn }))).tags, [{ key: 'cost', value: '' }]);

    await t.codepipeline.send(new TagResourceCommand({ resourceArn: typeArn, tags: [{ key: 'owner', value: 'ci' }] }));
    assert.deepEqual((await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: typeArn }))).tags?.map((tag) => tag.key), ['Project', 'owner']);
  });

  it('answers InvalidTagsException for aws: keys and TooManyTagsException past 50', async () => {
    assert.equal(await errorName(t.codepipeline.send(new TagResourceCommand({ resourceArn: pipelineArn, tags: [{ key: 'aws:cloudformation:stack', value: 'x' }] }))), 'InvalidTagsException');
    assert.equal(await errorName(t.codepipeline.send(new UntagResourceCommand({ resourceArn: pipelineArn, tagKeys: ['aws:x'] }))), 'InvalidTagsException');
    const fifty = Array.from({ length: 50 }, (_, index) => ({ key: `k${index}`, value: 'v' }));
    // One tag (cost) already exists: 50 more makes 51.
    const error = await rejection(t.codepipeline.send(new TagResourceCommand({ resourceArn: pipelineArn, tags: fifty })));
    assert.equal(error.name, 'TooManyTagsException');
    assert.equal((await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn }))).tags?.length, 1, 'a refused TagResource changes nothing');
  });

  it('answers InvalidArnException, ResourceNotFoundException and ValidationException for bad ARNs', async () => {
    const invalid = [
      'arn:aws:codepipeline:eu-west-1:123456789012:MyFirstPipeline',
      'arn:aws:codepipeline:us-east-1:999999999999:MyFirstPipeline',
      'arn:aws:codepipeline:us-east-1:123456789012:actiontype:Custom/Build/OnlyTwo',
      'arn:aws:codepipeline:us-east-1:123456789012:has space',
    ];
    for (const resourceArn of invalid) {
      assert.equal(await errorName(t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn }))), 'InvalidArnException', resourceArn);
    }
    assert.equal(await errorName(t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:s3:::bucket' }))), 'ValidationException');
    assert.equal(await errorName(t.codepipeline.send(new TagResourceCommand({ resourceArn: pipelineArn.replace('MyFirstPipeline', 'Nope'), tags: [] }))), 'ResourceNotFoundException');
    assert.equal(
      await errorName(t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: typeArn.replace('/1', '/2') }))),
      'ResourceNotFoundException',
    );
  });

  it('treats a deleted custom type as not found', async () => {
    await t.codepipeline.send(new DeleteCustomActionTypeCommand({ category: 'Build', provider: 'My-Build-Provider-Name', version: '1' }));
    assert.equal(await errorName(t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: typeArn }))), 'ResourceNotFoundException');
  });

  it('pages ListTagsForResource with maxResults and rejects foreign tokens', async () => {
    await t.codepipeline.send(new TagResourceCommand({ resourceArn: pipelineArn, tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] }));
    const first = await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn, maxResults: 2 }));
    assert.equal(first.tags?.length, 2);
    assert.ok(first.nextToken);
    const second = await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn, maxResults: 2, nextToken: first.nextToken }));
    assert.deepEqual(second.tags?.map((tag) => tag.key), ['b']);
    assert.equal(second.nextToken, undefined);
    assert.equal(await errorName(t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn, nextToken: 'bogus' }))), 'InvalidNextTokenException');
  });
});
