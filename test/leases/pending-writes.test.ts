// The two lanes of the SQLite stores' pending writes (issue 15): replies' bindings all go into the
// next transaction, background bindings (expiries) in bounded slices after them, and an address's
// versions reach the disk, and their waiters settle, in the order they were given.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import {
  BackgroundPacer,
  GroupCommitSchedule,
  PendingWrites,
  type Waiter,
} from '../../src/leases/pending-writes.js';

const expired = (address: number): Lease => emptyLease(address, 's', 'free', 1000);
const bound = (address: number): Lease => ({
  ...emptyLease(address, 's', 'active', 2000),
  hardwareType: 1,
  hardwareAddress: '020000000001',
});

function waiter(name: string, settled: string[]): Waiter {
  return { resolve: () => settled.push(name), reject: () => settled.push(`${name}!`) };
}

test("a reply's binding goes into the next slice with at most the allowance of background ones", () => {
  const p = new PendingWrites();
  const settled: string[] = [];
  for (let b = 0; b < 20; b++)
    p.putInBackground(
      Array.from({ length: 100 }, (_, i) => expired(b * 100 + i)),
      waiter(`expiry${b}`, settled),
    );
  p.put([bound(5000)], waiter('ack', settled));
  const slice = p.take(100, true);
  assert.equal(slice.leases.size, 101);
  assert.equal(slice.backgroundLeases, 100);
  assert.ok(slice.leases.has(5000));
  for (const w of slice.waiters) w.resolve();
  assert.deepEqual(settled, ['ack', 'expiry0']);
  assert.equal(p.backgroundLeaseCount, 1900);
  // With no allowance (background not due) the reply goes alone.
  p.put([bound(5001)], waiter('ack2', settled));
  const alone = p.take(0);
  assert.deepEqual([...alone.leases.keys()], [5001]);
  assert.equal(alone.backgroundLeases, 0);
});

test('a background slice takes whole batches, the first even if larger than the allowance', () => {
  const p = new PendingWrites();
  const settled: string[] = [];
  p.putInBackground(
    Array.from({ length: 150 }, (_, i) => expired(i)),
    waiter('big', settled),
  );
  p.putInBackground([expired(1000)], waiter('small', settled));
  const first = p.take(100, true);
  assert.equal(first.backgroundLeases, 150);
  assert.equal(first.waiters.length, 1);
  const second = p.take(100, true);
  assert.deepEqual([...second.leases.keys()], [1000]);
  assert.ok(p.isEmpty);
});

test('an address expired in the background and bound again: the new binding wins, the expiry settles first', () => {
  const p = new PendingWrites();
  const settled: string[] = [];
  p.putInBackground([expired(7), expired(8)], waiter('expiry', settled));
  p.putInBackground([expired(9)], waiter('later expiry', settled));
  // A new client is given address 7 before its expiry reached the disk.
  p.put([bound(7)], waiter('ack', settled));
  assert.equal(p.backgroundLeaseCount, 1);
  const slice = p.take(0);
  assert.equal(slice.leases.get(7)!.state, 'active');
  assert.equal(slice.leases.get(8)!.state, 'free', 'the rest of the expiry batch comes along');
  assert.ok(!slice.leases.has(9));
  for (const w of slice.waiters) w.resolve();
  assert.deepEqual(settled, ['expiry', 'ack']);
});

test('a removal of an address takes its waiting background write along, and stays a removal', () => {
  const p = new PendingWrites();
  p.putInBackground([expired(7)], waiter('expiry', []));
  p.remove([7], waiter('remove', []));
  const slice = p.take(100, true);
  assert.ok(!slice.leases.has(7));
  assert.ok(slice.removals.has(7));
  assert.equal(slice.waiters.length, 2);
});

test('a background write newer than a pending reply write of the same address wins in the slice', () => {
  const p = new PendingWrites();
  p.put([bound(7)], waiter('ack', []));
  p.putInBackground([expired(7)], waiter('expiry', []));
  const slice = p.take(100, true);
  assert.equal(slice.leases.get(7)!.state, 'free');
  // Not due: the reply's goes alone and the expiry waits.
  const q = new PendingWrites();
  q.put([bound(7)], waiter('ack', []));
  q.putInBackground([expired(7)], waiter('expiry', []));
  assert.equal(q.take(0).leases.get(7)!.state, 'active');
  assert.equal(q.take(100, true).leases.get(7)!.state, 'free');
});

test('a later background write of an address replaces the earlier one', () => {
  const p = new PendingWrites();
  p.putInBackground([expired(7)], waiter('first', []));
  p.putInBackground([{ ...expired(7), stateStartedAt: 1234 }], waiter('second', []));
  assert.equal(p.backgroundLeaseCount, 1);
  const slice = p.take(100, true);
  assert.equal(slice.leases.get(7)!.stateStartedAt, 1234);
  assert.equal(slice.waiters.length, 2);
});

/** V8's full garbage collection (the flag is read when `gc` is looked up in a new context). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

test('a taken background batch lets go of its bindings while later batches still wait (issue 15)', async () => {
  // In a mass expiry the queue always holds a batch not yet taken, so taken ones stay in it until
  // it compacts (1024 batches): they must not keep their Lease objects alive that long.
  const p = new PendingWrites();
  const settled: string[] = [];
  const refs: WeakRef<Lease>[] = [];
  const give = (b: number, via: 'take' | 'promote' | 'waiting') => {
    const leases = Array.from({ length: 100 }, (_, i) => expired(b * 1000 + i));
    for (const l of leases) refs.push(new WeakRef(l));
    p.putInBackground(leases, waiter(`${via}${b}`, settled));
  };
  give(0, 'take');
  give(1, 'promote');
  give(2, 'take');
  give(3, 'waiting');
  p.put([bound(1000)], waiter('ack', settled)); // takes batch 1 along (promote)
  // What a store does with a slice: write it, settle its waiters, drop it.
  const write = () => {
    const slice = p.take(100, true);
    for (const w of slice.waiters) w.resolve();
    return [slice.leases.size, slice.backgroundLeases];
  };
  assert.deepEqual(write(), [200, 100]); // batch 0 by allowance; batch 1 by promotion, its 1000 the ACK's
  assert.deepEqual(write(), [100, 100]); // batch 2
  assert.deepEqual(settled, ['promote1', 'ack', 'take0', 'take2']);
  assert.equal(p.backgroundLeaseCount, 100);
  // WeakRef targets stay alive until the current job ends.
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  const alive = (from: number, to: number) =>
    refs.slice(from, to).filter((r) => r.deref() !== undefined).length;
  assert.equal(alive(0, 300), 0, 'bindings of taken batches still reachable');
  assert.equal(alive(300, 400), 100, 'the waiting batch keeps its bindings');
  const last = p.take(100, true);
  assert.equal(last.leases.size, 100);
  assert.ok(last.leases.has(3000));
});

test('the pacer rests restFactor times as long as a transaction with background bindings took', () => {
  const pacer = new BackgroundPacer(100, 2);
  assert.equal(pacer.allowance(0), 100);
  pacer.noteWritten(10, 15, 0);
  assert.equal(pacer.allowance(15), 100, 'a transaction without background bindings does not count');
  pacer.noteWritten(20, 25, 100);
  assert.equal(pacer.allowance(34), 0);
  assert.equal(pacer.allowance(35), 100);
});

// Issue 17: a transaction costs a fsync whatever it carries, so at a low rate the replies' commits
// wait for company: until commitBatchSize wait or the oldest has waited commitMaxDelayMs, never
// sooner than commitIntervalMs after the last transaction started.
test('group commit: due at the interval once the batch is full, else when the oldest has waited the delay', () => {
  const p = new PendingWrites();
  const g = new GroupCommitSchedule({ commitIntervalMs: 2, commitBatchSize: 3, commitMaxDelayMs: 8 });
  const settled: string[] = [];
  g.noteStarted(p, 100);
  // Nothing waits: no reply to hurry for, background bindings when due.
  assert.equal(g.dueAt(p, 500), 500);
  p.put([bound(1)], waiter('a', settled));
  g.noteGiven(p, 101);
  assert.equal(g.dueAt(p, Number.POSITIVE_INFINITY), 109, 'one waits: 8 ms after it came');
  p.put([bound(2)], waiter('b', settled));
  g.noteGiven(p, 105);
  assert.equal(g.dueAt(p, Number.POSITIVE_INFINITY), 109, 'the oldest sets the time, not the newest');
  p.put([bound(3)], waiter('c', settled));
  g.noteGiven(p, 101.5);
  assert.equal(g.dueAt(p, Number.POSITIVE_INFINITY), 102, 'a full batch goes at the interval');
  const slice = p.take(0);
  g.noteStarted(p, 106);
  assert.equal(slice.waiters.length, 3);
  // After a transaction the next one's oldest counts from when it came, and the interval still holds.
  p.put([bound(4)], waiter('d', settled));
  g.noteGiven(p, 106.5);
  assert.equal(g.dueAt(p, Number.POSITIVE_INFINITY), 114.5);
  const quick = new GroupCommitSchedule({ commitIntervalMs: 20, commitBatchSize: 1, commitMaxDelayMs: 8 });
  quick.noteStarted(new PendingWrites(), 106);
  assert.equal(quick.dueAt(p, Number.POSITIVE_INFINITY), 126, 'a batch of 1: the interval alone, as before');
});
