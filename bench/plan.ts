// `cpsync plan` and `cpsync apply` against 200 pipelines and 20 custom action types in `cpsync local`
// with 50 ms of injected latency on every CodePipeline call, measured against
//
// - the bound (calls ÷ parallelism) × latency, with the calls counted by the endpoint, and
// - the same calls made one after another with the SDK (through cpsync's own CodePipelineApi),
//
// all in one run. The endpoint runs in a child process of its own (bench/plan-endpoint.ts), which
// also keeps the request log the call counts come from. Targets: plan and apply each within 1.5× of
// their bound and at least 8× faster than sequential.
//
// The world: pipelines svc-000..svc-199, each the AWS guide's MyFirstPipeline (S3 source, Staging
// deploying MyApp), and a project with 20 custom action types in actions.yaml and one pipelines/
// file selecting `svc-*` that inserts MyBuildStage before Staging and rewires Staging. It is seeded
// without latency (pipelines through the SDK, then one `cpsync apply` creating the types and
// inserting the stages), then the endpoint restarts on the same data with latency. Two copies of
// the project differ only in MyBuildStage's ProjectName; each timed round plans and applies the
// other copy, so every apply updates (UpdatePipeline + TagResource) all 200 pipelines.

import { myFirstPipeline as guidePipeline } from '../src/examples/my-first-pipeline.js';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodePipelineClient, CreatePipelineCommand, ListPipelineExecutionsCommand, type PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createCodePipelineApi, type CodePipelineApi } from '../src/aws/codepipeline-api.js';
import type { EndpointStats } from './plan-endpoint.js';
import { ensureBuilt, execTimed, machineDescription, quantile, REPO_ROOT, writeDocsSection, type Case, type Exec, type RunOptions } from './harness.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const PIPELINES = 200;
const ACTION_TYPES = 20;
const LATENCY_MS = 50;
const PARALLELISM = 10;
/** Pipelines whose apply calls are timed one after another; the sequential apply scales them up. */
const SEQUENTIAL_APPLY_SAMPLE = 20;
const MAX_BOUND_RATIO = 1.5;
const MIN_SPEEDUP = 8;

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const CREDENTIALS = { accessKeyId: 'cpsynclocal', secretAccessKey: 'cpsynclocal' };
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/AWS-CodePipeline-Service`;
const ARTIFACT_BUCKET = 'codepipeline-us-east-1-1234567890';
const SOURCE_BUCKET = 'awscodepipeline-demobucket-example';

const node = process.execPath;
const cli = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const names = Array.from({ length: PIPELINES }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
const typeProvider = (i: number) => `Bench-Build-${String(i).padStart(2, '0')}`;

// ---------------------------------------------------------------------------------------------
// The endpoint child process

interface Endpoint {
  readonly child: ChildProcess;
  readonly url: string;
  stats(reset?: boolean): Promise<EndpointStats>;
  stop(): Promise<void>;
}

async function startEndpoint(dataDir: string, latencyMs: number): Promise<Endpoint> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = fork(join(REPO_ROOT, 'bench', 'plan-endpoint.ts'), [dataDir, String(latencyMs)], {
    cwd: REPO_ROOT,
    env,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench/plan-endpoint.ts did not start within 30 s')), 30_000);
    child.once('message', (message: { type?: string; url?: string }) => {
      clearTimeout(timer);
      if (message.type === 'ready' && message.url) resolve(message.url);
      else reject(new Error(`unexpected first message from the endpoint: ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench/plan-endpoint.ts exited with ${code} before it was ready`));
    });
  });
  return {
    child,
    url,
    stats: (reset = false) =>
      new Promise<EndpointStats>((resolve) => {
        const onMessage = (message: { type?: string }) => {
          if (message.type !== 'stats') return;
          child.off('message', onMessage);
          resolve(message as EndpointStats);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats', reset });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The project and the world

function actionsYaml(): string {
  const lines = ['# Generated by bench/plan.ts.', 'actionTypes:'];
  for (let i = 0; i < ACTION_TYPES; i++) {
    lines.push(
      `  - category: Build`,
      `    provider: ${typeProvider(i)}`,
      `    version: "1"`,
      `    configurationProperties:`,
      `      - { name: ProjectName, required: true, key: true, secret: false, queryable: false, type: String }`,
      `    inputArtifactDetails: { minimumCount: 1, maximumCount: 1 }`,
      `    outputArtifactDetails: { minimumCount: 1, maximumCount: 1 }`,
      `    tags: { Team: bench }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function pipelinesYaml(projectName: string): string {
  return `# Generated by bench/plan.ts: the AWS guide's MyBuildStage in every svc-* pipeline.
pipelines: ["svc-*"]
insertStages:
  - name: MyBuildStage
    before: Staging
    actions:
      - name: MyBuildCustomAction
        type: Build/${typeProvider(0)}/1
        configuration:
          ProjectName: ${projectName}
        inputArtifacts: [MyApp]
        outputArtifacts: [MyBuiltApp]
rewires:
  - stage: Staging
    action: Deploy-CodeDeploy-Application
    inputArtifacts: [MyBuiltApp]
`;
}

function writeProject(dir: string, projectName: string): string {
  mkdirSync(join(dir, 'pipelines'), { recursive: true });
  writeFileSync(join(dir, 'actions.yaml'), actionsYaml());
  writeFileSync(join(dir, 'pipelines', 'svc.yaml'), pipelinesYaml(projectName));
  return dir;
}

/** The AWS guide's MyFirstPipeline under another name. */
function myFirstPipeline(name: string): PipelineDeclaration {
  return guidePipeline({ name, roleArn: ROLE_ARN, artifactBucket: ARTIFACT_BUCKET, sourceBucket: SOURCE_BUCKET, sourceKey: 'SampleApp_Linux.zip' });
}

async function inFlight<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** Creates the 200 pipelines and lets the executions CreatePipeline started finish, so none is
 *  running when the stages go in (a running execution would wait for a job no worker takes). */
async function seedPipelines(url: string): Promise<void> {
  const cp = new CodePipelineClient({ endpoint: url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  const s3 = new S3Client({ endpoint: url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: ARTIFACT_BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: 'SampleApp_Linux.zip', Body: 'PK\u0005\u0006' + '\u0000'.repeat(18) }));
    await inFlight(names, 16, (name) => cp.send(new CreatePipelineCommand({ pipeline: myFirstPipeline(name) })));
    for (let attempt = 0; ; attempt++) {
      let running = 0;
      await inFlight(names, 16, async (name) => {
        const page = await cp.send(new ListPipelineExecutionsCommand({ pipelineName: name, maxResults: 20 }));
        running += (page.pipelineExecutionSummaries ?? []).filter((s) => s.status === 'InProgress' || s.status === 'Stopping').length;
      });
      if (running === 0) break;
      if (attempt === 50) throw new Error(`${running} executions still running after seeding`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    cp.destroy();
    s3.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Timed runs

function cliCase(name: string, project: string, url: string, args: readonly string[]): Case {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    AWS_ENDPOINT_URL: url,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  };
  for (const key of ['NODE_OPTIONS', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_CODEPIPELINE', 'AWS_ENDPOINT_URL_S3']) delete env[key];
  return { name, command: node, args: [cli, ...args, '--parallelism', String(PARALLELISM)], cwd: project, env };
}

async function runCli(c: Case, endpoint: Endpoint, expect: (result: Exec) => string | undefined): Promise<{ ms: number; stats: EndpointStats }> {
  await endpoint.stats(true);
  const result = await execTimed(c);
  const stats = await endpoint.stats(true);
  const problem = result.exitCode === 0 || result.exitCode === 2 ? expect(result) : `exit ${result.exitCode ?? result.signal}`;
  if (problem) throw new Error(`${c.name} in ${c.cwd}: ${problem}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  return { ms: result.ms, stats };
}

const planExpect = (result: Exec) =>
  result.exitCode !== 2 ? `expected exit 2 (changes) from plan --detailed-exitcode, got ${result.exitCode}` : undefined;
/** The apply report's summary line: `items` applied (pipelines, plus action types when seeding). */
const applyExpect = (items: number) => (result: Exec) => {
  const line = `Apply: ${items} applied, 0 failed, 0 skipped.`;
  return result.stdout.includes(line) ? undefined : `expected "${line}"`;
};

// ---------------------------------------------------------------------------------------------
// Sequential baseline: the same calls one after another, in this process, through cpsync's own
// CodePipelineApi (the adapter the CLI uses), so each call costs what it costs the CLI.

async function sequentialReads(api: CodePipelineApi): Promise<void> {
  await api.accountId();
  const types = await api.listCustomActionTypes();
  for (const type of types) await api.listTags(await api.actionTypeArn(type));
  const pipelineNames = (await api.listPipelineNames()).filter((name) => name.startsWith('svc-'));
  for (const name of pipelineNames) {
    const live = await api.getPipeline(name);
    await api.listTags(live!.arn);
    await api.runningExecutions(name);
  }
}

/** What apply does per pipeline after planning: re-read, write, tag, read again to check. The
 *  declaration written is the one read (a real UpdatePipeline that bumps the version). */
async function sequentialApplyOne(api: CodePipelineApi, name: string): Promise<void> {
  const live = await api.getPipeline(name);
  const tags = await api.listTags(live!.arn);
  await api.runningExecutions(name);
  await api.updatePipeline({ ...live!.declaration, version: live!.version });
  await api.tagResource(live!.arn, tags);
  const after = await api.getPipeline(name);
  await api.listTags(after!.arn);
  await api.runningExecutions(name);
}

// ---------------------------------------------------------------------------------------------

interface Measured {
  readonly name: string;
  readonly samplesMs: readonly number[];
  readonly calls: number;
  readonly callsPerRun: readonly number[];
  readonly requests: Record<string, number>;
  readonly maxInFlight: number;
  readonly expectedCalls: number;
  readonly sequentialMs: number;
  readonly sequentialHow: string;
}

function expectedPlanCalls(): number {
  // readLiveState: STS GetCallerIdentity (the account, for ARNs), ListActionTypes (20 per page:
  // one page for 20 types), ListTagsForResource per type, ListPipelines (the svc-* pattern), and
  // per selected pipeline readPipeline's GetPipeline, ListTagsForResource, ListPipelineExecutions.
  return 1 + Math.ceil(ACTION_TYPES / 20) + ACTION_TYPES + 1 + 3 * PIPELINES;
}

function expectedApplyCalls(): number {
  // The plan's reads, then per pipeline (applyPipeline): readPipeline (3), UpdatePipeline,
  // TagResource (the inventory tag of MyBuildStage changes with its contents), readPipeline (3).
  return expectedPlanCalls() + 8 * PIPELINES;
}

export async function run(options: RunOptions): Promise<{ ok: boolean; table: string }> {
  const runs = options.runs ?? 5;
  const warmup = options.warmup ?? 1;
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'cpsync-bench-plan-'));
  const dataDir = join(dir, 'data');
  const projects = [writeProject(join(dir, 'project-a'), 'BuildProjectA'), writeProject(join(dir, 'project-b'), 'BuildProjectB')];
  let endpoint: Endpoint | undefined;
  const started = Date.now();
  const say = (line: string) => process.stderr.write(`bench plan: ${line} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  try {
    // 1. Seed without latency.
    endpoint = await startEndpoint(dataDir, 0);
    say(`seeding ${PIPELINES} pipelines in ${dataDir}`);
    await seedPipelines(endpoint.url);
    const seeded = await runCli(cliCase('seed apply', projects[0]!, endpoint.url, ['apply', '--auto-approve']), endpoint, applyExpect(ACTION_TYPES + PIPELINES));
    say(`seed apply: ${ACTION_TYPES} action types created, ${PIPELINES} pipelines updated in ${(seeded.ms / 1000).toFixed(1)} s, ${seeded.stats.total} calls`);
    // For the notes: what a plan costs with no latency at all (start-up, CPU, the local network).
    const idlePlans: number[] = [];
    for (let i = 0; i < 3; i++) idlePlans.push((await runCli(cliCase('plan', projects[1]!, endpoint.url, ['plan', '--detailed-exitcode']), endpoint, planExpect)).ms);
    const idlePlan = { ms: quantile(idlePlans, 0.5) };
    say(`plan without latency: ${idlePlans.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`);
    await endpoint.stop();

    // 2. The same data, every operation 50 ms slower.
    endpoint = await startEndpoint(dataDir, LATENCY_MS);
    const url = endpoint.url;
    const load = (await import('node:os')).loadavg()[0] ?? 0;
    let applied = 0; // index of the project copy the pipelines match now
    for (let i = 0; i < warmup; i++) await runCli(cliCase('plan', projects[1 - applied]!, url, ['plan', '--detailed-exitcode']), endpoint, planExpect);
    const plan = { ms: [] as number[], calls: [] as number[], requests: {} as Record<string, number>, maxInFlight: 0 };
    const apply = { ms: [] as number[], calls: [] as number[], requests: {} as Record<string, number>, maxInFlight: 0 };
    for (let round = 0; round < runs; round++) {
      const next = projects[1 - applied]!;
      const p = await runCli(cliCase('plan', next, url, ['plan', '--detailed-exitcode']), endpoint, planExpect);
      const a = await runCli(cliCase('apply', next, url, ['apply', '--auto-approve']), endpoint, applyExpect(PIPELINES));
      applied = 1 - applied;
      for (const [into, result] of [[plan, p], [apply, a]] as const) {
        into.ms.push(result.ms);
        into.calls.push(result.stats.total);
        into.requests = result.stats.requests;
        into.maxInFlight = Math.max(into.maxInFlight, result.stats.maxInFlight);
      }
      say(`round ${round + 1}/${runs}: plan ${(p.ms / 1000).toFixed(2)} s (${p.stats.total} calls), apply ${(a.ms / 1000).toFixed(2)} s (${a.stats.total} calls)`);
    }

    // 3. Sequential: every plan read one after another; the apply's per-pipeline calls for a sample.
    // The SDK's default chain reads the credentials from the environment, as the CLI's does.
    process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    const api = await createCodePipelineApi({ target: 'bench', region: REGION, codepipelineEndpoint: url });
    let sequentialReadMs: number;
    let sequentialReadCalls: number;
    let sampleMs: number;
    let sampleCalls: number;
    try {
      await endpoint.stats(true);
      let start = process.hrtime.bigint();
      await sequentialReads(api);
      sequentialReadMs = Number(process.hrtime.bigint() - start) / 1e6;
      sequentialReadCalls = (await endpoint.stats(true)).total;
      say(`sequential plan reads: ${(sequentialReadMs / 1000).toFixed(1)} s, ${sequentialReadCalls} calls`);
      start = process.hrtime.bigint();
      for (const name of names.slice(0, SEQUENTIAL_APPLY_SAMPLE)) await sequentialApplyOne(api, name);
      sampleMs = Number(process.hrtime.bigint() - start) / 1e6;
      sampleCalls = (await endpoint.stats(true)).total;
      say(`sequential apply calls for ${SEQUENTIAL_APPLY_SAMPLE} pipelines: ${(sampleMs / 1000).toFixed(1)} s, ${sampleCalls} calls`);
    } finally {
      api.close();
    }
    const sequentialApplyMs = sequentialReadMs + (sampleMs * PIPELINES) / SEQUENTIAL_APPLY_SAMPLE;
    const sequentialApplyCalls = sequentialReadCalls + (sampleCalls * PIPELINES) / SEQUENTIAL_APPLY_SAMPLE;

    const measured: Measured[] = [
      {
        name: 'plan',
        samplesMs: plan.ms,
        calls: quantile(plan.calls, 0.5),
        callsPerRun: plan.calls,
        requests: plan.requests,
        maxInFlight: plan.maxInFlight,
        expectedCalls: expectedPlanCalls(),
        sequentialMs: sequentialReadMs,
        sequentialHow: `measured: all ${sequentialReadCalls} calls`,
      },
      {
        name: 'apply',
        samplesMs: apply.ms,
        calls: quantile(apply.calls, 0.5),
        callsPerRun: apply.calls,
        requests: apply.requests,
        maxInFlight: apply.maxInFlight,
        expectedCalls: expectedApplyCalls(),
        sequentialMs: sequentialApplyMs,
        sequentialHow: `the ${sequentialReadCalls} plan reads measured, plus ${PIPELINES / SEQUENTIAL_APPLY_SAMPLE}× the ${sampleCalls} apply calls of ${SEQUENTIAL_APPLY_SAMPLE} pipelines (${Math.round(sequentialApplyCalls)} calls)`,
      },
    ];
    const result: Result = { date: new Date(), machine: machineDescription(), runs, warmup, load, measured, noLatency: { planMs: idlePlan.ms, seedApplyMs: seeded.ms, seedApplyCalls: seeded.stats.total } };
    const ok = measured.every((m) => rowOf(m).boundOk && rowOf(m).speedupOk && m.callsPerRun.every((c) => c === m.expectedCalls));
    if (options.write ?? true) writeDocsSection('plan', renderMarkdown(result));
    return { ok, table: renderTable(result) };
  } finally {
    await endpoint?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Result {
  readonly date: Date;
  readonly machine: string;
  readonly runs: number;
  readonly warmup: number;
  readonly load: number;
  readonly measured: readonly Measured[];
  /** Before the latency was turned on: a plan (median of 3), and the seeding apply (which creates
   *  the action types and inserts the stage everywhere). */
  readonly noLatency: { readonly planMs: number; readonly seedApplyMs: number; readonly seedApplyCalls: number };
}

function rowOf(m: Measured) {
  const median = quantile(m.samplesMs, 0.5);
  const bound = (m.calls / PARALLELISM) * LATENCY_MS;
  const boundRatio = median / bound;
  const speedup = m.sequentialMs / median;
  return { median, p90: quantile(m.samplesMs, 0.9), bound, boundRatio, speedup, boundOk: boundRatio <= MAX_BOUND_RATIO, speedupOk: speedup >= MIN_SPEEDUP };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

function renderTable(result: Result): string {
  const lines = [`plan: cpsync plan and apply, ${PIPELINES} pipelines, ${LATENCY_MS} ms per call, --parallelism ${PARALLELISM} (${result.runs} runs after ${result.warmup} warm-up, load ${result.load.toFixed(2)}, ${result.machine})`];
  for (const m of result.measured) {
    const r = rowOf(m);
    lines.push(
      `${m.name.padEnd(5)}  median ${seconds(r.median)}  p90 ${seconds(r.p90)}  calls ${m.calls} (expected ${m.expectedCalls})  bound ${seconds(r.bound)}  ratio ${r.boundRatio.toFixed(2)}× ≤ ${MAX_BOUND_RATIO}× ${verdict(r.boundOk)}  sequential ${seconds(m.sequentialMs)}  speed-up ${r.speedup.toFixed(1)}× ≥ ${MIN_SPEEDUP}× ${verdict(r.speedupOk)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function renderMarkdown(result: Result): string {
  const rows = result.measured.map((m) => {
    const r = rowOf(m);
    return `| ${m.name} | ${seconds(r.median)} | ${seconds(r.p90)} | ${m.calls} | ${seconds(r.bound)} | ${r.boundRatio.toFixed(2)}× (≤ ${MAX_BOUND_RATIO}×) | ${verdict(r.boundOk)} | ${seconds(m.sequentialMs)} | ${r.speedup.toFixed(1)}× (≥ ${MIN_SPEEDUP}×) | ${verdict(r.speedupOk)} |`;
  });
  const lines = [
    '## plan: cpsync plan and apply against 200 pipelines with 50 ms per call',
    '',
    `\`cpsync plan\` and \`cpsync apply --auto-approve\` (the compiled CLI, \`node dist/cli/main.js … --parallelism ${PARALLELISM}\`) against \`cpsync local\` holding ${PIPELINES} pipelines (the AWS guide's MyFirstPipeline as \`svc-000\`…\`svc-199\`) and ${ACTION_TYPES} custom action types, with ${LATENCY_MS} ms of injected latency on every CodePipeline call; the apply updates every pipeline. ` +
      `Each is compared with its **bound**, (calls ÷ parallelism) × latency, and with the **same calls made one after another** through the SDK. Targets: within ${MAX_BOUND_RATIO}× of the bound and at least ${MIN_SPEEDUP}× faster than sequential.`,
    '',
    `Measured ${result.date.toISOString().slice(0, 10)} on ${result.machine}; ${result.runs} runs of each after ${result.warmup} warm-up plan run${result.warmup === 1 ? '' : 's'}; 1-minute load average ${result.load.toFixed(2)} at the start. Run with \`npm run bench -- plan\` (\`--runs N\`, \`--warmup N\`, \`--no-write\` as for the other benchmarks).`,
    '',
    '| command | median | p90 | calls | bound | ratio to bound | result | sequential | speed-up | result |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---|',
    ...rows,
    '',
    'Calls, as counted by the endpoint (bench/plan-endpoint.ts):',
    '',
  ];
  for (const m of result.measured) {
    const detail = Object.entries(m.requests).map(([op, n]) => `${op} ${n}`).join(', ');
    const same = m.callsPerRun.every((c) => c === m.expectedCalls);
    lines.push(
      `- ${m.name}: ${m.calls} per run (${same ? 'every run; as expected from the algorithm' : `runs: ${m.callsPerRun.join(', ')}; expected ${m.expectedCalls}`}): ${detail}; at most ${m.maxInFlight} requests in flight. Sequential: ${m.sequentialHow}.`,
    );
  }
  lines.push(
    '',
    `Without injected latency (same data, before timing): plan ${seconds(result.noLatency.planMs)} (median of 3); the seeding apply that created the ${ACTION_TYPES} action types and inserted MyBuildStage in every pipeline ${seconds(result.noLatency.seedApplyMs)} (once, ${result.noLatency.seedApplyCalls} calls). Roughly that much of the times above is start-up and CPU (Node, the SDK, planning, rendering; client and endpoint share the machine's cores) rather than waiting for answers.`,
  );
  return lines.join('\n');
}
