// Staging an upload body on disk (src/emulator/s3/disk-files.ts) with bodies large enough that the
// file is flushed early while the body still arrives (every 64 MiB): the bytes must come out whole,
// and a body refused after a flush must leave no file behind. No timing is asserted.

import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stageBody, type BodyFilter } from '../../src/emulator/s3/disk-files.js';
import { generatedMd5, generatedStream } from '../helpers/s3-fixtures.js';

const MiB = 1024 * 1024;
const passThrough: BodyFilter = { write: (raw) => raw, end: () => undefined };

async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('stageBody', () => {
  const root = mkdtempSync(join(tmpdir(), 'cpsync-disk-files-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('stages a body larger than the early-flush interval whole, and only it', async () => {
    const dir = mkdtempSync(join(root, 'whole-'));
    const size = 150 * MiB + 12_345;
    const staged = await stageBody(dir, generatedStream(size), passThrough);
    assert.equal(staged.size, size);
    assert.equal(await md5OfFile(staged.path), generatedMd5(size));
    assert.deepEqual(readdirSync(dir), [staged.path.slice(dir.length + 1)]);
  });

  it('removes the file when the body is refused after an early flush', async () => {
    const dir = mkdtempSync(join(root, 'refused-'));
    let seen = 0;
    const refuseLate: BodyFilter = {
      write: (raw) => {
        seen += raw.length;
        if (seen > 100 * MiB) throw new Error('refused at 100 MiB');
        return raw;
      },
      end: () => undefined,
    };
    await assert.rejects(stageBody(dir, generatedStream(150 * MiB), refuseLate), /refused at 100 MiB/);
    assert.deepEqual(readdirSync(dir), []);
  });
});
