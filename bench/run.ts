// `npm run bench` runs every registered benchmark; `npm run bench -- startup` only the named ones.
// Options: --runs N, --warmup N, --no-write (do not update docs/benchmarks.md).

import { parseArgs } from 'node:util';
import { describeCommand, hasHyperfine, renderTable, runBenchmark, type Benchmark, type RunOptions } from './harness.js';

/** A benchmark that does its own timing and writes its own docs section (its figures are not
 *  ratios to a baseline command, e.g. bench/plan.ts's bound and sequential comparison). */
interface CustomBenchmark {
  run(options: RunOptions): Promise<{ ok: boolean; table: string }>;
}

// Register a benchmark with one line: its name and the module exporting `benchmark` (or `run`).
const BENCHMARKS: Record<string, () => Promise<{ benchmark: Benchmark } | CustomBenchmark>> = {
  startup: () => import('./startup.js'),
  local: () => import('./local.js'),
  plan: () => import('./plan.js'),
  worker: () => import('./worker.js'),
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    warmup: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`usage: npm run bench -- [${Object.keys(BENCHMARKS).join('|')} ...] [--runs N] [--warmup N] [--no-write]\n`);
  process.exit(0);
}

function count(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

const names = positionals.length > 0 ? positionals : Object.keys(BENCHMARKS);
const unknown = names.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(2);
}

const options = { runs: count('runs', values.runs, 1), warmup: count('warmup', values.warmup, 0), write: !values['no-write'] };
const hyperfine = hasHyperfine();
let ok = true;
for (const name of names) {
  const module = await BENCHMARKS[name]!();
  if ('run' in module) {
    const custom = await module.run(options);
    process.stdout.write(`${custom.table}\n`);
    ok &&= custom.ok;
    continue;
  }
  const { benchmark } = module;
  const result = await runBenchmark(benchmark, options);
  process.stdout.write(`${renderTable(result)}\n`);
  if (hyperfine) {
    const commands = [benchmark.baseline, ...benchmark.cases].map((c) => JSON.stringify(describeCommand(c)));
    process.stdout.write(`second opinion: hyperfine --warmup 3 -N ${commands.join(' ')}\n\n`);
  }
  ok &&= result.ok;
}
if (options.write) process.stdout.write('updated docs/benchmarks.md\n');
process.exitCode = ok ? 0 : 1;
