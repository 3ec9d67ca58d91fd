// Custom action types in the shape CreateCustomActionType takes, their canonical id and address,
// and the rules AWS enforces on them. Pure: shared by `cpsync validate`, the planner and the local
// endpoint, so all three agree on what a valid type is.

import { CONFIG_REFERENCE, QUOTAS, RESERVED_TAG_PREFIX, RULES, describeStringViolation, type StringRule, type ActionCategory, type ActionOwner, type ConfigurationPropertyType } from './limits.js';
import type { Finding } from './findings.js';
import { closestMatch } from '../util/suggest.js';

export interface ActionTypeId {
  readonly category: ActionCategory;
  readonly owner: ActionOwner;
  readonly provider: string;
  readonly version: string;
}

export interface ConfigurationProperty {
  readonly name: string;
  readonly required: boolean;
  readonly key: boolean;
  readonly secret: boolean;
  readonly queryable?: boolean;
  readonly description?: string;
  readonly type?: ConfigurationPropertyType;
}

export interface ActionTypeSettings {
  readonly thirdPartyConfigurationUrl?: string;
  readonly entityUrlTemplate?: string;
  readonly executionUrlTemplate?: string;
  readonly revisionUrlTemplate?: string;
}

export interface ArtifactDetails {
  readonly minimumCount: number;
  readonly maximumCount: number;
}

export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** A custom action type as CreateCustomActionType takes it (owner is always Custom). */
export interface ActionTypeDefinition {
  readonly category: ActionCategory;
  readonly provider: string;
  readonly version: string;
  readonly settings?: ActionTypeSettings;
  readonly configurationProperties: readonly ConfigurationProperty[];
  readonly inputArtifactDetails: ArtifactDetails;
  readonly outputArtifactDetails: ArtifactDetails;
}

export const URL_SETTINGS = ['thirdPartyConfigurationUrl', 'entityUrlTemplate', 'executionUrlTemplate', 'revisionUrlTemplate'] as const;

/** `Build/My-Build-Provider-Name/1`: the short reference pipeline files use for custom types. */
export function formatTypeRef(id: { category: string; provider: string; version: string }): string {
  return `${id.category}/${id.provider}/${id.version}`;
}

/** Canonical key of any action type, owner included: `Custom/Build/My-Build-Provider-Name/1`. */
export function actionTypeKey(id: ActionTypeId): string {
  return `${id.owner}/${id.category}/${id.provider}/${id.version}`;
}

/** Stable address used in plans, maps and labels. */
export function actionTypeAddress(id: { category: string; provider: string; version: string }): string {
  return `action-type:${formatTypeRef(id)}`;
}

/** The partition a Region belongs to: China and GovCloud Regions live in their own. */
export function partitionForRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The IAM/tagging ARN of a custom action type (Service Authorization Reference form). */
export function actionTypeArn(region: string, accountId: string, id: { category: string; provider: string; version: string }, partition = partitionForRegion(region)): string {
  return `arn:${partition}:codepipeline:${region}:${accountId}:actiontype:Custom/${formatTypeRef(id)}`;
}

/** What to do about a string that breaks `rule` (see describeStringViolation). Pure. */
export function stringRuleHint(value: string, rule: StringRule): string {
  if (value.length < rule.min) return rule.min === 1 ? 'give it a value' : `make it at least ${rule.min} characters long`;
  if (value.length > rule.max) return `shorten it to at most ${rule.max} characters`;
  return rule.allowed ? `use only ${rule.allowed}` : `make it match ${rule.pattern?.source ?? 'the rule'}`;
}

/** Checks a custom action type the way AWS does on CreateCustomActionType. Paths use the
 *  request's field names. Pure. */
export function checkActionTypeDefinition(definition: ActionTypeDefinition): Finding[] {
  const findings: Finding[] = [];
  const stringRule = (path: (string | number)[], value: string | undefined, rule: (typeof RULES)[keyof typeof RULES], label: string) => {
    if (value === undefined) return;
    const problem = describeStringViolation(value, rule);
    if (problem) findings.push({ code: 'action-type.invalid-string', path, message: `${label} ${JSON.stringify(value)} ${problem}`, hint: stringRuleHint(value, rule) });
  };

  stringRule(['provider'], definition.provider, RULES.provider, 'provider');
  stringRule(['version'], definition.version, RULES.version, 'version');
  for (const setting of URL_SETTINGS) stringRule(['settings', setting], definition.settings?.[setting], RULES.url, setting);

  const properties = definition.configurationProperties;
  if (properties.length > QUOTAS.configurationPropertiesPerType) {
    findings.push({
      code: 'action-type.too-many-properties',
      path: ['configurationProperties'],
      message: `configurationProperties has ${properties.length} properties; AWS allows at most ${QUOTAS.configurationPropertiesPerType}`,
      hint: 'merge related settings into one property, or move options into the executor section',
    });
  }

  const seen = new Map<string, number>();
  const queryable: number[] = [];
  properties.forEach((property, index) => {
    stringRule(['configurationProperties', index, 'name'], property.name, RULES.propertyName, 'property name');
    stringRule(['configurationProperties', index, 'description'], property.description, RULES.propertyDescription, 'description');
    const first = seen.get(property.name);
    if (first !== undefined) {
      findings.push({
        code: 'action-type.duplicate-property',
        path: ['configurationProperties', index, 'name'],
        message: `property name ${JSON.stringify(property.name)} is already used by configurationProperties[${first}]`,
        hint: 'give each configuration property a unique name',
      });
    } else {
      seen.set(property.name, index);
    }
    if (property.queryable) {
      queryable.push(index);
      if (!property.required || property.secret) {
        findings.push({
          code: 'action-type.queryable-property',
          path: ['configurationProperties', index, 'queryable'],
          message: `queryable property ${JSON.stringify(property.name)} must be required and not secret (it is ${property.required ? '' : 'not required'}${!property.required && property.secret ? ' and ' : ''}${property.secret ? 'secret' : ''})`,
          hint: 'set required: true and secret: false, or drop queryable',
        });
      }
    }
  });
  if (queryable.length > QUOTAS.queryablePropertiesPerType) {
    const names = queryable.map((index) => JSON.stringify(properties[index]?.name)).join(', ');
    findings.push({
      code: 'action-type.too-many-queryable',
      path: ['configurationProperties', queryable[1] as number, 'queryable'],
      message: `${queryable.length} properties are queryable (${names}); AWS allows at most one per action type`,
      hint: 'keep queryable: true on the one property workers poll by',
    });
  }

  for (const setting of URL_SETTINGS) {
    const template = definition.settings?.[setting];
    if (!template) continue;
    for (const match of template.matchAll(CONFIG_REFERENCE)) {
      const name = match[1] ?? '';
      const property = properties.find((candidate) => candidate.name === name);
      if (!property) {
        const usable = properties.filter((p) => p.required && !p.secret).map((p) => p.name);
        const match = closestMatch(name, properties.map((p) => p.name));
        findings.push({
          code: 'action-type.url-unknown-property',
          path: ['settings', setting],
          message: `${setting} refers to {Config:${name}}, but no configuration property is named ${JSON.stringify(name)}${match ? ` (did you mean "${match}"?)` : ''}`,
          hint: match
            ? `write {Config:${match}}`
            : usable.length
              ? `use one of the required, non-secret properties: ${usable.join(', ')}`
              : `declare a required, non-secret property named ${name} under configurationProperties`,
        });
      } else if (!property.required || property.secret) {
        findings.push({
          code: 'action-type.url-property-flags',
          path: ['settings', setting],
          message: `${setting} refers to {Config:${name}}, which is ${property.secret ? 'secret' : 'not required'}; a URL template may only use required, non-secret properties`,
          hint: property.secret ? 'remove the reference: a secret must never appear in a link' : `make ${name} required, or remove it from the template`,
        });
      }
    }
  }

  for (const side of ['inputArtifactDetails', 'outputArtifactDetails'] as const) {
    const details = definition[side];
    for (const bound of ['minimumCount', 'maximumCount'] as const) {
      const count = details[bound];
      if (!Number.isInteger(count) || count < QUOTAS.artifactCountMin || count > QUOTAS.artifactCountMax) {
        findings.push({
          code: 'action-type.artifact-count',
          path: [side, bound],
          message: `${side}.${bound} is ${count}; it must be a whole number from ${QUOTAS.artifactCountMin} to ${QUOTAS.artifactCountMax}`,
          hint: `custom actions take ${QUOTAS.artifactCountMin} to ${QUOTAS.artifactCountMax} ${side.startsWith('input') ? 'input' : 'output'} artifacts`,
        });
      }
    }
    if (details.minimumCount > details.maximumCount) {
      findings.push({
        code: 'action-type.artifact-range',
        path: [side, 'minimumCount'],
        message: `${side}.minimumCount (${details.minimumCount}) is greater than maximumCount (${details.maximumCount})`,
        hint: `lower minimumCount to ${details.maximumCount} or raise maximumCount to ${details.minimumCount}`,
      });
    }
  }
  return findings;
}

/** Checks tags as AWS does (TagResource / create calls). Paths point into the list. Pure. */
export function checkTags(tags: readonly Tag[]): Finding[] {
  const findings: Finding[] = [];
  if (tags.length > QUOTAS.tagsPerResource) {
    findings.push({
      code: 'tags.too-many',
      path: [],
      message: `${tags.length} tags; AWS allows at most ${QUOTAS.tagsPerResource} per resource`,
      hint: `remove ${tags.length - QUOTAS.tagsPerResource} tag${tags.length - QUOTAS.tagsPerResource === 1 ? '' : 's'}, or combine related values into one tag`,
    });
  }
  const seen = new Set<string>();
  tags.forEach((tag, index) => {
    const keyProblem = describeStringViolation(tag.key, RULES.tagKey);
    if (keyProblem) findings.push({ code: 'tags.invalid-key', path: [index, 'key'], message: `tag key ${JSON.stringify(tag.key)} ${keyProblem}`, hint: stringRuleHint(tag.key, RULES.tagKey) });
    const valueProblem = describeStringViolation(tag.value, RULES.tagValue);
    if (valueProblem) findings.push({ code: 'tags.invalid-value', path: [index, 'value'], message: `tag value for ${JSON.stringify(tag.key)} ${valueProblem}`, hint: stringRuleHint(tag.value, RULES.tagValue) });
    if (tag.key.toLowerCase().startsWith(RESERVED_TAG_PREFIX)) {
      findings.push({ code: 'tags.reserved', path: [index, 'key'], message: `tag key ${JSON.stringify(tag.key)} starts with "aws:", which AWS reserves`, hint: 'choose a key without the aws: prefix' });
    }
    if (seen.has(tag.key)) findings.push({ code: 'tags.duplicate', path: [index, 'key'], message: `tag key ${JSON.stringify(tag.key)} appears twice`, hint: 'keep one value per tag key' });
    seen.add(tag.key);
  });
  return findings;
}
