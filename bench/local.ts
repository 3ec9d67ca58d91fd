// The local endpoint (`cpsync local`) under load, with the server in a child process of its own
// (the compiled `node dist/cli/main.js local --port 0 --data <tmp>`, as installed) so client and
// server do not share a thread. Everything below runs in one `npm run bench -- local`:
//
// - timed cases, against `cp` of the same 1 GiB file over an existing copy (the issue's baseline;
//   target: upload and download at most 2× its time, i.e. at least half its throughput):
//   - curl uploading (PutObject) and downloading (GetObject) the file: a client that costs little,
//     so the time is the endpoint's; the target is judged on these two;
//   - the floor: the same curl commands against bench/floor-http.ts, a minimal Node server that
//     discards, writes, writes and fsyncs, or reads a file: what any Node endpoint costs here;
//   - `cp` to a new file and `cp` + `sync`, other copies to compare with;
//   - the SDK client (bench/local-client.ts: lib-storage multipart upload, GetObject), against the
//     endpoint and against bench/null-s3.ts, a sink that stores nothing (informational: the SDK
//     client alone costs several times `cp` on this machine).
// - checks: the server's peak resident memory while the transfers ran (< 150 MB), the downloads'
//   bytes, CPU time per case, requests per second of GetPipeline and PollForJobs from the SDK with
//   16 in flight: from two client processes at once (target ≥ 2,000/s; bench/local-rates.ts),
//   from one (informational: one SDK client process saturates its core first), and one process
//   against bench/canned-codepipeline.ts (informational: the client's own ceiling); and the
//   endpoint's capacity with a raw HTTP client replaying the SDK's signed requests.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetPipelineCommand, PollForJobsCommand } from '@aws-sdk/client-codepipeline';
import { ensureBuilt, execTimed, quantile, REPO_ROOT, renderMarkdown, renderTable, runBenchmark, writeDocsSection, type Benchmark, type BenchmarkResult, type Case, type Check, type RunOptions } from './harness.js';
import { answerBody, ARTIFACT_BUCKET, capturedRequest, CREDENTIALS, dispatchQueued, GET_PIPELINE_INPUT, IDLE_POLL_INPUT, requestBytes, seedControlPlane } from './local-control-plane.js';
import { runSdkLoad, type SdkLoad, type SdkLoadResult } from './local-rates.js';
import { exitedChildrenCpuMs, memoryKb, processCpuMs } from './proc-stat.js';
import { replayRequest } from './raw-http-load.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const ARTIFACT_SIZE = Number(process.env.CPSYNC_BENCH_ARTIFACT_BYTES ?? GiB);
const REQUESTS = 5_000;
const WARMUP_REQUESTS = 500;
const IN_FLIGHT = 16;
/** Client processes sharing the judged request-rate load (IN_FLIGHT / CLIENT_PROCESSES each). */
const CLIENT_PROCESSES = 2;
const RAW_REQUESTS = 20_000;
const QUEUED_JOBS = 200;
const MIN_REQUESTS_PER_SECOND = 2_000;
const MAX_SERVER_RSS_MB = 150;

const KEY = 'MyFirstPipeline/MyBuiltApp/bench.zip';
/** curl's object: the same bytes in one PutObject, under a key of its own so that each client
 *  downloads what it uploaded (the SDK's is stored as 16 MiB parts). */
const CURL_KEY = 'MyFirstPipeline/MyBuiltApp/bench-curl.zip';

const node = process.execPath;
const CURL = '/usr/bin/curl';
// Fixed paths under one temp folder, so the case commands can name them before setup runs.
const dir = mkdtempSync(join(tmpdir(), 'cpsync-bench-local-'));
const sourceFile = join(dir, 'artifact.bin');
const copyFile = join(dir, 'copy.bin');
const newCopyFile = join(dir, 'new-copy.bin');
const durableCopyFile = join(dir, 'durable-copy.bin');
const downloadFile = join(dir, 'download.bin');
const curlDownloadFile = join(dir, 'curl-download.bin');
const floorDownloadFile = join(dir, 'floor-download.bin');
const sinkDownloadFile = join(dir, 'sink-download.bin');
const floorDir = join(dir, 'floor');
const dataDir = join(dir, 'data');
const transferLog = join(dir, 'transfers.jsonl');
const cannedAnswers = join(dir, 'canned-answers.json');
// The client and the helper servers, transpiled to plain JavaScript in setup (bench/.out is
// git-ignored): no TypeScript loader in their start-up or their processes.
const OUT_DIR = join(REPO_ROOT, 'bench', '.out');
const script = (name: string) => join(OUT_DIR, `${name}.mjs`);
const clientScript = script('local-client');

const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.NODE_OPTIONS;
// The SDK transfers against the endpoint log their start-up and CPU; the sink's do not.
const loggedEnv: NodeJS.ProcessEnv = { ...env, CPSYNC_BENCH_LOG: transferLog };

/** A helper process and its URL; `pid` and `url` are known once setup has started it. */
interface Service {
  child?: ChildProcess;
  url: string;
}
const emulator: Service = { url: 'http://127.0.0.1:0' };
const sink: Service = { url: 'http://127.0.0.1:0' };
const floor: Service = { url: 'http://127.0.0.1:0' };
const canned: Service = { url: 'http://127.0.0.1:0' };
const pidOf = (service: Service) => service.child!.pid!;

let sourceMd5 = '';
let startRssKb = 0;

/** CPU time per timed run of a case: its own process (reaped children of this one) and, when it
 *  talks to one, the server's. */
interface CpuSamples {
  readonly client: number[];
  readonly server: number[];
}
const cpuSamples = new Map<string, CpuSamples>();

/** A case whose command line is built once setup has run (URLs), whose CPU time and that of
 *  `server` are recorded per timed run, and which may prepare each run outside the clock. */
function transferCase(name: string, command: string, args: () => string[], options: { server?: Service; env?: NodeJS.ProcessEnv; before?: () => void } = {}): Case {
  const samples: CpuSamples = { client: [], server: [] };
  cpuSamples.set(name, samples);
  let clientBefore = 0;
  let serverBefore = 0;
  return {
    name,
    command,
    get args() {
      return args();
    },
    env: options.env ?? env,
    before: () => {
      options.before?.();
      clientBefore = exitedChildrenCpuMs();
      serverBefore = options.server ? processCpuMs(pidOf(options.server)) : 0;
    },
    after: ({ timed }) => {
      if (!timed) return;
      samples.client.push(exitedChildrenCpuMs() - clientBefore);
      if (options.server) samples.server.push(processCpuMs(pidOf(options.server)) - serverBefore);
    },
  };
}

const s3Url = (service: Service, key: string) => `${service.url}/${ARTIFACT_BUCKET}/${key}`;
// SigV4 by curl itself; UNSIGNED-PAYLOAD so that it does not hash 1 GiB first (S3 accepts it).
const curlSigned = ['-sS', '--fail', '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${CREDENTIALS.accessKeyId}:${CREDENTIALS.secretAccessKey}`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD'];
// The artifact store's bucket policy refuses uploads that do not ask for SSE-KMS.
const curlUploadArgs = () => [...curlSigned, '-H', 'x-amz-server-side-encryption: aws:kms', '-T', sourceFile, '-o', '/dev/null', s3Url(emulator, CURL_KEY)];

const copy = transferCase('cp 1 GiB over an existing copy', 'cp', () => [sourceFile, copyFile]);
const newCopy = transferCase('cp 1 GiB to a new file', 'cp', () => [sourceFile, newCopyFile], { before: () => rmSync(newCopyFile, { force: true }) });
// What a durable copy costs: the copy, then fsync of it (`sync FILE`), as the endpoint fsyncs
// every upload before it answers.
const durableCopy = transferCase('cp + sync 1 GiB (durable copy)', 'sh', () => ['-c', 'cp -- "$0" "$1" && sync -- "$1"', sourceFile, durableCopyFile]);
const curlUpload = transferCase('curl upload 1 GiB (PutObject)', CURL, curlUploadArgs, { server: emulator });
const curlDownload = transferCase('curl download 1 GiB (GetObject)', CURL, () => [...curlSigned, '-o', curlDownloadFile, s3Url(emulator, CURL_KEY)], { server: emulator });
const floorDiscard = transferCase('floor: curl upload 1 GiB, Node server discards it', CURL, () => ['-sS', '--fail', '-T', sourceFile, '-o', '/dev/null', `${floor.url}/discard`], { server: floor });
const floorWrite = transferCase('floor: curl upload 1 GiB, Node server writes a file', CURL, () => ['-sS', '--fail', '-T', sourceFile, '-o', '/dev/null', `${floor.url}/write`], { server: floor });
const floorFsync = transferCase('floor: curl upload 1 GiB, Node server writes and fsyncs', CURL, () => ['-sS', '--fail', '-T', sourceFile, '-o', '/dev/null', `${floor.url}/fsync`], { server: floor });
const floorRead = transferCase('floor: curl download 1 GiB, Node server reads a file', CURL, () => ['-sS', '--fail', '-o', floorDownloadFile, `${floor.url}/read`], { server: floor });
const sdkUpload = transferCase('SDK upload 1 GiB (multipart)', node, () => [clientScript, 'upload', emulator.url, ARTIFACT_BUCKET, KEY, sourceFile], { server: emulator, env: loggedEnv });
const sdkDownload = transferCase('SDK download 1 GiB', node, () => [clientScript, 'download', emulator.url, ARTIFACT_BUCKET, KEY, downloadFile], { server: emulator, env: loggedEnv });
const clientStartup = transferCase('SDK client start-up only', node, () => [clientScript, 'noop']);
const sinkUpload = transferCase('SDK upload 1 GiB to a null sink (the SDK client alone)', node, () => [clientScript, 'upload', sink.url, ARTIFACT_BUCKET, KEY, sourceFile], { server: sink });
const sinkDownload = transferCase('SDK download 1 GiB from a null sink (the SDK client alone)', node, () => [clientScript, 'download', sink.url, ARTIFACT_BUCKET, KEY, sinkDownloadFile], { server: sink });

/** The client and the helper servers → bench/.out/*.mjs with the TypeScript compiler (types
 *  stripped, nothing bundled; none of them imports another bench file). */
async function compileScripts(): Promise<void> {
  const ts = (await import('typescript')).default;
  mkdirSync(OUT_DIR, { recursive: true });
  for (const name of ['local-client', 'null-s3', 'floor-http', 'canned-codepipeline']) {
    const source = readFileSync(join(REPO_ROOT, 'bench', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(script(name), outputText);
  }
}

/** Starts a process and resolves with the first match of `pattern` (group 1) on its stdout. */
function startPrinting(service: Service, args: string[], pattern: RegExp, label: string): Promise<void> {
  const child = spawn(node, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  service.child = child;
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} printed no URL within 30 s\n${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = pattern.exec(stdout);
      if (match) {
        clearTimeout(timer);
        service.url = match[1]!;
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited ${code}\n${stderr}`));
    });
  });
}

const URL_LINE = /^url (\S+)$/m;

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

/** The real answers of the endpoint to the rate checks' two calls, for the canned server. */
async function captureAnswers(): Promise<void> {
  const answers = {
    GetPipeline: await answerBody(emulator.url, await capturedRequest(emulator.url, new GetPipelineCommand(GET_PIPELINE_INPUT))),
    PollForJobs: await answerBody(emulator.url, await capturedRequest(emulator.url, new PollForJobsCommand(IDLE_POLL_INPUT))),
  };
  writeFileSync(cannedAnswers, JSON.stringify(answers));
}

const perRequest = (cpuMs: number, requests: number) => `${((cpuMs * 1000) / requests).toFixed(0)} µs`;
const perSecond = (requests: number, ms: number) => Math.round((requests / ms) * 1000).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const percent = (part: number, whole: number) => `${Math.round((part / whole) * 100)}%`;

/** How an SDK rate check is run and judged. */
type RateKind = 'two processes' | 'one process' | 'client ceiling';

function describeLoad(kind: RateKind, result: SdkLoadResult): string {
  const clientCpu = result.clients.reduce((sum, client) => sum + client.cpuMs, 0);
  const busy = result.clients.map((client) => percent(client.cpuMs, client.ms)).join(' and ');
  const server = kind === 'client ceiling' ? 'canned server' : 'server';
  const clients = result.clients.length > 1 ? `SDK clients ${perRequest(clientCpu, result.requests)} (both processes)` : `SDK client ${perRequest(clientCpu, result.requests)}`;
  return (
    `${perSecond(result.requests, result.ms)} requests/s (${seconds(result.ms)} in all; CPU per request: ${server} ${perRequest(result.serverCpuMs, result.requests)}, ${clients}; ` +
    `client process${result.clients.length > 1 ? 'es' : ''} busy ${busy} of a core)`
  );
}

/** GetPipeline or PollForJobs from the SDK, 16 in flight. Only the two-process kind is judged
 *  against the target; the others say what one client process can do. */
function sdkRate(label: string, operation: SdkLoad['operation'], input: object, kind: RateKind): Check {
  const judged = kind === 'two processes';
  const against = kind === 'client ceiling' ? 'a canned-answer server' : '`cpsync local`';
  const processes = kind === 'two processes' ? CLIENT_PROCESSES : 1;
  const how =
    processes > 1
      ? `${processes} SDK client processes at once, ${IN_FLIGHT / processes} in flight each (${IN_FLIGHT} in all)`
      : `one SDK client process, ${IN_FLIGHT} in flight`;
  return {
    name: `${label}: ${REQUESTS.toLocaleString('en-US')} requests to ${against} from ${how}${judged ? `, ≥ ${MIN_REQUESTS_PER_SECOND.toLocaleString('en-US')}/s` : ' (informational)'}`,
    run: async () => {
      const target = kind === 'client ceiling' ? canned : emulator;
      const load: SdkLoad = { operation, input, requests: REQUESTS, inFlight: IN_FLIGHT, warmup: WARMUP_REQUESTS, processes };
      try {
        const result = await runSdkLoad(clientScript, env, target.url, pidOf(target), load);
        const rate = (result.requests / result.ms) * 1000;
        return { ok: !judged || rate >= MIN_REQUESTS_PER_SECOND, detail: describeLoad(kind, result) };
      } catch (error) {
        return { ok: false, detail: (error as Error).message };
      }
    },
  };
}

/** What the endpoint serves when the client costs next to nothing: the SDK's own signed request,
 *  replayed over IN_FLIGHT keep-alive connections by bench/raw-http-load.ts. */
function capacity(name: string, command: () => GetPipelineCommand | PollForJobsCommand): Check {
  return {
    name: `${name}, endpoint capacity: ${RAW_REQUESTS.toLocaleString('en-US')} replays of the SDK's signed request over ${IN_FLIGHT} keep-alive connections (informational)`,
    run: async () => {
      const request = requestBytes(await capturedRequest(emulator.url, command()));
      await replayRequest(emulator.url, request, IN_FLIGHT, 2_000);
      const serverBefore = processCpuMs(pidOf(emulator));
      const clientBefore = process.cpuUsage();
      const { ms, statuses } = await replayRequest(emulator.url, request, IN_FLIGHT, RAW_REQUESTS);
      const clientCpu = process.cpuUsage(clientBefore);
      const serverCpu = processCpuMs(pidOf(emulator)) - serverBefore;
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
}

/** Medians of what each timed SDK transfer logged about itself (bench/local-client.ts). */
function sdkTransferBreakdown(mode: 'upload' | 'download'): Check {
  return {
    name: `where the SDK ${mode} time went: medians over the timed runs (informational)`,
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
      const transferMs = median((line) => line.transferMs);
      return {
        ok: true,
        detail:
          `client start-up ${seconds(median((line) => line.startupMs))}, then the transfer ${seconds(transferMs)} (${(ARTIFACT_SIZE / MiB / (transferMs / 1000)).toFixed(0)} MiB/s); ` +
          `SDK client CPU ${seconds(median((line) => line.clientCpuMs))} (start-up included); ${lines.length} runs`,
      };
    },
  };
}

const cpuCheck: Check = {
  name: 'CPU time (user + system) per run, medians over the timed runs: the command, and the server it talks to (informational; moves less than wall time when other work shares the machine)',
  run: async () => {
    const parts: string[] = [];
    for (const [name, samples] of cpuSamples) {
      if (!samples.client.length) continue;
      const client = seconds(quantile(samples.client, 0.5));
      parts.push(samples.server.length ? `${name}: ${client} + server ${seconds(quantile(samples.server, 0.5))}` : `${name}: ${client}`);
    }
    return { ok: parts.length > 0, detail: parts.join('; ') };
  },
};

let dispatchDetail = '';

const checks: Check[] = [
  {
    name: `server peak RSS while the 1 GiB uploads and downloads (SDK and curl) ran < ${MAX_SERVER_RSS_MB} MB`,
    run: async () => {
      const peakKb = memoryKb(pidOf(emulator), 'VmHWM');
      const detail = `VmHWM ${(peakKb / 1024).toFixed(0)} MiB (${((peakKb * 1024) / 1e6).toFixed(0)} MB); ${(startRssKb / 1024).toFixed(0)} MiB before timing`;
      return { ok: peakKb * 1024 < MAX_SERVER_RSS_MB * 1e6, detail };
    },
  },
  {
    name: 'the last SDK and curl downloads equal the generated file (MD5)',
    run: async () => {
      const sums = [await md5File(downloadFile), await md5File(curlDownloadFile)];
      const ok = sums.every((sum) => sum === sourceMd5);
      return { ok, detail: ok ? `md5 ${sourceMd5}` : `md5 ${sums.join(' and ')}, expected ${sourceMd5}` };
    },
  },
  cpuCheck,
  sdkTransferBreakdown('upload'),
  sdkTransferBreakdown('download'),
  sdkRate('GetPipeline', 'GetPipeline', GET_PIPELINE_INPUT, 'two processes'),
  sdkRate('GetPipeline', 'GetPipeline', GET_PIPELINE_INPUT, 'one process'),
  sdkRate('GetPipeline', 'GetPipeline', GET_PIPELINE_INPUT, 'client ceiling'),
  sdkRate('PollForJobs, no jobs for the type', 'PollForJobs', IDLE_POLL_INPUT, 'two processes'),
  sdkRate('PollForJobs, no jobs for the type', 'PollForJobs', IDLE_POLL_INPUT, 'one process'),
  sdkRate('PollForJobs, no jobs for the type', 'PollForJobs', IDLE_POLL_INPUT, 'client ceiling'),
  // The same polls while other jobs wait: they must neither slow down nor take those jobs.
  sdkRate(`PollForJobs, no jobs for the type while ${QUEUED_JOBS} wait for another`, 'PollForJobs', IDLE_POLL_INPUT, 'two processes'),
  sdkRate(`PollForJobs, no jobs for the type while ${QUEUED_JOBS} wait for another`, 'PollForJobs', IDLE_POLL_INPUT, 'one process'),
  {
    name: `PollForJobs that dispatch: the ${QUEUED_JOBS} queued jobs, one per poll, ${IN_FLIGHT} in flight (informational; all must still be there)`,
    run: async () => {
      const { dispatched, polls, ms } = await dispatchQueued(emulator.url, QUEUED_JOBS, IN_FLIGHT);
      dispatchDetail = `${dispatched} jobs dispatched one per poll in ${seconds(ms)} (${Math.round(polls / (ms / 1000))} polls/s, each dispatch journalled with fsync)`;
      return { ok: dispatched === QUEUED_JOBS, detail: dispatched === QUEUED_JOBS ? dispatchDetail : `${dispatched} of ${QUEUED_JOBS} queued jobs were dispatched` };
    },
  },
  capacity('GetPipeline', () => new GetPipelineCommand(GET_PIPELINE_INPUT)),
  capacity('PollForJobs, no jobs for the type', () => new PollForJobsCommand(IDLE_POLL_INPUT)),
];

export const benchmark: Benchmark = {
  name: 'local',
  title: 'local endpoint throughput and memory',
  description:
    '`cpsync local` in a child process of its own (`node dist/cli/main.js local --port 0 --data <tmp>`, durable state and fsync\'d objects as shipped), on a machine it shares with its clients. ' +
    '**Transfers**: a 1 GiB file of pseudo-random bytes uploaded to the pipelines\' artifact bucket (SSE aws:kms, which its bucket policy requires) and downloaded, timed against `cp` of the same file over an existing copy in the same folder (page cache, no fsync): the issue\'s baseline. ' +
    'The target, at least half of `cp`\'s throughput (at most 2× its time), is judged on curl (`/usr/bin/curl --aws-sigv4`, one PutObject with `UNSIGNED-PAYLOAD`, one GetObject), a client that costs little, so that the time is the endpoint\'s. ' +
    'The floor: the same curl commands against a minimal Node HTTP server (`bench/floor-http.ts`) that discards the body, writes it to a file, writes and fsyncs it, or serves a file: what any Node endpoint costs on this machine. ' +
    'Beside them: `cp` to a new file (the kernel copies without truncating a previous copy first), `cp` followed by `sync` (a copy as durable as an upload, which the endpoint fsyncs before answering), and the SDK client (`bench/local-client.ts` transpiled to JavaScript: `@aws-sdk/lib-storage` `Upload`, multipart, 16 MiB parts, 4 in flight; `GetObject` streamed to a file), against the endpoint and against a null sink that stores nothing (`bench/null-s3.ts`); the SDK cases are informational, the SDK client alone costs several times `cp` here. ' +
    '**Requests**: GetPipeline and PollForJobs from the SDK (`cacheMiddleware: true`, keep-alive), 16 in flight. The ≥ 2,000 requests/s target is judged with the load split between two client processes (8 in flight each), so that the endpoint, not one saturated client process, is measured; the one-process figures and the same client against a canned-answer server (`bench/canned-codepipeline.ts`, the client\'s own ceiling) are informational. ' +
    'The capacity checks replay the SDK\'s own signed request bytes from a raw HTTP client. Memory: the server\'s peak RSS (VmHWM, reset before timing) under 150 MB.',
  runs: 3,
  warmup: 0,
  setup: async () => {
    ensureBuilt();
    await compileScripts();
    process.stderr.write(`bench local: generating ${ARTIFACT_SIZE / MiB} MiB in ${dir}\n`);
    sourceMd5 = await generateArtifact();
    mkdirSync(floorDir);
    await startPrinting(emulator, [join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'local', '--port', '0', '--data', dataDir], /^export AWS_ENDPOINT_URL=(\S+)$/m, 'cpsync local');
    await startPrinting(sink, [script('null-s3'), String(ARTIFACT_SIZE)], URL_LINE, 'bench/null-s3');
    await startPrinting(floor, [script('floor-http'), floorDir, sourceFile], URL_LINE, 'bench/floor-http');
    await seedControlPlane(emulator.url, QUEUED_JOBS);
    await captureAnswers();
    await startPrinting(canned, [script('canned-codepipeline'), cannedAnswers], URL_LINE, 'bench/canned-codepipeline');
    // One untimed upload per client, so both objects exist whichever case runs first.
    for (const first of [sdkUpload, curlUpload]) {
      const result = await execTimed(first);
      if (result.exitCode !== 0) throw new Error(`first upload (${first.name}) failed: ${result.stderr}`);
    }
    rmSync(transferLog, { force: true });
    startRssKb = memoryKb(pidOf(emulator), 'VmRSS');
    // Reset the peak (VmHWM) to the current RSS: the check then reports the transfers only.
    writeFileSync(`/proc/${pidOf(emulator)}/clear_refs`, '5');
  },
  teardown: async () => {
    for (const { child } of [emulator, sink, floor, canned]) {
      if (!child || child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  },
  baseline: copy,
  cases: [curlUpload, curlDownload, floorDiscard, floorWrite, floorFsync, floorRead, newCopy, durableCopy, sdkUpload, sdkDownload, clientStartup, sinkUpload, sinkDownload],
  targets: [
    { case: curlUpload.name, maxRatio: 2 },
    { case: curlDownload.name, maxRatio: 2 },
  ],
  checks,
};

/** The judged transfers and the SDK's against the floor, the other copies and the null sink, from
 *  the same run's medians. */
function renderComparisons(result: BenchmarkResult): string {
  const medians = new Map([result.baseline, ...result.cases].map((measured) => [measured.case.name, measured.medianMs]));
  const ratio = (c: Case, against: Case) => {
    const ms = medians.get(c.name);
    const base = medians.get(against.name);
    return ms === undefined || base === undefined ? '?' : `${(ms / base).toFixed(2)}× (${seconds(ms)} against ${seconds(base)})`;
  };
  return [
    `The floor, a minimal Node server driven by the same curl commands, against \`${copy.name}\`: discarding the upload ${ratio(floorDiscard, copy)}, writing it ${ratio(floorWrite, copy)}, writing and fsyncing it ${ratio(floorFsync, copy)}, serving the download ${ratio(floorRead, copy)}.`,
    `The endpoint against that floor: curl upload ${ratio(curlUpload, floorFsync)} the write-and-fsync floor, curl download ${ratio(curlDownload, floorRead)} the read floor.`,
    `Against \`${newCopy.name}\`: curl upload ${ratio(curlUpload, newCopy)}, curl download ${ratio(curlDownload, newCopy)}.`,
    `Against \`${durableCopy.name}\`: curl upload ${ratio(curlUpload, durableCopy)}, SDK upload ${ratio(sdkUpload, durableCopy)}.`,
    `The SDK client against its null sink (what the endpoint adds to the client's own cost): upload ${ratio(sdkUpload, sinkUpload)}, download ${ratio(sdkDownload, sinkDownload)}.`,
  ].join(' ');
}

/** Runs the benchmark through the harness and adds the comparisons to its report. */
export async function run(options: RunOptions): Promise<{ ok: boolean; table: string }> {
  const result = await runBenchmark(benchmark, { ...options, write: false });
  const comparison = renderComparisons(result);
  if (options.write ?? true) writeDocsSection(benchmark.name, `${renderMarkdown(result)}\n\n${comparison}`);
  return { ok: result.ok, table: `${renderTable(result)}${comparison}\n` };
}
