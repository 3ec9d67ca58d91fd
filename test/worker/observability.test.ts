// Logs and metrics: JSON lines or readable lines, job fields on every job line, secrets and
// credentials never written; Prometheus text on /metrics and /healthz turning 503.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/worker/logger.js';
import { serveMetrics, WorkerMetrics } from '../../src/worker/metrics.js';

describe('logger', () => {
  it('writes JSON lines with the job fields and redacts secrets and credential fields', () => {
    let out = '';
    const log = createLogger({ write: (line) => void (out += line), json: true, now: () => new Date(0) });
    const job = log.child({ job: 'j-1', pipeline: 'P', stage: 'Build', action: 'Compile', provider: 'Local-Build' }, ['hunter2']);
    job.info('running with hunter2', { nonce: '42', sessionToken: 'tok', detail: { nested: 'x hunter2 y' }, list: ['hunter2'] });
    const line = JSON.parse(out) as Record<string, unknown>;
    assert.deepEqual(line, {
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'running with ***',
      job: 'j-1',
      pipeline: 'P',
      stage: 'Build',
      action: 'Compile',
      provider: 'Local-Build',
      nonce: '***',
      sessionToken: '***',
      detail: { nested: 'x *** y' },
      list: ['***'],
    });
  });

  it('writes readable lines on a terminal and drops debug below the level', () => {
    let out = '';
    const log = createLogger({ write: (line) => void (out += line), json: false, level: 'info', now: () => new Date(Date.UTC(2026, 0, 1, 12, 34, 56)) });
    log.debug('hidden');
    log.warn('slow poll', { provider: 'X', error: 'Throttling: rate exceeded' });
    assert.equal(out, '12:34:56 WARN  slow poll  provider=X error="Throttling: rate exceeded"\n');
  });
});

describe('metrics', () => {
  it('renders counters, the duration histogram and the in-flight gauge', () => {
    const metrics = new WorkerMetrics();
    metrics.countJob('Local-Build', 'succeeded', 0.3);
    metrics.countJob('Local-Build', 'JobFailed', 12);
    metrics.countPoll('Local-Build', 'jobs');
    metrics.countPoll('Local-Build', 'throttled');
    metrics.lostAcknowledgements = 2;
    metrics.inFlight = 1;
    const text = metrics.render();
    assert.match(text, /^cpsync_worker_jobs_total\{provider="Local-Build",outcome="succeeded"\} 1$/m);
    assert.match(text, /^cpsync_worker_jobs_total\{provider="Local-Build",outcome="JobFailed"\} 1$/m);
    assert.match(text, /^cpsync_worker_polls_total\{provider="Local-Build",result="throttled"\} 1$/m);
    assert.match(text, /^cpsync_worker_lost_acknowledgements_total 2$/m);
    assert.match(text, /^cpsync_worker_jobs_in_flight 1$/m);
    assert.match(text, /^cpsync_worker_job_duration_seconds_bucket\{provider="Local-Build",le="0.5"\} 1$/m);
    assert.match(text, /^cpsync_worker_job_duration_seconds_bucket\{provider="Local-Build",le="15"\} 2$/m);
    assert.match(text, /^cpsync_worker_job_duration_seconds_count\{provider="Local-Build"\} 2$/m);
  });

  it('serves /metrics and /healthz: 200 while polling works, 503 after failed polls or while shutting down', async () => {
    const metrics = new WorkerMetrics();
    const server = await serveMetrics(metrics, 0, '127.0.0.1', 3);
    try {
      const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
      const page = await get('/metrics');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
      assert.match(await page.text(), /cpsync_worker_jobs_in_flight 0/);
      assert.equal((await get('/healthz')).status, 200);
      for (let i = 0; i < 3; i++) metrics.countPoll('X', 'error');
      assert.equal((await get('/healthz')).status, 503);
      metrics.countPoll('X', 'empty');
      assert.equal((await get('/healthz')).status, 200);
      metrics.shuttingDown = true;
      assert.equal((await get('/healthz')).status, 503);
      assert.equal((await get('/nope')).status, 404);
    } finally {
      await server.close();
    }
  });
});
