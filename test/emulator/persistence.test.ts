import { strict as assert } from 'node:assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CreateCustomActionTypeCommand,
  CreatePipelineCommand,
  DeleteCustomActionTypeCommand,
  GetPipelineCommand,
  ListActionTypesCommand,
  ListPipelinesCommand,
  ListTagsForResourceCommand,
  UpdatePipelineCommand,
} from '@aws-sdk/client-codepipeline';
import { startTestEndpoint } from '../helpers/endpoint.js';
import { errorName, myCustomAction, myFirstPipeline, withMyBuildStage } from './control-plane-fixtures.js';

describe('control-plane state survives a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cpsync-persist-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const journal = join(dataDir, 'state', 'journal.jsonl');

  it('keeps types (deleted ones too), pipeline versions and tags', async () => {
    const first = await startTestEndpoint({ dataDir, durable: true });
    await first.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction()));
    await first.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ version: '2' })));
    await first.codepipeline.send(new DeleteCustomActionTypeCommand({ category: 'Build', provider: 'My-Build-Provider-Name', version: '2' }));
    await first.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline(), tags: [{ key: 'team', value: 'a' }] }));
    await first.codepipeline.send(new UpdatePipelineCommand({ pipeline: withMyBuildStage(myFirstPipeline()) }));
    await first.close();

    const second = await startTestEndpoint({ dataDir });
    try {
      const got = await second.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }));
      assert.equal(got.pipeline?.version, 2);
      assert.equal(got.pipeline?.stages?.[1]?.name, 'MyBuildStage');
      assert.equal((await second.codepipeline.send(new GetPipelineCommand({ name: 'MyFirstPipeline', version: 1 }))).pipeline?.stages?.length, 2);
      const tags = await second.codepipeline.send(new ListTagsForResourceCommand({ resourceArn: got.metadata!.pipelineArn! }));
      assert.deepEqual(tags.tags, [{ key: 'team', value: 'a' }]);
      const custom = await second.codepipeline.send(new ListActionTypesCommand({ actionOwnerFilter: 'Custom' }));
      assert.deepEqual(custom.actionTypes?.map((type) => type.id?.version), ['1']);
      // Version 2 is still burned after the restart.
      assert.equal(await errorName(second.codepipeline.send(new CreateCustomActionTypeCommand(myCustomAction({ version: '2', inputArtifactDetails: { minimumCount: 0, maximumCount: 0 } })))), 'ValidationException');
    } finally {
      await second.close();
    }
  });

  it('ignores a torn last journal line, and keeps writes made after it', async () => {
    const before = readFileSync(journal, 'utf8');
    appendFileSync(journal, '[{"table":"pipelines","key":"Torn","value":{"na');
    const third = await startTestEndpoint({ dataDir });
    try {
      const names = (await third.codepipeline.send(new ListPipelinesCommand({}))).pipelines?.map((p) => p.name);
      assert.deepEqual(names, ['MyFirstPipeline']);
      assert.equal(readFileSync(journal, 'utf8'), before, 'the torn tail is cut off');
      await third.codepipeline.send(new CreatePipelineCommand({ pipeline: myFirstPipeline({ name: 'AfterTear' }) }));
    } finally {
      await third.close();
    }
    const fourth = await startTestEndpoint({ dataDir });
    try {
      const names = (await fourth.codepipeline.send(new ListPipelinesCommand({}))).pipelines?.map((p) => p.name);
      assert.deepEqual(names, ['AfterTear', 'MyFirstPipeline']);
    } finally {
      await fourth.close();
    }
  });

  it('starts empty with reset', async () => {
    const fresh = await startTestEndpoint({ dataDir, reset: true });
    try {
      assert.deepEqual((await fresh.codepipeline.send(new ListPipelinesCommand({}))).pipelines, []);
    } finally {
      await fresh.close();
    }
  });
});
