// A local endpoint with a real source ZIP, the Local-Build custom type and pipelines that use it,
// plus a worker wired to it in-process (real SDK job API, real S3 transfer) and readers for the
// endpoint's store, so tests can check every job's fate behind the API.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateCustomActionTypeCommand, StartPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import yazl from 'yazl';
import { createJobsApi } from '../../src/aws/jobs-api.js';
import type { JobRecord, ExecutionRecord } from '../../src/emulator/codepipeline/records.js';
import { createArtifactTransfer } from '../../src/worker/artifacts/index.js';
import { createLogger, type Logger } from '../../src/worker/logger.js';
import type { Executor, JobType } from '../../src/worker/run-job.js';
import type { SelectedType } from '../../src/worker/select-types.js';
import type { JobsApi } from '../../src/worker/types.js';
import { startWorker, type Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { startTestEndpoint, TEST_CREDENTIALS, type TestEndpoint } from './endpoint.js';
import { ARTIFACT_BUCKET, buildTypeDefinition, SOURCE_BUCKET, SOURCE_KEY } from './pipeline-world.js';

export { ARTIFACT_BUCKET, KMS_KEY_ARN, threeStagePipeline, createPipeline, waitFor, waitForEnd, latestExecutionId, actionState } from './pipeline-world.js';

/** A ZIP holding `files` (name → content). */
export function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), name, { mtime: new Date(0), mode: 0o100644 });
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

export const SOURCE_FILES = { 'README.md': 'hello\n', 'src/main.c': 'int main(void) { return 0; }\n' };

/** Buckets, a real source ZIP and the Local-Build type (ProjectName, secret Token). */
export async function seedWorkerWorld(world: TestEndpoint): Promise<void> {
  await world.s3.send(new CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
  await world.s3.send(new CreateBucketCommand({ Bucket: ARTIFACT_BUCKET }));
  await world.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: await zipOf(SOURCE_FILES) }));
  await world.codepipeline.send(new CreateCustomActionTypeCommand(buildTypeDefinition()));
}

export async function startExecution(world: TestEndpoint, name: string): Promise<string> {
  const started = await world.codepipeline.send(new StartPipelineExecutionCommand({ name }));
  return started.pipelineExecutionId as string;
}

export const BUILD_SELECTED: SelectedType = {
  ref: { category: 'Build', provider: 'Local-Build', version: '1' },
  label: 'Build/Local-Build/1',
  executor: { plugin: 'test', options: {} },
  secretProperties: ['Token'],
  outputCount: { min: 0, max: 5 },
};

export function jobType(executor: Executor, selected: SelectedType = BUILD_SELECTED): JobType {
  return { selected, executor };
}

/** Collects log lines (to scan them for secrets). */
export class LogCapture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
  logger(level: 'debug' | 'info' = 'debug'): Logger {
    return createLogger({ write: (line) => void (this.text += line), json: true, level });
  }
}

export async function jobsApiFor(world: TestEndpoint): Promise<JobsApi> {
  process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey;
  return createJobsApi(
    { target: 'test', region: world.endpoint.region, codepipelineEndpoint: world.endpoint.url, s3Endpoint: world.endpoint.url },
    { retry: { attempts: 8, baseDelayMs: 5, maxDelayMs: 50 }, resultRetry: { attempts: 10, baseDelayMs: 5, maxDelayMs: 50 } },
  );
}

export function tempWorkDir(): string {
  return mkdtempSync(join(tmpdir(), 'cpsync-worker-'));
}

/** Starts an in-process worker against the endpoint with fast polling. */
export async function startTestWorker(world: TestEndpoint, options: Partial<WorkerOptions> & { types: readonly JobType[] }): Promise<Worker & { api: JobsApi; workDir: string }> {
  const api = options.api ?? (await jobsApiFor(world));
  const workDir = options.workDir ?? tempWorkDir();
  const worker = startWorker({
    api,
    transfer: createArtifactTransfer(),
    concurrency: 4,
    poll: { minMs: 10, maxMs: 100 },
    workDir,
    graceMs: 5_000,
    settleMs: 500,
    log: new LogCapture().logger(),
    s3Endpoint: world.endpoint.url,
    ...options,
  });
  void worker.done.finally(() => api.close());
  return Object.assign(worker, { api, workDir });
}

export function jobRecords(world: TestEndpoint): JobRecord[] {
  return [...world.endpoint.context.store.table<JobRecord>('jobs').values()];
}

export function executionRecords(world: TestEndpoint): ExecutionRecord[] {
  return [...world.endpoint.context.store.table<ExecutionRecord>('executions').values()];
}

export { startTestEndpoint, type TestEndpoint };

export interface ApiLedger {
  /** Acknowledgements that answered InProgress, per job id. */
  readonly acknowledged: Map<string, number>;
  /** Result calls that went through (after the adapter's retries), per job id. */
  readonly reported: Map<string, number>;
  /** Every secret value a worker was handed (artifact credentials), to scan output for. */
  readonly credentials: Set<string>;
}

/** Wraps a JobsApi to count acknowledgements and results per job and collect credentials. */
export function countingApi(api: JobsApi, ledger: ApiLedger = { acknowledged: new Map(), reported: new Map(), credentials: new Set() }): JobsApi & { ledger: ApiLedger } {
  const bump = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
  const remember = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) => {
    ledger.credentials.add(credentials.secretAccessKey);
    ledger.credentials.add(credentials.sessionToken);
  };
  return {
    ledger,
    region: api.region,
    listCustomActionTypes: () => api.listCustomActionTypes(),
    async poll(type, size, query) {
      const jobs = await api.poll(type, size, query);
      for (const job of jobs) remember(job.data.credentials);
      return jobs;
    },
    async acknowledge(id, nonce) {
      const status = await api.acknowledge(id, nonce);
      if (status === 'InProgress') bump(ledger.acknowledged, id);
      return status;
    },
    async details(id) {
      const data = await api.details(id);
      remember(data.credentials);
      return data;
    },
    async succeed(id, result) {
      await api.succeed(id, result);
      bump(ledger.reported, id);
    },
    async fail(id, result) {
      await api.fail(id, result);
      bump(ledger.reported, id);
    },
    close: () => api.close(),
  };
}
