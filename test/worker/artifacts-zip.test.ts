// Extraction and zipping on real files: hostile archives built byte by byte (each refused with its
// own rule, nothing written outside the target, the target left empty), archives made by Info-ZIP
// `zip`, our zips read by Info-ZIP `unzip`, and byte-identical output for the same tree.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { extractZip, HostileArchive, listTree, zipDirectory, type HostileRule } from '../../src/worker/artifacts/index.js';
import { DEFAULT_EXTRACT_LIMITS, JobFailure, type ExtractLimits } from '../../src/worker/types.js';
import { generatedStream } from '../helpers/s3-fixtures.js';
import { buildZip, deflatedZeros, describeTree, S_IFLNK, type RawEntry } from '../helpers/zips.js';

const never = new AbortController().signal;

function hasTool(tool: string): boolean {
  try {
    execFileSync(tool, ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A workspace: base/ws/out is the target; base/victim is "outside" and must stay untouched. */
async function workspace(root: string, label: string) {
  const base = await mkdtemp(join(root, `${label.replace(/[^a-z0-9]/gi, '_')}-`));
  await mkdir(join(base, 'ws'));
  await mkdir(join(base, 'victim'));
  await writeFile(join(base, 'victim', 'passwd'), 'root:x:0:0\n');
  return { base, ws: join(base, 'ws'), out: join(base, 'ws', 'out'), victim: join(base, 'victim') };
}

async function assertNothingOutside(place: Awaited<ReturnType<typeof workspace>>, archive: string): Promise<void> {
  assert.deepEqual((await readdir(place.base)).sort(), [archive, 'victim', 'ws'].sort(), 'nothing new beside the workspace');
  assert.deepEqual(await readdir(place.ws), ['out'], 'nothing beside the target directory');
  assert.deepEqual(await readdir(place.victim), ['passwd']);
  assert.equal(await readFile(join(place.victim, 'passwd'), 'utf8'), 'root:x:0:0\n');
}

async function makeTree(directory: string): Promise<void> {
  await mkdir(join(directory, 'src/lib/deep'), { recursive: true });
  await mkdir(join(directory, 'empty-dir'));
  await writeFile(join(directory, 'src/lib/deep/data.txt'), 'x'.repeat(100_000));
  await writeFile(join(directory, 'src/main.ts'), 'export const answer = 42;\n');
  await writeFile(join(directory, 'build.sh'), '#!/bin/sh\necho built\n');
  await chmod(join(directory, 'build.sh'), 0o755);
  await writeFile(join(directory, 'empty.txt'), '');
  await symlink('src/main.ts', join(directory, 'main-link'));
  await symlink('../lib', join(directory, 'src/lib/deep/up'));
}

describe('artifacts: hostile archives are refused, nothing is written outside', () => {
  let root: string;
  let bomb: { compressed: Buffer; crc: number };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-hostile-'));
    bomb = await deflatedZeros(1024 ** 3);
  });
  after(async () => rm(root, { recursive: true, force: true }));

  const link = (name: string, target: string): RawEntry => ({ name, data: target, method: 0, mode: S_IFLNK | 0o777 });
  const cases: Array<{ label: string; entries: (victim: string) => RawEntry[]; rule: HostileRule; message: RegExp; limits?: Partial<ExtractLimits> }> = [
    { label: '../evil', entries: () => [{ name: 'ok.txt', data: 'fine' }, { name: '../evil', data: 'pwned' }], rule: 'escapes-directory', message: /entry "\.\.\/evil": its "\.\." segments climb out/ },
    { label: '/abs', entries: (victim) => [{ name: `${victim}/abs`, data: 'pwned' }], rule: 'absolute-path', message: /the path is absolute/ },
    { label: 'a/../../evil', entries: () => [{ name: 'a/../../evil', data: 'pwned' }], rule: 'escapes-directory', message: /"a\/\.\.\/\.\.\/evil"/ },
    { label: 'C:\\evil', entries: () => [{ name: 'C:\\evil', data: 'pwned' }], rule: 'drive-letter', message: /drive letter/ },
    { label: '..\\evil', entries: () => [{ name: '..\\evil', data: 'pwned' }], rule: 'escapes-directory', message: /\(backslash-separated\) climb out/ },
    { label: 'symlink to /etc alone', entries: () => [link('link', '/etc')], rule: 'symlink-outside', message: /entry "link": it is a symlink to "\/etc", which points outside/ },
    // A path through an earlier symlink is refused from the central directory alone, before any
    // data (and so any symlink target) is read.
    {
      label: 'symlink to an absolute folder, then a file through it',
      entries: (victim) => [link('link', victim), { name: 'link/passwd', data: 'pwned' }],
      rule: 'through-symlink',
      message: /"link\/passwd": its path passes through the symlink "link"/,
    },
    { label: 'symlink ../.., then a file through it', entries: () => [link('link', '../..'), { name: 'link/ws/evil', data: 'pwned' }], rule: 'through-symlink', message: /"link\/ws\/evil": its path passes through/ },
    { label: 'symlink ../.. alone', entries: () => [{ name: 'ok.txt', data: 'fine' }, link('link', '../..')], rule: 'symlink-outside', message: /"link": it is a symlink to "\.\.\/\.\.", which points outside/ },
    { label: 'symlink to an absolute folder alone', entries: (victim) => [link('link', victim)], rule: 'symlink-outside', message: /"link": it is a symlink to "\// },
    { label: 'a file through a symlink that stays inside', entries: () => [{ name: 'sub/' }, link('link', 'sub'), { name: 'link/x', data: 'x' }], rule: 'through-symlink', message: /"link\/x": its path passes through the symlink "link"/ },
    { label: 'a duplicate entry over a symlink', entries: () => [{ name: 'f', data: 'a' }, link('l', 'f'), { name: 'l', data: 'overwrite' }], rule: 'duplicate-entry', message: /"l": it would overwrite the symlink "l"/ },
    {
      label: 'an escape hidden in a symlink chain (checked once the tree is complete)',
      entries: () => [{ name: 'a/' }, link('c', 'a/b/..'), link('a/b', '..')],
      rule: 'symlink-outside',
      message: /"c": it is a symlink to "a\/b\/\.\."/,
    },
    {
      label: 'a 1 GiB run of zeros (ratio, from real bytes)',
      entries: () => [{ name: 'zeros.bin', compressed: bomb.compressed, crc: bomb.crc, declaredSize: 1024 ** 3, method: 8 }],
      rule: 'compression-ratio',
      message: /"zeros\.bin": it expands more than 200 times its compressed size/,
    },
    {
      label: 'a small declared size that expands to more',
      entries: () => [{ name: 'liar.txt', data: 'y'.repeat(100_000), declaredSize: 10 }],
      rule: 'size-mismatch',
      message: /"liar\.txt": it declares 10 bytes but expands to more/,
    },
    { label: 'more bytes than allowed', entries: () => [{ name: 'big.bin', data: 'z'.repeat(5000) }], limits: { maxTotalBytes: 4096 }, rule: 'too-large', message: /declare 5000 bytes in all, more than the limit of 4096/ },
    {
      label: 'too many entries',
      entries: () => Array.from({ length: 11 }, (_, index) => ({ name: `f${index}`, data: 'x' })),
      limits: { maxEntries: 10 },
      rule: 'too-many-entries',
      message: /has 11 entries, more than the limit of 10/,
    },
    { label: 'an encrypted entry', entries: () => [{ name: 'secret.txt', data: 'encrypted-looking', flags: 0x1 }], rule: 'encrypted', message: /"secret\.txt": it is encrypted/ },
    { label: 'an unsupported compression method (bzip2)', entries: () => [{ name: 'b.bz2', data: 'x', method: 12, compressed: Buffer.from('BZh9') }], rule: 'unsupported-compression', message: /compression method 12/ },
    { label: 'a corrupt CRC', entries: () => [{ name: 'crc.txt', data: 'hello', crc: 1234 }], rule: 'corrupt', message: /CRC-32 does not match/ },
  ];

  for (const testCase of cases) {
    it(`refuses ${testCase.label}`, async () => {
      const place = await workspace(root, testCase.label);
      await writeFile(join(place.base, 'artifact.zip'), buildZip(testCase.entries(place.victim)));
      const limits = { ...DEFAULT_EXTRACT_LIMITS, ...testCase.limits };
      await assert.rejects(extractZip(join(place.base, 'artifact.zip'), place.out, { artifact: 'SourceOut', limits, signal: never }), (error: unknown) => {
        assert.ok(error instanceof HostileArchive, String(error));
        assert.equal(error.rule, testCase.rule, error.message);
        assert.equal(error.failureType, 'JobFailed');
        assert.match(error.message, /^input artifact SourceOut/);
        assert.match(error.message, testCase.message);
        assert.doesNotMatch(error.message, new RegExp(place.ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no workspace path in the message');
        return true;
      });
      await assertNothingOutside(place, 'artifact.zip');
      assert.deepEqual(await readdir(place.out), [], 'a refused archive leaves the target empty');
    });
  }

  it('refuses a file that is not a ZIP as not-zip, as it does an S3 object', async () => {
    const place = await workspace(root, 'not-zip');
    await writeFile(join(place.base, 'artifact.zip'), 'just some text, no central directory');
    await assert.rejects(extractZip(join(place.base, 'artifact.zip'), place.out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never }), (error: unknown) => {
      assert.ok(error instanceof HostileArchive);
      assert.equal(error.rule, 'not-zip');
      assert.equal(error.message, 'input artifact SourceOut is not a ZIP file: it does not start with a ZIP signature (PK\\x03\\x04)');
      return true;
    });
    await assertNothingOutside(place, 'artifact.zip');
  });

  it('extracts harmless relative forms (./a, a/../b, backslashes) inside the directory (JEN #32)', async () => {
    const place = await workspace(root, 'harmless');
    await writeFile(
      join(place.base, 'artifact.zip'),
      buildZip([{ name: './' }, { name: './a.txt', data: 'a' }, { name: 'x/../b.txt', data: 'b' }, { name: 'win\\dir\\c.txt', data: 'c' }, { name: 'sub/' }, { name: 'inside', data: 'sub', method: 0, mode: S_IFLNK | 0o777 }]),
    );
    const result = await extractZip(join(place.base, 'artifact.zip'), place.out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    assert.deepEqual(result, { files: 4, bytes: 6 });
    assert.deepEqual(await describeTree(place.out), [
      'a.txt file 644 1 ca978112ca1bbdca',
      'b.txt file 644 1 3e23e8160039594a',
      'inside symlink -> sub',
      'sub/ dir 755',
      'win/ dir 755',
      'win/dir/ dir 755',
      'win/dir/c.txt file 644 1 2e7d2c03a9507ae2',
    ]);
    await assertNothingOutside(place, 'artifact.zip');
  });

  it('extracts an empty ZIP (end record only) to an empty directory', async () => {
    const place = await workspace(root, 'empty');
    await writeFile(join(place.base, 'artifact.zip'), buildZip([]));
    assert.deepEqual(await extractZip(join(place.base, 'artifact.zip'), place.out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never }), { files: 0, bytes: 0 });
    assert.deepEqual(await readdir(place.out), []);
  });

  it('keeps timestamps from the entries', async () => {
    const place = await workspace(root, 'times');
    await writeFile(join(place.base, 'artifact.zip'), buildZip([{ name: 'd/' }, { name: 'd/f.txt', data: 'f' }]));
    await extractZip(join(place.base, 'artifact.zip'), place.out, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    const expected = new Date(2020, 5, 15, 12, 30, 0).getTime(); // the DOS time the builder writes, local time
    assert.equal((await lstat(join(place.out, 'd/f.txt'))).mtime.getTime(), expected);
    assert.equal((await lstat(join(place.out, 'd'))).mtime.getTime(), expected);
  });
});

describe('artifacts: deterministic zips that keep modes, empty folders and symlinks', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-zip-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  async function zipTo(directory: string, file: string): Promise<{ files: number; bytes: number }> {
    const zipped = await zipDirectory(directory, 'BuildOut');
    await pipeline(zipped.stream, createWriteStream(file));
    return { files: zipped.files, bytes: zipped.bytes() };
  }

  it('round-trips a tree through our zipper and extractor, byte-identical on a second run', async () => {
    const tree = join(root, 'tree');
    await makeTree(tree);
    const first = await zipTo(tree, join(root, 'first.zip'));
    // Different mtimes and a second run must not change a byte.
    await utimes(join(tree, 'src/main.ts'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const second = await zipTo(tree, join(root, 'second.zip'));
    assert.deepEqual(first, second);
    assert.equal(first.files, 6);
    assert.ok((await readFile(join(root, 'first.zip'))).equals(await readFile(join(root, 'second.zip'))), 'byte-identical zips');

    const out = join(root, 'extracted');
    await extractZip(join(root, 'first.zip'), out, { artifact: 'BuildOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    assert.deepEqual(await describeTree(out), await describeTree(tree));
    assert.ok((await lstat(join(out, 'main-link'))).isSymbolicLink());
    assert.equal((await lstat(join(out, 'build.sh'))).mode & 0o777, 0o755);
  });

  it('writes a small tree in memory with exactly the bytes of the streaming writer', async () => {
    const tree = join(root, 'both-writers');
    await makeTree(tree);
    // Beyond makeTree: a non-ASCII name, a file over the 64 KiB synchronous limit that does not
    // compress, and files of 1 byte and exactly 64 KiB.
    await writeFile(join(tree, 'src/ünïcödé — name.txt'), 'héllo wörld\n'.repeat(500));
    await pipeline(generatedStream(300_000, 9), createWriteStream(join(tree, 'noise.bin')));
    await writeFile(join(tree, 'one.txt'), '1');
    await writeFile(join(tree, 'sixty-four.txt'), 'z'.repeat(64 * 1024));
    const inMemory = await zipDirectory(tree, 'BuildOut');
    const streamed = await zipDirectory(tree, 'BuildOut', { inMemoryBytes: -1 });
    assert.ok(inMemory.buffer, 'a tree under 1 MiB is zipped in memory');
    assert.equal(streamed.buffer, undefined, 'inMemoryBytes: -1 forces the streaming writer');
    const collect = async (stream: NodeJS.ReadableStream) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    const [a, b] = [await collect(inMemory.stream), await collect(streamed.stream)];
    assert.ok(a.equals(b), `byte-identical archives (${a.length} and ${b.length} bytes)`);
    assert.equal(inMemory.files, streamed.files);
    assert.equal(inMemory.bytes(), streamed.bytes());
    const out = join(root, 'both-writers-out');
    await writeFile(join(root, 'both-writers.zip'), a);
    await extractZip(join(root, 'both-writers.zip'), out, { artifact: 'BuildOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    assert.deepEqual(await describeTree(out), await describeTree(tree));
  });

  it('lists entries sorted by path with directories as entries', async () => {
    const tree = join(root, 'listing');
    await makeTree(tree);
    const entries = await listTree(tree, 'BuildOut');
    assert.deepEqual(
      entries.map((entry) => `${entry.kind}:${entry.path}`),
      ['file:build.sh', 'directory:empty-dir', 'file:empty.txt', 'symlink:main-link', 'directory:src', 'directory:src/lib', 'directory:src/lib/deep', 'file:src/lib/deep/data.txt', 'symlink:src/lib/deep/up', 'file:src/main.ts'],
    );
  });

  it('refuses to zip a symlink that points outside the folder (JEN follows them)', async () => {
    for (const [label, target] of [
      ['absolute', '/etc'],
      ['relative', '../../outside'],
    ] as const) {
      const tree = join(root, `escaping-${label}`);
      await mkdir(tree, { recursive: true });
      await writeFile(join(tree, 'a.txt'), 'a');
      await symlink(target, join(tree, 'leak'));
      await assert.rejects(zipDirectory(tree, 'BuildOut'), (error: unknown) => {
        assert.ok(error instanceof HostileArchive);
        assert.equal(error.failureType, 'JobFailed');
        assert.match(error.message, new RegExp(`output artifact BuildOut: the symlink "leak" -> "${target.replace(/\./g, '\\.')}" points outside the artifact directory`));
        return true;
      });
    }
  });

  it('fails with a clear JobFailure when a file changes while it is zipped', async () => {
    const tree = join(root, 'changing');
    await mkdir(tree, { recursive: true });
    await pipeline(generatedStream(4 * 1024 * 1024), createWriteStream(join(tree, 'a.bin')));
    // Over the in-memory zip's size: streamed, and reached by yazl after a.bin.
    await pipeline(generatedStream(2 * 1024 * 1024), createWriteStream(join(tree, 'b.bin')));
    const zipped = await zipDirectory(tree, 'BuildOut');
    await truncate(join(tree, 'b.bin'), 10);
    await assert.rejects(pipeline(zipped.stream, createWriteStream(join(root, 'changing.zip'))), (error: unknown) => {
      assert.ok(error instanceof JobFailure, String(error));
      assert.equal(error.failureType, 'JobFailed');
      assert.match(error.message, /^output artifact BuildOut: a file changed while it was being zipped/);
      return true;
    });
  });

  it('refuses to zip a FIFO', async () => {
    const tree = join(root, 'fifo');
    await mkdir(tree, { recursive: true });
    try {
      execFileSync('mkfifo', [join(tree, 'pipe')]);
    } catch {
      return; // no mkfifo here
    }
    await assert.rejects(zipDirectory(tree, 'BuildOut'), /output artifact BuildOut: "pipe" is not a file, directory or symlink/);
  });

  it('interoperates with Info-ZIP: unzip reads our zip, we read a zip -y archive', { skip: !hasTool('zip') || !hasTool('unzip') ? 'Info-ZIP zip/unzip not installed' : false }, async () => {
    const tree = join(root, 'interop');
    await makeTree(tree);
    await zipTo(tree, join(root, 'ours.zip'));
    const unzipped = join(root, 'by-unzip');
    execFileSync('unzip', ['-q', join(root, 'ours.zip'), '-d', unzipped]);
    assert.deepEqual(await describeTree(unzipped), await describeTree(tree));

    execFileSync('zip', ['-q', '-r', '-y', join(root, 'theirs.zip'), '.'], { cwd: tree });
    const extracted = join(root, 'from-info-zip');
    await extractZip(join(root, 'theirs.zip'), extracted, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    assert.deepEqual(await describeTree(extracted), await describeTree(tree));
  });
});
