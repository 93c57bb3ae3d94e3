// direct mode (issue 19 part 2): one Twinlease process directly attached to three links, each link
// a bridge in its own namespace with real clients behind it (lib/direct-topology.ts):
//   1. dhclient, udhcpc and dhcpcd on each link get leases from that link's scope, with the
//      server's address on that link as server identifier;
//   2. a client with the broadcast bit clear (udhcpc without -B) gets its OFFER by unicast to its
//      hardware address and yiaddr; one with the bit set (udhcpc -B, link 2) by broadcast —
//      checked in captures (tcpdump on the link's bridge, read with tshark);
//   3. the ping check skips the address a squatter on link 1 answers for (held out as abandoned);
//   4. a configured interface that does not exist is logged at start, one that goes down is logged
//      and shown down in /metrics while the other links keep serving, and served again when up.

import './lib/direct-prefix.js';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import {
  DIRECT_NS,
  directTopologyDown,
  directTopologyUp,
  LINKS,
  type LinkSpec,
} from './lib/direct-topology.js';
import { e2eSkipReason, isCi, REPO_ROOT } from './lib/env.js';
import { LineProcess, run, waitUntil } from './lib/proc.js';
import { makeWorkDir, TwinleaseServer } from './lib/server.js';

const NATIVE = join(REPO_ROOT, 'native', 'build', 'Release', 'twinlease_net.node');
const skip =
  e2eSkipReason(['ss', 'curl', 'dhclient', 'udhcpc', 'dhcpcd', 'tcpdump', 'tshark']) ?? nativeSkipReason();

/** The addon is built by .ci/run (and by `npm test`): in CI its absence is a failure, not a skip. */
function nativeSkipReason(): string | null {
  if (existsSync(NATIVE)) return null;
  const reason = `the native addon is not built (${NATIVE}): npm run build:native`;
  if (isCi) throw new Error(`${reason} — CI builds it in .ci/run`);
  return reason;
}

const TOKEN = 'direct-e2e-token-0123456789abcdef';
const SQUATTED = '10.91.0.10';

type Kind = 'dhclient' | 'udhcpc' | 'dhcpcd';
const KINDS: Kind[] = ['dhclient', 'udhcpc', 'dhcpcd'];

interface Bound {
  ip: string;
  serverId: string;
}

/** A real client in its own namespace on a link; its hook appends "REASON ip serverid" lines. */
class Client {
  private proc: LineProcess | null = null;
  readonly events: string;
  private readonly hook: string;

  constructor(
    readonly kind: Kind,
    readonly link: LinkSpec,
    readonly dir: string,
    private readonly extra: string[] = [],
  ) {
    this.events = join(dir, `${this.name}.events`);
    this.hook = join(dir, `${this.name}-hook.sh`);
    writeFileSync(
      this.hook,
      `#!/bin/sh
ev=\${reason:-$1} ip_=\${new_ip_address:-$ip} sid=\${new_dhcp_server_identifier:-$serverid}
echo "$ev $ip_ $sid" >>"${this.events}"
exit 0
`,
    );
    chmodSync(this.hook, 0o755);
    writeFileSync(this.events, '');
    writeFileSync(join(dir, `${this.name}.conf`), '\n');
  }

  get name(): string {
    return `${this.link.name}-${this.kind}`;
  }
  get ns(): string {
    return this.link.clients[this.kind].ns;
  }
  get ifname(): string {
    return this.link.clients[this.kind].ifname;
  }
  mac(): Promise<string> {
    return run('ip', ['-n', this.ns, '-o', 'link', 'show', this.ifname], { timeoutMs: 5000 }).then(
      (r) => /link\/ether ([0-9a-f:]{17})/.exec(r.stdout)![1]!,
    );
  }

  start(): void {
    const d = this.dir;
    const args =
      this.kind === 'dhclient'
        ? [
            '-4',
            '-d',
            '-v',
            '-cf',
            join(d, `${this.name}.conf`),
            '-sf',
            this.hook,
            '-lf',
            join(d, `${this.name}.leases`),
            '-pf',
            join(d, `${this.name}.pid`),
            this.ifname,
          ]
        : this.kind === 'udhcpc'
          ? ['-f', '-t', '8', '-T', '2', '-i', this.ifname, '-s', this.hook, ...this.extra]
          : // dhcpcd: IPv4 only, foreground, no ARP probe or link-local fallback, our hook, empty config.
            ['-4', '-B', '-A', '-L', '-d', '-f', join(d, `${this.name}.conf`), '-c', this.hook, this.ifname];
    this.proc = new LineProcess('ip', ['netns', 'exec', this.ns, this.kind, ...args]);
  }

  bound(): Bound | null {
    const line = readFileSync(this.events, 'utf8')
      .split('\n')
      .find((l) => /^(BOUND|bound|REBOOT) /.test(l));
    if (!line) return null;
    const [, ip = '', serverId = ''] = line.split(' ');
    return { ip, serverId };
  }

  async waitBound(timeoutMs: number): Promise<Bound> {
    return waitUntil(`${this.name} bound`, () => this.bound() ?? undefined, timeoutMs, 200).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${this.proc?.tail(20) ?? ''}`);
      },
    );
  }

  async stop(): Promise<void> {
    await this.proc?.stop('SIGTERM', 3000);
    if (this.proc) writeFileSync(join(this.dir, `${this.name}.log`), this.proc.lines.join('\n'));
    this.proc = null;
  }
}

/** tcpdump on a link's bridge, DHCP only, to a pcap file read back with tshark. */
class Capture {
  private proc: LineProcess | null = null;
  readonly file: string;
  constructor(
    readonly link: LinkSpec,
    dir: string,
  ) {
    this.file = join(dir, `${link.name}.pcap`);
  }
  async start(): Promise<void> {
    this.proc = new LineProcess('ip', [
      'netns',
      'exec',
      this.link.ns,
      'tcpdump',
      '-i',
      'br0',
      '-U',
      '-n',
      '-w',
      this.file,
      'udp and (port 67 or port 68)',
    ]);
    await this.proc.waitForLine('tcpdump listening', (l) => /listening on/.test(l), 10_000);
  }
  async stop(): Promise<void> {
    await this.proc?.stop('SIGINT', 3000);
  }
  /** OFFERs seen: Ethernet destination, IP destination, client hardware address, broadcast bit, yiaddr. */
  async offers(): Promise<
    { ethDst: string; ipDst: string; chaddr: string; broadcast: boolean; yiaddr: string }[]
  > {
    const r = await run(
      'tshark',
      [
        '-r',
        this.file,
        '-Y',
        'dhcp.option.dhcp == 2',
        '-T',
        'fields',
        '-E',
        'separator=,',
        '-E',
        'occurrence=f',
        '-e',
        'eth.dst',
        '-e',
        'ip.dst',
        '-e',
        'dhcp.hw.mac_addr',
        '-e',
        'dhcp.flags.bc',
        '-e',
        'dhcp.ip.your',
      ],
      { timeoutMs: 30_000 },
    );
    return r.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [ethDst = '', ipDst = '', chaddr = '', bc = '', yiaddr = ''] = l.split(',');
        return { ethDst, ipDst, chaddr, broadcast: bc === '1' || bc === 'True', yiaddr };
      });
  }
}

function serverConfig(dir: string, interfaces: string[]): Config {
  return {
    server: { name: 'tl-direct' },
    dhcp: { mode: 'direct', interfaces, pingCheck: { attempts: 2, timeoutMs: 300 } },
    leaseStore: { path: join(dir, 'leases.db') },
    logging: { level: 'debug' },
    api: { listenAddress: '127.0.0.1', port: 8067, tokens: [{ name: 'e2e', token: TOKEN }] },
    scopes: LINKS.map((l) => ({
      id: l.scopeId,
      subnet: `${l.prefix}.0/24`,
      ranges: [{ start: `${l.prefix}.10`, end: `${l.prefix}.50` }],
      leaseTimeSeconds: 600,
      options: [{ name: 'routers', data: l.serverAddress }],
    })),
  };
}

async function api(path: string): Promise<string> {
  const r = await run(
    'ip',
    [
      'netns',
      'exec',
      DIRECT_NS.srv,
      'curl',
      '-sS',
      '--max-time',
      '3',
      '-H',
      `Authorization: Bearer ${TOKEN}`,
      `http://127.0.0.1:8067${path}`,
    ],
    { timeoutMs: 6000 },
  );
  return r.stdout;
}

describe('direct mode: one process on three links', { skip: skip ?? false, timeout: 300_000 }, () => {
  const dir = makeWorkDir('direct');
  let server: TwinleaseServer;
  const clients: Client[] = [];
  const captures: Capture[] = [];
  const bound = new Map<string, Bound>();

  before(async () => {
    await directTopologyUp();
    server = new TwinleaseServer(dir, serverConfig(dir, ['eth1', 'eth2', 'eth3', 'eth9']), DIRECT_NS.srv);
    await server.start();
    await waitUntil(
      'the API',
      async () => (await api('/api/v1/status').catch(() => '')).includes('"version"'),
      20_000,
    );
    for (const l of LINKS.slice(0, 2)) {
      const c = new Capture(l, dir);
      await c.start();
      captures.push(c);
    }
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => {});
    for (const c of captures) await c.stop().catch(() => {});
    await server?.stop().catch(() => {});
    await directTopologyDown();
    console.log(`# logs: ${dir}`);
  });

  test('1. dhclient, udhcpc and dhcpcd on every link get leases from that link', async () => {
    for (const l of LINKS) {
      for (const kind of KINDS) {
        // udhcpc on link 2 asks for broadcast replies (-B); everyone else leaves the bit clear.
        const c = new Client(kind, l, dir, kind === 'udhcpc' && l.name === 'l2' ? ['-B'] : []);
        clients.push(c);
        c.start();
      }
    }
    for (const c of clients) {
      const b = await c.waitBound(60_000);
      bound.set(c.name, b);
      assert.ok(
        b.ip.startsWith(`${c.link.prefix}.`),
        `${c.name} got ${b.ip}, not from ${c.link.prefix}.0/24`,
      );
      assert.equal(b.serverId, c.link.serverAddress, `${c.name}: the server's address on its link`);
    }
    assert.equal(new Set([...bound.values()].map((b) => b.ip)).size, 9, 'nine distinct addresses');
    for (const l of LINKS) {
      const leases = JSON.parse(await api(`/api/v1/scopes/${l.scopeId}/leases?state=active`)) as {
        items: { ipAddress: string }[];
      };
      assert.equal(leases.items.length, 3, `three leases in ${l.scopeId}`);
    }
    const missing = server.records().find((r) => r.event === 'dhcp.interface-down' && r.interface === 'eth9');
    assert.ok(missing, 'the missing interface was logged');
    assert.equal(missing.level, 'error');
  });

  test('2. broadcast bit clear: the OFFER is unicast to the client; set: broadcast (captures)', async () => {
    for (const c of captures) await c.stop();
    const l1 = clients.find((c) => c.name === 'l1-udhcpc')!;
    const mac1 = await l1.mac();
    const offers1 = (await captures[0]!.offers()).filter((o) => o.chaddr === mac1);
    assert.ok(offers1.length >= 1, `an OFFER to udhcpc on l1 in ${captures[0]!.file}`);
    for (const o of offers1) {
      assert.equal(o.broadcast, false);
      assert.equal(o.ethDst, mac1, 'Ethernet destination: the client');
      assert.equal(o.ipDst, o.yiaddr, 'IP destination: yiaddr');
    }
    const l2 = clients.find((c) => c.name === 'l2-udhcpc')!;
    const mac2 = await l2.mac();
    const offers2 = (await captures[1]!.offers()).filter((o) => o.chaddr === mac2);
    assert.ok(offers2.length >= 1, `an OFFER to udhcpc -B on l2 in ${captures[1]!.file}`);
    for (const o of offers2) {
      assert.equal(o.broadcast, true);
      assert.equal(o.ethDst, 'ff:ff:ff:ff:ff:ff');
      assert.equal(o.ipDst, '255.255.255.255');
    }
  });

  test('3. the ping check skips the address a squatter answers for', async () => {
    assert.ok(![...bound.values()].some((b) => b.ip === SQUATTED), `nobody got ${SQUATTED}`);
    const line = server.records().find((r) => r.event === 'dhcp.address-in-use' && r.address === SQUATTED);
    assert.ok(line, 'dhcp.address-in-use logged for the squatted address');
    const lease = JSON.parse(await api(`/api/v1/leases/${SQUATTED}`)) as {
      bindingState?: string;
      items?: unknown[];
    };
    const state = lease.bindingState ?? JSON.stringify(lease);
    assert.match(String(state), /abandoned/);
  });

  test('4. an interface that goes down: logged, shown down, the others keep serving; back up: served', async () => {
    await run('ip', ['-n', DIRECT_NS.srv, 'link', 'set', 'eth3', 'down']);
    await server.waitForLog(
      'eth3 down',
      (r) => r.event === 'dhcp.interface-down' && r.interface === 'eth3',
      10_000,
    );
    const metric = async (name: string) =>
      (await api('/metrics'))
        .split('\n')
        .find((l) => l.startsWith(`twinlease_dhcp4_interface_up{interface="${name}"}`));
    assert.match((await metric('eth3')) ?? '', / 0$/);
    assert.match((await metric('eth1')) ?? '', / 1$/);
    // Link 1 still serves: a new client there gets a lease.
    const fresh = clients.find((c) => c.name === 'l1-udhcpc')!;
    await fresh.stop();
    await run('ip', ['-n', fresh.ns, 'addr', 'flush', 'dev', fresh.ifname], { check: false });
    writeFileSync(fresh.events, '');
    fresh.start();
    const again = await fresh.waitBound(30_000);
    assert.ok(again.ip.startsWith('10.91.0.'));
    await run('ip', ['-n', DIRECT_NS.srv, 'link', 'set', 'eth3', 'up']);
    // A second dhcp.interface-up for eth3 (the first was at start).
    await waitUntil(
      'eth3 served again',
      () =>
        server.records().filter((r) => r.event === 'dhcp.interface-up' && r.interface === 'eth3').length >= 2,
      15_000,
    );
    assert.match((await metric('eth3')) ?? '', / 1$/);
    assert.deepEqual(
      server.errors().filter((r) => r.event !== 'dhcp.interface-down'),
      [],
      'no other error in the server log',
    );
  });
});
