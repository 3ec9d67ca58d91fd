import { writeFileSync } from 'node:fs';
import { renderJsonSchemas } from '../src/config/json-schemas.js';

for (const [name, text] of Object.entries(renderJsonSchemas())) {
  writeFileSync(new URL(`../schemas/${name}`, import.meta.url), text);
  process.stdout.write(`wrote schemas/${name}\n`);
}
