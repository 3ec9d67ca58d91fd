// Plans custom action types. They are immutable in AWS: only tags change in place. A changed
// definition under the same version is refused with the next unused version proposed; a version
// string that was ever deleted cannot be reused for a different definition, so cpsync never
// plans delete-and-recreate. Pure.

import { actionTypeAddress, formatTypeRef, type ActionTypeDefinition, type ActionTypeSettings, type ConfigurationProperty, type Tag } from '../model/action-type.js';
import type { DesiredActionType } from '../model/desired.js';
import { canonicalJson, type Json } from '../model/pipeline.js';
import type { ActionTypePlan, PlanError, PlanWarning } from './types.js';

/** A custom action type as ListActionTypes returns it, with its tags. */
export interface ObservedActionType {
  readonly definition: ActionTypeDefinition;
  readonly tags: readonly Tag[];
}

export interface ActionTypePlanInput {
  readonly desired: readonly DesiredActionType[];
  readonly observed: readonly ObservedActionType[];
  readonly tagPrefix: string;
  /** Pipelines (by name) that will still use each custom type after this apply, keyed by `Category/Provider/Version`. */
  readonly usersAfterApply: (ref: string) => readonly string[];
  /** Versions known to exist or to have existed for a category/provider (for the next-version advice). */
  readonly knownVersions?: (category: string, provider: string) => readonly string[];
}

export interface ActionTypePlanResult {
  readonly plans: ActionTypePlan[];
  readonly errors: PlanError[];
  readonly warnings: PlanWarning[];
}

/** The tag that marks an action type as owned by cpsync. */
export function managedTagKey(prefix: string): string {
  return `${prefix}managed`;
}

export function isOwnedActionType(observed: ObservedActionType, prefix: string): boolean {
  return observed.tags.some((tag) => tag.key === managedTagKey(prefix));
}

export function planActionTypes(input: ActionTypePlanInput): ActionTypePlanResult {
  const plans: ActionTypePlan[] = [];
  const errors: PlanError[] = [];
  const warnings: PlanWarning[] = [];
  const managed = managedTagKey(input.tagPrefix);
  const byRef = new Map(input.observed.map((type) => [formatTypeRef(type.definition), type]));

  for (const desired of input.desired) {
    const ref = formatTypeRef(desired.definition);
    const address = actionTypeAddress(desired.definition);
    const wantedTags = [...desired.tags, { key: managed, value: 'true' }];
    const live = byRef.get(ref);
    if (!live) {
      plans.push({ address, changes: [{ address, action: 'create', reasons: ['missing'], after: describeDefinition(desired.definition, wantedTags) }], definition: desired.definition, tags: wantedTags });
      continue;
    }
    const differences = definitionDifferences(live.definition, desired.definition);
    if (differences.length) {
      const next = nextVersion(desired.definition.version, [...input.observed.filter((t) => t.definition.category === desired.definition.category && t.definition.provider === desired.definition.provider).map((t) => t.definition.version), ...(input.knownVersions?.(desired.definition.category, desired.definition.provider) ?? [])]);
      errors.push({
        address,
        code: 'plan.immutable-action-type',
        message: `action type ${ref} already exists with a different ${differences.join(', ')}; custom action types cannot be changed in place`,
        hint: `declare the new definition as version "${next}" (and point the pipeline files at it); cpsync then creates ${desired.definition.category}/${desired.definition.provider}/${next}, moves its actions over and deletes ${ref} once nothing uses it`,
      });
      continue;
    }
    const owned = isOwnedActionType(live, input.tagPrefix);
    const tagChanges = diffTags(live.tags, wantedTags, input.tagPrefix);
    if (tagChanges.set.length || tagChanges.remove.length) {
      plans.push({
        address,
        changes: [
          {
            address,
            action: 'tag',
            reasons: owned ? ['tags-changed'] : ['adopt'],
            before: Object.fromEntries(live.tags.map((tag) => [tag.key, tag.value])),
            after: Object.fromEntries(wantedTags.map((tag) => [tag.key, tag.value])),
          },
        ],
        tags: tagChanges.set,
        tagKeysToRemove: tagChanges.remove,
      });
    }
  }

  const declared = new Set(input.desired.map((type) => formatTypeRef(type.definition)));
  for (const live of input.observed) {
    const ref = formatTypeRef(live.definition);
    if (declared.has(ref) || !isOwnedActionType(live, input.tagPrefix)) continue;
    const address = actionTypeAddress(live.definition);
    const users = input.usersAfterApply(ref);
    if (users.length) {
      warnings.push({ address, message: `action type ${ref} is no longer declared, but pipelines still use it: ${users.join(', ')}; it is kept until they no longer do` });
      plans.push({ address, changes: [], blockedBy: users });
      continue;
    }
    plans.push({ address, changes: [{ address, action: 'delete', reasons: ['removed-from-config'], before: describeDefinition(live.definition, live.tags) }] });
  }
  return { plans, errors, warnings };
}

/** The part of each tag set cpsync manages: every tag it declares, and removal of tags it once
 *  declared. Tags under other prefixes or set by hand are left alone unless declared. */
function diffTags(live: readonly Tag[], wanted: readonly Tag[], prefix: string): { set: Tag[]; remove: string[] } {
  const set = wanted.filter((tag) => live.find((candidate) => candidate.key === tag.key)?.value !== tag.value);
  // Only cpsync's own prefixed tags are removed when no longer wanted; hand-made tags stay.
  const remove = live.filter((tag) => tag.key.startsWith(prefix) && !wanted.some((w) => w.key === tag.key)).map((tag) => tag.key);
  return { set, remove };
}

/** Normalizes a definition the way the service compares it (absent booleans are false, empty
 *  settings are no settings, type/description that the service did not report are ignored). */
function comparable(definition: ActionTypeDefinition, reference?: ActionTypeDefinition): Json {
  const settings = Object.fromEntries(Object.entries(definition.settings ?? {}).filter(([, value]) => value !== undefined)) as ActionTypeSettings;
  return {
    category: definition.category,
    provider: definition.provider,
    version: definition.version,
    settings: settings as Json,
    configurationProperties: definition.configurationProperties.map((property, index) => {
      const other: ConfigurationProperty | undefined = reference?.configurationProperties[index];
      return {
        name: property.name,
        required: property.required,
        key: property.key,
        secret: property.secret,
        queryable: property.queryable ?? false,
        // ListActionTypes may leave out type and description; absent there means "not reported".
        ...(property.description !== undefined && (reference === undefined || other?.description !== undefined) ? { description: property.description } : {}),
        ...(property.type !== undefined && (reference === undefined || other?.type !== undefined) ? { type: property.type } : {}),
      };
    }),
    inputArtifactDetails: { ...definition.inputArtifactDetails },
    outputArtifactDetails: { ...definition.outputArtifactDetails },
  };
}

/** Names the fields that differ between the live and the desired definition. Pure. */
export function definitionDifferences(live: ActionTypeDefinition, desired: ActionTypeDefinition): string[] {
  const a = comparable(live, desired) as Record<string, Json>;
  const b = comparable(desired, live) as Record<string, Json>;
  const fields: string[] = [];
  for (const key of Object.keys(b)) {
    if (key === 'configurationProperties') {
      const left = a[key] as Json[];
      const right = b[key] as Json[];
      if (left.length !== right.length) fields.push('configurationProperties (count)');
      else right.forEach((property, index) => {
        const name = (property as Record<string, Json>).name as string;
        const before = left[index] as Record<string, Json>;
        for (const field of Object.keys({ ...before, ...(property as object) })) {
          if (canonicalJson(before[field] ?? null) !== canonicalJson((property as Record<string, Json>)[field] ?? null)) fields.push(`configurationProperties[${name}].${field}`);
        }
      });
    } else if (key === 'settings') {
      const left = a[key] as Record<string, Json>;
      const right = b[key] as Record<string, Json>;
      for (const field of [...new Set([...Object.keys(left), ...Object.keys(right)])].sort()) {
        if (left[field] !== right[field]) fields.push(`settings.${field}`);
      }
    } else if (canonicalJson(a[key] ?? null) !== canonicalJson(b[key] ?? null)) {
      fields.push(key);
    }
  }
  return fields;
}

/** The next version string not in `taken`: numeric versions count up, others get a suffix. Pure. */
export function nextVersion(current: string, taken: readonly string[]): string {
  const used = new Set([current, ...taken]);
  if (/^\d+$/.test(current)) {
    let candidate = Math.max(...[...used].filter((v) => /^\d+$/.test(v)).map(Number)) + 1;
    while (used.has(String(candidate))) candidate++;
    return String(candidate);
  }
  for (let n = 2; ; n++) {
    const candidate = `${current}-${n}`.slice(-9);
    if (!used.has(candidate)) return candidate;
  }
}

function describeDefinition(definition: ActionTypeDefinition, tags: readonly Tag[]): Json {
  return { ...(comparable(definition) as Record<string, Json>), tags: Object.fromEntries(tags.map((tag) => [tag.key, tag.value])) };
}
