import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveClientConfig } from '../../src/aws/client-config.js';

describe('resolveClientConfig', () => {
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'us-west-2',
    AWS_PROFILE: 'env-profile',
    AWS_ENDPOINT_URL: 'http://all:1',
    AWS_ENDPOINT_URL_S3: 'http://s3:2',
  };

  it('uses the standard AWS variables when nothing else is given', () => {
    assert.deepEqual(resolveClientConfig({ name: 'default' }, {}, env), {
      target: 'default',
      region: 'eu-west-1',
      profile: 'env-profile',
      codepipelineEndpoint: 'http://all:1',
      s3Endpoint: 'http://s3:2',
    });
  });

  it('falls back to AWS_DEFAULT_REGION and per-service endpoint variables', () => {
    const config = resolveClientConfig({ name: 'd' }, {}, { AWS_DEFAULT_REGION: 'us-west-2', AWS_ENDPOINT_URL_CODEPIPELINE: 'http://cp:3' });
    assert.equal(config.region, 'us-west-2');
    assert.equal(config.codepipelineEndpoint, 'http://cp:3');
    assert.equal(config.s3Endpoint, undefined);
  });

  it('prefers the target settings over the variables', () => {
    const config = resolveClientConfig({ name: 'prod', region: 'ap-south-1', profile: 'prod', endpointUrl: 'http://target:4', roleArn: 'arn:aws:iam::123456789012:role/deployer' }, {}, env);
    assert.deepEqual(config, {
      target: 'prod',
      region: 'ap-south-1',
      profile: 'prod',
      roleArn: 'arn:aws:iam::123456789012:role/deployer',
      codepipelineEndpoint: 'http://target:4',
      s3Endpoint: 'http://target:4',
    });
  });

  it('lets --region, --profile and --endpoint-url override everything', () => {
    const config = resolveClientConfig({ name: 'prod', region: 'ap-south-1', profile: 'prod', endpointUrl: 'http://target:4' }, { region: 'ca-central-1', profile: 'cli', endpointUrl: 'http://flag:5' }, env);
    assert.equal(config.region, 'ca-central-1');
    assert.equal(config.profile, 'cli');
    assert.equal(config.codepipelineEndpoint, 'http://flag:5');
    assert.equal(config.s3Endpoint, 'http://flag:5');
  });

  it('ignores empty variables', () => {
    const config = resolveClientConfig({ name: 'd' }, {}, { AWS_REGION: '', AWS_DEFAULT_REGION: 'us-east-2' });
    assert.equal(config.region, 'us-east-2');
  });
});
