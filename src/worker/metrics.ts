// The worker's counters in Prometheus text format (exposition format 0.0.4), served on
// --metrics-port with /healthz beside it. Small enough to write by hand; no dependency.

import { createServer, type Server } from 'node:http';
import type { FailureType } from '../model/limits.js';
import { answerJobRequest, type JobBoard } from './job-board.js';

export type JobOutcomeLabel = 'succeeded' | 'continued' | FailureType | 'abandoned';

const DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400];

export class WorkerMetrics {
  readonly jobs = new Map<string, number>();
  readonly polls = new Map<string, number>();
  lostAcknowledgements = 0;
  inFlight = 0;
  private readonly durationCounts = new Map<string, number[]>();
  private readonly durationSums = new Map<string, number>();
  /** Consecutive failed polls across all types; reset by any successful poll. */
  consecutivePollFailures = 0;
  shuttingDown = false;

  countJob(provider: string, outcome: JobOutcomeLabel, seconds: number): void {
    bump(this.jobs, `provider="${esc(provider)}",outcome="${outcome}"`);
    const key = `provider="${esc(provider)}"`;
    const counts = this.durationCounts.get(key) ?? new Array<number>(DURATION_BUCKETS.length).fill(0);
    DURATION_BUCKETS.forEach((bound, index) => {
      if (seconds <= bound) counts[index] = (counts[index] ?? 0) + 1;
    });
    this.durationCounts.set(key, counts);
    this.durationSums.set(key, (this.durationSums.get(key) ?? 0) + seconds);
  }

  countPoll(provider: string, result: 'jobs' | 'empty' | 'throttled' | 'error'): void {
    bump(this.polls, `provider="${esc(provider)}",result="${result}"`);
    this.consecutivePollFailures = result === 'throttled' || result === 'error' ? this.consecutivePollFailures + 1 : 0;
  }

  render(): string {
    const lines: string[] = [];
    const counter = (name: string, help: string, values: Map<string, number>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of [...values].sort()) lines.push(`${name}{${labels}} ${value}`);
    };
    counter('cpsync_worker_jobs_total', 'Jobs reported, by provider and outcome (a failure type, succeeded or continued).', this.jobs);
    counter('cpsync_worker_polls_total', 'PollForJobs calls, by provider and result.', this.polls);
    lines.push('# HELP cpsync_worker_lost_acknowledgements_total Jobs another worker acknowledged first (InvalidNonceException).', '# TYPE cpsync_worker_lost_acknowledgements_total counter', `cpsync_worker_lost_acknowledgements_total ${this.lostAcknowledgements}`);
    lines.push('# HELP cpsync_worker_jobs_in_flight Jobs acknowledged and not yet reported.', '# TYPE cpsync_worker_jobs_in_flight gauge', `cpsync_worker_jobs_in_flight ${this.inFlight}`);
    lines.push('# HELP cpsync_worker_job_duration_seconds Time from acknowledgement to report.', '# TYPE cpsync_worker_job_duration_seconds histogram');
    for (const [labels, counts] of [...this.durationCounts].sort()) {
      DURATION_BUCKETS.forEach((bound, index) => lines.push(`cpsync_worker_job_duration_seconds_bucket{${labels},le="${bound}"} ${counts[index] ?? 0}`));
      const total = this.jobsFor(labels);
      lines.push(`cpsync_worker_job_duration_seconds_bucket{${labels},le="+Inf"} ${total}`);
      lines.push(`cpsync_worker_job_duration_seconds_sum{${labels}} ${this.durationSums.get(labels) ?? 0}`);
      lines.push(`cpsync_worker_job_duration_seconds_count{${labels}} ${total}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private jobsFor(providerLabel: string): number {
    let total = 0;
    for (const [labels, value] of this.jobs) if (labels.startsWith(`${providerLabel},`)) total += value;
    return total;
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves /metrics and /healthz (200 while polling works, 503 after `failureThreshold` failed polls in a row or while shutting down),
 *  and with `jobs` the job pages (/jobs, /jobs/<externalExecutionId>; see job-pages.ts). */
export async function serveMetrics(metrics: WorkerMetrics, port: number, host = '0.0.0.0', failureThreshold = 5, jobs?: JobBoard): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(metrics.render());
      return;
    }
    if (path === '/healthz') {
      const healthy = !metrics.shuttingDown && metrics.consecutivePollFailures < failureThreshold;
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(healthy ? 'ok\n' : metrics.shuttingDown ? 'shutting down\n' : `the last ${metrics.consecutivePollFailures} polls failed\n`);
      return;
    }
    if (jobs && (request.method === 'GET' || request.method === 'HEAD') && answerJobRequest(jobs, path ?? '/', response)) return;
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`not found: try /metrics or /healthz${jobs ? ' or /jobs' : ''}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
