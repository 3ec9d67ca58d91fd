// Finding report files by glob inside the job workspace. Node 20 has no `fs.glob`, and the subset
// needed here is small: `**` as a whole segment, `*`, `?`, `[abc]`, `[!abc]` and `{a,b}`. Matching
// is pure (`globToRegExp`); the walk is bounded (files matched, entries visited) and never follows
// a symlink, so a report glob cannot leave the workspace or loop.

import { lstat, opendir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';

export interface FindLimits {
  /** At most this many files may match (the reader would refuse more anyway). */
  readonly maxFiles: number;
  /** Folder entries looked at while walking, over all globs. */
  readonly maxVisited: number;
}

export const DEFAULT_FIND_LIMITS: FindLimits = { maxFiles: 1000, maxVisited: 100_000 };

export interface FoundFile {
  /** Absolute path. */
  readonly path: string;
  /** Relative to the workspace, with `/`. */
  readonly relativePath: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

export class FindError extends Error {
  override readonly name = 'FindError';
}

const MAGIC = /[*?[{]/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** One path segment's pattern as a regular expression source (never matching `/`). */
function segmentSource(segment: string): string {
  let source = '';
  let inBraces = false;
  for (let index = 0; index < segment.length; index += 1) {
    const char = segment[index] as string;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = segment.indexOf(']', index + 2);
      if (end === -1) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(index + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      index = end;
    } else if (char === '{' && !inBraces && segment.indexOf('}', index) !== -1) {
      inBraces = true;
      source += '(?:';
    } else if (char === ',' && inBraces) source += '|';
    else if (char === '}' && inBraces) {
      inBraces = false;
      source += ')';
    } else source += escapeRegExp(char);
  }
  return source;
}

/** The regular expression for a glob over `/`-separated relative paths. Pure. */
export function globToRegExp(glob: string): RegExp {
  const segments = glob.split('/').filter((segment, index) => segment !== '' && !(segment === '.' && index === 0));
  let source = '^';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') source += last ? '.*' : '(?:[^/]+/)*';
    else source += segmentSource(segment) + (last ? '' : '/');
  });
  return new RegExp(`${source}$`);
}

/** The folder a glob's matches all live under (its leading segments without wildcards) and how
 *  many segments deeper a match can be (Infinity with `**`). Pure. */
export function planGlobWalk(glob: string): { readonly base: string; readonly depth: number } {
  const segments = glob.split('/').filter((segment, index) => segment !== '' && !(segment === '.' && index === 0));
  const firstMagic = segments.findIndex((segment) => MAGIC.test(segment));
  const baseSegments = firstMagic === -1 ? segments.slice(0, -1) : segments.slice(0, firstMagic);
  const rest = segments.slice(baseSegments.length);
  return { base: baseSegments.join('/'), depth: rest.includes('**') ? Number.POSITIVE_INFINITY : rest.length };
}

async function isInsideReal(root: string, path: string): Promise<boolean> {
  const rel = relative(root, await realpath(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The regular files (not symlinks) in `workspace` that match any of `globs`, sorted by path.
 *  Throws FindError when a limit is reached. */
export async function findFiles(workspace: string, globs: readonly string[], limits: FindLimits = DEFAULT_FIND_LIMITS): Promise<FoundFile[]> {
  const root = await realpath(workspace);
  const found = new Map<string, FoundFile>();
  let visited = 0;
  for (const glob of globs) {
    const pattern = globToRegExp(glob);
    const { base, depth } = planGlobWalk(glob);
    const start = join(root, base);
    try {
      if (!(await lstat(start)).isDirectory() || !(await isInsideReal(root, start))) continue;
    } catch {
      continue;
    }
    const walk = async (folder: string, level: number): Promise<void> => {
      let handle;
      try {
        handle = await opendir(folder);
      } catch {
        return;
      }
      for await (const entry of handle) {
        visited += 1;
        if (visited > limits.maxVisited) throw new FindError(`looking for ${globs.join(', ')} visited more than ${limits.maxVisited} files and folders; make the globs more specific`);
        const path = join(folder, entry.name);
        if (entry.isDirectory()) {
          if (level + 1 < depth) await walk(path, level + 1);
        } else if (entry.isFile()) {
          const relativePath = relative(root, path).split(sep).join('/');
          if (!found.has(path) && pattern.test(relativePath)) {
            if (found.size >= limits.maxFiles) throw new FindError(`${globs.join(', ')} match more than ${limits.maxFiles} files; make the globs more specific`);
            const stats = await lstat(path);
            found.set(path, { path, relativePath, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs });
          }
        }
      }
    };
    await walk(start, 0);
  }
  return [...found.values()].sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}

/** The files of `after` that are new or changed since `before` (a rewritten file gets new times). */
export function selectWrittenFiles(before: readonly FoundFile[], after: readonly FoundFile[]): { readonly written: FoundFile[]; readonly stale: FoundFile[] } {
  const earlier = new Map(before.map((file) => [file.path, file]));
  const written: FoundFile[] = [];
  const stale: FoundFile[] = [];
  for (const file of after) {
    const old = earlier.get(file.path);
    if (old && old.mtimeMs === file.mtimeMs && old.ctimeMs === file.ctimeMs && old.size === file.size) stale.push(file);
    else written.push(file);
  }
  return { written, stale };
}
