// Rules on actions.yaml beyond its shape. Pure: takes the schema-checked written file and returns
// findings located by path.

import { URL_SETTINGS, checkActionTypeDefinition, checkTags, formatTypeRef } from '../model/action-type.js';
import { prefixFindings, type Finding } from '../model/findings.js';
import { normalizeActionType } from './normalize.js';
import type { SalvagedActionsFile } from './schema.js';

/** Bundled plugin names, local folders (`./plugins/x`) and npm package names (`@scope/name`). */
const PLUGIN_REFERENCE = /^(?:\.{1,2}\/[^\0]+|(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)$/;

export function checkActionsFile(file: SalvagedActionsFile): Finding[] {
  const findings: Finding[] = [];
  const firstIndexById = new Map<string, number>();

  file.actionTypes.forEach((written, index) => {
    if (!written) return;
    const at = ['actionTypes', index];
    const desired = normalizeActionType(written);
    const ref = formatTypeRef(desired.definition);

    findings.push(...prefixFindings(at, checkActionTypeDefinition(desired.definition)));

    if (written.category === 'Compute') {
      findings.push({
        code: 'action-type.category',
        path: [...at, 'category'],
        message: `category "Compute" is reserved for AWS-owned actions; custom action types may be Build, Deploy, Test or Invoke`,
        hint: 'use Build for a build step, Test for tests, Deploy for deployments, Invoke for anything else',
      });
    } else if (written.category === 'Source' || written.category === 'Approval') {
      findings.push({
        severity: 'warning',
        code: 'action-type.category',
        path: [...at, 'category'],
        message: `category "${written.category}" is accepted by AWS for custom action types but documented as not functional`,
        hint: 'prefer Build, Deploy, Test or Invoke',
      });
    }

    const tagList = desired.tags;
    for (const finding of checkTags(tagList)) {
      // checkTags paths are [index, 'key'|'value'] into the list; the file has a mapping.
      const tagIndex = finding.path[0];
      const tag = typeof tagIndex === 'number' ? tagList[tagIndex] : undefined;
      findings.push({
        ...finding,
        path: tag ? [...at, 'tags', tag.key] : [...at, 'tags'],
        ...(tag && finding.path[1] === 'key' ? { target: 'key' as const } : {}),
      });
    }

    findings.push(...checkUrlPlaceholders(written.settings ?? {}, [...at, 'settings']));

    if (written.executor && !PLUGIN_REFERENCE.test(written.executor.plugin)) {
      findings.push({
        code: 'action-type.executor-plugin',
        path: [...at, 'executor', 'plugin'],
        message: `executor plugin ${JSON.stringify(written.executor.plugin)} is neither a plugin name, a ./relative folder, nor an npm package name`,
        hint: 'write a bundled plugin name such as "command", a folder such as "./plugins/my-tool", or a package such as "@acme/cpsync-gradle"',
      });
    }

    const first = firstIndexById.get(ref);
    if (first !== undefined) {
      findings.push({
        code: 'action-type.duplicate',
        path: [...at, 'version'],
        message: `action type ${ref} is declared twice (first as actionTypes[${first}])`,
        hint: 'each category/provider/version may be declared once; to change a type, bump its version',
      });
    } else {
      firstIndexById.set(ref, index);
    }
  });
  return findings;
}

/** `{…}` in a URL that CodePipeline does not fill in ends up in the link as written. Warnings:
 *  AWS accepts such URLs, the console just shows broken links. Pure. */
function checkUrlPlaceholders(settings: Partial<Record<(typeof URL_SETTINGS)[number], string>>, at: readonly (string | number)[]): Finding[] {
  const findings: Finding[] = [];
  for (const setting of URL_SETTINGS) {
    const url = settings[setting];
    if (!url) continue;
    for (const match of url.matchAll(/\{([^{}]*)\}/g)) {
      const inner = match[1] ?? '';
      if (/^Config:/.test(inner)) continue;
      if (inner === 'ExternalExecutionId') {
        if (setting === 'executionUrlTemplate') continue;
        findings.push({
          severity: 'warning',
          code: 'action-type.url-placeholder',
          path: [...at, setting],
          message: `${setting} uses {ExternalExecutionId}, which CodePipeline only fills in for executionUrlTemplate`,
          hint: 'move the run-specific link to executionUrlTemplate, or remove the placeholder',
        });
        continue;
      }
      const config = /^config\s*[:.]?\s*(.+)$/i.exec(inner);
      const suggestion = config
        ? `{Config:${config[1]}}`
        : /execution\s*_?id$/i.test(inner) && setting === 'executionUrlTemplate'
          ? '{ExternalExecutionId}'
          : undefined;
      findings.push({
        severity: 'warning',
        code: 'action-type.url-placeholder',
        path: [...at, setting],
        message: `${setting} contains {${inner}}, which is not a placeholder CodePipeline fills in; it would appear in the link as written`,
        hint: suggestion ? `write ${suggestion}` : 'use {Config:PropertyName} or, in executionUrlTemplate, {ExternalExecutionId}',
      });
    }
  }
  return findings;
}
