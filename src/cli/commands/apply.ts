import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { applyTarget, type ApplyReport } from '../../apply/apply.js';
import { readLiveState } from '../../apply/read-live.js';
import { decodePlanFile, describeDrift, samePlannedChanges, type PlanFile } from '../../plan/plan-file.js';
import { replanPipeline, planTarget, type TargetPlanInput } from '../../plan/plan-target.js';
import { PLAN_FORMAT_VERSION } from '../../plan/types.js';
import { CpsyncError } from '../../util/errors.js';
import { booleanFlag } from '../parse-args.js';
import { assemblePlan, cpsyncVersion, loadValidProject, openApi, planOneTarget, readFormat, readParallelism, renderPlan, selectTargets, type TargetSession } from '../reconcile.js';
import type { CommandContext } from '../spec.js';
import { hasChanges } from '../../render/plan-words.js';

export async function runApply(context: CommandContext): Promise<number> {
  const planPath = context.args.positionals[0];
  const autoApprove = booleanFlag(context.args, 'auto-approve');
  // Decide before any AWS call: an unattended apply must be explicit.
  if (!planPath && !autoApprove && !context.interactive) {
    throw new CpsyncError('apply.needs-approval', 'refusing to apply without confirmation: there is no terminal to ask', {
      hint: 'run `cpsync apply --auto-approve`, or save a reviewed plan with `cpsync plan --out plan.json` and run `cpsync apply plan.json`',
    });
  }
  return planPath ? applySavedPlan(context, planPath) : planAndApply(context, autoApprove);
}

async function planAndApply(context: CommandContext, autoApprove: boolean): Promise<number> {
  const format = readFormat(context);
  const parallelism = readParallelism(context);
  const project = await loadValidProject(context);
  const inputs = { actionTypes: project.actionTypes, pipelineFiles: project.pipelineFiles, tagPrefix: project.settings.tagPrefix };
  const sessions: TargetSession[] = [];
  try {
    for (const target of selectTargets(project, context)) sessions.push(await planOneTarget(await openApi(target, context), target, inputs, context, parallelism));
    const plan = assemblePlan(sessions, cpsyncVersion());
    context.stdout.write(renderPlan(plan, format, context));
    if (!hasChanges(plan.summary)) return plan.summary.errors > 0 ? 1 : 0;
    if (!autoApprove && !(await confirm(context))) {
      context.stderr.write('Apply cancelled; nothing was changed.\n');
      return 1;
    }
    const reports: ApplyReport[] = [];
    for (const session of sessions) {
      reports.push(
        await applyTarget(session.api, session.planned, {
          parallelism,
          onMoved: 'rebase',
          replan: () => (fresh) => replanPipeline(session.input, fresh),
          progress: (line) => context.stderr.write(`${session.input.target}: ${line}\n`),
        }),
      );
    }
    return finish(context, reports, plan.summary.errors);
  } finally {
    for (const session of sessions) session.api.close();
  }
}

async function applySavedPlan(context: CommandContext, planPath: string): Promise<number> {
  let text: string;
  try {
    text = readFileSync(resolve(context.cwd, planPath), 'utf8');
  } catch {
    throw new CpsyncError('apply.plan-unreadable', `cannot read plan file ${JSON.stringify(planPath)}`, { hint: 'write one with `cpsync plan --out plan.json`' });
  }
  const decoded = decodePlanFile(text, PLAN_FORMAT_VERSION);
  if (!decoded.ok) throw new CpsyncError('apply.plan-invalid', `${planPath} cannot be applied: ${decoded.reason}`, { hint: 'make a new one with `cpsync plan --out plan.json`' });
  const saved: PlanFile = decoded.file;
  const parallelism = readParallelism(context);
  const project = await loadValidProject(context);

  const reports: ApplyReport[] = [];
  const checked: { session: TargetSession; input: TargetPlanInput }[] = [];
  try {
    // Every target is checked for staleness before anything is written.
    for (const targetPlan of saved.plan.targets) {
      const target = project.settings.targets.find((candidate) => candidate.name === targetPlan.target) ?? { name: targetPlan.target };
      const api = await openApi(target, context);
      const live = await readLiveState(api, { target: target.name, parallelism, ...saved.inputs });
      const input: TargetPlanInput = { target: target.name, ...saved.inputs, live, env: context.env };
      const planned = planTarget(input);
      checked.push({ session: { api, input, live, planned }, input });
      const drift = describeDrift(saved.observed[target.name] ?? { pipelines: {}, actionTypes: '' }, live);
      if (drift.length || !samePlannedChanges(targetPlan, planned.plan)) {
        throw new CpsyncError('apply.stale-plan', `the saved plan is stale for target ${target.name}: ${drift.length ? drift.join('; ') : 'a fresh plan no longer matches it (configuration, environment or account changed)'}`, {
          hint: 'nothing was applied; run `cpsync plan --out plan.json` again and review it',
        });
      }
    }
    for (const { session, input } of checked) {
      reports.push(
        await applyTarget(session.api, session.planned, {
          parallelism,
          onMoved: 'strict',
          replan: () => (fresh) => replanPipeline(input, fresh),
          progress: (line) => context.stderr.write(`${input.target}: ${line}\n`),
        }),
      );
    }
    return finish(context, reports, saved.plan.summary.errors);
  } finally {
    for (const { session } of checked) session.api.close();
  }
}

async function confirm(context: CommandContext): Promise<boolean> {
  context.stderr.write('\nDo you want to apply these changes? Only "yes" is accepted: ');
  const lines = createInterface({ input: context.stdin });
  try {
    for await (const line of lines) return line.trim() === 'yes';
    return false;
  } finally {
    lines.close();
  }
}

function finish(context: CommandContext, reports: readonly ApplyReport[], planErrors: number): number {
  let failed = 0;
  let applied = 0;
  let skipped = 0;
  for (const report of reports) {
    for (const item of report.items) {
      if (item.status === 'applied') applied++;
      else if (item.status === 'failed') failed++;
      else skipped++;
    }
  }
  const lines = [`Apply: ${applied} applied, ${failed} failed, ${skipped} skipped${planErrors ? `; ${planErrors} planned item${planErrors === 1 ? '' : 's'} had errors and were not applied` : ''}.`];
  for (const report of reports) {
    for (const item of report.items.filter((candidate) => candidate.status !== 'applied')) lines.push(`  ${item.status}: ${item.address}${item.message ? `: ${item.message}` : ''}`);
  }
  if (failed || planErrors) lines.push('Run `cpsync apply` again after fixing the cause: what was applied stays, and the rest converges.');
  context.stdout.write(`${lines.join('\n')}\n`);
  return failed || planErrors ? 1 : 0;
}
