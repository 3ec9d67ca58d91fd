// The written forms of actions.yaml and pipelines/*.yaml: what users type, shorthands included.
// Shapes, types, lengths and patterns live here (so the generated JSON Schemas carry them to
// editors); rules that relate several fields live in rules-*.ts. No transforms: normalizing is a
// separate, pure step (normalize.ts), which keeps the JSON Schema an honest picture of the input.

import { z } from 'zod';
import { ACTION_CATEGORIES, ACTION_OWNERS, CONFIGURATION_PROPERTY_TYPES, QUOTAS, RULES, type StringRule } from '../model/limits.js';

function constrained(rule: StringRule, description: string) {
  let schema = z.string();
  if (rule.min > 0) schema = schema.min(rule.min, { error: rule.min === 1 ? 'must not be empty' : `must be at least ${rule.min} characters` });
  schema = schema.max(rule.max, { error: `must be at most ${rule.max} characters` });
  if (rule.pattern) schema = schema.regex(rule.pattern, { error: `may only contain ${rule.allowed ?? rule.pattern.source}` });
  return schema.meta({ description });
}

const artifactCount = z
  .number()
  .int({ error: 'must be a whole number' })
  .min(QUOTAS.artifactCountMin, { error: `must be at least ${QUOTAS.artifactCountMin}` })
  .max(QUOTAS.artifactCountMax, { error: `must be at most ${QUOTAS.artifactCountMax}` });

const artifactDetails = z
  .strictObject({
    minimumCount: artifactCount.meta({ description: 'Fewest artifacts an action of this type takes (0-5).' }),
    maximumCount: artifactCount.meta({ description: 'Most artifacts an action of this type takes (0-5).' }),
  })
  .meta({ description: 'How many artifacts an action of this type takes.' });

export const configurationPropertySchema = z
  .strictObject({
    name: constrained(RULES.propertyName, 'The configuration key pipelines use for this property.'),
    required: z.boolean().meta({ description: 'Whether every action of this type must set the property.' }),
    key: z.boolean().meta({ description: 'Whether the property is a key (AWS: part of the action\'s identity).' }),
    secret: z.boolean().meta({ description: 'Hidden in GetPipeline output; given to workers in job data. Pipelines must use ${env:NAME} for it.' }),
    queryable: z.boolean().optional().meta({ description: 'Workers can poll for jobs by this property\'s value. At most one per type; must be required and not secret.' }),
    description: constrained(RULES.propertyDescription, 'Shown in the console (1-160 characters).').optional(),
    type: z.enum(CONFIGURATION_PROPERTY_TYPES, { error: `must be one of ${CONFIGURATION_PROPERTY_TYPES.join(', ')}` }).meta({ description: 'The type of the value, shown in the console.' }).optional(),
  })
  .meta({ description: 'One configuration property of a custom action type.' });

export const actionTypeSettingsSchema = z
  .strictObject({
    thirdPartyConfigurationUrl: constrained(RULES.url, 'Sign-up or setup page of the external service.').optional(),
    entityUrlTemplate: constrained(RULES.url, 'Link to the provider\'s page for the action; may use {Config:Name}.').optional(),
    executionUrlTemplate: constrained(RULES.url, 'Link to one run; may use {Config:Name} and {ExternalExecutionId}.').optional(),
    revisionUrlTemplate: constrained(RULES.url, 'Link to where the action\'s configuration can be changed; may use {Config:Name}.').optional(),
  })
  .meta({ description: 'URLs the console shows for actions of this type.' });

const executorDuration = z
  .union([
    z.number().positive({ error: 'must be more than 0' }),
    z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, { error: 'must be a duration such as 500ms, 30s, 2m or 1h' }),
  ])
  .meta({ description: 'A duration: a number of seconds, or text such as 500ms, 30s, 2m, 1h.' });

export const executorSchema = z
  .strictObject({
    plugin: z
      .string()
      .min(1, { error: 'must not be empty' })
      .meta({ description: 'The executor plugin: a bundled name (e.g. "command"), a folder under plugins/, or an npm package name.' }),
    options: z.record(z.string(), z.unknown()).optional().meta({ description: 'Options for the plugin, checked by the plugin\'s own schema.' }),
    detailsLinkFirst: z
      .boolean()
      .optional()
      .meta({ description: 'Report the run id (the executionUrlTemplate link) on the first job before the tool starts; the work runs in the continuation job. Default: on when the type declares an executionUrlTemplate.' }),
    progressInterval: executorDuration
      .optional()
      .meta({ description: 'While a tool runs longer than this, the worker reports progress (percent or elapsed time and the last output line) this often through continuation jobs (default 2m).' }),
    ownerTimeout: executorDuration
      .optional()
      .meta({ description: 'A run whose worker has not reported for this long is failed as SystemUnavailable, or restarted when restartable (default 15m).' }),
    restartable: z
      .boolean()
      .optional()
      .meta({ description: 'Running the tool again from the start is safe: a run whose worker stopped reporting is restarted on another worker instead of failed.' }),
  })
  .meta({ description: 'Which plugin `cpsync worker` runs for jobs of this type.' });

const tagMap = z
  .record(z.string(), z.string({ error: 'must be text (quote numbers and booleans)' }))
  .meta({ description: 'Tags as a mapping of key to value (at most 50; keys must not start with "aws:").' });

/** `version` may be written as a whole number (`version: 1`); it is a string to AWS. */
const versionSchema = z
  .union([
    constrained(RULES.version, 'Version string, 1-9 of letters, digits, "-" and "_".'),
    z.number().int({ error: 'must be a whole number or quoted text' }).nonnegative(),
  ])
  .meta({ description: 'The action type version. Custom action types cannot change in place: bump this to change one.' });

export const actionTypeSchema = z
  .strictObject({
    category: z.enum(ACTION_CATEGORIES, { error: `must be one of ${ACTION_CATEGORIES.join(', ')}` }).meta({ description: 'Build, Deploy, Test or Invoke for custom types.' }),
    provider: constrained(RULES.provider, 'Provider name, 1-35 of letters, digits, "-" and "_".'),
    version: versionSchema,
    settings: actionTypeSettingsSchema.optional(),
    configurationProperties: z
      .array(configurationPropertySchema)
      .max(QUOTAS.configurationPropertiesPerType, { error: `may have at most ${QUOTAS.configurationPropertiesPerType} properties` })
      .meta({ description: 'The configuration keys pipelines give actions of this type (at most 10).' })
      .optional(),
    inputArtifactDetails: artifactDetails,
    outputArtifactDetails: artifactDetails,
    tags: tagMap.optional(),
    executor: executorSchema.optional(),
  })
  .meta({ description: 'A custom action type, as CreateCustomActionType takes it, plus the worker\'s executor.' });

export const actionsFileSchema = z
  .strictObject({
    actionTypes: z.array(actionTypeSchema).meta({ description: 'The custom action types cpsync owns in every target.' }),
  })
  .meta({ title: 'cpsync actions.yaml', description: 'Custom action types declared for cpsync.' });

// ---------------------------------------------------------------------------------------------
// pipelines/*.yaml

const artifactName = constrained(RULES.artifactName, 'Artifact name, 1-100 of letters, digits, "-" and "_".');

const actionTypeIdSchema = z
  .strictObject({
    category: z.enum(ACTION_CATEGORIES, { error: `must be one of ${ACTION_CATEGORIES.join(', ')}` }),
    owner: z.enum(ACTION_OWNERS, { error: `must be one of ${ACTION_OWNERS.join(', ')}` }),
    provider: constrained(RULES.provider, 'Provider name.'),
    version: versionSchema,
  })
  .meta({ description: 'A full action type id, for AWS-owned and third-party types.' });

const runOrder = z
  .number()
  .int({ error: 'must be a whole number' })
  .min(QUOTAS.runOrderMin, { error: `must be at least ${QUOTAS.runOrderMin}` })
  .max(QUOTAS.runOrderMax, { error: `must be at most ${QUOTAS.runOrderMax}` })
  .meta({ description: 'Actions with the same runOrder run in parallel; higher numbers run later (1-999, default 1).' });

export const actionSchema = z
  .strictObject({
    name: constrained(RULES.actionName, 'Action name, unique within its stage.'),
    type: z
      .string()
      .meta({ description: 'Short reference to a custom action type: Category/Provider/Version, e.g. Build/My-Build-Provider-Name/1.' })
      .optional(),
    actionTypeId: actionTypeIdSchema.optional(),
    configuration: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .meta({ description: 'Configuration values (1-1000 characters each). Secret properties must be ${env:NAME} references.' })
      .optional(),
    inputArtifacts: z.array(artifactName).meta({ description: 'Names of artifacts produced by earlier actions.' }).optional(),
    outputArtifacts: z.array(artifactName).meta({ description: 'Names of artifacts this action produces (unique in the pipeline).' }).optional(),
    runOrder: runOrder.optional(),
    region: constrained(RULES.region, 'AWS Region of the action (not allowed for custom actions).').optional(),
    namespace: constrained(RULES.namespace, 'Namespace for the action\'s output variables.').optional(),
    roleArn: constrained(RULES.roleArn, 'IAM role the action assumes.').optional(),
  })
  .meta({ description: 'An action cpsync owns.' });

const stageAnchorName = constrained(RULES.stageName, 'Name of a stage in the live pipeline (or one inserted by this file).');

export const insertStageSchema = z
  .strictObject({
    name: constrained(RULES.stageName, 'Name of the stage to insert.'),
    before: stageAnchorName.optional(),
    after: stageAnchorName.optional(),
    actions: z.array(actionSchema).meta({ description: 'The stage\'s actions (1-50).' }),
  })
  .meta({ description: 'A stage cpsync inserts, placed before or after a named stage.' });

export const addActionsSchema = z
  .strictObject({
    stage: constrained(RULES.stageName, 'Name of an existing stage of the live pipeline.'),
    actions: z.array(actionSchema).meta({ description: 'Actions to add to that stage; use runOrder to run beside or after its actions.' }),
  })
  .meta({ description: 'Actions cpsync adds to a stage it does not own.' });

export const rewireSchema = z
  .strictObject({
    stage: constrained(RULES.stageName, 'Stage of the action to rewire.'),
    action: constrained(RULES.actionName, 'Name of the action (not owned by cpsync) to rewire.'),
    inputArtifacts: z.array(artifactName).meta({ description: 'The input artifacts the action consumes instead.' }),
  })
  .meta({ description: 'A change to the input artifacts of an action cpsync does not own.' });

const pipelineSelector = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(RULES.pipelineName.max, { error: `must be at most ${RULES.pipelineName.max} characters` })
  .regex(/^[A-Za-z0-9.@\-_*?]+$/, { error: "may only contain letters, digits, '.', '@', '-', '_' and the wildcards '*' and '?'" })
  .meta({ description: 'A pipeline name, or a pattern with * and ? matching several.' });

export const pipelineFileSchema = z
  .strictObject({
    pipelines: z
      .array(pipelineSelector)
      .min(1, { error: 'must name at least one pipeline' })
      .meta({ description: 'Pipelines this file applies to. Default: the file name without .yaml.' })
      .optional(),
    insertStages: z.array(insertStageSchema).optional(),
    addActions: z.array(addActionsSchema).optional(),
    rewires: z.array(rewireSchema).optional(),
  })
  .meta({ title: 'cpsync pipeline file', description: 'What cpsync inserts into existing pipelines.' });

export type WrittenActionsFile = z.infer<typeof actionsFileSchema>;
export type WrittenActionType = z.infer<typeof actionTypeSchema>;
export type WrittenConfigurationProperty = z.infer<typeof configurationPropertySchema>;
export type WrittenPipelineFile = z.infer<typeof pipelineFileSchema>;
export type WrittenAction = z.infer<typeof actionSchema>;
export type WrittenInsertStage = z.infer<typeof insertStageSchema>;
export type WrittenAddActions = z.infer<typeof addActionsSchema>;
export type WrittenRewire = z.infer<typeof rewireSchema>;

// ---------------------------------------------------------------------------------------------
// Frames: the same files with list items left unchecked, so each item can be checked on its own
// and one broken entry does not hide the rule problems of all the others.

export const actionsFileFrame = z.strictObject({ actionTypes: z.array(z.unknown()) });

export const insertStageFrame = insertStageSchema.extend({ actions: z.array(z.unknown()) });
export const addActionsFrame = addActionsSchema.extend({ actions: z.array(z.unknown()) });

export const pipelineFileFrame = pipelineFileSchema.extend({
  insertStages: z.array(z.unknown()).optional(),
  addActions: z.array(z.unknown()).optional(),
  rewires: z.array(z.unknown()).optional(),
});

/** A file checked item by item: items that failed their schema are left as holes (undefined). */
export type SalvagedInsertStage = Omit<WrittenInsertStage, 'actions'> & { actions: (WrittenAction | undefined)[] };
export type SalvagedAddActions = Omit<WrittenAddActions, 'actions'> & { actions: (WrittenAction | undefined)[] };
export interface SalvagedPipelineFile {
  pipelines?: string[];
  insertStages?: (SalvagedInsertStage | undefined)[];
  addActions?: (SalvagedAddActions | undefined)[];
  rewires?: (WrittenRewire | undefined)[];
}
export interface SalvagedActionsFile {
  actionTypes: (WrittenActionType | undefined)[];
}
