#!/bin/bash
# Memory under churn (issue 15, "1 hour of churn at 1000 DORA/s shows no growth in RSS once the
# table is full"): Twinlease in udp mode under perfdhcp DORA for DURATION_S, with more clients than
# addresses and short leases, so that after the first minutes every address of the range has a
# binding and each new client takes an expired one (expiry, reuse and the store's rewrites run all
# along). The server's RSS is sampled every SAMPLE_S; the summary compares the first sample after
# the table is full with the last one and fits a line through the second half.
#
#   sudo bench/soak.sh                                   # RATE=1000, DURATION_S=3600
#   sudo DURATION_S=600 RATE=1000 BUILD=0 bench/soak.sh  # a shorter run, dist/ built already
#
# Knobs: RATE (1000 DORA/s), DURATION_S (3600), CLIENTS (100000 MACs), LEASE_S (30: a client comes
# back about every CLIENTS/RATE s, after its lease expired), SAMPLE_S (10), FULL_S (600: when the
# table counts as full; the summary's start), PFX (tls: namespace prefix, distinct from the e2e
# tests so a soak can run beside them). Results: bench/results/soak-<UTC time>.jsonl (one line per
# sample and a summary line).
set -u
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
H=${HARNESS:-$ROOT/../shared/harness}
[ -x "$H/perfdhcp-run.sh" ] || { echo "harness not found at $H" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces, port 67)" >&2; exit 1; }
export PFX=${PFX:-tls}
export WORK=${WORK:-/tmp/$PFX-harness}
RATE=${RATE:-1000} DURATION_S=${DURATION_S:-3600} CLIENTS=${CLIENTS:-100000}
LEASE_S=${LEASE_S:-30} SAMPLE_S=${SAMPLE_S:-10} FULL_S=${FULL_S:-600}
DIR=$WORK/twinlease-soak
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/soak-$RUN_ID.jsonl
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$DIR" "$ROOT/bench/results"
rm -f "$DIR"/leases.db*

if [ "${BUILD:-1}" = 1 ]; then (cd "$ROOT" && npx tsc -p tsconfig.build.json) || exit 1; fi

# bench/single.json with the whole /16 as the range (65,279 addresses, fewer than CLIENTS) and
# short leases.
node -e '
  const fs = require("fs");
  const [src, dir, leaseS] = process.argv.slice(1);
  const c = JSON.parse(fs.readFileSync(src, "utf8"));
  c.leaseStore = { ...(c.leaseStore ?? {}), path: `${dir}/leases.db` };
  const s = c.scopes[0];
  s.ranges = [{ start: "10.77.1.0", end: "10.77.255.254" }];
  s.leaseTimeSeconds = Number(leaseS);
  s.renewTimeSeconds = Math.floor(Number(leaseS) / 2);
  s.rebindTimeSeconds = Math.floor((Number(leaseS) * 7) / 8);
  fs.writeFileSync(`${dir}/soak.json`, JSON.stringify(c, null, 2));
' "$ROOT/bench/single.json" "$DIR" "$LEASE_S"

# RSS sampler: finds the server by its config path once the harness started it.
(
  start=$(date +%s)
  pid=
  while [ -z "$pid" ] && [ $(($(date +%s) - start)) -lt 60 ]; do
    pid=$(pgrep -f "^node $ROOT/bin/twinlease.js serve --config $DIR/soak.json" | head -1); sleep 1
  done
  [ -n "$pid" ] || { echo "soak: server not found" >&2; exit 1; }
  t0=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null)
    hwm=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null)
    cpu=$(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null)
    [ -n "$rss" ] && echo "{\"bench\":\"soak\",\"run_id\":\"$RUN_ID\",\"rev\":\"$REV\",\"t_s\":$(($(date +%s) - t0)),\"rss_kb\":$rss,\"hwm_kb\":$hwm,\"cpu_ticks\":$cpu}" >>"$OUT"
    sleep "$SAMPLE_S"
  done
) &
SAMPLER=$!

RATE=$RATE CLIENTS=$CLIENTS PERIOD=$DURATION_S LAT=0 BG_WAIT_S=0 \
  "$H/perfdhcp-run.sh" twinlease-soak "node $ROOT/bin/twinlease.js serve --config $DIR/soak.json" |
  grep '^{' | tail -1 >"$DIR/perfdhcp.json"
wait "$SAMPLER"

node - "$OUT" "$DIR/perfdhcp.json" "$FULL_S" <<'JS'
const fs = require('fs');
const [out, perfPath, fullS] = process.argv.slice(2);
const samples = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const perf = JSON.parse(fs.readFileSync(perfPath, 'utf8') || '{}');
const after = samples.filter((s) => s.t_s >= Number(fullS));
if (after.length < 4) {
  console.error(`soak: only ${after.length} samples after ${fullS} s; nothing to judge`);
  process.exit(1);
}
const half = after.slice(Math.floor(after.length / 2));
// Least squares slope of RSS over time in the second half, MB per hour.
const n = half.length;
const mx = half.reduce((a, s) => a + s.t_s, 0) / n;
const my = half.reduce((a, s) => a + s.rss_kb, 0) / n;
const sxy = half.reduce((a, s) => a + (s.t_s - mx) * (s.rss_kb - my), 0);
const sxx = half.reduce((a, s) => a + (s.t_s - mx) ** 2, 0);
const slopeMbPerHour = ((sxy / sxx) * 3600) / 1024;
const mb = (kb) => Math.round(kb / 102.4) / 10;
const first = after[0];
const last = after[after.length - 1];
const summary = {
  bench: 'soak-summary',
  run_id: samples[0].run_id,
  rev: samples[0].rev,
  duration_s: last.t_s,
  full_at_s: first.t_s,
  rss_full_mb: mb(first.rss_kb),
  rss_last_mb: mb(last.rss_kb),
  rss_min_after_full_mb: mb(Math.min(...after.map((s) => s.rss_kb))),
  rss_max_after_full_mb: mb(Math.max(...after.map((s) => s.rss_kb))),
  hwm_mb: mb(last.hwm_kb),
  slope_second_half_mb_per_hour: Math.round(slopeMbPerHour * 10) / 10,
  leases_per_s: perf.leases_per_s,
  discover_sent: perf.discover_sent,
  ack_rcvd: perf.ack_rcvd,
  server_cpu_pct: perf.server_cpu_pct,
  bg_cpu_pct: perf.bg_cpu_pct,
};
fs.appendFileSync(out, `${JSON.stringify(summary)}\n`);
console.log(JSON.stringify(summary, null, 2));
console.log(`results: ${out}`);
JS
