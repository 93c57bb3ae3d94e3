// A world: one copy of the harness topology under its own namespace prefix, one server in its
// $PFX-srv (Kea or Twinlease, both 10.77.0.1 on eth0) and the wire agent on the hub side of the
// server's veth. The two worlds are identical but for the server, so the same conversation can run
// in both at once without either server hearing the other's clients.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HARNESS_DIR, REPO_ROOT } from '../../e2e/lib/env.js';
import { LineProcess, run, waitUntil } from '../../e2e/lib/proc.js';
import { TwinleaseServer } from '../../e2e/lib/server.js';
import { isUdpListening, macOf } from '../../e2e/lib/topology.js';
import { keaConfig, NET, RELAY_ADDRESSES, ROUTED, twinleaseConfig } from './spec.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export type ServerKind = 'kea' | 'twinlease';

/** A frame the server emitted, as the wire agent saw it one hop away. */
export interface WireFrame {
  at: number;
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export interface SendFrame {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

const harnessEnv = (pfx: string): NodeJS.ProcessEnv => ({
  ...process.env,
  PFX: pfx,
  WORK: `/tmp/${pfx}-harness`,
});

export async function worldTopologyDown(pfx: string): Promise<void> {
  await run('bash', [join(HARNESS_DIR, 'netns-down.sh')], {
    env: harnessEnv(pfx),
    timeoutMs: 30_000,
    check: false,
  });
}

/** Where Kea's hook libraries are (the Debian package puts them under the multiarch lib dir). */
export function keaHooksDir(): string {
  const r = spawnSync('sh', ['-c', "dpkg -L kea-common | grep -m1 'hooks/libdhcp_bootp.so$'"], {
    encoding: 'utf8',
  });
  const path = r.stdout.trim();
  if (path === '') throw new Error('libdhcp_bootp.so not found (dpkg -L kea-common)');
  return dirname(path);
}

export class World {
  private agent: LineProcess | null = null;
  private kea: LineProcess | null = null;
  private twinlease: TwinleaseServer | null = null;
  private readonly listeners = new Set<(f: WireFrame) => void>();
  readonly agentErrors: string[] = [];
  /** MAC of the server's eth0 (destination of unicast requests). */
  serverMac = '';
  /** MAC of br0, the relay (source of relayed requests). */
  relayMac = '';

  constructor(
    readonly kind: ServerKind,
    readonly pfx: string,
    readonly dir: string,
  ) {}

  get ns() {
    return { srv: `${this.pfx}-srv`, cli: `${this.pfx}-cli`, rc: `${this.pfx}-rc` };
  }

  async up(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await worldTopologyDown(this.pfx);
    await run('bash', [join(HARNESS_DIR, 'netns-up.sh')], { env: harnessEnv(this.pfx), timeoutMs: 60_000 });
    for (const a of RELAY_ADDRESSES)
      await run('ip', ['-n', this.ns.cli, 'addr', 'replace', `${a}/32`, 'dev', 'br0']);
    for (const r of ROUTED) await run('ip', ['-n', this.ns.srv, 'route', 'replace', r, 'via', NET.relay]);
    this.serverMac = await macOf(this.ns.srv);
    this.relayMac = await macOf(this.ns.cli, 'br0');
    await this.startServer();
    await this.startAgent();
  }

  private async startServer(): Promise<void> {
    if (this.kind === 'twinlease') {
      this.twinlease = new TwinleaseServer(this.dir, twinleaseConfig(this.dir), this.ns.srv);
      await this.twinlease.start();
      return;
    }
    const configPath = join(this.dir, 'kea.json');
    writeFileSync(configPath, `${JSON.stringify(keaConfig(this.dir, keaHooksDir()), null, 2)}\n`);
    const check = spawnSync('kea-dhcp4', ['-t', configPath], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`kea-dhcp4 -t ${configPath}:\n${check.stdout}${check.stderr}`);
    // Per-instance pid and lock files, as the harness's kea-anchor.sh does.
    this.kea = new LineProcess('ip', [
      'netns',
      'exec',
      this.ns.srv,
      'env',
      `KEA_PIDFILE_DIR=${this.dir}`,
      `KEA_LOCKFILE_DIR=${this.dir}`,
      'kea-dhcp4',
      '-c',
      configPath,
    ]);
    const kea = this.kea;
    await waitUntil(
      `kea-dhcp4 listening in ${this.ns.srv}`,
      async () => {
        if (!kea.isRunning) throw new Error(`kea-dhcp4 exited: ${kea.tail(20)}`);
        return isUdpListening(this.ns.srv, 67);
      },
      20_000,
    );
  }

  private async startAgent(): Promise<void> {
    this.agent = new LineProcess(
      'ip',
      ['netns', 'exec', this.ns.cli, 'python3', join(HERE, 'wire-agent.py'), 'p-srv'],
      { cwd: REPO_ROOT },
    );
    const rl = createInterface({ input: this.agent.child.stdout! });
    rl.on('line', (line) => this.onAgentLine(line));
    await this.agent.waitForLine('wire agent ready', (l) => l.includes('"t":"ready"'), 15_000);
  }

  private onAgentLine(line: string): void {
    if (!line.startsWith('{')) return;
    const msg = JSON.parse(line) as { t: string; message?: string } & Omit<WireFrame, 'payload'> & {
        b64?: string;
      };
    if (msg.t === 'error') {
      this.agentErrors.push(msg.message ?? line);
      return;
    }
    if (msg.t !== 'rx' || msg.b64 === undefined) return;
    const frame: WireFrame = {
      at: msg.at,
      srcMac: msg.srcMac,
      dstMac: msg.dstMac,
      srcIp: msg.srcIp,
      dstIp: msg.dstIp,
      srcPort: msg.srcPort,
      dstPort: msg.dstPort,
      payload: new Uint8Array(Buffer.from(msg.b64, 'base64')),
    };
    for (const l of this.listeners) l(frame);
  }

  onFrame(listener: (f: WireFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(f: SendFrame): void {
    const line = JSON.stringify({
      t: 'send',
      srcMac: f.srcMac,
      dstMac: f.dstMac,
      srcIp: f.srcIp,
      dstIp: f.dstIp,
      srcPort: f.srcPort,
      dstPort: f.dstPort,
      b64: Buffer.from(f.payload).toString('base64'),
    });
    this.agent!.child.stdin!.write(`${line}\n`);
  }

  /** The agent answers ARP requests for `ip` with `mac`, as a client holding that address would. */
  answerArp(ip: string, mac: string): void {
    this.agent!.child.stdin!.write(`${JSON.stringify({ t: 'arp', ip, mac })}\n`);
  }

  /** Log lines of the server (for a post-mortem of a difference). */
  serverTail(n = 40): string {
    return this.twinlease?.tail(n) ?? this.kea?.tail(n) ?? '';
  }

  serverErrors(): string[] {
    return (this.twinlease?.errors() ?? []).map((r) => JSON.stringify(r));
  }

  async down(): Promise<void> {
    if (this.agent) {
      this.agent.child.stdin?.end();
      await this.agent.stop('SIGTERM', 3000);
    }
    await this.twinlease?.stop();
    await this.kea?.stop('SIGTERM', 5000);
    await worldTopologyDown(this.pfx);
  }
}
