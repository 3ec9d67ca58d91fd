// Conditional reads and writes (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since),
// in the precedence RFC 7232 and S3 use: If-Match beats If-Unmodified-Since, If-None-Match beats
// If-Modified-Since.

export type ConditionOutcome = 'proceed' | 'not-modified' | 'precondition-failed';

export interface ConditionHeaders {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly ifUnmodifiedSince?: string;
}

export function decideReadConditions(conditions: ConditionHeaders, etag: string, lastModified: number): ConditionOutcome {
  const seconds = Math.floor(lastModified / 1000) * 1000;
  if (conditions.ifMatch !== undefined) {
    if (!matchesEtag(conditions.ifMatch, etag)) return 'precondition-failed';
  } else if (conditions.ifUnmodifiedSince !== undefined) {
    const since = Date.parse(conditions.ifUnmodifiedSince);
    if (!Number.isNaN(since) && seconds > since) return 'precondition-failed';
  }
  if (conditions.ifNoneMatch !== undefined) {
    if (matchesEtag(conditions.ifNoneMatch, etag)) return 'not-modified';
  } else if (conditions.ifModifiedSince !== undefined) {
    const since = Date.parse(conditions.ifModifiedSince);
    if (!Number.isNaN(since) && seconds <= since) return 'not-modified';
  }
  return 'proceed';
}

/** PutObject and CompleteMultipartUpload with `If-None-Match: *` refuse to overwrite (S3 since 2024). */
export function decideWriteConditions(conditions: ConditionHeaders, existingEtag: string | undefined): ConditionOutcome {
  if (conditions.ifNoneMatch === '*' && existingEtag !== undefined) return 'precondition-failed';
  if (conditions.ifMatch !== undefined && (existingEtag === undefined || !matchesEtag(conditions.ifMatch, existingEtag))) return 'precondition-failed';
  return 'proceed';
}

function matchesEtag(list: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, '');
  return list.split(',').some((item) => {
    const candidate = item.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return candidate === '*' || candidate === bare;
  });
}
