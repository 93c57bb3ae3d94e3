#!/bin/bash
# N Twinlease servers on one PostgreSQL 15 lease database against N Kea 2.2 servers on one
# PostgreSQL lease database (`kea-admin db-init pgsql`), N = 1, 2, 3, in the same invocation
# (issue 20; docs/postgresql.md). One throwaway cluster serves both (a fresh database per run).
#
#   sudo bench/postgresql.sh                          # NS="1 2 3", RATES="500 1000", PERIOD=8, then a ramp
#   sudo RATES="500 1000" RAMP=0 bench/postgresql.sh  # equal-rate runs only
#   sudo NS=3 RAMP_RATES="1000 2000" bench/postgresql.sh
#   sudo KEA_THREADS=0 bench/postgresql.sh            # Kea single-threaded (default: 4 packet threads)
#   sudo WARM_S=10 bench/postgresql.sh                 # equal-rate runs after 10 s of the same load from
#                                                      # other clients, outside the CPU window (steady state)
#   sudo NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" NS=1 RAMP=0 bench/postgresql.sh   # profile
#     (profiled CPU figures are not for quoting; bench/lib/profile-summary.ts reads the profile)
#
# Topology (../shared/harness, namespaces $PFX-*): servers in $PFX-srv (10.77.0.1), $PFX-srv2
# (10.77.0.3) and $PFX-rc (10.77.0.4, added here and removed at the end); PostgreSQL in $PFX-cli
# on 10.77.0.2, where perfdhcp runs as a relay that broadcasts on br0 (MODE=broadcast), so every
# server sees every DISCOVER and REQUEST, as in test/e2e/postgresql.test.ts. Every server offers;
# perfdhcp takes the first OFFER and the REQUEST's server identifier selects one server.
# Pinning: the servers and PostgreSQL on SRV_CPUS (0), perfdhcp on CLI_CPUS (1).
#
# Figures per run: CPU per lease = CPU time (from /proc) of the N servers plus every process of the
# cluster (postmaster, backends, background workers; backends that exited are in the postmaster's
# reaped-children time) over the ACKs perfdhcp received; p50/p99 DISCOVER→OFFER and REQUEST→ACK;
# and, with RAMP=1, the highest offered rate of RAMP_RATES with ≤ MAX_DROP_PCT (1) % of DISCOVERs
# ending without an ACK. Ratios are Twinlease / Kea at the same N. Result lines:
# bench/results/postgresql-<UTC time>.jsonl.
set -euo pipefail
[ -z "${TRACE:-}" ] || set -x
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
H=${HARNESS:-$ROOT/../shared/harness}
[ -x "$H/perfdhcp-run.sh" ] || { echo "harness not found at $H" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces, port 67)" >&2; exit 1; }
export PFX=${PFX:-dhb}
export WORK=${WORK:-/tmp/$PFX-harness}
. "$H/common.sh"
export PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
export PGB=$WORK/pgbench                      # cluster, configs, logs
export PG_PORT=${PG_PORT:-55432}
export SRV_CPUS=${SRV_CPUS-0} CLI_CPUS=${CLI_CPUS-1} PG_CPUS=${PG_CPUS-${SRV_CPUS-0}}
export KEA_THREADS=${KEA_THREADS:-4}
SRV3_IP=10.77.0.4
SERVER_NS=("$NS_SRV" "$NS_SRV2" "$NS_RC")
SERVER_IP=("$SRV_IP" "$SRV2_IP" "$SRV3_IP")

pin() { [ -n "$1" ] && echo "taskset -c $1"; }
psql_su() {  # SQL [DB] -> rows, as the cluster's superuser through its Unix socket
  runuser -u postgres -- "$PG_BIN/psql" -h "$PGB" -p "$PG_PORT" -U postgres -d "${2:-postgres}" \
    -XAtq -v ON_ERROR_STOP=1 -c "$1"
}
# CPU ticks of the cluster: the postmaster (with its reaped children) and its live children.
pg_ticks() {
  local pm
  pm=$(head -1 "$PGB/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null || true; done |
    awk -v pm="$pm" '{ pid = $1; sub(/^.*\) /, ""); # fields from state on: ppid $2, utime $12 ...
      if (pid == pm) t += $12 + $13 + $14 + $15; else if ($2 == pm) t += $12 + $13 }
      END { print t + 0 }'
}

# The table and the ratios of a results file (also: bench/postgresql.sh --summary FILE).
summary() {
node - "$1" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s, n) => String(s).padStart(n);
const eq = rows.filter((r) => r.kind === 'rate');
console.log(`\nN servers on one PostgreSQL, perfdhcp broadcast through a relay, PERIOD=${eq[0]?.result.period_s}s CLIENTS=${eq[0]?.result.clients}, Kea threads ${rows[0]?.kea_threads}`);
console.log('CPU: µs per ACKed lease, servers + PostgreSQL (all its processes); % = of one core');
const head = ['N', 'rate', 'server', 'leases/s', 'lost', 'srv us', 'db us', 'total us', 'srv cpu%', 'db cpu%', 'DO p50', 'DO p99', 'RA p50', 'RA p99', 'db rows', 'bg%'];
console.log(head.map((h) => pad(h, 9)).join(' '));
const by = new Map();
for (const { server, servers, result: r } of eq) {
  console.log([servers, r.offered_rate, server, f(r.leases_per_s), r.discover_sent - r.ack_rcvd, r.server_us_per_lease, r.db_us_per_lease, r.total_us_per_lease, r.server_cpu_pct, r.db_cpu_pct, r.do_p50_ms, r.do_p99_ms, r.ra_p50_ms, r.ra_p99_ms, r.db_active_rows, r.bg_cpu_pct].map((v) => pad(v, 9)).join(' '));
  const k = `${servers}@${r.offered_rate}`;
  if (!by.has(k)) by.set(k, {});
  by.get(k)[server] = r;
}
const ramp = new Map();
for (const { server, servers, result: r } of rows.filter((x) => x.kind === 'ramp')) {
  if (!ramp.has(servers)) ramp.set(servers, {});
  ramp.get(servers)[server] = r;
}
const q = (a, b) => (b > 0 && Number.isFinite(a) ? f(a / b, 2) : '-');
console.log('\nratios Twinlease / Kea (CPU and latency: lower is better; rates: higher is better):');
for (const [k, s] of by) {
  const [n, rate] = k.split('@');
  const t = s.twinlease, e = s.kea;
  if (!t || !e) continue;
  console.log(`  N=${n} at ${rate}/s: CPU per lease x${q(t.total_us_per_lease, e.total_us_per_lease)} (servers x${q(t.server_us_per_lease, e.server_us_per_lease)}, db x${q(t.db_us_per_lease, e.db_us_per_lease)}), DO p99 x${q(t.do_p99_ms, e.do_p99_ms)}, RA p99 x${q(t.ra_p99_ms, e.ra_p99_ms)}, leases/s x${q(t.leases_per_s, e.leases_per_s)}`);
}
for (const [n, s] of ramp) {
  const k = s.kea?.ramp_max_clean_rate ?? 0, t = s.twinlease?.ramp_max_clean_rate ?? 0;
  console.log(`  N=${n} max clean rate (≤ ${s.kea?.max_drop_pct ?? 1} % lost): Kea ${k}/s, Twinlease ${t}/s, x${k > 0 ? f(t / k, 2) : '-'}`);
}
console.log(`\nresults: ${process.argv[2]}`);
JS
}
[ "${1:-}" != --summary ] || { summary "$2"; exit 0; }

# One run: KIND (kea|twinlease) with N servers, from an empty database, at $RATE. Prints the
# harness's JSON line with this bench's fields merged in (ramp.sh reads the last '{' line).
if [ "${1:-}" = --once ]; then
  KIND=$2 N=$3
  R=$PGB/run-$KIND-$N-$(date +%H%M%S); mkdir -p "$R"
  if [ "$KIND" = kea ]; then
    psql_su 'DROP DATABASE IF EXISTS kea' >/dev/null; psql_su 'CREATE DATABASE kea OWNER kea' >/dev/null
    ip netns exec "$NS_SRV" kea-admin db-init pgsql -h "$CLI_IP" -P "$PG_PORT" -u kea -p kea -n kea >"$R/db-init.log" 2>&1
  else
    psql_su 'DROP DATABASE IF EXISTS twinlease' >/dev/null; psql_su 'CREATE DATABASE twinlease OWNER twinlease' >/dev/null
    ip netns exec "$NS_SRV" node "$ROOT/bin/twinlease.js" db init \
      --url "postgresql://twinlease:twinlease@$CLI_IP:$PG_PORT/twinlease" >"$R/db-init.log" 2>&1
  fi
  PIDS=()
  cleanup() { for p in "${PIDS[@]}"; do stop_pid "$p" 10 || true; done; }
  trap cleanup EXIT INT TERM
  for i in $(seq 0 $((N - 1))); do
    if [ "$KIND" = kea ]; then
      cmd="env KEA_PIDFILE_DIR=$R KEA_LOCKFILE_DIR=$R kea-dhcp4 -c $PGB/kea$((i + 1)).json"
    else
      cmd="node ${NODE_ARGS:-} $ROOT/bin/twinlease.js serve --config $PGB/tl$((i + 1)).json"
    fi
    ip netns exec "${SERVER_NS[$i]}" $(pin "$SRV_CPUS") bash -c "exec $cmd" >"$R/server$((i + 1)).log" 2>&1 &
    PIDS+=($!)
  done
  for i in $(seq 0 $((N - 1))); do
    wait_udp "${SERVER_NS[$i]}" 67 30 || { tail "$R"/server*.log >&2; die "server $((i + 1)) not listening"; }
  done
  # Twinlease compiles its API's response serializers in idle turns after it listens (~1.3 s of
  # CPU, src/api/lazy-serializers.ts): let that happen before the CPU window, for both alike.
  sleep "${SETTLE_S:-4}"
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { tail "$R"/server*.log >&2; die "a server exited early"; }; done
  # Wait (up to BG_WAIT_S) for the rest of the host to be quiet here, not inside perfdhcp-run.sh,
  # so that the CPU window is the load itself (plus ~1 s of the harness's own sampling).
  bg=$(host_busy 1) w=${BG_WAIT_S:-10}
  while [ "$bg" -gt "${BG_MAX:-25}" ] && [ "$w" -gt 0 ]; do bg=$(host_busy 1); w=$((w - 1)); done
  # WARM_S > 0: the same load from other clients (another MAC base) first, outside the CPU window,
  # so the window measures servers that have run it before (Twinlease's JIT compiles its packet
  # and database paths in the first seconds of load; Kea has nothing to compile).
  if [ "${WARM_S:-0}" -gt 0 ]; then
    warm_clients=$((RATE * WARM_S)); [ "$warm_clients" -gt 4000 ] && warm_clients=4000
    MODE=broadcast SRV_CPUS='' BG_WAIT_S=0 PERIOD=$WARM_S CLIENTS=$warm_clients \
      PERF_ARGS="-b mac=00:0d:00:00:00:00" "$H/perfdhcp-run.sh" "pg-warm-$KIND-$N" '' >"$R/warm.out" 2>&1 || true
    sleep 1
  fi
  s0=0; for p in "${PIDS[@]}"; do s0=$((s0 + $(cpu_ticks "$p"))); done
  d0=$(pg_ticks) t0=$(date +%s.%N)
  line=$(MODE=broadcast SRV_CPUS='' BG_WAIT_S=0 "$H/perfdhcp-run.sh" "pg-$KIND-$N" '' | grep '^{' | tail -1) || true
  t1=$(date +%s.%N) d1=$(pg_ticks)
  s1=0; for p in "${PIDS[@]}"; do s1=$((s1 + $(cpu_ticks "$p"))); done
  cleanup; PIDS=()
  [ -n "$line" ] || die "no result from perfdhcp-run.sh"
  if [ "$KIND" = kea ]; then
    rows=$(psql_su 'SELECT count(*) FROM lease4 WHERE state = 0' kea)
  else
    rows=$(psql_su "SELECT count(*) FROM twinlease_leases WHERE state = 'active'" twinlease)
  fi
  node -e '
    const [line, kind, n, s, d, t, rows, dir] = process.argv.slice(1);
    const r = JSON.parse(line);
    const hz = 100, acks = r.ack_rcvd, wall = Number(t);
    const us = (ticks) => (acks > 0 ? Math.round((Number(ticks) / hz) * 1e6 / acks) : null);
    Object.assign(r, {
      server_kind: kind, servers: Number(n), window_s: Number(wall.toFixed(2)),
      server_cpu_s: Number(s) / hz, db_cpu_s: Number(d) / hz,
      server_cpu_pct: Math.round((Number(s) / hz) * 100 / wall), db_cpu_pct: Math.round((Number(d) / hz) * 100 / wall),
      server_us_per_lease: us(s), db_us_per_lease: us(d), total_us_per_lease: us(Number(s) + Number(d)),
      db_active_rows: Number(rows), warm_s: Number(process.env.WARM_S ?? 0), logs: dir,
    });
    console.log(JSON.stringify(r));
  ' "$line" "$KIND" "$N" $((s1 - s0)) $((d1 - d0)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rows" "$R"
  exit 0
fi

[ "$(getconf CLK_TCK)" = 100 ] || { echo "CLK_TCK is not 100" >&2; exit 1; }
[ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL binaries in $PG_BIN (postgresql-15)" >&2; exit 1; }
ensure_pkgs kea-dhcp4:kea-dhcp4-server kea-admin:kea-admin perfdhcp:kea-admin
command -v kea-dhcp4 >/dev/null && kea-dhcp4 -W 2>/dev/null | grep -q PGSQL_VERSION ||
  { echo "this kea-dhcp4 has no PostgreSQL backend" >&2; exit 1; }
NS=${NS:-1 2 3}
RATES=${RATES:-500 1000}
export PERIOD=${PERIOD:-8} CLIENTS=${CLIENTS:-10000}
RAMP=${RAMP:-1}
RAMP_RATES=${RAMP_RATES:-250 500 1000 1500 2000 3000 4000}
RAMP_PERIOD=${RAMP_PERIOD:-5}
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/postgresql-$RUN_ID.jsonl
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$ROOT/bench/results"

if [ "${BUILD:-1}" = 1 ]; then
  echo "building dist/ ..." >&2
  (cd "$ROOT" && npx tsc -p tsconfig.build.json)
fi

"$H/netns-up.sh" >/dev/null
ip -n "$NS_RC" addr replace "$SRV3_IP/$PLEN" dev eth0
rm -rf "$PGB"; mkdir -p "$PGB"; chown postgres:postgres "$PGB"; chmod 700 "$PGB"
pg_stop() {
  [ -f "$PGB/data/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGB/data" -w -m fast stop >/dev/null 2>&1 || true
  ip -n "$NS_RC" addr del "$SRV3_IP/$PLEN" dev eth0 2>/dev/null || true
}
trap pg_stop EXIT INT TERM
runuser -u postgres -- "$PG_BIN/initdb" -D "$PGB/data" -U postgres --auth=trust --no-instructions \
  -E UTF8 --locale=C >"$PGB/initdb.log"
echo 'host all all 0.0.0.0/0 scram-sha-256' >>"$PGB/data/pg_hba.conf"
# Debian's defaults (fsync on, synchronous_commit on); listening on the relay's address only.
ip netns exec "$NS_CLI" $(pin "$PG_CPUS") runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGB/data" -w -t 30 \
  -l "$PGB/postgres.log" -o "-c listen_addresses=$CLI_IP -c port=$PG_PORT -c unix_socket_directories=$PGB -c max_connections=100" start >/dev/null
psql_su "CREATE ROLE kea LOGIN PASSWORD 'kea'" >/dev/null
psql_su "CREATE ROLE twinlease LOGIN PASSWORD 'twinlease'" >/dev/null
psql_su 'CREATE DATABASE kea OWNER kea' >/dev/null   # kea-dhcp4 -t below may open it

# The same scope for both: 10.77.0.0/16, pool 10.77.1.0-10.77.64.255 (16384 addresses), 4000 s.
node - "$PGB" "$CLI_IP" "$PG_PORT" "$KEA_THREADS" "${SERVER_IP[@]}" <<'JS'
const fs = require('fs');
const [dir, dbHost, dbPort, keaThreads, ...ips] = process.argv.slice(2);
ips.forEach((ip, i) => {
  const name = `tl${i + 1}`;
  fs.writeFileSync(`${dir}/${name}.json`, JSON.stringify({
    server: { name, serverIdentifier: ip },
    dhcp: { interface: 'eth0', broadcastAddress: '10.77.255.255' },
    leaseStore: { type: 'postgresql', url: `postgresql://twinlease:twinlease@${dbHost}:${dbPort}/twinlease` },
    logging: { level: 'warn' },
    scopes: [{
      subnet: '10.77.0.0/16', ranges: [{ start: '10.77.1.0', end: '10.77.64.255' }],
      leaseTimeSeconds: 4000, renewTimeSeconds: 1000, rebindTimeSeconds: 2000,
    }],
  }, null, 2));
  const threads = Number(keaThreads);
  fs.writeFileSync(`${dir}/kea${i + 1}.json`, JSON.stringify({
    Dhcp4: {
      'interfaces-config': { interfaces: ['eth0'], 'dhcp-socket-type': 'raw' },
      'lease-database': {
        type: 'postgresql', name: 'kea', host: dbHost, port: Number(dbPort), user: 'kea', password: 'kea',
      },
      'multi-threading': threads > 0
        ? { 'enable-multi-threading': true, 'thread-pool-size': threads, 'packet-queue-size': 64 }
        : { 'enable-multi-threading': false },
      'valid-lifetime': 4000, 'renew-timer': 1000, 'rebind-timer': 2000,
      subnet4: [{ id: 1, subnet: '10.77.0.0/16', pools: [{ pool: '10.77.1.0 - 10.77.64.255' }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: `${dir}/kea${i + 1}.log` }], severity: 'WARN' }],
    },
  }, null, 2));
});
JS
for i in 1 2 3; do
  kea-dhcp4 -t "$PGB/kea$i.json" >"$PGB/kea$i.check" 2>&1 || { tail -3 "$PGB/kea$i.check" >&2; exit 1; }
done

record() {
  local line
  line=$(grep '^{' | tail -1) || true
  [ -n "$line" ] || { echo "no result for $1 $2 $3" >&2; return 0; }
  echo "{\"bench\":\"postgresql\",\"run_id\":\"$RUN_ID\",\"rev\":\"$REV\",\"server\":\"$1\",\"servers\":$2,\"kind\":\"$3\",\"kea_threads\":$KEA_THREADS,\"result\":$line}" >>"$OUT"
  echo "$1 x$2 $3: $line" >&2
}

for n in $NS; do
  for rate in $RATES; do
    RATE=$rate "$0" --once kea "$n" | record kea "$n" rate
    RATE=$rate "$0" --once twinlease "$n" | record twinlease "$n" rate
  done
  if [ "$RAMP" = 1 ]; then
    WARM_S=0 RATES="$RAMP_RATES" PERIOD=$RAMP_PERIOD "$H/ramp.sh" "$0" --once kea "$n" | record kea "$n" ramp
    WARM_S=0 RATES="$RAMP_RATES" PERIOD=$RAMP_PERIOD "$H/ramp.sh" "$0" --once twinlease "$n" | record twinlease "$n" ramp
  fi
done

summary "$OUT"
