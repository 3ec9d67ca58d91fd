// Brings the execution state up to date before a call reads it: starts the execution CodePipeline
// runs when a pipeline is created, drops the history of deleted pipelines and applies job
// deadlines. The engine's sweep does the same in the background; doing it on every call as well
// means no caller ever sees state that a sweep would already have changed.

import type { EmulatorContext } from '../context.js';
import { purgeOrphanExecutions, startCreationExecutions } from './executions.js';
import { applyJobDeadlines } from './jobs.js';

export function catchUp(context: EmulatorContext): void {
  startCreationExecutions(context);
  purgeOrphanExecutions(context);
  applyJobDeadlines(context);
}
