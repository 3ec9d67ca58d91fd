import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateCustomActionTypeCommand, ListTagsForResourceCommand } from '@aws-sdk/client-codepipeline';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { createMyFirstPipeline, cpsync, exampleFiles, makeProject } from '../helpers/reconcile.js';

describe('cpsync import', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
    await createMyFirstPipeline(t);
    await t.codepipeline.send(
      new CreateCustomActionTypeCommand({
        category: 'Deploy',
        provider: 'Hand-Made',
        version: '3',
        settings: { entityUrlTemplate: 'https://deploy.example/{Config:App}' },
        configurationProperties: [{ name: 'App', required: true, key: true, secret: false, queryable: true, type: 'String', description: 'Application' }],
        inputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
        outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
        tags: [{ key: 'Team', value: 'ops' }],
      }),
    );
  });
  after(() => t.close());

  it('appends hand-made types to actions.yaml, keeping its comments; apply then adopts them', async () => {
    const project = makeProject(exampleFiles());
    const before = readFileSync(join(project, 'actions.yaml'), 'utf8');
    const result = await cpsync(t, project, ['import']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Imported 1 action type into actions\.yaml: Deploy\/Hand-Made\/3/);
    const text = readFileSync(join(project, 'actions.yaml'), 'utf8');
    assert.ok(text.startsWith(before.split('\n').slice(0, 4).join('\n')), 'the header comments are kept');
    assert.match(text, /# Imported by `cpsync import`/);
    assert.match(text, /provider: Hand-Made\n\s+version: "3"/);
    assert.match(text, /Team: ops/);

    assert.equal((await cpsync(t, project, ['validate'])).code, 0);
    const plan = await cpsync(t, project, ['plan']);
    assert.match(plan.stdout, /action-type:Deploy\/Hand-Made\/3/);
    assert.match(plan.stdout, /adopted/);
    const applied = await cpsync(t, project, ['apply', '--auto-approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const tags = await t.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:codepipeline:us-east-1:123456789012:actiontype:Custom/Deploy/Hand-Made/3' }));
    assert.deepEqual(tags.tags?.map((tag) => tag.key).sort(), ['Team', 'cpsync:managed']);
    const again = await cpsync(t, project, ['import']);
    assert.match(again.stdout, /Nothing to import/);
  });

  it('names the types there are when asked for one that does not exist', async () => {
    const project = makeProject(exampleFiles());
    const result = await cpsync(t, project, ['import', '--type', 'Build/Nope/1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /there is no custom action type Build\/Nope\/1 in us-east-1/);
  });
});
