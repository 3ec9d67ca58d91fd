// The local endpoint (`cpsync local`) under load, with the server in a child process of its own
// (the compiled `node dist/cli/main.js local --port 0 --data <tmp>`, as installed) so client and
// server do not share a thread:
//
// - timed cases: a 1 GiB artifact uploaded with lib-storage's Upload (multipart, SSE aws:kms) and
//   downloaded with GetObject, each in a client process (bench/local-client.ts), against `cp` of the
//   same file in the same run (target: at most 2× cp's time, i.e. at least half its throughput);
// - checks: the server's peak resident memory while those transfers ran (VmHWM, reset before
//   timing; target under 150 MB), requests per second of GetPipeline and PollForJobs from the SDK
//   with 16 requests in flight (target ≥ 2,000/s), and that the downloaded bytes equal the file.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { ensureBuilt, execTimed, REPO_ROOT, type Benchmark, type Case, type Check } from './harness.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const ARTIFACT_SIZE = Number(process.env.CPSYNC_BENCH_ARTIFACT_BYTES ?? GiB);
const REQUESTS = 5_000;
const IN_FLIGHT = 16;
const QUEUED_JOBS = 200;
const MIN_REQUESTS_PER_SECOND = 2_000;
const MAX_SERVER_RSS_MB = 150;

const BUCKET = 'bench-artifacts';
const KEY = 'MyFirstPipeline/MyBuiltApp/bench.zip';
const CREDENTIALS = { accessKeyId: 'AKIDBENCHBENCH', secretAccessKey: 'bench-secret' };
const ROLE_ARN = 'arn:aws:iam::123456789012:role/AWS-CodePipeline-Service';
const IDLE_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Bench-Idle', version: '1' };
const BUSY_TYPE: ActionTypeId = { category: 'Test', owner: 'Custom', provider: 'Bench-Busy', version: '1' };

const node = process.execPath;
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.NODE_OPTIONS;

// Fixed paths under one temp folder, so the case commands can name them before setup runs.
const dir = mkdtempSync(join(tmpdir(), 'cpsync-bench-local-'));
const sourceFile = join(dir, 'artifact.bin');
const copyFile = join(dir, 'copy.bin');
const downloadFile = join(dir, 'download.bin');
const dataDir = join(dir, 'data');

let server: ChildProcess | undefined;
let url = 'http://127.0.0.1:0';
let sourceMd5 = '';
let startRssKb = 0;

const client = (mode: string): string[] => ['--import', 'tsx', join(REPO_ROOT, 'bench', 'local-client.ts'), mode];

// `url` is only known after setup, so the cases read it through getters.
const upload: Case = {
  name: 'upload 1 GiB',
  command: node,
  get args() {
    return [...client('upload'), url, BUCKET, KEY, sourceFile];
  },
  env,
};
const download: Case = {
  name: 'download 1 GiB',
  command: node,
  get args() {
    return [...client('download'), url, BUCKET, KEY, downloadFile];
  },
  env,
};
const clientStartup: Case = { name: 'client start-up only', command: node, args: client('noop'), env };
const copy: Case = { name: 'cp 1 GiB', command: 'cp', args: [sourceFile, copyFile], env };

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

function rate(name: string, call: (cp: CodePipelineClient) => Promise<unknown>, verify?: () => Promise<string | undefined>): Check {
  return {
    name: `${name}: ${REQUESTS.toLocaleString('en-US')} requests from the SDK, ${IN_FLIGHT} in flight, ≥ ${MIN_REQUESTS_PER_SECOND.toLocaleString('en-US')}/s`,
    run: async () => {
      const cp = codepipeline();
      try {
        await inFlight(200, IN_FLIGHT, () => call(cp));
        const serverBefore = serverCpuMs();
        const clientBefore = process.cpuUsage();
        const ms = await inFlight(REQUESTS, IN_FLIGHT, () => call(cp));
        const clientCpu = process.cpuUsage(clientBefore);
        const serverCpu = serverCpuMs() - serverBefore;
        const perSecond = (REQUESTS / ms) * 1000;
        const problem = await verify?.();
        const perRequest = (cpuMs: number) => `${((cpuMs * 1000) / REQUESTS).toFixed(0)} µs`;
        const detail =
          `${Math.round(perSecond).toLocaleString('en-US')} requests/s (${(ms / 1000).toFixed(2)} s in all; CPU per request: server ${perRequest(serverCpu)}, SDK client ${perRequest((clientCpu.user + clientCpu.system) / 1000)})` +
          (problem ? `; ${problem}` : '');
        return { ok: perSecond >= MIN_REQUESTS_PER_SECOND && !problem, detail };
      } finally {
        cp.destroy();
      }
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
  rate('GetPipeline', (cp) => cp.send(new GetPipelineCommand({ name: 'MyFirstPipeline' }))),
  rate('PollForJobs, no jobs for the type', (cp) => cp.send(new PollForJobsCommand({ actionTypeId: IDLE_TYPE, maxBatchSize: 1 }))),
  rate(
    `PollForJobs, no jobs for the type while ${QUEUED_JOBS} wait for another`,
    (cp) => cp.send(new PollForJobsCommand({ actionTypeId: IDLE_TYPE, maxBatchSize: 1 })),
    async () => {
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
    },
  ),
  {
    name: `PollForJobs that dispatch: ${QUEUED_JOBS} queued jobs, one per poll (informational)`,
    run: async () => ({ ok: dispatchDetail !== '', detail: dispatchDetail || 'not measured' }),
  },
];
let dispatchDetail = '';

export const benchmark: Benchmark = {
  name: 'local',
  title: 'local endpoint throughput and memory',
  description:
    '`cpsync local` in a child process of its own (`node dist/cli/main.js local --port 0 --data <tmp>`, durable state and fsync\'d objects as shipped). ' +
    'Timed: a 1 GiB file of pseudo-random bytes uploaded with `@aws-sdk/lib-storage` `Upload` (multipart, 16 MiB parts, 4 in flight, SSE aws:kms) and downloaded with `GetObject`, each in a client process (`bench/local-client.ts`, whose start-up alone is the "client start-up only" case), against `cp` of the same file into the same folder (page cache, no fsync). ' +
    'Targets: upload and download within 2× of `cp` (at least half its throughput); the server\'s peak RSS (VmHWM, reset before timing) under 150 MB; GetPipeline and PollForJobs at ≥ 2,000 requests/s from the SDK with 16 in flight (client and server share the machine\'s cores).',
  runs: 3,
  warmup: 0,
  setup: async () => {
    ensureBuilt();
    process.stderr.write(`bench local: generating ${ARTIFACT_SIZE / MiB} MiB in ${dir}\n`);
    sourceMd5 = await generateArtifact();
    await startServer();
    await seedControlPlane();
    // One untimed upload, so the object exists whichever case runs first.
    const first = await execTimed(upload);
    if (first.exitCode !== 0) throw new Error(`first upload failed: ${first.stderr}`);
    startRssKb = procStatus('VmRSS');
    // Reset the peak (VmHWM) to the current RSS: the check then reports the transfers only.
    writeFileSync(`/proc/${server!.pid}/clear_refs`, '5');
  },
  teardown: async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  },
  baseline: copy,
  cases: [upload, download, clientStartup],
  targets: [
    { case: upload.name, maxRatio: 2 },
    { case: download.name, maxRatio: 2 },
  ],
  checks,
};
