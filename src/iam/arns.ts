// ARNs for IAM policies, in the spelling of the Service Authorization Reference. Pure.
//
// The CodePipeline user guide writes the action-type ARN as `actionType:owner/...`, once with a
// lowercase `custom`, an empty account and a trailing `/`; the SAR writes
// `actiontype:Custom/<Category>/<Provider>/<Version>`, which is what actionTypeArn builds.

import { actionTypeArn, partitionForRegion } from '../model/action-type.js';

/** `*` stands for "any" in the Region or account field when it was not given. */
export interface ArnScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

export const ACCOUNT_ID = /^[0-9]{12}$/;
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;

export { partitionForRegion };

export function scopeFor(region: string | undefined, account: string | undefined): ArnScope {
  return { partition: region ? partitionForRegion(region) : 'aws', region: region ?? '*', account: account ?? '*' };
}

export function policyActionTypeArn(scope: ArnScope, id: { category: string; provider: string; version: string }): string {
  return actionTypeArn(scope.region, scope.account, id, scope.partition);
}

/** Every custom action type of the account and Region (`actiontype:Custom/*`). */
export function allCustomActionTypesArn(scope: ArnScope): string {
  return `arn:${scope.partition}:codepipeline:${scope.region}:${scope.account}:actiontype:Custom/*`;
}

/**
 * A pipeline ARN. A cpsync selector's `*` (any run of characters) and `?` (one character) mean
 * the same in an IAM resource, and pipeline names cannot hold other IAM special characters, so a
 * pattern selector is used as it is.
 */
export function pipelineArn(scope: ArnScope, selector: string): string {
  return `arn:${scope.partition}:codepipeline:${scope.region}:${scope.account}:${selector}`;
}

/** IAM is global: role ARNs carry no Region. */
export function anyRoleArn(scope: ArnScope): string {
  return `arn:${scope.partition}:iam::${scope.account}:role/*`;
}

/** The account of an IAM role ARN (`arn:aws:iam::111122223333:role/x`), if it names one. */
export function accountOfRoleArn(arn: string): string | undefined {
  return /^arn:[a-z-]+:iam::([0-9]{12}):role\//.exec(arn)?.[1];
}
