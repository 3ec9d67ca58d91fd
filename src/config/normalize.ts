// Written form → desired model. Pure. Each rule names the AWS behaviour it mirrors.

import { basename, extname } from 'node:path';
import type { ActionTypeId } from '../model/action-type.js';
import type { ActionCategory } from '../model/limits.js';
import type { DesiredAction, DesiredActionType, DesiredExecutor, DesiredPipelineFile } from '../model/desired.js';
import { parseDuration } from '../util/duration.js';
import type { SalvagedPipelineFile, WrittenAction, WrittenActionType } from './schema.js';

/** YAML reads `version: 1` as a number; AWS compares versions as exact strings. */
export function normalizeVersion(version: string | number): string {
  return String(version);
}

export function normalizeActionType(written: WrittenActionType): DesiredActionType {
  return {
    definition: {
      category: written.category,
      provider: written.provider,
      version: normalizeVersion(written.version),
      // An empty settings object and an absent one are the same to AWS.
      ...(written.settings && Object.keys(written.settings).length ? { settings: written.settings } : {}),
      configurationProperties: (written.configurationProperties ?? []).map((property) => ({
        name: property.name,
        required: property.required,
        key: property.key,
        secret: property.secret,
        // AWS treats an absent queryable as false.
        queryable: property.queryable ?? false,
        ...(property.description !== undefined ? { description: property.description } : {}),
        ...(property.type !== undefined ? { type: property.type } : {}),
      })),
      inputArtifactDetails: written.inputArtifactDetails,
      outputArtifactDetails: written.outputArtifactDetails,
    },
    tags: Object.entries(written.tags ?? {}).map(([key, value]) => ({ key, value })),
    ...(written.executor ? { executor: normalizeExecutor(written.executor, written.settings?.executionUrlTemplate !== undefined) } : {}),
  };
}

/** Parses `Category/Provider/Version` (a custom type). Returns undefined when malformed. Pure. */
export function parseTypeRef(ref: string): { category: string; provider: string; version: string } | undefined {
  const parts = ref.split('/');
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) return undefined;
  const [category, provider, version] = parts as [string, string, string];
  return { category, provider, version };
}

export function normalizeAction(written: WrittenAction): DesiredAction {
  let actionTypeId: ActionTypeId;
  if (written.actionTypeId) {
    actionTypeId = { ...written.actionTypeId, version: normalizeVersion(written.actionTypeId.version) };
  } else {
    // The short reference always names a custom type: owner is Custom (validated beforehand).
    const ref = parseTypeRef(written.type ?? '') ?? { category: 'Build', provider: '', version: '' };
    actionTypeId = { category: ref.category as ActionCategory, owner: 'Custom', provider: ref.provider, version: ref.version };
  }
  return {
    name: written.name,
    actionTypeId,
    // Configuration values are strings to AWS; YAML may have read `true` or `3`.
    configuration: Object.fromEntries(Object.entries(written.configuration ?? {}).map(([key, value]) => [key, String(value)])),
    inputArtifacts: written.inputArtifacts ?? [],
    outputArtifacts: written.outputArtifacts ?? [],
    // AWS fills in runOrder 1 when it is absent.
    runOrder: written.runOrder ?? 1,
    ...(written.region !== undefined ? { region: written.region } : {}),
    ...(written.namespace !== undefined ? { namespace: written.namespace } : {}),
    ...(written.roleArn !== undefined ? { roleArn: written.roleArn } : {}),
  };
}

/** The pipeline a file applies to when it names none: its file name without the extension. */
export function defaultSelector(file: string): string {
  return basename(file, extname(file));
}

const present = <T>(item: T | undefined): item is T => item !== undefined;

/** Normalizes a pipeline file. Items that failed their schema (holes) are skipped: the result is
 *  only complete when the file had no schema problems. */
export function normalizePipelineFile(file: string, written: SalvagedPipelineFile): DesiredPipelineFile {
  return {
    file,
    selectors: written.pipelines ?? [defaultSelector(file)],
    insertStages: (written.insertStages ?? []).filter(present).map((stage) => ({
      name: stage.name,
      placement: stage.before !== undefined ? { before: stage.before } : { after: stage.after ?? '' },
      actions: stage.actions.filter(present).map(normalizeAction),
    })),
    addActions: (written.addActions ?? []).filter(present).map((group) => ({ stage: group.stage, actions: group.actions.filter(present).map(normalizeAction) })),
    rewires: (written.rewires ?? []).filter(present).map((rewire) => ({ stage: rewire.stage, action: rewire.action, inputArtifacts: rewire.inputArtifacts })),
  };
}

/** The executor with its long-run fields: durations in milliseconds, details-link-first on by
 *  default when the type has an executionUrlTemplate. Pure. */
function normalizeExecutor(written: NonNullable<WrittenActionType['executor']>, hasExecutionUrl: boolean): DesiredExecutor {
  const detailsLinkFirst = written.detailsLinkFirst ?? (hasExecutionUrl ? true : undefined);
  return {
    plugin: written.plugin,
    options: written.options ?? {},
    ...(detailsLinkFirst !== undefined ? { detailsLinkFirst } : {}),
    ...(written.progressInterval !== undefined ? { progressIntervalMs: parseDuration(written.progressInterval) } : {}),
    ...(written.ownerTimeout !== undefined ? { ownerTimeoutMs: parseDuration(written.ownerTimeout) } : {}),
    ...(written.restartable !== undefined ? { restartable: written.restartable } : {}),
  };
}
