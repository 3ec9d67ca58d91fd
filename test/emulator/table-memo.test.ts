// The store's table generations and the memo helpers built on them: derived data and idempotent
// passes are redone exactly when a table they read has changed.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Store } from '../../src/emulator/store.js';
import { derivedFrom, unlessUnchanged } from '../../src/emulator/table-memo.js';

describe('table generations and memos', () => {
  it('changes a table generation on put and delete only, and only for that table', () => {
    const store = new Store();
    assert.equal(store.generation('a'), 0);
    store.transaction(() => store.put('a', 'k', 1));
    const afterPut = store.generation('a');
    assert.notEqual(afterPut, 0);
    assert.equal(store.generation('b'), 0);
    store.get('a', 'k');
    assert.equal(store.generation('a'), afterPut, 'reads do not count');
    store.transaction(() => store.delete('a', 'k'));
    assert.notEqual(store.generation('a'), afterPut);
  });

  it('derives again only after one of its tables changed', () => {
    const store = new Store();
    let runs = 0;
    const count = () => derivedFrom(store, 'count', ['a'], () => (++runs, store.table('a').size));
    assert.equal(count(), 0);
    assert.equal(count(), 0);
    assert.equal(runs, 1);
    store.transaction(() => store.put('b', 'x', 1));
    assert.equal(count(), 0);
    assert.equal(runs, 1, 'another table changed');
    store.transaction(() => store.put('a', 'x', 1));
    assert.equal(count(), 1);
    assert.equal(runs, 2);
    assert.equal(derivedFrom(new Store(), 'count', ['a'], () => 'fresh store'), 'fresh store', 'memos belong to one store');
  });

  it('skips an idempotent pass while its tables are unchanged, counting its own writes as seen', () => {
    const store = new Store();
    let runs = 0;
    const pass = () =>
      unlessUnchanged(store, 'mark', ['pending', 'marks'], () => {
        runs++;
        store.transaction(() => {
          for (const key of store.table('pending').keys()) if (!store.get('marks', key)) store.put('marks', key, true);
        });
      });
    store.transaction(() => store.put('pending', 'one', 1));
    pass();
    pass();
    assert.equal(runs, 1);
    assert.equal(store.get('marks', 'one'), true);
    store.transaction(() => store.put('pending', 'two', 1));
    pass();
    assert.equal(runs, 2);
    assert.equal(store.get('marks', 'two'), true);
  });
});
