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
OURS_CFG=${OURS_CFG:-$OURS_DIR/single.json}

# One Twinlease run from an empty lease database, as kea-anchor.sh does for Kea (it rewrites its
# folder at each call). ramp.sh calls this mode once per step.
# PROFILE=1: the server runs under V8's CPU profiler (node --cpu-prof, written when it stops), and
# a watcher records its fsync/fdatasync calls (perf trace, kernel tracepoints: no ptrace stops) and
# the CPU time of each of its threads once a second; after each run bench/lib/flame.ts turns the
# profile into bench/profiles/<rev>-<rate>.svg (+ .txt). The profiler costs CPU: a PROFILE run's
# CPU per lease is not for quoting.
if [ "${1:-}" = --ours-once ]; then
  rm -f "$OURS_DIR"/leases.db*
  NODE_FLAGS=
  if [ "${PROFILE:-0}" = 1 ]; then
    mkdir -p "$PROFILE_RAW"
    rm -f "$PROFILE_RAW/$PROFILE_NAME".*
    NODE_FLAGS="--cpu-prof --cpu-prof-dir=$PROFILE_RAW --cpu-prof-name=$PROFILE_NAME.cpuprofile"
    (
      pid=
      for _ in $(seq 1 100); do
        pid=$(pgrep -n -f "^node .*twinlease.js serve --config $OURS_CFG" || true)
        [ -n "$pid" ] && break
        sleep 0.1
      done
      [ -n "$pid" ] || exit 0
      if command -v perf >/dev/null; then
        perf trace -s -e fsync,fdatasync -p "$pid" -o "$PROFILE_RAW/$PROFILE_NAME.fsync.txt" 2>/dev/null &
      fi
      # One line per thread per second: time, tid, name, utime+stime (clock ticks)
      while kill -0 "$pid" 2>/dev/null; do
        now=$(date +%s.%N)
        for s in /proc/"$pid"/task/*/stat; do
          line=$(cat "$s" 2>/dev/null) || continue
          comm=${line#*\(}; comm=${comm%\)*}; rest=(${line##*\) })
          echo "$now ${line%% *} $((rest[11] + rest[12])) $comm"
        done >>"$PROFILE_RAW/$PROFILE_NAME.threads.txt"
        sleep 1
      done
    ) >/dev/null 2>&1 &
  fi
  # OURS_ROOT: another checkout with dist/ built (BASELINE below); default this one
  exec "$H/perfdhcp-run.sh" twinlease-single "node $NODE_FLAGS ${OURS_ROOT:-$ROOT}/bin/twinlease.js serve --config $OURS_CFG"
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
  // COMMIT_INTERVAL_MS: leaseStore.commitIntervalMs of the server under test (default: that of bench/single.json)
  if (process.env.COMMIT_INTERVAL_MS) c.leaseStore.commitIntervalMs = Number(process.env.COMMIT_INTERVAL_MS);
  fs.writeFileSync(process.argv[2], JSON.stringify(c, null, 2));
  // VARIANTS="name={leaseStore fields} ...": one more config per variant, run after the default one
  for (const v of (process.env.VARIANTS ?? "").split(" ").filter(Boolean)) {
    const [name, patch] = [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)];
    const cv = { ...c, leaseStore: { ...c.leaseStore, ...JSON.parse(patch) } };
    fs.writeFileSync(process.argv[2].replace(/\.json$/, "-" + name + ".json"), JSON.stringify(cv, null, 2));
  }
' "$ROOT/bench/single.json" "$OURS_CFG" "$OURS_DIR/leases.db"

# record SERVER KIND < result line → tagged line in $OUT
record() {
  local line
  line=$(grep '^{' | tail -1) || true
  [ -n "$line" ] || { echo "no result for $1 $2" >&2; return 0; }
  echo "{\"bench\":\"dora\",\"run_id\":\"$RUN_ID\",\"rev\":\"$REV\",\"server\":\"$1\",\"kind\":\"$2\",\"result\":$line}" >>"$OUT"
  echo "$1 $2: $line" >&2
}

export PROFILE=${PROFILE:-0} PROFILE_RAW=${PROFILE_RAW:-$WORK/profiles}
PROFILE_OUT=${PROFILE_OUT:-$ROOT/bench/profiles}
# profile_report RATE: the flame graph and text summary of the run just made (PROFILE=1)
profile_report() {
  local name=twinlease-$REV-$1 svg=$PROFILE_OUT/$REV-$1
  [ -f "$PROFILE_RAW/$name.cpuprofile" ] || { echo "no profile for $1/s" >&2; return 0; }
  mkdir -p "$PROFILE_OUT"
  (cd "$ROOT" && node --import tsx bench/lib/flame.ts "$PROFILE_RAW/$name.cpuprofile" --out "$svg.svg" --text "$svg.txt" \
    --title "twinlease $REV: DORA at $1/s offered, PERIOD=$PERIOD s, CLIENTS=$CLIENTS (bench/dora.sh, perfdhcp relay): node --cpu-prof bin/twinlease.js serve --config bench/single.json" >/dev/null)
  node "$ROOT/bench/lib/thread-cpu.mjs" "$PROFILE_RAW/$name.threads.txt" >>"$svg.txt" 2>/dev/null || true
  [ -f "$PROFILE_RAW/$name.fsync.txt" ] && { echo; echo "fsync (perf trace -s, whole process life):"; grep -E 'syscall|fsync|fdatasync|---' "$PROFILE_RAW/$name.fsync.txt" || true; } >>"$svg.txt"
  echo "profile: $svg.svg $svg.txt" >&2
}

for rate in $RATES; do
  # Alternate the servers at each rate so slow drift of the host affects both alike.
  RATE=$rate "$H/kea-anchor.sh" single | record kea "rate"
  RATE=$rate PROFILE_NAME=twinlease-$REV-$rate "$0" --ours-once | record twinlease "rate"
  [ "$PROFILE" = 1 ] && profile_report "$rate"
  for v in ${VARIANTS:-}; do
    name=${v%%=*}
    PROFILE=0 RATE=$rate OURS_CFG=${OURS_CFG%.json}-$name.json "$0" --ours-once | record "twinlease-$name" "rate"
  done
  # BASELINE=DIR: the same config served by another build (a checkout of an earlier revision with
  # dist/ built and node_modules), run after this one at each rate: before/after in one invocation
  if [ -n "${BASELINE:-}" ]; then
    PROFILE=0 RATE=$rate OURS_ROOT=$BASELINE "$0" --ours-once | record twinlease-baseline "rate"
  fi
done
if [ "$RAMP" = 1 ]; then
  RATES="$RAMP_RATES" PERIOD=$RAMP_PERIOD "$H/ramp.sh" "$H/kea-anchor.sh" single | record kea ramp
  PROFILE=0 RATES="$RAMP_RATES" PERIOD=$RAMP_PERIOD "$H/ramp.sh" "$0" --ours-once | record twinlease ramp
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
console.log(['rate', 'server', 'leases/s', 'srv cpu%', 'us cpu/lease', 'DO p50', 'DO p99', 'RA p50', 'RA p99', 'lost', 'bg%'].map((h, i) => pad(h, i === 1 ? 16 : 9)).join(' '));
const byRate = new Map();
for (const { server, result: r } of eq) {
  const lost = r.discover_sent - r.ack_rcvd;
  console.log([r.offered_rate, server, f(r.leases_per_s), r.server_cpu_pct, f(usPerLease(r)), r.do_p50_ms, r.do_p99_ms, r.ra_p50_ms, r.ra_p99_ms, lost, r.bg_cpu_pct]
    .map((v, i) => pad(v, i === 1 ? 16 : 9)).join(' '));
  if (!byRate.has(r.offered_rate)) byRate.set(r.offered_rate, {});
  byRate.get(r.offered_rate)[server] = r;
}
console.log('\nratios twinlease / kea (lower is better for CPU and latency):');
for (const [rate, s] of byRate) {
  const k = s.kea;
  for (const [server, t] of Object.entries(s)) {
  if (!k || !t || server === 'kea') continue;
  const q = (a, b) => (b > 0 ? f(a / b, 2) : '-');
  const who = server === 'twinlease' ? '' : ` ${server}`;
  console.log(`  at ${rate}/s${who}: cpu per lease x${q(usPerLease(t), usPerLease(k))}, leases/s x${q(t.leases_per_s, k.leases_per_s)}, ` +
    `DO p50 x${q(t.do_p50_ms, k.do_p50_ms)} p99 x${q(t.do_p99_ms, k.do_p99_ms)}, RA p50 x${q(t.ra_p50_ms, k.ra_p50_ms)} p99 x${q(t.ra_p99_ms, k.ra_p99_ms)}`);
  }
}
if (ramp.kea || ramp.twinlease) {
  const k = ramp.kea?.ramp_max_clean_rate ?? 0;
  const t = ramp.twinlease?.ramp_max_clean_rate ?? 0;
  console.log(`  ramp max clean rate (<= ${ramp.kea?.max_drop_pct ?? 1}% lost): kea ${k}/s, twinlease ${t}/s, ratio x${k > 0 ? f(t / k, 2) : '-'} (a floor: perfdhcp saturates first)`);
}
console.log(`\nresults: ${process.argv[2]}`);
JS
