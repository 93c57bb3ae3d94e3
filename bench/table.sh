#!/bin/bash
# The lease table at size (issue 15), Twinlease alone: for each N, a store of N active leases spread
# over one /8 range of 2,031,616 addresses (bench/lib/store-data.ts), then
#   heap     bytes per lease after GC and load CPU, in-process (bench/lib/heap-per-lease.ts)
#   serve    `twinlease serve` on loopback (no root): start-up until the first OFFER, peak RSS,
#            management API latency (lease lists with cursor and filters, statistics, /metrics)
#            and DORA latency at LOAD_RATE/s (bench/lib/serve-probe.ts)
#   storm    the same server with STORM of the N leases expiring in the same second while
#            LOAD_RATE DORA/s go on: DISCOVER→OFFER and REQUEST→ACK p99 around that second
#   dora     (root, DORA=1) DORA CPU per lease and p99 through perfdhcp (../shared/harness, as
#            bench/dora.sh) with an empty store and with the N leases held
# Kea is not run here: bench/scale.sh (issue 15) puts these rows next to Kea 2.2.
#
#   bench/table.sh                                  # N="200000 1000000", ROWS="heap serve storm"
#   N=200000 ROWS=serve bench/table.sh
#   sudo DORA=1 LOCK_FILE=/tmp/twinlease-e2e.lock bench/table.sh
#
# One JSON line per row in bench/results/table-<UTC time>.jsonl. Data in $DATA (/tmp/twinlease-table).
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
H=${HARNESS:-$ROOT/../shared/harness}
N=${N:-200000 1000000}
ROWS=${ROWS-heap serve storm}
LOAD_RATE=${LOAD_RATE:-200} LOAD_SECONDS=${LOAD_SECONDS:-10}
STORM=${STORM:-100000}
DORA=${DORA:-0} DORA_RATE=${DORA_RATE:-2000} DORA_PERIOD=${DORA_PERIOD:-20} DORA_CLIENTS=${DORA_CLIENTS:-10000}
LOCK_FILE=${LOCK_FILE:-}
DATA=${DATA:-/tmp/twinlease-table}
export PFX=${PFX:-dhb}
export WORK=${WORK:-/tmp/$PFX-harness}
mkdir -p "$ROOT/bench/results" "$DATA"
cd "$ROOT"
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/table-$RUN_ID.jsonl
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
TS=(node --import tsx)
with_lock() { if [ -n "$LOCK_FILE" ]; then flock "$LOCK_FILE" "$@"; else "$@"; fi; }
record() { # ROW N JSON
  echo "{\"bench\":\"table\",\"run_id\":\"$RUN_ID\",\"rev\":\"$REV\",\"leases\":$2,\"row\":\"$1\",\"result\":$3}" >>"$OUT"
  echo "$1 N=$2: $3" >&2
}
# loopback_config DB FILE: DHCP on 127.0.0.1:16767 for relays at 127.0.0.2, API on 127.0.0.1:18067
loopback_config() {
  cat >"$2" <<J
{
  "server": { "name": "tl-scale", "serverIdentifier": "127.0.0.1" },
  "dhcp": { "listenAddress": "127.0.0.1", "port": 16767, "clientPort": 16768, "broadcastAddress": "127.255.255.255" },
  "leaseStore": { "path": "$1" },
  "logging": { "level": "warn" },
  "api": { "listenAddress": "127.0.0.1", "port": 18067, "tokens": [{ "name": "bench", "token": "bench-token-0123456789" }] },
  "scopes": [{ "subnet": "10.0.0.0/8", "ranges": [{ "start": "10.1.0.0", "end": "10.31.255.255" }],
               "relayAddresses": ["127.0.0.2"], "leaseTimeSeconds": 86400 }]
}
J
}
# harness_config DB FILE: as bench/scale.sh, in the harness's server namespace
harness_config() {
  cat >"$2" <<J
{
  "server": { "name": "tl-scale", "serverIdentifier": "10.77.0.1" },
  "dhcp": { "interface": "eth0", "broadcastAddress": "10.77.255.255" },
  "leaseStore": { "path": "$1" },
  "logging": { "level": "warn" },
  "scopes": [{ "subnet": "10.0.0.0/8", "ranges": [{ "start": "10.1.0.0", "end": "10.31.255.255" }], "leaseTimeSeconds": 86400 }]
}
J
}

echo "building dist/ ..." >&2
npx tsc -p tsconfig.build.json
for n in $N; do
  store=$DATA/store-$n.db
  if [ ! -f "$store" ]; then
    echo "generating $n leases ..." >&2
    "${TS[@]}" bench/lib/store-data.ts --out "$store" --leases "$n" >&2
  fi
  for row in $ROWS; do
    case $row in
      heap)
        cp "$store" "$DATA/run.db"; rm -f "$DATA"/run.db-*
        loopback_config "$DATA/run.db" "$DATA/loopback.json"
        record heap "$n" "$(node --expose-gc --import tsx bench/lib/heap-per-lease.ts --config "$DATA/loopback.json" | tail -1)"
        ;;
      serve)
        cp "$store" "$DATA/run.db"; rm -f "$DATA"/run.db-*
        loopback_config "$DATA/run.db" "$DATA/loopback.json"
        record serve "$n" "$("${TS[@]}" bench/lib/serve-probe.ts --config "$DATA/loopback.json" --log "$DATA/serve-$n.log" \
          --load-rate "$LOAD_RATE" --load-seconds "$LOAD_SECONDS" | tail -1)"
        ;;
      storm)
        # STORM of the leases end together, far enough ahead for the server to be up and loaded.
        at=$(($(date +%s) + 60 + n / 20000))
        "${TS[@]}" bench/lib/store-data.ts --out "$DATA/storm.db" --leases "$n" --expiring "$STORM" --expiring-at "$at" >&2
        loopback_config "$DATA/storm.db" "$DATA/storm.json"
        record storm "$n" "$("${TS[@]}" bench/lib/serve-probe.ts --config "$DATA/storm.json" --log "$DATA/storm-$n.log" \
          --skip-api --load-rate "$LOAD_RATE" --load-until $((at + 12)) --storm-at "$at" | tail -1)"
        ;;
      *) echo "unknown row $row" >&2; exit 2 ;;
    esac
  done
  if [ "$DORA" = 1 ]; then
    for size in empty size; do
      rm -f "$DATA"/dora.db*
      [ "$size" = size ] && cp "$store" "$DATA/dora.db"
      harness_config "$DATA/dora.db" "$DATA/dora.json"
      line=$(RATE=$DORA_RATE PERIOD=$DORA_PERIOD CLIENTS=$DORA_CLIENTS STARTUP_S=300 \
        with_lock "$H/perfdhcp-run.sh" "table-$size-$n" "node $ROOT/bin/twinlease.js serve --config $DATA/dora.json" | grep '^{' | tail -1) || true
      [ -n "$line" ] && record "dora-$size" "$n" "$line"
    done
  fi
done
echo "results: $OUT" >&2
