#!/bin/bash
# DORA throughput and latency of Twinlease against its anchor, ISC Kea 2.2 single-threaded with
# memfile PERSIST=true, in the same invocation, through shared/harness (perfdhcp as a relay).
#
#   sudo bench/dora.sh                 # 2 equal-rate runs per server + a ramp for each
#   RATES="2000 4000" PERIOD=20 CLIENTS=10000 RAMP=1 RAMP_RATES="1000 2000 ..." bench/dora.sh
#
# Prints one table and the ratios Twinlease/Kea: server CPU per lease at equal offered rates,
# latency p50/p99 (DISCOVER→OFFER, REQUEST→ACK), and the ramp's max clean rate. Every result line
# is kept in bench/results/dora-<time>.jsonl. See bench/README.md for what this does and does not
# measure (perfdhcp saturates before the servers do).
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
H=${HARNESS:-$ROOT/../shared/harness}
[ -x "$H/perfdhcp-run.sh" ] || { echo "harness not found at $H (expected <repo>/../shared/harness)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces, port 67)" >&2; exit 1; }
export PFX=${PFX:-dhb}
export WORK=${WORK:-/tmp/$PFX-harness}
OURS_DIR=$WORK/twinlease
OURS_CFG=$OURS_DIR/single.json

# One Twinlease run from an empty lease database, as kea-anchor.sh does for Kea (it rewrites its
# folder at each call). ramp.sh calls this mode once per step.
if [ "${1:-}" = --ours-once ]; then
  rm -f "$OURS_DIR"/leases.db*
  exec "$H/perfdhcp-run.sh" twinlease-single "node $ROOT/bin/twinlease.js serve --config $OURS_CFG"
fi

RATES=${RATES:-2000 4000}
export PERIOD=${PERIOD:-20} CLIENTS=${CLIENTS:-10000} PERSIST=true THREADS=0
RAMP=${RAMP:-1}
RAMP_RATES=${RAMP_RATES:-1000 2000 3000 4000 5000 6000 7000 8000}
RAMP_PERIOD=${RAMP_PERIOD:-10}
# RESULTS_DIR: where the result lines go (the CI guard, test/e2e/perf-guard.test.ts, keeps them out of the tree)
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}
mkdir -p "$RESULTS_DIR" "$OURS_DIR"
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS_DIR/dora-$RUN_ID.jsonl
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

echo "building dist/ ..." >&2
(cd "$ROOT" && npx tsc -p tsconfig.build.json)
# bench/single.json with the lease database moved into this prefix's scratch folder
node -e '
  const fs = require("fs");
  const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  c.leaseStore = { ...(c.leaseStore ?? {}), path: process.argv[3] };
  fs.writeFileSync(process.argv[2], JSON.stringify(c, null, 2));
' "$ROOT/bench/single.json" "$OURS_CFG" "$OURS_DIR/leases.db"

# record SERVER KIND < result line → tagged line in $OUT
record() {
  local line
  line=$(grep '^{' | tail -1) || true
  [ -n "$line" ] || { echo "no result for $1 $2" >&2; return 0; }
  echo "{\"bench\":\"dora\",\"run_id\":\"$RUN_ID\",\"rev\":\"$REV\",\"server\":\"$1\",\"kind\":\"$2\",\"result\":$line}" >>"$OUT"
  echo "$1 $2: $line" >&2
}

for rate in $RATES; do
  # Alternate the servers at each rate so slow drift of the host affects both alike.
  RATE=$rate "$H/kea-anchor.sh" single | record kea "rate"
  RATE=$rate "$0" --ours-once | record twinlease "rate"
done
if [ "$RAMP" = 1 ]; then
  RATES="$RAMP_RATES" PERIOD=$RAMP_PERIOD "$H/ramp.sh" "$H/kea-anchor.sh" single | record kea ramp
  RATES="$RAMP_RATES" PERIOD=$RAMP_PERIOD "$H/ramp.sh" "$0" --ours-once | record twinlease ramp
fi

node - "$OUT" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const eq = rows.filter((r) => r.kind === 'rate');
const ramp = Object.fromEntries(rows.filter((r) => r.kind === 'ramp').map((r) => [r.server, r.result]));
const usPerLease = (r) => (r.leases_per_s > 0 ? (r.server_cpu_pct / 100) * 1e6 / r.leases_per_s : NaN);
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s, n) => String(s).padStart(n);
console.log(`\nDORA through perfdhcp (relay), PERIOD=${eq[0]?.result.period_s}s CLIENTS=${eq[0]?.result.clients}; CPU % of one core`);
console.log(['rate', 'server', 'leases/s', 'srv cpu%', 'us cpu/lease', 'DO p50', 'DO p99', 'RA p50', 'RA p99', 'lost', 'bg%'].map((h, i) => pad(h, i === 1 ? 10 : 9)).join(' '));
const byRate = new Map();
for (const { server, result: r } of eq) {
  const lost = r.discover_sent - r.ack_rcvd;
  console.log([r.offered_rate, server, f(r.leases_per_s), r.server_cpu_pct, f(usPerLease(r)), r.do_p50_ms, r.do_p99_ms, r.ra_p50_ms, r.ra_p99_ms, lost, r.bg_cpu_pct]
    .map((v, i) => pad(v, i === 1 ? 10 : 9)).join(' '));
  if (!byRate.has(r.offered_rate)) byRate.set(r.offered_rate, {});
  byRate.get(r.offered_rate)[server] = r;
}
console.log('\nratios twinlease / kea (lower is better for CPU and latency):');
for (const [rate, s] of byRate) {
  const { kea: k, twinlease: t } = s;
  if (!k || !t) continue;
  const q = (a, b) => (b > 0 ? f(a / b, 2) : '-');
  console.log(`  at ${rate}/s: cpu per lease x${q(usPerLease(t), usPerLease(k))}, leases/s x${q(t.leases_per_s, k.leases_per_s)}, ` +
    `DO p50 x${q(t.do_p50_ms, k.do_p50_ms)} p99 x${q(t.do_p99_ms, k.do_p99_ms)}, RA p50 x${q(t.ra_p50_ms, k.ra_p50_ms)} p99 x${q(t.ra_p99_ms, k.ra_p99_ms)}`);
}
if (ramp.kea || ramp.twinlease) {
  const k = ramp.kea?.ramp_max_clean_rate ?? 0;
  const t = ramp.twinlease?.ramp_max_clean_rate ?? 0;
  console.log(`  ramp max clean rate (<= ${ramp.kea?.max_drop_pct ?? 1}% lost): kea ${k}/s, twinlease ${t}/s, ratio x${k > 0 ? f(t / k, 2) : '-'} (a floor: perfdhcp saturates first)`);
}
console.log(`\nresults: ${process.argv[2]}`);
JS
