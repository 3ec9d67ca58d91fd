// Turns live custom action types into actions.yaml entries, so a team that made them by hand can
// adopt them: the next `cpsync apply` marks them as owned. Pure except for the file edit, which
// keeps the existing file's comments and layout (YAML document API).

import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import type { ActionTypeDefinition, Tag } from '../model/action-type.js';

/** The written form of a live type: the same fields actions.yaml takes. */
export function writtenFromDefinition(definition: ActionTypeDefinition, tags: readonly Tag[]): Record<string, unknown> {
  return {
    category: definition.category,
    provider: definition.provider,
    version: definition.version,
    ...(definition.settings && Object.keys(definition.settings).length ? { settings: { ...definition.settings } } : {}),
    ...(definition.configurationProperties.length
      ? {
          configurationProperties: definition.configurationProperties.map((property) => ({
            name: property.name,
            required: property.required,
            key: property.key,
            secret: property.secret,
            queryable: property.queryable ?? false,
            ...(property.type ? { type: property.type } : {}),
            ...(property.description ? { description: property.description } : {}),
          })),
        }
      : {}),
    inputArtifactDetails: { ...definition.inputArtifactDetails },
    outputArtifactDetails: { ...definition.outputArtifactDetails },
    ...(tags.length ? { tags: Object.fromEntries(tags.map((tag) => [tag.key, tag.value])) } : {}),
  };
}

/** Appends entries to the text of actions.yaml (or a new file when `text` is empty). Pure. */
export function appendActionTypes(text: string, entries: readonly Record<string, unknown>[]): string {
  const doc: Document = text.trim() ? parseDocument(text) : parseDocument('# yaml-language-server: $schema=./schemas/actions.schema.json\nactionTypes: []\n');
  if (!isMap(doc.contents)) throw new Error('actions.yaml is not a mapping');
  let list = doc.get('actionTypes', true);
  if (!isSeq(list)) {
    doc.set('actionTypes', doc.createNode([]));
    list = doc.get('actionTypes', true);
  }
  const seq = list as ReturnType<Document['createNode']> & { items: unknown[]; flow?: boolean };
  seq.flow = false;
  for (const entry of entries) {
    const node = doc.createNode(entry);
    (node as { commentBefore?: string }).commentBefore = ' Imported by `cpsync import`: the next `cpsync apply` marks it as owned.';
    seq.items.push(node);
  }
  return doc.toString({ lineWidth: 0 });
}
