// The local endpoint in a forked child process (bench/plan-endpoint.ts), so a benchmark's client
// never shares an event loop with the server, plus its request counters over IPC.

import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { EndpointStats } from './plan-endpoint.js';
import { REPO_ROOT } from './harness.js';

export interface ForkedEndpoint {
  readonly child: ChildProcess;
  readonly url: string;
  /** Request counts per operation; `reset` zeroes them, `timeline` adds per-request times. */
  stats(reset?: boolean, timeline?: boolean): Promise<EndpointStats>;
  stop(): Promise<void>;
}

export async function startForkedEndpoint(dataDir: string, latencyMs: number, env: NodeJS.ProcessEnv): Promise<ForkedEndpoint> {
  const child = fork(join(REPO_ROOT, 'bench', 'plan-endpoint.ts'), [dataDir, String(latencyMs)], { cwd: REPO_ROOT, env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
    stats: (reset = false, timeline = false) =>
      new Promise<EndpointStats>((resolve) => {
        const onMessage = (message: { type?: string }) => {
          if (message.type !== 'stats') return;
          child.off('message', onMessage);
          resolve(message as EndpointStats);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats', reset, timeline });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
