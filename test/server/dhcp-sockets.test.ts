// The DHCP sockets over loopback: with listen address 0.0.0.0 the service tells a unicast request
// (to one of its addresses) from a broadcast one (RFC 2131 §4.3.2: RENEWING from REBINDING), and a
// second server on the same port still cannot start.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { MemoryLeaseStore } from '../../src/leases/memory-store.js';
import { Counters } from '../../src/server/counters.js';
import { DhcpService } from '../../src/server/dhcp-service.js';
import { DhcpSockets, lookupLiteral, socketsOnPort } from '../../src/server/dhcp-sockets.js';
import { encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { ip, mac, NOW, packet, scope, settings } from '../dhcp/helpers.js';

type Line = Record<string, unknown> & { level: string; event: string };

/** A port nobody else in this run uses (the exclusive-bind checks need a fixed one). */
function freshPort(): number {
  return 20000 + Math.floor(Math.random() * 30000);
}

const FAR_ADDRESS = '10.9.0.12';

/** A client of scope 'far' (10.9.0.0/24, relayed) that holds 10.9.0.12 until NOW + 3600. */
function farLease(): Lease {
  return {
    ...emptyLease(ip(FAR_ADDRESS), 'far', 'active', NOW - 100),
    hardwareType: 1,
    hardwareAddress: mac(7),
    leaseExpiresAt: NOW + 3600,
    clientLastTransactionAt: NOW - 100,
  };
}

async function service(port: number, addresses: () => string[]) {
  const lines: Line[] = [];
  const log = pino(
    { level: 'info', base: null, formatters: { level: (label) => ({ level: label }) } },
    { write: (s: string) => lines.push(JSON.parse(s) as Line) },
  );
  const far = scope({
    id: 'far',
    subnet: '10.9.0.0/24',
    ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }],
  });
  const engine = new DhcpEngine(settings([scope(), far]), [farLease()]);
  const svc = new DhcpService(
    engine,
    new MemoryLeaseStore(),
    { listenAddress: '0.0.0.0', port, clientPort: 9, broadcastAddress: '127.0.0.1' },
    { nowSeconds: () => NOW },
    log,
    new Counters(),
    { isGrantLogged: true },
    { localAddresses: addresses },
  );
  await svc.start();
  return { svc, lines };
}

async function sendTo(address: string, port: number, bytes: Uint8Array): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  s.setBroadcast(true);
  await new Promise<void>((r, j) => s.send(bytes, port, address, (e) => (e ? j(e) : r())));
  s.close();
}

/** The first grant/refusal line after `from` (the service logs it when the reply is sent). */
async function nextReplyLine(lines: Line[], from: number): Promise<Line> {
  for (let i = 0; i < 100; i++) {
    const found = lines.slice(from).find((l) => l.event === 'dhcp.ack' || l.event === 'dhcp.nak');
    if (found) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no dhcp.ack or dhcp.nak line');
}

describe('listen address 0.0.0.0: unicast and broadcast told apart (RFC 2131 §4.3.2)', () => {
  const open: DhcpService[] = [];
  after(async () => {
    for (const s of open) await s.stop();
  });
  const renewal = encodeDhcp(packet(T.Request, { mac: mac(7), ciaddr: FAR_ADDRESS }));

  test('sent to our address: a RENEWING client, trusted with its ciaddr; broadcast: a REBINDING one, checked against the link', async () => {
    const port = freshPort();
    const { svc, lines } = await service(port, () => ['127.0.0.1']);
    open.push(svc);
    let mark = lines.length;
    await sendTo('127.0.0.1', port, renewal);
    const ack = await nextReplyLine(lines, mark);
    assert.equal(ack.event, 'dhcp.ack');
    assert.equal(ack.scope, 'far');
    mark = lines.length;
    // 127.255.255.255 is the loopback's broadcast address: only the 0.0.0.0 socket gets it.
    await sendTo('127.255.255.255', port, renewal);
    const nak = await nextReplyLine(lines, mark);
    assert.equal(nak.event, 'dhcp.nak');
    assert.equal(nak.scope, '10.0.0.0');
    assert.match(String(nak.reason), /wrong network/);
  });

  test('a local address added after the start: its first datagram on the wildcard socket is of unknown destination; then it has its own socket', async () => {
    const port = freshPort();
    let addresses = ['127.0.0.1'];
    const { svc, lines } = await service(port, () => addresses);
    open.push(svc);
    addresses = ['127.0.0.1', '127.0.0.9']; // every 127/8 address is local on Linux
    let mark = lines.length;
    await sendTo('127.0.0.9', port, renewal);
    const unknown = await nextReplyLine(lines, mark);
    assert.equal(unknown.event, 'dhcp.ack', 'unknown destination: ciaddr names the scope, as before');
    assert.equal(unknown.scope, 'far');
    await new Promise((r) => setTimeout(r, 50));
    mark = lines.length;
    await sendTo('127.0.0.9', port, renewal);
    assert.equal((await nextReplyLine(lines, mark)).scope, 'far');
    mark = lines.length;
    await sendTo('127.255.255.255', port, renewal);
    assert.equal((await nextReplyLine(lines, mark)).event, 'dhcp.nak');
  });
});

describe('exclusive bind with listen address 0.0.0.0', () => {
  test('a second server on the same port does not start', async () => {
    const port = freshPort();
    const first = await service(port, () => ['127.0.0.1']);
    try {
      await assert.rejects(
        service(port, () => ['127.0.0.1']),
        /cannot listen on 0\.0\.0\.0:\d+: .*EADDRINUSE/,
      );
      // Nor does anything else that binds the port without sharing it.
      const other = dgram.createSocket({ type: 'udp4', reuseAddr: false });
      await assert.rejects(
        new Promise<void>((resolve, reject) => {
          other.once('error', reject);
          other.bind(port, '127.0.0.1', () => resolve());
        }),
        /EADDRINUSE/,
      );
      other.close();
    } finally {
      await first.svc.stop();
    }
  });

  test('a socket that shares the port while we bind (two servers started at once) stops the start', async () => {
    const port = freshPort();
    let intruder: dgram.Socket | null = null;
    const sockets = new DhcpSockets(
      '0.0.0.0',
      port,
      () => {},
      () => {},
      () => {
        // Called between the wildcard bind and the address binds: another server's socket lands
        // (bound before this returns: with dgram's default lookup the bind would wait for a
        // process.nextTick, and ours, which answer at once, would all be done before it).
        intruder = dgram.createSocket({ type: 'udp4', reuseAddr: true, lookup: lookupLiteral });
        intruder.bind(port, '0.0.0.0');
        return ['127.0.0.1'];
      },
    );
    try {
      await assert.rejects(sockets.open(), /EADDRINUSE: 1 other socket bound to port/);
    } finally {
      (intruder as dgram.Socket | null)?.close();
    }
    // Everything of ours was closed: the port is free again.
    const again = new DhcpSockets(
      '0.0.0.0',
      port,
      () => {},
      () => {},
      () => ['127.0.0.1'],
    );
    await again.open();
    await again.close();
  });

  test('socketsOnPort reads /proc/net/udp', () => {
    const table = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      '  100: 00000000:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0',
      '  101: 0100000A:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2 2 0000000000000000 0',
      '  102: 0100007F:1A7B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3 2 0000000000000000 0',
    ].join('\n');
    assert.equal(socketsOnPort(67, table), 2);
    assert.equal(socketsOnPort(6779, table), 1);
    assert.equal(socketsOnPort(68, table), 0);
  });
});

describe('address lookup of the service sockets (issue 17)', () => {
  test('a dotted address is answered before lookupLiteral returns: no deferred call per send', () => {
    let answer: [string, number] | null = null;
    lookupLiteral('10.77.0.2', 4, (err, address, family) => {
      assert.equal(err, null);
      answer = [address, family];
    });
    assert.deepEqual(answer, ['10.77.0.2', 4]);
  });

  test('a name still goes to dns.lookup', async () => {
    let isAnswered = false;
    const answer = await new Promise<string>((resolve, reject) => {
      lookupLiteral('localhost', 4, (err, address) => {
        isAnswered = true;
        if (err) reject(err);
        else resolve(address);
      });
      assert.equal(isAnswered, false, 'answered synchronously');
    });
    assert.equal(answer, '127.0.0.1');
  });
});
