// The local endpoint for bench/plan.ts, in a process of its own (forked with an IPC channel), so
// the endpoint never shares an event loop with the benchmark or the cpsync process it times.
//
//   node --import tsx bench/plan-endpoint.ts DATA_DIR [LATENCY_MS]
//
// It is `startLocalEndpoint()` as `cpsync local --data DATA_DIR --fault '*:latency=<LATENCY_MS>ms'`
// starts it, plus a request log kept through Node's `http.server.*` diagnostics channels (nothing in
// src/ is changed for it): requests per operation and the most requests in flight at once. The
// parent asks for it with the IPC message `{ type: 'stats', reset?: boolean, timeline?: boolean }`;
// the answer is a `{ type: 'stats', ... }` message (with `timeline: true`, also when each request
// arrived). The first message sent is `{ type: 'ready', url }`. bench/worker.ts uses it too.

import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { startLocalEndpoint } from '../src/emulator/index.js';

export interface EndpointStats {
  readonly type: 'stats';
  /** Requests per operation: CodePipeline operation names, `sts:GetCallerIdentity`, `s3:<METHOD>`. */
  readonly requests: Record<string, number>;
  readonly total: number;
  /** The most requests the endpoint had accepted and not yet answered at any moment. */
  readonly maxInFlight: number;
  /** Milliseconds from each request's arrival to its response's end, summed per operation (the
   *  endpoint's service time, its own queueing included), for requests answered since the reset. */
  readonly serviceMs: Record<string, number>;
  /** With `timeline: true` only: [ms since the last reset, operation] for each request, in order. */
  readonly timeline?: readonly (readonly [number, string])[];
  /** When the counts were last reset, on the endpoint's clock (ms since the epoch): timeline times are relative to it. */
  readonly resetAtEpochMs: number;
}

const [dataDir, latencyText = '0'] = process.argv.slice(2);
if (!dataDir || !process.send) {
  process.stderr.write('usage: fork bench/plan-endpoint.ts DATA_DIR [LATENCY_MS] with an IPC channel\n');
  process.exit(2);
}
const latencyMs = Number(latencyText);

let requests = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;
let since = performance.now();
let sinceEpochMs = Date.now();
let timeline: [number, string][] = [];
let serviceMs = new Map<string, number>();
const started = new WeakMap<IncomingMessage, { readonly at: number; readonly operation: string }>();

function operationOf(request: IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') return target.replace(/^CodePipeline_20150709\./, '');
  if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return 'sts:GetCallerIdentity';
  return `s3:${request.method ?? '?'}`;
}

subscribe('http.server.request.start', (message) => {
  const operation = operationOf((message as { request: IncomingMessage }).request);
  requests.set(operation, (requests.get(operation) ?? 0) + 1);
  timeline.push([performance.now() - since, operation]);
  started.set((message as { request: IncomingMessage }).request, { at: performance.now(), operation });
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
});
subscribe('http.server.response.finish', (message) => {
  inFlight--;
  const start = started.get((message as { request: IncomingMessage }).request);
  // Requests that arrived before the reset are not counted (their operation count was reset too).
  if (start && start.at >= since) serviceMs.set(start.operation, (serviceMs.get(start.operation) ?? 0) + performance.now() - start.at);
});

const endpoint = await startLocalEndpoint({
  port: 0,
  dataDir,
  ...(latencyMs > 0 ? { faults: [{ operation: '*', latencyMs }] } : {}),
});

process.on('message', (message: { type?: string; reset?: boolean; timeline?: boolean }) => {
  if (message.type !== 'stats') return;
  const stats: EndpointStats = {
    type: 'stats',
    requests: Object.fromEntries([...requests.entries()].sort(([a], [b]) => a.localeCompare(b))),
    total: [...requests.values()].reduce((sum, n) => sum + n, 0),
    maxInFlight,
    serviceMs: Object.fromEntries([...serviceMs.entries()].sort(([a], [b]) => a.localeCompare(b))),
    ...(message.timeline ? { timeline } : {}),
    resetAtEpochMs: sinceEpochMs,
  };
  if (message.reset) {
    requests = new Map();
    maxInFlight = inFlight;
    since = performance.now();
    sinceEpochMs = Date.now();
    timeline = [];
    serviceMs = new Map();
  }
  process.send!(stats);
});

const stop = () => {
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  void endpoint.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);

process.send({ type: 'ready', url: endpoint.url });
