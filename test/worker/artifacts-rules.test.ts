// The pure decisions of artifact handling: entry paths, modes, symlink containment, the
// entry layout, the extraction budget, format detection, the SSE-KMS key rule and the S3 error table.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  detectArchiveFormat,
  entryShape,
  EntryTree,
  ExtractionBudget,
  HostileArchive,
  normalizeEntryPath,
  orderEntries,
  quoteName,
  RATIO_GRACE_BYTES,
  resolveSymlink,
  type HostileRule,
} from '../../src/worker/artifacts/archive-rules.js';
import { classifyTransferError, ExpiredCredentials, isExpiredCredentials, kmsKeyFor, type TransferSite } from '../../src/worker/artifacts/index.js';
import { JobFailure } from '../../src/worker/types.js';

function refusal(run: () => unknown): HostileArchive {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof HostileArchive, `expected HostileArchive, got ${String(error)}`);
    assert.equal(error.failureType, 'JobFailed');
    return error;
  }
  throw new Error('expected a refusal');
}

describe('artifacts: entry path normalization (zip-slip)', () => {
  const accepted: Array<[string, string[], boolean]> = [
    ['a.txt', ['a.txt'], false],
    ['dir/', ['dir'], true],
    ['./a', ['a'], false], // JEN #32: "./" entries are harmless
    ['./', [], true],
    ['a/../b', ['b'], false],
    ['a/./b//c', ['a', 'b', 'c'], false],
    ['a\\b.txt', ['a', 'b.txt'], false], // Windows separators
    ['..a/b..', ['..a', 'b..'], false],
    ['dir/sub/../', ['dir'], true],
  ];
  for (const [name, segments, isDirectory] of accepted) {
    it(`accepts ${JSON.stringify(name)}`, () => {
      assert.deepEqual(normalizeEntryPath('Src', name), { segments, isDirectory });
    });
  }

  const refused: Array<[string, HostileRule, RegExp]> = [
    ['../evil', 'escapes-directory', /"\.\.\/evil".*climb out/],
    ['a/../../evil', 'escapes-directory', /climb out/],
    ['..', 'escapes-directory', /climb out/],
    ['/abs', 'absolute-path', /absolute/],
    ['//server/share', 'absolute-path', /absolute/],
    ['\\abs', 'absolute-path', /absolute \(backslash-separated\)/],
    ['C:\\evil', 'drive-letter', /drive letter/],
    ['c:evil', 'drive-letter', /drive letter/],
    ['..\\evil', 'escapes-directory', /\(backslash-separated\) climb out/],
    ['a\\..\\..\\evil', 'escapes-directory', /climb out/],
    ['a\0b', 'nul-in-name', /NUL/],
  ];
  for (const [name, rule, message] of refused) {
    it(`refuses ${JSON.stringify(name)} (${rule})`, () => {
      const error = refusal(() => normalizeEntryPath('Src', name));
      assert.equal(error.rule, rule);
      assert.match(error.message, /^input artifact Src: refused entry /);
      assert.match(error.message, message);
    });
  }

  it('quotes names so control characters cannot forge log lines, and caps them', () => {
    assert.equal(quoteName('a\nb'), '"a\\\\x0ab"');
    assert.ok(quoteName('x'.repeat(10_000)).length < 210);
  });
});

describe('artifacts: entry kinds and modes from external attributes', () => {
  const cases: Array<[string, number, boolean, { kind: string; mode: number }]> = [
    ['unix file 0755', (0o100755 << 16) >>> 0, false, { kind: 'file', mode: 0o755 }],
    ['unix file 0644', (0o100644 << 16) >>> 0, false, { kind: 'file', mode: 0o644 }],
    ['setuid dropped', (0o104755 << 16) >>> 0, false, { kind: 'file', mode: 0o755 }],
    ['read-only file kept', (0o100444 << 16) >>> 0, false, { kind: 'file', mode: 0o444 }],
    ['DOS file (no unix bits)', 0x20, false, { kind: 'file', mode: 0o644 }],
    ['DOS directory attribute', 0x10, false, { kind: 'directory', mode: 0o755 }],
    ['name with trailing slash', 0, true, { kind: 'directory', mode: 0o755 }],
    ['unix dir 0555 keeps u+rwx', (0o040555 << 16) >>> 0, true, { kind: 'directory', mode: 0o755 }],
    ['unix dir 0750', (0o040750 << 16) >>> 0, false, { kind: 'directory', mode: 0o750 }],
    ['symlink', (0o120777 << 16) >>> 0, false, { kind: 'symlink', mode: 0o777 }],
  ];
  for (const [label, attributes, isDirectoryName, expected] of cases) {
    it(label, () => assert.deepEqual(entryShape(attributes, isDirectoryName), expected));
  }
});

describe('artifacts: symlink resolution follows other symlinks like the kernel', () => {
  const none = new Map<string, string>();
  it('keeps targets inside the directory', () => {
    assert.deepEqual(resolveSymlink(['link'], 'dir/file', none), { inside: ['dir', 'file'] });
    assert.deepEqual(resolveSymlink(['a', 'b', 'link'], '../c', none), { inside: ['a', 'c'] });
    assert.deepEqual(resolveSymlink(['a', 'link'], '..', none), { inside: [] });
  });
  it('refuses absolute targets and escapes', () => {
    assert.deepEqual(resolveSymlink(['link'], '/etc', none), { problem: 'absolute' });
    assert.deepEqual(resolveSymlink(['link'], '../..', none), { problem: 'escapes' });
    assert.deepEqual(resolveSymlink(['a', 'link'], '../../x', none), { problem: 'escapes' });
  });
  it('sees an escape hidden behind another symlink (lexically inside, really outside)', () => {
    const links = new Map([['a/b', '../x']]);
    // a/b -> x (at the root), so c -> a/b/../.. is x/../.. = one level above the root.
    assert.deepEqual(resolveSymlink(['c'], 'a/b/../..', links), { problem: 'escapes' });
  });
  it('stops at loops', () => {
    const links = new Map([
      ['x', 'y'],
      ['y', 'x'],
    ]);
    assert.deepEqual(resolveSymlink(['z'], 'x', links), { problem: 'loop' });
  });
});

describe('artifacts: the entry tree refuses duplicates and paths through symlinks', () => {
  it('refuses a path through a symlink, a duplicate over a symlink, and a file used as a folder', () => {
    const tree = new EntryTree();
    tree.record('link', 'symlink', 'dir');
    tree.record('file', 'file');
    tree.record('dir', 'directory');
    assert.equal(refusal(() => tree.admit('Src', 'link/passwd', ['link', 'passwd'], 'file')).rule, 'through-symlink');
    assert.equal(refusal(() => tree.admit('Src', 'link', ['link'], 'file')).rule, 'duplicate-entry');
    assert.match(refusal(() => tree.admit('Src', 'link', ['link'], 'file')).message, /overwrite the symlink "link"/);
    assert.equal(refusal(() => tree.admit('Src', 'file/x', ['file', 'x'], 'file')).rule, 'path-conflict');
    assert.equal(refusal(() => tree.admit('Src', 'file', ['file'], 'file')).rule, 'duplicate-entry');
    assert.deepEqual(tree.admit('Src', 'dir/', ['dir'], 'directory'), { missingParents: [], repeatsDirectory: true });
    assert.deepEqual(tree.admit('Src', 'new/deep/f', ['new', 'deep', 'f'], 'file'), { missingParents: ['new', 'new/deep'], repeatsDirectory: false });
  });
});

describe('artifacts: entries lie one after another, never on each other', () => {
  const at = (name: string, localHeaderOffset: number, compressedSize: number) => ({ name, localHeaderOffset, compressedSize });

  it('orders entries by where they lie, whatever order the central directory lists them in', () => {
    const ordered = orderEntries('Src', [at('c', 200, 10), at('a', 0, 50), at('b', 80, 90)], 300);
    assert.deepEqual(
      ordered.map((entry) => entry.name),
      ['a', 'b', 'c'],
    );
    // Exactly adjacent (30-byte header + data, no name) is fine, as is a gap.
    assert.doesNotThrow(() => orderEntries('Src', [at('a', 0, 10), at('b', 40, 0), at('c', 500, 0)], 530));
    assert.deepEqual(orderEntries('Src', [], 0), []);
  });

  const overlaps: Array<{ label: string; entries: Array<ReturnType<typeof at>>; directoryOffset: number; message: RegExp }> = [
    { label: 'two entries at one offset', entries: [at('a', 0, 10), at('b', 0, 10)], directoryOffset: 1000, message: /entry "(a|b)": its data \(from offset 0, 10 bytes\) overlaps entry "(a|b)" at offset 0/ },
    { label: 'data that reaches into the next header', entries: [at('a', 0, 100), at('b', 120, 5)], directoryOffset: 1000, message: /entry "a": .* overlaps entry "b" at offset 120/ },
    { label: 'a header inside another entry, listed first', entries: [at('inner', 50, 5), at('outer', 0, 500)], directoryOffset: 1000, message: /entry "outer": .* overlaps entry "inner" at offset 50/ },
    { label: 'the last entry running into the central directory', entries: [at('a', 0, 10), at('b', 40, 100)], directoryOffset: 150, message: /entry "b": its data \(from offset 40, 100 bytes\) runs into the central directory at offset 150/ },
  ];
  for (const testCase of overlaps) {
    it(`refuses ${testCase.label}`, () => {
      const error = refusal(() => orderEntries('Src', testCase.entries, testCase.directoryOffset));
      assert.equal(error.rule, 'overlapping-entries');
      assert.match(error.message, /^input artifact Src: refused entry /);
      assert.match(error.message, testCase.message);
    });
  }
});

describe('artifacts: the extraction budget counts real bytes', () => {
  const limits = { maxTotalBytes: 10 * RATIO_GRACE_BYTES, maxEntries: 3, maxCompressionRatio: 100 };

  it('refuses more entries than allowed, from the end record and while declaring them', () => {
    assert.equal(refusal(() => new ExtractionBudget('Src', limits, 1000).checkEntryCount(4)).rule, 'too-many-entries');
    const budget = new ExtractionBudget('Src', limits, 1000);
    for (const name of ['a', 'b', 'c']) budget.declare(name, 0);
    assert.equal(refusal(() => budget.declare('d', 0)).rule, 'too-many-entries');
  });

  it('refuses declared and real totals over the limit', () => {
    assert.equal(refusal(() => new ExtractionBudget('Src', limits, 1e9).declare('big', limits.maxTotalBytes + 1)).rule, 'too-large');
    const budget = new ExtractionBudget('Src', { ...limits, maxCompressionRatio: 1e9 }, 1e9);
    const a = budget.meter('a', 6 * RATIO_GRACE_BYTES);
    a.consumed(6 * RATIO_GRACE_BYTES);
    a.produced(6 * RATIO_GRACE_BYTES);
    a.end();
    // b lies about its size: the real total crosses the limit before its own size check would.
    const b = budget.meter('b', 6 * RATIO_GRACE_BYTES);
    b.consumed(4 * RATIO_GRACE_BYTES);
    b.produced(4 * RATIO_GRACE_BYTES);
    const error = refusal(() => b.produced(1));
    assert.equal(error.rule, 'too-large');
    assert.match(error.message, /"b": the archive expands to more than the limit of 10485760 bytes/);
  });

  it('refuses an entry that expands beyond its declared size, or falls short of it', () => {
    const budget = new ExtractionBudget('Src', limits, 1000);
    const liar = budget.meter('liar', 10);
    liar.consumed(5);
    liar.produced(10);
    const error = refusal(() => liar.produced(1));
    assert.equal(error.rule, 'size-mismatch');
    assert.match(error.message, /"liar": it declares 10 bytes but expands to more/);
    const short = new ExtractionBudget('Src', limits, 1000).meter('short', 10);
    short.produced(3);
    assert.equal(refusal(() => short.end()).rule, 'size-mismatch');
  });

  it('applies the ratio per entry (bytes out per byte in so far) once past the grace size', () => {
    const budget = new ExtractionBudget('Src', { ...limits, maxTotalBytes: 1e12 }, 1e9);
    const zeros = budget.meter('zeros', 1e12);
    zeros.consumed(10);
    zeros.produced(RATIO_GRACE_BYTES); // inside the grace size: no verdict yet
    const error = refusal(() => zeros.produced(1));
    assert.equal(error.rule, 'compression-ratio');
    assert.match(error.message, /"zeros": it expands more than 100 times its compressed size/);
  });

  it('applies the ratio overall against the archive size, whichever entries the bytes came from', () => {
    const budget = new ExtractionBudget('Src', { ...limits, maxTotalBytes: 1e12, maxEntries: 1e6 }, 10_000);
    // Two entries streaming at once share the archive-wide total.
    const meters = [budget.meter('e0', 1e9), budget.meter('e1', 1e9)];
    for (let index = 0; ; index++) {
      const meter = meters[index % 2]!;
      meter.consumed(100_000); // each entry claims 1:1, but the archive is only 10 kB
      try {
        meter.produced(100_000);
      } catch (error) {
        assert.ok(error instanceof HostileArchive);
        assert.equal(error.rule, 'compression-ratio');
        assert.match(error.message, /the archive expands more than 100 times its own size/);
        assert.ok(budget.totalBytes > 100 * 10_000);
        assert.ok(budget.totalBytes <= 100 * 10_000 + 100_000, 'refused at the first chunk over the ratio');
        break;
      }
    }
  });
});

describe('artifacts: format detection by magic bytes', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['zip', Buffer.from('PK\x03\x04', 'latin1'), 'zip'],
    ['empty zip', Buffer.from('PK\x05\x06', 'latin1'), 'empty-zip'],
    ['gzip', Buffer.from([0x1f, 0x8b, 8, 0]), 'gzip'],
    ['empty object', Buffer.alloc(0), 'empty'],
    ['text', Buffer.from('hello'), 'unknown'],
    ['spanned zip marker', Buffer.from('PK\x07\x08', 'latin1'), 'unknown'],
  ];
  for (const [label, head, format] of cases) it(label, () => assert.equal(detectArchiveFormat(head), format));
});

describe('artifacts: kmsKeyFor (the SSE-KMS rule in one place)', () => {
  const cases: Array<[string, { id?: string; type?: string } | undefined, string | undefined]> = [
    ['no encryption key: S3 uses aws/s3', undefined, undefined],
    ['a KMS key: its id', { id: 'arn:aws:kms:us-east-1:111122223333:key/abcd', type: 'KMS' }, 'arn:aws:kms:us-east-1:111122223333:key/abcd'],
    ['an alias of type KMS', { id: 'alias/pipeline', type: 'KMS' }, 'alias/pipeline'],
    ['a key of another type: no id', { id: 'something', type: 'AES' }, undefined],
    ['KMS without an id', { type: 'KMS' }, undefined],
    ['KMS with a blank id', { id: '  ', type: 'KMS' }, undefined],
  ];
  for (const [label, key, expected] of cases) it(label, () => assert.equal(kmsKeyFor(key), expected));
});

function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`message with AKIA-secret-ish content for ${name}`), { name, $metadata: { httpStatusCode: status, requestId: 'REQ123' }, ...extra });
}
function errnoError(code: string): Error {
  return Object.assign(new Error(`${code}: no space, write '/work/secret/workspace/job-1/x'`), { code });
}

describe('artifacts: classifyTransferError', () => {
  const download: TransferSite = { direction: 'download', artifact: 'SourceOut', bucket: 'store', key: 'p/SourceOut/abc' };
  const upload: TransferSite = { direction: 'upload', artifact: 'BuildOut', bucket: 'store', key: 'p/BuildOut/def' };
  const extract: TransferSite = { ...download, direction: 'extract' };

  const table: Array<[string, unknown, TransferSite, string, RegExp]> = [
    ['AccessDenied on download', sdkError('AccessDenied', 403), download, 'PermissionError', /download input artifact SourceOut from s3:\/\/store\/p\/SourceOut\/abc: access denied \(AccessDenied, HTTP 403, request REQ123\).*s3:GetObject and kms:Decrypt/],
    ['AccessDenied on upload', sdkError('AccessDenied', 403), upload, 'PermissionError', /upload output artifact BuildOut .*s3:PutObject and kms:GenerateDataKey/],
    ['AllAccessDisabled', sdkError('AllAccessDisabled', 403), download, 'PermissionError', /AllAccessDisabled/],
    ['InvalidAccessKeyId', sdkError('InvalidAccessKeyId', 403), upload, 'PermissionError', /InvalidAccessKeyId/],
    ['KMS.DisabledException', sdkError('KMS.DisabledException', 400), upload, 'PermissionError', /KMS\.DisabledException/],
    ['KMS.NotFoundException', sdkError('KMS.NotFoundException', 400), download, 'PermissionError', /KMS/],
    ['HEAD 403 without a body', sdkError('403', 403), download, 'PermissionError', /HTTP 403/],
    ['NoSuchKey on download', sdkError('NoSuchKey', 404), download, 'RevisionUnavailable', /the object does not exist \(NoSuchKey, HTTP 404/],
    ['NoSuchBucket on download', sdkError('NoSuchBucket', 404), download, 'RevisionUnavailable', /the artifact bucket does not exist/],
    ['NoSuchBucket on upload', sdkError('NoSuchBucket', 404), upload, 'ConfigurationError', /artifact store bucket does not exist/],
    ['SlowDown after retries', sdkError('SlowDown', 503, { $fault: 'server' }), upload, 'SystemUnavailable', /S3 kept failing after retries \(SlowDown, HTTP 503/],
    ['InternalError', sdkError('InternalError', 500, { $fault: 'server' }), download, 'SystemUnavailable', /InternalError/],
    ['an unnamed 502', sdkError('UnknownError', 502), download, 'SystemUnavailable', /HTTP 502/],
    ['connection reset', errnoError('ECONNRESET'), download, 'SystemUnavailable', /ECONNRESET/],
    ['disk full while downloading', errnoError('ENOSPC'), download, 'SystemUnavailable', /the worker's disk is full \(ENOSPC\)/],
    ['disk full while extracting', errnoError('ENOSPC'), extract, 'SystemUnavailable', /extract input artifact SourceOut into the workspace: the worker's disk is full/],
    ['quota exceeded', errnoError('EDQUOT'), extract, 'SystemUnavailable', /disk is full/],
    ['workspace not writable', errnoError('EACCES'), extract, 'SystemUnavailable', /could not use its workspace \(EACCES\)/],
    ['cancelled', Object.assign(new Error('aborted'), { name: 'AbortError' }), upload, 'SystemUnavailable', /cancelled/],
    ['an unknown client error', sdkError('EntityTooLarge', 400), upload, 'JobFailed', /EntityTooLarge, HTTP 400/],
    ['a non-error value', 'boom', upload, 'JobFailed', /could not upload output artifact BuildOut/],
  ];
  for (const [label, error, site, type, message] of table) {
    it(label, () => {
      const failure = classifyTransferError(error, site);
      assert.ok(failure instanceof JobFailure);
      assert.equal(failure.failureType, type);
      assert.match(failure.message, message);
      assert.doesNotMatch(failure.message, /AKIA|secret|\/work\//, 'no SDK message, credentials or workspace path');
      assert.equal(isExpiredCredentials(failure), false);
    });
  }

  it('ExpiredToken becomes the distinguishable ExpiredCredentials (a PermissionError if not retried)', () => {
    for (const name of ['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired']) {
      const failure = classifyTransferError(sdkError(name, 400), download);
      assert.ok(failure instanceof ExpiredCredentials, name);
      assert.ok(isExpiredCredentials(failure));
      assert.equal(failure.failureType, 'PermissionError');
      assert.equal(failure.expiredCredentials, true);
      assert.match(failure.message, /credentials expired .*GetJobDetails/);
    }
  });

  it('passes a JobFailure through unchanged', () => {
    const original = new HostileArchive('encrypted', 'input artifact X: refused');
    assert.equal(classifyTransferError(original, download), original);
  });
});
