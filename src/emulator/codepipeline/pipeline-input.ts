// The model constraints of a PipelineDeclaration (required members, lengths, patterns, ranges,
// enums), checked the way AWS's request validation does before any structure rule runs. Members
// this endpoint does not know are left alone: they are stored and returned as sent.

import { RULES, type StringRule } from '../../model/limits.js';
import { checkActionTypeId, InputCheck, type InputObject } from './input.js';

const PIPELINE_TYPES = ['V1', 'V2'] as const;
const EXECUTION_MODES = ['QUEUED', 'SUPERSEDED', 'PARALLEL'] as const;
const VARIABLE_NAME: StringRule = { min: 1, max: 128, pattern: /^[A-Za-z0-9@\-_]+$/ };

function checkArtifactStore(check: InputCheck, store: InputObject, path: string): void {
  check.requireEnum(store, `${path}.type`, ['S3'] as const);
  check.requireString(store, `${path}.location`, RULES.bucketName);
  const key = check.optionalObject(store, `${path}.encryptionKey`);
  if (key) {
    check.requireString(key, `${path}.encryptionKey.id`, RULES.encryptionKeyId);
    check.requireEnum(key, `${path}.encryptionKey.type`, ['KMS'] as const);
  }
}

function checkArtifacts(check: InputCheck, action: InputObject, path: string, side: 'inputArtifacts' | 'outputArtifacts'): void {
  const list = check.optionalList(action, `${path}.${side}`);
  for (const { item, path: itemPath } of check.objectItems(list, `${path}.${side}`)) {
    check.requireString(item, `${itemPath}.name`, RULES.artifactName);
  }
}

function checkAction(check: InputCheck, action: InputObject, path: string): void {
  check.requireString(action, `${path}.name`, RULES.actionName);
  checkActionTypeId(check, action, `${path}.actionTypeId`);
  check.optionalInteger(action, `${path}.runOrder`, { min: 1, max: 999 });
  check.optionalStringMap(action, `${path}.configuration`, RULES.configurationKey, RULES.configurationValue);
  checkArtifacts(check, action, path, 'inputArtifacts');
  checkArtifacts(check, action, path, 'outputArtifacts');
  check.optionalString(action, `${path}.namespace`, RULES.namespace);
  check.optionalString(action, `${path}.region`, RULES.region);
  check.optionalString(action, `${path}.roleArn`, RULES.roleArn);
  check.optionalInteger(action, `${path}.timeoutInMinutes`, { min: 5, max: 86400 });
}

/** Checks `pipeline` of CreatePipeline / UpdatePipeline; violations are collected in `check`. */
export function checkPipelineShape(check: InputCheck, input: InputObject, path = 'pipeline'): InputObject | undefined {
  const pipeline = check.requireObject(input, path);
  if (!pipeline) return undefined;
  check.requireString(pipeline, `${path}.name`, RULES.pipelineName);
  check.requireString(pipeline, `${path}.roleArn`, RULES.roleArn);
  const store = check.optionalObject(pipeline, `${path}.artifactStore`);
  if (store) checkArtifactStore(check, store, `${path}.artifactStore`);
  const stores = check.optionalObject(pipeline, `${path}.artifactStores`);
  for (const region of Object.keys(stores ?? {})) {
    check.checkString(region, `${path}.artifactStores`, RULES.region);
    const regionStore = check.requireObject(stores as InputObject, `${path}.artifactStores.${region}`);
    if (regionStore) checkArtifactStore(check, regionStore, `${path}.artifactStores.${region}`);
  }
  check.optionalInteger(pipeline, `${path}.version`, { min: 1 });
  check.optionalEnum(pipeline, `${path}.pipelineType`, PIPELINE_TYPES);
  check.optionalEnum(pipeline, `${path}.executionMode`, EXECUTION_MODES);
  const variables = check.optionalList(pipeline, `${path}.variables`, { max: 50 });
  for (const { item, path: itemPath } of check.objectItems(variables, `${path}.variables`)) {
    check.requireString(item, `${itemPath}.name`, VARIABLE_NAME);
    check.optionalString(item, `${itemPath}.defaultValue`, { min: 1, max: 1000 });
    check.optionalString(item, `${itemPath}.description`, { min: 0, max: 200 });
  }
  check.optionalList(pipeline, `${path}.triggers`, { max: 50 });

  const stages = check.requireList(pipeline, `${path}.stages`);
  for (const { item: stage, path: stagePath } of check.objectItems(stages, `${path}.stages`)) {
    check.requireString(stage, `${stagePath}.name`, RULES.stageName);
    const actions = check.requireList(stage, `${stagePath}.actions`);
    for (const { item: action, path: actionPath } of check.objectItems(actions, `${stagePath}.actions`)) checkAction(check, action, actionPath);
  }
  return pipeline;
}
