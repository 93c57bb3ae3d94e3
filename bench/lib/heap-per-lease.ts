// Memory the lease table costs per lease: loads a store into an engine the way `twinlease serve`
// does (src/server/server.ts: store.loadInto a LeaseTable, engine on it), then compares process.memoryUsage() after a full GC with the
// same process before the load. Optionally writes a heap snapshot and prints what dominates it
// (self size by constructor/string), to see where the bytes go.
//
//   node --expose-gc --import tsx bench/lib/heap-per-lease.ts --config FILE [--snapshot]

import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { loadConfigFile } from '../../src/config/loader.js';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { openSqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { summariseHeapSnapshot } from './heap-snapshot-summary.js';

const { values } = parseArgs({
  options: { config: { type: 'string' }, snapshot: { type: 'boolean', default: false } },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const loaded = loadConfigFile(values.config!);
if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
const config = loaded.config;
const settings = {
  serverName: config.server.name,
  serverIdentifier: config.server.serverIdentifier ?? 0x7f000001,
  scopes: config.scopes,
  directScopeIds: [],
};

const usage = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
};
const before = usage();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const store = openSqliteLeaseStore(config.leaseStore.path);
const table = new LeaseTable(store.count());
const leaseCount = store.loadInto(table);
const engine = new DhcpEngine(settings, table);
const loadSeconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const after = usage();
const per = (k: keyof typeof before) => Math.round((after[k] - before[k]) / Math.max(1, leaseCount));
console.log(
  JSON.stringify({
    leases: leaseCount,
    load_s: Number(loadSeconds.toFixed(3)),
    load_cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    bytes_per_lease: {
      heap_and_external: Math.round(
        (after.heapUsed + after.external - before.heapUsed - before.external) / Math.max(1, leaseCount),
      ),
      heapUsed: per('heapUsed'),
      external: per('external'),
      arrayBuffers: per('arrayBuffers'),
      rss: per('rss'),
    },
    peak_rss_kb: process.resourceUsage().maxRSS,
  }),
);
if (values.snapshot) {
  const file = writeHeapSnapshot();
  console.log(summariseHeapSnapshot(file, 25));
}
// Keep the engine alive until here.
if (engine.scopeIds().length < 0) console.log('unreachable');
await store.close();
