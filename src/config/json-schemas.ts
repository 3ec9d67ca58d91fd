// JSON Schemas for editors, generated from the validation schemas so they cannot drift.
// `npm run schemas` writes them under schemas/; a test fails when the committed copies are stale.

import { z } from 'zod';
import { actionsFileSchema, pipelineFileSchema } from './schema.js';
import { settingsSchema } from './settings-schema.js';

export const JSON_SCHEMA_FILES = {
  'actions.schema.json': actionsFileSchema,
  'pipelines.schema.json': pipelineFileSchema,
  'settings.schema.json': settingsSchema,
} as const;

/** The text of each schema file. Pure. */
export function renderJsonSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, schema] of Object.entries(JSON_SCHEMA_FILES)) {
    const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
    files[name] = `${JSON.stringify({ ...json, $id: `https://cpsync.dev/schemas/${name}` }, null, 2)}\n`;
  }
  return files;
}
