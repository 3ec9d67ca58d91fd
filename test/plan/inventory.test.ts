import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeInventory, encodeInventory, EMPTY_INVENTORY, type Inventory } from '../../src/plan/inventory.js';

const inventory: Inventory = {
  stages: { MyBuildStage: { hash: '0123456789abcdef' } },
  actions: { 'Staging/SmokeTest': { hash: 'fedcba9876543210' } },
  rewires: { 'Staging/Deploy-CodeDeploy-Application': { hash: '00ff00ff00ff00ff', from: ['MyApp'] } },
};

describe('ownership inventory in tags', () => {
  it('round-trips through tags within AWS tag limits', () => {
    const tags = encodeInventory('cpsync:', inventory);
    assert.ok(tags.length >= 1);
    for (const tag of tags) {
      assert.ok(tag.key.length <= 128);
      assert.ok(tag.value.length <= 256);
      assert.match(tag.value, /^[A-Za-z0-9+/=]*$/);
    }
    assert.deepEqual(decodeInventory('cpsync:', [{ key: 'Team', value: 'x' }, ...tags]), { ok: true, inventory });
  });

  it('splits a large inventory over several numbered tags', () => {
    const stages = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`Stage-${i}-${'x'.repeat(40)}`, { hash: `${i}`.padStart(16, '0') }]));
    const big: Inventory = { ...EMPTY_INVENTORY, stages };
    const tags = encodeInventory('cpsync:', big);
    assert.ok(tags.length > 1);
    assert.deepEqual(tags.map((tag) => tag.key), tags.map((_, i) => `cpsync:owned:${i}`));
    assert.deepEqual(decodeInventory('cpsync:', [...tags].reverse()), { ok: true, inventory: big });
  });

  it('records nothing for an empty inventory and reads no tags as owning nothing', () => {
    assert.deepEqual(encodeInventory('cpsync:', EMPTY_INVENTORY), []);
    assert.deepEqual(decodeInventory('cpsync:', []), { ok: true, inventory: EMPTY_INVENTORY });
  });

  it('keeps inventories under different prefixes apart', () => {
    const tags = encodeInventory('team-a:', inventory);
    assert.deepEqual(decodeInventory('cpsync:', tags), { ok: true, inventory: EMPTY_INVENTORY });
    assert.deepEqual(decodeInventory('team-a:', tags), { ok: true, inventory });
  });

  it('reports hand-edited or partly removed records instead of guessing', () => {
    const tags = encodeInventory('cpsync:', { ...EMPTY_INVENTORY, stages: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`S${i}-${'y'.repeat(50)}`, { hash: 'h' }])) });
    const gap = decodeInventory('cpsync:', tags.filter((tag) => tag.key !== 'cpsync:owned:0'));
    assert.equal(gap.ok, false);
    const garbled = decodeInventory('cpsync:', [{ key: 'cpsync:owned:0', value: 'not-base64-deflate' }]);
    assert.deepEqual(garbled, { ok: false, reason: 'the cpsync:owned:<n> tags do not decode (they were edited by hand)' });
  });
});
