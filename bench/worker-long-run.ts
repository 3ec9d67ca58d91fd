// Part 4 of bench/worker: what long-running work costs (issue 6). Run by bench/worker.ts, which owns
// the forked endpoint, the SDK clients and the worker processes; this module adds two measurements
// and their docs section:
//
// 1. Details link first: a 1-second tool (`sleep 1` through the bundled `command` plugin) in an
//    action type that declares an executionUrlTemplate (so the first job reports the run id with a
//    continuation token before the tool starts), alternated with the same type told
//    `detailsLinkFirst: false`. From the endpoint's own clock (GetPipelineState's
//    lastStatusChange, and the endpoint's request timeline): job available → picked up by a poll →
//    link visible → action finished. Target: the link visible within one poll interval: once a poll
//    has picked the job up, the link shows before the soonest next poll (--poll-min, 1 s).
// 2. Progress: a tool that runs for a while with a short progress interval; every call the endpoint
//    answers in that window is counted and split into what each hop costs (PutJobSuccessResult with
//    the token, the poll that dispatches the continuation job, its AcknowledgeJob, and any empty
//    polls between a hop's report and the next job reaching the owner) and what holding costs per
//    second (polls while the owner holds a job). Per hour at the default interval (2 min, 30 hops)
//    that is 30 × per-hop + 3600 × per-second-of-holding. Target: under 100 calls per hour.

import { CreatePipelineCommand, GetPipelineStateCommand, type ActionTypeId, type CodePipelineClient, type PipelineDeclaration } from '@aws-sdk/client-codepipeline';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PROGRESS_INTERVAL_MS } from '../src/worker/long-run.js';
import { quantile } from './harness.js';
import { projectActionType } from './fixtures.js';
import type { ForkedEndpoint } from './endpoint-process.js';
import type { EndpointStats } from './plan-endpoint.js';

const LINK_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Bench-Link', version: '1' };
const PLAIN_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Bench-Plain', version: '1' };
const PROGRESS_TYPE: ActionTypeId = { category: 'Build', owner: 'Custom', provider: 'Bench-Progress', version: '1' };
/** --poll-min as shipped (docs/worker.md). */
const POLL_MIN_MS = 1_000;
const URL_TEMPLATE = 'http://runner:9464/jobs/{ExternalExecutionId}';

const LINK_ROUNDS = Number(process.env.CPSYNC_BENCH_LINK_ROUNDS ?? 6);
const PROGRESS_INTERVAL_S = 5;
const PROGRESS_TOOL_S = 40;
const MAX_PROGRESS_CALLS_PER_HOUR = 100;
const HOUR_S = 3600;
const DEFAULT_INTERVAL_S = DEFAULT_PROGRESS_INTERVAL_MS / 1000;

/** What bench/worker.ts lends this part. */
export interface LongRunContext {
  readonly dir: string;
  readonly endpoint: ForkedEndpoint;
  readonly cp: CodePipelineClient;
  /** The artifact store pipeline declaration for a Build action of `type` with the given source key. */
  readonly pipeline: (name: string, type: ActionTypeId, sourceKey: string) => PipelineDeclaration;
  /** A source object every pipeline here may use (uploaded by bench/worker.ts). */
  readonly sourceKey: string;
  readonly startWorker: (project: string, workDir: string, args: readonly string[]) => { waitStarted(): Promise<void>; stop(): Promise<unknown>; tail(lines: number): string };
  readonly say: (line: string) => void;
}

export interface LinkRound {
  readonly kind: 'link-first' | 'plain';
  /** Endpoint clock, ms since the epoch. */
  readonly jobAt: number;
  readonly pollAt: number;
  /** The worker's poll interval around the job: from its previous poll of the type to the one that picked it up. */
  readonly pollGapMs: number;
  readonly linkAt: number;
  readonly endAt: number;
  /** Link first only: the extra hop, from reporting the link to acknowledging the continuation job. */
  readonly hopMs: number;
}

export interface ProgressResult {
  readonly toolS: number;
  readonly intervalS: number;
  readonly windowMs: number;
  readonly hops: number;
  readonly calls: Record<string, number>;
  /** Calls that come with each hop: the report, the continuation job's dispatching poll and acknowledgement, empty polls while no job is held. */
  readonly perHop: number;
  /** Polls while the owner holds a job, per second held. */
  readonly holdPollsPerSecond: number;
  readonly heldMs: number;
  readonly perHour: number;
}

export interface LongRunResult {
  readonly link: readonly LinkRound[];
  readonly progress: ProgressResult;
}

function actionsYaml(): string {
  const type = (id: ActionTypeId, executor: string, settings = true) => `  - category: ${id.category}
    provider: ${id.provider}
    version: "${id.version}"
${settings ? `    settings:\n      executionUrlTemplate: "${URL_TEMPLATE}"\n` : ''}    configurationProperties:
      - { name: ProjectName, required: true, key: true, secret: false, queryable: false, type: String }
    inputArtifactDetails: { minimumCount: 1, maximumCount: 1 }
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 }
    executor:
${executor}`;
  return `# Generated by bench/worker-long-run.ts.
actionTypes:
${type(LINK_TYPE, '      plugin: command\n      options: { argv: [sleep, "1"] }\n')}
${type(PLAIN_TYPE, '      plugin: command\n      detailsLinkFirst: false\n      options: { argv: [sleep, "1"] }\n')}
${type(PROGRESS_TYPE, `      plugin: command\n      progressInterval: ${PROGRESS_INTERVAL_S}s\n      options: { argv: [sleep, "${PROGRESS_TOOL_S}"] }\n`)}`;
}

function createType(id: ActionTypeId) {
  return projectActionType(id, { inputs: [1, 1], outputs: [0, 1] }, { executionUrlTemplate: URL_TEMPLATE });
}

/** Without output artifacts: these tools produce nothing. */
function buildPipeline(ctx: LongRunContext, name: string, type: ActionTypeId): PipelineDeclaration {
  const declaration = ctx.pipeline(name, type, ctx.sourceKey);
  return { ...declaration, stages: declaration.stages!.map((stage) => (stage.name === 'Build' ? { ...stage, actions: stage.actions!.map(({ outputArtifacts: _, ...action }) => action) } : stage)) };
}

interface Observed {
  jobAt?: number;
  linkAt?: number;
  endAt?: number;
  status?: string;
}

/** Samples the Build action's state every 25 ms until it ends; times are the endpoint's own. */
async function watchBuild(cp: CodePipelineClient, name: string, limitMs: number): Promise<Observed> {
  const seen: Observed = {};
  let last: unknown;
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const state = await cp.send(new GetPipelineStateCommand({ name }));
    last = state.stageStates;
    const latest = state.stageStates?.find((stage) => stage.stageName === 'Build')?.actionStates?.[0]?.latestExecution;
    const at = latest?.lastStatusChange?.getTime();
    if (latest && at !== undefined) {
      // The first InProgress state carries the time the job was created; later updates move lastStatusChange.
      if (seen.jobAt === undefined && latest.status === 'InProgress' && !latest.externalExecutionId) seen.jobAt = at;
      if (seen.linkAt === undefined && latest.externalExecutionUrl) seen.linkAt = at;
      if (latest.status === 'Succeeded' || latest.status === 'Failed') {
        seen.endAt = at;
        seen.status = latest.status;
        if (latest.status === 'Failed') throw new Error(`${name}: the Build action failed: ${JSON.stringify(latest.errorDetails)}`);
        return seen;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${name}: the Build action did not finish within ${limitMs} ms: ${JSON.stringify(last)}`);
}

/** [endpoint epoch ms, operation] of each request since the last reset. */
function absoluteTimeline(stats: EndpointStats): [number, string][] {
  const base = stats.resetAtEpochMs ?? Number.NaN;
  return (stats.timeline ?? []).map(([ms, operation]) => [base + ms, operation]);
}

/** `rounds` pipelines of `kind`, one after another, each run by a worker that polls only that type. */
async function linkRounds(ctx: LongRunContext, kind: LinkRound['kind'], rounds: number): Promise<LinkRound[]> {
  const results: LinkRound[] = [];
  // One timeline for the whole part: the poll before a round's job may come from the round before.
  await ctx.endpoint.stats(true);
  for (let i = 0; i < rounds; i++) {
    const name = `${kind}-${i}`;
    const roundStart = Date.now(); // the endpoint runs on this machine: the same clock
    await ctx.cp.send(new CreatePipelineCommand({ pipeline: buildPipeline(ctx, name, kind === 'link-first' ? LINK_TYPE : PLAIN_TYPE) }));
    const seen = await watchBuild(ctx.cp, name, 120_000);
    const timeline = absoluteTimeline(await ctx.endpoint.stats(false, true));
    // Unknown when the worker reported the link before the 25 ms sampler saw the job without it.
    const jobAt = seen.jobAt ?? Number.NaN;
    // The worker polls this one type: the poll that picked the job up answered just before the
    // round's first AcknowledgeJob, and the one before it is the worker's previous poll.
    const ackIndex = timeline.findIndex(([at, operation]) => operation === 'AcknowledgeJob' && at >= roundStart);
    const polls = timeline.slice(0, Math.max(0, ackIndex)).filter(([, operation]) => operation === 'PollForJobs');
    const pollAt = polls.at(-1)?.[0] ?? Number.NaN;
    const previous = polls.at(-2)?.[0] ?? Number.NaN;
    const put = timeline.findIndex(([, operation], index) => index > ackIndex && operation === 'PutJobSuccessResult');
    const nextAck = timeline.findIndex(([, operation], index) => index > put && operation === 'AcknowledgeJob');
    const hopMs = kind === 'link-first' && put > 0 && nextAck > 0 ? timeline[nextAck]![0] - timeline[put]![0] : Number.NaN;
    results.push({ kind, jobAt, pollAt, pollGapMs: pollAt - previous, linkAt: seen.linkAt ?? Number.NaN, endAt: seen.endAt ?? Number.NaN, hopMs });
    ctx.say(`long runs: ${name}: job → poll ${(pollAt - jobAt).toFixed(0)} ms (poll gap ${(pollAt - previous).toFixed(0)} ms), poll → link ${((seen.linkAt ?? Number.NaN) - pollAt).toFixed(0)} ms, poll → end ${((seen.endAt ?? Number.NaN) - pollAt).toFixed(0)} ms`);
  }
  return results;
}

async function progressRun(ctx: LongRunContext): Promise<ProgressResult> {
  const name = 'progress-0';
  await ctx.endpoint.stats(true, true);
  await ctx.cp.send(new CreatePipelineCommand({ pipeline: buildPipeline(ctx, name, PROGRESS_TYPE) }));
  const seen = await watchBuild(ctx.cp, name, (PROGRESS_TOOL_S + 60) * 1000);
  const timeline = absoluteTimeline(await ctx.endpoint.stats(true, true)).filter(([, operation]) => operation !== 'GetPipelineState' && operation !== 'CreatePipeline' && !operation.startsWith('s3:'));
  const endAt = seen.endAt ?? Number.NaN;
  // From the first job's dispatching poll to the final report (the timeline starts with this run).
  const firstAck = timeline.findIndex(([, operation]) => operation === 'AcknowledgeJob');
  const start = timeline.slice(0, firstAck).findLastIndex(([, operation]) => operation === 'PollForJobs');
  const window = timeline.slice(Math.max(0, start)).filter(([at]) => at <= endAt + 5);
  const calls: Record<string, number> = {};
  for (const [, operation] of window) calls[operation] = (calls[operation] ?? 0) + 1;
  // Holding: from each AcknowledgeJob to the next PutJob*Result. Polls inside are what holding costs.
  let holding = false;
  let heldSince = 0;
  let heldMs = 0;
  let holdPolls = 0;
  let hopCalls = 0;
  for (const [at, operation] of window) {
    if (operation === 'AcknowledgeJob') {
      holding = true;
      heldSince = at;
      hopCalls++;
    } else if (operation === 'PutJobSuccessResult' || operation === 'PutJobFailureResult') {
      if (holding) heldMs += at - heldSince;
      holding = false;
      hopCalls++;
    } else if (operation === 'PollForJobs' && holding) holdPolls++;
    else hopCalls++;
  }
  const hops = calls.PutJobSuccessResult ?? 0;
  const perHop = hops ? hopCalls / hops : Number.NaN;
  const holdPollsPerSecond = heldMs ? holdPolls / (heldMs / 1000) : 0;
  const hopsPerHour = HOUR_S / DEFAULT_INTERVAL_S;
  return {
    toolS: PROGRESS_TOOL_S,
    intervalS: PROGRESS_INTERVAL_S,
    windowMs: endAt - (window[0]?.[0] ?? endAt),
    hops,
    calls,
    perHop,
    holdPollsPerSecond,
    heldMs,
    perHour: hopsPerHour * perHop + HOUR_S * holdPollsPerSecond,
  };
}

export async function longRunBenchmark(ctx: LongRunContext): Promise<LongRunResult> {
  const project = join(ctx.dir, 'project-long-run');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'actions.yaml'), actionsYaml());
  writeFileSync(join(project, 'cpsync.config.yaml'), `worker:\n  tokenKey: "${'b'.repeat(64)}"\n`);
  for (const type of [LINK_TYPE, PLAIN_TYPE, PROGRESS_TYPE]) await ctx.cp.send(createType(type));
  // One worker per part, polling only that part's type, so every PollForJobs in the endpoint's
  // timeline is the measured worker's poll of the measured type.
  const withWorker = async <T>(provider: string, concurrency: number, work: () => Promise<T>): Promise<T> => {
    const worker = ctx.startWorker(project, join(ctx.dir, `work-${provider}`), ['--provider', provider, '--concurrency', String(concurrency)]);
    try {
      await worker.waitStarted();
      return await work();
    } catch (error) {
      throw new Error(`${(error as Error).message}\nthe worker's last log lines:\n${worker.tail(15)}`);
    } finally {
      await worker.stop();
    }
  };
  ctx.say(`long runs: details link first, ${LINK_ROUNDS} rounds with and ${LINK_ROUNDS} without (a 1 s tool)`);
  const first = await withWorker(LINK_TYPE.provider!, 2, () => linkRounds(ctx, 'link-first', LINK_ROUNDS));
  const plain = await withWorker(PLAIN_TYPE.provider!, 2, () => linkRounds(ctx, 'plain', LINK_ROUNDS));
  ctx.say(`long runs: progress, a ${PROGRESS_TOOL_S} s tool reporting every ${PROGRESS_INTERVAL_S} s`);
  const progress = await withWorker(PROGRESS_TYPE.provider!, 1, () => progressRun(ctx));
  return { link: [...first, ...plain], progress };
}

// ---------------------------------------------------------------------------------------------
// Verdicts and the docs section

const med = (values: readonly number[]) => quantile(values.filter(Number.isFinite), 0.5);
const ms = (value: number) => `${value.toFixed(0)} ms`;
const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');

export function longRunVerdicts(r: LongRunResult) {
  const first = r.link.filter((round) => round.kind === 'link-first');
  const plain = r.link.filter((round) => round.kind === 'plain');
  const pollToLink = first.map((round) => round.linkAt - round.pollAt);
  // Once a poll has picked the job up, the link must show before the soonest next poll could
  // happen (--poll-min, the shortest interval the worker ever polls at).
  const withinInterval = first.filter((round) => round.linkAt - round.pollAt < POLL_MIN_MS).length;
  const added = med(first.map((round) => round.endAt - round.pollAt)) - med(plain.map((round) => round.endAt - round.pollAt));
  return {
    pollToLink,
    added,
    withinInterval,
    ok: {
      link: withinInterval === first.length && first.length > 0,
      progress: r.progress.perHour < MAX_PROGRESS_CALLS_PER_HOUR,
    },
  };
}

export function renderLongRunMarkdown(r: LongRunResult, date: Date, machine: string): string {
  const jobToLink = r.link.filter((round) => round.kind === 'link-first').map((round) => round.linkAt - round.jobAt).filter(Number.isFinite);
  const v = longRunVerdicts(r);
  const first = r.link.filter((round) => round.kind === 'link-first');
  const plain = r.link.filter((round) => round.kind === 'plain');
  const p = r.progress;
  const row = (label: string, rounds: readonly LinkRound[], pick: (round: LinkRound) => number) =>
    `| ${label} | ${rounds.length ? ms(med(rounds.map(pick))) : '—'} | ${rounds.length ? ms(Math.max(...rounds.map(pick).filter(Number.isFinite))) : '—'} |`;
  return [
    '## worker-long-run: details link first and progress hops',
    '',
    `Part 4 of \`npm run bench -- worker\` (bench/worker-long-run.ts): the compiled \`cpsync worker\` (default poll bounds, one worker per part polling only that part's type with \`--provider\`) against the same forked \`cpsync local\`. **Details link first:** a 1-second tool (\`sleep 1\` through the bundled \`command\` plugin) in a type with an \`executionUrlTemplate\` (so the first job reports the run id with a continuation token before the tool starts), alternated with the same type set to \`detailsLinkFirst: false\`; times are the endpoint's own (GetPipelineState's \`lastStatusChange\`, sampled every 25 ms, and its request timeline). **Progress:** a ${p.toolS} s tool reporting every ${p.intervalS} s, run by a worker with \`--concurrency 1\` (a runner busy with that one build, so every call it makes is the run's); every call the endpoint answered meanwhile is counted, and split into what each hop costs and what holding a job costs per second, then scaled to a one-hour tool at the default interval (${DEFAULT_INTERVAL_S / 60} min: ${HOUR_S / DEFAULT_INTERVAL_S} hops). Targets: the link visible within one poll interval; progress under ${MAX_PROGRESS_CALLS_PER_HOUR} calls per hour per running job.`,
    '',
    `Measured ${date.toISOString().slice(0, 10)} on ${machine}.`,
    '',
    `**Details link first** — ${first.length} rounds with the link first, ${plain.length} without:`,
    '',
    '| | median | max |',
    '|---|---:|---:|',
    row('job available → the worker\'s poll picks it up', r.link, (round) => round.pollAt - round.jobAt),
    row('the worker\'s poll interval then (previous poll → that poll)', r.link, (round) => round.pollGapMs),
    row('**link first: poll → link visible**', first, (round) => round.linkAt - round.pollAt),
    row('link first: the extra hop (link reported → continuation job acknowledged)', first, (round) => round.hopMs),
    row('link first: poll → action finished', first, (round) => round.endAt - round.pollAt),
    row('without: poll → action finished (the link appears only now)', plain, (round) => round.endAt - round.pollAt),
    '',
    `Job available → link visible: median ${ms(med(jobToLink))}, max ${ms(Math.max(...jobToLink))}${jobToLink.length < first.length ? ` (${first.length - jobToLink.length} round${first.length - jobToLink.length > 1 ? 's' : ''} left out: the link was there before the 25 ms sampler saw the job without it)` : ''}, which is the wait for the worker's next poll plus the hop. Once a poll picked the job up, the link showed within one poll interval (before the soonest next poll, \`--poll-min\` ${POLL_MIN_MS / 1000} s) in ${v.withinInterval} of ${first.length} rounds (${pass(v.ok.link)}). The extra hop itself takes **${ms(med(first.map((round) => round.hopMs)))}** (median; the worker polls again as soon as the first job is reported); median poll → finished differs by ${ms(v.added)} with minus without, within the noise of a 1 s tool run on this machine.`,
    '',
    `**Progress** — ${p.hops} reports (hops) in ${(p.windowMs / 1000).toFixed(1)} s; calls: ${Object.entries(p.calls).map(([operation, n]) => `${operation} ${n}`).join(', ')}. Per hop: **${p.perHop.toFixed(2)} calls**; while the owner holds a job: ${p.holdPollsPerSecond.toFixed(3)} polls per second (${(p.heldMs / 1000).toFixed(1)} s held). A one-hour tool at the default interval: ${HOUR_S / DEFAULT_INTERVAL_S} × ${p.perHop.toFixed(2)} + ${HOUR_S} × ${p.holdPollsPerSecond.toFixed(3)} = **${p.perHour.toFixed(0)} calls per hour** (< ${MAX_PROGRESS_CALLS_PER_HOUR} ${pass(v.ok.progress)}).`,
  ].join('\n');
}

export function renderLongRunTable(r: LongRunResult): string {
  const v = longRunVerdicts(r);
  return [
    `  details link first: poll → link ${ms(med(v.pollToLink))} median, within --poll-min in ${v.withinInterval}/${r.link.filter((round) => round.kind === 'link-first').length} rounds ${pass(v.ok.link)}; the extra hop ${ms(med(r.link.filter((round) => round.kind === 'link-first').map((round) => round.hopMs)))} (with − without: ${ms(v.added)})`,
    `  progress: ${r.progress.perHop.toFixed(2)} calls per hop, ${r.progress.holdPollsPerSecond.toFixed(3)} polls/s while holding → ${r.progress.perHour.toFixed(0)} calls per hour (< ${MAX_PROGRESS_CALLS_PER_HOUR}) ${pass(v.ok.progress)}`,
  ].join('\n');
}
