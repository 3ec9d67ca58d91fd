// `npm run docs`: writes the generated reference pages (docs/cli.md, docs/configuration.md).
import { writeFileSync } from 'node:fs';
import { COMMANDS } from '../src/cli/commands.js';
import { renderCliDocs } from '../src/cli/render-cli-docs.js';
import { renderConfigDocs } from '../src/config/render-config-docs.js';

writeFileSync(new URL('../docs/cli.md', import.meta.url), renderCliDocs(COMMANDS));
process.stdout.write('wrote docs/cli.md\n');
writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDocs());
process.stdout.write('wrote docs/configuration.md\n');
