import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionTypeArn, checkActionTypeDefinition, checkTags, type ActionTypeDefinition, type ConfigurationProperty } from '../../src/model/action-type.js';
import { matchesSelector } from '../../src/model/desired.js';
import { formatDuration, parseDuration } from '../../src/util/duration.js';

const property = (overrides: Partial<ConfigurationProperty> = {}): ConfigurationProperty => ({ name: 'ProjectName', required: true, key: true, secret: false, queryable: false, ...overrides });

function anActionType(overrides: Partial<ActionTypeDefinition> = {}): ActionTypeDefinition {
  return {
    category: 'Build',
    provider: 'My-Build-Provider-Name',
    version: '1',
    settings: { entityUrlTemplate: 'https://ci/job/{Config:ProjectName}/' },
    configurationProperties: [property()],
    inputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    ...overrides,
  };
}

const codes = (definition: ActionTypeDefinition) => checkActionTypeDefinition(definition).map((finding) => finding.code);

describe('checkActionTypeDefinition', () => {
  it('accepts the AWS guide example', () => {
    assert.deepEqual(checkActionTypeDefinition(anActionType()), []);
  });

  const cases: [string, Partial<ActionTypeDefinition>, string[]][] = [
    ['provider with a space', { provider: 'My Build' }, ['action-type.invalid-string']],
    ['provider of 36 characters', { provider: 'p'.repeat(36) }, ['action-type.invalid-string']],
    ['version of 10 characters', { version: '1234567890' }, ['action-type.invalid-string']],
    ['version with a dot', { version: '1.0' }, ['action-type.invalid-string']],
    ['URL over 2048 characters', { settings: { thirdPartyConfigurationUrl: `https://x/${'a'.repeat(2048)}` } }, ['action-type.invalid-string']],
    ['11 properties', { configurationProperties: Array.from({ length: 11 }, (_, i) => property({ name: `P${i}`, required: false })), settings: {} }, ['action-type.too-many-properties']],
    ['duplicate property names', { configurationProperties: [property(), property()] }, ['action-type.duplicate-property']],
    ['queryable but optional', { configurationProperties: [property({ required: false, queryable: true })], settings: {} }, ['action-type.queryable-property']],
    ['queryable and secret', { configurationProperties: [property({ secret: true, queryable: true })], settings: {} }, ['action-type.queryable-property']],
    ['two queryable properties', { configurationProperties: [property({ queryable: true }), property({ name: 'Other', queryable: true })] }, ['action-type.too-many-queryable']],
    ['URL naming an unknown property', { settings: { executionUrlTemplate: 'https://x/{Config:Nope}/{ExternalExecutionId}' } }, ['action-type.url-unknown-property']],
    ['URL naming an optional property', { configurationProperties: [property({ required: false })] }, ['action-type.url-property-flags']],
    ['URL naming a secret property', { configurationProperties: [property({ secret: true })] }, ['action-type.url-property-flags']],
    ['6 input artifacts', { inputArtifactDetails: { minimumCount: 0, maximumCount: 6 } }, ['action-type.artifact-count']],
    ['negative output artifacts', { outputArtifactDetails: { minimumCount: -1, maximumCount: 0 } }, ['action-type.artifact-count']],
    ['minimum above maximum', { inputArtifactDetails: { minimumCount: 2, maximumCount: 1 } }, ['action-type.artifact-range']],
  ];
  for (const [name, overrides, expected] of cases) {
    it(`refuses ${name}`, () => assert.deepEqual(codes(anActionType(overrides)), expected));
  }

  it('points the finding at the offending field', () => {
    const [finding] = checkActionTypeDefinition(anActionType({ configurationProperties: [property(), property({ name: 'X', queryable: true, required: false })] }));
    assert.deepEqual(finding?.path, ['configurationProperties', 1, 'queryable']);
    assert.match(finding?.message ?? '', /queryable property "X" must be required and not secret \(it is not required\)/);
  });
});

describe('checkTags', () => {
  it('accepts ordinary tags and an empty value', () => assert.deepEqual(checkTags([{ key: 'Project', value: '' }]), []));
  it('refuses reserved, duplicate, long and too many tags', () => {
    assert.deepEqual(checkTags([{ key: 'aws:x', value: 'v' }]).map((f) => f.code), ['tags.reserved']);
    assert.deepEqual(checkTags([{ key: 'a', value: '1' }, { key: 'a', value: '2' }]).map((f) => f.code), ['tags.duplicate']);
    assert.deepEqual(checkTags([{ key: 'k'.repeat(129), value: '' }]).map((f) => f.code), ['tags.invalid-key']);
    assert.deepEqual(checkTags([{ key: 'k', value: 'v'.repeat(257) }]).map((f) => f.code), ['tags.invalid-value']);
    assert.deepEqual(checkTags(Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: '' }))).map((f) => f.code), ['tags.too-many']);
  });
});

describe('addresses and helpers', () => {
  it('builds the action type ARN in the Service Authorization Reference form', () => {
    assert.equal(actionTypeArn('us-east-1', '111122223333', { category: 'Build', provider: 'My-Build', version: '1' }), 'arn:aws:codepipeline:us-east-1:111122223333:actiontype:Custom/Build/My-Build/1');
  });

  it('matches pipeline selectors with wildcards only where given', () => {
    assert.equal(matchesSelector('svc-*', 'svc-api'), true);
    assert.equal(matchesSelector('svc-*', 'web-api'), false);
    assert.equal(matchesSelector('svc-?', 'svc-ab'), false);
    assert.equal(matchesSelector('a.b', 'aXb'), false);
    assert.equal(matchesSelector('MyFirstPipeline', 'MyFirstPipeline'), true);
  });

  it('parses and formats durations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2m'), 120000);
    assert.equal(parseDuration(3), 3000);
    assert.throws(() => parseDuration('5 minutes'), /"5 minutes" is not a duration/);
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(250), '250ms');
  });
});
