// What a lease listing costs inside the server at size (issue 15), without HTTP or a second
// process: an engine holding N leases of bench/lib/store-data.ts (generated in memory, no store),
// the real API app (buildApiApp) on loopback HTTP, read by a client in the same process that
// decodes nothing, and per request the wall time, the first call and the median and slowest of the next ones.
//
//   node [--cpu-prof] --import tsx bench/lib/lease-list-cost.ts [--leases 1000000] [--repeat 15] [--only NAME]
//
// Prints one JSON line: per request name, first_ms, median_ms, max_ms (of the repeats), bytes.

import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { ApiDeps } from '../../src/api/deps.js';
import { buildApiApp } from '../../src/api/server.js';
import { parseConfigText } from '../../src/config/loader.js';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { systemClock } from '../../src/server/clock.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { quantile } from './relay-probe.js';
import { SCALE_SERVER_NAME, scaleStoreLease } from './store-data.js';

const { values } = parseArgs({
  options: {
    leases: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '15' },
    /** Only the requests whose name contains this. */
    only: { type: 'string', default: '' },
  },
});
const count = Number(values.leases);
const TOKEN = 'bench-token-0123456789';
const parsed = parseConfigText(
  JSON.stringify({
    server: { name: SCALE_SERVER_NAME, serverIdentifier: '127.0.0.1' },
    api: { listenAddress: '127.0.0.1', port: 0, tokens: [{ name: 'bench', token: TOKEN }] },
    scopes: [
      {
        subnet: '10.0.0.0/8',
        ranges: [{ start: '10.1.0.0', end: '10.31.255.255' }],
        leaseTimeSeconds: 86400,
      },
    ],
  }),
  'bench.json',
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const config = parsed.config;
const now = Math.floor(Date.now() / 1000);
const table = new LeaseTable(count);
for (let i = 0; i < count; i++) table.load(scaleStoreLease(i, { count, now }));
const engine = new DhcpEngine(
  {
    serverName: config.server.name,
    serverIdentifier: parseIpv4('127.0.0.1'),
    scopes: config.scopes,
    directScopeIds: [],
  },
  table,
);
const deps: ApiDeps = {
  engine: () => engine,
  config: () => config,
  leaseStore: { path: '/nonexistent/leases.db', count: () => table.size },
  counters: { snapshot: () => ({}) },
  startedAt: now,
  version: '0.0.0-bench',
  clock: systemClock,
};
const app = await buildApiApp(deps, { listenAddress: '127.0.0.1', port: 0 });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as AddressInfo).port;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
/** GET over loopback HTTP (the body kept as the bytes received: the client decodes nothing). */
function get(path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${TOKEN}` } },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

// bench/lib/serve-probe.ts's requests (table and management).
const paths: Record<string, string> = {
  'leases-first-page': '/api/v1/leases?limit=100',
  'leases-first-page-1000': '/api/v1/leases?limit=1000',
  'leases-mid-cursor': '/api/v1/leases?limit=100&cursor=10.16.0.0',
  'leases-deep-cursor-1000': '/api/v1/leases?limit=1000&cursor=10.30.0.0',
  'leases-last-page': '/api/v1/leases?limit=100&cursor=10.31.255.200',
  'leases-by-mac': '/api/v1/leases?mac=02:00:00:01:86:9f',
  'leases-by-hostname': '/api/v1/leases?hostname=client-99999',
  'leases-declined': '/api/v1/leases?state=declined',
  'leases-scope-active': '/api/v1/scopes/10.0.0.0/leases?state=active&limit=1000',
  'leases-scope-active-mid': '/api/v1/scopes/10.0.0.0/leases?state=active&limit=1000&cursor=10.16.0.0',
};
const result: Record<string, unknown> = { leases: count };
for (const [name, url] of Object.entries(paths)) {
  if (!name.includes(values.only)) continue;
  const times: number[] = [];
  let bytes = 0;
  let status = 0;
  for (let i = 0; i <= Number(values.repeat); i++) {
    const t0 = performance.now();
    const r = await get(url);
    times.push(performance.now() - t0);
    bytes = r.bytes;
    status = r.status;
  }
  const rest = times.slice(1);
  const round = (x: number | null) => (x === null ? null : Number(x.toFixed(2)));
  result[name] = {
    first_ms: round(times[0]!),
    median_ms: round(quantile(rest, 0.5)),
    max_ms: round(quantile(rest, 1)),
    status,
    bytes,
  };
}
agent.destroy();
await app.close();
console.log(JSON.stringify(result));
