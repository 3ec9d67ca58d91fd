// Extraction from a source read front to back, as an S3 download is: the end records and central
// directory come from the tail first, the body then streams once in file order, in chunks of any
// size. Real ZIP bytes (test/helpers/zips.ts, checked against Info-ZIP in artifacts-zip.test.ts),
// an in-memory source that logs every range asked of it, and hostile layouts: truncation, central
// directories that point past the end, overlapping entries, lying sizes, bombs, traversal.

import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { deflateRawSync } from 'node:zlib';
import { extractArchive, HostileArchive, type HostileRule, type ZipSource } from '../../src/worker/artifacts/index.js';
import { planSegments, type PlannedEntry } from '../../src/worker/artifacts/extract-plan.js';
import { crc32Portable, END_RECORDS_MAX_BYTES, readCentralDirectory, readEndRecords } from '../../src/worker/artifacts/zip-directory.js';
import { DEFAULT_EXTRACT_LIMITS } from '../../src/worker/types.js';
import { buildZip, deflatedZeros, describeTree, type RawEntry } from '../helpers/zips.js';

const never = new AbortController().signal;
const KIB = 1024;
const MIB = 1024 * KIB;

/** An archive as a ZipSource whose tail holds `tailBytes` (at least the end records), answering
 *  reads in chunks of the sizes given in turn, and logging every range asked of it. */
function memorySource(archive: Buffer, options: { tailBytes?: number; chunks?: readonly number[]; cutAt?: number; blockAt?: number; streams?: ZipSource['streams'] } = {}) {
  const tailBytes = Math.min(archive.length, Math.max(options.tailBytes ?? END_RECORDS_MAX_BYTES, END_RECORDS_MAX_BYTES));
  const chunks = options.chunks ?? [64 * KIB];
  const reads: string[] = [];
  const source: ZipSource = {
    size: archive.length,
    ...(options.streams ? { streams: options.streams } : {}),
    tail: { start: archive.length - tailBytes, bytes: archive.subarray(archive.length - tailBytes) },
    async *read(start, end) {
      reads.push(`${start}-${end}`);
      for (let position = start, turn = 0; position < end; turn++) {
        if (options.cutAt !== undefined && position >= options.cutAt) return;
        if (options.blockAt !== undefined && position >= options.blockAt) await new Promise(() => undefined);
        const length = Math.min(chunks[turn % chunks.length] as number, end - position);
        yield archive.subarray(position, position + length);
        position += length;
      }
    },
  };
  return { source, reads };
}

/** ~100 KiB of random bytes, so archives outgrow their tail and the body has to be streamed. */
const noise = randomBytes(100 * KIB);

function sampleEntries(): RawEntry[] {
  return [
    { name: 'src/' },
    { name: 'src/main.ts', data: 'export const answer = 42;\n'.repeat(50) },
    { name: 'assets/noise.bin', data: noise, method: 0 },
    { name: 'assets/noise.deflated', data: noise },
    { name: 'empty.txt', data: '' },
    { name: 'bin/run.sh', data: '#!/bin/sh\necho run\n', mode: 0o100755 },
    { name: 'link', data: 'src/main.ts', method: 0, mode: 0o120777 },
  ];
}

const SAMPLE_TREE = [
  'assets/ dir 755',
  `assets/noise.bin file 644 ${100 * KIB}`,
  `assets/noise.deflated file 644 ${100 * KIB}`,
  'bin/ dir 755',
  'bin/run.sh file 755 19',
  'empty.txt file 644 0',
  'link symlink -> src/main.ts',
  'src/ dir 755',
  'src/main.ts file 644 1300',
];

/** describeTree without the content hashes (sizes and modes are enough to compare layouts). */
async function shapeOf(directory: string): Promise<string[]> {
  return (await describeTree(directory)).map((line) => line.replace(/ [0-9a-f]{16}$/, ''));
}

describe('artifacts: the central directory from the tail', () => {
  it('finds the end record and every entry in the last bytes alone', () => {
    const archive = buildZip(sampleEntries());
    const tail = { start: archive.length - END_RECORDS_MAX_BYTES, bytes: archive.subarray(archive.length - END_RECORDS_MAX_BYTES) };
    const records = readEndRecords(tail, archive.length, 'SourceOut');
    assert.ok('found' in records, JSON.stringify(records));
    assert.equal(records.found.entryCount, 7);
    assert.equal(records.found.endRecordsOffset, archive.length - 22);
    const entries = readCentralDirectory(tail, records.found, 'SourceOut');
    assert.deepEqual(
      entries.map((entry) => entry.name),
      ['src/', 'src/main.ts', 'assets/noise.bin', 'assets/noise.deflated', 'empty.txt', 'bin/run.sh', 'link'],
    );
    assert.equal(entries[2]?.compressedSize, 100 * KIB);
    assert.ok(entries.every((entry, index) => index === 0 || entry.localHeaderOffset > (entries[index - 1]?.localHeaderOffset ?? -1)));
  });

  it('reads ZIP64 sizes, offsets and counts, and asks for more when the ZIP64 record lies before the tail', () => {
    const archive = buildZip(sampleEntries(), { zip64: true, zip64ExtensibleBytes: 70 * KIB });
    const tail = { start: archive.length - END_RECORDS_MAX_BYTES, bytes: archive.subarray(archive.length - END_RECORDS_MAX_BYTES) };
    const first = readEndRecords(tail, archive.length, 'SourceOut');
    assert.ok('needFrom' in first, JSON.stringify(first));
    const wider = { start: first.needFrom, bytes: archive.subarray(first.needFrom) };
    const records = readEndRecords(wider, archive.length, 'SourceOut');
    assert.ok('found' in records);
    assert.equal(records.found.entryCount, 7);
    assert.equal(records.found.endRecordsOffset, first.needFrom);
    const whole = { start: 0, bytes: archive };
    const entries = readCentralDirectory(whole, records.found, 'SourceOut');
    assert.equal(entries[3]?.uncompressedSize, 100 * KIB, 'from the ZIP64 extra field, not the saturated header');
    assert.ok((entries[6]?.localHeaderOffset ?? 0) > 200 * KIB);
  });

  it('computes CRC-32 without zlib.crc32 (Node before 20.15) as zlib does, in pieces too', () => {
    const zlibCrc = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
    const expected = zlibCrc ? zlibCrc(noise) : 0;
    if (zlibCrc) assert.equal(crc32Portable(noise), expected);
    assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926, 'the standard check value');
    assert.equal(crc32Portable(noise.subarray(5000), crc32Portable(noise.subarray(0, 5000))), crc32Portable(noise));
    assert.equal(crc32Portable(Buffer.alloc(0)), 0);
  });

  it('says when there is no end record at all', () => {
    const archive = buildZip(sampleEntries());
    const cut = archive.subarray(0, archive.length - 10);
    assert.deepEqual(readEndRecords({ start: 0, bytes: cut }, cut.length, 'SourceOut'), { missing: true });
  });
});

describe('artifacts: extraction streams the body once, in file order', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-stream-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));
  let count = 0;
  const target = () => join(root, `out-${count++}`);

  for (const chunks of [[64 * KIB], [1, 7, 4096, 3, 65_536, 30]]) {
    it(`extracts from the tail, then one read of the body, in chunks of ${chunks.join('/')} bytes`, async () => {
      const archive = buildZip(sampleEntries());
      const { source, reads } = memorySource(archive, { chunks });
      const out = target();
      const result = await extractArchive(source, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
      assert.deepEqual(result, { files: 6, bytes: 2 * 100 * KIB + 1300 + 19 + 11 });
      assert.deepEqual(await shapeOf(out), SAMPLE_TREE);
      assert.ok((await readFile(join(out, 'assets/noise.deflated'))).equals(noise));
      // The body is read once, from the start to where the tail (already in memory) begins.
      assert.deepEqual(reads, [`0-${source.tail.start}`]);
    });
  }

  it('extracts a ZIP64 archive', async () => {
    const archive = buildZip(sampleEntries(), { zip64: true });
    const { source } = memorySource(archive, { chunks: [5000] });
    const out = target();
    await extractArchive(source, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    assert.deepEqual(await shapeOf(out), SAMPLE_TREE);
  });

  it('reads a central directory bigger than the tail with one more range, before the body', async () => {
    const entries: RawEntry[] = Array.from({ length: 1500 }, (_, index) => ({ name: `many/${'n'.repeat(40)}-${index}.txt`, data: `${index}` }));
    const archive = buildZip(entries);
    const { source, reads } = memorySource(archive);
    const out = target();
    const result = await extractArchive(source, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    assert.equal(result.files, 1500);
    assert.equal((await readdir(join(out, 'many'))).length, 1500);
    assert.equal(reads.length, 2);
    const [directory, body] = reads as [string, string];
    const directoryStart = Number(directory.split('-')[0]);
    assert.equal(directory, `${directoryStart}-${source.tail.start}`, 'the rest of the central directory, first');
    assert.equal(body, `0-${directoryStart}`, 'then the entries, up to the central directory');
  });

  it('extracts entries whose central directory lists them in another order than the file', async () => {
    const archive = buildZip(sampleEntries(), { centralOrder: [6, 3, 0, 5, 1, 4, 2] });
    const { source, reads } = memorySource(archive);
    const out = target();
    await extractArchive(source, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    assert.deepEqual(await shapeOf(out), SAMPLE_TREE);
    assert.equal(reads.length, 1);
  });

  it('stops at once when the signal is aborted mid-body, and leaves the directory empty', async () => {
    const archive = buildZip(sampleEntries());
    const { source } = memorySource(archive, { blockAt: 50 * KIB });
    const out = target();
    const controller = new AbortController();
    const running = extractArchive(source, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: controller.signal });
    setTimeout(() => controller.abort(Object.assign(new Error('stopping'), { name: 'AbortError' })), 50);
    // The blocked source never yields again: what ends the extraction is the signal.
    await assert.rejects(
      Promise.race([running, new Promise((_, reject) => setTimeout(() => reject(new Error('the extraction hung after the abort')), 5000))]),
      /stopping/,
    );
    assert.deepEqual(await readdir(out), []);
  });
});

describe('artifacts: several streams at once', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-streams-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  const at = (offset: number, limit: number) => ({ entry: { localHeaderOffset: offset }, limit }) as unknown as PlannedEntry;
  const entries = [at(0, 100), at(100, 250), at(250, 300), at(300, 600), at(600, 700), at(700, 1000)];
  const cuts = (streams: number, minBytes: number) => planSegments(entries, streams, minBytes).map((segment) => `${segment.start}-${segment.end}:${segment.entries.length}`);

  it('cuts the archive between entries into stretches of about equal size, none under the minimum', () => {
    assert.deepEqual(cuts(1, 10), ['0-1000:6']);
    assert.deepEqual(cuts(2, 10), ['0-600:4', '600-1000:2']);
    assert.deepEqual(cuts(3, 10), ['0-600:4', '600-700:1', '700-1000:1'], 'cut at the first entry past each third');
    assert.deepEqual(cuts(4, 400), ['0-600:4', '600-1000:2'], 'at most total / minBytes stretches');
    assert.deepEqual(cuts(4, 2000), ['0-1000:6'], 'too small to split');
    assert.deepEqual(planSegments([], 4, 10), []);
    for (const streams of [2, 3, 4, 8]) {
      const segments = planSegments(entries, streams, 1);
      assert.deepEqual(segments.flatMap((segment) => segment.entries), entries, 'every entry once, in order');
      segments.forEach((segment, index) => assert.equal(segment.start, index === 0 ? 0 : segment.entries[0]?.entry.localHeaderOffset));
    }
  });

  function manyEntries(): RawEntry[] {
    return Array.from({ length: 8 }, (_, index) => ({ name: `part-${index}.bin`, data: noise.subarray(index * 10 * KIB, index * 10 * KIB + 40 * KIB), method: index % 2 === 0 ? 0 : 8 }));
  }

  it('extracts stretches of the archive in parallel reads, the same files as one read gives', async () => {
    const archive = buildZip(manyEntries());
    const { source, reads } = memorySource(archive, { streams: { count: 3, minBytes: 40 * KIB }, chunks: [3000] });
    const out = join(root, 'parallel');
    const result = await extractArchive(source, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    assert.equal(result.files, 8);
    assert.equal(reads.length, 3, reads.join(', '));
    assert.ok(reads[0]?.startsWith('0-'));
    for (let index = 0; index < 8; index++) {
      assert.ok((await readFile(join(out, `part-${index}.bin`))).equals(noise.subarray(index * 10 * KIB, index * 10 * KIB + 40 * KIB)));
    }
  });

  /** Extracts `entries` in three stretches, the first of which stalls for good before its first
   *  byte; rejects with the extraction's error, or after 5 s if the stalled stream kept it alive. */
  function extractWithFirstStretchStalled(entries: ReturnType<typeof manyEntries>, out: string): Promise<unknown> {
    const archive = buildZip(entries);
    const { source } = memorySource(archive, { streams: { count: 3, minBytes: 40 * KIB }, blockAt: 0 });
    const guarded = { ...source, read: (start: number, end: number, signal: AbortSignal) => (start === 0 ? source.read(start, end, signal) : memorySource(archive).source.read(start, end, signal)) };
    return Promise.race([
      extractArchive(guarded, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('a stalled stream kept the extraction alive')), 5000)),
    ]);
  }

  it('stops every stream when one finds a hostile entry, even one whose source has stalled', async () => {
    const entries = manyEntries();
    entries[6] = { ...entries[6]!, crc: 1234 };
    // The last stretch meets the bad CRC.
    const out = join(root, 'stopped');
    await assert.rejects(
      extractWithFirstStretchStalled(entries, out),
      (error: unknown) => {
        assert.ok(error instanceof HostileArchive, String(error));
        assert.equal(error.rule, 'corrupt');
        assert.match(error.message, /"part-6\.bin": its CRC-32 does not match/);
        return true;
      },
    );
    assert.deepEqual(await readdir(out), []);
  });

  it('stops every stream when writing a file fails, even one whose source has stalled', async () => {
    const entries = manyEntries();
    // A name longer than the filesystem allows: open() fails with ENAMETOOLONG, after every check.
    entries[6] = { ...entries[6]!, name: `${'n'.repeat(300)}.bin` };
    const out = join(root, 'write-failed');
    await assert.rejects(
      extractWithFirstStretchStalled(entries, out),
      (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'ENAMETOOLONG', String(error));
        return true;
      },
    );
    assert.deepEqual(await readdir(out), []);
  });
});

describe('artifacts: hostile layouts are refused cleanly from a streamed source', () => {
  let root: string;
  let bomb: { compressed: Buffer; crc: number };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-stream-hostile-'));
    bomb = await deflatedZeros(512 * MIB); // ~500 KiB of deflate: big enough to be streamed
  });
  after(async () => rm(root, { recursive: true, force: true }));

  function patchEnd(archive: Buffer, patch: (end: Buffer) => void): Buffer {
    const copy = Buffer.from(archive);
    patch(copy.subarray(copy.length - 22));
    return copy;
  }

  const cases: Array<{ label: string; archive: () => Buffer; rule: HostileRule; message: RegExp; bodyRead?: boolean; chunks?: number[] }> = [
    {
      label: 'a truncated archive (its end record cut off)',
      archive: () => buildZip(sampleEntries()).subarray(0, 150 * KIB),
      rule: 'corrupt',
      message: /^input artifact SourceOut is not a valid ZIP file: it has no end of central directory record \(is it truncated\?\)$/,
      bodyRead: false,
    },
    {
      label: 'a central directory that points past the end',
      archive: () => patchEnd(buildZip(sampleEntries()), (end) => end.writeUInt32LE(end.readUInt32LE(16) + 50, 16)),
      rule: 'corrupt',
      message: /its central directory \(bytes \d+–\d+\) runs past its end record at \d+ \(truncated\?\)/,
      bodyRead: false,
    },
    {
      label: 'an end record that counts more entries than its central directory holds',
      archive: () => patchEnd(buildZip(sampleEntries()), (end) => end.writeUInt16LE(5000, 10)),
      rule: 'corrupt',
      message: /counts 5000 entries, which do not fit/,
      bodyRead: false,
    },
    {
      label: 'two entries sharing one local header (an overlapping bomb)',
      archive: () => buildZip([{ name: 'a.bin', data: noise }, { name: 'b.bin', data: noise, centralOffset: 0 }]),
      rule: 'overlapping-entries',
      message: /refused entry "(a|b)\.bin": its data \(from offset 0, \d+ bytes\) overlaps entry "(a|b)\.bin" at offset 0/,
      bodyRead: false,
    },
    {
      label: 'a compressed size that claims the next entry',
      archive: () => buildZip([{ name: 'a.bin', data: noise, method: 0, declaredSize: noise.length + 100, centralCompressedSize: noise.length + 100 }, { name: 'b.txt', data: 'b' }]),
      rule: 'overlapping-entries',
      message: /refused entry "a\.bin": its data .* overlaps entry "b\.txt"/,
      bodyRead: false,
    },
    {
      label: 'a local extra field that pushes the data into the next entry (seen only while streaming)',
      archive: () => overlapByLocalExtra(),
      rule: 'overlapping-entries',
      message: /refused entry "a\.bin": its data \(to offset \d+\) runs into the next entry or the central directory at offset \d+/,
      bodyRead: true,
    },
    {
      label: 'a central directory offset where there is no local header',
      // x.txt really starts at 102437 and ends at 102473; the directory sends the reader into the zeros after it.
      archive: () => buildZip([{ name: 'pad.bin', data: noise, method: 0 }, { name: 'x.txt', data: 'x', method: 0, centralOffset: 102_493 }], { gap: 200 }),
      rule: 'corrupt',
      message: /puts entry "x\.txt" at offset 102493, where there is no local file header/,
      bodyRead: true,
    },
    {
      label: 'a stored entry whose sizes disagree',
      archive: () => buildZip([{ name: 'pad.bin', data: noise, method: 0 }, { name: 'stored.txt', data: 'hello', method: 0, declaredSize: 3 }]),
      rule: 'size-mismatch',
      message: /"stored\.txt": it is stored \(not compressed\) in 5 bytes but declares 3/,
      bodyRead: false,
    },
    {
      label: 'a streamed deflate bomb that declares 2 MiB',
      archive: () => buildZip([{ name: 'pad.bin', data: noise, method: 0 }, { name: 'zeros.bin', compressed: bomb.compressed, crc: bomb.crc, declaredSize: 2 * MIB, method: 8 }]),
      rule: 'size-mismatch',
      message: /"zeros\.bin": it declares 2097152 bytes but expands to more/,
      bodyRead: true,
    },
    {
      label: 'a streamed deflate bomb that declares its real size (ratio)',
      archive: () => buildZip([{ name: 'pad.bin', data: noise, method: 0 }, { name: 'zeros.bin', compressed: bomb.compressed, crc: bomb.crc, declaredSize: 512 * MIB, method: 8 }]),
      rule: 'compression-ratio',
      message: /"zeros\.bin": it expands more than 200 times its compressed size/,
      bodyRead: true,
    },
    {
      label: 'deflate data cut short inside its entry',
      archive: () => buildZip([{ name: 'pad.bin', data: noise, method: 0 }, { name: 'cut.txt', compressed: deflateRawSync(noise).subarray(0, 50 * KIB), declaredSize: noise.length, method: 8 }]),
      rule: 'corrupt',
      message: /input artifact SourceOut is not a valid ZIP file: unexpected end of file/,
      bodyRead: true,
    },
    {
      label: 'a symlink whose target takes a megabyte of compressed data',
      archive: () => buildZip([{ name: 'pad.bin', data: noise, method: 0 }, { name: 'link', compressed: noise, declaredSize: 10, method: 8, mode: 0o120777 }]),
      rule: 'symlink-target',
      message: /"link": its symlink target takes 102400 bytes/,
      bodyRead: true,
    },
    {
      label: 'a ../ name (refused before any data is read)',
      archive: () => buildZip([{ name: 'pad.bin', data: noise, method: 0 }, { name: '../evil', data: 'pwned' }]),
      rule: 'escapes-directory',
      message: /"\.\.\/evil": its "\.\." segments climb out/,
      bodyRead: false,
    },
  ];

  /** a.bin's local header carries 64 extra bytes the central directory does not know about, so its
   *  data ends 64 bytes into the next entry (whose own header the central directory still points to). */
  function overlapByLocalExtra(): Buffer {
    return buildZip([{ name: 'a.bin', data: noise, method: 0, localExtra: Buffer.alloc(64) }, { name: 'b.txt', data: 'b', centralOffset: 30 + 'a.bin'.length + noise.length }]);
  }

  for (const testCase of cases) {
    it(`refuses ${testCase.label}`, async () => {
      const archive = testCase.archive();
      const { source, reads } = memorySource(archive, { chunks: testCase.chunks ?? [1000, 65_536] });
      const base = await mkdtemp(join(root, 'case-'));
      const out = join(base, 'out');
      await assert.rejects(extractArchive(source, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never }), (error: unknown) => {
        assert.ok(error instanceof HostileArchive, String(error));
        assert.equal(error.rule, testCase.rule, error.message);
        assert.equal(error.failureType, 'JobFailed');
        assert.match(error.message, testCase.message);
        assert.doesNotMatch(error.message, new RegExp(base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no workspace path in the message');
        return true;
      });
      assert.deepEqual(await readdir(base), ['out'], 'nothing beside the target');
      assert.deepEqual(await readdir(out), [], 'a refused archive leaves the target empty');
      if (testCase.bodyRead !== undefined && source.tail.start > 0) {
        // A read of the first 4 bytes only tells a ZIP from something else; the body is more.
        assert.equal(reads.some((range) => range.startsWith('0-') && range !== '0-4'), testCase.bodyRead, `body read: ${reads.join(', ')}`);
      }
    });
  }

  it('refuses a body that ends before the entries do (a download cut short), leaving nothing', async () => {
    const archive = buildZip(sampleEntries());
    const { source } = memorySource(archive, { cutAt: 120 * KIB });
    const out = join(root, 'cut-short');
    await mkdir(out);
    await assert.rejects(extractArchive(source, out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never }), (error: unknown) => {
      assert.ok(error instanceof HostileArchive);
      assert.equal(error.rule, 'corrupt');
      assert.match(error.message, /it ends at offset \d+, before the entries its central directory lists/);
      return true;
    });
    assert.deepEqual(await readdir(out), []);
  });
});
