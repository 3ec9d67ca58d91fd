// Which action types this worker polls, and with which queryParam. Pure: decided from actions.yaml
// and the flags before any AWS call, so a mistake stops the worker at start-up.

import type { DesiredActionType, DesiredExecutor } from '../model/desired.js';
import { formatTypeRef } from '../model/action-type.js';
import { describeStringViolation, RULES } from '../model/limits.js';
import { CpsyncError } from '../util/errors.js';
import type { ActionTypeRef } from './types.js';

export interface SelectionFlags {
  readonly providers?: readonly string[];
  readonly categories?: readonly string[];
  /** `Name=value` (at most one: a type has at most one queryable property). */
  readonly queries?: readonly string[];
}

export interface SelectedType {
  readonly ref: ActionTypeRef;
  /** `Category/Provider/Version`. */
  readonly label: string;
  readonly executor: DesiredExecutor;
  /** `{Name: value}` when the type has a queryable property. */
  readonly queryParam?: Readonly<Record<string, string>>;
  /** Names of the type's secret configuration properties: their values are redacted everywhere. */
  readonly secretProperties: readonly string[];
  /** Every configuration property name (plugin options may reference them as {Config:Name}). */
  readonly propertyNames?: readonly string[];
  readonly outputCount: { readonly min: number; readonly max: number };
}

export interface Selection {
  readonly types: readonly SelectedType[];
  readonly warnings: readonly string[];
}

function parseQuery(text: string): { name: string; value: string } {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new CpsyncError('worker.bad-query', `--query ${JSON.stringify(text)} is not Name=value`, { hint: 'write e.g. --query Suite=smoke (the type\'s queryable property and the value to poll for)' });
  }
  const name = text.slice(0, eq);
  const value = text.slice(eq + 1);
  const problem = describeStringViolation(value, RULES.queryParamValue);
  if (problem) throw new CpsyncError('worker.bad-query', `--query ${name}=${JSON.stringify(value)}: the value ${problem}`, { hint: `use only ${RULES.queryParamValue.allowed}, at most ${RULES.queryParamValue.max} characters` });
  return { name, value };
}

export function selectActionTypes(actionTypes: readonly DesiredActionType[], flags: SelectionFlags, actionsFile = 'actions.yaml'): Selection {
  const warnings: string[] = [];
  const providers = flags.providers ?? [];
  const categories = flags.categories ?? [];
  const narrowed = providers.length > 0 || categories.length > 0;
  if ((flags.queries ?? []).length > 1) {
    throw new CpsyncError('worker.bad-query', `--query was given ${flags.queries?.length} times; a worker polls with one queryable property value`, { hint: 'run one worker per value' });
  }
  const query = flags.queries?.[0] !== undefined ? parseQuery(flags.queries[0]) : undefined;

  const withExecutor = actionTypes.filter((type) => type.executor);
  if (!withExecutor.length) {
    throw new CpsyncError('worker.no-executor', `no action type in ${actionsFile} has an executor, so there is nothing to run`, {
      hint: 'add `executor: { plugin: command, options: { argv: [...] } }` to an action type',
    });
  }
  const matching = withExecutor.filter(
    (type) => (!providers.length || providers.includes(type.definition.provider)) && (!categories.length || categories.includes(type.definition.category)),
  );
  if (!matching.length) {
    const wanted = [...providers.map((p) => `--provider ${p}`), ...categories.map((c) => `--category ${c}`)].join(' ');
    throw new CpsyncError('worker.no-type-selected', `no action type with an executor in ${actionsFile} matches ${wanted}`, {
      hint: `types with an executor: ${withExecutor.map((type) => formatTypeRef(type.definition)).join(', ')}`,
    });
  }

  const types: SelectedType[] = [];
  for (const type of matching) {
    const label = formatTypeRef(type.definition);
    const queryable = type.definition.configurationProperties.find((property) => property.queryable)?.name;
    let queryParam: Record<string, string> | undefined;
    if (query) {
      if (queryable !== query.name) {
        // Without explicit narrowing, --query picks the types it applies to.
        if (!narrowed) continue;
        throw new CpsyncError(
          'worker.bad-query',
          `--query ${query.name}=… does not fit action type ${label} in ${actionsFile}: ${queryable ? `its queryable property is ${queryable}` : 'it has no queryable property'}`,
          { hint: queryable ? `write --query ${queryable}=<value>` : 'leave out --query for this type, or pick another with --provider' },
        );
      }
      queryParam = { [query.name]: query.value };
    } else if (queryable) {
      // PollForJobs insists on the queryable property's value for such a type.
      if (narrowed) {
        throw new CpsyncError('worker.query-required', `action type ${label} in ${actionsFile} has the queryable property ${queryable}, so the worker must poll for one value of it`, {
          hint: `add --query ${queryable}=<value>`,
        });
      }
      warnings.push(`skipping ${label}: it has the queryable property ${queryable}; run a worker with --query ${queryable}=<value> for it`);
      continue;
    }
    types.push({
      ref: { category: type.definition.category, provider: type.definition.provider, version: type.definition.version },
      label,
      executor: type.executor as DesiredExecutor,
      ...(queryParam ? { queryParam } : {}),
      secretProperties: type.definition.configurationProperties.filter((property) => property.secret).map((property) => property.name),
      propertyNames: type.definition.configurationProperties.map((property) => property.name),
      outputCount: { min: type.definition.outputArtifactDetails.minimumCount, max: type.definition.outputArtifactDetails.maximumCount },
    });
  }
  if (!types.length) {
    if (query) {
      throw new CpsyncError('worker.bad-query', `--query ${query.name}=… fits no action type with an executor in ${actionsFile}: none has the queryable property ${query.name}`, {
        hint: 'check the property name (it is case-sensitive)',
      });
    }
    throw new CpsyncError('worker.query-required', `every selected action type in ${actionsFile} has a queryable property, so the worker needs --query Name=value`, { hint: warnings.join('; ') });
  }
  return { types, warnings };
}
