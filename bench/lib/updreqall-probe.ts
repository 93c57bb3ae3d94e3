// A partner that lost its lease store recovers every binding from the other server (UPDREQALL,
// D12 §7.7) while that server serves DHCP: bench/scale.sh's `updreqall` row (issue 15). Two
// Twinlease servers on loopback, no root:
//  1. the primary starts on a store of N leases, the secondary on an empty one; both reach NORMAL
//     (the first recovery: the secondary learns the N bindings, nobody is served meanwhile);
//  2. the secondary is killed (SIGKILL) and its store deleted; once the primary has noticed, a
//     relay load of new clients starts against the primary and the secondary is started again on
//     an empty store: it asks for everything (RECOVER) and the primary sends it while serving;
//  3. until the secondary holds the N bindings (UPDDONE: it is in RECOVER-WAIT, where it waits out
//     MCLT before NORMAL): the time, both servers' CPU, and the DORA latency (p50/p99/max) the
//     primary's clients saw during the recovery.
// Prints one JSON line.
//
//   node --import tsx bench/lib/updreqall-probe.ts --primary-config P.json --secondary-config S.json
//        --leases N [--load-rate 200] [--timeout-s 900] [--log-dir DIR] [--node-args="--cpu-prof …"]
//
// The configs: DHCP on loopback (the primary at 127.0.0.1:<dhcp-port>, relays at 127.0.0.2), the
// APIs at 127.0.0.1:<api-port> with --token, one relationship between the two (bench/scale.sh
// writes them).

import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, RelayProbe, sleep, summarize } from './relay-probe.js';

const { values } = parseArgs({
  options: {
    'primary-config': { type: 'string' },
    'secondary-config': { type: 'string' },
    leases: { type: 'string' },
    'load-rate': { type: 'string', default: '200' },
    token: { type: 'string', default: 'bench-token-0123456789' },
    'timeout-s': { type: 'string', default: '900' },
    'log-dir': { type: 'string', default: '/tmp' },
    /** Node options for both servers, e.g. "--cpu-prof --cpu-prof-dir=DIR". */
    'node-args': { type: 'string', default: '' },
  },
});
const N = Number(values.leases);
if (values['primary-config'] === undefined || values['secondary-config'] === undefined || !(N > 0))
  throw new Error('--primary-config, --secondary-config and --leases are required');

interface Side {
  name: 'primary' | 'secondary';
  configPath: string;
  apiPort: number;
  dhcp: { listenAddress: string; port: number };
  dbPath: string;
  child: ChildProcess | null;
}

function side(name: Side['name'], configPath: string): Side {
  const c = JSON.parse(readFileSync(configPath, 'utf8')) as {
    api: { port: number };
    dhcp: { listenAddress: string; port: number };
    leaseStore: { path: string };
  };
  return { name, configPath, apiPort: c.api.port, dhcp: c.dhcp, dbPath: c.leaseStore.path, child: null };
}

const primary = side('primary', values['primary-config']);
const secondary = side('secondary', values['secondary-config']);
const deadline = Date.now() + Number(values['timeout-s']) * 1000;
let run = 0;

function start(s: Side): void {
  const log = openSync(join(values['log-dir'], `updreqall-${s.name}.log`), 'a');
  const nodeArgs = values['node-args'].split(' ').filter((a) => a !== '');
  s.child = spawn(process.execPath, [...nodeArgs, 'bin/twinlease.js', 'serve', '--config', s.configPath], {
    stdio: ['ignore', log, log],
  });
  run++;
}

interface View {
  state: string | null;
  partnerState: string | null;
  leases: number;
}

async function view(s: Side): Promise<View | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${s.apiPort}/api/v1/status`, {
      headers: { authorization: `Bearer ${values.token}` },
    });
    if (!r.ok) return null;
    const j = (await r.json()) as {
      relationships?: { state: string; partnerState: string | null }[];
      leaseStore?: { leases: number };
    };
    const rel = j.relationships?.[0];
    return {
      state: rel?.state ?? null,
      partnerState: rel?.partnerState ?? null,
      leases: j.leaseStore?.leases ?? 0,
    };
  } catch {
    return null;
  }
}

/** Polls both until `done(primary, secondary)`; returns the last views and the states seen. */
async function until(
  what: string,
  done: (p: View, s: View) => boolean,
): Promise<{ p: View; s: View; seen: string[] }> {
  const seen: string[] = [];
  for (;;) {
    const [p, s] = await Promise.all([view(primary), view(secondary)]);
    if (p !== null && s !== null) {
      const line = `${p.state}/${s.state}`;
      if (seen.at(-1)?.split(' ')[0] !== line) {
        seen.push(`${line} +${((Date.now() - t0) / 1000).toFixed(1)}s`);
        process.stderr.write(`${what}: ${seen.at(-1)} (the secondary holds ${s.leases})\n`);
      }
      if (done(p, s)) return { p, s, seen };
    }
    if (Date.now() >= deadline) throw new Error(`timeout waiting for ${what}; seen ${seen.join(', ')}`);
    await sleep(200);
  }
}

const bothNormalWith = (count: number) => (p: View, s: View) =>
  p.state === 'normal' && s.state === 'normal' && s.leases >= count;

let t0 = Date.now();
rmSync(secondary.dbPath, { force: true });
start(primary);
start(secondary);
const first = await until('the first recovery', bothNormalWith(N));
const firstS = (Date.now() - t0) / 1000;

// The secondary loses its store.
secondary.child!.kill('SIGKILL');
await new Promise((r) => secondary.child!.once('exit', r));
for (const suffix of ['', '-wal', '-shm', '.lock']) rmSync(`${secondary.dbPath}${suffix}`, { force: true });
t0 = Date.now();
for (;;) {
  const p = await view(primary);
  if (p !== null && p.state !== 'normal') break;
  if (Date.now() >= deadline) throw new Error('the primary did not notice the secondary’s loss');
  await sleep(200);
}
const noticedS = (Date.now() - t0) / 1000;

const probe = await RelayProbe.open(primary.dhcp.listenAddress, primary.dhcp.port);
let recovered = false;
const rate = Number(values['load-rate']);
const load = probe.load(rate, Number(values['timeout-s']), 0x20000000, () => recovered);
await sleep(2000); // the load runs before the recovery starts
const cpu0 = { p: cpuSeconds(primary.child!.pid!), s: 0 };
const loadBefore = probe.samples.length;
t0 = Date.now();
start(secondary);
// Recovered: the secondary has every binding (UPDDONE received: RECOVER-WAIT or later). It then
// waits out MCLT in RECOVER-WAIT (D12 §9.5.2: a server that lost its store cannot know what it
// promised), which is not part of the transfer.
const second = await until(
  'the recovery of the lost store',
  (_p, s) => ['recoverWait', 'recoverDone', 'normal'].includes(s.state ?? '') && s.leases >= N,
);
const recoveryS = (Date.now() - t0) / 1000;
const cpu = {
  primary_s: Number((cpuSeconds(primary.child!.pid!) - cpu0.p).toFixed(2)),
  secondary_s: Number(cpuSeconds(secondary.child!.pid!).toFixed(2)),
};
recovered = true;
await load;
const during = probe.samples.slice(loadBefore).filter((x) => x.startedAtS * 1000 <= t0 + recoveryS * 1000);
probe.close();
await Promise.all(
  [primary, secondary].map(
    (s) =>
      new Promise((resolve) => {
        const child = s.child!;
        if (child.exitCode !== null) return resolve(null);
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  ),
);
console.log(
  JSON.stringify({
    leases: N,
    first_recovery_s: Number(firstS.toFixed(1)),
    first_states: first.seen,
    primary_noticed_s: Number(noticedS.toFixed(1)),
    recovery_s: Number(recoveryS.toFixed(1)),
    bindings_per_s: Math.round(N / recoveryS),
    secondary_leases: second.s.leases,
    states: second.seen,
    cpu,
    load_rate: rate,
    during_recovery: summarize(during),
    starts: run,
  }),
);
