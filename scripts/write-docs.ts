// `npm run docs`: writes docs/cli.md from the command definitions.
import { writeFileSync } from 'node:fs';
import { COMMANDS } from '../src/cli/commands.js';
import { renderCliDocs } from '../src/cli/render-cli-docs.js';

writeFileSync(new URL('../docs/cli.md', import.meta.url), renderCliDocs(COMMANDS));
process.stdout.write('wrote docs/cli.md\n');
