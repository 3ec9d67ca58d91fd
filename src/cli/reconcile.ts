// What `cpsync plan` and `cpsync apply` share: loading the project, reading each target and
// planning it, and rendering the plan in the requested format.

import { appendFileSync } from 'node:fs';
import { resolveClientConfig } from '../aws/client-config.js';
import { createCodePipelineApi, type CodePipelineApi } from '../aws/codepipeline-api.js';
import { readLiveState } from '../apply/read-live.js';
import { loadProject, type Project } from '../config/load.js';
import { hasErrors } from '../config/problems.js';
import type { Target } from '../config/settings.js';
import { choosePalette } from '../render/palette.js';
import { renderPlanHuman } from '../render/plan-human.js';
import { renderPlanJson } from '../render/plan-json.js';
import { renderPlanMarkdown } from '../render/plan-markdown.js';
import { renderProblems } from '../render/problems.js';
import { summarizePlan } from '../plan/summary.js';
import { planTarget, type LiveState, type PlannedTarget, type TargetPlanInput } from '../plan/plan-target.js';
import { PLAN_FORMAT_VERSION, type Plan } from '../plan/types.js';
import { CpsyncError } from '../util/errors.js';
import { booleanFlag, integerFlag, stringFlag } from './parse-args.js';
import type { CommandContext } from './spec.js';

export type PlanFormat = 'human' | 'json' | 'markdown';

export function readFormat(context: CommandContext): PlanFormat {
  const format = stringFlag(context.args, 'format') ?? 'human';
  if (format !== 'human' && format !== 'json' && format !== 'markdown') {
    throw new CpsyncError('cli.bad-flag-value', `--format must be human, json or markdown, got ${JSON.stringify(format)}`);
  }
  return format;
}

export function readParallelism(context: CommandContext): number {
  return integerFlag(context.args, 'parallelism', 10, 1, 100);
}

/** Loads the project; configuration problems end the command before any AWS call. */
export async function loadValidProject(context: CommandContext): Promise<Project> {
  const project = await loadProject({ cwd: context.cwd, configFile: stringFlag(context.args, 'config') });
  const problems = project.problems.filter((problem) => problem.severity === 'error' || context.args.flags.format === undefined);
  if (hasErrors(project.problems)) {
    context.stderr.write(renderProblems(problems, choosePalette({ interactive: false, env: context.env })));
    throw new CpsyncError('config.invalid', 'the configuration has errors; nothing was planned', { hint: 'fix them (see `cpsync validate`) and run again' });
  }
  return project;
}

export function selectTargets(project: Project, context: CommandContext): Target[] {
  const wanted = context.args.flags.target as string[] | undefined;
  if (!wanted?.length) return [...project.settings.targets];
  const known = project.settings.targets.map((target) => target.name);
  for (const name of wanted) {
    if (!known.includes(name)) throw new CpsyncError('cli.unknown-target', `unknown target ${JSON.stringify(name)}`, { hint: `configured targets: ${known.join(', ')}` });
  }
  return project.settings.targets.filter((target) => wanted.includes(target.name));
}

export interface TargetSession {
  readonly api: CodePipelineApi;
  readonly input: TargetPlanInput;
  readonly live: LiveState;
  readonly planned: PlannedTarget;
}

export async function openApi(target: Target, context: CommandContext): Promise<CodePipelineApi> {
  const config = resolveClientConfig(
    target,
    { region: stringFlag(context.args, 'region'), profile: stringFlag(context.args, 'profile'), endpointUrl: stringFlag(context.args, 'endpoint-url') },
    context.env,
  );
  return createCodePipelineApi(config);
}

/** Reads and plans one target. */
export async function planOneTarget(
  api: CodePipelineApi,
  target: Target,
  inputs: Pick<TargetPlanInput, 'actionTypes' | 'pipelineFiles' | 'tagPrefix'>,
  context: CommandContext,
  parallelism: number,
): Promise<TargetSession> {
  const live = await readLiveState(api, { target: target.name, parallelism, ...inputs });
  const input: TargetPlanInput = { target: target.name, ...inputs, live, env: context.env };
  return { api, input, live, planned: planTarget(input) };
}

export function assemblePlan(sessions: readonly TargetSession[], version: string): Plan {
  const targets = sessions.map((session) => session.planned.plan);
  return { formatVersion: PLAN_FORMAT_VERSION, createdAt: new Date().toISOString(), cpsyncVersion: version, targets, summary: summarizePlan(targets) };
}

export function renderPlan(plan: Plan, format: PlanFormat, context: CommandContext): string {
  if (format === 'json') return renderPlanJson(plan);
  if (format === 'markdown') return renderPlanMarkdown(plan);
  return renderPlanHuman(plan, choosePalette({ interactive: context.interactive, env: context.env, noColor: booleanFlag(context.args, 'no-color') }));
}

/** GitHub Actions shows what is appended to this file on the run's summary page. */
export function appendStepSummary(plan: Plan, context: CommandContext): void {
  const file = context.env.GITHUB_STEP_SUMMARY;
  if (file) appendFileSync(file, renderPlanMarkdown(plan));
}



export { cpsyncVersion } from '../util/version.js';
