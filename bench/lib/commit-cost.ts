// CPU per lease of the lease store's commit path alone, at a steady rate of ACKs, for each way of
// committing (issue 17): every ACK's binding goes through LeaseStore.commit() in a turn of its own,
// as packets arrive, and the script measures the process's CPU time (all threads: the writer
// thread's fsyncs count), the transactions (fsyncs) per lease, the event loop's delay (how long
// a packet that arrived would have waited: the commit blocking the loop) and commit latency.
// Unlike bench/dora.sh it needs no namespaces and no anchor, and a CPU time is still a CPU time
// on a busy host; it does not measure the rest of the server.
//
//   node --import tsx bench/lib/commit-cost.ts [--rates 1000,4000] [--seconds 8] [--dir /tmp/x]
//        [--variants direct0,direct2,thread2]

import { mkdirSync, rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Lease } from '../../src/dhcp/lease.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { openSqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { openThreadedSqliteLeaseStore } from '../../src/leases/sqlite-writer-thread.js';
import type { LeaseStore } from '../../src/leases/store.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '1000,4000' },
    seconds: { type: 'string', default: '8' },
    dir: { type: 'string', default: '/tmp/twinlease-commit-cost' },
    variants: { type: 'string', default: 'direct0,direct2,thread2' },
  },
});

function lease(i: number, now: number): Lease {
  return {
    address: (0x0a4d0100 + (i % 16384)) >>> 0,
    scopeId: '10.77.0.0/16',
    state: 'active',
    hardwareType: 1,
    hardwareAddress: (0x020000000000 + i).toString(16).padStart(12, '0'),
    clientId: null,
    hostname: null,
    clientType: 'dhcp',
    isReserved: false,
    leaseExpiresAt: now + 4000,
    stateStartedAt: now,
    clientLastTransactionAt: now,
    ownerServer: 'tl-bench',
    policyName: null,
    sentPotentialExpiresAt: 0,
    ackedPotentialExpiresAt: 0,
    receivedPotentialExpiresAt: 0,
    lastBindingUpdateAt: 0,
    isPartnerUpToDate: false,
    fqdn: null,
    dhcidMode: 'none',
    dns: {
      cleanupOnDelete: false,
      updateBothRecords: false,
      registrationPending: false,
      removalPending: false,
    },
  };
}

async function run(variant: string, rate: number, seconds: number): Promise<string> {
  const m = /^(direct|thread)(\d+)$/.exec(variant);
  if (m === null) throw new Error(`variant ${variant}: direct<ms> or thread<ms>`);
  const dir = `${values.dir}/${variant}-${rate}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const options = { commitIntervalMs: Number(m[2]) };
  const path = `${dir}/leases.db`;
  const store: LeaseStore & { stats(): { transactions: number } } =
    m[1] === 'thread' ? openThreadedSqliteLeaseStore(path, options) : openSqliteLeaseStore(path, options);
  store.loadInto(new LeaseTable());
  // Warm up (JIT, the WAL file's first growth) before measuring.
  for (let i = 0; i < 200; i++) await store.commit([lease(i, 1_796_000_000)]);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const latencies: number[] = [];
  const total = rate * seconds;
  const tx0 = store.stats().transactions;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  delay.enable();
  await new Promise<void>((done) => {
    let sent = 0;
    let settled = 0;
    // Each ACK at its time, in a turn of its own (a timer per millisecond, then one turn each).
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
      const one = () => {
        if (sent >= due) return;
        const at = performance.now();
        store.commit([lease(1000 + sent, 1_796_000_000)]).then(() => {
          latencies.push(performance.now() - at);
          if (++settled === total) done();
        });
        sent++;
        if (sent < due) setImmediate(one);
      };
      one();
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  delay.disable();
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const tx = store.stats().transactions - tx0;
  await store.close();
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.floor((latencies.length - 1) * q)]!.toFixed(2);
  return [
    variant.padEnd(8),
    String(rate).padStart(5),
    ((cpu.user + cpu.system) / total).toFixed(1).padStart(8),
    (cpu.system / total).toFixed(1).padStart(7),
    (total / tx).toFixed(2).padStart(7),
    ((((cpu.user + cpu.system) / 1000) * 100) / wall).toFixed(0).padStart(5),
    (delay.percentile(99) / 1e6).toFixed(2).padStart(8),
    (delay.max / 1e6).toFixed(1).padStart(7),
    p(0.5).padStart(7),
    p(0.99).padStart(7),
  ].join(' ');
}

const rates = values.rates.split(',').map(Number);
const variants = values.variants.split(',');
console.log(
  'variant   rate  us cpu/lease  (sys)  leases/tx  cpu%  loop-delay p99 ms  max  commit p50 ms  p99   (us/lease: all threads)',
);
for (const rate of rates) {
  for (const v of variants) console.log(await run(v, rate, Number(values.seconds)));
}
