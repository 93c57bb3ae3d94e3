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
//   api            per request: median and max ms over `--api-repeat` runs
//   load           DISCOVER→OFFER and REQUEST→ACK ms (p50, p99, max) at --load-rate DORA/s
//   storm          the same, only for exchanges started in [storm-at − 1, storm-at + 10]

import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { openSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    'dhcp-port': { type: 'string', default: '16767' },
    'api-port': { type: 'string', default: '18067' },
    token: { type: 'string', default: 'bench-token-0123456789' },
    'api-repeat': { type: 'string', default: '5' },
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
const RELAY = '127.0.0.2';
const SERVER = '127.0.0.1';
const CLOCK_TICKS_PER_S = 100;

function packet(type: number, xid: number, mac: number, extra: number[] = []): Buffer {
  const p = Buffer.alloc(300);
  p[0] = 1;
  p[1] = 1;
  p[2] = 6;
  p[3] = 1;
  p.writeUInt32BE(xid, 4);
  Buffer.from([127, 0, 0, 2]).copy(p, 24);
  p[28] = 0x02;
  p[29] = 0xfe;
  p.writeUInt32BE(mac >>> 0, 30);
  p.writeUInt32BE(0x63825363, 236);
  Buffer.from([53, 1, type, 55, 3, 1, 3, 6, ...extra, 255]).copy(p, 240);
  return p;
}

function messageType(m: Buffer): number {
  for (let i = 240; i < m.length; ) {
    const code = m[i]!;
    if (code === 255) break;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 53) return m[i + 2]!;
    i += 2 + m[i + 1]!;
  }
  return 0;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

function statusKb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(3));
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true });
await new Promise<void>((r) => socket.bind(DHCP_PORT, RELAY, r));
const waiting = new Map<number, (m: Buffer) => void>();
socket.on('message', (m) => {
  if (m.length < 244) return;
  const xid = m.readUInt32BE(4);
  const w = waiting.get(xid);
  if (w) {
    waiting.delete(xid);
    w(m);
  }
});
function exchange(p: Buffer, timeoutMs: number): Promise<Buffer | null> {
  const xid = p.readUInt32BE(4);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(xid);
      resolve(null);
    }, timeoutMs);
    waiting.set(xid, (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    socket.send(p, DHCP_PORT, SERVER);
  });
}

// --- start-up until serving
let xid = 1;
let servingS: number | null = null;
const deadline = t0 + Number(values['timeout-s']) * 1000;
while (servingS === null && !exited && performance.now() < deadline) {
  const reply = await exchange(packet(1, xid++, 0xffff0001), 20);
  if (reply && messageType(reply) === 2) servingS = (performance.now() - t0) / 1000;
}
if (servingS === null) {
  console.log(JSON.stringify({ error: exited ? 'server exited' : 'timeout' }));
  process.exit(1);
}
const cpuAtServing = cpuSeconds(pid);
const hwmAtServing = statusKb(pid, 'VmHWM');
await sleep(2000);

// --- management API
async function timed(path: string): Promise<{ ms: number; status: number; bytes: number }> {
  const s = performance.now();
  const r = await fetch(API + path, { headers: { authorization: `Bearer ${values.token}` } });
  const text = await r.text();
  return { ms: performance.now() - s, status: r.status, bytes: text.length };
}
const apiPaths: Record<string, string> = {
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
const api: Record<string, { median_ms: number | null; max_ms: number | null; status: number }> = {};
for (const [name, path] of values['skip-api'] ? [] : Object.entries(apiPaths)) {
  const times: number[] = [];
  let status = 0;
  for (let i = 0; i < Number(values['api-repeat']); i++) {
    const r = await timed(path);
    times.push(r.ms);
    status = r.status;
  }
  api[name] = { median_ms: quantile(times, 0.5), max_ms: quantile(times, 1), status };
}

// --- DORA load (new clients), optionally across an expiry storm
interface Sample {
  startedAtS: number;
  doMs: number | null;
  raMs: number | null;
}
const samples: Sample[] = [];
const rate = Number(values['load-rate']);
const loadSeconds =
  values['load-until'] === undefined
    ? Number(values['load-seconds'])
    : Math.max(0, Number(values['load-until']) - Date.now() / 1000);
async function dora(mac: number): Promise<void> {
  const startedAtS = Date.now() / 1000;
  const x = xid++;
  const s = performance.now();
  const offer = await exchange(packet(1, x, mac), 2000);
  const sample: Sample = { startedAtS, doMs: null, raMs: null };
  samples.push(sample);
  if (!offer || messageType(offer) !== 2) return;
  sample.doMs = performance.now() - s;
  const yiaddr = [...offer.subarray(16, 20)];
  const s2 = performance.now();
  const ack = await exchange(packet(3, x, mac, [50, 4, ...yiaddr, 54, 4, 127, 0, 0, 1]), 2000);
  if (ack && messageType(ack) === 5) sample.raMs = performance.now() - s2;
}
const cpuBeforeLoad = cpuSeconds(pid);
const loadStarted = performance.now();
if (rate > 0 && loadSeconds > 0) {
  const total = Math.floor(rate * loadSeconds);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = loadStarted + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(dora(0x10000000 + i));
  }
  await Promise.all(pending);
}
const loadWallS = (performance.now() - loadStarted) / 1000;
const cpuLoad = cpuSeconds(pid) - cpuBeforeLoad;
function summary(list: Sample[]) {
  const d = list.flatMap((x) => (x.doMs === null ? [] : [x.doMs]));
  const r = list.flatMap((x) => (x.raMs === null ? [] : [x.raMs]));
  return {
    exchanges: list.length,
    acks: r.length,
    do_p50_ms: quantile(d, 0.5),
    do_p99_ms: quantile(d, 0.99),
    do_max_ms: quantile(d, 1),
    ra_p50_ms: quantile(r, 0.5),
    ra_p99_ms: quantile(r, 0.99),
    ra_max_ms: quantile(r, 1),
  };
}
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
    ...summary(samples),
  };
  if (values['storm-at'] !== undefined) {
    const at = Number(values['storm-at']);
    result.storm = {
      at,
      ...summary(samples.filter((x) => x.startedAtS >= at - 1 && x.startedAtS < at + 10)),
    };
  }
}
result.vmhwm_kb = statusKb(pid, 'VmHWM');
result.vmrss_kb = statusKb(pid, 'VmRSS');
child.kill('SIGTERM');
const stopDeadline = performance.now() + 60_000;
while (!exited && performance.now() < stopDeadline) await sleep(50);
if (!exited) child.kill('SIGKILL');
socket.close();
console.log(JSON.stringify(result));
