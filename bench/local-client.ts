// The client side of `npm run bench -- local`: one job per process, so the harness can time the
// transfers against `cp` and the request-rate load runs in a process of its own.
//
//   node bench/.out/local-client.mjs upload   <endpoint> <bucket> <key> <file>
//   node bench/.out/local-client.mjs download <endpoint> <bucket> <key> <file>
//   node bench/.out/local-client.mjs noop     (loads the SDK and exits: the start-up share of the above)
//   node bench/.out/local-client.mjs rate     <endpoint> <operation> <input JSON> <requests> <in flight> <warm-up requests>
//
// bench/local.ts runs it compiled to plain JavaScript (it transpiles this file into bench/.out),
// as cpsync itself runs from dist/: a TypeScript loader would add ~0.4 s of start-up to every timed
// transfer. `node --import tsx bench/local-client.ts …` works the same.
//
// Upload is `@aws-sdk/lib-storage`'s Upload (multipart, 16 MiB parts, 4 in flight, SSE aws:kms);
// download is GetObject streamed to a file. Both stream: neither holds the file in memory. `rate`
// sends one CodePipeline operation through one SDK client with a fixed number in flight: after the
// warm-up it prints `ready` and waits for a line on stdin, so that bench/local-rates.ts can start
// several client processes on the same instant (and read the server's CPU around exactly the timed
// part); then it prints `{ ms, cpuMs }` as JSON, its own wall and CPU time for the timed requests.
//
// With CPSYNC_BENCH_LOG set, upload and download append one JSON line to that file: how long the
// transfer itself took (after start-up) and the client's CPU time.

import { appendFileSync, createReadStream, createWriteStream, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const PART_SIZE = 16 * 1024 * 1024;
export const QUEUE_SIZE = 4;
const CREDENTIALS = { accessKeyId: 'AKIDBENCHBENCH', secretAccessKey: 'bench-secret' };

const [mode, endpoint, ...rest] = process.argv.slice(2);

const ownCpuMs = (since?: NodeJS.CpuUsage) => {
  const usage = process.cpuUsage(since);
  return (usage.user + usage.system) / 1000;
};

function s3Client(): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS, maxAttempts: 1 });
}

/** Times `transfer` and, when asked to, logs it with the client's CPU time (start-up included). */
async function logged(transfer: () => Promise<void>): Promise<void> {
  const startedMs = performance.now();
  await transfer();
  const line = {
    mode,
    startupMs: Math.round(startedMs),
    transferMs: Math.round(performance.now() - startedMs),
    clientCpuMs: Math.round(ownCpuMs()),
  };
  if (process.env.CPSYNC_BENCH_LOG) appendFileSync(process.env.CPSYNC_BENCH_LOG, `${JSON.stringify(line)}\n`);
}

/**
 * The CodePipeline client as a performance-minded user configures it, all public options:
 * static credentials and a fixed endpoint (no provider chain, no endpoint discovery), a keep-alive
 * agent with a socket per request in flight, no retries (a failure shows instead of being hidden),
 * and `cacheMiddleware`, which resolves each command's middleware stack once instead of on every
 * call (the SDK documents it as saving "0-1 ms per request"; here ~100 µs of CPU of ~600).
 */
async function codePipelineClient(inFlight: number): Promise<CodePipelineClient> {
  // Loaded here, not at the top: the timed transfers (and their start-up case) need only S3.
  const { CodePipelineClient } = await import('@aws-sdk/client-codepipeline');
  return new CodePipelineClient({
    endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    cacheMiddleware: true,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: inFlight }) },
  });
}

async function rate(operation: string, inputJson: string, requests: number, inFlight: number, warmup: number): Promise<void> {
  const client = await codePipelineClient(inFlight);
  const { GetPipelineCommand, PollForJobsCommand } = await import('@aws-sdk/client-codepipeline');
  const input = JSON.parse(inputJson) as Record<string, unknown>;
  const call = () => {
    if (operation === 'GetPipeline') return client.send(new GetPipelineCommand(input as never));
    if (operation === 'PollForJobs') return client.send(new PollForJobsCommand(input as never));
    throw new Error(`rate: unknown operation ${operation}`);
  };
  const run = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count) {
          next += 1;
          await call();
        }
      }),
    );
  };
  await run(warmup);
  await startSignal();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await run(requests);
  const ms = performance.now() - start;
  const result = { ms, cpuMs: ownCpuMs(cpuBefore) };
  client.destroy();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Says `ready` and waits for the first line (or the end) of stdin. */
async function startSignal(): Promise<void> {
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.once('data', () => resolve());
    process.stdin.once('end', () => resolve());
  });
  // Nothing more is read: let the process exit when its work is done.
  process.stdin.destroy();
}

const [bucket, key, file] = rest;
if (mode === 'noop') {
  s3Client().destroy();
} else if (mode === 'upload' && endpoint && bucket && key && file) {
  const s3 = s3Client();
  await logged(async () => {
    const upload = new Upload({
      client: s3,
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1024 * 1024 }), ServerSideEncryption: 'aws:kms' },
    });
    const result = await upload.done();
    if (!result.ETag?.endsWith('"') || !/-\d+"$/.test(result.ETag)) throw new Error(`not a multipart upload: ETag ${result.ETag}`);
  });
  s3.destroy();
} else if (mode === 'download' && endpoint && bucket && key && file) {
  const s3 = s3Client();
  await logged(async () => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(answer.Body as Readable, createWriteStream(file, { highWaterMark: 1024 * 1024 }));
    const size = statSync(file).size;
    if (size !== answer.ContentLength) throw new Error(`downloaded ${size} bytes, expected ${answer.ContentLength}`);
  });
  s3.destroy();
} else if (mode === 'rate' && endpoint && rest.length === 5) {
  const [operation, inputJson, requests, inFlight, warmup] = rest as [string, string, string, string, string];
  await rate(operation, inputJson, Number(requests), Number(inFlight), Number(warmup));
} else {
  process.stderr.write(
    'usage: local-client upload|download <endpoint> <bucket> <key> <file> | noop | rate <endpoint> <operation> <input JSON> <requests> <in flight> <warm-up>\n',
  );
  process.exit(2);
}
