// The control plane of the local CodePipeline: custom action types, pipelines and tags.
import type { Operation } from '../server.js';
import { actionTypeOperations } from './action-types.js';
import { pipelineOperations } from './pipelines.js';
import { tagOperations } from './tags.js';

export const controlPlaneOperations: Record<string, Operation> = {
  ...actionTypeOperations,
  ...pipelineOperations,
  ...tagOperations,
};
