// The management API over real HTTP against a real server: real DHCP packets over UDP make the
// leases, the SQLite lease store is the reference for what the API reports.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Lease } from '../../src/dhcp/lease.js';
import { openSqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import {
  type ClientSpec,
  eventually,
  http,
  mac,
  parsePrometheusText,
  READ_TOKEN,
  RELAY_LAB,
  RELAY_OFFICE,
  Relay,
  SERVER_NAME,
  sampleValue,
  startTestServer,
  type TestServer,
  WRITE_TOKEN,
} from './helpers.js';

type Json = Record<string, unknown>;
type ApiLease = Json & { ipAddress: string; addressState: string | null; bindingState: string };
type LeaseList = { items: ApiLease[]; total: number; nextCursor: string | null };

const SEED_001_FIELDS = [
  'ipAddress',
  'subnetMask',
  'hardwareAddress',
  'clientId',
  'hostname',
  'description',
  'leaseExpiresAt',
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
];

const STATISTICS_FIELDS = [
  'numAddr',
  'addrFree',
  'addrInUse',
  'partnerAddrFree',
  'thisAddrFree',
  'partnerAddrInUse',
  'thisAddrInUse',
  'pendingOffers',
  'reservedAddresses',
  'percentageInUse',
  'addrAbandoned',
  'addrAwaitingAck',
];

const iso = (s: number) => (s === 0 ? null : new Date(s * 1000).toISOString().replace('.000Z', 'Z'));
const colons = (hex: string) => hex.replace(/(..)(?!$)/g, '$1:');

function readStore(path: string): Lease[] {
  const store = openSqliteLeaseStore(path);
  try {
    return store.loadAll();
  } finally {
    void store.close();
  }
}

describe('management API against a running server', () => {
  let t: TestServer;
  let lab: Relay;
  let office: Relay;
  let metricsBefore: string;
  const c1: ClientSpec = { mac: mac(1), hostname: 'pc-1', clientId: `01${mac(1)}` };
  const c2: ClientSpec = { mac: mac(2), hostname: 'PC-Two' };
  const printer: ClientSpec = { mac: mac(0x99) };
  const c3: ClientSpec = { mac: mac(3) };
  const c4: ClientSpec = { mac: mac(4) };
  const c5: ClientSpec = { mac: mac(5) };
  const o1: ClientSpec = { mac: mac(0x21), hostname: 'desk' };
  const addr = {} as Record<'c1' | 'c2' | 'printer' | 'c3' | 'c4' | 'c5' | 'o1', string>;

  before(async () => {
    t = await startTestServer();
    lab = await Relay.open(RELAY_LAB, t.dhcpPort);
    office = await Relay.open(RELAY_OFFICE, t.dhcpPort);
    metricsBefore = (await http(t.baseUrl, '/metrics', { token: null })).text;
    addr.c1 = await lab.dora(c1);
    addr.c2 = await lab.dora(c2);
    addr.printer = await lab.dora(printer);
    addr.c3 = await lab.dora(c3);
    addr.c4 = await lab.dora(c4);
    addr.o1 = await office.dora(o1);
    addr.c5 = (await lab.discover(c5)).yiaddr;
    await lab.decline(c3, addr.c3);
    await lab.release(c4, addr.c4);
    await eventually(async () => {
      const l = await http<ApiLease>(t.baseUrl, `/api/v1/leases/${addr.c4}`);
      const d = await http<ApiLease>(t.baseUrl, `/api/v1/leases/${addr.c3}`);
      return l.body.bindingState === 'free' && d.body.bindingState === 'abandoned';
    }, 'DECLINE and RELEASE to be applied');
  });

  after(async () => {
    await lab?.close();
    await office?.close();
    await t?.dispose();
  });

  test('every seed-001 field of an active lease', async () => {
    const res = await http<ApiLease>(t.baseUrl, `/api/v1/scopes/lab/leases/${addr.c1}`);
    assert.equal(res.status, 200);
    const alias = await http<ApiLease>(t.baseUrl, `/api/v1/scopes/lab/leases/${addr.c1}/failover`);
    assert.deepEqual(alias.body, res.body, 'the /failover alias returns the same record');
    const l = res.body;
    for (const f of SEED_001_FIELDS) assert.ok(f in l, `field ${f} is present`);
    // Times: granted now for the scope's lease time. (Every field is compared with the stored
    // record by the last test, once the server has stopped.)
    const seconds = (x: unknown) => Date.parse(String(x)) / 1000;
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(seconds(l.stateStartedAt) - now) <= 5, 'state started now');
    assert.equal(seconds(l.leaseExpiresAt) - seconds(l.stateStartedAt), 3600, 'lease time of the scope');
    assert.equal(l.clientLastTransactionAt, l.stateStartedAt);
    assert.deepEqual(l, {
      ipAddress: addr.c1,
      scopeId: 'lab',
      subnetMask: '255.255.255.0',
      hardwareAddress: { htype: 1, mac: '02:00:00:00:00:01' },
      clientId: colons(`01${mac(1)}`),
      hostname: 'pc-1',
      description: null,
      fqdn: null,
      leaseExpiresAt: l.leaseExpiresAt,
      leaseInfinite: false,
      ownerServer: { name: SERVER_NAME, address: '127.0.0.1' },
      clientType: 'dhcp',
      reserved: false,
      bindingState: 'active',
      addressState: 'active',
      dhcidMode: 'none',
      dns: {
        cleanupOnDelete: false,
        updateBothRecords: false,
        registrationPending: false,
        removalPending: false,
      },
      napStatus: 'noQuarInfo',
      probationEndsAt: null,
      napCapable: false,
      sentPotentialExpiresAt: null,
      ackedPotentialExpiresAt: null,
      receivedPotentialExpiresAt: null,
      stateStartedAt: l.stateStartedAt,
      clientLastTransactionAt: l.clientLastTransactionAt,
      lastBindingUpdateAt: null,
      partnerUpToDate: false,
      policyName: null,
      offerExpiresAt: null,
    });
  });

  test('a reserved lease carries the reservation flag and description', async () => {
    assert.equal(addr.printer, '10.50.0.5');
    const { body } = await http<ApiLease>(t.baseUrl, '/api/v1/leases/10.50.0.5');
    assert.equal(body.reserved, true);
    assert.equal(body.description, 'the printer by the door');
    assert.equal(body.hostname, 'printer');
    assert.equal(body.addressState, 'active');
  });

  test('declined, released and offered addresses', async () => {
    const declined = (await http<ApiLease>(t.baseUrl, `/api/v1/leases/${addr.c3}`)).body;
    assert.equal(declined.bindingState, 'abandoned');
    assert.equal(declined.addressState, 'declined');
    assert.equal(declined.clientType, 'unspecified', 'an abandoned binding carries no client (D12)');
    const released = (await http<ApiLease>(t.baseUrl, `/api/v1/leases/${addr.c4}`)).body;
    assert.equal(released.bindingState, 'free');
    assert.equal(released.addressState, null);
    assert.equal(
      (released.hardwareAddress as Json).mac,
      colons(mac(4)),
      'a released binding keeps its client',
    );
    const offered = (await http<ApiLease>(t.baseUrl, `/api/v1/scopes/lab/leases/${addr.c5}`)).body;
    assert.equal(offered.addressState, 'offered');
    assert.equal(offered.bindingState, 'free');
    assert.equal((offered.hardwareAddress as Json).mac, colons(mac(5)));
    assert.ok(typeof offered.offerExpiresAt === 'string');
    assert.equal((offered.ownerServer as Json).name, SERVER_NAME);
  });

  test('list filters: default view, state, mac, hostname, ip, owner', async () => {
    const list = async (q: string) =>
      (await http<LeaseList>(t.baseUrl, `/api/v1/scopes/lab/leases${q}`)).body;
    const ips = (l: LeaseList) => l.items.map((x) => x.ipAddress);
    const sorted = (xs: string[]) => [...xs].sort((a, b) => parseIpv4(a) - parseIpv4(b));
    assert.deepEqual(
      ips(await list('')),
      sorted([addr.c1, addr.c2, addr.printer, addr.c3, addr.c5]),
      'client leases only',
    );
    assert.deepEqual(ips(await list('?state=free')), sorted([addr.c4, addr.c5]));
    assert.deepEqual(ips(await list('?state=declined')), [addr.c3]);
    assert.deepEqual(ips(await list('?state=abandoned')), [addr.c3]);
    assert.deepEqual(ips(await list('?state=offered')), [addr.c5]);
    assert.deepEqual(ips(await list('?state=doomed')), []);
    assert.deepEqual(ips(await list('?state=active')), sorted([addr.c1, addr.c2, addr.printer]));
    assert.deepEqual(ips(await list(`?mac=${colons(mac(2)).replace(/:/g, '-')}`)), [addr.c2]);
    assert.deepEqual(ips(await list('?hostname=pc-two')), [addr.c2]);
    assert.deepEqual(
      ips(await list(`?ip=${addr.c4}`)),
      [addr.c4],
      'an address filter shows the record whatever its state',
    );
    assert.deepEqual(
      ips(await list(`?owner=${SERVER_NAME}&state=active`)),
      sorted([addr.c1, addr.c2, addr.printer]),
    );
    assert.deepEqual(ips(await list('?owner=someone-else')), []);
  });

  test('pagination by address with a stable cursor', async () => {
    const all = (await http<LeaseList>(t.baseUrl, '/api/v1/leases?state=active')).body;
    assert.equal(all.items.length, 4);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: LeaseList = (
        await http<LeaseList>(
          t.baseUrl,
          `/api/v1/leases?state=active&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        )
      ).body;
      assert.equal(page.total, 4);
      seen.push(...page.items.map((x) => x.ipAddress));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    assert.equal(pages, 4);
    assert.deepEqual(
      seen,
      all.items.map((x) => x.ipAddress),
    );
    // A cursor past the end is an empty last page.
    const end = (await http<LeaseList>(t.baseUrl, '/api/v1/leases?cursor=255.255.255.255')).body;
    assert.deepEqual(end, { items: [], total: 5 + 1, nextCursor: null });
  });

  test('leases across scopes, by scope, and 404s', async () => {
    const office = (await http<LeaseList>(t.baseUrl, '/api/v1/leases?scope=office')).body;
    assert.deepEqual(
      office.items.map((x) => x.ipAddress),
      [addr.o1],
    );
    assert.equal(office.items[0]!.hostname, 'desk');
    assert.equal((await http(t.baseUrl, `/api/v1/scopes/office/leases/${addr.o1}`)).status, 200);
    const wrongScope = await http<Json>(t.baseUrl, `/api/v1/scopes/lab/leases/${addr.o1}`);
    assert.equal(wrongScope.status, 404);
    assert.equal(wrongScope.body.error, 'not-found');
    assert.equal((await http(t.baseUrl, '/api/v1/leases/10.50.0.200')).status, 404);
    assert.equal((await http(t.baseUrl, '/api/v1/scopes/nope/leases')).status, 404);
    assert.equal((await http(t.baseUrl, '/api/v1/leases?scope=nope')).status, 404);
    assert.equal((await http(t.baseUrl, '/api/v1/scopes/nope/statistics')).status, 404);
  });

  test('scopes as configured, options decoded', async () => {
    const { body } = await http<{ items: Json[] }>(t.baseUrl, '/api/v1/scopes');
    assert.deepEqual(
      body.items.map((s) => s.id),
      ['lab', 'office'],
    );
    const lab = (await http<Json>(t.baseUrl, '/api/v1/scopes/lab')).body;
    assert.equal(lab.subnet, '10.50.0.0/24');
    assert.equal(lab.subnetMask, '255.255.255.0');
    assert.deepEqual(lab.ranges, [{ start: '10.50.0.10', end: '10.50.0.29' }]);
    assert.deepEqual(lab.exclusions, [{ start: '10.50.0.15', end: '10.50.0.16' }]);
    assert.deepEqual(lab.reservations, [
      {
        address: '10.50.0.5',
        hardwareAddress: '02:00:00:00:00:99',
        clientId: null,
        hostname: 'printer',
        description: 'the printer by the door',
        options: [],
      },
    ]);
    assert.deepEqual(lab.options, [
      { code: 3, name: 'routers', value: ['10.50.0.1'], alwaysSend: false },
      { code: 15, name: 'domainName', value: 'lab.example.test', alwaysSend: false },
    ]);
    assert.equal(lab.leaseTimeSeconds, 3600);
    assert.deepEqual(lab.relayAddresses, [RELAY_LAB]);
    assert.equal(lab.role, 'standalone');
    assert.equal(lab.dynamicAddresses, 18);
  });

  test('status', async () => {
    const { status, body } = await http<Json>(t.baseUrl, '/api/v1/status');
    assert.equal(status, 200);
    assert.equal(body.serverName, SERVER_NAME);
    assert.equal(body.serverIdentifier, '127.0.0.1');
    assert.match(String(body.version), /^\d+\.\d+\.\d+/);
    assert.equal(body.access, 'read');
    assert.ok((body.uptimeSeconds as number) >= 0);
    assert.deepEqual(
      body.leaseStore,
      { type: 'sqlite', path: t.dbPath, leases: 6 },
      'one record per address used',
    );
    assert.deepEqual(body.relationships, []);
    const scopes = body.scopes as Json[];
    assert.deepEqual(
      scopes.map((s) => [s.id, s.numAddr, s.addrInUse]),
      [
        ['lab', 19, 3],
        ['office', 50, 1],
      ],
    );
    assert.equal(
      (await http<Json>(t.baseUrl, '/api/v1/status', { token: WRITE_TOKEN })).body.access,
      'write',
    );
  });

  test('authentication and authorisation', async () => {
    const none = await http<Json>(t.baseUrl, '/api/v1/status', { token: null });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'unauthorized');
    assert.match(String(none.body.message), /Bearer/);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await http(t.baseUrl, '/api/v1/status', { token: 'not-a-token-at-all' })).status, 401);
    const basic = await fetch(`${t.baseUrl}/api/v1/status`, {
      headers: { authorization: `Basic ${READ_TOKEN}` },
    });
    assert.equal(basic.status, 401);
    for (const path of [
      '/api/v1/scopes',
      '/api/v1/leases',
      '/api/v1/statistics',
      '/api/v1/scopes/lab/leases',
    ]) {
      assert.equal((await http(t.baseUrl, path, { token: null })).status, 401, path);
    }
    assert.equal(
      (await http(t.baseUrl, '/api/v1/no-such-route', { token: null })).status,
      401,
      'unknown routes too',
    );
    assert.equal((await http(t.baseUrl, '/api/v1/no-such-route')).status, 404);
    for (const path of ['/healthz', '/openapi.json', '/metrics']) {
      assert.equal((await http(t.baseUrl, path, { token: null })).status, 200, `${path} is open`);
    }
    const readOnly = await http<Json>(t.baseUrl, '/api/v1/config/reload', {
      method: 'POST',
      body: { dryRun: true },
    });
    assert.equal(readOnly.status, 403);
    assert.deepEqual(readOnly.body, { error: 'forbidden', message: 'token "grafana" is read-only' });
    const write = await http<Json>(t.baseUrl, '/api/v1/config/reload', {
      method: 'POST',
      body: { dryRun: true },
      token: WRITE_TOKEN,
    });
    assert.equal(write.status, 200);
    assert.equal(write.body.applied, false);
    assert.equal((write.body.changes as Json).isUnchanged, true);
  });

  test('invalid input is a 400 naming the JSON path', async () => {
    const cases: [string, string, { method?: string; body?: unknown; rawBody?: string }][] = [
      ['/api/v1/scopes/lab/leases?limit=abc', '/query/limit', {}],
      ['/api/v1/scopes/lab/leases?limit=1001', '/query/limit', {}],
      ['/api/v1/scopes/lab/leases?state=sleeping', '/query/state', {}],
      ['/api/v1/scopes/lab/leases?mac=zz', '/query/mac', {}],
      ['/api/v1/scopes/lab/leases?cursor=10.1', '/query/cursor', {}],
      ['/api/v1/scopes/lab/leases?colour=blue', '/query/colour', {}],
      ['/api/v1/scopes/lab/leases/10.50.0.256', '/params/ip', {}],
      ['/api/v1/leases/not-an-ip', '/params/ip', {}],
      ['/api/v1/config/reload', '/body/dryRun', { method: 'POST', body: { dryRun: 'yes' } }],
      ['/api/v1/config/reload', '/body/apply', { method: 'POST', body: { apply: true } }],
      ['/api/v1/config/reload', '/body', { method: 'POST', rawBody: '{"dryRun": tru' }],
    ];
    for (const [path, pointer, init] of cases) {
      const res = await http<Json>(t.baseUrl, path, { ...init, token: WRITE_TOKEN });
      assert.equal(res.status, 400, path);
      assert.equal(res.body.path, pointer, path);
      assert.equal(res.body.error, 'invalid-request');
      assert.ok(String(res.body.message).length > 0);
    }
  });

  test('/openapi.json is OpenAPI 3, lists every route, and the responses match its schemas', async () => {
    const { status, body: doc } = await http<Json>(t.baseUrl, '/openapi.json', { token: null });
    assert.equal(status, 200);
    assert.match(String(doc.openapi), /^3\.1\.\d+$/);
    const info = doc.info as Json;
    assert.equal(typeof info.title, 'string');
    assert.equal(typeof info.version, 'string');
    const paths = doc.paths as Record<string, Record<string, Json>>;
    const expected: [string, string][] = [
      ['/healthz', 'get'],
      ['/metrics', 'get'],
      ['/api/v1/status', 'get'],
      ['/api/v1/scopes', 'get'],
      ['/api/v1/scopes/{scopeId}', 'get'],
      ['/api/v1/statistics', 'get'],
      ['/api/v1/scopes/{scopeId}/statistics', 'get'],
      ['/api/v1/scopes/{scopeId}/failover-statistics', 'get'],
      ['/api/v1/scopes/{scopeId}/leases', 'get'],
      ['/api/v1/scopes/{scopeId}/leases/{ip}', 'get'],
      ['/api/v1/scopes/{scopeId}/leases/{ip}/failover', 'get'],
      ['/api/v1/leases', 'get'],
      ['/api/v1/leases/{ip}', 'get'],
      ['/api/v1/config/reload', 'post'],
    ];
    for (const [p, m] of expected) assert.ok(paths[p]?.[m], `${m.toUpperCase()} ${p} is documented`);
    const security = ((doc.components as Json).securitySchemes as Json).bearer as Json;
    assert.deepEqual(security, { type: 'http', scheme: 'bearer' });
    assert.deepEqual(paths['/healthz']!.get!.security, []);
    const leaseParams = paths['/api/v1/scopes/{scopeId}/leases']!.get!.parameters as Json[];
    assert.deepEqual(
      leaseParams
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
      ['cursor', 'hostname', 'ip', 'limit', 'mac', 'owner', 'state'],
    );
    // Every $ref resolves.
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const r of refs) {
      const target = r.slice(8, -1);
      assert.match(target, /^#\/components\/schemas\//, target);
      assert.ok(schemas[target.slice('#/components/schemas/'.length)], `${target} resolves`);
    }
    // Real responses validate against the documented response schemas.
    const Ajv2020 = (Ajv2020Module as unknown as { default?: typeof Ajv2020Module }).default ?? Ajv2020Module;
    const addFormats =
      (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
    const ajv = new (
      Ajv2020 as unknown as new (
        o: object,
      ) => {
        addSchema(s: object, key: string): void;
        validate(s: object, d: unknown): boolean;
        errorsText(): string;
      }
    )({ strict: false });
    (addFormats as unknown as (a: unknown) => void)(ajv);
    const docForAjv = JSON.parse(JSON.stringify(doc)) as Json;
    ajv.addSchema(docForAjv, 'openapi');
    const check = async (apiPath: string, docPath: string) => {
      const res = await http(t.baseUrl, apiPath);
      assert.equal(res.status, 200, apiPath);
      const content = (paths[docPath]!.get!.responses as Record<string, Json>)['200']!.content as Json;
      const schema = (content['application/json'] as Json).schema as Json;
      const ok = ajv.validate(rebase(schema), res.body);
      assert.ok(ok, `${apiPath}: ${ajv.errorsText()}`);
    };
    await check('/api/v1/status', '/api/v1/status');
    await check('/api/v1/scopes', '/api/v1/scopes');
    await check('/api/v1/scopes/lab', '/api/v1/scopes/{scopeId}');
    await check('/api/v1/statistics', '/api/v1/statistics');
    await check('/api/v1/scopes/lab/statistics', '/api/v1/scopes/{scopeId}/statistics');
    await check('/api/v1/scopes/lab/leases?state=free', '/api/v1/scopes/{scopeId}/leases');
    await check('/api/v1/leases', '/api/v1/leases');
    await check(`/api/v1/leases/${addr.c5}`, '/api/v1/leases/{ip}');
  });

  test('/metrics is Prometheus text and moves with the traffic', async () => {
    const before = parsePrometheusText(metricsBefore);
    const res = await http(t.baseUrl, '/metrics', { token: null });
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const now = parsePrometheusText(res.text);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(now, name, labels) - sampleValue(before, name, labels);
    assert.equal(delta('twinlease_dhcp4_packets_received_total', { operation: 'discover' }), 7);
    assert.equal(delta('twinlease_dhcp4_packets_received_total', { operation: 'request' }), 6);
    assert.equal(delta('twinlease_dhcp4_packets_received_total', { operation: 'decline' }), 1);
    assert.equal(delta('twinlease_dhcp4_packets_received_total', { operation: 'release' }), 1);
    assert.equal(delta('twinlease_dhcp4_packets_sent_total', { operation: 'offer' }), 7);
    assert.equal(delta('twinlease_dhcp4_packets_sent_total', { operation: 'ack' }), 6);
    assert.equal(delta('twinlease_dhcp4_datagrams_received_total'), 15);
    assert.equal(now.get('twinlease_dhcp4_packets_received_total')?.type, 'counter');
    const labLabels = { scope: 'lab', subnet: '10.50.0.0/24' };
    assert.equal(sampleValue(now, 'twinlease_dhcp4_addresses', labLabels), 19);
    assert.equal(sampleValue(now, 'twinlease_dhcp4_addresses_assigned', { ...labLabels, server: 'this' }), 3);
    assert.equal(
      sampleValue(now, 'twinlease_dhcp4_addresses_assigned', { ...labLabels, server: 'partner' }),
      0,
    );
    assert.equal(
      sampleValue(now, 'twinlease_dhcp4_addresses_free', { ...labLabels, server: 'this' }),
      19 - 3 - 1,
    );
    assert.equal(sampleValue(now, 'twinlease_dhcp4_addresses_declined', labLabels), 1);
    assert.equal(sampleValue(now, 'twinlease_dhcp4_offers_pending', labLabels), 1);
    assert.equal(now.get('twinlease_dhcp4_addresses')?.type, 'gauge');
    assert.ok(now.has('process_cpu_user_seconds_total'), 'process metrics');
    assert.ok(now.has('nodejs_eventloop_lag_seconds'), 'Node runtime metrics');
    assert.equal(sampleValue(now, 'twinlease_info', { server: SERVER_NAME }), 1);

    // A dropped packet shows up by reason: a relayed DISCOVER from a giaddr no scope knows.
    const stray = await Relay.open('127.0.0.9', t.dhcpPort);
    try {
      const r = await stray.exchange(1, { mac: mac(0x77) }, { expectReply: false });
      assert.equal(r, null);
    } finally {
      await stray.close();
    }
    // One more lease moves the counters and the gauges.
    await lab.dora({ mac: mac(6) }).then(() => undefined);
    const later = parsePrometheusText((await http(t.baseUrl, '/metrics', { token: null })).text);
    assert.equal(
      sampleValue(later, 'twinlease_dhcp4_packets_dropped_total', { stage: 'engine', reason: 'no-scope' }) -
        sampleValue(now, 'twinlease_dhcp4_packets_dropped_total', { stage: 'engine', reason: 'no-scope' }),
      1,
    );
    assert.equal(
      sampleValue(later, 'twinlease_dhcp4_addresses_assigned', { ...labLabels, server: 'this' }),
      4,
    );
    assert.equal(
      sampleValue(later, 'twinlease_dhcp4_packets_sent_total', { operation: 'ack' }) -
        sampleValue(now, 'twinlease_dhcp4_packets_sent_total', { operation: 'ack' }),
      1,
    );
    // Every twinlease_ metric is documented.
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    for (const name of later.keys())
      if (name.startsWith('twinlease_')) assert.ok(doc.includes(`\`${name}`), `${name} in docs/metrics.md`);
  });

  test('statistics routes agree with each other', async () => {
    const one = (await http<Json>(t.baseUrl, '/api/v1/scopes/lab/statistics')).body;
    const failover = (await http<Json>(t.baseUrl, '/api/v1/scopes/lab/failover-statistics')).body;
    assert.deepEqual(one, failover);
    for (const f of STATISTICS_FIELDS) assert.equal(typeof one[f], 'number', f);
    const all = (await http<{ items: Json[]; total: Json }>(t.baseUrl, '/api/v1/statistics')).body;
    assert.deepEqual(
      all.items.find((s) => s.scopeId === 'lab'),
      one,
    );
    for (const f of STATISTICS_FIELDS.filter((x) => x !== 'percentageInUse')) {
      assert.equal(
        all.total[f],
        all.items.reduce((n, s) => n + (s[f] as number), 0),
        `total ${f}`,
      );
    }
  });

  test('config reload over the API: applied, then a broken file is refused with its JSON path', async () => {
    const config = JSON.parse(readFileSync(t.configPath, 'utf8')) as { scopes: Json[] };
    config.scopes[1]!.leaseTimeSeconds = 1800;
    writeFileSync(t.configPath, JSON.stringify(config));
    const res = await http<Json>(t.baseUrl, '/api/v1/config/reload', { method: 'POST', token: WRITE_TOKEN });
    assert.equal(res.status, 200);
    assert.equal(res.body.applied, true);
    assert.deepEqual((res.body.changes as Json).scopesChanged, ['office']);
    assert.equal((await http<Json>(t.baseUrl, '/api/v1/scopes/office')).body.leaseTimeSeconds, 1800);
    // Leases survive the reload.
    assert.equal((await http<ApiLease>(t.baseUrl, `/api/v1/leases/${addr.c1}`)).body.bindingState, 'active');

    config.scopes[1]!.leaseTimeSeconds = 'long';
    writeFileSync(t.configPath, JSON.stringify(config));
    const bad = await http<Json>(t.baseUrl, '/api/v1/config/reload', {
      method: 'POST',
      token: WRITE_TOKEN,
      body: {},
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error, 'invalid-config');
    const errors = bad.body.errors as Json[];
    assert.equal(errors[0]?.path, '/scopes/1/leaseTimeSeconds');
    assert.equal((await http<Json>(t.baseUrl, '/api/v1/scopes/office')).body.leaseTimeSeconds, 1800, 'kept');
  });

  test('the log: every grant at info, and the token name of every write (never the token)', async () => {
    const readLog = () =>
      readFileSync(join(t.dir, 'server.log'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Json);
    await http(t.baseUrl, '/api/v1/config/reload', {
      method: 'POST',
      token: WRITE_TOKEN,
      body: { dryRun: true },
    });
    let lines: Json[] = [];
    await eventually(async () => {
      lines = readLog();
      return lines.some((l) => l.event === 'api.config-reload');
    }, 'the reload to be logged');
    const ack = lines.find((l) => l.event === 'dhcp.ack' && l.address === addr.c1);
    assert.ok(ack, 'dhcp.ack of c1');
    assert.equal(ack.level, 'info');
    assert.equal(ack.mac, '02:00:00:00:00:01');
    assert.equal(ack.clientId, '01:02:00:00:00:00:01');
    assert.equal(ack.scope, 'lab');
    assert.equal(ack.leaseSeconds, 3600);
    assert.equal(ack.giaddr, RELAY_LAB);
    assert.ok(lines.some((l) => l.event === 'dhcp.offer' && l.address === addr.c5));
    const audit = lines.filter((l) => typeof l.event === 'string' && l.event.startsWith('api.config-reload'));
    assert.ok(audit.length > 0);
    for (const l of audit) assert.equal(l.tokenName, 'ops', JSON.stringify(l));
    const text = readFileSync(join(t.dir, 'server.log'), 'utf8');
    assert.ok(!text.includes(WRITE_TOKEN) && !text.includes(READ_TOKEN), 'no token value in the log');
    assert.ok(!text.includes('"tokenName":"[redacted]"'));

    // logging.level and logging.grants take effect on a reload.
    // (The test before left a broken file: repair it.)
    const config = JSON.parse(readFileSync(t.configPath, 'utf8')) as { scopes: Json[] };
    config.scopes[1]!.leaseTimeSeconds = 1800;
    writeFileSync(t.configPath, JSON.stringify({ ...config, logging: { level: 'info', grants: false } }));
    const res = await http<Json>(t.baseUrl, '/api/v1/config/reload', { method: 'POST', token: WRITE_TOKEN });
    assert.equal(res.body.applied, true);
    const c6: ClientSpec = { mac: mac(6) };
    const a6 = await lab.dora(c6);
    await http(t.baseUrl, '/api/v1/status');
    await new Promise((r) => setTimeout(r, 300));
    // What follows the reload's own line: lines logged before it at the old level (debug) may
    // reach the file after the request that triggered it returned.
    const all = readLog();
    const reloadedAt = all.findLastIndex((l) => l.event === 'config.reloaded');
    assert.ok(reloadedAt >= lines.length, 'the reload is logged');
    const after = all.slice(reloadedAt + 1);
    assert.ok(!after.some((l) => l.event === 'dhcp.ack' && l.address === a6), 'no grant line at info');
    const debugLines = after.filter((l) => l.level === 'debug');
    assert.ok(
      debugLines.length === 0,
      `nothing at debug after the reload: ${JSON.stringify(debugLines.slice(0, 3))}`,
    );
  });

  // Last: stops the server to read the store it wrote.
  test('leases and statistics equal the lease store', async () => {
    const api = (await http<Json>(t.baseUrl, '/api/v1/scopes/lab/statistics')).body;
    const office = (await http<Json>(t.baseUrl, '/api/v1/scopes/office/statistics')).body;
    const offered = (await http<LeaseList>(t.baseUrl, '/api/v1/leases?state=offered')).body.items;
    const apiLeases: ApiLease[] = [];
    for (const state of ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup']) {
      apiLeases.push(
        ...(await http<LeaseList>(t.baseUrl, `/api/v1/leases?state=${state}&limit=1000`)).body.items,
      );
    }
    const storeCount = ((await http<Json>(t.baseUrl, '/api/v1/status')).body.leaseStore as Json).leases;
    await t.stop();
    const stored = readStore(t.dbPath);
    assert.equal(storeCount, stored.length);

    // Every record, every field, derived independently from the stored binding.
    const reservationDescriptions = new Map([['10.50.0.5', 'the printer by the door']]);
    const expected = stored
      .map((l): ApiLease => {
        const ip = formatIpv4(l.address);
        const hasClient = l.hardwareAddress !== '' || l.clientId !== null;
        const addressState = {
          active: 'active',
          abandoned: 'declined',
          expired: 'doomed',
          released: 'doomed',
          reset: 'doomed',
        }[l.state as string];
        return {
          ipAddress: ip,
          scopeId: l.scopeId,
          subnetMask: '255.255.255.0',
          hardwareAddress: {
            htype: l.hardwareType,
            mac: l.hardwareAddress === '' ? null : colons(l.hardwareAddress),
          },
          clientId: l.clientId === null ? null : colons(l.clientId),
          hostname: l.hostname,
          description: l.isReserved ? (reservationDescriptions.get(ip) ?? null) : null,
          fqdn: l.fqdn,
          leaseExpiresAt: l.leaseExpiresAt === 0xffffffff ? null : iso(l.leaseExpiresAt),
          leaseInfinite: l.leaseExpiresAt === 0xffffffff,
          ownerServer: { name: l.ownerServer, address: l.ownerServer === SERVER_NAME ? '127.0.0.1' : null },
          clientType: hasClient ? l.clientType : 'unspecified',
          reserved: l.isReserved,
          bindingState: l.state,
          addressState: addressState ?? null,
          dhcidMode: l.dhcidMode,
          dns: { ...l.dns },
          napStatus: 'noQuarInfo',
          probationEndsAt: null,
          napCapable: false,
          sentPotentialExpiresAt: iso(l.sentPotentialExpiresAt),
          ackedPotentialExpiresAt: iso(l.ackedPotentialExpiresAt),
          receivedPotentialExpiresAt: iso(l.receivedPotentialExpiresAt),
          stateStartedAt: iso(l.stateStartedAt),
          clientLastTransactionAt: iso(l.clientLastTransactionAt),
          lastBindingUpdateAt: iso(l.lastBindingUpdateAt),
          partnerUpToDate: l.isPartnerUpToDate,
          policyName: l.policyName,
          offerExpiresAt: null,
        };
      })
      .sort((a, b) => parseIpv4(a.ipAddress) - parseIpv4(b.ipAddress));
    // The reload dropped the offers in progress, so the API lists exactly the stored records.
    assert.equal(offered.length, 0);
    assert.deepEqual(
      apiLeases.sort((a, b) => parseIpv4(a.ipAddress) - parseIpv4(b.ipAddress)),
      expected,
    );
    assert.equal(
      expected.length,
      7,
      'c1, c2, printer, c3 (declined), c4 (released), o1, and c6 of the metrics test',
    );

    const count = (
      subnet: string,
      counted: (a: number) => boolean,
      numAddr: number,
      reserved: number,
      offers: number,
    ): Json => {
      const mine = stored.filter((l) => formatIpv4(l.address).startsWith(subnet) && counted(l.address));
      const n = (p: (l: Lease) => boolean) => mine.filter(p).length;
      const inUse = n((l) => l.state === 'active');
      const thisInUse = n((l) => l.state === 'active' && l.ownerServer === SERVER_NAME);
      const abandoned = n((l) => l.state === 'abandoned');
      const awaiting = n((l) => l.state === 'expired' || l.state === 'released' || l.state === 'reset');
      const free = numAddr - inUse - abandoned - awaiting;
      return {
        numAddr,
        addrFree: free,
        addrInUse: inUse,
        partnerAddrFree: 0,
        thisAddrFree: free,
        partnerAddrInUse: inUse - thisInUse,
        thisAddrInUse: thisInUse,
        pendingOffers: offers,
        reservedAddresses: reserved,
        percentageInUse: Math.round((inUse * 10000) / numAddr) / 100,
        addrAbandoned: abandoned,
        addrAwaitingAck: awaiting,
      };
    };
    const labCounted = (a: number) => {
      const last = a & 255;
      return last === 5 || (last >= 10 && last <= 29 && last !== 15 && last !== 16);
    };
    const officeCounted = (a: number) => (a & 255) >= 100 && (a & 255) <= 149;
    const pick = (o: Json) => Object.fromEntries(STATISTICS_FIELDS.map((f) => [f, o[f]]));
    const labOffers = offered.filter((l) => l.scopeId === 'lab').length;
    assert.deepEqual(pick(api), count('10.50.0.', labCounted, 18 + 1, 1, labOffers));
    assert.deepEqual(pick(office), count('10.60.0.', officeCounted, 50, 0, 0));
    assert.equal(api.addrInUse, 4);
    assert.equal(api.addrAbandoned, 1);
  });
});

/** An OpenAPI schema with "#/components/schemas/X" refs made absolute to the document added as "openapi". */
function rebase(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')) as Json;
}
