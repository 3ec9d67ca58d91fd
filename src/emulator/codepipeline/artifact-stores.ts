// Which buckets are pipeline artifact stores. (Being written: see the helper brief.)
import type { Store } from '../store.js';

export function artifactStoreBuckets(_store: Store): ReadonlySet<string> {
  return new Set();
}
