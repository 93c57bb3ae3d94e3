import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { MemoryLeaseStore } from '../../src/leases/memory-store.js';
import {
  BACKGROUND_LEASES_PER_COMMIT,
  MAX_PENDING_LEASES,
  openSqliteLeaseStore as openDirect,
  WAL_AUTOCHECKPOINT_PAGES,
} from '../../src/leases/sqlite-store.js';
import { openThreadedSqliteLeaseStore } from '../../src/leases/sqlite-writer-thread.js';
import type { LeaseStore } from '../../src/leases/store.js';
import { StoreBusyError } from '../../src/leases/store.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `leases-${n++}.db`);

function full(address: number): Lease {
  return {
    address,
    scopeId: '10.0.0.0',
    state: 'active',
    hardwareType: 1,
    hardwareAddress: '001122334455',
    clientId: '01001122334455',
    hostname: 'laptop',
    clientType: 'bootp',
    isReserved: true,
    leaseExpiresAt: 0xffffffff,
    stateStartedAt: 1_700_000_000,
    clientLastTransactionAt: 1_700_000_010,
    ownerServer: 'tl1',
    policyName: 'printers',
    sentPotentialExpiresAt: 1_700_005_000,
    ackedPotentialExpiresAt: 1_700_004_000,
    receivedPotentialExpiresAt: 1_700_003_000,
    lastBindingUpdateAt: 1_700_000_011,
    isPartnerUpToDate: true,
    fqdn: 'laptop.example.test',
    dhcidMode: 'clientId',
    dns: {
      cleanupOnDelete: true,
      updateBothRecords: false,
      registrationPending: true,
      removalPending: false,
    },
  };
}

const kinds: [string, (path: string) => LeaseStore & { stats(): { transactions: number } }][] = [
  ['direct', openDirect],
  // Issue 17: the writes on a worker thread, the same contract (kill -9 included).
  ['thread', openThreadedSqliteLeaseStore],
  // Issue 15 (opt-in): the WAL's fsync on libuv's thread pool, waiters settled after it, with the
  // checkpointer thread.
  ['direct-pool', (path) => openDirect(path, { isWalSyncedOffLoop: true, isCheckpointerThread: true })],
];

for (const [kind, openSqliteLeaseStore] of kinds)
  describe(`SQLite lease store (${kind})`, () => {
    test('every field round-trips, including nulls, booleans and the infinite expiry', async () => {
      const path = freshPath();
      const s = openSqliteLeaseStore(path);
      const a = full(0xfffffffe);
      const b = emptyLease(0x0a000001, 'x', 'free', 5);
      await s.commit([a, b]);
      await s.close();
      const s2 = openSqliteLeaseStore(path);
      const byAddress = new Map(s2.loadAll().map((l) => [l.address, l]));
      assert.deepEqual(byAddress.get(a.address), a);
      assert.deepEqual(byAddress.get(b.address), b);
      assert.equal(s2.count(), 2);
      await s2.close();
    });

    test('loadInto puts every stored binding into a lease table, field for field', async () => {
      const path = freshPath();
      const s = openSqliteLeaseStore(path);
      const leases = [
        full(0xfffffffe),
        emptyLease(0x0a000001, 'x', 'free', 5),
        { ...full(0x0a000002), clientId: null, hardwareAddress: '0102030405060708090a0b', hostname: 'é' },
        { ...full(0x0a000003), state: 'abandoned' as const, ownerServer: null, policyName: null },
        // The first row's names (scope 'x', no owner, no policy) with a hardware type that is not
        // a byte, and with each name in turn different: loadInto's packed and JSON paths.
        { ...emptyLease(0x0a000004, 'x', 'free', 5), hardwareType: 300, hardwareAddress: '0a0b' },
        { ...emptyLease(0x0a000005, 'x', 'free', 5), hardwareType: 255, hardwareAddress: '0a0b' },
        { ...emptyLease(0x0a000006, 'x', 'free', 5), ownerServer: 'tl "2"' },
        { ...emptyLease(0x0a000007, 'x', 'free', 5), policyName: 'é\\' },
        { ...emptyLease(0x0a000008, 'y', 'free', 5), hardwareType: 6, hardwareAddress: 'aa' },
      ];
      await s.commit(leases);
      await s.close();
      const s2 = openSqliteLeaseStore(path);
      const table = new LeaseTable(s2.count());
      assert.equal(s2.loadInto(table), leases.length);
      assert.equal(table.size, leases.length);
      for (const l of leases)
        assert.deepEqual({ ...table.get(l.address)!, version: undefined }, { ...l, version: undefined });
      assert.deepEqual(
        [...table.leases()].map((l) => ({ ...l, version: undefined })),
        s2
          .loadAll()
          .sort((a, b) => a.address - b.address)
          .map((l) => ({ ...l, version: undefined })),
      );
      await s2.close();
    });

    test('commits of one event-loop turn share one transaction; the last write of an address wins', async () => {
      const s = openSqliteLeaseStore(freshPath());
      const before = s.stats().transactions;
      const ps = [];
      for (let i = 0; i < 100; i++) ps.push(s.commit([{ ...full(i % 10), hostname: `h${i}` }]));
      await Promise.all(ps);
      assert.equal(s.stats().transactions - before, 1);
      const rows = new Map(s.loadAll().map((l) => [l.address, l]));
      assert.equal(rows.size, 10);
      assert.equal(rows.get(9)!.hostname, 'h99');
      await s.close();
    });

    // Issue 15: the expiries of a mass expiry go to the background lane.
    test("a reply's binding is not held behind queued expiries", async () => {
      const s = openSqliteLeaseStore(freshPath()) as LeaseStore & {
        stats(): { transactions: number; leasesWritten: number };
      };
      const expiries: Promise<void>[] = [];
      for (let b = 0; b < 30; b++) {
        const batch = Array.from({ length: 100 }, (_, i) => ({
          ...full(10_000 + b * 100 + i),
          state: 'free' as const,
        }));
        expiries.push(s.commitInBackground!(batch));
      }
      const before = s.stats().leasesWritten;
      await s.commit([full(1)]);
      const written = s.stats().leasesWritten - before;
      // At most one background slice in flight ahead of it and one in its own transaction.
      assert.ok(written <= 1 + 2 * BACKGROUND_LEASES_PER_COMMIT, `${written} rows written before the ACK's`);
      await Promise.all(expiries);
      assert.equal(s.count(), 3001);
      await s.close();
    });

    test('an address expired in the background and bound again ends with the new binding', async () => {
      const path = freshPath();
      const s = openSqliteLeaseStore(path);
      await s.commit([full(7), full(8)]);
      const settled: string[] = [];
      const expiry = s.commitInBackground!([
        { ...full(7), state: 'free', hostname: null },
        { ...full(8), state: 'free', hostname: null },
      ]).then(() => settled.push('expiry'));
      // The new client's ACK for address 7, given in the same turn and in a later one.
      const ack = s.commit([{ ...full(7), hardwareAddress: '0a0b0c0d0e0f' }]).then(() => settled.push('ack'));
      await Promise.all([expiry, ack]);
      assert.deepEqual(settled, ['expiry', 'ack']);
      const expiry2 = s.commitInBackground!([{ ...full(7), state: 'free' }]);
      await new Promise((r) => setImmediate(r));
      await s.commit([{ ...full(7), hardwareAddress: '0a0b0c0d0e10' }]);
      await expiry2;
      await s.close();
      const reopened = openSqliteLeaseStore(path);
      const rows = new Map(reopened.loadAll().map((l) => [l.address, l]));
      await reopened.close();
      assert.equal(rows.get(7)!.state, 'active');
      assert.equal(rows.get(7)!.hardwareAddress, '0a0b0c0d0e10');
      assert.equal(rows.get(8)!.state, 'free');
    });

    test('close writes the background lane too', async () => {
      const path = freshPath();
      const s = openSqliteLeaseStore(path);
      const all = Array.from({ length: 1000 }, (_, i) => full(i));
      void s.commitInBackground!(all.slice(0, 500));
      void s.commitInBackground!(all.slice(500));
      await s.close();
      const reopened = openSqliteLeaseStore(path);
      assert.equal(reopened.count(), 1000);
      await reopened.close();
    });

    test('remove deletes bindings; meta values persist', async () => {
      const path = freshPath();
      const s = openSqliteLeaseStore(path);
      await s.commit([full(1), full(2)]);
      await s.remove([1]);
      await s.setMeta('failover:tl:state', 'normal');
      assert.equal(s.getMeta('failover:tl:state'), 'normal');
      assert.equal(s.getMeta('missing'), null);
      await s.close();
      const s2 = openSqliteLeaseStore(path);
      assert.deepEqual(
        s2.loadAll().map((l) => l.address),
        [2],
      );
      assert.equal(s2.getMeta('failover:tl:state'), 'normal');
      await s2.close();
    });

    test('count() follows inserts, updates and removals without counting rows again', async () => {
      const path = freshPath();
      const s = openSqliteLeaseStore(path);
      assert.equal(s.count(), 0);
      await s.commit([full(1), full(2), full(3)]);
      assert.equal(s.count(), 3);
      await s.commit([{ ...full(2), hostname: 'again' }, full(4)]);
      assert.equal(s.count(), 4);
      await Promise.all([s.remove([1, 99]), s.commit([full(5)])]);
      assert.equal(s.count(), 4);
      await s.close();
      const s2 = openSqliteLeaseStore(path);
      assert.equal(s2.count(), 4);
      assert.equal(s2.loadAll().length, 4);
      // After loadInto the store knows every address it holds: the same counts without asking SQLite.
      assert.equal(s2.loadInto(new LeaseTable()), 4);
      await s2.commit([full(2), full(6), full(7)]);
      assert.equal(s2.count(), 6);
      await s2.remove([6, 100]);
      await s2.commit([full(6)]);
      assert.equal(s2.count(), 6);
      await Promise.all([s2.remove([6]), s2.commit([full(8)])]);
      assert.equal(s2.count(), 6);
      assert.equal(s2.loadAll().length, 6);
      await s2.close();
    });

    test('the pending queue is bounded', async () => {
      const s = openSqliteLeaseStore(freshPath());
      const many = Array.from({ length: MAX_PENDING_LEASES + 1 }, (_, i) => emptyLease(i, 's', 'free', 0));
      await assert.rejects(s.commit(many), (err: Error) => {
        assert.ok(!(err instanceof StoreBusyError), 'one commit beyond the bound can never be taken');
        assert.match(err.message, /in one commit/);
        return true;
      });
      // Two commits that together pass the bound: the second is refused as busy (try again later).
      const half = Math.ceil(MAX_PENDING_LEASES / 2) + 1;
      const first = s.commit(many.slice(0, half));
      await assert.rejects(s.commit(many.slice(half, 2 * half)), StoreBusyError);
      await first;
      await s.commit(many.slice(half, 2 * half));
      await s.close();
    });

    test('close flushes what is pending; a closed store refuses commits', async () => {
      const path = freshPath();
      const s = openSqliteLeaseStore(path);
      const p = s.commit([full(7)]);
      await s.close();
      await p;
      await assert.rejects(s.commit([full(8)]), /closed/);
      const s2 = openSqliteLeaseStore(path);
      assert.equal(s2.count(), 1);
      await s2.close();
    });

    test('a file that is not a lease database is refused, naming the file', () => {
      const path = join(dir, 'garbage.db');
      writeFileSync(path, 'this is not sqlite'.repeat(100));
      assert.throws(
        () => openSqliteLeaseStore(path),
        (err: Error) => err.message.includes(path),
      );
    });

    test('kill -9 loses no commit that had resolved', async () => {
      const path = freshPath();
      for (let round = 0; round < 4; round++) {
        const start = round * 1_000_000;
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'test/leases/fixtures/writer.ts', path, String(start), kind],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        const acked: number[] = [];
        let buf = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buf += chunk.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) if (l) acked.push(Number(l));
        });
        // Kill at a random moment once the writer is well under way.
        await new Promise<void>((resolve) => {
          const wait = () =>
            acked.length >= 200 + Math.floor(Math.random() * 2000) ? resolve() : setTimeout(wait, 5);
          wait();
        });
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const s = openSqliteLeaseStore(path);
        const stored = new Map(s.loadAll().map((l) => [l.address, l]));
        await s.close();
        for (const a of acked) {
          const l = stored.get(a);
          assert.ok(l, `acknowledged binding ${a} lost in round ${round}`);
          assert.equal(l.leaseExpiresAt, 1_700_003_600 + a);
        }
      }
    });
  });

// Issue 15: SQLite's automatic checkpoint runs inside a COMMIT on the event loop; at 4000 pages it
// held it 30-70 ms at 1M leases. The WAL, which a checkpoint restarts, shows how large they get.
describe('SQLite lease store: WAL checkpoints', () => {
  test('a checkpoint runs before the WAL holds 1000 pages (1600 pages written)', async () => {
    const path = freshPath();
    const s = openDirect(path);
    assert.equal(s.walAutocheckpointPages(), WAL_AUTOCHECKPOINT_PAGES);
    // A row of ~3 KB fills a page of its own: 40 transactions of 40 rows write ~1600 pages.
    const transactionRows = 40;
    for (let t = 0; t < 40; t++) {
      const rows: Lease[] = [];
      for (let i = 0; i < transactionRows; i++)
        rows.push({ ...full(t * transactionRows + i), hostname: `h${t}-${i}-`.padEnd(3000, 'x') });
      await s.commit(rows);
    }
    assert.equal(s.count(), 1600);
    const reader = new Database(path, { readonly: true });
    const frameBytes = 24 + (reader.pragma('page_size', { simple: true }) as number);
    reader.close();
    // The file keeps its largest size: no checkpoint ran later than that.
    const walFrames = Math.floor(statSync(`${path}-wal`).size / frameBytes);
    assert.ok(walFrames < 1000, `the WAL grew to ${walFrames} frames`);
    await s.close();
  });
});

// Issue 17: at a low rate each packet came in a turn of its own and got a commit (a fsync) of its
// own; commitIntervalMs lets the packets of a few turns share one.
describe('SQLite lease store: commit interval', () => {
  const turn = () => new Promise<void>((r) => setImmediate(r));
  const commitsInSuccessiveTurns = async (commitIntervalMs: number, commitBatchSize = 1) => {
    const s = openDirect(freshPath(), { commitIntervalMs, commitBatchSize });
    await s.commit([full(1)]);
    const before = s.stats().transactions;
    const ps: Promise<void>[] = [];
    for (let i = 2; i < 6; i++) {
      ps.push(s.commit([full(i)]));
      await turn();
    }
    await Promise.all(ps);
    const transactions = s.stats().transactions - before;
    assert.equal(s.count(), 5);
    await s.close();
    return transactions;
  };

  test('commits of successive turns within the interval share one transaction', async () => {
    assert.equal(await commitsInSuccessiveTurns(200), 1);
  });

  test('with an interval of 0 and a batch of 1 each turn gets its own transaction, as before', async () => {
    assert.equal(await commitsInSuccessiveTurns(0, 1), 4);
  });

  test('with fewer than commitBatchSize waiting, the commits of later turns join the first', async () => {
    // Interval 0, batch 8, delay 8 ms: four turns in a row are well within 8 ms.
    assert.equal(await commitsInSuccessiveTurns(0, 8), 1);
  });

  test('a full batch starts at once, without waiting for the delay', async () => {
    const s = openDirect(freshPath(), { commitIntervalMs: 0, commitBatchSize: 4, commitMaxDelayMs: 250 });
    await s.commit([full(1)]);
    const before = s.stats().transactions;
    const t0 = performance.now();
    const ps: Promise<void>[] = [];
    for (let i = 2; i < 6; i++) {
      ps.push(s.commit([full(i)]));
      await new Promise<void>((r) => setImmediate(r));
    }
    await Promise.all(ps);
    const waitedMs = performance.now() - t0;
    assert.equal(s.stats().transactions - before, 1);
    assert.ok(waitedMs < 200, `waited ${waitedMs} ms`);
    await s.close();
  });

  /**
   * How long a second commit waits when nothing else comes, and the gap between the starts of the
   * two transactions (timed from the first one's start: with the WAL's fsync off the event loop,
   * issue 15, the first commit resolves once its fsync returned, part of the interval).
   */
  const loneWait = async (options: Parameters<typeof openDirect>[1]) => {
    const startsMs: number[] = [];
    const s = openDirect(freshPath(), { ...options, onTransaction: (t) => startsMs.push(t.startedAtMs) });
    await s.commit([full(1)]);
    const t0 = performance.now();
    await s.commit([full(2)]);
    const waitedMs = performance.now() - t0;
    await s.close();
    return { waitedMs, gapMs: startsMs[1]! - startsMs[0]! };
  };

  test('a lone commit waits commitMaxDelayMs for company, not more', async () => {
    const { waitedMs, gapMs } = await loneWait({
      commitIntervalMs: 0,
      commitBatchSize: 8,
      commitMaxDelayMs: 40,
    });
    assert.ok(
      gapMs >= 35 && waitedMs < 500,
      `waited ${waitedMs} ms, ${gapMs} ms after the first transaction`,
    );
  });

  test('a binding waits about the interval, not more, when nothing else comes', async () => {
    const { waitedMs, gapMs } = await loneWait({ commitIntervalMs: 30 });
    assert.ok(
      gapMs >= 29 && waitedMs < 500,
      `waited ${waitedMs} ms, ${gapMs} ms after the first transaction`,
    );
  });
});

// The same contract for the in-memory store (simulator): a restart is snapshot() → fromSnapshot().
describe('Memory lease store (same contract)', () => {
  const restart = async (s: MemoryLeaseStore) => {
    await s.close();
    return MemoryLeaseStore.fromSnapshot(s.snapshot());
  };

  test('every field round-trips, including nulls, booleans and the infinite expiry', async () => {
    const s = new MemoryLeaseStore();
    const a = full(0xfffffffe);
    const b = emptyLease(0x0a000001, 'x', 'free', 5);
    await s.commit([a, b]);
    const s2 = await restart(s);
    const byAddress = new Map(s2.loadAll().map((l) => [l.address, l]));
    assert.deepEqual(byAddress.get(a.address), a);
    assert.deepEqual(byAddress.get(b.address), b);
    assert.equal(s2.count(), 2);
    await s2.close();
  });

  test('the last write of an address in one turn wins', async () => {
    const s = new MemoryLeaseStore();
    const ps = [];
    for (let i = 0; i < 100; i++) ps.push(s.commit([{ ...full(i % 10), hostname: `h${i}` }]));
    await Promise.all(ps);
    const rows = new Map(s.loadAll().map((l) => [l.address, l]));
    assert.equal(rows.size, 10);
    assert.equal(rows.get(9)!.hostname, 'h99');
    await s.close();
  });

  test('remove deletes bindings; meta values persist', async () => {
    const s = new MemoryLeaseStore();
    await s.commit([full(1), full(2)]);
    await s.remove([1]);
    await s.setMeta('failover:tl:state', 'normal');
    assert.equal(s.getMeta('failover:tl:state'), 'normal');
    assert.equal(s.getMeta('missing'), null);
    const s2 = await restart(s);
    assert.deepEqual(
      s2.loadAll().map((l) => l.address),
      [2],
    );
    assert.equal(s2.getMeta('failover:tl:state'), 'normal');
    await s2.close();
  });

  test('close flushes what is pending; a closed store refuses commits', async () => {
    const s = new MemoryLeaseStore();
    const p = s.commit([full(7)]);
    await s.close();
    const s2 = MemoryLeaseStore.fromSnapshot(s.snapshot()); // before awaiting p: close flushed it
    await p;
    await assert.rejects(s.commit([full(8)]), /closed/);
    await assert.rejects(s.remove([7]), /closed/);
    await assert.rejects(s.setMeta('k', 'v'), /closed/);
    assert.equal(s2.count(), 1);
    await s2.close();
  });
});
