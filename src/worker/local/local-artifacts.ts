// The local stand-ins for the artifact transfer: inputs come from folders or ZIP files on disk
// instead of S3, outputs go to a folder instead of S3. The worker's own pieces do the work, so a
// plugin meets the same rules as in a pipeline: ZIP inputs pass the worker's safe extraction, and
// outputs are listed with the worker's archive rules (escaping symlinks, FIFOs and sockets are
// refused) and, with --zip, zipped with the worker's deterministic zipDirectory.

import { createWriteStream } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extractZip } from '../artifacts/extract.js';
import { listTree, zipDirectory } from '../artifacts/zip.js';
import { DEFAULT_EXTRACT_LIMITS } from '../types.js';
import type { LocalInput } from './plan-local-job.js';

export interface ArtifactCount {
  readonly files: number;
  readonly bytes: number;
}

export interface CollectedOutput extends ArtifactCount {
  readonly name: string;
  /** The folder holding the artifact's files. */
  readonly directory: string;
  /** The ZIP the worker would upload, with --zip. */
  readonly zip?: string;
}

async function countTree(directory: string, artifact: string): Promise<ArtifactCount> {
  const entries = await listTree(directory, artifact);
  return { files: entries.filter((entry) => entry.kind !== 'directory').length, bytes: entries.reduce((sum, entry) => sum + entry.size, 0) };
}

/** Fills an input artifact's workspace folder from a local folder (copied, symlinks as links) or a ZIP. */
export async function stageInput(input: LocalInput, directory: string, signal: AbortSignal): Promise<ArtifactCount> {
  if (input.kind === 'zip') return extractZip(input.path, directory, { artifact: input.name, limits: DEFAULT_EXTRACT_LIMITS, signal });
  await cp(input.path, directory, { recursive: true, verbatimSymlinks: true, force: true, preserveTimestamps: true });
  return countTree(directory, input.name);
}

/** Copies an output artifact's workspace folder to `<outputDir>/<name>/` (and `<name>.zip`). */
export async function collectOutput(name: string, workspaceDir: string, outputDir: string, zip: boolean): Promise<CollectedOutput> {
  // The worker's listing first: what it would refuse to zip is refused here too.
  const count = await countTree(workspaceDir, name);
  const directory = join(outputDir, name);
  await mkdir(directory, { recursive: true });
  await cp(workspaceDir, directory, { recursive: true, verbatimSymlinks: true, force: true, preserveTimestamps: true });
  if (!zip) return { name, directory, ...count };
  const file = join(outputDir, `${name}.zip`);
  const archive = await zipDirectory(workspaceDir, name);
  await pipeline(archive.stream, createWriteStream(file));
  return { name, directory, zip: file, ...count };
}
