// Active leases a configuration change would orphan: bindings a client holds now at an address
// that the new configuration leaves outside every scope (not in a range, or excluded, or not
// reserved any more; the subnet moved). Such a client is NAKed or ignored at its next renewal and
// the record counts nowhere (docs/api.md §Statistics); in failover the partner then rejects our
// updates for it. Only leases the change orphans are listed: a lease already outside every scope
// before the change does not make a later change unsafe.

import type { ResolvedConfig } from '../config/resolved.js';
import { INFINITE_EXPIRY, type Lease } from '../dhcp/lease.js';
import { ScopeView } from '../dhcp/scope.js';
import { isCountedAddress } from '../dhcp/statistics.js';
import { formatIpv4 } from '../wire/ipv4.js';
import type { ApiEngine } from './deps.js';
import { colonHex, isoOrNull } from './format.js';

/** At most this many are listed in an answer (the count is always exact). */
export const MAX_ORPHANED_LEASES_LISTED = 1000;

export interface OrphanedLease {
  ipAddress: string;
  scopeId: string;
  hardwareAddress: string | null;
  clientId: string | null;
  hostname: string | null;
  /** null: an infinite (BOOTP) lease. */
  leaseExpiresAt: string | null;
  ownerServer: string | null;
}

export interface OrphanedLeases {
  /** Every orphaned lease, however many are listed. */
  count: number;
  /** The first MAX_ORPHANED_LEASES_LISTED, by address. */
  items: OrphanedLease[];
}

/** A binding a client holds at `now`. */
function isHeld(lease: Lease, now: number): boolean {
  return lease.state === 'active' && (lease.leaseExpiresAt === INFINITE_EXPIRY || lease.leaseExpiresAt > now);
}

function isCountedIn(views: readonly ScopeView[], lease: Lease): boolean {
  // The scope the record names first: the usual case costs one range check.
  const own = views.find((v) => v.id === lease.scopeId);
  if (own && isCountedAddress(own, lease.address)) return true;
  return views.some((v) => v !== own && isCountedAddress(v, lease.address));
}

/** Active leases of `engine` that `next` leaves outside every scope, by address. */
export function orphanedLeases(engine: ApiEngine, next: ResolvedConfig, now: number): OrphanedLeases {
  const before: ScopeView[] = [];
  for (const id of engine.scopeIds()) {
    const v = engine.scopeView(id);
    if (v) before.push(v);
  }
  const after = next.scopes.map((s) => new ScopeView(s));
  const found: Lease[] = [];
  for (const lease of engine.leases()) {
    if (!isHeld(lease, now)) continue;
    if (isCountedIn(before, lease) && !isCountedIn(after, lease)) found.push(lease);
  }
  found.sort((a, b) => a.address - b.address);
  return {
    count: found.length,
    items: found.slice(0, MAX_ORPHANED_LEASES_LISTED).map((l) => ({
      ipAddress: formatIpv4(l.address),
      scopeId: l.scopeId,
      hardwareAddress: colonHex(l.hardwareAddress),
      clientId: colonHex(l.clientId),
      hostname: l.hostname,
      leaseExpiresAt: isoOrNull(l.leaseExpiresAt),
      ownerServer: l.ownerServer,
    })),
  };
}
