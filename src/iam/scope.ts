// Where the Region and account of the policy's ARNs come from, without asking AWS. Pure: the
// environment is passed in.
//
// Region: --region, then the target's region, then AWS_REGION / AWS_DEFAULT_REGION (as the other
// commands resolve it). Account: --account, then the account of the target's roleArn (the role
// cpsync assumes lives in the account it reconciles). What is still unknown becomes `*` in the ARN,
// with a note saying how to pin it.

import type { Target } from '../config/settings.js';
import { CpsyncError } from '../util/errors.js';
import { ACCOUNT_ID, REGION_NAME, accountOfRoleArn, scopeFor, type ArnScope } from './arns.js';

export interface ScopeInput {
  readonly account?: string;
  readonly region?: string;
  readonly target: Target;
  readonly env: NodeJS.ProcessEnv;
}

export interface ResolvedScope {
  readonly scope: ArnScope;
  readonly notes: readonly string[];
}

const first = (...values: (string | undefined)[]) => values.find((value) => value !== undefined && value !== '');

export function resolvePolicyScope(input: ScopeInput): ResolvedScope {
  if (input.account !== undefined && !ACCOUNT_ID.test(input.account)) {
    throw new CpsyncError('cli.bad-flag-value', `--account must be a 12-digit AWS account id, got ${JSON.stringify(input.account)}`, {
      hint: 'write e.g. --account 111122223333 (`aws sts get-caller-identity --query Account` prints yours)',
    });
  }
  if (input.region !== undefined && !REGION_NAME.test(input.region)) {
    throw new CpsyncError('cli.bad-flag-value', `--region must be an AWS Region such as us-east-1, got ${JSON.stringify(input.region)}`);
  }
  const notes: string[] = [];
  const region = first(input.region, input.target.region, input.env.AWS_REGION, input.env.AWS_DEFAULT_REGION);
  if (region !== undefined && !REGION_NAME.test(region)) {
    throw new CpsyncError('iam.bad-region', `Region ${JSON.stringify(region)} (from the target ${input.target.name} or AWS_REGION) is not an AWS Region name`, { hint: 'give --region, e.g. --region us-east-1' });
  }
  const account = first(input.account, input.target.roleArn ? accountOfRoleArn(input.target.roleArn) : undefined);
  if (!region) notes.push('no Region given (--region, the target\'s region or AWS_REGION): the Region field of every ARN is `*` and the partition is `aws`');
  if (!account) notes.push('no account given (--account, or the account of the target\'s roleArn): the account field of every ARN is `*`; pin it with --account 111122223333');
  return { scope: scopeFor(region, account), notes };
}
