// MemoryLeaseStore beyond the shared contract (sqlite-store.test.ts runs that): copies, settling in
// microtasks and in call order, injected commit failures, crash = keep only durable state.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { MemoryLeaseStore } from '../../src/leases/memory-store.js';

function active(address: number, hostname = 'pc'): Lease {
  return {
    ...emptyLease(address, 'scope', 'active', 1_700_000_000),
    hardwareType: 1,
    hardwareAddress: '001122334455',
    hostname,
    leaseExpiresAt: 1_700_003_600,
    dns: {
      cleanupOnDelete: true,
      updateBothRecords: false,
      registrationPending: false,
      removalPending: false,
    },
  };
}

/** Lets every queued microtask run (and no macrotask). */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('MemoryLeaseStore keeps copies', () => {
  it('mutating a lease after commit does not change what is stored', async () => {
    const s = new MemoryLeaseStore();
    const l = active(1);
    const p = s.commit([l]); // not yet durable: mutate before and after it settles
    l.hostname = 'changed-before';
    l.dns.cleanupOnDelete = false;
    await p;
    l.hostname = 'changed-after';
    l.dns.removalPending = true;
    assert.deepEqual(s.loadAll(), [active(1)]);
  });

  it('changing the address list after remove() does not change what is removed', async () => {
    const s = new MemoryLeaseStore();
    await s.commit([active(1), active(2)]);
    const list = [1];
    const p = s.remove(list);
    list[0] = 2;
    await p;
    assert.deepEqual(
      s.loadAll().map((l) => l.address),
      [2],
    );
  });

  it('mutating what loadAll or snapshot returned does not change the store', async () => {
    const s = new MemoryLeaseStore();
    await s.commit([active(1)]);
    const [loaded] = s.loadAll();
    loaded!.state = 'free';
    loaded!.dns.registrationPending = true;
    const snap = s.snapshot();
    snap.leases[0]!.hostname = 'x';
    snap.leases[0]!.dns.updateBothRecords = true;
    snap.meta.push(['k', 'v']);
    assert.deepEqual(s.loadAll(), [active(1)]);
    assert.deepEqual(s.snapshot(), { leases: [active(1)], meta: [] });
    // And a store made from a snapshot does not share it.
    const snap2 = s.snapshot();
    const s2 = MemoryLeaseStore.fromSnapshot(snap2);
    snap2.leases[0]!.dns.cleanupOnDelete = false;
    assert.deepEqual(s2.loadAll(), [active(1)]);
  });

  it('no object-valued field of a stored lease is shared with the caller', async () => {
    // Guards copyLease when Lease grows another nested field.
    const s = new MemoryLeaseStore();
    const l = active(1);
    await s.commit([l]);
    const [stored] = s.loadAll();
    for (const [key, value] of Object.entries(l)) {
      if (typeof value === 'object' && value !== null) {
        assert.notEqual((stored as unknown as Record<string, unknown>)[key], value, key);
      }
    }
  });
});

describe('MemoryLeaseStore settles in microtasks, in call order', () => {
  it('a write is not durable synchronously, and is durable after microtasks only (no timers)', async () => {
    const s = new MemoryLeaseStore();
    let settled = false;
    const p = s.commit([active(1)]).then(() => {
      settled = true;
    });
    assert.equal(settled, false);
    assert.equal(s.count(), 0);
    assert.deepEqual(s.snapshot().leases, []);
    await drainMicrotasks();
    assert.equal(settled, true);
    assert.equal(s.count(), 1);
    await p;
  });

  it('commit, remove and setMeta settle in the order they were called', async () => {
    const s = new MemoryLeaseStore();
    const order: string[] = [];
    const ps = [
      s.commit([active(1)]).then(() => order.push('commit 1')),
      s.remove([1]).then(() => order.push('remove 1')),
      s.setMeta('a', '1').then(() => order.push('meta a')),
      s.commit([active(2)]).then(() => order.push('commit 2')),
    ];
    await Promise.all(ps);
    assert.deepEqual(order, ['commit 1', 'remove 1', 'meta a', 'commit 2']);
    assert.deepEqual(
      s.loadAll().map((l) => l.address),
      [2],
    );
  });

  it('getMeta reads its own pending write; snapshot only has it once durable', async () => {
    const s = new MemoryLeaseStore();
    const p = s.setMeta('failover:state', 'normal');
    assert.equal(s.getMeta('failover:state'), 'normal');
    assert.deepEqual(s.snapshot().meta, []);
    await p;
    assert.deepEqual(s.snapshot().meta, [['failover:state', 'normal']]);
  });
});

describe('MemoryLeaseStore fault injection', () => {
  it('failNextCommits(n): the next n commits reject with an Error and store nothing; then it recovers', async () => {
    const s = new MemoryLeaseStore();
    s.failNextCommits(2);
    await assert.rejects(
      s.commit([active(1)]),
      (e: unknown) => e instanceof Error && /injected/.test(e.message),
    );
    await assert.rejects(s.commit([active(2)]), Error);
    await s.commit([active(3)]);
    assert.deepEqual(
      s.loadAll().map((l) => l.address),
      [3],
    );
  });

  it('injected failures apply to commits only, and keep call order with the writes around them', async () => {
    const s = new MemoryLeaseStore();
    await s.commit([active(1, 'old')]);
    s.failNextCommits(1);
    const order: string[] = [];
    const ps = [
      s.setMeta('k', 'v').then(() => order.push('meta')),
      s.commit([active(1, 'new')]).then(
        () => order.push('commit ok'),
        () => order.push('commit failed'),
      ),
      s.remove([9]).then(() => order.push('remove')),
    ];
    await Promise.all(ps);
    assert.deepEqual(order, ['meta', 'commit failed', 'remove']);
    assert.equal(s.loadAll()[0]!.hostname, 'old');
    assert.equal(s.getMeta('k'), 'v');
  });

  it('failNextCommits refuses a negative or fractional count', () => {
    const s = new MemoryLeaseStore();
    assert.throws(() => s.failNextCommits(-1), RangeError);
    assert.throws(() => s.failNextCommits(0.5), RangeError);
  });

  it('a crash (snapshot before writes settle) keeps exactly what had resolved', async () => {
    const s = new MemoryLeaseStore();
    await s.commit([active(1)]);
    await s.setMeta('state', 'normal');
    // In flight at the crash: none of these has resolved.
    void s.commit([active(2)]);
    void s.remove([1]);
    void s.setMeta('state', 'partner-down');
    const crashed = s.snapshot();
    const restarted = MemoryLeaseStore.fromSnapshot(crashed);
    assert.deepEqual(
      restarted.loadAll().map((l) => l.address),
      [1],
    );
    assert.equal(restarted.getMeta('state'), 'normal');
    assert.equal(restarted.count(), 1);
    await s.close();
    // The old store went on to finish its writes; the restarted one is independent of it.
    assert.deepEqual(
      s.loadAll().map((l) => l.address),
      [2],
    );
    assert.equal(restarted.count(), 1);
  });

  it('fromSnapshot accepts a structured clone of a snapshot (e.g. kept across a simulated restart)', async () => {
    const s = new MemoryLeaseStore();
    await s.commit([active(5)]);
    await s.setMeta('m', '1');
    const restored = MemoryLeaseStore.fromSnapshot(structuredClone(s.snapshot()));
    assert.deepEqual(restored.loadAll(), [active(5)]);
    assert.equal(restored.getMeta('m'), '1');
  });
});
