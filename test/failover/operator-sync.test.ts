// Operator resync (UPDREQALL now, as Kea's ha-sync) and rebalance (pool balancing now), driven
// through the socket-free pair (test/failover/lib/pair.ts): in NORMAL they run the protocol's own
// exchanges and leave the state alone; anywhere else they do nothing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Lease } from '../../src/dhcp/lease.js';
import { POOL_BALANCE_BATCH } from '../../src/failover/endpoint.js';
import { FailoverMessageType, ServerState } from '../../src/wire/failover-message.js';
import type { Ipv4 } from '../../src/wire/ipv4.js';
import { ip } from '../dhcp/helpers.js';
import { SimPair, type SimServer } from './lib/pair.js';

const S = ServerState;

function normalPair(): SimPair {
  return balancedPair(new SimPair(), 1, 60);
}

/** Runs `p` until both are NORMAL and the secondary holds `backups` BACKUP addresses, all sent. */
function balancedPair(p: SimPair, backups: number, maxSeconds: number): SimPair {
  p.runUntil(
    () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
    120,
    'both NORMAL',
  );
  p.runUntil(
    () => count(p.b, 'backup') >= backups && p.a.endpoint.status(p.now).queuedUpdates === 0,
    maxSeconds,
    'pool balanced',
  );
  return p;
}

function count(s: SimServer, state: Lease['state']): number {
  let n = 0;
  for (const l of s.engine.leases()) if (l.state === state) n++;
  return n;
}

const sent = (p: SimPair, from: 'a' | 'b', type: FailoverMessageType) =>
  p.trace.filter((t) => t === `${from}>${type}`).length;

describe('operator resync', () => {
  test('in NORMAL: UPDREQALL, every binding of the partner again, UPDDONE; a lost record comes back', () => {
    const p = normalPair();
    let address = null;
    for (let c = 1; address === null && c <= 30; c++) address = p.dora(p.b, c);
    assert.ok(address !== null, 'the secondary serves one of 30 clients');
    p.run(2);
    assert.equal(p.a.engine.getLease(address)?.state, 'active', 'the primary heard of it');
    // The primary loses the record (a restored backup, a hand edit of the store).
    p.a.engine.removeLease(address);
    const updReqAll = sent(p, 'a', FailoverMessageType.UPDREQALL);
    const updDone = sent(p, 'b', FailoverMessageType.UPDDONE);
    p.feed(p.a, { type: 'operatorResync' });
    p.flush();
    assert.equal(sent(p, 'a', FailoverMessageType.UPDREQALL), updReqAll + 1);
    assert.equal(sent(p, 'b', FailoverMessageType.UPDDONE), updDone + 1);
    assert.equal(p.a.engine.getLease(address)?.state, 'active', 'the binding is back');
    assert.equal(p.a.endpoint.currentState, S.NORMAL);
    assert.equal(p.b.endpoint.currentState, S.NORMAL);
    assert.ok(p.a.log.some((l) => l.type === 'log' && l.event === 'failover-operator-resync'));
  });

  test('bindings the partner already had are sent again but not rewritten on its BNDACK', () => {
    // A partner that lost its store asks for a million bindings that are all acknowledged here:
    // the BNDACK changes nothing of them (same acknowledged PET, already up to date), so the
    // sender writes nothing — no row per binding, no fsync between two windows of BNDUPDs.
    const p = normalPair();
    for (let c = 1; c <= 20; c++) p.dora(p.a, c);
    p.run(2);
    p.flush();
    assert.equal(p.a.endpoint.status(p.now).queuedUpdates, 0);
    const rewritten: Ipv4[] = [];
    const set = p.a.durable.set.bind(p.a.durable);
    p.a.durable.set = (address, lease) => {
      rewritten.push(address);
      return set(address, lease);
    };
    const bndupd = sent(p, 'a', FailoverMessageType.BNDUPD);
    p.feed(p.b, { type: 'operatorResync' });
    p.flush();
    assert.ok(sent(p, 'a', FailoverMessageType.BNDUPD) > bndupd, 'the primary sent its bindings again');
    assert.equal(sent(p, 'a', FailoverMessageType.UPDDONE) > 0, true);
    assert.deepEqual(rewritten, [], 'no binding rewritten by the sender');
  });

  test('outside NORMAL (partner unreachable) nothing is sent', () => {
    const p = normalPair();
    p.partition(true);
    p.run(2);
    assert.notEqual(p.a.endpoint.currentState, S.NORMAL);
    const before = p.trace.length;
    p.feed(p.a, { type: 'operatorResync' });
    p.feed(p.a, { type: 'operatorRebalance' });
    assert.equal(p.trace.length, before);
  });
});

describe('operator rebalance', () => {
  test('on the primary: BACKUP addresses move at once, without waiting for the timer', () => {
    const p = normalPair();
    // Clients of the secondary use up most of its BACKUP addresses.
    for (let c = 1; c <= 200 && count(p.b, 'backup') > 4; c++) p.dora(p.b, c);
    p.flush();
    const backupBefore = count(p.b, 'backup');
    p.feed(p.a, { type: 'operatorRebalance' });
    p.flush();
    const logged = p.a.log.find((l) => l.type === 'log' && l.event === 'failover-operator-rebalance');
    assert.ok(logged, 'logged');
    const moved = (logged as unknown as { fields: { movedToSecondary: number } }).fields.movedToSecondary;
    assert.ok(moved > 0, `moved ${moved}`);
    assert.equal(count(p.b, 'backup'), backupBefore + moved, 'the secondary has them');
  });

  test('on the secondary: POOLREQ to the primary, answered with POOLRESP', () => {
    const p = normalPair();
    const req = sent(p, 'b', FailoverMessageType.POOLREQ);
    const resp = sent(p, 'a', FailoverMessageType.POOLRESP);
    p.feed(p.b, { type: 'operatorRebalance' });
    p.flush();
    assert.equal(sent(p, 'b', FailoverMessageType.POOLREQ), req + 1);
    assert.equal(sent(p, 'a', FailoverMessageType.POOLRESP), resp + 1);
  });
});

describe('pool balancing of a large range', () => {
  test(`moves at most ${POOL_BALANCE_BATCH} addresses per write, resumes where it stopped, ends balanced`, () => {
    // 40,960 addresses: the secondary's half is two batches and a part.
    const p = new SimPair({
      scope: { subnet: '10.0.0.0/16', ranges: [{ start: ip('10.0.16.0'), end: ip('10.0.175.255') }] },
    });
    const largest: number[] = [];
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      120,
      'both NORMAL',
    );
    p.runUntil(
      () => count(p.b, 'backup') >= 20_480 && p.a.endpoint.status(p.now).queuedUpdates === 0,
      600,
      'pool balanced',
    );
    for (const l of p.a.log)
      if (l.type === 'log' && l.event === 'failover-pool-balanced')
        largest.push((l as unknown as { fields: { movedToSecondary: number } }).fields.movedToSecondary);
    assert.ok(largest.length >= 3, `balanced in batches: ${largest.join(', ')}`);
    assert.ok(
      Math.max(...largest) <= POOL_BALANCE_BATCH,
      `each batch at most ${POOL_BALANCE_BATCH}: ${largest.join(', ')}`,
    );
    assert.equal(
      largest.reduce((x, y) => x + y, 0),
      20_480,
      'half of the free addresses, each moved once',
    );
    assert.equal(count(p.a, 'backup'), 20_480, 'the primary holds the same BACKUP bindings');
    assert.equal(count(p.b, 'backup'), 20_480);
  });
});

describe('a partner that lost its store, answered a window at a time (issue 15)', () => {
  test('the primary never queues the whole table; the secondary gets every binding; one UPDDONE', () => {
    // 8192 addresses: the secondary's half are BACKUP bindings on the primary once balanced.
    const p = balancedPair(
      new SimPair({
        scope: { subnet: '10.0.0.0/16', ranges: [{ start: ip('10.0.16.0'), end: ip('10.0.47.255') }] },
      }),
      4096,
      600,
    );
    for (let c = 1; c <= 40; c++) p.dora(p.a, c);
    p.run(2);
    const held = [...p.a.engine.leases()].length;
    assert.ok(held >= 4096, `the primary holds ${held} bindings`);
    // The secondary loses its store and comes back: RECOVER, UPDREQALL.
    p.crash(p.b);
    p.b.durable.clear();
    p.b.meta.clear();
    p.run(5);
    let largestQueue = 0;
    const handle = p.a.endpoint.handle.bind(p.a.endpoint);
    p.a.endpoint.handle = (input, now, wallNow) => {
      const out = handle(input, now, wallNow);
      largestQueue = Math.max(largestQueue, p.a.endpoint.status(now).queuedUpdates);
      return out;
    };
    const updDone = sent(p, 'a', FailoverMessageType.UPDDONE);
    p.restart(p.b);
    p.runUntil(() => sent(p, 'a', FailoverMessageType.UPDDONE) > updDone, 600, 'UPDDONE');
    p.run(2);
    assert.equal(sent(p, 'a', FailoverMessageType.UPDDONE), updDone + 1, 'one UPDDONE');
    assert.ok(largestQueue <= 1024, `the primary queued at most ${largestQueue} at a time`);
    const primary = new Map([...p.a.engine.leases()].map((l) => [l.address, l.state]));
    const secondary = new Map([...p.b.engine.leases()].map((l) => [l.address, l.state]));
    assert.equal(secondary.size, primary.size, 'the secondary holds every binding again');
    for (const [a, st] of primary) assert.equal(secondary.get(a), st, `the same state at ${a}`);
  });
});
