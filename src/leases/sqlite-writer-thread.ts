// The SQLite lease store with its writes on a worker thread (sqlite-writer.ts), issue 17: while
// one group commit is on its way to disk, the event loop goes on decoding, deciding and batching
// the next packets. Same contract as SqliteLeaseStore: commit() resolves only once its bindings
// are committed with synchronous=FULL (fsync'd), so an ACK still leaves only after that. One
// transaction is in flight at a time; what is committed meanwhile goes into the next one, which
// starts as GroupCommitSchedule says (commitIntervalMs after the last one started at the soonest,
// once commitBatchSize commits wait or the oldest has waited commitMaxDelayMs). Background bindings (expiries)
// go in paced, bounded slices after the replies' bindings (PendingWrites, issue 15): a commit that
// carries an ACK never waits behind a storm of them.
// Reads (loadInto at start, getMeta, loadAll, backup) use a connection on this thread: WAL lets
// it read while the writer writes.

import type { Worker } from 'node:worker_threads';
import type { Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import type { Ipv4 } from '../wire/ipv4.js';
import {
  type BackgroundPacer,
  FlushTimer,
  type GroupCommitSchedule,
  PendingWrites,
  type Waiter,
} from './pending-writes.js';
import {
  backgroundPacerOf,
  fillLeaseParams,
  groupCommitScheduleOf,
  LEASE_ROW_VALUES,
  MAX_PENDING_LEASES,
  SqliteLeaseStore,
  type SqliteStoreOptions,
  type SqliteStoreStats,
} from './sqlite-store.js';
import type { WriteReply, WriteRequest } from './sqlite-writer.js';
import { type LeaseStore, StoreBusyError } from './store.js';
import { startStoreWorker } from './store-worker.js';

interface Batch {
  id: number;
  waiters: Waiter[];
  meta: Map<string, string>;
  leases: number;
  backgroundLeases: number;
  startedAt: number;
}

export class ThreadedSqliteLeaseStore implements LeaseStore {
  private readonly reader: SqliteLeaseStore;
  private readonly worker: Worker;
  private readonly grouping: GroupCommitSchedule;
  private rowCount: number;
  private readonly pending = new PendingWrites();
  private readonly pacer: BackgroundPacer;
  private inFlight: Batch | null = null;
  private nextId = 1;
  /** performance.now() for which the next flush is scheduled (Infinity: none is). */
  private readonly flushTimer = new FlushTimer(() => this.flush());
  private failure: Error | null = null;
  private isClosed = false;
  private onIdle: (() => void) | null = null;
  private onClosed: ((error?: string) => void) | null = null;
  private readonly counters: SqliteStoreStats = { transactions: 0, leasesWritten: 0, largestBatch: 0 };

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    // Opening here first creates or migrates the file, and fails at once naming it if it is not a
    // lease database.
    // It only reads: the writer thread's connection checkpoints, on that thread.
    this.reader = new SqliteLeaseStore(path, { commitIntervalMs: 0, isCheckpointerThread: false });
    this.rowCount = this.reader.count();
    this.grouping = groupCommitScheduleOf(options);
    this.pacer = backgroundPacerOf(options);
    this.worker = startStoreWorker('sqlite-writer', { path });
    // Only a transaction in flight keeps the process alive (ref() in flush).
    this.worker.unref();
    this.worker.on('message', (m: WriteReply | { closed: true; error?: string }) => this.onMessage(m));
    this.worker.on('error', (err) =>
      this.fail(new Error(`lease store ${path}: writer thread failed: ${err.message}`)),
    );
    this.worker.on('exit', (code) => {
      this.onClosed?.();
      if (!this.isClosed) this.fail(new Error(`lease store ${path}: writer thread exited (${code})`));
    });
  }

  loadInto(table: LeaseTable): number {
    const n = this.reader.loadInto(table);
    this.rowCount = n;
    return n;
  }

  loadAll(): Lease[] {
    return this.reader.loadAll();
  }

  count(): number {
    return this.rowCount;
  }

  stats(): SqliteStoreStats {
    return { ...this.counters };
  }

  getMeta(key: string): string | null {
    return this.pending.metaOf(key) ?? this.inFlight?.meta.get(key) ?? this.reader.getMeta(key);
  }

  backup(destination: string): Promise<{ pages: number }> {
    return this.reader.backup(destination);
  }

  commit(leases: readonly Lease[]): Promise<void> {
    const refused = this.refusal(leases.length, this.pending.leaseCount);
    if (refused !== null) return Promise.reject(refused);
    return this.enqueue((w) => this.pending.put(leases, w));
  }

  /** As SqliteLeaseStore.commitInBackground: after the replies' bindings, bounded and paced. */
  commitInBackground(leases: readonly Lease[]): Promise<void> {
    const refused = this.refusal(leases.length, this.pending.backgroundLeaseCount);
    if (refused !== null) return Promise.reject(refused);
    return this.enqueue((w) => this.pending.putInBackground(leases, w));
  }

  remove(addresses: readonly Ipv4[]): Promise<void> {
    const refused = this.refusal(0, 0);
    if (refused !== null) return Promise.reject(refused);
    return this.enqueue((w) => this.pending.remove(addresses, w));
  }

  setMeta(key: string, value: string): Promise<void> {
    const refused = this.refusal(0, 0);
    if (refused !== null) return Promise.reject(refused);
    return this.enqueue((w) => this.pending.setMeta(key, value, w));
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    // What is queued reaches the disk first.
    while (this.failure === null && (this.inFlight !== null || !this.pending.isEmpty)) {
      const idle = new Promise<void>((r) => {
        this.onIdle = r;
      });
      if (this.inFlight === null) this.flush(true);
      await idle;
    }
    this.flushTimer.cancel();
    if (this.failure === null) {
      this.worker.ref();
      const error = await new Promise<string | undefined>((resolve) => {
        this.onClosed = resolve;
        this.worker.postMessage({ close: true });
      });
      await this.worker.terminate();
      if (error !== undefined) throw new Error(`lease store ${this.path}: cannot close: ${error}`);
    } else {
      await this.worker.terminate();
    }
    await this.reader.close();
  }

  private refusal(extra: number, waiting: number): Error | null {
    if (this.isClosed) return new Error(`lease store ${this.path} is closed`);
    if (this.failure !== null) return this.failure;
    if (extra > MAX_PENDING_LEASES) {
      // Never takable, however long the caller waits: not StoreBusyError.
      return new Error(
        `lease store ${this.path}: ${extra} bindings in one commit, more than the ${MAX_PENDING_LEASES} that may wait for the disk`,
      );
    }
    if (waiting + extra > MAX_PENDING_LEASES) {
      return new StoreBusyError(
        `lease store ${this.path}: ${MAX_PENDING_LEASES} bindings already waiting for the disk`,
      );
    }
    return null;
  }

  private enqueue(add: (waiter: Waiter) => void): Promise<void> {
    const p = new Promise<void>((resolve, reject) => add({ resolve, reject }));
    this.grouping.noteGiven(this.pending, performance.now());
    this.schedule();
    return p;
  }

  /**
   * The next transaction: after this turn, one at a time, when GroupCommitSchedule says; for
   * background bindings alone, once they are due (BackgroundPacer).
   */
  private schedule(): void {
    if (this.inFlight !== null || this.pending.isEmpty || this.failure !== null) return;
    this.flushTimer.at(this.grouping.dueAt(this.pending, this.pacer.backgroundDueAt));
  }

  /** `isDraining` (close): background bindings whatever the pacing. */
  private flush(isDraining = false): void {
    this.flushTimer.cancel();
    if (this.inFlight !== null || this.pending.isEmpty || this.failure !== null) return;
    const startedAt = performance.now();
    const slice = this.pacer.takeSlice(this.pending, startedAt, isDraining);
    if (slice === null) {
      this.schedule();
      return;
    }
    this.grouping.noteStarted(this.pending, startedAt);
    const rows = new Array<unknown>(slice.leases.size * LEASE_ROW_VALUES);
    let at = 0;
    for (const l of slice.leases.values()) {
      fillLeaseParams(l, rows, at);
      at += LEASE_ROW_VALUES;
    }
    const batch: Batch = {
      id: this.nextId++,
      waiters: slice.waiters,
      meta: slice.meta,
      leases: slice.leases.size,
      backgroundLeases: slice.backgroundLeases,
      startedAt,
    };
    const request: WriteRequest = {
      id: batch.id,
      rows,
      removals: [...slice.removals],
      meta: [...slice.meta],
    };
    this.inFlight = batch;
    this.worker.ref();
    this.worker.postMessage(request);
  }

  private onMessage(m: WriteReply | { closed: true; error?: string }): void {
    if ('closed' in m) {
      this.onClosed?.(m.error);
      return;
    }
    const batch = this.inFlight;
    if (batch === null || m.id !== batch.id) return;
    this.inFlight = null;
    this.worker.unref();
    if ('error' in m) {
      const err = new Error(`lease store ${this.path}: write failed: ${m.error}`);
      for (const w of batch.waiters) w.reject(err);
    } else {
      this.rowCount += m.added;
      this.counters.transactions++;
      this.counters.leasesWritten += batch.leases;
      this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.leases);
      this.pacer.noteWritten(batch.startedAt, performance.now(), batch.backgroundLeases);
      for (const w of batch.waiters) w.resolve();
    }
    // What came meanwhile is the next transaction.
    this.schedule();
    // Closing: close() takes what is left, background included, unpaced.
    if (this.inFlight === null && (this.pending.isEmpty || this.isClosed)) {
      const idle = this.onIdle;
      this.onIdle = null;
      idle?.();
    }
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const all = [...(this.inFlight?.waiters ?? []), ...this.pending.takeAllWaiters()];
    this.inFlight = null;
    for (const w of all) w.reject(err);
    const idle = this.onIdle;
    this.onIdle = null;
    idle?.();
  }
}

export function openThreadedSqliteLeaseStore(
  path: string,
  options: SqliteStoreOptions = {},
): ThreadedSqliteLeaseStore {
  return new ThreadedSqliteLeaseStore(path, options);
}
