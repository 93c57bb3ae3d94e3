// CPU time of each thread of the server during the load, from the once-a-second samples that
// bench/dora.sh writes with PROFILE=1 (lines "unix-time tid ticks name"). The load window is the
// span of seconds in which the process used more than 10 % of a core. Shows how much of the
// server's CPU is on the main thread (what the V8 profile sees) and how much on V8's helper
// threads (concurrent GC marking and sweeping, compilation) and libuv's.
//
//   node bench/lib/thread-cpu.mjs FILE.threads.txt
import { readFileSync } from 'node:fs';

const HZ = 100;
const rows = readFileSync(process.argv[2], 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(' '))
  .map(([t, tid, ticks, ...name]) => ({ t: Number(t), tid, ticks: Number(ticks), name: name.join(' ') }));
const times = [...new Set(rows.map((r) => r.t))].sort((a, b) => a - b);
const at = new Map(times.map((t) => [t, new Map()]));
for (const r of rows) at.get(r.t).set(r.tid, r);
const total = (t) => [...at.get(t).values()].reduce((s, r) => s + r.ticks, 0);
let first = -1;
let last = -1;
for (let i = 1; i < times.length; i++) {
  const pct = ((total(times[i]) - total(times[i - 1])) / HZ / (times[i] - times[i - 1])) * 100;
  if (pct > 10) {
    if (first < 0) first = i - 1;
    last = i;
  }
}
if (first < 0) {
  console.log('\nthreads: no second with the process above 10 % of a core');
  process.exit(0);
}
const t0 = times[first];
const t1 = times[last];
const byName = new Map();
let sum = 0;
// The main thread's id is the process id: the smallest.
const mainTid = Math.min(...[...at.get(t1).keys()].map(Number));
for (const [tid, r1] of at.get(t1)) {
  const r0 = at.get(t0).get(tid);
  const d = r1.ticks - (r0?.ticks ?? 0);
  const name = Number(tid) === mainTid ? 'main thread' : r1.name;
  byName.set(name, (byName.get(name) ?? 0) + d);
  sum += d;
}
const secs = t1 - t0;
console.log(
  `\nthreads: CPU during the load (${secs.toFixed(1)} s, /proc/PID/task/*/stat once a second), % of one core:`,
);
for (const [name, d] of [...byName].sort((a, b) => b[1] - a[1])) {
  if (d === 0) continue;
  console.log(
    `${((d / HZ / secs) * 100).toFixed(1).padStart(6)} %  (${((100 * d) / sum).toFixed(0).padStart(3)} % of the process)  ${name}`,
  );
}
