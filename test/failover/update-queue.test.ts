// The outgoing binding updates (src/failover/update-queue.ts) alone: a lease table, the queue, and
// a partner modelled as "acknowledge every BNDUPD in flight". The walks over the table must fill the
// queue a window at a time, and an update request's UPDDONE must wait for exactly what it took.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import {
  type BatchContext,
  MAX_BINDINGS_PER_UPDATE,
  TABLE_WALK_BINDINGS_PER_FILL,
  TABLE_WALK_REFILL_BELOW,
  TABLE_WALK_WINDOW,
  UpdateQueue,
} from '../../src/failover/update-queue.js';
import type { Ipv4 } from '../../src/wire/ipv4.js';
import { ip } from '../dhcp/helpers.js';

const SCOPE = '10.1.0.0';
const BASE = ip('10.1.0.0');
const NOW = 1_800_000_000;
/** The partner's window (maxUnackedUpdates). */
const WINDOW_MESSAGES = 10;
/** What may be queued at most during a walk: the refill threshold, one window, the in-flight ones. */
const QUEUE_BOUND =
  TABLE_WALK_REFILL_BELOW + TABLE_WALK_WINDOW + WINDOW_MESSAGES * MAX_BINDINGS_PER_UPDATE + 1;

function lease(i: number, isPartnerUpToDate: boolean, scopeId = SCOPE): Lease {
  return {
    ...emptyLease((BASE + i) as Ipv4, scopeId, 'active', NOW),
    hardwareType: 1,
    hardwareAddress: `0200${(i >>> 0).toString(16).padStart(8, '0')}`,
    leaseExpiresAt: NOW + 3600,
    clientLastTransactionAt: NOW,
    isPartnerUpToDate,
  };
}

class Harness {
  readonly table = new LeaseTable();
  readonly queue = new UpdateQueue(new Set([SCOPE]));
  readonly context: BatchContext = {
    engine: { getLease: (a) => this.table.get(a), leaseTable: this.table },
    isIscPeer: false,
    wireOffsetSeconds: 0,
    isHeld: () => false,
  };
  /** Address → how many times it was sent. */
  readonly sentCount = new Map<number, number>();
  /** The versions sent, per address, in order. */
  readonly sentVersions = new Map<number, (number | undefined)[]>();
  /** The largest queue seen after a pump. */
  largestQueue = 0;
  private nextXid = 1;
  readonly inFlightXids: number[] = [];

  constructor(n: number, isUpToDate: (i: number) => boolean) {
    for (let i = 0; i < n; i++) this.table.put(lease(i, isUpToDate(i)));
  }

  /** Sends while the partner's window has room (endpoint.ts pump without the connection). */
  pump(): number {
    let messages = 0;
    while (this.queue.unackedMessages < WINDOW_MESSAGES) {
      const batch = this.queue.nextBatch(this.context, MAX_BINDINGS_PER_UPDATE);
      if (batch === null) break;
      const xid = this.nextXid++;
      this.queue.sent(xid, batch.sent);
      this.inFlightXids.push(xid);
      for (const s of batch.sent) {
        this.sentCount.set(s.address, (this.sentCount.get(s.address) ?? 0) + 1);
        const v = this.sentVersions.get(s.address) ?? [];
        v.push(s.version);
        this.sentVersions.set(s.address, v);
      }
      messages++;
      if (batch.isQueueExhausted) break;
    }
    this.largestQueue = Math.max(this.largestQueue, this.queue.queuedCount);
    return messages;
  }

  /** The partner acknowledges the oldest BNDUPD in flight; the binding is then up to date. */
  ackOne(): boolean {
    const xid = this.inFlightXids.shift();
    if (xid === undefined) return false;
    for (const s of this.queue.takeInFlight(xid) ?? []) {
      this.queue.answered(s.address);
      const current = this.table.get(s.address);
      if (current !== undefined && current.version === s.version)
        this.table.put({ ...current, isPartnerUpToDate: true });
    }
    return true;
  }

  /** Pump and acknowledge until the request is answered; returns its xid, or null if none came. */
  runToUpdDone(maxRounds = 100_000, between?: (round: number) => void): number | null {
    for (let round = 0; round < maxRounds; round++) {
      between?.(round);
      this.pump();
      const done = this.queue.takeAnsweredRequest();
      if (done !== null) return done;
      if (!this.ackOne() && this.queue.unackedMessages === 0 && !this.queue.isWalking) return null;
    }
    return null;
  }
}

describe("update queue: the partner's update request", () => {
  test('UPDREQALL: every binding once, never more than a window queued, UPDDONE after the last BNDACK', () => {
    const h = new Harness(5000, () => true);
    h.queue.connectionLost(); // nothing in flight: no effect
    // The start-up scan finds nothing to send (all up to date).
    h.pump();
    assert.equal(h.sentCount.size, 0);
    assert.equal(h.queue.startRequest(77, true), 0, 'nothing pending at the request');
    assert.equal(h.queue.queuedCount, 1, 'the walk counts as queued until it ends');
    const xid = h.runToUpdDone();
    assert.equal(xid, 77);
    assert.equal(h.queue.unackedCount, 0, 'UPDDONE once the last BNDACK came');
    assert.equal(h.sentCount.size, 5000, 'every binding sent');
    assert.ok(
      [...h.sentCount.values()].every((n) => n === 1),
      'each once',
    );
    assert.ok(h.largestQueue <= QUEUE_BOUND, `queue stayed a window (${h.largestQueue} ≤ ${QUEUE_BOUND})`);
    assert.equal(h.queue.queuedCount, 0);
    assert.equal(h.queue.isAnsweringRequest, false);
  });

  test('UPDREQ: only the bindings the partner has not acknowledged', () => {
    const h = new Harness(3000, (i) => i % 3 !== 0);
    // The start-up scan would send the 1000 too: let the request take them (not pumped before).
    h.queue.startRequest(5, false);
    assert.equal(h.runToUpdDone(), 5);
    assert.equal(h.sentCount.size, 1000);
    for (const a of h.sentCount.keys()) assert.equal((a - BASE) % 3, 0);
  });

  test('UPDREQ over a table the partner has: UPDDONE with nothing sent, the walk bounded per turn', () => {
    const n = TABLE_WALK_BINDINGS_PER_FILL + 1000;
    const h = new Harness(n, () => true);
    h.queue.startRequest(9, false);
    h.pump();
    assert.equal(h.queue.takeAnsweredRequest(), null, 'one turn looks at a bounded part of the table');
    assert.equal(h.queue.isWalking, true);
    h.pump();
    assert.equal(h.queue.takeAnsweredRequest(), 9, 'the next turn ends the walk');
    assert.equal(h.sentCount.size, 0);
  });

  test('what is queued or in flight at the request is waited for, whatever the walk', () => {
    const h = new Harness(100, () => true);
    const outside = lease(200, false, 'other-scope');
    h.table.put(outside);
    // Two changes of ours, one already in flight when the request comes.
    h.queue.enqueue((BASE + 1) as Ipv4);
    h.pump();
    assert.equal(h.queue.unackedCount, 1);
    h.queue.enqueue((BASE + 2) as Ipv4);
    assert.equal(h.queue.startRequest(3, false), 2, 'one queued, one in flight');
    h.pump();
    assert.equal(h.queue.takeAnsweredRequest(), null, 'both still unacknowledged');
    assert.ok(h.ackOne());
    assert.equal(h.queue.takeAnsweredRequest(), null, 'the second is still in flight');
    assert.ok(h.ackOne());
    assert.equal(h.queue.takeAnsweredRequest(), 3);
    assert.equal(
      h.sentCount.get(outside.address),
      undefined,
      'a binding of another relationship is not sent',
    );
  });

  test('bindings added, removed and changed during the walk', () => {
    const n = 4 * TABLE_WALK_WINDOW;
    const h = new Harness(n, () => true);
    h.queue.startRequest(11, true);
    h.pump(); // the walk is in its first window
    const ahead = (BASE + n - 1) as Ipv4;
    const removed = (BASE + n - 2) as Ipv4;
    const added = (BASE + n + 5) as Ipv4;
    const behind = (BASE + 0) as Ipv4;
    // Changed ahead of the walk: its current version goes, once.
    h.table.put({ ...h.table.get(ahead)!, leaseExpiresAt: NOW + 7200, isPartnerUpToDate: false });
    const aheadVersion = h.table.get(ahead)!.version;
    h.table.delete(removed);
    h.table.put(lease(n + 5, false));
    // A change behind the walk is a change: queued as such, not taken by the walk again.
    h.table.put({ ...h.table.get(behind)!, leaseExpiresAt: NOW + 9000, isPartnerUpToDate: false });
    h.queue.enqueue(behind);
    assert.equal(h.runToUpdDone(), 11);
    assert.deepEqual(
      h.sentVersions.get(ahead),
      [aheadVersion],
      'the changed binding, in its current version',
    );
    assert.equal(h.sentCount.get(removed), undefined, 'the removed one is not sent');
    assert.equal(h.sentCount.get(added), 1, 'the one added ahead of the walk is sent');
    assert.equal(
      h.sentCount.get(behind),
      2,
      'the one behind: taken by the walk, then sent again as a change',
    );
  });

  test('a binding removed once queued is dropped and not waited for', () => {
    const h = new Harness(10, () => false);
    h.queue.startRequest(4, true);
    h.table.delete((BASE + 3) as Ipv4);
    assert.equal(h.runToUpdDone(), 4);
    assert.equal(h.sentCount.size, 9);
  });

  test('a disconnect mid-walk ends the request; the next request walks again from the start', () => {
    const n = 6 * TABLE_WALK_WINDOW;
    const h = new Harness(n, () => true);
    h.pump(); // the start-up scan: nothing to send
    h.queue.startRequest(1, true);
    for (let i = 0; i < 20; i++) {
      h.pump();
      h.ackOne();
    }
    h.pump();
    const sentBefore = h.sentCount.size;
    assert.ok(sentBefore > 0 && sentBefore < n, `part of the table sent (${sentBefore})`);
    const inFlight = h.queue.unackedCount;
    assert.ok(inFlight > 0);
    h.queue.connectionLost();
    h.inFlightXids.length = 0; // their BNDACKs never come
    assert.equal(h.queue.isAnsweringRequest, false);
    assert.equal(h.queue.takeAnsweredRequest(), null, 'no UPDDONE for a request of a lost connection');
    assert.equal(h.queue.isWalking, false, 'its walk ended with it (the start-up scan was done)');
    // The partner, still recovering, asks again on the next connection (D12 §9.6).
    h.queue.startRequest(2, true);
    assert.equal(h.runToUpdDone(), 2);
    assert.equal(h.sentCount.size, n, 'every binding, the first part again');
  });

  test('after an UPDREQALL, an UPDREQ before its UPDDONE still takes every binding (spec §5.6)', () => {
    const n = 4 * TABLE_WALK_WINDOW;
    const h = new Harness(n, () => true);
    h.queue.startRequest(1, true);
    h.pump();
    h.ackOne();
    h.queue.startRequest(2, false);
    let done: number[] = [];
    for (let round = 0; round < 100_000; round++) {
      h.pump();
      const xid = h.queue.takeAnsweredRequest();
      if (xid !== null) done.push(xid);
      if (!h.ackOne() && !h.queue.isWalking) break;
    }
    done = [...done, ...[h.queue.takeAnsweredRequest()].filter((x): x is number => x !== null)];
    assert.deepEqual(done, [2], 'one UPDDONE, for the second request');
    assert.equal(h.sentCount.size, n, 'every binding, though the partner had them');
  });

  test('an UPDREQALL after an UPDREQ walks again and takes every binding', () => {
    const n = 2 * TABLE_WALK_WINDOW;
    const h = new Harness(n, (i) => i % 2 === 0);
    h.queue.startRequest(1, false);
    h.pump();
    h.queue.startRequest(2, true);
    assert.equal(h.runToUpdDone(), 2);
    assert.equal(h.sentCount.size, n);
  });
});

describe('update queue: the start-up scan', () => {
  test('bindings stored as not acknowledged go out a window at a time, the rest not at all', () => {
    const n = 5000;
    const h = new Harness(n, (i) => i % 5 === 0);
    assert.equal(h.queue.queuedCount, 1, 'pending before the first connection');
    assert.equal(h.queue.isWalking, true);
    for (let round = 0; round < 10_000; round++) {
      h.pump();
      if (!h.ackOne() && !h.queue.isWalking) break;
    }
    assert.equal(h.sentCount.size, 4000);
    for (const a of h.sentCount.keys()) assert.notEqual((a - BASE) % 5, 0);
    assert.ok(h.largestQueue <= QUEUE_BOUND, `queue stayed a window (${h.largestQueue})`);
    assert.equal(h.queue.queuedCount, 0);
  });

  test("an update request's walk covers it; a disconnect before it ends leaves the scan where it was", () => {
    const n = 3 * TABLE_WALK_WINDOW;
    const h = new Harness(n, (i) => i % 2 === 0);
    h.pump(); // the scan takes its first window
    h.queue.startRequest(1, false);
    h.queue.connectionLost();
    h.inFlightXids.length = 0;
    assert.equal(h.queue.isWalking, true, 'the scan is not done');
    for (let round = 0; round < 10_000; round++) {
      h.pump();
      if (!h.ackOne() && !h.queue.isWalking) break;
    }
    assert.equal(h.sentCount.size, n / 2, 'every binding not acknowledged, once the link is back');
  });
});

describe('update queue: sending', () => {
  test('a durable version is sent instead of a newer one still being written', () => {
    const h = new Harness(1, () => true);
    h.pump();
    const durable = h.table.get(BASE as Ipv4)!;
    h.queue.enqueueDurable(durable);
    h.table.put({ ...durable, leaseExpiresAt: NOW + 9999 });
    h.pump();
    assert.deepEqual(h.sentVersions.get(BASE), [durable.version]);
  });

  test('a held binding stays queued and goes once no longer held', () => {
    const h = new Harness(1, () => true);
    h.pump();
    let isHeld = true;
    h.context.isHeld = () => isHeld;
    h.queue.enqueue(BASE as Ipv4);
    h.pump();
    assert.equal(h.sentCount.size, 0);
    assert.equal(h.queue.queuedCount, 1);
    isHeld = false;
    h.pump();
    assert.equal(h.sentCount.get(BASE), 1);
  });

  test("the partner's binding winning over a queued one drops it from the request", () => {
    const h = new Harness(2, () => true);
    h.pump();
    h.queue.enqueue(BASE as Ipv4);
    h.queue.startRequest(8, false);
    h.queue.dropQueued(BASE as Ipv4);
    assert.equal(h.runToUpdDone(), 8);
    assert.equal(h.sentCount.size, 0);
  });
});
