// The allocation engine, RFC 2131 section by section (plus RFC 951 BOOTP, RFC 3046/3527/3011
// scope selection). Packets are built directly: no codec, no socket, explicit `now`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DhcpEngine, type EngineResult } from '../../src/dhcp/engine.js';
import { decodeDhcp, encodeDhcpReport } from '../../src/wire/dhcp-codec.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { formatIpv4, toHex } from '../../src/wire/ipv4.js';
import { engine, ip, mac, NOW, packet, readU32, reservation, SERVER_ID, scope, settings } from './helpers.js';

type Reply = Extract<EngineResult, { action: 'reply' }>;

function reply(r: EngineResult, type: T | 0): Reply {
  assert.equal(
    r.action,
    'reply',
    `expected a reply, got ${JSON.stringify(r.action === 'ignore' ? r.reason : '')}`,
  );
  const rr = r as Reply;
  assert.equal(rr.messageType, type);
  return rr;
}

function ignored(r: EngineResult, reason: string): void {
  assert.equal(r.action, 'ignore');
  assert.equal((r as Extract<EngineResult, { action: 'ignore' }>).reason, reason);
}

/** Full DORA for one client; returns the ACKed address. */
function dora(
  e: DhcpEngine,
  m: string,
  now = NOW,
  extra: Partial<Parameters<typeof packet>[1]> = {},
): string {
  const offer = reply(e.handle(packet(T.Discover, { mac: m, ...extra }), now), T.Offer);
  const yi = formatIpv4(offer.reply.yiaddr);
  const ack = reply(
    e.handle(packet(T.Request, { mac: m, requested: yi, serverId: '10.0.0.1', ...extra }), now),
    T.Ack,
  );
  assert.equal(formatIpv4(ack.reply.yiaddr), yi);
  return yi;
}

describe('RFC 2131 §4.3.1 DHCPDISCOVER', () => {
  test('offers an address from the range with the configured options and no durable change', () => {
    const e = engine();
    const r = reply(e.handle(packet(T.Discover, { prl: [1, 3, 6, 15] }), NOW), T.Offer);
    assert.ok(r.reply.yiaddr >= ip('10.0.0.100') && r.reply.yiaddr <= ip('10.0.0.109'));
    assert.deepEqual(r.changes, []);
    assert.equal(readU32(r.reply.options.get(54)), SERVER_ID);
    assert.equal(readU32(r.reply.options.get(51)), 3600);
    assert.equal(readU32(r.reply.options.get(58)), 1800);
    assert.equal(readU32(r.reply.options.get(59)), 3150);
    assert.equal(readU32(r.reply.options.get(1)), ip('255.255.255.0'));
    assert.deepEqual([...r.reply.options.get(3)!], [10, 0, 0, 1]);
    // Option order: 53, 54, lease times, then the client's parameter request list order.
    assert.deepEqual([...r.reply.options.keys()], [53, 54, 51, 58, 59, 1, 3, 6, 15]);
    assert.equal(r.reply.xid, 0x1234);
    assert.equal(r.reply.op, 2);
  });

  test('only requested options are sent when the client sends a parameter request list', () => {
    const r = reply(engine().handle(packet(T.Discover, { prl: [3] }), NOW), T.Offer);
    assert.ok(r.reply.options.has(3));
    assert.ok(!r.reply.options.has(6));
    assert.ok(!r.reply.options.has(15));
  });

  test('alwaysSend options go out even when not requested', () => {
    const e = engine([scope({ alwaysSend: new Set([15]) })]);
    const r = reply(e.handle(packet(T.Discover, { prl: [3] }), NOW), T.Offer);
    assert.ok(r.reply.options.has(15));
  });

  test('offers the requested address when it is free', () => {
    const r = reply(engine().handle(packet(T.Discover, { requested: '10.0.0.105' }), NOW), T.Offer);
    assert.equal(formatIpv4(r.reply.yiaddr), '10.0.0.105');
  });

  test('does not offer a requested address outside the ranges', () => {
    const r = reply(engine().handle(packet(T.Discover, { requested: '10.0.0.5' }), NOW), T.Offer);
    assert.notEqual(formatIpv4(r.reply.yiaddr), '10.0.0.5');
  });

  test('an offered address is held for that client and not offered to another', () => {
    const e = engine();
    const a = reply(e.handle(packet(T.Discover, { mac: mac(1) }), NOW), T.Offer).reply.yiaddr;
    const b = reply(e.handle(packet(T.Discover, { mac: mac(2), requested: formatIpv4(a) }), NOW), T.Offer)
      .reply.yiaddr;
    assert.notEqual(a, b);
    // A retransmitted DISCOVER gets the same offer.
    const again = reply(e.handle(packet(T.Discover, { mac: mac(1) }), NOW + 1), T.Offer).reply.yiaddr;
    assert.equal(again, a);
  });

  test('an offer lapses after the offer hold and the address goes back to the pool', () => {
    const e = engine([scope({ ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.100') }] })]);
    reply(e.handle(packet(T.Discover, { mac: mac(1) }), NOW), T.Offer);
    ignored(e.handle(packet(T.Discover, { mac: mac(2) }), NOW + 1), 'no-free-address');
    e.tick(NOW + 61);
    const r = reply(e.handle(packet(T.Discover, { mac: mac(2) }), NOW + 61), T.Offer);
    assert.equal(formatIpv4(r.reply.yiaddr), '10.0.0.100');
  });

  test('an exhausted pool offers nothing and says why', () => {
    const e = engine();
    for (let i = 1; i <= 10; i++) dora(e, mac(i));
    ignored(e.handle(packet(T.Discover, { mac: mac(11) }), NOW), 'no-free-address');
  });

  test('a known client is offered its current address', () => {
    const e = engine();
    const a = dora(e, mac(7));
    const r = reply(e.handle(packet(T.Discover, { mac: mac(7) }), NOW + 10), T.Offer);
    assert.equal(formatIpv4(r.reply.yiaddr), a);
  });

  test('exclusions, the network and broadcast addresses are never offered', () => {
    const e = engine([
      scope({
        subnet: '10.0.0.0/29',
        ranges: [{ start: ip('10.0.0.0'), end: ip('10.0.0.7') }],
        exclusions: [{ start: ip('10.0.0.2'), end: ip('10.0.0.4') }],
      }),
    ]);
    const got = new Set<string>();
    for (let i = 1; i <= 10; i++) {
      const r = e.handle(packet(T.Discover, { mac: mac(i) }), NOW);
      if (r.action === 'reply') got.add(dora(e, mac(i)));
    }
    assert.deepEqual([...got].sort(), ['10.0.0.1', '10.0.0.5', '10.0.0.6']);
  });

  test('the client may ask for a shorter lease, never a longer one', () => {
    const e = engine();
    assert.equal(
      readU32(
        reply(e.handle(packet(T.Discover, { mac: mac(1), leaseTime: 600 }), NOW), T.Offer).reply.options.get(
          51,
        ),
      ),
      600,
    );
    assert.equal(
      readU32(
        reply(
          e.handle(packet(T.Discover, { mac: mac(2), leaseTime: 99999 }), NOW),
          T.Offer,
        ).reply.options.get(51),
      ),
      3600,
    );
  });

  test('a client identifier (option 61) identifies the client, not chaddr', () => {
    const e = engine();
    const a = dora(e, mac(1), NOW, { clientId: '01aabbccddeeff' });
    // Same client id from another NIC: same binding.
    const r = reply(e.handle(packet(T.Discover, { mac: mac(2), clientId: '01aabbccddeeff' }), NOW), T.Offer);
    assert.equal(formatIpv4(r.reply.yiaddr), a);
    // Same MAC without the client id: a different client.
    const r2 = reply(e.handle(packet(T.Discover, { mac: mac(1) }), NOW), T.Offer);
    assert.notEqual(formatIpv4(r2.reply.yiaddr), a);
  });
});

describe('reservations', () => {
  test('a client reserved by MAC gets its address, with reservation options and host name', () => {
    const e = engine([
      scope({
        reservations: [
          reservation({
            address: '10.0.0.50',
            hardwareAddress: mac(9),
            hostname: 'printer',
            options: new Map([[3, Uint8Array.of(10, 0, 0, 254)]]),
          }),
        ],
      }),
    ]);
    const r = reply(e.handle(packet(T.Discover, { mac: mac(9), prl: [3, 12] }), NOW), T.Offer);
    assert.equal(formatIpv4(r.reply.yiaddr), '10.0.0.50');
    assert.deepEqual([...r.reply.options.get(3)!], [10, 0, 0, 254]);
    assert.equal(new TextDecoder().decode(r.reply.options.get(12)), 'printer');
    const ack = reply(
      e.handle(packet(T.Request, { mac: mac(9), requested: '10.0.0.50', serverId: '10.0.0.1' }), NOW),
      T.Ack,
    );
    const lease = ack.changes[0]!;
    assert.equal(lease.isReserved, true);
    assert.equal(lease.hostname, 'printer');
  });

  test('a client reserved by client id gets its address', () => {
    const e = engine([
      scope({ reservations: [reservation({ address: '10.0.0.51', clientId: '01020304' })] }),
    ]);
    const r = reply(e.handle(packet(T.Discover, { mac: mac(3), clientId: '01020304' }), NOW), T.Offer);
    assert.equal(formatIpv4(r.reply.yiaddr), '10.0.0.51');
  });

  test('a reserved address inside a range is never given to anyone else', () => {
    const e = engine([
      scope({ reservations: [reservation({ address: '10.0.0.100', hardwareAddress: mac(99) })] }),
    ]);
    for (let i = 1; i <= 9; i++) assert.notEqual(dora(e, mac(i)), '10.0.0.100');
    ignored(e.handle(packet(T.Discover, { mac: mac(10) }), NOW), 'no-free-address');
  });

  test('a reserved client asking for another address is NAKed', () => {
    const e = engine([
      scope({ reservations: [reservation({ address: '10.0.0.50', hardwareAddress: mac(9) })] }),
    ]);
    reply(
      e.handle(packet(T.Request, { mac: mac(9), requested: '10.0.0.101', serverId: '10.0.0.1' }), NOW),
      T.Nak,
    );
  });
});

describe('RFC 2131 §4.3.2 DHCPREQUEST', () => {
  test('SELECTING: ACK binds the address durably with the seed-001 fields', () => {
    const e = engine();
    const offer = reply(e.handle(packet(T.Discover, { mac: mac(1), hostname: 'laptop' }), NOW), T.Offer);
    const ack = reply(
      e.handle(
        packet(T.Request, {
          mac: mac(1),
          requested: formatIpv4(offer.reply.yiaddr),
          serverId: '10.0.0.1',
          hostname: 'laptop',
        }),
        NOW + 2,
      ),
      T.Ack,
    );
    assert.equal(ack.changes.length, 1);
    const l = ack.changes[0]!;
    assert.equal(l.state, 'active');
    assert.equal(l.address, offer.reply.yiaddr);
    assert.equal(l.hardwareAddress, mac(1));
    assert.equal(l.hardwareType, 1);
    assert.equal(l.hostname, 'laptop');
    assert.equal(l.clientType, 'dhcp');
    assert.equal(l.leaseExpiresAt, NOW + 2 + 3600);
    assert.equal(l.stateStartedAt, NOW + 2);
    assert.equal(l.clientLastTransactionAt, NOW + 2);
    assert.equal(l.ownerServer, 'tl-test');
    assert.equal(l.scopeId, '10.0.0.0');
    assert.deepEqual(e.getLease(l.address), l);
  });

  test('SELECTING another server: our offer is withdrawn and no reply is sent', () => {
    const e = engine([scope({ ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.100') }] })]);
    const offer = reply(e.handle(packet(T.Discover, { mac: mac(1) }), NOW), T.Offer);
    ignored(
      e.handle(
        packet(T.Request, { mac: mac(1), requested: formatIpv4(offer.reply.yiaddr), serverId: '10.0.0.2' }),
        NOW,
      ),
      'other-server-selected',
    );
    assert.equal(
      formatIpv4(reply(e.handle(packet(T.Discover, { mac: mac(2) }), NOW), T.Offer).reply.yiaddr),
      '10.0.0.100',
    );
  });

  test('SELECTING an address held by another client is NAKed', () => {
    const e = engine();
    const a = dora(e, mac(1));
    const nak = reply(
      e.handle(packet(T.Request, { mac: mac(2), requested: a, serverId: '10.0.0.1' }), NOW),
      T.Nak,
    );
    assert.equal(nak.reply.yiaddr, 0);
    assert.ok(new TextDecoder().decode(nak.reply.options.get(56)).length > 0);
    assert.deepEqual(nak.to, { kind: 'broadcast' });
  });

  test("INIT-REBOOT: ACK for the client's own address", () => {
    const e = engine();
    const a = dora(e, mac(1));
    reply(e.handle(packet(T.Request, { mac: mac(1), requested: a }), NOW + 100), T.Ack);
  });

  test('INIT-REBOOT: NAK for an address on the wrong network', () => {
    reply(engine().handle(packet(T.Request, { mac: mac(1), requested: '192.168.1.10' }), NOW), T.Nak);
  });

  test('INIT-REBOOT: NAK for an address bound to another client', () => {
    const e = engine();
    const a = dora(e, mac(1));
    reply(e.handle(packet(T.Request, { mac: mac(2), requested: a }), NOW), T.Nak);
  });

  test('INIT-REBOOT: NAK when the client holds a different address', () => {
    const e = engine();
    const a = dora(e, mac(1));
    const other = a === '10.0.0.101' ? '10.0.0.102' : '10.0.0.101';
    reply(e.handle(packet(T.Request, { mac: mac(1), requested: other }), NOW), T.Nak);
  });

  test('INIT-REBOOT: silent when the server has no record of the client', () => {
    ignored(
      engine().handle(packet(T.Request, { mac: mac(1), requested: '10.0.0.103' }), NOW),
      'unknown-client',
    );
  });

  test('INIT-REBOOT on a non-authoritative scope: silent for the wrong network', () => {
    const e = engine([scope({ authoritative: false })]);
    ignored(e.handle(packet(T.Request, { mac: mac(1), requested: '192.168.1.10' }), NOW), 'not-our-address');
  });

  test('RENEWING: ACK extends the lease, keeps start of state, unicasts to ciaddr', () => {
    const e = engine();
    const a = dora(e, mac(1));
    const ack = reply(e.handle(packet(T.Request, { mac: mac(1), ciaddr: a }), NOW + 1800), T.Ack);
    const l = ack.changes[0]!;
    assert.equal(l.leaseExpiresAt, NOW + 1800 + 3600);
    assert.equal(l.stateStartedAt, NOW);
    assert.equal(l.clientLastTransactionAt, NOW + 1800);
    assert.equal(formatIpv4(ack.reply.ciaddr), a);
    assert.equal(formatIpv4(ack.reply.yiaddr), a);
    assert.deepEqual(ack.to, { kind: 'client', address: ip(a) });
  });

  test('RENEWING for less than the client holds: the client is told the shorter lease, the store keeps the longer one (a lost ACK leaves the client holding it)', () => {
    const e = engine();
    const a = dora(e, mac(1));
    const ack = reply(
      e.handle(packet(T.Request, { mac: mac(1), ciaddr: a, leaseTime: 600 }), NOW + 60),
      T.Ack,
    );
    assert.equal(readU32(ack.reply.options.get(51)), 600, 'told what was granted');
    assert.equal(ack.changes[0]!.leaseExpiresAt, NOW + 3600, 'stored: the lease the client already held');
    assert.equal(ack.changes[0]!.clientLastTransactionAt, NOW + 60);
  });

  test('RENEWING an address bound to another client is NAKed', () => {
    const e = engine();
    const a = dora(e, mac(1));
    reply(e.handle(packet(T.Request, { mac: mac(2), ciaddr: a }), NOW), T.Nak);
  });

  test('RENEWING a free address we have no record of reinstates it (lost lease file)', () => {
    const ack = reply(engine().handle(packet(T.Request, { mac: mac(1), ciaddr: '10.0.0.104' }), NOW), T.Ack);
    assert.equal(formatIpv4(ack.changes[0]!.address), '10.0.0.104');
  });

  test('RENEWING an excluded address in our subnet is NAKed', () => {
    const e = engine([scope({ exclusions: [{ start: ip('10.0.0.104'), end: ip('10.0.0.104') }] })]);
    reply(e.handle(packet(T.Request, { mac: mac(1), ciaddr: '10.0.0.104' }), NOW), T.Nak);
  });

  test('a client that moves to a new address gives up the old binding', () => {
    const e = engine();
    const a = dora(e, mac(1));
    const other = a === '10.0.0.108' ? '10.0.0.109' : '10.0.0.108';
    const ack = reply(
      e.handle(packet(T.Request, { mac: mac(1), requested: other, serverId: '10.0.0.1' }), NOW + 5),
      T.Ack,
    );
    assert.equal(ack.changes.length, 2);
    assert.equal(e.getLease(ip(a))!.state, 'free');
    assert.equal(e.getLease(ip(other))!.state, 'active');
  });
});

describe('RFC 2131 §4.3.3 DHCPDECLINE', () => {
  test('a declined address is held as abandoned and the client gets a different one', () => {
    const e = engine();
    const a = dora(e, mac(1));
    const r = e.handle(packet(T.Decline, { mac: mac(1), requested: a, serverId: '10.0.0.1' }), NOW + 1);
    ignored(r, 'no-reply-needed');
    assert.equal(r.changes.length, 1);
    const l = r.changes[0]!;
    assert.equal(l.state, 'abandoned');
    assert.equal(l.hardwareAddress, '');
    assert.equal(l.leaseExpiresAt, NOW + 1 + 600);
    const again = dora(e, mac(1), NOW + 2);
    assert.notEqual(again, a);
    // Nobody gets it during the hold...
    for (let i = 2; i <= 9; i++) assert.notEqual(dora(e, mac(i), NOW + 3), a);
    ignored(e.handle(packet(T.Discover, { mac: mac(50) }), NOW + 4), 'no-free-address');
    // ...and it comes back afterwards.
    const expired = e.tick(NOW + 1 + 600);
    assert.ok(expired.some((x) => formatIpv4(x.address) === a && x.state === 'free'));
    assert.equal(dora(e, mac(50), NOW + 700), a);
  });

  test("a declined binding keeps the address's potential expiration times (a failover partner-down wait relies on them: sim seed 18835)", () => {
    const e = engine();
    const a = dora(e, mac(1));
    // As a failover server keeps them: sent to the partner, acknowledged, received from it.
    e.putLease({
      ...e.getLease(ip(a))!,
      sentPotentialExpiresAt: NOW + 900,
      ackedPotentialExpiresAt: NOW + 800,
      receivedPotentialExpiresAt: NOW + 700,
    });
    const r = e.handle(packet(T.Decline, { mac: mac(1), requested: a, serverId: '10.0.0.1' }), NOW + 1);
    const l = r.changes[0]!;
    assert.equal(l.state, 'abandoned');
    assert.equal(l.sentPotentialExpiresAt, NOW + 900);
    assert.equal(l.ackedPotentialExpiresAt, NOW + 800);
    assert.equal(l.receivedPotentialExpiresAt, NOW + 700);
  });

  test('a DECLINE from a client that does not hold the address is ignored', () => {
    const e = engine();
    const a = dora(e, mac(1));
    ignored(e.handle(packet(T.Decline, { mac: mac(2), requested: a }), NOW), 'unknown-client');
    assert.equal(e.getLease(ip(a))!.state, 'active');
  });
});

describe('RFC 2131 §4.3.4 DHCPRELEASE', () => {
  test('a release frees the address and the same client gets it back later', () => {
    const e = engine();
    const a = dora(e, mac(1));
    const r = e.handle(packet(T.Release, { mac: mac(1), ciaddr: a, serverId: '10.0.0.1' }), NOW + 10);
    ignored(r, 'no-reply-needed');
    assert.equal(r.changes[0]!.state, 'free');
    assert.equal(r.changes[0]!.hardwareAddress, mac(1));
    assert.equal(dora(e, mac(1), NOW + 20), a);
  });

  test('a release by another client is ignored', () => {
    const e = engine();
    const a = dora(e, mac(1));
    ignored(e.handle(packet(T.Release, { mac: mac(2), ciaddr: a }), NOW), 'unknown-client');
  });
});

describe('RFC 2131 §4.3.5 DHCPINFORM', () => {
  test('ACK with options, no lease time, unicast to ciaddr, no binding', () => {
    const r = reply(
      engine().handle(packet(T.Inform, { mac: mac(1), ciaddr: '10.0.0.7', prl: [3, 6] }), NOW),
      T.Ack,
    );
    assert.equal(r.reply.yiaddr, 0);
    assert.equal(formatIpv4(r.reply.ciaddr), '10.0.0.7');
    assert.ok(!r.reply.options.has(51));
    assert.ok(r.reply.options.has(3));
    assert.deepEqual(r.changes, []);
    assert.deepEqual(r.to, { kind: 'client', address: ip('10.0.0.7') });
  });
});

describe('RFC 6842 §3: the client identifier comes back unaltered', () => {
  // An RFC 4361 identifier (type 255, IAID, DUID), as dhcpcd sends it.
  const CID = 'ff000000010001000100aabbccddeeff00112233';

  test('in OFFER, ACK and NAK, right after the server identifier', () => {
    const e = engine();
    const offer = reply(e.handle(packet(T.Discover, { mac: mac(1), clientId: CID }), NOW), T.Offer);
    assert.equal(toHex(offer.reply.options.get(61)!), CID);
    // Early in the reply, so a small maximum message size drops configured options, not this one.
    assert.deepEqual([...offer.reply.options.keys()].slice(0, 3), [53, 54, 61]);
    const yi = formatIpv4(offer.reply.yiaddr);
    const ack = reply(
      e.handle(packet(T.Request, { mac: mac(1), clientId: CID, requested: yi, serverId: '10.0.0.1' }), NOW),
      T.Ack,
    );
    assert.equal(toHex(ack.reply.options.get(61)!), CID);
    const nak = reply(
      e.handle(packet(T.Request, { mac: mac(1), clientId: CID, requested: '10.1.1.1' }), NOW),
      T.Nak,
    );
    assert.equal(toHex(nak.reply.options.get(61)!), CID);
  });

  test('in the ACK to an INFORM (a DHCPACK too; Kea 2.2 echoes it there as well)', () => {
    const inform = reply(
      engine().handle(packet(T.Inform, { mac: mac(1), clientId: '01020000000001', ciaddr: '10.0.0.7' }), NOW),
      T.Ack,
    );
    assert.equal(toHex(inform.reply.options.get(61)!), '01020000000001');
  });

  test('absent when the client sent none; a configured option 61 never replaces the echo', () => {
    const e = engine([scope({ options: new Map([[61, Uint8Array.of(0, 1, 2)]]) })]);
    const plain = reply(e.handle(packet(T.Discover, { mac: mac(2), prl: [1, 61] }), NOW), T.Offer);
    assert.deepEqual([...plain.reply.options.get(61)!], [0, 1, 2]);
    const echoed = reply(
      e.handle(packet(T.Discover, { mac: mac(3), clientId: CID, prl: [61] }), NOW),
      T.Offer,
    );
    assert.equal(toHex(echoed.reply.options.get(61)!), CID);
  });
});

describe('RFC 3011 §3: the subnet selection option comes back unaltered', () => {
  const far = () =>
    engine([
      scope(),
      scope({ id: 'far', subnet: '10.9.0.0/24', ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }] }),
    ]);
  const SUBNET = Uint8Array.of(10, 9, 0, 0);

  test('in OFFER, ACK and NAK, unrequested, early in the reply', () => {
    const e = far();
    const sel = { giaddr: '10.0.0.254', extra: [[118, SUBNET]] as [number, Uint8Array][] };
    const offer = reply(e.handle(packet(T.Discover, { mac: mac(1), prl: [1, 3], ...sel }), NOW), T.Offer);
    assert.deepEqual([...offer.reply.options.get(118)!], [...SUBNET]);
    // Before the configured options, so a small maximum message size drops those, not this one.
    assert.deepEqual([...offer.reply.options.keys()].slice(0, 3), [53, 54, 118]);
    const yi = formatIpv4(offer.reply.yiaddr);
    const ack = reply(
      e.handle(packet(T.Request, { mac: mac(1), requested: yi, serverId: '10.0.0.1', ...sel }), NOW),
      T.Ack,
    );
    assert.deepEqual([...ack.reply.options.get(118)!], [...SUBNET]);
    const nak = reply(
      e.handle(packet(T.Request, { mac: mac(2), requested: '10.1.1.1', ...sel }), NOW),
      T.Nak,
    );
    assert.deepEqual([...nak.reply.options.get(118)!], [...SUBNET]);
  });

  test('in the ACK to an INFORM; absent when the client sent none', () => {
    const e = far();
    const inform = reply(
      e.handle(packet(T.Inform, { mac: mac(1), ciaddr: '10.9.0.7', extra: [[118, SUBNET]] }), NOW),
      T.Ack,
    );
    assert.deepEqual([...inform.reply.options.get(118)!], [...SUBNET]);
    const plain = reply(e.handle(packet(T.Discover, { mac: mac(3) }), NOW), T.Offer);
    assert.equal(plain.reply.options.has(118), false);
  });
});

describe('RFC 2131 §4.1 reply destinations', () => {
  test('relayed: to giaddr; direct with broadcast bit or no address: broadcast', () => {
    const e = engine([
      scope({
        id: 'relayed',
        subnet: '10.9.0.0/24',
        ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }],
      }),
      scope(),
    ]);
    const relayed = reply(e.handle(packet(T.Discover, { mac: mac(1), giaddr: '10.9.0.1' }), NOW), T.Offer);
    assert.deepEqual(relayed.to, { kind: 'relay', address: ip('10.9.0.1') });
    assert.equal(relayed.reply.giaddr, ip('10.9.0.1'));
    const direct = reply(e.handle(packet(T.Discover, { mac: mac(2), flags: 0x8000 }), NOW), T.Offer);
    assert.deepEqual(direct.to, { kind: 'broadcast' });
    assert.equal(direct.reply.flags, 0x8000);
  });

  test('a NAK through a relay sets the broadcast bit', () => {
    const e = engine([
      scope({
        id: 'relayed',
        subnet: '10.9.0.0/24',
        ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }],
      }),
    ]);
    const nak = reply(
      e.handle(packet(T.Request, { mac: mac(1), giaddr: '10.9.0.1', requested: '10.1.1.1' }), NOW),
      T.Nak,
    );
    assert.equal(nak.reply.flags & 0x8000, 0x8000);
    assert.deepEqual(nak.to, { kind: 'relay', address: ip('10.9.0.1') });
  });

  test('relay agent information (option 82) is echoed to the relay', () => {
    const e = engine([
      scope({
        id: 'relayed',
        subnet: '10.9.0.0/24',
        ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }],
      }),
    ]);
    const rai = Uint8Array.of(1, 3, 0x61, 0x62, 0x63);
    const r = reply(
      e.handle(packet(T.Discover, { mac: mac(1), giaddr: '10.9.0.1', extra: [[82, rai]] }), NOW),
      T.Offer,
    );
    assert.deepEqual([...r.reply.options.get(82)!], [...rai]);
    assert.equal([...r.reply.options.keys()].at(-1), 82);
  });

  test('option 82 inserted by a layer-2 agent (giaddr 0) is echoed in OFFER, ACK and NAK (RFC 3046 §2.2: all replies)', () => {
    // A switch doing DHCP snooping adds option 82 without relaying: giaddr stays 0. RFC 3046 §2.2
    // asks for the echo in all replies; the switch strips it before the client sees the reply.
    const e = engine();
    const rai = Uint8Array.of(1, 4, 0x70, 0x6f, 0x72, 0x74);
    const offer = reply(e.handle(packet(T.Discover, { mac: mac(1), extra: [[82, rai]] }), NOW), T.Offer);
    assert.deepEqual(offer.reply.options.get(82), rai, 'OFFER');
    const yi = formatIpv4(offer.reply.yiaddr);
    const ack = reply(
      e.handle(
        packet(T.Request, { mac: mac(1), requested: yi, serverId: '10.0.0.1', extra: [[82, rai]] }),
        NOW,
      ),
      T.Ack,
    );
    assert.deepEqual(ack.reply.options.get(82), rai, 'ACK');
    const nak = reply(
      e.handle(packet(T.Request, { mac: mac(2), requested: '10.77.0.5', extra: [[82, rai]] }), NOW),
      T.Nak,
    );
    assert.deepEqual(nak.reply.options.get(82), rai, 'NAK');
  });

  test('relay agent information survives a reply that configured options fill (RFC 3046 §2.2)', () => {
    // Requested options of 200 bytes each fill a 576-byte reply (options field, file and sname).
    const big = (b: number) => new Uint8Array(200).fill(b);
    const e = engine([
      scope({
        id: 'relayed',
        subnet: '10.9.0.0/24',
        ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }],
        options: new Map([
          [224, big(1)],
          [225, big(2)],
          [226, big(3)],
        ]),
      }),
    ]);
    const rai = Uint8Array.of(1, 6, ...new TextEncoder().encode('port-7'), 2, 4, 0xde, 0xad, 0xbe, 0xef);
    const prl = [1, 224, 225, 226];
    const relayed = { mac: mac(1), giaddr: '10.9.0.1', prl, extra: [[82, rai]] as [number, Uint8Array][] };
    const offer = reply(e.handle(packet(T.Discover, relayed), NOW), T.Offer);
    const yi = formatIpv4(offer.reply.yiaddr);
    const ack = reply(
      e.handle(packet(T.Request, { ...relayed, requested: yi, serverId: '10.0.0.1' }), NOW),
      T.Ack,
    );
    for (const sent of [offer, ack]) {
      assert.equal(sent.maxSize, 576);
      const encoded = encodeDhcpReport(sent.reply, { maxSize: sent.maxSize });
      assert.ok(encoded.droppedOptionCodes.length > 0, 'some configured option gives way');
      assert.ok(!encoded.droppedOptionCodes.includes(82), `dropped ${encoded.droppedOptionCodes}`);
      const back = decodeDhcp(encoded.bytes);
      assert.ok(back.ok);
      assert.deepEqual([...back.packet.options.get(82)!], [...rai]);
      // The last option of the options field itself: never in an overloaded file or sname field.
      const codes: number[] = [];
      for (
        let i = 240;
        encoded.bytes[i] !== 255;
        i += encoded.bytes[i] === 0 ? 1 : 2 + encoded.bytes[i + 1]!
      ) {
        if (encoded.bytes[i] !== 0) codes.push(encoded.bytes[i]!);
      }
      assert.equal(codes.at(-1), 82, `options field: ${codes}`);
    }
  });
});

describe('scope selection', () => {
  const two = () =>
    engine([
      scope(),
      scope({
        id: 'far',
        subnet: '10.9.0.0/24',
        ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }],
        relayAddresses: [ip('172.16.0.1')],
      }),
    ]);
  const inFar = (r: EngineResult) => {
    const a = reply(r, T.Offer).reply.yiaddr;
    return a >= ip('10.9.0.10') && a <= ip('10.9.0.20');
  };

  test('by giaddr inside the subnet', () =>
    assert.ok(inFar(two().handle(packet(T.Discover, { giaddr: '10.9.0.1' }), NOW))));
  test('by giaddr listed as a relay address', () =>
    assert.ok(inFar(two().handle(packet(T.Discover, { giaddr: '172.16.0.1' }), NOW))));
  test('by option 82 link selection (RFC 3527) over giaddr', () => {
    const rai = Uint8Array.of(5, 4, 10, 9, 0, 0);
    assert.ok(inFar(two().handle(packet(T.Discover, { giaddr: '10.0.0.254', extra: [[82, rai]] }), NOW)));
  });
  test('by option 118 subnet selection (RFC 3011)', () => {
    assert.ok(
      inFar(
        two().handle(
          packet(T.Discover, { giaddr: '10.0.0.254', extra: [[118, Uint8Array.of(10, 9, 0, 0)]] }),
          NOW,
        ),
      ),
    );
  });
  test('direct clients get the directly attached scope', () =>
    assert.ok(!inFar(two().handle(packet(T.Discover, {}), NOW))));

  // RFC 2131 §4.3.2: a RENEWING client unicasts ("the DHCP server will trust the value in
  // 'ciaddr'"); a REBINDING one broadcasts, and "the DHCP server SHOULD check 'ciaddr' for
  // correctness": against the network it came in on. The shell says which (`arrival`).
  /** A client of 'far' (relayed) that holds 10.9.0.x; returns the engine and the address. */
  const farClient = (authoritative = true) => {
    const e = engine([
      scope({ authoritative }),
      scope({
        id: 'far',
        subnet: '10.9.0.0/24',
        ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }],
      }),
    ]);
    const a = dora(e, mac(7), NOW, { giaddr: '10.9.0.1' });
    return { e, a };
  };

  test('a unicast RENEWING request names its scope by ciaddr, also when the shell cannot tell', () => {
    for (const arrival of ['unicast', 'unknown'] as const) {
      const { e, a } = farClient();
      const ack = reply(e.handle(packet(T.Request, { mac: mac(7), ciaddr: a }), NOW + 1800, arrival), T.Ack);
      assert.equal(ack.scopeId, 'far');
      assert.equal(e.getLease(ip(a))!.leaseExpiresAt, NOW + 1800 + 3600);
    }
  });

  test('a broadcast REBINDING with the address of a scope not on the link is NAKed, not extended there', () => {
    const { e, a } = farClient();
    const before = e.getLease(ip(a))!;
    const nak = reply(
      e.handle(packet(T.Request, { mac: mac(7), ciaddr: a }), NOW + 3200, 'broadcast'),
      T.Nak,
    );
    assert.equal(nak.scopeId, '10.0.0.0');
    assert.match(nak.detail ?? '', /wrong network/);
    assert.deepEqual(nak.to, { kind: 'broadcast' });
    assert.deepEqual(e.getLease(ip(a)), before, 'the binding in the other scope is untouched');
    // Not authoritative for the link: silence (RFC 2131 §3.2: "Servers SHOULD NOT respond if
    // their information is not guaranteed to be accurate").
    const quiet = farClient(false);
    ignored(
      quiet.e.handle(packet(T.Request, { mac: mac(7), ciaddr: quiet.a }), NOW + 3200, 'broadcast'),
      'not-our-address',
    );
  });

  test('a relayed REBINDING is checked against the relay network: a lease of another scope is not extended', () => {
    const { e, a } = farClient();
    const before = e.getLease(ip(a))!;
    const nak = reply(
      e.handle(packet(T.Request, { mac: mac(7), ciaddr: a, giaddr: '10.0.0.254' }), NOW + 3200),
      T.Nak,
    );
    assert.match(nak.detail ?? '', /wrong network/);
    assert.deepEqual(e.getLease(ip(a)), before);
  });

  test('a broadcast REBINDING for any directly attached subnet is served in that one', () => {
    const second = scope({
      id: 'second',
      subnet: '10.8.0.0/24',
      ranges: [{ start: ip('10.8.0.10'), end: ip('10.8.0.20') }],
    });
    const e = new DhcpEngine(settings([scope(), second], { directScopeIds: ['10.0.0.0', 'second'] }), []);
    const ack = reply(
      e.handle(packet(T.Request, { mac: mac(8), ciaddr: '10.8.0.12' }), NOW, 'broadcast'),
      T.Ack,
    );
    assert.equal(ack.scopeId, 'second');
    assert.equal(e.getLease(ip('10.8.0.12'))!.scopeId, 'second');
  });

  test('a RELEASE is settled in the scope of the binding it names, however it arrived', () => {
    const { e, a } = farClient();
    const r = e.handle(packet(T.Release, { mac: mac(7), ciaddr: a }), NOW + 10, 'broadcast');
    ignored(r, 'no-reply-needed');
    assert.equal(r.scopeId, 'far');
    assert.equal(e.getLease(ip(a))!.state, 'free');
  });

  test('an unknown relay gets nothing', () =>
    ignored(two().handle(packet(T.Discover, { giaddr: '192.168.5.1' }), NOW), 'no-scope'));
});

describe('BOOTP (RFC 951, RFC 1534)', () => {
  test('a reserved BOOTP client gets its address with an infinite binding', () => {
    const e = engine([
      scope({ reservations: [reservation({ address: '10.0.0.60', hardwareAddress: mac(4) })] }),
    ]);
    const r = reply(e.handle(packet(0 as T, { mac: mac(4), noMessageType: true }), NOW), 0);
    assert.equal(formatIpv4(r.reply.yiaddr), '10.0.0.60');
    assert.equal(r.changes[0]!.clientType, 'bootp');
    assert.equal(r.changes[0]!.leaseExpiresAt, 0xffffffff);
    assert.ok(!r.reply.options.has(53));
  });

  test('a BOOTREPLY does not echo the client identifier or subnet selection (RFC 6842 and RFC 3011 are DHCP)', () => {
    // A BOOTP request with the RFC 1497 cookie and options, among them 61 and 118 (as Kea 2.2's
    // BOOTP hook answers it: without them).
    const e = engine([scope({ dynamicBootp: true })]);
    const p = packet(0 as T, {
      mac: mac(4),
      noMessageType: true,
      clientId: '01020000000004',
      extra: [[118, Uint8Array.of(10, 0, 0, 0)]],
    });
    p.hasMagicCookie = true;
    const r = reply(e.handle(p, NOW), 0);
    assert.ok(r.reply.hasMagicCookie);
    assert.equal(r.reply.options.has(61), false);
    assert.equal(r.reply.options.has(118), false);
  });

  test('a DHCP message whose option 53 is not one byte is dropped, not served as BOOTP', () => {
    // Two option 53 instances are concatenated (RFC 3396) into two bytes: the message is DHCP
    // (it has option 53) and malformed; answering it with a BOOTREPLY would bind an address
    // for good to a client that asked for an OFFER.
    const e = engine([scope({ dynamicBootp: true })]);
    const p = packet(T.Discover, { mac: mac(4), extra: [[53, Uint8Array.of(1, 1)]] });
    ignored(e.handle(p, NOW), 'malformed-request');
    assert.equal([...e.leases()].length, 0);
  });

  test('dynamic BOOTP only where the scope allows it', () => {
    ignored(engine().handle(packet(0 as T, { mac: mac(4), noMessageType: true }), NOW), 'bootp-disabled');
    const e = engine([scope({ dynamicBootp: true, bootpLeaseSeconds: 7200 })]);
    const r = reply(e.handle(packet(0 as T, { mac: mac(4), noMessageType: true }), NOW), 0);
    assert.equal(r.changes[0]!.clientType, 'bootp');
    assert.equal(r.changes[0]!.leaseExpiresAt, NOW + 7200);
  });
});

describe('lease expiry', () => {
  test('an expired lease becomes free; its client gets it back; others get it only when nothing else is left', () => {
    const e = engine([scope({ ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.101') }] })]);
    const a = dora(e, mac(1));
    assert.deepEqual(e.tick(NOW + 3599), []);
    const expired = e.tick(NOW + 3600);
    assert.equal(expired.length, 1);
    assert.equal(expired[0]!.state, 'free');
    assert.equal(expired[0]!.stateStartedAt, NOW + 3600);
    assert.equal(dora(e, mac(1), NOW + 4000), a);
  });

  test('nextWakeAt reports the earliest expiry', () => {
    const e = engine();
    assert.equal(e.nextWakeAt(), null);
    dora(e, mac(1));
    assert.equal(e.nextWakeAt(), NOW + 60); // the offer hold comes first
    e.tick(NOW + 60);
    assert.equal(e.nextWakeAt(), NOW + 3600);
  });

  test('restart: an engine built from stored leases keeps every binding', () => {
    const e = engine();
    const held = new Map<string, string>();
    for (let i = 1; i <= 5; i++) held.set(mac(i), dora(e, mac(i)));
    const e2 = engine(undefined, [...e.leases()]);
    for (const [m, a] of held) {
      assert.equal(toHex(Uint8Array.from(Buffer.from(e2.getLease(ip(a))!.hardwareAddress, 'hex'))), m);
      reply(e2.handle(packet(T.Request, { mac: m, ciaddr: a }), NOW + 10), T.Ack);
    }
    for (let i = 6; i <= 10; i++) assert.ok(![...held.values()].includes(dora(e2, mac(i), NOW + 10)));
  });

  test('reload: an engine given the running engine table serves the same bindings, counted for its scopes', () => {
    const e = engine([scope({ ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.140') }] })]);
    const held = new Map<string, string>();
    for (let i = 1; i <= 5; i++) held.set(mac(i), dora(e, mac(i)));
    // The new configuration shrinks the range: two of the bindings (.100, .101) fall outside it.
    const first = [...held.values()].sort()[0]!;
    assert.equal(first, '10.0.0.100');
    const e2 = new DhcpEngine(
      settings([scope({ ranges: [{ start: ip(first) + 2, end: ip('10.0.0.140') }] })]),
      e.leaseTable,
    );
    assert.equal(e2.leaseTable, e.leaseTable, 'handed over, not copied');
    for (const [m, a] of held) assert.equal(e2.getLease(ip(a))?.hardwareAddress, m);
    const stats = e2.scopeStatistics(NOW, () => 'standalone').get('10.0.0.0')!;
    assert.equal(stats.addrInUse, 3);
    assert.equal(stats.numAddr, 39); // .102–.140
    for (const [m, a] of held) {
      if (ip(a) >= ip(first) + 2) reply(e2.handle(packet(T.Request, { mac: m, ciaddr: a }), NOW + 10), T.Ack);
    }
  });
});

test('malformed requests are ignored with a reason, never thrown', () => {
  const e = engine();
  ignored(e.handle({ ...packet(T.Discover), op: 2 }, NOW), 'not-a-request');
  ignored(e.handle({ ...packet(T.Discover), hlen: 0 }, NOW), 'no-client-identity');
  ignored(e.handle(packet(T.Request, { mac: mac(1) }), NOW), 'malformed-request');
  ignored(e.handle(packet(T.Offer, { mac: mac(1) }), NOW), 'unsupported-message-type');
});
