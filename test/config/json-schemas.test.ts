import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderJsonSchemas } from '../../src/config/json-schemas.js';

describe('committed JSON Schemas', () => {
  for (const [name, text] of Object.entries(renderJsonSchemas())) {
    it(`schemas/${name} is up to date (run \`npm run schemas\` to refresh)`, () => {
      const committed = readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8');
      assert.equal(committed, text);
    });
  }

  it('the examples point editors at the schemas', () => {
    const actions = readFileSync(new URL('../../actions.yaml', import.meta.url), 'utf8');
    const pipeline = readFileSync(new URL('../../pipelines/MyFirstPipeline.yaml', import.meta.url), 'utf8');
    assert.match(actions.split('\n')[0] ?? '', /^# yaml-language-server: \$schema=\.\/schemas\/actions\.schema\.json$/);
    assert.match(pipeline.split('\n')[0] ?? '', /^# yaml-language-server: \$schema=\.\.\/schemas\/pipelines\.schema\.json$/);
  });

  it('the actions schema rejects what the validator rejects at the shape level', () => {
    const schema = JSON.parse(renderJsonSchemas()['actions.schema.json'] as string) as { properties: { actionTypes: { items: { properties: Record<string, { maxLength?: number; pattern?: string }>; additionalProperties: boolean } } } };
    const item = schema.properties.actionTypes.items;
    assert.equal(item.properties.provider?.maxLength, 35);
    assert.equal(item.properties.provider?.pattern, '^[0-9A-Za-z_-]+$');
    assert.equal(item.additionalProperties, false);
    // The example file itself is an instance the schema describes.
    const example = parse(readFileSync(new URL('../../actions.yaml', import.meta.url), 'utf8')) as { actionTypes: object[] };
    for (const type of example.actionTypes) for (const key of Object.keys(type)) assert.ok(key in item.properties, `${key} is in the schema`);
  });
});
