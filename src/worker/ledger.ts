// The job ledger: one small JSON file per acknowledged job under <workDir>/ledger/, written just
// before the acknowledgement, so a worker that dies still reports every job it took. Written with
// write-then-rename and fsync, so a file is either the old entry or the new one, never half of
// each. It holds no credentials and no nonces; a computed result is stored already redacted,
// exactly as it will be sent.

import { hostname } from 'node:os';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FailureResult, SuccessResult } from './types.js';

export type PendingResult = { readonly kind: 'success'; readonly result: SuccessResult } | { readonly kind: 'failure'; readonly result: FailureResult };

export interface LedgerEntry {
  readonly version: 1;
  readonly jobId: string;
  /** `Category/Provider/Version`. */
  readonly actionType: string;
  readonly pipeline: string;
  readonly stage: string;
  readonly action: string;
  /** When the worker acknowledged the job: the entry is written just before AcknowledgeJob (and
   *  removed when the acknowledgement fails), so an acknowledged job always has one. */
  readonly acknowledgedAt: string;
  readonly pid: number;
  readonly host: string;
  readonly state: 'running' | 'result-computed' | 'reported';
  readonly result?: PendingResult;
  /** What to report if this worker dies while the job is running, decided before acknowledging:
   *  set when nothing local would be lost (a hand-back, a refusal, an async plugin's resume), so
   *  whoever recovers the entry carries on as this worker would have. */
  readonly fallback?: PendingResult;
}

const FILE = /^([A-Za-z0-9-]+)\.json$/;

// Temporary files this process is writing right now (full paths), across Ledger instances: list()
// runs while jobs write (the periodic check for stopped siblings), and must not take a file from
// under its own rename.
const writing = new Set<string>();
let sequence = 0;

export class Ledger {
  readonly dir: string;
  private ready: Promise<void> | undefined;

  constructor(workDir: string) {
    this.dir = join(workDir, 'ledger');
  }

  private ensure(): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    return this.ready;
  }

  async write(entry: LedgerEntry): Promise<void> {
    await this.ensure();
    const target = join(this.dir, `${safeId(entry.jobId)}.json`);
    const temporary = join(this.dir, `.${safeId(entry.jobId)}.${process.pid}.${Date.now()}.${++sequence}.tmp`);
    writing.add(temporary);
    try {
      const handle = await open(temporary, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(entry)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
    } finally {
      writing.delete(temporary);
    }
    await syncDir(this.dir);
  }

  async remove(jobId: string): Promise<void> {
    await rm(join(this.dir, `${safeId(jobId)}.json`), { force: true });
  }

  /** Every readable entry; stray temporary files of a crashed writer are removed. */
  async list(): Promise<LedgerEntry[]> {
    await this.ensure();
    const entries: LedgerEntry[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (name.endsWith('.tmp')) {
        // `.<jobId>.<pid>.<ms>.<n>.tmp`: a live sibling's file is mid-write; so is one of ours that
        // is still in `writing` (a file of ours outside it is from an earlier process with our pid).
        const path = join(this.dir, name);
        const pid = Number(name.split('.')[2]);
        if (pid === process.pid ? !writing.has(path) : !isAlive(pid)) await rm(path, { force: true });
        continue;
      }
      if (!FILE.test(name)) continue;
      try {
        const entry = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as LedgerEntry;
        if (entry.version === 1 && typeof entry.jobId === 'string') entries.push(entry);
      } catch {
        // A file is renamed into place only once complete, so this is someone else's file.
      }
    }
    return entries;
  }
}

/** Whether another live worker process on this host owns the entry (a shared work folder). */
export function ownedByLiveWorker(entry: LedgerEntry, host = hostname()): boolean {
  return entry.host === host && entry.pid !== process.pid && isAlive(entry.pid);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeId(jobId: string): string {
  return jobId.replace(/[^A-Za-z0-9-]/g, '_');
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a folder; the rename is still atomic.
  }
}
