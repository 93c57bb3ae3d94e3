// Hub and spoke (issue 19): one Twinlease hub in four failover relationships, with three Twinlease
// branch servers (hot standby, each branch the active primary) and one ISC dhcpd 4.4 branch (load
// balance, dhcpd primary), every failover endpoint on TCP 647, each server in its own namespace
// (lib/hub-topology.ts). Clients are relayed to their branch server only. Checked:
//   1. every relationship reaches NORMAL on the hub, one listener serves all four;
//   2. leases made at every branch replicate to the hub, into that branch's scope; per-relationship
//      statistics on the hub (granted by the partner) and on the branches (granted here) agree;
//   3. kill -9 of one branch: only its relationship leaves NORMAL (COMMUNICATIONS-INTERRUPTED); the
//      other three, ISC's included, stay NORMAL throughout;
//   4. the killed branch restarted with another branch's relationship name: refused, logged as such
//      and counted; the named relationship is untouched; restarted with its own: NORMAL again;
//   5. a connection from an address that is no partner: refused, counted, nothing else changes.

import './lib/hub-prefix.js';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { clientBucket, hbaFromSplit, isBucketSet } from '../../src/failover/hash-bucket.js';
import { fromHex } from '../../src/wire/ipv4.js';
import { ApiUnreachable, apiGetText } from './lib/api-get.js';
import { DhcpMessageType, DhcpTestClient, testMac } from './lib/dhcp-test-client.js';
import { e2eSkipReason } from './lib/env.js';
import { HUB_ADDR, HUB_NS, hubTopologyDown, hubTopologyUp, RELAYS } from './lib/hub-topology.js';
import { IscDhcpd, type IscPeerConfig } from './lib/isc-dhcpd.js';
import type { ApiLease, RelationshipView, ScopeStatistics, Status } from './lib/pair.js';
import { run, sleep, waitUntil } from './lib/proc.js';
import { makeWorkDir, TwinleaseServer } from './lib/server.js';

const skip = e2eSkipReason(['ss', 'curl', 'dhcpd']);

const PORT = 647;
const API_PORT = 8067;
const MCLT_SECONDS = 30;
const RECEIVE_TIMER_SECONDS = 6;
const LEASES_PER_BRANCH = 6;

interface Branch {
  index: number;
  kind: 'twinlease' | 'isc';
  relationship: string;
  ns: string;
  address: string;
  relay: string;
  scopeId: string;
  subnet: string;
  poolStart: string;
  poolEnd: string;
  token: string;
}

const BRANCHES: Branch[] = (['b1', 'b2', 'b3', 'isc'] as const).map((key, k) => ({
  index: k,
  kind: key === 'isc' ? 'isc' : 'twinlease',
  relationship: key === 'isc' ? 'branch-isc' : `branch-${k + 1}`,
  ns: HUB_NS[key],
  address: HUB_ADDR[key],
  relay: RELAYS[k]!,
  scopeId: `branch-${key}`,
  subnet: `10.8${k + 1}.0.0/24`,
  poolStart: `10.8${k + 1}.0.10`,
  poolEnd: `10.8${k + 1}.0.59`,
  token: `branch-${key}-e2e-token-0123456789`,
}));
const HUB_TOKEN = 'hub-e2e-token-0123456789abcdef';
const TWINLEASE_BRANCHES = BRANCHES.filter((b) => b.kind === 'twinlease');
const ISC_BRANCH = BRANCHES.find((b) => b.kind === 'isc')!;

const scopeOf = (b: Branch) => ({
  id: b.scopeId,
  subnet: b.subnet,
  ranges: [{ start: b.poolStart, end: b.poolEnd }],
  leaseTimeSeconds: 600,
  options: [{ name: 'routers', data: b.relay }],
});

/** The relationship as one side writes it: the hub is the secondary of every branch. */
function relationshipOf(b: Branch, side: 'hub' | 'branch', name = b.relationship) {
  const isHub = side === 'hub';
  return {
    name,
    role: isHub ? ('secondary' as const) : ('primary' as const),
    ...(b.kind === 'isc'
      ? { mode: 'loadBalance' as const, loadBalancePercent: 50, hbaBitMeaning: 'primary' as const }
      : { mode: 'hotStandby' as const }),
    mcltSeconds: MCLT_SECONDS,
    receiveTimerSeconds: RECEIVE_TIMER_SECONDS,
    autoStateTransition: false,
    auth: 'none' as const,
    local: { address: isHub ? HUB_ADDR.hub : b.address, port: PORT },
    partner: { address: isHub ? b.address : HUB_ADDR.hub, port: PORT },
    scopeIds: [b.scopeId],
  };
}

function serverConfig(
  dir: string,
  name: string,
  address: string,
  token: string,
  rest: Partial<Config>,
): Config {
  return {
    server: { name, serverIdentifier: address },
    dhcp: { interface: 'eth0', broadcastAddress: '10.78.255.255' },
    leaseStore: { path: join(dir, 'leases.db') },
    logging: { level: 'debug' },
    api: { listenAddress: address, port: API_PORT, tokens: [{ name: 'e2e', token }] },
    scopes: [],
    ...rest,
  };
}

const hubConfig = (dir: string): Config =>
  serverConfig(dir, 'tl-hub', HUB_ADDR.hub, HUB_TOKEN, {
    scopes: BRANCHES.map(scopeOf),
    failover: BRANCHES.map((b) => relationshipOf(b, 'hub')),
  });

const branchConfig = (dir: string, b: Branch, name = b.relationship): Config =>
  serverConfig(dir, `tl-${b.scopeId}`, b.address, b.token, {
    scopes: [scopeOf(b)],
    failover: [relationshipOf(b, 'branch', name)],
  });

/** dhcpd.conf of the ISC branch: its LAN, its branch subnet with the failover pool. */
function iscConfText(b: Branch): string {
  return `# generated by test/e2e/hub.test.ts
ddns-update-style none;
authoritative;
ping-check false;
dhcp-cache-threshold 0;
default-lease-time 600;
max-lease-time 600;
failover peer "${b.relationship}" {
  primary;
  address ${b.address};
  port ${PORT};
  peer address ${HUB_ADDR.hub};
  peer port ${PORT};
  max-response-delay ${RECEIVE_TIMER_SECONDS};
  max-unacked-updates 10;
  load balance max seconds 5;
  mclt ${MCLT_SECONDS};
  split 128;
}
subnet 10.78.0.0 netmask 255.255.0.0 {
}
subnet ${b.subnet.replace('/24', '')} netmask 255.255.255.0 {
  option routers ${b.relay};
  pool {
    failover peer "${b.relationship}";
    range ${b.poolStart} ${b.poolEnd};
  }
}
`;
}

const ISC_PEER: IscPeerConfig = {
  name: ISC_BRANCH.relationship,
  role: 'primary',
  address: ISC_BRANCH.address,
  peerAddress: HUB_ADDR.hub,
  port: PORT,
  peerPort: PORT,
  maxResponseDelaySeconds: RECEIVE_TIMER_SECONDS,
  maxUnackedUpdates: 10,
  mcltSeconds: MCLT_SECONDS,
  split: 128,
  loadBalanceMaxSeconds: 5,
  poolStart: ISC_BRANCH.poolStart,
  poolEnd: ISC_BRANCH.poolEnd,
  leaseTimeSeconds: 600,
};

/** A management API over curl from $PFX-cli (the only namespace that reaches every server). */
class Api {
  constructor(
    readonly address: string,
    readonly token: string,
  ) {}
  async get<T>(path: string): Promise<T> {
    return JSON.parse(await apiGetText(`http://${this.address}:${API_PORT}`, this.token, path)) as T;
  }
  text(path: string): Promise<string> {
    return apiGetText(`http://${this.address}:${API_PORT}`, this.token, path);
  }
  async waitUp(server: TwinleaseServer, timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      `API of ${this.address}`,
      async () => {
        if (!server.isRunning) throw new Error(`server exited: ${server.tail(20)}`);
        try {
          await this.get('/api/v1/status');
          return true;
        } catch (err) {
          if (err instanceof ApiUnreachable) return false;
          throw err;
        }
      },
      timeoutMs,
    );
  }
  async relationships(): Promise<Map<string, RelationshipView>> {
    const s = await this.get<Status>('/api/v1/status');
    return new Map(s.relationships.map((r) => [r.name, r]));
  }
  async activeLeases(scopeId: string): Promise<ApiLease[]> {
    const list = await this.get<{ items: ApiLease[] }>(
      `/api/v1/scopes/${scopeId}/leases?state=active&limit=1000`,
    );
    return list.items;
  }
}

/** Clients whose RFC 3074 bucket is the ISC primary's under split 128 (it answers them in NORMAL). */
function iscPrimaryMacs(count: number): string[] {
  const hba = hbaFromSplit(128);
  const out: string[] = [];
  for (let n = 0; out.length < count; n++) {
    const mac = testMac(0x84, n);
    const chaddr = fromHex(mac);
    if (isBucketSet(hba, clientBucket(null, chaddr, chaddr.length))) out.push(mac);
  }
  return out;
}

describe('hub and spoke: four relationships on port 647', { skip: skip ?? false, timeout: 300_000 }, () => {
  const dir = makeWorkDir('hub');
  let client: DhcpTestClient;
  let hub: TwinleaseServer;
  const hubApi = new Api(HUB_ADDR.hub, HUB_TOKEN);
  const branches = new Map<string, TwinleaseServer>();
  let dhcpd: IscDhcpd;
  /** MACs leased at each branch (relationship name → MAC → address). */
  const leased = new Map<string, Map<string, string>>();

  const branchDir = (b: Branch) => {
    const d = join(dir, b.scopeId);
    mkdirSync(d, { recursive: true });
    return d;
  };

  before(async () => {
    await hubTopologyUp();
    mkdirSync(join(dir, 'hub'), { recursive: true });
    hub = new TwinleaseServer(join(dir, 'hub'), hubConfig(join(dir, 'hub')), HUB_NS.hub);
    await hub.start();
    await hubApi.waitUp(hub);
    for (const b of TWINLEASE_BRANCHES) {
      const d = branchDir(b);
      const s = new TwinleaseServer(d, branchConfig(d, b), b.ns);
      branches.set(b.relationship, s);
      await s.start();
    }
    dhcpd = new IscDhcpd(branchDir(ISC_BRANCH), ISC_BRANCH.ns, ISC_PEER, iscConfText(ISC_BRANCH));
    await dhcpd.check();
    await dhcpd.start();
    client = await DhcpTestClient.start({
      ns: HUB_NS.cli,
      giaddr: RELAYS[0]!,
      server: HUB_ADDR.hub,
      attemptTimeoutMs: 1000,
      attempts: 3,
    });
  });

  after(async () => {
    await client?.close().catch(() => {});
    for (const s of branches.values()) await s.stop().catch(() => {});
    await dhcpd?.stop().catch(() => {});
    await hub?.stop().catch(() => {});
    dhcpd?.saveLog();
    await hubTopologyDown();
    console.log(`# logs: ${dir}`);
  });

  const describeHub = async () => {
    const rels = await hubApi.relationships().catch(() => new Map<string, RelationshipView>());
    return [...rels.values()].map((r) => `${r.name}=${r.state}/${r.connection}`).join(' ');
  };

  test('1. every relationship reaches NORMAL on the hub; one listener serves them all', async () => {
    await waitUntil(
      'all four relationships normal on the hub',
      async () => {
        const rels = await hubApi.relationships();
        return BRANCHES.every((b) => rels.get(b.relationship)?.state === 'normal');
      },
      90_000,
      500,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}: ${await describeHub()}\ndhcpd: ${dhcpd.describeStates()}\n${hub.tail(30)}`,
      );
    });
    await dhcpd.waitState('normal', 30_000);
    const listeners = await hubApi.get<{
      items: { listen: string; relationships: string[]; matched: number }[];
    }>('/api/v1/failover/listeners');
    assert.deepEqual(
      listeners.items.map((l) => [l.listen, [...l.relationships].sort()]),
      [[`${HUB_ADDR.hub}:${PORT}`, BRANCHES.map((b) => b.relationship).sort()]],
    );
    assert.ok(listeners.items[0]!.matched >= 1, 'the branches connected in');
  });

  test('2. leases from every branch reach the hub in their scope; statistics per relationship agree', async () => {
    for (const b of BRANCHES) {
      const macs =
        b.kind === 'isc'
          ? iscPrimaryMacs(LEASES_PER_BRANCH)
          : Array.from({ length: LEASES_PER_BRANCH }, (_, n) => testMac(0x80 + b.index, n));
      const got = new Map<string, string>();
      for (const mac of macs) {
        const r = await client.dora(mac, { giaddr: b.relay, to: b.address });
        assert.equal(
          r.reply?.type,
          DhcpMessageType.Ack,
          `ACK from ${b.relationship} for ${mac} (offer ${r.offer?.yiaddr ?? 'none'})`,
        );
        assert.equal(r.reply?.serverId, b.address);
        got.set(mac, r.reply!.yiaddr);
      }
      leased.set(b.relationship, got);
    }
    for (const b of BRANCHES) {
      const want = leased.get(b.relationship)!;
      const onHub = await waitUntil(
        `${b.relationship}'s ${want.size} leases on the hub`,
        async () => {
          const leases = await hubApi.activeLeases(b.scopeId);
          const byMac = new Map(leases.map((l) => [l.hardwareAddress.mac?.replaceAll(':', '') ?? '', l]));
          return [...want].every(([mac, ip]) => byMac.get(mac)?.ipAddress === ip) ? leases : undefined;
        },
        30_000,
        500,
      );
      assert.equal(onHub.length, want.size, `${b.relationship}: only its own clients in ${b.scopeId}`);
      const stats = await hubApi.get<ScopeStatistics>(
        `/api/v1/failover/relationships/${b.relationship}/statistics`,
      );
      assert.equal(
        stats.partnerAddrInUse,
        want.size,
        `${b.relationship}: granted by the branch, seen on the hub`,
      );
      assert.equal(stats.thisAddrInUse, 0, `${b.relationship}: the hub granted none`);
      assert.equal(stats.addrInUse, want.size);
      assert.equal(stats.numAddr, 50);
      // Another branch's scope holds none of these clients.
      for (const other of BRANCHES.filter((o) => o !== b)) {
        const theirs = await hubApi.activeLeases(other.scopeId);
        assert.ok(theirs.every((l) => !want.has(l.hardwareAddress.mac?.replaceAll(':', '') ?? '')));
      }
    }
    for (const b of TWINLEASE_BRANCHES) {
      const api = new Api(b.address, b.token);
      const stats = await api.get<ScopeStatistics>(`/api/v1/scopes/${b.scopeId}/failover-statistics`);
      assert.equal(stats.thisAddrInUse, LEASES_PER_BRANCH, `${b.relationship}: granted at the branch`);
      assert.equal(stats.partnerAddrInUse, 0);
    }
    // dhcpd has them too (its lease file), as active.
    const isc = dhcpd.leaseFile();
    for (const [mac, ip] of leased.get(ISC_BRANCH.relationship)!) {
      assert.equal(isc.leases.get(ip)?.bindingState, 'active', `dhcpd: ${ip}`);
      assert.equal(isc.leases.get(ip)?.mac?.replaceAll(':', ''), mac);
    }
    // Per-relationship counters on the hub: each received its own branch's updates.
    const rels = await hubApi.get<{ items: { name: string; counters: Record<string, number> }[] }>(
      '/api/v1/failover/relationships',
    );
    for (const r of rels.items) {
      assert.ok((r.counters.bindingUpdatesReceived ?? 0) >= LEASES_PER_BRANCH, `${r.name} counters`);
      assert.equal(r.counters.connectNameMismatches, 0);
    }
  });

  test('3. kill -9 of one branch: only its relationship goes COMMUNICATIONS-INTERRUPTED', async () => {
    const victim = TWINLEASE_BRANCHES[1]!;
    await branches.get(victim.relationship)!.kill9();
    const samples: string[] = [];
    const deadline = Date.now() + 8_000;
    let sawInterrupted = false;
    while (Date.now() < deadline || !sawInterrupted) {
      const rels = await hubApi.relationships();
      samples.push(BRANCHES.map((b) => `${b.relationship}=${rels.get(b.relationship)?.state}`).join(' '));
      for (const b of BRANCHES) {
        const state = rels.get(b.relationship)?.state;
        if (b === victim) {
          if (state === 'communicationsInterrupted') sawInterrupted = true;
          else
            assert.equal(state, 'normal', `${b.relationship} before the interruption: ${samples.join('\n')}`);
        } else assert.equal(state, 'normal', `${b.relationship} must stay normal:\n${samples.join('\n')}`);
      }
      if (Date.now() > deadline + 20_000) break;
      await sleep(250);
    }
    assert.ok(sawInterrupted, `the killed branch's relationship never left normal:\n${samples.join('\n')}`);
    const filtered = await hubApi.get<{ items: { name: string }[] }>(
      '/api/v1/failover/relationships?state=communicationsInterrupted',
    );
    assert.deepEqual(
      filtered.items.map((r) => r.name),
      [victim.relationship],
    );
    assert.equal(dhcpd.myState(), 'normal', 'dhcpd saw nothing of it');
    const down = await hubApi.get<{ items: { name: string }[] }>(
      '/api/v1/failover/relationships?connection=down',
    );
    assert.deepEqual(
      down.items.map((r) => r.name),
      [victim.relationship],
    );
  });

  test("4. the killed branch back with another branch's relationship name: refused, named, counted; then its own", async () => {
    const victim = TWINLEASE_BRANCHES[1]!;
    const named = TWINLEASE_BRANCHES[0]!;
    const s = branches.get(victim.relationship)!;
    s.writeConfig(branchConfig(s.dir, victim, named.relationship));
    await s.start();
    await hub.waitForLog(
      'failover.connect-name-of-another-partner',
      (r) =>
        r.event === 'failover.connect-name-of-another-partner' &&
        r.relationship === victim.relationship &&
        r.namedRelationship === named.relationship &&
        r.namedRelationshipPartner === named.address,
      30_000,
    );
    const rels = await hubApi.relationships();
    assert.equal(rels.get(named.relationship)?.state, 'normal', 'the relationship whose name was used');
    assert.equal(rels.get(victim.relationship)?.state, 'communicationsInterrupted');
    const mine = await hubApi.get<{ counters: Record<string, number> }>(
      `/api/v1/failover/relationships/${victim.relationship}`,
    );
    assert.ok((mine.counters.connectNameMismatches ?? 0) >= 1);
    const theirs = await hubApi.get<{ counters: Record<string, number> }>(
      `/api/v1/failover/relationships/${named.relationship}`,
    );
    assert.equal(theirs.counters.connectNameMismatches, 0);
    assert.ok(
      hub
        .records()
        .some((r) => r.event === 'failover.connect-rejected' && r.relationship === victim.relationship),
      'the endpoint refused the CONNECT',
    );

    await s.stop();
    s.writeConfig(branchConfig(s.dir, victim));
    await s.start();
    await waitUntil(
      `${victim.relationship} normal again`,
      async () => (await hubApi.relationships()).get(victim.relationship)?.state === 'normal',
      60_000,
      500,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await describeHub()}\n${s.tail(20)}`);
    });
    const all = await hubApi.relationships();
    for (const b of BRANCHES) assert.equal(all.get(b.relationship)?.state, 'normal', b.relationship);
  });

  test('5. a connection from an address that is no partner is refused and counted', async () => {
    const metric = async () => {
      const text = await hubApi.text('/metrics');
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('twinlease_failover_listener_connections_total{') &&
            l.includes('outcome="unknown-peer"'),
        );
      return Number(line?.split(' ').at(-1) ?? Number.NaN);
    };
    const before = await metric();
    // From $PFX-cli (10.78.0.254): TCP to the hub's 647; the hub closes it.
    await run(
      'ip',
      [
        'netns',
        'exec',
        HUB_NS.cli,
        'bash',
        '-c',
        `exec 3<>/dev/tcp/${HUB_ADDR.hub}/${PORT}; cat <&3 >/dev/null`,
      ],
      { timeoutMs: 10_000, check: false },
    );
    await waitUntil('refusal counted', async () => (await metric()) === before + 1, 10_000, 200);
    await hub.waitForLog(
      'failover.connection-refused',
      (r) =>
        r.event === 'failover.connection-refused' &&
        r.remoteAddress === HUB_ADDR.cli &&
        r.reason === 'unknown-peer',
      10_000,
    );
    const rels = await hubApi.relationships();
    for (const b of BRANCHES) assert.equal(rels.get(b.relationship)?.state, 'normal', b.relationship);
    assert.deepEqual(
      hub.errors().map((r) => r.event),
      [],
      'no error in the hub log',
    );
  });
});
