// Which buckets are pipeline artifact stores: those named by the current version of any pipeline,
// in artifactStore or any Region of artifactStores. S3 requires SSE-KMS on writes to them.
import type { Store } from '../store.js';
import { TABLES, type PipelineRecord } from './records.js';

export function artifactStoreBuckets(store: Store): ReadonlySet<string> {
  const buckets = new Set<string>();
  for (const record of store.table<PipelineRecord>(TABLES.pipelines).values()) {
    const declaration = record.versions[record.versions.length - 1]?.declaration;
    if (!declaration) continue;
    const stores = [declaration.artifactStore, ...Object.values((declaration.artifactStores as Record<string, unknown> | undefined) ?? {})];
    for (const candidate of stores) {
      const location = (candidate as { location?: unknown } | undefined)?.location;
      if (typeof location === 'string') buckets.add(location);
    }
  }
  return buckets;
}
