// Per-scope address statistics (Windows DHCP_FAILOVER_STATISTICS, seed 000, plus the extras of
// Get-DhcpServerv4ScopeStatistics). Pure: scopes, record counts and pending offers in, numbers out.
// docs/api.md §Statistics defines every number. The engine keeps the record counts up to date as
// bindings change (the lease table's tallies, grouped by the rule of `countingScopeOf`), so a
// request costs O(scopes + pending offers): statisticsFromTallies. computeScopeStatistics counts
// the same from a list of records; test/dhcp/statistics.test.ts checks it against a brute-force
// walk of every address, and the engine's tallies against it.

import type { Ipv4 } from '../wire/ipv4.js';
import type { Lease } from './lease.js';
import type { Tally as TableTally } from './lease-table.js';
import type { ScopeView } from './scope.js';

/**
 * This server's part in a scope's free pool. A standalone server allocates from FREE and BACKUP
 * alike (StandaloneGate), so every free address is its own; in a failover relationship FREE
 * addresses belong to the primary and BACKUP addresses to the secondary (D12 §5.4).
 */
export type ScopeRole = 'standalone' | 'primary' | 'secondary';

export interface ScopeStatistics {
  /** Dynamic addresses of the ranges (ScopeView.size) + reserved addresses. */
  numAddr: number;
  /** numAddr − addrInUse − addrAbandoned − addrAwaitingAck. */
  addrFree: number;
  /** Counted addresses whose binding is `active`. */
  addrInUse: number;
  /** Free addresses the partner may allocate. */
  partnerAddrFree: number;
  /** Free addresses this server may allocate. */
  thisAddrFree: number;
  /** Active bindings granted by another server (ownerServer ≠ this server's name). */
  partnerAddrInUse: number;
  /** Active bindings granted by this server. */
  thisAddrInUse: number;
  /** Offers held at `now` for counted addresses (they are included in addrFree). */
  pendingOffers: number;
  /** Distinct reserved addresses of the scope. */
  reservedAddresses: number;
  /** 100 × addrInUse / numAddr, rounded to two decimals; 0 for an empty scope. */
  percentageInUse: number;
  /** Counted addresses whose binding is `abandoned` (declined, held out of every pool). */
  addrAbandoned: number;
  /** Counted addresses in `expired`, `released` or `reset`: freed, not yet FREE/BACKUP (D12 §5.2). */
  addrAwaitingAck: number;
}

export interface StatisticsContext {
  /** This server's name (Lease.ownerServer of the bindings it grants). */
  serverName: string;
  roleOf(scopeId: string): ScopeRole;
  now: number;
}

export interface OfferedAddress {
  readonly address: Ipv4;
  readonly scopeId: string;
}

interface Tally {
  view: ScopeView;
  records: number;
  active: number;
  activeThis: number;
  abandoned: number;
  awaitingAck: number;
  backup: number;
  offers: number;
}

/** Is `address` one of the addresses `view` counts in numAddr? */
export function isCountedAddress(view: ScopeView, address: Ipv4): boolean {
  return view.reservationByAddress.has(address) || view.isDynamic(address);
}

/**
 * Index in `views` of the scope a record or offer counts for: the scope whose counted addresses
 * hold it, looked up first in the scope it names (so the usual case costs one range check); −1
 * for an address no scope counts (left over after a config change).
 */
export function countingScopeOf(
  views: readonly ScopeView[],
  named: number | undefined,
  address: Ipv4,
): number {
  if (named !== undefined && named >= 0 && isCountedAddress(views[named]!, address)) return named;
  for (let i = 0; i < views.length; i++) if (i !== named && isCountedAddress(views[i]!, address)) return i;
  return -1;
}

/**
 * Statistics of every scope in `views`, keyed by scope id. A record or offer counts for the scope
 * whose counted addresses hold it (looked up first in the scope it names, so the usual case costs
 * one range check); records at addresses no scope counts (left over after a config change) are
 * ignored. `leases` must hold at most one record per address, as the engine and the store do.
 */
export function computeScopeStatistics(
  views: readonly ScopeView[],
  leases: Iterable<Lease>,
  offers: Iterable<OfferedAddress>,
  context: StatisticsContext,
): Map<string, ScopeStatistics> {
  const tallies = new Map<string, Tally>();
  for (const view of views) {
    tallies.set(view.id, {
      view,
      records: 0,
      active: 0,
      activeThis: 0,
      abandoned: 0,
      awaitingAck: 0,
      backup: 0,
      offers: 0,
    });
  }
  const owner = (address: Ipv4, scopeId: string): Tally | undefined => {
    const named = tallies.get(scopeId);
    if (named && isCountedAddress(named.view, address)) return named;
    for (const t of tallies.values()) if (t !== named && isCountedAddress(t.view, address)) return t;
    return undefined;
  };

  for (const lease of leases) {
    const t = owner(lease.address, lease.scopeId);
    if (!t) continue;
    t.records++;
    switch (lease.state) {
      case 'active':
        t.active++;
        if (lease.ownerServer === context.serverName) t.activeThis++;
        break;
      case 'abandoned':
        t.abandoned++;
        break;
      case 'expired':
      case 'released':
      case 'reset':
        t.awaitingAck++;
        break;
      case 'backup':
        t.backup++;
        break;
      case 'free':
        break;
    }
  }
  for (const offer of offers) {
    const t = owner(offer.address, offer.scopeId);
    if (t) t.offers++;
  }
  return finish(tallies.values(), context);
}

/**
 * The same numbers as computeScopeStatistics, from record counts kept per scope (the lease
 * table's tallies: `tallyOf(i)` counts the records for which countingScopeOf gives i, with
 * `activeOwned` the active ones owned by `context.serverName`) plus the pending offers.
 */
export function statisticsFromTallies(
  views: readonly ScopeView[],
  tallyOf: (index: number) => TableTally,
  offers: Iterable<OfferedAddress>,
  context: StatisticsContext,
): Map<string, ScopeStatistics> {
  const indexById = new Map(views.map((v, i) => [v.id, i] as const));
  const tallies: Tally[] = views.map((view, i) => {
    const t = tallyOf(i);
    return {
      view,
      records: t.records,
      active: t.byState.active,
      activeThis: t.activeOwned,
      abandoned: t.byState.abandoned,
      awaitingAck: t.byState.expired + t.byState.released + t.byState.reset,
      backup: t.byState.backup,
      offers: 0,
    };
  });
  for (const offer of offers) {
    const i = countingScopeOf(views, indexById.get(offer.scopeId), offer.address);
    if (i >= 0) tallies[i]!.offers++;
  }
  return finish(tallies, context);
}

function finish(tallies: Iterable<Tally>, context: StatisticsContext): Map<string, ScopeStatistics> {
  const out = new Map<string, ScopeStatistics>();
  for (const t of tallies) {
    const reservedAddresses = t.view.reservationByAddress.size;
    const numAddr = t.view.size + reservedAddresses;
    const addrFree = numAddr - t.active - t.abandoned - t.awaitingAck;
    // Free = FREE (a record in `free`, or no record at all: never used is FREE, D12) + BACKUP.
    const freeClass = addrFree - t.backup;
    const backupClass = t.backup;
    if (addrFree < 0 || freeClass < 0 || t.records > numAddr) {
      throw new Error(
        `statistics of scope ${t.view.id}: ${t.records} records for ${numAddr} addresses (duplicate lease records?)`,
      );
    }
    let thisAddrFree: number;
    let partnerAddrFree: number;
    switch (context.roleOf(t.view.id)) {
      case 'standalone':
        thisAddrFree = addrFree;
        partnerAddrFree = 0;
        break;
      case 'primary':
        thisAddrFree = freeClass;
        partnerAddrFree = backupClass;
        break;
      case 'secondary':
        thisAddrFree = backupClass;
        partnerAddrFree = freeClass;
        break;
    }
    out.set(t.view.id, {
      numAddr,
      addrFree,
      addrInUse: t.active,
      partnerAddrFree,
      thisAddrFree,
      partnerAddrInUse: t.active - t.activeThis,
      thisAddrInUse: t.activeThis,
      pendingOffers: t.offers,
      reservedAddresses,
      percentageInUse: percentage(t.active, numAddr),
      addrAbandoned: t.abandoned,
      addrAwaitingAck: t.awaitingAck,
    });
  }
  return out;
}

/** 100 × part / whole rounded to two decimals; 0 when whole is 0. */
export function percentage(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part * 10000) / whole) / 100;
}

/** Sum over several scopes (a failover relationship's statistics, windows-model.md §4.3). */
export function sumScopeStatistics(list: Iterable<ScopeStatistics>): ScopeStatistics {
  const sum: ScopeStatistics = {
    numAddr: 0,
    addrFree: 0,
    addrInUse: 0,
    partnerAddrFree: 0,
    thisAddrFree: 0,
    partnerAddrInUse: 0,
    thisAddrInUse: 0,
    pendingOffers: 0,
    reservedAddresses: 0,
    percentageInUse: 0,
    addrAbandoned: 0,
    addrAwaitingAck: 0,
  };
  for (const s of list) {
    sum.numAddr += s.numAddr;
    sum.addrFree += s.addrFree;
    sum.addrInUse += s.addrInUse;
    sum.partnerAddrFree += s.partnerAddrFree;
    sum.thisAddrFree += s.thisAddrFree;
    sum.partnerAddrInUse += s.partnerAddrInUse;
    sum.thisAddrInUse += s.thisAddrInUse;
    sum.pendingOffers += s.pendingOffers;
    sum.reservedAddresses += s.reservedAddresses;
    sum.addrAbandoned += s.addrAbandoned;
    sum.addrAwaitingAck += s.addrAwaitingAck;
  }
  sum.percentageInUse = percentage(sum.addrInUse, sum.numAddr);
  return sum;
}
