// `cpsync worker`: polls CodePipeline for the jobs of the custom action types that have an
// executor in actions.yaml, runs them with their plugins and reports one result per job.
// Everything that can be checked before polling is checked first (configuration, plugins and their
// options, that each type exists in the account), so a mistake stops the worker at start-up.

import { relative, resolve } from 'node:path';
import { resolveClientConfig } from '../../aws/client-config.js';
import { loadProject } from '../../config/load.js';
import { hasErrors } from '../../config/problems.js';
import { choosePalette } from '../../render/palette.js';
import { renderProblems } from '../../render/problems.js';
import { CpsyncError } from '../../util/errors.js';
import { booleanFlag, durationFlag, integerFlag, stringFlag } from '../parse-args.js';
import type { CommandContext } from '../spec.js';
import type { ActionTypeRef, JobsApi } from '../../worker/types.js';
import type { SelectedType } from '../../worker/select-types.js';


const list = (context: CommandContext, flag: string) => (context.args.flags[flag] as string[] | undefined) ?? [];

/** The types the account lacks (ListActionTypes, Custom). */
export async function findMissingTypes(api: JobsApi, selected: readonly SelectedType[]): Promise<SelectedType[]> {
  const existing = await api.listCustomActionTypes();
  const key = (ref: ActionTypeRef) => `${ref.category}/${ref.provider}/${ref.version}`;
  const known = new Set(existing.map(key));
  return selected.filter((type) => !known.has(key(type.ref)));
}

export async function runWorker(context: CommandContext): Promise<number> {
  const project = await loadProject({ cwd: context.cwd, configFile: stringFlag(context.args, 'config') });
  if (hasErrors(project.problems)) {
    context.stderr.write(renderProblems(project.problems.filter((problem) => problem.severity === 'error'), choosePalette({ interactive: false, env: context.env })));
    throw new CpsyncError('config.invalid', 'the configuration has errors; the worker did not start', { hint: 'fix them (see `cpsync validate`) and start it again' });
  }
  const settings = project.settings;
  const actionsFile = relative(context.cwd, settings.actionsFile) || settings.actionsFile;

  const { selectActionTypes } = await import('../../worker/select-types.js');
  const selection = selectActionTypes(project.actionTypes, { providers: list(context, 'provider'), categories: list(context, 'category'), queries: list(context, 'query') }, actionsFile);

  const concurrency = integerFlag(context.args, 'concurrency', settings.worker.concurrency, 1, 1000);
  const pollMin = durationFlag(context.args, 'poll-min', settings.worker.pollIntervalMinMs);
  const pollMax = durationFlag(context.args, 'poll-max', Math.max(settings.worker.pollIntervalMaxMs, pollMin));
  if (pollMin > pollMax) throw new CpsyncError('cli.bad-flag-value', `--poll-min (${pollMin} ms) is longer than --poll-max (${pollMax} ms)`, { hint: 'the minimum poll interval must not exceed the maximum' });
  const graceMs = durationFlag(context.args, 'grace', settings.worker.graceMs);
  const jobTimeoutMs = durationFlag(context.args, 'job-timeout', 60 * 60 * 1000);
  const workDir = resolve(context.cwd, stringFlag(context.args, 'work-dir') ?? settings.worker.workDir);
  const metricsPort = stringFlag(context.args, 'metrics-port') === undefined ? undefined : integerFlag(context.args, 'metrics-port', 0, 0, 65535);
  const logFormat = stringFlag(context.args, 'log-format') ?? 'auto';
  if (!['auto', 'json', 'text'].includes(logFormat)) throw new CpsyncError('cli.bad-flag-value', `--log-format must be auto, json or text, got ${JSON.stringify(logFormat)}`);

  // Plugins and their options are checked before any AWS call.
  const { prepareJobTypes } = await import('../../worker/plugin-host.js');
  const { createLogger } = await import('../../worker/logger.js');
  const json = logFormat === 'json' || (logFormat === 'auto' && !(context.stderr as { isTTY?: boolean }).isTTY);
  const log = createLogger({ write: (line) => context.stderr.write(line), json, level: booleanFlag(context.args, 'debug') ? 'debug' : 'info' });
  for (const warning of selection.warnings) log.warn(warning);
  const types = await prepareJobTypes(selection.types, { pluginsDir: settings.pluginsDir, cwd: context.cwd, actionsFile });

  const wanted = stringFlag(context.args, 'target');
  const target = wanted ? settings.targets.find((candidate) => candidate.name === wanted) : settings.targets[0];
  if (!target) throw new CpsyncError('cli.unknown-target', `unknown target ${JSON.stringify(wanted)}`, { hint: `configured targets: ${settings.targets.map((t) => t.name).join(', ')}` });
  const clientConfig = resolveClientConfig(target, { region: stringFlag(context.args, 'region'), profile: stringFlag(context.args, 'profile'), endpointUrl: stringFlag(context.args, 'endpoint-url') }, context.env);

  const { createJobsApi } = await import('../../aws/jobs-api.js');
  const api = await createJobsApi(clientConfig, { onRetry: (operation, error, attempt) => log.debug(`retrying ${operation}`, { attempt: attempt + 1, error: (error as Error).name }) });
  let metricsServer: { close(): Promise<void>; port: number } | undefined;
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  try {
    const missing = await findMissingTypes(api, selection.types);
    if (missing.length) {
      throw new CpsyncError(
        'worker.type-missing',
        `action type${missing.length > 1 ? 's' : ''} ${missing.map((type) => type.label).join(', ')} from ${actionsFile} ${missing.length > 1 ? 'do' : 'does'} not exist in ${api.region} (target ${target.name})`,
        { hint: 'create it with `cpsync apply`, or check --region / --target' },
      );
    }
    const { createArtifactTransfer } = await import('../../worker/artifacts/index.js');
    const { startWorker } = await import('../../worker/worker.js');
    const { WorkerMetrics, serveMetrics } = await import('../../worker/metrics.js');
    const { JobBoard } = await import('../../worker/job-board.js');
    const metrics = new WorkerMetrics();
    const jobBoard = new JobBoard();
    if (metricsPort !== undefined) {
      metricsServer = await serveMetrics(metrics, metricsPort, '0.0.0.0', 5, jobBoard);
      log.info(`metrics on http://0.0.0.0:${metricsServer.port}/metrics and /healthz, job pages on /jobs`);
    }
    const worker = startWorker({
      api,
      transfer: createArtifactTransfer(),
      types,
      concurrency,
      poll: { minMs: pollMin, maxMs: pollMax },
      workDir,
      keepWorkspaces: booleanFlag(context.args, 'keep-workspaces'),
      graceMs,
      jobTimeoutMs,
      once: booleanFlag(context.args, 'once'),
      log,
      metrics,
      jobBoard,
      // Shared by the fleet so any worker can verify the continuation tokens another one signed.
      ...(settings.worker.tokenKey ? { tokenKey: settings.worker.tokenKey } : {}),
      env: context.env,
      ...(clientConfig.s3Endpoint ? { s3Endpoint: clientConfig.s3Endpoint } : {}),
    });
    let received = 0;
    onSignal = (signal) => {
      received++;
      if (received === 1) worker.stop(false, `${signal} received`);
      else {
        worker.stop(true, `second ${signal} received`);
        // Give the aborted jobs a moment to report; the ledger keeps whatever is left.
        setTimeout(() => {
          log.error('stopped before every result was reported; the next start reports the rest from the ledger');
          process.exit(130);
        }, 3_000).unref();
      }
    };
    for (const signal of signals) process.on(signal, onSignal);
    const summary = await worker.done;
    log.info('worker stopped', { ...summary.outcomes, lostAcknowledgements: summary.lostAcknowledgements, recovered: summary.recovered, unreported: summary.unreported });
    return summary.unreported > 0 ? 1 : 0;
  } finally {
    if (onSignal) for (const signal of signals) process.off(signal, onSignal);
    await metricsServer?.close();
    api.close();
  }
}
