// What the management API needs from the running server, as a small interface: the HTTP layer
// reads live state through these getters (the engine and the config are replaced on reload) and
// never reaches into the shell. Tests build it from a bare engine and a loaded config.

import type { Logger } from 'pino';
import type { ConfigChanges, ConfigError } from '../config/loader.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { DhcpEngine } from '../dhcp/engine.js';
import type { Lease } from '../dhcp/lease.js';
import type { RelationshipStatus } from '../failover/types.js';
import type { Clock } from '../server/clock.js';
import type { LeaseImportResult, LeaseOperationResult } from '../server/lease-operations.js';
import type { Ipv4 } from '../wire/ipv4.js';
import type { OrphanedLeases } from './orphaned-leases.js';

/** The read-only part of DhcpEngine the API uses. */
export type ApiEngine = Pick<
  DhcpEngine,
  | 'settings'
  | 'leases'
  | 'leaseTable'
  | 'getLease'
  | 'scopeIds'
  | 'scopeView'
  | 'pendingOffers'
  | 'scopeStatistics'
  | 'isOffered'
>;

/**
 * What the failover endpoint gives the API (src/server/failover-service.ts). Optional: without it
 * the API shows the configured relationships with state `noState` and refuses partner-down.
 */
export interface FailoverApi {
  /** Live status of every running relationship (src/failover/types.ts). */
  statuses(): readonly RelationshipStatus[];
  /** The TCP listeners the relationships share (src/server/failover-listener.ts); optional. */
  listeners?(): readonly FailoverListenerStatus[];
  /** Operator PARTNER-DOWN (Set-DhcpServerv4Failover -PartnerDown). */
  declarePartnerDown(
    name: string,
  ): { ok: true } | { ok: false; reason: 'unknown' | 'invalidState'; message: string };
  /** Operator resync (UPDREQALL) or pool rebalance, in NORMAL with the partner reachable. */
  operatorSync?(
    name: string,
    kind: 'resync' | 'rebalance',
  ): { ok: true } | { ok: false; reason: 'unknown' | 'invalidState'; message: string };
}

/**
 * Operator changes to single bindings (src/server/lease-operations.ts). Optional: without it the
 * lease release and delete routes answer 501.
 */
export interface LeaseOperationsApi {
  /** Ends an active binding as the client's DHCPRELEASE would. */
  release(address: Ipv4): Promise<LeaseOperationResult>;
  /** Deletes the record; an active one only with `force` (released first). */
  remove(address: Ipv4, options: { force: boolean }): Promise<LeaseOperationResult>;
  /** Online import: active/abandoned bindings onto free addresses. */
  importLeases?(leases: readonly Lease[]): Promise<LeaseImportResult | { error: string }>;
}

/** One failover listener: its relationships and what it did with its connections. */
export interface FailoverListenerStatus {
  listen: string;
  relationships: readonly string[];
  matched: number;
  refused: Readonly<Record<string, number>>;
  nameOfAnotherPartner: number;
  waitingForConnect: number;
}

/** direct mode: one served interface (src/server/direct/direct-transport.ts). */
export interface DhcpInterfaceStatus {
  interfaceName: string;
  isUp: boolean;
}

export type ReloadOutcome =
  | {
      ok: true;
      changes: ConfigChanges;
      isApplied: boolean;
      /** Active leases the file leaves outside every scope (applied all the same, and logged). */
      orphanedLeases: OrphanedLeases;
    }
  | { ok: false; errors: readonly ConfigError[] };

export interface ApiDeps {
  engine(): ApiEngine;
  config(): ResolvedConfig;
  leaseStore: {
    readonly path: string;
    count(): number;
    /** Online backup (SqliteLeaseStore.backup); absent: the route answers 501. */
    backup?(destination: string): Promise<{ pages: number }>;
  };
  /** Counters of the DHCP service (src/server/counters.ts). */
  counters: { snapshot(): Record<string, number>; get?(name: string): number };
  /** Seconds since epoch. */
  startedAt: number;
  version: string;
  clock?: Clock;
  log?: Logger;
  /** Re-reads the config file (SIGHUP semantics); `dryRun` checks it without applying. */
  reload?: (dryRun: boolean) => ReloadOutcome;
  /**
   * Errors a loadable config has against the running server's state (a reservation on an address
   * leased to another client, docs/configuration.md §reservations); config writes are refused
   * with 409 when there are any.
   */
  checkConfig?: (next: ResolvedConfig) => readonly ConfigError[];
  failover?: FailoverApi;
  /** direct mode: the served interfaces and whether each is up (metrics). */
  dhcpInterfaces?: () => readonly DhcpInterfaceStatus[];
  leaseOperations?: LeaseOperationsApi;
  /**
   * The config file the server runs (writes go there: relationships, scope configs). Absent, or
   * the embedded default: the API refuses configuration writes with 409.
   */
  configPath?: string;
}
