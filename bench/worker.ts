// `cpsync worker` under load, against `cpsync local` (startLocalEndpoint with a data folder, durable as
// shipped) forked into a process of its own (bench/plan-endpoint.ts, which also counts requests):
//
// 1. Artifacts: a generated ~1 GiB tree (thousands of source-like text files, images, a few large
//    binaries; about half compressible) as a ZIP input artifact of a real job, downloaded and
//    extracted, and the tree zipped and uploaded as its output artifact (SSE-KMS), each by the
//    compiled `createArtifactTransfer()` in a child process (bench/worker-transfer.ts), against
//    `unzip -q` and `zip -qr` of the same files in the same run. Targets: within 1.5× of
//    unzip/zip; the worker-side process's peak RSS (VmHWM) under 200 MB.
// 2. Jobs: a no-op tool (`true` through the bundled `command` plugin, the input folder collected as
//    the output artifact) run by the compiled `cpsync worker`: 500 jobs at --concurrency 8 (jobs per
//    second, and the overhead per job with 8 jobs sharing the cores), then 100 jobs at
//    --concurrency 1, where queueing for the CPU does not dominate. Reported for each: the
//    worker's overhead per job (defined below) and its CPU time per job. Target < 50 ms, judged on
//    the concurrency-1 overhead and on CPU per job.
// 3. Idle: a fresh `cpsync worker` (default --poll-min 1s / --poll-max 30s) with no jobs for 60 s:
//    its CPU time (/proc/<pid>/stat) and every API call it makes (counted by the endpoint).
//    Targets: CPU < 1% of one core; at its most backed-off no more than one poll per few (3) s.
// 4. Long runs (bench/worker-long-run.ts, its own docs section): the details-link-first latency of
//    a 1-second tool and the API calls per hour that progress hops cost.
//
// Sizes can be scaled down for a quick try: CPSYNC_BENCH_ARTIFACT_BYTES, CPSYNC_BENCH_WORKER_JOBS,
// CPSYNC_BENCH_WORKER_SOLO_JOBS, CPSYNC_BENCH_IDLE_MS (docs are only meaningful with the defaults).
// For investigating: CPSYNC_BENCH_WORKER_ONLY=artifacts|jobs|jobs8|jobs1|idle|longrun runs one part
// (jobs: both job runs; writes no docs, except longrun, whose section is its own), and
// CPSYNC_BENCH_WORKER_PROFILE=DIR runs the worker processes with `node --cpu-prof` into DIR, and
// CPSYNC_BENCH_WORKER_LOG=FILE appends the workers' log lines to FILE.

import { seededRandom } from '../src/util/random.js';
import { startForkedEndpoint, type ForkedEndpoint as Endpoint } from './endpoint-process.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  AcknowledgeJobCommand,
  CodePipelineClient,
  CreatePipelineCommand,
  GetPipelineStateCommand,
  PollForJobsCommand,
  type ActionTypeId,
  type PipelineDeclaration,
} from '@aws-sdk/client-codepipeline';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import yazl from 'yazl';
import { ensureBuilt, execTimed, machineDescription, quantile, REPO_ROOT, writeDocsSection, type Case, type RunOptions } from './harness.js';
import type { TransferReport, TransferSpec } from './worker-transfer.js';
import type { TransferTarget } from '../src/worker/types.js';
import { projectActionType, sourceThenAction } from './fixtures.js';
import { longRunBenchmark, longRunVerdicts, renderLongRunMarkdown, renderLongRunTable } from './worker-long-run.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const ARTIFACT_BYTES = Number(process.env.CPSYNC_BENCH_ARTIFACT_BYTES ?? GiB);
const JOBS = Number(process.env.CPSYNC_BENCH_WORKER_JOBS ?? 500);
const SOLO_JOBS = Number(process.env.CPSYNC_BENCH_WORKER_SOLO_JOBS ?? 100);
const IDLE_MS = Number(process.env.CPSYNC_BENCH_IDLE_MS ?? 60_000);
const CONCURRENCY = 8;
/** Jobs each jobs run starts with and leaves out of its figures: the first job loads the S3 SDK
 *  (~1 s of CPU, once per worker process), which is start-up, not a job's cost. */
const WARMUP_JOBS = 10;
const ONLY = process.env.CPSYNC_BENCH_WORKER_ONLY;
const PROFILE_DIR = process.env.CPSYNC_BENCH_WORKER_PROFILE;
const LOG_COPY = process.env.CPSYNC_BENCH_WORKER_LOG;

const MAX_RATIO = 1.5;
const MAX_RSS_MB = 200;
const MAX_OVERHEAD_MS = 50;
const MAX_IDLE_CPU = 0.01;
const MIN_BACKED_OFF_GAP_S = 3;
/** --poll-min and --poll-max as shipped (docs/worker.md): 1 s and 30 s. */
const POLL_MIN_S = 1;
const POLL_MAX_S = 30;

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIDBENCHWORKER', secretAccessKey: 'bench-secret' };
const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const SOURCE_BUCKET = 'bench-source';
const ARTIFACT_BUCKET = 'codepipeline-us-east-1-bench';
const ARTIFACT_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Bench-Artifacts', version: '1' };
const NOOP_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Bench-Noop', version: '1' };

const node = process.execPath;
const cli = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const baseEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
for (const key of ['NODE_OPTIONS', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_CODEPIPELINE', 'AWS_ENDPOINT_URL_S3']) delete baseEnv[key];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MiB (${((kb * 1024) / 1e6).toFixed(0)} MB)`;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');

// ---------------------------------------------------------------------------------------------
// The endpoint (forked) and the SDK clients


function startEndpoint(dataDir: string): Promise<Endpoint> {
  return startForkedEndpoint(dataDir, 0, baseEnv);
}

async function inFlight<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Source (an S3 object) → Build (a custom type, SourceOut in, BuildOut out), KMS key on the store. */
function pipeline(name: string, type: ActionTypeId, sourceKey: string): PipelineDeclaration {
  return sourceThenAction({
    name,
    artifactStore: { type: 'S3', location: ARTIFACT_BUCKET, encryptionKey: { id: KMS_KEY_ARN, type: 'KMS' } },
    source: { bucket: SOURCE_BUCKET, key: sourceKey, artifact: 'SourceOut' },
    stage: 'Build',
    type,
    outputArtifact: 'BuildOut',
  });
}

/** The Build action's latest execution in each pipeline, once every one has a job (or `limitMs` passes). */
async function buildStates(cp: CodePipelineClient, names: readonly string[], want: (status: string | undefined) => boolean, limitMs: number) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const states = new Map<string, { status?: string; summary?: string }>();
    await inFlight(names, 16, async (name) => {
      const state = await cp.send(new GetPipelineStateCommand({ name }));
      const latest = state.stageStates?.find((stage) => stage.stageName === 'Build')?.actionStates?.[0]?.latestExecution;
      states.set(name, { ...(latest?.status ? { status: latest.status } : {}), ...(latest?.summary ? { summary: latest.summary } : {}) });
    });
    const waiting = [...states.values()].filter((state) => !want(state.status)).length;
    if (waiting === 0) return states;
    if (Date.now() > deadline) throw new Error(`${waiting} of ${names.length} Build actions did not reach the expected state`);
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. The artifact tree


/** Source-like text (identifiers from a vocabulary, numbers, punctuation): deflates about 3-4×. */
function textPool(random: () => number, size: number): Buffer {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = Array.from({ length: 2000 }, () => Array.from({ length: 3 + Math.floor(random() * 8) }, () => letters[Math.floor(random() * 26)]).join(''));
  // Skewed towards common words, as code and prose are.
  const word = () => words[Math.floor(words.length * random() ** 2)]!;
  const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const indent = '  '.repeat(Math.floor(random() * 4));
    const n = Math.floor(random() * 100_000);
    let line: string;
    switch (Math.floor(random() * 6)) {
      case 0:
        line = `${indent}const ${word()}${cap(word())} = ${word()}.${word()}(${word()}, ${n});`;
        break;
      case 1:
        line = `${indent}if (${word()} && ${word()}.${word()} !== ${n}) return ${word()};`;
        break;
      case 2:
        line = `${indent}// ${word()} ${word()} ${word()} ${word()} ${word()} ${word()}`;
        break;
      case 3:
        line = `${indent}export function ${word()}${cap(word())}(${word()}: ${cap(word())}, ${word()}: number): ${cap(word())} {`;
        break;
      case 4:
        line = `${indent}}`;
        break;
      default:
        line = `${indent}${word()}.${word()}("${word()}-${n}", ${(random() * 1000).toFixed(3)});`;
    }
    parts.push(line, '\n');
    length += line.length + 1;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

interface TreeStats {
  readonly files: number;
  readonly directories: number;
  readonly bytes: number;
  readonly textFiles: number;
  readonly textBytes: number;
  readonly randomFiles: number;
  readonly randomBytes: number;
  /** Size of each of the four binaries (counted in randomFiles/randomBytes too). */
  readonly binaryBytes: number;
}

/** ~`total` bytes: half source-like text in files of 1-128 KiB (src/), 3/8 incompressible "images"
 *  of 256 KiB-4 MiB (assets/), 1/8 in four incompressible "binaries" (bin/). */
export function generateTree(root: string, total: number): TreeStats {
  const random = seededRandom(20261125);
  const pool = textPool(random, 8 * MiB);
  const directories = new Set<string>();
  let textFiles = 0;
  let textBytes = 0;
  let randomFiles = 0;
  let randomBytes = 0;
  const ensureDir = (dir: string) => {
    if (directories.has(dir)) return;
    mkdirSync(join(root, dir), { recursive: true });
    directories.add(dir);
  };
  const block = Buffer.alloc(4 * MiB);
  const writeRandom = (path: string, size: number, mode = 0o644) => {
    const fd = openSync(join(root, path), 'w', mode);
    try {
      for (let written = 0; written < size; ) {
        const n = Math.min(block.length, size - written);
        randomFillSync(block, 0, n);
        written += writeSync(fd, block, 0, n);
      }
    } finally {
      closeSync(fd);
    }
    randomFiles += 1;
    randomBytes += size;
  };
  for (let i = 0; textBytes < total / 2; i++) {
    const dir = `src/module-${String(i % 48).padStart(2, '0')}/${['lib', 'test', 'util', 'api'][Math.floor(i / 48) % 4]}`;
    ensureDir(dir);
    const size = Math.min(Math.floor(KiB + random() * 127 * KiB), Math.ceil(total / 2 - textBytes));
    const offset = Math.floor(random() * (pool.length - size));
    writeFileSync(join(root, dir, `file-${i}.ts`), pool.subarray(offset, offset + size));
    textFiles += 1;
    textBytes += size;
  }
  ensureDir('assets/images');
  for (let i = 0; randomBytes < (total * 3) / 8; i++) {
    writeRandom(`assets/images/image-${i}.png`, Math.min(Math.floor(256 * KiB + random() * 3840 * KiB), Math.ceil((total * 3) / 8 - randomBytes)));
  }
  ensureDir('bin');
  const big = Math.floor((total - textBytes - randomBytes) / 4);
  for (let i = 0; i < 4; i++) writeRandom(`bin/tool-${i}`, big, 0o755);
  return { files: textFiles + randomFiles, directories: directories.size, bytes: textBytes + randomBytes, textFiles, textBytes, randomFiles, randomBytes, binaryBytes: big };
}

// ---------------------------------------------------------------------------------------------
// 1. Artifact transfer vs unzip / zip

interface ArtifactResult {
  readonly tree: TreeStats;
  readonly inputZipBytes: number;
  readonly outputZipBytes: number;
  readonly zipOutputBytes: number;
  readonly runs: number;
  readonly unzipMs: number[];
  readonly zipMs: number[];
  readonly download: TransferReport[];
  readonly upload: TransferReport[];
}

function toolsPresent(): string | undefined {
  const missing = ['zip', 'unzip'].filter((tool) => spawnSync(tool, ['-v'], { stdio: 'ignore' }).status !== 0);
  return missing.length ? missing.join(' and ') : undefined;
}

async function runTransfer(dir: string, spec: TransferSpec, index: number): Promise<TransferReport> {
  const specFile = join(dir, `transfer-${spec.op}-${index}.json`);
  writeFileSync(specFile, JSON.stringify(spec), { mode: 0o600 });
  const result = await execTimed({ name: spec.op, command: node, args: [...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []), '--import', 'tsx', join(REPO_ROOT, 'bench', 'worker-transfer.ts'), specFile], env: baseEnv });
  if (result.exitCode !== 0) throw new Error(`bench/worker-transfer.ts ${spec.op} exited with ${result.exitCode ?? result.signal}\n${result.stderr.slice(-3000)}`);
  const last = result.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as TransferReport;
}

async function timed(c: Case): Promise<number> {
  const result = await execTimed(c);
  if (result.exitCode !== 0) throw new Error(`${c.command} ${c.args.join(' ')} exited with ${result.exitCode ?? result.signal}\n${result.stderr.slice(-2000)}`);
  return result.ms;
}

async function artifactBenchmark(dir: string, endpoint: Endpoint, cp: CodePipelineClient, s3: S3Client, runs: number, say: (line: string) => void): Promise<ArtifactResult> {
  const tree = join(dir, 'tree');
  const stats = generateTree(tree, ARTIFACT_BYTES);
  say(`generated ${stats.files} files in ${stats.directories} folders, ${mib(stats.bytes)} (${mib(stats.textBytes)} text in ${stats.textFiles} files, ${mib(stats.randomBytes)} incompressible in ${stats.randomFiles})`);

  // The input artifact is the tree as `zip -qr` makes it: the first zip baseline run's output.
  const inputZip = join(dir, 'input.zip');
  const zipMs: number[] = [await timed({ name: 'zip', command: 'zip', args: ['-qr', inputZip, '.'], cwd: tree, env: baseEnv })];
  const inputZipBytes = statSync(inputZip).size;
  say(`zip -qr: ${secs(zipMs[0]!)}, ${mib(inputZipBytes)}; uploading it as the source object of a job`);
  await new Upload({ client: s3, params: { Bucket: SOURCE_BUCKET, Key: 'big.zip', Body: createReadStream(inputZip, { highWaterMark: MiB }) }, partSize: 16 * MiB, queueSize: 4 }).done();
  await cp.send(new CreatePipelineCommand({ pipeline: pipeline('Artifacts', ARTIFACT_TYPE, 'big.zip') }));
  await buildStates(cp, ['Artifacts'], (status) => status === 'InProgress', 120_000);
  const { jobs } = await cp.send(new PollForJobsCommand({ actionTypeId: ARTIFACT_TYPE, maxBatchSize: 1 }));
  const job = jobs?.[0];
  if (!job?.id || !job.nonce || !job.data) throw new Error('no job for the artifact pipeline');
  await cp.send(new AcknowledgeJobCommand({ jobId: job.id, nonce: job.nonce }));
  const credentials = job.data.artifactCredentials!;
  const targetOf = (artifact: NonNullable<typeof job.data.inputArtifacts>[number]): TransferTarget => ({
    location: { name: artifact.name!, bucketName: artifact.location!.s3Location!.bucketName!, objectKey: artifact.location!.s3Location!.objectKey! },
    credentials: { accessKeyId: credentials.accessKeyId!, secretAccessKey: credentials.secretAccessKey!, sessionToken: credentials.sessionToken! },
    region: REGION,
    endpoint: endpoint.url,
  });
  const input = targetOf(job.data.inputArtifacts![0]!);
  const output = targetOf(job.data.outputArtifacts![0]!);
  const kmsKeyId = job.data.encryptionKey?.id;

  const unzipMs: number[] = [];
  const download: TransferReport[] = [];
  const upload: TransferReport[] = [];
  let zipOutputBytes = inputZipBytes;
  const cases: Array<(round: number) => Promise<string>> = [
    async (round) => {
      const into = join(dir, `unzip-${round}`);
      unzipMs.push(await timed({ name: 'unzip', command: 'unzip', args: ['-q', inputZip, '-d', into], env: baseEnv }));
      rmSync(into, { recursive: true, force: true });
      return `unzip ${secs(unzipMs.at(-1)!)}`;
    },
    async (round) => {
      const into = join(dir, `ws-${round}`, 'inputs', 'SourceOut');
      const report = await runTransfer(dir, { op: 'download', target: input, directory: into }, round);
      if (report.files !== stats.files || report.bytes !== stats.bytes) throw new Error(`extracted ${report.files} files, ${report.bytes} bytes; the tree has ${stats.files} files, ${stats.bytes} bytes`);
      download.push(report);
      rmSync(join(dir, `ws-${round}`), { recursive: true, force: true });
      return `download+extract ${secs(report.ms)} (VmHWM ${mb(report.hwmKb)})`;
    },
    async (round) => {
      const out = join(dir, `zip-${round}.zip`);
      zipMs.push(await timed({ name: 'zip', command: 'zip', args: ['-qr', out, '.'], cwd: tree, env: baseEnv }));
      zipOutputBytes = statSync(out).size;
      rmSync(out, { force: true });
      return `zip ${secs(zipMs.at(-1)!)}`;
    },
    async (round) => {
      const report = await runTransfer(dir, { op: 'upload', target: output, directory: tree, ...(kmsKeyId ? { kmsKeyId } : {}) }, round);
      if (report.files !== stats.files) throw new Error(`zipped ${report.files} files; the tree has ${stats.files}`);
      upload.push(report);
      return `zip+upload ${secs(report.ms)} (VmHWM ${mb(report.hwmKb)})`;
    },
  ];
  // Round 1 is zip (timed above), unzip, download, upload; then rounds alternate between reverse and
  // forward order (the zip is in each of them), so drift on the machine spreads over all four.
  const [unzipCase, downloadCase, zipCase, uploadCase] = cases as [(round: number) => Promise<string>, (round: number) => Promise<string>, (round: number) => Promise<string>, (round: number) => Promise<string>];
  for (let round = 0; round < runs; round++) {
    const order = round === 0 ? [unzipCase, downloadCase, uploadCase] : round % 2 === 1 ? [uploadCase, zipCase, downloadCase, unzipCase] : [zipCase, unzipCase, downloadCase, uploadCase];
    const done: string[] = [];
    for (const c of order) done.push(await c(round));
    say(`artifacts round ${round + 1}/${runs}: ${done.join(', ')}`);
  }
  const head = await s3.send(new HeadObjectCommand({ Bucket: output.location.bucketName, Key: output.location.objectKey }));
  if (head.ServerSideEncryption !== 'aws:kms') throw new Error(`the output artifact was stored with ${head.ServerSideEncryption ?? 'no'} encryption, not aws:kms`);
  rmSync(inputZip, { force: true });
  rmSync(tree, { recursive: true, force: true });
  return { tree: stats, inputZipBytes, outputZipBytes: head.ContentLength ?? 0, zipOutputBytes, runs, unzipMs, zipMs, download, upload };
}

// ---------------------------------------------------------------------------------------------
// 2 and 3. The compiled `cpsync worker`

function actionsYaml(): string {
  return `# Generated by bench/worker.ts: a no-op tool; the input folder is collected as the output artifact.
actionTypes:
  - category: ${NOOP_TYPE.category}
    provider: ${NOOP_TYPE.provider}
    version: "${NOOP_TYPE.version}"
    configurationProperties:
      - { name: ProjectName, required: true, key: true, secret: false, queryable: false, type: String }
    inputArtifactDetails: { minimumCount: 1, maximumCount: 1 }
    outputArtifactDetails: { minimumCount: 1, maximumCount: 1 }
    executor:
      plugin: command
      options:
        argv: ["true"]
        outputs: { BuildOut: inputs/SourceOut }
`;
}

/** A small source artifact: a dozen text files (~60 KiB). */
function smallZip(): Promise<Buffer> {
  const random = seededRandom(7);
  const pool = textPool(random, 256 * KiB);
  const zip = new yazl.ZipFile();
  for (let i = 0; i < 12; i++) {
    const size = 1 * KiB + Math.floor(random() * 9 * KiB);
    const offset = Math.floor(random() * (pool.length - size));
    zip.addBuffer(pool.subarray(offset, offset + size), `src/file-${i}.ts`, { mtime: new Date(2026, 0, 1), mode: 0o100644 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

interface LogLine {
  readonly time: string;
  readonly level: string;
  readonly msg: string;
  readonly job?: string;
  readonly pipeline?: string;
  readonly [field: string]: unknown;
}

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitFor(what: string, match: (line: LogLine) => boolean, limitMs: number): Promise<LogLine>;
  /** CPU time (user + system) used so far, from /proc/<pid>/stat. */
  cpuMs(): number;
  status(field: 'VmHWM' | 'VmRSS'): number;
  stop(): Promise<number | null>;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function startWorkerProcess(project: string, workDir: string, url: string, args: readonly string[]): WorkerProcess {
  const env = { ...baseEnv, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey };
  const profile = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];
  const child = spawn(node, [...profile, cli, 'worker', '--log-format', 'json', '--work-dir', workDir, '--endpoint-url', url, ...args], { cwd: project, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  let other = '';
  const logCopy = LOG_COPY ? createWriteStream(LOG_COPY, { flags: 'a' }) : undefined;
  createInterface({ input: child.stderr! }).on('line', (text) => {
    logCopy?.write(`${text}\n`);
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      other += `${text}\n`;
      return;
    }
    lines.push(line);
    for (const waiter of waiters) {
      if (!waiter.match(line)) continue;
      waiters.delete(waiter);
      waiter.resolve(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pid = child.pid!;
  return {
    child,
    lines,
    waitFor: (what, match, limitMs) => {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (line: LogLine) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`cpsync worker: gave up waiting for ${what}\n${other}${lines.slice(-5).map((line) => JSON.stringify(line)).join('\n')}`));
        }, limitMs);
        waiters.add(waiter);
        void exited.then((code) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`cpsync worker exited (${code}) while waiting for ${what}\n${other}${lines.slice(-5).map((line) => JSON.stringify(line)).join('\n')}`));
        });
      });
    },
    cpuMs: () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    },
    status: (field) => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match ? Number(match[1]) : Number.NaN;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

const isStarted = (line: LogLine) => line.msg.startsWith('worker polling');
const TOOL_TIME = /command exited 0 in (\d+(?:\.\d+)?)(ms|s)\b/;

interface JobsResult {
  readonly concurrency: number;
  /** Jobs measured (after the warm-up). */
  readonly jobs: number;
  /** Jobs run first and left out of every figure (the first job loads the S3 SDK). */
  readonly warmup: number;
  readonly wallMs: number;
  /** First measured acknowledgement to last report. */
  readonly spanMs: number;
  readonly jobsPerSecond: number;
  readonly perJobMs: number[];
  readonly toolMs: number[];
  readonly overheadMs: number[];
  readonly cpuPerJobMs: number;
  readonly startupMs: number;
  readonly hwmKb: number;
  readonly requests: Record<string, number>;
  /** The endpoint's service time per measured job for the calls a job makes between its
   *  acknowledgement and its report (GetObject, PutObject, PutJobSuccessResult, GetJobDetails). */
  readonly endpointMsPerJob: number;
  /** Median ms per phase, from the timings on the worker's `job succeeded` lines: download and
   *  extract, the plugin (tool included), zip and upload, and the report (the line's time minus
   *  the acknowledgement's and the job's duration). */
  readonly phases: { readonly input: number; readonly run: number; readonly output: number; readonly report: number };
}

/** The calls a job makes between its acknowledgement and its report: their time is the endpoint's. */
const IN_WINDOW_CALLS = ['s3:GET', 's3:PUT', 'PutJobSuccessResult', 'GetJobDetails'];

/** The small source object every no-op pipeline reads, uploaded once. */
let smallUploaded: Promise<string> | undefined;

/** `jobs` measured jobs (after `warmup` more) of the no-op tool, one pipeline each, run by a fresh
 *  `cpsync worker --concurrency N`. CPU per job is the worker's user + system time from the
 *  warm-up's last report to the last report, ÷ `jobs`. */
async function jobsBenchmark(dir: string, endpoint: Endpoint, cp: CodePipelineClient, s3: S3Client, project: string, run: { readonly label: string; readonly concurrency: number; readonly jobs: number; readonly warmup: number }, say: (line: string) => void): Promise<JobsResult> {
  smallUploaded ??= smallSource(s3);
  await smallUploaded;
  const total = run.jobs + run.warmup;
  // One pipeline per job, so each job's own tool time can be read back from GetPipelineState.
  const names = Array.from({ length: total }, (_, i) => `${run.label}-${String(i).padStart(3, '0')}`);
  await inFlight(names, 8, (name) => cp.send(new CreatePipelineCommand({ pipeline: pipeline(name, NOOP_TYPE, 'small.zip') })));
  await buildStates(cp, names, (status) => status === 'InProgress', 120_000);
  say(`${total} pipelines created, each with a job waiting; starting cpsync worker --concurrency ${run.concurrency} (the first ${run.warmup} jobs are a warm-up)`);

  await endpoint.stats(true);
  const spawned = performance.now();
  const worker = startWorkerProcess(project, join(dir, `work-${run.label}`), endpoint.url, ['--concurrency', String(run.concurrency)]);
  let cpuAtStart = Number.NaN;
  let cpuAtEnd: number;
  let hwmKb: number;
  let startupMs: number;
  let wallMs: number;
  try {
    await worker.waitFor('start-up', isStarted, 60_000);
    startupMs = performance.now() - spawned;
    if (run.warmup === 0) {
      cpuAtStart = worker.cpuMs();
      await endpoint.stats(true);
    }
    let reported = 0;
    const failed = (line: LogLine) => line.msg.startsWith('job failed') || line.level === 'error';
    const end = await worker.waitFor(`${total} reported jobs`, (line) => {
      if (line.msg === 'job succeeded') {
        reported += 1;
        if (reported === run.warmup) {
          cpuAtStart = worker.cpuMs();
          // Count requests from here on (a reset racing the next job's first call is harmless).
          void endpoint.stats(true);
        }
      }
      return failed(line) || reported === total;
    }, 600_000);
    if (failed(end)) throw new Error(`a job did not succeed: ${JSON.stringify(end)}`);
    cpuAtEnd = worker.cpuMs();
    hwmKb = worker.status('VmHWM');
    wallMs = performance.now() - spawned;
  } finally {
    await worker.stop();
  }
  const stats = await endpoint.stats(true);

  const acknowledged = new Map<string, { at: number; pipeline: string }>();
  const succeeded = new Map<string, number>();
  const timings = new Map<string, { durationMs: number; inputMs: number; outputMs: number }>();
  for (const line of worker.lines) {
    if (!line.job) continue;
    if (line.msg === 'job acknowledged') acknowledged.set(line.job, { at: Date.parse(line.time), pipeline: line.pipeline ?? '' });
    if (line.msg === 'job succeeded') {
      succeeded.set(line.job, Date.parse(line.time));
      timings.set(line.job, { durationMs: Number(line.durationMs), inputMs: Number(line.inputMs), outputMs: Number(line.outputMs) });
    }
  }
  if (acknowledged.size !== total) throw new Error(`${acknowledged.size} jobs acknowledged in the log, expected ${total}`);
  // The warm-up: the first jobs reported.
  const warm = new Set([...succeeded].sort((a, b) => a[1] - b[1]).slice(0, run.warmup).map(([job]) => job));
  for (const job of warm) acknowledged.delete(job);
  const measuredTimings = [...timings].filter(([job]) => !warm.has(job)).map(([job, t]) => ({ ...t, reportMs: (succeeded.get(job) as number) - (acknowledged.get(job)?.at as number) - t.durationMs }));
  const phase = (of: (t: (typeof measuredTimings)[number]) => number) => quantile(measuredTimings.map(of).filter(Number.isFinite), 0.5);
  const states = await buildStates(cp, names, (status) => status === 'Succeeded', 30_000);
  const perJobMs: number[] = [];
  const toolMs: number[] = [];
  const overheadMs: number[] = [];
  for (const [job, { at, pipeline: name }] of acknowledged) {
    const end = succeeded.get(job);
    const summary = states.get(name)?.summary ?? '';
    const match = TOOL_TIME.exec(summary);
    if (end === undefined || !match) throw new Error(`job ${job} (${name}): no report in the log or no tool time in the summary ${JSON.stringify(summary)}`);
    const tool = Number(match[1]) * (match[2] === 's' ? 1000 : 1);
    perJobMs.push(end - at);
    toolMs.push(tool);
    overheadMs.push(end - at - tool);
  }
  const first = Math.min(...[...acknowledged.values()].map((entry) => entry.at));
  const last = Math.max(...succeeded.values());
  return {
    concurrency: run.concurrency,
    jobs: run.jobs,
    warmup: run.warmup,
    wallMs,
    spanMs: last - first,
    jobsPerSecond: run.jobs / ((last - first) / 1000),
    perJobMs,
    toolMs,
    overheadMs,
    cpuPerJobMs: (cpuAtEnd - cpuAtStart) / run.jobs,
    startupMs,
    hwmKb,
    requests: stats.requests,
    endpointMsPerJob: IN_WINDOW_CALLS.reduce((sum, operation) => sum + (stats.serviceMs[operation] ?? 0), 0) / run.jobs,
    phases: { input: phase((t) => t.inputMs), run: phase((t) => t.durationMs - t.inputMs - t.outputMs), output: phase((t) => t.outputMs), report: phase((t) => t.reportMs) },
  };
}

/** The small source artifact, uploaded once (the jobs part uploads the same object). */
async function smallSource(s3: S3Client): Promise<string> {
  await s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: 'small.zip', Body: await smallZip() }));
  return 'small.zip';
}

function longRunWorker(endpoint: Endpoint) {
  return (project: string, workDir: string, args: readonly string[]) => {
    const worker = startWorkerProcess(project, workDir, endpoint.url, args);
    return { waitStarted: () => worker.waitFor('start-up', isStarted, 60_000).then(() => undefined), stop: () => worker.stop(), tail: (n: number) => worker.lines.slice(-n).map((line) => JSON.stringify(line)).join('\n') };
  };
}

interface IdleResult {
  readonly windowMs: number;
  readonly cpuMs: number;
  readonly startupCpuMs: number;
  readonly rssKb: number;
  readonly requests: Record<string, number>;
  /** Seconds into the window of each PollForJobs. */
  readonly polls: number[];
}

async function idleBenchmark(dir: string, endpoint: Endpoint, project: string, say: (line: string) => void): Promise<IdleResult> {
  say(`idle: a fresh cpsync worker, default poll bounds, no jobs, for ${secs(IDLE_MS)}`);
  const worker = startWorkerProcess(project, join(dir, 'work-idle'), endpoint.url, []);
  try {
    await worker.waitFor('start-up', isStarted, 60_000);
    // The window starts when the worker starts polling: reset the endpoint's counts and read the CPU.
    await endpoint.stats(true);
    const startupCpuMs = worker.cpuMs();
    const begin = performance.now();
    await sleep(IDLE_MS);
    const cpuMs = worker.cpuMs() - startupCpuMs;
    const windowMs = performance.now() - begin;
    const rssKb = worker.status('VmRSS');
    const stats = await endpoint.stats(true, true);
    const polls = (stats.timeline ?? []).filter(([, operation]) => operation === 'PollForJobs').map(([ms]) => ms / 1000);
    return { windowMs, cpuMs, startupCpuMs, rssKb, requests: stats.requests, polls };
  } finally {
    await worker.stop();
  }
}

/** Polls once the back-off cap has reached --poll-max (from the 6th empty poll: 1 s × 2^5 ≥ 30 s). */
function backedOff(idle: IdleResult): { from: number; polls: number; seconds: number; meanGapS: number } {
  const capStreak = Math.ceil(Math.log2(POLL_MAX_S / POLL_MIN_S)) + 1;
  const windowS = idle.windowMs / 1000;
  const from = idle.polls[capStreak - 1] ?? windowS;
  const polls = idle.polls.filter((at) => at > from).length;
  const seconds = windowS - from;
  return { from, polls, seconds, meanGapS: polls ? seconds / polls : Number.POSITIVE_INFINITY };
}

// ---------------------------------------------------------------------------------------------
// Report

interface Results {
  readonly date: Date;
  readonly machine: string;
  readonly load: number;
  readonly totalMs: number;
  readonly artifacts: ArtifactResult;
  /** Concurrency 8. */
  readonly jobs: JobsResult;
  /** Concurrency 1. */
  readonly solo: JobsResult;
  readonly idle: IdleResult;
}

function verdicts(r: Results) {
  const a = r.artifacts;
  const downloadRatio = quantile(a.download.map((x) => x.ms), 0.5) / quantile(a.unzipMs, 0.5);
  const uploadRatio = quantile(a.upload.map((x) => x.ms), 0.5) / quantile(a.zipMs, 0.5);
  const peakKb = Math.max(...a.download.map((x) => x.hwmKb), ...a.upload.map((x) => x.hwmKb));
  const overhead = quantile(r.solo.overheadMs, 0.5);
  // The worker's own: the endpoint's service time on the job's calls taken out, as the tool's is
  // (against AWS those calls take tens of milliseconds each, whatever the worker does).
  const ownOverhead = overhead - r.solo.endpointMsPerJob;
  const cpuPerJob = Math.max(r.jobs.cpuPerJobMs, r.solo.cpuPerJobMs);
  const idleCpu = r.idle.cpuMs / r.idle.windowMs;
  const backed = backedOff(r.idle);
  return {
    downloadRatio,
    uploadRatio,
    peakKb,
    overhead,
    ownOverhead,
    cpuPerJob,
    idleCpu,
    backed,
    ok: {
      download: downloadRatio <= MAX_RATIO,
      upload: uploadRatio <= MAX_RATIO,
      memory: (peakKb * 1024) / 1e6 < MAX_RSS_MB,
      overhead: ownOverhead < MAX_OVERHEAD_MS,
      idleCpu: idleCpu < MAX_IDLE_CPU,
      polls: backed.meanGapS >= MIN_BACKED_OFF_GAP_S,
    },
  };
}

const ops = (requests: Record<string, number>) =>
  Object.entries(requests)
    .map(([operation, n]) => `${operation} ${n}`)
    .join(', ');

function renderMarkdown(r: Results): string {
  const a = r.artifacts;
  const j = r.jobs;
  const s = r.solo;
  const v = verdicts(r);
  const med = (values: readonly number[]) => quantile(values, 0.5);
  const p90 = (values: readonly number[]) => quantile(values, 0.9);
  const ms1 = (value: number) => `${value.toFixed(1)} ms`;
  const row = (name: string, command: string, samples: readonly number[], ratio?: number, ok?: boolean, memoryKb?: number) =>
    `| ${name} | ${command} | ${secs(med(samples))} | ${samples.length > 1 ? secs(Math.max(...samples)) : '—'} | ${ratio === undefined ? '—' : `${ratio.toFixed(2)}× (≤ ${MAX_RATIO}×) ${pass(ok!)}`} | ${memoryKb === undefined ? '—' : mb(memoryKb)} |`;
  const t = a.tree;
  const idle = r.idle;
  const b = v.backed;
  const gaps = idle.polls.map((at, i) => (i === 0 ? at : at - idle.polls[i - 1]!));
  return [
    '## worker: cpsync worker artifacts, job throughput and idle cost',
    '',
    "`cpsync worker` against `cpsync local` (`startLocalEndpoint` with a data folder, durable as shipped, forked into a process of its own by `bench/plan-endpoint.ts`, which counts requests). **Artifacts:** a generated tree as a real job's ZIP input artifact, downloaded and extracted, and zipped and uploaded (SSE-KMS) as its output, each by the compiled `createArtifactTransfer()` (default options) in a child process (`bench/worker-transfer.ts`, under tsx, as a worker is once it loads a TypeScript plugin of the project's own: the worst case for memory), against `unzip -q` and `zip -qr` of the same files. **Jobs:** 500 jobs of a no-op tool (`true` through the bundled `command` plugin; the small input folder collected as the output artifact) run by the compiled `cpsync worker --concurrency 8`. **Idle:** a fresh `cpsync worker` (default `--poll-min 1s --poll-max 30s`) with no jobs for 60 s. Targets: artifact handling within 1.5× of unzip/zip with the worker-side process's peak RSS under 200 MB; overhead per job under 50 ms; idle CPU under 1% and, at its most backed-off, no more than one poll per few (3) seconds.",
    '',
    `Measured ${r.date.toISOString().slice(0, 10)} on ${r.machine}; 1-minute load average ${r.load.toFixed(2)} at the start; ${(r.totalMs / 60_000).toFixed(1)} min in all. Run with \`npm run bench -- worker\` (\`--runs N\`: artifact rounds, default 1).`,
    '',
    `**1. Artifacts** — ${t.files} files in ${t.directories} folders, ${mib(t.bytes)}: ${mib(t.textBytes)} of source-like text in ${t.textFiles} files of 1–128 KiB, ${mib(t.randomBytes)} incompressible in ${t.randomFiles} files (images of 0.25–4 MiB, four binaries of ${mib(t.binaryBytes)}). Input ZIP (made by \`zip -qr\`): ${mib(a.inputZipBytes)}; the worker's output ZIP: ${mib(a.outputZipBytes)} (zip's: ${mib(a.zipOutputBytes)}). ${a.runs} round${a.runs > 1 ? 's' : ''} (zip, unzip, download, upload; further rounds alternate reverse and forward order). Worker times are the transfer itself, measured in its process (its start-up, ~0.5 s, excluded: a worker is long-running); they include every request to the endpoint, which writes and fsyncs what it receives.`,
    '',
    '| case | command | median | max | ratio (median) | peak RSS (VmHWM) |',
    '|---|---|---:|---:|---|---:|',
    row('unzip (baseline)', '`unzip -q input.zip -d DIR`', a.unzipMs),
    row('download + extract', '`downloadAndExtract()`', a.download.map((x) => x.ms), v.downloadRatio, v.ok.download, Math.max(...a.download.map((x) => x.hwmKb))),
    row('zip (baseline)', '`zip -qr out.zip .`', a.zipMs),
    row('zip + upload', '`zipAndUpload()`', a.upload.map((x) => x.ms), v.uploadRatio, v.ok.upload, Math.max(...a.upload.map((x) => x.hwmKb))),
    '',
    `Worker CPU (user + system, all threads), median: download + extract ${secs(med(a.download.map((x) => x.cpuMs)))}, zip + upload ${secs(med(a.upload.map((x) => x.cpuMs)))}. RSS before the transfer (SDK loaded): ${mb(med(a.download.map((x) => x.rssBeforeKb)))}.`,
    '',
    `**2. Jobs** — a no-op tool, one pipeline per job, run by a fresh \`cpsync worker\` twice: ${j.jobs} jobs at concurrency ${j.concurrency}, then ${r.solo.jobs} jobs at concurrency 1 (where queueing for the CPU does not dominate). Each run starts with ${j.warmup} more jobs, left out of every figure (the first job loads the S3 SDK, ~1 s of CPU once per worker process). **Overhead per job** = time from the worker's \`job acknowledged\` log line to its \`job succeeded\` line (the result reported) minus the tool's own run time (spawn to exit of \`true\` as the exec gateway measured it, read back from the action's summary \`command exited 0 in …\`). It covers the ledger writes, the workspace, downloading and extracting the input, the plugin, collecting and zipping the output, uploading it and PutJobSuccessResult, the endpoint's answers included. **The worker's own overhead** takes out, as the tool's time is taken out, the endpoint's service time on the calls a job makes in that window (GetObject, PutObject, PutJobSuccessResult, GetJobDetails: arrival to the end of the answer, measured in the endpoint process, summed and divided by the jobs measured): against AWS those calls take tens of milliseconds each whatever the worker does. The target (< ${MAX_OVERHEAD_MS} ms) is judged on it at concurrency 1; at concurrency 8 every figure includes waiting for ${availableParallelism()} cores shared by 8 jobs, their tools and the endpoint. **CPU per job** = user + system time of the worker process (all threads) from the warm-up's last report to the last report, ÷ the jobs measured (the tools' own CPU not included; the fork of each tool, which runs in the worker, is): what a job costs the runner, informational.`,
    '',
    '| per job | concurrency 8: median | p90 | concurrency 1: median | p90 | target |',
    '|---|---:|---:|---:|---:|---|',
    `| acknowledged → reported | ${ms1(med(j.perJobMs))} | ${ms1(p90(j.perJobMs))} | ${ms1(med(s.perJobMs))} | ${ms1(p90(s.perJobMs))} | |`,
    `| tool (\`true\`) | ${ms1(med(j.toolMs))} | ${ms1(p90(j.toolMs))} | ${ms1(med(s.toolMs))} | ${ms1(p90(s.toolMs))} | |`,
    `| overhead (acknowledged → reported − tool) | ${ms1(med(j.overheadMs))} | ${ms1(p90(j.overheadMs))} | ${ms1(v.overhead)} | ${ms1(p90(s.overheadMs))} | |`,
    `| the endpoint's service time on the job's calls (mean) | ${ms1(j.endpointMsPerJob)} | | ${ms1(s.endpointMsPerJob)} | | |`,
    `| **the worker's own overhead** (overhead − endpoint) | | | **${ms1(v.ownOverhead)}** | | < ${MAX_OVERHEAD_MS} ms ${pass(v.ok.overhead)} |`,
    `| worker CPU (all threads, the fork of each tool included) | ${ms1(j.cpuPerJobMs)} | | ${ms1(s.cpuPerJobMs)} | | (capacity, informational) |`,
    '',
    `Concurrency 8: **${j.jobsPerSecond.toFixed(1)} jobs/s** from the first measured acknowledgement to the last report (${secs(j.spanMs)}; ${secs(j.wallMs)} from spawning the worker, of which start-up ${secs(j.startupMs)}); median phases (from the timings on each job's \`job succeeded\` line) download + extract ${j.phases.input} ms, plugin (tool included) ${j.phases.run} ms, zip + upload ${j.phases.output} ms, report ${j.phases.report} ms; worker peak RSS ${mb(j.hwmKb)}. Concurrency 1: ${s.jobsPerSecond.toFixed(1)} jobs/s; phases ${s.phases.input}, ${s.phases.run}, ${s.phases.output}, ${s.phases.report} ms; peak RSS ${mb(s.hwmKb)}. Requests the endpoint answered during the measured concurrency-8 jobs: ${ops(j.requests)}.`,
    '',
    `**3. Idle** — ${secs(idle.windowMs)} from the worker's first poll: CPU ${ms1(idle.cpuMs)} = **${(v.idleCpu * 100).toFixed(3)}%** of one core (< 1% ${pass(v.ok.idleCpu)}; start-up before it took ${ms1(idle.startupCpuMs)}); RSS at the end ${mb(idle.rssKb)}. API calls: ${ops(idle.requests) || 'none'}. PollForJobs at ${idle.polls.map((at) => `${at.toFixed(1)}`).join(', ')} s (gaps ${gaps.slice(1).map((gap) => gap.toFixed(1)).join(', ')} s). Most backed-off (from the ${Math.ceil(Math.log2(POLL_MAX_S / POLL_MIN_S)) + 1}th poll on, when the cap reaches --poll-max: gaps uniform in 1–30 s, 15.5 s on average): ${b.polls} poll${b.polls === 1 ? '' : 's'} in the last ${b.seconds.toFixed(1)} s${b.polls ? `, one per ${b.meanGapS.toFixed(1)} s` : ''} (≥ ${MIN_BACKED_OFF_GAP_S} s ${pass(v.ok.polls)}).`,
  ].join('\n');
}

function renderTable(r: Results): string {
  const v = verdicts(r);
  const a = r.artifacts;
  const med = (values: readonly number[]) => quantile(values, 0.5);
  return [
    `worker: ${r.machine}, load ${r.load.toFixed(2)}, ${(r.totalMs / 60_000).toFixed(1)} min`,
    `  unzip ${secs(med(a.unzipMs))}; download+extract ${secs(med(a.download.map((x) => x.ms)))}: ${v.downloadRatio.toFixed(2)}× (≤ ${MAX_RATIO}×) ${pass(v.ok.download)}`,
    `  zip ${secs(med(a.zipMs))}; zip+upload ${secs(med(a.upload.map((x) => x.ms)))}: ${v.uploadRatio.toFixed(2)}× (≤ ${MAX_RATIO}×) ${pass(v.ok.upload)}`,
    `  worker-side peak RSS ${mb(v.peakKb)} (< ${MAX_RSS_MB} MB) ${pass(v.ok.memory)}`,
    `  ${r.solo.jobs} no-op jobs at concurrency 1: overhead per job median ${v.overhead.toFixed(1)} ms, of which the endpoint ${r.solo.endpointMsPerJob.toFixed(1)} ms: the worker's own ${v.ownOverhead.toFixed(1)} ms (< ${MAX_OVERHEAD_MS} ms) ${pass(v.ok.overhead)}; worker CPU per job ${v.cpuPerJob.toFixed(1)} ms (the larger of both runs; informational)`,
    `  ${r.jobs.jobs} no-op jobs at concurrency ${r.jobs.concurrency}: ${r.jobs.jobsPerSecond.toFixed(1)} jobs/s; overhead per job median ${quantile(r.jobs.overheadMs, 0.5).toFixed(1)} ms; CPU per job ${r.jobs.cpuPerJobMs.toFixed(1)} ms`,
    `  idle ${secs(r.idle.windowMs)}: CPU ${r.idle.cpuMs.toFixed(0)} ms = ${(v.idleCpu * 100).toFixed(3)}% (< 1%) ${pass(v.ok.idleCpu)}; calls: ${ops(r.idle.requests)}; backed off: ${v.backed.polls} polls in ${v.backed.seconds.toFixed(1)} s (≥ ${MIN_BACKED_OFF_GAP_S} s apart) ${pass(v.ok.polls)}`,
    '',
  ].join('\n');
}

export async function run(options: RunOptions): Promise<{ ok: boolean; table: string }> {
  const missing = toolsPresent();
  if (missing) {
    const message = `bench worker compares with zip and unzip, but ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not installed: apt-get install -y zip unzip (or your system's equivalent), then run it again`;
    process.stderr.write(`${message}\n`);
    return { ok: false, table: `worker: not run (${message})\n` };
  }
  ensureBuilt();
  const runs = options.runs ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'cpsync-bench-worker-'));
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'actions.yaml'), actionsYaml());
  const started = Date.now();
  const say = (line: string) => process.stderr.write(`bench worker: ${line} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  const load = loadavg()[0] ?? 0;
  let endpoint: Endpoint | undefined;
  let cp: CodePipelineClient | undefined;
  let s3: S3Client | undefined;
  try {
    endpoint = await startEndpoint(join(dir, 'data'));
    cp = new CodePipelineClient({ endpoint: endpoint.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 3 });
    s3 = new S3Client({ endpoint: endpoint.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 3 });
    await s3.send(new CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: ARTIFACT_BUCKET }));
    await cp.send(projectActionType(ARTIFACT_TYPE, { inputs: [1, 1], outputs: [1, 1] }));
    await cp.send(projectActionType(NOOP_TYPE, { inputs: [1, 1], outputs: [1, 1] }));

    const artifacts = !ONLY || ONLY === 'artifacts' ? await artifactBenchmark(dir, endpoint, cp, s3, runs, say) : undefined;
    const sayJobs = (j: JobsResult) =>
      say(`jobs at concurrency ${j.concurrency}: ${j.jobsPerSecond.toFixed(1)} jobs/s, overhead median ${quantile(j.overheadMs, 0.5).toFixed(1)} ms (p90 ${quantile(j.overheadMs, 0.9).toFixed(1)} ms), endpoint ${j.endpointMsPerJob.toFixed(1)} ms per job, tool median ${quantile(j.toolMs, 0.5).toFixed(1)} ms, CPU per job ${j.cpuPerJobMs.toFixed(1)} ms, peak RSS ${mb(j.hwmKb)}, phases ${JSON.stringify(j.phases)}`);
    const jobs = !ONLY || ONLY === 'jobs' || ONLY === 'jobs8' ? await jobsBenchmark(dir, endpoint, cp, s3, project, { label: 'noop', concurrency: CONCURRENCY, jobs: JOBS, warmup: WARMUP_JOBS }, say) : undefined;
    if (jobs) sayJobs(jobs);
    const solo = !ONLY || ONLY === 'jobs' || ONLY === 'jobs1' ? await jobsBenchmark(dir, endpoint, cp, s3, project, { label: 'solo', concurrency: 1, jobs: SOLO_JOBS, warmup: WARMUP_JOBS }, say) : undefined;
    if (solo) sayJobs(solo);
    const idle = !ONLY || ONLY === 'idle' ? await idleBenchmark(dir, endpoint, project, say) : undefined;
    if (idle) say(`idle: CPU ${idle.cpuMs.toFixed(0)} ms in ${secs(idle.windowMs)}; ${ops(idle.requests)}; polls at ${idle.polls.map((at) => at.toFixed(1)).join(', ')} s`);
    const longRun = !ONLY || ONLY === 'longrun' ? await longRunBenchmark({ dir, endpoint, cp, pipeline, sourceKey: await smallSource(s3), startWorker: longRunWorker(endpoint), say }) : undefined;
    if (longRun) say(`long runs:\n${renderLongRunTable(longRun)}`);
    if (ONLY === 'longrun' && longRun) {
      // Part 4 has a docs section of its own, so it can be recorded alone.
      if (options.write ?? true) writeDocsSection('worker-long-run', renderLongRunMarkdown(longRun, new Date(), machineDescription()));
      return { ok: Object.values(longRunVerdicts(longRun).ok).every(Boolean), table: `worker (long runs only):\n${renderLongRunTable(longRun)}\n` };
    }
    if (!artifacts || !jobs || !solo || !idle || !longRun) return { ok: true, table: `worker: only ${ONLY} (CPSYNC_BENCH_WORKER_ONLY); docs/benchmarks.md left alone\n` };
    const results: Results = { date: new Date(), machine: machineDescription(), load, totalMs: Date.now() - started, artifacts, jobs, solo, idle };
    if (options.write ?? true) {
      writeDocsSection('worker', renderMarkdown(results));
      writeDocsSection('worker-long-run', renderLongRunMarkdown(longRun, results.date, results.machine));
    }
    const v = verdicts(results);
    return { ok: Object.values(v.ok).every(Boolean) && Object.values(longRunVerdicts(longRun).ok).every(Boolean), table: `${renderTable(results)}${renderLongRunTable(longRun)}\n` };
  } finally {
    cp?.destroy();
    s3?.destroy();
    await endpoint?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
