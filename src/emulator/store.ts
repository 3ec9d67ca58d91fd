// Durable state for the local endpoint: in-memory tables, an append-only journal and a snapshot.
//
// Every change is made inside `transaction()`. The changes of one transaction are appended to the
// journal as a single JSON line and fsync'd before the transaction returns, so a crash either keeps
// the whole transaction or none of it: a torn last line is detected (it does not parse) and
// ignored on load. When the journal grows past a threshold the tables are written to a snapshot
// file (write to a temporary name, fsync, rename) and the journal starts again.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

type Row = unknown;
type Change = { readonly table: string; readonly key: string; readonly value?: Row };

const SNAPSHOT = 'state.json';
const JOURNAL = 'journal.jsonl';
const COMPACT_AFTER_BYTES = 16 * 1024 * 1024;

export interface StoreOptions {
  /** Folder for the snapshot and the journal; undefined keeps everything in memory. */
  readonly dir?: string;
  /** Start empty, discarding anything on disk. */
  readonly reset?: boolean;
  /** fsync after each transaction (default true). Tests of throughput may turn it off. */
  readonly durable?: boolean;
}

export class Store {
  private readonly tables = new Map<string, Map<string, Row>>();
  /** Per table, a number that changes whenever a row is put or deleted (for caches of derived data). */
  private readonly generations = new Map<string, number>();
  private pending: Change[] | undefined;
  private journalFd: number | undefined;
  private journalBytes = 0;
  private readonly dir: string | undefined;
  private readonly durable: boolean;

  constructor(options: StoreOptions = {}) {
    this.dir = options.dir;
    this.durable = options.durable ?? true;
    if (!this.dir) return;
    mkdirSync(this.dir, { recursive: true });
    if (options.reset) {
      rmSync(join(this.dir, SNAPSHOT), { force: true });
      rmSync(join(this.dir, JOURNAL), { force: true });
    }
    this.load();
    this.journalFd = openSync(join(this.dir, JOURNAL), 'a');
  }

  /** A table's rows, for reading. Mutate only through put/delete inside a transaction. */
  table<T>(name: string): ReadonlyMap<string, T> {
    return this.tableFor(name) as Map<string, T>;
  }

  get<T>(table: string, key: string): T | undefined {
    return this.tableFor(table).get(key) as T | undefined;
  }

  put<T>(table: string, key: string, value: T): void {
    this.requireTransaction();
    this.tableFor(table).set(key, value);
    this.bump(table);
    this.pending!.push({ table, key, value });
  }

  delete(table: string, key: string): void {
    this.requireTransaction();
    this.tableFor(table).delete(key);
    this.bump(table);
    this.pending!.push({ table, key });
  }

  /** Changes whenever a row of the table is put or deleted: what was derived from the table at one
   *  generation is still valid while the generation is the same. Rows are never mutated in place. */
  generation(table: string): number {
    return this.generations.get(table) ?? 0;
  }

  /** Runs `work` and makes its changes durable as one unit. Nested calls join the outer one. */
  transaction<T>(work: () => T): T {
    if (this.pending) return work();
    this.pending = [];
    try {
      const result = work();
      this.commit(this.pending);
      return result;
    } finally {
      this.pending = undefined;
    }
  }

  close(): void {
    if (this.journalFd !== undefined) {
      closeSync(this.journalFd);
      this.journalFd = undefined;
    }
  }

  private requireTransaction(): void {
    if (!this.pending) throw new Error('store writes must happen inside transaction()');
  }

  private bump(table: string): void {
    this.generations.set(table, this.generation(table) + 1);
  }

  private tableFor(name: string): Map<string, Row> {
    let table = this.tables.get(name);
    if (!table) {
      table = new Map();
      this.tables.set(name, table);
    }
    return table;
  }

  private commit(changes: readonly Change[]): void {
    if (!changes.length || this.journalFd === undefined) return;
    const line = `${JSON.stringify(changes)}\n`;
    writeSync(this.journalFd, line);
    if (this.durable) fsyncSync(this.journalFd);
    this.journalBytes += Buffer.byteLength(line);
    if (this.journalBytes > COMPACT_AFTER_BYTES) this.compact();
  }

  private load(): void {
    const dir = this.dir as string;
    const snapshotPath = join(dir, SNAPSHOT);
    if (existsSync(snapshotPath)) {
      const snapshot = JSON.parse(readFileSync(snapshotPath, 'utf8')) as Record<string, Record<string, Row>>;
      for (const [name, rows] of Object.entries(snapshot)) this.tables.set(name, new Map(Object.entries(rows)));
    }
    const journalPath = join(dir, JOURNAL);
    if (!existsSync(journalPath)) return;
    const bytes = readFileSync(journalPath);
    let goodBytes = 0;
    while (goodBytes < bytes.length) {
      const newline = bytes.indexOf(0x0a, goodBytes);
      const end = newline === -1 ? bytes.length : newline;
      const line = bytes.subarray(goodBytes, end).toString('utf8');
      if (line.trim()) {
        let changes: Change[];
        try {
          changes = JSON.parse(line) as Change[];
        } catch {
          // A crash mid-append leaves a torn final line: that transaction never committed.
          break;
        }
        for (const change of changes) {
          if ('value' in change) this.tableFor(change.table).set(change.key, change.value);
          else this.tableFor(change.table).delete(change.key);
        }
      }
      goodBytes = newline === -1 ? bytes.length : newline + 1;
    }
    // Cut a torn tail off (and end a complete last line that lost its newline): otherwise the
    // next append lands behind it and is lost with it on the following load.
    const kept = bytes.subarray(0, goodBytes);
    const needsNewline = kept.length > 0 && kept[kept.length - 1] !== 0x0a;
    if (goodBytes < bytes.length || needsNewline) {
      const fd = openSync(journalPath, 'w');
      writeSync(fd, needsNewline ? Buffer.concat([kept, Buffer.from('\n')]) : kept);
      fsyncSync(fd);
      closeSync(fd);
    }
    this.journalBytes = kept.length + (needsNewline ? 1 : 0);
  }

  /** Folds the journal into a new snapshot. */
  compact(): void {
    if (!this.dir) return;
    const snapshot: Record<string, Record<string, Row>> = {};
    for (const [name, rows] of this.tables) snapshot[name] = Object.fromEntries(rows);
    const temporary = join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = openSync(temporary, 'w');
    writeSync(fd, JSON.stringify(snapshot));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, join(this.dir, SNAPSHOT));
    if (this.journalFd !== undefined) closeSync(this.journalFd);
    this.journalFd = openSync(join(this.dir, JOURNAL), 'w');
    this.journalBytes = 0;
  }
}
