// Where an imported lease goes (docs/api.md §Export and import): into the scope of the target
// configuration whose counted addresses hold it (a range, not excluded, or a reservation:
// docs/api.md §Statistics), and only onto an address that is free there — no record, or a FREE
// record nobody is offered. A lease outside every scope, or on an address in use, is skipped and
// said why. Pure.

import type { Lease } from '../dhcp/lease.js';
import type { ScopeView } from '../dhcp/scope.js';
import { isCountedAddress } from '../dhcp/statistics.js';

export type SkipReason = 'invalid' | 'outside-scopes' | 'address-in-use' | 'state-not-imported';

export interface SkippedLease {
  ipAddress: string | null;
  reason: SkipReason;
  message: string;
}

/** At most this many skipped leases are listed (the counts are exact). */
export const MAX_SKIPPED_LISTED = 1000;

/** `lease` in the scope that counts its address (its own scope first), or null when none does. */
export function placeLease(lease: Lease, views: readonly ScopeView[]): Lease | null {
  const own = views.find((v) => v.id === lease.scopeId);
  if (own && isCountedAddress(own, lease.address)) return lease;
  const other = views.find((v) => isCountedAddress(v, lease.address));
  return other === undefined ? null : { ...lease, scopeId: other.id };
}

/** May an imported lease take the address that now holds `existing`? */
export function isAddressFree(existing: Lease | undefined, isOffered: boolean): boolean {
  return !isOffered && (existing === undefined || existing.state === 'free');
}
