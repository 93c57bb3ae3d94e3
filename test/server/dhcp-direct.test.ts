// direct mode without root: the DirectTransport over a fake native addon (frames in, frames out),
// with the real DhcpService and engine behind it. Checked: a client's broadcast on eth2 is served
// from eth2's scope with eth2's address as option 54, and the OFFER leaves by eth2, unicast to its
// hardware address (broadcast bit clear) or broadcast (bit set, or a NAK); relayed and renewing
// clients are answered through the routed UDP socket; an interface that does not exist, or goes
// down, is logged and counted while the others keep serving, and is served again when it is back;
// the ping check holds out an address that answers and offers another.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { MemoryLeaseStore } from '../../src/leases/memory-store.js';
import { Counters } from '../../src/server/counters.js';
import { DhcpService, type OfferProbe } from '../../src/server/dhcp-service.js';
import { DirectTransport } from '../../src/server/direct/direct-transport.js';
import { BROADCAST_FLAG, linkDestination } from '../../src/server/direct/link-destination.js';
import type { NativeHandle, NativeNet } from '../../src/server/direct/native.js';
import { directScopeIds, type InterfaceAddress } from '../../src/server/network.js';
import { decodeDhcp, encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { getIpv4Option, OPTION } from '../../src/wire/dhcp-options.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { decodeIpv4Udp, encodeIpv4Udp } from '../../src/wire/ip-udp.js';
import { formatIpv4, parseIpv4, toHex } from '../../src/wire/ipv4.js';
import { ip, mac, NOW, type PacketOptions, packet, scope, settings } from '../dhcp/helpers.js';

type Line = Record<string, unknown> & { level: string; event: string };

interface Sent {
  kind: 'packet' | 'udp';
  ifindex?: number;
  mac?: string;
  address: number;
  port: number;
  payload: Uint8Array;
}

/** A fake addon: interfaces by name, packet sockets whose callbacks the test drives. */
class FakeNative implements NativeNet {
  readonly indexes = new Map<string, number>();
  readonly receivers = new Map<
    number,
    (p: Buffer | null, i: number | string, m?: Buffer, t?: number, notReady?: boolean) => void
  >();
  readonly sent: Sent[] = [];
  private next = 1;
  openPacket(
    ifindex: number,
    _port: number,
    onMessage: (p: Buffer | null, i: number | string, m?: Buffer, t?: number, notReady?: boolean) => void,
  ) {
    this.receivers.set(ifindex, onMessage);
    return { ifindex } as unknown as NativeHandle;
  }
  openUdp(_port: number) {
    return { udp: this.next++ } as unknown as NativeHandle;
  }
  openIcmp() {
    return {} as NativeHandle;
  }
  sendPacket(_h: NativeHandle, ifindex: number, m: Uint8Array, ipPacket: Uint8Array) {
    const d = decodeIpv4Udp(ipPacket);
    assert.ok(d.ok, 'a well-formed IPv4/UDP frame');
    this.sent.push({
      kind: 'packet',
      ifindex,
      mac: toHex(m),
      address: d.datagram.destination,
      port: d.datagram.destinationPort,
      payload: d.datagram.payload,
    });
    return undefined;
  }
  sendTo(_h: NativeHandle, address: number, port: number, payload: Uint8Array) {
    this.sent.push({ kind: 'udp', address, port, payload });
    return undefined;
  }
  close(h: NativeHandle) {
    const ifindex = (h as unknown as { ifindex?: number }).ifindex;
    if (ifindex !== undefined) this.receivers.delete(ifindex);
  }
  interfaceIndex(name: string) {
    return this.indexes.get(name) ?? 0;
  }
}

const LINK1 = scope({
  id: 'link1',
  subnet: '10.91.0.0/24',
  ranges: [{ start: ip('10.91.0.10'), end: ip('10.91.0.19') }],
});
const LINK2 = scope({
  id: 'link2',
  subnet: '10.92.0.0/24',
  ranges: [{ start: ip('10.92.0.10'), end: ip('10.92.0.19') }],
});
const ADDRESSES: InterfaceAddress[] = [
  { interfaceName: 'eth1', address: ip('10.91.0.1'), prefixLength: 24 },
  { interfaceName: 'eth2', address: ip('10.92.0.1'), prefixLength: 24 },
];

async function direct(o: { probe?: OfferProbe } = {}) {
  const lines: Line[] = [];
  const log = pino(
    { level: 'debug', base: null, formatters: { level: (label) => ({ level: label }) } },
    { write: (s: string) => lines.push(JSON.parse(s) as Line) },
  );
  const native = new FakeNative();
  native.indexes.set('eth1', 11);
  native.indexes.set('eth2', 12);
  let host = [...ADDRESSES];
  const counters = new Counters();
  const transport = new DirectTransport(
    native,
    () => ({
      interfaces: ['eth1', 'eth2', 'eth9'],
      port: 67,
      clientPort: 68,
      serverIdentifier: null,
      scopesFor: (addresses) => directScopeIds([LINK1, LINK2], addresses),
    }),
    log,
    counters,
    () => host,
  );
  const engine = new DhcpEngine(
    settings([LINK1, LINK2], {
      serverIdentifier: ip('10.91.0.1'),
      otherServerIdentifiers: [ip('10.92.0.1')],
      directScopeIds: [],
    }),
    [],
  );
  const service = new DhcpService(
    engine,
    new MemoryLeaseStore(),
    { listenAddress: '0.0.0.0', port: 67, clientPort: 68, broadcastAddress: '255.255.255.255' },
    { nowSeconds: () => NOW },
    log,
    counters,
    { isGrantLogged: true },
    { transport, ...(o.probe ? { probe: o.probe } : {}) },
  );
  await service.start();
  /** A client's frame on `ifindex` (source 0.0.0.0:68 → 255.255.255.255:67 unless giaddr/ciaddr say). */
  const frame = (ifindex: number, type: T, po: PacketOptions, source = '0.0.0.0', sourcePort = 68) => {
    const bytes = encodeIpv4Udp({
      source: parseIpv4(source),
      destination: 0xffffffff,
      sourcePort,
      destinationPort: 67,
      payload: encodeDhcp(packet(type, po)),
      identification: 1,
    });
    const receive = native.receivers.get(ifindex);
    assert.ok(receive, `a packet socket on ifindex ${ifindex}`);
    receive(Buffer.from(bytes), ifindex, Buffer.from(po.mac ?? mac(1), 'hex'), 1);
  };
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(ok(), what);
  };
  const reply = (s: Sent) => {
    const d = decodeDhcp(s.payload);
    assert.ok(d.ok);
    return d.packet;
  };
  return {
    native,
    service,
    engine,
    counters,
    lines,
    transport,
    frame,
    until,
    reply,
    setHost: (h: InterfaceAddress[]) => {
      host = h;
    },
    close: () => service.stop(),
  };
}

describe('RFC 2131 §4.1 on the link: where a reply to a client without an address goes', () => {
  const offer = { ...packet(T.Offer), yiaddr: ip('10.91.0.10') };
  test('broadcast bit clear: unicast to chaddr and yiaddr', () => {
    const d = linkDestination(packet(T.Discover, { mac: '02aabbccddee' }), offer, T.Offer);
    assert.equal(d.kind, 'unicast');
    assert.ok(d.kind === 'unicast');
    assert.equal(toHex(d.mac), '02aabbccddee');
    assert.equal(d.address, ip('10.91.0.10'));
  });
  test('broadcast bit set, a NAK, no yiaddr, or a non-Ethernet address: broadcast', () => {
    assert.equal(
      linkDestination(packet(T.Discover, { flags: BROADCAST_FLAG }), offer, T.Offer).kind,
      'broadcast',
    );
    assert.equal(linkDestination(packet(T.Request), offer, T.Nak).kind, 'broadcast');
    assert.equal(linkDestination(packet(T.Request), { ...offer, yiaddr: 0 }, T.Ack).kind, 'broadcast');
    assert.equal(linkDestination({ ...packet(T.Discover), htype: 6 }, offer, T.Offer).kind, 'broadcast');
  });
});

describe('direct transport', () => {
  test("each link's clients get that link's scope and address, out of that link; unicast unless asked", async () => {
    const h = await direct();
    try {
      h.frame(12, T.Discover, { mac: mac(1) });
      await h.until('an OFFER on eth2', () => h.native.sent.length === 1);
      const onEth2 = h.native.sent[0]!;
      assert.equal(onEth2.kind, 'packet');
      assert.equal(onEth2.ifindex, 12);
      assert.equal(onEth2.mac, mac(1), 'to the client hardware address');
      assert.match(formatIpv4(onEth2.address), /^10\.92\.0\./, 'to yiaddr, in the scope of eth2');
      assert.equal(onEth2.port, 68);
      const o = h.reply(onEth2);
      assert.equal(getIpv4Option(o.options, OPTION.serverIdentifier), ip('10.92.0.1'));
      // The REQUEST naming eth2's address is ours; the ACK leaves by eth2 too.
      h.frame(12, T.Request, { mac: mac(1), requested: formatIpv4(o.yiaddr), serverId: '10.92.0.1' });
      await h.until('an ACK', () => h.native.sent.length === 2);
      assert.equal(h.reply(h.native.sent[1]!).options.get(53)?.[0], T.Ack);
      assert.equal(h.native.sent[1]!.ifindex, 12);

      // eth1, broadcast bit set: broadcast to ff:ff:ff:ff:ff:ff / 255.255.255.255, eth1's scope.
      h.frame(11, T.Discover, { mac: mac(2), flags: BROADCAST_FLAG });
      await h.until('an OFFER on eth1', () => h.native.sent.length === 3);
      const onEth1 = h.native.sent[2]!;
      assert.equal(onEth1.ifindex, 11);
      assert.equal(onEth1.mac, 'ffffffffffff');
      assert.equal(onEth1.address, 0xffffffff);
      assert.match(formatIpv4(h.reply(onEth1).yiaddr), /^10\.91\.0\./);
      const logged = h.lines.find((l) => l.event === 'dhcp.offer' && l.scope === 'link1');
      assert.match(String(logged?.to), /255\.255\.255\.255:68 via eth1 to ff:ff:ff:ff:ff:ff/);
    } finally {
      await h.close();
    }
  });

  test('relayed and renewing clients are answered through the routed UDP socket', async () => {
    const h = await direct();
    try {
      h.frame(11, T.Discover, { mac: mac(3), giaddr: '10.92.0.254' }, '10.92.0.254', 67);
      await h.until('an OFFER to the relay', () => h.native.sent.length === 1);
      const toRelay = h.native.sent[0]!;
      assert.equal(toRelay.kind, 'udp');
      assert.equal(toRelay.address, ip('10.92.0.254'));
      assert.equal(toRelay.port, 67);
      assert.match(formatIpv4(h.reply(toRelay).yiaddr), /^10\.92\.0\./, 'the scope of the relay');
    } finally {
      await h.close();
    }
  });

  test('a relayed packet whose UDP checksum the kernel left to offload (CSUMNOTREADY) is answered; a bad one is not', async () => {
    const h = await direct();
    try {
      // What a packet socket on a veth sees from a local UDP sender (perfdhcp as relay): the
      // checksum field holds the pseudo-header sum only, the rest left for the NIC.
      const relayed = (isChecksumNotReady: boolean, m: string) => {
        const bytes = encodeIpv4Udp({
          source: parseIpv4('10.92.0.254'),
          destination: parseIpv4('10.91.0.1'),
          sourcePort: 67,
          destinationPort: 67,
          payload: encodeDhcp(packet(T.Discover, { mac: m, giaddr: '10.92.0.254' })),
          identification: 2,
        });
        const headerLength = (bytes[0]! & 0x0f) * 4;
        bytes[headerLength + 6] = (bytes[headerLength + 6]! + 1) & 0xff; // not the sum any more
        h.native.receivers.get(11)!(Buffer.from(bytes), 11, Buffer.from(m, 'hex'), 0, isChecksumNotReady);
      };
      relayed(true, mac(21));
      await h.until('an OFFER to the relay', () => h.native.sent.length === 1);
      assert.equal(h.native.sent[0]!.address, ip('10.92.0.254'));
      relayed(false, mac(22));
      await h.until(
        'dropped',
        () => (h.counters.snapshot()['pkt4-frame-dropped:bad-udp-checksum'] ?? 0) === 1,
      );
      assert.equal(h.native.sent.length, 1);
    } finally {
      await h.close();
    }
  });

  test('a missing interface is an error line and a count; one that goes down and comes back is followed', async () => {
    const h = await direct();
    try {
      const missing = h.lines.find((l) => l.event === 'dhcp.interface-down' && l.interface === 'eth9');
      assert.ok(missing);
      assert.equal(missing.level, 'error');
      assert.match(String(missing.problem), /interface eth9 does not exist \(have: eth1, eth2\)/);
      assert.equal(h.counters.snapshot()['dhcp-interface-down:eth9'], 1);
      assert.deepEqual(
        h.transport.status().map((l) => [l.interfaceName, l.isUp, l.scopeIds]),
        [
          ['eth1', true, ['link1']],
          ['eth2', true, ['link2']],
          ['eth9', false, []],
        ],
      );
      // eth2 loses its address (down): logged once at warn; eth1 keeps serving.
      h.setHost(ADDRESSES.filter((a) => a.interfaceName !== 'eth2'));
      await new Promise((r) => setTimeout(r, 2300));
      const down = h.lines.filter((l) => l.event === 'dhcp.interface-down' && l.interface === 'eth2');
      assert.equal(down.length, 1);
      assert.equal(down[0]!.level, 'warn');
      assert.equal(h.native.receivers.has(12), false, 'its socket is closed');
      h.frame(11, T.Discover, { mac: mac(4) });
      await h.until('eth1 still answers', () => h.native.sent.length === 1);
      // The socket of a link that failed under us (ENODEV) is closed and reported the same way.
      h.setHost([...ADDRESSES]);
      await new Promise((r) => setTimeout(r, 2300));
      assert.ok(h.lines.some((l) => l.event === 'dhcp.interface-up' && l.interface === 'eth2'));
      h.native.receivers.get(12)?.(null, 'ENODEV');
      assert.equal(h.transport.status()[1]!.isUp, false);
      assert.match(String(h.transport.status()[1]!.problem), /ENODEV/);
    } finally {
      await h.close();
    }
  });
});

describe('ping check before an OFFER', () => {
  test('an address that answers is held out as abandoned and another one offered', async () => {
    const probed: string[] = [];
    const probe: OfferProbe = {
      isInUse: async (address) => {
        probed.push(formatIpv4(address));
        return address === ip('10.91.0.10');
      },
    };
    const h = await direct({ probe });
    try {
      h.frame(11, T.Discover, { mac: mac(5) });
      await h.until('an OFFER', () => h.native.sent.length === 1);
      const offered = h.reply(h.native.sent[0]!).yiaddr;
      assert.deepEqual(probed, ['10.91.0.10', formatIpv4(offered)]);
      assert.notEqual(formatIpv4(offered), '10.91.0.10');
      assert.equal(h.engine.getLease(ip('10.91.0.10'))?.state, 'abandoned');
      const line = h.lines.find((l) => l.event === 'dhcp.address-in-use');
      assert.ok(line);
      assert.equal(line.address, '10.91.0.10');
      assert.equal(line.level, 'warn');
      assert.equal(h.counters.snapshot()['pkt4-offer-conflicts'], 1);
      // The client's REQUEST and a later renewal are not probed again.
      h.frame(11, T.Request, { mac: mac(5), requested: formatIpv4(offered), serverId: '10.91.0.1' });
      await h.until('an ACK', () => h.native.sent.length === 2);
      h.frame(11, T.Discover, { mac: mac(5) });
      await h.until('an OFFER of its own address', () => h.native.sent.length === 3);
      assert.equal(h.reply(h.native.sent[2]!).yiaddr, offered);
      assert.equal(probed.length, 2);
    } finally {
      await h.close();
    }
  });

  test('every candidate answering: the DISCOVER goes unanswered after three, each held out', async () => {
    const probe: OfferProbe = { isInUse: async () => true };
    const h = await direct({ probe });
    try {
      h.frame(11, T.Discover, { mac: mac(6) });
      await h.until('three held out', () => h.counters.snapshot()['pkt4-offer-conflicts'] === 3);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(h.native.sent.length, 0);
      assert.equal(h.counters.snapshot()['pkt4-ping-check-dropped'], 1);
      const held = [...h.engine.leases()].filter((l) => l.state === 'abandoned');
      assert.equal(held.length, 3);
    } finally {
      await h.close();
    }
  });
});
