import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderConfigDocs } from '../../src/config/render-config-docs.js';
import { renderJsonSchemas } from '../../src/config/json-schemas.js';

describe('docs/configuration.md', () => {
  it('is up to date with the validation schemas (run `npm run docs` to refresh)', () => {
    assert.equal(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8'), renderConfigDocs());
  });

  it('documents every field of every file kind, and nothing else', () => {
    const documented = new Set([...renderConfigDocs().matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]));
    const expected = new Set<string>();
    const walk = (schema: Record<string, unknown>, path: string) => {
      const object = schema.type === 'array' ? (schema.items as Record<string, unknown>) : schema;
      const prefix = schema.type === 'array' ? `${path}[]` : path;
      for (const [name, child] of Object.entries((object?.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (name === '$schema') continue;
        const field = prefix ? `${prefix}.${name}` : name;
        expected.add(field);
        walk(child, field);
      }
    };
    for (const text of Object.values(renderJsonSchemas())) walk(JSON.parse(text) as Record<string, unknown>, '');
    assert.deepEqual([...documented].sort(), [...expected].sort());
    for (const field of ['actionTypes[].executor.plugin', 'insertStages[].before', 'rewires[].inputArtifacts', 'worker.tokenKey', 'targets[].endpointUrl']) assert.ok(documented.has(field), field);
  });
});
