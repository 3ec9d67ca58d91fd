// The local endpoint (`cpsync local`) under load, with the server in a child process of its own
// (the compiled `node dist/cli/main.js local --port 0 --data <tmp>`, as installed) so client and
// server do not share a thread:
//
// - timed cases: a 1 GiB artifact uploaded with lib-storage's Upload (multipart, SSE aws:kms) and
//   downloaded with GetObject, each in a client process (bench/local-client.ts, run compiled),
//   against `cp` of the same file in the same run (target: at most 2× cp's time, i.e. at least half
//   its throughput), and against `cp` followed by `sync` of the copy: the same durability the
//   endpoint gives an upload (it fsyncs every part before answering);
//   The same client against bench/null-s3.ts, a sink that stores nothing, shows what the SDK
//   client alone costs for each transfer: the floor under any endpoint.
// - checks: the server's peak resident memory while those transfers ran (VmHWM, reset before
//   timing; target under 150 MB), requests per second of GetPipeline and PollForJobs from the SDK
//   with 16 requests in flight (one client process; target ≥ 2,000/s), the endpoint's own capacity
//   with a raw HTTP client replaying the SDK's signed requests, where the time and CPU of each
//   transfer went, and that the downloaded bytes equal the file.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CodePipelineClient,
  CreateCustomActionTypeCommand,
  CreatePipelineCommand,
  GetPipelineCommand,
  ListPipelineExecutionsCommand,
  PollForJobsCommand,
  StartPipelineExecutionCommand,
  type ActionTypeId,
} from '@aws-sdk/client-codepipeline';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ensureBuilt, execTimed, quantile, REPO_ROOT, renderMarkdown, renderTable, runBenchmark, writeDocsSection, type Benchmark, type BenchmarkResult, type Case, type Check, type RunOptions } from './harness.js';
import { replayRequest } from './raw-http-load.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const ARTIFACT_SIZE = Number(process.env.CPSYNC_BENCH_ARTIFACT_BYTES ?? GiB);
const REQUESTS = 5_000;
const WARMUP_REQUESTS = 500;
const IN_FLIGHT = 16;
const RAW_REQUESTS = 20_000;
const QUEUED_JOBS = 200;
const MIN_REQUESTS_PER_SECOND = 2_000;
const MAX_SERVER_RSS_MB = 150;

const BUCKET = 'bench-artifacts';
const KEY = 'MyFirstPipeline/MyBuiltApp/bench.zip';
const CREDENTIALS = { accessKeyId: 'AKIDBENCHBENCH', secretAccessKey: 'bench-secret' };
const ROLE_ARN = 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service';
const IDLE_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Bench-Idle', version: '1' };
const BUSY_TYPE: ActionTypeId = { category: 'Test', owner: 'Custom', provider: 'Bench-Busy', version: '1' };
const GET_PIPELINE_INPUT = { name: 'MyFirstPipeline' };
const IDLE_POLL_INPUT = { actionTypeId: IDLE_TYPE, maxBatchSize: 1 };

const node = process.execPath;
// Fixed paths under one temp folder, so the case commands can name them before setup runs.
const dir = mkdtempSync(join(tmpdir(), 'cpsync-bench-local-'));
const sourceFile = join(dir, 'artifact.bin');
const copyFile = join(dir, 'copy.bin');
const durableCopyFile = join(dir, 'durable-copy.bin');
const downloadFile = join(dir, 'download.bin');
const sinkDownloadFile = join(dir, 'sink-download.bin');
const dataDir = join(dir, 'data');
const transferLog = join(dir, 'transfers.jsonl');
// The client and the sink, transpiled to plain JavaScript in setup (bench/.out is git-ignored).
const OUT_DIR = join(REPO_ROOT, 'bench', '.out');
const clientScript = join(OUT_DIR, 'local-client.mjs');
const sinkScript = join(OUT_DIR, 'null-s3.mjs');

// CPSYNC_BENCH_SERVER_PID is filled in once the server runs (the cases share this object).
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CPSYNC_BENCH_LOG: transferLog };
delete env.NODE_OPTIONS;
// The sink's cases log nothing.
const sinkEnv: NodeJS.ProcessEnv = { ...env };
delete sinkEnv.CPSYNC_BENCH_LOG;

let server: ChildProcess | undefined;
let sink: ChildProcess | undefined;
let url = 'http://127.0.0.1:0';
let sinkUrl = 'http://127.0.0.1:0';
let sourceMd5 = '';
let startRssKb = 0;

// `url` is only known after setup, so the cases read it through getters.
const upload: Case = {
  name: 'upload 1 GiB',
  command: node,
  get args() {
    return [clientScript, 'upload', url, BUCKET, KEY, sourceFile];
  },
  env,
};
const download: Case = {
  name: 'download 1 GiB',
  command: node,
  get args() {
    return [clientScript, 'download', url, BUCKET, KEY, downloadFile];
  },
  env,
};
const sinkUpload: Case = {
  name: 'upload 1 GiB to a null sink (the SDK client alone)',
  command: node,
  get args() {
    return [clientScript, 'upload', sinkUrl, BUCKET, KEY, sourceFile];
  },
  env: sinkEnv,
};
const sinkDownload: Case = {
  name: 'download 1 GiB from a null sink (the SDK client alone)',
  command: node,
  get args() {
    return [clientScript, 'download', sinkUrl, BUCKET, KEY, sinkDownloadFile];
  },
  env: sinkEnv,
};
const clientStartup: Case = { name: 'client start-up only', command: node, args: [clientScript, 'noop'], env };
const copy: Case = { name: 'cp 1 GiB', command: 'cp', args: [sourceFile, copyFile], env };
// What a durable copy costs: the copy, then fsync of it (`sync FILE`), as the endpoint fsyncs
// every part before it answers. Not the issue's baseline; shown beside it.
const durableCopy: Case = { name: 'cp + sync 1 GiB (durable copy)', command: 'sh', args: ['-c', 'cp -- "$0" "$1" && sync -- "$1"', sourceFile, durableCopyFile], env };

/** bench/local-client.ts and bench/null-s3.ts → bench/.out/*.mjs with the TypeScript compiler
 *  (types stripped, nothing bundled; neither imports another bench file). */
async function compileScripts(): Promise<void> {
  const ts = (await import('typescript')).default;
  mkdirSync(OUT_DIR, { recursive: true });
  for (const [from, to] of [
    ['local-client.ts', clientScript],
    ['null-s3.ts', sinkScript],
  ] as const) {
    const source = readFileSync(join(REPO_ROOT, 'bench', from), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(to, outputText);
  }
}

async function startSink(): Promise<void> {
  const child = spawn(node, [sinkScript, String(ARTIFACT_SIZE)], { cwd: REPO_ROOT, env: sinkEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  sink = child;
  sinkUrl = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^url (\S+)$/m.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`bench/null-s3 exited ${code}`)));
  });
}

/** 1 GiB of pseudo-random bytes, generated and written a block at a time (never held in memory). */
async function generateArtifact(): Promise<string> {
  const hash = createHash('md5');
  const block = Buffer.alloc(4 * MiB);
  async function* blocks(): AsyncGenerator<Buffer> {
    for (let written = 0; written < ARTIFACT_SIZE; written += block.length) {
      const chunk = Buffer.from(randomFillSync(block).subarray(0, Math.min(block.length, ARTIFACT_SIZE - written)));
      hash.update(chunk);
      yield chunk;
    }
  }
  await pipeline(Readable.from(blocks()), createWriteStream(sourceFile));
  return hash.digest('hex');
}

async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function startServer(): Promise<void> {
  const child = spawn(node, [join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'local', '--port', '0', '--data', dataDir], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server = child;
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cpsync local printed no AWS_ENDPOINT_URL within 30 s\n${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^export AWS_ENDPOINT_URL=(\S+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cpsync local exited ${code}\n${stderr}`));
    });
  });
  env.CPSYNC_BENCH_SERVER_PID = String(child.pid);
}

function procStatus(field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${server!.pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${server!.pid}/status`);
  return Number(match[1]);
}

/** CPU time (user + system) the server process has used, from /proc/<pid>/stat (clock ticks of 10 ms). */
function serverCpuMs(): number {
  const stat = readFileSync(`/proc/${server!.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const codepipeline = () => new CodePipelineClient({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
const s3 = () => new S3Client({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });

function customType(id: ActionTypeId) {
  return new CreateCustomActionTypeCommand({
    category: id.category,
    provider: id.provider,
    version: id.version,
    configurationProperties: [{ name: 'ProjectName', required: true, key: true, secret: false, queryable: false, type: 'String' }],
    inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
  });
}

function pipelineUsing(name: string, id: ActionTypeId) {
  return new CreatePipelineCommand({
    pipeline: {
      name,
      roleArn: ROLE_ARN,
      artifactStore: { type: 'S3', location: 'codepipeline-us-east-1-bench' },
      pipelineType: 'V2',
      executionMode: 'PARALLEL',
      stages: [
        {
          name: 'Source',
          actions: [
            {
              name: 'Source',
              actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
              outputArtifacts: [{ name: 'MyApp' }],
              configuration: { S3Bucket: 'bench-source', S3ObjectKey: 'app.zip', PollForSourceChanges: 'false' },
            },
          ],
        },
        { name: 'Work', actions: [{ name: 'Work', actionTypeId: id, inputArtifacts: [{ name: 'MyApp' }], configuration: { ProjectName: name } }] },
      ],
    },
  });
}

/** The control-plane world for the request-rate checks: two pipelines, and QUEUED_JOBS jobs waiting on BUSY_TYPE. */
async function seedControlPlane(): Promise<void> {
  const cp = codepipeline();
  const storage = s3();
  try {
    await storage.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await storage.send(new CreateBucketCommand({ Bucket: 'bench-source' }));
    await storage.send(new CreateBucketCommand({ Bucket: 'codepipeline-us-east-1-bench' }));
    await storage.send(new PutObjectCommand({ Bucket: 'bench-source', Key: 'app.zip', Body: 'PK-bench-source' }));
    await cp.send(customType(IDLE_TYPE));
    await cp.send(customType(BUSY_TYPE));
    await cp.send(pipelineUsing('MyFirstPipeline', IDLE_TYPE));
    await cp.send(pipelineUsing('BusyPipeline', BUSY_TYPE));
    // CreatePipeline started one execution each; add more so QUEUED_JOBS jobs wait on BUSY_TYPE.
    await inFlight(QUEUED_JOBS - 1, IN_FLIGHT, () => cp.send(new StartPipelineExecutionCommand({ name: 'BusyPipeline' })));
    // Looking at executions lets the endpoint run the S3 sources and queue the jobs.
    await cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'BusyPipeline', maxResults: 1 }));
  } finally {
    cp.destroy();
    storage.destroy();
  }
}

/** Runs `count` calls with `parallel` in flight; returns the elapsed milliseconds. */
async function inFlight(count: number, parallel: number, call: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const perRequest = (cpuMs: number, requests: number) => `${((cpuMs * 1000) / requests).toFixed(0)} µs`;
const perSecond = (requests: number, ms: number) => Math.round((requests / ms) * 1000).toLocaleString('en-US');

/** The SDK load in a client process of its own (bench/local-client.ts `rate`), as a worker would poll. */
function rate(name: string, operation: string, input: object, verify?: () => Promise<string | undefined>): Check {
  return {
    name: `${name}: ${REQUESTS.toLocaleString('en-US')} requests from the SDK (one client process), ${IN_FLIGHT} in flight, ≥ ${MIN_REQUESTS_PER_SECOND.toLocaleString('en-US')}/s`,
    run: async () => {
      const result = await execTimed({
        name,
        command: node,
        args: [clientScript, 'rate', url, operation, JSON.stringify(input), String(REQUESTS), String(IN_FLIGHT), String(WARMUP_REQUESTS)],
        env,
      });
      if (result.exitCode !== 0) return { ok: false, detail: `the client failed: ${result.stderr.trim().split('\n').slice(-3).join(' ')}` };
      const measured = JSON.parse(result.stdout) as { ms: number; clientCpuMs: number; serverCpuMs: number };
      const rateValue = (REQUESTS / measured.ms) * 1000;
      const problem = await verify?.();
      const detail =
        `${perSecond(REQUESTS, measured.ms)} requests/s (${(measured.ms / 1000).toFixed(2)} s in all; CPU per request: server ${perRequest(measured.serverCpuMs, REQUESTS)}, SDK client ${perRequest(measured.clientCpuMs, REQUESTS)})` +
        (problem ? `; ${problem}` : '');
      return { ok: rateValue >= MIN_REQUESTS_PER_SECOND && !problem, detail };
    },
  };
}

/** The bytes the SDK sends for a command, signed, captured by a request handler that sends nothing. */
async function sdkRequestBytes(command: GetPipelineCommand | PollForJobsCommand): Promise<Buffer> {
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
  const head = [`${captured.method} ${captured.path} HTTP/1.1`, ...Object.entries(captured.headers).map(([name, value]) => `${name}: ${value}`)];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** What the endpoint serves when the client costs next to nothing: the SDK's own signed request,
 *  replayed over IN_FLIGHT keep-alive connections by bench/raw-http-load.ts. */
function capacity(name: string, command: () => GetPipelineCommand | PollForJobsCommand): Check {
  return {
    name: `${name}, endpoint capacity: ${RAW_REQUESTS.toLocaleString('en-US')} replays of the SDK's signed request over ${IN_FLIGHT} keep-alive connections (informational)`,
    run: async () => {
      const request = await sdkRequestBytes(command());
      await replayRequest(url, request, IN_FLIGHT, 2_000);
      const serverBefore = serverCpuMs();
      const clientBefore = process.cpuUsage();
      const { ms, statuses } = await replayRequest(url, request, IN_FLIGHT, RAW_REQUESTS);
      const clientCpu = process.cpuUsage(clientBefore);
      const serverCpu = serverCpuMs() - serverBefore;
      const ok = statuses.size === 1 && statuses.get(200) === RAW_REQUESTS;
      const detail =
        `${perSecond(RAW_REQUESTS, ms)} requests/s; CPU per request: server ${perRequest(serverCpu, RAW_REQUESTS)}, load generator ${perRequest((clientCpu.user + clientCpu.system) / 1000, RAW_REQUESTS)}` +
        (ok ? '' : `; answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
      return { ok, detail };
    },
  };
}

interface TransferLine {
  readonly mode: string;
  readonly startupMs: number;
  readonly transferMs: number;
  readonly clientCpuMs: number;
  readonly serverCpuMs: number;
}

/** Medians of what each timed transfer logged about itself (bench/local-client.ts). */
function transferBreakdown(mode: 'upload' | 'download'): Check {
  return {
    name: `where the ${mode} time went: medians over the timed runs (informational)`,
    run: async () => {
      const lines = existsSync(transferLog)
        ? readFileSync(transferLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as TransferLine)
            .filter((line) => line.mode === mode)
        : [];
      if (!lines.length) return { ok: false, detail: 'no timed run logged itself' };
      const median = (pick: (line: TransferLine) => number) => quantile(lines.map(pick), 0.5);
      const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const transferMs = median((line) => line.transferMs);
      return {
        ok: true,
        detail:
          `client start-up ${seconds(median((line) => line.startupMs))}, then the transfer ${seconds(transferMs)} (${(ARTIFACT_SIZE / MiB / (transferMs / 1000)).toFixed(0)} MiB/s); ` +
          `CPU: SDK client ${seconds(median((line) => line.clientCpuMs))} (start-up included), server ${seconds(median((line) => line.serverCpuMs))}; ${lines.length} runs`,
      };
    },
  };
}

const checks: Check[] = [
  {
    name: `server peak RSS while the 1 GiB uploads and downloads ran < ${MAX_SERVER_RSS_MB} MB`,
    run: async () => {
      const peakKb = procStatus('VmHWM');
      const detail = `VmHWM ${(peakKb / 1024).toFixed(0)} MiB (${((peakKb * 1024) / 1e6).toFixed(0)} MB); ${(startRssKb / 1024).toFixed(0)} MiB before timing`;
      return { ok: peakKb * 1024 < MAX_SERVER_RSS_MB * 1e6, detail };
    },
  },
  {
    name: 'the last download equals the generated file (MD5)',
    run: async () => {
      const md5 = await md5File(downloadFile);
      return { ok: md5 === sourceMd5, detail: md5 === sourceMd5 ? `md5 ${md5}` : `md5 ${md5}, expected ${sourceMd5}` };
    },
  },
  transferBreakdown('upload'),
  transferBreakdown('download'),
  rate('GetPipeline', 'GetPipeline', GET_PIPELINE_INPUT),
  rate('PollForJobs, no jobs for the type', 'PollForJobs', IDLE_POLL_INPUT),
  rate(`PollForJobs, no jobs for the type while ${QUEUED_JOBS} wait for another`, 'PollForJobs', IDLE_POLL_INPUT, async () => {
    // The other type's jobs are still there to be dispatched (the polls above did not touch them).
    const cp = codepipeline();
    try {
      let dispatched = 0;
      const start = process.hrtime.bigint();
      await inFlight(QUEUED_JOBS + IN_FLIGHT, IN_FLIGHT, async () => {
        const { jobs } = await cp.send(new PollForJobsCommand({ actionTypeId: BUSY_TYPE, maxBatchSize: 1 }));
        dispatched += jobs?.length ?? 0;
      });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      dispatchDetail = `${dispatched} jobs dispatched one per poll in ${(ms / 1000).toFixed(2)} s (${Math.round((QUEUED_JOBS + IN_FLIGHT) / (ms / 1000))} polls/s, each dispatch journalled with fsync)`;
      return dispatched === QUEUED_JOBS ? undefined : `${dispatched} of ${QUEUED_JOBS} queued jobs were dispatched`;
    } finally {
      cp.destroy();
    }
  }),
  {
    name: `PollForJobs that dispatch: ${QUEUED_JOBS} queued jobs, one per poll (informational)`,
    run: async () => ({ ok: dispatchDetail !== '', detail: dispatchDetail || 'not measured' }),
  },
  capacity('GetPipeline', () => new GetPipelineCommand(GET_PIPELINE_INPUT)),
  capacity('PollForJobs, no jobs for the type', () => new PollForJobsCommand(IDLE_POLL_INPUT)),
];
let dispatchDetail = '';

export const benchmark: Benchmark = {
  name: 'local',
  title: 'local endpoint throughput and memory',
  description:
    '`cpsync local` in a child process of its own (`node dist/cli/main.js local --port 0 --data <tmp>`, durable state and fsync\'d objects as shipped). ' +
    'Timed: a 1 GiB file of pseudo-random bytes uploaded with `@aws-sdk/lib-storage` `Upload` (multipart, 16 MiB parts, 4 in flight, SSE aws:kms) and downloaded with `GetObject`, each in a client process (`bench/local-client.ts` transpiled to JavaScript, whose start-up alone is the "client start-up only" case), against `cp` of the same file into the same folder (page cache, no fsync), the issue\'s baseline. ' +
    'Beside it, `cp` followed by `sync` of the copy: a copy as durable as an upload to the endpoint, which fsyncs every part before answering; and the same client against a null sink that stores nothing (`bench/null-s3.ts`): what the SDK client alone costs, the floor under any endpoint. ' +
    'Targets: upload and download within 2× of `cp` (at least half its throughput); the server\'s peak RSS (VmHWM, reset before timing) under 150 MB; GetPipeline and PollForJobs at ≥ 2,000 requests/s from the SDK with 16 in flight, in one client process (client and server share the machine\'s cores). ' +
    'The capacity checks replay the SDK\'s own signed request bytes from a raw HTTP client, to show what the endpoint serves when the client is not the limit.',
  runs: 3,
  warmup: 0,
  setup: async () => {
    ensureBuilt();
    await compileScripts();
    process.stderr.write(`bench local: generating ${ARTIFACT_SIZE / MiB} MiB in ${dir}\n`);
    sourceMd5 = await generateArtifact();
    await startServer();
    await startSink();
    await seedControlPlane();
    // One untimed upload, so the object exists whichever case runs first.
    const first = await execTimed(upload);
    if (first.exitCode !== 0) throw new Error(`first upload failed: ${first.stderr}`);
    rmSync(transferLog, { force: true });
    startRssKb = procStatus('VmRSS');
    // Reset the peak (VmHWM) to the current RSS: the check then reports the transfers only.
    writeFileSync(`/proc/${server!.pid}/clear_refs`, '5');
  },
  teardown: async () => {
    for (const child of [server, sink]) {
      if (!child || child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  },
  baseline: copy,
  cases: [upload, download, clientStartup, durableCopy, sinkUpload, sinkDownload],
  targets: [
    { case: upload.name, maxRatio: 2 },
    { case: download.name, maxRatio: 2 },
  ],
  checks,
};

/** The upload and download against the durable copy and against the SDK client alone (the null
 *  sink), from the same run's medians. */
function renderComparisons(result: BenchmarkResult): string {
  const median = (c: Case) => result.cases.find((measured) => measured.case.name === c.name)?.medianMs;
  const compare = (against: Case, pairs: readonly (readonly [Case, string])[]) => {
    const base = median(against);
    if (base === undefined) return '';
    return pairs
      .map(([c, label]) => {
        const ms = median(c);
        return ms === undefined ? '' : `${label} ${(ms / base).toFixed(2)}× (${(ms / 1000).toFixed(2)} s against ${(base / 1000).toFixed(2)} s)`;
      })
      .filter(Boolean)
      .join(', ');
  };
  const durable = compare(durableCopy, [
    [upload, 'upload'],
    [download, 'download'],
  ]);
  const upAlone = compare(sinkUpload, [[upload, 'upload']]);
  const downAlone = compare(sinkDownload, [[download, 'download']]);
  return [
    `Against the durable copy (\`${durableCopy.name}\`; informational, not the issue's baseline): ${durable}.`,
    `Against the same SDK client with a null sink (what the endpoint adds to the client's own cost): ${[upAlone, downAlone].filter(Boolean).join(', ')}.`,
  ].join(' ');
}

/** Runs the benchmark through the harness and adds the durable-copy comparison to its report. */
export async function run(options: RunOptions): Promise<{ ok: boolean; table: string }> {
  const result = await runBenchmark(benchmark, { ...options, write: false });
  const comparison = renderComparisons(result);
  if (options.write ?? true) writeDocsSection(benchmark.name, `${renderMarkdown(result)}\n\n${comparison}`);
  return { ok: result.ok, table: `${renderTable(result)}${comparison}\n` };
}
