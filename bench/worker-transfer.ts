// One artifact transfer of `cpsync worker`, in a process of its own, for bench/worker.ts:
//
//   node --import tsx bench/worker-transfer.ts SPEC.json
//
// SPEC is `{ op: 'download', target, directory }` (download and extract) or
// `{ op: 'upload', target, directory, kmsKeyId? }` (zip and upload), `target` a TransferTarget.
// It runs the compiled transfer (`createArtifactTransfer()` from dist/worker/artifacts, default
// options, as `cpsync worker` builds it) and prints one JSON line: the operation's wall time (the
// process's start-up excluded: a worker is long-running), its CPU time, and the process's peak
// resident memory over its whole life (VmHWM). It runs under tsx, as a worker does once it loads a
// TypeScript plugin of the project's own (the bundled plugins ship compiled): the worst case for memory.

import { readFileSync } from 'node:fs';
import type { TransferTarget } from '../src/worker/types.js';

export interface TransferSpec {
  readonly op: 'download' | 'upload';
  readonly target: TransferTarget;
  readonly directory: string;
  readonly kmsKeyId?: string;
}

export interface TransferReport {
  readonly op: 'download' | 'upload';
  readonly ms: number;
  /** User + system CPU of the operation, all threads (zlib runs on the libuv pool). */
  readonly cpuMs: number;
  /** Resident memory before the operation and the peak over the process's life, in KiB. */
  readonly rssBeforeKb: number;
  readonly hwmKb: number;
  readonly files: number;
  readonly bytes: number;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

function status(field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : Number.NaN;
}

const specFile = process.argv[2];
if (!specFile) {
  process.stderr.write('usage: node --import tsx bench/worker-transfer.ts SPEC.json\n');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specFile, 'utf8')) as TransferSpec;
const artifacts = (await import(new URL('../dist/worker/artifacts/index.js', import.meta.url).href)) as typeof import('../src/worker/artifacts/index.js');
const types = (await import(new URL('../dist/worker/types.js', import.meta.url).href)) as typeof import('../src/worker/types.js');
// Load the SDK before timing, as a running worker has (it loads it with its first job).
// (client-s3 only: the worker's uploads no longer go through lib-storage, so loading it here
// would only add to the memory measured.)
await import('@aws-sdk/client-s3');

const transfer = artifacts.createArtifactTransfer();
const signal = new AbortController().signal;
const rssBeforeKb = status('VmRSS');
const cpu = process.cpuUsage();
const start = performance.now();
const result =
  spec.op === 'download'
    ? await transfer.downloadAndExtract(spec.target, spec.directory, types.DEFAULT_EXTRACT_LIMITS, signal)
    : await transfer.zipAndUpload(spec.target, spec.directory, spec.kmsKeyId, signal);
const ms = performance.now() - start;
const used = process.cpuUsage(cpu);
const report: TransferReport = { op: spec.op, ms, cpuMs: (used.user + used.system) / 1000, rssBeforeKb, hwmKb: status('VmHWM'), files: result.files, bytes: result.bytes };
process.stdout.write(`${JSON.stringify(report)}\n`);
