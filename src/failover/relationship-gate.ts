// The failover relationship's answers to the DHCP engine (src/dhcp/failover-gate.ts): whether to
// answer a client at all (D12 §9 per state; RFC 3074 load balancing in NORMAL, spec §8), which
// addresses this server may allocate (its own pool; the partner's in PARTNER-DOWN once MCLT has
// passed, D12 §5.5, §9.4) and how long a lease may be (the MCLT rule, D12 §5.2: lease-time.ts).
// The state it reads is the endpoint's (GateHost); the gate itself keeps none.

import type { ResolvedRelationship } from '../config/resolved.js';
import type { FailoverGate, LeaseGrant, RequestKind } from '../dhcp/failover-gate.js';
import type { PoolClass } from '../dhcp/free-pool.js';
import { type BindingState, INFINITE_EXPIRY, type Lease } from '../dhcp/lease.js';
import { ServerState } from '../wire/failover-message.js';
import type { Ipv4 } from '../wire/ipv4.js';
import { loadBalanceHash } from './hash-bucket.js';
import { boundedGrant } from './lease-time.js';
import { responsiveness } from './state-machine.js';

/** What the gate reads of its endpoint (FailoverEndpoint implements it). */
export interface GateHost {
  readonly currentState: ServerState;
  readonly role: 'primary' | 'secondary';
  readonly relationship: ResolvedRelationship;
  readonly mclt: number;
  servesBucket(bucket: number): boolean;
  ownClass(): PoolClass;
  isOwnPoolUsable(now: number): boolean;
  partnerPoolUsableAt(): number;
  reuseAt(lease: Lease): number;
  creditFor(lease: Lease): { lease: Lease; isExpiryTrusted: boolean } | null;
  notePartnerSeenServing(now: number): void;
}

/** The answers the DHCP engine gets for a scope of this relationship. */
export class RelationshipGate implements FailoverGate {
  constructor(private readonly e: GateHost) {}

  isResponsive(): boolean {
    return responsiveness(this.e.currentState, this.e.role) !== 'none';
  }

  shouldAnswer(kind: RequestKind, hashKey: Uint8Array, secs: number): boolean {
    const r = responsiveness(this.e.currentState, this.e.role);
    if (r === 'none') return false;
    const isRenewal = kind === 'renewing' || kind === 'rebinding';
    if (r === 'all' || isRenewal) return true;
    // A reserved client's DISCOVER is answered by both servers in load balance, whatever its hash
    // bucket (docs/failover.md, DECISION "Reserved clients"): as dhcpd answers fixed-address hosts.
    // In hot standby the active server answers it, like everyone.
    if (kind === 'reservedDiscover' && this.e.relationship.mode === 'loadBalance') return true;
    // NORMAL: RFC 3074 load balancing; a client that has waited longer than the limit is answered
    // anyway. Strictly longer, as ISC's load_balance_mine() (spec §8.5): secs = max is not enough.
    const max = this.e.relationship.loadBalanceMaxSeconds;
    if (max > 0 && secs > max) return true;
    return this.e.servesBucket(loadBalanceHash(hashKey));
  }

  private partnerPoolUsable(now: number): boolean {
    return this.e.currentState === ServerState.PARTNER_DOWN && now >= this.e.partnerPoolUsableAt();
  }

  mayAllocate(lease: Lease | undefined, now: number): boolean {
    const own = this.e.ownClass();
    const isOwnUsable = this.e.isOwnPoolUsable(now);
    if (lease === undefined) {
      // Never used = FREE (D12): the primary's; the secondary's only in PARTNER-DOWN after MCLT.
      return isOwnUsable && (own === 'free' || this.partnerPoolUsable(now));
    }
    // The own-pool hold (PARTNER-DOWN entered before the partner was heard since our start) holds
    // every reuse too: while we were down the partner may have run in COMMUNICATIONS-INTERRUPTED
    // and granted MCLT-long leases from its pool that we never heard of (sim seed 328552).
    if (!isOwnUsable) return false;
    if (lease.state === 'free' || lease.state === 'backup') {
      if (lease.state === own) return true;
      return this.partnerPoolUsable(now) && now >= this.e.reuseAt(lease);
    }
    if (lease.state === 'expired' || lease.state === 'released' || lease.state === 'reset') {
      return this.e.currentState === ServerState.PARTNER_DOWN && now >= this.e.reuseAt(lease);
    }
    return false;
  }

  allocationClasses(now: number): readonly PoolClass[] {
    if (!this.e.isOwnPoolUsable(now)) return NO_CLASS;
    const own = this.e.ownClass();
    if (this.partnerPoolUsable(now)) return own === 'free' ? ['free', 'backup'] : ['backup', 'free'];
    return own === 'free' ? FREE_ONLY : BACKUP_ONLY;
  }

  grant(lease: Lease | undefined, desiredSeconds: number, isInfinite: boolean, now: number): LeaseGrant {
    if (isInfinite) return { expiresAt: INFINITE_EXPIRY, potentialExpiresAt: INFINITE_EXPIRY };
    const s = this.e.currentState;
    const credit = lease === undefined ? null : this.e.creditFor(lease);
    return boundedGrant({
      now,
      desiredSeconds,
      mcltSeconds: this.e.mclt,
      lease: credit?.lease,
      includeCurrentExpiry:
        (credit?.isExpiryTrusted ?? true) &&
        (s === ServerState.COMMUNICATIONS_INTERRUPTED || s === ServerState.RESOLUTION_INTERRUPTED),
    });
  }

  // Even in PARTNER-DOWN a binding that ends is not free at once: the partner may have extended
  // it (up to MCLT past the potential expiration we acknowledged) before it went away. It becomes
  // ours once partnerDownReuseAt() has passed (reclaimInPartnerDown); outside PARTNER-DOWN, once
  // the partner acknowledges it (D12 §5.5, §9.4; found by sim seed 66).
  stateAfterRelease(): BindingState {
    return 'released';
  }

  stateAfterExpiry(): BindingState {
    return 'expired';
  }

  noteOtherServerSelected(serverId: Ipv4, now: number): void {
    if (serverId === this.e.relationship.partner.address) this.e.notePartnerSeenServing(now);
  }
}

const NO_CLASS: readonly PoolClass[] = [];
const FREE_ONLY: readonly PoolClass[] = ['free'];
const BACKUP_ONLY: readonly PoolClass[] = ['backup'];
