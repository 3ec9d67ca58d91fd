// Reads what the planner needs from one target, in parallel with a bound. Only reads.

import type { CodePipelineApi } from '../aws/codepipeline-api.js';
import { formatTypeRef } from '../model/action-type.js';
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

export async function readPipeline(api: CodePipelineApi, name: string): Promise<LivePipelineState | undefined> {
  const live = await api.getPipeline(name);
  if (!live) return undefined;
  const [tags, runningExecutions] = await Promise.all([api.listTags(live.arn), api.runningExecutions(name)]);
  return { name, arn: live.arn, version: live.version, declaration: live.declaration, tags, runningExecutions };
}
