// A functional memory bound: a ~200 MiB artifact is downloaded, extracted, re-zipped and uploaded
// through the local endpoint while the process RSS is sampled; its growth must stay far below the
// artifact's size. Not a timing assertion: throughput is only reported as a diagnostic.

import { strict as assert } from 'node:assert';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Job } from '@aws-sdk/client-codepipeline';
import { createArtifactTransfer, kmsKeyFor, zipDirectory } from '../../src/worker/artifacts/index.js';
import { DEFAULT_EXTRACT_LIMITS } from '../../src/worker/types.js';
import { startTestEndpoint, type TestEndpoint } from '../helpers/endpoint.js';
import { createPipeline, pollAndAcknowledge, seedWorld, SOURCE_BUCKET, SOURCE_KEY, threeStagePipeline } from '../helpers/pipeline-world.js';
import { generatedMd5, generatedStream, md5OfBody } from '../helpers/s3-fixtures.js';
import { transferTarget } from '../helpers/transfers.js';

const MIB = 1024 * 1024;
const SIZE = 200 * MIB;
const never = new AbortController().signal;

/** Runs `work` while sampling RSS; returns the peak growth over the RSS at the start. */
async function rssGrowth(work: () => Promise<unknown>): Promise<{ growth: number; ms: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const began = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { growth: peak - start, ms: performance.now() - began };
}

async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('artifacts: a ~200 MiB artifact moves with flat memory', () => {
  let world: TestEndpoint;
  let root: string;
  let sourceZip: string;
  let job: Job;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cpsync-artifacts-large-'));
    world = await startTestEndpoint();
    await seedWorld(world, { withSource: false });
    const tree = join(root, 'tree');
    await mkdir(join(tree, 'data'), { recursive: true });
    await pipeline(generatedStream(SIZE), createWriteStream(join(tree, 'data/blob.bin')));
    sourceZip = join(root, 'source.zip');
    await pipeline((await zipDirectory(tree, 'fixture')).stream, createWriteStream(sourceZip));
    await rm(tree, { recursive: true });
    await new Upload({ client: world.s3, params: { Bucket: SOURCE_BUCKET, Key: SOURCE_KEY, Body: createReadStream(sourceZip) }, partSize: 16 * MIB }).done();
    await createPipeline(world, threeStagePipeline('Large'));
    job = await pollAndAcknowledge(world.codepipeline);
  });
  after(async () => {
    await world.close();
    await rm(root, { recursive: true, force: true });
  });

  it('extracts and re-zips it; RSS grows far less than the artifact; the output zip is byte-identical to the input', async (t) => {
    const transfer = createArtifactTransfer();
    const folder = join(root, 'ws/inputs/SourceOut');
    const download = await rssGrowth(() => transfer.downloadAndExtract(transferTarget(world, job, 'input'), folder, DEFAULT_EXTRACT_LIMITS, never));
    assert.equal((await stat(join(folder, 'data/blob.bin'))).size, SIZE);
    assert.equal(await md5OfFile(join(folder, 'data/blob.bin')), generatedMd5(SIZE));

    const output = transferTarget(world, job, 'output');
    const upload = await rssGrowth(() => transfer.zipAndUpload(output, folder, kmsKeyFor(job.data?.encryptionKey), never));

    const object = await world.s3.send(new GetObjectCommand({ Bucket: output.location.bucketName, Key: output.location.objectKey }));
    assert.equal((await md5OfBody(object.Body)).md5, await md5OfFile(sourceZip), 're-zipping the extracted tree gives the same bytes');

    const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;
    const rate = (ms: number) => `${(SIZE / MIB / (ms / 1000)).toFixed(0)} MiB/s`;
    t.diagnostic(`download+extract: RSS +${mib(download.growth)}, ${rate(download.ms)}; zip+upload: RSS +${mib(upload.growth)}, ${rate(upload.ms)} (endpoint in the same process)`);
    // The endpoint runs in this process too, and the upload holds up to queueSize × partSize (16 MiB)
    // of parts by design; the bound is what matters: nothing near the 200 MiB artifact is held.
    assert.ok(download.growth < 80 * MIB, `download grew RSS by ${mib(download.growth)}`);
    assert.ok(upload.growth < 100 * MIB, `upload grew RSS by ${mib(upload.growth)}`);
  });
});
