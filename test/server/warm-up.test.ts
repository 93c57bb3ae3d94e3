// The warm-up before the DHCP socket opens (src/server/warm-up.ts, issue 19): it runs real
// exchanges through throwaway parts, stops at its limits, and leaves nothing of its made-up
// clients in the server's table or store.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { startServer } from '../../src/server/server.js';
import { warmUpDatabasePath, warmUpPacketPath } from '../../src/server/warm-up.js';
import { freeUdpPort, testConfig } from '../api/helpers.js';
import { ip, NOW, scope, settings } from '../dhcp/helpers.js';

const network = { listenAddress: '127.0.0.1', port: 0, clientPort: 0, broadcastAddress: '127.0.0.1' };
const clock = { nowSeconds: () => NOW };
const oneScope = () =>
  settings([scope({ subnet: '10.9.0.0/16', ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.255.200') }] })]);

test('every made-up client gets an OFFER, an ACK and a renewal ACK', async () => {
  const r = await warmUpPacketPath(oneScope(), network, clock, { exchanges: 100, maxMs: 60_000 });
  assert.equal(r.skipped, null);
  assert.equal(r.exchanges, 100, 'every DISCOVER/REQUEST ended in an ACK');
  assert.equal(
    r.replies,
    350,
    'OFFER, ACK and the renewal ACK per client (a RELEASE has no reply), and OFFER and ACK again for each fourth client, which starts over while bound',
  );
});

test('it stops at its time limit, after the turn in which it passed', async () => {
  // The clock reads 0 at the start and at the first batch, then 1 s: one batch of 32 runs.
  const readings = [0, 0];
  const r = await warmUpPacketPath(
    oneScope(),
    network,
    clock,
    { exchanges: 10_000, maxMs: 50 },
    { nowMs: () => readings.shift() ?? 1000 },
  );
  assert.equal(r.skipped, null);
  assert.equal(r.exchanges, 32, 'one batch of 32 clients ran, not 10,000');
  assert.equal(r.elapsedMs, 1000);
});

test('it is skipped when off or when no scope can give an address', async () => {
  assert.equal(
    (await warmUpPacketPath(oneScope(), network, clock, { exchanges: 0, maxMs: 500 })).skipped,
    'off',
  );
  const inactive = settings([
    scope({
      subnet: '10.9.0.0/16',
      ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.20') }],
      isActive: false,
    }),
  ]);
  const r = await warmUpPacketPath(inactive, network, clock, { exchanges: 100, maxMs: 500 });
  assert.equal(r.skipped, 'no active scope with a range');
  assert.equal(r.replies, 0);
});

test('a scope smaller than the warm-up: the clients that get no address are refused, nothing fails', async () => {
  const small = settings([
    scope({ subnet: '10.9.0.0/24', ranges: [{ start: ip('10.9.0.10'), end: ip('10.9.0.19') }] }),
  ]);
  const r = await warmUpPacketPath(small, network, clock, { exchanges: 64, maxMs: 60_000 });
  assert.equal(r.skipped, null);
  // Each batch's clients release their addresses before the next batch, except the two of the
  // ten (xid 2 and 6) that started over while bound: the engine takes a RELEASE in the second of a
  // start-over as sent before it and keeps the binding. 10 in the first batch of 32, 8 in the next.
  assert.equal(r.exchanges, 18);
});

test('the database warm-up: its own pass on the store it opens, waiting for replies that come late, sent as datagrams too; a store that cannot be opened is reported', async () => {
  const opened: SqliteLeaseStore[] = [];
  const metaWrites: string[] = [];
  // Each commit 3 ms late, as a database's round trip: replies come turns after their batch.
  const openDatabaseStore = async () => {
    const s = new SqliteLeaseStore(':memory:', { commitIntervalMs: 0, commitBatchSize: 1 });
    const commit = s.commit.bind(s);
    s.commit = async (leases) => {
      await new Promise((r) => setTimeout(r, 3));
      return commit(leases);
    };
    const setMeta = s.setMeta.bind(s);
    s.setMeta = async (key, value) => {
      metaWrites.push(`${key}=${value}`);
      return setMeta(key, value);
    };
    opened.push(s);
    return s;
  };
  const r = await warmUpDatabasePath(
    oneScope(),
    network,
    clock,
    { exchanges: 100, maxMs: 60_000 },
    openDatabaseStore,
  );
  assert.equal(r.skipped, null);
  assert.equal(opened.length, 1, 'it opened its store once');
  assert.equal(r.exchanges, 100, 'min(2000, 100) clients, every one ACKed although the store is slow');
  assert.equal(r.replies, 350, 'as in the in-memory passes: OFFER, ACK and renewal ACK, and the start-overs');
  assert.equal(r.datagrams, r.replies, 'every reply also went out as a datagram');
  assert.deepEqual(
    metaWrites,
    ['warm-up=0', 'warm-up=8', 'warm-up=16', 'warm-up=24'],
    'a meta write every 8 batches of 4 clients, as the clock checkpoint writes one',
  );
  const memory = await warmUpPacketPath(oneScope(), network, clock, { exchanges: 100, maxMs: 60_000 });
  assert.equal(memory.datagrams, 0, 'the in-memory passes send none');
  const failed = await warmUpDatabasePath(
    oneScope(),
    network,
    clock,
    { exchanges: 100, maxMs: 60_000 },
    async () => {
      throw new Error('database down');
    },
  );
  assert.equal(failed.skipped, 'failed: database down');
  assert.equal(failed.exchanges, 0);
  const off = await warmUpDatabasePath(
    oneScope(),
    network,
    clock,
    { exchanges: 0, maxMs: 500 },
    openDatabaseStore,
  );
  assert.equal(off.skipped, 'off');
  assert.equal(opened.length, 1, 'off: no store opened');
});

test('a server that warmed up holds none of the made-up bindings, in its table or its store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-warm-'));
  try {
    const configPath = join(dir, 'config.json');
    const port = await freeUdpPort();
    const config = testConfig(dir, port, {
      dhcp: { listenAddress: '127.0.0.1', port, warmUp: { exchanges: 200 } },
      logging: { level: 'info' },
    });
    writeFileSync(configPath, JSON.stringify(config));
    const logPath = join(dir, 'server.log');
    const server = await startServer({ configPath, logDestination: logPath });
    try {
      const engine = server.dhcp.currentEngine;
      for (const subnet of [ip('10.50.0.0'), ip('10.60.0.0')]) {
        for (let a = subnet; a < subnet + 256; a++) {
          const lease = engine.getLease(a);
          assert.ok(lease === undefined || lease.state === 'free', `${a}: ${lease?.state}`);
        }
      }
      assert.equal(server.counters.get('pkt4-received'), 0, 'the server counted no packet');
    } finally {
      await server.stop();
    }
    const reopened = new SqliteLeaseStore(join(dir, 'leases.db'));
    const stored = reopened.loadAll();
    await reopened.close();
    assert.deepEqual(stored, [], 'nothing of the warm-up in the store');
    const lines = readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"dhcp.warm-up"'))
      .map((l) => JSON.parse(l) as { exchanges: number; skipped: string | null });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.skipped, null);
    // The first scope with a range (lab: 18 addresses) served batch after batch of 32, fewer each
    // time as the clients that started over keep theirs.
    assert.ok(lines[0]!.exchanges > 60, `${lines[0]!.exchanges} exchanges`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
