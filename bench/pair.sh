#!/bin/bash
# A Twinlease failover pair (load balance 50/50, D12 over TCP 647) against ISC Kea 2.2's HA pair
# (load-balancing, HTTP lease updates; shared/harness/kea-anchor.sh pair) in the same invocation.
# perfdhcp broadcasts (MODE=broadcast) with giaddr set, so both partners of each pair see every
# DISCOVER/REQUEST and the RFC 3074 hash decides which one answers.
#
#   sudo bench/pair.sh                       # RATES="1000 2000", PERIOD=20, then a ramp
#   RATES="1000 2000 3000" RAMP=0 bench/pair.sh
#
# Prints CPU per lease (both servers' CPU added) at equal offered rates, latency, and each pair's
# max clean rate; the ratios are Twinlease/Kea. Results: bench/results/pair-<time>.jsonl.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
H=${HARNESS:-$ROOT/../shared/harness}
[ -x "$H/perfdhcp-run.sh" ] || { echo "harness not found at $H" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces, port 67)" >&2; exit 1; }
export PFX=${PFX:-dhb}
export WORK=${WORK:-/tmp/$PFX-harness}
OURS_DIR=$WORK/twinlease-pair

# One run of our pair from empty lease databases (ramp.sh calls this once per step). Ready when
# the primary reports its partner NORMAL; SETTLE_S leaves time for pool balancing (8192 BACKUP
# binding updates for the 16384-address pool).
if [ "${1:-}" = --ours-once ]; then
  rm -f "$OURS_DIR"/*.db*
  READY_CMD=${READY_CMD:-"curl -sf http://127.0.0.1:8067/api/v1/status | grep -q '\"partnerState\":\"normal\"'"} \
    SETTLE_S=${SETTLE_S:-6} MODE=broadcast \
    exec "$H/perfdhcp-run.sh" twinlease-pair \
    "node $ROOT/bin/twinlease.js serve --config $OURS_DIR/primary.json" \
    "node $ROOT/bin/twinlease.js serve --config $OURS_DIR/secondary.json"
fi

RATES=${RATES:-1000 2000}
export PERIOD=${PERIOD:-20} CLIENTS=${CLIENTS:-10000} PERSIST=true THREADS=${THREADS:-2}
RAMP=${RAMP:-1}
RAMP_RATES=${RAMP_RATES:-1000 2000 3000 4000 5000 6000}
RAMP_PERIOD=${RAMP_PERIOD:-10}
mkdir -p "$ROOT/bench/results" "$OURS_DIR"
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/pair-$RUN_ID.jsonl
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

echo "building dist/ ..." >&2
(cd "$ROOT" && npx tsc -p tsconfig.build.json)
node - "$OURS_DIR" <<'JS'
const fs = require('fs');
const dir = process.argv[2];
const scope = {
  id: 'bench',
  subnet: '10.77.0.0/16',
  ranges: [{ start: '10.77.1.0', end: '10.77.64.255' }],
  leaseTimeSeconds: 4000,
  renewTimeSeconds: 1000,
  rebindTimeSeconds: 2000,
};
for (const [file, me, peer, role, name] of [
  ['primary.json', '10.77.0.1', '10.77.0.3', 'primary', 'tl-a'],
  ['secondary.json', '10.77.0.3', '10.77.0.1', 'secondary', 'tl-b'],
]) {
  const config = {
    server: { name, serverIdentifier: me },
    dhcp: { interface: 'eth0', broadcastAddress: '10.77.255.255' },
    leaseStore: { path: `${dir}/${role}.db` },
    logging: { level: 'warn' },
    api: { listenAddress: '127.0.0.1', port: 8067 },
    scopes: [scope],
    failover: [
      {
        name: 'bench-pair',
        role,
        mode: 'loadBalance',
        loadBalancePercent: 50,
        mcltSeconds: 3600,
        loadBalanceMaxSeconds: 0,
        local: { address: me, port: 647 },
        partner: { address: peer, port: 647 },
        scopeIds: ['bench'],
        maxUnackedUpdates: 100,
      },
    ],
  };
  fs.writeFileSync(`${dir}/${file}`, JSON.stringify(config, null, 2));
}
JS

record() {
  local line
  line=$(grep '^{' | tail -1) || true
  [ -n "$line" ] || { echo "no result for $1 $2" >&2; return 0; }
  echo "{\"bench\":\"pair\",\"run_id\":\"$RUN_ID\",\"rev\":\"$REV\",\"server\":\"$1\",\"kind\":\"$2\",\"result\":$line}" >>"$OUT"
  echo "$1 $2: $line" >&2
}

for rate in $RATES; do
  RATE=$rate MODE=broadcast "$H/kea-anchor.sh" pair | record kea-ha "rate"
  RATE=$rate "$0" --ours-once | record twinlease-pair "rate"
done
if [ "$RAMP" = 1 ]; then
  RATES="$RAMP_RATES" PERIOD=$RAMP_PERIOD MODE=broadcast "$H/ramp.sh" "$H/kea-anchor.sh" pair | record kea-ha ramp
  RATES="$RAMP_RATES" PERIOD=$RAMP_PERIOD "$H/ramp.sh" "$0" --ours-once | record twinlease-pair ramp
fi

node - "$OUT" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const eq = rows.filter((r) => r.kind === 'rate');
const ramp = Object.fromEntries(rows.filter((r) => r.kind === 'ramp').map((r) => [r.server, r.result]));
const usPerLease = (r) => (r.leases_per_s > 0 ? (r.server_cpu_pct / 100) * 1e6 / r.leases_per_s : NaN);
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s, n) => String(s).padStart(n);
console.log(`\nPairs under perfdhcp broadcast (relay), PERIOD=${eq[0]?.result.period_s}s CLIENTS=${eq[0]?.result.clients}; CPU = both servers, % of one core`);
console.log(['rate', 'pair', 'leases/s', 'srv cpu%', 'us cpu/lease', 'DO p50', 'DO p99', 'RA p50', 'RA p99', 'lost'].map((h, i) => pad(h, i === 1 ? 15 : 9)).join(' '));
const byRate = new Map();
for (const { server, result: r } of eq) {
  console.log([r.offered_rate, server, f(r.leases_per_s), r.server_cpu_pct, f(usPerLease(r)), r.do_p50_ms, r.do_p99_ms, r.ra_p50_ms, r.ra_p99_ms, r.discover_sent - r.ack_rcvd]
    .map((v, i) => pad(v, i === 1 ? 15 : 9)).join(' '));
  if (!byRate.has(r.offered_rate)) byRate.set(r.offered_rate, {});
  byRate.get(r.offered_rate)[server] = r;
}
console.log('\nratios twinlease-pair / kea-ha (CPU and latency: lower is better; leases/s: higher):');
for (const [rate, s] of byRate) {
  const k = s['kea-ha'];
  const t = s['twinlease-pair'];
  if (!k || !t) continue;
  const q = (a, b) => (b > 0 ? f(a / b, 2) : '-');
  console.log(`  at ${rate}/s: cpu per lease x${q(usPerLease(t), usPerLease(k))}, leases/s x${q(t.leases_per_s, k.leases_per_s)}, RA p50 x${q(t.ra_p50_ms, k.ra_p50_ms)} p99 x${q(t.ra_p99_ms, k.ra_p99_ms)}`);
}
if (ramp['kea-ha'] || ramp['twinlease-pair']) {
  const k = ramp['kea-ha']?.ramp_max_clean_rate ?? 0;
  const t = ramp['twinlease-pair']?.ramp_max_clean_rate ?? 0;
  console.log(`  ramp max clean rate: kea-ha ${k}/s, twinlease-pair ${t}/s, ratio x${k > 0 ? f(t / k, 2) : '-'}`);
}
console.log(`\nresults: ${process.argv[2]}`);
JS
