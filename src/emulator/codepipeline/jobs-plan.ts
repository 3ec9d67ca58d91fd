// Pure decisions about jobs: when a dispatched or acknowledged job has passed its deadline, what a
// PollForJobs queryParam must look like for a type, and which queued jobs a poll hands out.

import type { ConfigurationProperty } from '../../model/action-type.js';
import { actionTypeRecordKey, type JobRecord } from './records.js';

export interface JobTimeouts {
  readonly dispatchTimeoutMs: number;
  readonly actionTimeoutMs: number;
}

/** `requeue`: dispatched but never acknowledged in time, so it goes back to the queue and its nonce
 *  becomes stale. `time-out`: acknowledged but no result in time, which fails the action. */
export function planJobDeadline(job: JobRecord, now: number, timeouts: JobTimeouts): 'requeue' | 'time-out' | undefined {
  const deadline = jobDeadline(job, timeouts);
  if (deadline === undefined || now < deadline) return undefined;
  return job.status === 'Dispatched' ? 'requeue' : 'time-out';
}

/** When a job's waiting runs out (dispatched: acknowledgement; acknowledged: a result), if it is waiting. */
export function jobDeadline(job: JobRecord, timeouts: JobTimeouts): number | undefined {
  if (job.status === 'Dispatched' && job.dispatchedAt !== undefined) return job.dispatchedAt + timeouts.dispatchTimeoutMs;
  if (job.status === 'InProgress' && job.acknowledgedAt !== undefined) return job.acknowledgedAt + timeouts.actionTimeoutMs;
  return undefined;
}

/** The earliest deadline among `jobs` (Infinity when none is waiting). */
export function earliestJobDeadline(jobs: Iterable<JobRecord>, timeouts: JobTimeouts): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const job of jobs) {
    const deadline = jobDeadline(job, timeouts);
    if (deadline !== undefined && deadline < earliest) earliest = deadline;
  }
  return earliest;
}

/** Queued jobs of custom types grouped by `Category/Provider/Version`, each group oldest first. */
export function groupQueuedJobs(jobs: Iterable<JobRecord>): Map<string, JobRecord[]> {
  const groups = new Map<string, JobRecord[]>();
  for (const job of jobs) {
    if (job.status !== 'Queued' || job.actionTypeId.owner !== 'Custom') continue;
    const key = actionTypeRecordKey(job.actionTypeId);
    const group = groups.get(key);
    if (group) group.push(job);
    else groups.set(key, [job]);
  }
  for (const group of groups.values()) group.sort((a, b) => a.sequence - b.sequence);
  return groups;
}

export interface QueryFilter {
  readonly name: string;
  readonly value: string;
}

/** Checks a poll's queryParam against the type: a type with a queryable property must be polled
 *  with exactly that property's name; a type without one accepts only an omitted or empty map.
 *  Returns the filter to apply, or the problem in words. */
export function planQueryFilter(
  properties: readonly ConfigurationProperty[],
  queryParam: Record<string, string> | undefined,
): { readonly filter?: QueryFilter } | { readonly problem: string } {
  const queryable = properties.find((property) => property.queryable);
  const entries = Object.entries(queryParam ?? {});
  if (!queryable) {
    if (entries.length) return { problem: `The action type has no queryable configuration property, so queryParam must be empty; got '${entries[0]?.[0]}'` };
    return {};
  }
  const entry = entries[0];
  if (!entry) return { problem: `queryParam must contain the queryable configuration property '${queryable.name}'` };
  if (entry[0] !== queryable.name) return { problem: `queryParam '${entry[0]}' is not the queryable configuration property of the action type; use '${queryable.name}'` };
  return { filter: { name: entry[0], value: entry[1] } };
}

/** The queued jobs a poll returns, oldest first. */
export function selectJobsToDispatch(
  jobs: Iterable<JobRecord>,
  type: { category: string; provider: string; version: string },
  filter: QueryFilter | undefined,
  maxBatchSize: number,
): JobRecord[] {
  const wanted = actionTypeRecordKey(type);
  const matches: JobRecord[] = [];
  for (const job of jobs) {
    if (job.status !== 'Queued' || job.actionTypeId.owner !== 'Custom' || actionTypeRecordKey(job.actionTypeId) !== wanted) continue;
    if (filter && job.configuration[filter.name] !== filter.value) continue;
    matches.push(job);
  }
  return matches.sort((a, b) => a.sequence - b.sequence).slice(0, maxBatchSize);
}
