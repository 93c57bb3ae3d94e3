// CPU per DORA of the codec and the allocation engine alone (issue 17): decode a relayed DISCOVER
// as perfdhcp sends it, DhcpEngine.handle, encode the OFFER; the same for the REQUEST and the ACK.
// No service, no store, no sockets, `now` fixed, 10,000 clients in turn over bench/single.json's
// scope. Five rounds of N DORAs after a warm-up; the minimum is the figure to compare (a busy host
// only ever adds to it). ROOT picks the checkout whose src/ is measured, so that two revisions can
// be alternated in one shell loop (see bench/profiles/README.md).
//
//   [ROOT=/path/to/checkout] [N=100000] node --import tsx bench/lib/codec-engine-cost.ts

import { perfdhcpTemplate, REQUESTED_ADDRESS_AT } from './perfdhcp-templates.js';

const root = process.env.ROOT ?? new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const { loadConfigFile } = await import(`${root}/src/config/loader.ts`);
const { DhcpEngine } = await import(`${root}/src/dhcp/engine.ts`);
const { LeaseTable } = await import(`${root}/src/dhcp/lease-table.ts`);
const { decodeDhcp, encodeDhcpReport } = await import(`${root}/src/wire/dhcp-codec.ts`);

const loaded = loadConfigFile(`${root}/bench/single.json`);
if (!loaded.ok) throw new Error('bench/single.json does not load');
const SERVER: number = loaded.config.server.serverIdentifier;
const engine = new DhcpEngine(
  { serverName: 'tl-bench', serverIdentifier: SERVER, scopes: loaded.config.scopes, directScopeIds: [] },
  new LeaseTable(0),
);
const REQUESTED_AT = REQUESTED_ADDRESS_AT;

const DISCOVER = perfdhcpTemplate(1, SERVER);
const REQUEST = perfdhcpTemplate(3, SERVER);
const N = Number(process.env.N ?? 100_000);
const NOW = 1_800_000_000;

function run(n: number, first: number): void {
  for (let i = 0; i < n; i++) {
    const mac = (first + i) % 10_000;
    DISCOVER.writeUInt32BE(mac, 30);
    DISCOVER.writeUInt32BE(i, 4);
    const d = decodeDhcp(DISCOVER);
    if (!d.ok) throw new Error('DISCOVER does not decode');
    const offer = engine.handle(d.packet, NOW, 'unicast');
    if (offer.action !== 'reply') throw new Error(`no OFFER: ${offer.reason}`);
    encodeDhcpReport(offer.reply, { maxSize: offer.maxSize });
    REQUEST.writeUInt32BE(mac, 30);
    REQUEST.writeUInt32BE(i, 4);
    REQUEST.writeUInt32BE(offer.reply.yiaddr, REQUESTED_AT);
    const r = decodeDhcp(REQUEST);
    if (!r.ok) throw new Error('REQUEST does not decode');
    const ack = engine.handle(r.packet, NOW, 'unicast');
    if (ack.action !== 'reply' || ack.messageType !== 5) throw new Error('no ACK');
    encodeDhcpReport(ack.reply, { maxSize: ack.maxSize });
  }
}

run(50_000, 0);
const rounds: number[] = [];
for (let k = 0; k < 5; k++) {
  const before = process.cpuUsage();
  run(N, k * N);
  const used = process.cpuUsage(before);
  rounds.push(Number(((used.user + used.system) / N).toFixed(2)));
}
console.log(
  JSON.stringify({ bench: 'codec-engine', root, n: N, us_cpu_per_dora: rounds, min: Math.min(...rounds) }),
);
