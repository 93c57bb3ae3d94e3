#!/bin/bash
# Twinlease at ISP size (issue 15) against Kea 2.2 memfile, in one invocation: one /8 scope with a
# range of 2,031,616 addresses (10.1.0.0–10.31.255.255) and N active leases, one per client.
#
#   sudo bench/scale.sh                        # N=1000000: all rows (~10 min)
#   sudo N=50000 ROWS="import startup" bench/scale.sh
#   sudo LOCK_FILE=/tmp/twinlease-e2e.lock bench/scale.sh   # hold that lock around each server run
#
# Rows (ROWS, default "import startup dora"):
#   import   `twinlease import dhcpd` of the generated dhcpd.leases: wall time, CPU, peak RSS,
#            leases/s (Twinlease only; Kea has no such import).
#   startup  process start → first DHCPOFFER for a probe DISCOVER sent every 20 ms (the same
#            definition for both servers: bench/lib/startup-probe.ts), CPU until then, peak RSS
#            (VmHWM) 3 s after serving. STARTUP_REPEAT runs per server, alternating.
#            STARTUP_SERVERS (default "kea twinlease") and DORA_SERVERS choose the servers of
#            those rows (A/B runs of two Twinlease builds need Kea only once).
#   dora     DORA through perfdhcp (../shared/harness/perfdhcp-run.sh, as bench/dora.sh) at
#            DORA_RATE with the N leases held and with an empty store: CPU per lease and p99 at
#            size against empty, per server.
#   updreqall  a partner that lost its store recovers the N bindings from the primary (UPDREQALL)
#            while the primary serves DORA on loopback (Twinlease only): bench/lib/updreqall-probe.ts.
#   expiry-storm  100,000 (STORM) of the N leases end in the same second while perfdhcp runs DORA at
#            STORM_RATE: DO and RA p50/p99/max in the storm's window and in a control window, and
#            the leases each server reclaimed meanwhile (see row_expiry_storm).
#   management  management API at size: pages of 1000 leases (first, deep by cursor), a filtered
#            listing, scope statistics, /metrics; p50/max of MANAGEMENT_REPEAT each; Kea's
#            lease4-get-page etc. on its control socket (see row_management).
#
# REUSE_DATA=1 keeps the lease files a previous run left in $DATA (same N) instead of writing them
# again; SKIP_BUILD=1 runs dist/ as it is (alternating runs of one build).
#
# Every result is one JSON line in bench/results/scale-<UTC time>.jsonl; the table at the end is
# made from that file. Data and logs stay in $DATA (default /tmp/twinlease-scale).
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
H=${HARNESS:-$ROOT/../shared/harness}
N=${N:-1000000}
ROWS=${ROWS:-import startup dora}
STARTUP_REPEAT=${STARTUP_REPEAT:-1}
STARTUP_TIMEOUT_S=${STARTUP_TIMEOUT_S:-600}
DORA_RATE=${DORA_RATE:-2000} DORA_PERIOD=${DORA_PERIOD:-20} DORA_CLIENTS=${DORA_CLIENTS:-10000}
LOCK_FILE=${LOCK_FILE:-}
export PFX=${PFX:-dhb}
export WORK=${WORK:-/tmp/$PFX-harness}
DATA=${DATA:-/tmp/twinlease-scale}
NS_SRV=$PFX-srv NS_CLI=$PFX-cli
mkdir -p "$ROOT/bench/results" "$DATA"
cd "$ROOT" # tsx resolves from the working directory
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/scale-$RUN_ID.jsonl
REV=${REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
NODE_TS=(node --import tsx)
needs_root() { [ "$(id -u)" = 0 ] || { echo "rows '$ROWS' need root (network namespaces, port 67)" >&2; exit 1; }; }
case " $ROWS " in *" startup "* | *" dora "* | *" expiry-storm "*) needs_root ;; esac

# with_lock CMD... : run CMD holding LOCK_FILE when one is given (shared machines: one harness user
# at a time), so the lock is held only while a server runs, not while data is generated.
with_lock() { if [ -n "$LOCK_FILE" ]; then flock "$LOCK_FILE" "$@"; else "$@"; fi; }

# record ROW SERVER JSON : append one tagged result line
record() {
  echo "{\"bench\":\"scale\",\"run_id\":\"$RUN_ID\",\"rev\":\"$REV\",\"leases\":$N,\"row\":\"$1\",\"server\":\"$2\",\"result\":$3}" >>"$OUT"
  echo "$1 $2: $3" >&2
}

# ---------------------------------------------------------------------------------------------
# Data: dhcpd.conf + dhcpd.leases (import row), Kea memfile CSV, Twinlease store (via the import)

if [ "${SKIP_BUILD:-0}" = 1 ]; then echo "SKIP_BUILD=1: dist/ as it is" >&2; else
  echo "building dist/ ..." >&2
  (cd "$ROOT" && npx tsc -p tsconfig.build.json)
fi
NOW=$(date +%s)
# REUSE_DATA=1: keep the files a previous run wrote into $DATA for the same N (their leases end
# 12-24 h after that run; the expiry-storm row writes its own store from the current time anyway).
if [ "${REUSE_DATA:-0}" = 1 ] && [ -f "$DATA/dhcpd.leases" ] && grep -q "\"leases\":$N[,}]" "$DATA/data.json" 2>/dev/null; then
  echo "reusing the $N leases in $DATA" >&2
else
  echo "generating $N leases in $DATA ..." >&2
  (cd "$ROOT" && "${NODE_TS[@]}" bench/lib/scale-data.ts --out "$DATA" --leases "$N" --now "$NOW") >"$DATA/data.json"
  cat "$DATA/data.json" >&2
  # The ~400 MB just written are still being flushed by the kernel: wait for that here, so it does
  # not run during the import row (which reads the same file) or the first server's start-up.
  sync
fi

# The store every Twinlease run starts from: the import's output (also the import row).
import_store() {
  rm -f "$DATA"/imported.db* "$DATA/imported.json"
  /usr/bin/time -v node "$ROOT/bin/twinlease.js" import dhcpd --conf "$DATA/dhcpd.conf" \
    --leases "$DATA/dhcpd.leases" --lease-db "$DATA/imported.db" --out "$DATA/imported.json" \
    2>"$DATA/import.log" || { tail -20 "$DATA/import.log" >&2; exit 1; }
  awk -v n="$N" -v bytes="$(stat -c %s "$DATA/dhcpd.leases")" '
    /Elapsed \(wall clock\)/ { split($NF, t, ":"); wall = (length(t) == 3) ? t[1] * 3600 + t[2] * 60 + t[3] : t[1] * 60 + t[2] }
    /User time/ { user = $NF } /System time/ { sys = $NF } /Maximum resident/ { rss = $NF }
    END { printf "{\"seconds\":%.2f,\"user_s\":%s,\"sys_s\":%s,\"max_rss_kb\":%d,\"leases_per_s\":%.0f,\"file_bytes\":%d}\n",
          wall, user, sys, rss, (wall > 0 ? n / wall : 0), bytes }' "$DATA/import.log"
}

row_import() {
  local line
  line=$(import_store) || exit 1
  record import twinlease "$line"
}

# ---------------------------------------------------------------------------------------------
# Server commands (configs written into $DATA/run; each run starts from fresh copies)

RUN=$DATA/run
mkdir -p "$RUN"
# prepare SERVER size|empty : fresh lease database for one run; prints the server command
prepare() {
  local server=$1 size=$2
  case $server in
    twinlease)
      rm -f "$RUN"/twinlease.db*
      [ "$size" = size ] && cp "$DATA/imported.db" "$RUN/twinlease.db"
      [ "$size" = storm ] && mv "$DATA/storm.db" "$RUN/twinlease.db"
      local api=''
      [ "$size" = storm ] && api='"api": { "listenAddress": "127.0.0.1", "port": 18067, "tokens": [{ "name": "bench", "token": "bench-token-0123456789" }] },'
      cat >"$RUN/twinlease.json" <<J
{
  "server": { "name": "tl-scale", "serverIdentifier": "10.77.0.1" },
  "dhcp": { "interface": "eth0", "broadcastAddress": "10.77.255.255"${TL_WARM_UP:+, \"warmUp\": $TL_WARM_UP} },
  "leaseStore": { "path": "$RUN/twinlease.db", "writerThread": ${TL_WRITER_THREAD:-false} },
  "logging": { "level": "warn" },
  $api
  "scopes": [
    {
      "subnet": "10.0.0.0/8",
      "ranges": [{ "start": "10.1.0.0", "end": "10.31.255.255" }],
      "leaseTimeSeconds": 86400
    }
  ]
}
J
      echo "node ${TL_NODE_ARGS:-} $ROOT/bin/twinlease.js serve --config $RUN/twinlease.json"
      ;;
    kea)
      rm -rf "$RUN/kea"
      mkdir -p "$RUN/kea"
      case $size in
        size) cp "$DATA/kea-leases4.csv" "$RUN/kea/leases4.csv" ;;
        storm) mv "$DATA/storm-kea-leases4.csv" "$RUN/kea/leases4.csv" ;;
        *) head -1 "$DATA/kea-leases4.csv" >"$RUN/kea/leases4.csv" ;;
      esac
      local extra=''
      [ "$size" = storm ] && extra="\"expired-leases-processing\": $STORM_KEA_RECLAIM, \"control-socket\": {\"socket-type\": \"unix\", \"socket-name\": \"$RUN/kea/ctrl.sock\"},"
      cat >"$RUN/kea/kea.json" <<J
{"Dhcp4": {
  "interfaces-config": {"interfaces": ["eth0"], "dhcp-socket-type": "raw"},
  "lease-database": {"type": "memfile", "persist": true, "name": "$RUN/kea/leases4.csv", "lfc-interval": 0},
  "multi-threading": {"enable-multi-threading": false},
  $extra
  "valid-lifetime": 86400,
  "subnet4": [{"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": "10.1.0.0 - 10.31.255.255"}]}],
  "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "$RUN/kea/kea.log"}], "severity": "WARN"}]
}}
J
      kea-dhcp4 -t "$RUN/kea/kea.json" >"$RUN/kea/check.log" 2>&1 || { tail -3 "$RUN/kea/check.log" >&2; exit 1; }
      echo "env KEA_PIDFILE_DIR=$RUN/kea KEA_LOCKFILE_DIR=$RUN/kea kea-dhcp4 -c $RUN/kea/kea.json"
      ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Rows

row_startup() {
  "$H/netns-up.sh" >/dev/null
  local i server cmd line
  for i in $(seq "$STARTUP_REPEAT"); do
    for server in ${STARTUP_SERVERS:-kea twinlease}; do
      cmd=$(prepare "$server" size)
      line=$(with_lock ip netns exec "$NS_CLI" taskset -c 1 "${NODE_TS[@]}" "$ROOT/bench/lib/startup-probe.ts" \
        --name "$server" --ns "$NS_SRV" --cmd "$cmd" --cpus 0 --timeout-s "$STARTUP_TIMEOUT_S" \
        --log "$RUN/$server-startup-$i.log" | grep '^{' | tail -1) || true
      [ -n "$line" ] || { echo "startup $server: no result (log: $RUN/$server-startup-$i.log)" >&2; continue; }
      [ "$server" = twinlease ] && line="${line%\}},\"warm_up\":${TL_WARM_UP:-null},\"node_args\":\"${TL_NODE_ARGS:-}\"}"
      record startup "$server" "$line"
    done
  done
}

# DORA CPU per lease and latency with N leases held and with none, per server, at one rate.
row_dora() {
  local server size cmd line
  for size in empty size; do
    for server in ${DORA_SERVERS:-kea twinlease}; do
      cmd=$(prepare "$server" "$size")
      line=$(RATE=$DORA_RATE PERIOD=$DORA_PERIOD CLIENTS=$DORA_CLIENTS STARTUP_S=$STARTUP_TIMEOUT_S \
        with_lock "$H/perfdhcp-run.sh" "scale-$server-$size" "$cmd" | grep '^{' | tail -1) || true
      [ -n "$line" ] || { echo "dora $server $size: no result" >&2; continue; }
      record "dora-$size" "$server" "$line"
    done
  done
}

# Management at size (issue 15: lease listing < 100 ms at 1M, statistics never recounted, /metrics
# < 100 ms): each server holds the N leases and answers MANAGEMENT_REPEAT of each request, one at a
# time, 2 s after it is ready; p50 (median) and max per request. Twinlease on loopback
# (bench/lib/serve-probe.ts --api management: pages of 1000 leases from the start and from
# 10.30.0.0 by cursor, ?hostname=, a scope's active leases, scope statistics, all statistics,
# /metrics). Kea 2.2 on its own control socket with the lease_cmds hook
# (bench/lib/kea-management-probe.ts: lease4-get-page from the start and from 10.30.0.0,
# lease4-get-by-hostname, statistic-get of the subnet's assigned addresses, statistic-get-all; Kea
# has no /metrics of its own). No DHCP traffic meanwhile.
MANAGEMENT_REPEAT=${MANAGEMENT_REPEAT:-20}
KEA_LEASE_CMDS=${KEA_LEASE_CMDS:-/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so}
row_management() {
  local line
  rm -f "$RUN"/management.db*
  cp "$DATA/imported.db" "$RUN/management.db"
  cat >"$RUN/management.json" <<J
{
  "server": { "name": "tl-scale", "serverIdentifier": "127.0.0.1" },
  "dhcp": { "listenAddress": "127.0.0.1", "port": 16767, "clientPort": 16768, "broadcastAddress": "127.255.255.255" },
  "leaseStore": { "path": "$RUN/management.db" },
  "logging": { "level": "warn" },
  "api": { "listenAddress": "127.0.0.1", "port": 18067, "tokens": [{ "name": "bench", "token": "bench-token-0123456789" }] },
  "scopes": [{ "subnet": "10.0.0.0/8", "ranges": [{ "start": "10.1.0.0", "end": "10.31.255.255" }],
               "relayAddresses": ["127.0.0.2"], "leaseTimeSeconds": 86400 }]
}
J
  line=$(with_lock "${NODE_TS[@]}" bench/lib/serve-probe.ts --config "$RUN/management.json" --api management \
    --api-repeat "$MANAGEMENT_REPEAT" --node-args "${TL_NODE_ARGS:-}" --log "$RUN/management-twinlease.log" | grep '^{' | tail -1) || true
  if [ -n "$line" ]; then record management twinlease "$line"; else echo "management twinlease: no result" >&2; fi
  if [ ! -f "$KEA_LEASE_CMDS" ]; then echo "management kea: no lease_cmds hook at $KEA_LEASE_CMDS" >&2; return 0; fi
  rm -rf "$RUN/kea-mgmt"
  mkdir -p "$RUN/kea-mgmt"
  cp "$DATA/kea-leases4.csv" "$RUN/kea-mgmt/leases4.csv"
  cat >"$RUN/kea-mgmt/kea.json" <<J
{"Dhcp4": {
  "interfaces-config": {"interfaces": []},
  "lease-database": {"type": "memfile", "persist": true, "name": "$RUN/kea-mgmt/leases4.csv", "lfc-interval": 0},
  "multi-threading": {"enable-multi-threading": false},
  "control-socket": {"socket-type": "unix", "socket-name": "$RUN/kea-mgmt/ctrl.sock"},
  "hooks-libraries": [{"library": "$KEA_LEASE_CMDS"}],
  "valid-lifetime": 86400,
  "subnet4": [{"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": "10.1.0.0 - 10.31.255.255"}]}],
  "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "$RUN/kea-mgmt/kea.log"}], "severity": "WARN"}]
}}
J
  # start-up and the requests must follow each other: hold the lock around both
  local fd kea
  if [ -n "$LOCK_FILE" ]; then exec {fd}>>"$LOCK_FILE"; flock "$fd"; fi
  env KEA_PIDFILE_DIR="$RUN/kea-mgmt" KEA_LOCKFILE_DIR="$RUN/kea-mgmt" kea-dhcp4 -c "$RUN/kea-mgmt/kea.json" \
    >"$RUN/kea-mgmt/stdout.log" 2>&1 &
  kea=$!
  line=$("${NODE_TS[@]}" bench/lib/kea-management-probe.ts --socket "$RUN/kea-mgmt/ctrl.sock" \
    --repeat "$MANAGEMENT_REPEAT" --timeout-s "$STARTUP_TIMEOUT_S" | grep '^{' | tail -1) || true
  kill "$kea" 2>/dev/null || true
  wait "$kea" 2>/dev/null || true
  if [ -n "$LOCK_FILE" ]; then exec {fd}>&-; fi
  if [ -n "$line" ]; then record management kea "$line"; else echo "management kea: no result (log: $RUN/kea-mgmt/)" >&2; fi
}
# A partner that lost its store recovers the N bindings (UPDREQALL) from the primary, which serves
# UPDREQALL_RATE DORA/s of new clients meanwhile: two Twinlease servers on loopback
# (bench/lib/updreqall-probe.ts; no namespaces). Kea HA is not run here: its lost-store recovery
# is a different mechanism (ha-sync paging lease4-get-page over HTTP), not measured yet.
row_updreqall() {
  local side a pa role api pname name line
  for side in primary secondary; do
    if [ $side = primary ]; then a=127.0.0.1 pa=127.0.0.3 role=primary api=18167 name=tl-p pname=tl-s
    else a=127.0.0.3 pa=127.0.0.1 role=secondary api=18168 name=tl-s pname=tl-p; fi
    cat >"$DATA/updreqall-$side.json" <<J
{
  "server": { "name": "$name", "serverIdentifier": "$a" },
  "dhcp": { "listenAddress": "$a", "port": 16867, "clientPort": 16868, "broadcastAddress": "127.255.255.255" },
  "leaseStore": { "path": "$DATA/updreqall-$side.db" },
  "logging": { "level": "warn" },
  "api": { "listenAddress": "127.0.0.1", "port": $api, "tokens": [{ "name": "bench", "token": "bench-token-0123456789" }] },
  "scopes": [{ "subnet": "10.0.0.0/8", "ranges": [{ "start": "10.1.0.0", "end": "10.31.255.255" }],
               "relayAddresses": ["127.0.0.2"], "leaseTimeSeconds": 86400 }],
  "failover": [{ "name": "scale", "role": "$role", "mode": "loadBalance", "loadBalancePercent": 50, "mcltSeconds": 3600,
     "local": { "address": "$a", "port": 16847 }, "partner": { "address": "$pa", "port": 16847, "name": "$pname" },
     "scopeIds": ["10.0.0.0"] }]
}
J
  done
  rm -f "$DATA"/updreqall-*.db* "$DATA"/updreqall-*.log
  cp "$DATA/imported.db" "$DATA/updreqall-primary.db"
  line=$(with_lock "${NODE_TS[@]}" "$ROOT/bench/lib/updreqall-probe.ts" --leases "$N" \
    --primary-config "$DATA/updreqall-primary.json" --secondary-config "$DATA/updreqall-secondary.json" \
    --load-rate "${UPDREQALL_RATE:-200}" --log-dir "$DATA" | grep '^{' | tail -1) || true
  [ -n "$line" ] || { echo "updreqall: no result (logs: $DATA/updreqall-*.log)" >&2; return 0; }
  record updreqall twinlease "$line"
}
# STORM of the N leases end in the same second (at), STORM_BEFORE_S after the data is written
# (generation + start-up + STORM_BEFORE_S of load before the storm must fit in STORM_LEAD_S), while
# perfdhcp runs DORA at STORM_RATE/s (new clients) from serving until STORM_AFTER_S after it.
# DISCOVER→OFFER and REQUEST→ACK p50/p99/max of the exchanges sent in [at, at + STORM_WINDOW_S)
# and in a control window of the same length ending 4 s before at (bench/lib/storm-windows.ts).
# The servers' own counters of reclaimed leases are read 2 s before at and right after the window
# (never inside a measured window): Twinlease's twinlease_dhcp4_leases_reclaimed_total (/metrics),
# Kea's reclaimed-leases (statistic-get on its control socket). Kea reclaims in its own cycle:
# STORM_KEA_RECLAIM (expired-leases-processing) defaults to every second, no limit on count or time
# per cycle, so it can reclaim them in that second as Twinlease does (Kea's default, 100 leases per
# 250 ms every 10 s, would take ~2.8 h for 100,000). STORM_SERVERS="twinlease" runs one server only;
# TL_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to Twinlease's node in any row;
# TL_WRITER_THREAD=true sets leaseStore.writerThread in the namespaced rows (startup, dora, storm);
# TL_WARM_UP (e.g. '{"exchanges": 0}': none) sets dhcp.warmUp in them.
STORM=${STORM:-100000} STORM_RATE=${STORM_RATE:-1000} STORM_CLIENTS=${STORM_CLIENTS:-10000}
STORM_BEFORE_S=${STORM_BEFORE_S:-12} STORM_AFTER_S=${STORM_AFTER_S:-8} STORM_WINDOW_S=${STORM_WINDOW_S:-3}
STORM_LEAD_S=${STORM_LEAD_S:-$((STORM_BEFORE_S + 20 + N / 15000))}
STORM_KEA_RECLAIM=${STORM_KEA_RECLAIM:-'{"reclaim-timer-wait-time": 1, "max-reclaim-leases": 0, "max-reclaim-time": 0, "hold-reclaimed-time": 3600, "flush-reclaimed-timer-wait-time": 25, "unwarned-reclaim-cycles": 5}'}

# reclaimed_count SERVER : the server's count of leases reclaimed by its timer so far
reclaimed_count() {
  case $1 in
    twinlease) ip netns exec "$NS_SRV" curl -s -m 5 http://127.0.0.1:18067/metrics |
      awk '/^twinlease_dhcp4_leases_reclaimed_total / { print $2 }' ;;
    kea) node -e 'const s = require("net").connect(process.argv[1]); let b = "";
      s.on("data", (d) => (b += d)); s.on("error", () => {});
      s.on("end", () => { try { console.log(JSON.parse(b).arguments["reclaimed-leases"][0][0]); } catch { console.log(""); } });
      s.write(JSON.stringify({ command: "statistic-get", arguments: { name: "reclaimed-leases" } }));' "$RUN/kea/ctrl.sock" ;;
  esac
}

# peak_rss_kb SERVER : the server's peak RSS so far (VmHWM, kB; the largest of its processes)
peak_rss_kb() {
  local pattern pid kb max=0
  case $1 in
    twinlease) pattern="twinlease.js serve --config $RUN/twinlease.json" ;;
    kea) pattern="kea-dhcp4 -c $RUN/kea/kea.json" ;;
  esac
  for pid in $(pgrep -f -- "$pattern"); do
    kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$kb" ] && [ "$kb" -gt "$max" ] && max=$kb
  done
  echo "$max"
}

# storm_data SERVER AT : a store of N leases of which STORM end at AT (the same leases for both)
storm_data() {
  case $1 in
    twinlease)
      "${NODE_TS[@]}" bench/lib/store-data.ts --out "$DATA/storm.db" --leases "$N" --now "$NOW" \
        --expiring "$STORM" --expiring-at "$2" >&2 ;;
    kea) # bench/lib/store-data.ts's choice: every (N/STORM)-th lease, the first STORM of them
      awk -F, -v OFS=, -v n="$N" -v k="$STORM" -v at="$2" '
        BEGIN { every = int(n / k); if (every < 1) every = 1 }
        NR > 1 { i = NR - 2; if (i % every == 0 && i / every < k) $5 = at } { print }' \
        "$DATA/kea-leases4.csv" >"$DATA/storm-kea-leases4.csv" ;;
  esac
}

storm_run() {
  local server=$1 at cmd line period wait_s log started windows
  at=$(($(date +%s) + STORM_LEAD_S))
  storm_data "$server" "$at"
  cmd=$(prepare "$server" storm)
  # perfdhcp's -x t times count from its start: note that start in wall-clock time
  mkdir -p "$RUN/storm-bin"
  printf '#!/bin/bash\ndate +%%s.%%N >%s\nexec %s "$@"\n' "$RUN/storm-perfdhcp-started" "$(command -v perfdhcp)" >"$RUN/storm-bin/perfdhcp"
  chmod +x "$RUN/storm-bin/perfdhcp"
  rm -f "$RUN/storm-perfdhcp-started" "$RUN/storm-reclaimed" "$RUN/storm-vmhwm"
  period=$((at + STORM_AFTER_S - $(date +%s)))
  ( # reclaim counter 2 s before the storm and right after the window (outside both windows)
    for t in $((at - 2)) $((at + STORM_WINDOW_S)) $((at + STORM_WINDOW_S + 3)); do
      wait_s=$((t - $(date +%s))); [ "$wait_s" -gt 0 ] && sleep "$wait_s"
      echo "$(date +%s.%N) $(reclaimed_count "$server")" >>"$RUN/storm-reclaimed"
    done
    peak_rss_kb "$server" >"$RUN/storm-vmhwm"
  ) &
  local poller=$!
  line=$(PATH=$RUN/storm-bin:$PATH RATE=$STORM_RATE PERIOD=$period CLIENTS=$STORM_CLIENTS STARTUP_S=$STORM_LEAD_S \
    BG_WAIT_S=0 "$H/perfdhcp-run.sh" "scale-storm-$server" "$cmd" 2>"$RUN/storm-$server.err" | grep '^{' | tail -1) || true
  wait "$poller" || true
  log=$(sed -n 's/^logs: //p' "$RUN/storm-$server.err" | tail -1)
  started=$(cat "$RUN/storm-perfdhcp-started" 2>/dev/null || true)
  if [ -z "$line" ] || [ -z "$log" ] || [ -z "$started" ]; then
    tail -5 "$RUN/storm-$server.err" >&2; echo "expiry-storm $server: no result" >&2; return 0
  fi
  windows=$("${NODE_TS[@]}" bench/lib/storm-windows.ts --perfdhcp "$log/perfdhcp.out" --started-at "$started" \
    --storm-at "$at" --window-s "$STORM_WINDOW_S" --rate "$STORM_RATE" --reclaimed "$RUN/storm-reclaimed")
  local settings='null'
  [ "$server" = kea ] && settings=$STORM_KEA_RECLAIM
  local vmhwm node_args=''
  vmhwm=$(cat "$RUN/storm-vmhwm" 2>/dev/null || true)
  [ "$server" = twinlease ] && node_args=${TL_NODE_ARGS:-}
  record expiry-storm "$server" "{\"storm_leases\":$STORM,\"kea_expired_leases_processing\":$settings,\"node_args\":\"$node_args\",\"vmhwm_kb\":${vmhwm:-null},\"windows\":$windows,\"perfdhcp\":$line}"
}

row_expiry_storm() {
  "$H/netns-up.sh" >/dev/null
  local server fd
  for server in ${STORM_SERVERS:-kea twinlease}; do
    # generation, start-up and load must follow each other: hold the lock around all three
    if [ -n "$LOCK_FILE" ]; then exec {fd}>>"$LOCK_FILE"; flock "$fd"; fi
    storm_run "$server"
    if [ -n "$LOCK_FILE" ]; then exec {fd}>&-; fi
  done
}

# The store is needed by every Twinlease run: without the import row, make it silently.
case " $ROWS " in
  *" import "*) row_import ;;
  *" startup "* | *" dora "* | *" updreqall "* | *" management "*) import_store >/dev/null || exit 1 ;;
esac # (the expiry-storm row writes its own store)
for row in $ROWS; do
  case $row in
    import) ;;
    startup) row_startup ;;
    dora) row_dora ;;
    management) row_management ;;
    updreqall) row_updreqall ;;
    expiry-storm) row_expiry_storm ;;
    *) echo "unknown row '$row'" >&2; exit 2 ;;
  esac
done

# ---------------------------------------------------------------------------------------------
# Table

node - "$OUT" "$DATA/data.json" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const data = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const mb = (kb) => f(kb / 1024, 0);
const pick = (row, server) => rows.filter((r) => r.row === row && r.server === server).map((r) => r.result);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `x${f(a / b, 2)}` : '-');
const line = (label, t, k, r) => console.log(`${label.padEnd(40)}${String(t).padStart(24)}${String(k).padStart(24)}${String(r).padStart(8)}`);
/** Every run's figure (a shared host varies a lot), e.g. "61.2 / 58.0 s"; the ratio uses the lowest. */
const runs = (xs, d, unit) => (xs.filter(Number.isFinite).length ? `${xs.filter(Number.isFinite).map((x) => f(x, d)).join(' / ')}${unit}` : '-');
const low = (xs) => Math.min(...xs.filter(Number.isFinite));
console.log(`\nscale: ${data.leases} active leases, one /8 scope, range 10.1.0.0-10.31.255.255 (${rows[0]?.rev ?? ''}, ${rows[0]?.run_id ?? ''})`);
line('', 'twinlease', 'kea 2.2 memfile', 'ratio');
const imp = pick('import', 'twinlease')[0];
if (imp) {
  line(`import dhcpd.leases (${f(data.dhcpd_leases_bytes / 1e6, 0)} MB)`, `${f(imp.seconds, 1)} s`, '-', '');
  line('  leases/s, CPU s, peak RSS', `${f(imp.leases_per_s, 0)}/s ${f(imp.user_s + imp.sys_s, 1)} s ${mb(imp.max_rss_kb)} MB`, '-', '');
}
const st = { twinlease: pick('startup', 'twinlease'), kea: pick('startup', 'kea') };
if (st.twinlease.length || st.kea.length) {
  const all = (s, k) => st[s].map((r) => r[k]);
  const err = [...st.twinlease, ...st.kea].filter((r) => r.error).map((r) => `${r.name}: ${r.error}`);
  line('start-up until serving (each run)', runs(all('twinlease', 'serving_s'), 1, ' s'), runs(all('kea', 'serving_s'), 1, ' s'), ratio(low(all('twinlease', 'serving_s')), low(all('kea', 'serving_s'))));
  line('  CPU until serving', runs(all('twinlease', 'cpu_s'), 1, ' s'), runs(all('kea', 'cpu_s'), 1, ' s'), ratio(low(all('twinlease', 'cpu_s')), low(all('kea', 'cpu_s'))));
  line('  rest of the host before start (% core)', runs(all('twinlease', 'bg_cpu_pct'), 0, ''), runs(all('kea', 'bg_cpu_pct'), 0, ''), '');
  line('peak RSS (VmHWM, 3 s after serving)', runs(all('twinlease', 'vmhwm_kb').map((k) => k / 1024), 0, ' MB'), runs(all('kea', 'vmhwm_kb').map((k) => k / 1024), 0, ' MB'), ratio(low(all('twinlease', 'vmhwm_kb')), low(all('kea', 'vmhwm_kb'))));
  line('  bytes per lease (VmHWM / N)', f((low(all('twinlease', 'vmhwm_kb')) * 1024) / data.leases, 0), f((low(all('kea', 'vmhwm_kb')) * 1024) / data.leases, 0), '');
  for (const e of err) console.log(`  ! ${e}`);
}
const us = (r) => (r && r.leases_per_s > 0 ? ((r.server_cpu_pct / 100) * 1e6) / r.leases_per_s : NaN);
const de = { twinlease: pick('dora-empty', 'twinlease')[0], kea: pick('dora-empty', 'kea')[0] };
const ds = { twinlease: pick('dora-size', 'twinlease')[0], kea: pick('dora-size', 'kea')[0] };
if (de.twinlease || de.kea || ds.twinlease || ds.kea) {
  const rate = (de.kea ?? de.twinlease ?? ds.kea ?? ds.twinlease).offered_rate;
  const pair = (a, b, d = 1) => `${f(a, d)} / ${f(b, d)}`;
  line(`DORA at ${rate}/s: CPU us/lease, empty`, f(us(de.twinlease)), f(us(de.kea)), ratio(us(de.twinlease), us(de.kea)));
  line(`  with ${data.leases} leases held`, f(us(ds.twinlease)), f(us(ds.kea)), ratio(us(ds.twinlease), us(ds.kea)));
  line('  at size / empty', ratio(us(ds.twinlease), us(de.twinlease)), ratio(us(ds.kea), us(de.kea)), '');
  line('  RA p99 ms, empty / at size', pair(de.twinlease?.ra_p99_ms, ds.twinlease?.ra_p99_ms), pair(de.kea?.ra_p99_ms, ds.kea?.ra_p99_ms), '');
  line('  leases/s, empty / at size', pair(de.twinlease?.leases_per_s, ds.twinlease?.leases_per_s, 0), pair(de.kea?.leases_per_s, ds.kea?.leases_per_s, 0), '');
  line('  rest of the host (% core), empty / size', pair(de.twinlease?.bg_cpu_pct, ds.twinlease?.bg_cpu_pct, 0), pair(de.kea?.bg_cpu_pct, ds.kea?.bg_cpu_pct, 0), '');
  if ([de.twinlease, de.kea, ds.twinlease, ds.kea].some((r) => r && r.bg_cpu_pct > 50))
    console.log('  ! the host was busy with other work during some DORA runs (bg > 50 % of a core): rerun those');
}
const up = pick('updreqall', 'twinlease')[0];
if (up) {
  line('UPDREQALL: lost store recovered (s)', `${f(up.recovery_s, 1)} s`, '-', '');
  line('  bindings/s; CPU s primary / secondary', `${f(up.bindings_per_s, 0)}/s ${f(up.cpu.primary_s, 1)} / ${f(up.cpu.secondary_s, 1)}`, '-', '');
  line(`  DORA at ${up.load_rate}/s meanwhile, DO / RA p99`, `${f(up.during_recovery.do_p99_ms)} / ${f(up.during_recovery.ra_p99_ms)} ms`, '-', '');
}
const storm = { twinlease: pick('expiry-storm', 'twinlease')[0], kea: pick('expiry-storm', 'kea')[0] };
if (storm.twinlease || storm.kea) {
  const w = (r, k) => r?.windows?.[k];
  const trio = (x) => (x ? `${f(x.p50_ms)}/${f(x.p99_ms)}/${f(x.max_ms)}` : '-');
  const lost = (x) => (x ? x.unanswered : '-');
  const some = storm.twinlease ?? storm.kea;
  line(`expiry storm: ${some.storm_leases} end in 1 s, DORA ${some.perfdhcp.offered_rate}/s`, '', '', '');
  line('  reclaimed in [at-2 s, at+window]', f(w(storm.twinlease, 'reclaimed')?.in_window, 0), f(w(storm.kea, 'reclaimed')?.in_window, 0), '');
  for (const [k, label] of [['do', 'DO'], ['ra', 'RA']]) {
    line(`  ${label} p50/p99/max ms, control`, trio(w(storm.twinlease, `${k}_control`)), trio(w(storm.kea, `${k}_control`)), '');
    line(`  ${label} p50/p99/max ms, storm (${some.windows.window_s} s)`, trio(w(storm.twinlease, `${k}_storm`)), trio(w(storm.kea, `${k}_storm`)),
      ratio(w(storm.twinlease, `${k}_storm`)?.p99_ms, w(storm.kea, `${k}_storm`)?.p99_ms));
  }
  line('  peak RSS (VmHWM at the window\'s end + 3 s)', `${mb(storm.twinlease?.vmhwm_kb)} MB`, `${mb(storm.kea?.vmhwm_kb)} MB`, '');
  line('  DISCOVERs unanswered, control / storm', `${lost(w(storm.twinlease, 'do_control'))} / ${lost(w(storm.twinlease, 'do_storm'))}`,
    `${lost(w(storm.kea, 'do_control'))} / ${lost(w(storm.kea, 'do_storm'))}`, '');
}
const mg = { twinlease: pick('management', 'twinlease')[0], kea: pick('management', 'kea')[0] };
if (mg.twinlease || mg.kea) {
  const ms = (r, k) => (r?.api?.[k] ? `${f(r.api[k].median_ms)} / ${f(r.api[k].max_ms)}` : '-');
  line('management, p50 / max ms', '', '', '');
  for (const [label, t, k] of [
    ['  page of 1000 leases, first', 'leases-first-page-1000', 'lease4-get-page-first-1000'],
    ['  page of 1000, deep (cursor 10.30.0.0)', 'leases-deep-cursor-1000', 'lease4-get-page-deep-1000'],
    ['  filtered: hostname', 'leases-filtered-hostname', 'lease4-get-by-hostname'],
    ['  scope active leases, 1000', 'leases-scope-active-1000', ''],
    ['  scope statistics', 'scope-statistics', 'subnet-assigned-addresses'],
    ['  all statistics', 'statistics', 'statistic-get-all'],
    ['  /metrics', 'metrics', ''],
  ])
    line(label, ms(mg.twinlease, t), ms(mg.kea, k), '');
}
console.log(`\nresults: ${process.argv[2]}`);
JS
