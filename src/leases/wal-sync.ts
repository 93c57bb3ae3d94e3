// The fsync of the default lease store's WAL off the event loop (issue 15). With
// synchronous=FULL, SQLite fsyncs the WAL inside every COMMIT, on the thread that commits: the
// event loop waits for the disk (10-25 ms for a transaction of 100 expired bindings spread over a
// table of 1M rows on this host) and answers nothing meanwhile. Here the store's connection commits
// with synchronous=NORMAL, which in WAL mode is the same COMMIT without that fsync (the frames are
// written to the WAL file, not yet synced), and this class fsyncs the WAL file on libuv's thread
// pool; a transaction's waiters are settled only once an fsync that started after its COMMIT has
// returned. That fsync makes every frame written before it durable, so what a waiter is told is
// what FULL would have told it, only later: an ACK still leaves only after its binding is on stable
// storage, and listeners (failover) still hear of a change only once it is. Waiters are settled in
// the order their transactions committed. One fsync at a time: what commits while it runs waits
// for the next one (a group commit at the disk). Why a WAL frame that is synced survives a
// checkpoint and a restart of the WAL: docs/safety.md, "The WAL's fsync off the event loop".

import { closeSync, fsync, openSync } from 'node:fs';
import type { Waiter } from './pending-writes.js';

/** Waiters of committed transactions at most waiting for the WAL's fsync; the store stops there. */
export const MAX_UNSYNCED_WAITERS = 10_000;

export class WalSync {
  private fd: number | null = null;
  private unsynced: Waiter[] = [];
  private inFlight: Promise<void> | null = null;
  private failure: Error | null = null;
  private syncs = 0;

  constructor(
    readonly walPath: string,
    /** An fsync returned: the store may commit again if it stopped at MAX_UNSYNCED_WAITERS. */
    private readonly onSynced: () => void,
    /** node:fs fsync unless given (tests hold it to see that nothing is settled before it returns). */
    private readonly fsyncFile: (fd: number, done: (err: Error | null) => void) => void = fsync,
  ) {}

  /** The store must not commit more until an fsync returns. */
  get isFull(): boolean {
    return this.unsynced.length >= MAX_UNSYNCED_WAITERS;
  }

  /** An fsync is running (the store writes no background bindings meanwhile: they would only
   * make the next reply's fsync longer, and the disk is the limit). */
  get isSyncing(): boolean {
    return this.inFlight !== null;
  }

  /** The failed fsync, after which nothing written is known durable (the store refuses writes). */
  get error(): Error | null {
    return this.failure;
  }

  get fsyncs(): number {
    return this.syncs;
  }

  /** The waiters of a transaction just committed (without fsync), in commit order. */
  add(waiters: readonly Waiter[]): void {
    if (this.failure !== null) {
      for (const w of waiters) w.reject(this.failure);
      return;
    }
    for (const w of waiters) this.unsynced.push(w);
    this.start();
  }

  /** Waits until every waiter given is settled, then closes the WAL file's descriptor. */
  async close(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private start(): void {
    if (this.inFlight !== null || this.unsynced.length === 0) return;
    const covered = this.unsynced;
    this.unsynced = [];
    let fd: number;
    try {
      // The WAL exists once a transaction has committed; it stays the same file while the store's
      // connection is open (a restart of the WAL rewrites it from its start). No lock of SQLite's
      // is on it, so closing this descriptor releases none.
      fd = this.fd ??= openSync(this.walPath, 'r');
    } catch (err) {
      this.fail(covered, err as Error);
      return;
    }
    this.syncs++;
    this.inFlight = new Promise<void>((done) => {
      this.fsyncFile(fd, (err) => {
        this.inFlight = null;
        if (err !== null) this.fail(covered, err);
        else for (const w of covered) w.resolve();
        done();
        this.start();
        this.onSynced();
      });
    });
  }

  private fail(covered: readonly Waiter[], err: Error): void {
    this.failure = new Error(`fsync of ${this.walPath} failed: ${err.message}`);
    for (const w of [...covered, ...this.unsynced]) w.reject(this.failure);
    this.unsynced = [];
  }
}
