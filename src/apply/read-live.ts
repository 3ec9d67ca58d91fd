// Reads what the planner needs from one target, in parallel with a bound. Only reads.

import type { CodePipelineApi } from '../aws/codepipeline-api.js';
import { formatTypeRef, type Tag } from '../model/action-type.js';
import type { DesiredActionType, DesiredPipelineFile } from '../model/desired.js';
import { isPattern } from '../model/desired.js';
import { isOwnedActionType, type ObservedActionType } from '../plan/plan-action-types.js';
import { selectPipelines, type LivePipelineState, type LiveState } from '../plan/plan-target.js';
import { mapBounded } from '../util/pool.js';

export interface ReadOptions {
  readonly target: string;
  readonly parallelism: number;
  readonly tagPrefix: string;
  readonly actionTypes: readonly DesiredActionType[];
  readonly pipelineFiles: readonly DesiredPipelineFile[];
}

export async function readLiveState(api: CodePipelineApi, options: ReadOptions): Promise<LiveState> {
  const accountId = await api.accountId();
  const definitions = await api.listCustomActionTypes();
  const actionTypes: ObservedActionType[] = await mapBounded(definitions, options.parallelism, async (definition) => ({
    definition,
    tags: await api.listTags(await api.actionTypeArn(definition)),
  }));

  const declared = new Set(options.actionTypes.map((type) => formatTypeRef(type.definition)));
  // Deleting an owned type needs to know that no pipeline in the Region uses it: read them all.
  const needsUsageScan = actionTypes.some((type) => isOwnedActionType(type, options.tagPrefix) && !declared.has(formatTypeRef(type.definition)));
  const needsNames = needsUsageScan || options.pipelineFiles.some((file) => file.selectors.some(isPattern));
  const pipelineNames = needsNames ? await api.listPipelineNames() : undefined;

  const selected = selectPipelines(options.pipelineFiles, pipelineNames).names;
  const toRead = needsUsageScan ? [...new Set([...selected, ...(pipelineNames ?? [])])].sort() : selected;
  const states = await mapBounded(toRead, options.parallelism, (name) => readPipeline(api, name));
  const pipelines = new Map<string, LivePipelineState>();
  for (const state of states) if (state) pipelines.set(state.name, state);

  return { target: options.target, region: api.region, accountId, actionTypes, ...(pipelineNames ? { pipelineNames } : {}), pipelines };
}

/** One pipeline: its declaration, tags and running executions, read in one round trip. The tags
 *  are read from the ARN the pipeline would have (region and account are known by then) at the
 *  same time as GetPipeline, not after it: 200 pipelines at 10 in flight are then 20 round trips
 *  instead of 40 (see docs/benchmarks.md). Reading them in parallel shows nothing a sequential
 *  read could not: a writer may act between two sequential reads too, which is why apply compares
 *  versions before writing and checks convergence after. Where the real ARN differs from the
 *  expected one (another partition), the tags are read again from the real one. */
export async function readPipeline(api: CodePipelineApi, name: string): Promise<LivePipelineState | undefined> {
  const expectedArn = await api.pipelineArn(name);
  const [pipeline, taggedAt, executions] = await Promise.allSettled([api.getPipeline(name), api.listTags(expectedArn), api.runningExecutions(name)]);
  if (pipeline.status === 'rejected') throw pipeline.reason;
  const live = pipeline.value;
  // A pipeline that does not exist has no tags or executions either: those errors say nothing more.
  if (!live) return undefined;
  if (executions.status === 'rejected') throw executions.reason;
  let tags: Tag[];
  if (live.arn !== expectedArn) tags = await api.listTags(live.arn);
  else if (taggedAt.status === 'rejected') throw taggedAt.reason;
  else tags = taggedAt.value;
  return { name, arn: live.arn, version: live.version, declaration: live.declaration, tags, runningExecutions: executions.value };
}
