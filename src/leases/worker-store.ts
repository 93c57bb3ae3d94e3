// LeaseStore whose writes run on a worker thread (sqlite-writer.ts). Same contract as the
// SQLite store: commit() resolves when the bindings are durable; calls made while a write is in
// flight are grouped into the next transaction (group commit with one transaction in flight).
// Reads (loadAll at start, getMeta, count) use a connection on the main thread: WAL lets it read
// while the writer writes.

import { Worker } from 'node:worker_threads';
import type { Lease } from '../dhcp/lease.js';
import type { Ipv4 } from '../wire/ipv4.js';
import { MAX_PENDING_LEASES, SqliteLeaseStore } from './sqlite-store.js';
import type { WriteRequest } from './sqlite-writer.js';
import type { LeaseStore } from './store.js';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Batch {
  id: number;
  waiters: Waiter[];
  meta: Map<string, string>;
}

const isTypeScriptSource = import.meta.url.endsWith('.ts');

function writerUrl(): URL {
  // Under tsx (tests, simulator) the sources are .ts; in dist/ they are .js.
  return new URL(isTypeScriptSource ? './sqlite-writer.ts' : './sqlite-writer.js', import.meta.url);
}

export class WorkerLeaseStore implements LeaseStore {
  private readonly reader: SqliteLeaseStore;
  private readonly worker: Worker;
  private pending = new Map<number, Lease>();
  private pendingRemovals = new Set<number>();
  private pendingMeta = new Map<string, string>();
  private waiters: Waiter[] = [];
  private inFlight: Batch | null = null;
  private nextId = 1;
  private failure: Error | null = null;
  private isClosed = false;
  private isScheduled = false;
  private transactions = 0;

  constructor(readonly path: string) {
    // Opening here first creates/migrates the file and fails early, naming it, if it is corrupt.
    this.reader = new SqliteLeaseStore(path);
    this.worker = isTypeScriptSource
      ? // Running from sources (tests, simulator): register tsx inside the thread, then load the writer.
        new Worker(
          `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(writerUrl().href)}); })`,
          { eval: true, workerData: { path } },
        )
      : new Worker(writerUrl(), { workerData: { path } });
    this.worker.on('message', (m: { type: string; id?: number; message?: string }) => this.onMessage(m));
    this.worker.on('error', (err) =>
      this.fail(new Error(`lease store ${path}: writer thread failed: ${err.message}`)),
    );
    this.worker.on('exit', (code) => {
      if (!this.isClosed) this.fail(new Error(`lease store ${path}: writer thread exited (${code})`));
    });
  }

  loadAll(): Lease[] {
    return this.reader.loadAll();
  }

  count(): number {
    return this.reader.count();
  }

  getMeta(key: string): string | null {
    return this.pendingMeta.get(key) ?? this.inFlight?.meta.get(key) ?? this.reader.getMeta(key);
  }

  stats(): { transactions: number } {
    return { transactions: this.transactions };
  }

  commit(leases: readonly Lease[]): Promise<void> {
    const refused = this.refusal(leases.length);
    if (refused) return Promise.reject(refused);
    for (const l of leases) {
      this.pending.set(l.address, l);
      this.pendingRemovals.delete(l.address);
    }
    return this.enqueue();
  }

  remove(addresses: readonly Ipv4[]): Promise<void> {
    const refused = this.refusal(0);
    if (refused) return Promise.reject(refused);
    for (const a of addresses) {
      this.pending.delete(a);
      this.pendingRemovals.add(a);
    }
    return this.enqueue();
  }

  setMeta(key: string, value: string): Promise<void> {
    const refused = this.refusal(0);
    if (refused) return Promise.reject(refused);
    this.pendingMeta.set(key, value);
    return this.enqueue();
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    // Let what is queued reach the disk first.
    while (this.inFlight || this.waiters.length > 0) {
      if (this.failure) break;
      if (!this.inFlight) this.send();
      await new Promise((r) => setTimeout(r, 1));
    }
    this.isClosed = true;
    await new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'close' });
    });
    await this.worker.terminate();
    await this.reader.close();
  }

  private refusal(extra: number): Error | null {
    if (this.isClosed) return new Error(`lease store ${this.path} is closed`);
    if (this.failure) return this.failure;
    if (this.pending.size + extra > MAX_PENDING_LEASES) {
      return new Error(
        `lease store ${this.path}: ${MAX_PENDING_LEASES} bindings already waiting for the disk`,
      );
    }
    return null;
  }

  private enqueue(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // Gather everything of this event-loop turn before handing it to the writer.
    if (!this.isScheduled && !this.inFlight) {
      this.isScheduled = true;
      setImmediate(() => {
        this.isScheduled = false;
        if (!this.inFlight) this.send();
      });
    }
    return p;
  }

  private send(): void {
    if (this.waiters.length === 0 || this.failure) return;
    const batch: Batch = { id: this.nextId++, waiters: this.waiters, meta: this.pendingMeta };
    const request: WriteRequest = {
      type: 'write',
      id: batch.id,
      leases: [...this.pending.values()],
      removals: [...this.pendingRemovals],
      meta: [...this.pendingMeta],
    };
    this.pending = new Map();
    this.pendingRemovals = new Set();
    this.pendingMeta = new Map();
    this.waiters = [];
    this.inFlight = batch;
    this.worker.postMessage(request);
  }

  private onMessage(m: { type: string; id?: number; message?: string }): void {
    const batch = this.inFlight;
    if ((m.type !== 'written' && m.type !== 'failed') || !batch || m.id !== batch.id) return;
    this.inFlight = null;
    if (m.type === 'written') {
      this.transactions++;
      for (const w of batch.waiters) w.resolve();
    } else {
      const err = new Error(`lease store ${this.path}: write failed: ${m.message}`);
      for (const w of batch.waiters) w.reject(err);
    }
    // What arrived meanwhile goes out as the next group.
    this.send();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const all = [...(this.inFlight?.waiters ?? []), ...this.waiters];
    this.inFlight = null;
    this.waiters = [];
    for (const w of all) w.reject(err);
  }
}

export function openWorkerLeaseStore(path: string): WorkerLeaseStore {
  return new WorkerLeaseStore(path);
}
