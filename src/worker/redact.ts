// Secret redaction for everything a job prints or reports. The worker registers every value it must
// not show (secret configuration values, tokens it holds); each occurrence becomes `***`. Tool
// output arrives in chunks that can cut a secret in two, so streamed text is redacted a whole line
// at a time (`createLineSplitter`), never chunk by chunk.

import { StringDecoder } from 'node:string_decoder';

export const REDACTED = '***';

export interface Redactor {
  /** Registers a value to hide from now on. Empty values are ignored. */
  add(value: string): void;
  /** The text with every registered value replaced by `***`. */
  redact(text: string): string;
  /** Length of the longest registered value (0 when none): how much text a split secret can span. */
  readonly longest: number;
  /** Where registered values occur in `text`, as [start, end) ranges, leftmost-longest, not overlapping. */
  matches(text: string): [number, number][];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Values worth hiding: the value itself, and the lines of a multi-line value (a PEM key printed
 *  line by line must not survive just because the lines arrive one at a time). */
function variantsOf(value: string): string[] {
  if (!value) return [];
  const variants = [value];
  if (value.includes('\n')) {
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) variants.push(line);
  }
  return variants;
}

export function createRedactor(values: Iterable<string> = []): Redactor {
  const secrets = new Set<string>();
  let pattern: RegExp | undefined;

  const rebuild = () => {
    // Longest first, so a secret that contains another is hidden whole.
    const sorted = [...secrets].sort((a, b) => b.length - a.length);
    pattern = sorted.length ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : undefined;
  };

  const redactor: Redactor = {
    add(value: string) {
      let changed = false;
      for (const variant of variantsOf(value)) {
        if (!secrets.has(variant)) {
          secrets.add(variant);
          changed = true;
        }
      }
      if (changed) rebuild();
    },
    redact(text: string) {
      return pattern ? text.replace(pattern, REDACTED) : text;
    },
    get longest() {
      let longest = 0;
      for (const secret of secrets) longest = Math.max(longest, secret.length);
      return longest;
    },
    matches(text: string) {
      if (!pattern) return [];
      const ranges: [number, number][] = [];
      pattern.lastIndex = 0;
      for (let match = pattern.exec(text); match; match = pattern.exec(text)) ranges.push([match.index, match.index + match[0].length]);
      return ranges;
    },
  };
  for (const value of values) redactor.add(value);
  return redactor;
}

/** Replaces the workspace's absolute path with `.` so messages sent to CodePipeline do not reveal
 *  the worker's folder layout (and read the same on every host). Pure. */
export function stripWorkspacePaths(text: string, workspace: string): string {
  if (!workspace || workspace === '/') return text;
  const trimmed = workspace.replace(/\/+$/, '');
  return text.split(`${trimmed}/`).join('./').split(trimmed).join('.');
}

export interface LineSplitterOptions {
  readonly redactor: Redactor;
  /** Called with each complete line, already redacted, without its line break. */
  readonly onLine: (line: string) => void;
  /** A line longer than this many characters is emitted in pieces (memory stays bounded). */
  readonly maxLineLength?: number;
}

export interface LineSplitter {
  write(chunk: Buffer | string): void;
  /** Emits what is left (a last line without a line break). */
  end(): void;
}

/** Turns a byte stream into redacted lines. UTF-8 characters cut between chunks are kept whole, and
 *  so are secrets: text is only redacted once its line is complete. A line too long to keep is cut,
 *  but never inside a secret and never so close to the end that a secret still arriving could be
 *  split. */
export function createLineSplitter(options: LineSplitterOptions): LineSplitter {
  const maxLineLength = options.maxLineLength ?? 64 * 1024;
  const decoder = new StringDecoder('utf8');
  let pending = '';

  const emit = (line: string) => options.onLine(options.redactor.redact(line.endsWith('\r') ? line.slice(0, -1) : line));

  const cutLongLine = () => {
    while (pending.length > maxLineLength) {
      // A secret still arriving must start within the last (longest - 1) characters: cut before them.
      let cut = Math.min(maxLineLength, pending.length - Math.max(0, options.redactor.longest - 1));
      if (cut <= 0) return;
      for (const [start, end] of options.redactor.matches(pending)) {
        if (start < cut && cut < end) cut = start > 0 ? start : end;
      }
      options.onLine(options.redactor.redact(pending.slice(0, cut)));
      pending = pending.slice(cut);
    }
  };

  const take = (text: string) => {
    pending += text;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    cutLongLine();
  };

  return {
    write(chunk) {
      take(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    },
    end() {
      take(decoder.end());
      if (pending) emit(pending);
      pending = '';
    },
  };
}
