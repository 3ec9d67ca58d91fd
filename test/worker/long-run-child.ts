// A real worker process for the long-run tests: polls the local endpoint given in argv, with the
// fleet key from CPSYNC_TEST_TOKEN_KEY, and runs a stand-in tool chosen by the action's ProjectName.
// Every tool execution is appended to <marks>/executions.log (pid, project), so tests can count them.
//   node --import tsx test/worker/long-run-child.ts <endpointUrl> <region> <marksDir> <workDir>

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJobsApi } from '../../src/aws/jobs-api.js';
import type { JobOutcome } from '../../src/plugin.js';
import { createArtifactTransfer } from '../../src/worker/artifacts/index.js';
import { createLogger } from '../../src/worker/logger.js';
import type { Executor } from '../../src/worker/run-job.js';
import { startWorker } from '../../src/worker/worker.js';
import { BUILD_SELECTED } from '../helpers/worker-world.js';

const [url, region, marks, workDir] = process.argv.slice(2) as [string, string, string, string];
const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => { const t = setTimeout(resolve, ms); signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true }); });

const executor: Executor = async (job): Promise<JobOutcome> => {
  const project = job.configuration.ProjectName ?? '';
  if (project.startsWith('async')) {
    const state = job.state as { startedBy: number } | undefined;
    appendFileSync(join(marks, 'executions.log'), `${process.pid} ${project} ${state ? 'resume' : 'start'}\n`);
    if (!state) return { status: 'in-progress', state: { startedBy: process.pid }, summary: 'submitted' };
    // The test wants another process to finish it: the starter hands it on unchanged.
    if (state.startedBy === process.pid) return { status: 'in-progress', state, summary: 'waiting for another worker' };
    // The finishing hop builds the outputs in its own (fresh) workspace, as an async plugin fetching
    // the external system's results would.
    for (const dir of Object.values(job.workspace.outputs)) appendFileSync(join(dir, 'out.txt'), 'built\n');
    return { status: 'succeeded', summary: `started by ${state.startedBy}, finished by ${process.pid}` };
  }
  appendFileSync(join(marks, 'executions.log'), `${process.pid} ${project} start\n`);
  const ms = Number(/(\d+)ms/.exec(project)?.[1] ?? 1500);
  for (let step = 1; step <= 10; step++) {
    await sleep(ms / 10, job.signal);
    if (job.signal.aborted) return { status: 'failed', message: 'stopped' };
    job.log.info(`[ ${step * 10}%] compiling unit ${step}`, { stream: 'stdout' });
  }
  for (const dir of Object.values(job.workspace.outputs)) appendFileSync(join(dir, 'out.txt'), 'built\n');
  return { status: 'succeeded', summary: `built by ${process.pid}` };
};

const api = await createJobsApi({ target: 'test', region, codepipelineEndpoint: url, s3Endpoint: url }, { retry: { attempts: 8, baseDelayMs: 5, maxDelayMs: 50 }, resultRetry: { attempts: 10, baseDelayMs: 5, maxDelayMs: 50 } });
const worker = startWorker({
  api,
  transfer: createArtifactTransfer(),
  types: [{ selected: BUILD_SELECTED, executor }],
  concurrency: 2,
  poll: { minMs: 20, maxMs: 150 },
  workDir,
  graceMs: 2_000,
  settleMs: 300,
  log: createLogger({ write: (line) => process.stderr.write(line), json: true, level: 'info' }),
  s3Endpoint: url,
  tokenKey: '${env:CPSYNC_TEST_TOKEN_KEY}',
  longRun: { progressIntervalMs: Number(process.env.CPSYNC_TEST_PROGRESS_MS ?? 300), ownerTimeoutMs: Number(process.env.CPSYNC_TEST_OWNER_TIMEOUT_MS ?? 3000), handBackCoolMs: 100 },
});
process.on('SIGTERM', () => worker.stop(true, 'SIGTERM'));
process.stdout.write('ready\n');
await worker.done;
api.close();
