// Start-up until serving, measured the same way for any DHCPv4 server (bench/scale.sh): "serving"
// is the first DHCPOFFER received for a probe DISCOVER that is sent every `--interval-ms` from
// before the server process starts. Runs in the relay namespace of ../shared/harness (it sends as
// the relay, 10.77.0.2:67 with giaddr set, like perfdhcp), starts the server command in the
// server namespace, and prints one JSON line:
//   serving_s        process start → first OFFER
//   cpu_s            CPU time (user + system) the server used until then
//   vmhwm_kb         peak RSS (VmHWM) `--settle-s` seconds after serving
//   vmrss_kb         RSS at that moment
//   bg_cpu_pct       what the rest of the host used before the start (% of one core)
//
//   ip netns exec dhb-cli node --import tsx bench/lib/startup-probe.ts --name kea \
//     --ns dhb-srv --cmd 'kea-dhcp4 -c …' [--cpus 0] [--timeout-s 300] [--log file]

import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { openSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'server' },
    ns: { type: 'string', default: 'dhb-srv' },
    cmd: { type: 'string' },
    cpus: { type: 'string', default: '0' },
    relay: { type: 'string', default: '10.77.0.2' },
    server: { type: 'string', default: '10.77.0.1' },
    'interval-ms': { type: 'string', default: '20' },
    'timeout-s': { type: 'string', default: '300' },
    'settle-s': { type: 'string', default: '3' },
    'stop-timeout-s': { type: 'string', default: '60' },
    log: { type: 'string', default: '/dev/null' },
    'bg-max': { type: 'string', default: '25' },
    'bg-wait-s': { type: 'string', default: '60' },
  },
});
if (values.cmd === undefined) throw new Error('--cmd is required');

const CLOCK_TICKS_PER_S = 100;
const PROBE_MAC = [0x02, 0xfe, 0x00, 0x00, 0x00, 0x01];

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

/** A relayed DHCPDISCOVER (RFC 2131 §4.1, hops 1, giaddr = relay). */
function discover(xid: number): Buffer {
  const p = Buffer.alloc(300);
  p[0] = 1; // BOOTREQUEST
  p[1] = 1; // Ethernet
  p[2] = 6;
  p[3] = 1; // hops
  p.writeUInt32BE(xid, 4);
  Buffer.from(ipv4Bytes(values.relay!)).copy(p, 24); // giaddr
  Buffer.from(PROBE_MAC).copy(p, 28);
  p.writeUInt32BE(0x63825363, 236);
  Buffer.from([53, 1, 1, 55, 3, 1, 3, 6, 255]).copy(p, 240);
  return p;
}

/** Whether `m` is a DHCPOFFER for `xid`. */
function isOffer(m: Buffer, xid: number): boolean {
  if (m.length < 244 || m[0] !== 2 || m.readUInt32BE(4) !== xid || m.readUInt32BE(236) !== 0x63825363)
    return false;
  for (let i = 240; i < m.length; ) {
    const code = m[i]!;
    if (code === 255) break;
    if (code === 0) {
      i++;
      continue;
    }
    const length = m[i + 1] ?? 0;
    if (code === 53) return m[i + 2] === 2;
    i += 2 + length;
  }
  return false;
}

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(Vm\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5); the slice starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** [busy, total] jiffies of the whole host (as ../shared/harness/common.sh stat_ticks). */
function hostTicks(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, ...number[]];
  const busy = user + nice! + system! + irq! + softirq! + steal!;
  return [busy, busy + idle! + iowait!];
}

/** % of one core the rest of the host used over `ms` (100 = one core busy). */
async function hostBusyPct(ms: number): Promise<number> {
  const [b0, t0] = hostTicks();
  await sleep(ms);
  const [b1, t1] = hostTicks();
  return Math.round(((b1 - b0) * 100 * availableParallelism()) / (t1 - t0 + 1));
}

async function main(): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: values.relay!, port: 67 }, resolve);
  });
  const xid = (Math.random() * 0xffffffff) >>> 0;
  const packet = discover(xid);
  let offeredAt: number | null = null;
  socket.on('message', (m) => {
    if (offeredAt === null && isOffer(m, xid)) offeredAt = performance.now();
  });
  const send = () => socket.send(packet, 67, values.server!);
  send();

  // Like perfdhcp-run.sh: on a shared machine, wait up to bg-wait-s for the others to calm down
  // (under bg-max % of one core), then go anyway; the figure goes into the result.
  let bg = await hostBusyPct(1000);
  for (let waited = 0; bg > Number(values['bg-max']) && waited < Number(values['bg-wait-s']); waited++)
    bg = await hostBusyPct(1000);
  const log = openSync(values.log!, 'a');
  const pin = values.cpus === '' ? [] : ['taskset', '-c', values.cpus!];
  const startedAt = performance.now();
  // `ip netns exec`, taskset and `bash -c exec` all exec: the child's PID is the server's.
  const child = spawn('ip', ['netns', 'exec', values.ns!, ...pin, 'bash', '-c', `exec ${values.cmd}`], {
    stdio: ['ignore', log, log],
  });
  let exited: number | string | null = null;
  child.on('exit', (code, signal) => {
    exited = code ?? signal;
  });
  const pid = child.pid!;
  const timer = setInterval(send, Number(values['interval-ms']));
  const deadline = startedAt + Number(values['timeout-s']) * 1000;
  let cpuAtServing = 0;
  while (offeredAt === null && exited === null && performance.now() < deadline) {
    await sleep(5);
    // Within a few ms of the OFFER (its time is taken when it arrives, not here).
    if (offeredAt !== null) cpuAtServing = cpuSeconds(pid);
  }
  clearInterval(timer);
  const result: Record<string, unknown> = { name: values.name, pid, bg_cpu_pct: bg };
  if (offeredAt === null) {
    result.error =
      exited !== null ? `server exited (${exited}) before serving` : 'no OFFER before the timeout';
  } else {
    result.serving_s = Number(((offeredAt - startedAt) / 1000).toFixed(3));
    result.cpu_s = cpuAtServing;
    await sleep(Number(values['settle-s']) * 1000);
    if (exited === null) {
      const status = procStatus(pid);
      result.vmhwm_kb = status.VmHWM;
      result.vmrss_kb = status.VmRSS;
      result.cpu_s_settled = cpuSeconds(pid);
    } else result.error = `server exited (${exited}) after serving`;
  }
  if (exited === null) {
    child.kill('SIGTERM');
    const stopBy = performance.now() + Number(values['stop-timeout-s']) * 1000;
    while (exited === null && performance.now() < stopBy) await sleep(50);
    if (exited === null) {
      child.kill('SIGKILL');
      result.stop = 'killed';
    }
  }
  socket.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
