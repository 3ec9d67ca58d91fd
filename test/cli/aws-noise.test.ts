import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestEndpoint, TEST_CREDENTIALS, type TestEndpoint } from '../helpers/endpoint.js';
import { runCli } from '../helpers/cli.js';
import { createMyFirstPipeline, exampleFiles, makeProject } from '../helpers/reconcile.js';

describe('commands that load the AWS SDK', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint();
    await createMyFirstPipeline(t);
  });
  after(() => t.close());

  it('print no SDK warnings or other noise on stderr (the SDK warns about Node 20 by default)', async () => {
    const project = makeProject(exampleFiles());
    const result = await runCli(['plan', '--detailed-exitcode'], {
      cwd: project,
      env: {
        AWS_ENDPOINT_URL: t.endpoint.url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '',
      },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /Plan: 3 to create, 1 to update, 0 to delete\./);
  });
});
