#!/bin/bash
# DORA through perfdhcp against Twinlease in udp mode and in direct mode (README "DHCP modes"), in
# the same invocation, alternating at each rate: the cost of the packet sockets (AF_PACKET + BPF,
# native/twinlease_net.c) against plain UDP sockets, same config otherwise (bench/single.json).
#
#   sudo bench/direct.sh                       # RATES="2000 4000", PERIOD=20, 2 runs per mode
#   sudo RATES="2000" PERIOD=10 ROUNDS=1 BUILD=0 bench/direct.sh   # BUILD=0: dist/ is built already
#   sudo STORE_OPTIONS='{"commitIntervalMs":0}' bench/direct.sh   # merged into leaseStore (this build)
#   sudo BASELINE=/path/to/other/checkout bench/direct.sh   # also udp mode of that build (its dist/
#                                                        # built), e.g. main before a change
#
# perfdhcp is a relay (10.77.0.2 → 10.77.0.1:67, shared/harness), so in direct mode every request
# comes in by the packet socket of eth0 and every reply leaves by the send-only UDP socket (to the
# relay): this measures receiving, not the link-layer unicast. Needs the addon (npm run
# build:native). Result lines go to bench/results/direct-<time>.jsonl.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
H=${HARNESS:-$ROOT/../shared/harness}
[ -x "$H/perfdhcp-run.sh" ] || { echo "harness not found at $H (expected <repo>/../shared/harness)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces, port 67)" >&2; exit 1; }
[ -f "$ROOT/native/build/Release/twinlease_net.node" ] || { echo "native addon not built: npm run build:native" >&2; exit 1; }
export PFX=${PFX:-dhb}
export WORK=${WORK:-/tmp/$PFX-harness}
DIR=$WORK/twinlease-direct
mkdir -p "$DIR" "$ROOT/bench/results"

# One run of MODE (udp|direct) from an empty lease database.
if [ "${1:-}" = --once ]; then
  rm -f "$DIR"/leases.db*
  bin=$ROOT/bin/twinlease.js cfg=$2
  [ "$2" = baseline ] && bin=$BASELINE/bin/twinlease.js
  out=$("$H/perfdhcp-run.sh" "twinlease-$2" "node $bin serve --config $DIR/$cfg.json" 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$out" | grep -v '^{' >&2
  line=$(echo "$out" | grep '^{' | tail -1) run=$(echo "$out" | sed -n 's/^logs: //p' | tail -1)
  # the share of DISCOVERs answered within 10/20/50 ms of all sent (bench/lib/answered-within.ts)
  within=$(cd "$ROOT" && node --import tsx bench/lib/answered-within.ts "$run/perfdhcp.out") || within=null
  echo "${line%\}},\"answered\":$within}"
  exit 0
fi

RATES=${RATES:-2000 4000}
ROUNDS=${ROUNDS:-2}
export PERIOD=${PERIOD:-20} CLIENTS=${CLIENTS:-10000}
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/direct-$RUN_ID.jsonl
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

if [ "${BUILD:-1}" = 1 ]; then
  echo "building dist/ ..." >&2
  (cd "$ROOT" && npx tsc -p tsconfig.build.json)
fi
# bench/single.json twice: as is (udp), and with dhcp.mode direct on the same interface.
node -e '
  const fs = require("fs");
  const [src, dir] = process.argv.slice(1);
  const c = JSON.parse(fs.readFileSync(src, "utf8"));
  c.leaseStore = { ...(c.leaseStore ?? {}), path: `${dir}/leases.db` };
  fs.writeFileSync(`${dir}/baseline.json`, JSON.stringify(c, null, 2)); // BASELINE: without STORE_OPTIONS
  const extra = JSON.parse(process.env.STORE_OPTIONS || "{}");
  c.leaseStore = { ...(c.leaseStore ?? {}), ...extra, path: `${dir}/leases.db` };
  fs.writeFileSync(`${dir}/udp.json`, JSON.stringify(c, null, 2));
  const { interface: ifname, broadcastAddress, ...dhcp } = c.dhcp;
  c.dhcp = { ...dhcp, mode: "direct", interfaces: [ifname] };
  fs.writeFileSync(`${dir}/direct.json`, JSON.stringify(c, null, 2));
' "$ROOT/bench/single.json" "$DIR"

record() {
  local line
  line=$(grep '^{' | tail -1) || true
  [ -n "$line" ] || { echo "no result for $1" >&2; return 0; }
  echo "{\"bench\":\"direct\",\"run_id\":\"$RUN_ID\",\"rev\":\"$REV\",\"mode\":\"$1\",\"result\":$line}" >>"$OUT"
  echo "$1: $line" >&2
}

for rate in $RATES; do
  for _ in $(seq "$ROUNDS"); do
    # Alternate the modes so slow drift of the host affects both alike.
    [ -z "${BASELINE:-}" ] || RATE=$rate "$0" --once baseline | record baseline
    RATE=$rate "$0" --once udp | record udp
    RATE=$rate "$0" --once direct | record direct
  done
done

node - "$OUT" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const usPerLease = (r) => (r.leases_per_s > 0 ? ((r.server_cpu_pct / 100) * 1e6) / r.leases_per_s : NaN);
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s, n) => String(s).padStart(n);
console.log(`\nDORA through perfdhcp (relay), PERIOD=${rows[0]?.result.period_s}s; CPU % of one core`);
console.log(['rate', 'mode', 'leases/s', 'srv cpu%', 'us cpu/lease', 'DO p50', 'DO p99', 'RA p50', 'RA p99', 'lost', 'DO<=20ms', 'bg%'].map((h) => pad(h, 9)).join(' '));
for (const { mode, result: r } of rows) {
  const lost = r.discover_sent - r.ack_rcvd;
  const within = r.answered ? f(r.answered.within_20ms * 100) + '%' : '-';
  console.log([r.offered_rate, mode, f(r.leases_per_s), r.server_cpu_pct, f(usPerLease(r)), r.do_p50_ms, r.do_p99_ms, r.ra_p50_ms, r.ra_p99_ms, lost, within, r.bg_cpu_pct].map((v) => pad(v, 9)).join(' '));
}
console.log('DO<=20ms: DISCOVERs answered within 20 ms, of all sent (an unanswered one counts as late)');
console.log(`\nresults: ${process.argv[2]}`);
JS
