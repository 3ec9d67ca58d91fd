import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { DesiredActionType } from '../../src/model/desired.js';
import { selectActionTypes } from '../../src/worker/select-types.js';

function aType(provider: string, overrides: { category?: 'Build' | 'Test' | 'Deploy'; queryable?: string; secret?: string; executor?: boolean } = {}): DesiredActionType {
  return {
    definition: {
      category: overrides.category ?? 'Build',
      provider,
      version: '1',
      configurationProperties: [
        { name: overrides.queryable ?? 'ProjectName', required: true, key: true, secret: false, queryable: overrides.queryable !== undefined },
        ...(overrides.secret ? [{ name: overrides.secret, required: false, key: false, secret: true, queryable: false }] : []),
      ],
      inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
      outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    },
    tags: [],
    ...(overrides.executor === false ? {} : { executor: { plugin: 'command', options: { argv: ['true'] } } }),
  };
}

const types = [aType('Builder', { secret: 'Token' }), aType('Lab', { category: 'Test', queryable: 'Suite' }), aType('Manual', { executor: false })];
const labels = (selection: ReturnType<typeof selectActionTypes>) => selection.types.map((type) => type.label);

describe('selectActionTypes', () => {
  it('selects types with an executor, skipping queryable ones without --query (with a warning)', () => {
    const selection = selectActionTypes(types, {});
    assert.deepEqual(labels(selection), ['Build/Builder/1']);
    assert.match(selection.warnings.join('\n'), /Test\/Lab\/1.*--query Suite=<value>/);
    assert.deepEqual(selection.types[0]?.secretProperties, ['Token']);
    assert.equal(selection.types[0]?.queryParam, undefined);
  });

  it('--query picks the types with that queryable property and sets the queryParam', () => {
    const selection = selectActionTypes(types, { queries: ['Suite=smoke'] });
    assert.deepEqual(labels(selection), ['Test/Lab/1']);
    assert.deepEqual(selection.types[0]?.queryParam, { Suite: 'smoke' });
  });

  it('narrows by --provider and --category', () => {
    assert.deepEqual(labels(selectActionTypes(types, { providers: ['Builder'] })), ['Build/Builder/1']);
    assert.deepEqual(labels(selectActionTypes(types, { categories: ['Test'], queries: ['Suite=a'] })), ['Test/Lab/1']);
  });

  const errors: [string, Parameters<typeof selectActionTypes>[1], RegExp][] = [
    ['a --query naming another property than the type\'s queryable one', { providers: ['Lab'], queries: ['Name=x'] }, /its queryable property is Suite/],
    ['a --query on a type without a queryable property', { providers: ['Builder'], queries: ['Suite=x'] }, /has no queryable property/],
    ['a --query that fits no type', { queries: ['Color=red'] }, /fits no action type/],
    ['a queryable type chosen without --query', { providers: ['Lab'] }, /has the queryable property Suite/],
    ['a provider with no executor', { providers: ['Manual'] }, /no action type with an executor.*matches --provider Manual/],
    ['a malformed --query', { queries: ['Suite'] }, /not Name=value/],
    ['a --query value AWS refuses', { queries: ['Suite=a b'] }, /may only contain/],
    ['two --query flags', { queries: ['Suite=a', 'Suite=b'] }, /one queryable property value/],
  ];
  for (const [name, flags, message] of errors) {
    it(`refuses ${name}`, () => assert.throws(() => selectActionTypes(types, flags), message));
  }

  it('refuses a project where no type has an executor, naming actions.yaml', () => {
    assert.throws(() => selectActionTypes([aType('Manual', { executor: false })], {}, 'conf/actions.yaml'), /no action type in conf\/actions.yaml has an executor/);
  });
});
