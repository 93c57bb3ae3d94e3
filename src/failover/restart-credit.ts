// What a restart no clock measured leaves trusted (docs/safety.md, "Restarts" and "Why no address
// can be held twice" (3)): the potential expirations a grant may count on, and which of our stored
// times conflict resolution may order against the partner's. Without such a restart (this process
// or, carried by the shell's checkpoint, an earlier one) everything stored is trusted and every
// time is ordered. No I/O: the endpoint tells it what the partner confirmed and what it took.

import type { Lease } from '../dhcp/lease.js';
import type { Ipv4 } from '../wire/ipv4.js';
import type { UnmeasuredRestart } from './lease-time.js';

export class RestartCredit {
  /**
   * After an unmeasured restart: address → the latest potential expiration the partner has
   * acknowledged or sent since (null otherwise). Stored PETs may be late in real time by a
   * backward step of the wall clock during the downtime, which would let a grant outlive what the
   * partner waits for; only PETs confirmed since the restart count towards a grant (creditFor).
   */
  private readonly creditSinceRestart: Map<Ipv4, number> | null;
  /**
   * After an unmeasured restart: addresses whose binding this process has taken from the partner
   * with the partner's CLTT (converted with a fresh offset): those times are ordered, even when
   * older than the restart. Our other times from before it are not (decideIncoming's
   * orderedTimesFrom). Lost with a later restart, measured or not: the times then count as
   * unordered again, the safe direction.
   */
  private readonly receivedSinceRestart: Set<Ipv4> | null;

  /**
   * `unmeasuredRestart`: the latest restart no clock measured, by this process or an earlier one
   * (a measured restart since keeps it); null: none.
   */
  constructor(private readonly unmeasuredRestart: UnmeasuredRestart | null) {
    // After a measured restart that followed an unmeasured one, what the partner confirmed in
    // between is forgotten: the stored PETs of bindings from before that one count only once
    // confirmed again (the safe direction).
    this.creditSinceRestart = unmeasuredRestart === null ? null : new Map();
    this.receivedSinceRestart = unmeasuredRestart === null ? null : new Set();
  }

  /**
   * The binding a grant may count on (D12 §7.1.5: MCLT past what the partner knows). After an
   * unmeasured restart the stored PETs and expiry are not trusted: a grant counts only on PETs
   * confirmed since (creditSinceRestart) and keeps no current expiry (COMMUNICATIONS-INTERRUPTED's
   * floor); everything else is MCLT past now, as for a binding the partner never heard of. A
   * client transaction since the restart does not make the stored expiry trustworthy: the engine
   * keeps the longer expiry from before the restart in the store when it tells the client less
   * (src/dhcp/engine.ts bind, sim seeds 131981, 67602, 154253), so the stored expiry may still be
   * a time from before the restart, which told to a client would read late by the unknown step.
   * The credit only narrows what the binding says: a PET confirmed since the restart that the
   * binding no longer carries (a later update replaced it with a lower one) counts no more than
   * it would have without the restart (sim seeds 4958, 9141, 9614, 11181: a grant MCLT past the
   * larger, older PET).
   */
  creditFor(lease: Lease): { lease: Lease; isExpiryTrusted: boolean } {
    const r = this.unmeasuredRestart;
    if (r === null || this.creditSinceRestart === null) return { lease, isExpiryTrusted: true };
    const confirmed = Math.min(
      this.creditSinceRestart.get(lease.address) ?? 0,
      Math.max(lease.ackedPotentialExpiresAt, lease.receivedPotentialExpiresAt),
    );
    return {
      lease: { ...lease, ackedPotentialExpiresAt: confirmed, receivedPotentialExpiresAt: 0 },
      isExpiryTrusted: false,
    };
  }

  /** The partner acknowledged (BNDACK) or sent (BNDUPD) `potentialExpiresAt` for `address`. */
  noteCreditSinceRestart(address: Ipv4, potentialExpiresAt: number | undefined): void {
    if (this.creditSinceRestart === null || potentialExpiresAt === undefined) return;
    this.creditSinceRestart.set(
      address,
      Math.max(this.creditSinceRestart.get(address) ?? 0, potentialExpiresAt),
    );
  }

  /**
   * We took the partner's binding of `address`. `isPartnersCltt`: the binding's CLTT is now the
   * partner's, converted on this connection: ordered. (The same client's later CLTT of ours may be
   * kept instead: ordered only if taken since the restart.)
   */
  noteReceived(address: Ipv4, isPartnersCltt: boolean): void {
    if (this.receivedSinceRestart === null) return;
    if (isPartnersCltt) this.receivedSinceRestart.add(address);
    else this.receivedSinceRestart.delete(address);
  }

  /**
   * decideIncoming's orderedTimesFrom for `address`: our stored times before it are not ordered
   * against the partner's; undefined when all of them are.
   */
  orderedTimesFrom(address: Ipv4): number | undefined {
    return this.unmeasuredRestart !== null && !this.receivedSinceRestart?.has(address)
      ? this.unmeasuredRestart.bootAt
      : undefined;
  }
}
