// Executions and jobs. (Being written: see the helper brief.)
import type { Operation } from '../server.js';

export const executionOperations: Record<string, Operation> = {};
