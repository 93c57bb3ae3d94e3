// Three Twinlease servers on one PostgreSQL database (issue 20; docs/postgresql.md), in the
// harness namespaces: tl1 in $PFX-srv (10.77.0.1), tl2 in $PFX-srv2 (10.77.0.3), tl3 in $PFX-rc
// (10.77.0.4, added here), PostgreSQL 15 in $PFX-cli on 10.77.0.2 (a throwaway cluster,
// test/lib/postgres.ts). One relay reaches all three: perfdhcp (giaddr 10.77.0.2, broadcast out
// of br0) in the background and a recording relay client (giaddr 10.77.0.5) that sends to the
// subnet broadcast address, so every server sees every DISCOVER and REQUEST. During the run tl3
// is killed with kill -9 and the database is restarted. Then:
//  - no address was ACKed to two clients, in the recording client's view;
//  - every ACK it saw is in the database, active, bound to that client (nothing ACKed lost);
//  - the database holds one row per address (its key) and no client holds two active ones.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { migratePgSchema } from '../../src/leases/pg-schema.js';
import { postgresAvailable, startTestPostgres, type TestPostgres } from '../lib/postgres.js';
import { DhcpMessageType, DhcpTestClient, type DoraResult, testMac } from './lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from './lib/env.js';
import { LineProcess, sleep } from './lib/proc.js';
import { harnessConfig, harnessScope, makeWorkDir, TwinleaseServer } from './lib/server.js';
import { ip, topologyDown, topologyUp } from './lib/topology.js';

const skip = e2eSkipReason(['ss', 'perfdhcp']) ?? postgresAvailable();

const LEASE_S = 4000;
const RECORDED_CLIENTS = 2500;
const RECORDED_RATE = 150; // DORA/s of the recording client
const PERF_RATE = 200; // perfdhcp DORA/s in the background
const PERF_CLIENTS = 3000;
const RC_ADDR = '10.77.0.4';
const RELAY_ADDR = '10.77.0.5';

describe('three servers on one PostgreSQL', { skip: skip ?? false }, () => {
  let db: TestPostgres;
  const servers: TwinleaseServer[] = [];
  let relay: DhcpTestClient;
  let perf: LineProcess | null = null;

  before(async () => {
    await topologyUp();
    await ip(NS.rc, 'addr', 'replace', `${RC_ADDR}/16`, 'dev', 'eth0');
    await ip(NS.rc, 'link', 'set', 'eth0', 'up');
    await ip(NS.cli, 'addr', 'add', `${RELAY_ADDR}/16`, 'dev', 'br0');
    db = await startTestPostgres({ ns: NS.cli, listenAddress: ADDR.cli });
    const c = new pg.Client(db.socketConfig);
    await c.connect();
    await migratePgSchema(c, 'init');
    await c.end();
    for (const [i, [ns, address]] of [
      [NS.srv, ADDR.srv],
      [NS.srv2, ADDR.srv2],
      [NS.rc, RC_ADDR],
    ].entries()) {
      const dir = makeWorkDir(`postgresql-tl${i + 1}`);
      const config = harnessConfig(dir, [harnessScope({ leaseTimeSeconds: LEASE_S })], {
        server: { name: `tl${i + 1}`, serverIdentifier: address },
        leaseStore: { type: 'postgresql', url: db.url, connectTimeoutMs: 1000, statementTimeoutMs: 3000 },
        logging: { level: 'warn' },
      });
      servers.push(new TwinleaseServer(dir, config, ns));
    }
    for (const s of servers) await s.start();
    relay = await DhcpTestClient.start({
      ns: NS.cli,
      giaddr: RELAY_ADDR,
      bindAddress: RELAY_ADDR,
      server: ADDR.broadcast,
      attemptTimeoutMs: 1000,
      attempts: 4,
    });
  });

  after(async () => {
    await perf?.stop('SIGTERM', 3000);
    await relay?.close();
    for (const s of servers) await s.stop();
    db?.destroy();
    await topologyDown();
  });

  test('no address ACKed to two clients, nothing ACKed lost, through kill -9 and a database restart', {
    timeout: 180_000,
  }, async (t) => {
    perf = new LineProcess('timeout', [
      '-k',
      '5',
      '40',
      'ip',
      'netns',
      'exec',
      NS.cli,
      'perfdhcp',
      '-4',
      '-r',
      String(PERF_RATE),
      '-R',
      String(PERF_CLIENTS),
      '-p',
      '30',
      '-l',
      'br0',
    ]);
    await sleep(1000);
    const acked = new Map<string, { ip: string; from: string }>();
    const byAddress = new Map<string, string>();
    const doubles: string[] = [];
    let naks = 0;
    let unanswered = 0;
    const onResult = (r: DoraResult) => {
      if (r.reply?.type === DhcpMessageType.Ack) {
        const other = byAddress.get(r.reply.yiaddr);
        if (other !== undefined && other !== r.mac)
          doubles.push(`${r.reply.yiaddr} ACKed to ${other} and ${r.mac}`);
        byAddress.set(r.reply.yiaddr, r.mac);
        acked.set(r.mac, { ip: r.reply.yiaddr, from: r.reply.serverId ?? '?' });
      } else if (r.reply?.type === DhcpMessageType.Nak) naks++;
      else unanswered++;
    };
    const macs = Array.from({ length: RECORDED_CLIENTS }, (_, i) => testMac(0xe1, i));
    const loading = relay.doraMany(macs, { ratePerSecond: RECORDED_RATE, maxInFlight: 300, onResult });
    const started = Date.now();
    while (acked.size < 500 && Date.now() - started < 8000) await sleep(20);
    await servers[2]!.kill9();
    t.diagnostic(`tl3 killed (SIGKILL) after ${Date.now() - started} ms, ${acked.size} ACKs seen`);
    const atKill = acked.size;
    while (acked.size < atKill + 300 && Date.now() - started < 16_000) await sleep(20);
    db.crash(); // immediate stop: like a crash; WAL replay on start
    const down = Date.now();
    await sleep(1500);
    db.start();
    t.diagnostic(
      `database down for ${Date.now() - down} ms at ${down - started} ms, ${acked.size} ACKs seen`,
    );
    await loading;
    await perf.stop('SIGINT', 3000);
    const perfReceived = [...perf.lines.join('\n').matchAll(/received packets: (\d+)/g)].map((m) => m[1]);
    const perServer = new Map<string, number>();
    for (const a of acked.values()) perServer.set(a.from, (perServer.get(a.from) ?? 0) + 1);
    t.diagnostic(
      `recording client: ${acked.size} ACKs (${[...perServer].map(([k, v]) => `${k}: ${v}`).join(', ')}), ${naks} NAKs, ${unanswered} without answer; perfdhcp OFFERs/ACKs: ${perfReceived.join('/')}`,
    );
    assert.deepEqual(doubles.slice(0, 20), [], `${doubles.length} addresses ACKed to two clients`);
    assert.ok(acked.size >= RECORDED_CLIENTS * 0.8, `too few ACKs: ${acked.size}/${RECORDED_CLIENTS}`);
    assert.ok(perServer.size >= 2, 'more than one server answered');

    // The database after the run: every ACK there, one client per address.
    const c = new pg.Client(db.socketConfig);
    await c.connect();
    const rows = (
      await c.query<{ ip: string; hardware_address: string; state: string }>(
        `SELECT ((address >> 24) & 255) || '.' || ((address >> 16) & 255) || '.' || ((address >> 8) & 255) || '.' || (address & 255) AS ip,
                hardware_address, state FROM twinlease_leases`,
      )
    ).rows;
    const doubleHolders = (
      await c.query(
        `SELECT hardware_address, count(*) AS n FROM twinlease_leases WHERE state = 'active'
         GROUP BY hardware_address HAVING count(*) > 1`,
      )
    ).rows;
    await c.end();
    const stored = new Map(rows.map((r) => [r.ip, r] as const));
    const missing: string[] = [];
    for (const [mac, { ip: address }] of acked) {
      const row = stored.get(address);
      if (row?.state !== 'active' || row.hardware_address !== mac)
        missing.push(`${mac} ACKed ${address}: ${JSON.stringify(row ?? null)}`);
    }
    t.diagnostic(`database: ${rows.length} rows`);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} ACKed bindings not in the database`);
    assert.deepEqual(doubleHolders, [], 'a client holds two active addresses');
  });

  test('the surviving servers logged no error but the database outage', () => {
    for (const s of servers.slice(0, 2)) {
      const unexpected = s
        .errors()
        .filter((e) => !/lease.commit-failed|lease-store|commit failed/.test(JSON.stringify(e)));
      assert.deepEqual(unexpected, []);
    }
  });
});
