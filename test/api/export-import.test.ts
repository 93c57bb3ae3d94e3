// Export, import and backup (issue 18 item 5) against real servers with leases made over relayed
// DHCP: the export document (config + leases, streamed), an online import into a second running
// server (free addresses only), an offline import into a stopped server's store, and an online
// backup that a server starts from (the restore path).

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setWallOffsetSource } from '../../src/api/format.js';
import type { Lease } from '../../src/dhcp/lease.js';
import { leaseFromExport } from '../../src/import/export-document.js';
import { runTwinleaseImport } from '../../src/import/twinlease-import.js';
import { openSqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { CHECKPOINT_META_KEY } from '../../src/server/clock.js';
import { startServer } from '../../src/server/server.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { activeLease, startFailoverApi } from './failover-helpers.js';
import {
  http,
  mac,
  READ_TOKEN,
  RELAY_LAB,
  RELAY_OFFICE,
  Relay,
  startTestServer,
  type TestServer,
  WRITE_TOKEN,
} from './helpers.js';

type Json = Record<string, unknown>;
type Doc = Json & { config: Json; leases?: Json[] };
const write = { token: WRITE_TOKEN };

/** A lease record without the lease table's change counter, which no store or export carries. */
function withoutVersion(lease: Lease | undefined): Omit<Lease, 'version'> | undefined {
  if (lease === undefined) return undefined;
  const { version: _version, ...rest } = lease;
  return rest;
}

async function exportOf(t: TestServer, query = ''): Promise<{ doc: Doc; headers: Headers }> {
  const r = await http<Doc>(t.baseUrl, `/api/v1/export${query}`, write);
  assert.equal(r.status, 200, r.text);
  return { doc: JSON.parse(r.text) as Doc, headers: r.headers };
}

describe('export, import and backup', () => {
  let t: TestServer;
  let relay: Relay;
  let relay2: Relay;
  const addr: string[] = [];

  before(async () => {
    t = await startTestServer();
    relay = await Relay.open(RELAY_LAB, t.dhcpPort);
    relay2 = await Relay.open(RELAY_OFFICE, t.dhcpPort);
    for (const n of [1, 2, 3]) addr.push(await relay.dora({ mac: mac(n), hostname: `host-${n}` }));
    addr.push(await relay2.dora({ mac: mac(4) }));
    // One released (a free record that remembers its client) and one declined.
    await relay.release({ mac: mac(3) }, addr[2]!);
    const declined = await relay.dora({ mac: mac(5) });
    await relay.decline({ mac: mac(5) }, declined);
    addr.push(declined);
    await new Promise((r) => setTimeout(r, 200));
  });
  after(async () => {
    await relay.close();
    await relay2.close();
    await t.dispose();
  });

  test('the export: the config file as written and every lease record, field for field', async () => {
    const { doc, headers } = await exportOf(t);
    assert.match(String(headers.get('content-type')), /^application\/json/);
    assert.match(
      String(headers.get('content-disposition')),
      /attachment; filename="twinlease-export-tl-api-test-/,
    );
    assert.equal(doc.format, 'twinlease-export');
    assert.equal(doc.version, 1);
    assert.equal(doc.serverName, 'tl-api-test');
    assert.deepEqual(doc.config, JSON.parse(readFileSync(t.configPath, 'utf8')));
    const leases = doc.leases!;
    const status = await http<Json & { leaseStore: { leases: number } }>(t.baseUrl, '/api/v1/status');
    assert.equal(leases.length, status.body.leaseStore.leases);
    const byAddress = new Map(leases.map((l) => [l.address, l]));
    for (const [i, a] of addr.entries()) {
      const l = byAddress.get(a);
      assert.ok(l, `${a} exported`);
      const back = leaseFromExport(l, i);
      assert.ok(back.ok, !back.ok ? back.message : '');
      // `version` is the lease table's change counter, not part of the record.
      assert.deepEqual(
        withoutVersion(back.lease),
        withoutVersion(t.server.dhcp.currentEngine.getLease(parseIpv4(a))),
        'round trip is exact',
      );
    }
    assert.equal(byAddress.get(addr[2]!)?.state, 'free');
    assert.equal(byAddress.get(addr[4]!)?.state, 'abandoned');
    const configOnly = await exportOf(t, '?leases=false');
    assert.equal(configOnly.doc.leases, undefined);
    const readOnly = await http(t.baseUrl, '/api/v1/export', { token: READ_TOKEN });
    assert.equal(readOnly.status, 403, 'secrets and every lease: a write token');
  });

  test('online import: active and declined leases onto free addresses of a second running server', async () => {
    const { doc } = await exportOf(t);
    const other = await startTestServer();
    try {
      const dry = await http<Json & { imported: number; skipped: Json & { byReason: Json } }>(
        other.baseUrl,
        '/api/v1/import?dryRun=true',
        { ...write, method: 'POST', body: doc },
      );
      assert.equal(dry.status, 200, dry.text);
      assert.equal(dry.body.dryRun, true);
      assert.equal(dry.body.imported, 4, '3 active + 1 declined');
      assert.deepEqual(dry.body.skipped.byReason, { 'state-not-imported': 1 });
      assert.equal((await http(other.baseUrl, `/api/v1/leases/${addr[0]}`)).status, 404, 'dry run: nothing');

      const r = await http<Json & { imported: number; skipped: Json & { byReason: Json } }>(
        other.baseUrl,
        '/api/v1/import',
        { ...write, method: 'POST', body: doc },
      );
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.imported, 4);
      for (const a of [addr[0], addr[1], addr[3]]) {
        const [mine, theirs] = [
          await http<Json>(t.baseUrl, `/api/v1/leases/${a}`),
          await http<Json>(other.baseUrl, `/api/v1/leases/${a}`),
        ];
        assert.equal(theirs.status, 200);
        for (const f of [
          'bindingState',
          'hardwareAddress',
          'hostname',
          'leaseExpiresAt',
          'ownerServer',
          'scopeId',
        ])
          assert.deepEqual(theirs.body[f], mine.body[f], `${a}: ${f}`);
      }
      // The client keeps its address on the other server.
      const relayToOther = await Relay.open(RELAY_LAB, other.dhcpPort);
      try {
        assert.equal(await relayToOther.dora({ mac: mac(1) }), addr[0]);
      } finally {
        await relayToOther.close();
      }
      const again = await http<Json & { imported: number; skipped: Json & { byReason: Json } }>(
        other.baseUrl,
        '/api/v1/import',
        { ...write, method: 'POST', body: doc },
      );
      assert.equal(again.body.imported, 0);
      assert.deepEqual(again.body.skipped.byReason, { 'state-not-imported': 1, 'address-in-use': 4 });
      const bad = await http<Json>(other.baseUrl, '/api/v1/import', {
        ...write,
        method: 'POST',
        body: { format: 'something-else' },
      });
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.message), /not a Twinlease export: "format" is "something-else"/);
    } finally {
      await other.dispose();
    }
  });

  test('backup online; a server starts from the backup file (restore)', async () => {
    const backupPath = join(t.dir, 'leases-backup.db');
    const r = await http<Json>(t.baseUrl, '/api/v1/backup', {
      ...write,
      method: 'POST',
      body: { path: backupPath },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.path, backupPath);
    assert.ok((r.body.bytes as number) > 0);
    assert.ok(existsSync(backupPath));
    const again = await http<Json>(t.baseUrl, '/api/v1/backup', {
      ...write,
      method: 'POST',
      body: { path: backupPath },
    });
    assert.equal(again.status, 409, 'never overwrites');
    const relative = await http<Json>(t.baseUrl, '/api/v1/backup', {
      ...write,
      method: 'POST',
      body: { path: 'x.db' },
    });
    assert.equal(relative.status, 400);
    const stamped = await http<Json>(t.baseUrl, '/api/v1/backup', { ...write, method: 'POST', body: {} });
    assert.equal(stamped.status, 200);
    assert.match(String(stamped.body.path), /leases\.backup-\d{8}T\d{6}Z\.db$/);

    // Restore: a server whose lease store is the backup file has every lease.
    const restoredDb = join(t.dir, 'restored.db');
    copyFileSync(backupPath, restoredDb);
    const config = JSON.parse(readFileSync(t.configPath, 'utf8')) as Json & { leaseStore: Json; dhcp: Json };
    config.leaseStore = { path: restoredDb };
    config.dhcp = { ...config.dhcp, port: t.dhcpPort + 1 };
    const restoredConfig = join(t.dir, 'restored.json');
    writeFileSync(restoredConfig, JSON.stringify(config));
    const restored = await startServer({
      configPath: restoredConfig,
      logDestination: join(t.dir, 'restored.log'),
    });
    try {
      for (const a of addr) {
        assert.deepEqual(
          withoutVersion(restored.dhcp.currentEngine.getLease(parseIpv4(a))),
          withoutVersion(t.server.dhcp.currentEngine.getLease(parseIpv4(a))),
          `${a} restored`,
        );
      }
    } finally {
      await restored.stop();
    }
  });

  test('offline import into a new store and into a stopped server store (a running server: its lock refuses)', async () => {
    const { doc } = await exportOf(t);
    const file = join(t.dir, 'export.json');
    writeFileSync(file, JSON.stringify(doc));
    const out: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s) };
    const newDb = join(t.dir, 'imported.db');
    const newConfig = join(t.dir, 'imported.json');
    const code = await runTwinleaseImport({ file, out: newConfig, leaseDb: newDb }, io);
    assert.equal(code, 0, out.join(''));
    assert.deepEqual(JSON.parse(readFileSync(newConfig, 'utf8')), doc.config);
    assert.match(out.join(''), new RegExp(`5 of 5 leases into ${newDb}`));

    // A store whose server runs is locked (its lock file names a live process other than us).
    out.length = 0;
    const busyDb = join(t.dir, 'busy.db');
    writeFileSync(`${busyDb}.lock`, `${process.ppid}\n`);
    const locked = await runTwinleaseImport({ file, leaseDb: busyDb }, io);
    assert.equal(locked, 1);
    assert.match(out.join(''), new RegExp(`lease store ${busyDb} is in use by process ${process.ppid}`));
    assert.equal(existsSync(busyDb), false, 'nothing written');

    // Into the new (stopped) store again: the addresses are taken now, except the FREE record's
    // (a FREE record may be replaced).
    out.length = 0;
    assert.equal(await runTwinleaseImport({ file, leaseDb: newDb, json: true }, io), 0, out.join(''));
    const summary = JSON.parse(out.find((s) => s.startsWith('{'))!) as Json & { skipped: Json };
    assert.equal(summary.imported, 1);
    assert.equal(summary.skipped['address-in-use'], 4);

    // A server started from them has the leases.
    const config = JSON.parse(readFileSync(newConfig, 'utf8')) as Json & { leaseStore: Json; dhcp: Json };
    config.leaseStore = { path: newDb };
    config.dhcp = { ...config.dhcp, port: t.dhcpPort + 2 };
    writeFileSync(newConfig, JSON.stringify(config));
    const started = await startServer({ configPath: newConfig, logDestination: join(t.dir, 'imported.log') });
    try {
      const l = started.dhcp.currentEngine.getLease(parseIpv4(addr[0]!));
      assert.equal(l?.state, 'active');
      assert.equal(l?.hardwareAddress, mac(1));
    } finally {
      await started.stop();
    }

    out.length = 0;
    writeFileSync(file, JSON.stringify({ ...doc, config: { ...doc.config, scopes: 'nope' } }));
    assert.equal(await runTwinleaseImport({ file }, io), 2);
    assert.match(out.join(''), /the configuration in the export does not load; nothing written/);
  });
});

describe('a large export is streamed', () => {
  test('100 000 leases: chunked, every one in the document, in chunks (not one string)', async () => {
    const n = 100_000;
    const leases = Array.from({ length: n }, (_, i) =>
      activeLease(formatIpv4((10 << 24) + (1 << 16) + i), 'lab', i % 65536),
    );
    const a = await startFailoverApi('dhcp-a', {}, leases);
    try {
      const started = Date.now();
      const res = await fetch(`${a.baseUrl}/api/v1/export`, {
        headers: { authorization: `Bearer ${WRITE_TOKEN}` },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      let chunks = 0;
      let text = '';
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        chunks++;
        text += Buffer.from(chunk).toString('utf8');
      }
      const doc = JSON.parse(text) as Doc;
      assert.equal(doc.leases?.length, n);
      assert.ok(chunks > 10, `${chunks} chunks`);
      process.stderr.write(
        `# export of ${n} leases: ${text.length} bytes in ${Date.now() - started} ms, ${chunks} chunks\n`,
      );
    } finally {
      await a.close();
    }
  });
});

// docs/safety.md: a server keeps binding times on its timeline, which is the wall clock offset by
// any step since it started. The export carries wall-clock times; an import puts them on the
// importing server's timeline (online) or on the timeline the stopped store resumes (offline).
describe('export and import across timelines', () => {
  let t: TestServer;
  let relay: Relay;
  let address = '';

  before(async () => {
    t = await startTestServer();
    relay = await Relay.open(RELAY_LAB, t.dhcpPort);
    address = await relay.dora({ mac: mac(41) });
  });
  after(async () => {
    setWallOffsetSource(() => 0);
    await relay.close();
    await t.dispose();
  });

  test('times are exported as wall-clock seconds and imported onto the other timeline', async () => {
    const record = t.server.dhcp.currentEngine.getLease(parseIpv4(address))!;
    // This server's wall clock was stepped 300 s forward since it started.
    setWallOffsetSource(() => 300);
    const { doc } = await exportOf(t);
    assert.equal(doc.timeBase, 'wall');
    const exported = doc.leases!.find((l) => l.address === address)!;
    assert.equal(exported.leaseExpiresAt, record.leaseExpiresAt + 300);
    assert.equal(exported.clientLastTransactionAt, record.clientLastTransactionAt + 300);
    assert.equal(exported.stateStartedAt, record.stateStartedAt + 300);

    // Another server whose timeline is 200 s ahead of its wall clock (stepped back 200 s).
    setWallOffsetSource(() => 0);
    const other = await startTestServer();
    try {
      setWallOffsetSource(() => -200);
      const r = await http<Json & { imported: number }>(other.baseUrl, '/api/v1/import', {
        ...write,
        method: 'POST',
        body: doc,
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.imported, 1);
      const there = other.server.dhcp.currentEngine.getLease(parseIpv4(address))!;
      assert.equal(
        there.leaseExpiresAt,
        record.leaseExpiresAt + 500,
        'wall +300, then timeline = wall + 200',
      );
      assert.equal(there.clientLastTransactionAt, record.clientLastTransactionAt + 500);
      // Both show the client the same wall-clock end.
      const mine = await http<Json>(other.baseUrl, `/api/v1/leases/${address}`);
      assert.equal(
        Date.parse(String(mine.body.leaseExpiresAt)) / 1000,
        exported.leaseExpiresAt as number,
        'the API shows the exported wall-clock time',
      );
    } finally {
      setWallOffsetSource(() => 0);
      await other.dispose();
    }

    // Offline, into a stopped store whose checkpoint says its timeline runs 120 s behind the wall clock.
    const file = join(t.dir, 'timebase-export.json');
    writeFileSync(file, JSON.stringify(doc));
    const db = join(t.dir, 'timebase.db');
    const store = openSqliteLeaseStore(db);
    const wallMs = Date.now();
    await store.setMeta(
      CHECKPOINT_META_KEY,
      JSON.stringify({ bootId: null, monoMs: 0, localMs: wallMs - 120_000, wallMs }),
    );
    await store.close();
    const out: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s) };
    assert.equal(await runTwinleaseImport({ file, leaseDb: db }, io), 0, out.join(''));
    const back = openSqliteLeaseStore(db);
    try {
      const l = back.loadAll().find((x) => x.address === parseIpv4(address))!;
      assert.equal(l.leaseExpiresAt, record.leaseExpiresAt + 300 - 120);
    } finally {
      await back.close();
    }
  });
});
