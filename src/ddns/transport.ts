// The I/O half of dynamic DNS: sends the planner's UPDATE messages over UDP (TCP after a
// truncated answer, or for a message over 512 bytes) and hands every answer back by request id.
// It keeps no retry logic of its own: the planner decides about timeouts and retries.
//
// Source ports: every UDP request goes out from a socket of its own, bound to port 0, so the
// kernel gives it a fresh random ephemeral port (Linux randomises the choice), as BIND's tools and
// resolvers do: a fixed source port lets an off-path attacker aim forged answers (RFC 5452 §9.2,
// §10). The socket closes at the answer or when the planner's timeout for the request has
// passed, so at most the planner's requests in flight (32) are open at once. A configured source
// port (dns.server.sourcePort, for firewalls) shares one socket per port instead.
// Used by src/server/ddns-service.ts.

import dgram from 'node:dgram';
import net from 'node:net';

export interface TransportCallbacks {
  onResponse(requestId: number, bytes: Uint8Array): void;
  onSendFailed(requestId: number, error: string): void;
}

export interface OutgoingRequest {
  address: string;
  port: number;
  /** UDP source port; null: a new random one for this request. */
  sourcePort: number | null;
  isTcp: boolean;
  bytes: Uint8Array;
  /** The planner gives up on the request after this long; its socket closes then. */
  timeoutMs: number;
}

interface Pending {
  requestId: number;
  sentAtMs: number;
}

/** Entries whose answer never came are forgotten after this long (the planner timed them out). */
const STALE_MS = 60_000;
/** Largest DNS message over TCP we accept (RFC 1035 §4.2.2 length prefix). */
const MAX_TCP_MESSAGE = 65_535;
const TCP_IDLE_MS = 10_000;
/** An answer may still be on its way when the planner gives up: the socket waits this much longer. */
const LATE_ANSWER_GRACE_MS = 500;

export class DnsTransport {
  private isRunning = false;
  /** Shared sockets of configured source ports. */
  private readonly fixedSockets = new Map<number, Promise<dgram.Socket>>();
  /** `${address}:${port}:${dnsId}` → request, on the shared sockets (own sockets take their one answer). */
  private readonly pending = new Map<string, Pending>();
  private readonly ownSockets = new Set<dgram.Socket>();
  private readonly tcpSockets = new Set<net.Socket>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly callbacks: TransportCallbacks) {}

  async start(): Promise<void> {
    this.isRunning = true;
    this.sweepTimer = setInterval(() => this.sweep(), STALE_MS / 2);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.isRunning = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const s of this.tcpSockets) s.destroy();
    this.tcpSockets.clear();
    this.pending.clear();
    const closing: Promise<void>[] = [];
    for (const s of this.ownSockets) closing.push(closeSocket(s));
    this.ownSockets.clear();
    for (const s of this.fixedSockets.values()) closing.push(s.then(closeSocket, () => undefined));
    this.fixedSockets.clear();
    await Promise.all(closing);
  }

  send(requestId: number, r: OutgoingRequest): void {
    if (r.isTcp) {
      this.sendTcp(requestId, r.address, r.port, r.bytes);
      return;
    }
    if (!this.isRunning) {
      queueMicrotask(() => this.callbacks.onSendFailed(requestId, 'transport stopped'));
      return;
    }
    if (r.sourcePort === null) this.sendFromOwnSocket(requestId, r);
    else this.sendFromFixedPort(requestId, r, r.sourcePort);
  }

  /** A socket of its own on a random port; it takes the one answer and closes. */
  private sendFromOwnSocket(requestId: number, r: OutgoingRequest): void {
    const socket = dgram.createSocket('udp4');
    this.ownSockets.add(socket);
    const dnsId = (r.bytes[0]! << 8) | r.bytes[1]!;
    let isDone = false;
    const done = () => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      this.ownSockets.delete(socket);
      void closeSocket(socket);
    };
    const timer = setTimeout(done, r.timeoutMs + LATE_ANSWER_GRACE_MS);
    // A send error (ICMP unreachable on Linux) arrives here; the planner times the request out.
    socket.on('error', () => done());
    socket.on('message', (msg, rinfo) => {
      // Only the server asked, with the id asked: anything else is late, stray or forged.
      if (isDone || msg.length < 2 || rinfo.address !== r.address || rinfo.port !== r.port) return;
      if (((msg[0]! << 8) | msg[1]!) !== dnsId) return;
      done();
      this.callbacks.onResponse(requestId, new Uint8Array(msg));
    });
    socket.bind(0, () => {
      if (isDone) return;
      socket.send(r.bytes, r.port, r.address, (err) => {
        if (err) {
          done();
          this.callbacks.onSendFailed(requestId, err.message);
        }
      });
    });
  }

  private sendFromFixedPort(requestId: number, r: OutgoingRequest, sourcePort: number): void {
    const dnsId = (r.bytes[0]! << 8) | r.bytes[1]!;
    const key = `${r.address}:${r.port}:${dnsId}`;
    this.fixedSocket(sourcePort).then(
      (socket) => {
        if (!this.isRunning) return;
        this.pending.set(key, { requestId, sentAtMs: Date.now() });
        socket.send(r.bytes, r.port, r.address, (err) => {
          if (err) {
            this.pending.delete(key);
            this.callbacks.onSendFailed(requestId, err.message);
          }
        });
      },
      (err: Error) =>
        this.callbacks.onSendFailed(requestId, `cannot use source port ${sourcePort}: ${err.message}`),
    );
  }

  private fixedSocket(port: number): Promise<dgram.Socket> {
    const known = this.fixedSockets.get(port);
    if (known) return known;
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    const bound = new Promise<dgram.Socket>((resolve, reject) => {
      socket.once('error', (err) => {
        // Not bound (port in use, no permission): the next request tries again.
        this.fixedSockets.delete(port);
        socket.close();
        reject(err);
      });
      socket.bind(port, () => {
        socket.removeAllListeners('error');
        socket.on('error', () => {});
        resolve(socket);
      });
    });
    this.fixedSockets.set(port, bound);
    return bound;
  }

  private onDatagram(msg: Buffer, address: string, port: number): void {
    if (msg.length < 2) return;
    const key = `${address}:${port}:${(msg[0]! << 8) | msg[1]!}`;
    const p = this.pending.get(key);
    if (p === undefined) return; // late, spoofed or unknown: ignored
    this.pending.delete(key);
    this.callbacks.onResponse(p.requestId, new Uint8Array(msg));
  }

  private sendTcp(requestId: number, address: string, port: number, bytes: Uint8Array): void {
    const socket = net.createConnection({ host: address, port });
    this.tcpSockets.add(socket);
    let received = Buffer.alloc(0);
    let isDone = false;
    const finish = (error: string | null, answer: Uint8Array | null) => {
      if (isDone) return;
      isDone = true;
      this.tcpSockets.delete(socket);
      socket.destroy();
      if (answer !== null) this.callbacks.onResponse(requestId, answer);
      else this.callbacks.onSendFailed(requestId, error ?? 'connection closed');
    };
    socket.setTimeout(TCP_IDLE_MS, () => finish('TCP timeout', null));
    socket.on('error', (err) => finish(err.message, null));
    socket.on('close', () => finish('connection closed before an answer', null));
    socket.on('connect', () => {
      const frame = Buffer.alloc(2 + bytes.length);
      frame.writeUInt16BE(bytes.length, 0);
      frame.set(bytes, 2);
      socket.write(frame);
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > MAX_TCP_MESSAGE + 2) {
        finish('answer too large', null);
        return;
      }
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length >= 2 + length) finish(null, new Uint8Array(received.subarray(2, 2 + length)));
    });
  }

  private sweep(): void {
    const limit = Date.now() - STALE_MS;
    for (const [key, p] of this.pending) if (p.sentAtMs < limit) this.pending.delete(key);
  }
}

function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // closed already
    }
  });
}
