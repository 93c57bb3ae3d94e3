// Reservations against the live lease table (docs/configuration.md §reservations): a config
// change that reserves an address leased to another client is refused with a config error naming
// that lease; a conflict the running config already has is only reported (so that it never blocks
// an unrelated reload, and a restart never takes DHCP down for it).

import type { ConfigError } from '../config/errors.js';
import { pointerOf, readablePath } from '../config/errors.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { Lease } from '../dhcp/lease.js';
import { findReservationConflicts, type ReservationConflict } from '../dhcp/reservation-conflicts.js';
import { formatIpv4, formatMac, type Ipv4 } from '../wire/ipv4.js';

export interface ReservationCheck {
  /** Conflicts `next` would add to the running config: the change must be refused. */
  errors: ConfigError[];
  /** Conflicts the running config has too (or all of them, at start): warn. */
  running: ReservationConflict[];
}

/** Same scope, address and reserved client, against the same lease: the same conflict. */
function conflictKey(c: ReservationConflict): string {
  const r = c.reservation;
  return `${c.scopeId}|${r.address}|${r.clientId}|${r.hardwareAddress}|${c.lease.clientId}|${c.lease.hardwareAddress}`;
}

/** The client of a lease as operators read it: MAC, and client id when it sent one. */
export function leaseClientText(lease: Lease): string {
  const mac = lease.hardwareAddress === '' ? 'no MAC' : `MAC ${formatMac(lease.hardwareAddress)}`;
  return lease.clientId === null ? mac : `${mac} (client id ${formatMac(lease.clientId)})`;
}

function expiryText(lease: Lease): string {
  return lease.leaseExpiresAt >= 0xffffffff
    ? 'with no end (BOOTP)'
    : `until ${new Date(lease.leaseExpiresAt * 1000).toISOString().replace('.000Z', 'Z')}`;
}

export function conflictMessage(c: ReservationConflict): string {
  const address = formatIpv4(c.reservation.address);
  return (
    `${address} is leased to another client: ${leaseClientText(c.lease)} ${expiryText(c.lease)}; ` +
    'the reservation would not take effect before that lease ends (the reserved client would get no address). ' +
    'Reserve another address, or add this one once the lease has ended or the client released it'
  );
}

/**
 * Checks `next`'s reservations against the leases; `current` is the running config (null at
 * start, when every conflict is a running one).
 */
export function checkReservations(
  current: ResolvedConfig | null,
  next: ResolvedConfig,
  leaseAt: (address: Ipv4) => Lease | undefined,
  now: number,
): ReservationCheck {
  const found = findReservationConflicts(next.scopes, leaseAt, now);
  if (found.length === 0) return { errors: [], running: [] };
  const before =
    current === null
      ? null
      : new Set(findReservationConflicts(current.scopes, leaseAt, now).map(conflictKey));
  const errors: ConfigError[] = [];
  const running: ReservationConflict[] = [];
  for (const c of found) {
    if (before === null || before.has(conflictKey(c))) {
      running.push(c);
      continue;
    }
    const pointer = pointerOf(['scopes', c.scopeIndex, 'reservations', c.reservationIndex, 'address']);
    errors.push({
      file: next.file,
      path: pointer,
      readablePath: readablePath(pointer),
      message: conflictMessage(c),
    });
  }
  return { errors, running };
}
