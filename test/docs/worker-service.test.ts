import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDuration } from '../../src/util/duration.js';
import { checkInvocation, findCpsyncInvocations } from '../helpers/cpsync-invocations.js';

const UNIT_PATH = new URL('../../docs/deploy/cpsync-worker.service', import.meta.url);
const text = readFileSync(UNIT_PATH, 'utf8');

/** Section → key → values (a key may repeat), continuation lines joined. */
function parseUnit(source: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of source.replace(/\\\n\s*/g, ' ').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(trimmed);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const eq = trimmed.indexOf('=');
    assert.ok(current && eq > 0, `not a key=value line in a section: ${trimmed}`);
    const key = trimmed.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), trimmed.slice(eq + 1)]);
  }
  return sections;
}

const SYSTEMD_UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 };

/** A systemd time span ("6min", "90s", "1min 30s"; a bare number is seconds) in milliseconds. */
function parseTimeSpan(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  let total = 0;
  const rest = value.replace(/(\d+)\s*(ms|sec|s|min|m|hr|h)\b\s*/g, (_, amount: string, unit: string) => {
    total += Number(amount) * (SYSTEMD_UNITS[unit] as number);
    return '';
  });
  assert.equal(rest, '', `not a time span: ${value}`);
  return total;
}

const unit = parseUnit(text);
const service = unit.get('Service') ?? new Map<string, string[]>();
const one = (key: string): string | undefined => service.get(key)?.at(-1);

describe('docs/deploy/cpsync-worker.service', () => {
  const execStart = one('ExecStart') ?? '';
  const [invocation, ...others] = findCpsyncInvocations(execStart);
  // $CPSYNC_WORKER_ARGS is split into words by systemd (none when empty); the rest must parse.
  const checked = checkInvocation({ argv: (invocation?.argv ?? []).filter((word) => !word.startsWith('$')), text: execStart });

  it('starts `cpsync worker` with flags the CLI accepts, metrics on', () => {
    assert.equal(others.length, 0);
    assert.ok(invocation, `ExecStart runs no cpsync: ${execStart}`);
    assert.match(execStart, /^\/\S+\/cpsync worker /, 'systemd needs an absolute path');
    assert.equal(checked.problem, undefined);
    assert.equal(checked.command?.name, 'worker');
    assert.match(String(checked.args?.flags['metrics-port']), /^\d+$/);
    assert.equal(checked.args?.flags['log-format'], 'json', 'journald gets one JSON object per line');
  });

  it('gives running jobs longer than --grace to drain on SIGTERM before systemd kills', () => {
    const graceMs = parseDuration(String(checked.args?.flags.grace ?? '30s'));
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(one('KillMode'), 'mixed', 'SIGTERM to the worker only; its tools are stopped by the worker after --grace');
    const stopMs = parseTimeSpan(one('TimeoutStopSec') ?? '90s');
    assert.ok(stopMs > graceMs, `TimeoutStopSec (${stopMs} ms) must be longer than --grace (${graceMs} ms)`);
    assert.equal(one('Restart'), 'on-failure');
  });

  it('runs as a dedicated user with its settings from an EnvironmentFile, and no keys', () => {
    assert.ok(one('User') && !['root', '0'].includes(one('User') as string));
    assert.match(one('EnvironmentFile') ?? '', /^-?\/\S+/);
    assert.doesNotMatch(text, /AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN/);
  });

  it('is sandboxed, writing only to the work dir', () => {
    const workDir = String(checked.args?.flags['work-dir']);
    assert.ok(workDir.startsWith('/'), 'an absolute --work-dir');
    assert.ok((one('ReadWritePaths') ?? '').split(/\s+/).includes(workDir), `ReadWritePaths= includes ${workDir}`);
    for (const [key, value] of Object.entries({ ProtectSystem: 'strict', NoNewPrivileges: 'yes', PrivateTmp: 'yes', ProtectHome: 'yes', PrivateDevices: 'yes' })) {
      assert.equal(one(key), value, key);
    }
    assert.equal(one('CapabilityBoundingSet'), '', 'no capabilities');
    assert.equal(service.get('MemoryDenyWriteExecute'), undefined, "Node's JIT needs it off");
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const skip = analyze.status === 0 ? false : 'systemd-analyze is not installed here; the unit is still checked field by field above';

  it('passes systemd-analyze verify', { skip }, () => {
    // verify insists the ExecStart binary exists: point it at a stand-in.
    const dir = mkdtempSync(join(tmpdir(), 'cpsync-unit-'));
    try {
      const fake = join(dir, 'cpsync');
      writeFileSync(fake, '#!/bin/sh\nexit 0\n');
      chmodSync(fake, 0o755);
      const verify = (source: string) => {
        const file = join(dir, 'cpsync-worker.service');
        writeFileSync(file, source.replace(/^ExecStart=\/\S+\/cpsync /m, `ExecStart=${fake} `));
        return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } });
      };
      const result = verify(text);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr.trim(), '', 'no warnings');
      // The check can fail: a misspelt key is reported.
      const broken = verify(text.replace('[Service]\n', '[Service]\nProtectSytem=strict\n'));
      assert.match(broken.stderr, /Unknown key 'ProtectSytem' in section \[Service\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
