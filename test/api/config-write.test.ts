// Checks before a config write (issue 14 item 5): a real dry run (the diff, the active leases the
// change would orphan, the partner check; nothing written), a 409 with the list for a change that
// orphans active leases or that the failover partner would reject unless force=true, and
// replicate=true, which makes the change on both partners (ours put back if the partner refuses).

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
import { http } from './helpers.js';

type Json = Record<string, unknown>;
type Preview = Json & {
  dryRun: true;
  wouldApply: boolean;
  changes: Json & { scopesChanged: string[] };
  diff: { path: string; before?: unknown; after?: unknown }[];
  orphanedLeases: { count: number; items: Json[] };
  partnerChecks: Json[];
  blockers: { error: string; message: string }[];
  partner?: Json & { preview: Preview | null };
};
const write = { token: WRITE_TOKEN };
const fileOf = (s: FailoverApiServer) => readFileSync(s.configPath, 'utf8');
const labOf = (s: FailoverApiServer) =>
  (JSON.parse(fileOf(s)) as { scopes: Json[] }).scopes.find((x) => x.id === 'lab')!;

/** lab moved to another /24: every lease in 10.50.0.0/24 is orphaned. */
const MOVED_LAB = {
  id: 'lab',
  name: 'lab',
  subnet: '10.51.0.0/24',
  ranges: [{ start: '10.51.0.10', end: '10.51.0.29' }],
  leaseTimeSeconds: 3600,
};

describe('checks before a scope config write', () => {
  let a: FailoverApiServer;

  before(async () => {
    a = await startFailoverApi('dhcp-a', {}, [
      activeLease('10.50.0.12', 'lab', 1),
      activeLease('10.50.0.11', 'lab', 2),
      // Ran out already: not held, so not orphaned.
      { ...activeLease('10.50.0.13', 'lab', 3), leaseExpiresAt: 1 },
      activeLease('10.60.0.100', 'office', 4),
    ]);
  });
  after(async () => {
    await a.close();
  });

  test('dryRun=true answers the diff and the orphaned leases, and changes nothing', async () => {
    const fileBefore = fileOf(a);
    const reloads = a.reloads;
    const res = await http<Preview>(a.baseUrl, '/api/v1/scopes/lab/config?dryRun=true', {
      ...write,
      method: 'PUT',
      body: MOVED_LAB,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.dryRun, true);
    assert.equal(res.body.wouldApply, false);
    assert.deepEqual(res.body.changes.scopesChanged, ['lab']);
    assert.deepEqual(
      res.body.diff.find((d) => d.path === '/scopes/0/subnet'),
      { path: '/scopes/0/subnet', before: '10.50.0.0/24', after: '10.51.0.0/24' },
    );
    assert.ok(
      res.body.diff.some((d) => d.path === '/scopes/0/options' && d.after === undefined),
      'a removed property has no after',
    );
    assert.equal(res.body.orphanedLeases.count, 2);
    assert.deepEqual(res.body.orphanedLeases.items[0], {
      ipAddress: '10.50.0.11',
      scopeId: 'lab',
      hardwareAddress: '02:00:00:00:00:02',
      clientId: null,
      hostname: 'host-2',
      leaseExpiresAt: '2026-11-24T01:00:00Z',
      ownerServer: 'dhcp-a',
    });
    assert.deepEqual(
      res.body.blockers.map((b) => b.error),
      ['orphans-active-leases'],
    );
    assert.equal(fileOf(a), fileBefore, 'the file is unchanged');
    assert.equal(a.reloads, reloads, 'nothing was reloaded');
  });

  test('a change that orphans active leases is a 409 with the list; force=true writes it', async () => {
    const fileBefore = fileOf(a);
    const refused = await http<Json & { orphanedLeases: { count: number; items: Json[] } }>(
      a.baseUrl,
      '/api/v1/scopes/lab/config',
      { ...write, method: 'PUT', body: MOVED_LAB },
    );
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'orphans-active-leases');
    assert.match(
      String(refused.body.message),
      /2 active leases outside every scope \(10\.50\.0\.11, 10\.50\.0\.12\)/,
    );
    assert.deepEqual(
      refused.body.orphanedLeases.items.map((l) => l.ipAddress),
      ['10.50.0.11', '10.50.0.12'],
    );
    assert.equal(fileOf(a), fileBefore, 'nothing was written');

    // Shrinking the range below the leases orphans them too; excluding one orphans that one.
    const excluded = await http<Json & { orphanedLeases: { items: Json[] } }>(
      a.baseUrl,
      '/api/v1/scopes/lab/config?dryRun=true',
      {
        ...write,
        method: 'PUT',
        body: { ...labOf(a), exclusions: [{ start: '10.50.0.12', end: '10.50.0.12' }] },
      },
    );
    assert.deepEqual(
      excluded.body.orphanedLeases.items.map((l) => l.ipAddress),
      ['10.50.0.12'],
    );

    const harmless = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body: { ...labOf(a), leaseTimeSeconds: 1800 },
    });
    assert.equal(harmless.status, 200, 'a change that orphans nothing needs no force');

    const forced = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config?force=true', {
      ...write,
      method: 'PUT',
      body: MOVED_LAB,
    });
    assert.equal(forced.status, 200, forced.text);
    assert.equal(labOf(a).subnet, '10.51.0.0/24');
    // Already orphaned leases do not hold up the next change.
    const next = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body: { ...MOVED_LAB, leaseTimeSeconds: 600 },
    });
    assert.equal(next.status, 200, next.text);
  });

  test('relationship writes have a dry run too, secrets redacted', async () => {
    const fileBefore = fileOf(a);
    const created = await http<Preview>(a.baseUrl, '/api/v1/failover/relationships?dryRun=true', {
      ...write,
      method: 'POST',
      body: relationshipConfig({ scopeIds: ['office'], sharedSecret: 'a-very-secret-value' }),
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.dryRun, true);
    assert.deepEqual(created.body.changes.relationshipsAdded, ['dc-pair']);
    assert.ok(!created.text.includes('a-very-secret-value'), 'the secret is never shown');
    assert.equal((created.body.diff[0]?.after as Json[] | undefined)?.[0]?.sharedSecret, '[redacted]');
    assert.equal(fileOf(a), fileBefore);

    const real = await http<Json>(a.baseUrl, '/api/v1/failover/relationships', {
      ...write,
      method: 'POST',
      body: relationshipConfig({ scopeIds: ['office'] }),
    });
    assert.equal(real.status, 201, real.text);
    const patch = await http<Preview>(a.baseUrl, '/api/v1/failover/relationships/dc-pair?dryRun=true', {
      ...write,
      method: 'PATCH',
      body: { mcltSeconds: 600, sharedSecret: 'another-secret-value' },
    });
    assert.equal(patch.status, 200, patch.text);
    assert.deepEqual(
      patch.body.diff.map((d) => [d.path, d.before, d.after]),
      [
        ['/failover/0/mcltSeconds', 1800, 600],
        ['/failover/0/sharedSecret', undefined, '[redacted]'],
        ['/failover/0/auth', undefined, 'hmacSha256'],
      ],
    );
    const removed = await http<Preview>(a.baseUrl, '/api/v1/failover/relationships/dc-pair?dryRun=true', {
      ...write,
      method: 'DELETE',
    });
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(removed.body.changes.relationshipsRemoved, ['dc-pair']);
    const still = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair');
    assert.equal(still.status, 200);
    assert.equal(still.body.mcltSeconds, 1800);
  });
});

describe('the partner check and replicate=true', () => {
  let a: FailoverApiServer;
  let b: FailoverApiServer;
  /** lab with a second range the partner does not have (yet). */
  const grownLab = (s: FailoverApiServer) => ({
    ...labOf(s),
    ranges: [
      { start: '10.50.0.10', end: '10.50.0.29' },
      { start: '10.50.0.100', end: '10.50.0.109' },
    ],
  });

  before(async () => {
    // B holds an active lease at 10.50.0.20 (for the refused replication below).
    b = await startFailoverApi('dhcp-b', {}, [activeLease('10.50.0.20', 'lab', 9, 'dhcp-b')]);
    a = await startFailoverApi('dhcp-a', {
      failover: [
        relationshipConfig({
          scopeIds: ['lab'],
          partner: { address: '10.0.0.3', api: { url: b.baseUrl, token: WRITE_TOKEN } },
        }),
      ],
    });
    const onB = await http<Json>(b.baseUrl, '/api/v1/failover/relationships', {
      ...write,
      method: 'POST',
      body: relationshipConfig({
        role: 'secondary',
        local: { address: '10.0.0.3' },
        scopeIds: ['lab'],
        partner: { address: '10.0.0.2', api: { url: a.baseUrl, token: WRITE_TOKEN } },
      }),
    });
    assert.equal(onB.status, 201, onB.text);
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('a pool the partner lacks is a 409 naming the addresses; shrinking needs no check', async () => {
    const fileBefore = fileOf(a);
    const res = await http<Json & { partnerChecks: Json[] }>(a.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body: grownLab(a),
    });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error, 'partner-would-reject');
    assert.deepEqual(res.body.partnerChecks, [
      {
        relationship: 'dc-pair',
        scopeId: 'lab',
        partner: b.baseUrl,
        result: 'wouldReject',
        addresses: ['10.50.0.100-10.50.0.109'],
        message: 'the partner\'s scope "lab" has no range or reservation for these addresses',
      },
    ]);
    assert.equal(fileOf(a), fileBefore);

    const shrunk = await http<Preview>(a.baseUrl, '/api/v1/scopes/lab/config?dryRun=true', {
      ...write,
      method: 'PUT',
      body: { ...labOf(a), ranges: [{ start: '10.50.0.10', end: '10.50.0.19' }] },
    });
    assert.deepEqual(shrunk.body.partnerChecks, []);
    assert.equal(shrunk.body.wouldApply, true);
  });

  test('replicate=true changes both; the dry run shows both', async () => {
    const dry = await http<Preview>(a.baseUrl, '/api/v1/scopes/lab/config?dryRun=true&replicate=true', {
      ...write,
      method: 'PUT',
      body: grownLab(a),
    });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.wouldApply, true);
    assert.equal(dry.body.partner?.url, b.baseUrl);
    assert.equal(dry.body.partner?.preview?.dryRun, true);
    assert.equal(dry.body.partner?.preview?.orphanedLeases.count, 0);

    const reloadsB = b.reloads;
    const res = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config?replicate=true', {
      ...write,
      method: 'PUT',
      body: grownLab(a),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal((labOf(a).ranges as Json[]).length, 2);
    assert.deepEqual(labOf(b), labOf(a), 'the partner has the same scope');
    assert.equal(b.reloads, reloadsB + 1);
  });

  test('a partner that refuses keeps ours as it was', async () => {
    const fileBefore = fileOf(a);
    // 10.50.0.20 is leased on B: a range without it orphans B's lease.
    const body = {
      ...labOf(a),
      ranges: [
        { start: '10.50.0.10', end: '10.50.0.19' },
        { start: '10.50.0.100', end: '10.50.0.109' },
      ],
    };
    const res = await http<Json & { orphanedLeases: { items: Json[] } }>(
      a.baseUrl,
      '/api/v1/scopes/lab/config?replicate=true',
      { ...write, method: 'PUT', body },
    );
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error, 'partner-refused');
    assert.match(String(res.body.message), /ours was put back/);
    assert.deepEqual(
      res.body.orphanedLeases.items.map((l) => l.ipAddress),
      ['10.50.0.20'],
    );
    assert.equal(fileOf(a), fileBefore, 'ours is as before');
    assert.equal(a.config().scopes.find((s) => s.id === 'lab')?.ranges.length, 2, 'and so is the server');
  });

  test('replicate: a dry run says what the partner would refuse; force writes it', async () => {
    // Ours drops 10.50.0.20 (no lease of ours there); B holds a lease on it.
    const shrunk = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body: {
        ...labOf(a),
        ranges: [
          { start: '10.50.0.10', end: '10.50.0.19' },
          { start: '10.50.0.100', end: '10.50.0.109' },
        ],
      },
    });
    assert.equal(shrunk.status, 200, shrunk.text);
    const fileOfB = fileOf(b);
    const replicate = (query: string) =>
      http<Json & { items: Json[] }>(
        a.baseUrl,
        `/api/v1/failover/relationships/dc-pair/actions/replicate${query}`,
        {
          ...write,
          method: 'POST',
        },
      );
    const dry = await replicate('?dryRun=true');
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.items[0]?.result, 'wouldBeRefused');
    assert.match(String(dry.body.items[0]?.message), /1 active lease outside every scope \(10\.50\.0\.20\)/);
    const refused = await replicate('');
    assert.equal(refused.body.items[0]?.result, 'failed');
    assert.match(String(refused.body.items[0]?.message), /the partner API answered 409/);
    assert.equal(fileOf(b), fileOfB, 'the partner was not changed');
    const forced = await replicate('?force=true');
    assert.equal(forced.body.items[0]?.result, 'updated');
    assert.deepEqual(labOf(b), labOf(a));
  });

  test('an unreachable partner makes a growing pool unverified', async () => {
    const patched = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair', {
      ...write,
      method: 'PATCH',
      body: { partner: { api: { url: 'http://127.0.0.1:9' } } },
    });
    assert.equal(patched.status, 200, patched.text);
    const body = {
      ...labOf(a),
      ranges: [...(labOf(a).ranges as Json[]), { start: '10.50.0.200', end: '10.50.0.200' }],
    };
    const res = await http<Json & { partnerChecks: Json[] }>(a.baseUrl, '/api/v1/scopes/lab/config', {
      ...write,
      method: 'PUT',
      body,
    });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error, 'partner-unverified');
    assert.deepEqual(res.body.partnerChecks[0]?.addresses, ['10.50.0.200']);
    assert.match(String(res.body.partnerChecks[0]?.message), /cannot reach the partner API/);
    const forced = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config?force=true', {
      ...write,
      method: 'PUT',
      body,
    });
    assert.equal(forced.status, 200, forced.text);
  });
});
