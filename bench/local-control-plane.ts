// The CodePipeline side of bench/local.ts: the world its request-rate checks run in (two
// pipelines on custom action types, jobs queued for one of them), and the SDK's own signed
// requests, captured without sending them, for the raw-HTTP capacity checks and the canned answers
// of bench/canned-codepipeline.ts.

import { request as httpRequest } from 'node:http';
import {
  CodePipelineClient,
  CreatePipelineCommand,
  GetPipelineCommand,
  ListPipelineExecutionsCommand,
  PollForJobsCommand,
  StartPipelineExecutionCommand,
  type ActionTypeId,
} from '@aws-sdk/client-codepipeline';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { projectActionType, sourceThenAction } from './fixtures.js';

export const CREDENTIALS = { accessKeyId: 'AKIDBENCHBENCH', secretAccessKey: 'bench-secret' };
/** The pipelines' artifact store: the endpoint applies CodePipeline's default bucket policy to it
 *  (uploads must ask for aws:kms), so the benchmark's transfers go there, as a worker's do. */
export const ARTIFACT_BUCKET = 'codepipeline-us-east-1-bench';
const IDLE_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Bench-Idle', version: '1' };
const BUSY_TYPE: ActionTypeId = { category: 'Test', owner: 'Custom', provider: 'Bench-Busy', version: '1' };
export const GET_PIPELINE_INPUT = { name: 'MyFirstPipeline' };
/** A poll for a type no job waits on: the common case of an idle worker. */
export const IDLE_POLL_INPUT = { actionTypeId: IDLE_TYPE, maxBatchSize: 1 };

export const codePipelineClient = (url: string) => new CodePipelineClient({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
const s3Client = (url: string) => new S3Client({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });

/** Source (the bench's S3 object) → Work, a custom action of type `id`. */
function pipelineUsing(name: string, id: ActionTypeId) {
  return new CreatePipelineCommand({
    pipeline: sourceThenAction({
      name,
      artifactStore: { type: 'S3', location: ARTIFACT_BUCKET },
      executionMode: 'PARALLEL',
      source: { bucket: 'bench-source', key: 'app.zip', artifact: 'MyApp' },
      stage: 'Work',
      type: id,
    }),
  });
}

/** Runs `count` calls with `parallel` in flight; returns the elapsed milliseconds. */
export async function inFlight(count: number, parallel: number, call: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Two pipelines, one per custom type, and `queuedJobs` jobs waiting on the busy type. */
export async function seedControlPlane(url: string, queuedJobs: number): Promise<void> {
  const cp = codePipelineClient(url);
  const storage = s3Client(url);
  try {
    await storage.send(new CreateBucketCommand({ Bucket: 'bench-source' }));
    await storage.send(new CreateBucketCommand({ Bucket: ARTIFACT_BUCKET }));
    await storage.send(new PutObjectCommand({ Bucket: 'bench-source', Key: 'app.zip', Body: 'PK-bench-source' }));
    await cp.send(projectActionType(IDLE_TYPE, { inputs: [0, 1], outputs: [0, 1] }));
    await cp.send(projectActionType(BUSY_TYPE, { inputs: [0, 1], outputs: [0, 1] }));
    await cp.send(pipelineUsing('MyFirstPipeline', IDLE_TYPE));
    await cp.send(pipelineUsing('BusyPipeline', BUSY_TYPE));
    // CreatePipeline started one execution each; add more so `queuedJobs` jobs wait on BUSY_TYPE.
    await inFlight(queuedJobs - 1, 16, () => cp.send(new StartPipelineExecutionCommand({ name: 'BusyPipeline' })));
    // Looking at executions lets the endpoint run the S3 sources and queue the jobs.
    await cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'BusyPipeline', maxResults: 1 }));
  } finally {
    cp.destroy();
    storage.destroy();
  }
}

/** Polls for the busy type, `parallel` at a time, until the queue is drained; returns how many
 *  jobs came back and the elapsed milliseconds. */
export async function dispatchQueued(url: string, queuedJobs: number, parallel: number): Promise<{ dispatched: number; polls: number; ms: number }> {
  const cp = codePipelineClient(url);
  try {
    let dispatched = 0;
    const polls = queuedJobs + parallel;
    const ms = await inFlight(polls, parallel, async () => {
      const { jobs } = await cp.send(new PollForJobsCommand({ actionTypeId: BUSY_TYPE, maxBatchSize: 1 }));
      dispatched += jobs?.length ?? 0;
    });
    return { dispatched, polls, ms };
  } finally {
    cp.destroy();
  }
}

export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The request the SDK builds and signs for a command, captured by a handler that sends nothing. */
export async function capturedRequest(url: string, command: GetPipelineCommand | PollForJobsCommand): Promise<CapturedRequest> {
  let captured: { method: string; path: string; headers: Record<string, string>; body?: unknown } | undefined;
  const client = new CodePipelineClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: typeof captured) => {
        captured = request;
        throw new Error('captured, not sent');
      },
    } as never,
  });
  await client.send(command as GetPipelineCommand).catch(() => undefined);
  client.destroy();
  if (!captured) throw new Error('the SDK built no request');
  // The body is a Uint8Array (subclass): view its bytes; Buffer.from(body) would go through valueOf.
  const bytes = captured.body as Uint8Array | string | undefined;
  const body = typeof bytes === 'string' ? bytes : bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : '';
  return { method: captured.method, path: captured.path, headers: captured.headers, body };
}

/** The request as bytes on the wire (HTTP/1.1), for bench/raw-http-load.ts to replay. */
export function requestBytes(request: CapturedRequest): Buffer {
  const head = [`${request.method} ${request.path} HTTP/1.1`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`)];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${request.body}`);
}

/** Sends the captured request to `url` and returns the answer's body (it must be a 200). */
export function answerBody(url: string, request: CapturedRequest): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sent = httpRequest({ host: hostname, port, method: request.method, path: request.path, headers: request.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode === 200) resolve(text);
        else reject(new Error(`${request.headers['x-amz-target']} answered ${response.statusCode}: ${text}`));
      });
      response.once('error', reject);
    });
    sent.once('error', reject);
    sent.end(request.body);
  });
}
