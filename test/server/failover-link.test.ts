// FailoverLink over real TCP on loopback: two links talking to each other, and raw sockets playing a
// partner that splits, batches, corrupts or floods the stream. Ports are found by binding a
// throwaway listener first (a link must know its partner's port before the partner listens).

import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { hbaFromSplit } from '../../src/failover/hash-bucket.js';
import type { EndpointInput } from '../../src/failover/types.js';
import { FailoverLink, type FailoverLinkOptions } from '../../src/server/failover-link.js';
import { FailoverListeners } from '../../src/server/failover-listener.js';
import type { FailoverAuthConfig } from '../../src/wire/failover-auth.js';
import { buildConnect, buildContact, encodeFailover } from '../../src/wire/failover-codec.js';
import { type FailoverMessage, FailoverMessageType } from '../../src/wire/failover-message.js';

const HOST = '127.0.0.1';
const T = 0x65000000;

function connectMessage(xid = 7): FailoverMessage {
  return buildConnect({
    time: T,
    xid,
    relationshipName: 'dc1',
    maxUnackedUpdates: 10,
    receiveTimerSeconds: 60,
    vendorClass: 'twinlease-test',
    mcltSeconds: 3600,
    hashBucketAssignment: hbaFromSplit(128),
  });
}

/** The parts of a message that travel on the wire, comparable with deepEqual. */
function wireView(m: Pick<FailoverMessage, 'type' | 'time' | 'xid' | 'options'>) {
  return {
    type: m.type,
    time: m.time,
    xid: m.xid,
    options: m.options.map((o) => ({ code: o.code, data: [...o.data] })),
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, HOST, resolve));
  const address = s.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return address.port;
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records what a link feeds its endpoint. */
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
    timeoutMs = 3000,
  ): Promise<Extract<EndpointInput, { type: K }>> {
    await waitFor(() => this.of(type).length > index, `${type} #${index}`, timeoutMs);
    return this.of(type)[index]!;
  }
}

/** A pino logger whose lines land in an array. */
function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

/** Owns every link and socket a test makes, and tears them all down. */
class Harness {
  private readonly links: FailoverLink[] = [];
  private readonly sockets: Socket[] = [];
  private readonly servers: Server[] = [];

  link(
    localPort: number,
    partnerPort: number,
    recorder: Recorder,
    extra: Partial<FailoverLinkOptions> = {},
    nowSeconds?: () => number,
  ): FailoverLink {
    const link = new FailoverLink(
      {
        relationshipName: 'dc1',
        localAddress: HOST,
        localPort,
        partnerAddress: HOST,
        partnerPort,
        auth: { algorithm: 'none' },
        ...extra,
      },
      recorder.handler,
      nowSeconds,
    );
    this.links.push(link);
    return link;
  }

  async rawClient(port: number, localAddress?: string): Promise<Socket> {
    const socket = netConnect({ host: HOST, port, ...(localAddress ? { localAddress } : {}) });
    socket.on('error', () => {});
    socket.setNoDelay(true);
    this.sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return socket;
  }

  async rawServer(port: number, onSocket: (s: Socket) => void): Promise<Server> {
    const server = createServer((s) => {
      s.on('error', () => {});
      this.sockets.push(s);
      onSocket(s);
    });
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, HOST, resolve));
    return server;
  }

  async cleanup(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.links.map((l) => l.stop()));
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Two links pointing at each other, both listening; a connects to b. */
async function connectedPair(
  h: Harness,
  authA: FailoverAuthConfig = { algorithm: 'none' },
  authB: FailoverAuthConfig = { algorithm: 'none' },
) {
  const [portA, portB] = [await freePort(), await freePort()];
  const ra = new Recorder();
  const rb = new Recorder();
  const a = h.link(portA, portB, ra, { auth: authA });
  const b = h.link(portB, portA, rb, { auth: authB });
  await a.start();
  await b.start();
  a.connect();
  const ca = await ra.next('connected');
  const cb = await rb.next('connected');
  return { a, b, ra, rb, idA: ca.connectionId, idB: cb.connectionId, ca, cb };
}

/** A link listening with a raw socket from the partner address connected to it. */
async function linkWithRawPartner(h: Harness, extra: Partial<FailoverLinkOptions> = {}) {
  const [port, partnerPort] = [await freePort(), await freePort()];
  const r = new Recorder();
  const link = h.link(port, partnerPort, r, extra);
  await link.start();
  const raw = await h.rawClient(port);
  const connected = await r.next('connected');
  assert.equal(connected.outbound, false);
  return { link, r, raw, id: connected.connectionId };
}

describe('FailoverLink', () => {
  test('two links exchange a CONNECT both ways; decoded equals sent', async () => {
    const h = new Harness();
    try {
      const { a, b, ra, rb, idA, idB, ca, cb } = await connectedPair(h);
      assert.equal(ca.outbound, true);
      assert.equal(cb.outbound, false);
      assert.notEqual(idA, idB);

      const sent = connectMessage(7);
      assert.equal(a.send(idA, sent), true);
      const atB = await rb.next('message');
      assert.equal(atB.connectionId, idB);
      assert.equal(atB.auth, 'ok');
      assert.equal(atB.message.type, FailoverMessageType.CONNECT);
      assert.deepEqual(wireView(atB.message), wireView(sent));
      assert.equal(atB.message.relationshipName, 'dc1');
      assert.equal(atB.message.mcltSeconds, 3600);

      const back = connectMessage(8);
      assert.equal(b.send(idB, back), true);
      const atA = await ra.next('message');
      assert.equal(atA.connectionId, idA);
      assert.deepEqual(wireView(atA.message), wireView(back));

      const bytes = encodeFailover(sent).length;
      assert.deepEqual(
        { out: a.stats().messagesOut, bytesOut: a.stats().bytesOut, in: a.stats().messagesIn },
        { out: 1, bytesOut: bytes, in: 1 },
      );
      assert.equal(b.stats().accepted, 1);
      assert.equal(a.stats().connectsAttempted, 1);
      assert.equal(a.connectionCount(), 1);
    } finally {
      await h.cleanup();
    }
  });

  test('both sides connect: two connections on each side, all ids distinct', async () => {
    const h = new Harness();
    try {
      const [portA, portB] = [await freePort(), await freePort()];
      const ra = new Recorder();
      const rb = new Recorder();
      const a = h.link(portA, portB, ra);
      const b = h.link(portB, portA, rb);
      await a.start();
      await b.start();
      a.connect();
      b.connect();
      await ra.next('connected', 1);
      await rb.next('connected', 1);
      const ids = [...ra.of('connected'), ...rb.of('connected')].map((c) => c.connectionId);
      assert.equal(new Set(ids).size, 4);
      assert.deepEqual(
        ra
          .of('connected')
          .map((c) => c.outbound)
          .sort(),
        [false, true],
      );
      assert.deepEqual(
        rb
          .of('connected')
          .map((c) => c.outbound)
          .sort(),
        [false, true],
      );
      assert.equal(a.connectionCount(), 2);
      // connect() while an outbound connection is up does nothing.
      a.connect();
      await delay(50);
      assert.equal(a.stats().connectsAttempted, 1);
      assert.equal(a.connectionCount(), 2);
    } finally {
      await h.cleanup();
    }
  });

  test('a message written one byte at a time is reassembled', async () => {
    const h = new Harness();
    try {
      const { r, raw, id } = await linkWithRawPartner(h);
      const sent = connectMessage(9);
      const bytes = encodeFailover(sent);
      for (const byte of bytes) {
        await new Promise<void>((resolve) => raw.write(Uint8Array.of(byte), () => resolve()));
        await delay(1);
      }
      const got = await r.next('message');
      assert.equal(got.connectionId, id);
      assert.deepEqual(wireView(got.message), wireView(sent));
      assert.equal(r.of('message').length, 1);
      assert.equal(r.of('protocolError').length, 0);
    } finally {
      await h.cleanup();
    }
  });

  test('two messages in one write are both delivered, in order', async () => {
    const h = new Harness();
    try {
      const { link, r, raw } = await linkWithRawPartner(h);
      const first = connectMessage(1);
      const second = buildContact({ time: T, xid: 2 });
      raw.write(Buffer.concat([encodeFailover(first), encodeFailover(second)]));
      await r.next('message', 1);
      assert.deepEqual(
        r.of('message').map((m) => wireView(m.message)),
        [wireView(first), wireView(second)],
      );
      assert.equal(link.stats().messagesIn, 2);
    } finally {
      await h.cleanup();
    }
  });

  test('a length field of 5 is a protocol error and closes the connection', async () => {
    const h = new Harness();
    try {
      const { link, r, raw, id } = await linkWithRawPartner(h);
      const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
      raw.write(Uint8Array.of(0, 5, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0));
      const error = await r.next('protocolError');
      assert.equal(error.connectionId, id);
      assert.match(error.reason, /framing/);
      const gone = await r.next('disconnected');
      assert.equal(gone.connectionId, id);
      assert.equal(gone.reason, 'protocol-error');
      await closed;
      assert.equal(link.stats().framingErrors, 1);
      assert.equal(r.of('message').length, 0);
      assert.equal(link.connectionCount(), 0);
    } finally {
      await h.cleanup();
    }
  });

  test('a well-framed message that does not decode is a protocol error', async () => {
    const h = new Harness();
    try {
      const { link, r, raw } = await linkWithRawPartner(h);
      raw.write(Uint8Array.of(0, 12, 99, 12, 0, 0, 0, 0, 0, 0, 0, 0)); // message type 99
      const error = await r.next('protocolError');
      assert.match(error.reason, /unknown failover message type 99/);
      await r.next('disconnected');
      assert.equal(link.stats().decodeErrors, 1);
    } finally {
      await h.cleanup();
    }
  });

  describe('message digest', () => {
    const secret = (s: string): FailoverAuthConfig => ({ algorithm: 'hmac-sha256', secret: s });
    const cases: Array<[string, FailoverAuthConfig, FailoverAuthConfig, string]> = [
      ['same secret', secret('s3cret'), secret('s3cret'), 'ok'],
      [
        'same secret, HMAC-MD5',
        { algorithm: 'hmac-md5-d12', secret: 'k' },
        { algorithm: 'hmac-md5-d12', secret: 'k' },
        'ok',
      ],
      ['different secret', secret('s3cret'), secret('other'), 'bad'],
      ['sender has none', { algorithm: 'none' }, secret('s3cret'), 'missing'],
      ['receiver has none', secret('s3cret'), { algorithm: 'none' }, 'unexpected'],
    ];
    for (const [name, sender, receiver, expected] of cases) {
      test(`${name}: ${expected}`, async () => {
        const h = new Harness();
        try {
          const { a, rb, idA } = await connectedPair(h, sender, receiver);
          assert.equal(a.send(idA, connectMessage()), true);
          const got = await rb.next('message');
          assert.equal(got.auth, expected);
        } finally {
          await h.cleanup();
        }
      });
    }
  });

  test('a connection from another address is refused, counted and logged at most once per 10 s', async () => {
    const h = new Harness();
    try {
      const [port, partnerPort] = [await freePort(), await freePort()];
      const r = new Recorder();
      const { log, lines } = captureLog();
      let now = 1_000_000;
      const listeners = new FailoverListeners(log, () => now);
      const link = h.link(port, partnerPort, r, { log, listeners }, () => now);
      await link.start();
      const refused = () => listeners.stats()[0]!.refused['unknown-peer'];
      for (const [i, advance] of [0, 1, 11].entries()) {
        now += advance;
        const raw = await h.rawClient(port, '127.0.0.2');
        await new Promise<void>((resolve) => raw.once('close', () => resolve()));
        await waitFor(() => refused() === i + 1, 'refusal counted');
      }
      assert.equal(r.inputs.length, 0);
      assert.equal(link.connectionCount(), 0);
      const refusals = lines.filter((l) => l.event === 'failover.connection-refused');
      assert.equal(refusals.length, 2);
      assert.equal(refusals[0]!.level, 40);
      assert.equal(refusals[0]!.remoteAddress, '127.0.0.2');
      assert.equal(refusals[0]!.reason, 'unknown-peer');
      assert.equal(refusals[1]!.alsoRefusedSinceLastLine, 1);
      assert.equal(link.stats().accepted, 0);
      assert.equal(listeners.stats()[0]!.matched, 0);
    } finally {
      await h.cleanup();
    }
  });

  test('connect() to a dead port retries with backoff and succeeds once the partner listens', async () => {
    const h = new Harness();
    try {
      const [portA, portB] = [await freePort(), await freePort()];
      const ra = new Recorder();
      const rb = new Recorder();
      const { log, lines } = captureLog();
      const a = h.link(portA, portB, ra, { log, connectRetryMs: { first: 20, max: 80 } });
      const b = h.link(portB, portA, rb);
      await a.start();
      a.connect();
      await waitFor(() => a.stats().connectsFailed >= 4, 'four failed attempts');
      // A scheduled retry keeps its backoff: connect() does not add attempts.
      const attempted = a.stats().connectsAttempted;
      a.connect();
      assert.equal(a.stats().connectsAttempted, attempted);
      const delays = lines.filter((l) => l.event === 'failover.connect-failed').map((l) => l.retryInMs);
      assert.deepEqual(delays.slice(0, 4), [20, 40, 80, 80]);
      // Loud once, quiet while the cause stays the same.
      const levels = lines.filter((l) => l.event === 'failover.connect-failed').map((l) => l.level);
      assert.deepEqual(levels.slice(0, 3), [40, 20, 20]);
      assert.equal(ra.inputs.length, 0);

      await b.start();
      const c = await ra.next('connected', 0, 2000);
      assert.equal(c.outbound, true);
      await rb.next('connected');
      const failed = a.stats().connectsFailed;
      await delay(200);
      assert.equal(a.stats().connectsFailed, failed, 'retrying stops once connected');
      assert.equal(a.stats().connectsAttempted, failed + 1);
    } finally {
      await h.cleanup();
    }
  });

  test('close() flushes what was written; exactly one disconnected per connection', async () => {
    const h = new Harness();
    try {
      const { a, ra, rb, idA, idB } = await connectedPair(h);
      a.send(idA, connectMessage(1));
      a.send(idA, buildContact({ time: T, xid: 2 }));
      a.close(idA);
      assert.equal(a.send(idA, buildContact({ time: T, xid: 3 })), false, 'closing: no more sends');
      await rb.next('message', 1);
      const atA = await ra.next('disconnected');
      const atB = await rb.next('disconnected');
      assert.equal(atA.connectionId, idA);
      assert.equal(atA.reason, 'closed-by-us');
      assert.equal(atB.connectionId, idB);
      assert.equal(atB.reason, 'peer-closed');
      a.close(idA); // already gone: no-op
      await delay(50);
      assert.equal(ra.of('disconnected').length, 1);
      assert.equal(rb.of('disconnected').length, 1);
      assert.equal(rb.of('message').length, 2);
      assert.equal(a.send(idA, buildContact({ time: T, xid: 4 })), false);
    } finally {
      await h.cleanup();
    }
  });

  test('perform() carries out send, close and connect and ignores persist and log', async () => {
    const h = new Harness();
    try {
      const [portA, portB] = [await freePort(), await freePort()];
      const ra = new Recorder();
      const rb = new Recorder();
      const a = h.link(portA, portB, ra);
      const b = h.link(portB, portA, rb);
      await a.start();
      await b.start();
      a.perform([{ type: 'connect' }]);
      const { connectionId } = await ra.next('connected');
      a.perform([
        { type: 'log', level: 'info', event: 'x', fields: {} },
        { type: 'send', connectionId, message: connectMessage(5) },
        { type: 'persist', leases: [], meta: [], afterDurable: [] },
        { type: 'close', connectionId },
      ]);
      assert.equal((await rb.next('message')).message.xid, 5);
      await ra.next('disconnected');
    } finally {
      await h.cleanup();
    }
  });

  test('a partner that does not read overflows the send buffer and is cut off', async () => {
    const h = new Harness();
    try {
      const [port, partnerPort] = [await freePort(), await freePort()];
      await h.rawServer(partnerPort, (s) => s.pause());
      const r = new Recorder();
      const { log, lines } = captureLog();
      const link = h.link(port, partnerPort, r, { log, maxQueuedBytes: 64 * 1024 });
      link.connect();
      const { connectionId } = await r.next('connected');
      const big = buildContact({ time: T, xid: 1 });
      big.options.push({ code: 16, data: new Uint8Array(2000) }); // message option, ~2 KB total
      let sends = 0;
      while (link.send(connectionId, big)) {
        sends++;
        assert.ok(sends < 50_000, 'the send buffer never overflowed');
      }
      const gone = await r.next('disconnected');
      assert.equal(gone.reason, 'send-buffer-overflow');
      assert.ok(lines.some((l) => l.event === 'failover.send-buffer-overflow' && l.level === 50));
    } finally {
      await h.cleanup();
    }
  });

  test('a throwing handler costs the connection, not the process', async () => {
    const h = new Harness();
    try {
      const [port, partnerPort] = [await freePort(), await freePort()];
      const inputs: EndpointInput[] = [];
      const { log, lines } = captureLog();
      const link = new FailoverLink(
        {
          relationshipName: 'dc1',
          localAddress: HOST,
          localPort: port,
          partnerAddress: HOST,
          partnerPort,
          auth: { algorithm: 'none' },
          log,
        },
        (input) => {
          inputs.push(input);
          if (input.type === 'message') throw new Error('endpoint bug');
        },
      );
      await link.start();
      try {
        const raw = await h.rawClient(port);
        raw.write(Buffer.concat([encodeFailover(connectMessage(1)), encodeFailover(connectMessage(2))]));
        await waitFor(() => inputs.some((i) => i.type === 'disconnected'), 'disconnected');
        assert.deepEqual(
          inputs.map((i) => i.type),
          ['connected', 'message', 'disconnected'],
        );
        const gone = inputs[2] as Extract<EndpointInput, { type: 'disconnected' }>;
        assert.equal(gone.reason, 'handler-error');
        const logged = lines.find((l) => l.event === 'failover.handler-error');
        assert.ok(logged);
        assert.equal(logged.level, 50);
      } finally {
        await link.stop();
      }
    } finally {
      await h.cleanup();
    }
  });

  test('start() names the address when it cannot listen', async () => {
    const h = new Harness();
    try {
      const [port, partnerPort] = [await freePort(), await freePort()];
      const first = h.link(port, partnerPort, new Recorder());
      await first.start();
      const second = h.link(port, partnerPort, new Recorder());
      await assert.rejects(second.start(), (err: Error) => {
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}: EADDRINUSE`));
        assert.match(err.message, /"dc1"/);
        return true;
      });
      const third = new FailoverLink(
        {
          relationshipName: 'dc1',
          localAddress: '192.0.2.77', // TEST-NET-1: not on this host
          localPort: port,
          partnerAddress: HOST,
          partnerPort,
          auth: { algorithm: 'none' },
        },
        () => {},
      );
      await assert.rejects(third.start(), /192\.0\.2\.77:\d+: EADDRNOTAVAIL/);
      await third.stop(); // after a failed start, stop() still resolves
    } finally {
      await h.cleanup();
    }
  });

  test('the secret never reaches the log', async () => {
    const h = new Harness();
    try {
      const { log, lines } = captureLog();
      const [portA, portB] = [await freePort(), await freePort()];
      const ra = new Recorder();
      const auth: FailoverAuthConfig = { algorithm: 'hmac-sha256', secret: 'do-not-log-me' };
      const a = h.link(portA, portB, ra, { log, auth, connectRetryMs: { first: 10, max: 10 } });
      const b = h.link(portB, portA, new Recorder(), { log, auth });
      await a.start();
      a.connect();
      await waitFor(() => a.stats().connectsFailed >= 1, 'a failed attempt');
      await b.start();
      const { connectionId } = await ra.next('connected');
      a.send(connectionId, connectMessage());
      await a.stop();
      await b.stop();
      assert.ok(lines.length > 0);
      assert.ok(!JSON.stringify(lines).includes('do-not-log-me'));
    } finally {
      await h.cleanup();
    }
  });

  test('stop() closes everything, reports each disconnect before resolving, then stays silent', async () => {
    const h = new Harness();
    try {
      const [portA, portB, deadPort] = [await freePort(), await freePort(), await freePort()];
      const ra = new Recorder();
      const rb = new Recorder();
      const a = h.link(portA, portB, ra);
      const b = h.link(portB, portA, rb);
      // A third link stuck in its retry loop: stop() must cancel the timer.
      const c = h.link(await freePort(), deadPort, new Recorder(), {
        connectRetryMs: { first: 30_000, max: 60_000 },
      });
      await a.start();
      await b.start();
      await c.start();
      c.connect();
      await waitFor(() => c.stats().connectsFailed === 1, 'c failed once');
      a.connect();
      b.connect();
      await ra.next('connected', 1);
      await rb.next('connected', 1);
      const before = process.getActiveResourcesInfo();
      await a.stop();
      assert.equal(a.connectionCount(), 0);
      assert.equal(ra.of('disconnected').length, 2);
      assert.deepEqual(
        ra.of('disconnected').map((d) => d.reason),
        ['link-stopped', 'link-stopped'],
      );
      await b.stop();
      await c.stop();
      const countAfterStop = ra.inputs.length + rb.inputs.length;
      assert.equal(rb.of('disconnected').length, 2);
      a.connect(); // ignored after stop
      assert.equal(a.send(1, connectMessage()), false);
      await delay(50);
      assert.equal(ra.inputs.length + rb.inputs.length, countAfterStop);
      assert.equal(await a.stop(), undefined, 'stop() twice is fine');
      const after = process.getActiveResourcesInfo();
      const count = (list: string[], kind: string) => list.filter((k) => k === kind).length;
      assert.ok(count(before, 'TCPServerWrap') >= 3);
      assert.equal(count(after, 'TCPServerWrap'), 0);
      assert.equal(count(after, 'TCPSocketWrap'), 0);
      assert.equal(count(after, 'Timeout'), 0);
    } finally {
      await h.cleanup();
    }
  });
});
