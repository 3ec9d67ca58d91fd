// Pipelines as AWS returns them, kept raw. cpsync edits the JSON GetPipeline returned and writes
// it back whole, so fields it does not know (new V2 features) survive untouched. These helpers
// read and compare parts of that raw JSON. Pure.

import { createHash } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The declaration's `stages`, or an empty list when the JSON has none. */
export function stagesOf(declaration: JsonObject): JsonObject[] {
  const stages = declaration.stages;
  return Array.isArray(stages) ? (stages.filter((stage) => isObject(stage)) as JsonObject[]) : [];
}

export function actionsOf(stage: JsonObject): JsonObject[] {
  const actions = stage.actions;
  return Array.isArray(actions) ? (actions.filter((action) => isObject(action)) as JsonObject[]) : [];
}

export function nameOf(node: JsonObject): string {
  return typeof node.name === 'string' ? node.name : '';
}

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function artifactNames(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter(isObject).map((artifact) => (typeof artifact.name === 'string' ? artifact.name : '')) : [];
}

/** The mask GetPipeline puts in place of secret configuration values. */
export const SECRET_MASK = '****';

/**
 * An action declaration in the form used for comparison: AWS's defaults filled in (runOrder 1,
 * empty configuration and artifact lists), keys sorted. Two actions are the same to AWS exactly
 * when their normalized forms are equal.
 */
export function normalizeActionDeclaration(action: JsonObject): JsonObject {
  const normalized: JsonObject = { ...action };
  // GetPipeline may leave out what is empty or default; a declaration may spell it out.
  normalized.runOrder = typeof action.runOrder === 'number' ? action.runOrder : 1;
  normalized.configuration = isObject(action.configuration) ? action.configuration : {};
  normalized.inputArtifacts = Array.isArray(action.inputArtifacts) ? action.inputArtifacts : [];
  normalized.outputArtifacts = Array.isArray(action.outputArtifacts) ? action.outputArtifacts : [];
  return sortKeys(normalized) as JsonObject;
}

export function normalizeStageDeclaration(stage: JsonObject): JsonObject {
  return sortKeys({ ...stage, actions: actionsOf(stage).map(normalizeActionDeclaration) }) as JsonObject;
}

export function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObject(value)) {
    const sorted: JsonObject = {};
    for (const key of Object.keys(value).sort()) {
      const child = value[key];
      if (child !== undefined) sorted[key] = sortKeys(child);
    }
    return sorted;
  }
  return value;
}

/** JSON with sorted keys: equal values give equal text. */
export function canonicalJson(value: Json): string {
  return JSON.stringify(sortKeys(value));
}

/** A short, stable digest of a value (first 16 hex digits of SHA-256 over its canonical JSON). */
export function digest(value: Json): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}
