// A failover relationship as the API shows it: the configuration (ResolvedRelationship) combined
// with the endpoint's live status (RelationshipStatus) and what the API layer records itself (the
// operation tracker, the partner-config comparison). Pure functions: tests feed hand-made statuses.

import { createHash } from 'node:crypto';
import type { ResolvedConfig, ResolvedRelationship } from '../config/resolved.js';
import { stateChangeReason } from '../failover/state-history.js';
import type { RelationshipStatus } from '../failover/types.js';
import { SERVER_STATE_NAMES, ServerState } from '../wire/failover-message.js';
import { formatIpv4 } from '../wire/ipv4.js';
import { iso, isoOrNull } from './format.js';
import type { FailoverRelationship, FailoverStateName, RelationshipSummary } from './schemas.js';

/**
 * windows-model.md §1.3: D12 wire codes → our names. The numberings of D12, FSM_STATE and IPAM
 * disagree, so no number ever leaves the API.
 */
const STATE_NAMES: Readonly<Record<ServerState, FailoverStateName>> = {
  [ServerState.STARTUP]: 'startup',
  [ServerState.NORMAL]: 'normal',
  [ServerState.COMMUNICATIONS_INTERRUPTED]: 'communicationsInterrupted',
  [ServerState.PARTNER_DOWN]: 'partnerDown',
  [ServerState.POTENTIAL_CONFLICT]: 'potentialConflict',
  [ServerState.RECOVER]: 'recover',
  [ServerState.PAUSED]: 'paused',
  [ServerState.SHUTDOWN]: 'shutdown',
  [ServerState.RECOVER_DONE]: 'recoverDone',
  [ServerState.RESOLUTION_INTERRUPTED]: 'resolutionInterrupted',
  [ServerState.CONFLICT_DONE]: 'conflictDone',
  [ServerState.RECOVER_WAIT]: 'recoverWait',
};

/** A state code → its name; a code outside the enum (never produced by the endpoint) → noState. */
export function failoverStateName(state: ServerState): FailoverStateName {
  return STATE_NAMES[state] ?? 'noState';
}

/** The endpoint's log names (communications-interrupted) → the API's (communicationsInterrupted). */
const BY_LOG_NAME = new Map(
  Object.entries(SERVER_STATE_NAMES).map(([code, name]) => [
    name,
    failoverStateName(Number(code) as ServerState),
  ]),
);
const apiStateName = (logName: string): FailoverStateName => BY_LOG_NAME.get(logName) ?? 'noState';

/** The state history as the API shows it, and the latest change (null when none was seen). */
export function stateChanges(status: RelationshipStatus | null): {
  previousState: FailoverStateName | null;
  stateChangeReason: string | null;
  stateHistory: FailoverRelationship['stateHistory'];
} {
  const history = (status?.stateHistory ?? []).map((c) => ({
    from: apiStateName(c.from),
    to: apiStateName(c.to),
    at: iso(c.at),
    rule: c.rule,
    reason: stateChangeReason(c.rule),
    partnerState: c.partnerState === null ? null : apiStateName(c.partnerState),
  }));
  const latest = history[0];
  return {
    previousState: latest?.from ?? null,
    stateChangeReason: latest?.reason ?? null,
    stateHistory: history,
  };
}

/** 48 bits of SHA-256: an integer that is exact in JSON and in IPAM's `long`. */
function stableId(text: string): number {
  return createHash('sha256').update(text, 'utf8').digest().readUIntBE(0, 6);
}

/** RecordId of a relationship: derived from its name, equal on both partners and across restarts. */
export function relationshipRecordId(name: string): number {
  return stableId(`twinlease:relationship:${name}`);
}

/** Server1RecordId / Server2RecordId: derived from the server's failover address. */
export function serverRecordId(address: number, port: number): number {
  // Address and port: two servers on one host (the loopback pair) must not share an id.
  return stableId(`twinlease:server:${formatIpv4(address)}:${port}`);
}

/**
 * What a config write did to the failover endpoint's relationship. The server applies a reload at
 * once (src/server/failover-service.ts reconfigure): an added relationship starts, a changed one
 * restarts — STATE PAUSED to the partner, the connection closed and opened again, the state it
 * had resumed — a removed one stops. No restart of the server is needed.
 */
export type OperationEffect = FailoverRelationship['operationTracker'][number]['effect'];

/** One entry of the operation tracker (src/api/operation-log.ts keeps them). */
export interface TrackedOperation {
  operation: FailoverRelationship['operationTracker'][number]['operation'];
  /** Seconds since epoch. */
  at: number;
  serverName: string;
  tokenName: string | null;
  effect: OperationEffect;
  detail: string | null;
}

/** One setting (or scope) on which the partner's configuration differs from ours. */
export type ConfigurationDifference = NonNullable<FailoverRelationship['configurationDifferences']>[number];

export interface RelationshipExtras {
  /** Newest first. */
  operations: readonly TrackedOperation[];
  /** null: not known (no partner.api, or the partner did not answer). */
  configurationDifferences: readonly ConfigurationDifference[] | null;
}

/**
 * The values in force where they can differ from the configuration: a secondary adopts the
 * primary's MCLT and hash-bucket assignment at every CONNECT (D12 §7.8.2), so its load-balance
 * split (hot standby: who is active) is the primary's. Without a live status: the configuration.
 */
export function effectiveValues(
  r: ResolvedRelationship,
  status: RelationshipStatus | null,
): { mcltSeconds: number; loadBalancePercent: number; serverRole: 'active' | 'standby' | null } {
  if (status === null) {
    return { mcltSeconds: r.mcltSeconds, loadBalancePercent: r.loadBalancePercent, serverRole: r.serverRole };
  }
  const share = status.clientSharePercent;
  return {
    mcltSeconds: status.mcltSeconds,
    loadBalancePercent: r.mode === 'loadBalance' ? share : r.loadBalancePercent,
    // Hot standby: the active server answers every client (all buckets), the standby none.
    serverRole: r.mode === 'hotStandby' ? (share >= 50 ? 'active' : 'standby') : r.serverRole,
  };
}

/** The primary's percentage (Server1Percentage); the secondary gets the complement. */
export function primaryPercentage(
  r: ResolvedRelationship,
  effective: { loadBalancePercent: number; serverRole: 'active' | 'standby' | null } = r,
): number {
  if (r.mode === 'loadBalance')
    return r.role === 'primary' ? effective.loadBalancePercent : 100 - effective.loadBalancePercent;
  // hotStandby: the standby keeps reservePercent of the free addresses, the active the rest.
  const isPrimaryStandby = (r.role === 'primary') === (effective.serverRole === 'standby');
  return isPrimaryStandby ? r.reservePercent : 100 - r.reservePercent;
}

function connectionOf(status: RelationshipStatus | null): 'up' | 'down' {
  return status?.isCommunicating === true ? 'up' : 'down';
}

/**
 * The partner's state is what it last reported; while it cannot be reached, that is only the last
 * known state (it may be down, or in another state), shown with the time it was last heard.
 */
function partnerStateFreshness(status: RelationshipStatus | null): {
  isPartnerStateStale: boolean;
  partnerStateHeardAt: string | null;
} {
  return {
    isPartnerStateStale: status?.partnerState != null && !status.isCommunicating,
    partnerStateHeardAt: status === null ? null : isoOrNull(status.lastContactAt),
  };
}

export function relationshipResource(
  r: ResolvedRelationship,
  status: RelationshipStatus | null,
  extras: RelationshipExtras,
): FailoverRelationship {
  const state = status === null ? 'noState' : failoverStateName(status.localState);
  const partnerState = status?.partnerState == null ? null : failoverStateName(status.partnerState);
  const isPrimary = r.role === 'primary';
  const effective = effectiveValues(r, status);
  const p1 = primaryPercentage(r, effective);
  const configuredValues: FailoverRelationship['configuredValues'] = {};
  if (effective.mcltSeconds !== r.mcltSeconds) configuredValues.mcltSeconds = r.mcltSeconds;
  if (effective.loadBalancePercent !== r.loadBalancePercent)
    configuredValues.loadBalancePercent = r.loadBalancePercent;
  if (effective.serverRole !== r.serverRole && r.serverRole !== null)
    configuredValues.serverRole = r.serverRole;
  const local = {
    isThisServer: true,
    address: formatIpv4(r.local.address),
    name: r.local.name,
    recordId: serverRecordId(r.local.address, r.local.port),
    state,
    isStateStale: false,
  };
  const freshness = partnerStateFreshness(status);
  const partner = {
    isThisServer: false,
    address: formatIpv4(r.partner.address),
    name: r.partner.name,
    recordId: serverRecordId(r.partner.address, r.partner.port),
    state: partnerState,
    isStateStale: freshness.isPartnerStateStale,
  };
  return {
    name: r.name,
    recordId: relationshipRecordId(r.name),
    role: r.role,
    mode: r.mode,
    serverRole: effective.serverRole,
    loadBalancePercent: effective.loadBalancePercent,
    reservePercent: r.reservePercent,
    mcltSeconds: effective.mcltSeconds,
    configuredValues,
    autoStateTransition: r.autoStateTransition,
    stateSwitchIntervalSeconds: r.stateSwitchIntervalSeconds,
    auth: r.auth,
    sharedSecretEnabled: r.sharedSecret !== null,
    tlsEnabled: r.tls != null,
    scopeIds: [...r.scopeIds],
    local: { address: formatIpv4(r.local.address), port: r.local.port, name: r.local.name },
    partner: {
      address: formatIpv4(r.partner.address),
      port: r.partner.port,
      name: r.partner.name,
      api:
        r.partnerApi === undefined
          ? null
          : { url: r.partnerApi.url, isTokenConfigured: r.partnerApi.token !== null },
    },
    maxUnackedUpdates: r.maxUnackedUpdates,
    receiveTimerSeconds: r.receiveTimerSeconds,
    loadBalanceMaxSeconds: r.loadBalanceMaxSeconds,
    hbaBitMeaning: r.hbaBitMeaning,
    poolSplit: r.poolSplit,
    maxClockSkewSeconds: r.maxClockSkewSeconds,
    isRunning: status !== null,
    state,
    stateSince: status === null ? null : isoOrNull(status.localStateStartedAt),
    ...stateChanges(status),
    partnerState,
    partnerStateSince: status?.partnerStateStartedAt == null ? null : isoOrNull(status.partnerStateStartedAt),
    ...freshness,
    connection: {
      status: connectionOf(status),
      lastContactAt: status === null ? null : isoOrNull(status.lastContactAt),
      clockSkewSeconds: status?.clockSkewSeconds ?? null,
      partnerVendorClass: status?.partnerVendorClass ?? null,
      queuedUpdates: status?.queuedUpdates ?? 0,
      unackedUpdates: status?.unackedUpdates ?? 0,
    },
    partnerDownAt: status?.partnerDownAt == null ? null : isoOrNull(status.partnerDownAt),
    partnerPoolUsableAt: status?.partnerPoolUsableAt == null ? null : isoOrNull(status.partnerPoolUsableAt),
    partnerSeenServingAt:
      status?.partnerSeenServingAt == null ? null : isoOrNull(status.partnerSeenServingAt),
    counters: { ...(status?.counters ?? {}) },
    server1: { role: 'primary', ...(isPrimary ? local : partner), percentage: p1 },
    server2: { role: 'secondary', ...(isPrimary ? partner : local), percentage: 100 - p1 },
    serverOwner: extras.operations[0]?.serverName ?? null,
    operationTracker: extras.operations.map((o) => ({
      operation: o.operation,
      at: iso(o.at),
      serverName: o.serverName,
      tokenName: o.tokenName,
      effect: o.effect,
      detail: o.detail,
    })),
    configurationDiffers:
      extras.configurationDifferences === null ? null : extras.configurationDifferences.length > 0,
    configurationDifferences:
      extras.configurationDifferences === null ? null : [...extras.configurationDifferences],
  };
}

/** The short form for GET /api/v1/status. */
export function relationshipSummary(
  name: string,
  r: ResolvedRelationship | null,
  status: RelationshipStatus | null,
): RelationshipSummary {
  const connection = connectionOf(status);
  return {
    name,
    role: r?.role ?? status?.role ?? 'primary',
    mode: r?.mode ?? status?.mode ?? 'loadBalance',
    state: status === null ? 'noState' : failoverStateName(status.localState),
    stateSince: status === null ? null : isoOrNull(status.localStateStartedAt),
    previousState: stateChanges(status).previousState,
    stateChangeReason: stateChanges(status).stateChangeReason,
    partnerState: status?.partnerState == null ? null : failoverStateName(status.partnerState),
    partnerStateSince: status?.partnerStateStartedAt == null ? null : isoOrNull(status.partnerStateStartedAt),
    ...partnerStateFreshness(status),
    connection,
    isPartnerReachable: connection === 'up',
    lastContactAt: status === null ? null : isoOrNull(status.lastContactAt),
    clockSkewSeconds: status?.clockSkewSeconds ?? null,
    scopeIds: [...(r?.scopeIds ?? [])],
  };
}

/**
 * Every relationship the config names or the endpoint runs (a relationship removed from the
 * config keeps running until the restart), config order first.
 */
export function relationshipNames(config: ResolvedConfig, statuses: readonly RelationshipStatus[]): string[] {
  const names = config.failover.map((r) => r.name);
  for (const s of statuses) if (!names.includes(s.name)) names.push(s.name);
  return names;
}
