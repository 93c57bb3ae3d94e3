// CI for the deterministic simulator (docs/safety.md): a fixed sweep of random seeds, each a
// bounded run, and the seeds of every finding. Replay any seed with `npm run sim -- --seed S`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFailure, type RunOptions, runSeed } from './run.js';

/** Fixed, so the sweep is the same on every run. */
const BASE_SEED = 20_261_128;
const SWEEP_SEEDS = 200;
/** Chaos phase per seed in the sweep (virtual seconds); the heal-and-settle phase follows it. */
const SWEEP_CHAOS_SECONDS = 300;
const MAX_EVENTS = 400_000;

/**
 * Violation kinds with an open finding (docs/safety.md "Findings"): reported, not failed on, until
 * the product is fixed. Every other kind fails the sweep.
 */
const OPEN_KINDS = new Set(['double-holding', 'divergence', 'lost-lease']);

describe('simulator: a fixed sweep of random seeds (synchronised clocks)', () => {
  const failures: string[] = [];
  const open: string[] = [];
  test(`${SWEEP_SEEDS} seeds from ${BASE_SEED}: no MCLT overrun, no exception, clock skew refused, pair settles`, () => {
    let events = 0;
    for (let i = 0; i < SWEEP_SEEDS; i++) {
      const o: RunOptions = {
        seed: BASE_SEED + i,
        chaosSeconds: SWEEP_CHAOS_SECONDS,
        maxEvents: MAX_EVENTS,
        isClockSynced: true,
      };
      const r = runSeed(o);
      events += r.events;
      const v = r.violations[0];
      if (v === undefined) continue;
      if (OPEN_KINDS.has(v.kind)) open.push(`seed ${o.seed}: ${v.kind}: ${v.message}`);
      else failures.push(formatFailure(o, r));
    }
    assert.ok(events > SWEEP_SEEDS * 1000, `the sweep ran (${events} events)`);
    assert.deepEqual(failures, [], failures.join('\n\n'));
  });
  test('open findings in the sweep (double holding, divergence, lost lease): see docs/safety.md', {
    todo: true,
  }, () => {
    assert.deepEqual(open, [], open.join('\n'));
  });
});

/** Findings, each replayable: `npm run sim -- <flags>`. */
const FINDINGS: Array<{ name: string; options: RunOptions; kind: string; isOpen: boolean }> = [
  {
    name: 'double holding with skewed clocks: two clients renewed on one address by the two servers (not yet analysed)',
    options: { seed: 377 },
    kind: 'double-holding',
    isOpen: true,
  },
  {
    name: 'CLTT recorded while a clock was off by > 60 s: the partner frees an address a client holds',
    options: { seed: 369 },
    kind: 'double-holding',
    isOpen: true,
  },
  {
    name: 'an ACKed renewal is overwritten, in memory and on disk, by an older version of the binding',
    options: { seed: 20_261_279, chaosSeconds: 300, isClockSynced: true },
    kind: 'lost-lease',
    isOpen: true,
  },
  {
    name: 'double holding with synchronised clocks',
    options: { seed: 325, isClockSynced: true },
    kind: 'double-holding',
    isOpen: true,
  },
];

describe('simulator: findings (regression seeds)', () => {
  for (const f of FINDINGS) {
    test(`seed ${f.options.seed}: ${f.name}`, { todo: f.isOpen }, () => {
      const r = runSeed({ ...f.options, maxEvents: 2_000_000 });
      assert.equal(r.violations.length, 0, r.violations.length > 0 ? formatFailure(f.options, r, 60) : '');
    });
  }
});
