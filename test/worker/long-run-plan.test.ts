// What a worker does with a polled job, decided before it acknowledges it (planJob), and what its
// ledger entry says to report if it dies (fallbackKind): table-driven over the pure planner.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { OwnerId, TokenPayload, VerifyResult } from '../../src/worker/continuation.js';
import { fallbackKind, longRunSettings, planJob, RunRegistry, type Basis, type JobPlan, type LongRunSettings, type PlanInput } from '../../src/worker/long-run.js';

const NOW = 10_000_000;
const ME: OwnerId = { host: 'runner-a', pid: 101, startedAt: 1 };
const OTHER: OwnerId = { host: 'runner-b', pid: 202, startedAt: 2 };
const SETTINGS = longRunSettings(undefined, { progressIntervalMs: 1_000, ownerTimeoutMs: 8_000, handBackCoolMs: 500 });
const FRESH: Basis = { runId: 'fresh-run', startedAt: NOW, deadline: NOW + 3_600_000, attempt: 1, hop: 0 };

const aPayload = (over: Partial<TokenPayload> = {}): TokenPayload => ({
  actionType: 'Build/Local-Build/1',
  binding: 'P/Build/Build@e1',
  runId: 'r1',
  phase: 'run',
  owner: OTHER,
  startedAt: NOW - 60_000,
  deadline: NOW + 3_600_000,
  lastOwnerReport: NOW - 1_000,
  hop: 3,
  attempt: 1,
  ...over,
});
const verified = (payload: TokenPayload): VerifyResult => ({ ok: true, payload });
const BASIS_R1: Basis = { runId: 'r1', startedAt: NOW - 60_000, deadline: NOW + 3_600_000, attempt: 1, hop: 3 };

function anInput(over: Omit<Partial<PlanInput>, 'settings'> & { settings?: Partial<LongRunSettings> } = {}): PlanInput {
  const { settings, ...rest } = over;
  return { token: 'tok', verified: verified(aPayload()), fresh: FRESH, me: ME, now: NOW, settings: { ...SETTINGS, ...settings }, hasRun: () => false, freeSlots: 1, ...rest };
}

const cases: [string, PlanInput, JobPlan | ((plan: JobPlan) => void), ReturnType<typeof fallbackKind>][] = [
  ['a first job with a free slot starts here', anInput({ token: undefined, verified: undefined }), { kind: 'start', basis: FRESH }, 'none'],
  ['a first job with every slot busy is handed on with a new start token', anInput({ token: undefined, verified: undefined, freeSlots: 0 }), { kind: 'hand-on', basis: FRESH, coolMs: 500 }, 'result'],
  ['a first job with the details link first reports the link at once', anInput({ token: undefined, verified: undefined, settings: { detailsLinkFirst: true } }), { kind: 'details-link', basis: FRESH }, 'result'],
  [
    'a token that does not verify is refused',
    anInput({ verified: { ok: false, problem: 'signature', reason: 'refusing the continuation token: its signature does not match' } }),
    { kind: 'fail', failureType: 'JobFailed', message: 'refusing the continuation token: its signature does not match' },
    'result',
  ],
  ['a start token starts here', anInput({ verified: verified(aPayload({ phase: 'start', owner: undefined })) }), { kind: 'start', basis: BASIS_R1, token: 'tok' }, 'none'],
  ['a start token with every slot busy is handed on unchanged', anInput({ verified: verified(aPayload({ phase: 'start', owner: undefined })), freeSlots: 0 }), { kind: 'hand-on', basis: BASIS_R1, token: 'tok', coolMs: 500 }, 'result'],
  [
    'a resume token calls the plugin here with its state',
    anInput({ verified: verified(aPayload({ phase: 'resume', owner: undefined, state: { id: 7 } })) }),
    { kind: 'resume', basis: BASIS_R1, state: { id: 7 }, token: 'tok' },
    'same-token',
  ],
  ['a resume token with every slot busy is handed on unchanged', anInput({ verified: verified(aPayload({ phase: 'resume', owner: undefined, state: 1 })), freeSlots: 0 }), { kind: 'hand-on', basis: BASIS_R1, token: 'tok', coolMs: 500 }, 'result'],
  ['a job of our own run waits on it', anInput({ verified: verified(aPayload({ owner: ME })), hasRun: (id) => id === 'r1', freeSlots: 0 }), { kind: 'own', runId: 'r1' }, 'none'],
  [
    'a job of our own run that is not in the registry fails SystemUnavailable',
    anInput({ verified: verified(aPayload({ owner: ME })) }),
    { kind: 'fail', failureType: 'SystemUnavailable', message: 'this worker (pid 101) no longer holds run r1; its tool is gone. Run the action again.' },
    'result',
  ],
  ['a job of a live owner\'s run is handed back at once', anInput(), { kind: 'hand-back', token: 'tok', coolMs: 500 }, 'result'],
  ['the cool-down after a hand-back ends when the owner timeout passes', anInput({ verified: verified(aPayload({ lastOwnerReport: NOW - 7_800 })) }), { kind: 'hand-back', token: 'tok', coolMs: 200 }, 'result'],
  [
    'a job of a run whose owner stopped reporting fails SystemUnavailable',
    anInput({ verified: verified(aPayload({ lastOwnerReport: NOW - 9_000 })) }),
    (plan) => {
      assert.equal(plan.kind, 'fail');
      assert.equal(plan.kind === 'fail' && plan.failureType, 'SystemUnavailable');
      assert.match(plan.kind === 'fail' ? plan.message : '', /^the worker running this build \(host runner-b, pid 202\) stopped reporting 9s ago \(owner timeout reached\); run r1 is lost/);
    },
    'result',
  ],
  [
    'a restartable run whose owner stopped reporting starts again here, one attempt more',
    anInput({ verified: verified(aPayload({ lastOwnerReport: NOW - 9_000 })), settings: { restartable: true } }),
    { kind: 'start', basis: { ...BASIS_R1, attempt: 2 }, restartAfterMs: 9_000 },
    'none',
  ],
  [
    'a restartable run with every slot busy is handed on unchanged',
    anInput({ verified: verified(aPayload({ lastOwnerReport: NOW - 9_000 })), settings: { restartable: true }, freeSlots: 0 }),
    { kind: 'hand-on', basis: BASIS_R1, token: 'tok', coolMs: 500 },
    'result',
  ],
];

describe('planJob', () => {
  for (const [name, input, expected, fallback] of cases) {
    it(name, () => {
      const plan = planJob(input);
      if (typeof expected === 'function') expected(plan);
      else assert.deepEqual(plan, expected);
      assert.equal(fallbackKind(plan), fallback);
    });
  }
});

describe('run slots', () => {
  it('counts planned starts until their run registers or they are abandoned, once each', () => {
    const runs = new RunRegistry();
    const release = runs.reserve();
    const other = runs.reserve();
    assert.equal(runs.activeCount(), 2);
    release();
    release();
    assert.equal(runs.activeCount(), 1);
    other();
    assert.equal(runs.activeCount(), 0);
  });
});
