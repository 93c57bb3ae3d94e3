// Issue 15: the WAL's fsync off the event loop (WalSync): waiters of committed transactions are
// settled only after an fsync that started after they were given, in the order given; a failed
// fsync rejects them and everything after.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Waiter } from '../../src/leases/pending-writes.js';
import { WalSync } from '../../src/leases/wal-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-walsync-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function recorder(settled: string[], name: string): { waiter: Waiter; done: Promise<void> } {
  let waiter!: Waiter;
  const done = new Promise<void>((resolve, reject) => {
    waiter = { resolve, reject };
  }).then(
    () => void settled.push(`${name} ok`),
    (err: Error) => void settled.push(`${name} ${err.message.includes('fsync') ? 'failed' : err.message}`),
  );
  return { waiter, done };
}

describe('WalSync', () => {
  test('nothing is settled in the turn it is given; then in commit order, across fsyncs', async () => {
    const path = join(dir, 'a-wal');
    writeFileSync(path, 'frames');
    let synced = 0;
    const sync = new WalSync(path, () => synced++);
    const settled: string[] = [];
    const a = recorder(settled, 'a');
    const b = recorder(settled, 'b');
    sync.add([a.waiter]);
    // Given while the first fsync runs: needs the next one.
    sync.add([b.waiter]);
    assert.deepEqual(settled, []);
    await Promise.all([a.done, b.done]);
    assert.deepEqual(settled, ['a ok', 'b ok']);
    assert.equal(sync.fsyncs, 2);
    assert.equal(synced, 2);
    await sync.close();
  });

  test('a commit given to it is settled only when an fsync started after it has returned', async () => {
    const path = join(dir, 'b-wal');
    writeFileSync(path, 'frames');
    const held: ((err: Error | null) => void)[] = [];
    const sync = new WalSync(
      path,
      () => {},
      (_fd, done) => held.push(done),
    );
    const settled: string[] = [];
    const a = recorder(settled, 'a');
    const b = recorder(settled, 'b');
    sync.add([a.waiter]);
    sync.add([b.waiter]);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(settled, [], 'nothing before the fsync returns');
    assert.equal(held.length, 1, 'one fsync at a time');
    held.shift()!(null);
    await a.done;
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(settled, ['a ok'], 'b was given while that fsync ran: it waits for the next');
    assert.equal(held.length, 1);
    held.shift()!(null);
    await b.done;
    assert.deepEqual(settled, ['a ok', 'b ok']);
    await sync.close();
  });

  test('a failed fsync rejects its waiters, those waiting, and every later one', async () => {
    const sync = new WalSync(join(dir, 'missing-wal'), () => {});
    const settled: string[] = [];
    const a = recorder(settled, 'a');
    sync.add([a.waiter]);
    await a.done;
    assert.ok(sync.error !== null);
    const b = recorder(settled, 'b');
    sync.add([b.waiter]);
    await b.done;
    assert.deepEqual(settled, ['a failed', 'b failed']);
    await sync.close();
  });
});
