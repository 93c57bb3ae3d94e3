// Lease-time safety: what a failover server may promise a client, and what potential expiration
// it tells its partner (D12 §5.2, §7.1.5, §9.8.3; failover.md §6.2–§6.3, §7.5). Pure arithmetic.

import type { Lease } from '../dhcp/lease.js';
import { INFINITE_EXPIRY } from '../dhcp/lease.js';

export interface GrantInput {
  now: number;
  /** The lease length the scope (or client) wants. */
  desiredSeconds: number;
  mcltSeconds: number;
  /** The binding as stored, if any. */
  lease: Lease | undefined;
  /**
   * COMMUNICATIONS-INTERRUPTED and RESOLUTION-INTERRUPTED also keep the client's current expiry
   * (D12 §9.9.2, §9.11.2), so existing clients do not lose time while the partner is unreachable:
   * a renewal never ends before it. It is a floor, not part of the bound: a current expiry the
   * partner has not acknowledged is unknown to it, and counting it in the bound let each renewal
   * reach MCLT past the previous one, a chain the partner in PARTNER-DOWN does not wait out (sim
   * seed 9757: a renewed its client to 369 s; b, told nothing, reused the address at 298 s).
   */
  includeCurrentExpiry: boolean;
}

export interface Grant {
  expiresAt: number;
  potentialExpiresAt: number;
}

/**
 * client expiry ≤ max(now, ackedPET, receivedPET) + MCLT; grant min(now + desired, that bound),
 * but in COMMUNICATIONS-INTERRUPTED never less than the current expiry. The potential expiration sent to the partner is the desired
 * expiry plus half the granted time (D12's example; ISC sends cltt + lease + MCLT/2 on a first
 * grant, the same value when the grant is capped at MCLT), so the next renewal can be full length.
 */
export function boundedGrant(input: GrantInput): Grant {
  const { now, desiredSeconds, mcltSeconds, lease } = input;
  let base = now;
  let floor = 0;
  if (lease) {
    base = Math.max(base, lease.ackedPotentialExpiresAt, lease.receivedPotentialExpiresAt);
    if (input.includeCurrentExpiry && lease.state === 'active' && lease.leaseExpiresAt !== INFINITE_EXPIRY) {
      floor = lease.leaseExpiresAt;
    }
  }
  const bound = base + mcltSeconds;
  // A finite lease stays a uint32 time (option 13) and never reads as the infinite expiry.
  const expiresAt = Math.max(
    Math.min(now + desiredSeconds, bound, INFINITE_EXPIRY - 1),
    Math.min(floor, INFINITE_EXPIRY - 1),
  );
  const granted = Math.max(0, expiresAt - now);
  const potentialExpiresAt = Math.min(
    INFINITE_EXPIRY - 1,
    Math.max(expiresAt, now + desiredSeconds + Math.floor(granted / 2)),
  );
  return { expiresAt, potentialExpiresAt };
}

/**
 * In PARTNER-DOWN, the earliest time an address that the partner may have used can go to a
 * different client (D12 §9.4, failover.md §7.5): never before stos(PD) + MCLT, and not before
 * MCLT past anything the partner may have promised for it.
 */
export function partnerDownReuseAt(
  lease: Lease | undefined,
  partnerDownSince: number,
  mcltSeconds: number,
): number {
  let latest = partnerDownSince;
  if (lease) {
    const expiry =
      lease.leaseExpiresAt === INFINITE_EXPIRY ? INFINITE_EXPIRY - mcltSeconds : lease.leaseExpiresAt;
    latest = Math.max(
      latest,
      expiry,
      lease.sentPotentialExpiresAt,
      lease.ackedPotentialExpiresAt,
      lease.receivedPotentialExpiresAt,
    );
  }
  return latest + mcltSeconds;
}
