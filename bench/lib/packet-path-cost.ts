// CPU per DORA of the server's packet path in one process, without sockets (issue 17): the real
// DhcpService, DhcpEngine (bench/single.json's scope) and SQLite lease store, fed relayed
// DISCOVER/REQUEST datagrams as perfdhcp sends them, at a steady rate, through a transport that
// hands each reply back to the load instead of to a socket. What it leaves out is the socket
// (recvmsg/sendto and dgram's JS around them) and the disk, if `--dir` is on tmpfs (fsync there
// returns at once): what is left is the decoding, the engine, the encoding, the service, the
// counters, the SQLite statements and the GC. A CPU time is still a CPU time on a busy host, so
// this is the steadier A/B of changes to that path; bench/dora.sh measures the whole.
//
//   node --import tsx bench/lib/packet-path-cost.ts [--rate 4000] [--seconds 8] [--clients 10000]
//        [--dir /dev/shm/twinlease-packet-path] [--warmup-seconds 2]
//
// Prints one JSON line: leases, µs of process CPU (user, system) per lease, leases per commit.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfigFile } from '../../src/config/loader.js';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { openSqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { Counters } from '../../src/server/counters.js';
import { DhcpService } from '../../src/server/dhcp-service.js';
import type { DatagramReceiver, DhcpTransport, OutgoingReply } from '../../src/server/dhcp-transport.js';
import { perfdhcpTemplate, REQUESTED_ADDRESS_AT } from './perfdhcp-templates.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '4000' },
    seconds: { type: 'string', default: '8' },
    'warmup-seconds': { type: 'string', default: '2' },
    clients: { type: 'string', default: '10000' },
    dir: { type: 'string', default: '/dev/shm/twinlease-packet-path' },
    config: { type: 'string', default: new URL('../single.json', import.meta.url).pathname },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmupSeconds = Number(values['warmup-seconds']);
const clients = Number(values.clients);

const loaded = loadConfigFile(values.config!);
if (!loaded.ok) throw new Error(`${values.config}: ${JSON.stringify(loaded.errors)}`);
const config = loaded.config;
const SERVER = config.server.serverIdentifier ?? 0x0a4d0001;

rmSync(values.dir!, { recursive: true, force: true });
mkdirSync(values.dir!, { recursive: true });
const store = openSqliteLeaseStore(join(values.dir!, 'leases.db'), {
  commitIntervalMs: config.leaseStore.commitIntervalMs,
});
const table = new LeaseTable(0);
store.loadInto(table);
const engine = new DhcpEngine(
  { serverName: config.server.name, serverIdentifier: SERVER, scopes: config.scopes, directScopeIds: [] },
  table,
);

const DISCOVER = perfdhcpTemplate(1, SERVER);
const REQUEST = perfdhcpTemplate(3, SERVER);
const REQUESTED_AT = REQUESTED_ADDRESS_AT;

function request(type: number, mac: number, xid: number, requested = 0): Buffer {
  const p = Buffer.allocUnsafe(300);
  (type === 3 ? REQUEST : DISCOVER).copy(p);
  p.writeUInt32BE(xid >>> 0, 4);
  p.writeUInt32BE(mac >>> 0, 30);
  if (type === 3) p.writeUInt32BE(requested >>> 0, REQUESTED_AT);
  return p;
}

let receive: DatagramReceiver | null = null;
let acks = 0;
const offers: { mac: number; xid: number; yiaddr: number }[] = [];
const transport: DhcpTransport = {
  async start(r) {
    receive = r;
  },
  send(bytes: Uint8Array, out: OutgoingReply, done) {
    if (out.messageType === 2) {
      const c = out.request.chaddr;
      const mac = ((c[2]! << 24) | (c[3]! << 16) | (c[4]! << 8) | c[5]!) >>> 0;
      offers.push({ mac, xid: out.reply.xid, yiaddr: out.reply.yiaddr });
    } else if (out.messageType === 5) acks++;
    void bytes;
    done(null);
    return '10.77.0.2:67';
  },
  async stop() {},
  describe: () => ({ mode: 'bench' }),
};
const service = new DhcpService(
  engine,
  store,
  { listenAddress: '10.77.0.1', port: 67, clientPort: 68, broadcastAddress: '10.77.255.255' },
  { nowSeconds: () => Math.floor(Date.now() / 1000) } as never,
  pino({ level: 'warn' }, pino.destination('/dev/null')),
  new Counters(),
  { isGrantLogged: true },
  { transport },
);
await service.start();

const arrive = (bytes: Buffer) =>
  receive!(bytes, { fromAddress: '10.77.0.2', fromPort: 67, receivedOn: 'address' });
let sent = 0;
let xid = 1;
const startedAt = performance.now();
const TICK_MS = 1;
let cpuAtStart: NodeJS.CpuUsage | null = null;
let acksAtStart = 0;
let statsAtStart = store.stats();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsedS = (performance.now() - startedAt) / 1000;
    if (cpuAtStart === null && elapsedS >= warmupSeconds) {
      cpuAtStart = process.cpuUsage();
      acksAtStart = acks;
      statsAtStart = store.stats();
    }
    if (elapsedS >= warmupSeconds + seconds) {
      clearInterval(timer);
      resolve();
      return;
    }
    // The REQUESTs for the OFFERs of the last tick, then this tick's DISCOVERs (perfdhcp's order).
    for (const o of offers.splice(0)) arrive(request(3, o.mac, o.xid, o.yiaddr));
    const due = Math.floor(elapsedS * rate) - sent;
    for (let i = 0; i < due; i++, sent++) arrive(request(1, (sent % clients) + 1, xid++));
  }, TICK_MS);
});
const cpu = process.cpuUsage(cpuAtStart!);
const leases = acks - acksAtStart;
const stats = store.stats();
console.log(
  JSON.stringify({
    bench: 'packet-path',
    rate,
    seconds,
    clients,
    leases,
    leases_per_s: Number((leases / seconds).toFixed(1)),
    us_cpu_per_lease: Number(((cpu.user + cpu.system) / leases).toFixed(1)),
    us_user_per_lease: Number((cpu.user / leases).toFixed(1)),
    us_system_per_lease: Number((cpu.system / leases).toFixed(1)),
    leases_per_commit: Number(
      (
        (stats.leasesWritten - statsAtStart.leasesWritten) /
        (stats.transactions - statsAtStart.transactions)
      ).toFixed(2),
    ),
  }),
);
await service.stop();
await store.close();
rmSync(values.dir!, { recursive: true, force: true });
