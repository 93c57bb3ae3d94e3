// The failover routes over real HTTP: relationship CRUD through the config file (the file changes,
// the server reloads, a .bak is kept), scopes, partner-down through the FailoverApi, the operation
// tracker, secrets never shown, 400 with JSON paths, 401/403, scope config GET/PUT, replication
// between two real API servers, status and metrics from a fake endpoint's statuses.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ConfigFile } from '../../src/api/config-file.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { DEFAULT_CONFIG_PATH } from '../../src/config/loader.js';
import { ServerState } from '../../src/wire/failover-message.js';
import {
  type FailoverApiServer,
  fakeStatus,
  READ_TOKEN,
  relationshipConfig,
  startFailoverApi,
  WRITE_TOKEN,
} from './failover-helpers.js';
import { http, parsePrometheusText, sampleValue } from './helpers.js';

type Json = Record<string, unknown>;
const SECRET = 'very-secret-shared-value';
const PARTNER_TOKEN = 'partner-write-token-0123456789';

const fileOf = (s: FailoverApiServer) => JSON.parse(readFileSync(s.configPath, 'utf8')) as Json;
const write = { token: WRITE_TOKEN };

describe('failover relationships over the API', () => {
  let a: FailoverApiServer;

  before(async () => {
    a = await startFailoverApi('dhcp-a');
  });
  after(async () => {
    await a.close();
  });

  test('create, read, update, scopes, delete: the file changes and the server reloads', async () => {
    const reloads = a.reloads;
    const created = await http<Json>(a.baseUrl, '/api/v1/failover/relationships', {
      ...write,
      method: 'POST',
      body: relationshipConfig({ sharedSecret: SECRET }),
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.name, 'dc-pair');
    assert.equal(created.body.mcltSeconds, 1800);
    assert.equal(created.body.auth, 'hmacSha256', 'a shared secret turns authentication on');
    assert.equal(created.body.sharedSecretEnabled, true);
    assert.equal(created.body.state, 'noState', 'this fake endpoint runs nothing (a real one starts it)');
    assert.equal(created.body.serverOwner, 'dhcp-a');
    assert.ok(!created.text.includes(SECRET), 'the secret is never returned');
    assert.equal(a.reloads, reloads + 1);
    const file = fileOf(a);
    assert.equal((file.failover as Json[])[0]?.name, 'dc-pair');
    assert.equal((file.failover as Json[])[0]?.sharedSecret, SECRET, 'the secret is in the file');
    assert.ok(existsSync(`${a.configPath}.bak`));
    assert.ok(!('failover' in JSON.parse(readFileSync(`${a.configPath}.bak`, 'utf8'))));
    assert.equal(a.config().failover[0]?.name, 'dc-pair', 'the running config has it');

    const again = await http<Json>(a.baseUrl, '/api/v1/failover/relationships', {
      ...write,
      method: 'POST',
      body: relationshipConfig(),
    });
    assert.equal(again.status, 409);

    const list = await http<{ items: Json[] }>(a.baseUrl, '/api/v1/failover/relationships');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((r) => r.name),
      ['dc-pair'],
    );
    const one = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair');
    assert.equal(one.status, 200);
    for (const field of [
      'name',
      'mode',
      'mcltSeconds',
      'server1',
      'server2',
      'loadBalancePercent',
      'stateSwitchIntervalSeconds',
      'autoStateTransition',
      'sharedSecretEnabled',
      'serverOwner',
      'operationTracker',
      'recordId',
      'configurationDiffers',
    ])
      assert.ok(field in one.body, `seed 002 field ${field}`);
    assert.equal(one.body.configurationDiffers, null, 'no partner.api configured');
    assert.ok(!one.text.includes(SECRET));

    const patched = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair', {
      ...write,
      method: 'PATCH',
      body: { mcltSeconds: 900, stateSwitchIntervalSeconds: 1200, sharedSecret: null },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.mcltSeconds, 900);
    assert.equal(patched.body.autoStateTransition, true, 'an interval turns the transition on');
    assert.equal(patched.body.stateSwitchIntervalSeconds, 1200);
    assert.equal(patched.body.sharedSecretEnabled, false, 'sharedSecret: null disables auth');
    assert.equal(patched.body.auth, 'none');
    const rel = (fileOf(a).failover as Json[])[0]!;
    assert.equal(rel.mcltSeconds, 900);
    assert.ok(!('sharedSecret' in rel) && !('auth' in rel));

    const added = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/scopes', {
      ...write,
      method: 'POST',
      body: { scopeIds: ['office', '10.70.0.0'] },
    });
    assert.equal(added.status, 200, added.text);
    assert.deepEqual(added.body.scopeIds, ['lab', 'office', '10.70.0.0']);
    const scope = await http<Json>(a.baseUrl, '/api/v1/scopes/office');
    assert.equal(scope.body.role, 'primary', 'the scope now follows the relationship role');
    const stats = await http<Json>(a.baseUrl, '/api/v1/scopes/office/failover-statistics');
    assert.equal(stats.body.role, 'primary');
    assert.equal(stats.body.thisAddrFree, 50, 'as primary, the FREE addresses are ours');
    const relStats = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/statistics');
    assert.equal(relStats.status, 200);
    assert.equal(relStats.body.numAddr, 20 + 50 + 11);
    const byScope = await http<Json>(a.baseUrl, '/api/v1/scopes/office/failover');
    assert.equal(byScope.body.name, 'dc-pair');

    const removed = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/scopes/office', {
      ...write,
      method: 'DELETE',
    });
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(removed.body.scopeIds, ['lab', '10.70.0.0']);
    const missing = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/scopes/office', {
      ...write,
      method: 'DELETE',
    });
    assert.equal(missing.status, 404);

    const tracker = (
      await http<Json & { operationTracker: Json[] }>(a.baseUrl, '/api/v1/failover/relationships/dc-pair')
    ).body.operationTracker;
    assert.deepEqual(
      tracker.map((o) => o.operation),
      ['removeScope', 'addScopes', 'update', 'create'],
    );
    assert.ok(tracker.every((o) => o.serverName === 'dhcp-a' && o.tokenName === 'ops'));
    assert.deepEqual(
      tracker.map((o) => o.effect),
      ['restarted', 'restarted', 'restarted', 'started'],
      'the reload that wrote each change applied it to the relationship at once',
    );
    const log = JSON.parse(readFileSync(a.configPath.replace(/\.json$/, '.operations.json'), 'utf8'));
    assert.equal(log.relationships['dc-pair'].length, 4, 'the tracker is kept beside the config');

    const deleted = await http(a.baseUrl, '/api/v1/failover/relationships/dc-pair', {
      ...write,
      method: 'DELETE',
    });
    assert.equal(deleted.status, 204);
    assert.ok(!('failover' in fileOf(a)));
    assert.equal(a.config().failover.length, 0);
    assert.equal((await http(a.baseUrl, '/api/v1/failover/relationships/dc-pair')).status, 404);
    assert.equal(
      (await http(a.baseUrl, '/api/v1/failover/relationships/dc-pair', { ...write, method: 'DELETE' }))
        .status,
      404,
    );
  });

  test('invalid bodies are 400 with the JSON path; nothing is written', async () => {
    const before = readFileSync(a.configPath, 'utf8');
    const reloads = a.reloads;
    const post = (body: unknown) =>
      http<Json>(a.baseUrl, '/api/v1/failover/relationships', { ...write, method: 'POST', body });
    const cases: [unknown, string][] = [
      [relationshipConfig({ mcltSeconds: 'an hour' }), '/body/mcltSeconds'],
      [relationshipConfig({ colour: 'blue' }), '/body/colour'],
      [{ ...relationshipConfig(), role: undefined }, '/body/role'],
      [relationshipConfig({ partner: { address: '10.0.0.300' } }), '/body/partner/address'],
      // Semantic (loader) errors map back onto the body too.
      [relationshipConfig({ scopeIds: ['lab', 'nope'] }), '/body/scopeIds/1'],
      [relationshipConfig({ mode: 'hotStandby', loadBalancePercent: 40 }), '/body/loadBalancePercent'],
      [
        relationshipConfig({ partner: { address: '10.0.0.3', api: { url: 'ftp:x' } } }),
        '/body/partner/api/url',
      ],
    ];
    for (const [body, path] of cases) {
      const r = await post(body);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.equal(r.body.path, path, r.text);
      assert.equal(r.body.error, 'invalid-request');
    }
    await post(relationshipConfig());
    const patch = (body: unknown) =>
      http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair', { ...write, method: 'PATCH', body });
    assert.equal((await patch({ name: 'other' })).body.path, '/body/name');
    assert.equal((await patch({ mcltSeconds: 0 })).body.path, '/body/mcltSeconds');
    assert.equal(
      (await patch({ mode: 'hotStandby', loadBalancePercent: 20 })).body.path,
      '/body/loadBalancePercent',
    );
    const scopes = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/scopes', {
      ...write,
      method: 'POST',
      body: { scopeIds: ['nope'] },
    });
    assert.equal(scopes.status, 400);
    assert.equal(scopes.body.path, '/body/scopeIds/0');
    const last = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/scopes/lab', {
      ...write,
      method: 'DELETE',
    });
    assert.equal(last.status, 409, 'the last scope cannot go');
    assert.equal(a.reloads, reloads + 1, 'only the one valid create reloaded');
    await http(a.baseUrl, '/api/v1/failover/relationships/dc-pair', { ...write, method: 'DELETE' });
    assert.equal(readFileSync(a.configPath, 'utf8').length > 0, true);
    assert.deepEqual(JSON.parse(readFileSync(a.configPath, 'utf8')), JSON.parse(before));
  });

  test('writes need a read-write token: 401 without, 403 read-only', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/v1/failover/relationships', relationshipConfig()],
      ['PATCH', '/api/v1/failover/relationships/dc-pair', { mcltSeconds: 60 }],
      ['DELETE', '/api/v1/failover/relationships/dc-pair', undefined],
      ['POST', '/api/v1/failover/relationships/dc-pair/scopes', { scopeIds: ['office'] }],
      ['DELETE', '/api/v1/failover/relationships/dc-pair/scopes/lab', undefined],
      ['POST', '/api/v1/failover/relationships/dc-pair/actions/partner-down', undefined],
      ['POST', '/api/v1/failover/relationships/dc-pair/actions/replicate', undefined],
      ['PUT', '/api/v1/scopes/lab/config', { subnet: '10.50.0.0/24', ranges: [] }],
    ] as const) {
      const anonymous = await http<Json>(a.baseUrl, path, { token: null, method, body });
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      const readOnly = await http<Json>(a.baseUrl, path, { token: READ_TOKEN, method, body });
      assert.equal(readOnly.status, 403, `${method} ${path}`);
    }
    assert.equal((await http(a.baseUrl, '/api/v1/failover/relationships', { token: null })).status, 401);
    assert.equal(
      (await http(a.baseUrl, '/api/v1/failover/relationships', { token: READ_TOKEN })).status,
      200,
    );
  });

  test('partner-down calls through to the failover endpoint', async () => {
    await http(a.baseUrl, '/api/v1/failover/relationships', {
      ...write,
      method: 'POST',
      body: relationshipConfig(),
    });
    const url = '/api/v1/failover/relationships/dc-pair/actions/partner-down';
    const notRunning = await http<Json>(a.baseUrl, url, { ...write, method: 'POST' });
    assert.equal(notRunning.status, 409);
    assert.equal(notRunning.body.error, 'not-running');

    a.failover.statusList = [
      fakeStatus({ localState: ServerState.COMMUNICATIONS_INTERRUPTED, isCommunicating: false }),
    ];
    a.failover.partnerDownCalls = [];
    const ok = await http<Json & { operationTracker: Json[] }>(a.baseUrl, url, { ...write, method: 'POST' });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(a.failover.partnerDownCalls, ['dc-pair']);
    assert.equal(ok.body.operationTracker[0]?.operation, 'partnerDown');
    assert.equal(ok.body.serverOwner, 'dhcp-a');

    a.failover.partnerDownAnswer = { ok: false, reason: 'invalidState', message: 'already in partner-down' };
    const refused = await http<Json>(a.baseUrl, url, { ...write, method: 'POST' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.message, 'already in partner-down');
    a.failover.partnerDownAnswer = { ok: true };

    const unknown = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/nope/actions/partner-down', {
      ...write,
      method: 'POST',
    });
    assert.equal(unknown.status, 404);
  });

  test('status and the resource show the live state in camelCase names', async () => {
    a.failover.statusList = [
      fakeStatus({ localState: ServerState.PARTNER_DOWN, partnerState: null, isCommunicating: false }),
      fakeStatus({ name: 'removed-but-running', localState: ServerState.RECOVER_WAIT }),
    ];
    const status = await http<Json & { relationships: Json[] }>(a.baseUrl, '/api/v1/status');
    assert.equal(status.status, 200, status.text);
    assert.deepEqual(
      status.body.relationships.map((r) => [
        r.name,
        r.state,
        r.partnerState,
        r.connection,
        r.isPartnerReachable,
      ]),
      [
        ['dc-pair', 'partnerDown', null, 'down', false],
        ['removed-but-running', 'recoverWait', 'normal', 'up', true],
      ],
    );
    assert.deepEqual(status.body.relationships[0]?.scopeIds, ['lab']);
    const one = await http<Json & { connection: Json }>(a.baseUrl, '/api/v1/failover/relationships/dc-pair');
    assert.equal(one.body.state, 'partnerDown');
    assert.equal(one.body.isRunning, true);
    assert.equal(one.body.connection.unackedUpdates, 3);
  });

  test('/metrics: failover series per relationship', async () => {
    a.failover.statusList = [
      fakeStatus({
        localState: ServerState.COMMUNICATIONS_INTERRUPTED,
        isCommunicating: false,
        clockSkewSeconds: 2,
      }),
    ];
    const res = await http<string>(a.baseUrl, '/metrics', { token: null });
    assert.equal(res.status, 200);
    const m = parsePrometheusText(res.text);
    const rel = { relationship: 'dc-pair' };
    assert.equal(
      sampleValue(m, 'twinlease_failover_state', { ...rel, state: 'communicationsInterrupted' }),
      1,
    );
    assert.equal(sampleValue(m, 'twinlease_failover_state', { ...rel, state: 'normal' }), 0);
    assert.equal(sampleValue(m, 'twinlease_failover_partner_state', { ...rel, state: 'normal' }), 1);
    assert.equal(sampleValue(m, 'twinlease_failover_link_up', rel), 0);
    assert.equal(sampleValue(m, 'twinlease_failover_unacked_updates', rel), 3);
    assert.equal(sampleValue(m, 'twinlease_failover_queued_updates', rel), 7);
    assert.equal(sampleValue(m, 'twinlease_failover_clock_skew_seconds', rel), 2);
    assert.equal(sampleValue(m, 'twinlease_failover_last_contact_timestamp_seconds', rel) > 0, true);
    assert.equal(sampleValue(m, 'twinlease_failover_events_total', { ...rel, counter: 'messagesSent' }), 42);
    assert.equal(m.get('twinlease_failover_events_total')?.type, 'counter');
    const states = m
      .get('twinlease_failover_state')
      ?.samples.filter((s) => s.labels.relationship === 'dc-pair');
    assert.equal(states?.length, 14, 'one series per §1.3 state');
  });

  test('/openapi.json lists the failover routes', async () => {
    const doc = await http<{ paths: Record<string, Record<string, unknown>> }>(a.baseUrl, '/openapi.json', {
      token: null,
    });
    const paths = doc.body.paths;
    for (const [path, methods] of [
      ['/api/v1/failover/relationships', ['get', 'post']],
      ['/api/v1/failover/relationships/{name}', ['get', 'patch', 'delete']],
      ['/api/v1/failover/relationships/{name}/scopes', ['post']],
      ['/api/v1/failover/relationships/{name}/scopes/{scopeId}', ['delete']],
      ['/api/v1/failover/relationships/{name}/actions/partner-down', ['post']],
      ['/api/v1/failover/relationships/{name}/actions/replicate', ['post']],
      ['/api/v1/scopes/{scopeId}/config', ['get', 'put']],
    ] as const) {
      for (const m of methods) assert.ok(paths[path]?.[m], `${m} ${path}`);
    }
  });

  test('the embedded default config is never written', () => {
    const file = new ConfigFile({ configPath: DEFAULT_CONFIG_PATH } as unknown as ApiDeps, () => 0);
    const w = file.writablePath();
    assert.equal(w.ok, false);
    assert.equal(!w.ok && w.refusal.status, 409);
    const named = new ConfigFile({ config: () => ({ file: '<default>' }) } as unknown as ApiDeps, () => 0);
    assert.equal(named.writablePath().ok, false);
  });
});

describe('scope configs and replication between two API servers', () => {
  let a: FailoverApiServer;
  let b: FailoverApiServer;

  before(async () => {
    b = await startFailoverApi('dhcp-b', {
      api: {
        listenAddress: '127.0.0.1',
        port: 0,
        tokens: [
          { name: 'partner', token: PARTNER_TOKEN },
          { name: 'ops', token: WRITE_TOKEN },
          { name: 'grafana', token: READ_TOKEN, readOnly: true },
        ],
      },
    });
    a = await startFailoverApi('dhcp-a');
    // B's lab differs from A's; office is the same.
    const lab = await http<Json>(b.baseUrl, '/api/v1/scopes/lab/config');
    const put = await http<Json>(b.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body: { ...lab.body, leaseTimeSeconds: 7200, options: [] },
    });
    assert.equal(put.status, 200, put.text);
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('GET/PUT scope config: the file form, id explicit, 400 with paths, 201 for a new scope', async () => {
    const implicit = await http<Json>(a.baseUrl, '/api/v1/scopes/10.70.0.0/config');
    assert.equal(implicit.status, 200);
    assert.equal(implicit.body.id, '10.70.0.0');
    assert.equal((await http(a.baseUrl, '/api/v1/scopes/nope/config')).status, 404);
    const bad = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body: { subnet: '10.50.0.0/24', ranges: [{ start: '10.50.0.10', end: 'x' }] },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.path, '/body/ranges/0/end');
    const outside = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body: { subnet: '10.50.0.0/24', ranges: [{ start: '10.50.1.10', end: '10.50.1.20' }] },
    });
    assert.equal(outside.status, 400, outside.text);
    assert.match(String(outside.body.path), /^\/body\/ranges\/0/);
    const mismatch = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body: { id: 'office', subnet: '10.50.0.0/24', ranges: [{ start: '10.50.0.10', end: '10.50.0.20' }] },
    });
    assert.equal(mismatch.body.path, '/body/id');
    const created = await http<Json>(a.baseUrl, '/api/v1/scopes/guest/config', {
      ...write,
      method: 'PUT',
      body: { subnet: '10.80.0.0/24', ranges: [{ start: '10.80.0.10', end: '10.80.0.20' }] },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal((await http<Json>(a.baseUrl, '/api/v1/scopes/guest')).body.subnet, '10.80.0.0/24');
  });

  test('replicate sends our scope configs; afterwards the partner has the same', async () => {
    const created = await http<Json & { partner: Json }>(a.baseUrl, '/api/v1/failover/relationships', {
      ...write,
      method: 'POST',
      body: relationshipConfig({
        scopeIds: ['lab', 'office'],
        partner: { address: '10.0.0.3', api: { url: `${b.baseUrl}/`, token: PARTNER_TOKEN } },
      }),
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.partner.api, { url: b.baseUrl, isTokenConfigured: true });
    assert.ok(!created.text.includes(PARTNER_TOKEN), 'the partner token is never returned');
    assert.equal(created.body.configurationDiffers, true, 'lab differs on B');

    const reloadsB = b.reloads;
    const first = await http<Json & { items: Json[] }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair/actions/replicate',
      { ...write, method: 'POST' },
    );
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(
      first.body.items.map((i) => [i.scopeId, i.result]),
      [
        ['lab', 'updated'],
        ['office', 'identical'],
      ],
    );
    assert.equal(b.reloads, reloadsB + 1, 'the partner reloaded once (one scope changed)');
    const ours = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config');
    const theirs = await http<Json>(b.baseUrl, '/api/v1/scopes/lab/config');
    assert.deepEqual(theirs.body, ours.body);
    assert.equal(b.config().scopes.find((s) => s.id === 'lab')?.leaseTimeSeconds, 3600);

    const second = await http<Json & { items: Json[] }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair/actions/replicate-config',
      { ...write, method: 'POST', body: { scopeIds: ['lab'] } },
    );
    assert.deepEqual(
      second.body.items.map((i) => i.result),
      ['identical'],
    );
    const rel = await http<Json & { operationTracker: Json[]; configurationDifferences: Json[] }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair',
    );
    // The scopes agree now; B has no relationship of that name (it was only created on A).
    assert.deepEqual(
      rel.body.configurationDifferences.map((d) => d.name),
      ['relationship'],
    );
    assert.equal(rel.body.operationTracker[0]?.operation, 'replicate');
    assert.equal(rel.body.operationTracker[0]?.detail, '0 updated, 1 identical, 0 failed');

    const notMine = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/actions/replicate', {
      ...write,
      method: 'POST',
      body: { scopeIds: ['10.70.0.0'] },
    });
    assert.equal(notMine.status, 400);
    assert.equal(notMine.body.path, '/body/scopeIds/0');
  });

  test('an unreachable partner: configurationDiffers null, replicate reports failed', async () => {
    await http(a.baseUrl, '/api/v1/failover/relationships/dc-pair', {
      ...write,
      method: 'PATCH',
      body: { partner: { api: { url: 'http://127.0.0.1:9', token: PARTNER_TOKEN } } },
    });
    const rel = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair');
    assert.equal(rel.body.configurationDiffers, null);
    const r = await http<Json & { items: Json[] }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair/actions/replicate',
      { ...write, method: 'POST' },
    );
    assert.equal(r.status, 200);
    assert.ok(r.body.items.every((i) => i.result === 'failed'));
    assert.match(String(r.body.items[0]?.message), /cannot reach the partner API/);
    await http(a.baseUrl, '/api/v1/failover/relationships/dc-pair', {
      ...write,
      method: 'PATCH',
      body: { partner: { api: null } },
    });
    const none = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/actions/replicate', {
      ...write,
      method: 'POST',
    });
    assert.equal(none.status, 409);
    assert.equal(none.body.error, 'partner-api-not-configured');
  });

  test('the this-server/partner split of the statistics follows the relationship role', async () => {
    const before = await http<Json>(a.baseUrl, '/api/v1/scopes/office/failover-statistics');
    assert.deepEqual(
      [before.body.role, before.body.thisAddrFree, before.body.partnerAddrFree],
      ['primary', 50, 0],
    );
    const r = await http<Json & { server1: Json; server2: Json }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair',
      { ...write, method: 'PATCH', body: { role: 'secondary' } },
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.server1.isThisServer, false, 'Server1 is the primary: now the partner');
    assert.equal(r.body.server2.isThisServer, true);
    const after = await http<Json>(a.baseUrl, '/api/v1/scopes/office/failover-statistics');
    assert.deepEqual(
      [after.body.role, after.body.thisAddrFree, after.body.partnerAddrFree],
      ['secondary', 0, 50],
      'as secondary, the FREE (never used) addresses are the primary’s',
    );
  });
});
