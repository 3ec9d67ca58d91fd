// Which IAM actions each cpsync identity needs, and on which resources, as data (codepipeline-api.md
// §14 and §0 rule 15). test/iam/code-coverage.test.ts checks these tables against the SDK commands
// src/aws/*.ts actually send, so the policies cannot silently drift from the code.

/** The resources a statement applies to; the builder turns each into ARNs. */
export type ResourceKind =
  /** No resource-level permissions: IAM accepts only `*`. */
  | 'any'
  /** The action types actions.yaml declares. */
  | 'declared-action-types'
  /** The declared action types with an `executor` (the ones the worker polls). */
  | 'worker-action-types'
  /** The pipelines pipelines/*.yaml select (names, or patterns as ARN wildcards). */
  | 'selected-pipelines'
  /** Both of the above: tags live on action types and on pipelines. */
  | 'declared-action-types-and-selected-pipelines'
  /** Every custom action type of the account (only with --allow-delete-undeclared). */
  | 'all-custom-action-types'
  /** The pipelines' service roles (--pass-role, or every role of the account). */
  | 'pipeline-roles';

export interface StatementRule {
  /** IAM allows only letters and digits in a Sid. */
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: ResourceKind;
  readonly condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Only with --allow-delete-undeclared. */
  readonly optIn?: 'allow-delete-undeclared';
}

/** The identity that runs `cpsync plan` / `cpsync apply` (CI). */
export const DEPLOYER_STATEMENTS = [
  // ListActionTypes is `*` in the 2025 Service Authorization Reference (older docs scoped it to
  // actiontype:*); ListPipelines has no resource-level permissions.
  { sid: 'ListActionTypesAndPipelines', actions: ['codepipeline:ListActionTypes', 'codepipeline:ListPipelines'], resources: 'any' },
  // cpsync asks STS for the account to build action-type ARNs (AWS allows this call to everyone,
  // but listing it keeps the policy honest about what cpsync calls).
  { sid: 'GetCallerIdentity', actions: ['sts:GetCallerIdentity'], resources: 'any' },
  { sid: 'CreateAndDeleteDeclaredActionTypes', actions: ['codepipeline:CreateCustomActionType', 'codepipeline:DeleteCustomActionType'], resources: 'declared-action-types' },
  // Creating a type with tags also needs TagResource on it; cpsync records ownership in tags on
  // both the types and the pipelines it edits.
  {
    sid: 'TagDeclaredActionTypesAndSelectedPipelines',
    actions: ['codepipeline:ListTagsForResource', 'codepipeline:TagResource', 'codepipeline:UntagResource'],
    resources: 'declared-action-types-and-selected-pipelines',
  },
  { sid: 'ReadAndUpdateSelectedPipelines', actions: ['codepipeline:GetPipeline', 'codepipeline:ListPipelineExecutions', 'codepipeline:UpdatePipeline'], resources: 'selected-pipelines' },
  // UpdatePipeline sends the pipeline's roleArn back, and IAM checks PassRole for it.
  {
    sid: 'PassPipelineRolesToCodePipeline',
    actions: ['iam:PassRole'],
    resources: 'pipeline-roles',
    condition: { StringEquals: { 'iam:PassedToService': 'codepipeline.amazonaws.com' } },
  },
  // Owned types that actions.yaml no longer declares are deleted by apply; offline, cpsync cannot
  // know which they are.
  { sid: 'DeleteUndeclaredActionTypes', actions: ['codepipeline:DeleteCustomActionType'], resources: 'all-custom-action-types', optIn: 'allow-delete-undeclared' },
] as const satisfies readonly StatementRule[];

/** The identity that runs `cpsync worker` (instance role of the runners). */
export const WORKER_STATEMENTS = [
  // PollForJobs requires the actiontype resource, so it can be scoped to exactly the polled types.
  { sid: 'PollForJobsOfExecutedActionTypes', actions: ['codepipeline:PollForJobs'], resources: 'worker-action-types' },
  // These accept only `*` (no resource-level permissions); the job id and nonce are the guard.
  {
    sid: 'AcknowledgeAndReportJobs',
    actions: ['codepipeline:AcknowledgeJob', 'codepipeline:GetJobDetails', 'codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'],
    resources: 'any',
  },
  // The start-up check that each polled type exists.
  { sid: 'ListActionTypesAtStartUp', actions: ['codepipeline:ListActionTypes'], resources: 'any' },
] as const satisfies readonly StatementRule[];
