// Lease release and delete over the API (issue 18 item 2) against a real server with leases made
// by relayed DHCP: a release ends the binding as the client's RELEASE does (the client gets its
// address back), a delete removes the record from the engine and the store, an active lease is
// deleted only with force=true (released first); the refusals (404, 409, 403).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  http,
  mac,
  READ_TOKEN,
  RELAY_LAB,
  Relay,
  startTestServer,
  type TestServer,
  WRITE_TOKEN,
} from './helpers.js';

type Json = Record<string, unknown>;
const write = { token: WRITE_TOKEN };

function storedRow(t: TestServer, address: string): Json | undefined {
  // The store in WAL mode: a second connection sees what the server committed.
  const db = new Database(t.dbPath, { readonly: true });
  try {
    const n = address.split('.').reduce((a, b) => a * 256 + Number(b), 0);
    return db.prepare('SELECT state, hardware_address FROM leases WHERE address = ?').get(n) as
      | Json
      | undefined;
  } finally {
    db.close();
  }
}

describe('lease release and delete', () => {
  let t: TestServer;
  let relay: Relay;
  const addr: Record<string, string> = {};

  before(async () => {
    t = await startTestServer();
    relay = await Relay.open(RELAY_LAB, t.dhcpPort);
    for (const n of [1, 2, 3, 4]) addr[`c${n}`] = await relay.dora({ mac: mac(n), hostname: `host-${n}` });
  });
  after(async () => {
    await relay.close();
    await t.dispose();
  });

  test('release: the binding ends as on a client RELEASE; the client gets its address back', async () => {
    const r = await http<Json>(t.baseUrl, `/api/v1/leases/${addr.c1}/actions/release`, {
      ...write,
      method: 'POST',
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.bindingState, 'free', 'standalone: free at once');
    assert.equal(r.body.addressState, null);
    assert.equal((r.body.hardwareAddress as Json).mac, '02:00:00:00:00:01', 'the client is remembered');
    assert.equal(r.body.hostname, 'host-1');
    assert.equal(storedRow(t, addr.c1!)?.state, 'free', 'durable');
    const again = await http<Json>(t.baseUrl, `/api/v1/leases/${addr.c1}/actions/release`, {
      ...write,
      method: 'POST',
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'not-active');
    assert.match(String(again.body.message), /is not an active lease \(its binding is free\)/);
    // The same client is given the same address again.
    assert.equal(await relay.dora({ mac: mac(1) }), addr.c1);
  });

  test('release under the scope path; 404 for another scope or no record; 403 read-only', async () => {
    const wrongScope = await http<Json>(
      t.baseUrl,
      `/api/v1/scopes/office/leases/${addr.c2}/actions/release`,
      {
        ...write,
        method: 'POST',
      },
    );
    assert.equal(wrongScope.status, 404);
    assert.match(String(wrongScope.body.message), /no lease record for .* in scope "office"/);
    const none = await http<Json>(t.baseUrl, '/api/v1/leases/10.50.0.28/actions/release', {
      ...write,
      method: 'POST',
    });
    assert.equal(none.status, 404);
    const noScope = await http<Json>(t.baseUrl, `/api/v1/scopes/nope/leases/${addr.c2}/actions/release`, {
      ...write,
      method: 'POST',
    });
    assert.equal(noScope.status, 404);
    assert.match(String(noScope.body.message), /no scope "nope"/);
    const readOnly = await http<Json>(t.baseUrl, `/api/v1/leases/${addr.c2}/actions/release`, {
      token: READ_TOKEN,
      method: 'POST',
    });
    assert.equal(readOnly.status, 403);
    const ok = await http<Json>(t.baseUrl, `/api/v1/scopes/lab/leases/${addr.c2}/actions/release`, {
      ...write,
      method: 'POST',
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.bindingState, 'free');
  });

  test('delete: an active lease is refused without force; forced, it is released and removed', async () => {
    const refused = await http<Json>(t.baseUrl, `/api/v1/leases/${addr.c3}`, { ...write, method: 'DELETE' });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'lease-active');
    assert.match(
      String(refused.body.message),
      /is an active lease of 02:00:00:00:00:03; release it first, or force/,
    );
    assert.equal(storedRow(t, addr.c3!)?.state, 'active', 'nothing changed');
    const count = (await http<Json & { leaseStore: { leases: number } }>(t.baseUrl, '/api/v1/status')).body
      .leaseStore.leases;

    const forced = await http(t.baseUrl, `/api/v1/scopes/lab/leases/${addr.c3}?force=true`, {
      ...write,
      method: 'DELETE',
    });
    assert.equal(forced.status, 204, forced.text);
    assert.equal((await http(t.baseUrl, `/api/v1/leases/${addr.c3}`)).status, 404);
    assert.equal(storedRow(t, addr.c3!), undefined, 'gone from the store');
    const after = (await http<Json & { leaseStore: { leases: number } }>(t.baseUrl, '/api/v1/status')).body;
    assert.equal(after.leaseStore.leases, count - 1);
  });

  test('delete of a free record; a client renewing a deleted lease starts over', async () => {
    const released = await http<Json>(t.baseUrl, `/api/v1/leases/${addr.c4}/actions/release`, {
      ...write,
      method: 'POST',
    });
    assert.equal(released.status, 200);
    const deleted = await http(t.baseUrl, `/api/v1/leases/${addr.c4}`, { ...write, method: 'DELETE' });
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal(storedRow(t, addr.c4!), undefined);
    const none = await http<Json>(t.baseUrl, `/api/v1/leases/${addr.c4}`, { ...write, method: 'DELETE' });
    assert.equal(none.status, 404);
    const badQuery = await http<Json>(t.baseUrl, `/api/v1/leases/${addr.c2}?dryRun=true`, {
      ...write,
      method: 'DELETE',
    });
    assert.equal(badQuery.status, 400);
    assert.equal(badQuery.body.path, '/query/dryRun');
  });
});
