// A small benchmark harness: runs commands as child processes, reports median and p90 wall time,
// ratios against a baseline measured in the same run, PASS/MISS against targets, and writes one
// section of docs/benchmarks.md per benchmark. Speed is measured here, never asserted in `npm test`.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DOCS_FILE = join(REPO_ROOT, 'docs', 'benchmarks.md');

/** One command to time. */
export interface Case {
  /** Short name used in the table and in targets, e.g. `--version`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Exit codes that count as a normal run (default [0]). Anything else aborts the benchmark. */
  readonly okExitCodes?: readonly number[];
  /** Runs before each run of the case by runBenchmark, outside the clock (e.g. remove the file
   *  a copy is to create, read a server's CPU counter). */
  readonly before?: () => void;
  /** Runs after each run of the case by runBenchmark, outside the clock; `timed` is false for a
   *  warm-up run. */
  readonly after?: (run: { readonly ms: number; readonly timed: boolean }) => void;
}

export interface Target {
  readonly case: string;
  /** PASS when median(case) / median(baseline) is at most this. */
  readonly maxRatio: number;
}

/** A correctness check that runs outside the timed loop, e.g. "no AWS SDK module was loaded". */
export interface Check {
  readonly name: string;
  readonly run: () => Promise<{ readonly ok: boolean; readonly detail?: string }>;
}

export interface Benchmark {
  readonly name: string;
  readonly title: string;
  /** One or two sentences for the docs section: what is measured and why. */
  readonly description: string;
  readonly runs?: number;
  readonly warmup?: number;
  /** Runs once before timing (e.g. build). */
  readonly setup?: () => Promise<void>;
  /** Runs once at the end, also when a case or check failed (e.g. stop a server, delete temp files). */
  readonly teardown?: () => Promise<void>;
  readonly baseline: Case;
  readonly cases: readonly Case[];
  readonly targets?: readonly Target[];
  readonly checks?: readonly Check[];
}

export interface RunOptions {
  readonly runs?: number;
  readonly warmup?: number;
  /** Update docs/benchmarks.md (default true). */
  readonly write?: boolean;
}

export interface CaseResult {
  readonly case: Case;
  readonly samplesMs: readonly number[];
  readonly medianMs: number;
  readonly p90Ms: number;
  /** median / baseline median; 1 for the baseline. */
  readonly ratio: number;
  readonly p90Ratio: number;
  readonly target?: Target;
  readonly pass?: boolean;
}

export interface BenchmarkResult {
  readonly benchmark: Benchmark;
  readonly date: Date;
  readonly machine: string;
  readonly runs: number;
  readonly warmup: number;
  /** 1-minute load average when timing started (other work on the machine skews absolute times). */
  readonly load: number;
  readonly baseline: CaseResult;
  readonly cases: readonly CaseResult[];
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly detail?: string }[];
  /** Every target met and every check passed. */
  readonly ok: boolean;
}

export interface Exec {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs one command and returns its wall time from spawn to exit (stdio piped and drained). */
export function execTimed(c: Case): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const start = process.hrtime.bigint();
    const child = spawn(c.command, [...c.args], { cwd: c.cwd ?? REPO_ROOT, env: c.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      resolve({ exitCode, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), ms });
    });
  });
}

/** The value below which `q` (0..1) of the samples fall, interpolated between closest ranks. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export function describeCommand(c: Case): string {
  const rel = (arg: string) => (arg.startsWith(REPO_ROOT) ? arg.slice(REPO_ROOT.length) : arg);
  const command = c.command === process.execPath ? 'node' : c.command;
  return [command, ...c.args.map(rel)].map((part) => (/\s/.test(part) ? JSON.stringify(part) : part)).join(' ');
}

export function machineDescription(): string {
  const cpu = cpus();
  const model = (cpu[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const memory = (totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${cpu.length} cores, ${memory} GiB RAM, ${platform()} ${release()}, Node ${process.version}`;
}

async function runChecked(c: Case, timed: boolean): Promise<Exec> {
  c.before?.();
  const result = await execTimed(c);
  c.after?.({ ms: result.ms, timed });
  const ok = c.okExitCodes ?? [0];
  if (result.exitCode === null || !ok.includes(result.exitCode)) {
    throw new Error(
      `${describeCommand(c)} exited with ${result.exitCode ?? result.signal} (expected ${ok.join(' or ')})\n${result.stderr || result.stdout}`,
    );
  }
  return result;
}

/** Warm-up runs, then `runs` rounds in which every case (baseline included) runs once, in an order
 *  that rotates each round so drift (thermal, other load) is spread over all cases alike. */
export async function runBenchmark(benchmark: Benchmark, options: RunOptions = {}): Promise<BenchmarkResult> {
  try {
    return await runBenchmarkCases(benchmark, options);
  } finally {
    await benchmark.teardown?.();
  }
}

async function runBenchmarkCases(benchmark: Benchmark, options: RunOptions): Promise<BenchmarkResult> {
  const runs = options.runs ?? benchmark.runs ?? 20;
  const warmup = options.warmup ?? benchmark.warmup ?? 3;
  await benchmark.setup?.();
  const all = [benchmark.baseline, ...benchmark.cases];
  const load = loadavg()[0] ?? 0;
  for (let i = 0; i < warmup; i++) for (const c of all) await runChecked(c, false);
  const samples = all.map(() => [] as number[]);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < all.length; k++) {
      const index = (round + k) % all.length;
      samples[index]!.push((await runChecked(all[index]!, true)).ms);
    }
  }
  const baselineMedian = quantile(samples[0]!, 0.5);
  const results = all.map((c, index): CaseResult => {
    const medianMs = quantile(samples[index]!, 0.5);
    const p90Ms = quantile(samples[index]!, 0.9);
    const target = benchmark.targets?.find((t) => t.case === c.name);
    const ratio = medianMs / baselineMedian;
    return { case: c, samplesMs: samples[index]!, medianMs, p90Ms, ratio, p90Ratio: p90Ms / baselineMedian, target, pass: target ? ratio <= target.maxRatio : undefined };
  });
  const checks = [];
  for (const check of benchmark.checks ?? []) checks.push({ name: check.name, ...(await check.run()) });
  const ok = results.every((r) => r.pass !== false) && checks.every((c) => c.ok);
  const result: BenchmarkResult = {
    benchmark,
    date: new Date(),
    machine: machineDescription(),
    runs,
    warmup,
    load,
    baseline: results[0]!,
    cases: results.slice(1),
    checks,
    ok,
  };
  if (options.write ?? true) writeDocsSection(benchmark.name, renderMarkdown(result));
  return result;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const ratio = (value: number) => `${value.toFixed(2)}×`;
const verdict = (r: CaseResult) => (r.target ? `≤ ${r.target.maxRatio}× ${r.pass ? 'PASS' : 'MISS'}` : '');

/** The compact table printed to the terminal. */
export function renderTable(result: BenchmarkResult): string {
  const rows = [result.baseline, ...result.cases].map((r, index) => [
    index === 0 ? `${r.case.name} (baseline)` : r.case.name,
    ms(r.medianMs),
    ms(r.p90Ms),
    ratio(r.ratio),
    verdict(r),
  ]);
  const header = ['case', 'median', 'p90', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 || i === 4 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  const lines = [
    `${result.benchmark.name}: ${result.benchmark.title} (${result.runs} runs after ${result.warmup} warm-up, load ${result.load.toFixed(2)}, ${result.machine})`,
    line(header),
    ...rows.map(line),
    ...result.checks.map((c) => `check: ${c.name}: ${c.ok ? 'PASS' : 'FAIL'}${c.detail ? ` (${c.detail})` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The docs/benchmarks.md section, without the markers. */
export function renderMarkdown(result: BenchmarkResult): string {
  const b = result.benchmark;
  const rows = [result.baseline, ...result.cases].map((r, index) =>
    `| ${index === 0 ? `${r.case.name} (baseline)` : r.case.name} | \`${describeCommand(r.case)}\` | ${ms(r.medianMs)} | ${ms(r.p90Ms)} | ${ratio(r.ratio)} | ${r.target ? `≤ ${r.target.maxRatio}×` : '—'} | ${r.pass === undefined ? '—' : r.pass ? 'PASS' : 'MISS'} |`,
  );
  const lines = [
    `## ${b.name}: ${b.title}`,
    '',
    b.description,
    '',
    `Measured ${result.date.toISOString().slice(0, 10)} on ${result.machine}; ${result.runs} runs per case after ${result.warmup} warm-up runs, interleaved; 1-minute load average ${result.load.toFixed(2)} at the start. Run with \`npm run bench -- ${b.name}\`.`,
    '',
    '| case | command | median | p90 | ratio (median) | target | result |',
    '|---|---|---:|---:|---:|---|---|',
    ...rows,
  ];
  if (result.checks.length > 0) {
    lines.push('', 'Checks:', '');
    for (const c of result.checks) lines.push(`- ${c.name}: ${c.ok ? 'PASS' : 'FAIL'}${c.detail ? ` (${c.detail})` : ''}`);
  }
  return lines.join('\n');
}

const DOCS_INTRO = `# Benchmarks

Speed is measured here, not timed in tests: \`npm test\` has no timing assertions.

Run every benchmark with \`npm run bench\`, or some of them by name: \`npm run bench -- startup\`.
Options: \`--runs N\` (timed runs per case, default 20), \`--warmup N\` (untimed runs first, default 3),
\`--no-write\` (print only, leave this file alone). The command exits 1 when a target is missed or a check fails.

Each benchmark runs its commands as child processes and measures wall time from spawn to exit
(\`process.hrtime.bigint()\`). Every case, the baseline included, runs once per round in a rotating
order, so slow drift on the machine affects all of them alike. **Ratios** are a case's median divided
by the baseline's median *from the same run*, which makes them comparable across machines where
absolute milliseconds are not; targets are stated as ratios. p90 is the 90th percentile.

Each section below is rewritten in place by \`bench/run.ts\` between its \`<!-- bench:NAME:start -->\`
and \`<!-- bench:NAME:end -->\` markers; text outside the markers is kept.
`;

/** Replaces the section between the benchmark's markers, or appends it (creating the file if needed). */
export function writeDocsSection(name: string, body: string, file = DOCS_FILE): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${body}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : DOCS_INTRO;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from !== -1 && to > from
      ? current.slice(0, from) + block + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

function newestMtime(dir: string, pattern: RegExp): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, pattern));
    else if (pattern.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when dist/cli/main.js is missing or older than any file under src/.
 *  A build with type errors elsewhere still emits; only a missing output is fatal. */
export function ensureBuilt(): void {
  const main = join(REPO_ROOT, 'dist', 'cli', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'), /\.ts$/)) return;
  process.stderr.write('dist is missing or older than src: npm run build\n');
  const npm = platform() === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(main)) throw new Error('npm run build did not produce dist/cli/main.js');
  if (build.status !== 0) process.stderr.write(`warning: npm run build exited with ${build.status}; timing the emitted dist anyway\n`);
}

/** Whether `hyperfine` is on PATH (optional; the harness does not need it). */
export function hasHyperfine(): boolean {
  return spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status === 0;
}
