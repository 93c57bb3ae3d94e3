// Child process of test/server/scale-budget.test.ts (run with --expose-gc): one measurement,
// printed as one JSON line.
//   baseline STORE       CPU to read every row of the store with better-sqlite3 and nothing else
//                        (the conversion of SQLite rows to JS values, which any loader pays)
//   server CONFIG        CPU of startServer until it resolves (store loaded, engine built, DHCP
//                        and API listening), and heap + external memory after a full GC, both
//                        relative to the process before the call

import Database from 'better-sqlite3';
import { startServer } from '../../../src/server/server.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const memory = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
const cpuMs = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
};

const [mode, path] = process.argv.slice(2);
if (mode === 'baseline') {
  const db = new Database(path!, { readonly: true });
  const t = process.cpuUsage();
  let rows = 0;
  for (const _ of db.prepare('SELECT * FROM leases').raw(true).iterate()) rows++;
  console.log(JSON.stringify({ rows, cpuMs: cpuMs(t) }));
  db.close();
} else if (mode === 'server') {
  const before = memory();
  const t = process.cpuUsage();
  const server = await startServer({ configPath: path!, logDestination: '/dev/null' });
  const startCpuMs = cpuMs(t);
  const bytes = memory() - before;
  console.log(
    JSON.stringify({
      leases: server.store.count(),
      cpuMs: startCpuMs,
      bytes,
      maxRssKb: process.resourceUsage().maxRSS,
    }),
  );
  await server.stop();
} else {
  throw new Error(`unknown mode ${mode}`);
}
