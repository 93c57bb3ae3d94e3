// Two Twinlease servers (startServer, the real shell) on one PostgreSQL database (issue 20): the
// database decides which client gets an address both servers offered; the loser sends no ACK but
// a NAK (RFC 2131 §4.3.2), puts the winner's binding into its table, and does not offer that
// address again; a record one deletes leaves the other's table. The cluster is a throwaway one
// started by the test (test/lib/postgres.ts).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { migratePgSchema } from '../../src/leases/pg-schema.js';
import { PgLeaseStore } from '../../src/leases/pg-store.js';
import { type RunningServer, StartupError, startServer } from '../../src/server/server.js';
import { encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { freeUdpPort } from '../api/helpers.js';
import { mac, packet } from '../dhcp/helpers.js';
import { startTestPostgres, type TestPostgres } from '../lib/postgres.js';

let db: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'tl-pg-servers-'));

before(async () => {
  db = await startTestPostgres();
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await migratePgSchema(c, 'init');
  await c.end();
});
after(() => {
  db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const API_TOKEN = 'pg-servers-test-token';

async function serverConfig(
  name: string,
  id: string,
  url: string,
  range = { start: '127.0.9.1', end: '127.0.9.20' },
): Promise<string> {
  const configPath = join(dir, `${name}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      server: { name, serverIdentifier: id },
      dhcp: { listenAddress: id, port: await freeUdpPort() },
      leaseStore: { type: 'postgresql', url, connectTimeoutMs: 1000 },
      logging: { level: 'warn' },
      api: { listenAddress: '127.0.0.1', port: 0, tokens: [{ name: 'test', token: API_TOKEN }] },
      scopes: [{ subnet: '127.0.0.0/8', ranges: [range] }],
    }),
  );
  return configPath;
}

async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('an unreachable database: the server refuses to start, naming leaseStore.url', async () => {
  const configPath = await serverConfig('down', '127.0.0.1', 'postgresql://x:y@127.0.0.1:1/none');
  await assert.rejects(
    startServer({ configPath, logDestination: join(dir, 'down.log') }),
    (e: unknown) =>
      e instanceof StartupError &&
      /leaseStore\.url: lease store postgresql:\/\/x@127\.0\.0\.1:1\/none: cannot connect/.test(e.message),
  );
});

test("the warm-up runs the driver's write path on the real database and leaves no row there", async () => {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const read = async () => {
    const rows = await c.query('SELECT count(*)::int AS n FROM twinlease_leases');
    // is_called: false until the first nextval.
    const seq = await c.query('SELECT last_value, is_called FROM twinlease_revision');
    return {
      rows: rows.rows[0].n as number,
      revision: seq.rows[0].is_called ? Number(seq.rows[0].last_value) : 0,
    };
  };
  try {
    const before = await read();
    const server = await startServer({
      configPath: await serverConfig('warm', '127.0.0.1', db.url),
      logDestination: join(dir, 'warm.log'),
    });
    try {
      const after = await read();
      assert.equal(after.rows, before.rows, 'no row of the warm-up in the real table');
      assert.ok(
        after.revision > before.revision,
        `revisions taken by the warm-up's writes: ${JSON.stringify({ before, after })}`,
      );
      assert.equal(
        server.dhcp.currentEngine.getLease(0x7f000901),
        undefined,
        'nothing of it in the live table',
      );
    } finally {
      await server.stop();
    }
  } finally {
    await c.end();
  }
});

test('two servers offer the same address to two clients: one ACK, one NAK, both views agree after', async () => {
  const servers: RunningServer[] = [];
  try {
    for (const [name, id] of [
      ['s1', '127.0.0.1'],
      ['s2', '127.0.0.2'],
    ] as const) {
      servers.push(
        await startServer({
          configPath: await serverConfig(name, id, db.url),
          logDestination: join(dir, `${name}.log`),
        }),
      );
    }
    const [a, b] = servers as [RunningServer, RunningServer];
    assert.ok(a.store instanceof PgLeaseStore);
    const now = Math.floor(Date.now() / 1000);
    // Both tables are empty: each offers the first address of the range to its client.
    const offerA = a.dhcp.currentEngine.handle(
      packet(T.Discover, { mac: mac(1), xid: 1, giaddr: '127.0.0.1' }),
      now,
    );
    const offerB = b.dhcp.currentEngine.handle(
      packet(T.Discover, { mac: mac(2), xid: 2, giaddr: '127.0.0.1' }),
      now,
    );
    assert.ok(offerA.action === 'reply' && offerB.action === 'reply');
    const address = offerA.reply.yiaddr;
    assert.equal(offerB.reply.yiaddr, address, 'the two stale views offer the same address');
    // The two REQUESTs arrive in the same turn: both engines ACK from their own view; the database
    // lets one claim through.
    a.dhcp.onDatagram(
      encodeDhcp(
        packet(T.Request, {
          mac: mac(1),
          xid: 1,
          giaddr: '127.0.0.1',
          requested: formatIpv4(address),
          serverId: '127.0.0.1',
        }),
      ),
      '127.0.0.1',
      67,
    );
    b.dhcp.onDatagram(
      encodeDhcp(
        packet(T.Request, {
          mac: mac(2),
          xid: 2,
          giaddr: '127.0.0.1',
          requested: formatIpv4(address),
          serverId: '127.0.0.2',
        }),
      ),
      '127.0.0.1',
      67,
    );
    const acks = () => a.counters.get('pkt4-ack-sent') + b.counters.get('pkt4-ack-sent');
    const naks = () => a.counters.get('pkt4-nak-sent') + b.counters.get('pkt4-nak-sent');
    await waitFor('one ACK and one NAK', () => acks() === 1 && naks() === 1);
    const winner = a.counters.get('pkt4-ack-sent') === 1 ? a : b;
    const loser = winner === a ? b : a;
    const winnerMac = winner === a ? mac(1) : mac(2);
    assert.equal(loser.counters.get('lease-claim-lost'), 1);
    assert.equal(winner.counters.get('lease-claim-lost'), 0);
    // ... and on /metrics under its stable name (docs/metrics.md), not only the catch-all.
    for (const [s, n] of [
      [loser, 1],
      [winner, 0],
    ] as const) {
      const text = await (await fetch(`http://127.0.0.1:${s.api.port}/metrics`)).text();
      assert.match(text, new RegExp(`^twinlease_lease_claims_lost_total ${n}$`, 'm'));
    }
    // The database holds the winner's client; so do both tables.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const rows = (
      await c.query('SELECT address::float8 AS address, hardware_address, state FROM twinlease_leases')
    ).rows;
    await c.end();
    assert.deepEqual(rows, [{ address, hardware_address: winnerMac, state: 'active' }]);
    for (const s of servers) assert.equal(s.dhcp.currentEngine.getLease(address)?.hardwareAddress, winnerMac);
    // The loser does not offer that address to a third client.
    const third = loser.dhcp.currentEngine.handle(
      packet(T.Discover, { mac: mac(3), xid: 3, giaddr: '127.0.0.1' }),
      now,
    );
    assert.ok(third.action === 'reply');
    assert.notEqual(third.reply.yiaddr, address);
    // A binding committed by one server reaches the other's table by notification.
    const fourth = winner.dhcp.currentEngine.handle(
      packet(T.Discover, { mac: mac(4), xid: 4, giaddr: '127.0.0.1' }),
      now,
    );
    assert.ok(fourth.action === 'reply');
    const winnerId = winner === a ? '127.0.0.1' : '127.0.0.2';
    winner.dhcp.onDatagram(
      encodeDhcp(
        packet(T.Request, {
          mac: mac(4),
          xid: 4,
          giaddr: '127.0.0.1',
          requested: formatIpv4(fourth.reply.yiaddr),
          serverId: winnerId,
        }),
      ),
      '127.0.0.1',
      67,
    );
    await waitFor(
      'the notification',
      () => loser.dhcp.currentEngine.getLease(fourth.reply.yiaddr)?.hardwareAddress === mac(4),
    );
    // A record one server deletes (as LeaseOperations.remove does for an operator) leaves the
    // other's table too: it no longer answers from a binding the database does not hold.
    assert.ok(winner.dhcp.currentEngine.removeLease(fourth.reply.yiaddr) !== undefined);
    await winner.store.remove([fourth.reply.yiaddr]);
    await waitFor('the deletion', () => loser.dhcp.currentEngine.getLease(fourth.reply.yiaddr) === undefined);
  } finally {
    for (const s of servers) await s.stop();
  }
});

test('a lease deleted through one server while the other was not listening: the other drops it and offers the address again', async () => {
  // s2 connects as its own role, so that the test can keep its listening connection from coming
  // back (NOLOGIN) until the deletion through s1 is committed: the deletion falls in s2's gap.
  db.psql("CREATE ROLE gap_s2 LOGIN PASSWORD 'gap_s2' IN ROLE twinlease", 'postgres');
  const one = { start: '127.0.8.1', end: '127.0.8.1' }; // one address: the stale copy blocks it
  const servers: RunningServer[] = [];
  try {
    servers.push(
      await startServer({
        configPath: await serverConfig('g1', '127.0.0.1', db.url, one),
        logDestination: join(dir, 'g1.log'),
      }),
    );
    servers.push(
      await startServer({
        configPath: await serverConfig(
          'g2',
          '127.0.0.2',
          db.url.replace('twinlease:twinlease@', 'gap_s2:gap_s2@'),
          one,
        ),
        logDestination: join(dir, 'g2.log'),
      }),
    );
    const [a, b] = servers as [RunningServer, RunningServer];
    const now = Math.floor(Date.now() / 1000);
    const offer = a.dhcp.currentEngine.handle(
      packet(T.Discover, { mac: mac(11), xid: 11, giaddr: '127.0.0.1' }),
      now,
    );
    assert.ok(offer.action === 'reply');
    const address = offer.reply.yiaddr;
    a.dhcp.onDatagram(
      encodeDhcp(
        packet(T.Request, {
          mac: mac(11),
          xid: 11,
          giaddr: '127.0.0.1',
          requested: formatIpv4(address),
          serverId: '127.0.0.1',
        }),
      ),
      '127.0.0.1',
      67,
    );
    await waitFor(
      'b to hear the binding',
      () => b.dhcp.currentEngine.getLease(address)?.hardwareAddress === mac(11),
    );
    // Break s2's connections (its listening one also carries its writes, so it is not told apart
    // by its last statement), and keep them out.
    db.psql('ALTER ROLE gap_s2 NOLOGIN', 'postgres');
    const terminated = db.psql(
      "SELECT count(*) FILTER (WHERE t) FROM (SELECT pg_terminate_backend(pid, 5000) AS t FROM pg_stat_activity WHERE usename = 'gap_s2') x",
      'postgres',
    );
    assert.ok(Number(terminated.trim()) >= 1, `terminated ${terminated}`);
    // The operator deletes the lease through s1 (forced: it is active; released, then deleted).
    const res = await fetch(
      `http://127.0.0.1:${a.api.port}/api/v1/leases/${formatIpv4(address)}?force=true`,
      {
        method: 'DELETE',
        headers: { authorization: `Bearer ${API_TOKEN}` },
      },
    );
    assert.equal(res.status, 204, await res.text());
    db.psql('ALTER ROLE gap_s2 LOGIN', 'postgres');
    await waitFor('s2 to drop its copy', () => b.dhcp.currentEngine.getLease(address) === undefined, 15_000);
    // The only address of the range is offerable by s2 again, to another client.
    const again = b.dhcp.currentEngine.handle(
      packet(T.Discover, { mac: mac(12), xid: 12, giaddr: '127.0.0.1' }),
      now,
    );
    assert.ok(again.action === 'reply', `s2 offers nothing: ${JSON.stringify(again.action)}`);
    assert.equal(again.reply.yiaddr, address);
  } finally {
    for (const s of servers) await s.stop();
  }
});
