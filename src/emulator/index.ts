// `startLocalEndpoint()`: the programmatic entry of `cpsync local`, used by tests and the demo.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactStoreBuckets } from './codepipeline/artifact-stores.js';
import { controlPlaneOperations } from './codepipeline/control-plane-operations.js';
import { findIssuedCredential } from './codepipeline/credentials.js';
import { startEngine } from './codepipeline/engine.js';
import { executionOperations } from './codepipeline/execution-operations.js';
import type { EmulatorContext, LocalEndpointOptions } from './context.js';
import { createS3Backend } from './s3/handler.js';
import { createHttpServer, listen, type Operation } from './server.js';
import { Store } from './store.js';
import { seededRandom } from '../util/random.js';

export type { LocalEndpointOptions, FaultRule } from './context.js';

export interface LocalEndpoint {
  /** Base URL for both CodePipeline and S3 (path style), e.g. http://127.0.0.1:4599. */
  readonly url: string;
  readonly region: string;
  readonly accountId: string;
  /** The shared state, for tests that need to look behind the API. */
  readonly context: EmulatorContext;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 4599;
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ACCOUNT_ID = '123456789012';

export async function startLocalEndpoint(options: LocalEndpointOptions = {}): Promise<LocalEndpoint> {
  const temporary = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'cpsync-local-'));
  const dataDir = options.dataDir ?? (temporary as string);
  const store = new Store({ dir: options.dataDir ? join(dataDir, 'state') : undefined, reset: options.reset, durable: options.durable });
  if (options.reset && options.dataDir) rmSync(join(dataDir, 's3'), { recursive: true, force: true });

  let context!: EmulatorContext;
  const s3 = createS3Backend(() => context, join(dataDir, 's3'));
  context = {
    store,
    region: options.region ?? DEFAULT_REGION,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    options: {
      dispatchTimeoutMs: 30_000,
      actionTimeoutMs: 60 * 60 * 1000,
      credentialLifetimeMs: 15 * 60 * 1000,
      ...options,
    },
    now: () => Date.now(),
    findCredential: (accessKeyId) => findIssuedCredential(context, accessKeyId),
    isArtifactStoreBucket: (bucket) => artifactStoreBuckets(store).has(bucket),
    objects: s3.objects,
  };

  const operations = new Map<string, Operation>([...Object.entries(controlPlaneOperations), ...Object.entries(executionOperations)]);
  const server = createHttpServer({ context, operations, s3: s3.handler, faults: options.faults ?? [], random: seededRandom(options.seed ?? Date.now()) });
  const url = await listen(server, options.host ?? '127.0.0.1', options.port ?? DEFAULT_PORT);
  const engine = startEngine(context);

  return {
    url,
    region: context.region,
    accountId: context.accountId,
    context,
    async close() {
      engine.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await s3.close();
      store.close();
      if (temporary) rmSync(temporary, { recursive: true, force: true });
    },
  };
}

