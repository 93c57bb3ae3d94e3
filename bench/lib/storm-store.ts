// The expiry storm at the store alone (issue 15), without network, perfdhcp or engine: a store of
// 1,000,000 bindings (made once at --base with writeNewLeaseStore, copied for each run); 100,000
// expired bindings are given to it 100 per event-loop turn (as DhcpService.tick does) while an
// "ACK" commits one binding every 1 ms (setInterval: as often as the event loop lets it) and the
// event loop's delay is sampled (monitorEventLoopDelay, the wait a DISCOVER would have). One JSON
// line per run.
//
//   node --import tsx bench/lib/storm-store.ts --mode old|new|none --store direct|thread
//        [--base /tmp/storm-store-1m.db] [--per-commit 100] [--rest 1] [--batch 100]
//
// old: the expiries through commit(), as at 524dcef; new: through commitInBackground(), at most
// 10,000 not durable (MAX_EXPIRY_BACKLOG); none: ACKs alone for 10 s (the control).

import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { SqliteLeaseStore, writeNewLeaseStore } from '../../src/leases/sqlite-store.js';
import { ThreadedSqliteLeaseStore } from '../../src/leases/sqlite-writer-thread.js';
import { MAX_EXPIRY_BACKLOG } from '../../src/server/dhcp-service.js';

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string', default: 'new' },
    store: { type: 'string', default: 'direct' },
    base: { type: 'string', default: '/tmp/storm-store-1m.db' },
    'per-commit': { type: 'string', default: '100' },
    rest: { type: 'string', default: '1' },
    batch: { type: 'string', default: '100' },
  },
});
const LEASES = 1_000_000;
const STORM = 100_000;
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
const store =
  a.store === 'thread' ? new ThreadedSqliteLeaseStore(path, options) : new SqliteLeaseStore(path, options);
// The writer thread reads every address before its first transaction: not part of the storm.
await store.commit([lease(1, 'active')]);

const delay = monitorEventLoopDelay({ resolution: 1 });
const ackMs: number[] = [];
let expired = 0;
let durable = 0;
let backlog = 0;
let acks = 0;
const startedAt = performance.now();
delay.enable();
const ackTimer = setInterval(() => {
  const t = performance.now();
  const i = (acks++ * 7919) % LEASES;
  void store.commit([lease(i, 'active')]).then(() => ackMs.push(performance.now() - t));
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
delay.disable();
await store.close();
for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
ackMs.sort((x, y) => x - y);
const q = (p: number) => Number(ackMs[Math.min(ackMs.length - 1, Math.floor(p * ackMs.length))]!.toFixed(1));
const ms = (ns: number) => Number((ns / 1e6).toFixed(1));
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
    load: loadavg().map((x) => Number(x.toFixed(2))),
  }),
);
