// The configuration as the cores consume it: every default applied, addresses as numbers,
// subnets parsed, options compiled to bytes. Plain data, frozen by the loader; a ResolvedScope is
// structurally an EngineScope (src/dhcp/scope.ts) with a few descriptive extras.

import type { DnsSettings } from '../ddns/settings.js';
import type { EnginePolicy } from '../dhcp/policy.js';
import type { Ipv4, Ipv4Subnet } from '../wire/ipv4.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Option code → option data (no code or length bytes). */
export type CompiledOptions = ReadonlyMap<number, Uint8Array>;

export interface ResolvedRange {
  readonly start: Ipv4;
  readonly end: Ipv4;
}

export interface ResolvedReservation {
  readonly address: Ipv4;
  /** lower-case hex, no separators; null when the reservation is by client id only */
  readonly hardwareAddress: string | null;
  /** option 61 data as lower-case hex, no separators; null when by hardware address only */
  readonly clientId: string | null;
  readonly hostname: string | null;
  readonly description: string | null;
  /** The reservation's own options only; they override the scope's. */
  readonly options: CompiledOptions;
  /** Codes among `options` marked alwaysSend. */
  readonly alwaysSend: ReadonlySet<number>;
}

/**
 * A policy as evaluated in one scope (docs/policies.md): conditions compiled, options merged
 * (reservation > policy > scope > server), timers resolved. A server-wide policy appears in
 * every scope's list, with that scope's options under its own.
 */
export interface ResolvedPolicy extends EnginePolicy {
  readonly description: string | null;
}

export interface ResolvedScope {
  /** Unique; the subnet's network address ("10.77.0.0") unless configured. */
  readonly id: string;
  readonly name: string | null;
  readonly description: string | null;
  /** false: configured but not served (`active: false`, Windows InActive). */
  readonly isActive: boolean;
  readonly subnet: Ipv4Subnet;
  readonly ranges: readonly ResolvedRange[];
  readonly exclusions: readonly ResolvedRange[];
  readonly reservations: readonly ResolvedReservation[];
  /** Server-wide options merged with the scope's (the scope's win, code by code). */
  readonly options: CompiledOptions;
  /** Codes sent even when the client's parameter request list (55) omits them; follows the
   * definition that won the merge. */
  readonly alwaysSend: ReadonlySet<number>;
  readonly leaseTimeSeconds: number;
  readonly renewTimeSeconds: number;
  readonly rebindTimeSeconds: number;
  /** giaddr values outside `subnet` that also select this scope. */
  readonly relayAddresses: readonly Ipv4[];
  readonly dynamicBootp: boolean;
  /** null = infinite */
  readonly bootpLeaseSeconds: number | null;
  readonly declineHoldSeconds: number;
  readonly offerHoldSeconds: number;
  readonly authoritative: boolean;
  /** Name of the failover relationship covering this scope, or null. */
  readonly failoverRelationship: string | null;
  /**
   * Enabled policies in evaluation order: the scope's by processingOrder, then the server-wide
   * ones. Present only when there is at least one.
   */
  readonly policies?: readonly ResolvedPolicy[];
  /** Dynamic DNS settings (docs/dns.md); absent when the scope has none. */
  readonly dns?: DnsSettings;
}

export interface ResolvedFailoverEndpoint {
  readonly address: Ipv4;
  readonly port: number;
  /** Local: default server.name. Partner: null when not configured. */
  readonly name: string | null;
}

/** The partner's management API (partner.api), for configuration replication. */
export interface ResolvedPartnerApi {
  /** Base URL without a trailing slash. */
  readonly url: string;
  /** Bearer token; null when none is configured. */
  readonly token: string | null;
}

export interface ResolvedRelationship {
  readonly name: string;
  readonly role: 'primary' | 'secondary';
  readonly mode: 'loadBalance' | 'hotStandby';
  /** hotStandby: this server's part; null in loadBalance mode. */
  readonly serverRole: 'active' | 'standby' | null;
  /** Share of clients this server serves (loadBalance). */
  readonly loadBalancePercent: number;
  /** Share of free addresses the standby keeps (hotStandby). */
  readonly reservePercent: number;
  readonly mcltSeconds: number;
  readonly autoStateTransition: boolean;
  /** Safe period before automatic PARTNER-DOWN; null exactly when autoStateTransition is false. */
  readonly stateSwitchIntervalSeconds: number | null;
  readonly auth: 'none' | 'hmacSha256' | 'hmacMd5';
  /** null exactly when auth is 'none'. */
  readonly sharedSecret: string | null;
  readonly local: ResolvedFailoverEndpoint;
  readonly partner: ResolvedFailoverEndpoint;
  readonly scopeIds: readonly string[];
  readonly maxUnackedUpdates: number;
  readonly receiveTimerSeconds: number;
  readonly loadBalanceMaxSeconds: number;
  readonly hbaBitMeaning: 'primary' | 'secondary';
  readonly poolSplit: 'even' | 'percentage';
  readonly maxClockSkewSeconds: number;
  /** partner.api; absent when not configured. */
  readonly partnerApi?: ResolvedPartnerApi;
  /** The failover link over TLS (PEM file paths, checked readable at load); null or absent: plain TCP. */
  readonly tls?: ResolvedTls | null;
}

export interface ResolvedTls {
  readonly certPath: string;
  readonly keyPath: string;
  /** The CA the peer's certificate must chain to; null for the API (no client certificates). */
  readonly caPath: string | null;
}

export interface ResolvedApiToken {
  readonly name: string;
  readonly token: string;
  readonly isReadOnly: boolean;
}

export interface ResolvedConfig {
  /** The file it came from ("<default>" for the embedded default). */
  readonly file: string;
  readonly server: {
    readonly name: string;
    /** null: the shell uses the address of the interface it serves. */
    readonly serverIdentifier: Ipv4 | null;
  };
  readonly dhcp: {
    readonly listenAddress: Ipv4;
    readonly port: number;
    readonly clientPort: number;
    readonly interface: string | null;
    readonly broadcastAddress: Ipv4;
    readonly mode: 'udp' | 'direct';
    /** direct mode: the interfaces served at layer 2 ([] in udp mode). */
    readonly interfaces: readonly string[];
    /** attempts 0: off. */
    readonly pingCheck: { readonly attempts: number; readonly timeoutMs: number };
    /** exchanges 0: off (src/server/warm-up.ts). */
    readonly warmUp: { readonly exchanges: number; readonly maxMs: number };
  };
  readonly leaseStore: {
    readonly type: 'sqlite' | 'postgresql';
    /** sqlite: the file (also where the lock file and backups go). */
    readonly path: string;
    /** postgresql: the database URL (null for sqlite). */
    readonly url: string | null;
    readonly poolSize: number;
    readonly connectTimeoutMs: number;
    readonly statementTimeoutMs: number;
    readonly commitIntervalMs: number;
    readonly commitBatchSize: number;
    readonly commitMaxDelayMs: number;
    readonly writerThread: boolean;
  };
  readonly logging: { readonly level: LogLevel; readonly isGrantLogged: boolean };
  readonly api: {
    readonly listenAddress: Ipv4;
    readonly port: number;
    readonly tokens: readonly ResolvedApiToken[];
    /** HTTPS: certificate and key files; null: plain HTTP. */
    readonly tls: ResolvedTls | null;
  };
  /** Server-wide default lease time (scopes already carry their resolved value). */
  readonly leaseTimeSeconds: number;
  /** Server-wide options (already merged into every scope's). */
  readonly options: CompiledOptions;
  readonly alwaysSend: ReadonlySet<number>;
  readonly scopes: readonly ResolvedScope[];
  readonly failover: readonly ResolvedRelationship[];
}
