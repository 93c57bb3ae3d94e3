// npm run sim -- --seeds N [--base B] [--workers W] [--summary FILE]
//                                  run N seeds (B, B+1, …) on W worker threads; progress every 10 s
// (--synced-clocks: no skew and no clock faults, as the CI test runs). --summary writes a JSON
// summary at every progress line and at the end; on SIGINT/SIGTERM it is written and the run stops,
// and its `resumeBase` (every seed below it has run) continues the sweep in a later session:
// `--base <resumeBase> --seeds <remaining>`.
// npm run sim -- --seed S [--disable k1,k2] [--skip i,j] [--clients N] [--chaos SECONDS] [--full-trace]
//                 [--pool ADDRESSES --pool-clients N]   (a large scope, issue 15)
//                                                       replay one seed with its trace
// A failing seed is shrunk (docs/safety.md) and printed with its replay command. Exit code 1 if
// any seed failed.
// `npm run sim` runs node with --single-threaded-gc (V8's flags hold for the worker threads too):
// a seed's heap is small, and V8's parallel scavenges cost more in coordination than they save
// (1000 seeds on one worker: 18 s of CPU instead of 26 s, docs/safety.md). It changes nothing a
// seed does.

import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { formatFailure, type RunOptions, runSeed, shrink } from './run.js';
import { FAULT_KINDS, type FaultKind } from './scenario.js';

interface BatchStats {
  seeds: number;
  events: number;
  simSeconds: number;
  faults: Record<string, number>;
  counters: Record<string, number>;
  violations: Record<string, number>;
  failing: Array<{ seed: number; kind: string; message: string }>;
}

function emptyStats(): BatchStats {
  return { seeds: 0, events: 0, simSeconds: 0, faults: {}, counters: {}, violations: {}, failing: [] };
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function runBatch(seeds: number[], isClockSynced: boolean, chaosSeconds: number | undefined): BatchStats {
  const s = emptyStats();
  for (const seed of seeds) {
    const r = runSeed({ seed, isClockSynced, ...(chaosSeconds !== undefined ? { chaosSeconds } : {}) });
    s.seeds++;
    s.events += r.events;
    s.simSeconds += r.simSeconds;
    add(s.faults, r.faults);
    add(s.counters, r.counters);
    for (const v of r.violations) {
      s.violations[v.kind] = (s.violations[v.kind] ?? 0) + 1;
      s.failing.push({ seed, kind: v.kind, message: v.message });
    }
  }
  return s;
}

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) m.set(a.slice(2), 'true');
    else {
      m.set(a.slice(2), next);
      i++;
    }
  }
  return m;
}

function listOf(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(',').filter((x) => x !== '');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.has('seed')) {
    const disabled = listOf(args.get('disable'));
    for (const k of disabled)
      if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`unknown fault kind ${k}`);
    const o: RunOptions = {
      seed: Number(args.get('seed')) >>> 0,
      disabledFaults: new Set(disabled as FaultKind[]),
      skippedFaults: new Set(listOf(args.get('skip')).map(Number)),
      trace: true,
      isClockSynced: args.has('synced-clocks'),
      ...(args.has('clients') ? { maxClients: Number(args.get('clients')) } : {}),
      ...(args.has('chaos') ? { chaosSeconds: Number(args.get('chaos')) } : {}),
      ...(args.has('pool')
        ? { large: { poolSize: Number(args.get('pool')), clients: Number(args.get('pool-clients') ?? 300) } }
        : {}),
    };
    const t0 = performance.now();
    const r = runSeed(o);
    const ms = performance.now() - t0;
    if (args.has('full-trace')) for (const l of r.trace) console.log(l);
    console.log(
      `seed ${o.seed}: ${r.events} events, ${r.simSeconds} simulated s, ${ms.toFixed(0)} ms; faults ${JSON.stringify(r.faults)}`,
    );
    console.log(`counters ${JSON.stringify(r.counters)}`);
    if (r.violations.length === 0) {
      console.log('no violation');
      return;
    }
    console.log(formatFailure(o, r));
    process.exitCode = 1;
    return;
  }
  const n = Number(args.get('seeds') ?? 1000);
  const base = Number(args.get('base') ?? 1) >>> 0;
  const workers = Math.max(1, Number(args.get('workers') ?? availableParallelism()));
  const isClockSynced = args.has('synced-clocks');
  const chaosSeconds = args.has('chaos') ? Number(args.get('chaos')) : undefined;
  const chunk = Math.max(1, Math.min(500, Math.ceil(n / (workers * 8))));
  const t0 = performance.now();
  const total = emptyStats();
  let next = 0;
  let lastPrint = t0;
  // Seeds finish out of order (chunks on several workers): every seed below base + doneBelow has run.
  let doneBelow = 0;
  const doneChunks = new Map<number, number>();
  const summaryPath = args.get('summary');
  const writeSummary = (status: 'running' | 'interrupted' | 'done') => {
    if (summaryPath === undefined) return;
    const seconds = (performance.now() - t0) / 1000;
    const summary = {
      status,
      command: `npm run sim -- ${process.argv.slice(2).join(' ')}`,
      base,
      seedsRequested: n,
      isClockSynced,
      chaosSeconds: chaosSeconds ?? null,
      workers,
      seedsRun: total.seeds,
      resumeBase: (base + doneBelow) >>> 0,
      seedsLeft: n - doneBelow,
      seconds: Math.round(seconds * 10) / 10,
      seedsPerSecond: Math.round((total.seeds / seconds) * 10) / 10,
      events: total.events,
      simulatedHours: Math.round(total.simSeconds / 3600),
      faults: sortObject(total.faults),
      counters: sortObject(total.counters),
      violations: total.failing.length,
      violationsByKind: total.violations,
      failing: total.failing.map((f) => ({ seed: f.seed, kind: f.kind, message: f.message.slice(0, 500) })),
    };
    writeFileSync(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  };
  let isStopping = false;
  const stop = (signal: string) => {
    if (isStopping) return;
    isStopping = true;
    writeSummary('interrupted');
    console.log(
      `\n${signal}: stopped after ${total.seeds} seeds; every seed below ${(base + doneBelow) >>> 0} has run (resume with --base ${(base + doneBelow) >>> 0} --seeds ${n - doneBelow})`,
    );
    process.exit(130);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await new Promise<void>((resolve, reject) => {
    let running = 0;
    const startWorker = () => {
      if (next >= n) {
        if (running === 0) resolve();
        return;
      }
      running++;
      const w = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: {} });
      let chunkStart = 0;
      const feed = () => {
        if (next >= n) {
          void w.terminate();
          return;
        }
        chunkStart = next;
        const seeds: number[] = [];
        for (let i = 0; i < chunk && next < n; i++, next++) seeds.push((base + next) >>> 0);
        w.postMessage({ seeds, isClockSynced, chaosSeconds });
      };
      w.on('message', (s: BatchStats) => {
        doneChunks.set(chunkStart, s.seeds);
        while (doneChunks.has(doneBelow)) {
          const size = doneChunks.get(doneBelow)!;
          doneChunks.delete(doneBelow);
          doneBelow += size;
        }
        total.seeds += s.seeds;
        total.events += s.events;
        total.simSeconds += s.simSeconds;
        add(total.faults, s.faults);
        add(total.counters, s.counters);
        add(total.violations, s.violations);
        total.failing.push(...s.failing);
        for (const f of s.failing) console.log(`seed ${f.seed}: ${f.kind}: ${f.message.slice(0, 300)}`);
        const now = performance.now();
        if (now - lastPrint > 10_000) {
          lastPrint = now;
          const rate = total.seeds / ((now - t0) / 1000);
          console.log(
            `… ${total.seeds}/${n} seeds, ${rate.toFixed(1)} seeds/s, ${total.failing.length} failing; every seed below ${(base + doneBelow) >>> 0} has run`,
          );
          writeSummary('running');
        }
        feed();
      });
      w.on('error', reject);
      w.on('exit', () => {
        running--;
        if (running === 0 && next >= n) resolve();
      });
      feed();
    };
    for (let i = 0; i < workers; i++) startWorker();
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log('');
  console.log(
    `${total.seeds} seeds (${base}..${(base + n - 1) >>> 0}) on ${workers} workers in ${seconds.toFixed(1)} s: ${(total.seeds / seconds).toFixed(1)} seeds/s, ${total.events} events (${(total.events / seconds / 1000).toFixed(0)}k events/s), ${Math.round(total.simSeconds / 3600)} simulated hours`,
  );
  console.log(`faults injected: ${JSON.stringify(sortObject(total.faults))}`);
  const c = total.counters;
  console.log(
    `traffic: ${c['client-ack'] ?? 0} client ACKs, ${c['client-nak'] ?? 0} NAKs, ${c['client-release'] ?? 0} releases, ${c['client-decline'] ?? 0} declines, ${c['client-reboot'] ?? 0} INIT-REBOOTs, ${c['client-vanish'] ?? 0} vanished, ${c['msg:BNDUPD'] ?? 0} BNDUPDs, ${c.restart ?? 0} restarts`,
  );
  const states = Object.entries(c).filter(([k]) => k.startsWith('state:'));
  console.log(`state entries: ${states.map(([k, v]) => `${k.slice(6)} ${v}`).join(', ')}`);
  console.log(`violations: ${total.failing.length} ${JSON.stringify(total.violations)}`);
  writeSummary('done');
  if (summaryPath !== undefined) console.log(`summary: ${summaryPath}`);
  if (total.failing.length > 0) {
    process.exitCode = 1;
    const shown = total.failing.slice(0, Number(args.get('shrink') ?? 3));
    for (const f of shown) {
      console.log(`\n=== shrinking seed ${f.seed} (${f.kind}) ===`);
      const s = shrink(f.seed, 80, isClockSynced);
      if (s === null) console.log('did not fail again (nondeterminism?)');
      else console.log(formatFailure(s.options, s.result, 200));
    }
  }
}

function sortObject(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 2;
  });
} else {
  void workerData;
  parentPort!.on('message', (m: { seeds: number[]; isClockSynced: boolean; chaosSeconds?: number }) =>
    parentPort!.postMessage(runBatch(m.seeds, m.isClockSynced, m.chaosSeconds)),
  );
}
