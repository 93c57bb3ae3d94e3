// Failover between two sites that each have their own PostgreSQL database (issue 20: the two
// models compose). Two real servers (startServer) in a draft-ietf-dhc-failover-12 relationship,
// each with leaseStore type postgresql on a database of its own: they reach NORMAL, a binding the
// primary grants reaches the secondary by binding update and is committed to the secondary's
// database, and each server's failover state is in its own database's meta.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { migratePgSchema } from '../../src/leases/pg-schema.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { ServerState } from '../../src/wire/failover-message.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { eventually, freeUdpPort } from '../api/helpers.js';
import { mac, packet } from '../dhcp/helpers.js';
import { startTestPostgres, type TestPostgres } from '../lib/postgres.js';

let db: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'tl-pg-failover-'));
const urlOf = (site: string) => db.url.replace(/\/twinlease$/, `/${site}`);

async function query(site: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: urlOf(site) });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

before(async () => {
  db = await startTestPostgres();
  for (const site of ['site_a', 'site_b']) {
    db.psql(`CREATE DATABASE ${site} OWNER twinlease`);
    const c = new pg.Client({ connectionString: urlOf(site) });
    await c.connect();
    await migratePgSchema(c, 'init');
    await c.end();
  }
});
after(() => {
  db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('a failover pair, each server on its own PostgreSQL database', { timeout: 90_000 }, async () => {
  const [fa, fb] = [await freeUdpPort(), await freeUdpPort()];
  const servers: RunningServer[] = [];
  try {
    for (const [i, name] of (['dhcp-a', 'dhcp-b'] as const).entries()) {
      const isA = i === 0;
      const configPath = join(dir, `${name}.json`);
      writeFileSync(
        configPath,
        JSON.stringify({
          server: { name, serverIdentifier: '127.0.0.1' },
          dhcp: { listenAddress: '127.0.0.1', port: await freeUdpPort() },
          leaseStore: { type: 'postgresql', url: urlOf(isA ? 'site_a' : 'site_b') },
          logging: { level: 'warn' },
          api: { listenAddress: '127.0.0.1', port: 0 },
          scopes: [
            { id: 'demo', subnet: '127.0.0.0/8', ranges: [{ start: '127.0.9.1', end: '127.0.9.200' }] },
          ],
          failover: [
            {
              name: 'pg-pair',
              role: isA ? 'primary' : 'secondary',
              mode: 'hotStandby',
              mcltSeconds: 60,
              local: { address: '127.0.0.1', port: isA ? fa : fb },
              partner: { address: '127.0.0.1', port: isA ? fb : fa, name: isA ? 'dhcp-b' : 'dhcp-a' },
              scopeIds: ['demo'],
            },
          ],
        }),
      );
      servers.push(await startServer({ configPath, logDestination: join(dir, `${name}.log`) }));
    }
    const [a, b] = servers as [RunningServer, RunningServer];
    const stateOf = (s: RunningServer) => s.failover.statuses()[0]?.localState;
    await eventually(
      async () => servers.every((s) => stateOf(s) === ServerState.NORMAL),
      'both NORMAL',
      60_000,
    );
    const now = Math.floor(Date.now() / 1000);
    const offer = a.dhcp.currentEngine.handle(
      packet(T.Discover, { mac: mac(9), xid: 9, giaddr: '127.0.0.1' }),
      now,
    );
    assert.equal(offer.action, 'reply', 'the primary answers in hot standby');
    const address = offer.action === 'reply' ? offer.reply.yiaddr : 0;
    a.dhcp.onDatagram(
      encodeDhcp(
        packet(T.Request, {
          mac: mac(9),
          xid: 10,
          giaddr: '127.0.0.1',
          requested: formatIpv4(address),
          serverId: '127.0.0.1',
        }),
      ),
      '127.0.0.1',
      67,
    );
    const rowAt = async (site: string) =>
      (
        await query(
          site,
          `SELECT state, hardware_address FROM twinlease_leases WHERE address = ${address >>> 0}`,
        )
      )[0];
    await eventually(
      async () => (await rowAt('site_a'))?.state === 'active',
      "the primary's database",
      10_000,
    );
    // The binding update, committed by the secondary to its own database.
    await eventually(
      async () => (await rowAt('site_b'))?.hardware_address === mac(9),
      "the secondary's database",
      20_000,
    );
    assert.equal(b.dhcp.currentEngine.getLease(address)?.state, 'active');
    // Each server's failover state in its own database's meta.
    for (const [site, name] of [
      ['site_a', 'dhcp-a'],
      ['site_b', 'dhcp-b'],
    ] as const) {
      const meta = await query(site, 'SELECT DISTINCT server FROM twinlease_meta');
      assert.deepEqual(
        meta.map((m) => m.server),
        [name],
      );
    }
  } finally {
    for (const s of servers) await s.stop();
  }
});
