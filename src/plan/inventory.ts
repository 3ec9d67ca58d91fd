// What cpsync owns inside a pipeline, recorded on the pipeline itself so that a fresh CI runner
// with no local state knows it. Stages and actions have no metadata slot in CodePipeline, so the
// record lives in the pipeline's tags: compact JSON, deflated, base64-encoded and split over as
// many `<prefix>owned:<n>` tags as needed (a tag value holds at most 256 characters, and base64's
// alphabet is within what AWS tag values allow). Pure.

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Tag } from '../model/action-type.js';

export interface OwnedItem {
  /** Digest of the declaration cpsync last wrote, secret values included (see plan docs). */
  readonly hash: string;
}

export interface OwnedRewire extends OwnedItem {
  /** The action's input artifacts before cpsync rewired it, restored when the rewire is removed. */
  readonly from: readonly string[];
}

export interface Inventory {
  /** Stages cpsync inserted, by name. */
  readonly stages: Readonly<Record<string, OwnedItem>>;
  /** Actions cpsync added to stages it does not own, by `Stage/Action`. */
  readonly actions: Readonly<Record<string, OwnedItem>>;
  /** Actions cpsync rewired, by `Stage/Action`. */
  readonly rewires: Readonly<Record<string, OwnedRewire>>;
}

export const EMPTY_INVENTORY: Inventory = { stages: {}, actions: {}, rewires: {} };

const FORMAT_VERSION = 1;
const TAG_VALUE_MAX = 256;

export function inventoryTagKey(prefix: string, index: number): string {
  return `${prefix}owned:${index}`;
}

export function isInventoryTag(prefix: string, key: string): boolean {
  return key.startsWith(`${prefix}owned:`) && /^\d+$/.test(key.slice(`${prefix}owned:`.length));
}

export function isEmptyInventory(inventory: Inventory): boolean {
  return !Object.keys(inventory.stages).length && !Object.keys(inventory.actions).length && !Object.keys(inventory.rewires).length;
}

/** The tags that record `inventory` (none for an empty one). */
export function encodeInventory(prefix: string, inventory: Inventory): Tag[] {
  if (isEmptyInventory(inventory)) return [];
  const compact = {
    v: FORMAT_VERSION,
    s: mapValues(inventory.stages, (item) => item.hash),
    a: mapValues(inventory.actions, (item) => item.hash),
    r: mapValues(inventory.rewires, (item) => [item.hash, ...item.from]),
  };
  const text = deflateRawSync(Buffer.from(JSON.stringify(compact))).toString('base64');
  const tags: Tag[] = [];
  for (let offset = 0, index = 0; offset < text.length; offset += TAG_VALUE_MAX, index++) {
    tags.push({ key: inventoryTagKey(prefix, index), value: text.slice(offset, offset + TAG_VALUE_MAX) });
  }
  return tags;
}

export type DecodedInventory = { readonly ok: true; readonly inventory: Inventory } | { readonly ok: false; readonly reason: string };

/** Reads the inventory from a resource's tags. Missing tags mean "owns nothing". */
export function decodeInventory(prefix: string, tags: readonly Tag[]): DecodedInventory {
  const chunks = tags
    .filter((tag) => isInventoryTag(prefix, tag.key))
    .map((tag) => ({ index: Number(tag.key.slice(`${prefix}owned:`.length)), value: tag.value }))
    .sort((a, b) => a.index - b.index);
  if (!chunks.length) return { ok: true, inventory: EMPTY_INVENTORY };
  if (chunks.some((chunk, position) => chunk.index !== position)) {
    return { ok: false, reason: `the ${prefix}owned:<n> tags are not numbered 0..${chunks.length - 1} (some were removed by hand)` };
  }
  try {
    const compact = JSON.parse(inflateRawSync(Buffer.from(chunks.map((chunk) => chunk.value).join(''), 'base64')).toString('utf8')) as {
      v: number;
      s: Record<string, string>;
      a: Record<string, string>;
      r: Record<string, string[]>;
    };
    if (compact.v !== FORMAT_VERSION) return { ok: false, reason: `the ownership record has format version ${compact.v}; this cpsync reads version ${FORMAT_VERSION}` };
    return {
      ok: true,
      inventory: {
        stages: mapValues(compact.s ?? {}, (hash) => ({ hash })),
        actions: mapValues(compact.a ?? {}, (hash) => ({ hash })),
        rewires: mapValues(compact.r ?? {}, ([hash, ...from]) => ({ hash: hash ?? '', from })),
      },
    };
  } catch {
    return { ok: false, reason: `the ${prefix}owned:<n> tags do not decode (they were edited by hand)` };
  }
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
