import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { formatTypeRef } from '../../model/action-type.js';
import { appendActionTypes, writtenFromDefinition } from '../../config/import-types.js';
import { loadProject } from '../../config/load.js';
import { CpsyncError } from '../../util/errors.js';
import { booleanFlag, stringFlag } from '../parse-args.js';
import { openApi, selectTargets } from '../reconcile.js';
import type { CommandContext } from '../spec.js';

export async function runImport(context: CommandContext): Promise<number> {
  const project = await loadProject({ cwd: context.cwd, configFile: stringFlag(context.args, 'config') });
  const [target] = selectTargets(project, context);
  if (!target) throw new CpsyncError('import.no-target', 'no target to import from');
  const wanted = (context.args.flags.type as string[] | undefined) ?? [];
  const declared = new Set(project.actionTypes.map((type) => formatTypeRef(type.definition)));

  const api = await openApi(target, context);
  try {
    const live = await api.listCustomActionTypes();
    for (const ref of wanted) {
      if (!live.some((type) => formatTypeRef(type) === ref)) {
        throw new CpsyncError('import.unknown-type', `there is no custom action type ${ref} in ${api.region}`, { hint: `custom action types there: ${live.map(formatTypeRef).join(', ') || 'none'}` });
      }
    }
    const candidates = live.filter((type) => !declared.has(formatTypeRef(type)) && (!wanted.length || wanted.includes(formatTypeRef(type))));
    if (!candidates.length) {
      context.stdout.write(`Nothing to import: every custom action type in ${api.region} is already declared in ${relative(context.cwd, project.settings.actionsFile)}.\n`);
      return 0;
    }
    const entries = [];
    for (const type of candidates) {
      // cpsync's own marker is not part of the declaration; every other tag is.
      const tags = (await api.listTags(await api.actionTypeArn(type))).filter((tag) => !tag.key.startsWith(project.settings.tagPrefix));
      entries.push(writtenFromDefinition(type, tags));
    }
    const file = project.settings.actionsFile;
    const text = appendActionTypes(existsSync(file) ? readFileSync(file, 'utf8') : '', entries);
    if (booleanFlag(context.args, 'dry-run')) {
      context.stdout.write(text);
      return 0;
    }
    writeFileSync(file, text);
    context.stdout.write(
      `Imported ${candidates.length} action type${candidates.length === 1 ? '' : 's'} into ${relative(context.cwd, file)}: ${candidates.map(formatTypeRef).join(', ')}.\n` +
        'Review them (add an executor section for the worker), then run `cpsync plan`: it shows them as adopted, and `cpsync apply` marks them as owned.\n',
    );
    return 0;
  } finally {
    api.close();
  }
}
