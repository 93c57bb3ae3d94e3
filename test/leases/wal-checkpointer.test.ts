// Issue 15 (opt-in: isCheckpointerThread): the default store's WAL checkpoints run on a thread of their own (WalCheckpointer),
// never inside a COMMIT on the event loop; the WAL still starts again from its beginning, and
// nothing written is lost.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { MAX_PENDING_LEASES, openSqliteLeaseStore } from '../../src/leases/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-ckpt-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `leases-${n++}.db`);
const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

// About 20 rows to a 4 KiB page: these fill the WAL in few transactions.
function binding(i: number, expiresAt: number): Lease {
  return {
    ...emptyLease(0x0a000000 + i, '10.0.0.0', 'active', 1_700_000_000),
    hardwareType: 1,
    hardwareAddress: (0x020000000000 + i).toString(16),
    clientId: `01${(0x020000000000 + i).toString(16)}`,
    hostname: `host-${i}`,
    fqdn: `host-${i}.example.test`,
    leaseExpiresAt: expiresAt,
  };
}
const range = (from: number, count: number, expiresAt: number) =>
  Array.from({ length: count }, (_, k) => binding(from + k, expiresAt));

describe('WAL checkpoints off the event loop (default SQLite store)', () => {
  test('no COMMIT copies the WAL back into the database file, however full the WAL', async () => {
    const path = freshPath();
    // Checkpoints only on close: what SQLite's automatic checkpoint would have done (at 4000 pages,
    // inside the COMMIT that reached them) shows in the database file's size.
    const s = openSqliteLeaseStore(path, {
      isCheckpointerThread: true,
      checkpointAfterRows: Number.POSITIVE_INFINITY,
    });
    assert.equal(s.walAutocheckpointPages(), 0);
    const rows = 3 * MAX_PENDING_LEASES;
    for (let at = 0; at < rows; at += MAX_PENDING_LEASES)
      await s.commit(range(at, MAX_PENDING_LEASES, 1_800_000_000));
    const walBytes = sizeOf(`${path}-wal`);
    assert.ok(walBytes > 4000 * 4096, `the WAL holds more than 4000 pages (${walBytes} bytes)`);
    const dbBytes = sizeOf(path);
    assert.ok(dbBytes < 1 << 20, `nothing was checkpointed into the database file (${dbBytes} bytes)`);
    await s.close();
    // close() still copies everything back and empties the WAL.
    assert.equal(sizeOf(`${path}-wal`), 0);
    assert.ok(sizeOf(path) > walBytes / 2);
    const again = openSqliteLeaseStore(path);
    assert.equal(again.count(), rows);
    await again.close();
  });

  test('the checkpointer thread copies the WAL back and starts it again; every binding survives', async () => {
    const path = freshPath();
    const s = openSqliteLeaseStore(path, {
      isCheckpointerThread: true,
      checkpointAfterRows: 200,
      restartAfterFrames: 300,
      commitIntervalMs: 0,
    });
    const addresses = 20_000;
    const perCommit = 100;
    // Commits of 100 bindings spread over the table (pages of their own), round after round with
    // a later expiry, until the thread (started at the first 200 rows) has checkpointed and caught
    // up at least once.
    const expiryOf = new Map<number, number>();
    let written = 0;
    const deadline = performance.now() + 30_000;
    const isDone = () => {
      const st = s.checkpointerStats();
      return st !== null && st.checkpoints >= 2 && st.catchUps >= 1;
    };
    while ((!isDone() || written < 2 * addresses) && performance.now() < deadline) {
      const ps: Promise<void>[] = [];
      for (let k = 0; k < 4; k++, written += perCommit) {
        const first = written % addresses;
        const expiresAt = 1_800_000_000 + Math.floor(written / addresses);
        ps.push(s.commit(range(first, perCommit, expiresAt)));
        for (let i = first; i < first + perCommit; i++) expiryOf.set(i, expiresAt);
      }
      await Promise.all(ps);
    }
    const stats = s.checkpointerStats();
    assert.ok(
      isDone(),
      `checkpoints and a catch-up once the WAL passed 300 frames: ${JSON.stringify(stats)}`,
    );
    // Thousands of pages were written; a WAL that starts again holds far fewer.
    const walBytes = sizeOf(`${path}-wal`);
    assert.ok(
      walBytes < (written / 20) * 4096,
      `the WAL started again from its beginning (${walBytes} bytes)`,
    );
    assert.ok(sizeOf(path) > 1 << 20, 'the database file got the checkpointed pages');
    await s.close();
    const again = openSqliteLeaseStore(path);
    const stored = new Map(again.loadAll().map((l) => [l.address, l]));
    assert.equal(stored.size, addresses);
    for (const [i, expiresAt] of expiryOf)
      assert.equal(stored.get(0x0a000000 + i)?.leaseExpiresAt, expiresAt, `binding ${i}`);
    await again.close();
  });
});
