// Human output of `cpsync run-job`: a header, the hops as they happen (stderr) and the final
// result as the job API would receive it (stdout). Pure: the caller redacts and writes.

import type { PendingResult } from '../worker/ledger.js';
import type { CollectedOutput } from '../worker/local/local-artifacts.js';
import type { LocalJobPlan } from '../worker/local/plan-local-job.js';
import type { LocalJobEvent, LocalJobResult } from '../worker/local/run-local-job.js';
import { formatDuration } from '../util/duration.js';
import type { Palette } from './palette.js';

export interface HeaderFacts {
  readonly plan: LocalJobPlan;
  readonly plugin: string;
  readonly pluginSource: string;
  readonly pluginFile: string;
  readonly outputDir: string;
  readonly workDir?: string;
  readonly maxHops: number;
  readonly timeoutMs: number;
  readonly initialState: boolean;
}

const MAX_STATE_CHARS = 300;

function describeState(state: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(state);
  } catch {
    json = undefined;
  }
  if (json === undefined) return String(state);
  return json.length > MAX_STATE_CHARS ? `${json.slice(0, MAX_STATE_CHARS - 1)}…` : json;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
const indent = (text: string, prefix: string) => text.split('\n').map((line) => `${prefix}${line}`).join('\n');

export function renderLocalJobHeader(facts: HeaderFacts, palette: Palette): string {
  const { plan } = facts;
  const lines = [palette.bold(`run-job ${plan.label}`) + palette.dim(` · plugin ${facts.plugin} (${facts.pluginSource}, ${facts.pluginFile})`)];
  const secret = new Set(plan.secretKeys);
  const config = Object.entries(plan.configuration).map(([key, value]) => `${key}=${secret.has(key) ? '***' : value}`);
  lines.push(`  configuration: ${config.length ? config.join(', ') : '(none)'}`);
  for (const input of plan.inputs) lines.push(`  input  ${input.name} ← ${input.given}${input.kind === 'zip' ? ' (ZIP, extracted)' : ''}`);
  const from = plan.outputsFrom === 'pipeline' ? ' (named as in pipelines/)' : plan.outputsFrom === 'default' ? ' (default names)' : '';
  for (const name of plan.outputs) lines.push(`  output ${name} → ${facts.outputDir}/${name}/${from}`);
  if (!plan.outputs.length) lines.push('  outputs: none');
  lines.push(palette.dim(`  at most ${plural(facts.maxHops, 'hop')} within ${formatDuration(facts.timeoutMs)}${facts.initialState ? '; starting from --state-file' : ''}${facts.workDir ? `; workspaces kept in ${facts.workDir}` : ''}`));
  return `${lines.join('\n')}\n`;
}

/** One progress event as text (empty for events that print nothing at this level). */
export function renderLocalJobEvent(event: LocalJobEvent, palette: Palette, debug: boolean): string {
  switch (event.kind) {
    case 'hop-start':
      return `${palette.bold(`hop ${event.hop}`)}${palette.dim(` · job ${event.jobId}`)}${event.continued ? ` · state ${describeState(event.state)}` : ''}\n`;
    case 'input':
      return debug ? palette.dim(`  input ${event.name}: ${plural(event.count.files, 'file')}, ${event.count.bytes} bytes\n`) : '';
    case 'log': {
      if (event.level === 'debug' && !debug) return '';
      if (event.stream) return `  ${palette.dim('│')} ${event.message}\n`;
      const fields = Object.entries(event.fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      const mark = event.level === 'error' ? palette.red('✗') : event.level === 'warn' ? palette.yellow('!') : '·';
      return `  ${mark} ${event.message}${fields ? palette.dim(`  ${fields}`) : ''}\n`;
    }
    case 'hop-end':
      return `${renderHopEnd(event.hop, event.result, palette)}${palette.dim(` (${formatDuration(event.durationMs)})`)}\n`;
  }
}

function renderHopEnd(hop: number, pending: PendingResult, palette: Palette): string {
  if (pending.kind === 'failure') return `hop ${hop} → ${palette.red(`failed (${pending.result.type})`)}`;
  const details = pending.result.executionDetails;
  const percent = details?.percentComplete !== undefined ? ` ${details.percentComplete}%` : '';
  const summary = details?.summary ? ` · ${details.summary}` : '';
  if (pending.result.continuationToken !== undefined) return `hop ${hop} → ${palette.yellow(`in progress${percent}`)}${summary}`;
  return `hop ${hop} → ${palette.green('succeeded')}${summary}`;
}

function renderOutputs(outputs: readonly CollectedOutput[], show: (path: string) => string): string[] {
  return outputs.map((output) => `    ${output.name}  ${show(output.directory)}/  (${plural(output.files, 'file')}, ${output.bytes} bytes)${output.zip ? `  ${show(output.zip)}` : ''}`);
}

/** The final result: what happened, and exactly what the job API would have received. */
export function renderLocalJobResult(result: LocalJobResult, palette: Palette, show: (path: string) => string, stateFile?: string): string {
  const after = `after ${plural(result.hops, 'hop')} in ${formatDuration(result.durationMs)}`;
  const lines: string[] = [];
  const pending = result.result;
  if (pending.kind === 'failure') {
    lines.push(`${palette.red(palette.bold('failed'))} ${after}`);
    lines.push('  PutJobFailureResult failureDetails:');
    lines.push(`    type: ${pending.result.type}`);
    lines.push('    message:');
    lines.push(indent(pending.result.message, '      '));
    if (pending.result.externalExecutionId) lines.push(`    externalExecutionId: ${pending.result.externalExecutionId}`);
    return `${lines.join('\n')}\n`;
  }
  const details = pending.result.executionDetails;
  if (result.status === 'in-progress') {
    lines.push(`${palette.yellow(palette.bold('still in progress'))} ${after} (--max-hops); the pipeline would hand out another job`);
    if (stateFile) lines.push(`  the next hop's state is in ${show(stateFile)}; continue with --state-file ${show(stateFile)}`);
  } else {
    lines.push(`${palette.green(palette.bold('succeeded'))} ${after}`);
  }
  lines.push(`  PutJobSuccessResult${pending.result.continuationToken !== undefined ? ' (with a continuation token)' : ''}:`);
  if (details?.summary) lines.push(`    executionDetails.summary: ${details.summary}`);
  if (details?.percentComplete !== undefined) lines.push(`    executionDetails.percentComplete: ${details.percentComplete}`);
  if (details?.externalExecutionId) lines.push(`    executionDetails.externalExecutionId: ${details.externalExecutionId}`);
  const variables = Object.entries(pending.result.outputVariables ?? {});
  if (variables.length) {
    lines.push('    outputVariables:');
    for (const [key, value] of variables) lines.push(`      ${key}: ${value}`);
  }
  if (!details && !variables.length) lines.push('    (no execution details)');
  if (result.outputs.length) {
    lines.push('  output artifacts:');
    lines.push(...renderOutputs(result.outputs, show));
  }
  return `${lines.join('\n')}\n`;
}
