import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startTestEndpoint, TEST_CREDENTIALS, type TestEndpoint } from '../helpers/endpoint.js';

describe('local endpoint: STS GetCallerIdentity', () => {
  let t: TestEndpoint;
  before(async () => {
    t = await startTestEndpoint({ accountId: '210987654321' });
  });
  after(() => t.close());

  it('tells a signed client its account', async () => {
    const sts = new STSClient({ endpoint: t.endpoint.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Account, '210987654321');
      assert.equal(identity.UserId, TEST_CREDENTIALS.accessKeyId);
    } finally {
      sts.destroy();
    }
  });

  it('refuses an unsigned request', async () => {
    const response = await fetch(t.endpoint.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /MissingAuthenticationToken/);
  });
});
