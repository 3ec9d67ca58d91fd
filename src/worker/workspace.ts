// A job's workspace: <workDir>/jobs/<jobId>/ with inputs/<Name>/, outputs/<Name>/, home/ and tmp/.
// Created fresh for each job and removed afterwards (unless --keep-workspaces).

import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface Workspace {
  readonly root: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, string>>;
  readonly home: string;
  readonly tmp: string;
}

export function workspacePath(workDir: string, jobId: string): string {
  return join(workDir, 'jobs', jobId.replace(/[^A-Za-z0-9-]/g, '_'));
}

export async function createWorkspace(workDir: string, jobId: string, inputNames: readonly string[], outputNames: readonly string[]): Promise<Workspace> {
  const root = workspacePath(workDir, jobId);
  // A leftover from a crashed run of the same job must not leak into this one (rare, and maybe
  // large: removed on the thread pool).
  if (lstatSync(root, { throwIfNoEntry: false })) await rm(root, { recursive: true, force: true });
  const inputs = Object.fromEntries(inputNames.map((name) => [name, join(root, 'inputs', name)]));
  const outputs = Object.fromEntries(outputNames.map((name) => [name, join(root, 'outputs', name)]));
  const home = join(root, 'home');
  const tmp = join(root, 'tmp');
  // A handful of folders: direct calls cost less than a thread-pool round trip each.
  for (const dir of [...Object.values(inputs), ...Object.values(outputs), home, tmp]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { root, inputs, outputs, home, tmp };
}

export async function removeWorkspace(workDir: string, jobId: string): Promise<void> {
  await rm(workspacePath(workDir, jobId), { recursive: true, force: true, maxRetries: 2 });
}

/** True when the folder is missing or holds nothing. */
export async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return readdirSync(dir).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return true;
    throw error;
  }
}
