// The job pages without a browser: escaping, the page model, the registry's bounds and redaction,
// and the HTTP routes on the metrics server (404 for unknown runs, the list, the JSON).

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { boardTap, JobBoard, recordResult } from '../../src/worker/job-board.js';
import { escapeHtml, pageModel, renderJobList, renderJobPage, renderNotFound, type JobView } from '../../src/worker/job-pages.js';
import { createLogger } from '../../src/worker/logger.js';
import { serveMetrics, WorkerMetrics } from '../../src/worker/metrics.js';

const VIEW: JobView = {
  id: 'abc-123',
  status: 'in-progress',
  pipeline: 'Web<App>',
  stage: 'Build',
  action: 'Compile & "Link"',
  provider: 'Local-Build',
  actionType: 'Build/Local-Build/1',
  startedAt: Date.UTC(2026, 0, 1, 12, 0, 0),
  hops: 0,
  tail: [
    { seq: 0, stream: 'stdout', text: '<script>alert(1)</script>' },
    { seq: 1, stream: 'stderr', text: "it's \u001b[31mred\u001b[0m & </pre>" },
  ],
  dropped: 0,
};

describe('job page rendering', () => {
  it('escapes HTML and terminal control characters', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(escapeHtml('a\tb\nc\u001b[0m\u0000'), 'a\tb\nc\ufffd[0m\ufffd');
  });

  it('builds the page model: status text, timings, progress', () => {
    const running = pageModel({ ...VIEW, percent: 42.4, summary: 'linking' }, VIEW.startedAt + 90_000);
    assert.equal(running.statusText, 'in progress');
    assert.equal(running.started, '2026-01-01T12:00:00.000Z');
    assert.equal(running.finished, '—');
    assert.match(running.progress, /^42% after .+: linking$/);
    assert.equal(running.done, false);
    const plain = pageModel(VIEW, VIEW.startedAt + 5_000);
    assert.match(plain.progress, /^running for /);
    const done = pageModel({ ...VIEW, status: 'succeeded', finishedAt: VIEW.startedAt + 60_000, summary: 'built' }, VIEW.startedAt + 999_999);
    assert.equal(done.statusText, 'succeeded');
    assert.equal(done.finished, '2026-01-01T12:01:00.000Z');
    assert.equal(done.elapsed, pageModel({ ...VIEW, finishedAt: VIEW.startedAt + 60_000 }, 0).elapsed, 'elapsed stops at the finish');
    assert.equal(done.done, true);
  });

  it('renders untrusted text escaped, with one nonce-bound inline script and no external sources', () => {
    const html = renderJobPage(pageModel(VIEW, VIEW.startedAt), 'NONCE');
    assert.ok(!html.includes('<script>alert'), 'the tail is escaped');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('&lt;/pre&gt;'));
    assert.ok(html.includes('Web&lt;App&gt;'));
    assert.ok(html.includes('Compile &amp; &quot;Link&quot;'));
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.ok(html.includes('<script nonce="NONCE">'));
    assert.ok(html.includes('"/jobs/abc-123.json"'));
    assert.doesNotMatch(html, /\b(src|href)="(https?:)?\/\//, 'nothing loaded from elsewhere');
    assert.doesNotMatch(html, /innerHTML/);
  });

  it('renders the list and the not-found page escaped', () => {
    const list = renderJobList([pageModel({ ...VIEW, id: 'a/b<c>' }, VIEW.startedAt)]);
    assert.ok(list.includes('href="/jobs/a%2Fb%3Cc%3E"'));
    assert.ok(list.includes('a/b&lt;c&gt;'));
    assert.match(renderJobList([]), /No runs yet/);
    assert.ok(renderNotFound('<x>').includes('&lt;x&gt;'));
  });
});

describe('job board', () => {
  const start = (board: JobBoard, runId: string, startedAt = 1_000) =>
    board.start({ runId, pipeline: 'P', stage: 'S', action: 'A', provider: 'Local-Build', actionType: 'Build/Local-Build/1', startedAt, secrets: ['hunter2'] });

  it('keeps a bounded, redacted tail and the last N finished runs', () => {
    let now = 10_000;
    const board = new JobBoard({ keepFinished: 2, tailLines: 3, now: () => now });
    start(board, 'r1');
    for (let line = 0; line < 5; line++) board.line('r1', `line ${line} hunter2`, 'stdout');
    const view = board.view('r1');
    assert.deepEqual(view?.tail.map((line) => line.text), ['line 2 ***', 'line 3 ***', 'line 4 ***']);
    assert.equal(view?.dropped, 2);
    board.line('unknown', 'ignored', 'stdout');
    assert.equal(board.view('unknown'), undefined);
    for (const id of ['r2', 'r3', 'r4']) start(board, id);
    for (const id of ['r1', 'r2', 'r3']) {
      now += 1;
      board.finish(id, 'succeeded');
    }
    assert.deepEqual(board.list().map((run) => run.id), ['r4', 'r3', 'r2'], 'in progress first; the oldest finished run forgotten');
  });

  it('records results: hops, success summary, failure message; taps only output lines', () => {
    const board = new JobBoard({ now: () => 5_000 });
    start(board, 'r');
    recordResult(board, 'r', { kind: 'success', result: { continuationToken: 't', executionDetails: { summary: 'half' } } });
    assert.equal(board.view('r')?.hops, 1);
    assert.equal(board.view('r')?.status, 'in-progress');
    const log = boardTap(createLogger({ write: () => undefined, json: true }), board, 'r');
    log.info('running tool', {});
    log.info('out hunter2', { stream: 'stdout' });
    log.child({}, ['s3cr3t']).warn('err s3cr3t', { stream: 'stderr' });
    assert.deepEqual(board.view('r')?.tail.map((line) => [line.stream, line.text]), [['stdout', 'out ***'], ['stderr', 'err ***']]);
    recordResult(board, 'r', { kind: 'failure', result: { type: 'JobFailed', message: 'exit 2' } });
    assert.equal(board.view('r')?.status, 'failed');
    assert.equal(board.view('r')?.summary, 'JobFailed: exit 2');
    assert.equal(board.view('r')?.finishedAt, 5_000);
    board.finish('r', 'succeeded');
    assert.equal(board.view('r')?.status, 'failed', 'the first end wins');
    start(board, 'async');
    recordResult(board, 'async', { kind: 'success', result: { continuationToken: 't', executionDetails: { summary: 'waiting on the lab' } } }, false);
    assert.equal(board.view('async')?.status, 'continued', 'an async hop whose tool left this worker ends here');
    start(board, 'async');
    assert.equal(board.view('async')?.status, 'in-progress', 'resumed here: in progress again');
  });
});

describe('job routes on the metrics server', () => {
  it('serves the page, its JSON, the list and 404s; without a board /jobs is not served', async () => {
    const board = new JobBoard();
    board.start({ runId: 'run-1', pipeline: 'P', stage: 'Build', action: 'Compile', provider: 'Local-Build', actionType: 'Build/Local-Build/1', startedAt: Date.now() });
    board.line('run-1', '<b>hello</b>', 'stdout');
    const server = await serveMetrics(new WorkerMetrics(), 0, '127.0.0.1', 5, board);
    const bare = await serveMetrics(new WorkerMetrics(), 0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const page = await fetch(`${base}/jobs/run-1`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const html = await page.text();
      assert.ok(html.includes('&lt;b&gt;hello&lt;/b&gt;'));
      assert.ok(html.includes('in progress'));
      const json = (await (await fetch(`${base}/jobs/run-1.json`)).json()) as { statusText: string; tail: { text: string }[] };
      assert.equal(json.statusText, 'in progress');
      assert.equal(json.tail[0]?.text, '<b>hello</b>');
      const missing = await fetch(`${base}/jobs/%3Cnope%3E`);
      assert.equal(missing.status, 404);
      assert.ok((await missing.text()).includes('&lt;nope&gt;'));
      assert.equal((await fetch(`${base}/jobs/nope.json`)).status, 404);
      const list = await fetch(`${base}/jobs`);
      assert.equal(list.status, 200);
      assert.ok((await list.text()).includes('href="/jobs/run-1"'));
      assert.equal((await fetch(`${base}/metrics`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${bare.port}/jobs`)).status, 404);
    } finally {
      await server.close();
      await bare.close();
    }
  });
});
