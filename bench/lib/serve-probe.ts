// One Twinlease server run on loopback for bench/table.sh (no root, no namespaces): start-up until
// serving, peak RSS, management API latency, and DORA latency under a steady load (optionally
// while a batch of leases expires). Prints one JSON line.
//
//   node --import tsx bench/lib/serve-probe.ts --config FILE [--node-args "--cpu-prof ..."]
//        [--api-port 18067] [--token T] [--dhcp-port 16767] [--load-rate 200 --load-seconds 20]
//        [--load-until EPOCH_SECONDS] [--storm-at EPOCH_SECONDS] [--skip-api] [--log FILE]
//
// The server must listen on 127.0.0.1:<dhcp-port> with a scope that 127.0.0.2 selects as a relay
// (relayAddresses): the probe sends as that relay (giaddr 127.0.0.2) from 127.0.0.2:<dhcp-port>,
// where the server's replies go (RFC 2131 §4.1: to giaddr, server port).
//   serving_s      process start → first DHCPOFFER for a DISCOVER sent every 20 ms
//   cpu_s          server CPU (user + system) until then
//   vmhwm_kb       peak RSS (VmHWM) after start-up, API requests and the load
//   api            per request: median and max ms over `--api-repeat` runs (after 2 s), the first
//                  run's ms, status and body length (--api table: bench/table.sh's requests;
//                  management: bench/scale.sh's). The probe's own HTTP client is warmed first on a
//                  server of its own (clientWarmUp), so the first run times the server, not undici.
//   load           DISCOVER→OFFER and REQUEST→ACK ms (p50, p99, max) at --load-rate DORA/s
//   storm          the same, only for exchanges started in [storm-at − 1, storm-at + 10]

import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import {
  cpuSeconds,
  type DoraSample,
  messageType,
  quantile,
  RelayProbe,
  relayedPacket,
  sleep,
  statusKb,
  summarize,
} from './relay-probe.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    'dhcp-port': { type: 'string', default: '16767' },
    'api-port': { type: 'string', default: '18067' },
    token: { type: 'string', default: 'bench-token-0123456789' },
    'api-repeat': { type: 'string', default: '5' },
    /** Which requests: 'table' (bench/table.sh's) or 'management' (bench/scale.sh's, pages of 1000). */
    api: { type: 'string', default: 'table' },
    'load-rate': { type: 'string', default: '0' },
    'load-seconds': { type: 'string', default: '0' },
    'load-until': { type: 'string' },
    'skip-api': { type: 'boolean', default: false },
    'storm-at': { type: 'string' },
    'timeout-s': { type: 'string', default: '600' },
    log: { type: 'string', default: '/dev/null' },
  },
});
if (values.config === undefined) throw new Error('--config is required');
const DHCP_PORT = Number(values['dhcp-port']);
const API = `http://127.0.0.1:${values['api-port']}`;
const SERVER = '127.0.0.1';

const log = openSync(values.log, 'a');
const t0 = performance.now();
const child = spawn(
  'bash',
  ['-c', `exec node ${values['node-args']} bin/twinlease.js serve --config ${values.config}`],
  { stdio: ['ignore', log, log] },
);
const pid = child.pid!;
let exited = false;
child.on('exit', () => {
  exited = true;
});

const probe = await RelayProbe.open(SERVER, DHCP_PORT);

// --- start-up until serving
let servingS: number | null = null;
const deadline = t0 + Number(values['timeout-s']) * 1000;
while (servingS === null && !exited && performance.now() < deadline) {
  const reply = await probe.exchange(relayedPacket(1, probe.nextXid(), 0xffff0001), 20);
  if (reply && messageType(reply) === 2) servingS = (performance.now() - t0) / 1000;
}
if (servingS === null) {
  console.log(JSON.stringify({ error: exited ? 'server exited' : 'timeout' }));
  process.exit(1);
}
const cpuAtServing = cpuSeconds(pid);
const hwmAtServing = statusKb(pid, 'VmHWM');
// The client's warm-up runs during the 2 s, so the server's first request still comes 2 s after serving.
await Promise.all([sleep(2000), values['skip-api'] ? null : clientWarmUp()]);

// --- management API
async function timed(path: string): Promise<{ ms: number; status: number; bytes: number }> {
  const s = performance.now();
  const r = await fetch(API + path, { headers: { authorization: `Bearer ${values.token}` } });
  const text = await r.text();
  return { ms: performance.now() - s, status: r.status, bytes: text.length };
}
/**
 * The probe's first fetch of a large body took ~60 ms more than later ones in the probe itself
 * (undici and the body's decoding run cold): at 1M leases the first page of 1000 leases measured
 * 146-169 ms by this probe and 89 ms by curl (issue 15). A few fetches of a body of that size from
 * a server in this process warm the client without touching Twinlease.
 */
async function clientWarmUp(bodyBytes = 900_000, fetches = 5): Promise<void> {
  const body = JSON.stringify({ items: 'x'.repeat(bodyBytes) });
  const local = createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
  const address = local.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  for (let i = 0; i < fetches; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: 'Bearer x' } });
    await r.text();
  }
  await new Promise((r) => local.close(r));
}

const tablePaths: Record<string, string> = {
  'leases-first-page': '/api/v1/leases?limit=100',
  'leases-mid-cursor': '/api/v1/leases?limit=100&cursor=10.16.0.0',
  'leases-last-page': '/api/v1/leases?limit=100&cursor=10.31.255.200',
  'leases-by-mac': '/api/v1/leases?mac=02:00:00:01:86:9f',
  'leases-by-hostname': '/api/v1/leases?hostname=client-99999',
  'leases-declined': '/api/v1/leases?state=declined',
  'leases-scope-active': '/api/v1/scopes/10.0.0.0/leases?state=active&limit=1000',
  'lease-one': '/api/v1/leases/10.16.0.1',
  statistics: '/api/v1/statistics',
  status: '/api/v1/status',
  metrics: '/metrics',
};
// bench/scale.sh's management row (issue 15: lease listing < 100 ms at 1M): pages of 1000, the
// first and one deep in the table (10.30.0.0 is past 29/31 of the range: ~935,000 leases before
// it), a filtered listing, scope statistics, the /metrics scrape.
const managementPaths: Record<string, string> = {
  'leases-first-page-1000': '/api/v1/leases?limit=1000',
  'leases-deep-cursor-1000': '/api/v1/leases?limit=1000&cursor=10.30.0.0',
  'leases-filtered-hostname': '/api/v1/leases?hostname=client-99999',
  'leases-scope-active-1000': '/api/v1/scopes/10.0.0.0/leases?state=active&limit=1000',
  'scope-statistics': '/api/v1/scopes/10.0.0.0/statistics',
  statistics: '/api/v1/statistics',
  metrics: '/metrics',
};
const apiPaths = values.api === 'management' ? managementPaths : tablePaths;
const api: Record<
  string,
  { median_ms: number | null; max_ms: number | null; first_ms: number | null; status: number; bytes: number }
> = {};
for (const [name, path] of values['skip-api'] ? [] : Object.entries(apiPaths)) {
  const times: number[] = [];
  let status = 0;
  let bytes = 0;
  for (let i = 0; i < Number(values['api-repeat']); i++) {
    const r = await timed(path);
    times.push(r.ms);
    status = r.status;
    bytes = r.bytes;
  }
  api[name] = {
    median_ms: quantile(times, 0.5),
    max_ms: quantile(times, 1),
    first_ms: times[0] ?? null,
    status,
    bytes,
  };
}

// --- DORA load (new clients), optionally across an expiry storm
const rate = Number(values['load-rate']);
const loadSeconds =
  values['load-until'] === undefined
    ? Number(values['load-seconds'])
    : Math.max(0, Number(values['load-until']) - Date.now() / 1000);
const samples: DoraSample[] = probe.samples;
const cpuBeforeLoad = cpuSeconds(pid);
const loadStarted = performance.now();
if (rate > 0 && loadSeconds > 0) await probe.load(rate, loadSeconds, 0x10000000);
const loadWallS = (performance.now() - loadStarted) / 1000;
const cpuLoad = cpuSeconds(pid) - cpuBeforeLoad;
const result: Record<string, unknown> = {
  serving_s: Number(servingS.toFixed(3)),
  cpu_s: cpuAtServing,
  vmhwm_at_serving_kb: hwmAtServing,
  api,
};
if (samples.length > 0) {
  result.load = {
    rate,
    seconds: Number(loadWallS.toFixed(2)),
    cpu_us_per_exchange: Number(((cpuLoad * 1e6) / Math.max(1, samples.length)).toFixed(1)),
    ...summarize(samples),
  };
  if (values['storm-at'] !== undefined) {
    const at = Number(values['storm-at']);
    result.storm = {
      at,
      ...summarize(samples.filter((x) => x.startedAtS >= at - 1 && x.startedAtS < at + 10)),
    };
  }
}
result.vmhwm_kb = statusKb(pid, 'VmHWM');
result.vmrss_kb = statusKb(pid, 'VmRSS');
child.kill('SIGTERM');
const stopDeadline = performance.now() + 60_000;
while (!exited && performance.now() < stopDeadline) await sleep(50);
if (!exited) child.kill('SIGKILL');
probe.close();
console.log(JSON.stringify(result));
