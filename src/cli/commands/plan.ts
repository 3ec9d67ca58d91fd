import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodePlanFile, snapshotOf, PLAN_FILE_KIND } from '../../plan/plan-file.js';
import { booleanFlag, stringFlag } from '../parse-args.js';
import { appendStepSummary, assemblePlan, cpsyncVersion, loadValidProject, openApi, planOneTarget, readFormat, readParallelism, renderPlan, selectTargets, type TargetSession } from '../reconcile.js';
import type { CommandContext } from '../spec.js';
import { hasChanges } from '../../render/plan-words.js';

export async function runPlan(context: CommandContext): Promise<number> {
  const format = readFormat(context);
  const parallelism = readParallelism(context);
  const project = await loadValidProject(context);
  const inputs = { actionTypes: project.actionTypes, pipelineFiles: project.pipelineFiles, tagPrefix: project.settings.tagPrefix };

  const sessions: TargetSession[] = [];
  try {
    for (const target of selectTargets(project, context)) {
      const api = await openApi(target, context);
      sessions.push(await planOneTarget(api, target, inputs, context, parallelism));
    }
    const plan = assemblePlan(sessions, cpsyncVersion());
    context.stdout.write(renderPlan(plan, format, context));
    appendStepSummary(plan, context);

    const out = stringFlag(context.args, 'out');
    if (out) {
      const observed = Object.fromEntries(sessions.map((session) => [session.input.target, snapshotOf(session.live)]));
      writeFileSync(resolve(context.cwd, out), encodePlanFile({ kind: PLAN_FILE_KIND, plan, inputs, observed }), { mode: 0o600 });
      if (format === 'human') context.stderr.write(`Saved the plan to ${out}; apply exactly it with \`cpsync apply ${out}\`.\n`);
    }
    if (plan.summary.errors > 0) return 1;
    return booleanFlag(context.args, 'detailed-exitcode') && hasChanges(plan.summary) ? 2 : 0;
  } finally {
    for (const session of sessions) session.api.close();
  }
}
