// Starts a local endpoint for a test and builds real SDK clients pointed at it.

import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { S3Client } from '@aws-sdk/client-s3';
import { startLocalEndpoint, type LocalEndpoint, type LocalEndpointOptions } from '../../src/emulator/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret' };

export interface TestEndpoint {
  readonly endpoint: LocalEndpoint;
  readonly codepipeline: CodePipelineClient;
  readonly s3: S3Client;
  close(): Promise<void>;
}

export async function startTestEndpoint(options: LocalEndpointOptions = {}): Promise<TestEndpoint> {
  const endpoint = await startLocalEndpoint({ port: 0, durable: false, ...options });
  const codepipeline = new CodePipelineClient({ endpoint: endpoint.url, region: endpoint.region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const s3 = new S3Client({ endpoint: endpoint.url, region: endpoint.region, credentials: TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
  return {
    endpoint,
    codepipeline,
    s3,
    async close() {
      codepipeline.destroy();
      s3.destroy();
      await endpoint.close();
    },
  };
}
