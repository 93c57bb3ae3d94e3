// Upgrades (issue 18 item 8): a lease store written by the previous release
// (test/leases/fixtures/previous-release.db, made by make-previous-release-store.ts with the code
// of 64c3815) starts under this code: every binding as it was, the failover relationship's stored
// state resumed, and its clients served — a renewal is ACKed with the same address and written.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { freeUdpPort, mac, Relay } from '../api/helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** What make-previous-release-store.ts printed when it made the fixture. */
const MADE = {
  client1: '10.50.0.10',
  client2: '10.50.0.11',
  client3: '10.50.0.12',
  printer: '10.50.0.5',
  declined: '10.50.0.13',
};

describe('a lease store of the previous release', () => {
  let dir = '';
  let db = '';
  let server: RunningServer;
  let dhcpPort = 0;
  let stored: { state: string; stateStartedAt: number; mcltSeconds: number };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinlease-upgrade-'));
    db = join(dir, 'leases.db');
    copyFileSync(join(FIXTURES, 'previous-release.db'), db);
    const old = new Database(db, { readonly: true });
    assert.equal(old.pragma('user_version', { simple: true }), 1, 'the fixture is a schema 1 store');
    stored = JSON.parse(
      (old.prepare("SELECT value FROM meta WHERE key = 'failover:old-pair'").get() as { value: string })
        .value,
    );
    old.close();
    const config = JSON.parse(readFileSync(join(FIXTURES, 'previous-release.json'), 'utf8'));
    dhcpPort = await freeUdpPort();
    config.dhcp.port = dhcpPort;
    config.leaseStore.path = db;
    config.failover[0].local.port = await freeUdpPort();
    config.failover[0].partner.port = config.failover[0].local.port + 1;
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    server = await startServer({ configPath, logDestination: join(dir, 'server.log') });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('starts with every binding as the previous release wrote it', () => {
    const engine = server.dhcp.currentEngine;
    const lease = (a: string) => engine.getLease(parseIpv4(a));
    for (const [n, a] of [
      [1, MADE.client1],
      [2, MADE.client2],
    ] as const) {
      const l = lease(a)!;
      assert.equal(l.state, 'active', a);
      assert.equal(l.hardwareAddress, mac(n));
      assert.equal(l.hostname, `old-${n}`);
      assert.equal(l.ownerServer, 'old-release');
    }
    assert.equal(lease(MADE.printer)?.isReserved, true);
    assert.equal(lease(MADE.printer)?.hostname, 'printer');
    const released = lease(MADE.client3)!;
    assert.equal(released.state, 'free');
    assert.equal(released.hardwareAddress, mac(3), 'a released binding keeps its client');
    // Declined: held for a day from when the fixture was made, free afterwards.
    assert.ok(['abandoned', 'free'].includes(lease(MADE.declined)?.state ?? ''), lease(MADE.declined)?.state);
    assert.equal([...engine.leases()].length, 5);
    assert.equal(server.store.count(), 5);
  });

  test("the failover relationship resumes the previous release's stored state", () => {
    const status = server.failover.statuses()[0]!;
    assert.equal(status.name, 'old-pair');
    assert.equal(status.mcltSeconds, stored.mcltSeconds);
    assert.equal(status.localStateStartedAt, stored.stateStartedAt);
  });

  test('its clients are served: a renewal is ACKed with the same address and written', async () => {
    const relay = await Relay.open('127.0.0.2', dhcpPort);
    try {
      assert.equal(await relay.dora({ mac: mac(1) }), MADE.client1);
    } finally {
      await relay.close();
    }
    await server.stop();
    const after = new Database(db, { readonly: true });
    try {
      const row = after
        .prepare('SELECT state, client_last_transaction_at AS cltt FROM leases WHERE address = ?')
        .get(parseIpv4(MADE.client1)) as { state: string; cltt: number };
      assert.equal(row.state, 'active');
      assert.ok(
        row.cltt > stored.stateStartedAt,
        `${formatIpv4(parseIpv4(MADE.client1))} rewritten by this code`,
      );
      assert.equal(after.pragma('user_version', { simple: true }), 1);
    } finally {
      after.close();
    }
  });
});
