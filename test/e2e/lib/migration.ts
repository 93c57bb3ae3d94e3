// Helpers of the rolling-migration test (test/e2e/migration.test.ts): `twinlease import dhcpd` on a
// stopped dhcpd's files, the fix-ups the test environment needs on its output, a recording relay
// client population (every ACK: address, client, expiry; DISCOVERs answered or not, per phase),
// perfdhcp's periodic counters per phase, and the "no address in two clients' hands" check.

import './migration-prefix.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../../src/config/schema.js';
import { DhcpMessageType, type DhcpTestClient, type Reply, testMac } from './dhcp-test-client.js';
import { ADDR, REPO_ROOT, TWINLEASE_BIN } from './env.js';
import type { PairSide } from './pair.js';
import { LineProcess, run, sleep } from './proc.js';
import { ip } from './topology.js';

export interface ImportResult {
  code: number;
  /** stderr of the import: its findings and summary. */
  report: string;
  configPath: string;
  leaseDbPath: string;
  /** The config exactly as the import wrote it. */
  imported: Config;
}

/** `twinlease import dhcpd --conf --leases --out --lease-db` into `dir`; throws unless exit 0. */
export async function importDhcpd(dir: string, confPath: string, leasesPath: string): Promise<ImportResult> {
  const configPath = join(dir, 'imported.json');
  const leaseDbPath = join(dir, 'leases.db');
  const r = await run(
    process.execPath,
    [
      TWINLEASE_BIN,
      'import',
      'dhcpd',
      '--conf',
      confPath,
      '--leases',
      leasesPath,
      '--out',
      configPath,
      '--lease-db',
      leaseDbPath,
    ],
    { check: false, timeoutMs: 30_000, cwd: REPO_ROOT },
  );
  const report = `${r.stdout}${r.stderr}`;
  if (r.code !== 0) throw new Error(`twinlease import dhcpd exited ${r.code}:\n${report}`);
  const imported = JSON.parse(readFileSync(configPath, 'utf8')) as Config;
  return { code: r.code ?? -1, report, configPath, leaseDbPath, imported };
}

/**
 * What the test environment needs beyond what dhcpd.conf says (the runbook's step 0.3): the
 * server name and identifier, the DHCP interface and subnet broadcast of the namespace, the
 * management API (address, port, token) and debug logging. Everything else, the failover
 * relationship, scopes and lease store path included, is the import's. Returns the list of
 * changed keys too, for the report.
 */
export function fixUpImported(imported: Config, side: PairSide): { config: Config; changed: string[] } {
  const changed: string[] = [];
  const config: Config = structuredClone(imported);
  const set = <K extends keyof Config>(key: K, value: Config[K]) => {
    changed.push(`${String(key)}: ${JSON.stringify(config[key] ?? null)} → ${JSON.stringify(value)}`);
    config[key] = value;
  };
  set('server', {
    ...(config.server ?? {}),
    name: side.serverName,
    serverIdentifier: side.address,
  } as Config['server']);
  set('dhcp', {
    ...(config.dhcp ?? {}),
    interface: 'eth0',
    broadcastAddress: ADDR.broadcast,
  } as Config['dhcp']);
  set('api', {
    listenAddress: side.address,
    port: side.apiPort,
    tokens: [{ name: `e2e-${side.role}`, token: side.token }],
  } as Config['api']);
  set('logging', { level: 'debug' } as Config['logging']);
  return { config, changed };
}

/** One client's holding of an address, as the client saw it (ACK arrival → arrival + lease time). */
export interface Holding {
  mac: string;
  address: string;
  from: string;
  startMs: number;
  endMs: number;
  phase: string;
}

export interface PhaseCount {
  discovers: number;
  unanswered: number;
  requests: number;
  acks: number;
  naks: number;
  noReply: number;
}

const emptyCount = (): PhaseCount => ({
  discovers: 0,
  unanswered: 0,
  requests: 0,
  acks: 0,
  naks: 0,
  noReply: 0,
});

/**
 * ~100 recording clients, taking turns (one every `gapMs`): DORA when it holds nothing, else renew
 * (RENEWING at the server that ACKed, REBINDING broadcast if that one does not answer); 1 turn in 10
 * is a RELEASE + new DORA instead, so DISCOVERs keep flowing. Every ACK is recorded.
 */
export class Recorder {
  readonly holdings: Holding[] = [];
  readonly perPhase = new Map<string, PhaseCount>();
  /** Every NAK of a renewal: what the client held and who said no. */
  readonly naks: string[] = [];
  phase = 'setup';
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly clients: { mac: string; lease: Holding | null }[] = [];

  constructor(
    private readonly relay: DhcpTestClient,
    count: number,
    tag = 0xd7,
    private readonly gapMs = 20,
  ) {
    for (let i = 0; i < count; i++) this.clients.push({ mac: testMac(tag, i), lease: null });
  }

  private count(): PhaseCount {
    let c = this.perPhase.get(this.phase);
    if (!c) {
      c = emptyCount();
      this.perPhase.set(this.phase, c);
    }
    return c;
  }

  private record(mac: string, r: Reply): Holding | null {
    if (r.type !== DhcpMessageType.Ack || r.leaseTimeSeconds === null) return null;
    const h: Holding = {
      mac,
      address: r.yiaddr,
      from: r.from,
      startMs: r.at,
      endMs: r.at + r.leaseTimeSeconds * 1000,
      phase: this.phase,
    };
    this.holdings.push(h);
    return h;
  }

  /**
   * The client stops using `address` at `atMs` (RELEASE sent, or NAK): every recorded holding of it
   * (the first ACK and each renewal) ends there, not at its own expiry.
   */
  private giveUp(mac: string, address: string, atMs: number): void {
    for (const h of this.holdings)
      if (h.mac === mac && h.address === address && h.endMs > atMs) h.endMs = Math.max(h.startMs, atMs);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** The latest holding of every client (its current lease, if still running). */
  current(): Holding[] {
    return this.clients.flatMap((c) => (c.lease === null ? [] : [c.lease]));
  }

  private async run(): Promise<void> {
    let i = 0;
    while (!this.stopped) {
      const c = this.clients[i++ % this.clients.length]!;
      const now = Date.now();
      if (c.lease !== null && c.lease.endMs <= now) c.lease = null;
      const count = this.count();
      try {
        if (c.lease !== null && Math.random() >= 0.1) {
          count.requests++;
          let reply = await this.relay
            .request(c.mac, { ciaddr: c.lease.address, to: c.lease.from, attempts: 1 })
            .catch(() => null);
          if (reply === null)
            reply = await this.relay
              .request(c.mac, { ciaddr: c.lease.address, attempts: 1 })
              .catch(() => null);
          if (reply === null) count.noReply++;
          else if (reply.type === DhcpMessageType.Nak) {
            count.naks++;
            const l = c.lease;
            this.naks.push(
              `${new Date(reply.at).toISOString()} ${this.phase}: ${c.mac} renewing ${l.address} (ACKed by ${l.from} at ${new Date(l.startMs).toISOString()} until ${new Date(l.endMs).toISOString()}) NAKed by ${reply.from}`,
            );
            this.giveUp(c.mac, c.lease.address, reply.at);
            c.lease = null;
          } else if (reply.yiaddr === c.lease.address) {
            count.acks++;
            c.lease = this.record(c.mac, reply) ?? c.lease;
          }
        } else {
          if (c.lease !== null) {
            this.relay.release(c.mac, c.lease.address, c.lease.from, { to: c.lease.from });
            this.giveUp(c.mac, c.lease.address, Date.now());
            c.lease = null;
          }
          count.discovers++;
          const r = await this.relay.dora(c.mac).catch(() => null);
          if (r === null || r.offer === null || r.offer.type !== DhcpMessageType.Offer) count.unanswered++;
          else {
            count.requests++;
            if (r.reply === null) count.noReply++;
            else if (r.reply.type === DhcpMessageType.Nak) {
              count.naks++;
              this.naks.push(
                `${new Date(r.reply.at).toISOString()} ${this.phase}: ${c.mac} selecting ${r.offer.yiaddr} offered by ${r.offer.from} NAKed by ${r.reply.from}`,
              );
            } else {
              count.acks++;
              c.lease = this.record(c.mac, r.reply);
            }
          }
        }
      } catch {
        // the client keeps what it has
      }
      // 100 clients, each acting about every 2 s (early renewals, as impatient clients do).
      await sleep(this.gapMs);
    }
  }
}

/** Address overlaps between different clients longer than `toleranceMs`. */
export function overlaps(holdings: readonly Holding[], toleranceMs: number): string[] {
  const byAddress = new Map<string, Holding[]>();
  for (const h of holdings) {
    const list = byAddress.get(h.address) ?? [];
    list.push(h);
    byAddress.set(h.address, list);
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  const out: string[] = [];
  for (const [address, list] of byAddress)
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const x = list[i]!;
        const y = list[j]!;
        if (x.mac === y.mac) continue;
        if (Math.min(x.endMs, y.endMs) - Math.max(x.startMs, y.startMs) > toleranceMs)
          out.push(
            `${address}: ${x.mac} from ${x.from} [${iso(x.startMs)} → ${iso(x.endMs)}, ${x.phase}] and ` +
              `${y.mac} from ${y.from} [${iso(y.startMs)} → ${iso(y.endMs)}, ${y.phase}]`,
          );
      }
  return out;
}

/** One periodic perfdhcp report (-t 1 -C ','): cumulative counters. */
export interface PerfSample {
  at: number;
  fields: number[];
}

/**
 * perfdhcp in $PFX-cli (relay, broadcast out of br0) for up to `seconds`, printing cumulative
 * counters every second; `at(t)` gives the last sample before t, so a phase's DISCOVERs sent and
 * OFFERs received are differences of two samples.
 */
export class PerfLoad {
  readonly proc: LineProcess;
  readonly samples: PerfSample[] = [];
  private seen = 0;

  constructor(ns: string, o: { rate: number; clients: number; seconds: number }) {
    this.proc = new LineProcess('timeout', [
      '-k',
      '5',
      String(o.seconds + 10),
      'ip',
      'netns',
      'exec',
      ns,
      'perfdhcp',
      '-4',
      '-r',
      String(o.rate),
      '-R',
      String(o.clients),
      '-p',
      String(o.seconds),
      '-t',
      '1',
      '-C',
      ',',
      '-l',
      'br0',
    ]);
    const collect = () => {
      const lines = this.proc.lines;
      for (; this.seen < lines.length; this.seen++) {
        const l = lines[this.seen]!.trim();
        if (/^\d+(,\d+)+$/.test(l)) this.samples.push({ at: Date.now(), fields: l.split(',').map(Number) });
      }
    };
    this.proc.child.stdout?.on('data', () => setImmediate(collect));
  }

  /** The last sample at or before `t` (or the first one). */
  at(t: number): PerfSample | null {
    let best: PerfSample | null = null;
    for (const s of this.samples) {
      if (s.at <= t) best = s;
      else break;
    }
    return best ?? this.samples[0] ?? null;
  }

  /** DISCOVERs sent and OFFERs received between two times (fields 0 and 1 of the report). */
  window(from: number, to: number): { sent: number; received: number } | null {
    const a = this.at(from);
    const b = this.at(to);
    if (a === null || b === null) return null;
    // OFFERs to DISCOVERs sent just before the window count in it: clamp at "all answered".
    const sent = b.fields[0]! - a.fields[0]!;
    return { sent, received: Math.min(sent, b.fields[1]! - a.fields[1]!) };
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 3000);
  }
}

/**
 * The recording clients' relay address: a second address on $PFX-cli's br0, because perfdhcp
 * binds 10.77.0.2:67 exclusively ("Failed to bind socket 3 to 10.77.0.2/port=67" when the test
 * client holds it first). The servers answer giaddr:67, in the same /16.
 */
export const RECORDER_GIADDR = '10.77.0.4';

export async function addRecorderAddress(ns: string): Promise<void> {
  await ip(ns, 'addr', 'replace', `${RECORDER_GIADDR}/16`, 'dev', 'br0');
}
