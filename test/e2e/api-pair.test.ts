// Acceptance of the management API and the `twinlease` CLI against a REAL loopback failover pair
// (config/pair-primary.json + config/pair-secondary.json, no fakes): both servers run inside one
// throwaway network namespace (tla-pair: lo up with 127.0.0.1 and 127.0.0.2), leases are made by
// relayed DORA (giaddr 127.0.0.1), then the API is checked on BOTH servers (seed 002 relationship,
// seed 000 failover statistics counted over the lease list, seed 001 lease fields), config
// replication through partner.api, partner-down, and the CLI (tables and --json).
//
// Node cannot enter a namespace, so HTTP requests go through a small fetch agent started with
// `ip netns exec` (one JSON line per request/answer over stdio), like the UDP agent of the DHCP client.
// Set TWINLEASE_CLI_SESSION_OUT=<file> to write the CLI session (commands + output) as Markdown.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { DhcpMessageType, DhcpTestClient, testMac } from './lib/dhcp-test-client.js';
import { REPO_ROOT, TWINLEASE_BIN } from './lib/env.js';
import { LineProcess, run, sleep, waitUntil } from './lib/proc.js';

const NS = 'tla-pair';
const REL = 'demo-pair';
const RELAY = '127.0.0.3';
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespace, UDP port 67)';

// biome-ignore lint/suspicious/noExplicitAny: API bodies read field by field in assertions
type Json = Record<string, any>;

interface Side {
  role: 'primary' | 'secondary';
  name: string;
  url: string;
  token: string;
  dhcpAddress: string;
  dhcpPort: number;
  configPath: string;
  proc: LineProcess | null;
}

// ---------------------------------------------------------------------------------------------
// HTTP inside the namespace

const FETCH_AGENT = `
import { createInterface } from 'node:readline';
const rl = createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ t: 'ready' }) + '\\n');
rl.on('line', async (line) => {
  if (line.trim() === '') return;
  const q = JSON.parse(line);
  try {
    const res = await fetch(q.url, { method: q.method, headers: q.headers, body: q.body, signal: AbortSignal.timeout(10000) });
    const text = await res.text();
    process.stdout.write(JSON.stringify({ id: q.id, status: res.status, text }) + '\\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: q.id, status: 0, text: String(err?.cause?.code ?? err) }) + '\\n');
  }
});
rl.on('close', () => process.exit(0));
`;

class NsHttp {
  private nextId = 1;
  private readonly waiting = new Map<number, (a: { status: number; text: string }) => void>();
  private constructor(readonly proc: LineProcess) {
    createInterface({ input: proc.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const a = JSON.parse(line) as { id?: number; status: number; text: string };
      if (a.id === undefined) return;
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }
  static async start(): Promise<NsHttp> {
    const proc = new LineProcess('ip', [
      'netns',
      'exec',
      NS,
      process.execPath,
      '--input-type=module',
      '-e',
      FETCH_AGENT,
    ]);
    await proc.waitForLine('fetch agent ready', (l) => l.includes('"t":"ready"'), 10_000);
    return new NsHttp(proc);
  }
  request(
    method: string,
    url: string,
    token: string | null,
    body?: unknown,
  ): Promise<{ status: number; json: Json; text: string }> {
    const id = this.nextId++;
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return new Promise((resolve) => {
      this.waiting.set(id, (a) => {
        // A body that is not JSON leaves `json` empty; the assertions then read `text`.
        let json: Json = {};
        try {
          if (a.text !== '') json = JSON.parse(a.text);
        } catch {}
        resolve({ status: a.status, json, text: a.text });
      });
      this.proc.child.stdin!.write(
        `${JSON.stringify({ id, method, url, headers, body: body === undefined ? undefined : JSON.stringify(body) })}\n`,
      );
    });
  }
  async close(): Promise<void> {
    this.proc.child.stdin?.end();
    await this.proc.stop('SIGTERM', 2000);
  }
}

// ---------------------------------------------------------------------------------------------

const RELATIONSHIP_FIELDS = [
  'name',
  'recordId',
  'role',
  'mode',
  'serverRole',
  'loadBalancePercent',
  'reservePercent',
  'mcltSeconds',
  'autoStateTransition',
  'stateSwitchIntervalSeconds',
  'auth',
  'sharedSecretEnabled',
  'scopeIds',
  'local',
  'partner',
  'isRunning',
  'state',
  'stateSince',
  'partnerState',
  'partnerStateSince',
  'connection',
  'server1',
  'server2',
  'serverOwner',
  'operationTracker',
  'configurationDiffers',
];
const SERVER_FIELDS = ['role', 'isThisServer', 'address', 'name', 'recordId', 'state', 'percentage'];
const STATISTICS_FIELDS = [
  'numAddr',
  'addrFree',
  'addrInUse',
  'partnerAddrFree',
  'thisAddrFree',
  'partnerAddrInUse',
  'thisAddrInUse',
];
const LEASE_FIELDS = [
  'ipAddress',
  'scopeId',
  'subnetMask',
  'hardwareAddress',
  'clientId',
  'hostname',
  'description',
  'fqdn',
  'leaseExpiresAt',
  'leaseInfinite',
  'ownerServer',
  'clientType',
  'reserved',
  'bindingState',
  'addressState',
  'dhcidMode',
  'dns',
  'napStatus',
  'probationEndsAt',
  'napCapable',
  'sentPotentialExpiresAt',
  'ackedPotentialExpiresAt',
  'receivedPotentialExpiresAt',
  'stateStartedAt',
  'clientLastTransactionAt',
  'lastBindingUpdateAt',
  'partnerUpToDate',
  'policyName',
  'offerExpiresAt',
];
/** Fields that describe the binding itself, so both partners must agree on them. */
const REPLICATED_LEASE_FIELDS = [
  'ipAddress',
  'scopeId',
  'subnetMask',
  'hardwareAddress',
  'clientId',
  // leaseExpiresAt: compared within a second (test 3d).
  'leaseInfinite',
  'clientType',
  'reserved',
  'bindingState',
  'addressState',
];
const BINDING_STATES = ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup'];

const transcript: string[] = [];

describe('management API and CLI against a real loopback failover pair', { skip }, () => {
  let dir = '';
  let http: NsHttp | null = null;
  let client: DhcpTestClient | null = null;
  const sides: Side[] = [];
  const startedAt = Date.now();

  const primary = () => sides[0]!;
  const secondary = () => sides[1]!;
  const api = (s: Side, method: string, path: string, body?: unknown, token: string | null = s.token) =>
    http!.request(method, `${s.url}${path}`, token, body);
  const getJson = async (s: Side, path: string): Promise<Json> => {
    const r = await api(s, 'GET', path);
    assert.equal(r.status, 200, `${s.role} GET ${path}: ${r.status} ${r.text}`);
    return r.json as Json;
  };
  const relationship = (s: Side) => getJson(s, `/api/v1/failover/relationships/${REL}`);

  /** Every lease of the scope in `state` (or client leases), following nextCursor with small pages. */
  async function allLeases(s: Side, state?: string): Promise<Json[]> {
    const items: Json[] = [];
    let cursor: string | null = null;
    let total = -1;
    for (let pages = 0; pages < 500; pages++) {
      const q = new URLSearchParams({ limit: '7' });
      if (state) q.set('state', state);
      if (cursor) q.set('cursor', cursor);
      const page = await getJson(s, `/api/v1/scopes/demo/leases?${q}`);
      items.push(...(page.items as Json[]));
      total = page.total as number;
      cursor = page.nextCursor as string | null;
      if (cursor === null) break;
    }
    assert.equal(
      items.length,
      total,
      `${s.role} lease walk (${state ?? 'client leases'}) saw every match once`,
    );
    return items;
  }

  async function cli(args: string[], opts: { record?: boolean; check?: boolean } = {}) {
    const r = await run('ip', ['netns', 'exec', NS, process.execPath, TWINLEASE_BIN, ...args], {
      cwd: REPO_ROOT,
      check: opts.check ?? true,
      timeoutMs: 20_000,
      env: { ...process.env, NO_COLOR: '1', TWINLEASE_API: '', TWINLEASE_TOKEN: '' },
    });
    if (opts.record) {
      const shown = args.map((a) => (a.startsWith('replace-me-') ? '"$TOKEN"' : a)).join(' ');
      transcript.push(
        `$ twinlease ${shown}\n${(r.stdout + r.stderr).trimEnd()}${r.code === 0 ? '' : `\n(exit status ${r.code})`}`,
      );
    }
    return r;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinlease-api-pair-'));
    await run('ip', ['netns', 'del', NS], { check: false });
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', NS, 'addr', 'add', '127.0.0.2/8', 'dev', 'lo']);

    const configs = ['primary', 'secondary'].map((role) =>
      JSON.parse(readFileSync(join(REPO_ROOT, `config/pair-${role}.json`), 'utf8')),
    );
    for (const [i, role] of (['primary', 'secondary'] as const).entries()) {
      const c = configs[i]!;
      const other = configs[1 - i]!;
      delete c.$schema;
      // The servers send relayed replies to giaddr:<their dhcp.port> (the relay port is the server
      // port), and the test relay agent can only bind port 67. So inside the namespace the copies
      // use the standard port 67 on their own addresses (127.0.0.1 and 127.0.0.2) instead of the
      // shipped 6767, and the scope is selected by relay address 127.0.0.3 (as shipped), where the
      // relay agent listens on port 67. Everything else is the pair's config as shipped.
      c.dhcp.port = 67;
      c.scopes[0].relayAddresses = [RELAY];
      c.leaseStore.path = join(dir, `${role}-leases.db`);
      c.logging = { level: 'warn' };
      c.failover[0].partner.api = {
        url: `http://${other.api.listenAddress}:${other.api.port}`,
        token: other.api.tokens[0].token,
      };
      const configPath = join(dir, `${role}.json`);
      writeFileSync(configPath, `${JSON.stringify(c, null, 2)}\n`);
      sides.push({
        role,
        name: c.server.name,
        url: `http://${c.api.listenAddress}:${c.api.port}`,
        token: c.api.tokens[0].token,
        dhcpAddress: c.dhcp.listenAddress,
        dhcpPort: c.dhcp.port,
        configPath,
        proc: null,
      });
    }
    for (const s of sides) {
      s.proc = new LineProcess(
        'ip',
        ['netns', 'exec', NS, process.execPath, TWINLEASE_BIN, 'serve', '--config', s.configPath],
        { cwd: dir },
      );
    }
    http = await NsHttp.start();
    client = await DhcpTestClient.start({
      ns: NS,
      giaddr: RELAY,
      server: sides[0]!.dhcpAddress,
      bindAddress: RELAY,
      attempts: 1,
      attemptTimeoutMs: 700,
    });
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
    for (const s of sides) await s.proc?.stop('SIGTERM', 3000).catch(() => undefined);
    // Anything else still in the namespace is ours (CLI runs, agents): end it by pid.
    const pids = await run('ip', ['netns', 'pids', NS], { check: false });
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    await run('ip', ['netns', 'del', NS], { check: false });
    if (process.env.TWINLEASE_CLI_SESSION_OUT && transcript.length > 0) {
      writeFileSync(process.env.TWINLEASE_CLI_SESSION_OUT, `${transcript.join('\n\n')}\n`);
    }
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`# api-pair: ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
  });

  test('1. both servers start and report the relationship normal in GET /api/v1/status', async () => {
    for (const s of sides) {
      await waitUntil(
        `${s.role} relationship normal`,
        async () => {
          if (!s.proc!.isRunning) throw new Error(`${s.role} exited:\n${s.proc!.tail()}`);
          const r = await api(s, 'GET', '/api/v1/status');
          if (r.status !== 200) return false;
          const rel = (r.json.relationships as Json[]).find((x) => x.name === REL);
          return rel?.state === 'normal' && rel.partnerState === 'normal' && rel.connection === 'up';
        },
        30_000,
        250,
      );
    }
  });

  const clients = Array.from({ length: 10 }, (_, i) => testMac(0x7a, i + 1));
  const grantedBy = new Map<string, { side: Side; ip: string }>();

  test('2. real leases: DORA to both servers; each client is served by exactly one (its hash bucket)', async () => {
    for (const mac of clients) {
      const answered: { side: Side; ip: string }[] = [];
      for (const s of sides) {
        const offer = await client!.discover(mac, { to: s.dhcpAddress });
        if (offer === null || offer.type !== DhcpMessageType.Offer) continue;
        const ack = await client!.request(mac, {
          to: s.dhcpAddress,
          requestedAddress: offer.yiaddr,
          serverId: offer.serverId ?? s.dhcpAddress,
          attempts: 3,
        });
        assert.equal(ack?.type, DhcpMessageType.Ack, `${mac}: ACK from ${s.role} after its OFFER`);
        answered.push({ side: s, ip: ack!.yiaddr });
      }
      assert.equal(
        answered.length,
        1,
        `${mac} answered by ${answered.map((a) => a.side.role).join(', ') || 'nobody'}`,
      );
      grantedBy.set(mac, answered[0]!);
    }
    const counts = sides.map((s) => [...grantedBy.values()].filter((g) => g.side === s).length);
    assert.ok(
      counts[0]! > 0 && counts[1]! > 0,
      `both servers granted leases (primary ${counts[0]}, secondary ${counts[1]})`,
    );
    // The binding updates reach the partner: every lease is active on both.
    for (const s of sides) {
      await waitUntil(
        `${s.role} to hold all ${clients.length} leases`,
        async () => (await allLeases(s, 'active')).length === clients.length,
        10_000,
        200,
      );
    }
  });

  test('3a. seed 002: every field of the relationship on both servers, with correct values', async () => {
    const [a, b] = [await relationship(primary()), await relationship(secondary())];
    for (const [s, r] of [
      [primary(), a],
      [secondary(), b],
    ] as const) {
      for (const f of RELATIONSHIP_FIELDS) assert.ok(f in r, `${s.role}: relationship field ${f}`);
      for (const k of ['server1', 'server2'])
        for (const f of SERVER_FIELDS) assert.ok(f in r[k], `${s.role}: ${k}.${f}`);
      assert.equal(r.name, REL);
      assert.equal(r.role, s.role);
      assert.equal(r.mode, 'loadBalance');
      assert.equal(r.mcltSeconds, 600);
      assert.equal(r.loadBalancePercent, 50);
      assert.equal(r.autoStateTransition, false);
      assert.equal(r.stateSwitchIntervalSeconds, null);
      assert.equal(r.auth, 'hmacSha256');
      assert.equal(r.sharedSecretEnabled, true);
      assert.ok(!JSON.stringify(r).includes('replace-me-with-a-long-random-secret'), 'secret never returned');
      assert.ok(!('sharedSecret' in r), 'no sharedSecret property');
      assert.ok(!JSON.stringify(r).includes('replace-me-'), 'no token returned');
      assert.equal(r.partner.api.isTokenConfigured, true);
      assert.deepEqual(r.scopeIds, ['demo']);
      assert.equal(r.isRunning, true);
      assert.equal(r.state, 'normal');
      assert.equal(r.partnerState, 'normal');
      assert.equal(r.connection.status, 'up');
      assert.equal(r.server1.role, 'primary');
      assert.equal(r.server2.role, 'secondary');
      assert.equal(r.server1.name, 'dhcp-a');
      assert.equal(r.server2.name, 'dhcp-b');
      assert.equal(r.server1.address, '127.0.0.1');
      assert.equal(r.server2.address, '127.0.0.1');
      assert.equal(r.server1.isThisServer, s.role === 'primary');
      assert.equal(r.server2.isThisServer, s.role === 'secondary');
      assert.equal(r.server1.state, 'normal');
      assert.equal(r.server2.state, 'normal');
      assert.equal(r.server1.percentage + r.server2.percentage, 100);
      assert.equal(r.server1.percentage, 50);
      assert.equal(r.serverOwner, null, 'no operation yet');
      assert.deepEqual(r.operationTracker, []);
      assert.ok(Number.isSafeInteger(r.recordId) && r.recordId > 0);
    }
    // Same relationship seen from both ends: equal ids, mirrored servers.
    assert.equal(a.recordId, b.recordId, 'relationship recordId equal on both partners');
    assert.deepEqual(a.server1, { ...b.server1, isThisServer: true });
    assert.deepEqual(a.server2, { ...b.server2, isThisServer: false });
  });

  test('3b. Server1RecordId and Server2RecordId identify two different servers', async () => {
    const r = await relationship(primary());
    assert.notEqual(r.server1.recordId, r.server2.recordId);
  });

  test('3c. seed 000: failover statistics equal a count over the lease list, mirrored between the servers', async () => {
    const stats: Json[] = [];
    for (const s of sides) {
      const st = await getJson(s, '/api/v1/scopes/demo/failover-statistics');
      for (const f of STATISTICS_FIELDS)
        assert.ok(Number.isInteger(st[f]), `${s.role}: statistics field ${f}`);
      const byState: Record<string, Json[]> = {};
      for (const state of BINDING_STATES) byState[state] = await allLeases(s, state);
      const records = Object.values(byState).reduce((n, l) => n + l.length, 0);
      const active = byState.active!;
      const mine = active.filter((l) => l.ownerServer.name === s.name).length;
      const free = byState.free!.length + (st.numAddr - records); // FREE records + never-used addresses
      const backup = byState.backup!.length;
      const awaiting = byState.expired!.length + byState.released!.length + byState.reset!.length;
      assert.equal(st.numAddr, 101, '192.168.77.100-200');
      assert.equal(st.addrInUse, active.length, `${s.role}: addrInUse = active leases`);
      assert.equal(st.addrInUse, clients.length);
      assert.equal(st.addrAbandoned, byState.abandoned!.length);
      assert.equal(st.addrAwaitingAck, awaiting);
      assert.equal(st.addrFree, free + backup, `${s.role}: addrFree = FREE + BACKUP`);
      assert.equal(st.thisAddrFree, s.role === 'primary' ? free : backup, `${s.role}: thisAddrFree`);
      assert.equal(st.partnerAddrFree, s.role === 'primary' ? backup : free, `${s.role}: partnerAddrFree`);
      assert.equal(st.thisAddrInUse, mine, `${s.role}: thisAddrInUse = active leases owned by ${s.name}`);
      assert.equal(st.partnerAddrInUse, active.length - mine);
      assert.equal(
        st.thisAddrInUse,
        [...grantedBy.values()].filter((g) => g.side === s).length,
        `${s.role}: thisAddrInUse = leases it ACKed`,
      );
      // The client-lease list (default filter) holds exactly the active ones here.
      assert.equal((await allLeases(s)).length, active.length);
      stats.push(st);
    }
    const [a, b] = stats as [Json, Json];
    for (const f of ['numAddr', 'addrFree', 'addrInUse', 'addrAbandoned', 'addrAwaitingAck'])
      assert.equal(a[f], b[f], `${f} equal on both`);
    assert.equal(a.thisAddrFree, b.partnerAddrFree, 'free split mirrored');
    assert.equal(a.partnerAddrFree, b.thisAddrFree, 'free split mirrored');
    assert.equal(a.thisAddrInUse, b.partnerAddrInUse, 'in-use split mirrored');
    assert.equal(a.partnerAddrInUse, b.thisAddrInUse, 'in-use split mirrored');
  });

  test('3d. seed 001: every field of a client lease, replicated fields equal on both servers', async () => {
    for (const [mac, g] of grantedBy) {
      const [a, b] = [
        await getJson(primary(), `/api/v1/scopes/demo/leases/${g.ip}`),
        await getJson(secondary(), `/api/v1/scopes/demo/leases/${g.ip}/failover`),
      ];
      for (const [s, l] of [
        [primary(), a],
        [secondary(), b],
      ] as const) {
        for (const f of LEASE_FIELDS) assert.ok(f in l, `${s.role} lease ${g.ip}: field ${f}`);
        assert.equal(l.hardwareAddress.mac, mac.match(/../g)!.join(':'));
        assert.equal(l.hardwareAddress.htype, 1);
        assert.equal(l.subnetMask, '255.255.255.0');
        assert.equal(l.bindingState, 'active');
        assert.equal(l.addressState, 'active');
        assert.equal(l.clientType, 'dhcp');
        assert.equal(l.reserved, false);
        assert.equal(l.napStatus, 'noQuarInfo');
        assert.equal(l.ownerServer.name, g.side.name, `${s.role}: owner of ${g.ip}`);
        // OwnerHost address: the owner's server identifier (own leases) or its failover address
        // (the relationship's Server1/Server2 address): both are 127.0.0.x here.
        assert.ok(
          ['127.0.0.1', '127.0.0.2'].includes(l.ownerServer.address),
          `${s.role}: owner address of ${g.ip}: ${l.ownerServer.address}`,
        );
      }
      for (const f of REPLICATED_LEASE_FIELDS) assert.deepEqual(a[f], b[f], `${g.ip}: ${f} equal on both`);
      // The partner moves a received time onto its own timeline by the offset it measured on the
      // connection, from whole-second clock readings (src/failover/partner-clock.ts): a first
      // sample read across a second boundary makes it one second off for that connection (seen in
      // a fresh-clone CI run: 08:50:18 against 08:50:17). More than a second apart is a defect.
      const apartMs = Math.abs(Date.parse(a.leaseExpiresAt) - Date.parse(b.leaseExpiresAt));
      assert.ok(apartMs <= 1000, `${g.ip}: leaseExpiresAt ${a.leaseExpiresAt} / ${b.leaseExpiresAt}`);
      assert.equal(a.ownerServer.name, b.ownerServer.name, `${g.ip}: ownerServer.name equal on both`);
    }
  });

  test('3d2. ownerServer.address of a lease is the same on both servers', async () => {
    for (const g of grantedBy.values()) {
      const a = await getJson(primary(), `/api/v1/scopes/demo/leases/${g.ip}`);
      const b = await getJson(secondary(), `/api/v1/scopes/demo/leases/${g.ip}`);
      assert.deepEqual(a.ownerServer, b.ownerServer, `${g.ip}: ownerServer equal on both`);
    }
  });

  test('3e. 401 for an unauthenticated write, 400 with a JSON path for an invalid PATCH body', async () => {
    for (const s of sides) {
      const noAuth = await api(
        s,
        'PATCH',
        `/api/v1/failover/relationships/${REL}`,
        { mcltSeconds: 700 },
        null,
      );
      assert.equal(noAuth.status, 401);
      assert.equal(noAuth.json.error, 'unauthorized');
      const wrong = await api(s, 'POST', '/api/v1/config/reload', {}, 'not-a-token-0123456789');
      assert.equal(wrong.status, 401);
      const bad = await api(s, 'PATCH', `/api/v1/failover/relationships/${REL}`, { mcltSeconds: 'ten' });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error, 'invalid-request');
      assert.equal(bad.json.path, '/body/mcltSeconds');
      const unknown = await api(s, 'PATCH', `/api/v1/failover/relationships/${REL}`, { colour: 'red' });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json.path, '/body/colour');
      // Nothing was written.
      assert.equal((await relationship(s)).mcltSeconds, 600);
    }
  });

  test('4. replication: PUT a scope option on the primary, replicate, the secondary has the same config', async () => {
    const before = await getJson(primary(), '/api/v1/scopes/demo/config');
    const changed = {
      ...before,
      options: [
        { name: 'routers', data: '192.168.77.254' },
        { name: 'domainName', data: 'pair.example.test' },
      ],
    };
    const put = await api(primary(), 'PUT', '/api/v1/scopes/demo/config', changed);
    assert.equal(put.status, 200, put.text);
    const afterPut = await getJson(primary(), '/api/v1/scopes/demo/config');
    assert.deepEqual(afterPut.options, changed.options);
    assert.equal((await relationship(primary())).configurationDiffers, true, 'differs before replicate');

    const rep = await api(primary(), 'POST', `/api/v1/failover/relationships/${REL}/actions/replicate`, {});
    assert.equal(rep.status, 200, rep.text);
    assert.deepEqual(
      rep.json.items.map((i: Json) => [i.scopeId, i.result]),
      [['demo', 'updated']],
      rep.text,
    );
    assert.deepEqual(await getJson(secondary(), '/api/v1/scopes/demo/config'), afterPut);
    const onDisk = JSON.parse(readFileSync(secondary().configPath, 'utf8'));
    assert.deepEqual(onDisk.scopes[0].options, changed.options, "the secondary's config file was written");
    assert.equal((await relationship(primary())).configurationDiffers, false);
    assert.equal((await relationship(secondary())).configurationDiffers, false);
    const again = await api(primary(), 'POST', `/api/v1/failover/relationships/${REL}/actions/replicate`, {});
    assert.deepEqual(again.json.items[0].result, 'identical');
    const tracked = (await relationship(primary())).operationTracker as Json[];
    assert.equal(tracked[0]?.operation, 'replicate');
    assert.equal((await relationship(primary())).serverOwner, 'dhcp-a');
    // The pair is still normal after the reloads.
    for (const s of sides) assert.equal((await relationship(s)).state, 'normal');
  });

  test('5. CLI against the running pair: tables, --json equal to the API, clear errors', async () => {
    const p = primary();
    const base = ['--api', p.url, '--token', p.token];
    const get = await cli([...base, 'failover', 'get', '--name', REL], { record: true });
    assert.match(get.stdout, /demo-pair/);
    assert.match(get.stdout, /dhcp-b/);
    assert.doesNotMatch(get.stdout, /replace-me-/);
    const stats = await cli([...base, 'failover', 'stats'], { record: true });
    assert.match(stats.stdout, /demo/);
    const list = await cli([...base, 'lease', 'list', '--scope', 'demo'], { record: true });
    for (const g of grantedBy.values()) assert.ok(list.stdout.includes(g.ip), `lease list shows ${g.ip}`);
    const status = await cli([...base, 'status'], { record: true });
    assert.match(status.stdout, /dhcp-a/);
    assert.match(status.stdout, /normal/);
    await cli(
      ['--api', secondary().url, '--token', secondary().token, 'failover', 'stats', '--scope', 'demo'],
      {
        record: true,
      },
    );

    // --json is the API's answer (volatile fields aside). partnerStateHeardAt is the time of the
    // partner's last message (a CONTACT every few seconds): the CLI's request and ours, seconds
    // apart on a loaded host, may fall either side of one.
    const strip = (o: Json): Json => {
      const c = structuredClone(o);
      for (const k of ['now', 'uptimeSeconds', 'counters', 'connection', 'partnerStateHeardAt']) delete c[k];
      for (const r of (c.relationships as Json[] | undefined) ?? []) {
        delete r.lastContactAt;
        delete r.partnerStateHeardAt;
      }
      return c;
    };
    const jGet = JSON.parse((await cli([...base, '--json', 'failover', 'get', '--name', REL])).stdout);
    assert.deepEqual(strip(jGet), strip(await relationship(p)));
    const jStats = JSON.parse((await cli([...base, '--json', 'stats', '--scope', 'demo'])).stdout);
    assert.deepEqual(jStats, await getJson(p, '/api/v1/scopes/demo/statistics'));
    const jList = JSON.parse((await cli([...base, '--json', 'lease', 'list', '--scope', 'demo'])).stdout);
    const apiList = await getJson(p, '/api/v1/scopes/demo/leases?limit=1000');
    assert.deepEqual(jList.items ?? jList, apiList.items);
    const jStatus = JSON.parse((await cli([...base, '--json', 'status'])).stdout);
    assert.deepEqual(strip(jStatus), strip(await getJson(p, '/api/v1/status')));

    const wrong = await cli(['--api', p.url, '--token', 'wrong-token-0123456789', 'status'], {
      record: true,
      check: false,
    });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unknown token/);
    assert.equal(wrong.stdout, '');
  });

  test('6a. partner-down on a NORMAL server is refused with 409 (the partner is up: declaring it down would let both allocate the whole pool)', async () => {
    // Asked of the secondary, which is killed next, so a wrong 200 cannot spoil the next step.
    const r = await api(
      secondary(),
      'POST',
      `/api/v1/failover/relationships/${REL}/actions/partner-down`,
      {},
    );
    assert.equal(r.status, 409, `expected 409 invalid-state, got ${r.status}: ${r.json?.state ?? r.text}`);
    assert.equal(r.json.error, 'invalid-state');
  });

  test('6b. kill -9 the secondary; partner-down through the API on the primary → partnerDown', async (t) => {
    const s = secondary();
    s.proc!.child.kill('SIGKILL');
    await s.proc!.waitExit(5000);
    const seen: string[] = [];
    const ci = await waitUntil(
      'primary communicationsInterrupted',
      async () => {
        const r = await relationship(primary());
        if (seen.at(-1) !== r.state) seen.push(r.state);
        return r.state === 'communicationsInterrupted' ? r : false;
      },
      15_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; primary states seen: ${seen.join(' → ')}`);
    });
    assert.equal(ci.connection.status, 'down');
    t.diagnostic(`primary states after kill -9 of the secondary: ${seen.join(' → ')}`);
    const pd = await api(primary(), 'POST', `/api/v1/failover/relationships/${REL}/actions/partner-down`, {});
    assert.equal(pd.status, 200, pd.text);
    assert.equal(pd.json.state, 'partnerDown');
    assert.equal(pd.json.server1.state, 'partnerDown');
    assert.equal(pd.json.operationTracker[0].operation, 'partnerDown');
    assert.equal(pd.json.operationTracker[0].tokenName, 'ops');
    const status = await getJson(primary(), '/api/v1/status');
    assert.equal(status.relationships[0].state, 'partnerDown');
    // The CLI on the stopped server: a clear error.
    const down = await cli(['--api', s.url, '--token', s.token, 'status'], { record: true, check: false });
    assert.notEqual(down.code, 0);
    assert.match(
      down.stderr,
      /cannot reach the Twinlease API at http:\/\/127\.0\.0\.1:8068: connection refused/,
    );
    await cli(['--api', primary().url, '--token', primary().token, 'failover', 'get'], { record: true });
    await sleep(0);
  });
});
