// What the dashboard's browser tests run against: the loopback pair of config/pair-*.json as two
// real `twinlease serve` processes (dist/, built first when stale) in a temporary directory with
// their own ports, lease databases and an extra read-only token; a relay agent made of two UDP
// sockets (giaddr 127.0.0.1) that gets leases from them; and Debian's chromium driven by
// playwright-core (never a downloaded browser).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { decodeDhcp, encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { getIpv4Option, getUint8Option, OPTION } from '../../src/wire/dhcp-options.js';
import { BOOTREQUEST, DhcpMessageType } from '../../src/wire/dhcp-packet.js';
import { formatIpv4, fromHex, parseIpv4 } from '../../src/wire/ipv4.js';

export const REPO = new URL('../../', import.meta.url).pathname;
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const READ_ONLY_TOKEN = 'dashboard-viewer-0123456789';
export const RELATIONSHIP = 'demo-pair';

/** Builds dist/ when any file under src/ is newer than dist/cli/main.js (the bin runs dist/). */
export function ensureBuilt(): void {
  const built = join(REPO, 'dist/cli/main.js');
  const stamp = (() => {
    try {
      return statSync(built).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const newest = (dir: string): number => {
    let t = 0;
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, name.name);
      t = Math.max(t, name.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  if (
    stamp > 0 &&
    newest(join(REPO, 'src')) <= stamp &&
    readdirSync(join(REPO, 'dist/dashboard/client')).length > 0
  )
    return;
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
  // tsc emits even with type errors (someone else's work in progress): go on if the bin is there.
  if (r.status !== 0 && !existsSync(join(REPO, 'dist/dashboard/plugin.js')))
    throw new Error('the build failed');
  if (r.status !== 0) console.log('# tsc reported errors; testing what it emitted');
}

export interface Side {
  role: 'primary' | 'secondary';
  name: string;
  apiPort: number;
  dhcpAddress: string;
  dhcpPort: number;
  token: string;
  configPath: string;
  proc: ChildProcess | null;
  log: string[];
}

export class Pair {
  readonly dir = mkdtempSync(join(tmpdir(), 'twinlease-dashboard-'));
  readonly primary: Side;
  readonly secondary: Side;

  constructor() {
    // Ports of our own so a pair someone runs by hand on 8067/8068 is not disturbed.
    const base = 20000 + Math.floor(Math.random() * 20000) * 2;
    const make = (role: 'primary' | 'secondary', offset: number): Side => {
      const file = role === 'primary' ? 'pair-primary.json' : 'pair-secondary.json';
      const c = JSON.parse(readFileSync(join(REPO, 'config', file), 'utf8'));
      delete c.$schema;
      c.leaseStore.path = join(this.dir, `${role}.db`);
      c.logging = { level: 'info' };
      c.api.port = base + offset;
      c.api.tokens.push({ name: 'viewer', token: READ_ONLY_TOKEN, readOnly: true });
      // The relay (giaddr 127.0.0.1) gets each server's replies on 127.0.0.1:<that server's port>,
      // so neither server may listen on 127.0.0.1 itself, and 127.0.0.1 selects the scope.
      c.dhcp.listenAddress = role === 'primary' ? '127.0.0.3' : '127.0.0.2';
      c.scopes[0].relayAddresses = ['127.0.0.1'];
      c.dhcp.port = base + 10 + offset;
      const f = c.failover[0];
      f.local.port = base + 20 + offset;
      f.partner.port = base + 20 + (1 - offset);
      const configPath = join(this.dir, file);
      writeFileSync(configPath, JSON.stringify(c, null, 2));
      return {
        role,
        name: c.server.name,
        apiPort: c.api.port,
        dhcpAddress: c.dhcp.listenAddress,
        dhcpPort: c.dhcp.port,
        token: c.api.tokens[0].token,
        configPath,
        proc: null,
        log: [],
      };
    };
    this.primary = make('primary', 0);
    this.secondary = make('secondary', 1);
  }

  url(side: Side, path = '/ui/'): string {
    return `http://127.0.0.1:${side.apiPort}${path}`;
  }

  start(side: Side): void {
    const proc = spawn(
      process.execPath,
      [join(REPO, 'bin/twinlease.js'), 'serve', '--config', side.configPath],
      {
        cwd: this.dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (chunk: Buffer) => {
      side.log.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      if (side.log.length > 2000) side.log.splice(0, side.log.length - 2000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    side.proc = proc;
  }

  kill(side: Side, signal: NodeJS.Signals = 'SIGKILL'): void {
    side.proc?.kill(signal);
    side.proc = null;
  }

  async api<T>(side: Side, path: string, token = side.token): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url(side, path), { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as T };
  }

  async waitFor<T>(
    what: string,
    f: () => Promise<T | null | undefined | false>,
    timeoutMs = 30000,
  ): Promise<T> {
    const until = Date.now() + timeoutMs;
    let lastError: unknown = null;
    while (Date.now() < until) {
      try {
        const v = await f();
        if (v !== null && v !== undefined && v !== false) return v;
      } catch (err) {
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      `timed out waiting for ${what}${lastError === null ? '' : ` (${String(lastError)})`}\n` +
        `primary log tail:\n${this.primary.log.slice(-15).join('\n')}\nsecondary log tail:\n${this.secondary.log.slice(-15).join('\n')}`,
    );
  }

  /** Local state of the relationship as `side`'s API reports it. */
  async stateOf(side: Side): Promise<string | null> {
    const r = await this.api<{ relationships: { name: string; state: string }[] }>(side, '/api/v1/status');
    return r.body.relationships.find((x) => x.name === RELATIONSHIP)?.state ?? null;
  }

  async stop(): Promise<void> {
    for (const side of [this.primary, this.secondary]) {
      const p = side.proc;
      if (p === null) continue;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      p.kill('SIGKILL');
      side.proc = null;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Granted {
  address: string;
  serverId: string;
}

/**
 * A relay agent for made-up clients: sends each request to both servers as a relay with giaddr
 * 127.0.0.1 would, and takes the answers arriving on 127.0.0.1:<each server's port>.
 */
export class Relay {
  private readonly sockets: Socket[] = [];
  private readonly waiting = new Map<number, (p: ReturnType<typeof decodeDhcp>) => void>();

  private constructor(private readonly servers: { address: string; port: number }[]) {}

  static async open(servers: { address: string; port: number }[]): Promise<Relay> {
    const relay = new Relay(servers);
    for (const s of servers) {
      const socket = createSocket('udp4');
      socket.on('message', (msg) => {
        const d = decodeDhcp(new Uint8Array(msg));
        if (d.ok) relay.waiting.get(d.packet.xid)?.(d);
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(s.port, '127.0.0.1', () => resolve());
      });
      relay.sockets.push(socket);
    }
    return relay;
  }

  private packet(type: DhcpMessageType, mac: string, xid: number, extra: Map<number, Uint8Array>) {
    const hw = fromHex(mac.replaceAll(':', ''));
    const chaddr = new Uint8Array(16);
    chaddr.set(hw);
    const options = new Map<number, Uint8Array>([[OPTION.messageType, Uint8Array.of(type)], ...extra]);
    return encodeDhcp({
      op: BOOTREQUEST,
      htype: 1,
      hlen: hw.length,
      hops: 1,
      xid,
      secs: 0,
      flags: 0,
      ciaddr: 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: parseIpv4('127.0.0.1'),
      chaddr,
      sname: new Uint8Array(64),
      file: new Uint8Array(128),
      hasMagicCookie: true,
      options,
    });
  }

  /** Sends to both servers and waits for the first reply of `want` type. */
  private async exchange(
    type: DhcpMessageType,
    want: DhcpMessageType,
    mac: string,
    extra: Map<number, Uint8Array>,
  ) {
    const xid = Math.floor(Math.random() * 0xffffffff);
    const bytes = this.packet(type, mac, xid, extra);
    for (let attempt = 0; attempt < 4; attempt++) {
      const reply = new Promise<ReturnType<typeof decodeDhcp> | null>((resolve) => {
        this.waiting.set(xid, (d) => {
          if (d.ok && getUint8Option(d.packet.options, OPTION.messageType) === want) resolve(d);
        });
        setTimeout(() => resolve(null), 1500);
      });
      for (const s of this.servers) this.sockets[0]!.send(bytes, s.port, s.address);
      const d = await reply;
      this.waiting.delete(xid);
      if (d?.ok) return d.packet;
    }
    throw new Error(`no ${DhcpMessageType[want]} for ${mac}`);
  }

  /** DISCOVER, OFFER, REQUEST, ACK for `mac` with host name `hostname` (option 12). */
  async lease(mac: string, hostname: string): Promise<Granted> {
    const name = new TextEncoder().encode(hostname);
    const offer = await this.exchange(
      DhcpMessageType.Discover,
      DhcpMessageType.Offer,
      mac,
      new Map([[12, name]]),
    );
    const serverId = getIpv4Option(offer.options, OPTION.serverIdentifier)!;
    const u32 = (a: number) => Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
    const ack = await this.exchange(
      DhcpMessageType.Request,
      DhcpMessageType.Ack,
      mac,
      new Map([
        [12, name],
        [OPTION.requestedAddress, u32(offer.yiaddr)],
        [OPTION.serverIdentifier, u32(serverId)],
      ]),
    );
    return { address: formatIpv4(ack.yiaddr), serverId: formatIpv4(serverId) };
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}
