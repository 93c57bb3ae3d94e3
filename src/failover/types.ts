// Shared vocabulary of the failover core (src/failover/) and its shell (src/server/failover-link.ts,
// the management API). The endpoint is a sans-I/O state machine: the shell feeds it inputs with an
// explicit `now` and carries out the actions it returns.

import type { Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import type { ScopeView } from '../dhcp/scope.js';
import type { FailoverVerifyResult } from '../wire/failover-auth.js';
import type { DecodedFailoverMessage, FailoverMessage, ServerState } from '../wire/failover-message.js';
import type { Ipv4 } from '../wire/ipv4.js';
import type { StateChange } from './state-history.js';

/** The part of the DHCP engine the endpoint uses (DhcpEngine implements it). */
export interface EndpointEngine {
  getLease(address: Ipv4): Lease | undefined;
  putLease(lease: Lease): void;
  /** The bindings, for scans that read columns instead of materialising every lease. */
  readonly leaseTable: LeaseTable;
  scopeView(scopeId: string): ScopeView | undefined;
  isOffered(address: Ipv4, now: number): boolean;
}

export type { ServerState };

/** Identifies one TCP connection for the life of the process (never reused). */
export type ConnectionId = number;

/** What the TCP shell tells the endpoint. Times are seconds since 1970 (may be fractional). */
export type EndpointInput =
  /** A TCP connection with the partner is up (we opened it: outbound; the partner did: inbound). */
  | { type: 'connected'; connectionId: ConnectionId; outbound: boolean }
  /** The connection is gone (peer closed, error, or we closed it). */
  | { type: 'disconnected'; connectionId: ConnectionId; reason: string }
  /**
   * A whole message arrived. `auth` is the digest check done by the shell against the
   * relationship's secret ('ok' when none is configured and none was sent).
   */
  | {
      type: 'message';
      connectionId: ConnectionId;
      message: DecodedFailoverMessage;
      auth: FailoverVerifyResult;
    }
  /** The stream from the partner cannot be decoded any more (framing or decode error). */
  | { type: 'protocolError'; connectionId: ConnectionId; reason: string }
  /** Local bindings changed and are durable (DHCP exchange, expiry): tell the partner. */
  | { type: 'leasesChanged'; leases: readonly Lease[] }
  /** Timer: the shell calls this at least at `nextWakeAt()` and at least once a second. */
  | { type: 'tick' }
  /** Operator: declare the partner down (D12 §9.7 / Windows "Set-DhcpServerv4Failover -PartnerDown"). */
  | { type: 'operatorPartnerDown' }
  /**
   * Operator, in NORMAL with the partner reachable: ask the partner for every binding again
   * (UPDREQALL, D12 §7.7; Kea's ha-sync). Ignored in any other situation (the shell says why).
   */
  | { type: 'operatorResync' }
  /**
   * Operator, in NORMAL with the partner reachable: balance the free pools now (D12 §5.4): the
   * primary moves addresses as its timer would, the secondary asks the primary (POOLREQ).
   */
  | { type: 'operatorRebalance' }
  /** Orderly stop: send STATE (SHUTDOWN or PAUSED) and DISCONNECT before closing. */
  | { type: 'shutdown'; kind: 'shutdown' | 'paused' };

/** What the endpoint asks the shell to do, in order. */
export type EndpointAction =
  /** Encode (and sign, when a secret is configured) and write `message` on the connection. */
  | { type: 'send'; connectionId: ConnectionId; message: FailoverMessage }
  /** Close the connection (after writing anything sent before). */
  | { type: 'close'; connectionId: ConnectionId }
  /** Open an outbound connection to the partner (the shell ignores it if one is in progress). */
  | { type: 'connect' }
  /**
   * Make `leases` and `meta` durable (the engine already holds the leases), then carry out
   * `afterDurable` in order. Used so that a BNDACK, a STATE or a state-dependent reply only
   * leaves after what it vouches for is on stable storage.
   */
  | {
      type: 'persist';
      leases: readonly Lease[];
      meta: ReadonlyArray<{ key: string; value: string }>;
      afterDurable: readonly EndpointAction[];
    }
  /** Something an operator should know (state changes, rejects); the shell logs it. */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; event: string; fields: Record<string, unknown> };

/** Live view of one relationship for the API, metrics and the CLI (windows-model.md names). */
export interface RelationshipStatus {
  name: string;
  role: 'primary' | 'secondary';
  mode: 'loadBalance' | 'hotStandby';
  serverRole: 'active' | 'standby' | null;
  localState: ServerState;
  localStateStartedAt: number;
  partnerState: ServerState | null;
  partnerStateStartedAt: number | null;
  /** TCP up and CONNECT/CONNECTACK done and the partner's STATE received. */
  isCommunicating: boolean;
  /** Last time any message arrived from the partner (0: never). */
  lastContactAt: number;
  /** partner clock − our clock, seconds, from the last message (null: unknown). */
  clockSkewSeconds: number | null;
  /** MCLT in force: the configured one, or (secondary) the one adopted from the primary's CONNECT. */
  mcltSeconds: number;
  /**
   * This server's share of the RFC 3074 hash buckets, percent, under the hash-bucket assignment in
   * force: its own (primary), else the primary's from CONNECT (D12 §7.8.2) — the load-balance
   * split that is really applied (hot standby: 100 active, 0 standby).
   */
  clientSharePercent: number;
  /** Binding updates sent and not yet acknowledged. */
  unackedUpdates: number;
  /** Bindings queued for sending (not yet in flight). */
  queuedUpdates: number;
  /** When COMMUNICATIONS-INTERRUPTED will turn into PARTNER-DOWN (null: not scheduled). */
  partnerDownAt: number | null;
  /** PARTNER-DOWN: when the partner's free addresses become usable (stos + MCLT). */
  partnerPoolUsableAt: number | null;
  /** Last time a client took the partner's OFFER (seen here): it postpones automatic partner-down. */
  partnerSeenServingAt: number | null;
  partnerVendorClass: string | null;
  counters: Readonly<Record<string, number>>;
  /** The last state changes, newest first (kept by the shell, src/failover/state-history.ts). */
  stateHistory?: readonly StateChange[];
}

/** A `log` action. */
export function log(
  level: 'info' | 'warn' | 'error',
  event: string,
  fields: Record<string, unknown>,
): EndpointAction {
  return { type: 'log', level, event, fields };
}
