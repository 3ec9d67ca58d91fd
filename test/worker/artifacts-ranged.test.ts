// Input artifacts downloaded from `cpsync local` tail first and extracted while the body streams in,
// through the real SDK over real HTTP. A small recording proxy sits between the transfer and the
// endpoint: it shows which ranged GETs are made (one for a small artifact, tail + body for a large
// one, If-Match on every request after the first), and injects what the endpoint cannot: a body that
// breaks off mid-way, and an object replaced between two requests.

import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createArtifactTransfer, extractArchive, HostileArchive } from '../../src/worker/artifacts/index.js';
import { openS3Zip } from '../../src/worker/artifacts/ranged-zip.js';
import { TAIL_BYTES } from '../../src/worker/artifacts/extract.js';
import { DEFAULT_EXTRACT_LIMITS, type TransferTarget } from '../../src/worker/types.js';
import { startTestEndpoint, TEST_CREDENTIALS, type TestEndpoint } from '../helpers/endpoint.js';
import { buildZip, describeTree, type RawEntry } from '../helpers/zips.js';
import { jobFailureOf } from '../helpers/transfers.js';

const MIB = 1024 * 1024;
const BUCKET = 'ranged-artifacts';
const never = new AbortController().signal;

interface Seen {
  readonly method: string;
  readonly key: string;
  readonly range: string | undefined;
  readonly ifMatch: string | undefined;
  status?: number;
  etag?: string;
}

interface ProxyRules {
  /** Bytes of the response body to pass before breaking the connection (undefined: all). */
  cutAfter?: (seen: Seen, index: number) => number | undefined;
  /** Bytes of the response body to pass before sending nothing more (the connection stays open);
   *  `onStall` is called then. */
  stallAfter?: (seen: Seen) => number | undefined;
  onStall?: () => void;
  /** Runs before the request is forwarded. */
  beforeForward?: (seen: Seen, index: number) => Promise<void>;
}

/** Forwards every request to the endpoint, recording it; rules may cut a body or act in between. */
async function startProxy(target: string): Promise<{ url: string; seen: Seen[]; rules: ProxyRules; close: () => Promise<void> }> {
  const upstream = new URL(target);
  const seen: Seen[] = [];
  const rules: ProxyRules = {};
  const server: Server = createServer((incoming, outgoing) => {
    const record: Seen = {
      method: incoming.method ?? 'GET',
      key: decodeURIComponent(new URL(incoming.url ?? '/', 'http://proxy').pathname),
      range: incoming.headers.range,
      ifMatch: incoming.headers['if-match'],
    };
    const index = seen.push(record) - 1;
    void (async () => {
      await rules.beforeForward?.(record, index);
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer: IncomingMessage) => {
        record.status = answer.statusCode;
        record.etag = answer.headers.etag;
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        const cut = rules.cutAfter?.(record, index);
        const stall = rules.stallAfter?.(record);
        const limit = cut ?? stall;
        if (limit === undefined) return void answer.pipe(outgoing);
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= limit) return;
          const take = Math.min(chunk.length, limit - sent);
          outgoing.write(chunk.subarray(0, take));
          sent += take;
          if (sent < limit) return;
          answer.destroy();
          if (cut !== undefined) setTimeout(() => outgoing.socket?.destroy(), 20); // let the bytes written arrive first
          else rules.onStall?.();
        });
        answer.on('end', () => outgoing.end());
      });
      forward.on('error', () => outgoing.socket?.destroy());
      incoming.pipe(forward);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    rules,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** 12 MiB of stored noise, 1 MiB deflated (the streaming inflater), small files, a folder and a link. */
function largeEntries(): RawEntry[] {
  return [
    { name: 'bin/' },
    { name: 'bin/tool', data: randomBytes(8 * MIB), method: 0, mode: 0o100755 },
    { name: 'assets/a.bin', data: randomBytes(4 * MIB), method: 0 },
    { name: 'assets/b.bin', data: randomBytes(MIB) },
    { name: 'src/main.ts', data: 'export const answer = 42;\n'.repeat(1000) },
    { name: 'main-link', data: 'src/main.ts', method: 0, mode: 0o120777 },
  ];
}

describe('artifacts over S3: tail first, then the body while extracting', () => {
  let world: TestEndpoint;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let root: string;
  let large: Buffer;
  let largeTree: string;
  let count = 0;
  const transfer = createArtifactTransfer();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-ranged-'));
    world = await startTestEndpoint();
    proxy = await startProxy(world.endpoint.url);
    await world.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    large = buildZip(largeEntries());
    // What the large archive extracts to, by another route (the file path, already tested against Info-ZIP).
    const { extractZip } = await import('../../src/worker/artifacts/index.js');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(root, 'large.zip'), large);
    largeTree = join(root, 'large-tree');
    await extractZip(join(root, 'large.zip'), largeTree, { artifact: 'fixture', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
  });
  after(async () => {
    await proxy.close();
    await world.close();
    await rm(root, { recursive: true, force: true });
  });

  async function put(key: string, body: Buffer | string): Promise<void> {
    await world.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  }

  function targetFor(key: string): TransferTarget {
    return { location: { name: 'SourceOut', bucketName: BUCKET, objectKey: key }, credentials: { ...TEST_CREDENTIALS, sessionToken: '' }, region: world.endpoint.region, endpoint: proxy.url };
  }

  /** A fresh workspace folder; the requests made for `key` from here on. */
  function fresh(key: string) {
    const parent = join(root, `ws-${count++}`);
    const from = proxy.seen.length;
    return { parent, directory: join(parent, 'SourceOut'), requests: () => proxy.seen.slice(from).filter((seen) => seen.key === `/${BUCKET}/${key}`) };
  }

  it('takes a small artifact in one ranged GET, into memory: no second request, no staging file', async () => {
    await put('small.zip', buildZip([{ name: 'a.txt', data: 'a' }, { name: 'd/b.txt', data: 'b'.repeat(5000) }]));
    const ws = fresh('small.zip');
    const result = await transfer.downloadAndExtract(targetFor('small.zip'), ws.directory, DEFAULT_EXTRACT_LIMITS, never);
    assert.deepEqual(result, { files: 2, bytes: 5001 });
    assert.equal(await readFile(join(ws.directory, 'd/b.txt'), 'utf8'), 'b'.repeat(5000));
    assert.deepEqual(
      ws.requests().map((seen) => [seen.method, seen.range, seen.status]),
      [['GET', `bytes=-${TAIL_BYTES}`, 206]],
    );
    assert.deepEqual(await readdir(ws.parent), ['SourceOut'], 'nothing written beside the artifact folder');
  });

  it('takes a large artifact as its tail, then one body GET up to the tail, pinned to the same object with If-Match', async () => {
    await put('large.zip', large);
    const ws = fresh('large.zip');
    const result = await transfer.downloadAndExtract(targetFor('large.zip'), ws.directory, DEFAULT_EXTRACT_LIMITS, never);
    assert.equal(result.files, 5);
    assert.deepEqual(await describeTree(ws.directory), await describeTree(largeTree));
    const [tail, body, ...rest] = ws.requests();
    assert.deepEqual(rest, []);
    assert.equal(tail?.range, `bytes=-${TAIL_BYTES}`);
    assert.equal(body?.range, `bytes=0-${large.length - TAIL_BYTES - 1}`, 'the bytes already in the tail are not fetched again');
    assert.ok(tail?.etag);
    assert.equal(body?.ifMatch, tail.etag);
    assert.deepEqual(await readdir(ws.parent), ['SourceOut']);
  });

  it('picks a body that breaks off up again from the byte where it stopped', async () => {
    await put('resumed.zip', large);
    const ws = fresh('resumed.zip');
    const cutAt = 3 * MIB + 12_345;
    let cuts = 0;
    proxy.rules.cutAfter = (seen) => (seen.range?.startsWith('bytes=0-') && cuts++ === 0 ? cutAt : undefined);
    try {
      await transfer.downloadAndExtract(targetFor('resumed.zip'), ws.directory, DEFAULT_EXTRACT_LIMITS, never);
    } finally {
      proxy.rules.cutAfter = undefined;
    }
    assert.deepEqual(await describeTree(ws.directory), await describeTree(largeTree));
    const ranges = ws.requests().map((seen) => seen.range);
    assert.deepEqual(ranges, [`bytes=-${TAIL_BYTES}`, `bytes=0-${large.length - TAIL_BYTES - 1}`, `bytes=${cutAt}-${large.length - TAIL_BYTES - 1}`]);
  });

  it('reads stretches of a large artifact over several connections at once, each pinned with If-Match', async () => {
    await put('streams.zip', large);
    const ws = fresh('streams.zip');
    const client = new S3Client({ endpoint: proxy.url, region: world.endpoint.region, credentials: TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
    try {
      const site = { direction: 'download' as const, artifact: 'SourceOut', bucket: BUCKET, key: 'streams.zip' };
      const get = (Range: string, IfMatch: string | undefined, abortSignal: AbortSignal) => client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'streams.zip', Range, ...(IfMatch ? { IfMatch } : {}) }), { abortSignal });
      const source = await openS3Zip({ get, site, signal: never, resumes: 0, streams: { count: 3, minBytes: 3 * MIB } });
      await extractArchive(source, ws.directory, { artifact: 'SourceOut', limits: DEFAULT_EXTRACT_LIMITS, signal: never });
    } finally {
      client.destroy();
    }
    assert.deepEqual(await describeTree(ws.directory), await describeTree(largeTree));
    // Stretches start at entries (bin/tool at 0, assets/a.bin after its 8 MiB); the third lies in the tail.
    const [tail, ...bodies] = ws.requests();
    const aBin = 30 + 'bin/'.length + 30 + 'bin/tool'.length + 8 * MIB;
    assert.deepEqual(bodies.map((seen) => seen.range).sort(), [`bytes=0-${aBin - 1}`, `bytes=${aBin}-${large.length - TAIL_BYTES - 1}`]);
    for (const body of bodies) assert.equal(body.ifMatch, tail?.etag);
  });

  it('gets a body through that breaks off again and again, as long as each try brings a good part of it', async () => {
    await put('flaky.zip', large);
    const ws = fresh('flaky.zip');
    proxy.rules.cutAfter = (seen) => (seen.range && !seen.range.startsWith('bytes=-') ? 2 * MIB : undefined);
    try {
      await createArtifactTransfer({ maxAttempts: 2 }).downloadAndExtract(targetFor('flaky.zip'), ws.directory, DEFAULT_EXTRACT_LIMITS, never);
    } finally {
      proxy.rules.cutAfter = undefined;
    }
    assert.deepEqual(await describeTree(ws.directory), await describeTree(largeTree));
    const bodies = ws.requests().slice(1);
    assert.equal(bodies.length, Math.ceil((large.length - TAIL_BYTES) / (2 * MIB)), 'one request per 2 MiB');
    bodies.forEach((seen, index) => assert.equal(seen.range, `bytes=${index * 2 * MIB}-${large.length - TAIL_BYTES - 1}`));
  });

  it('fails as SystemUnavailable when the body keeps breaking off without progress, and leaves the folder empty', async () => {
    await put('broken.zip', large);
    const ws = fresh('broken.zip');
    proxy.rules.cutAfter = (seen) => (seen.range && !seen.range.startsWith('bytes=-') ? 100_000 : undefined);
    try {
      const failure = await jobFailureOf(createArtifactTransfer({ maxAttempts: 2 }).downloadAndExtract(targetFor('broken.zip'), ws.directory, DEFAULT_EXTRACT_LIMITS, never));
      assert.equal(failure.failureType, 'SystemUnavailable');
      assert.match(failure.message, /^could not download input artifact SourceOut from s3:\/\/ranged-artifacts\/broken\.zip: the download broke off after \d+ of \d+ bytes and resuming it failed too/);
    } finally {
      proxy.rules.cutAfter = undefined;
    }
    assert.equal(ws.requests().length, 3, 'the tail, the body, one resume (maxAttempts 2)');
    assert.deepEqual(await readdir(ws.directory), []);
    assert.deepEqual(await readdir(ws.parent), ['SourceOut']);
  });

  it('refuses to mix two versions of the object: a replacement between the tail and the body fails the download', async () => {
    await put('replaced.zip', large);
    const ws = fresh('replaced.zip');
    proxy.rules.beforeForward = async (seen) => {
      if (seen.range?.startsWith('bytes=0-')) await put('replaced.zip', buildZip(largeEntries()));
    };
    try {
      const failure = await jobFailureOf(transfer.downloadAndExtract(targetFor('replaced.zip'), ws.directory, DEFAULT_EXTRACT_LIMITS, never));
      assert.equal(failure.failureType, 'SystemUnavailable');
      assert.match(failure.message, /the object changed while it was being downloaded \(PreconditionFailed, HTTP 412\)/);
    } finally {
      proxy.rules.beforeForward = undefined;
    }
    assert.deepEqual(await readdir(ws.directory), []);
  });

  it('refuses a hostile name from the tail alone, without fetching the body', async () => {
    const entries = largeEntries();
    await put('hostile.zip', buildZip([...entries.slice(0, 3), { name: '../../etc/cron.d/evil', data: 'pwned' }]));
    const ws = fresh('hostile.zip');
    const failure = await jobFailureOf(transfer.downloadAndExtract(targetFor('hostile.zip'), ws.directory, DEFAULT_EXTRACT_LIMITS, never));
    assert.ok(failure instanceof HostileArchive);
    assert.equal(failure.rule, 'escapes-directory');
    assert.equal(ws.requests().length, 1, 'only the tail was requested');
    assert.deepEqual(await readdir(ws.directory), []);
  });

  it('says an empty object is empty, and a large object that is not a ZIP is not one', async () => {
    await put('empty.zip', Buffer.alloc(0));
    const empty = await jobFailureOf(transfer.downloadAndExtract(targetFor('empty.zip'), fresh('empty.zip').directory, DEFAULT_EXTRACT_LIMITS, never));
    assert.ok(empty instanceof HostileArchive);
    assert.equal(empty.message, 'input artifact SourceOut is not a ZIP file: the object is empty');

    await put('noise.bin', randomBytes(TAIL_BYTES + MIB));
    const ws = fresh('noise.bin');
    const noise = await jobFailureOf(transfer.downloadAndExtract(targetFor('noise.bin'), ws.directory, DEFAULT_EXTRACT_LIMITS, never));
    assert.ok(noise instanceof HostileArchive);
    assert.equal(noise.message, 'input artifact SourceOut is not a ZIP file: it does not start with a ZIP signature (PK\\x03\\x04)');
    assert.deepEqual(
      ws.requests().map((seen) => seen.range),
      [`bytes=-${TAIL_BYTES}`, 'bytes=0-3'],
      'the tail, then only the first bytes to tell what it is',
    );
  });

  it('refuses a large ZIP that was truncated as corrupt', async () => {
    await put('truncated.zip', large.subarray(0, large.length - 1000));
    const failure = await jobFailureOf(transfer.downloadAndExtract(targetFor('truncated.zip'), fresh('truncated.zip').directory, DEFAULT_EXTRACT_LIMITS, never));
    assert.ok(failure instanceof HostileArchive);
    assert.equal(failure.rule, 'corrupt');
    assert.match(failure.message, /it has no end of central directory record \(is it truncated\?\)/);
  });

  it('stops a download in flight when the signal is aborted: SystemUnavailable, the folder left empty', async () => {
    await put('aborted.zip', large);
    const ws = fresh('aborted.zip');
    const controller = new AbortController();
    // The body stops after 2 MiB (files are being written by then) and the connection stays open:
    // only the abort can end the download.
    proxy.rules.stallAfter = (seen) => (seen.range?.startsWith('bytes=0-') ? 2 * MIB : undefined);
    proxy.rules.onStall = () => setTimeout(() => controller.abort(), 50);
    try {
      const failure = await jobFailureOf(transfer.downloadAndExtract(targetFor('aborted.zip'), ws.directory, DEFAULT_EXTRACT_LIMITS, controller.signal));
      assert.equal(failure.failureType, 'SystemUnavailable');
      assert.match(failure.message, /could not download input artifact SourceOut .*: the transfer was cancelled/);
    } finally {
      proxy.rules.stallAfter = undefined;
      proxy.rules.onStall = undefined;
    }
    assert.equal(ws.requests().length, 2);
    assert.deepEqual(await readdir(ws.directory), []);
    assert.deepEqual(await readdir(ws.parent), ['SourceOut']);
  });
});
