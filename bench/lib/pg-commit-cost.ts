// Client CPU of the PostgreSQL lease store's commit path alone (issue 20): a throwaway cluster
// (test/lib/postgres.ts), `--servers` stores open on one database in this process, `--commits`
// sequential one-binding commits spread over them round-robin (a group commit at a few hundred
// leases/s holds one or two bindings), each store hearing every other's rows by notification and
// its own ones too (as on a shared database). Prints this process's CPU time per commit (all the
// stores: commits, results, notifications), the cluster's CPU time per commit (postmaster, its
// live children and those it reaped, from /proc) and the bytes the stores sent per commit, for
// `--rounds` rounds after a warm-up round. Not the server's CPU per lease (no packets, no engine):
// the part of it the store's path adds.
//
//   node --import tsx bench/lib/pg-commit-cost.ts [--servers 3] [--commits 2000] [--rounds 3]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/lib/pg-commit-cost.ts

import { readdirSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { migratePgSchema } from '../../src/leases/pg-schema.js';
import { openPgLeaseStore, type PgLeaseStore } from '../../src/leases/pg-store.js';
import { startTestPostgres } from '../../test/lib/postgres.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '3' },
    commits: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
  },
});
const serverCount = Number(values.servers);
const commits = Number(values.commits);
const rounds = Number(values.rounds);
const now = Math.floor(Date.now() / 1000);

function bound(address: number, i: number): Lease {
  const client = i.toString(16).padStart(12, '0');
  return {
    ...emptyLease(address, '10.0.0.0/8', 'active', now),
    hardwareType: 1,
    hardwareAddress: client,
    clientId: `01${client}`,
    hostname: `host-${i}`,
    leaseExpiresAt: now + 3600,
    clientLastTransactionAt: now,
    ownerServer: 'tl',
  };
}

/** CPU ticks (1/100 s) of the cluster: the postmaster with its reaped children, and its live children. */
function clusterTicks(dir: string): number {
  const pm = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [ppid, utime, stime, cutime, cstime] = [f[1], f[11], f[12], f[13], f[14]].map(Number);
    if (Number(pid) === pm) ticks += utime! + stime! + cutime! + cstime!;
    else if (ppid === pm) ticks += utime! + stime!;
  }
  return ticks;
}

// Bytes written on every socket of this process (the stores' connections; nothing else writes).
let bytesSent = 0;
const write = Socket.prototype.write;
Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
  if (typeof chunk !== 'string') bytesSent += (chunk as Uint8Array).byteLength;
  return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof write;

const db = await startTestPostgres();
const stores: PgLeaseStore[] = [];
try {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await migratePgSchema(c, 'init');
  await c.end();
  for (let s = 0; s < serverCount; s++) {
    const store = await openPgLeaseStore({ url: db.url, serverName: `s${s}` });
    store.loadInto(new LeaseTable());
    stores.push(store);
  }
  let next = 0x0a000001;
  const heard = () => stores.reduce((n, s) => n + s.counters.remoteChanges, 0);
  for (let round = 0; round <= rounds; round++) {
    const heardBefore = heard();
    const cpu = process.cpuUsage();
    const dbTicks = clusterTicks(db.dir);
    const bytes = bytesSent;
    const t0 = performance.now();
    for (let i = 0; i < commits; i++) {
      const address = next++;
      await stores[i % serverCount]!.commit([bound(address, address)]);
    }
    // Every other store hears each row: wait for them, their cost belongs to the round.
    const expected = heardBefore + commits * (serverCount - 1);
    while (heard() < expected) await new Promise((r) => setTimeout(r, 5));
    const used = process.cpuUsage(cpu);
    const dbUs = (clusterTicks(db.dir) - dbTicks) * 10_000;
    console.log(
      JSON.stringify({
        round: round === 0 ? 'warm-up' : round,
        servers: serverCount,
        commits,
        cpuUsPerCommit: Math.round((used.user + used.system) / commits),
        dbCpuUsPerCommit: Math.round(dbUs / commits),
        bytesSentPerCommit: Math.round((bytesSent - bytes) / commits),
        wallUsPerCommit: Math.round(((performance.now() - t0) * 1000) / commits),
      }),
    );
  }
} finally {
  for (const s of stores) await s.close().catch(() => {});
  db.destroy();
}
