// The job page the worker serves beside /metrics: GET /jobs/<externalExecutionId> (the console's
// executionUrlTemplate link), its JSON at /jobs/<id>.json, and GET /jobs listing current and recent
// runs. Everything here is pure: the page model and the HTML. All text (names, summaries, the
// tool's output tail) is untrusted and escaped; the page's one inline script updates the page from
// the JSON every second with textContent only, and the pages allow no other source (CSP).

import { formatDuration } from '../util/duration.js';

/** `continued`: the tool ended here with state for a later job (an async plugin), which any worker may resume. */
export type JobPageStatus = 'in-progress' | 'succeeded' | 'failed' | 'stopped' | 'continued';

export interface TailLine {
  readonly seq: number;
  readonly stream: 'stdout' | 'stderr' | 'log';
  readonly text: string;
}

/** What a page shows about one run (the registry's snapshot). */
export interface JobView {
  readonly id: string;
  readonly status: JobPageStatus;
  readonly pipeline: string;
  readonly stage: string;
  readonly action: string;
  readonly provider: string;
  readonly actionType: string;
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly percent?: number;
  /** The last meaningful output line, or the final summary / failure message. */
  readonly summary?: string;
  /** Continuation jobs reported so far. */
  readonly hops: number;
  readonly tail: readonly TailLine[];
  /** Lines dropped from the start of the tail (it is bounded). */
  readonly dropped: number;
}

/** The page model: what a person reads, computed at `now`. */
export interface JobPageModel {
  readonly id: string;
  readonly status: JobPageStatus;
  readonly statusText: string;
  readonly pipeline: string;
  readonly stage: string;
  readonly action: string;
  readonly provider: string;
  readonly actionType: string;
  readonly started: string;
  readonly elapsed: string;
  readonly finished: string;
  readonly progress: string;
  readonly percent?: number;
  readonly tail: readonly TailLine[];
  readonly dropped: number;
  readonly done: boolean;
}

export const STATUS_TEXT: Record<JobPageStatus, string> = {
  'in-progress': 'in progress',
  succeeded: 'succeeded',
  failed: 'failed',
  stopped: 'stopped',
  continued: 'continued in a later job',
};

export function pageModel(view: JobView, now: number): JobPageModel {
  const end = view.finishedAt ?? now;
  const elapsedMs = Math.max(0, end - view.startedAt);
  const head = view.percent !== undefined ? `${Math.round(view.percent)}% after ${formatDuration(elapsedMs)}` : view.finishedAt !== undefined ? `took ${formatDuration(elapsedMs)}` : `running for ${formatDuration(elapsedMs)}`;
  return {
    id: view.id,
    status: view.status,
    statusText: STATUS_TEXT[view.status],
    pipeline: view.pipeline,
    stage: view.stage,
    action: view.action,
    provider: view.provider,
    actionType: view.actionType,
    started: new Date(view.startedAt).toISOString(),
    elapsed: formatDuration(elapsedMs),
    finished: view.finishedAt !== undefined ? new Date(view.finishedAt).toISOString() : '—',
    progress: view.summary ? `${head}: ${view.summary}` : head,
    ...(view.percent !== undefined ? { percent: view.percent } : {}),
    tail: view.tail,
    dropped: view.dropped,
    done: view.status !== 'in-progress',
  };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML element content and quoted attribute values. Control characters other than
 *  tab and newline (terminal escapes in tool output) become U+FFFD. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd');
}

/** A run id as a path segment. */
export const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}dd{margin:0}
.status{display:inline-block;padding:.1em .6em;border-radius:.8em;background:#ddd}
.status-in-progress{background:#cde4ff}.status-succeeded{background:#c9f0c9}.status-failed{background:#f7c6c6}.status-stopped{background:#eee0b5}.status-continued{background:#e4d8f5}
pre{background:#111;color:#ddd;padding:.8em;max-height:70vh;overflow:auto;white-space:pre-wrap;word-break:break-all}
.stderr{color:#f99}table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}`;

/** Headers for every page: no external source of any kind, the inline script by nonce only. */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  };
}

function layout(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}

function tailHtml(lines: readonly TailLine[]): string {
  return lines.map((line) => `<span class="${line.stream}">${escapeHtml(line.text)}\n</span>`).join('');
}

/** The job page: status, names, timings, progress, the output tail, and the script that keeps them current. */
export function renderJobPage(model: JobPageModel, nonce: string): string {
  const field = (name: string, label: string, value: string) => `<dt>${label}</dt><dd id="${name}">${escapeHtml(value)}</dd>`;
  const body = `<h1>${escapeHtml(model.pipeline)} / ${escapeHtml(model.stage)} / ${escapeHtml(model.action)}</h1>
<p>Status: <span id="status" class="status status-${model.status}">${escapeHtml(model.statusText)}</span></p>
<dl>${field('pipeline', 'Pipeline', model.pipeline)}${field('stage', 'Stage', model.stage)}${field('action', 'Action', model.action)}${field('provider', 'Provider', model.provider)}${field('actionType', 'Action type', model.actionType)}${field('run', 'Run', model.id)}${field('started', 'Started', model.started)}${field('elapsed', 'Elapsed', model.elapsed)}${field('finished', 'Finished', model.finished)}${field('progress', 'Progress', model.progress)}</dl>
<h2>Output</h2><p id="dropped"${model.dropped ? '' : ' hidden'}>${model.dropped} earlier line${model.dropped === 1 ? '' : 's'} not kept</p>
<pre id="tail">${tailHtml(model.tail)}</pre>
<p><a href="/jobs">All runs on this worker</a></p>
<script nonce="${escapeHtml(nonce)}">${UPDATE_SCRIPT(jobPath(model.id) + '.json', model.done)}</script>`;
  return layout(`${model.statusText}: ${model.pipeline} / ${model.stage} / ${model.action}`, body);
}

// Polls the JSON every second and writes it into the page with textContent (never HTML).
const UPDATE_SCRIPT = (url: string, done: boolean) => `(function(){
var url=${JSON.stringify(url)},done=${done ? 'true' : 'false'},last=-1;
var set=function(id,text){var e=document.getElementById(id);if(e&&e.textContent!==text)e.textContent=text;};
function apply(m){
set('status',m.statusText);document.getElementById('status').className='status status-'+m.status;
['pipeline','stage','action','provider','actionType','started','elapsed','finished','progress'].forEach(function(k){set(k,m[k]);});
var d=document.getElementById('dropped');d.hidden=!m.dropped;d.textContent=m.dropped+' earlier line'+(m.dropped===1?'':'s')+' not kept';
var end=m.tail.length?m.tail[m.tail.length-1].seq:-1;
if(end!==last){var pre=document.getElementById('tail'),stick=pre.scrollTop+pre.clientHeight>=pre.scrollHeight-4;
var f=document.createDocumentFragment();m.tail.forEach(function(l){var s=document.createElement('span');s.className=l.stream;s.textContent=l.text+'\\n';f.appendChild(s);});
pre.replaceChildren(f);last=end;if(stick)pre.scrollTop=pre.scrollHeight;}
document.title=m.statusText+': '+m.pipeline+' / '+m.stage+' / '+m.action;done=m.done;}
function tick(){if(done)return;fetch(url,{cache:'no-store'}).then(function(r){return r.ok?r.json():null;}).then(function(m){if(m)apply(m);}).catch(function(){}).then(function(){if(!done)setTimeout(tick,1000);});}
setTimeout(tick,1000);})();`;

/** GET /jobs: current runs first, then recent ones, newest first. */
export function renderJobList(models: readonly JobPageModel[]): string {
  const rows = models
    .map((m) => `<tr><td><a href="${escapeHtml(jobPath(m.id))}">${escapeHtml(m.id)}</a></td><td><span class="status status-${m.status}">${escapeHtml(m.statusText)}</span></td><td>${escapeHtml(m.pipeline)}</td><td>${escapeHtml(m.stage)}</td><td>${escapeHtml(m.action)}</td><td>${escapeHtml(m.provider)}</td><td>${escapeHtml(m.started)}</td><td>${escapeHtml(m.elapsed)}</td></tr>`)
    .join('\n');
  const table = models.length
    ? `<table><thead><tr><th>Run</th><th>Status</th><th>Pipeline</th><th>Stage</th><th>Action</th><th>Provider</th><th>Started</th><th>Elapsed</th></tr></thead><tbody>\n${rows}\n</tbody></table>`
    : '<p>No runs yet on this worker.</p>';
  return layout('cpsync worker: runs', `<h1>Runs on this worker</h1>${table}`);
}

export function renderNotFound(id: string): string {
  return layout('run not found', `<h1>Run not found</h1><p>This worker does not know run <code>${escapeHtml(id)}</code>: another worker ran it, or it finished too long ago to be kept.</p><p><a href="/jobs">Runs on this worker</a></p>`);
}

/** Orders runs for the list: in progress first, then by start time, newest first. */
export function listOrder(a: JobView, b: JobView): number {
  const running = Number(b.status === 'in-progress') - Number(a.status === 'in-progress');
  return running || b.startedAt - a.startedAt || (b.finishedAt ?? 0) - (a.finishedAt ?? 0);
}
