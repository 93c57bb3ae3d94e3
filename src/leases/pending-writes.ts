// What the SQLite lease store (on this thread or its writer thread) has been given and not yet
// written, in two lanes (issue 15):
//  * replies' bindings (commit, remove, setMeta): a reply waits for them, so every one of them goes
//    into the next transaction;
//  * background bindings (commitInBackground: the expiries of a mass expiry): no reply waits for
//    them, so they may lag. A transaction takes them only once they are due (BackgroundPacer), and
//    at most a bounded number of them, so that a commit carrying an ACK is never held up behind a
//    storm of expired bindings.
// Order per address is kept: the disk never gets an address's older version after a newer one. A
// binding for an address whose background write still waits takes that whole background batch with
// it, ahead of itself, into the replies' lane (and its waiter ahead of its own, so listeners hear
// the older change first); a later background write of an address drops the earlier one.

import type { Lease } from '../dhcp/lease.js';
import type { Ipv4 } from '../wire/ipv4.js';

export interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** What one transaction writes, and whose promises it settles, in call order. */
export interface WriteSlice {
  leases: Map<number, Lease>;
  removals: Set<number>;
  meta: Map<string, string>;
  waiters: Waiter[];
  /** How many of `leases` came from the background lane. */
  backgroundLeases: number;
}

/**
 * Background bindings given in one call. A taken batch stays in the queue until the head passes it
 * (up to COMPACT_AFTER_BATCHES of them: ~100,000 bindings in a mass expiry), so taking it empties
 * it: else its bindings outlived their write by seconds, long enough to be promoted out of V8's
 * young generation (a 100,000-lease storm's scavenges copied and promoted ~3 MB each, issue 15).
 */
interface BackgroundBatch {
  readonly leases: Map<number, Lease>;
  /** Null once taken. */
  waiter: Waiter | null;
}

/** Taken batches at the front of the background queue are dropped once there are this many. */
const COMPACT_AFTER_BATCHES = 1024;

export class PendingWrites {
  private leases = new Map<number, Lease>();
  private removals = new Set<number>();
  private meta = new Map<string, string>();
  private waiters: Waiter[] = [];
  private background: BackgroundBatch[] = [];
  private backgroundHead = 0;
  /** The batch that holds each address's background write. */
  private readonly backgroundOf = new Map<number, BackgroundBatch>();
  private backgroundCount = 0;

  /** Bindings in the replies' lane (the store's back-pressure bound applies to it). */
  get leaseCount(): number {
    return this.leases.size;
  }

  /** Bindings in the background lane. */
  get backgroundLeaseCount(): number {
    return this.backgroundCount;
  }

  /** Something in the replies' lane (a waiter for the next transaction). */
  get hasUrgent(): boolean {
    return this.waiters.length > 0;
  }

  /** Calls waiting in the replies' lane (commit, remove, setMeta: about one per reply). */
  get urgentCount(): number {
    return this.waiters.length;
  }

  get hasBackground(): boolean {
    return this.backgroundHead < this.background.length;
  }

  get isEmpty(): boolean {
    return !this.hasUrgent && !this.hasBackground;
  }

  metaOf(key: string): string | undefined {
    return this.meta.get(key);
  }

  put(leases: readonly Lease[], waiter: Waiter): void {
    for (const l of leases) this.promote(l.address);
    for (const l of leases) {
      this.leases.set(l.address, l);
      this.removals.delete(l.address);
    }
    this.waiters.push(waiter);
  }

  remove(addresses: readonly Ipv4[], waiter: Waiter): void {
    for (const a of addresses) this.promote(a);
    for (const a of addresses) {
      this.leases.delete(a);
      this.removals.add(a);
    }
    this.waiters.push(waiter);
  }

  setMeta(key: string, value: string, waiter: Waiter): void {
    this.meta.set(key, value);
    this.waiters.push(waiter);
  }

  putInBackground(leases: readonly Lease[], waiter: Waiter): void {
    const batch: BackgroundBatch = { leases: new Map(), waiter };
    for (const l of leases) {
      const older = this.backgroundOf.get(l.address);
      if (older?.leases.delete(l.address)) this.backgroundCount--;
      if (!batch.leases.has(l.address)) this.backgroundCount++;
      batch.leases.set(l.address, l);
      this.backgroundOf.set(l.address, batch);
    }
    this.background.push(batch);
  }

  /**
   * Everything of the replies' lane, and whole background batches from the oldest on while they
   * fit in `maxBackgroundLeases` (0: none); `isBackgroundForced` takes the first one even if it
   * is larger (a transaction with nothing else to write must make progress).
   */
  take(maxBackgroundLeases: number, isBackgroundForced = false): WriteSlice {
    const slice: WriteSlice = {
      leases: this.leases,
      removals: this.removals,
      meta: this.meta,
      waiters: this.waiters,
      backgroundLeases: 0,
    };
    this.leases = new Map();
    this.removals = new Set();
    this.meta = new Map();
    this.waiters = [];
    while (this.backgroundHead < this.background.length) {
      const batch = this.background[this.backgroundHead]!;
      if (batch.waiter !== null) {
        const isFirst = slice.backgroundLeases === 0 && isBackgroundForced;
        if (!isFirst && slice.backgroundLeases + batch.leases.size > maxBackgroundLeases) break;
        // Background writes are newer than any reply write of the same address still in this
        // slice (an older one would have promoted them): they win.
        for (const [a, l] of batch.leases) {
          this.backgroundOf.delete(a);
          slice.leases.set(a, l);
          slice.removals.delete(a);
        }
        slice.backgroundLeases += batch.leases.size;
        slice.waiters.push(this.release(batch));
      }
      this.backgroundHead++;
    }
    this.compact();
    return slice;
  }

  /** Every waiter still queued (a failed store rejects them all). */
  takeAllWaiters(): Waiter[] {
    const all = this.waiters;
    this.waiters = [];
    for (let i = this.backgroundHead; i < this.background.length; i++) {
      const waiter = this.background[i]!.waiter;
      if (waiter !== null) all.push(waiter);
    }
    this.leases = new Map();
    this.removals = new Set();
    this.background = [];
    this.backgroundHead = 0;
    this.backgroundOf.clear();
    this.backgroundCount = 0;
    return all;
  }

  /** A reply's write of `address` takes the background batch holding it along, ahead of itself. */
  private promote(address: number): void {
    const batch = this.backgroundOf.get(address);
    if (batch === undefined) return;
    for (const [a, l] of batch.leases) {
      this.backgroundOf.delete(a);
      this.leases.set(a, l);
      this.removals.delete(a);
    }
    this.waiters.push(this.release(batch));
  }

  /** Marks `batch` taken (its bindings are in a slice now) and lets go of them; returns its waiter. */
  private release(batch: BackgroundBatch): Waiter {
    const waiter = batch.waiter!;
    this.backgroundCount -= batch.leases.size;
    batch.leases.clear();
    batch.waiter = null;
    return waiter;
  }

  private compact(): void {
    if (this.backgroundHead === this.background.length) {
      this.background = [];
      this.backgroundHead = 0;
    } else if (
      this.backgroundHead > COMPACT_AFTER_BATCHES &&
      this.backgroundHead * 2 > this.background.length
    ) {
      this.background.splice(0, this.backgroundHead);
      this.backgroundHead = 0;
    }
  }
}

/**
 * When background bindings may go into a transaction: at most `maxLeasesPerCommit` of them per
 * transaction, and a transaction that carried some is followed by a rest of `restFactor` times the
 * time it took before the next one may carry any (a transaction is timed from its start to its
 * end, fsync included). On the store's own thread that rest is when the event loop answers
 * packets; on the writer thread it is when a reply's commit finds the disk free.
 */
export class BackgroundPacer {
  private dueAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly maxLeasesPerCommit: number,
    readonly restFactor: number,
  ) {}

  /** performance.now() from which background bindings may be written again. */
  get backgroundDueAt(): number {
    return this.dueAt;
  }

  /** How many background bindings a transaction starting at `nowMs` may take. */
  allowance(nowMs: number): number {
    return nowMs >= this.dueAt ? this.maxLeasesPerCommit : 0;
  }

  /**
   * What a transaction starting at `nowMs` writes: the replies' lane and the background bindings
   * it may take (`isDraining`, at close: whatever the pacing); null when only background bindings
   * wait and they are not due yet (the store woke a little early).
   */
  takeSlice(pending: PendingWrites, nowMs: number, isDraining: boolean): WriteSlice | null {
    const allowance = isDraining ? this.maxLeasesPerCommit : this.allowance(nowMs);
    if (!pending.hasUrgent && allowance === 0) return null;
    return pending.take(allowance, allowance > 0);
  }

  noteWritten(startedAtMs: number, endedAtMs: number, backgroundLeases: number): void {
    if (backgroundLeases > 0) this.dueAt = endedAtMs + (endedAtMs - startedAtMs) * this.restFactor;
  }
}

/** How a store groups the replies' commits into transactions (config leaseStore, issue 17). */
export interface GroupCommitOptions {
  /** Least time between the starts of two transactions (ms). */
  commitIntervalMs: number;
  /** A transaction starts (once the interval allows) as soon as this many commits wait. */
  commitBatchSize: number;
  /** With fewer waiting, it starts when the oldest has waited this long (ms). */
  commitMaxDelayMs: number;
}

/**
 * When a store's next transaction is due. A transaction costs about the same CPU whatever it
 * carries (the fsync), so at a low rate the replies' commits may wait a little for company, as
 * dhcpd's `delayed-ack` and `max-ack-delay` make its ACKs wait for the lease file's fsync: the
 * transaction starts once `commitBatchSize` commits wait or the oldest of them has waited
 * `commitMaxDelayMs`, and never sooner than `commitIntervalMs` after the last one started. At a
 * high rate the batch fills within the interval and nothing waits longer than before. Background
 * bindings alone (no reply waits): once they are due (BackgroundPacer).
 */
export class GroupCommitSchedule {
  private lastStartAt = Number.NEGATIVE_INFINITY;
  /** performance.now() when the oldest commit of the replies' lane was given (Infinity: none waits). */
  private urgentSince = Number.POSITIVE_INFINITY;

  constructor(readonly options: GroupCommitOptions) {}

  /** Something was given to `pending` at `nowMs`. */
  noteGiven(pending: PendingWrites, nowMs: number): void {
    if (pending.hasUrgent && this.urgentSince === Number.POSITIVE_INFINITY) this.urgentSince = nowMs;
  }

  /** A transaction took what `pending` held at `nowMs`. */
  noteStarted(pending: PendingWrites, nowMs: number): void {
    this.lastStartAt = nowMs;
    this.urgentSince = pending.hasUrgent ? nowMs : Number.POSITIVE_INFINITY;
  }

  /** performance.now() at which the next transaction should start. */
  dueAt(pending: PendingWrites, backgroundDueAt: number): number {
    const intervalAt = this.lastStartAt + this.options.commitIntervalMs;
    if (!pending.hasUrgent) return Math.max(intervalAt, backgroundDueAt);
    if (pending.urgentCount >= this.options.commitBatchSize) return intervalAt;
    return Math.max(intervalAt, this.urgentSince + this.options.commitMaxDelayMs);
  }
}

/**
 * The one timer of a store's next transaction: the earliest due time asked for wins, and a due
 * time already past runs it in the next turn (setImmediate), after the replies of this one.
 */
export class FlushTimer {
  private dueAt = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;

  constructor(private readonly fire: () => void) {}

  /** Runs `fire` at `dueAt` (performance.now() milliseconds) unless it is set for earlier. */
  at(dueAt: number): void {
    if (dueAt >= this.dueAt) return;
    this.cancel();
    this.dueAt = dueAt;
    const waitMs = dueAt - performance.now();
    if (waitMs <= 0) this.immediate = setImmediate(this.fire);
    else this.timer = setTimeout(this.fire, Math.ceil(waitMs));
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.dueAt = Number.POSITIVE_INFINITY;
  }
}
