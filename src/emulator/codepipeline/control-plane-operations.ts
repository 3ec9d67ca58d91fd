// Action types, pipelines and tags. (Being written: see the helper brief.)
import type { Operation } from '../server.js';

export const controlPlaneOperations: Record<string, Operation> = {};
