// The failover endpoint driven through whole protocol runs without sockets (test/failover/lib/pair.ts):
// two real engines and endpoints, messages through the real codec, a virtual clock.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Lease } from '../../src/dhcp/lease.js';
import { clientBucket, serves } from '../../src/failover/hash-bucket.js';
import { DhcpMessageType } from '../../src/wire/dhcp-packet.js';
import { FailoverMessageType, ServerState } from '../../src/wire/failover-message.js';
import { fromHex, type Ipv4 } from '../../src/wire/ipv4.js';
import { mac, packet } from '../dhcp/helpers.js';
import { ipString, SimPair, type SimServer } from './lib/pair.js';

const S = ServerState;

function normalPair(p = new SimPair()): SimPair {
  p.runUntil(
    () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
    120,
    'both NORMAL',
  );
  // Pool balancing has given the secondary its share.
  p.runUntil(
    () => count(p.b, 'backup') > 0 && p.a.endpoint.status(p.now).queuedUpdates === 0,
    60,
    'pool balanced',
  );
  return p;
}

function count(s: SimServer, state: Lease['state']): number {
  let n = 0;
  for (const l of s.engine.leases()) if (l.state === state) n++;
  return n;
}

function activeByAddress(s: SimServer): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of s.engine.leases()) if (l.state === 'active') m.set(l.address, l.hardwareAddress);
  return m;
}

/** Whether the primary serves this client in NORMAL under a 50/50 split. */
function primaryServes(client: number): boolean {
  const chaddr = new Uint8Array(16);
  chaddr.set(fromHex(mac(client)));
  const hba = new Uint8Array(32);
  hba.fill(0xff, 0, 16);
  return serves(hba, clientBucket(null, chaddr, 6), 'primary', 'primary');
}

/**
 * From now, once each server has sent a BNDUPD, messages to the secondary wait (until
 * holdMessagesTo is cleared): the two updates cross. Returns whether the hold has begun.
 */
function holdSecondaryOnceBothUpdate(p: SimPair): () => boolean {
  const from = p.trace.length;
  let isHolding = false;
  p.holdMessagesTo = (to) => {
    const sent = p.trace.slice(from);
    if (
      to === p.b &&
      sent.includes(`a>${FailoverMessageType.BNDUPD}`) &&
      sent.includes(`b>${FailoverMessageType.BNDUPD}`)
    )
      isHolding = true;
    return isHolding && to === p.b;
  };
  return () => isHolding;
}

/** No address is active for two different clients across the two servers. */
function assertNoDuplicate(p: SimPair): void {
  const a = activeByAddress(p.a);
  const b = activeByAddress(p.b);
  for (const [address, hw] of a) {
    const other = b.get(address);
    if (other !== undefined)
      assert.equal(other, hw, `address ${address} active for ${hw} on a and ${other} on b`);
  }
}

describe('failover endpoint: a fresh pair', () => {
  test('both start in RECOVER, exchange UPDREQALL/UPDDONE and reach NORMAL', () => {
    const p = new SimPair();
    p.run(1);
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      120,
      'NORMAL',
    );
    const types = new Set(p.trace);
    for (const t of [
      `a>${FailoverMessageType.CONNECT}`,
      `b>${FailoverMessageType.CONNECTACK}`,
      `a>${FailoverMessageType.STATE}`,
      `b>${FailoverMessageType.STATE}`,
      `a>${FailoverMessageType.UPDREQALL}`,
      `b>${FailoverMessageType.UPDDONE}`,
    ]) {
      assert.ok(types.has(t), `expected ${t} in the trace`);
    }
  });

  test('the primary hands the secondary half of the free addresses as BACKUP', () => {
    const p = normalPair();
    assert.equal(count(p.b, 'backup'), 20);
    assert.equal(count(p.a, 'backup'), 20);
    // Both stores agree on which addresses are BACKUP.
    const backupA = [...p.a.engine.leases()]
      .filter((l) => l.state === 'backup')
      .map((l) => l.address)
      .sort();
    const backupB = [...p.b.engine.leases()]
      .filter((l) => l.state === 'backup')
      .map((l) => l.address)
      .sort();
    assert.deepEqual(backupB, backupA);
  });
});

describe('failover endpoint: NORMAL', () => {
  test('load balancing: each DISCOVER is answered by exactly the server its hash bucket names', () => {
    const p = normalPair();
    for (let client = 1; client <= 30; client++) {
      const a = p.dora(p.a, client);
      const b = p.dora(p.b, client);
      const expectPrimary = primaryServes(client);
      assert.equal(a !== null, expectPrimary, `client ${client}: primary answered=${a !== null}`);
      assert.equal(b !== null, !expectPrimary, `client ${client}: secondary answered=${b !== null}`);
      p.run(1);
    }
    assertNoDuplicate(p);
  });

  test('a new lease is capped at MCLT, replicated with the potential expiration, and renewed in full', () => {
    const p = normalPair();
    const client = [...Array(50).keys()].map((i) => i + 1).find(primaryServes)!;
    const address = p.dora(p.a, client)!;
    assert.ok(address);
    const lease = p.a.engine.getLease(address)!;
    assert.equal(lease.leaseExpiresAt, p.now + 60, 'first grant = MCLT (60 s)');
    assert.ok(lease.sentPotentialExpiresAt >= p.now + 3600, 'PET covers the desired lease');
    p.run(2);
    const onB = p.b.engine.getLease(address)!;
    assert.equal(onB.state, 'active');
    assert.equal(onB.hardwareAddress, lease.hardwareAddress);
    assert.equal(onB.receivedPotentialExpiresAt, lease.sentPotentialExpiresAt);
    assert.equal(onB.ownerServer, 'a');
    const acked = p.a.engine.getLease(address)!;
    assert.equal(acked.ackedPotentialExpiresAt, lease.sentPotentialExpiresAt);
    assert.equal(acked.isPartnerUpToDate, true);
    // Renewal after the ACK: the partner vouched for the PET, so the full lease is granted.
    p.run(30);
    const expiry = p.renew(p.a, client, address);
    assert.equal(expiry, p.now + 3600);
    // Either server renews (RENEWING is not load balanced).
    assert.ok(p.renew(p.b, client, address) !== null);
  });

  test('release: RELEASED on the wire, FREE on both sides after the ACK', () => {
    const p = normalPair();
    const client = [...Array(50).keys()].map((i) => i + 1).find(primaryServes)!;
    const address = p.dora(p.a, client)!;
    p.run(2);
    p.release(p.a, client, address);
    p.run(2);
    assert.equal(p.a.engine.getLease(address)!.state, 'free');
    assert.equal(p.b.engine.getLease(address)!.state, 'free');
  });

  test('a RELEASE handled after the same client started over (DISCOVER) was sent before it: the new lease stays ACTIVE on both sides', () => {
    // test/e2e/migration.test.ts "no ACKed lease lost" (2026-12-04 12:59:34): the client sent
    // RELEASE, then DISCOVER and REQUEST. The RELEASE came in on the unicast socket, the DORA on
    // the broadcast one: 10.77.3.207's DISCOVER and REQUEST were handled before its RELEASE, which
    // released the lease just ACKed (FREE on both, the client holding it); 10.77.3.98's RELEASE
    // was handled between them, and its REQUEST was NAKed.
    const p = normalPair();
    const [c1, c2] = [...Array(50).keys()].map((i) => i + 1).filter(primaryServes);
    const a1 = p.dora(p.a, c1!)!;
    const a2 = p.dora(p.a, c2!)!;
    p.run(5);
    const serverId = ipString(p.a.config.local.address);
    const discover = (c: number) => p.dhcp(p.a, packet(DhcpMessageType.Discover, { mac: mac(c), xid: 7 }));
    const request = (c: number, address: Ipv4) =>
      p.dhcp(
        p.a,
        packet(DhcpMessageType.Request, { mac: mac(c), xid: 7, requested: ipString(address), serverId }),
      );
    // DISCOVER, REQUEST, then the RELEASE sent before them.
    assert.equal(discover(c1!)!.yiaddr, a1);
    assert.equal(request(c1!, a1)!.options.get(53)?.[0], DhcpMessageType.Ack);
    p.release(p.a, c1!, a1);
    p.run(3);
    assert.equal(p.a.engine.getLease(a1)!.state, 'active', 'the ACKed lease on the primary');
    assert.equal(p.b.engine.getLease(a1)!.state, 'active', 'the ACKed lease on the secondary');
    // DISCOVER, the RELEASE sent before it, then REQUEST.
    assert.equal(discover(c2!)!.yiaddr, a2);
    p.release(p.a, c2!, a2);
    assert.equal(request(c2!, a2)!.options.get(53)?.[0], DhcpMessageType.Ack, 'the REQUEST is ACKed');
    p.run(3);
    for (const address of [a1, a2]) {
      assert.equal(p.a.engine.getLease(address)!.state, 'active', `${ipString(address)} on the primary`);
      assert.equal(p.b.engine.getLease(address)!.state, 'active', `${ipString(address)} on the secondary`);
    }
    // A RELEASE once the client is bound again, later than a reordering could be, releases.
    p.run(10);
    p.release(p.a, c1!, a1);
    p.run(2);
    assert.equal(p.a.engine.getLease(a1)!.state, 'free');
    assert.equal(p.b.engine.getLease(a1)!.state, 'free');
  });

  describe('a client releases on the primary, then starts over on the secondary (its hash bucket)', () => {
    // test/e2e/migration.test.ts, run of 2026-12-04 15:30:22 (Twinlease pair): 02:d7:00:00:00:1c held
    // 10.77.2.185, last ACKed by the primary. It sent its RELEASE there (unicast, to the server that
    // ACKed it) and then a DISCOVER, broadcast, answered by the secondary, whose copy of the binding
    // was still ACTIVE: OFFER at .220. The primary's RELEASED update came in before the REQUEST
    // (.225) and made the address FREE, the primary's to allocate, and the secondary NAKed the
    // address it had offered. Another client of the same run (10.77.2.163) had its REQUEST in
    // first and was ACKed. Neither server may hand out the other's FREE address (D12 §5.4): the
    // NAK is the answer, and it must say why.
    function setUp() {
      const p = normalPair();
      const c = [...Array(50).keys()].map((i) => i + 1).find((x) => !primaryServes(x))!;
      const address = p.dora(p.b, c)!;
      p.run(5);
      assert.ok(p.renew(p.a, c, address) !== null, 'renewed on the primary: its lease is from there');
      p.run(5);
      p.release(p.a, c, address);
      // The RELEASED update is on its way to the secondary; the client's DISCOVER reaches it first.
      const offer = p.dhcp(p.b, packet(DhcpMessageType.Discover, { mac: mac(c), xid: 7 }))!;
      assert.equal(offer.yiaddr, address, "the secondary offers the client's binding, ACTIVE there");
      const request = () =>
        p.dhcp(
          p.b,
          packet(DhcpMessageType.Request, {
            mac: mac(c),
            xid: 7,
            requested: ipString(address),
            serverId: ipString(p.b.config.local.address),
          }),
        )!;
      return { p, c, address, request };
    }

    test("the partner's RELEASED update before the REQUEST: NAK naming the partner's FREE address; a new DORA gets a BACKUP address", () => {
      const { p, c, address, request } = setUp();
      p.flush();
      assert.equal(p.b.engine.getLease(address)!.state, 'free', 'FREE on the secondary: the primary’s');
      const r = request();
      assert.equal(r.options.get(53)?.[0], DhcpMessageType.Nak);
      assert.equal(
        new TextDecoder().decode(r.options.get(56)),
        `address ${ipString(address)} is not available to this client: FREE: the failover partner's to allocate`,
      );
      p.run(2);
      assert.equal(p.a.engine.getLease(address)!.state, 'free');
      assert.equal(p.b.engine.getLease(address)!.state, 'free');
      const backup = new Set(
        [...p.b.engine.leases()].filter((l) => l.state === 'backup').map((l) => l.address),
      );
      const again = p.dora(p.b, c);
      assert.ok(again !== null && backup.has(again), 'the client starts over: ACKed with a BACKUP address');
      p.run(2);
      for (const s of [p.a, p.b]) assert.equal(s.engine.getLease(again)!.hardwareAddress, mac(c));
      assertNoDuplicate(p);
    });

    test('the REQUEST before the update: ACK, and both servers end with the binding ACTIVE', () => {
      const { p, c, address, request } = setUp();
      assert.equal(request().options.get(53)?.[0], DhcpMessageType.Ack);
      p.run(3);
      for (const s of [p.a, p.b]) {
        const l = s.engine.getLease(address)!;
        assert.equal(l.state, 'active', `${s.name}: ACTIVE`);
        assert.equal(l.hardwareAddress, mac(c), `${s.name}: the client's`);
      }
    });
  });

  test('a client that rebooted with its lease (INIT-REBOOT) and releases it at once is released', () => {
    // test/e2e/real-clients.test.ts (fresh-clone CI of 9058cde): dhclient restarted (REQUEST with
    // its address, no ciaddr, no server identifier), was ACKed, and `dhclient -r` released within
    // the second; the RELEASE was ignored as if reordered before a start-over. An INIT-REBOOT is
    // not a start-over: the client keeps the lease it had, and a RELEASE sent before it would
    // have ended that same lease the client then asks back.
    const p = normalPair();
    const c = [...Array(50).keys()].map((i) => i + 1).find(primaryServes)!;
    const address = p.dora(p.a, c)!;
    p.run(5);
    const reboot = p.dhcp(
      p.a,
      packet(DhcpMessageType.Request, { mac: mac(c), xid: 9, requested: ipString(address) }),
    );
    assert.equal(reboot!.options.get(53)?.[0], DhcpMessageType.Ack, 'INIT-REBOOT ACKed');
    p.release(p.a, c, address);
    p.run(2);
    assert.equal(p.a.engine.getLease(address)!.state, 'free', 'released on the primary');
    assert.equal(p.b.engine.getLease(address)!.state, 'free', 'released on the secondary');
  });

  test('release and decline right after the ACK, before the partner acknowledged it: settled on both sides', () => {
    // Issue 14 item 4: the BNDACK of the ACTIVE update came back after the RELEASE had changed the
    // binding; the endpoint then rewrote the binding (acknowledged PET) and the RELEASED update's
    // own BNDACK no longer matched it by identity: released and not up to date here for good,
    // free on the partner.
    const p = normalPair();
    const clients = [...Array(80).keys()].map((i) => i + 1).filter(primaryServes);
    const released = clients.slice(0, 10).map((c) => [c, p.dora(p.a, c)!] as const);
    const declined = clients.slice(10, 14).map((c) => [c, p.dora(p.a, c)!] as const);
    for (const [c, address] of released) p.release(p.a, c, address);
    for (const [c, address] of declined) {
      p.dhcp(
        p.a,
        packet(DhcpMessageType.Decline, {
          mac: mac(c),
          requested: ipString(address),
          serverId: ipString(p.a.config.local.address),
        }),
      );
    }
    p.run(3);
    for (const [, address] of released) {
      const onA = p.a.engine.getLease(address)!;
      const onB = p.b.engine.getLease(address)!;
      assert.deepEqual(
        [onA.state, onA.isPartnerUpToDate, onB.state],
        ['free', true, 'free'],
        `released ${ipString(address)}`,
      );
    }
    for (const [, address] of declined) {
      const onA = p.a.engine.getLease(address)!;
      const onB = p.b.engine.getLease(address)!;
      assert.deepEqual(
        [onA.state, onA.isPartnerUpToDate, onB.state],
        ['abandoned', true, 'abandoned'],
        `declined ${ipString(address)}`,
      );
    }
    assert.equal(p.a.endpoint.status(p.now).queuedUpdates, 0);
  });
});

describe('failover endpoint: failures', () => {
  test('partition: both COMMUNICATIONS-INTERRUPTED, own pools only, no duplicate; heal → NORMAL and converged', () => {
    const p = normalPair();
    const granted: Array<[number, number]> = [];
    for (let c = 1; c <= 6; c++) {
      const s = primaryServes(c) ? p.a : p.b;
      const addr = p.dora(s, c);
      if (addr !== null) granted.push([c, addr]);
    }
    p.run(2);
    p.partition(true);
    p.run(1);
    assert.equal(p.a.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    // Each renews anyone's clients.
    for (const [c, addr] of granted) {
      assert.ok(p.renew(p.a, c, addr) !== null, `a renews client ${c}`);
      assert.ok(p.renew(p.b, c, addr) !== null, `b renews client ${c}`);
    }
    // Both serve new clients (no load balancing), each from its own pool, until exhaustion.
    for (let c = 100; c < 160; c++) {
      p.dora(p.a, c);
      p.dora(p.b, c + 1000);
    }
    assertNoDuplicate(p);
    p.partition(false);
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      120,
      'NORMAL after heal',
    );
    p.run(5);
    assertNoDuplicate(p);
    const a = activeByAddress(p.a);
    const b = activeByAddress(p.b);
    assert.deepEqual([...b.entries()].sort(), [...a.entries()].sort(), 'stores converged');
  });

  test('crash of the primary: secondary serves, goes PARTNER-DOWN after the switch interval, uses the whole pool after MCLT; recovery', () => {
    const p = normalPair(
      new SimPair({ secondary: { autoStateTransition: true, stateSwitchIntervalSeconds: 30 } }),
    );
    const primaryClient = [...Array(50).keys()].map((i) => i + 1).find(primaryServes)!;
    const addr = p.dora(p.a, primaryClient)!;
    p.run(2);
    p.crash(p.a);
    p.run(1);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    assert.ok(p.renew(p.b, primaryClient, addr) !== null, 'the secondary renews a primary client');
    const fromOwn = p.dora(p.b, 500);
    assert.ok(fromOwn !== null && p.b.engine.getLease(fromOwn)!.state === 'active');
    p.run(31);
    assert.equal(p.b.endpoint.currentState, S.PARTNER_DOWN);
    // Exhaust the secondary's own pool.
    let n = 600;
    while (p.dora(p.b, n) !== null && n < 700) n++;
    const before = activeByAddress(p.b).size;
    assert.ok(before < 40, 'own pool only before MCLT');
    p.run(61);
    const after = p.dora(p.b, 800);
    assert.ok(after !== null, 'after MCLT the partner pool is usable');
    // Primary returns.
    p.restart(p.a);
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      300,
      'NORMAL after recovery',
    );
    p.run(5);
    assertNoDuplicate(p);
    const a = activeByAddress(p.a);
    const b = activeByAddress(p.b);
    assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort(), 'stores converged');
  });

  test('a CONNECT with a clock 120 s off is rejected (reject reason 4) and nobody leaves STARTUP/RECOVER for NORMAL', () => {
    const p = new SimPair();
    p.b.skewSeconds = 120;
    p.run(20);
    assert.notEqual(p.a.endpoint.currentState, S.NORMAL);
    assert.ok(
      p.b.log.some(
        (l) => l.type === 'log' && l.event === 'failover-connect-rejected' && l.fields.rejectReason === 4,
      ),
    );
  });

  test('a clock that jumps by more than the limit after the handshake drops the link (both COMMUNICATIONS-INTERRUPTED)', () => {
    const p = normalPair();
    p.b.skewSeconds = 300;
    p.run(1);
    assert.equal(
      p.a.endpoint.isCommunicating(),
      false,
      'link dropped at the first message with the skewed time',
    );
    p.run(30);
    assert.equal(p.a.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    assert.ok((p.a.endpoint.status(p.now).counters.clockSkewDisconnects ?? 0) >= 1);
    // Clocks fixed: the pair comes back.
    p.b.skewSeconds = 0;
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      180,
      'NORMAL after the clocks agree again',
    );
  });

  test('automatic partner-down waits while clients show the partner serving (a partition is not a dead partner)', () => {
    const sw = { autoStateTransition: true, stateSwitchIntervalSeconds: 30 };
    const p = normalPair(new SimPair({ primary: sw, secondary: sw }));
    p.partition(true);
    p.run(5);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    // Every 10 s a client broadcasts a REQUEST for the primary's OFFER; the secondary sees it.
    const choosePrimary = (n: number) =>
      p.dhcp(
        p.b,
        packet(DhcpMessageType.Request, {
          mac: mac(700 + n),
          xid: 700 + n,
          requested: '192.0.2.50',
          serverId: ipString(p.a.config.local.address),
        }),
      );
    for (let i = 0; i < 6; i++) {
      choosePrimary(i);
      p.run(10);
    }
    assert.equal(
      p.b.endpoint.currentState,
      S.COMMUNICATIONS_INTERRUPTED,
      'still COMMUNICATIONS-INTERRUPTED 65 s into the outage: the primary is answering clients',
    );
    assert.equal(p.a.endpoint.currentState, S.PARTNER_DOWN, 'the primary saw no sign of the secondary');
    // The signs stop (the last at 55 s; the primary died too, or lost its clients): a full
    // interval after the last one, PARTNER-DOWN.
    p.run(14);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    p.run(10);
    assert.equal(p.b.endpoint.currentState, S.PARTNER_DOWN);
  });

  test('a server down longer than MCLT does not resume alone: it waits in STARTUP until the partner is reached or declared down', () => {
    const p = normalPair();
    p.crash(p.a);
    p.crash(p.b);
    p.run(120); // MCLT is 60 s
    p.restart(p.a);
    p.run(30); // past the 15 s startup period
    assert.equal(p.a.endpoint.currentState, S.STARTUP);
    assert.equal(p.dora(p.a, 900), null, 'not serving');
    assert.ok(p.a.log.some((l) => l.type === 'log' && l.event === 'failover-startup-waiting'));
    const r = p.a.endpoint.declarePartnerDown(p.now);
    assert.equal(r.error, null);
    assert.equal(p.a.endpoint.currentState, S.PARTNER_DOWN);
    // Not heard since it started: the partner may have used our free addresses in its own
    // PARTNER-DOWN while we were down, so even our own pool waits MCLT (sim seed 1125).
    assert.ok(r.actions.some((l) => l.type === 'log' && l.event === 'failover-own-pool-held'));
    p.run(50);
    assert.equal(p.dora(p.a, 901), null, 'no new client before MCLT has passed');
    // A REQUEST for one of its own FREE addresses meanwhile: the NAK says why (not "the partner's").
    const free = [...Array(40).keys()]
      .map((i) => (0x0a000064 + i) as Ipv4) // 10.0.0.100-139, the pair's range
      .find((a) => (p.a.engine.getLease(a)?.state ?? 'free') === 'free')!;
    const nak = p.dhcp(
      p.a,
      packet(DhcpMessageType.Request, {
        mac: mac(901),
        requested: ipString(free),
        serverId: ipString(p.a.config.local.address),
      }),
    )!;
    assert.equal(
      new TextDecoder().decode(nak.options.get(56)),
      `address ${ipString(free)} is not available to this client: FREE: this server allocates no address now`,
    );
    p.run(15);
    assert.notEqual(p.dora(p.a, 902), null, 'served after MCLT');
    // A short outage (< MCLT) resumes on the startup timer as before.
    const q = normalPair();
    q.crash(q.a);
    q.crash(q.b);
    q.run(10);
    q.restart(q.a);
    q.run(20);
    assert.equal(q.a.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
  });

  test("a pool-balancing BACKUP sent again after a crash does not replace the secondary's RELEASED the primary has not heard of (sim seed 483050)", () => {
    const p = new SimPair();
    p.runUntil(
      () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
      120,
      'both NORMAL',
    );
    // The primary gives the secondary its share (BACKUP); the BNDACKs never reach it: it crashes.
    p.holdMessagesTo = (to) => to === p.a;
    p.runUntil(() => count(p.b, 'backup') > 0, 60, 'the secondary got its share');
    p.run(1);
    p.crash(p.a);
    p.holdMessagesTo = null;
    p.run(3);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    const client = 7;
    const address = p.dora(p.b, client)!;
    assert.ok(address !== null, 'the secondary leases one of its BACKUP addresses');
    // The primary comes back: the secondary's ACTIVE and the primary's BACKUP of the same address
    // (not acknowledged before the crash, sent again) cross. Messages to the secondary wait once
    // both are on their way; the client releases the address meanwhile.
    const isHolding = holdSecondaryOnceBothUpdate(p);
    p.restart(p.a);
    p.runUntil(isHolding, 30, 'both updates sent');
    assert.equal(p.a.engine.getLease(address)!.state, 'active', "the primary took the secondary's ACTIVE");
    p.release(p.b, client, address);
    assert.equal(p.b.engine.getLease(address)!.state, 'released');
    p.holdMessagesTo = null;
    p.run(5);
    // The release reached the primary: the address is FREE on both, the primary's.
    assert.equal(p.a.engine.getLease(address)!.state, 'free');
    assert.equal(p.b.engine.getLease(address)!.state, 'free');
    // Before the fix the secondary took the BACKUP (and dropped its RELEASED): the primary kept
    // the client's ACTIVE binding and the secondary gave the address to another client.
    for (let c = 100; c < 200; c++) if (!primaryServes(c)) p.dora(p.b, c);
    assertNoDuplicate(p);
  });

  test("the primary's RELEASED from a partition does not replace the secondary's RELEASED queued behind its ACTIVE in flight (sim seed 575894)", () => {
    const p = normalPair();
    const client = [...Array(50).keys()].map((i) => i + 1).find(primaryServes)!;
    const address = p.dora(p.a, client)!;
    assert.ok(address !== null, 'the primary leases an address');
    p.run(1);
    assert.equal(p.b.engine.getLease(address)!.state, 'active');
    // A partition: the client releases the address to the primary, then gets it again from the
    // secondary (which still holds the client's binding), each side's change not acknowledged.
    p.partition(true);
    p.run(1);
    assert.equal(p.b.endpoint.currentState, S.COMMUNICATIONS_INTERRUPTED);
    p.release(p.a, client, address);
    assert.equal(p.a.engine.getLease(address)!.state, 'released');
    assert.ok(p.renew(p.b, client, address) !== null, 'the secondary renews the client');
    // The link comes back: the primary's RELEASED and the secondary's ACTIVE cross. Messages to the
    // secondary wait once both are on their way; the client releases the address to it meanwhile,
    // and that RELEASED waits behind the ACTIVE in flight.
    const isHolding = holdSecondaryOnceBothUpdate(p);
    p.partition(false);
    p.runUntil(isHolding, 30, 'both updates sent');
    assert.equal(
      p.a.engine.getLease(address)!.state,
      'active',
      "the primary took the secondary's ACTIVE (duel)",
    );
    p.release(p.b, client, address);
    assert.equal(p.b.engine.getLease(address)!.state, 'released');
    p.holdMessagesTo = null;
    p.run(5);
    // Before the fix the secondary took the primary's RELEASED and dropped its own: FREE on the
    // secondary, the client's ACTIVE on the primary, both marked up to date, for good.
    assert.deepEqual(
      [p.a.engine.getLease(address)!.state, p.b.engine.getLease(address)!.state],
      ['free', 'free'],
    );
    assert.equal(p.a.endpoint.status(p.now).queuedUpdates, 0);
    assert.equal(p.b.endpoint.status(p.now).queuedUpdates, 0);
  });

  test('a wrong relationship name is rejected with reason 8', () => {
    const p = new SimPair({ secondary: { name: 'other' } });
    p.run(5);
    assert.ok(
      p.b.log.some(
        (l) => l.type === 'log' && l.event === 'failover-connect-rejected' && l.fields.rejectReason === 8,
      ),
    );
  });
});

describe('failover endpoint: expiry at the boundary second (issue 14 item 11)', () => {
  test("the partner's EXPIRED sent in the lease's last second is accepted, also from a clock a second ahead", () => {
    for (const skewSeconds of [0, -1]) {
      const p = new SimPair();
      p.b.skewSeconds = skewSeconds;
      normalPair(p);
      const client = [...Array(50).keys()].map((i) => i + 1).find(primaryServes)!;
      const address = p.dora(p.a, client)!;
      const expiresAt = p.a.engine.getLease(address)!.leaseExpiresAt;
      p.runUntil(() => p.clockOf(p.a) >= expiresAt - 1, 120, 'the second before the expiry');
      // The primary's expiry second: its EXPIRED reaches the secondary before the secondary's own
      // expiry tick of that second (as dhcpd's pool timer, which fires at the second itself).
      p.now += 1;
      const expired = p.a.engine.tick(p.clockOf(p.a));
      assert.deepEqual(
        expired.map((l) => l.address),
        [address],
      );
      p.feed(p.a, { type: 'leasesChanged', leases: expired });
      p.flush();
      p.run(3);
      const rejected = p.a.log.filter(
        (l) =>
          l.type === 'log' &&
          l.event === 'failover-update-rejected' &&
          l.fields.address === ipString(address),
      );
      assert.deepEqual(rejected, [], `skew ${skewSeconds} s: no update of ${ipString(address)} rejected`);
      assert.equal(p.a.engine.getLease(address)!.state, 'free', `skew ${skewSeconds} s: FREE on the primary`);
      assert.equal(
        p.b.engine.getLease(address)!.state,
        'free',
        `skew ${skewSeconds} s: FREE on the secondary`,
      );
    }
  });
});

describe('failover endpoint: secondary of an ISC dhcpd primary, at lease expiry (issue 14 item 12)', () => {
  // dhcpd's secondary does not expire ACTIVE leases in NORMAL (pool_timer), and dhcpd's primary
  // refuses a secondary's ACTIVE → EXPIRED ("invalid state transition", reject 2): the EXPIRED is
  // the primary's to send. Here the primary is our own endpoint announcing dhcpd's vendor class.
  const ISC = { primaryVendorClass: 'isc-4.4.3-P1' };
  const EXPIRED = 3;

  function leaseAtExpiry(p: SimPair): { address: Ipv4; expiresAt: number } {
    normalPair(p);
    const client = [...Array(50).keys()].map((i) => i + 1).find(primaryServes)!;
    const address = p.dora(p.a, client)!;
    const expiresAt = p.a.engine.getLease(address)!.leaseExpiresAt;
    p.runUntil(() => p.now >= expiresAt - 1, 120, 'the second before the expiry');
    // The secondary's expiry tick of that second comes first.
    p.now += 1;
    const expired = p.b.engine.tick(p.clockOf(p.b));
    assert.deepEqual(
      expired.map((l) => l.address),
      [address],
    );
    p.feed(p.b, { type: 'leasesChanged', leases: expired });
    p.flush();
    return { address, expiresAt };
  }

  test("the secondary sends no EXPIRED in NORMAL: the primary's EXPIRED settles the address, FREE on both", () => {
    const p = new SimPair(ISC);
    const { address } = leaseAtExpiry(p);
    p.run(10);
    const fromB = p.sentBindings.filter(
      (x) => x.from === 'b' && x.address === address && x.status === EXPIRED,
    );
    assert.deepEqual(fromB, [], 'no EXPIRED from the secondary');
    assert.ok(
      p.sentBindings.some((x) => x.from === 'a' && x.address === address && x.status === EXPIRED),
      'the primary sent EXPIRED',
    );
    assert.equal(p.a.engine.getLease(address)!.state, 'free');
    assert.equal(p.b.engine.getLease(address)!.state, 'free');
    assert.equal(p.b.endpoint.status(p.now).queuedUpdates, 0);
  });

  test("held, not lost: without the primary's EXPIRED the secondary sends its own a few seconds after the expiry", () => {
    const p = new SimPair(ISC);
    const { address, expiresAt } = leaseAtExpiry(p);
    // The primary's EXPIRED (sent in its tick of this second) does not arrive for a while.
    let isHolding = true;
    p.holdMessagesTo = (to) => isHolding && to === p.b;
    p.runUntil(
      () => p.b.endpoint.status(p.now).unackedUpdates > 0,
      20,
      "the secondary's EXPIRED to leave after the hold",
    );
    assert.ok(p.now >= expiresAt + 5, `held until the expiry + 5 s (sent ${p.now - expiresAt} s after)`);
    isHolding = false;
    p.run(5);
    assert.equal(p.a.engine.getLease(address)!.state, 'free');
    assert.equal(p.b.engine.getLease(address)!.state, 'free');
  });

  test('held also right after a restart: in RECOVER-DONE, while the primary is already NORMAL', () => {
    // test/e2e/isc-interop.test.ts phase 9 (12:55:24): the secondary, back from a restart that
    // the primary had declared PARTNER-DOWN, expired a lease in RECOVER-DONE, its partner still
    // PARTNER-DOWN as it knew it; dhcpd had gone NORMAL on our RECOVER-DONE and refused the
    // EXPIRED ("invalid state transition: active to expired").
    const p = new SimPair({
      ...ISC,
      primary: { autoStateTransition: true, stateSwitchIntervalSeconds: 10 },
    });
    normalPair(p);
    const client = [...Array(50).keys()].map((i) => i + 1).find(primaryServes)!;
    const address = p.dora(p.a, client)!;
    p.run(2);
    // Renewed in full once the partner acknowledged the potential expiration (the first grant is
    // MCLT).
    assert.ok(p.renew(p.a, client, address) !== null);
    p.run(2);
    const expiresAt = p.b.engine.getLease(address)!.leaseExpiresAt;
    p.crash(p.b);
    p.run(100);
    assert.equal(p.a.endpoint.currentState, S.PARTNER_DOWN);
    // The primary's NORMAL does not reach the secondary yet: it stays in RECOVER-DONE.
    p.holdMessagesTo = (to) => to === p.b && to.endpoint.currentState === S.RECOVER_DONE;
    p.restart(p.b);
    p.runUntil(
      () => p.b.endpoint.currentState === S.RECOVER_DONE && p.a.endpoint.currentState === S.NORMAL,
      120,
      'secondary RECOVER-DONE, primary NORMAL',
    );
    assert.ok(p.now < expiresAt - 1, 'the lease runs out after the recovery');
    // The lease's last second, the secondary's expiry tick first.
    p.now = expiresAt;
    const expired = p.b.engine.tick(p.clockOf(p.b));
    assert.deepEqual(
      expired.map((l) => l.address),
      [address],
    );
    p.feed(p.b, { type: 'leasesChanged', leases: expired });
    p.flush();
    const fromB = p.sentBindings.filter(
      (x) => x.from === 'b' && x.address === address && x.status === EXPIRED,
    );
    assert.deepEqual(fromB, [], 'no EXPIRED from the secondary in RECOVER-DONE');
    p.holdMessagesTo = null;
    p.run(10);
    assert.equal(p.a.engine.getLease(address)!.state, 'free');
    assert.equal(p.b.engine.getLease(address)!.state, 'free');
  });

  test('toward a Twinlease primary the secondary sends its EXPIRED at once, as before', () => {
    const p = new SimPair();
    const { address } = leaseAtExpiry(p);
    assert.ok(p.sentBindings.some((x) => x.from === 'b' && x.address === address && x.status === EXPIRED));
  });
});

describe('failover endpoint: RECOVER-WAIT counts MCLT from when the server went down (D12 §9.6.2)', () => {
  /**
   * The secondary crashes at T0; the primary declares it down 10 s later; the secondary restarts
   * `outageSeconds` after the crash and stays 3 s in RECOVER (the partner's bindings take that
   * long to arrive, as many do over a real link). Returns the crash time, when the bindings
   * arrived, and when the secondary left RECOVER-WAIT and reached NORMAL.
   */
  function restartAfter(outageSeconds: number) {
    const p = normalPair(
      new SimPair({ primary: { autoStateTransition: true, stateSwitchIntervalSeconds: 10 } }),
    );
    p.run(7); // the last heartbeat falls anywhere before the crash
    const crashedAt = p.now;
    p.crash(p.b);
    p.run(outageSeconds);
    assert.equal(p.a.endpoint.currentState, S.PARTNER_DOWN);
    let isHolding = true;
    p.holdMessagesTo = (to) => isHolding && to === p.b && to.endpoint.currentState === S.RECOVER;
    p.restart(p.b);
    p.runUntil(() => p.b.endpoint.currentState === S.RECOVER, 30, 'RECOVER');
    p.run(3);
    assert.equal(p.b.endpoint.currentState, S.RECOVER);
    isHolding = false;
    const healedAt = p.now;
    p.runUntil(() => p.b.endpoint.currentState !== S.RECOVER, 30, 'out of RECOVER');
    let recoverWaitEndedAt: number | null = null;
    p.runUntil(
      () => {
        if (recoverWaitEndedAt === null && p.b.endpoint.currentState !== S.RECOVER_WAIT)
          recoverWaitEndedAt = p.now;
        return p.b.endpoint.currentState === S.NORMAL;
      },
      200,
      'NORMAL',
    );
    return { crashedAt, healedAt, recoverWaitEndedAt: recoverWaitEndedAt!, normalAt: p.now, p };
  }

  test('a restart after an outage longer than MCLT (60 s) goes through RECOVER-WAIT at once', () => {
    const r = restartAfter(100);
    assert.ok(
      r.normalAt - r.healedAt <= 3,
      `NORMAL ${r.normalAt - r.healedAt} s after the recovery could proceed (down ${r.healedAt - r.crashedAt} s, MCLT 60 s)`,
    );
  });

  test('a shorter outage waits only the rest of MCLT past the crash, and never less', () => {
    const r = restartAfter(25);
    const sinceCrash = r.recoverWaitEndedAt - r.crashedAt;
    // Never before the crash + MCLT; at most the heartbeat interval (10 s) + 1 s later.
    assert.ok(sinceCrash >= 60, `RECOVER-WAIT ended ${sinceCrash} s after the crash (MCLT 60 s)`);
    assert.ok(
      sinceCrash <= 72,
      `RECOVER-WAIT ended ${sinceCrash} s after the crash, not MCLT after the restart`,
    );
  });
});

describe('failover endpoint: hot standby', () => {
  test('the active server answers everyone, the standby nobody in NORMAL and keeps the reserve', () => {
    const p = normalPair(
      new SimPair({
        primary: { mode: 'hotStandby', serverRole: 'active', reservePercent: 25 },
        secondary: { mode: 'hotStandby', serverRole: 'standby', reservePercent: 25 },
      }),
    );
    assert.equal(count(p.b, 'backup'), 10);
    for (let c = 1; c <= 10; c++) {
      assert.ok(p.dora(p.a, c) !== null, `active answers ${c}`);
      assert.equal(p.dora(p.b, c + 100), null, `standby ignores ${c + 100}`);
    }
  });
});
