// A Twinlease lease store at ISP size for bench/table.sh and the start-up budget test: one /8
// scope (10.0.0.0/8, id "10.0.0.0") with one range of 2,031,616 addresses (10.1.0.0–10.31.255.255)
// and N active leases, one per client, spread evenly over the range (free addresses sit between
// bound ones, as in a pool that has turned over). The leases are those of bench/lib/scale-data.ts
// on the scale-import branch (same addresses, MACs, client ids, host names and times), written
// straight into a store through the store's own commit path, so the file is what the server
// itself would have written.
//
//   node --import tsx bench/lib/store-data.ts --out FILE [--leases N] [--now SECONDS]
//        [--expiring K --expiring-at SECONDS]
//
// --expiring K: K of the leases (spread over the range) end at --expiring-at instead (the
// expiry-storm row: K bindings running out in the same second).

import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Lease } from '../../src/dhcp/lease.js';
import { emptyLease } from '../../src/dhcp/lease.js';
import { SqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import type { Ipv4 } from '../../src/wire/ipv4.js';

export const SCALE_SCOPE_ID = '10.0.0.0';
export const SCALE_RANGE_START = (10 << 24) + (1 << 16);
export const SCALE_RANGE_END = (10 << 24) + (31 << 16) + 0xffff;
export const SCALE_RANGE_SIZE = SCALE_RANGE_END - SCALE_RANGE_START + 1;
export const SCALE_LEASE_SECONDS = 86_400;
export const SCALE_SERVER_NAME = 'tl-scale';

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

export interface ScaleOptions {
  count: number;
  now: number;
  /** How many leases end at `expiringAt` (every count/expiring-th one). */
  expiring?: number;
  expiringAt?: number;
}

/** Lease `i` of the data set. */
export function scaleStoreLease(i: number, o: ScaleOptions): Lease {
  if (o.count > SCALE_RANGE_SIZE) throw new Error(`at most ${SCALE_RANGE_SIZE} leases fit the range`);
  const address = (SCALE_RANGE_START + Math.floor((i * SCALE_RANGE_SIZE) / o.count)) as Ipv4;
  const mac = `0200${hex2((i >>> 24) & 255)}${hex2((i >>> 16) & 255)}${hex2((i >>> 8) & 255)}${hex2(i & 255)}`;
  const age = 1 + ((i * 7919) % 43_200);
  const starts = o.now - age;
  const every = o.expiring ? Math.max(1, Math.floor(o.count / o.expiring)) : 0;
  const isExpiring = every > 0 && i % every === 0 && i / every < o.expiring!;
  return {
    ...emptyLease(address, SCALE_SCOPE_ID, 'active', starts),
    hardwareType: 1,
    hardwareAddress: mac,
    clientId: `01${mac}`,
    hostname: `client-${i}`,
    leaseExpiresAt: isExpiring ? o.expiringAt! : starts + SCALE_LEASE_SECONDS,
    clientLastTransactionAt: starts,
    ownerServer: SCALE_SERVER_NAME,
  };
}

/** Writes the data set into a new store at `path` (an existing file is replaced). */
export async function writeScaleStore(path: string, o: ScaleOptions): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
  const store = new SqliteLeaseStore(path);
  const batch = 40_000;
  for (let from = 0; from < o.count; from += batch) {
    const leases: Lease[] = [];
    for (let i = from; i < Math.min(o.count, from + batch); i++) leases.push(scaleStoreLease(i, o));
    await store.commit(leases);
  }
  await store.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      leases: { type: 'string', default: '1000000' },
      now: { type: 'string' },
      expiring: { type: 'string', default: '0' },
      'expiring-at': { type: 'string' },
    },
  });
  if (values.out === undefined) throw new Error('--out is required');
  const now = values.now === undefined ? Math.floor(Date.now() / 1000) : Number(values.now);
  const expiring = Number(values.expiring);
  const options: ScaleOptions = { count: Number(values.leases), now };
  if (expiring > 0) {
    options.expiring = expiring;
    options.expiringAt = Number(values['expiring-at'] ?? now + 60);
  }
  const t0 = performance.now();
  await writeScaleStore(values.out, options);
  console.log(
    JSON.stringify({
      path: values.out,
      leases: options.count,
      now,
      expiring,
      seconds: (performance.now() - t0) / 1000,
    }),
  );
}
