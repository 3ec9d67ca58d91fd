// Long runs against the local endpoint: details link first, progress hops from a held job, forged
// tokens refused, API calls per hop; and real worker processes sharing one run's continuation jobs
// (one tool execution, one success), an async plugin resumed by another process, and an owner
// killed with SIGKILL failing the action SystemUnavailable. No timing assertions: waits are bounded.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { AcknowledgeJobCommand, PollForJobsCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import type { JobOutcome } from '../../src/plugin.js';
import { bindingOf, signToken, tokenKeyFrom, type TokenPayload } from '../../src/worker/continuation.js';
import { Ledger, type LedgerEntry } from '../../src/worker/ledger.js';
import type { Executor } from '../../src/worker/run-job.js';
import type { SuccessResult } from '../../src/worker/types.js';
import { buildAction, BUILD_TYPE } from '../helpers/pipeline-world.js';
import {
  actionState,
  countingApi,
  createPipeline,
  jobRecords,
  jobsApiFor,
  jobType,
  latestExecutionId,
  seedWorkerWorld,
  startTestEndpoint,
  startTestWorker,
  tempWorkDir,
  threeStagePipeline,
  waitFor,
  waitForEnd,
  type TestEndpoint,
} from '../helpers/worker-world.js';

const KEY_TEXT = 'long-run-test-key-0123456789';
const KEY = tokenKeyFrom(KEY_TEXT);
const DISPATCH_TIMEOUT_MS = 3_000;

function pipelineFor(name: string, project: string) {
  return threeStagePipeline(name, {
    stages: [threeStagePipeline('x').stages![0]!, { name: 'Build', actions: [buildAction('Build', { configuration: { ProjectName: project, Token: 'tok-secret' } })] }, threeStagePipeline('x').stages![2]!],
  });
}

/** Records every success result the worker sends. */
function recording<T extends { succeed(id: string, r: SuccessResult): Promise<void> }>(api: T, sent: { id: string; result: SuccessResult }[]): T {
  const succeed = api.succeed.bind(api);
  api.succeed = async (id, result) => {
    sent.push({ id, result });
    return succeed(id, result);
  };
  return api;
}

describe('long runs (in-process)', () => {
  const opened: TestEndpoint[] = [];
  const open = async () => {
    const world = await startTestEndpoint();
    opened.push(world);
    await seedWorkerWorld(world);
    return world;
  };
  afterEach(async () => {
    for (const world of opened.splice(0)) await world.close();
  });

  it('shows the details link before the tool starts, then runs the work in the continuation job', async () => {
    const world = await open();
    await createPipeline(world, pipelineFor('Link', 'link'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let executions = 0;
    const executor: Executor = async (job) => {
      executions++;
      await gate;
      for (const dir of Object.values(job.workspace.outputs)) await writeFile(join(dir, 'x.txt'), 'x');
      return { status: 'succeeded', summary: 'done' };
    };
    const worker = await startTestWorker(world, { types: [jobType(executor)], tokenKey: KEY_TEXT, longRun: { detailsLinkFirst: true, progressIntervalMs: 60_000 } });
    const execution = await latestExecutionId(world.codepipeline, 'Link');
    const shown = await waitFor('the details link', async () => {
      const { action } = await actionState(world.codepipeline, 'Link', 'Build', 'Build');
      return action?.latestExecution?.externalExecutionId ? action.latestExecution : undefined;
    });
    assert.equal(shown.status, 'InProgress');
    assert.match(shown.summary ?? '', /started/);
    assert.match(shown.externalExecutionUrl ?? '', new RegExp(`/runs/${shown.externalExecutionId}$`));
    release();
    assert.equal((await waitForEnd(world.codepipeline, 'Link', execution)).status, 'Succeeded');
    const { action } = await actionState(world.codepipeline, 'Link', 'Build', 'Build');
    assert.equal(action?.latestExecution?.externalExecutionId, shown.externalExecutionId, 'the final report keeps the run id');
    assert.equal(executions, 1);
    worker.stop();
    await worker.done;
  });

  it('reports progress hops while a tool outlives the interval; one tool run; API calls counted per hop', async () => {
    const world = await open();
    await createPipeline(world, pipelineFor('Slow', 'slow'));
    let executions = 0;
    const executor: Executor = async (job) => {
      executions++;
      for (let step = 1; step <= 8; step++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        job.log.info(`[ ${step * 12}%] linking part ${step}`, { stream: 'stdout' });
      }
      for (const dir of Object.values(job.workspace.outputs)) await writeFile(join(dir, 'x.txt'), 'x');
      return { status: 'succeeded', summary: 'linked' };
    };
    const sent: { id: string; result: SuccessResult }[] = [];
    const calls = { poll: 0, jobPolls: 0 };
    const base = countingApi(await jobsApiFor(world));
    const poll = base.poll.bind(base);
    base.poll = async (...args) => {
      calls.poll++;
      const jobs = await poll(...args);
      if (jobs.length) calls.jobPolls++;
      return jobs;
    };
    const api = recording(base, sent);
    const worker = await startTestWorker(world, { api, types: [jobType(executor)], tokenKey: KEY_TEXT, longRun: { progressIntervalMs: 250 } });
    const execution = await latestExecutionId(world.codepipeline, 'Slow');
    assert.equal((await waitForEnd(world.codepipeline, 'Slow', execution)).status, 'Succeeded');
    worker.stop();
    await worker.done;
    assert.equal(executions, 1, 'one tool execution');
    const progress = sent.filter((s) => s.result.continuationToken);
    assert.ok(progress.length >= 2, `progress hops: ${progress.length}`);
    for (const hop of progress) {
      assert.match(hop.result.executionDetails?.summary ?? '', /(% after|running for) .* on .*\(pid \d+\)/);
      assert.ok(hop.result.continuationToken!.length <= 2048);
      assert.equal(hop.result.outputVariables, undefined);
    }
    assert.ok(progress.some((hop) => /linking part/.test(hop.result.executionDetails?.summary ?? '')), 'the last output line reaches the console');
    assert.ok(progress.some((hop) => typeof hop.result.executionDetails?.percentComplete === 'number'));
    const final = sent.filter((s) => !s.result.continuationToken);
    assert.equal(final.length, 1, 'one final success');
    // Per hop: one poll that returned it, one acknowledgement, one result.
    const jobs = jobRecords(world).filter((job) => job.pipelineName === 'Slow');
    assert.equal(jobs.length, progress.length + 1);
    for (const job of jobs) {
      assert.equal(base.ledger.acknowledged.get(job.id), 1);
      assert.equal(base.ledger.reported.get(job.id), 1);
    }
    const perHop = (calls.jobPolls + jobs.length * 2) / jobs.length;
    assert.ok(perHop <= 3, `calls per hop ${perHop}`);
  });

  /** Acts as another worker on the action's first job: acknowledges it and reports `token(binding)`. */
  async function continueFirstJob(world: TestEndpoint, token: (binding: string) => string): Promise<void> {
    const job = await waitFor('the first job', async () => (await world.codepipeline.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, maxBatchSize: 1 }))).jobs?.[0]);
    await world.codepipeline.send(new AcknowledgeJobCommand({ jobId: job.id!, nonce: job.nonce! }));
    const ctx = job.data!.pipelineContext!;
    const binding = bindingOf({ pipeline: ctx.pipelineName!, stage: ctx.stage!.name!, action: ctx.action!.name!, pipelineExecutionId: ctx.pipelineExecutionId! });
    await world.codepipeline.send(new PutJobSuccessResultCommand({ jobId: job.id!, continuationToken: token(binding) }));
  }

  const signed = (payload: Omit<TokenPayload, 'actionType' | 'attempt' | 'startedAt' | 'deadline'>) => {
    const now = Date.now();
    const result = signToken({ actionType: 'Build/Local-Build/1', attempt: 1, startedAt: now, deadline: now + 3_600_000, ...payload }, KEY);
    assert.ok(result.ok);
    return result.token;
  };

  it('writes each job\'s ledger entry before acknowledging it; hands a live owner\'s job back at once with its token as the fallback; fails a silent owner\'s run', async () => {
    const world = await open();
    await createPipeline(world, pipelineFor('Owned', 'owned'));
    // The run belongs to a worker on another runner, which then says nothing more.
    await continueFirstJob(world, (binding) => signed({ binding, runId: 'elsewhere-run', phase: 'run', owner: { host: 'runner-b', pid: 4242, startedAt: 1 }, lastOwnerReport: Date.now(), hop: 1 }));
    const workDir = tempWorkDir();
    const atAcknowledgement = new Map<string, LedgerEntry | undefined>();
    const api = countingApi(await jobsApiFor(world));
    const acknowledge = api.acknowledge.bind(api);
    api.acknowledge = async (id, nonce) => {
      const file = join(workDir, 'ledger', `${id}.json`);
      atAcknowledgement.set(id, existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LedgerEntry) : undefined);
      return acknowledge(id, nonce);
    };
    const executor: Executor = async () => {
      throw new Error('no tool runs for a run owned elsewhere');
    };
    const worker = await startTestWorker(world, { api, workDir, types: [jobType(executor)], tokenKey: KEY_TEXT, longRun: { ownerTimeoutMs: 1_500, handBackCoolMs: 100 } });
    const execution = await latestExecutionId(world.codepipeline, 'Owned');
    assert.equal((await waitForEnd(world.codepipeline, 'Owned', execution)).status, 'Failed');
    worker.stop();
    await worker.done;
    const { action } = await actionState(world.codepipeline, 'Owned', 'Build', 'Build');
    assert.equal(action?.latestExecution?.errorDetails?.code, 'SystemUnavailable');
    assert.match(action?.latestExecution?.errorDetails?.message ?? '', /host runner-b, pid 4242\) stopped reporting/);
    const worked = jobRecords(world).filter((job) => job.pipelineName === 'Owned' && api.ledger.acknowledged.has(job.id));
    assert.ok(worked.length >= 2, `jobs this worker took: ${worked.length}`);
    const handedBack = worked.filter((job) => job.status === 'Succeeded');
    assert.ok(handedBack.length >= 1, 'at least one hand-back before the owner timeout');
    for (const job of worked) {
      const entry = atAcknowledgement.get(job.id);
      assert.ok(entry, `job ${job.id} had a ledger entry when it was acknowledged`);
      assert.equal(entry.state, 'running');
      if (job.status === 'Succeeded') assert.deepEqual(entry.fallback, { kind: 'success', result: { continuationToken: job.continuationToken } }, 'a hand-back records its own result');
      else assert.equal(entry.fallback?.kind === 'failure' && entry.fallback.result.type, 'SystemUnavailable', 'the owner-gone failure is known before the acknowledgement');
    }
    assert.deepEqual(readdirSync(join(workDir, 'ledger')), []);
  });

  it('sends, at start-up, the fallback a stopped worker recorded for an async resume: the run carries on', async () => {
    const world = await open();
    await createPipeline(world, pipelineFor('Carry', 'carry'));
    // A worker acknowledged the resume job, recorded its fallback (the same token) and died.
    await continueFirstJob(world, (binding) => signed({ binding, runId: 'async-run', phase: 'resume', lastOwnerReport: Date.now(), hop: 1, state: { ticket: 'T-1' } }));
    const job = await waitFor('the resume job', async () => (await world.codepipeline.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, maxBatchSize: 1 }))).jobs?.[0]);
    await world.codepipeline.send(new AcknowledgeJobCommand({ jobId: job.id!, nonce: job.nonce! }));
    const workDir = tempWorkDir();
    await new Ledger(workDir).write({
      version: 1,
      jobId: job.id!,
      actionType: 'Build/Local-Build/1',
      pipeline: 'Carry',
      stage: 'Build',
      action: 'Build',
      acknowledgedAt: new Date().toISOString(),
      pid: 2 ** 22 + 17, // no such process
      host: hostname(),
      state: 'running',
      fallback: { kind: 'success', result: { continuationToken: job.data!.continuationToken! } },
    });
    const executor: Executor = async (run): Promise<JobOutcome> => {
      for (const dir of Object.values(run.workspace.outputs)) await writeFile(join(dir, 'x.txt'), 'x');
      return { status: 'succeeded', summary: `resumed ${(run.state as { ticket: string }).ticket}` };
    };
    const worker = await startTestWorker(world, { workDir, types: [jobType(executor)], tokenKey: KEY_TEXT });
    const execution = await latestExecutionId(world.codepipeline, 'Carry');
    assert.equal((await waitForEnd(world.codepipeline, 'Carry', execution)).status, 'Succeeded');
    worker.stop();
    const summary = await worker.done;
    assert.equal(summary.recovered, 1);
    const { action } = await actionState(world.codepipeline, 'Carry', 'Build', 'Build');
    assert.equal(action?.latestExecution?.summary, 'resumed T-1');
    assert.equal(jobRecords(world).find((record) => record.id === job.id)?.status, 'Succeeded', 'the dead worker\'s job carried the token on');
  });

  it('refuses forged tokens: tampered, wrong key, foreign type, foreign action, expired, garbage; and oversized state', async () => {
    const world = await open();
    const now = Date.now();
    const cases: [string, (binding: string) => string, RegExp][] = [
      ['tampered', (b) => { const t = sign({ binding: b }); return t.slice(0, 10) + (t[10] === 'A' ? 'B' : 'A') + t.slice(11); }, /signature does not match/],
      ['wrongkey', (b) => sign({ binding: b }, tokenKeyFrom('some-other-key-0123456789')), /signature does not match/],
      ['foreigntype', (b) => sign({ binding: b, actionType: 'Test/Other/1' }), /action type Test\/Other\/1/],
      ['foreignaction', () => sign({ binding: 'Other/Build/Build@x' }), /written for action Other\/Build\/Build@x/],
      ['expired', (b) => sign({ binding: b, deadline: now - 1000 }), /overall deadline/],
      ['garbage', () => 'not-a-token', /malformed/],
    ];
    function sign(over: Partial<TokenPayload>, key = KEY): string {
      const payload: TokenPayload = { actionType: 'Build/Local-Build/1', binding: '', runId: 'r1', phase: 'start', startedAt: now, deadline: now + 3_600_000, lastOwnerReport: now, hop: 1, attempt: 1, ...over };
      const signed = signToken(payload, key);
      assert.ok(signed.ok);
      return signed.token;
    }
    for (const [name] of cases) await createPipeline(world, pipelineFor(`F-${name}`, name));
    // Hand-craft the first hop of each forged case through the endpoint's own API.
    const handled = new Set<string>();
    await waitFor('the first jobs', async () => {
      const polled = await world.codepipeline.send(new PollForJobsCommand({ actionTypeId: BUILD_TYPE, maxBatchSize: 10 }));
      for (const job of polled.jobs ?? []) {
        const project = job.data?.actionConfiguration?.configuration?.ProjectName ?? '';
        if (project === 'oversized') continue;
        await world.codepipeline.send(new AcknowledgeJobCommand({ jobId: job.id!, nonce: job.nonce! }));
        const ctx = job.data!.pipelineContext!;
        const binding = bindingOf({ pipeline: ctx.pipelineName!, stage: ctx.stage!.name!, action: ctx.action!.name!, pipelineExecutionId: ctx.pipelineExecutionId! });
        const token = cases.find(([name]) => name === project)![1](binding);
        await world.codepipeline.send(new PutJobSuccessResultCommand({ jobId: job.id!, continuationToken: token }));
        handled.add(project);
      }
      return handled.size === cases.length ? true : undefined;
    });
    await createPipeline(world, pipelineFor('F-oversized', 'oversized'));
    const executor: Executor = async (job): Promise<JobOutcome> => {
      if (job.configuration.ProjectName === 'oversized') return { status: 'in-progress', state: { log: 'z'.repeat(2400) } };
      throw new Error('a forged token must never reach the plugin');
    };
    const worker = await startTestWorker(world, { types: [jobType(executor)], tokenKey: KEY_TEXT });
    for (const [name, , message] of [...cases, ['oversized', () => '', /^plugin test returned 3,\d{3} characters of state; continuation tokens hold at most 2,048.*keep a pointer, not the data/] as const]) {
      const execution = await latestExecutionId(world.codepipeline, `F-${name}`);
      assert.equal((await waitForEnd(world.codepipeline, `F-${name}`, execution)).status, 'Failed', name);
      const { action } = await actionState(world.codepipeline, `F-${name}`, 'Build', 'Build');
      assert.equal(action?.latestExecution?.errorDetails?.code, 'JobFailed', name);
      assert.match(action?.latestExecution?.errorDetails?.message ?? '', message, name);
    }
    worker.stop();
    await worker.done;
  });
});

/** The workers' logs go to CPSYNC_TEST_WORKER_LOGS/<pid>.log when set (debugging), else nowhere. */
function keepLogs(child: ChildProcess): void {
  const dir = process.env.CPSYNC_TEST_WORKER_LOGS;
  if (dir) child.stderr?.pipe(createWriteStream(join(dir, `${child.pid}.log`)));
  else child.stderr?.resume();
}

describe('long runs (worker processes)', () => {
  const children: ChildProcess[] = [];
  const opened: TestEndpoint[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const world of opened.splice(0)) await world.close();
  });

  async function fleet(count: number, env: Record<string, string> = {}) {
    // A job a worker polled but never acknowledged (it was killed in between) goes back to the
    // queue only after the dispatch timeout; 30 s by default, shorter here so a test that kills a
    // worker sees it handed out again within its bounded waits.
    const world = await startTestEndpoint({ dispatchTimeoutMs: DISPATCH_TIMEOUT_MS });
    opened.push(world);
    await seedWorkerWorld(world);
    const marks = mkdtempSync(join(tmpdir(), 'cpsync-marks-'));
    const workDir = tempWorkDir();
    const spawnOne = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'long-run-child.ts'), world.endpoint.url, world.endpoint.region, marks, workDir], {
        env: { ...process.env, CPSYNC_TEST_TOKEN_KEY: KEY_TEXT, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      keepLogs(child);
      children.push(child);
      return new Promise<ChildProcess>((resolve) => child.stdout?.once('data', () => resolve(child)));
    };
    const procs = await Promise.all(Array.from({ length: count }, spawnOne));
    const executions = () => (existsSync(join(marks, 'executions.log')) ? readFileSync(join(marks, 'executions.log'), 'utf8').trim().split('\n') : []);
    return { world, procs, executions };
  }

  it('three workers share the continuation jobs of one long run: it finishes once, correctly', async () => {
    const { world, executions } = await fleet(3);
    await createPipeline(world, pipelineFor('Fleet', 'long-2500ms'));
    const execution = await latestExecutionId(world.codepipeline, 'Fleet');
    assert.equal((await waitForEnd(world.codepipeline, 'Fleet', execution)).status, 'Succeeded');
    assert.equal(executions().filter((line) => line.includes('long-2500ms start')).length, 1, 'one tool execution');
    const jobs = jobRecords(world).filter((job) => job.pipelineName === 'Fleet');
    assert.ok(jobs.length >= 3, `hops: ${jobs.length}`);
    assert.equal(jobs.filter((job) => job.status !== 'Succeeded').length, 0, 'every job reported once, none failed');
    const { action } = await actionState(world.codepipeline, 'Fleet', 'Build', 'Build');
    assert.match(action?.latestExecution?.summary ?? '', /^built by \d+$/);
  });

  it('an async plugin started by one worker process is resumed by another', async () => {
    const { world, procs, executions } = await fleet(1);
    await createPipeline(world, pipelineFor('Async', 'async'));
    await waitFor('the async start', async () => (executions().some((line) => line.includes('async start')) ? true : undefined), 20_000);
    // The start is reported at once (no local resources held): once its continuation job exists,
    // whatever the first worker holds can be carried on by anyone.
    await waitFor('the first hop reported', async () => (jobRecords(world).some((job) => job.pipelineName === 'Async' && job.status === 'Succeeded') ? true : undefined), 20_000);
    const first = procs[0]!;
    first.kill('SIGKILL');
    await fleet1More();
    const execution = await latestExecutionId(world.codepipeline, 'Async');
    const ended = await waitForEnd(world.codepipeline, 'Async', execution);
    assert.equal(ended.status, 'Succeeded', JSON.stringify((await actionState(world.codepipeline, 'Async', 'Build', 'Build')).action?.latestExecution?.errorDetails));
    const { action } = await actionState(world.codepipeline, 'Async', 'Build', 'Build');
    const match = /started by (\d+), finished by (\d+)/.exec(action?.latestExecution?.summary ?? '');
    assert.ok(match, action?.latestExecution?.summary);
    assert.notEqual(match[1], match[2]);

    async function fleet1More() {
      const marksLine = executions();
      assert.ok(marksLine.length >= 1);
      // The same work folder as the dead worker: it reports the continuation job that worker was
      // holding (acknowledged jobs of a dead worker are otherwise stuck until the action times out).
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'long-run-child.ts'), world.endpoint.url, world.endpoint.region, String(first.spawnargs[first.spawnargs.length - 2]), String(first.spawnargs[first.spawnargs.length - 1])], {
        env: { ...process.env, CPSYNC_TEST_TOKEN_KEY: KEY_TEXT, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      keepLogs(child);
      children.push(child);
      await new Promise((resolve) => child.stdout?.once('data', resolve));
    }
  });

  it('fails the action SystemUnavailable when the owner is killed mid-run', async () => {
    const { world, procs, executions } = await fleet(3, { CPSYNC_TEST_OWNER_TIMEOUT_MS: '2000' });
    await createPipeline(world, pipelineFor('Kill', 'long-60000ms'));
    const line = await waitFor('the tool start', async () => executions().find((l) => l.includes('long-60000ms start')), 20_000);
    const ownerPid = Number(line.split(' ')[0]);
    await waitFor('a progress hop', async () => (jobRecords(world).filter((job) => job.pipelineName === 'Kill').length >= 3 ? true : undefined), 20_000);
    const owner = procs.find((child) => child.pid === ownerPid);
    assert.ok(owner, 'the owner is one of the workers');
    owner.kill('SIGKILL');
    const execution = await latestExecutionId(world.codepipeline, 'Kill');
    // Bounded: the owner timeout (2 s) and polling; a job the owner held is failed from the shared
    // ledger by a sibling within seconds, one it polled but never acknowledged comes back after the
    // dispatch timeout (3 s).
    const end = await waitFor('the action to fail', async () => {
      const { action } = await actionState(world.codepipeline, 'Kill', 'Build', 'Build');
      return action?.latestExecution?.status === 'Failed' ? action.latestExecution : undefined;
    }, 30_000);
    assert.equal(end.errorDetails?.code, 'SystemUnavailable');
    assert.match(end.errorDetails?.message ?? '', new RegExp(`(stopped reporting|stopped \\(pid ${ownerPid})`));
    assert.equal((await waitForEnd(world.codepipeline, 'Kill', execution)).status, 'Failed');
    assert.equal(executions().filter((l) => l.includes('long-60000ms start')).length, 1);
  });
});
