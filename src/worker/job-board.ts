// The runs this worker process runs or ran recently, for the job pages (job-pages.ts). Fed by the
// job runner: a run starts, its tool's output lines arrive (redacted) through a logger tap, hops
// are counted, and the final result ends it. Bounded: each tail keeps its last lines, and only the
// last `keepFinished` finished runs are kept.

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { PendingResult } from './ledger.js';
import type { LogFields, Logger } from './logger.js';
import { createRedactor, type Redactor } from './redact.js';
import { listOrder, pageHeaders, pageModel, renderJobList, renderJobPage, renderNotFound, type JobPageStatus, type JobView, type TailLine } from './job-pages.js';

export const DEFAULT_KEEP_FINISHED = 50;
export const DEFAULT_TAIL_LINES = 500;
export const MAX_LINE_CHARS = 4096;

export interface BoardRunStart {
  readonly runId: string;
  readonly pipeline: string;
  readonly stage: string;
  readonly action: string;
  readonly provider: string;
  readonly actionType: string;
  readonly startedAt: number;
  /** Values never shown: every line and summary is redacted with them. */
  readonly secrets?: readonly string[];
  /** The run's live progress (percent, last line), read when a page is rendered. */
  readonly progress?: () => { readonly percent?: number; readonly lastLine?: string };
}

interface Entry {
  start: BoardRunStart;
  redactor: Redactor;
  status: JobPageStatus;
  finishedAt?: number;
  percent?: number;
  summary?: string;
  hops: number;
  tail: TailLine[];
  seq: number;
}

export class JobBoard {
  private readonly entries = new Map<string, Entry>();
  private readonly keepFinished: number;
  private readonly tailLines: number;
  private readonly now: () => number;

  constructor(options: { keepFinished?: number; tailLines?: number; now?: () => number } = {}) {
    this.keepFinished = options.keepFinished ?? DEFAULT_KEEP_FINISHED;
    this.tailLines = options.tailLines ?? DEFAULT_TAIL_LINES;
    this.now = options.now ?? Date.now;
  }

  /** A run's tool starts here (again, for a resumed or restarted run: its entry is reused). */
  start(run: BoardRunStart): void {
    const known = this.entries.get(run.runId);
    if (known) {
      known.start = run;
      for (const secret of run.secrets ?? []) known.redactor.add(secret);
      known.status = 'in-progress';
      delete known.finishedAt;
      return;
    }
    this.entries.set(run.runId, { start: run, redactor: createRedactor(run.secrets ?? []), status: 'in-progress', hops: 0, tail: [], seq: 0 });
  }

  /** More values to hide for a run. */
  addSecrets(runId: string, secrets: readonly string[]): void {
    const entry = this.entries.get(runId);
    for (const secret of entry ? secrets : []) entry?.redactor.add(secret);
  }

  /** One line of output; redacted with the run's secrets. */
  line(runId: string, raw: string, stream: TailLine['stream']): void {
    const entry = this.entries.get(runId);
    if (!entry) return;
    const text = entry.redactor.redact(raw);
    const kept = text.length > MAX_LINE_CHARS ? `…${text.slice(text.length - MAX_LINE_CHARS + 1)}` : text;
    entry.tail.push({ seq: entry.seq++, stream, text: kept });
    if (entry.tail.length > this.tailLines) entry.tail.splice(0, entry.tail.length - this.tailLines);
  }

  /** A continuation job was reported for the run. */
  hop(runId: string): void {
    const entry = this.entries.get(runId);
    if (entry) entry.hops++;
  }

  /** The run's final result (or it was stopped). Unknown runs (owned elsewhere) are ignored. */
  finish(runId: string, status: Exclude<JobPageStatus, 'in-progress'>, summary?: string): void {
    const entry = this.entries.get(runId);
    if (!entry || entry.status !== 'in-progress') return;
    const live = entry.start.progress?.();
    if (live?.percent !== undefined) entry.percent = status === 'succeeded' ? 100 : live.percent;
    entry.status = status;
    entry.finishedAt = this.now();
    entry.summary = summary ?? live?.lastLine;
    this.prune();
  }

  has(runId: string): boolean {
    return this.entries.has(runId);
  }

  view(runId: string): JobView | undefined {
    const entry = this.entries.get(runId);
    if (!entry) return undefined;
    const { start } = entry;
    const live = entry.status === 'in-progress' ? start.progress?.() : undefined;
    const percent = live?.percent ?? entry.percent;
    const raw = live?.lastLine ?? entry.summary;
    const summary = raw === undefined ? undefined : entry.redactor.redact(raw);
    const first = entry.tail[0];
    return {
      id: start.runId,
      status: entry.status,
      pipeline: start.pipeline,
      stage: start.stage,
      action: start.action,
      provider: start.provider,
      actionType: start.actionType,
      startedAt: start.startedAt,
      ...(entry.finishedAt !== undefined ? { finishedAt: entry.finishedAt } : {}),
      ...(percent !== undefined ? { percent } : {}),
      ...(summary !== undefined ? { summary } : {}),
      hops: entry.hops,
      tail: [...entry.tail],
      dropped: first ? first.seq : 0,
    };
  }

  /** Current runs first, then recent ones, newest first. */
  list(): JobView[] {
    return [...this.entries.keys()].map((id) => this.view(id) as JobView).sort(listOrder);
  }

  private prune(): void {
    const finished = [...this.entries.values()].filter((entry) => entry.status !== 'in-progress').sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    for (const entry of finished.slice(0, Math.max(0, finished.length - this.keepFinished))) this.entries.delete(entry.start.runId);
  }
}

/**
 * Wraps a job's logger so tool output lines (fields.stream) reach the board, which redacts them
 * with the run's secrets (exec.ts has redacted them already; this covers executors that log directly).
 */
export function boardTap(log: Logger, board: JobBoard, runId: string): Logger {
  const look = (message: string, fields?: LogFields) => {
    const stream = fields?.stream;
    if (stream !== 'stdout' && stream !== 'stderr') return;
    for (const line of message.replace(/\r?\n$/, '').split(/\r?\n/)) board.line(runId, line, stream);
  };
  const wrap = (inner: Logger): Logger => ({
    debug: (message, fields) => (look(message, fields), inner.debug(message, fields)),
    info: (message, fields) => (look(message, fields), inner.info(message, fields)),
    warn: (message, fields) => (look(message, fields), inner.warn(message, fields)),
    error: (message, fields) => (look(message, fields), inner.error(message, fields)),
    child: (fields, more) => {
      if (more) board.addSecrets(runId, more);
      return wrap(inner.child(fields, more));
    },
  });
  return wrap(log);
}

/** A result the runner computed for one of the board's runs: a progress hop, or its end. A
 *  continuation whose tool no longer runs here (`toolHere` false: an async plugin's state went into
 *  the token) ends the entry as `continued`, so entries resumed elsewhere do not stay forever. */
export function recordResult(board: JobBoard, runId: string, pending: PendingResult, toolHere = true): void {
  if (pending.kind === 'failure') board.finish(runId, 'failed', `${pending.result.type}: ${pending.result.message}`);
  else if (pending.result.continuationToken === undefined) board.finish(runId, 'succeeded', pending.result.executionDetails?.summary);
  else {
    board.hop(runId);
    if (!toolHere) board.finish(runId, 'continued', pending.result.executionDetails?.summary);
  }
}

/**
 * Answers GET /jobs, /jobs.json, /jobs/<id> and /jobs/<id>.json from the board; false for any
 * other path (the caller answers it).
 */
export function answerJobRequest(board: JobBoard, path: string, response: ServerResponse, now = Date.now()): boolean {
  if (path === '/jobs' || path === '/jobs/' || path === '/jobs.json') {
    const models = board.list().map((view) => pageModel(view, now));
    if (path === '/jobs.json') sendJson(response, 200, models);
    else {
      const nonce = randomBytes(16).toString('base64');
      response.writeHead(200, pageHeaders(nonce));
      response.end(renderJobList(models));
    }
    return true;
  }
  const match = /^\/jobs\/([^/]+?)(\.json)?$/.exec(path);
  if (!match) return false;
  let id: string;
  try {
    id = decodeURIComponent(match[1] as string);
  } catch {
    id = match[1] as string;
  }
  const view = board.view(id);
  if (match[2]) {
    if (view) sendJson(response, 200, pageModel(view, now));
    else sendJson(response, 404, { error: `unknown run ${id}` });
    return true;
  }
  const nonce = randomBytes(16).toString('base64');
  response.writeHead(view ? 200 : 404, pageHeaders(nonce));
  response.end(view ? renderJobPage(pageModel(view, now), nonce) : renderNotFound(id));
  return true;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(JSON.stringify(body));
}
