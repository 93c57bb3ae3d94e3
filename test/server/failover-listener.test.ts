// Many failover relationships on one TCP endpoint, over real TCP on loopback: a hub with one
// listener on 127.0.0.1:P and a link per spoke, the spokes on other loopback addresses (any
// 127.x.y.z is local on Linux) on the same port P. Connections are routed by the spoke's address,
// and by the CONNECT's relationship name where one spoke address has several relationships;
// whatever matches nothing is refused with a reason and a log line, and the others keep working.

import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { hbaFromSplit } from '../../src/failover/hash-bucket.js';
import type { EndpointInput } from '../../src/failover/types.js';
import { FailoverLink, type FailoverLinkOptions } from '../../src/server/failover-link.js';
import { FailoverListeners } from '../../src/server/failover-listener.js';
import {
  buildConnect,
  buildContact,
  decodeFailover,
  encodeFailover,
  FailoverFramer,
} from '../../src/wire/failover-codec.js';
import { FailoverMessageType, RejectReason } from '../../src/wire/failover-message.js';

const HUB = '127.0.0.1';
const T = 0x65000000;
const spokeAddress = (k: number) => `127.0.0.${k + 2}`;

async function freePort(host = HUB): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  const address = s.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return address.port;
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connectFor(name: string, xid = 7) {
  return buildConnect({
    time: T,
    xid,
    relationshipName: name,
    maxUnackedUpdates: 10,
    receiveTimerSeconds: 60,
    vendorClass: 'twinlease-test',
    mcltSeconds: 3600,
    hashBucketAssignment: hbaFromSplit(128),
  });
}

class Recorder {
  readonly inputs: EndpointInput[] = [];
  readonly handler = (input: EndpointInput): void => {
    this.inputs.push(input);
  };
  of<K extends EndpointInput['type']>(type: K): Extract<EndpointInput, { type: K }>[] {
    return this.inputs.filter((i): i is Extract<EndpointInput, { type: K }> => i.type === type);
  }
  async next<K extends EndpointInput['type']>(
    type: K,
    index = 0,
  ): Promise<Extract<EndpointInput, { type: K }>> {
    await waitFor(() => this.of(type).length > index, `${type} #${index}`);
    return this.of(type)[index]!;
  }
}

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

/** Owns links and sockets; tears them all down. */
class Harness {
  readonly links: FailoverLink[] = [];
  private readonly sockets: Socket[] = [];

  link(
    name: string,
    local: string,
    port: number,
    partner: string,
    partnerPort: number,
    recorder: Recorder,
    extra: Partial<FailoverLinkOptions> = {},
  ): FailoverLink {
    const link = new FailoverLink(
      {
        relationshipName: name,
        localAddress: local,
        localPort: port,
        partnerAddress: partner,
        partnerPort,
        auth: { algorithm: 'none' },
        connectRetryMs: { first: 20, max: 100 },
        ...extra,
      },
      recorder.handler,
    );
    this.links.push(link);
    return link;
  }

  async raw(from: string, port: number): Promise<Socket> {
    const socket = netConnect({ host: HUB, port, localAddress: from });
    socket.on('error', () => {});
    this.sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return socket;
  }

  async cleanup(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.links.map((l) => l.stop()));
  }
}

const closedBy = (s: Socket) => new Promise<void>((resolve) => s.once('close', () => resolve()));

describe('failover listener shared by many relationships', () => {
  test('31 relationships on one port: each spoke reaches its own relationship only, both ways', async () => {
    const h = new Harness();
    try {
      const port = await freePort();
      const { log } = captureLog();
      const listeners = new FailoverListeners(log);
      const n = 31;
      const hubRecorders = Array.from({ length: n }, () => new Recorder());
      const spokeRecorders = Array.from({ length: n }, () => new Recorder());
      const hubLinks = hubRecorders.map((r, k) =>
        h.link(`branch-${k}`, HUB, port, spokeAddress(k), port, r, { listeners, role: 'secondary' }),
      );
      // Every spoke on the hub's port too, each on its own address.
      const spokeLinks = spokeRecorders.map((r, k) =>
        h.link(`branch-${k}`, spokeAddress(k), port, HUB, port, r, { role: 'primary' }),
      );
      for (const l of [...hubLinks, ...spokeLinks]) await l.start();
      assert.equal(listeners.stats().length, 1);
      assert.equal(listeners.stats()[0]!.relationships.length, n);

      // Spokes connect in (inbound at the hub), the hub connects out to every spoke.
      for (const l of spokeLinks) l.connect();
      for (const l of hubLinks) l.connect();
      for (const r of hubRecorders) {
        await waitFor(() => r.of('connected').length === 2, 'two connections per relationship');
      }
      for (const [k, r] of hubRecorders.entries()) {
        const inbound = r.of('connected').find((c) => !c.outbound)!;
        // The spoke writes its CONNECT on its outbound connection: only its relationship hears it.
        const spokeOut = spokeRecorders[k]!.of('connected').find((c) => c.outbound)!;
        assert.ok(spokeLinks[k]!.send(spokeOut.connectionId, connectFor(`branch-${k}`, 100 + k)));
        const got = await r.next('message');
        assert.equal(got.connectionId, inbound.connectionId);
        assert.equal(got.message.relationshipName, `branch-${k}`);
        assert.equal(got.message.xid, 100 + k);
        // And the hub answers on the same connection.
        assert.ok(hubLinks[k]!.send(inbound.connectionId, buildContact({ time: T, xid: 200 + k })));
      }
      for (const [k, r] of spokeRecorders.entries()) {
        const m = await r.next('message');
        assert.equal(m.message.xid, 200 + k);
        assert.equal(r.of('message').length, 1);
      }
      for (const r of hubRecorders) assert.equal(r.of('message').length, 1);
      const stats = listeners.stats()[0]!;
      assert.equal(stats.matched, n);
      assert.equal(stats.refused['unknown-peer'], 0);
      for (const l of hubLinks) {
        assert.equal(l.stats().accepted, 1);
        assert.equal(l.stats().connectNameMismatches, 0);
      }
    } finally {
      await h.cleanup();
    }
  });

  test('an unknown address is refused with a log line and a count; the others keep their links', async () => {
    const h = new Harness();
    try {
      const port = await freePort();
      const { log, lines } = captureLog();
      const listeners = new FailoverListeners(log);
      const ra = new Recorder();
      const rb = new Recorder();
      h.link('a', HUB, port, spokeAddress(0), port, ra, { listeners });
      h.link('b', HUB, port, spokeAddress(1), port, rb, { listeners });
      for (const l of h.links) await l.start();
      const a = await h.raw(spokeAddress(0), port);
      await ra.next('connected');
      const stranger = await h.raw('127.0.0.99', port);
      await closedBy(stranger);
      await waitFor(() => listeners.stats()[0]!.refused['unknown-peer'] === 1, 'refusal counted');
      const line = lines.find((l) => l.event === 'failover.connection-refused');
      assert.ok(line);
      assert.equal(line.reason, 'unknown-peer');
      assert.equal(line.remoteAddress, '127.0.0.99');
      assert.equal(line.listen, `${HUB}:${port}`);
      assert.match(String(line.msg), /no relationship on 127\.0\.0\.1:\d+ has this partner address/);
      // a's connection is untouched and b still accepts its partner.
      a.write(encodeFailover(connectFor('a')));
      await ra.next('message');
      await h.raw(spokeAddress(1), port);
      await rb.next('connected');
      assert.equal(ra.of('disconnected').length, 0);
      assert.equal(listeners.stats()[0]!.matched, 2);
    } finally {
      await h.cleanup();
    }
  });

  test('one partner address, several relationships: the CONNECT name decides; bytes reach the link intact', async () => {
    const h = new Harness();
    try {
      const port = await freePort();
      const { log, lines } = captureLog();
      const listeners = new FailoverListeners(log);
      const partner = spokeAddress(0);
      const r1 = new Recorder();
      const r2 = new Recorder();
      h.link('north', HUB, port, partner, port, r1, { listeners, role: 'secondary' });
      h.link('south', HUB, port, partner, port, r2, { listeners, role: 'secondary' });
      for (const l of h.links) await l.start();

      const s = await h.raw(partner, port);
      await delay(30);
      assert.equal(r1.inputs.length + r2.inputs.length, 0, 'held until the CONNECT arrives');
      assert.equal(listeners.stats()[0]!.waitingForConnect, 1);
      // The CONNECT split over two writes, with a CONTACT right behind it in the second.
      const bytes = Buffer.concat([
        encodeFailover(connectFor('south', 41)),
        encodeFailover(buildContact({ time: T, xid: 42 })),
      ]);
      s.write(bytes.subarray(0, 10));
      await delay(20);
      s.write(bytes.subarray(10));
      const connected = await r2.next('connected');
      assert.equal(connected.outbound, false);
      await r2.next('message', 1);
      assert.deepEqual(
        r2.of('message').map((m) => [m.message.type, m.message.xid]),
        [
          [FailoverMessageType.CONNECT, 41],
          [FailoverMessageType.CONTACT, 42],
        ],
      );
      assert.equal(r1.inputs.length, 0);

      // A CONNECT naming neither: CONNECTACK reject 8 with the name echoed, then closed.
      const other = await h.raw(partner, port);
      const framer = new FailoverFramer();
      other.on('data', (c: Buffer) => framer.push(c));
      other.write(encodeFailover(connectFor('east', 5)));
      await closedBy(other);
      const frame = framer.next();
      assert.ok(frame?.ok);
      const ack = decodeFailover(frame.bytes);
      assert.ok(ack.ok);
      assert.equal(ack.message.type, FailoverMessageType.CONNECTACK);
      assert.equal(ack.message.rejectReason, RejectReason.INVALID_PARTNER);
      assert.equal(ack.message.relationshipName, 'east');
      assert.equal(ack.message.xid, 5);
      const st = listeners.stats()[0]!;
      assert.equal(st.refused['unknown-name'], 1);
      assert.equal(st.waitingForConnect, 0);
      const line = lines.find(
        (l) => l.event === 'failover.connection-refused' && l.reason === 'unknown-name',
      );
      assert.ok(line);
      assert.equal(line.relationshipNamed, 'east');

      // A first message that is no CONNECT is refused too.
      const third = await h.raw(partner, port);
      third.write(encodeFailover(buildContact({ time: T, xid: 1 })));
      await closedBy(third);
      assert.equal(listeners.stats()[0]!.refused['not-connect'], 1);
      assert.equal(r1.inputs.length, 0);
      assert.equal(r2.of('disconnected').length, 0, 'south keeps its connection');
    } finally {
      await h.cleanup();
    }
  });

  test('one partner address, primary of every relationship: its connection is a wake-up, we connect back', async () => {
    const h = new Harness();
    try {
      const port = await freePort();
      const partnerPort = await freePort(spokeAddress(0));
      const listeners = new FailoverListeners();
      const accepted: Socket[] = [];
      const partner = createServer((s) => {
        s.on('error', () => {});
        accepted.push(s);
      });
      await new Promise<void>((resolve) => partner.listen(partnerPort, spokeAddress(0), resolve));
      try {
        const r1 = new Recorder();
        const r2 = new Recorder();
        h.link('north', HUB, port, spokeAddress(0), partnerPort, r1, { listeners, role: 'primary' });
        h.link('south', HUB, port, spokeAddress(0), partnerPort, r2, { listeners, role: 'primary' });
        for (const l of h.links) await l.start();
        const s = await h.raw(spokeAddress(0), port);
        await closedBy(s);
        assert.equal(listeners.stats()[0]!.refused['wake-up'], 1);
        // Each relationship opened its own connection to the partner.
        await r1.next('connected');
        await r2.next('connected');
        assert.ok(r1.of('connected')[0]!.outbound && r2.of('connected')[0]!.outbound);
        await waitFor(() => accepted.length === 2, 'two outbound connections');
      } finally {
        for (const s of accepted) s.destroy();
        await new Promise((r) => partner.close(r));
      }
    } finally {
      await h.cleanup();
    }
  });

  test("a spoke sending another spoke's relationship name: logged and counted; the named one is untouched", async () => {
    const h = new Harness();
    try {
      const port = await freePort();
      const { log, lines } = captureLog();
      const listeners = new FailoverListeners(log);
      const ra = new Recorder();
      const rb = new Recorder();
      const a = h.link('branch-a', HUB, port, spokeAddress(0), port, ra, { listeners });
      const b = h.link('branch-b', HUB, port, spokeAddress(1), port, rb, { listeners });
      for (const l of h.links) await l.start();
      const sa = await h.raw(spokeAddress(0), port);
      await ra.next('connected');
      sa.write(encodeFailover(connectFor('branch-a')));
      await ra.next('message');

      const sb = await h.raw(spokeAddress(1), port);
      sb.write(encodeFailover(connectFor('branch-a', 9)));
      // The message reaches branch-b's endpoint (which refuses it: reason 8), never branch-a's.
      const atB = await rb.next('message');
      assert.equal(atB.message.relationshipName, 'branch-a');
      assert.equal(ra.of('message').length, 1);
      assert.equal(ra.of('disconnected').length, 0);
      assert.equal(b.stats().connectNameMismatches, 1);
      assert.equal(a.stats().connectNameMismatches, 0);
      assert.equal(listeners.stats()[0]!.nameOfAnotherPartner, 1);
      const line = lines.find((l) => l.event === 'failover.connect-name-of-another-partner');
      assert.ok(line);
      assert.equal(line.level, 40);
      assert.equal(line.relationship, 'branch-b');
      assert.equal(line.namedRelationship, 'branch-a');
      assert.equal(line.namedRelationshipPartner, spokeAddress(0));
      assert.equal(line.remoteAddress, spokeAddress(1));
    } finally {
      await h.cleanup();
    }
  });

  test('the listener stays open while any relationship uses it, closes with the last, reopens', async () => {
    const h = new Harness();
    try {
      const port = await freePort();
      const listeners = new FailoverListeners();
      const ra = new Recorder();
      const rb = new Recorder();
      const a = h.link('a', HUB, port, spokeAddress(0), port, ra, { listeners });
      const b = h.link('b', HUB, port, spokeAddress(1), port, rb, { listeners });
      await a.start();
      await b.start();
      const sa = await h.raw(spokeAddress(0), port);
      await ra.next('connected');
      await a.stop();
      await closedBy(sa);
      // b still listens; a's partner is now a stranger.
      await h.raw(spokeAddress(1), port);
      await rb.next('connected');
      const late = await h.raw(spokeAddress(0), port);
      await closedBy(late);
      assert.equal(listeners.stats()[0]!.refused['unknown-peer'], 1);
      assert.deepEqual(listeners.stats()[0]!.relationships, ['b']);
      await b.stop();
      assert.deepEqual(listeners.stats(), []);
      await assert.rejects(h.raw(spokeAddress(1), port), /ECONNREFUSED/);
      // A relationship started later opens it again.
      const rc = new Recorder();
      const c = h.link('c', HUB, port, spokeAddress(2), port, rc, { listeners });
      await c.start();
      await h.raw(spokeAddress(2), port);
      await rc.next('connected');
    } finally {
      await h.cleanup();
    }
  });

  test('a relationship that cannot listen fails alone; one name attaches once', async () => {
    const h = new Harness();
    try {
      const port = await freePort();
      const listeners = new FailoverListeners();
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(port, HUB, resolve));
      try {
        const a = h.link('a', HUB, port, spokeAddress(0), port, new Recorder(), { listeners });
        await assert.rejects(a.start(), /"a": cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
      } finally {
        await new Promise((r) => blocker.close(r));
      }
      const b = h.link('b', HUB, port, spokeAddress(1), port, new Recorder(), { listeners });
      await b.start();
      const again = h.link('b', HUB, port, spokeAddress(2), port, new Recorder(), { listeners });
      await assert.rejects(again.start(), /"b" is already attached/);
      assert.deepEqual(listeners.stats()[0]!.relationships, ['b']);
    } finally {
      await h.cleanup();
    }
  });
});
