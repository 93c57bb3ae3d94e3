// Kea's side of bench/scale.sh's management row: the equivalents of Twinlease's lease listing and
// statistics, timed on kea-dhcp4's own control socket (a UNIX socket; one connection per command,
// as Kea closes it after each answer; no kea-ctrl-agent, no HTTP). Waits until the socket answers
// (Kea opens it once its lease file is loaded), then runs each command --repeat times. One JSON line.
//
//   node --import tsx bench/lib/kea-management-probe.ts --socket PATH [--repeat 20] [--timeout-s 600]
//
// Commands (hook library libdhcp_lease_cmds.so for the lease4-*):
//   lease4-get-page from 0.0.0.0 and from 10.30.0.0, 1000 leases (Twinlease: /api/v1/leases?limit=1000)
//   lease4-get-by-hostname client-99999 (Twinlease: ?hostname=)
//   statistic-get subnet[1].assigned-addresses (Twinlease: one scope's statistics)
//   statistic-get-all (Twinlease: /metrics; Kea has no Prometheus endpoint of its own)

import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { quantile, sleep } from './relay-probe.js';

const { values } = parseArgs({
  options: {
    socket: { type: 'string' },
    repeat: { type: 'string', default: '20' },
    'timeout-s': { type: 'string', default: '600' },
  },
});
if (values.socket === undefined) throw new Error('--socket is required');
const socketPath = values.socket;

/** One command: the answer's length and result code, and the time from connect to its end. */
function command(body: object): Promise<{ ms: number; bytes: number; result: number | null }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s = connect(socketPath);
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
    });
    s.on('error', reject);
    s.on('end', () => {
      let result: number | null = null;
      try {
        result = (JSON.parse(text) as { result: number }).result;
      } catch {}
      resolve({ ms: performance.now() - started, bytes: text.length, result });
    });
    s.write(JSON.stringify(body));
  });
}

const deadline = performance.now() + Number(values['timeout-s']) * 1000;
const t0 = performance.now();
for (;;) {
  try {
    if ((await command({ command: 'version-get' })).result === 0) break;
  } catch {}
  if (performance.now() > deadline) {
    console.log(JSON.stringify({ error: 'control socket never answered' }));
    process.exit(1);
  }
  await sleep(200);
}
const readyS = (performance.now() - t0) / 1000;
await sleep(2000);

const commands: Record<string, object> = {
  'lease4-get-page-first-1000': { command: 'lease4-get-page', arguments: { from: 'start', limit: 1000 } },
  'lease4-get-page-deep-1000': { command: 'lease4-get-page', arguments: { from: '10.30.0.0', limit: 1000 } },
  'lease4-get-by-hostname': { command: 'lease4-get-by-hostname', arguments: { hostname: 'client-99999' } },
  'subnet-assigned-addresses': {
    command: 'statistic-get',
    arguments: { name: 'subnet[1].assigned-addresses' },
  },
  'statistic-get-all': { command: 'statistic-get-all' },
};
const api: Record<
  string,
  { median_ms: number | null; max_ms: number | null; result: number | null; bytes: number }
> = {};
for (const [name, body] of Object.entries(commands)) {
  const times: number[] = [];
  let last = { ms: 0, bytes: 0, result: null as number | null };
  for (let i = 0; i < Number(values.repeat); i++) {
    last = await command(body);
    times.push(last.ms);
  }
  api[name] = {
    median_ms: quantile(times, 0.5),
    max_ms: quantile(times, 1),
    result: last.result,
    bytes: last.bytes,
  };
}
console.log(
  JSON.stringify({ socket_ready_s: Number(readyS.toFixed(2)), repeat: Number(values.repeat), api }),
);
