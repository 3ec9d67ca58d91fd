// AWS-owned (and one partner) action types, with the configuration properties and artifact counts
// CodePipeline documents for them. The offline validator checks pipeline files against this, and
// the local endpoint serves it from ListActionTypes. It is a subset: an unknown AWS-owned type is
// not an error offline (AWS adds types often), only in the endpoint, which must behave like a
// Region that has exactly these.

import type { ActionTypeId, ArtifactDetails, ConfigurationProperty } from './action-type.js';

export interface CatalogueActionType {
  readonly id: ActionTypeId;
  readonly actionConfigurationProperties: readonly ConfigurationProperty[];
  readonly inputArtifactDetails: ArtifactDetails;
  readonly outputArtifactDetails: ArtifactDetails;
}

const prop = (name: string, required: boolean, extra: Partial<ConfigurationProperty> = {}): ConfigurationProperty => ({
  name,
  required,
  key: extra.key ?? required,
  secret: extra.secret ?? false,
  queryable: extra.queryable ?? false,
  ...(extra.description ? { description: extra.description } : {}),
  ...(extra.type ? { type: extra.type } : {}),
});

const counts = (minimumCount: number, maximumCount: number): ArtifactDetails => ({ minimumCount, maximumCount });

const codeBuildProperties = [
  prop('ProjectName', true),
  prop('PrimarySource', false),
  prop('EnvironmentVariables', false),
  prop('BatchEnabled', false),
  prop('CombineArtifacts', false),
];

export const AWS_ACTION_TYPES: readonly CatalogueActionType[] = [
  {
    id: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
    actionConfigurationProperties: [prop('S3Bucket', true), prop('S3ObjectKey', true), prop('PollForSourceChanges', false), prop('AllowOverrideForS3ObjectKey', false)],
    inputArtifactDetails: counts(0, 0),
    outputArtifactDetails: counts(1, 1),
  },
  {
    id: { category: 'Source', owner: 'AWS', provider: 'CodeStarSourceConnection', version: '1' },
    actionConfigurationProperties: [
      prop('ConnectionArn', true),
      prop('FullRepositoryId', true),
      prop('BranchName', true),
      prop('OutputArtifactFormat', false),
      prop('DetectChanges', false),
    ],
    inputArtifactDetails: counts(0, 0),
    outputArtifactDetails: counts(1, 1),
  },
  {
    id: { category: 'Source', owner: 'AWS', provider: 'CodeCommit', version: '1' },
    actionConfigurationProperties: [prop('RepositoryName', true), prop('BranchName', true), prop('PollForSourceChanges', false), prop('OutputArtifactFormat', false)],
    inputArtifactDetails: counts(0, 0),
    outputArtifactDetails: counts(1, 1),
  },
  {
    id: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
    actionConfigurationProperties: codeBuildProperties,
    inputArtifactDetails: counts(1, 5),
    outputArtifactDetails: counts(0, 5),
  },
  {
    id: { category: 'Test', owner: 'AWS', provider: 'CodeBuild', version: '1' },
    actionConfigurationProperties: codeBuildProperties,
    inputArtifactDetails: counts(1, 5),
    outputArtifactDetails: counts(0, 5),
  },
  {
    id: { category: 'Deploy', owner: 'AWS', provider: 'CodeDeploy', version: '1' },
    actionConfigurationProperties: [prop('ApplicationName', true), prop('DeploymentGroupName', true)],
    inputArtifactDetails: counts(1, 1),
    outputArtifactDetails: counts(0, 0),
  },
  {
    id: { category: 'Deploy', owner: 'AWS', provider: 'S3', version: '1' },
    actionConfigurationProperties: [
      prop('BucketName', true),
      prop('Extract', true),
      prop('ObjectKey', false),
      prop('KMSEncryptionKeyARN', false),
      prop('CannedACL', false),
      prop('CacheControl', false),
    ],
    inputArtifactDetails: counts(1, 1),
    outputArtifactDetails: counts(0, 0),
  },
  {
    id: { category: 'Deploy', owner: 'AWS', provider: 'CloudFormation', version: '1' },
    actionConfigurationProperties: [
      prop('ActionMode', true),
      prop('StackName', true),
      prop('Capabilities', false),
      prop('ChangeSetName', false),
      prop('OutputFileName', false),
      prop('ParameterOverrides', false),
      prop('RoleArn', false),
      prop('TemplateConfiguration', false),
      prop('TemplatePath', false),
    ],
    inputArtifactDetails: counts(0, 10),
    outputArtifactDetails: counts(0, 1),
  },
  {
    id: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' },
    actionConfigurationProperties: [prop('NotificationArn', false), prop('CustomData', false), prop('ExternalEntityLink', false)],
    inputArtifactDetails: counts(0, 0),
    outputArtifactDetails: counts(0, 0),
  },
  {
    id: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' },
    actionConfigurationProperties: [prop('FunctionName', true), prop('UserParameters', false)],
    inputArtifactDetails: counts(0, 5),
    outputArtifactDetails: counts(0, 5),
  },
  {
    // GitHub (version 1) is a partner type whose OAuthToken is secret: GetPipeline masks it as ****.
    id: { category: 'Source', owner: 'ThirdParty', provider: 'GitHub', version: '1' },
    actionConfigurationProperties: [
      prop('Owner', true),
      prop('Repo', true),
      prop('Branch', true),
      prop('OAuthToken', true, { secret: true }),
      prop('PollForSourceChanges', false),
    ],
    inputArtifactDetails: counts(0, 0),
    outputArtifactDetails: counts(1, 1),
  },
];

export function findCatalogueType(id: ActionTypeId): CatalogueActionType | undefined {
  return AWS_ACTION_TYPES.find(
    (candidate) =>
      candidate.id.owner === id.owner && candidate.id.category === id.category && candidate.id.provider === id.provider && candidate.id.version === id.version,
  );
}
