// The failover endpoint on a timeline that the wall clock's steps do not move (issue 16,
// docs/safety.md "The time base"): the wall clock is only what the wire and the skew limit see.
// SimPair's skewSeconds moves a server's timeline; wallStepSeconds moves only its wall clock.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Lease } from '../../src/dhcp/lease.js';
import { partnerDownReuseAt } from '../../src/failover/lease-time.js';
import { ServerState } from '../../src/wire/failover-message.js';
import type { Ipv4 } from '../../src/wire/ipv4.js';
import { SimPair, type SimServer } from './lib/pair.js';

const S = ServerState;

function normalPair(p = new SimPair()): SimPair {
  p.runUntil(
    () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
    120,
    'both NORMAL',
  );
  p.runUntil(
    () =>
      [...p.b.engine.leases()].some((l) => l.state === 'backup') &&
      p.a.endpoint.status(p.now).queuedUpdates === 0,
    60,
    'pool balanced',
  );
  return p;
}

/** A DORA at `s` by the first client from `first` on that `s` serves (load balance): [client, address]. */
function dora(p: SimPair, s: SimServer, first: number): [number, Ipv4] {
  for (let client = first; client < first + 64; client++) {
    const address = p.dora(s, client);
    if (address !== null) return [client, address];
  }
  throw new Error(`${s.name} served none of 64 clients`);
}

function lease(s: SimServer, address: Ipv4): Lease {
  const l = s.engine.getLease(address);
  assert.ok(l !== undefined, `${s.name} has ${address}`);
  return l;
}

function isRejectedForTime(s: SimServer): boolean {
  return s.log.some(
    (l) =>
      l.type === 'log' &&
      ((l.event === 'failover-connect-rejected' && l.fields.rejectReason === 4) ||
        (l.event === 'failover-connect-refused-by-partner' && l.fields.rejectReason === 4)),
  );
}

describe('failover endpoint: the time base (issue 16)', () => {
  test('a step of one wall clock under a connection closes it at the next tick, and moves none of the times the pair keeps', () => {
    const p = normalPair();
    const [client, address] = dora(p, p.b, 7);
    p.run(2);
    const before = lease(p.a, address);
    assert.equal(before.leaseExpiresAt, lease(p.b, address).leaseExpiresAt, 'both keep one expiry');
    // The secondary's wall clock is set 299 s back (an operator's mistake); its timeline runs on.
    p.b.wallStepSeconds = -299;
    p.run(1);
    assert.equal(p.b.endpoint.isCommunicating(), false, 'closed at the first tick after the step');
    assert.equal(p.a.endpoint.isCommunicating(), false);
    assert.ok((p.b.endpoint.status(p.now).counters.clockSkewDisconnects ?? 0) >= 1);
    p.run(20);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    assert.ok(isRejectedForTime(p.a) || isRejectedForTime(p.b), 'the next handshake refuses the skew');
    // Renewed while apart (COMMUNICATIONS-INTERRUPTED keeps the current expiry as a floor): the
    // client gets what is left of its lease on the timeline, not 299 s more (sim seed 6944).
    const renewed = p.renew(p.b, client, address)!;
    assert.ok(renewed !== null);
    const partnerWaitsUntil = partnerDownReuseAt(lease(p.a, address), 0, p.a.endpoint.mclt);
    assert.ok(
      renewed <= partnerWaitsUntil,
      `the renewal ends at +${renewed - p.now} s, before the primary (in PARTNER-DOWN) would reuse the address at +${partnerWaitsUntil - p.now} s`,
    );
    // The wall clock is put right: the pair reconnects; the partner's copy of the binding agrees.
    p.b.wallStepSeconds = 0;
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      200,
      'NORMAL after the wall clock is right again',
    );
    p.run(3);
    assert.equal(lease(p.a, address).leaseExpiresAt, lease(p.b, address).leaseExpiresAt);
  });

  test('a wall-clock step under a running connection smaller than the limit reopens the link; the times the pair keeps still agree', () => {
    const p = normalPair();
    p.b.wallStepSeconds = 45;
    const [, address] = dora(p, p.b, 100);
    p.run(3);
    // The primary could not see the step on this connection's wire (sim seeds 212970, 217263):
    // the secondary reopens it, and the next handshake compares the clocks as they are.
    assert.ok(p.b.log.some((l) => l.type === 'log' && l.event === 'failover-own-clock-stepped'));
    assert.equal(p.b.endpoint.isCommunicating(), true, 'within the limit: the pair talks again');
    // Each connection carries the wall offset it opened with and the partner converts with the
    // offset it measured on it: the primary stores the same expiry on its timeline.
    assert.equal(lease(p.a, address).leaseExpiresAt, lease(p.b, address).leaseExpiresAt);
    assert.equal(lease(p.a, address).clientLastTransactionAt, lease(p.b, address).clientLastTransactionAt);
  });

  test('the handshake compares the wall clocks: timelines apart by 100 s with the wall clocks right are accepted, and every time is converted', () => {
    // The secondary's timeline is 100 s behind its wall clock (its wall clock was stepped under an
    // earlier process; the timeline continued): CONNECT sees the wall clocks, which agree.
    const p = new SimPair();
    p.b.skewSeconds = -100;
    p.b.wallStepSeconds = 100;
    normalPair(p);
    assert.equal(isRejectedForTime(p.a) || isRejectedForTime(p.b), false);
    const [, address] = dora(p, p.b, 200);
    p.run(3);
    // The primary's copy, on its own timeline, is the secondary's + 100 s.
    assert.equal(lease(p.a, address).leaseExpiresAt, lease(p.b, address).leaseExpiresAt + 100);
    const skew = p.a.endpoint.status(p.now).clockSkewSeconds!;
    assert.ok(Math.abs(skew) <= 1, `what operators see: the wall clocks agree (${skew} s, whole seconds)`);
  });

  test('refused handshakes leave nothing behind: the connection after the clock is put right measures its own offset', () => {
    const p = normalPair();
    p.b.wallStepSeconds = -299;
    p.run(250); // dozens of refused handshakes, each a message with a time 299 s off
    assert.ok(isRejectedForTime(p.a) && isRejectedForTime(p.b));
    const closes = (s: SimServer) => s.endpoint.status(p.now).counters.clockSkewDisconnects ?? 0;
    const before = closes(p.a) + closes(p.b);
    p.b.wallStepSeconds = 0;
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      200,
      'NORMAL after the clock is put right',
    );
    p.run(30);
    assert.equal(closes(p.a) + closes(p.b), before, 'no close for a skew that is not there');
    assert.equal(p.a.endpoint.status(p.now).partnerStateStartedAt, p.b.endpoint.currentStateStartedAt);
  });

  test('the handshake refuses wall clocks 100 s apart even when the timelines agree', () => {
    const p = new SimPair();
    p.b.wallStepSeconds = 100;
    p.run(20);
    assert.notEqual(p.a.endpoint.currentState, S.NORMAL);
    assert.ok(isRejectedForTime(p.a) || isRejectedForTime(p.b));
  });

  test('a wall-clock step while CONNECT/CONNECTACK are in flight is found at the next tick (sim seeds 4007, 42100, 61906, 87570)', () => {
    const p = new SimPair();
    // Deliver nothing to the primary: the secondary answers CONNECT with CONNECTACK and STATE,
    // and only then is its wall clock stepped, before the primary reads them.
    p.holdMessagesTo = (to) => to === p.a;
    p.run(1);
    p.b.wallStepSeconds = -279;
    // The primary reads a CONNECTACK and a STATE sent before the step: its handshake passes. What
    // it sends back is held up on the way (a stalled link).
    p.holdMessagesTo = (to) => to === p.b;
    p.flush();
    assert.equal(p.a.endpoint.isCommunicating(), true);
    // The secondary hears nothing more, yet finds its own step at its next tick.
    p.run(1);
    assert.equal(p.b.endpoint.isCommunicating(), false, 'the secondary closed at its next tick');
    assert.equal(p.a.endpoint.isCommunicating(), false, 'the primary saw the close');
    assert.ok((p.b.endpoint.status(p.now).counters.clockSkewDisconnects ?? 0) >= 1);
  });

  test('steps of both wall clocks under one connection, each within the limit, over it together: the pair stops talking (sim seeds 212970, 217263)', () => {
    const p = normalPair();
    // The primary's wall clock steps 4 s forward (within the limit: nothing to refuse). Its wire
    // still carries its wall clock as the connection opened, so the secondary cannot see the step.
    p.a.wallStepSeconds = 4;
    p.run(30);
    // Then the secondary's steps 62 s back: 66 s behind the primary's wall clock, 62 s behind the
    // wall clock the primary's wire shows it. Before the fix neither side's check saw more than
    // the limit (+2 s slack): the secondary compared 62 s, the primary 0 s, and the pair talked on.
    p.b.wallStepSeconds = -62;
    p.run(30);
    const apart = Math.abs(p.wallOf(p.a) - p.wallOf(p.b));
    assert.equal(apart, 66);
    assert.equal(p.a.endpoint.isCommunicating(), false, `wall clocks ${apart} s apart: not talking`);
    assert.equal(p.b.endpoint.isCommunicating(), false);
    assert.ok(isRejectedForTime(p.a) || isRejectedForTime(p.b), 'the handshake refuses the clocks');
  });
});

describe('failover endpoint: a partner that refuses us for its clock is not down (issue 16)', () => {
  test('automatic partner-down waits while the partner keeps answering, even to refuse the connection (reject reason 4)', () => {
    const sw = { autoStateTransition: true, stateSwitchIntervalSeconds: 30 };
    const p = normalPair(new SimPair({ primary: sw, secondary: sw }));
    // The primary's wall clock is set 5 minutes back: the link closes and every handshake is
    // refused, but each refusal is a message from a live partner.
    p.a.wallStepSeconds = -300;
    p.run(120);
    assert.equal(p.a.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    assert.ok(isRejectedForTime(p.a) || isRejectedForTime(p.b));
    // Silence (the primary is gone): a full interval after its last word, PARTNER-DOWN.
    p.crash(p.a);
    p.run(35);
    assert.equal(p.b.endpoint.currentState, S.PARTNER_DOWN);
  });
});

describe('failover endpoint: a restart no clock measured (issue 16)', () => {
  test('PARTNER-DOWN resumed after a power loss re-arms the partner-pool wait and every reuse wait for what they had left', () => {
    const p = normalPair();
    const [, clientOfA] = dora(p, p.a, 300);
    p.run(2);
    p.crash(p.a);
    p.run(1);
    assert.equal(p.declarePartnerDown(p.b), null);
    p.run(5);
    const lastAliveAt = p.clockOf(p.b);
    const poolUsableAt = p.b.endpoint.status(p.now).partnerPoolUsableAt!;
    const reuseAt = p.b.endpoint.reuseAt(lease(p.b, clientOfA));
    assert.ok(poolUsableAt > lastAliveAt && reuseAt > lastAliveAt, 'both waits running');
    // Power loss of the secondary; 500 s later by its wall clock, which may have been stepped.
    p.crash(p.b);
    p.run(500);
    p.b.nextRestart = { isMeasured: false, lastAliveAt };
    p.restart(p.b);
    const boot = p.clockOf(p.b);
    assert.equal(p.b.endpoint.partnerPoolUsableAt(), boot + (poolUsableAt - lastAliveAt));
    assert.equal(p.b.endpoint.reuseAt(lease(p.b, clientOfA)), boot + (reuseAt - lastAliveAt));
    // A measured restart after it (a process crash on the same host boot): the shell carries the
    // unmeasured one in its checkpoint, and the waits from before it stay re-armed.
    p.crash(p.b);
    p.b.nextRestart = {
      isMeasured: true,
      lastAliveAt: p.clockOf(p.b),
      lastUnmeasured: { lastAliveAt, bootAt: boot },
    };
    p.restart(p.b);
    assert.equal(p.b.endpoint.partnerPoolUsableAt(), boot + (poolUsableAt - lastAliveAt));
    assert.equal(p.b.endpoint.reuseAt(lease(p.b, clientOfA)), boot + (reuseAt - lastAliveAt));
    // Measured with no unmeasured restart behind it: the downtime counts.
    p.crash(p.b);
    p.b.nextRestart = { isMeasured: true, lastAliveAt: p.clockOf(p.b) };
    p.restart(p.b);
    assert.equal(p.b.endpoint.partnerPoolUsableAt(), poolUsableAt);
  });

  test('after a power loss a grant counts only on potential expirations the partner confirmed since: MCLT past now until then', () => {
    const p = normalPair(new SimPair({ scope: { leaseTimeSeconds: 3600 } }));
    const [client, address] = dora(p, p.b, 400);
    p.run(2);
    const mclt = p.b.endpoint.mclt;
    const full = p.renew(p.b, client, address)!;
    assert.ok(full - p.now > mclt, 'before: a renewal counts on the acknowledged PET (full lease)');
    p.run(2);
    p.crash(p.b);
    p.run(5);
    p.b.nextRestart = { isMeasured: false, lastAliveAt: p.now - 5 };
    p.restart(p.b);
    p.runUntil(() => p.b.endpoint.currentState === S.NORMAL, 60, 'the secondary back in NORMAL');
    const first = p.renew(p.b, client, address)!;
    assert.ok(
      first - p.now <= mclt,
      `after: MCLT past now (${first - p.now} s), the stored PETs not trusted`,
    );
    p.run(2); // the partner acknowledges the new PET
    const second = p.renew(p.b, client, address)!;
    assert.ok(
      second - p.now > mclt,
      `once confirmed, the acknowledged PET counts again (${second - p.now} s)`,
    );
  });

  test('after a power loss a renewal capped at MCLT does not lower the stored expiry of the lease the client holds (sim seeds 131981, 67602, 154253)', () => {
    const p = normalPair(new SimPair({ scope: { leaseTimeSeconds: 3600 } }));
    const [client, address] = dora(p, p.b, 450);
    p.run(2);
    const held = p.renew(p.b, client, address)!;
    p.run(2);
    p.crash(p.b);
    p.run(5);
    p.b.nextRestart = { isMeasured: false, lastAliveAt: p.now - 5 };
    p.restart(p.b);
    p.runUntil(() => p.b.endpoint.currentState === S.NORMAL, 60, 'the secondary back in NORMAL');
    const capped = p.renew(p.b, client, address)!;
    assert.ok(capped < held, `the client is told MCLT past now (+${capped - p.now} s), less than it holds`);
    // The ACK may be lost (UDP): the client then keeps its lease to `held`, so the store must.
    assert.ok(
      lease(p.b, address).leaseExpiresAt >= held,
      `stored +${lease(p.b, address).leaseExpiresAt - p.now} s, the client may hold +${held - p.now} s`,
    );
    p.run(2);
    assert.ok(
      lease(p.a, address).leaseExpiresAt >= held,
      'the partner is told the lease end the client may hold',
    );
  });

  test('after a power loss a server does not know it was down less than MCLT: it waits in STARTUP for its partner', () => {
    const p = normalPair();
    p.crash(p.a);
    p.crash(p.b);
    p.run(10); // well under MCLT (60 s) by the wall clock
    p.a.nextRestart = { isMeasured: false, lastAliveAt: p.now - 10 };
    p.restart(p.a);
    p.run(30);
    assert.equal(p.a.endpoint.currentState, S.STARTUP, 'not resumed alone');
    assert.ok(p.a.log.some((l) => l.type === 'log' && l.event === 'failover-startup-waiting'));
    // The same outage measured (a process restart on the same host boot) resumes as before.
    p.crash(p.a);
    p.a.nextRestart = { isMeasured: true, lastAliveAt: p.now };
    p.restart(p.a);
    p.run(20);
    assert.equal(p.a.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    // The partner comes back: the waiting server goes on as usual.
    p.crash(p.a);
    p.a.nextRestart = { isMeasured: false, lastAliveAt: p.now };
    p.restart(p.a);
    p.restart(p.b);
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      120,
      'NORMAL once the partner is reached',
    );
  });
});

/**
 * Sim seed 72758's history: the client releases at the primary and is then renewed by the
 * secondary while the link is down; the secondary loses power and comes up with its timeline 165 s
 * too far (its wall clock had been set back, and was right again at boot), so every time it
 * stored reads 165 s early; the operator has declared it down meanwhile. Returns the pair 30 s
 * after the restart.
 */
function renewedBeforeAPowerLoss(): { p: SimPair; address: Ipv4; holdsUntilOnA: number } {
  const p = normalPair(new SimPair({ scope: { leaseTimeSeconds: 600 } }));
  const [client, address] = dora(p, p.a, 500);
  p.run(2);
  // The link fails: both COMMUNICATIONS-INTERRUPTED. The client releases at the primary (not
  // heard by the secondary), comes back and is renewed by the secondary (not heard by the
  // primary): the renewal is the later transaction.
  p.partition(true);
  p.runUntil(
    () =>
      p.a.endpoint.currentState === S.COMMUNICATIONS_INTERRUPTED &&
      p.b.endpoint.currentState === S.COMMUNICATIONS_INTERRUPTED,
    120,
    'both COMMUNICATIONS-INTERRUPTED',
  );
  p.release(p.a, client, address);
  assert.equal(lease(p.a, address).state, 'released');
  p.run(20);
  const holdsUntil = p.renew(p.b, client, address);
  assert.ok(holdsUntil !== null, 'the secondary renews the client');
  const holdsUntilOnA = holdsUntil - p.b.skewSeconds + p.a.skewSeconds;
  p.run(5);
  const lastAliveAt = p.clockOf(p.b);
  p.crash(p.b);
  assert.equal(p.declarePartnerDown(p.a), null, 'the operator declares the secondary down');
  p.run(20);
  p.b.skewSeconds += 165; // the timeline, resumed by the wall clock's reading
  p.b.wallStepSeconds -= 165; // the wall clock itself is right again
  p.b.nextRestart = { isMeasured: false, lastAliveAt };
  p.partition(false);
  p.restart(p.b);
  p.run(30);
  return { p, address, holdsUntilOnA };
}

describe('failover endpoint: times stored before a restart no clock measured (issue 16, sim seed 72758)', () => {
  test('a renewal granted before a power loss whose timeline jumped ahead is not beaten by a RELEASE made before it', () => {
    const { p, address, holdsUntilOnA } = renewedBeforeAPowerLoss();
    // Whatever the order of the exchange, the client's lease stays ACTIVE somewhere and neither
    // server may give the address to another client while it runs.
    const atA = lease(p.a, address);
    const atB = lease(p.b, address);
    assert.equal(atB.state, 'active', 'the secondary keeps the renewal it granted');
    assert.ok(
      atA.state !== 'free' && atA.state !== 'backup',
      `the primary does not hold the address free (${atA.state}) while the client holds it until +${holdsUntilOnA - p.clockOf(p.a)} s`,
    );
    for (let other = 600; other < 640; other++)
      assert.notEqual(p.dora(p.a, other), address, `client ${other} is not given the held address`);
    // The lease ends (on the secondary 165 s early, as for any server whose clock moved while it was
    // off): the two agree again.
    p.run(holdsUntilOnA - p.clockOf(p.a) + 60);
    // (Before the counter-update was keyed by both versions, the primary's RELEASED, already sent
    // back once, was not sent against the secondary's EXPIRED: RELEASED and EXPIRED for good.)
    for (const s of [p.a, p.b]) {
      const l = lease(s, address);
      assert.ok(l.state === 'free' || l.state === 'backup', `${s.name}: ${l.state}`);
      assert.equal(l.isPartnerUpToDate, true, s.name);
    }
  });

  test('a binding sent back after a reject is pending on disk: a crash before the answer sends it again (sim seed 109738)', () => {
    const { p, address, holdsUntilOnA } = renewedBeforeAPowerLoss();
    // The primary keeps its RELEASED (rejected, so marked up to date). At the lease's end the
    // secondary's EXPIRED reaches it; it rejects that and sends its RELEASED back; the
    // secondary accepts it, but the primary crashes before the acknowledgement arrives.
    const isStatus = (from: 'a' | 'b', status: number) => (x: (typeof p.sentBindings)[number]) =>
      x.from === from && x.address === address && x.status === status;
    const expiredAt = p.sentBindings.length;
    p.holdMessagesTo = (to) =>
      to === p.a &&
      p.sentBindings.slice(expiredAt).some(isStatus('b', 3)) &&
      p.sentBindings.slice(expiredAt).some(isStatus('a', 4));
    p.runUntil(
      () => p.sentBindings.slice(expiredAt).some(isStatus('a', 4)),
      holdsUntilOnA - p.clockOf(p.a) + 60,
      'the RELEASED sent back against the EXPIRED',
    );
    p.run(1);
    assert.equal(lease(p.b, address).state, 'free', 'the secondary accepted it');
    p.crash(p.a);
    p.holdMessagesTo = null;
    p.a.nextRestart = { isMeasured: true, lastAliveAt: p.clockOf(p.a) };
    p.restart(p.a);
    p.run(60);
    for (const s of [p.a, p.b]) {
      const l = lease(s, address);
      assert.ok(l.state === 'free' || l.state === 'backup', `${s.name}: ${l.state}`);
      assert.equal(l.isPartnerUpToDate, true, s.name);
    }
  });
});

describe('failover endpoint: times taken from the partner since a restart no clock measured are ordered (issue 16)', () => {
  test("the partner's ACTIVE received since the restart, though older than it, yields to the partner's later RELEASE (sim seeds 103177, 107624, 109738)", () => {
    const p = normalPair();
    // The primary leases an address while the secondary is cut off: the update waits.
    p.partition(true);
    const [client, address] = dora(p, p.a, 700);
    p.run(5);
    const lastAliveAt = p.clockOf(p.b);
    p.crash(p.b);
    p.run(10);
    p.b.nextRestart = { isMeasured: false, lastAliveAt };
    p.partition(false);
    p.restart(p.b);
    p.runUntil(
      () => p.b.engine.getLease(address)?.state === 'active' && lease(p.a, address).isPartnerUpToDate,
      120,
      "the secondary has the primary's ACTIVE",
    );
    assert.ok(
      lease(p.b, address).clientLastTransactionAt < p.clockOf(p.b) - 10,
      'its CLTT predates the restart',
    );
    // The client releases: the secondary takes the RELEASE, whose CLTT and the ACTIVE's were both
    // converted on this connection (before, the ACTIVE counted as unordered and won: the address
    // stayed held until the lease's end, and a crash then could leave the stores apart).
    p.release(p.a, client, address);
    p.run(5);
    for (const s of [p.a, p.b]) {
      const l = lease(s, address);
      assert.ok(l.state === 'free' || l.state === 'backup', `${s.name}: ${l.state}`);
    }
  });
});
