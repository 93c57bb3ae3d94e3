// Checkpoints of the default lease store's WAL, off the event loop (issue 15). With SQLite's
// automatic checkpoint (wal_autocheckpoint 4000 pages), the COMMIT that filled the WAL copied it
// back into the database file and fsync'd that file before returning, on the event loop: ~120-140
// ms when the pages are spread over a table of 1M rows (an expiry storm), while no packet was
// answered. A store opened with isCheckpointerThread (opt-in) turns that off (wal_autocheckpoint = 0) and tells this one what it wrote;
// after every CHECKPOINT_AFTER_ROWS rows a thread with a connection of its own
// (sqlite-checkpointer.ts) runs a PASSIVE checkpoint, which neither waits for the store's commits
// nor holds them.
//
// What PASSIVE cannot do while commits keep coming is let the WAL start again from its beginning:
// SQLite restarts it at a write only once every frame in it has been copied back, and a commit
// every few milliseconds always leaves some frames newer than the checkpoint. So once the WAL has
// grown past RESTART_AFTER_FRAMES, the next checkpoint is a catch-up: the store starts no
// transaction until it is done (replies' bindings wait in the store, the event loop goes on
// answering), and its next write restarts the WAL. Catch-ups copy only what came since the last
// checkpoint; MAX_HOLD_MS bounds how long writes are held in any case.
//
// Durability is SQLite's own: a checkpoint syncs the WAL before it copies and the database file
// before the WAL may be reused. Should the thread fail, the store goes back to automatic
// checkpoints (onFailure).

import type { Worker } from 'node:worker_threads';
import type { CheckpointReply } from './sqlite-checkpointer.js';
import { startStoreWorker } from './store-worker.js';

/** Rows written after which a checkpoint is asked for (about a page each in a large table). */
export const CHECKPOINT_AFTER_ROWS = 4000;
/** WAL frames (pages of 4 KiB: 32 MiB) beyond which the next checkpoint holds writes to restart it. */
export const RESTART_AFTER_FRAMES = 8000;
/** The longest a catch-up holds the store's writes, whether it has finished or not. */
export const MAX_HOLD_MS = 250;

export interface WalCheckpointerOptions {
  /** CHECKPOINT_AFTER_ROWS unless given (tests). */
  checkpointAfterRows?: number;
  /** RESTART_AFTER_FRAMES unless given (tests). */
  restartAfterFrames?: number;
  /** Writes held by a catch-up may go on. */
  onRelease: () => void;
  /** The thread failed: the store must checkpoint on its own again. */
  onFailure: (err: Error) => void;
  /** Every checkpoint's result (measurements). */
  onCheckpoint?: (r: CheckpointResult) => void;
}

export interface CheckpointResult {
  isCatchUp: boolean;
  /** SQLITE_BUSY: the checkpoint could not run to the end (a reader or writer held it back). */
  isBusy: boolean;
  /** Frames in the WAL when it ran, and how many of them are now in the database file. */
  logFrames: number;
  checkpointedFrames: number;
  durationMs: number;
}

export interface WalCheckpointerStats {
  checkpoints: number;
  catchUps: number;
  /** The WAL's frames at the last checkpoint. */
  lastLogFrames: number;
}

type State = 'idle' | 'running' | 'catch-up';

export class WalCheckpointer {
  private worker: Worker | null = null;
  private state: State = 'idle';
  private rowsSinceRequest = 0;
  private requestId = 0;
  private requestedAt = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private isHolding = false;
  private isStopped = false;
  private readonly afterRows: number;
  private readonly restartAfterFrames: number;
  private readonly counters: WalCheckpointerStats = { checkpoints: 0, catchUps: 0, lastLogFrames: 0 };

  constructor(
    readonly path: string,
    private readonly options: WalCheckpointerOptions,
  ) {
    this.afterRows = options.checkpointAfterRows ?? CHECKPOINT_AFTER_ROWS;
    this.restartAfterFrames = options.restartAfterFrames ?? RESTART_AFTER_FRAMES;
  }

  /** A catch-up is running: the store starts no transaction until onRelease. */
  get isHoldingWrites(): boolean {
    return this.isHolding;
  }

  stats(): WalCheckpointerStats {
    return { ...this.counters };
  }

  /** The store committed a transaction of `rows` rows. */
  noteWritten(rows: number): void {
    if (this.isStopped) return;
    this.rowsSinceRequest += rows;
    if (this.state === 'idle' && this.rowsSinceRequest >= this.afterRows) this.request('running');
  }

  /** Stops the thread (a checkpoint it is running finishes first); releases held writes. */
  async close(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    this.release();
    const worker = this.worker;
    this.worker = null;
    if (worker === null) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Referenced until it has exited: nothing else may be keeping this process alive meanwhile.
    worker.ref();
    worker.postMessage({ close: true });
    await exited;
  }

  private request(state: Exclude<State, 'idle'>): void {
    if (this.worker === null) this.worker = this.start();
    this.rowsSinceRequest = 0;
    this.state = state;
    this.requestedAt = performance.now();
    this.worker.ref();
    this.worker.postMessage({ id: ++this.requestId });
    if (state === 'catch-up') {
      this.isHolding = true;
      this.holdTimer = setTimeout(() => this.release(), MAX_HOLD_MS);
    }
  }

  private start(): Worker {
    const worker = startStoreWorker('sqlite-checkpointer', { path: this.path });
    worker.unref();
    worker.on('message', (m: CheckpointReply) => this.onReply(m));
    worker.on('error', (err) =>
      this.fail(new Error(`WAL checkpointer of ${this.path} failed: ${err.message}`)),
    );
    worker.on('exit', (code) => {
      if (!this.isStopped) this.fail(new Error(`WAL checkpointer of ${this.path} exited (${code})`));
    });
    return worker;
  }

  private onReply(m: CheckpointReply): void {
    if (m.id !== this.requestId || this.isStopped) return;
    this.worker?.unref();
    if ('error' in m) {
      this.fail(new Error(`WAL checkpoint of ${this.path} failed: ${m.error}`));
      return;
    }
    const wasCatchUp = this.state === 'catch-up';
    this.counters.checkpoints++;
    if (wasCatchUp) this.counters.catchUps++;
    this.counters.lastLogFrames = m.logFrames;
    this.options.onCheckpoint?.({
      isCatchUp: wasCatchUp,
      isBusy: m.busy !== 0,
      logFrames: m.logFrames,
      checkpointedFrames: m.checkpointedFrames,
      durationMs: performance.now() - this.requestedAt,
    });
    this.state = 'idle';
    if (wasCatchUp) this.release();
    else if (m.logFrames >= this.restartAfterFrames) {
      this.request('catch-up');
      return;
    }
    if (this.rowsSinceRequest >= this.afterRows) this.request('running');
  }

  private release(): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (!this.isHolding) return;
    this.isHolding = false;
    this.options.onRelease();
  }

  private fail(err: Error): void {
    if (this.isStopped) return;
    this.isStopped = true;
    this.release();
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
    this.options.onFailure(err);
  }
}
