// One seed: build the scenario, run the world, return what happened. And the shrinker: replay a
// failing seed with fault kinds disabled, single faults skipped, fewer clients and a shorter chaos
// phase, keeping each cut that still fails the same way, so the report shows a short trace.

import { FAULT_KINDS, type FaultKind, makeScenario } from './scenario.js';
import { type SimResult, World } from './world.js';

export interface RunOptions {
  seed: number;
  disabledFaults?: ReadonlySet<FaultKind>;
  skippedFaults?: ReadonlySet<number>;
  maxClients?: number;
  chaosSeconds?: number;
  /** A large scope instead of the seed's small one (ScenarioLimits.large). */
  large?: { poolSize: number; clients: number };
  trace?: boolean;
  maxEvents?: number;
  /**
   * Synchronised clocks: no initial skew, no clockJump/bigSkew faults. Used by the CI test while
   * the CLTT-ordering finding (docs/safety.md, seed 10) is open.
   */
  isClockSynced?: boolean;
}

export function runSeed(o: RunOptions): SimResult {
  const scenario = makeScenario(o.seed, {
    ...(o.maxClients !== undefined ? { maxClients: o.maxClients } : {}),
    ...(o.chaosSeconds !== undefined ? { chaosSeconds: o.chaosSeconds } : {}),
    ...(o.large !== undefined ? { large: o.large } : {}),
  });
  let disabledFaults = o.disabledFaults;
  if (o.isClockSynced) {
    scenario.skewMs = [0, 0];
    disabledFaults = new Set([...(o.disabledFaults ?? []), 'clockJump', 'bigSkew']);
  }
  const world = new World({
    seed: o.seed,
    scenario,
    ...(disabledFaults ? { disabledFaults } : {}),
    ...(o.skippedFaults ? { skippedFaults: o.skippedFaults } : {}),
    trace: o.trace ?? false,
    maxEvents: o.maxEvents ?? 3_000_000,
  });
  return world.run();
}

/** The command-line flags that replay `o`. */
export function replayFlags(o: RunOptions): string {
  const parts = [`--seed ${o.seed >>> 0}`];
  if (o.disabledFaults && o.disabledFaults.size > 0)
    parts.push(`--disable ${[...o.disabledFaults].join(',')}`);
  if (o.skippedFaults && o.skippedFaults.size > 0)
    parts.push(`--skip ${[...o.skippedFaults].sort((a, b) => a - b).join(',')}`);
  if (o.maxClients !== undefined) parts.push(`--clients ${o.maxClients}`);
  if (o.chaosSeconds !== undefined) parts.push(`--chaos ${o.chaosSeconds}`);
  if (o.isClockSynced) parts.push('--synced-clocks');
  if (o.large !== undefined) parts.push(`--pool ${o.large.poolSize} --pool-clients ${o.large.clients}`);
  return parts.join(' ');
}

export interface Shrunk {
  options: RunOptions;
  result: SimResult;
  runs: number;
}

/** Greedy minimisation of a failing run (at most `budget` replays). */
export function shrink(seed: number, budget = 80, isClockSynced = false): Shrunk | null {
  let runs = 0;
  const first = runSeed({ seed, isClockSynced });
  runs++;
  const kind = first.violations[0]?.kind;
  if (kind === undefined) return null;
  let best: RunOptions = { seed, isClockSynced };
  let bestResult = first;
  const fails = (o: RunOptions): boolean => {
    if (runs >= budget) return false;
    runs++;
    const r = runSeed(o);
    if (r.violations[0]?.kind !== kind) return false;
    best = o;
    bestResult = r;
    return true;
  };
  // Fewer fault kinds.
  const scenarioKinds = makeScenario(seed).faultKinds;
  for (const k of FAULT_KINDS) {
    if (!scenarioKinds.includes(k)) continue;
    const disabled = new Set(best.disabledFaults ?? []);
    disabled.add(k);
    fails({ ...best, disabledFaults: disabled });
  }
  // Fewer single faults (the last ones first: they are nearest the failure).
  const indices = bestResult.faultLog.map((l) => Number(/#(\d+)/.exec(l)![1]));
  for (const i of indices.reverse()) {
    const skipped = new Set(best.skippedFaults ?? []);
    skipped.add(i);
    fails({ ...best, skippedFaults: skipped });
  }
  // Fewer clients.
  let clients = makeScenario(seed).clients;
  while (clients > 2) {
    const next = Math.max(2, Math.floor(clients / 2));
    if (!fails({ ...best, maxClients: next })) break;
    clients = next;
  }
  // A shorter chaos phase: end it just after the failure (or after the last fault).
  const atS = Math.ceil(((bestResult.violations[0]!.atMs ?? 0) - 1_700_000_000_000) / 1000);
  const base = makeScenario(seed).chaosSeconds;
  if (atS + 1 < base) fails({ ...best, chaosSeconds: atS + 1 });
  const traced = runSeed({ ...best, trace: true });
  runs++;
  return { options: best, result: traced.violations[0]?.kind === kind ? traced : bestResult, runs };
}

/** A readable failure report: the violation, how to replay, the faults and the relevant trace. */
export function formatFailure(o: RunOptions, r: SimResult, maxTraceLines = 400): string {
  const v = r.violations[0]!;
  const lines: string[] = [];
  lines.push(
    `VIOLATION ${v.kind} at t=${(((v.atMs ?? 0) - 1_700_000_000_000) / 1000).toFixed(3)} s: ${v.message}`,
  );
  lines.push(`replay: npm run sim -- ${replayFlags(o)}`);
  lines.push(
    `scenario: ${JSON.stringify(makeScenario(o.seed, { ...(o.maxClients !== undefined ? { maxClients: o.maxClients } : {}), ...(o.chaosSeconds !== undefined ? { chaosSeconds: o.chaosSeconds } : {}), ...(o.large !== undefined ? { large: o.large } : {}) }))}`,
  );
  lines.push(`faults (${r.faultLog.length}):`);
  for (const f of r.faultLog) lines.push(`  ${f}`);
  if (r.trace.length > 0) {
    const address = v.address !== undefined ? formatIpv4Local(v.address) : null;
    const relevant = r.trace.filter(
      (l) =>
        l.includes('FAULT') ||
        l.includes(' state ') ||
        l.includes('CRASH') ||
        l.includes(' boot ') ||
        l.includes('healed') ||
        l.includes('VIOLATION') ||
        l.includes('---') ||
        (address !== null &&
          (l.includes(`${address} `) ||
            l.includes(`${address}:`) ||
            l.endsWith(address) ||
            l.includes(`${address}→`) ||
            l.includes(`${address}!`))),
    );
    const shown = relevant.length > maxTraceLines ? relevant.slice(-maxTraceLines) : relevant;
    lines.push(
      `trace (${shown.length} of ${r.trace.length} lines: faults, states${address ? `, ${address}` : ''}):`,
    );
    for (const l of shown) lines.push(`  ${l}`);
    lines.push('last 30 lines:');
    for (const l of r.trace.slice(-30)) lines.push(`  ${l}`);
  }
  return lines.join('\n');
}

function formatIpv4Local(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
