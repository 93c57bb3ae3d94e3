// The DHCP shell around the engine, over a real UDP socket on loopback: what operators see of
// each reply. Every OFFER, ACK and NAK is one log line at info (`dhcp.offer`, `dhcp.ack`,
// `dhcp.nak`) with the client, the address, the scope, the lease time and the relay, as dhcpd
// and Kea log their grants; `logging.grants: false` moves them to debug. Options left out of a
// reply because the client's maximum message size is too small are counted per option code and
// logged (rate-limited).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { MemoryLeaseStore } from '../../src/leases/memory-store.js';
import { Counters } from '../../src/server/counters.js';
import { DhcpService } from '../../src/server/dhcp-service.js';
import { decodeDhcp, encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { mac, NOW, type PacketOptions, packet, scope, settings } from '../dhcp/helpers.js';

type Line = Record<string, unknown> & { level: string; event: string };

interface Harness {
  service: DhcpService;
  counters: Counters;
  lines: Line[];
  /** Where replies to clients without an address arrive. */
  clientPort: number;
  /** Sends `type` from a direct client; resolves with the decoded reply (or null after 1 s). */
  ask(type: T, o: PacketOptions): Promise<ReturnType<typeof decodeDhcp> | null>;
  close(): Promise<void>;
}

async function harness(o: { level?: string; isGrantLogged?: boolean; options?: Map<number, Uint8Array> }) {
  const lines: Line[] = [];
  const log = pino(
    { level: o.level ?? 'info', base: null, formatters: { level: (label) => ({ level: label }) } },
    { write: (s: string) => lines.push(JSON.parse(s) as Line) },
  );
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  const waiting: ((m: Buffer) => void)[] = [];
  client.on('message', (m) => waiting.shift()?.(m));
  const sc = scope(o.options ? { options: o.options } : {});
  const engine = new DhcpEngine(settings([sc]), []);
  const counters = new Counters();
  const service = new DhcpService(
    engine,
    new MemoryLeaseStore(),
    {
      listenAddress: '127.0.0.1',
      port: 0,
      clientPort: client.address().port,
      // Replies to clients without an address go to the "broadcast" address: here, our socket.
      broadcastAddress: '127.0.0.1',
    },
    { nowSeconds: () => NOW },
    log,
    counters,
    { isGrantLogged: o.isGrantLogged ?? true },
  );
  await service.start();
  const h: Harness = {
    service,
    counters,
    lines,
    clientPort: client.address().port,
    ask: (type, po) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.length = 0;
          resolve(null);
        }, 1000);
        waiting.push((m) => {
          clearTimeout(timer);
          resolve(decodeDhcp(m));
        });
        service.onDatagram(encodeDhcp(packet(type, po)), '127.0.0.1', 68);
      }),
    close: async () => {
      await service.stop();
      await new Promise<void>((r) => client.close(() => r()));
    },
  };
  return h;
}

const events = (lines: Line[], event: string) => lines.filter((l) => l.event === event);

describe('grant log lines', () => {
  let h: Harness;
  before(async () => {
    h = await harness({});
  });
  after(() => h.close());

  test('an OFFER and an ACK: info, with client, address, scope, lease seconds and relay', async () => {
    const cid = `01${mac(1)}`;
    const offer = await h.ask(T.Discover, { mac: mac(1), clientId: cid, xid: 0xabc });
    assert.ok(offer?.ok);
    const yi = formatIpv4(offer.packet.yiaddr);
    const ack = await h.ask(T.Request, { mac: mac(1), clientId: cid, requested: yi, serverId: '10.0.0.1' });
    assert.ok(ack?.ok);
    const [o] = events(h.lines, 'dhcp.offer');
    const [a] = events(h.lines, 'dhcp.ack');
    assert.ok(o, 'a dhcp.offer line');
    assert.ok(a, 'a dhcp.ack line');
    for (const line of [o, a]) {
      assert.equal(line.level, 'info');
      assert.equal(line.mac, '02:00:00:00:00:01');
      assert.equal(line.clientId, '01:02:00:00:00:00:01');
      assert.equal(line.address, yi);
      assert.equal(line.scope, '10.0.0.0');
      assert.equal(line.leaseSeconds, 3600);
      assert.equal(line.giaddr, null);
      assert.equal(line.to, `127.0.0.1:${h.clientPort}`);
    }
    assert.equal(o.xid, '0x00000abc');
  });

  test('a NAK: info, with the address asked for and the reason', async () => {
    const nak = await h.ask(T.Request, { mac: mac(2), requested: '10.9.9.9' });
    assert.ok(nak?.ok);
    const [n] = events(h.lines, 'dhcp.nak');
    assert.ok(n, 'a dhcp.nak line');
    assert.equal(n.level, 'info');
    assert.equal(n.mac, '02:00:00:00:00:02');
    assert.equal(n.clientId, null);
    assert.equal(n.address, '10.9.9.9');
    assert.match(String(n.reason), /wrong network/);
  });
});

describe('logging.grants: false', () => {
  test('grant lines go to debug: nothing at info', async () => {
    const h = await harness({ isGrantLogged: false });
    try {
      const offer = await h.ask(T.Discover, { mac: mac(3) });
      assert.ok(offer?.ok);
      assert.deepEqual(events(h.lines, 'dhcp.offer'), []);
    } finally {
      await h.close();
    }
    const d = await harness({ isGrantLogged: false, level: 'debug' });
    try {
      assert.ok((await d.ask(T.Discover, { mac: mac(3) }))?.ok);
      assert.equal(events(d.lines, 'dhcp.offer')[0]?.level, 'debug');
    } finally {
      await d.close();
    }
  });
});

describe('options dropped from a reply that would be too large', () => {
  test('counted per option code and logged at warn, once per interval', async () => {
    // Three 250-byte options cannot fit a 576-byte reply, even with file and sname overloaded.
    const big = (b: number) => new Uint8Array(250).fill(b);
    const h = await harness({
      options: new Map([
        [3, Uint8Array.of(10, 0, 0, 1)],
        [224, big(1)],
        [225, big(2)],
        [226, big(3)],
      ]),
    });
    try {
      const first = await h.ask(T.Discover, { mac: mac(4) });
      assert.ok(first?.ok);
      assert.ok(first.packet.options.has(3), 'the small option still fits');
      const sent = [224, 225, 226].filter((c) => first.packet.options.has(c));
      const dropped = [224, 225, 226].filter((c) => !first.packet.options.has(c));
      assert.ok(dropped.length > 0 && sent.length > 0);
      for (const c of dropped) assert.equal(h.counters.get(`pkt4-option-dropped:${c}`), 1);
      const [w] = events(h.lines, 'dhcp.options-dropped');
      assert.ok(w, 'a dhcp.options-dropped line');
      assert.equal(w.level, 'warn');
      assert.deepEqual(w.options, dropped);
      assert.equal(w.maxSize, 576);
      assert.equal(w.mac, '02:00:00:00:00:04');
      assert.ok((await h.ask(T.Discover, { mac: mac(5) }))?.ok);
      for (const c of dropped) assert.equal(h.counters.get(`pkt4-option-dropped:${c}`), 2);
      assert.equal(events(h.lines, 'dhcp.options-dropped').length, 1, 'rate-limited');
    } finally {
      await h.close();
    }
  });
});
