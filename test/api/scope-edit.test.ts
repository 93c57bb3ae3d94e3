// Scope, reservation and exclusion verbs over the API (issue 18 item 3): each is a config write, so
// a dry run changes nothing, a change that orphans active leases is refused unless forced, a gain
// the failover partner lacks is refused (partner check), and replicate=true makes the same scope
// on the partner (ours put back if it refuses). Deactivate keeps the scope configured.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  activeLease,
  type FailoverApiServer,
  relationshipConfig,
  startFailoverApi,
  WRITE_TOKEN,
} from './failover-helpers.js';
import { http, READ_TOKEN } from './helpers.js';

type Json = Record<string, unknown>;
type Preview = Json & {
  dryRun: true;
  wouldApply: boolean;
  diff: { path: string; before?: unknown; after?: unknown }[];
  orphanedLeases: { count: number; items: Json[] };
  blockers: { error: string }[];
  partner?: Json & { preview: Preview | null };
};
const write = { token: WRITE_TOKEN };
const fileOf = (s: FailoverApiServer) => readFileSync(s.configPath, 'utf8');
const scopeOf = (s: FailoverApiServer, id: string) =>
  (JSON.parse(fileOf(s)) as { scopes: Json[] }).scopes.find((x) => x.id === id);

describe('scope, reservation and exclusion verbs', () => {
  let a: FailoverApiServer;
  const req = (method: string, path: string, body?: unknown, token = WRITE_TOKEN) =>
    http<Json>(a.baseUrl, path, { token, method, ...(body === undefined ? {} : { body }) });

  before(async () => {
    a = await startFailoverApi('dhcp-a', {}, [
      activeLease('10.50.0.12', 'lab', 1),
      activeLease('10.60.0.100', 'office', 2),
    ]);
  });
  after(async () => {
    await a.close();
  });

  test('scope add: 201 with the object as written; a dry run writes nothing; an existing id is 409', async () => {
    const scope = {
      id: 'lab2',
      subnet: '10.80.0.0/24',
      ranges: [{ start: '10.80.0.10', end: '10.80.0.20' }],
    };
    const before = fileOf(a);
    const dry = await http<Preview>(a.baseUrl, '/api/v1/scopes?dryRun=true', {
      ...write,
      method: 'POST',
      body: scope,
    });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.wouldApply, true);
    assert.deepEqual(dry.body.diff, [{ path: '/scopes/3', after: scope }]);
    assert.equal(fileOf(a), before);
    const added = await req('POST', '/api/v1/scopes', scope);
    assert.equal(added.status, 201, added.text);
    assert.deepEqual(added.body, scope);
    assert.deepEqual(scopeOf(a, 'lab2'), scope);
    assert.ok(
      a.config().scopes.some((s) => s.id === 'lab2'),
      'reloaded',
    );
    const again = await req('POST', '/api/v1/scopes', scope);
    assert.equal(again.status, 409);
    assert.equal(again.body.path, '/body/id');
    // The loader's errors are the request's.
    const bad = await req('POST', '/api/v1/scopes', {
      id: 'bad',
      subnet: '10.81.0.0/24',
      ranges: [{ start: '10.82.0.1', end: '10.82.0.2' }],
    });
    assert.equal(bad.status, 400, bad.text);
    assert.match(String(bad.body.path), /^\/body\/ranges\/0/);
    const readOnly = await req('POST', '/api/v1/scopes', { ...scope, id: 'x' }, READ_TOKEN);
    assert.equal(readOnly.status, 403);
  });

  test('scope set: a merge patch; a range shrunk below an active lease is refused unless forced', async () => {
    const set = await req('PATCH', '/api/v1/scopes/lab2', { name: 'second lab', leaseTimeSeconds: 600 });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.name, 'second lab');
    assert.equal(a.config().scopes.find((s) => s.id === 'lab2')?.leaseTimeSeconds, 600);
    const unset = await req('PATCH', '/api/v1/scopes/lab2', { name: null });
    assert.equal(unset.body.name, undefined, 'null removes');
    const idChange = await req('PATCH', '/api/v1/scopes/lab2', { id: 'other' });
    assert.equal(idChange.status, 400);
    assert.equal(idChange.body.path, '/body/id');
    const shrink = await req('PATCH', '/api/v1/scopes/lab', {
      ranges: [{ start: '10.50.0.20', end: '10.50.0.29' }],
    });
    assert.equal(shrink.status, 409, shrink.text);
    assert.equal(shrink.body.error, 'orphans-active-leases');
    assert.equal((scopeOf(a, 'lab')!.ranges as Json[])[0]!.start, '10.50.0.10');
    assert.equal((await req('PATCH', '/api/v1/scopes/nope', { name: 'x' })).status, 404);
  });

  test('deactivate and activate: active false in the file, the scope stays', async () => {
    const off = await req('POST', '/api/v1/scopes/lab2/actions/deactivate');
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.active, false);
    assert.equal(scopeOf(a, 'lab2')?.active, false);
    const resource = await http<Json>(a.baseUrl, '/api/v1/scopes/lab2');
    assert.equal(resource.body.active, false);
    const on = await req('POST', '/api/v1/scopes/lab2/actions/activate');
    assert.equal(on.status, 200);
    assert.equal('active' in (scopeOf(a, 'lab2') ?? {}), false, 'active is the default: not written');
    assert.equal((await http<Json>(a.baseUrl, '/api/v1/scopes/lab2')).body.active, true);
  });

  test('scope remove: refused while it orphans active leases; forced, or empty, it goes', async () => {
    const refused = await req('DELETE', '/api/v1/scopes/office');
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'orphans-active-leases');
    assert.ok(scopeOf(a, 'office'));
    const removed = await req('DELETE', '/api/v1/scopes/lab2');
    assert.equal(removed.status, 204, removed.text);
    assert.equal(scopeOf(a, 'lab2'), undefined);
    const forced = await req('DELETE', '/api/v1/scopes/office?force=true');
    assert.equal(forced.status, 204);
    assert.equal((await req('DELETE', '/api/v1/scopes/office')).status, 404);
  });

  test('reservations: add, set, remove; a reservation on another client lease is refused', async () => {
    const r = { address: '10.50.0.5', hardwareAddress: '02:00:00:00:00:99', hostname: 'printer' };
    const added = await req('POST', '/api/v1/scopes/lab/reservations', r);
    assert.equal(added.status, 201, added.text);
    assert.deepEqual(added.body, r);
    assert.deepEqual(scopeOf(a, 'lab')?.reservations, [r]);
    assert.equal((await req('POST', '/api/v1/scopes/lab/reservations', r)).status, 409);
    const conflict = await req('POST', '/api/v1/scopes/lab/reservations', {
      address: '10.50.0.12',
      hardwareAddress: '02:00:00:00:00:77',
    });
    assert.equal(conflict.status, 409, conflict.text);
    assert.equal(conflict.body.error, 'reservation-conflict');
    assert.equal(conflict.body.path, '/body/address');
    const invalid = await req('POST', '/api/v1/scopes/lab/reservations', { address: '10.50.0.6' });
    assert.equal(invalid.status, 400, invalid.text);
    assert.match(String(invalid.body.path), /^\/body/);

    const set = await req('PATCH', '/api/v1/scopes/lab/reservations/10.50.0.5', {
      description: 'by the door',
    });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body, { ...r, description: 'by the door' });
    assert.equal(a.config().scopes.find((s) => s.id === 'lab')?.reservations[0]?.description, 'by the door');
    assert.equal(
      (await req('PATCH', '/api/v1/scopes/lab/reservations/10.50.0.7', { hostname: 'x' })).status,
      404,
    );
    const removed = await req('DELETE', '/api/v1/scopes/lab/reservations/10.50.0.5');
    assert.equal(removed.status, 204, removed.text);
    assert.equal(scopeOf(a, 'lab')?.reservations, undefined);
  });

  test('exclusions: add (refused over an active lease unless forced), remove', async () => {
    const before = fileOf(a);
    const over = await req('POST', '/api/v1/scopes/lab/exclusions', {
      start: '10.50.0.11',
      end: '10.50.0.13',
    });
    assert.equal(over.status, 409, over.text);
    assert.equal(over.body.error, 'orphans-active-leases');
    assert.equal(fileOf(a), before);
    const dry = await http<Preview>(a.baseUrl, '/api/v1/scopes/lab/exclusions?dryRun=true', {
      ...write,
      method: 'POST',
      body: { start: '10.50.0.11', end: '10.50.0.13' },
    });
    assert.equal(dry.body.orphanedLeases.count, 1);
    const added = await req('POST', '/api/v1/scopes/lab/exclusions', {
      start: '10.50.0.20',
      end: '10.50.0.21',
    });
    assert.equal(added.status, 201, added.text);
    assert.deepEqual(scopeOf(a, 'lab')?.exclusions, [{ start: '10.50.0.20', end: '10.50.0.21' }]);
    assert.equal(a.config().scopes.find((s) => s.id === 'lab')?.exclusions.length, 1);
    assert.equal((await req('DELETE', '/api/v1/scopes/lab/exclusions/10.50.0.20-10.50.0.22')).status, 404);
    const removed = await req('DELETE', '/api/v1/scopes/lab/exclusions/10.50.0.20-10.50.0.21');
    assert.equal(removed.status, 204, removed.text);
    assert.equal(scopeOf(a, 'lab')?.exclusions, undefined);
    const badRange = await req('DELETE', '/api/v1/scopes/lab/exclusions/10.50.0.20');
    assert.equal(badRange.status, 400);
    assert.equal(badRange.body.path, '/params/range');
  });
});

describe('the same verbs on a failover scope: partner check and replicate=true', () => {
  let a: FailoverApiServer;
  let b: FailoverApiServer;

  before(async () => {
    b = await startFailoverApi('dhcp-b', {}, [activeLease('10.50.0.20', 'lab', 9, 'dhcp-b')]);
    a = await startFailoverApi('dhcp-a', {
      failover: [
        relationshipConfig({
          scopeIds: ['lab'],
          partner: { address: '10.0.0.3', api: { url: b.baseUrl, token: WRITE_TOKEN } },
        }),
      ],
    });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('a reservation outside the ranges is a gain the partner lacks: refused; replicate adds it on both', async () => {
    const r = { address: '10.50.0.200', hardwareAddress: '02:00:00:00:00:98' };
    const refused = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/reservations', {
      ...write,
      method: 'POST',
      body: r,
    });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'partner-would-reject');
    const dry = await http<Preview>(a.baseUrl, '/api/v1/scopes/lab/reservations?dryRun=true&replicate=true', {
      ...write,
      method: 'POST',
      body: r,
    });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.wouldApply, true);
    assert.equal(dry.body.partner?.preview?.dryRun, true);
    assert.equal(scopeOf(b, 'lab')?.reservations, undefined, 'nothing written on the partner');
    const done = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/reservations?replicate=true', {
      ...write,
      method: 'POST',
      body: r,
    });
    assert.equal(done.status, 201, done.text);
    assert.deepEqual(scopeOf(a, 'lab')?.reservations, [r]);
    assert.deepEqual(scopeOf(b, 'lab'), scopeOf(a, 'lab'), 'the same scope on the partner');
  });

  test('deactivate with replicate: both; a partner that refuses keeps ours as it was', async () => {
    const off = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/actions/deactivate?replicate=true', {
      ...write,
      method: 'POST',
    });
    assert.equal(off.status, 200, off.text);
    assert.equal(scopeOf(a, 'lab')?.active, false);
    assert.equal(scopeOf(b, 'lab')?.active, false);
    // Excluding 10.50.0.20 orphans B's lease there: B refuses, ours is put back.
    const before = fileOf(a);
    const refused = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/exclusions?replicate=true', {
      ...write,
      method: 'POST',
      body: { start: '10.50.0.20', end: '10.50.0.20' },
    });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'partner-refused');
    assert.match(String(refused.body.message), /ours was put back/);
    assert.equal(fileOf(a), before);
    // A scope of a relationship cannot be removed.
    const remove = await http<Json>(a.baseUrl, '/api/v1/scopes/lab?force=true', {
      ...write,
      method: 'DELETE',
    });
    assert.equal(remove.status, 409);
    assert.match(String(remove.body.message), /is in failover relationship "dc-pair"; take it out/);
    // A scope in no relationship has no partner to replicate to.
    const noPartner = await http<Json>(a.baseUrl, '/api/v1/scopes/office/actions/deactivate?replicate=true', {
      ...write,
      method: 'POST',
    });
    assert.equal(noPartner.status, 409);
    assert.equal(noPartner.body.error, 'partner-api-not-configured');
  });
});
