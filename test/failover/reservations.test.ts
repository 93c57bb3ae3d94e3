// Reserved clients in a failover pair (docs/failover.md, "Reserved clients"): answered on their
// first DISCOVER in load balance (by both servers, whatever their RFC 3074 hash bucket) and in hot
// standby (by the active server), whichever server's pool the reserved address sits in: outside
// the ranges (never FREE or BACKUP on the wire), FREE (the primary's), or BACKUP (the secondary's,
// given before the reservation was added). The two OFFERs of load balance are harmless: the
// client takes one, the REQUEST names it, only that server binds; no other client can get the
// address from either.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Lease } from '../../src/dhcp/lease.js';
import { clientBucket, serves } from '../../src/failover/hash-bucket.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { FailoverMessageType, ServerState } from '../../src/wire/failover-message.js';
import { fromHex, type Ipv4 } from '../../src/wire/ipv4.js';
import { ip, mac, packet, reservation } from '../dhcp/helpers.js';
import { ipString, type PairOptions, SimPair, type SimServer } from './lib/pair.js';

const S = ServerState;

/** Whether the primary's hash buckets hold this client under a 50/50 split. */
function primaryServes(client: number): boolean {
  const chaddr = new Uint8Array(16);
  chaddr.set(fromHex(mac(client)));
  const hba = new Uint8Array(32);
  hba.fill(0xff, 0, 16);
  return serves(hba, clientBucket(null, chaddr, 6), 'primary', 'primary');
}
const clients = [...Array(60).keys()].map((i) => i + 1);
const PRIMARY_CLIENTS = clients.filter(primaryServes);
const SECONDARY_CLIENTS = clients.filter((c) => !primaryServes(c));

function normalPair(options: PairOptions = {}): SimPair {
  const p = new SimPair(options);
  p.runUntil(
    () => p.a.endpoint.currentState === S.NORMAL && p.b.endpoint.currentState === S.NORMAL,
    120,
    'both NORMAL',
  );
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

/** Adds reservations to both servers' scope, as a reload of the same new config on each. */
function reserve(p: SimPair, entries: [client: number, address: string][]): void {
  const base = p.a.scopes[0]!;
  const next = [
    {
      ...base,
      reservations: [
        ...base.reservations,
        ...entries.map(([c, address]) => reservation({ address, hardwareAddress: mac(c) })),
      ],
    },
  ];
  p.reconfigure(p.a, next);
  p.reconfigure(p.b, next);
}

function offerFrom(p: SimPair, s: SimServer, client: number): Ipv4 | null {
  const offer = p.dhcp(s, packet(T.Discover, { mac: mac(client), xid: client }));
  return offer === null ? null : (offer.yiaddr as Ipv4);
}

/** SELECTING REQUEST naming `chosen`, seen by both servers (it is broadcast); the ACKed address. */
function requestFrom(p: SimPair, chosen: SimServer, client: number, address: Ipv4): Ipv4 | null {
  const request = packet(T.Request, {
    mac: mac(client),
    xid: client,
    requested: ipString(address),
    serverId: ipString(chosen.config.local.address),
  });
  const other = p.other(chosen);
  assert.equal(p.dhcp(other, request), null, 'the server not named stays silent');
  const ack = p.dhcp(chosen, request);
  if (!ack || ack.options.get(53)?.[0] !== T.Ack) return null;
  return ack.yiaddr as Ipv4;
}

describe('reserved clients in load balance', () => {
  test('a reservation outside the ranges: both servers OFFER it on the first DISCOVER, whatever the hash', () => {
    const p = normalPair({
      scope: {
        reservations: [
          reservation({ address: '10.0.0.50', hardwareAddress: mac(PRIMARY_CLIENTS[0]!) }),
          reservation({ address: '10.0.0.51', hardwareAddress: mac(SECONDARY_CLIENTS[0]!) }),
        ],
      },
    });
    for (const [client, address] of [
      [PRIMARY_CLIENTS[0]!, '10.0.0.50'],
      [SECONDARY_CLIENTS[0]!, '10.0.0.51'],
    ] as const) {
      assert.equal(offerFrom(p, p.a, client), ip(address), `primary offers ${address} to client ${client}`);
      assert.equal(offerFrom(p, p.b, client), ip(address), `secondary offers ${address} to client ${client}`);
    }
    // Each client takes the OFFER of the server its hash does NOT name: that server binds.
    assert.equal(requestFrom(p, p.b, PRIMARY_CLIENTS[0]!, ip('10.0.0.50')), ip('10.0.0.50'));
    assert.equal(requestFrom(p, p.a, SECONDARY_CLIENTS[0]!, ip('10.0.0.51')), ip('10.0.0.51'));
    p.run(2);
    for (const [client, address] of [
      [PRIMARY_CLIENTS[0]!, '10.0.0.50'],
      [SECONDARY_CLIENTS[0]!, '10.0.0.51'],
    ] as const) {
      for (const s of [p.a, p.b]) {
        const l = s.engine.getLease(ip(address));
        assert.equal(l?.state, 'active', `${address} active on ${s.name}`);
        assert.equal(l?.hardwareAddress, mac(client));
        assert.equal(l?.isReserved, true);
      }
    }
    assert.ok(!p.b.log.some((l) => l.type === 'log' && l.event === 'failover-update-rejected'));
  });

  test('reservations on BACKUP and FREE addresses, added after pool balancing: answered by both, ACKed by either', () => {
    const p = normalPair();
    const backup = [...p.b.engine.leases()].filter((l) => l.state === 'backup').map((l) => l.address);
    assert.ok(backup.length >= 2);
    const free = ip('10.0.0.100'); // never used: FREE, the primary's
    assert.equal(p.a.engine.getLease(free), undefined);
    const cases: [client: number, address: Ipv4, chosen: SimServer][] = [
      // The primary's hash bucket, the secondary's address, the primary chosen.
      [PRIMARY_CLIENTS[1]!, backup[0]!, p.a],
      // The secondary's hash bucket and the secondary's address, the primary chosen.
      [SECONDARY_CLIENTS[1]!, backup[1]!, p.a],
      // The secondary's hash bucket, the primary's address, the secondary chosen.
      [SECONDARY_CLIENTS[2]!, free, p.b],
    ];
    reserve(
      p,
      cases.map(([c, a]) => [c, ipString(a)]),
    );
    for (const [client, address, chosen] of cases) {
      assert.equal(offerFrom(p, p.a, client), address, `primary offers ${ipString(address)} to ${client}`);
      assert.equal(offerFrom(p, p.b, client), address, `secondary offers ${ipString(address)} to ${client}`);
      assert.equal(
        requestFrom(p, chosen, client, address),
        address,
        `${chosen.name} ACKs ${ipString(address)}`,
      );
    }
    p.run(2);
    for (const [client, address] of cases) {
      for (const s of [p.a, p.b]) {
        const l = s.engine.getLease(address)!;
        assert.equal(l.state, 'active', `${ipString(address)} on ${s.name}`);
        assert.equal(l.hardwareAddress, mac(client));
      }
    }
    assert.equal(
      p.trace.filter((t) => t.endsWith(`>${FailoverMessageType.BNDACK}`)).length > 0,
      true,
      'the bindings were acknowledged',
    );
  });

  test('a released reserved address (awaiting the partner) goes back to its client at once', () => {
    const p = normalPair({
      scope: {
        reservations: [reservation({ address: '10.0.0.60', hardwareAddress: mac(SECONDARY_CLIENTS[3]!) })],
      },
    });
    const client = SECONDARY_CLIENTS[3]!;
    const address = ip('10.0.0.60');
    assert.equal(requestFrom(p, p.b, client, offerFrom(p, p.b, client)!), address);
    p.run(2);
    p.partition(true);
    p.release(p.b, client, address);
    assert.equal(p.b.engine.getLease(address)?.state, 'released');
    assert.equal(
      offerFrom(p, p.b, client),
      address,
      'the reserved client is answered while the partner is away',
    );
  });
});

describe('reserved clients in hot standby', () => {
  test('the active server answers them on the first DISCOVER, also for an address in the standby reserve', () => {
    const p = normalPair({
      primary: { mode: 'hotStandby', serverRole: 'active', reservePercent: 25 },
      secondary: { mode: 'hotStandby', serverRole: 'standby', reservePercent: 25 },
    });
    const backup = [...p.b.engine.leases()].filter((l) => l.state === 'backup').map((l) => l.address);
    const client = SECONDARY_CLIENTS[4]!;
    reserve(p, [
      [client, ipString(backup[0]!)],
      [PRIMARY_CLIENTS[4]!, '10.0.0.70'],
    ]);
    assert.equal(offerFrom(p, p.b, client), null, 'the standby stays passive in NORMAL');
    assert.equal(offerFrom(p, p.a, client), backup[0]);
    assert.equal(requestFrom(p, p.a, client, backup[0]!), backup[0]);
    assert.equal(offerFrom(p, p.a, PRIMARY_CLIENTS[4]!), ip('10.0.0.70'));
  });
});

describe('the reserved address never reaches another client', () => {
  test('dynamic clients of either server are never offered it, in NORMAL or partitioned', () => {
    const p = normalPair({
      scope: {
        ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.103') }],
        reservations: [reservation({ address: '10.0.0.101', hardwareAddress: mac(99) })],
      },
    });
    p.partition(true);
    p.run(20);
    const seen = new Set<number>();
    for (const c of clients) {
      for (const s of [p.a, p.b]) {
        const a = offerFrom(p, s, c);
        if (a !== null) seen.add(a);
      }
    }
    assert.ok(!seen.has(ip('10.0.0.101')));
  });
});
