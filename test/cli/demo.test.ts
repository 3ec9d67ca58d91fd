import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

describe('cpsync demo (npm start)', () => {
  it('runs a whole release from a fresh folder, leaving nothing behind', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cpsync-demo-test-'));
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith('cpsync-demo-') && !name.startsWith('cpsync-demo-test-')).length;
    const result = await runCli(['demo'], { cwd: folder });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Plan: 3 to create, 1 to update, 0 to delete\./);
    assert.match(result.stdout, /Apply: 3 applied, 0 failed, 0 skipped\./);
    assert.match(result.stdout, /MyBuildStage\/MyBuildCustomAction: Succeeded — command exited 0/);
    assert.match(result.stdout, /Result: the release went through \(Succeeded\)/);
    assert.match(result.stdout, /stages: Source ✓ → MyBuildStage ✓ → Staging ✓/);
    assert.match(result.stdout, /aws:kms with the pipeline's KMS key/);
    assert.match(result.stdout, /release\.txt \| MyApp 1\.0\.0 \(project MyBuildProject\)/);
    // stderr carries only progress (plan saved, items applied): no warnings, no stack traces.
    assert.doesNotMatch(result.stderr, /warn|error|\n\s+at /i);
    assert.match(result.stderr, /default: done: pipeline:MyFirstPipeline/);
    // Its temporary state is removed, and it wrote nothing into the folder it ran in.
    const after = readdirSync(tmpdir()).filter((name) => name.startsWith('cpsync-demo-') && !name.startsWith('cpsync-demo-test-')).length;
    assert.equal(after, before);
    assert.deepEqual(readdirSync(folder), []);
  });

  it('says clearly that the release failed, and exits 1, when the build breaks', async () => {
    // A `make` that fails, first on PATH: the custom build action's tool breaks.
    const bin = mkdtempSync(join(tmpdir(), 'cpsync-demo-test-bin-'));
    writeFileSync(join(bin, 'make'), '#!/bin/sh\necho "make: *** [Makefile:9: build] Error 2" >&2\nexit 2\n', { mode: 0o755 });
    const result = await runCli(['demo'], { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /MyBuildStage\/MyBuildCustomAction: Failed/);
    assert.match(result.stdout, /Result: the release stopped \(Failed\)/);
    assert.match(result.stdout, /Error 2/);
  });

  it('keeps its state with --data', async () => {
    const data = join(mkdtempSync(join(tmpdir(), 'cpsync-demo-test-')), 'state');
    const result = await runCli(['demo', '--data', data]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(existsSync(join(data, 'endpoint')));
    assert.ok(existsSync(join(data, 'plan.json')));
  });
});
