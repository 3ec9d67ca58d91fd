// The CodePipeline API's constraints (API version 2015-07-09), written once and shared by the
// offline validator, the reconciler's pre-write checks and the local endpoint. Every number and
// pattern here comes from the service model; see ../shared/reference/codepipeline-api.md §2, §9.

export const ACTION_CATEGORIES = ['Source', 'Build', 'Deploy', 'Test', 'Invoke', 'Approval', 'Compute'] as const;
export type ActionCategory = (typeof ACTION_CATEGORIES)[number];

/** Categories a custom action type may use. Source and Approval are accepted by the API but are
 *  documented as "not currently functional" for custom types; Compute is AWS-only. */
export const CUSTOM_ACTION_CATEGORIES = ['Build', 'Deploy', 'Test', 'Invoke', 'Source', 'Approval'] as const;

export const ACTION_OWNERS = ['AWS', 'ThirdParty', 'Custom'] as const;
export type ActionOwner = (typeof ACTION_OWNERS)[number];

export const CONFIGURATION_PROPERTY_TYPES = ['String', 'Number', 'Boolean'] as const;
export type ConfigurationPropertyType = (typeof CONFIGURATION_PROPERTY_TYPES)[number];

export const FAILURE_TYPES = [
  'JobFailed',
  'ConfigurationError',
  'PermissionError',
  'RevisionOutOfSync',
  'RevisionUnavailable',
  'SystemUnavailable',
] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

export const JOB_STATUSES = ['Created', 'Queued', 'Dispatched', 'InProgress', 'TimedOut', 'Succeeded', 'Failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A length range and, when the model gives one, a whole-string pattern. */
export interface StringRule {
  readonly min: number;
  readonly max: number;
  readonly pattern?: RegExp;
  /** Plain-words description of the pattern, for messages. */
  readonly allowed?: string;
}

const NAME_CHARS = "letters, digits, '.', '@', '-' and '_'";

export const RULES = {
  pipelineName: { min: 1, max: 100, pattern: /^[A-Za-z0-9.@\-_]+$/, allowed: NAME_CHARS },
  stageName: { min: 1, max: 100, pattern: /^[A-Za-z0-9.@\-_]+$/, allowed: NAME_CHARS },
  actionName: { min: 1, max: 100, pattern: /^[A-Za-z0-9.@\-_]+$/, allowed: NAME_CHARS },
  artifactName: { min: 1, max: 100, pattern: /^[a-zA-Z0-9_\-]+$/, allowed: "letters, digits, '-' and '_'" },
  namespace: { min: 1, max: 100, pattern: /^[A-Za-z0-9@\-_]+$/, allowed: "letters, digits, '@', '-' and '_'" },
  provider: { min: 1, max: 35, pattern: /^[0-9A-Za-z_-]+$/, allowed: "letters, digits, '-' and '_'" },
  version: { min: 1, max: 9, pattern: /^[0-9A-Za-z_-]+$/, allowed: "letters, digits, '-' and '_'" },
  configurationKey: { min: 1, max: 50 },
  configurationValue: { min: 1, max: 1000 },
  /** The value a pipeline gives a queryable property (stricter than the PollForJobs queryParam). */
  queryableConfigurationValue: { min: 1, max: 20, pattern: /^[a-zA-Z0-9_-]+$/, allowed: "letters, digits, '-' and '_'" },
  queryParamValue: { min: 1, max: 50, pattern: /^[a-zA-Z0-9_-]+$/, allowed: "letters, digits, '-' and '_'" },
  propertyName: { min: 1, max: 50 },
  propertyDescription: { min: 1, max: 160 },
  url: { min: 1, max: 2048 },
  roleArn: { min: 0, max: 1024, pattern: /^arn:aws(-[\w]+)*:iam::[0-9]{12}:role\/.*$/, allowed: 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)' },
  region: { min: 4, max: 30 },
  bucketName: { min: 3, max: 63, pattern: /^[a-zA-Z0-9\-.]+$/, allowed: "letters, digits, '-' and '.'" },
  encryptionKeyId: { min: 1, max: 400 },
  tagKey: { min: 1, max: 128 },
  tagValue: { min: 0, max: 256 },
  nonce: { min: 1, max: 50 },
  continuationToken: { min: 1, max: 2048 },
  executionSummary: { min: 1, max: 2048 },
  externalExecutionId: { min: 1, max: 1500 },
  failureMessage: { min: 1, max: 5000 },
  revision: { min: 1, max: 1500 },
  revisionChangeIdentifier: { min: 1, max: 100 },
  revisionSummary: { min: 1, max: 2048 },
  nextToken: { min: 1, max: 2048 },
  clientRequestToken: { min: 1, max: 128, pattern: /^[a-zA-Z0-9-]+$/ },
  outputVariableKey: { min: 1, max: Number.MAX_SAFE_INTEGER, pattern: /^[A-Za-z0-9@\-_]+$/ },
} as const satisfies Record<string, StringRule>;

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ACCOUNT_ID_PATTERN = /^[0-9]{12}$/;

export const QUOTAS = {
  customActionTypesPerRegion: 50,
  configurationPropertiesPerType: 10,
  queryablePropertiesPerType: 1,
  artifactCountMin: 0,
  artifactCountMax: 5,
  stagesMin: 2,
  stagesMax: 50,
  actionsPerStageMin: 1,
  actionsPerStageMax: 50,
  actionsPerPipeline: 500,
  runOrderMin: 1,
  runOrderMax: 999,
  tagsPerResource: 50,
  pipelinesPerRegion: 1000,
  /** All output variables of one action together, in bytes. */
  outputVariablesBytes: 122_880,
  /** The resolved configuration of one action, in bytes. */
  actionConfigurationBytes: 100 * 1024,
  percentMin: 0,
  percentMax: 100,
} as const;

/** `{Config:Name}` references inside an action type's URL templates. */
export const CONFIG_REFERENCE = /\{Config:([^}]*)\}/g;

/** Tag keys beginning with this prefix are reserved by AWS. */
export const RESERVED_TAG_PREFIX = 'aws:';

/** Checks one string against a rule; returns what is wrong in words, or undefined. Pure. */
export function describeStringViolation(value: string, rule: StringRule): string | undefined {
  if (value.length < rule.min) {
    return rule.min === 1 ? 'must not be empty' : `is ${value.length} characters long; the minimum is ${rule.min}`;
  }
  if (value.length > rule.max) return `is ${value.length} characters long; the maximum is ${rule.max}`;
  if (rule.pattern && !rule.pattern.test(value)) {
    return rule.allowed ? `may only contain ${rule.allowed}` : `does not match ${rule.pattern.source}`;
  }
  return undefined;
}
