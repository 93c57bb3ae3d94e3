// A relay on loopback for the bench probes (serve-probe.ts, updreqall-probe.ts): DISCOVER/REQUEST
// sent as the relay 127.0.0.2 (giaddr) from 127.0.0.2:<port>, where the server's replies come back
// (RFC 2131 §4.1: to giaddr, server port), and DORA latency samples with their quantiles. Also the
// /proc readings both probes take of the server process.

import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';

export const RELAY = '127.0.0.2';
const CLOCK_TICKS_PER_S = 100;

/** A BOOTREQUEST of DHCP message type `type` from chaddr 02:fe:<mac>, relayed by 127.0.0.2. */
export function relayedPacket(type: number, xid: number, mac: number, extra: number[] = []): Buffer {
  const p = Buffer.alloc(300);
  p[0] = 1;
  p[1] = 1;
  p[2] = 6;
  p[3] = 1;
  p.writeUInt32BE(xid, 4);
  Buffer.from([127, 0, 0, 2]).copy(p, 24);
  p[28] = 0x02;
  p[29] = 0xfe;
  p.writeUInt32BE(mac >>> 0, 30);
  p.writeUInt32BE(0x63825363, 236);
  Buffer.from([53, 1, type, 55, 3, 1, 3, 6, ...extra, 255]).copy(p, 240);
  return p;
}

export function messageType(m: Buffer): number {
  for (let i = 240; i < m.length; ) {
    const code = m[i]!;
    if (code === 255) break;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 53) return m[i + 2]!;
    i += 2 + m[i + 1]!;
  }
  return 0;
}

/** CPU seconds (user + system) of process `pid`. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** A /proc/<pid>/status value in kB (VmHWM, VmRSS). */
export function statusKb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

export const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(3));
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DoraSample {
  startedAtS: number;
  doMs: number | null;
  raMs: number | null;
}

export function summarize(list: readonly DoraSample[]) {
  const d = list.flatMap((x) => (x.doMs === null ? [] : [x.doMs]));
  const r = list.flatMap((x) => (x.raMs === null ? [] : [x.raMs]));
  return {
    exchanges: list.length,
    acks: r.length,
    do_p50_ms: quantile(d, 0.5),
    do_p99_ms: quantile(d, 0.99),
    do_max_ms: quantile(d, 1),
    ra_p50_ms: quantile(r, 0.5),
    ra_p99_ms: quantile(r, 0.99),
    ra_max_ms: quantile(r, 1),
  };
}

export class RelayProbe {
  private readonly waiting = new Map<number, (m: Buffer) => void>();
  private xid = 1;
  readonly samples: DoraSample[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly server: string,
    private readonly port: number,
  ) {
    socket.on('message', (m) => {
      if (m.length < 244) return;
      const w = this.waiting.get(m.readUInt32BE(4));
      if (w) {
        this.waiting.delete(m.readUInt32BE(4));
        w(m);
      }
    });
  }

  /** Bound to 127.0.0.2:`port`, sending to `server`:`port`. */
  static async open(server: string, port: number): Promise<RelayProbe> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => socket.bind(port, RELAY, r));
    return new RelayProbe(socket, server, port);
  }

  nextXid(): number {
    return this.xid++;
  }

  exchange(p: Buffer, timeoutMs: number): Promise<Buffer | null> {
    const xid = p.readUInt32BE(4);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(xid);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(xid, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.socket.send(p, this.port, this.server);
    });
  }

  /** One DORA of client `mac`, recorded in `samples`. */
  async dora(mac: number): Promise<void> {
    const startedAtS = Date.now() / 1000;
    const x = this.nextXid();
    const s = performance.now();
    const offer = await this.exchange(relayedPacket(1, x, mac), 2000);
    const sample: DoraSample = { startedAtS, doMs: null, raMs: null };
    this.samples.push(sample);
    if (!offer || messageType(offer) !== 2) return;
    sample.doMs = performance.now() - s;
    const yiaddr = [...offer.subarray(16, 20)];
    const serverId = this.server.split('.').map(Number);
    const s2 = performance.now();
    const ack = await this.exchange(relayedPacket(3, x, mac, [50, 4, ...yiaddr, 54, 4, ...serverId]), 2000);
    if (ack && messageType(ack) === 5) sample.raMs = performance.now() - s2;
  }

  /**
   * DORAs of new clients (from `firstMac` on) at `rate` per second for `seconds`, or until
   * `isDone()` says so; resolves when every exchange has ended.
   */
  async load(
    rate: number,
    seconds: number,
    firstMac: number,
    isDone: () => boolean = () => false,
  ): Promise<void> {
    const started = performance.now();
    const total = Math.floor(rate * seconds);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < total && !isDone(); i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      pending.push(this.dora(firstMac + i));
    }
    await Promise.all(pending);
  }

  close(): void {
    this.socket.close();
  }
}
