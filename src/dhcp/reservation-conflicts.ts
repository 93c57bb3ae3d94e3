// Reservations on addresses that are bound to another client. Such a reservation does not take
// effect while that binding lasts: the engine keeps renewing the holder (its binding is active and
// its own) and leaves the reserved client unanswered ('reserved-address-in-use'). The shell uses
// this to refuse configuration changes that would create one and to warn about those it runs
// with (docs/configuration.md §reservations). Pure.

import type { Ipv4 } from '../wire/ipv4.js';
import { INFINITE_EXPIRY, type Lease } from './lease.js';
import { type EngineReservation, type EngineScope, ScopeView } from './scope.js';

export interface ReservationConflict {
  /** Index of the scope in `scopes` (the config file's order). */
  scopeIndex: number;
  scopeId: string;
  /** Index of the reservation in its scope's list. */
  reservationIndex: number;
  reservation: EngineReservation;
  /** The binding of the other client. */
  lease: Lease;
}

/** Is `lease` an active binding that has not run out at `now`? */
function isBound(lease: Lease, now: number): boolean {
  return lease.state === 'active' && (lease.leaseExpiresAt === INFINITE_EXPIRY || lease.leaseExpiresAt > now);
}

/**
 * Every reservation of `scopes` whose address holds, at `now`, an active binding of a client the
 * reservation is not for (the client would not be given this reservation by the engine's own
 * rule: client identifier first, then hardware address).
 */
export function findReservationConflicts(
  scopes: readonly EngineScope[],
  leaseAt: (address: Ipv4) => Lease | undefined,
  now: number,
): ReservationConflict[] {
  const conflicts: ReservationConflict[] = [];
  scopes.forEach((scope, scopeIndex) => {
    if (scope.reservations.length === 0) return;
    let view: ScopeView | null = null;
    scope.reservations.forEach((reservation, reservationIndex) => {
      const lease = leaseAt(reservation.address);
      if (lease === undefined || !isBound(lease, now)) return;
      view ??= new ScopeView(scope);
      if (view.reservationFor(lease.hardwareAddress, lease.clientId) === reservation) return;
      conflicts.push({ scopeIndex, scopeId: scope.id, reservationIndex, reservation, lease });
    });
  });
  return conflicts;
}
