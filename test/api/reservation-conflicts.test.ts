// A reservation on an address that is leased to another client (docs/configuration.md
// §reservations): a change that creates one is refused, naming the lease (address, MAC, client id,
// expiry) — 409 on PUT /scopes/{id}/config, a config error on reload (API and SIGHUP) — and the
// running config is kept. A conflict that is already running (the server started with it) is
// warned about and does not block later reloads.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../../src/server/server.js';
import {
  type ClientSpec,
  eventually,
  http,
  mac,
  RELAY_LAB,
  Relay,
  startTestServer,
  type TestServer,
  WRITE_TOKEN,
} from './helpers.js';

type Json = Record<string, unknown>;
type ScopeJson = Json & { reservations?: Json[] };
type ConfigJson = Json & { scopes: ScopeJson[] };

describe('reservations on addresses leased to other clients', () => {
  let t: TestServer;
  let lab: Relay;
  const c1: ClientSpec = { mac: mac(1), clientId: `01${mac(1)}` };
  const c2: ClientSpec = { mac: mac(2) };
  const c3: ClientSpec = { mac: mac(3) };
  let a1 = '';
  let a2 = '';
  let a3 = '';
  const readConfig = () => JSON.parse(readFileSync(t.configPath, 'utf8')) as ConfigJson;
  const labOf = (c: ConfigJson) => c.scopes.find((s) => s.id === 'lab')!;
  const logLines = () =>
    readFileSync(join(t.dir, 'server.log'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Json);

  before(async () => {
    t = await startTestServer();
    lab = await Relay.open(RELAY_LAB, t.dhcpPort);
    a1 = await lab.dora(c1);
    a2 = await lab.dora(c2);
    a3 = await lab.dora(c3);
  });
  after(async () => {
    await lab?.close();
    await t?.dispose();
  });

  test('PUT /scopes/lab/config: 409 naming the lease; nothing written, nothing changed', async () => {
    const before = readFileSync(t.configPath, 'utf8');
    const { id: _id, ...scope } = (await http<ScopeJson>(t.baseUrl, '/api/v1/scopes/lab/config')).body;
    const reservations = [
      ...(scope.reservations ?? []),
      { address: a1, hardwareAddress: '02:00:00:00:00:77' },
    ];
    const res = await http<Json>(t.baseUrl, '/api/v1/scopes/lab/config', {
      method: 'PUT',
      token: WRITE_TOKEN,
      body: { ...scope, reservations },
    });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error, 'reservation-conflict');
    assert.equal(res.body.path, `/body/reservations/${reservations.length - 1}/address`);
    const message = String(res.body.message);
    assert.match(message, new RegExp(`${a1.replaceAll('.', '\\.')} is leased to another client`));
    assert.match(message, /02:00:00:00:00:01/);
    assert.match(message, /client id 01:02:00:00:00:00:01/);
    assert.match(message, /until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    assert.equal(readFileSync(t.configPath, 'utf8'), before, 'the file is unchanged');
    const running = await http<{ reservations: Json[] }>(t.baseUrl, '/api/v1/scopes/lab');
    assert.ok(!running.body.reservations.some((r) => r.address === a1), 'the running config is unchanged');
  });

  test("reserving a client's own leased address is no conflict", async () => {
    const { id: _id, ...scope } = (await http<ScopeJson>(t.baseUrl, '/api/v1/scopes/lab/config')).body;
    const reservations = [
      ...(scope.reservations ?? []),
      { address: a1, clientId: `01:${c1.mac.match(/../g)!.join(':')}` },
    ];
    const res = await http<Json>(t.baseUrl, '/api/v1/scopes/lab/config', {
      method: 'PUT',
      token: WRITE_TOKEN,
      body: { ...scope, reservations },
    });
    assert.equal(res.status, 200, res.text);
  });

  test('reload (API, dry run, SIGHUP): a config error at the reservation, the running config kept', async () => {
    const config = readConfig();
    const scope = labOf(config);
    scope.reservations = [
      ...(scope.reservations ?? []),
      { address: a2, hardwareAddress: '02:00:00:00:00:78' },
    ];
    const index = scope.reservations.length - 1;
    writeFileSync(t.configPath, JSON.stringify(config, null, 2));
    for (const dryRun of [true, false]) {
      const res = await http<{ error: string; errors: Json[] }>(t.baseUrl, '/api/v1/config/reload', {
        method: 'POST',
        token: WRITE_TOKEN,
        body: { dryRun },
      });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.errors.length, 1);
      const e = res.body.errors[0]!;
      assert.equal(e.path, `/scopes/0/reservations/${index}/address`);
      assert.match(
        String(e.message),
        new RegExp(`${a2.replaceAll('.', '\\.')} is leased to another client: MAC 02:00:00:00:00:02`),
      );
    }
    assert.equal(t.server.reload(), false, 'SIGHUP refuses it too');
    await eventually(
      async () =>
        logLines().some(
          (l) =>
            l.event === 'config.reload-rejected' &&
            JSON.stringify(l.errors).includes('is leased to another client'),
        ),
      'config.reload-rejected naming the lease in the log',
    );
    const leases = await http<Json>(t.baseUrl, `/api/v1/leases/${a2}`);
    assert.equal(leases.body.bindingState, 'active');
    assert.equal(leases.body.isReserved ?? false, false);
  });

  test('a conflict the server started with: a warning, and later reloads are not blocked by it', async () => {
    // The file still holds the conflicting reservation on a2 (the test before). Restart on it.
    await t.stop();
    const server = await startServer({ configPath: t.configPath, logDestination: join(t.dir, 'server.log') });
    try {
      await eventually(
        async () => logLines().some((l) => l.event === 'config.reservation-conflict'),
        'the warning',
      );
      const warned = logLines().filter((l) => l.event === 'config.reservation-conflict');
      assert.equal(warned.length, 1);
      assert.equal(warned[0]!.level, 'warn');
      assert.equal(warned[0]!.address, a2);
      assert.equal(warned[0]!.mac, '02:00:00:00:00:02');
      // An unrelated change reloads; a new conflict (on a3) is still refused.
      const config = readConfig();
      labOf(config).leaseTimeSeconds = 1800;
      writeFileSync(t.configPath, JSON.stringify(config, null, 2));
      assert.equal(server.reload(), true);
      const lab2 = labOf(config);
      lab2.reservations = [
        ...(lab2.reservations ?? []),
        { address: a3, hardwareAddress: '02:00:00:00:00:79' },
      ];
      writeFileSync(t.configPath, JSON.stringify(config, null, 2));
      assert.equal(server.reload(), false);
    } finally {
      await server.stop();
    }
  });
});
