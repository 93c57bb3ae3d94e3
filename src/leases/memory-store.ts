// A lease store in memory, for the deterministic simulator and for tests. It keeps the LeaseStore
// contract (store.ts) with no disk and no timers:
//  * it stores copies, so a caller that mutates a lease after commit() (or one it got from
//    loadAll()) does not change what is stored;
//  * every write becomes durable in a later microtask, in call order (a Promise.resolve chain, never
//    setImmediate or a timer), so whoever drives the event loop (the simulator) decides when;
//  * faults are injected on request: failNextCommits(n) makes the next n commits reject and store
//    nothing; snapshot()/fromSnapshot() model a crash that keeps only what was durable.

import type { Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import type { Ipv4 } from '../wire/ipv4.js';
import type { LeaseStore } from './store.js';

/** What survives a crash: the durable bindings and meta values. Plain data (structured-cloneable). */
export interface MemoryStoreSnapshot {
  leases: Lease[];
  meta: [string, string][];
}

/** A deep copy of a lease. Lease is flat apart from `dns`; the test checks no other object is shared. */
function copyLease(lease: Lease): Lease {
  return { ...lease, dns: { ...lease.dns } };
}

export class MemoryLeaseStore implements LeaseStore {
  /** Durable state: what snapshot() keeps. */
  private readonly leases = new Map<Ipv4, Lease>();
  private readonly meta = new Map<string, string>();
  /** Meta as the caller sees it: includes values set but not yet durable (as the SQLite store does). */
  private readonly metaView = new Map<string, string>();
  /** Every write settles after the writes before it (call order). */
  private tail: Promise<void> = Promise.resolve();
  private failingCommits = 0;
  private isClosed = false;

  /** A store holding exactly what `snapshot` held: the state a restarted process would load. */
  static fromSnapshot(snapshot: MemoryStoreSnapshot): MemoryLeaseStore {
    const store = new MemoryLeaseStore();
    for (const l of snapshot.leases) store.leases.set(l.address, copyLease(l));
    for (const [k, v] of snapshot.meta) {
      store.meta.set(k, v);
      store.metaView.set(k, v);
    }
    return store;
  }

  /** The durable state now: writes whose promise has not settled yet are not in it. */
  snapshot(): MemoryStoreSnapshot {
    return { leases: [...this.leases.values()].map(copyLease), meta: [...this.meta] };
  }

  /** The next `count` calls to commit() reject with an Error and store nothing (a failed write). */
  failNextCommits(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`failNextCommits: bad count ${count}`);
    this.failingCommits = count;
  }

  loadAll(): Lease[] {
    return [...this.leases.values()].map(copyLease);
  }

  loadInto(table: LeaseTable): number {
    // LeaseTable.load copies the fields; the stored values are not shared.
    for (const l of this.leases.values()) table.load(l);
    return this.leases.size;
  }

  commit(leases: readonly Lease[]): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error('memory lease store is closed'));
    if (this.failingCommits > 0) {
      this.failingCommits--;
      const n = leases.length;
      return this.enqueue(() => {
        throw new Error(`memory lease store: injected write failure (${n} bindings not stored)`);
      });
    }
    // Copy now: what is committed is the lease as it was at the call.
    const copies = leases.map(copyLease);
    return this.enqueue(() => {
      for (const l of copies) this.leases.set(l.address, l);
    });
  }

  remove(addresses: readonly Ipv4[]): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error('memory lease store is closed'));
    const list = [...addresses];
    return this.enqueue(() => {
      for (const a of list) this.leases.delete(a);
    });
  }

  getMeta(key: string): string | null {
    return this.metaView.get(key) ?? null;
  }

  setMeta(key: string, value: string): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error('memory lease store is closed'));
    this.metaView.set(key, value);
    return this.enqueue(() => {
      this.meta.set(key, value);
    });
  }

  count(): number {
    return this.leases.size;
  }

  /** Refuses new writes; resolves once every write accepted before it is durable. */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.tail;
  }

  private enqueue(write: () => void): Promise<void> {
    const done = this.tail.then(write);
    this.tail = done.catch(() => undefined);
    return done;
  }
}
