// Differential test against Kea 2.2: the same client conversations, scripted and seeded-random,
// run against kea-dhcp4 and against Twinlease, each in its own copy of the harness topology, and
// the replies are compared field by field as they leave the server (message or silence, header,
// options, lease times, where the reply went). Every difference must be an intended one or a
// known Twinlease bug (lib/differences.ts, docs/differential.md); anything else fails, with both
// transcripts of the scenario.
//
//   CI: a fixed seed (TL_DIFF_SEED overrides). Locally: a random seed, printed; replay with
//   TL_DIFF_SEED=<seed>. TL_DIFF_RANDOM=<n> random scenarios (default 40), TL_DIFF_ONLY=<text>
//   runs only the scenarios whose name contains it, TL_DIFF_SILENCE_MS how long a step waits for
//   a reply (default 700).
// Needs root, kea-dhcp4 with its hooks, python3 (the wire agent) and the e2e lock when run by hand:
//   flock /tmp/twinlease-e2e.lock node --import tsx --test test/differential/kea.test.ts

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { e2eSkipReason, isCi, PFX } from '../e2e/lib/env.js';
import { makeWorkDir } from '../e2e/lib/server.js';
import { describe as describeDiff, renderTranscripts } from './lib/compare.js';
import { Dispatcher } from './lib/conversation.js';
import { classify, RULES, type Verdict } from './lib/differences.js';
import { randomScenarios } from './lib/random.js';
import { runScenarios, type ScenarioResult, type Worlds, warmUp } from './lib/run.js';
import { SCENARIOS } from './lib/scenarios.js';
import { World } from './lib/world.js';

/** The CI seed: fixed, so that a CI failure replays anywhere. */
const CI_SEED = 20261203;
const seedText = process.env.TL_DIFF_SEED;
const SEED =
  seedText !== undefined && seedText !== '' ? Number(seedText) : isCi ? CI_SEED : randomInt(1, 2 ** 31);
const IS_FIXED_SEED = SEED === CI_SEED;
const RANDOM_COUNT = Number(process.env.TL_DIFF_RANDOM ?? 40);
const ONLY = process.env.TL_DIFF_ONLY ?? '';
const SILENCE_MS = Number(process.env.TL_DIFF_SILENCE_MS ?? 700);

const skip = e2eSkipReason(['kea-dhcp4', 'python3', 'ss', 'dpkg']);

const all = [...SCENARIOS, ...randomScenarios(SEED, RANDOM_COUNT)];
const scenarios = ONLY === '' ? all : all.filter((s) => s.name.includes(ONLY));

interface Classified {
  result: ScenarioResult;
  verdicts: Verdict[];
}

describe(`differential: Kea 2.2 and Twinlease (seed ${SEED})`, { skip: skip ?? false }, () => {
  const dir = makeWorkDir('differential');
  const worlds: World[] = [];
  let results: Promise<Classified[]>;
  let strays: string[] = [];

  before(async () => {
    console.log(`differential seed ${SEED} (replay: TL_DIFF_SEED=${SEED}); work dir ${dir}`);
    const kea = new World('kea', `${PFX}k`, join(dir, 'kea'));
    const twinlease = new World('twinlease', `${PFX}t`, join(dir, 'twinlease'));
    worlds.push(kea, twinlease);
    await Promise.all(worlds.map((w) => w.up()));
    const w: Worlds = {
      kea: { world: kea, dispatcher: new Dispatcher(kea) },
      twinlease: { world: twinlease, dispatcher: new Dispatcher(twinlease) },
    };
    await Promise.all([warmUp(w.kea), warmUp(w.twinlease)]);
    results = runScenarios(w, scenarios, {
      seed: SEED,
      concurrency: 6,
      timing: { silenceMs: SILENCE_MS, settleMs: 80, graceMs: 3000 },
    }).then(async (rs) => {
      // Replies later than a step's wait still land in the transcripts' `late` lists.
      await new Promise((r) => setTimeout(r, SILENCE_MS));
      strays = [w.kea, w.twinlease].flatMap((x) =>
        x.dispatcher.strays.map(
          (f) => `${x.world.kind}: ${f.srcIp} → ${f.dstIp}:${f.dstPort} (${f.payload.length} bytes)`,
        ),
      );
      const classified = rs.map((result) => ({
        result,
        verdicts: classify(result.diffs, { kea: result.kea, twinlease: result.twinlease }),
      }));
      // Every reply of the scenarios that failed, for the post-mortem (all of them would be ~50 MB).
      const failed = classified.filter(
        (c) => c.result.error || c.verdicts.some((v) => v.rule === null && !v.after),
      );
      writeFileSync(join(dir, 'failed.json'), JSON.stringify(failed.map((c) => c.result)));
      return classified;
    });
    // A failure to run at all shows in every test, not as an unhandled rejection.
    results.catch(() => {});
  });

  after(async () => {
    await Promise.all(worlds.map((w) => w.down()));
  });

  for (const s of scenarios) {
    test(s.name, { timeout: 300_000 }, async () => {
      const { result, verdicts } = (await results).find((c) => c.result.name === s.name)!;
      assert.equal(result.error, undefined, `the scenario script failed:\n${result.error}`);
      const unexplained = result.diffs.filter((_, i) => verdicts[i]!.rule === null && !verdicts[i]!.after);
      if (unexplained.length > 0) {
        assert.fail(
          [
            `${unexplained.length} unexplained difference(s) in ${s.name} (seed ${SEED}):`,
            ...unexplained.map((d) => `  step ${d.stepIndex} "${d.step}": ${describeDiff(d)}`),
            'transcripts:',
            renderTranscripts(result.kea, result.twinlease),
            `(every reply in full: ${join(dir, 'failed.json')})`,
          ].join('\n'),
        );
      }
    });
  }

  test('summary: rules used, nothing stray, known bugs still seen', { timeout: 300_000 }, async (t) => {
    const classified = await results;
    const uses = new Map<string, number>();
    let consequences = 0;
    for (const c of classified) {
      for (const v of c.verdicts) {
        if (v.rule) uses.set(v.rule.id, (uses.get(v.rule.id) ?? 0) + 1);
        else if (v.after) consequences++;
      }
    }
    const identical = classified.filter((c) => c.result.diffs.length === 0).length;
    t.diagnostic(`seed ${SEED}: ${classified.length} scenarios, ${identical} identical`);
    for (const r of RULES)
      t.diagnostic(`${r.kind === 'bug' ? 'KNOWN BUG' : 'intended'} ${r.id}: ${uses.get(r.id) ?? 0}`);
    t.diagnostic(`differences after a divergence (not compared): ${consequences}`);
    assert.deepEqual(strays, [], 'replies nobody asked for');
    const agentErrors = worlds.flatMap((w) => w.agentErrors.map((e) => `${w.kind}: ${e}`));
    assert.deepEqual(agentErrors, [], 'wire agent errors');
    if (IS_FIXED_SEED && ONLY === '') {
      // With the CI seed every rule must still be needed: a rule nothing matches any more is a
      // fixed bug or a behaviour that changed, and the list must say so.
      const unused = RULES.filter((r) => !uses.has(r.id)).map((r) => `${r.kind} ${r.id}`);
      assert.deepEqual(
        unused,
        [],
        'rules no difference needs any more (fixed? update lib/differences.ts and docs/differential.md)',
      );
    }
  });
});
