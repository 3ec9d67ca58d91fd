import { LineCounter, parseDocument, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { Problem } from './problems.js';

export type PathSegment = string | number;

/** A parsed YAML (or JSON) file that can say where any value sits in the source. */
export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  readonly problems: readonly Problem[];
  /** 1-based line and column of the value (or, with `key`, of the mapping key) at `path`. The
   *  closest existing ancestor is used when the path does not exist. */
  locate(path: readonly PathSegment[], target?: 'value' | 'key'): { line: number; column: number };
}

/** Parses text as YAML with positions. Syntax errors and duplicate keys become problems. Pure. */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const problems: Problem[] = [];

  // After the first real syntax error the parser is lost and what follows are mostly echoes of
  // it; a tab in indentation derails it the same way. Report every tab and duplicate key, but only
  // the first other syntax error, and none when tabs explain them.
  const tabLines = new Set<number>();
  let syntaxReported = false;
  for (const error of doc.errors) {
    const pos = lineCounter.linePos(error.pos[0]);
    const duplicate = error.code === 'DUPLICATE_KEY';
    const tab = error.code === 'TAB_AS_INDENT' || /tabs? .*indent/i.test(error.message);
    if (tab) {
      if (tabLines.has(pos.line)) continue;
      tabLines.add(pos.line);
      problems.push({
        severity: 'error',
        code: 'yaml.tab-indent',
        file,
        line: pos.line,
        column: pos.col,
        message: 'line is indented with a tab; YAML allows only spaces for indentation',
        hint: 'replace the tab with spaces, lined up with the keys around it',
      });
      continue;
    }
    if (!duplicate) {
      if (syntaxReported) continue;
      syntaxReported = true;
    }
    problems.push({
      severity: 'error',
      code: duplicate ? 'yaml.duplicate-key' : 'yaml.syntax',
      file,
      line: pos.line,
      column: pos.col,
      message: duplicate ? `duplicate key ${describeDuplicate(text, error.pos[0])}` : `YAML syntax error: ${firstLine(error.message)}`,
      hint: duplicate ? 'each key may appear once in a mapping; remove or merge the repeated one' : 'fix the YAML syntax; the position shown is where the parser gave up',
    });
  }
  if (tabLines.size) {
    const first = Math.min(...tabLines);
    for (let i = problems.length - 1; i >= 0; i--) if (problems[i]?.code === 'yaml.syntax' && (problems[i]?.line ?? 0) >= first) problems.splice(i, 1);
  }
  for (const warning of doc.warnings) {
    const pos = lineCounter.linePos(warning.pos[0]);
    problems.push({ severity: 'warning', code: 'yaml.warning', file, line: pos.line, column: pos.col, message: firstLine(warning.message), hint: 'rewrite the YAML so the parser does not need to guess' });
  }

  const data = doc.errors.length ? undefined : doc.toJS({ maxAliasCount: 100 });
  return {
    file,
    data,
    problems,
    locate(path, target = 'value') {
      const offset = findOffset(doc, path, target);
      const pos = lineCounter.linePos(offset);
      return { line: pos.line, column: pos.col };
    },
  };
}

function firstLine(message: string): string {
  // The yaml library appends "at line X, column Y" and a code frame; the position is reported separately.
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

function describeDuplicate(text: string, offset: number): string {
  const match = /^[^\s:#]+|^"[^"]*"|^'[^']*'/.exec(text.slice(offset));
  return match ? `"${match[0].replace(/^["']|["']$/g, '')}"` : '';
}

function findOffset(doc: Document, path: readonly PathSegment[], target: 'value' | 'key'): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as PathSegment;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return offset;
      const keyStart = rangeStart(pair.key);
      if (last && target === 'key') return keyStart ?? offset;
      node = pair.value;
      // `key:` with nothing after it has no value node; point at the key.
      offset = rangeStart(node) ?? keyStart ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) return offset;
      node = item;
      offset = rangeStart(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
