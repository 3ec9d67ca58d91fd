// Derived data and idempotent passes over the store, redone only when the tables they read have
// changed. Every job call brings the state up to date first (catch-up) and looks for queued jobs;
// scanning every execution and job for that on each poll made the cost of a poll grow with the
// history. Rows are replaced, never mutated, so a table's generation number says whether anything
// derived from it is still current (see Store.generation).

import type { Store } from './store.js';

interface Memo {
  generations: readonly number[];
  value: unknown;
}

const memos = new WeakMap<Store, Map<string, Memo>>();

function generationsOf(store: Store, tables: readonly string[]): number[] {
  return tables.map((table) => store.generation(table));
}

function sameGenerations(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function memosOf(store: Store): Map<string, Memo> {
  let map = memos.get(store);
  if (!map) {
    map = new Map();
    memos.set(store, map);
  }
  return map;
}

/** `derive()`'s result, recomputed only when one of `tables` changed since it was computed. */
export function derivedFrom<T>(store: Store, name: string, tables: readonly string[], derive: () => T): T {
  const map = memosOf(store);
  const memo = map.get(name);
  const now = generationsOf(store, tables);
  if (memo && sameGenerations(memo.generations, now)) return memo.value as T;
  const value = derive();
  // The generations from before deriving: had `derive` written to the tables, the next call derives again.
  map.set(name, { generations: now, value });
  return value;
}

/** Runs an idempotent pass (one that, run twice on the same tables, does nothing the second time)
 *  unless none of `tables` changed since it last ran. What the pass writes itself counts as seen. */
export function unlessUnchanged(store: Store, name: string, tables: readonly string[], pass: () => void): void {
  const map = memosOf(store);
  const memo = map.get(name);
  if (memo && sameGenerations(memo.generations, generationsOf(store, tables))) return;
  pass();
  map.set(name, { generations: generationsOf(store, tables), value: undefined });
}
