// What pure rule functions return: a problem located by a path inside the object they checked.
// Callers turn findings into file:line:column problems (validate) or AWS errors (the endpoint).

export type PathSegment = string | number;

export interface Finding {
  readonly code: string;
  readonly path: readonly PathSegment[];
  /** Point at the mapping key instead of its value (for "unknown key" style findings). */
  readonly target?: 'value' | 'key';
  readonly message: string;
  readonly hint?: string;
  readonly severity?: 'error' | 'warning';
}

export function prefixFindings(prefix: readonly PathSegment[], findings: readonly Finding[]): Finding[] {
  return findings.map((finding) => ({ ...finding, path: [...prefix, ...finding.path] }));
}
