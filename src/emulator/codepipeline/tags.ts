// TagResource, UntagResource and ListTagsForResource for pipelines and custom action types, and
// the tag checks the create operations share.
//
// ARNs: a pipeline is `arn:aws:codepipeline:<region>:<account>:<PipelineName>`; a custom action
// type is `arn:aws:codepipeline:<region>:<account>:actiontype:Custom/<Category>/<Provider>/<Version>`
// (the Service Authorization Reference form). An ARN outside the model pattern is a
// ValidationException; one that matches it but names no resource form this endpoint knows, or
// another Region or account, is an InvalidArnException [UNVERIFIED: AWS may answer AccessDenied
// for another account]; a well-formed ARN of a resource that does not exist is a
// ResourceNotFoundException.

import { AwsError } from '../aws-error.js';
import type { EmulatorContext } from '../context.js';
import type { Operation } from '../server.js';
import { checkTags, type Tag } from '../../model/action-type.js';
import { ACTION_CATEGORIES, QUOTAS, RESERVED_TAG_PREFIX, RULES, type StringRule } from '../../model/limits.js';
import { InputCheck, type InputObject } from './input.js';
import { paginate } from './next-token.js';
import { actionTypeRecordKey, TABLES, type ActionTypeRecord, type PipelineRecord } from './records.js';

const RESOURCE_ARN: StringRule = { min: 1, max: Number.MAX_SAFE_INTEGER, pattern: /^arn:aws(-[\w]+)*:codepipeline:.+:[0-9]{12}:.+$/ };

/** Reads a TagList member (`tags`), each tag's key and value checked against the model. */
export function readTagList(check: InputCheck, input: InputObject, path: string, required: boolean): Tag[] | undefined {
  const list = required ? check.requireList(input, path) : check.optionalList(input, path);
  if (!list) return undefined;
  const tags: Tag[] = [];
  for (const { item, path: itemPath } of check.objectItems(list, path)) {
    const key = check.requireString(item, `${itemPath}.key`, RULES.tagKey);
    const value = check.requireString(item, `${itemPath}.value`, RULES.tagValue);
    if (key !== undefined && value !== undefined) tags.push({ key, value });
  }
  return tags;
}

/** Turns tag findings into AWS's errors: too many → TooManyTagsException, the rest → InvalidTagsException. */
export function throwForTagFindings(tags: readonly Tag[]): void {
  const findings = checkTags(tags);
  const tooMany = findings.find((finding) => finding.code === 'tags.too-many');
  if (tooMany) throw new AwsError('TooManyTagsException', `Tag limit exceeded: a resource can have at most ${QUOTAS.tagsPerResource} tags`);
  const first = findings[0];
  if (first) throw new AwsError('InvalidTagsException', first.message);
}

/** Tags after TagResource: same keys overwritten, new keys appended. */
export function mergeTags(current: readonly Tag[], added: readonly Tag[]): Tag[] {
  const merged = new Map(current.map((tag) => [tag.key, tag.value]));
  for (const tag of added) merged.set(tag.key, tag.value);
  return [...merged].map(([key, value]) => ({ key, value }));
}

type TaggedResource =
  | { readonly kind: 'pipeline'; readonly key: string; readonly record: PipelineRecord }
  | { readonly kind: 'actionType'; readonly key: string; readonly record: ActionTypeRecord };

type ParsedArn = { readonly kind: 'pipeline'; readonly name: string } | { readonly kind: 'actionType'; readonly category: string; readonly provider: string; readonly version: string };

/** Parses an ARN that passed the model pattern into a resource reference, or throws InvalidArnException. Pure. */
export function parseResourceArn(arn: string, region: string, accountId: string): ParsedArn {
  const invalid = (why: string) => new AwsError('InvalidArnException', `The ARN ${arn} is not valid: ${why}`);
  const parts = arn.split(':');
  const [, , service, arnRegion, account] = parts;
  const resource = parts.slice(5).join(':');
  if (service !== 'codepipeline') throw invalid('it is not a CodePipeline ARN');
  if (arnRegion !== region) throw invalid(`it names Region '${arnRegion}', but this endpoint is Region '${region}'`);
  if (account !== accountId) throw invalid(`it names account '${account}', but this endpoint is account '${accountId}'`);
  if (resource.startsWith('actiontype:')) {
    const match = /^actiontype:Custom\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(resource);
    if (!match || !(ACTION_CATEGORIES as readonly string[]).includes(match[1] as string)) {
      throw invalid('an action type ARN ends in actiontype:Custom/<Category>/<Provider>/<Version>');
    }
    return { kind: 'actionType', category: match[1] as string, provider: match[2] as string, version: match[3] as string };
  }
  if (!RULES.pipelineName.pattern.test(resource) || resource.length > RULES.pipelineName.max) throw invalid('the resource is neither a pipeline name nor an action type');
  return { kind: 'pipeline', name: resource };
}

function findResource(context: EmulatorContext, arn: string): TaggedResource {
  const parsed = parseResourceArn(arn, context.region, context.accountId);
  const notFound = () => new AwsError('ResourceNotFoundException', `The resource with the ARN ${arn} cannot be found`);
  if (parsed.kind === 'pipeline') {
    const record = context.store.get<PipelineRecord>(TABLES.pipelines, parsed.name);
    if (!record) throw notFound();
    return { kind: 'pipeline', key: parsed.name, record };
  }
  const key = actionTypeRecordKey(parsed);
  const record = context.store.get<ActionTypeRecord>(TABLES.actionTypes, key);
  if (!record || record.deleted) throw notFound();
  return { kind: 'actionType', key, record };
}

function saveTags(context: EmulatorContext, resource: TaggedResource, tags: Tag[]): void {
  if (resource.kind === 'pipeline') context.store.put(TABLES.pipelines, resource.key, { ...resource.record, tags } satisfies PipelineRecord);
  else context.store.put(TABLES.actionTypes, resource.key, { ...resource.record, tags } satisfies ActionTypeRecord);
}

const tagResource: Operation = (input, context) => {
  const check = new InputCheck();
  const arn = check.requireString(input, 'resourceArn', RESOURCE_ARN);
  const tags = readTagList(check, input, 'tags', true);
  check.done();
  context.store.transaction(() => {
    const resource = findResource(context, arn as string);
    throwForTagFindings(tags ?? []);
    const merged = mergeTags(resource.record.tags, tags ?? []);
    if (merged.length > QUOTAS.tagsPerResource) {
      throw new AwsError('TooManyTagsException', `Tag limit exceeded: the resource would have ${merged.length} tags; the maximum is ${QUOTAS.tagsPerResource}`);
    }
    saveTags(context, resource, merged);
  });
  return {};
};

const untagResource: Operation = (input, context) => {
  const check = new InputCheck();
  const arn = check.requireString(input, 'resourceArn', RESOURCE_ARN);
  const keys = check.requireStringList(input, 'tagKeys', RULES.tagKey);
  check.done();
  const reserved = (keys ?? []).find((key) => key.toLowerCase().startsWith(RESERVED_TAG_PREFIX));
  context.store.transaction(() => {
    const resource = findResource(context, arn as string);
    if (reserved !== undefined) throw new AwsError('InvalidTagsException', `tag key ${JSON.stringify(reserved)} starts with "aws:", which AWS reserves`);
    const removed = new Set(keys);
    saveTags(context, resource, resource.record.tags.filter((tag) => !removed.has(tag.key)));
  });
  return {};
};

const listTagsForResource: Operation = (input, context) => {
  const check = new InputCheck();
  const arn = check.requireString(input, 'resourceArn', RESOURCE_ARN);
  const nextToken = check.optionalString(input, 'nextToken', RULES.nextToken);
  const maxResults = check.optionalInteger(input, 'maxResults', { min: 1, max: 100 });
  check.done();
  const resource = findResource(context, arn as string);
  // AWS says every tag comes back in one call; maxResults is honoured anyway (at most 50 tags exist).
  const sorted = resource.record.tags.map((tag, index) => ({ tag, order: String(index).padStart(4, '0') }));
  const { page, nextToken: next } = paginate(`ListTagsForResource:${arn}`, sorted, (entry) => entry.order, maxResults ?? QUOTAS.tagsPerResource, nextToken);
  return { tags: page.map((entry) => entry.tag), ...(next ? { nextToken: next } : {}) };
};

export const tagOperations: Record<string, Operation> = {
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
};
