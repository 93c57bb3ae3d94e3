// Runs scenarios in both worlds at once: each scenario's script runs against Kea and against
// Twinlease concurrently (same xids, same bytes), a few scenarios at a time. Scenarios share one
// server per world, so they use disjoint clients; those that share something else (a reserved
// client, the small pool) declare it and never overlap.

import { Prng } from '../../sim/prng.js';
import { compareTranscripts, type FieldDiff } from './compare.js';
import { Conversation, type Dispatcher, type Timing, type Transcript } from './conversation.js';
import { ClientIds, type Scenario } from './scenarios.js';
import type { World } from './world.js';

export interface Worlds {
  kea: { world: World; dispatcher: Dispatcher };
  twinlease: { world: World; dispatcher: Dispatcher };
}

export interface ScenarioResult {
  name: string;
  kea: Transcript;
  twinlease: Transcript;
  diffs: FieldDiff[];
  /** A script that threw (a bug of the test, reported as such). */
  error?: string;
}

export interface RunSettings {
  seed: number;
  concurrency: number;
  timing: Timing;
}

/** Seeded xids for one scenario; both worlds draw the same sequence. */
function xidSource(seed: number, index: number): () => number {
  const rng = new Prng(seed, 1000 + index);
  return () => rng.next() || 1;
}

/**
 * One DISCOVER after another until the server answers (at most `timeoutMs`): the first packets a
 * freshly started server handles can be slow (JIT, database), and a first scenario must not pay
 * for that. Not compared.
 */
export async function warmUp(w: { world: World; dispatcher: Dispatcher }, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let xid = 0x7a000000;
  const conv = new Conversation(w.world, w.dispatcher, { silenceMs: 500, settleMs: 0 }, () => xid++);
  const c = conv.client('warm-up', { mac: '02d1ffff0001' });
  while (Date.now() < deadline) {
    if ((await c.discover()).message === 'OFFER') return;
  }
  throw new Error(
    `${w.world.kind} did not answer a DISCOVER within ${timeoutMs} ms:\n${w.world.serverTail()}`,
  );
}

export async function runScenarios(
  worlds: Worlds,
  scenarios: readonly Scenario[],
  settings: RunSettings,
  onResult?: (r: ScenarioResult) => void,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(scenarios.length);
  const busy = new Set<string>();
  const queue = scenarios.map((s, i) => ({ s, i }));
  const running = new Set<Promise<void>>();
  const runOne = async (s: Scenario, i: number) => {
    const convs = (['kea', 'twinlease'] as const).map(
      (k) =>
        new Conversation(worlds[k].world, worlds[k].dispatcher, settings.timing, xidSource(settings.seed, i)),
    );
    const ids = new ClientIds(i + 1);
    const errors: string[] = [];
    await Promise.all(
      convs.map((c) =>
        s.run(c, ids).catch((err: Error) => {
          errors.push(`${c.world.kind}: ${err.stack ?? err.message}`);
        }),
      ),
    );
    // Let replies that are late by a little still land in `late`.
    const [kea, twinlease] = convs.map((c) => c.transcript) as [Transcript, Transcript];
    const r: ScenarioResult = {
      name: s.name,
      kea,
      twinlease,
      diffs: compareTranscripts(s.name, kea, twinlease),
    };
    if (errors.length > 0) r.error = errors.join('\n');
    results[i] = r;
    onResult?.(r);
  };
  while (queue.length > 0 || running.size > 0) {
    const k = queue.findIndex(({ s }) => !(s.uses ?? []).some((u) => busy.has(u)));
    if (k >= 0 && running.size < settings.concurrency) {
      const { s, i } = queue.splice(k, 1)[0]!;
      for (const u of s.uses ?? []) busy.add(u);
      const p: Promise<void> = runOne(s, i).finally(() => {
        for (const u of s.uses ?? []) busy.delete(u);
        running.delete(p);
      });
      running.add(p);
      continue;
    }
    await Promise.race(running);
  }
  return results;
}
