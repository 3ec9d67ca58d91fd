// The benchmark harness's pure parts: statistics and rewriting docs/benchmarks.md in place.
// No timing is asserted here; benchmarks run with `npm run bench`.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { quantile, writeDocsSection } from '../../bench/harness.js';

describe('bench harness', () => {
  it('quantile interpolates between closest ranks', () => {
    assert.equal(quantile([3, 1, 2], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9), 10);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });

  it('writes a section, then replaces it in place keeping the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpsync-bench-docs-'));
    try {
      const file = join(dir, 'benchmarks.md');
      writeDocsSection('startup', 'FIRST-BODY', file);
      const created = await readFile(file, 'utf8');
      assert.match(created, /^# Benchmarks/);
      assert.match(created, /<!-- bench:startup:start -->\nFIRST-BODY\n<!-- bench:startup:end -->\n$/);

      await writeFile(file, `${created}\nhand-written notes\n`);
      writeDocsSection('local', 'other', file);
      writeDocsSection('startup', 'second', file);
      const updated = await readFile(file, 'utf8');
      assert.doesNotMatch(updated, /FIRST-BODY/);
      assert.equal(updated.match(/bench:startup:start/g)?.length, 1);
      assert.ok(updated.indexOf('second') < updated.indexOf('hand-written notes'));
      assert.ok(updated.indexOf('hand-written notes') < updated.indexOf('<!-- bench:local:start -->\nother\n'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
