// Pool balancing (D12 §5.4, spec §9): in NORMAL the primary owns the FREE addresses and gives the
// secondary its share as BACKUP bindings, each one sent in a BNDUPD once durable here. Which
// addresses move is decided here, without I/O; the endpoint applies the plan, persists it and
// queues the updates (endpoint.ts balancePools).

import type { ResolvedRelationship } from '../config/resolved.js';
import { emptyLease, type Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import { addressGroups } from '../dhcp/policy.js';
import { freeAndBackupIn } from '../dhcp/pool-counts.js';
import type { ScopeView } from '../dhcp/scope.js';
import type { Ipv4 } from '../wire/ipv4.js';

/**
 * Most addresses one pool balancing run moves to the secondary. A /8 range has two million: moved
 * at once they were one write of a million bindings, which the lease store refuses (its
 * back-pressure limit, MAX_PENDING_LEASES), and a million BNDUPDs queued at once. In batches, a run
 * follows as soon as the previous batch's updates have mostly left (tick()), and the scan goes on
 * from where the last batch stopped.
 */
export const POOL_BALANCE_BATCH = 10_000;

/** Pool balancing leaves the split alone while it is within this share of the target. */
export const POOL_MISBALANCE = 0.1;

/** The share of free addresses the secondary should own (the primary's configuration decides). */
export function secondaryShareOf(r: ResolvedRelationship): number {
  if (r.mode === 'hotStandby') {
    const reserve = r.reservePercent / 100;
    // The primary's configuration decides; serverRole is this (primary) server's part.
    return r.serverRole === 'standby' ? 1 - reserve : reserve;
  }
  if (r.poolSplit === 'percentage') return (100 - r.loadBalancePercent) / 100;
  return 0.5;
}

/** The part of the DHCP engine the plan reads. */
export interface PoolBalanceEngine {
  readonly leaseTable: LeaseTable;
  scopeView(scopeId: string): ScopeView | undefined;
  getLease(address: Ipv4): Lease | undefined;
  isOffered(address: Ipv4, now: number): boolean;
}

export interface PoolBalancePlan {
  /** The BACKUP bindings to make, at most POOL_BALANCE_BATCH. */
  moved: Lease[];
  /**
   * Where each address group's downward scan goes on at the next run (`scope|group` → next address
   * to look at); empty when this run reached every target.
   */
  cursors: Map<string, number>;
}

/**
 * The secondary's share of the free addresses of each scope, taken from the top of the ranges (the
 * primary allocates never-used addresses from the bottom). Each policy's ranges are shared out on
 * their own (docs/policies.md), so its clients find addresses on both servers. A run moves at most
 * POOL_BALANCE_BATCH and says where to go on (`cursors`); a run that goes on from a cursor moves up
 * to the target, a new one only when the split is off by more than POOL_MISBALANCE.
 */
export function planPoolBalance(
  engine: PoolBalanceEngine,
  scopeIds: Iterable<string>,
  share: number,
  cursors: ReadonlyMap<string, number>,
  now: number,
): PoolBalancePlan {
  const moved: Lease[] = [];
  const next = new Map<string, number>();
  for (const scopeId of scopeIds) {
    const view = engine.scopeView(scopeId);
    if (!view) continue;
    for (const [group, { ranges }] of addressGroups(view.settings).entries()) {
      const table = engine.leaseTable;
      const cursorKey = `${scopeId}|${group}`;
      // From the table's pages, not address by address (a /8 range has two million).
      const { free, backup } = freeAndBackupIn(table, view, ranges);
      const target = Math.round((free + backup) * share);
      const deficit = target - backup;
      const resumeAt = cursors.get(cursorKey);
      if (
        deficit <= 0 ||
        (resumeAt === undefined && deficit < Math.max(1, Math.floor(target * POOL_MISBALANCE)))
      )
        continue;
      if (moved.length >= POOL_BALANCE_BATCH) {
        next.set(cursorKey, resumeAt ?? Number.MAX_SAFE_INTEGER);
        continue;
      }
      let left = deficit;
      for (let i = ranges.length - 1; i >= 0 && left > 0; i--) {
        const r = ranges[i]!;
        for (let a = Math.min(r.end, resumeAt ?? r.end); a >= r.start && left > 0; a--) {
          if (moved.length >= POOL_BALANCE_BATCH) {
            next.set(cursorKey, a);
            left = 0;
            break;
          }
          const address = a as Ipv4;
          if (!view.isDynamic(address) || engine.isOffered(address, now)) continue;
          const state = table.stateOf(address);
          if (state !== undefined && state !== 'free') continue;
          const l = state === undefined ? undefined : engine.getLease(address);
          moved.push(
            l
              ? { ...l, state: 'backup', stateStartedAt: Math.floor(now), isPartnerUpToDate: false }
              : emptyLease(address, scopeId, 'backup', Math.floor(now)),
          );
          left--;
        }
      }
    }
  }
  return { moved, cursors: next };
}
