// What the management API needs from the running server, as a small interface: the HTTP layer
// reads live state through these getters (the engine and the config are replaced on reload) and
// never reaches into the shell. Tests build it from a bare engine and a loaded config.

import type { Logger } from 'pino';
import type { ConfigChanges, ConfigError } from '../config/loader.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { DhcpEngine } from '../dhcp/engine.js';
import type { Clock } from '../server/clock.js';

/** The read-only part of DhcpEngine the API uses. */
export type ApiEngine = Pick<
  DhcpEngine,
  'settings' | 'leases' | 'getLease' | 'scopeIds' | 'scopeView' | 'pendingOffers'
>;

/** One failover relationship as the failover endpoint reports it (windows-model.md §4.1, read-only part). */
export interface RelationshipSummary {
  name: string;
  role: 'primary' | 'secondary';
  mode: 'loadBalance' | 'hotStandby';
  /** windows-model.md §1.3 string enum (`normal`, `communicationsInterrupted`, …). */
  state: string;
  stateSince: number | null;
  partnerState: string | null;
  connection: 'up' | 'down' | 'connecting';
  scopeIds: readonly string[];
}

/**
 * Hooks the failover endpoint provides once it exists. Everything is optional: without it the
 * API reports no relationships and takes every scope's role from the config.
 */
export interface FailoverApi {
  relationships(): readonly RelationshipSummary[];
}

export type ReloadOutcome =
  | { ok: true; changes: ConfigChanges; isApplied: boolean }
  | { ok: false; errors: readonly ConfigError[] };

export interface ApiDeps {
  engine(): ApiEngine;
  config(): ResolvedConfig;
  leaseStore: { readonly path: string; count(): number };
  /** Counters of the DHCP service (src/server/counters.ts). */
  counters: { snapshot(): Record<string, number> };
  /** Seconds since epoch. */
  startedAt: number;
  version: string;
  clock?: Clock;
  log?: Logger;
  /** Re-reads the config file (SIGHUP semantics); `dryRun` checks it without applying. */
  reload?: (dryRun: boolean) => ReloadOutcome;
  failover?: FailoverApi;
}
