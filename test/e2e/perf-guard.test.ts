// The CPU regression guard (issue 17): Twinlease's server CPU per lease against Kea 2.2's
// (1 thread, memfile, persist) in the same run, at a small offered rate, through bench/dora.sh
// and the shared harness (perfdhcp as a relay, network namespaces). The figure compared is a
// ratio, so a slower or busier CI host moves both servers alike; it fails when the ratio grows by
// more than bench/guard.json's allowedGrowth over the baseline measured there.
//
// Each server runs `samples` times, alternating; the least CPU per lease of each is compared (the
// runs a busy host disturbed cost more, never less). A run that lost more than 2 % of its DORAs is
// a failure of its own: CPU per lease means nothing for a server that did not answer.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface Guard {
  measured?: string;
  rate: number;
  periodSeconds: number;
  clients: number;
  samples: number;
  baselineRatio: number;
  allowedGrowth: number;
}

interface ResultRow {
  server: 'kea' | 'twinlease';
  kind: string;
  result: {
    offered_rate: number;
    period_s: number;
    discover_sent: number;
    ack_rcvd: number;
    leases_per_s: number;
    server_cpu_pct: number;
    bg_cpu_pct: number;
    error: string;
  };
}

/** Server CPU (µs) per lease of one run. */
function cpuPerLeaseMicroseconds(r: ResultRow['result']): number {
  return r.leases_per_s > 0 ? ((r.server_cpu_pct / 100) * 1e6) / r.leases_per_s : Number.POSITIVE_INFINITY;
}

describe('CPU regression guard against Kea in the same run', () => {
  test('CPU per lease / Kea’s stays within the allowed growth over the baseline', () => {
    const guard = JSON.parse(readFileSync(join(REPO, 'bench/guard.json'), 'utf8')) as Guard;
    const resultsDir = mkdtempSync(join(tmpdir(), 'twinlease-perf-guard-'));
    const rates = Array.from({ length: guard.samples }, () => String(guard.rate)).join(' ');
    const run = spawnSync('bash', [join(REPO, 'bench/dora.sh')], {
      cwd: REPO,
      encoding: 'utf8',
      env: {
        ...process.env,
        RATES: rates,
        PERIOD: String(guard.periodSeconds),
        CLIENTS: String(guard.clients),
        RAMP: '0',
        RESULTS_DIR: resultsDir,
        PFX: 'dhg',
      },
      timeout: 15 * 60_000,
    });
    assert.equal(run.status, 0, `bench/dora.sh failed:\n${run.stderr.slice(-3000)}`);
    const file = readdirSync(resultsDir).find((f) => f.startsWith('dora-'));
    assert.ok(file, `no result file in ${resultsDir}:\n${run.stderr.slice(-3000)}`);
    const rows = readFileSync(join(resultsDir, file), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ResultRow)
      .filter((r) => r.kind === 'rate');
    for (const server of ['kea', 'twinlease'] as const) {
      const mine = rows.filter((r) => r.server === server);
      assert.equal(mine.length, guard.samples, `${server}: ${guard.samples} runs`);
      for (const { result: r } of mine) {
        const lostPercent = (100 * (r.discover_sent - r.ack_rcvd)) / Math.max(1, r.discover_sent);
        assert.ok(
          r.discover_sent > 0 && lostPercent <= 2,
          `${server} at ${r.offered_rate}/s lost ${lostPercent.toFixed(2)} % (${JSON.stringify(r)})`,
        );
      }
    }
    const least = (server: 'kea' | 'twinlease') =>
      Math.min(...rows.filter((r) => r.server === server).map((r) => cpuPerLeaseMicroseconds(r.result)));
    const ours = least('twinlease');
    const kea = least('kea');
    const ratio = ours / kea;
    const bound = guard.baselineRatio * guard.allowedGrowth;
    console.log(
      `perf guard at ${guard.rate}/s: twinlease ${ours.toFixed(0)} µs/lease, kea ${kea.toFixed(0)} µs/lease, ` +
        `ratio ×${ratio.toFixed(2)} (baseline ×${guard.baselineRatio}, bound ×${bound.toFixed(2)}); ` +
        `background CPU ${rows.map((r) => r.result.bg_cpu_pct).join('/')} %`,
    );
    assert.ok(
      ratio <= bound,
      `CPU per lease grew: ×${ratio.toFixed(2)} Kea's, more than ${guard.allowedGrowth} × the baseline ×${guard.baselineRatio}`,
    );
  });
});
