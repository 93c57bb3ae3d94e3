// The I/O half of dynamic DNS: sends the planner's UPDATE messages over UDP (TCP after a
// truncated answer, or for a message over 512 bytes) and hands every answer back by request id.
// It keeps no retry logic and no timers of its own beyond dropping stale entries: the planner
// decides about timeouts and retries. Used by src/server/ddns-service.ts.

import dgram from 'node:dgram';
import net from 'node:net';

export interface TransportCallbacks {
  onResponse(requestId: number, bytes: Uint8Array): void;
  onSendFailed(requestId: number, error: string): void;
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

export class DnsTransport {
  private socket: dgram.Socket | null = null;
  /** `${address}:${port}:${dnsId}` → request. */
  private readonly pending = new Map<string, Pending>();
  private readonly tcpSockets = new Set<net.Socket>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly callbacks: TransportCallbacks) {}

  async start(): Promise<void> {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    // A send error (ICMP unreachable on Linux) arrives here; the planner times the request out.
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    this.sweepTimer = setInterval(() => this.sweep(), STALE_MS / 2);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const s of this.tcpSockets) s.destroy();
    this.tcpSockets.clear();
    const s = this.socket;
    this.socket = null;
    this.pending.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  send(requestId: number, address: string, port: number, isTcp: boolean, bytes: Uint8Array): void {
    if (isTcp) {
      this.sendTcp(requestId, address, port, bytes);
      return;
    }
    const socket = this.socket;
    if (socket === null) {
      queueMicrotask(() => this.callbacks.onSendFailed(requestId, 'transport stopped'));
      return;
    }
    const dnsId = (bytes[0]! << 8) | bytes[1]!;
    this.pending.set(`${address}:${port}:${dnsId}`, { requestId, sentAtMs: Date.now() });
    socket.send(bytes, port, address, (err) => {
      if (err) {
        this.pending.delete(`${address}:${port}:${dnsId}`);
        this.callbacks.onSendFailed(requestId, err.message);
      }
    });
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
