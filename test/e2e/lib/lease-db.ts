// Reads the server's lease database through the project's own store (src/leases/sqlite-store.ts),
// so the tests see exactly what a restarted server would load.

import type { Lease } from '../../../src/dhcp/lease.js';
import { openSqliteLeaseStore } from '../../../src/leases/sqlite-store.js';
import { formatIpv4 } from '../../../src/wire/ipv4.js';

export interface StoredLease extends Lease {
  /** Dotted form of `address`, for messages and maps keyed like the replies. */
  ip: string;
}

/** Every stored binding, keyed by dotted address. */
export async function readLeases(dbPath: string): Promise<Map<string, StoredLease>> {
  const store = openSqliteLeaseStore(dbPath);
  try {
    const out = new Map<string, StoredLease>();
    for (const lease of store.loadAll()) {
      const ip = formatIpv4(lease.address);
      out.set(ip, { ...lease, ip });
    }
    return out;
  } finally {
    await store.close();
  }
}

export function describeLease(l: StoredLease | undefined): string {
  if (!l) return 'no row';
  return `${l.ip} ${l.state} hw=${l.hardwareAddress} expires=${l.leaseExpiresAt} scope=${l.scopeId}`;
}
