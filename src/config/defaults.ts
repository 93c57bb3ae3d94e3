// Every default the loader applies, in one place: the schema annotates fields with them, the
// resolver applies them, docs/configuration.md lists them. Durations carry their unit in the name.

export const SERVER_DEFAULTS = {
  /** Lease time when neither the scope nor the server sets one (an hour: short enough to recover
   * addresses on busy networks, long enough that renewals are cheap). */
  leaseTimeSeconds: 3600,
  /** RFC 2131 §4.4.5: T1 defaults to 0.5 × lease, T2 to 0.875 × lease. */
  renewFraction: 0.5,
  rebindFraction: 0.875,
} as const;

export const SCOPE_DEFAULTS = {
  /** dhcpd holds an offered address for about a minute before reusing it. */
  offerHoldSeconds: 60,
  /** Kea's decline-probation-period. */
  declineHoldSeconds: 86400,
  authoritative: true,
  dynamicBootp: false,
  /** null = infinite, as BOOTP clients never renew. */
  bootpLeaseSeconds: null,
} as const;

export const DHCP_DEFAULTS = {
  listenAddress: '0.0.0.0',
  port: 67,
  clientPort: 68,
  broadcastAddress: '255.255.255.255',
  mode: 'udp',
  /** Off, as Windows' conflict detection (dhcpd pings by default, with 1 s). */
  pingCheckAttempts: 0,
  pingCheckTimeoutMs: 500,
  /** src/server/warm-up.ts: ~0.2 s of start-up at 2000 (measured on the pinned core: 0.4 s). */
  warmUpExchanges: 2000,
  warmUpMaxMs: 500,
} as const;

export const LEASE_STORE_DEFAULTS = {
  type: 'sqlite' as 'sqlite' | 'postgresql',
  path: '/var/lib/twinlease/leases.db',
  /** src/leases/sqlite-store.ts DEFAULT_COMMIT_INTERVAL_MS. */
  commitIntervalMs: 2,
  /** src/leases/sqlite-store.ts DEFAULT_COMMIT_BATCH_SIZE, DEFAULT_COMMIT_MAX_DELAY_MS. */
  commitBatchSize: 1,
  commitMaxDelayMs: 8,
  /** src/leases/sqlite-writer-thread.ts */
  writerThread: false,
  /** src/leases/pg-store.ts PG_STORE_DEFAULTS. */
  poolSize: 4,
  connectTimeoutMs: 2000,
  statementTimeoutMs: 5000,
} as const;

export const LOGGING_DEFAULTS = {
  level: 'info',
  /** One line per OFFER, ACK and NAK at info, as dhcpd and Kea log their grants. */
  grants: true,
} as const;

export const API_DEFAULTS = {
  /** Loopback only until the operator decides otherwise. */
  listenAddress: '127.0.0.1',
  port: 8067,
} as const;

/** failover.md §14 and windows-model.md §4.1 ("Ours (DECISION)" column). */
export const FAILOVER_DEFAULTS = {
  mode: 'loadBalance',
  loadBalancePercent: 50,
  reservePercent: 5,
  mcltSeconds: 3600,
  autoStateTransition: false,
  stateSwitchIntervalSeconds: null,
  /** Safe period used when autoStateTransition is on without an interval (Windows: 60 min). */
  enabledStateSwitchIntervalSeconds: 3600,
  auth: 'none',
  port: 647,
  maxUnackedUpdates: 10,
  receiveTimerSeconds: 60,
  loadBalanceMaxSeconds: 3,
  hbaBitMeaning: 'primary',
  poolSplit: 'even',
  maxClockSkewSeconds: 60,
} as const;

/** Upper bounds the loader enforces so a hostile or broken file cannot exhaust memory or time. */
export const LOADER_LIMITS = {
  maxFileBytes: 16 * 1024 * 1024,
  maxJsonDepth: 64,
  /** Errors reported at most; the rest are summarised in one line. */
  maxReportedErrors: 100,
  /** Errors the schema checker may collect before it stops looking. */
  maxSchemaErrors: 1000,
} as const;
