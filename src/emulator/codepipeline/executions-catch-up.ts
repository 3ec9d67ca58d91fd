// Brings the execution state up to date before a call reads it: starts the execution CodePipeline
// runs when a pipeline is created, drops the history of deleted pipelines and applies job
// deadlines. The engine's sweep does the same in the background; doing it on every call as well
// means no caller ever sees state that a sweep would already have changed.

import type { EmulatorContext } from '../context.js';
import { unlessUnchanged } from '../table-memo.js';
import { purgeOrphanExecutions, startCreationExecutions } from './executions.js';
import { applyJobDeadlines } from './jobs.js';
import { TABLES } from './records.js';

export function catchUp(context: EmulatorContext): void {
  // Both passes are idempotent and read only these tables: with none of them changed since the
  // last pass there is nothing to do (most calls, e.g. a worker polling an idle queue).
  unlessUnchanged(context.store, 'startCreationExecutions', [TABLES.pipelines, TABLES.creationExecutions], () => startCreationExecutions(context));
  unlessUnchanged(context.store, 'purgeOrphanExecutions', [TABLES.pipelines, TABLES.executions, TABLES.creationExecutions], () => purgeOrphanExecutions(context));
  applyJobDeadlines(context);
}
