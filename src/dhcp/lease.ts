// One address binding, as the engine keeps it in memory and the lease store keeps it on disk.
// The fields are the union of what RFC 2131 needs, what draft-ietf-dhc-failover-12 needs per
// address (§6.1 of shared/spec/failover.md), and what Windows' DHCPV4_FAILOVER_CLIENT_INFO
// reports (seed 001), so failover and the API add behaviour, not columns.
// Times are whole seconds since 1970-01-01 UTC (as on the failover wire); 0 means "never/none".

import type { Ipv4 } from '../wire/ipv4.js';

/** D12 binding status (failover.md §4.1). `free` = available to the primary, `backup` = to the secondary. */
export type BindingState = 'free' | 'active' | 'expired' | 'released' | 'abandoned' | 'reset' | 'backup';

/** Windows bClientType, without the reservation flag (that is `isReserved`). */
export type ClientType = 'dhcp' | 'bootp';

/** RFC 4701 DHCID flavour used for name protection (Windows AddressState bits 2–3). */
export type DhcidMode = 'none' | 'noClientId' | 'clientId' | 'duid';

/** Windows AddressState bits 4–7. */
export interface DnsFlags {
  cleanupOnDelete: boolean;
  updateBothRecords: boolean;
  registrationPending: boolean;
  removalPending: boolean;
}

export const NO_DNS_FLAGS: Readonly<DnsFlags> = Object.freeze({
  cleanupOnDelete: false,
  updateBothRecords: false,
  registrationPending: false,
  removalPending: false,
});

/** Lease expiry used for infinite (BOOTP) leases: the largest uint32, as on the wire. */
export const INFINITE_EXPIRY = 0xffffffff;

export interface Lease {
  address: Ipv4;
  scopeId: string;
  state: BindingState;
  /** Hardware type (1 = Ethernet); 0 when no client (free/backup). */
  hardwareType: number;
  /** Hardware address, lower-case hex without separators; '' when none. */
  hardwareAddress: string;
  /** Client identifier (option 61 data) as hex, or null when the client sent none. */
  clientId: string | null;
  hostname: string | null;
  clientType: ClientType;
  /** The address comes from a reservation (Windows CLIENT_TYPE_RESERVATION_FLAG, D12 IP-flags R). */
  isReserved: boolean;
  /** lease-expiration-time as told to the client; for `abandoned`, the end of the decline hold. */
  leaseExpiresAt: number;
  /** start-time-of-state: when the binding entered `state`. */
  stateStartedAt: number;
  /** client-last-transaction-time: the last time this server (or the partner, per BNDUPD) heard from the client. */
  clientLastTransactionAt: number;
  /** Name (or address) of the server that granted the binding (Windows OwnerHost). */
  ownerServer: string | null;
  /** Policy whose settings produced this binding (issue 7); null if none matched. */
  policyName: string | null;
  // Failover (D12 §6.1): potential expiration times per address.
  sentPotentialExpiresAt: number;
  ackedPotentialExpiresAt: number;
  receivedPotentialExpiresAt: number;
  /** Last time a binding update for this address was sent to or applied from the partner. */
  lastBindingUpdateAt: number;
  /** The partner has acknowledged the current contents of this binding. */
  isPartnerUpToDate: boolean;
  // Dynamic DNS (issue 7).
  fqdn: string | null;
  dhcidMode: DhcidMode;
  dns: DnsFlags;
  /**
   * The lease table's version of this binding (src/dhcp/lease-table.ts): stamped when the value is
   * put, carried by every value read back. Two values of one address with the same version hold
   * the same binding; a value never put has none. The table materialises a fresh object on every
   * read, so this, not object identity, tells whether a binding changed since a value was taken.
   */
  version?: number;
}

/** A lease record with every optional field at its neutral value; callers override what they know. */
export function emptyLease(address: Ipv4, scopeId: string, state: BindingState, now: number): Lease {
  return {
    address,
    scopeId,
    state,
    hardwareType: 0,
    hardwareAddress: '',
    clientId: null,
    hostname: null,
    clientType: 'dhcp',
    isReserved: false,
    leaseExpiresAt: 0,
    stateStartedAt: now,
    clientLastTransactionAt: 0,
    ownerServer: null,
    policyName: null,
    sentPotentialExpiresAt: 0,
    ackedPotentialExpiresAt: 0,
    receivedPotentialExpiresAt: 0,
    lastBindingUpdateAt: 0,
    isPartnerUpToDate: false,
    fqdn: null,
    dhcidMode: 'none',
    dns: { ...NO_DNS_FLAGS },
  };
}

/** Windows AddressState bits 0–1 derived from the D12 state (windows-model.md §1.5). */
export type AddressState = 'offered' | 'active' | 'declined' | 'doomed';

export function addressStateOf(state: BindingState): AddressState | null {
  switch (state) {
    case 'active':
      return 'active';
    case 'abandoned':
      return 'declined';
    case 'expired':
    case 'released':
    case 'reset':
      return 'doomed';
    case 'free':
    case 'backup':
      return null;
  }
}
