// The words, symbols and value formatting the plan renderers share, so the terminal and the
// pull-request comment describe a change the same way. Pure.

import { isObject, nameOf, SECRET_MASK, type Json, type JsonObject } from '../model/pipeline.js';
import { SENSITIVE } from '../plan/plan-pipeline.js';
import type { Change, ChangeAction, ChangeReason, PlanSummary } from '../plan/types.js';

/** What a renderer may meet: every ChangeAction, plus `replace`, which the model does not produce
 *  yet (custom action types are never replaced; see plan-action-types.ts) but renderers support. */
export type RenderedAction = ChangeAction | 'replace';

export const ACTION_SYMBOLS = {
  create: '+',
  update: '~',
  tag: '~',
  delete: '-',
  replace: '-/+',
  'no-op': ' ',
} as const satisfies Record<RenderedAction, string>;

export const ACTION_VERBS = {
  create: 'create',
  update: 'update in place',
  tag: 'update tags',
  delete: 'delete',
  replace: 'delete, then create',
  'no-op': 'no change',
} as const satisfies Record<RenderedAction, string>;

/** One short phrase per reason code. `satisfies` makes a new code a compile error until it has words. */
export const REASON_PHRASES = {
  missing: 'not in the account',
  'config-changed': 'the declaration changed',
  'secret-changed': 'a secret value changed (sensitive)',
  'owned-drift': 'edited outside cpsync; apply restores the declaration',
  'owned-removed-outside': 'deleted outside cpsync; apply puts it back',
  moved: 'not at its declared place; apply moves it back',
  'removed-from-config': 'no longer declared',
  'version-rollout': 'its actions move to a new version of their action type',
  'tags-changed': 'tags differ from the declaration',
  adopt: 'adopted: marked as owned',
  'unused-old-version': 'an old version nothing declares or uses any more',
} as const satisfies Record<ChangeReason, string>;

/** Rewires change an action cpsync does not own, so some reasons read differently there. */
const REWIRE_PHRASES: Partial<Record<ChangeReason, string>> = {
  missing: 'inputs not rewired yet',
  'owned-drift': 'inputs edited outside cpsync; apply restores the declared inputs',
  'removed-from-config': 'rewire no longer declared; apply restores the original inputs',
};

export type AddressKind = 'action-type' | 'pipeline' | 'stage' | 'action' | 'rewire' | 'other';

/** What an address names, from the canonical forms in plan/types.ts. */
export function addressKind(address: string): AddressKind {
  if (address.startsWith('action-type:')) return 'action-type';
  if (/^pipeline:[^/]+\/rewire:/.test(address)) return 'rewire';
  if (/^pipeline:[^/]+\/stage:[^/]+\/action:/.test(address)) return 'action';
  if (/^pipeline:[^/]+\/stage:/.test(address)) return 'stage';
  if (/^pipeline:[^/]+$/.test(address)) return 'pipeline';
  return 'other';
}

export function reasonPhrase(reason: ChangeReason, change: Pick<Change, 'address'>): string {
  if (addressKind(change.address) === 'rewire') {
    const phrase = REWIRE_PHRASES[reason];
    if (phrase) return phrase;
  }
  // An unknown code (a newer plan file) is shown as its code rather than dropped.
  return (REASON_PHRASES as Record<string, string>)[reason] ?? reason;
}

/** One phrase per reason (phrases may contain `;`, so renderers list them rather than join them). */
export function describeReasons(change: Pick<Change, 'address' | 'reasons'>): string[] {
  return change.reasons.map((reason) => reasonPhrase(reason, change));
}

export function plural(count: number, word: string, words = `${word}s`): string {
  return `${count} ${count === 1 ? word : words}`;
}

export function hasChanges(summary: PlanSummary): boolean {
  return summary.create + summary.update + summary.delete > 0;
}

/** `Plan: 2 to create, 1 to update, 0 to delete.` (Terraform's footer, in cpsync's verbs). */
export function describeCounts(summary: PlanSummary): string {
  return `${summary.create} to create, ${summary.update} to update, ${summary.delete} to delete`;
}

/** The closing lines of a plan: what would change, and what cannot be applied. */
export function describeSummary(summary: PlanSummary, targets = 1): string[] {
  const lines: string[] = [];
  if (hasChanges(summary) || summary.errors > 0) lines.push(`Plan: ${describeCounts(summary)}.`);
  else lines.push(targets > 1 ? 'No changes. The accounts match the configuration.' : 'No changes. The account matches the configuration.');
  if (summary.errors > 0) lines.push(`${plural(summary.errors, 'error')}: nothing is applied for the items with errors.`);
  return lines;
}

/** `+MyBuildStage` / `-Old` / `Name` as planned in PipelinePlan.stagesAfter. */
export function parseStageMark(entry: string): { readonly mark: '+' | '-' | ''; readonly name: string } {
  if (entry.startsWith('+')) return { mark: '+', name: entry.slice(1) };
  if (entry.startsWith('-')) return { mark: '-', name: entry.slice(1) };
  return { mark: '', name: entry };
}

/** Whether the stages that stay changed their order (a moved stage), beyond insertions and removals. */
export function stageOrderChanged(before: readonly string[], after: readonly string[]): boolean {
  const kept = after.map(parseStageMark).filter((entry) => entry.mark === '').map((entry) => entry.name);
  const survivors = before.filter((name) => kept.includes(name));
  return survivors.join('\u0000') !== kept.join('\u0000');
}

// ----------------------------------------------------------------------------------------------
// Values, always as found in the plan (masked secrets stay masked).

/** Artifact names from `[{ name }]` (a declaration) or `[name]` (a rewire); `(none)` when empty. */
export function artifactList(value: Json | undefined): string {
  const names = Array.isArray(value) ? value.map((item) => (isObject(item) ? nameOf(item) : typeof item === 'string' ? item : formatValue(item))) : [];
  return names.length ? names.join(', ') : '(none)';
}

/** A value in one line: strings quoted, masked secrets as (sensitive), named lists by their names. */
export function formatValue(value: Json): string {
  if (value === SENSITIVE || value === SECRET_MASK) return SENSITIVE;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value) && value.length && value.every((item) => isObject(item) && typeof item.name === 'string')) {
    return `[${value.map((item) => nameOf(item as JsonObject)).join(', ')}]`;
  }
  return JSON.stringify(value, (_key, inner: unknown) => (inner === SECRET_MASK ? SENSITIVE : inner));
}

/** Finds a changedPaths path (`actions[Build].configuration.ProjectName`) in a value. Keys may
 *  contain dots, so the longest matching key wins. */
export function resolvePath(root: Json | undefined, path: string): { found: boolean; value: Json } {
  if (root === undefined) return { found: false, value: null };
  if (path === '(root)') return { found: true, value: root };
  let value: Json = root;
  let rest = path;
  while (rest.length) {
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      const name = rest.slice(1, end);
      const item: Json | undefined = Array.isArray(value) ? value.find((candidate) => isObject(candidate) && candidate.name === name) : undefined;
      if (end === -1 || item === undefined) return { found: false, value: null };
      value = item;
      rest = rest.slice(end + 1);
    } else {
      if (!isObject(value)) return { found: false, value: null };
      const current: JsonObject = value;
      const key = Object.keys(current)
        .sort((a, b) => b.length - a.length)
        .find((candidate) => rest === candidate || rest.startsWith(`${candidate}.`) || rest.startsWith(`${candidate}[`));
      if (key === undefined) return { found: false, value: null };
      value = current[key] as Json;
      rest = rest.slice(key.length);
    }
    if (rest.startsWith('.')) rest = rest.slice(1);
  }
  return { found: true, value };
}

/** Each changed path with its value before → after (one value when both read the same, as two
 *  masked secrets do). A rewire's before/after are the input artifact names themselves. */
export function changedValues(change: Pick<Change, 'address' | 'before' | 'after' | 'changedPaths'>): { readonly path: string; readonly text: string }[] {
  if (addressKind(change.address) === 'rewire') return [{ path: 'inputArtifacts', text: `${artifactList(change.before)} → ${artifactList(change.after)}` }];
  return (change.changedPaths ?? []).map((path) => {
    const before = resolvePath(change.before, path);
    const after = resolvePath(change.after, path);
    const left = before.found ? formatValue(before.value) : '(none)';
    const right = after.found ? formatValue(after.value) : '(none)';
    return { path, text: left === right ? left : `${left} → ${right}` };
  });
}
