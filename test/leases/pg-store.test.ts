// The PostgreSQL lease store against a real PostgreSQL 15 cluster started by the test itself
// (test/lib/postgres.ts: initdb in a temporary directory, run as the postgres user when root).
// In CI the binaries must be there (.ci/run installs the postgresql package): the test fails, it
// does not skip, when they are missing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { runDb } from '../../src/cli/commands/db.js';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { checkPgSchema, migratePgSchema, PG_SCHEMA_VERSION } from '../../src/leases/pg-schema.js';
import { openPgLeaseStore, openPgWarmUpStore, type PgLeaseStore } from '../../src/leases/pg-store.js';
import { BindingConflictError } from '../../src/leases/store.js';
import { startTestPostgres, type TestPostgres } from '../lib/postgres.js';

let db: TestPostgres;
const stores: PgLeaseStore[] = [];

before(async () => {
  db = await startTestPostgres();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await migratePgSchema(client, 'init');
  await client.end();
});
after(async () => {
  for (const s of stores) await s.close().catch(() => {});
  db?.destroy();
});

async function open(serverName: string, extra: { commitAttempts?: number } = {}): Promise<PgLeaseStore> {
  const s = await openPgLeaseStore({
    url: db.url,
    serverName,
    connectTimeoutMs: 1000,
    statementTimeoutMs: 2000,
    ...extra,
  });
  stores.push(s);
  return s;
}

const NOW = Math.floor(Date.now() / 1000);
let nextAddress = 0x0a000001;

function bound(address: number, client: string, cltt = NOW, expiresAt = NOW + 3600): Lease {
  return {
    ...emptyLease(address, '10.0.0.0', 'active', cltt),
    hardwareType: 1,
    hardwareAddress: client,
    clientId: `01${client}`,
    hostname: `host-${client}`,
    leaseExpiresAt: expiresAt,
    clientLastTransactionAt: cltt,
    ownerServer: 'tl',
  };
}

async function rowOf(address: number): Promise<Record<string, unknown> | undefined> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query('SELECT * FROM twinlease_leases WHERE address = $1', [address])).rows[0];
  } finally {
    await c.end();
  }
}

async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('schema', () => {
  test('init refuses an initialised database; upgrade at the current version does nothing', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await assert.rejects(migratePgSchema(c, 'init'), /already has a Twinlease schema/);
      assert.deepEqual(await migratePgSchema(c, 'upgrade'), {
        from: PG_SCHEMA_VERSION,
        to: PG_SCHEMA_VERSION,
      });
      await checkPgSchema(c);
    } finally {
      await c.end();
    }
  });

  test('a database without the schema, or with a newer one, is refused at start with what to do', async () => {
    db.psql('CREATE DATABASE empty OWNER twinlease');
    const emptyUrl = db.url.replace(/\/twinlease$/, '/empty');
    await assert.rejects(
      openPgLeaseStore({ url: emptyUrl, serverName: 'a' }),
      /lease store postgresql:\/\/twinlease@127\.0\.0\.1:\d+\/empty: the database has no Twinlease schema: run `twinlease db init/,
    );
    const c = new pg.Client({ connectionString: emptyUrl });
    await c.connect();
    await migratePgSchema(c, 'init');
    await c.query('UPDATE twinlease_schema SET version = $1', [PG_SCHEMA_VERSION + 1]);
    await c.end();
    await assert.rejects(
      openPgLeaseStore({ url: emptyUrl, serverName: 'a' }),
      /newer than this server understands/,
    );
  });

  test('db upgrade from version 1 adds the notification of deleted rows', async () => {
    db.psql('CREATE DATABASE v1 OWNER twinlease');
    const c = new pg.Client({ connectionString: db.url.replace(/\/twinlease$/, '/v1') });
    await c.connect();
    try {
      assert.deepEqual(await migratePgSchema(c, 'init', 1), { from: 0, to: 1 });
      await assert.rejects(checkPgSchema(c), /older than this server's .*db upgrade/);
      assert.deepEqual(await migratePgSchema(c, 'upgrade'), { from: 1, to: PG_SCHEMA_VERSION });
      await checkPgSchema(c);
      const triggers = await c.query<{ tgname: string }>(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'twinlease_leases'::regclass ORDER BY tgname",
      );
      assert.deepEqual(
        triggers.rows.map((r) => r.tgname),
        ['twinlease_leases_notify', 'twinlease_leases_notify_deleted'],
      );
    } finally {
      await c.end();
    }
  });

  test('twinlease db init and db upgrade', async () => {
    db.psql('CREATE DATABASE cli OWNER twinlease');
    const url = db.url.replace(/\/twinlease$/, '/cli');
    const run = async (mode: 'init' | 'upgrade') => {
      let stdout = '';
      let stderr = '';
      const code = await runDb(mode, { url }, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
      return { code, stdout, stderr };
    };
    assert.match((await run('upgrade')).stderr, /no Twinlease schema; use `twinlease db init`/);
    const init = await run('init');
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, new RegExp(`schema version none -> ${PG_SCHEMA_VERSION}`));
    assert.match((await run('init')).stderr, /already has a Twinlease schema/);
    const upgrade = await run('upgrade');
    assert.equal(upgrade.code, 0);
    assert.match(upgrade.stdout, /schema already at version/);
    assert.doesNotMatch(upgrade.stdout, /twinlease:twinlease@/, 'no password in the output');
  });

  test('an unreachable database is a clear error at start', async () => {
    await assert.rejects(
      openPgLeaseStore({ url: 'postgresql://x:y@127.0.0.1:1/none', serverName: 'a', connectTimeoutMs: 500 }),
      /lease store postgresql:\/\/x@127\.0\.0\.1:1\/none: cannot connect: .*ECONNREFUSED/,
    );
  });
});

describe('one server', () => {
  test('commit resolves only once the row is committed; it survives a crash of the database', async () => {
    const s = await open('one');
    const a = nextAddress++;
    const lease = { ...bound(a, 'aa0000000001'), fqdn: 'h.example.', dhcidMode: 'clientId' as const };
    await s.commit([lease]);
    await s.setMeta('clock', '{"x":1}');
    db.crash(); // pg_ctl stop -m immediate: no shutdown checkpoint, WAL replay on start
    db.start();
    const row = await rowOf(a);
    assert.equal(row?.hardware_address, 'aa0000000001');
    assert.equal(row?.written_by, 'one');
    const again = await open('one');
    assert.equal(again.getMeta('clock'), '{"x":1}');
    const table = new LeaseTable();
    again.loadInto(table);
    const back = table.get(a)!;
    assert.equal(back.fqdn, 'h.example.');
    assert.equal(back.dhcidMode, 'clientId');
    assert.equal(back.leaseExpiresAt, lease.leaseExpiresAt);
    // The store that was open across the crash recovers by itself: its next commit goes through.
    await s.commit([bound(nextAddress++, 'aa0000000002')]);
    // Closed here: the crash broke s's listening connection, and its reconnect's catch-up reads
    // would otherwise land in a later test that records every query sent (pg.Client.prototype).
    await s.close();
    await again.close();
  });

  test('commits of one turn share one transaction', async () => {
    const s = await open('group');
    const before = s.counters.transactions;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.commit([bound(nextAddress++, `bb00000000${String(i).padStart(2, '0')}`)]),
      ),
    );
    assert.equal(s.counters.transactions - before, 1);
  });

  test('a group commit of bindings alone is one statement (no BEGIN/COMMIT round trips), a prepared one; meta keeps a transaction', async () => {
    const s = await open('statements');
    const sent: string[] = [];
    const names: (string | undefined)[] = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
      sent.push((text ?? '').trim().split(/\s+/)[0]!.toUpperCase());
      names.push(typeof args[0] === 'string' ? undefined : (args[0] as { name?: string }).name);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    try {
      await Promise.all([1, 2, 3].map((i) => s.commit([bound(nextAddress++, `bc000000000${i}`)])));
      assert.deepEqual(sent, ['INSERT']);
      // Named: parsed and planned once per connection, not with every commit.
      assert.deepEqual(names, ['twinlease_upsert']);
      sent.length = 0;
      await Promise.all([s.commit([bound(nextAddress++, 'bc0000000004')]), s.setMeta('k', 'v')]);
      assert.deepEqual(sent, ['BEGIN', 'INSERT', 'INSERT', 'COMMIT']);
    } finally {
      pg.Client.prototype.query = query;
    }
  });

  test('the warm-up store writes through the live write path to a temporary table: the real table, its meta and its listeners see nothing; its rows are notified to itself alone', async () => {
    const live = await open('scratch-watcher');
    live.loadInto(new LeaseTable());
    const heard: number[] = [];
    live.onRemoteChanges((leases) => heard.push(...leases.map((l) => l.address)));
    const scratch = await openPgWarmUpStore({ url: db.url, serverName: 'scratch', connectTimeoutMs: 1000 });
    const a = nextAddress++;
    try {
      await scratch.commit([bound(a, 'ab0000000001')]);
      // Renewed, then a claim by another client: the claim rules run there as on the real table.
      await scratch.commit([bound(a, 'ab0000000001', NOW + 1)]);
      await assert.rejects(scratch.commit([bound(a, 'ab0000000002')]), BindingConflictError);
      await scratch.setMeta('k', 'v');
      await scratch.remove([a]);
      assert.equal(scratch.counters.transactions, 5);
      // Its two written rows came back to it on its own channel, as a live store's own rows do.
      for (let i = 0; i < 50 && scratch.counters.ownNotifications < 2; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(scratch.counters.ownNotifications, 2, 'the insert and the renewal, notified to itself');
      assert.equal(scratch.counters.remoteChanges, 0);
    } finally {
      await scratch.close();
    }
    await live.commit([bound(nextAddress++, 'ab0000000003')]); // a notification that does arrive
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await rowOf(a), undefined, 'nothing in the real table');
    assert.deepEqual(heard, [], 'nothing notified');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const meta = await c.query("SELECT * FROM twinlease_meta WHERE server = 'scratch'");
      assert.equal(meta.rowCount, 0, 'no meta row');
    } finally {
      await c.end();
    }
  });

  test('a stopped database: commit rejects (no ACK), then the store recovers when it is back', async () => {
    const s = await open('faults', { commitAttempts: 2 });
    const a = nextAddress++;
    db.stop();
    try {
      const t0 = Date.now();
      await assert.rejects(s.commit([bound(a, 'cc0000000001')]), /commit failed/);
      assert.ok(Date.now() - t0 < 10_000, 'bounded retries');
    } finally {
      db.start();
    }
    assert.equal(await rowOf(a), undefined);
    await s.commit([bound(a, 'cc0000000001')]);
    assert.equal((await rowOf(a))?.hardware_address, 'cc0000000001');
    assert.ok(s.counters.retries >= 1);
  });
});

describe('several servers, one database', () => {
  test('another client cannot take a live binding: the loser gets the winner row', async () => {
    const a = await open('s1');
    const b = await open('s2');
    const address = nextAddress++;
    await a.commit([bound(address, 'dd0000000001')]);
    const err = await b.commit([bound(address, 'dd0000000002')]).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof BindingConflictError, String(err));
    assert.equal(err.current.length, 1);
    assert.equal(err.current[0]!.hardwareAddress, 'dd0000000001');
    assert.equal((await rowOf(address))?.hardware_address, 'dd0000000001');
  });

  test('the same client renews through any server; a stale write of an older transaction loses', async () => {
    const a = await open('r1');
    const b = await open('r2');
    const address = nextAddress++;
    const first = bound(address, 'ee0000000001', NOW, NOW + 600);
    await a.commit([first]);
    await b.commit([bound(address, 'ee0000000001', NOW + 100, NOW + 700)]);
    // a expires the binding from its old copy (client-last-transaction-time NOW): refused.
    const staleExpiry: Lease = { ...first, state: 'expired' };
    await assert.rejects(a.commit([staleExpiry]), (e: unknown) => {
      assert.ok(e instanceof BindingConflictError);
      assert.equal(e.current[0]!.leaseExpiresAt, NOW + 700);
      return true;
    });
  });

  test('a binding whose time ran out by the database clock can be claimed by another client', async () => {
    const a = await open('x1');
    const b = await open('x2');
    const address = nextAddress++;
    await a.commit([bound(address, 'ff0000000001', NOW - 100, NOW - 10)]);
    await b.commit([bound(address, 'ff0000000002')]);
    assert.equal((await rowOf(address))?.hardware_address, 'ff0000000002');
  });

  test('racing claims: every address goes to exactly one client', async () => {
    const servers = [await open('race1'), await open('race2'), await open('race3')];
    const addresses = Array.from({ length: 200 }, () => nextAddress++);
    const results = await Promise.all(
      servers.map((s, i) =>
        Promise.allSettled(
          addresses.map((addr) => s.commit([bound(addr, `1${i}${addr.toString(16).padStart(10, '0')}`)])),
        ),
      ),
    );
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const rows = await c.query(
      'SELECT address, hardware_address FROM twinlease_leases WHERE address = ANY($1::bigint[])',
      [addresses],
    );
    await c.end();
    const held = new Map(rows.rows.map((r) => [Number(r.address), r.hardware_address as string] as const));
    for (let k = 0; k < addresses.length; k++) {
      const winners = results.filter((r) => r[k]!.status === 'fulfilled').length;
      assert.equal(winners, 1, `address ${k}`);
      const winner = results.findIndex((r) => r[k]!.status === 'fulfilled');
      assert.equal(held.get(addresses[k]!), `1${winner}${addresses[k]!.toString(16).padStart(10, '0')}`);
    }
  });

  test("each server hears the others' writes (and not its own)", async () => {
    const a = await open('n1');
    const b = await open('n2');
    const heardByB: Lease[] = [];
    const heardByA: Lease[] = [];
    b.onRemoteChanges((ls) => heardByB.push(...ls));
    a.onRemoteChanges((ls) => heardByA.push(...ls));
    const table = new LeaseTable();
    b.loadInto(table);
    a.loadInto(new LeaseTable());
    const address = nextAddress++;
    await a.commit([bound(address, 'ab0000000001')]);
    await waitFor('the notification', () => heardByB.some((l) => l.address === address));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(heardByA.filter((l) => l.address === address).length, 0);
  });

  test('a row one server deletes is notified to the others (not to itself); a later write of it is heard again', async () => {
    const a = await open('d1');
    const b = await open('d2');
    a.loadInto(new LeaseTable());
    const table = new LeaseTable();
    b.loadInto(table);
    const heardByA: { leases: Lease[]; removed: number[] }[] = [];
    const heardByB: { leases: Lease[]; removed: number[] }[] = [];
    a.onRemoteChanges((leases, removed) => heardByA.push({ leases: [...leases], removed: [...removed] }));
    b.onRemoteChanges((leases, removed) => heardByB.push({ leases: [...leases], removed: [...removed] }));
    const address = nextAddress++;
    const lease = bound(address, 'ad0000000001');
    await a.commit([lease]);
    await waitFor('the write', () => heardByB.some((h) => h.leases.some((l) => l.address === address)));
    const countBefore = b.count();
    await a.remove([address]);
    assert.equal(await rowOf(address), undefined);
    await waitFor('the deletion', () => heardByB.some((h) => h.removed.includes(address)));
    assert.equal(b.count(), countBefore - 1, 'the deleted row no longer counts');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      heardByA.filter((h) => h.removed.includes(address)),
      [],
      'a server is not told of its own deletion',
    );
    // The row written again later is a newer version: heard again.
    await a.commit([{ ...lease, clientLastTransactionAt: lease.clientLastTransactionAt + 1 }]);
    await waitFor(
      'the new write',
      () => heardByB.filter((h) => h.leases.some((l) => l.address === address)).length === 2,
    );
  });

  test('a row deleted outside Twinlease (psql) is notified to every server', async () => {
    const a = await open('e1');
    a.loadInto(new LeaseTable());
    const removed: number[] = [];
    a.onRemoteChanges((_, r) => removed.push(...r));
    const address = nextAddress++;
    await a.commit([bound(address, 'ae0000000001')]);
    db.psql(`DELETE FROM twinlease_leases WHERE address = ${address}`, 'twinlease');
    await waitFor('the deletion', () => removed.includes(address));
  });

  test('a server whose listening connection broke catches up when it is back', async () => {
    const a = await open('c1');
    const b = await open('c2');
    b.loadInto(new LeaseTable());
    const heard: Lease[] = [];
    b.onRemoteChanges((ls) => heard.push(...ls));
    db.psql(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'twinlease c2'",
      'postgres',
    );
    const address = nextAddress++;
    await a.commit([bound(address, 'ac0000000001')]);
    await waitFor('the resync', () => heard.some((l) => l.address === address), 10_000);
  });

  test('a row deleted while a server was not listening is dropped when it catches up', async () => {
    // Server b connects as its own role, so that the test can keep b's reconnection out (NOLOGIN)
    // until a has deleted the row: the deletion certainly falls in b's gap, whatever the timing.
    db.psql("CREATE ROLE gap_b LOGIN PASSWORD 'gap_b' IN ROLE twinlease", 'postgres');
    const a = await open('g1');
    const events: string[] = [];
    const b = await openPgLeaseStore({
      url: db.url.replace('twinlease:twinlease@', 'gap_b:gap_b@'),
      serverName: 'g2',
      connectTimeoutMs: 1000,
      statementTimeoutMs: 2000,
      onEvent: (e) => events.push(e.type),
    });
    stores.push(b);
    a.loadInto(new LeaseTable());
    const table = new LeaseTable();
    b.loadInto(table);
    const removedByB: number[] = [];
    b.onRemoteChanges((leases, removed) => {
      for (const l of leases) table.put(l);
      for (const r of removed) table.delete(r);
      removedByB.push(...removed);
    });
    const gone = nextAddress++;
    const kept = nextAddress++;
    await a.commit([bound(gone, 'af0000000001'), bound(kept, 'af0000000002')]);
    await waitFor('the writes', () => table.get(gone) !== undefined && table.get(kept) !== undefined);
    const countBefore = b.count();
    // Break only b's listening connection (its pool stays), and keep it from coming back.
    db.psql('ALTER ROLE gap_b NOLOGIN', 'postgres');
    const terminated = db.psql(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = 'gap_b' AND query LIKE 'LISTEN%'",
      'postgres',
    );
    assert.equal(terminated.trim(), 't', 'one listening backend of b terminated');
    await waitFor('b to notice', () => events.includes('listener-lost'));
    await a.remove([gone]);
    assert.equal(await rowOf(gone), undefined);
    db.psql('ALTER ROLE gap_b LOGIN', 'postgres');
    await waitFor('the resync', () => events.includes('listener-restored'), 15_000);
    await waitFor('the deletion to reach b', () => table.get(gone) === undefined, 2000);
    assert.deepEqual(removedByB, [gone]);
    assert.ok(table.get(kept) !== undefined, 'the row still there is kept');
    assert.equal(b.count(), countBefore - 1, 'the deleted row no longer counts');
    // A new write of the address is a newer version: b hears it again.
    await a.commit([bound(gone, 'af0000000003')]);
    await waitFor('the new write', () => table.get(gone)?.hardwareAddress === 'af0000000003');
  });
});
