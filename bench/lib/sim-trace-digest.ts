// Per-seed digest of the simulator's full behaviour, to show that a change to the simulator or to
// the cores it drives changes nothing it does (issue 16, faster simulator): for each seed, sha256
// of the full trace (the lines `npm run sim -- --seed S --full-trace` prints) and of everything
// else the run returns (events, simulated time, faults, fault log, counters, violations). Run it on
// two trees and compare the outputs; --root takes the simulator of another checkout.
//
//   node --import tsx bench/lib/sim-trace-digest.ts [--base 900001] [--seeds 300] [--root DIR] [--no-trace]
//
// One line per seed (`seed trace-sha256 result-sha256 events`), then one line over all of them.

import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { SimResult } from '../../test/sim/world.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '900001' },
    seeds: { type: 'string', default: '300' },
    root: { type: 'string', default: '.' },
    'no-trace': { type: 'boolean', default: false },
  },
});

// This tree's types; the code is --root's (a type import is erased).
type RunSeed = (o: { seed: number; trace?: boolean }) => SimResult;

const runModule = pathToFileURL(resolve(values.root, 'test/sim/run.ts')).href;
const { runSeed } = (await import(runModule)) as { runSeed: RunSeed };
const base = Number(values.base) >>> 0;
const n = Number(values.seeds);
const isTracing = !values['no-trace'];
const all = createHash('sha256');
const t0 = performance.now();
let events = 0;
for (let i = 0; i < n; i++) {
  const seed = (base + i) >>> 0;
  const r = runSeed({ seed, trace: isTracing });
  const trace = createHash('sha256');
  for (const line of r.trace) trace.update(`${line}\n`);
  const { trace: _lines, ...rest } = r;
  const result = createHash('sha256').update(JSON.stringify(rest)).digest('hex');
  const line = `${seed} ${trace.digest('hex')} ${result} ${r.events}`;
  all.update(`${line}\n`);
  events += r.events;
  console.log(line);
}
const seconds = (performance.now() - t0) / 1000;
console.log(
  `all ${n} seeds from ${base}: ${all.digest('hex')} (${events} events, ${seconds.toFixed(1)} s, ${(n / seconds).toFixed(1)} seeds/s${isTracing ? ', traced' : ''})`,
);
