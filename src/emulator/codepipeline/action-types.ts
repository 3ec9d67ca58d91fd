// Custom action types: CreateCustomActionType, DeleteCustomActionType, ListActionTypes, and the
// look-ups other parts of the endpoint use (pipeline validation, masking, PollForJobs).
//
// Custom types are immutable: no API changes one. Deleting only marks the record deleted; its
// version is burned, and creating it again is allowed only with the identical definition, which
// restores it. Records are keyed `Category/Provider/Version` (owner is always Custom).

import { AwsError } from '../aws-error.js';
import type { EmulatorContext } from '../context.js';
import type { Operation } from '../server.js';
import { checkActionTypeDefinition, type ActionTypeDefinition, type ActionTypeId, type ConfigurationProperty } from '../../model/action-type.js';
import { AWS_ACTION_TYPES, findCatalogueType } from '../../model/aws-action-types.js';
import { ACTION_CATEGORIES, ACTION_OWNERS, CONFIGURATION_PROPERTY_TYPES, CUSTOM_ACTION_CATEGORIES, QUOTAS, RULES, type ActionCategory } from '../../model/limits.js';
import type { ActionTypeLookup, ActionTypeShape } from '../../model/pipeline-rules.js';
import { InputCheck, type InputObject } from './input.js';
import { paginate } from './next-token.js';
import { actionTypeRecordKey, TABLES, type ActionTypeRecord } from './records.js';
import { readTagList, throwForTagFindings } from './tags.js';

/** ListActionTypes has no page-size parameter; AWS's page size is not documented, so this one is
 *  small enough that tests and clients exercise nextToken. */
export const ACTION_TYPES_PAGE_SIZE = 20;

/** The stored custom type for an id, deleted or not. */
export function findCustomActionType(context: EmulatorContext, id: { category: string; provider: string; version: string }): ActionTypeRecord | undefined {
  return context.store.get<ActionTypeRecord>(TABLES.actionTypes, actionTypeRecordKey(id));
}

/** Pipeline-rule look-up as this endpoint's Region has it: the built-in catalogue for AWS and
 *  ThirdParty owners (anything else does not exist here) and live custom types. */
export function endpointActionTypeLookup(context: EmulatorContext): ActionTypeLookup {
  return (id) => {
    if (id.owner !== 'Custom') return findCatalogueType(id) ?? 'unavailable';
    const record = findCustomActionType(context, id);
    return record && !record.deleted ? record : 'unavailable';
  };
}

/** Any type's shape, deleted custom types included (secrets of old pipelines stay masked). */
export function findActionTypeShape(context: EmulatorContext, id: ActionTypeId): ActionTypeShape | undefined {
  if (id.owner !== 'Custom') return findCatalogueType(id);
  return findCustomActionType(context, id);
}

/** The ActionType structure of the wire (output of CreateCustomActionType and ListActionTypes). */
export function renderActionType(record: Pick<ActionTypeRecord, 'id' | 'settings' | 'actionConfigurationProperties' | 'inputArtifactDetails' | 'outputArtifactDetails'>): Record<string, unknown> {
  return {
    id: { category: record.id.category, owner: record.id.owner, provider: record.id.provider, version: record.id.version },
    ...(record.settings ? { settings: record.settings } : {}),
    actionConfigurationProperties: record.actionConfigurationProperties,
    inputArtifactDetails: record.inputArtifactDetails,
    outputArtifactDetails: record.outputArtifactDetails,
  };
}

function readDefinition(check: InputCheck, input: InputObject): ActionTypeDefinition | undefined {
  const category = check.requireEnum(input, 'category', ACTION_CATEGORIES);
  const provider = check.requireString(input, 'provider', RULES.provider);
  const version = check.requireString(input, 'version', RULES.version);

  const settingsInput = check.optionalObject(input, 'settings');
  let settings: Record<string, string> | undefined;
  if (settingsInput) {
    settings = {};
    for (const name of ['thirdPartyConfigurationUrl', 'entityUrlTemplate', 'executionUrlTemplate', 'revisionUrlTemplate'] as const) {
      const value = check.optionalString(settingsInput, `settings.${name}`, RULES.url);
      if (value !== undefined) settings[name] = value;
    }
  }

  const properties: ConfigurationProperty[] = [];
  const list = check.optionalList(input, 'configurationProperties', { min: 0, max: QUOTAS.configurationPropertiesPerType });
  for (const { item, path } of check.objectItems(list, 'configurationProperties')) {
    const name = check.requireString(item, `${path}.name`, RULES.propertyName);
    const required = check.requireBoolean(item, `${path}.required`);
    const key = check.requireBoolean(item, `${path}.key`);
    const secret = check.requireBoolean(item, `${path}.secret`);
    const queryable = check.optionalBoolean(item, `${path}.queryable`);
    const description = check.optionalString(item, `${path}.description`, RULES.propertyDescription);
    const type = check.optionalEnum(item, `${path}.type`, CONFIGURATION_PROPERTY_TYPES);
    if (name === undefined || required === undefined || key === undefined || secret === undefined) continue;
    properties.push({
      name,
      required,
      key,
      secret,
      ...(queryable !== undefined ? { queryable } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(type !== undefined ? { type } : {}),
    });
  }

  const details = (side: 'inputArtifactDetails' | 'outputArtifactDetails') => {
    const object = check.requireObject(input, side);
    if (!object) return undefined;
    const range = { min: QUOTAS.artifactCountMin, max: QUOTAS.artifactCountMax };
    const minimumCount = check.requireInteger(object, `${side}.minimumCount`, range);
    const maximumCount = check.requireInteger(object, `${side}.maximumCount`, range);
    return minimumCount === undefined || maximumCount === undefined ? undefined : { minimumCount, maximumCount };
  };
  const inputArtifactDetails = details('inputArtifactDetails');
  const outputArtifactDetails = details('outputArtifactDetails');

  if (!category || provider === undefined || version === undefined || !inputArtifactDetails || !outputArtifactDetails) return undefined;
  return { category, provider, version, ...(settings ? { settings } : {}), configurationProperties: properties, inputArtifactDetails, outputArtifactDetails };
}

/** The definition as AWS compares it for "identical": absent queryable is false. */
function canonicalDefinition(definition: Pick<ActionTypeRecord, 'settings' | 'actionConfigurationProperties' | 'inputArtifactDetails' | 'outputArtifactDetails'>): string {
  const settings = definition.settings ?? {};
  return JSON.stringify({
    settings: Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b))),
    properties: definition.actionConfigurationProperties.map((property) => ({
      name: property.name,
      required: property.required,
      key: property.key,
      secret: property.secret,
      queryable: property.queryable ?? false,
      description: property.description ?? null,
      type: property.type ?? null,
    })),
    input: [definition.inputArtifactDetails.minimumCount, definition.inputArtifactDetails.maximumCount],
    output: [definition.outputArtifactDetails.minimumCount, definition.outputArtifactDetails.maximumCount],
  });
}

function describeId(id: { category: string; provider: string; version: string }): string {
  return `ActionType (Category: '${id.category}', Provider: '${id.provider}', Owner: 'Custom', Version: '${id.version}')`;
}

const createCustomActionType: Operation = (input, context) => {
  const check = new InputCheck();
  const definition = readDefinition(check, input);
  const tags = readTagList(check, input, 'tags', false) ?? [];
  check.done();
  if (!definition) throw new AwsError('ValidationException', 'Invalid request');

  if (!(CUSTOM_ACTION_CATEGORIES as readonly ActionCategory[]).includes(definition.category)) {
    throw new AwsError('ValidationException', `Category '${definition.category}' is not supported for custom action types`);
  }
  // The model leaves these rules to the service; AWS does not document which error each one
  // raises [UNVERIFIED], so all of them are ValidationException, listed together.
  const findings = checkActionTypeDefinition(definition);
  if (findings.length) throw new AwsError('ValidationException', findings.map((finding) => finding.message).join('; '));
  throwForTagFindings(tags);

  const id: ActionTypeId = { category: definition.category, owner: 'Custom', provider: definition.provider, version: definition.version };
  const key = actionTypeRecordKey(id);
  const candidate: ActionTypeRecord = {
    id,
    ...(definition.settings ? { settings: definition.settings } : {}),
    actionConfigurationProperties: definition.configurationProperties,
    inputArtifactDetails: definition.inputArtifactDetails,
    outputArtifactDetails: definition.outputArtifactDetails,
    tags,
    created: context.now(),
    deleted: false,
  };

  const record = context.store.transaction(() => {
    const existing = findCustomActionType(context, id);
    if (existing && !existing.deleted) {
      // Custom types cannot be updated or re-registered [UNVERIFIED which error]; a new definition needs a new version.
      throw new AwsError('ValidationException', `${describeId(id)} already exists. Custom action types cannot be changed; create a new version instead`);
    }
    if (existing) {
      // A deleted version is burned: only the identical definition may come back (it is restored).
      if (canonicalDefinition(existing) !== canonicalDefinition(candidate)) {
        throw new AwsError('ValidationException', `${describeId(id)} was deleted and exists with a different definition; its version cannot be reused. Create a new version instead`);
      }
      const restored: ActionTypeRecord = { ...existing, deleted: false, tags };
      context.store.put(TABLES.actionTypes, key, restored);
      return restored;
    }
    // Deleted types keep their record, and count toward the quota of 50 (the strict reading; AWS
    // does not say [UNVERIFIED]).
    if (context.store.table(TABLES.actionTypes).size >= QUOTAS.customActionTypesPerRegion) {
      throw new AwsError('LimitExceededException', `The maximum number of custom action types (${QUOTAS.customActionTypesPerRegion}) for this account and Region has been reached`);
    }
    context.store.put(TABLES.actionTypes, key, candidate);
    return candidate;
  });
  return { actionType: renderActionType(record), tags: record.tags };
};

const deleteCustomActionType: Operation = (input, context) => {
  const check = new InputCheck();
  const category = check.requireEnum(input, 'category', ACTION_CATEGORIES);
  const provider = check.requireString(input, 'provider', RULES.provider);
  const version = check.requireString(input, 'version', RULES.version);
  check.done();
  const id = { category: category as string, provider: provider as string, version: version as string };
  context.store.transaction(() => {
    const existing = findCustomActionType(context, id);
    // The model lists only ValidationException for this operation, so an unknown or already
    // deleted type is one (strict; AWS's exact answer is [UNVERIFIED]).
    if (!existing || existing.deleted) throw new AwsError('ValidationException', `${describeId(id)} does not exist`);
    context.store.put(TABLES.actionTypes, actionTypeRecordKey(id), { ...existing, deleted: true } satisfies ActionTypeRecord);
  });
  return undefined;
};

const listActionTypes: Operation = (input, context) => {
  const check = new InputCheck();
  const owner = check.optionalEnum(input, 'actionOwnerFilter', ACTION_OWNERS);
  const nextToken = check.optionalString(input, 'nextToken', RULES.nextToken);
  const regionFilter = check.optionalString(input, 'regionFilter', RULES.region);
  check.done();

  // The endpoint is one Region: another Region has none of this endpoint's types.
  const all =
    regionFilter !== undefined && regionFilter !== context.region
      ? []
      : [
          ...AWS_ACTION_TYPES.map((type) => ({ key: `${type.id.owner}/${type.id.category}/${type.id.provider}/${type.id.version}`, type: renderActionType(type) })),
          ...[...context.store.table<ActionTypeRecord>(TABLES.actionTypes).values()]
            .filter((record) => !record.deleted)
            .map((record) => ({ key: `Custom/${actionTypeRecordKey(record.id)}`, type: renderActionType(record) })),
        ]
          .filter((entry) => owner === undefined || entry.key.startsWith(`${owner}/`))
          .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const { page, nextToken: next } = paginate('ListActionTypes', all, (entry) => entry.key, ACTION_TYPES_PAGE_SIZE, nextToken);
  return { actionTypes: page.map((entry) => entry.type), ...(next ? { nextToken: next } : {}) };
};

export const actionTypeOperations: Record<string, Operation> = {
  CreateCustomActionType: createCustomActionType,
  DeleteCustomActionType: deleteCustomActionType,
  ListActionTypes: listActionTypes,
};
