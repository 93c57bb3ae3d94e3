// Lease-time safety: what a failover server may promise a client, and what potential expiration
// it tells its partner (D12 §5.2, §7.1.5, §9.8.3; failover.md §6.2–§6.3, §7.5), and which addresses
// PARTNER-DOWN takes back once their reuse wait is over. Pure: no I/O, `now` passed in.

import type { BindingState, Lease } from '../dhcp/lease.js';
import { INFINITE_EXPIRY } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';

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
 * A restart whose downtime no clock measured (src/server/clock.ts: the host lost power, so the
 * monotonic clock did not run through it). The timeline was advanced by what the wall clock says,
 * which a step of the wall clock during the downtime makes too much: every wait that was running
 * before the downtime resumes with the time it still had then, counted from the restart
 * (docs/safety.md, "Restarts"). Times in timeline seconds.
 */
export interface UnmeasuredRestart {
  /** The last checkpoint of the previous process: it was alive then. */
  lastAliveAt: number;
  /** When this process started (lastAliveAt + the downtime as the wall clock tells it). */
  bootAt: number;
}

/** `deadline`, set before the downtime and still running at its start, re-armed from the restart. */
export function rearmed(deadline: number, restart: UnmeasuredRestart | null): number {
  if (restart === null || deadline <= restart.lastAliveAt) return deadline;
  return deadline + (restart.bootAt - restart.lastAliveAt);
}

/**
 * In PARTNER-DOWN, the earliest time an address that the partner may have used can go to a
 * different client (D12 §9.4, failover.md §7.5): never before stos(PD) + MCLT, and not before
 * MCLT past anything the partner may have promised for it. After an unmeasured restart, waits that
 * come from before it are re-armed: PARTNER-DOWN entered before the restart, and a binding whose
 * last client transaction was before it (one after it carries times taken since; the acknowledged
 * PET may keep an older, larger value, which only makes the wait longer).
 */
export function partnerDownReuseAt(
  lease: Lease | undefined,
  partnerDownSince: number,
  mcltSeconds: number,
  restart: UnmeasuredRestart | null = null,
): number {
  const stateWait = partnerDownSince + mcltSeconds;
  let latest =
    restart !== null && partnerDownSince < restart.bootAt ? rearmed(stateWait, restart) : stateWait;
  if (lease) {
    const expiry =
      lease.leaseExpiresAt === INFINITE_EXPIRY ? INFINITE_EXPIRY - mcltSeconds : lease.leaseExpiresAt;
    const leaseWait =
      Math.max(
        expiry,
        lease.sentPotentialExpiresAt,
        lease.ackedPotentialExpiresAt,
        lease.receivedPotentialExpiresAt,
      ) + mcltSeconds;
    const isFromBefore = restart !== null && lease.clientLastTransactionAt < restart.bootAt;
    latest = Math.max(latest, isFromBefore ? rearmed(leaseWait, restart) : leaseWait);
  }
  return latest;
}

/**
 * In PARTNER-DOWN (D12 §9.4, spec §7.5) expired/released/reset bindings become free once the
 * partner can no longer be using them (`reuseAt`: partnerDownReuseAt); they become ours (`own`:
 * FREE for the primary, BACKUP for the secondary) so the engine can allocate them. Returns those
 * bindings, to be put, persisted and sent.
 */
export function partnerDownReclaims(
  t: LeaseTable,
  scopeIds: ReadonlySet<string>,
  own: BindingState,
  reuseAt: (lease: Lease) => number,
  now: number,
): Lease[] {
  const changed: Lease[] = [];
  t.forEachFrom(-1, (s) => {
    const state = t.stateAt(s);
    if (state !== 'expired' && state !== 'released' && state !== 'reset') return true;
    if (!scopeIds.has(t.scopeIdAt(s))) return true;
    const lease = t.leaseAt(s);
    if (now < reuseAt(lease)) return true;
    const next: Lease = { ...lease, state: own, stateStartedAt: Math.floor(now), isPartnerUpToDate: false };
    changed.push(next);
    return true;
  });
  return changed;
}
