// The expiry storm at the store alone (issue 15), without network, perfdhcp or engine: a store of
// 1,000,000 bindings (made once at --base with writeNewLeaseStore, copied for each run); 100,000
// expired bindings are given to it 100 per event-loop turn (as DhcpService.tick does) while an
// "ACK" commits one renewed binding every 1 ms (setInterval: as often as the event loop lets it) and the
// event loop's delay is sampled (monitorEventLoopDelay, the wait a DISCOVER would have). One JSON
// line per run.
//
//   node --import tsx bench/lib/storm-store.ts --mode old|new|none --store direct|thread
//        [--base /tmp/storm-store-1m.db] [--per-commit 100] [--rest 1] [--batch 100]
//        [--checkpointer thread|commit] [--wal-sync commit|pool] [--trace FILE]
//        [--wal-autocheckpoint PAGES]
//
// old: the expiries through commit(), as at 524dcef; new: through commitInBackground(), at most
// MAX_EXPIRY_BACKLOG (1000; 10,000 until storm15) not durable; none: ACKs alone for 10 s (the control).
//
// Besides the event loop's delay per sample (monitorEventLoopDelay: a 120 ms stall is one sample),
// `arrival_wait_ms` is the wait of a packet arriving at a uniformly random moment (a stall of g ms
// makes everything arriving in it wait 0..g ms: time-weighted, as DISCOVERs see it). For the
// default store (--store direct) every transaction is timed (its rows, then its COMMIT) and the
// wal-index header (the -shm file, https://www.sqlite.org/walformat.html: mxFrame at byte 16,
// nBackfill at 96) is read after each: a checkpoint ran inside a COMMIT when nBackfill moved.
// --trace FILE writes one JSON line per transaction and per sampler gap of 5 ms or more. --checkpointer commit: SQLite's automatic
// checkpoints inside COMMITs (wal_autocheckpoint 4000), as before the checkpointer thread.
// --wal-sync pool: the WAL's fsync on libuv's thread pool (WalSync), not inside each COMMIT.
// --wal-autocheckpoint: SQLite's automatic checkpoint (pages) instead of the store's default
// (WAL_AUTOCHECKPOINT_PAGES: 500; 4000 until issue 15).

import { closeSync, copyFileSync, existsSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import {
  SqliteLeaseStore,
  type TransactionTiming,
  writeNewLeaseStore,
} from '../../src/leases/sqlite-store.js';
import { ThreadedSqliteLeaseStore } from '../../src/leases/sqlite-writer-thread.js';
import type { CheckpointResult } from '../../src/leases/wal-checkpointer.js';
import { MAX_EXPIRY_BACKLOG } from '../../src/server/dhcp-service.js';

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string', default: 'new' },
    store: { type: 'string', default: 'direct' },
    base: { type: 'string', default: '/tmp/storm-store-1m.db' },
    'per-commit': { type: 'string', default: '100' },
    rest: { type: 'string', default: '1' },
    batch: { type: 'string', default: '100' },
    trace: { type: 'string' },
    checkpointer: { type: 'string', default: 'commit' },
    'wal-sync': { type: 'string', default: 'commit' },
    'checkpoint-after-rows': { type: 'string' },
    'wal-autocheckpoint': { type: 'string' },
  },
});
const LEASES = 1_000_000;
const STORM = 100_000;
const WARM_UP_ROWS = 5000;
const FIRST = 0x0a010000;
const batchSize = Number(a.batch);
const lease = (i: number, state: Lease['state']): Lease => ({
  ...emptyLease(FIRST + i * 2, '10.0.0.0', state, 1_700_000_000),
  hardwareType: 1,
  hardwareAddress: (0x020000000000 + i).toString(16),
  leaseExpiresAt: 1_800_000_000,
});
if (!existsSync(a.base!)) {
  writeNewLeaseStore(
    a.base!,
    (function* () {
      for (let i = 0; i < LEASES; i++) yield lease(i, 'active');
    })(),
    [],
  );
}
const path = `${a.base}.run-${process.pid}`;
copyFileSync(a.base!, path);
const options = { backgroundLeasesPerCommit: Number(a['per-commit']), backgroundRestFactor: Number(a.rest) };
interface Traced extends TransactionTiming {
  mxFrame: number;
  nBackfill: number;
  /** A checkpoint ran inside this transaction's COMMIT (nBackfill moved). */
  isCheckpoint: boolean;
}
const traced: Traced[] = [];
let shmFd = -1;
const shm = Buffer.alloc(100);
let lastBackfill = 0;
const onTransaction = (t: TransactionTiming) => {
  if (!isStorm) return;
  if (shmFd < 0) shmFd = openSync(`${path}-shm`, 'r');
  readSync(shmFd, shm, 0, 100, 0);
  const mxFrame = shm.readUInt32LE(16);
  const nBackfill = shm.readUInt32LE(96);
  traced.push({
    ...t,
    mxFrame,
    nBackfill,
    isCheckpoint: a.checkpointer === 'commit' && nBackfill !== lastBackfill && nBackfill > 0,
  });
  lastBackfill = nBackfill;
};
let isStorm = false;
const checkpoints: CheckpointResult[] = [];
const store =
  a.store === 'thread'
    ? new ThreadedSqliteLeaseStore(path, options)
    : new SqliteLeaseStore(path, {
        ...options,
        onTransaction,
        isCheckpointerThread: a.checkpointer === 'thread',
        isWalSyncedOffLoop: a['wal-sync'] === 'pool',
        ...(a['checkpoint-after-rows'] === undefined
          ? {}
          : { checkpointAfterRows: Number(a['checkpoint-after-rows']) }),
        ...(a['wal-autocheckpoint'] === undefined
          ? {}
          : { walAutocheckpointPages: Number(a['wal-autocheckpoint']) }),
        onCheckpoint: (r) => {
          if (isStorm) checkpoints.push(r);
        },
      });
const walAutocheckpoint = store instanceof SqliteLeaseStore ? store.walAutocheckpointPages() : null;
// The writer thread reads every address before its first transaction: not part of the storm.
await store.commit([lease(1, 'active')]);
// A server that has been serving has a WAL file that has grown to its working size: renewals
// (about a frame each) past one automatic checkpoint at the default 4000 pages, so that the
// storm's first commits do not pay for growing the file (one 40-90 ms COMMIT otherwise).
for (let round = 0; round < WARM_UP_ROWS / 100; round++) {
  const rows: Lease[] = [];
  for (let j = 0; j < 100; j++) {
    const i = ((round * 100 + j) * 104_729 + 3) % LEASES;
    rows.push({ ...lease(i, 'active'), leaseExpiresAt: 1_790_000_000 + round });
  }
  await store.commit(rows);
}

const delay = monitorEventLoopDelay({ resolution: 1 });
const ackMs: number[] = [];
let expired = 0;
let durable = 0;
let backlog = 0;
let acks = 0;
const startedAt = performance.now();
isStorm = true;
delay.enable();
// Stalls as a packet arriving at a random moment sees them.
const gapsMs: number[] = [];
/** Sampler gaps of at least LONG_GAP_MS, with when they ended (--trace). */
const LONG_GAP_MS = 5;
const longGaps: { gapEndedAtMs: number; gapMs: number }[] = [];
let lastSampleAt = performance.now();
const sampler = setInterval(() => {
  const t = performance.now();
  gapsMs.push(t - lastSampleAt);
  if (t - lastSampleAt >= LONG_GAP_MS) longGaps.push({ gapEndedAtMs: t, gapMs: t - lastSampleAt });
  lastSampleAt = t;
}, 1);
const ackTimer = setInterval(() => {
  const t = performance.now();
  const i = (acks * 7919) % LEASES;
  // A renewal: a new expiry time, so the row changes and its page goes to the WAL (SQLite writes
  // nothing for a row rewritten with the same bytes, and then the ACKs added no frames).
  const renewed = { ...lease(i, 'active'), leaseExpiresAt: 1_800_000_000 + ++acks };
  void store.commit([renewed]).then(() => ackMs.push(performance.now() - t));
}, 1);
await new Promise<void>((done) => {
  if (a.mode === 'none') {
    setTimeout(done, 10_000);
    return;
  }
  const turn = () => {
    if (expired < STORM && backlog < MAX_EXPIRY_BACKLOG) {
      const batch: Lease[] = [];
      for (let j = 0; j < batchSize && expired < STORM; j++)
        batch.push(lease((expired++ * 10) % LEASES, 'free'));
      backlog += batch.length;
      const written = a.mode === 'new' ? store.commitInBackground(batch) : store.commit(batch);
      void written.then(() => {
        backlog -= batch.length;
        durable += batch.length;
        if (durable === STORM) done();
      });
    }
    if (expired < STORM) setImmediate(turn);
  };
  setImmediate(turn);
});
const stormSeconds = (performance.now() - startedAt) / 1000;
clearInterval(ackTimer);
clearInterval(sampler);
isStorm = false;
delay.disable();
await store.close();
if (shmFd >= 0) closeSync(shmFd);
for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
ackMs.sort((x, y) => x - y);
const q = (p: number) => Number(ackMs[Math.min(ackMs.length - 1, Math.floor(p * ackMs.length))]!.toFixed(1));
const ms = (ns: number) => Number((ns / 1e6).toFixed(1));
/** The wait exceeded by a fraction `1 - p` of uniformly random arrival times. */
function arrivalWait(p: number): number {
  const total = gapsMs.reduce((x, g) => x + g, 0);
  const above = (w: number) => gapsMs.reduce((x, g) => x + Math.max(0, g - w), 0) / total;
  let lo = 0;
  let hi = Math.max(...gapsMs);
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (above(mid) > 1 - p) lo = mid;
    else hi = mid;
  }
  return Number(hi.toFixed(1));
}
const quantiles = (xs: number[]) => {
  const v = [...xs].sort((x, y) => x - y);
  const at = (p: number) =>
    v.length === 0 ? null : Number(v[Math.min(v.length - 1, Math.floor(p * v.length))]!.toFixed(1));
  return {
    n: v.length,
    p50: at(0.5),
    p99: at(0.99),
    max: at(1),
    sum: Number(v.reduce((x, y) => x + y, 0).toFixed(0)),
  };
};
if (a.trace !== undefined)
  writeFileSync(a.trace, `${[...traced, ...longGaps].map((t) => JSON.stringify(t)).join('\n')}\n`);
const checkpointCommits = traced.filter((t) => t.isCheckpoint);
const transactions =
  traced.length === 0
    ? undefined
    : {
        wal_autocheckpoint: walAutocheckpoint,
        all: quantiles(traced.map((t) => t.writeMs + t.commitMs)),
        commit_ms_background: quantiles(
          traced.filter((t) => t.backgroundLeases > 0 && !t.isCheckpoint).map((t) => t.commitMs),
        ),
        commit_ms_replies_only: quantiles(
          traced.filter((t) => t.backgroundLeases === 0 && !t.isCheckpoint).map((t) => t.commitMs),
        ),
        write_ms_background: quantiles(traced.filter((t) => t.backgroundLeases > 0).map((t) => t.writeMs)),
        commit_ms_with_checkpoint: quantiles(checkpointCommits.map((t) => t.commitMs)),
        frames_at_checkpoint: quantiles(checkpointCommits.map((t) => t.nBackfill)),
        wal_frames_max: Math.max(...traced.map((t) => t.mxFrame)),
      };
const checkpointer =
  checkpoints.length === 0
    ? undefined
    : {
        checkpoints: checkpoints.length,
        catch_ups: checkpoints.filter((c) => c.isCatchUp).length,
        busy: checkpoints.filter((c) => c.isBusy).length,
        ms: quantiles(checkpoints.filter((c) => !c.isCatchUp).map((c) => c.durationMs)),
        catch_up_ms: quantiles(checkpoints.filter((c) => c.isCatchUp).map((c) => c.durationMs)),
        log_frames: quantiles(checkpoints.map((c) => c.logFrames)),
      };
console.log(
  JSON.stringify({
    mode: a.mode,
    store: a.store,
    ...options,
    batch: batchSize,
    storm_s: Number(stormSeconds.toFixed(2)),
    acks: ackMs.length,
    ack_ms: { p50: q(0.5), p99: q(0.99), max: q(1) },
    loop_delay_ms: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    arrival_wait_ms: {
      p50: arrivalWait(0.5),
      p99: arrivalWait(0.99),
      max: Number(Math.max(...gapsMs).toFixed(1)),
    },
    checkpointer_mode: a.store === 'thread' ? 'writer' : a.checkpointer,
    wal_sync: a.store === 'thread' ? 'writer' : a['wal-sync'],
    checkpoint_after_rows: a['checkpoint-after-rows'] ?? 'default',
    transactions,
    checkpointer,
    load: loadavg().map((x) => Number(x.toFixed(2))),
  }),
);
