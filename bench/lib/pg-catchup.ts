// What a PostgreSQL lease store's catch-up costs after its listening connection broke (issue 20;
// docs/postgresql.md): a throwaway cluster (test/lib/postgres.ts), a database of N rows, one store
// open on it; its listening connection is terminated and kept out (its role NOLOGIN) while
// `--changes` rows are deleted and as many updated behind its back; then it is let back in and the
// script reports the store's own account of the catch-up (listener-restored: time from the
// reconnection attempt to the end of the read, rows changed), this process's CPU time over it, and
// whether the store's view came out right (deleted rows gone, updated rows at their new version).
// Not a DHCP benchmark: no server, no packets; the figures are the store's and this process's.
//
//   node --import tsx bench/lib/pg-catchup.ts [--rows 100000,1000000] [--changes 100]

import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Lease } from '../../src/dhcp/lease.js';
import { migratePgSchema } from '../../src/leases/pg-schema.js';
import { openPgLeaseStore, type PgStoreEvent } from '../../src/leases/pg-store.js';
import { startTestPostgres } from '../../test/lib/postgres.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000,1000000' },
    changes: { type: 'string', default: '100' },
  },
});
const sizes = values.rows.split(',').map(Number);
const changes = Number(values.changes);

const db = await startTestPostgres();
try {
  for (const rows of sizes) {
    const name = `catchup_${rows}`;
    db.psql(`CREATE DATABASE ${name} OWNER twinlease`);
    const url = db.url.replace(/\/twinlease$/, `/${name}`);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await migratePgSchema(c, 'init');
    // Rows written in bulk, without one notification each (nobody listens yet).
    await c.query('ALTER TABLE twinlease_leases DISABLE TRIGGER USER');
    await c.query(
      `INSERT INTO twinlease_leases SELECT 167772160 + g, '10.0.0.0/8', 'active', 1,
         lpad(to_hex(g), 12, '0'), '01' || lpad(to_hex(g), 12, '0'), 'host-' || g, 'dhcp', false,
         2000000000, 1700000000, 1700000000, 'a', NULL, 0, 0, 0, 0, false, NULL, 'none', 0,
         nextval('twinlease_revision'), 'a'
       FROM generate_series(1, $1::int) AS g`,
      [rows],
    );
    await c.query('ALTER TABLE twinlease_leases ENABLE TRIGGER USER');
    await c.query('VACUUM ANALYZE twinlease_leases');
    await c.end();
    const role = `catchup_b_${rows}`;
    db.psql(`CREATE ROLE ${role} LOGIN PASSWORD 'b' IN ROLE twinlease`);
    const events: PgStoreEvent[] = [];
    const openedAt = performance.now();
    const store = await openPgLeaseStore({
      url: url.replace('twinlease:twinlease@', `${role}:b@`),
      serverName: 'b',
      statementTimeoutMs: 60_000,
      onEvent: (e) => events.push(e),
    });
    const openMs = performance.now() - openedAt;
    const view = new Map<number, Lease>();
    for (const l of store.loadAll()) view.set(l.address, l);
    store.loadInto({ put: () => {} } as never);
    store.onRemoteChanges((leases, removed) => {
      for (const l of leases) view.set(l.address, l);
      for (const a of removed) view.delete(a);
    });
    db.psql(`ALTER ROLE ${role} NOLOGIN`);
    db.psql(
      `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = '${role}' AND query LIKE 'LISTEN%'`,
    );
    while (!events.some((e) => e.type === 'listener-lost')) await new Promise((r) => setTimeout(r, 10));
    // Behind its back: the first `changes` rows deleted, the last `changes` rows renewed.
    const first = 167772161;
    const last = 167772160 + rows;
    db.psql(`DELETE FROM twinlease_leases WHERE address < ${first + changes}`, name);
    db.psql(
      `UPDATE twinlease_leases SET client_last_transaction_at = 1700000100,
         revision = nextval('twinlease_revision'), written_by = 'a' WHERE address > ${last - changes}`,
      name,
    );
    const cpuBefore = process.cpuUsage();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 20);
    db.psql(`ALTER ROLE ${role} LOGIN`);
    while (!events.some((e) => e.type === 'listener-restored')) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50)); // the batch handed to the listeners
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpuBefore);
    const restored = events.find((e) => e.type === 'listener-restored') as Extract<
      PgStoreEvent,
      { type: 'listener-restored' }
    >;
    const staleDeleted = [...Array(changes).keys()].filter((i) => view.has(first + i)).length;
    const staleUpdated = [...Array(changes).keys()].filter(
      (i) => view.get(last - i)?.clientLastTransactionAt !== 1700000100,
    ).length;
    console.log(
      JSON.stringify({
        rows,
        changes,
        openMs: Math.round(openMs),
        catchUpMs: restored.durationMs,
        changed: restored.changed,
        processCpuMs: Math.round((cpu.user + cpu.system) / 1000),
        rssGrowthMB: Math.round((rssPeak - rssBefore) / 2 ** 20),
        staleDeletedInView: staleDeleted,
        staleUpdatedInView: staleUpdated,
      }),
    );
    assert.equal(staleUpdated, 0);
    await store.close();
  }
} finally {
  db.destroy();
}
