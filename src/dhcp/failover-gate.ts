// The questions the allocation engine asks about a scope that may be shared with a failover
// partner. A standalone scope answers them trivially (StandaloneGate); the failover endpoint
// (src/failover/) provides the real answers from its state, MCLT and hash-bucket assignment.
// Keeping this an interface keeps dhcp/ free of failover/ and lets the simulator drive both.

import type { Ipv4 } from '../wire/ipv4.js';
import type { PoolClass } from './free-pool.js';
import type { BindingState, Lease } from './lease.js';

export type RequestKind =
  | 'discover'
  /** A DISCOVER from a client with a reservation in the scope (docs/failover.md, reserved clients). */
  | 'reservedDiscover'
  | 'selecting'
  | 'initReboot'
  | 'renewing'
  | 'rebinding'
  | 'bootp'
  | 'other';

export interface LeaseGrant {
  /** lease-expiration-time to give the client (seconds since epoch). */
  expiresAt: number;
  /** potential-expiration-time to send the partner (0 when standalone). */
  potentialExpiresAt: number;
}

export interface FailoverGate {
  /** false while the failover state machine is in a non-responsive state (STARTUP, RECOVER, …). */
  isResponsive(now: number): boolean;
  /**
   * Load balancing (RFC 3074 / D12 §5.3): should this server answer this client's message?
   * `hashKey` is the client id, else the hardware address.
   */
  shouldAnswer(kind: RequestKind, hashKey: Uint8Array, secs: number, now: number): boolean;
  /**
   * May this server give `address` to a client that does not currently hold it?
   * `lease` is the stored binding, or undefined for an address that never had one (FREE by D12).
   * Not asked for a client's own reserved address: that goes only to that client, from either
   * server (D12 lets either allocate a reserved address to the client it is reserved for).
   */
  mayAllocate(lease: Lease | undefined, now: number): boolean;
  /** The free-address classes this server allocates from now (primary: free; secondary: backup). */
  allocationClasses(now: number): readonly PoolClass[];
  /** Which lease time may be granted now (MCLT, D12 §7.1.5). */
  grant(lease: Lease | undefined, desiredSeconds: number, isInfinite: boolean, now: number): LeaseGrant;
  /** State a binding enters when the client releases it / when it runs out. */
  stateAfterRelease(): BindingState;
  stateAfterExpiry(): BindingState;
  /**
   * A client answered an OFFER of another server (a SELECTING REQUEST naming `serverId`): if that
   * is the failover partner, it is alive and serving clients.
   */
  noteOtherServerSelected(serverId: Ipv4, now: number): void;
}

const BOTH_CLASSES: readonly PoolClass[] = ['free', 'backup'];

/** A scope with no partner: everything is ours, nothing is bounded by MCLT. */
export class StandaloneGate implements FailoverGate {
  isResponsive(): boolean {
    return true;
  }
  shouldAnswer(): boolean {
    return true;
  }
  mayAllocate(lease: Lease | undefined): boolean {
    return (
      lease === undefined ||
      lease.state === 'free' ||
      lease.state === 'backup' ||
      lease.state === 'expired' ||
      lease.state === 'released' ||
      lease.state === 'reset'
    );
  }
  allocationClasses(): readonly PoolClass[] {
    return BOTH_CLASSES;
  }
  grant(_lease: Lease | undefined, desiredSeconds: number, isInfinite: boolean, now: number): LeaseGrant {
    return { expiresAt: isInfinite ? 0xffffffff : now + desiredSeconds, potentialExpiresAt: 0 };
  }
  stateAfterRelease(): BindingState {
    return 'free';
  }
  noteOtherServerSelected(): void {}
  stateAfterExpiry(): BindingState {
    return 'free';
  }
}

export const STANDALONE_GATE: FailoverGate = new StandaloneGate();
