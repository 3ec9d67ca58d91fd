// Requests per second from the SDK for bench/local.ts: one CodePipeline operation sent by one or
// more client processes at once (bench/local-client.ts `rate`, each with its own SDK client and
// its share of the requests in flight), timed from the instant all of them are told to start to
// the last answer, with the server's CPU time read around exactly that interval.
//
// Several processes matter on a 2-core machine: one SDK client spends several times the server's
// CPU per request, so a single client process saturates its core long before the server does.

import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './harness.js';
import { processCpuMs } from './proc-stat.js';

export interface SdkLoad {
  readonly operation: 'GetPipeline' | 'PollForJobs';
  readonly input: object;
  /** Timed requests in all, split evenly between the processes. */
  readonly requests: number;
  /** Requests in flight in all, split evenly between the processes. */
  readonly inFlight: number;
  /** Untimed requests per process before the start signal. */
  readonly warmup: number;
  readonly processes: number;
}

export interface SdkLoadResult {
  readonly requests: number;
  /** From the start signal to the last process's answer. */
  readonly ms: number;
  readonly serverCpuMs: number;
  /** Per process: its own wall and CPU time for its timed requests. */
  readonly clients: readonly { readonly ms: number; readonly cpuMs: number }[];
}

interface Client {
  readonly child: ChildProcess;
  /** Resolves on `ready` (warm-up done), rejects if the process ends first. */
  readonly ready: Promise<void>;
  /** Resolves when the result line arrives, with the time it did (before the process's exit). */
  readonly answered: Promise<number>;
  /** Resolves with the process's result line once it has exited with 0. */
  readonly result: Promise<{ ms: number; cpuMs: number }>;
}

function startClient(clientScript: string, env: NodeJS.ProcessEnv, url: string, load: SdkLoad): Client {
  const args = [clientScript, 'rate', url, load.operation, JSON.stringify(load.input), String(load.requests / load.processes), String(load.inFlight / load.processes), String(load.warmup)];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const failure = (code: number | null) => new Error(`the SDK client exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  let onReady = () => {};
  let onAnswer = (_at: number) => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const answered = new Promise<number>((resolve) => (onAnswer = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (/^ready$/m.test(stdout)) onReady();
    if (/^\{.*\}$/m.test(stdout)) onAnswer(performance.now());
  });
  const result = exited.then((code) => {
    const line = stdout.split('\n').find((text) => text.startsWith('{'));
    if (code !== 0 || !line) throw failure(code);
    return JSON.parse(line) as { ms: number; cpuMs: number };
  });
  // A process that ends early rejects whatever is still awaited of it.
  const early = result.then(() => Promise.reject(failure(0)));
  const settled = <T>(promise: Promise<T>) => Promise.race([promise, early]);
  const client = { child, ready: settled(ready), answered: settled(answered), result };
  for (const promise of [client.ready, client.answered, client.result]) promise.catch(() => undefined);
  return client;
}

/** Runs `load` against the endpoint at `url`, whose server process is `serverPid`. */
export async function runSdkLoad(clientScript: string, env: NodeJS.ProcessEnv, url: string, serverPid: number, load: SdkLoad): Promise<SdkLoadResult> {
  if (load.requests % load.processes || load.inFlight % load.processes) throw new Error('requests and in-flight count must split evenly between the processes');
  const clients = Array.from({ length: load.processes }, () => startClient(clientScript, env, url, load));
  try {
    return await timed(clients, serverPid, load.requests);
  } finally {
    // Only a failed run leaves any running.
    for (const client of clients) if (client.child.exitCode === null) client.child.kill();
  }
}

async function timed(clients: readonly Client[], serverPid: number, requests: number): Promise<SdkLoadResult> {
  await Promise.all(clients.map((client) => client.ready));
  const serverBefore = processCpuMs(serverPid);
  const start = performance.now();
  for (const client of clients) client.child.stdin!.end('go\n');
  let lastAnswer = start;
  let serverAfter = serverBefore;
  await Promise.all(
    clients.map(async (client) => {
      const at = await client.answered;
      lastAnswer = Math.max(lastAnswer, at);
      // Read as each answer arrives: the last read is the one at the end of the interval.
      serverAfter = processCpuMs(serverPid);
    }),
  );
  const results = await Promise.all(clients.map((client) => client.result));
  return { requests, ms: lastAnswer - start, serverCpuMs: serverAfter - serverBefore, clients: results };
}
