// Copying what a tool produced in the job workspace into the job's output artifact folders, for
// the bundled plugins. Everything copied must stay inside the workspace: a symlink cannot pull
// files from elsewhere on the worker into an artifact.

import { mkdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { JobContext } from '../../src/plugin.js';
import { copyTree } from './copy-tree.js';

/** True when `path` (symlinks resolved) is `root` or inside it. */
export async function isInside(root: string, path: string): Promise<boolean> {
  const rel = relative(await realpath(root), await realpath(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

export type CopyOutputsResult = { readonly ok: true; readonly copied: number } | { readonly ok: false; readonly message: string };

/** Copies each declared `artifact name → workspace path` (a folder's contents, or one file) into
 *  that output artifact's folder. A name the job does not produce is skipped; a path that is
 *  missing or leads outside the workspace is a configuration problem, returned as its message.
 *  `after` ends the "does not exist" message: "… does not exist after the command ran". */
export async function copyDeclaredOutputs(
  ctx: Pick<JobContext<unknown, unknown>, 'workspace' | 'outputs' | 'log'>,
  declared: Readonly<Record<string, string>>,
  after: string,
): Promise<CopyOutputsResult> {
  let copied = 0;
  for (const [name, path] of Object.entries(declared)) {
    const target = ctx.outputs[name];
    if (target === undefined) {
      // The job does not produce this artifact (the action declares fewer outputs): nothing to do.
      ctx.log.debug(`output ${name} is not an output artifact of this action; skipped`);
      continue;
    }
    const source = resolve(ctx.workspace, path);
    let kind: 'file' | 'folder';
    try {
      const stats = await stat(source);
      kind = stats.isDirectory() ? 'folder' : 'file';
    } catch {
      return { ok: false, message: `output ${name}: ${path} does not exist ${after}` };
    }
    if (!(await isInside(ctx.workspace, source))) return { ok: false, message: `output ${name}: ${path} leads outside the job workspace` };
    if ((await realpath(source)) === (await realpath(target))) continue;
    await mkdir(target, { recursive: true });
    // Symlinks are copied as links (not followed), so a link cannot pull files from outside in.
    await copyTree(source, kind === 'folder' ? target : join(target, basename(source)));
    copied += 1;
  }
  return { ok: true, copied };
}

/** Copies files (absolute paths, already checked to be inside the workspace) into `target`,
 *  keeping their paths relative to the deepest folder they share, so distinct files never collide. */
export async function copyFilesKeepingLayout(files: readonly string[], target: string): Promise<void> {
  if (files.length === 0) return;
  const base = commonFolder(files);
  for (const file of files) {
    // A file a tool wrote straight into the output folder is already where it belongs.
    if (file.startsWith(`${target}${sep}`)) continue;
    const destination = join(target, relative(base, file));
    await mkdir(dirname(destination), { recursive: true });
    await copyTree(file, destination);
  }
}

/** The deepest folder holding every one of `files` (absolute paths). Pure. */
export function commonFolder(files: readonly string[]): string {
  const split = files.map((file) => dirname(file).split(sep));
  const first = split[0] ?? [];
  let length = first.length;
  for (const parts of split.slice(1)) {
    let same = 0;
    while (same < length && same < parts.length && parts[same] === first[same]) same += 1;
    length = same;
  }
  return first.slice(0, length).join(sep) || sep;
}
