// Least-privilege IAM policy documents for cpsync's two identities, computed from the desired model
// alone (no AWS call). Pure: the command reads the project and prints; this decides.

import type { DesiredActionType, DesiredPipelineFile } from '../model/desired.js';
import { formatTypeRef } from '../model/action-type.js';
import { CpsyncError } from '../util/errors.js';
import { allCustomActionTypesArn, anyRoleArn, pipelineArn, policyActionTypeArn, type ArnScope } from './arns.js';
import { DEPLOYER_STATEMENTS, WORKER_STATEMENTS, type ResourceKind, type StatementRule } from './statements.js';

export type PolicyRole = 'deployer' | 'worker';
export const POLICY_ROLES = ['deployer', 'worker'] as const satisfies readonly PolicyRole[];

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export interface PolicyResult {
  readonly document: PolicyDocument;
  /** What the reader must know or narrow by hand; printed on stderr. */
  readonly notes: readonly string[];
}

export interface PolicyProject {
  readonly actionTypes: readonly DesiredActionType[];
  readonly pipelineFiles: readonly DesiredPipelineFile[];
}

export interface DeployerOptions {
  readonly scope: ArnScope;
  /** The pipelines' service roles; empty means every role of the account (with a note). */
  readonly passRoles?: readonly string[];
  readonly allowDeleteUndeclared?: boolean;
}

/** Code-point order, so the output is the same on every machine and locale. */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const uniqueSorted = (values: Iterable<string>) => [...new Set(values)].sort(byCodePoint);

function statementsFrom(rules: readonly StatementRule[], resourcesOf: (kind: ResourceKind) => readonly string[], optIns: ReadonlySet<string>): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  for (const rule of rules) {
    if (rule.optIn && !optIns.has(rule.optIn)) continue;
    const resources = resourcesOf(rule.resources);
    // A statement with no resource is invalid IAM; nothing declared means nothing to allow.
    if (!resources.length) continue;
    statements.push({
      Sid: rule.sid,
      Effect: 'Allow',
      Action: uniqueSorted(rule.actions),
      Resource: resources,
      ...(rule.condition ? { Condition: rule.condition } : {}),
    });
  }
  return statements;
}

/** The identity that runs plan and apply. */
export function buildDeployerPolicy(project: PolicyProject, options: DeployerOptions): PolicyResult {
  const { scope } = options;
  const notes: string[] = [];
  const typeArns = uniqueSorted(project.actionTypes.map((type) => policyActionTypeArn(scope, type.definition)));
  const selectors = uniqueSorted(project.pipelineFiles.flatMap((file) => file.selectors));
  const pipelineArns = uniqueSorted(selectors.map((selector) => pipelineArn(scope, selector)));
  const passRoles = uniqueSorted(options.passRoles ?? []);

  if (pipelineArns.length && !passRoles.length) {
    notes.push(
      `iam:PassRole allows every role of the account (${anyRoleArn(scope)}), only when passed to CodePipeline; ` +
        'narrow it with --pass-role <ARN> for each pipeline\'s service role (pipeline.roleArn in `aws codepipeline get-pipeline`)',
    );
  }
  for (const selector of selectors.filter((s) => /^[*?]/.test(s))) {
    notes.push(
      `selector ${JSON.stringify(selector)} starts with a wildcard: IAM matches it against the whole resource part of the ARN, ` +
        'so the tagging actions also reach action types whose ARN ends the same way',
    );
  }
  const actionRoles = uniqueSorted(project.pipelineFiles.flatMap((file) => [...file.insertStages, ...file.addActions].flatMap((group) => group.actions.flatMap((action) => (action.roleArn ? [action.roleArn] : [])))));
  if (actionRoles.length) {
    notes.push(`actions in pipelines/ name their own roles (${actionRoles.join(', ')}); if UpdatePipeline is refused for iam:PassRole on them, add them with --pass-role`);
  }
  if (options.allowDeleteUndeclared) {
    notes.push(`DeleteCustomActionType is allowed on every custom action type of the account (${allCustomActionTypesArn(scope)}), so apply can delete owned types actions.yaml no longer declares`);
  } else {
    notes.push(
      'apply deletes owned action types that actions.yaml no longer declares; which they are cannot be known offline, so this policy does not allow it: ' +
        'add --allow-delete-undeclared, or add their ARNs to CreateAndDeleteDeclaredActionTypes by hand',
    );
  }
  if (!typeArns.length && !pipelineArns.length) notes.push('actions.yaml declares no action type and pipelines/ selects no pipeline: the policy only allows listing');

  const resourcesOf = (kind: ResourceKind): readonly string[] => {
    switch (kind) {
      case 'any':
        return ['*'];
      case 'declared-action-types':
        return typeArns;
      case 'selected-pipelines':
        return pipelineArns;
      case 'declared-action-types-and-selected-pipelines':
        return uniqueSorted([...typeArns, ...pipelineArns]);
      case 'all-custom-action-types':
        return [allCustomActionTypesArn(scope)];
      case 'pipeline-roles':
        // Without pipelines to update, nothing is passed.
        return pipelineArns.length ? (passRoles.length ? passRoles : [anyRoleArn(scope)]) : [];
      case 'worker-action-types':
        return [];
    }
  };
  const optIns = new Set(options.allowDeleteUndeclared ? ['allow-delete-undeclared'] : []);
  return { document: { Version: '2012-10-17', Statement: statementsFrom(DEPLOYER_STATEMENTS, resourcesOf, optIns) }, notes };
}

/** The identity that runs `cpsync worker`: it polls the types that have an executor. */
export function buildWorkerPolicy(project: PolicyProject, options: { readonly scope: ArnScope }): PolicyResult {
  const polled = project.actionTypes.filter((type) => type.executor);
  if (!polled.length) {
    throw new CpsyncError('iam.nothing-to-poll', 'no action type in actions.yaml has an executor, so the worker polls nothing', {
      hint: 'give the types the worker runs an `executor:` in actions.yaml',
    });
  }
  const typeArns = uniqueSorted(polled.map((type) => policyActionTypeArn(options.scope, type.definition)));
  const notes = [
    `PollForJobs is allowed for ${polled.map((type) => formatTypeRef(type.definition)).join(', ')} (the action types with an executor)`,
    'no S3 or KMS permission is needed: the worker reads and writes artifacts with the per-job credentials CodePipeline hands out (artifactCredentials)',
  ];
  const resourcesOf = (kind: ResourceKind): readonly string[] => (kind === 'any' ? ['*'] : kind === 'worker-action-types' ? typeArns : []);
  return { document: { Version: '2012-10-17', Statement: statementsFrom(WORKER_STATEMENTS, resourcesOf, new Set()) }, notes };
}

export function buildPolicy(role: PolicyRole, project: PolicyProject, options: DeployerOptions): PolicyResult {
  return role === 'deployer' ? buildDeployerPolicy(project, options) : buildWorkerPolicy(project, options);
}
