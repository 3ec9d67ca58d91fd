import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyTree } from '../../plugins/shared/copy-tree.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'cpsync-copy-tree-'));
}

test('copies a nested tree with its modes, and symlinks as links with their target text unchanged', async () => {
  const root = scratch();
  const source = join(root, 'src');
  mkdirSync(join(source, 'bin', 'deep'), { recursive: true });
  writeFileSync(join(source, 'README'), 'read me');
  writeFileSync(join(source, 'bin', 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(source, 'bin', 'run.sh'), 0o755);
  writeFileSync(join(source, 'bin', 'deep', 'data.bin'), Buffer.alloc(70_000, 7));
  chmodSync(join(source, 'bin', 'deep', 'data.bin'), 0o600);
  symlinkSync('../README', join(source, 'bin', 'readme-link'));
  symlinkSync('/etc/hostname', join(source, 'absolute-link'));
  // Over the size copied synchronously: copied on the thread pool, same result.
  writeFileSync(join(source, 'big.bin'), Buffer.alloc(1_500_000, 3));
  mkdirSync(join(source, 'sealed'));
  writeFileSync(join(source, 'sealed', 'inside.txt'), 'inside');
  chmodSync(join(source, 'sealed'), 0o550);

  await copyTree(source, join(root, 'out'));

  assert.deepEqual(readFileSync(join(root, 'out', 'big.bin')), Buffer.alloc(1_500_000, 3));
  assert.equal(statSync(join(root, 'out', 'sealed')).mode & 0o777, 0o550, 'a folder keeps its mode, applied once it is filled');
  assert.equal(readFileSync(join(root, 'out', 'sealed', 'inside.txt'), 'utf8'), 'inside');

  assert.equal(readFileSync(join(root, 'out', 'README'), 'utf8'), 'read me');
  assert.equal(statSync(join(root, 'out', 'bin', 'run.sh')).mode & 0o777, 0o755);
  assert.equal(statSync(join(root, 'out', 'bin', 'deep', 'data.bin')).mode & 0o777, 0o600);
  assert.deepEqual(readFileSync(join(root, 'out', 'bin', 'deep', 'data.bin')), Buffer.alloc(70_000, 7));
  assert.ok(lstatSync(join(root, 'out', 'bin', 'readme-link')).isSymbolicLink());
  assert.equal(readlinkSync(join(root, 'out', 'bin', 'readme-link')), '../README');
  assert.equal(readlinkSync(join(root, 'out', 'absolute-link')), '/etc/hostname');
});

test('copies a tree of more entries than one synchronous slice', async () => {
  const root = scratch();
  mkdirSync(join(root, 'src'));
  for (let i = 0; i < 150; i++) writeFileSync(join(root, 'src', `f${i}`), `file ${i}`);
  let done = false;
  let turnDuringCopy = false;
  setImmediate(() => (turnDuringCopy = !done));
  await copyTree(join(root, 'src'), join(root, 'out'));
  done = true;
  for (let i = 0; i < 150; i++) assert.equal(readFileSync(join(root, 'out', `f${i}`), 'utf8'), `file ${i}`);
  assert.ok(turnDuringCopy, 'the event loop had a turn during the copy');
});

test('merges into an existing folder and overwrites files and links already there', async () => {
  const root = scratch();
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'a.txt'), 'new');
  symlinkSync('a.txt', join(root, 'src', 'link'));
  mkdirSync(join(root, 'out'));
  writeFileSync(join(root, 'out', 'a.txt'), 'old');
  writeFileSync(join(root, 'out', 'kept.txt'), 'kept');
  writeFileSync(join(root, 'out', 'link'), 'a file where the link goes');

  await copyTree(join(root, 'src'), join(root, 'out'));

  assert.equal(readFileSync(join(root, 'out', 'a.txt'), 'utf8'), 'new');
  assert.equal(readFileSync(join(root, 'out', 'kept.txt'), 'utf8'), 'kept');
  assert.equal(readlinkSync(join(root, 'out', 'link')), 'a.txt');
});

test('never writes through a symlink planted at the destination', async () => {
  const root = scratch();
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim.txt'), 'untouched');
  mkdirSync(join(root, 'src', 'sub'), { recursive: true });
  writeFileSync(join(root, 'src', 'victim.txt'), 'overwritten?');
  writeFileSync(join(root, 'src', 'sub', 'x.txt'), 'x');
  mkdirSync(join(root, 'out'));
  symlinkSync(join(outside, 'victim.txt'), join(root, 'out', 'victim.txt'));

  await copyTree(join(root, 'src', 'victim.txt'), join(root, 'out', 'victim.txt'));
  assert.equal(readFileSync(join(outside, 'victim.txt'), 'utf8'), 'untouched');
  assert.ok(!lstatSync(join(root, 'out', 'victim.txt')).isSymbolicLink());
  assert.equal(readFileSync(join(root, 'out', 'victim.txt'), 'utf8'), 'overwritten?');

  // A link to a folder outside, where the copy needs a folder: refused, nothing written outside.
  symlinkSync(outside, join(root, 'out', 'sub'));
  await assert.rejects(copyTree(join(root, 'src'), join(root, 'out')), /cannot copy a folder to .*sub: something that is not a folder is in the way/);
  assert.deepEqual(execFileSync('ls', [outside], { encoding: 'utf8' }).trim().split('\n'), ['victim.txt']);
});

test('refuses a folder in the way of a file, and a FIFO, by name', async () => {
  const root = scratch();
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'a'), 'a');
  mkdirSync(join(root, 'out', 'a'), { recursive: true });
  await assert.rejects(copyTree(join(root, 'src'), join(root, 'out')), /cannot copy over .*out\/a: a folder is in the way/);

  const fifoRoot = scratch();
  mkdirSync(join(fifoRoot, 'src'));
  execFileSync('mkfifo', [join(fifoRoot, 'src', 'pipe')]);
  await assert.rejects(copyTree(join(fifoRoot, 'src'), join(fifoRoot, 'out')), /cannot copy .*src\/pipe: it is not a file, folder or symlink/);
  assert.ok(statSync(join(fifoRoot, 'out')).isDirectory());
});
