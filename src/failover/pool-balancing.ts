// Pool balancing (D12 §5.4, spec §9): in NORMAL the primary owns the FREE addresses and gives the
// secondary its share as BACKUP bindings, each one sent in a BNDUPD once durable here. Which
// addresses move is decided without I/O (planPoolBalance); PoolBalancer runs it on the primary's
// timer, an operator's rebalance and the secondary's POOLREQ, puts the plan, asks for it to be
// persisted and queues the updates (the endpoint sends them, after the persist).

import type { ResolvedRelationship } from '../config/resolved.js';
import { emptyLease, type Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import { addressGroups } from '../dhcp/policy.js';
import { freeAndBackupIn } from '../dhcp/pool-counts.js';
import type { ScopeView } from '../dhcp/scope.js';
import type { Ipv4 } from '../wire/ipv4.js';
import { type EndpointAction, type EndpointEngine, log } from './types.js';
import type { UpdateQueue } from './update-queue.js';

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

/** The parts of the endpoint pool balancing works with. */
export interface PoolBalancerParts {
  relationship: ResolvedRelationship;
  scopeIds: ReadonlySet<string>;
  /** The engine in use now. */
  engine: () => EndpointEngine;
  updates: UpdateQueue;
  /** The endpoint's counters (poolAddressesTransferred). */
  counters: Record<string, number>;
  /** Puts a binding the endpoint decided (endpoint.ts putBinding). */
  putBinding: (engine: EndpointEngine, lease: Lease) => void;
  /** Seconds between runs on the primary's timer. */
  intervalSeconds: number;
}

/** The primary's pool balancing: its timer, its batches, and applying a plan. */
export class PoolBalancer {
  private nextRunAt = 0;
  /**
   * Pool balancing stopped at POOL_BALANCE_BATCH with more to move: where each address group's
   * downward scan goes on (`scope|group` → next address to look at). Empty: nothing pending.
   */
  private readonly cursor = new Map<string, number>();

  constructor(private readonly p: PoolBalancerParts) {}

  /** NORMAL entered: the first run is due now. */
  enteredNormal(now: number): void {
    this.nextRunAt = now;
  }

  /** A run is due (in NORMAL, communicating): its timer, or a batch left more to move. */
  isDue(now: number): boolean {
    return (
      now >= this.nextRunAt ||
      // A walk over the table (an update request) counts as a backlog: its updates go first.
      (this.cursor.size > 0 &&
        !this.p.updates.isWalking &&
        this.p.updates.queuedCount < POOL_BALANCE_BATCH / 2)
    );
  }

  /** A run now that restarts the timer (the timer's own, or an operator's rebalance). */
  runNow(now: number, out: EndpointAction[]): number {
    this.nextRunAt = now + this.p.intervalSeconds;
    return this.balance(now, out);
  }

  /**
   * Primary: gives the secondary its share of the free addresses (planPoolBalance), at most
   * POOL_BALANCE_BATCH per run, as BACKUP bindings made durable here before their BNDUPDs leave.
   * Returns how many moved.
   */
  balance(now: number, out: EndpointAction[]): number {
    const engine = this.p.engine();
    const plan = planPoolBalance(
      engine,
      this.p.scopeIds,
      secondaryShareOf(this.p.relationship),
      this.cursor,
      now,
    );
    this.cursor.clear();
    for (const [k, v] of plan.cursors) this.cursor.set(k, v);
    for (const next of plan.moved) {
      this.p.putBinding(engine, next);
      this.p.updates.enqueue(next.address);
    }
    const moved = plan.moved.length;
    if (moved > 0) {
      this.p.counters.poolAddressesTransferred! += moved;
      out.push({ type: 'persist', leases: plan.moved, meta: [], afterDurable: [] });
      out.push(
        log('info', 'failover-pool-balanced', {
          relationship: this.p.relationship.name,
          movedToSecondary: moved,
        }),
      );
      // The BNDUPDs (queued above, sent by endpoint.ts pump() after this action) must leave only once the
      // BACKUP bindings are durable here: the shell runs actions in order and holds everything that
      // follows a persist until it is durable.
    }
    return moved;
  }
}
