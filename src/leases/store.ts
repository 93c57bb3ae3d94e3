// The lease store contract. The engine owns the live lease table in memory; a store makes
// changes durable and gives them back on start. `commit` resolves only when every lease passed
// to it is on stable storage (fsync'd): the shell sends an ACK only after that.

import type { Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import type { Ipv4 } from '../wire/ipv4.js';

export interface LeaseStore {
  /**
   * Puts every stored binding (one per address) into `table`, read once at start, without an
   * intermediate Lease per row or a list of them all; returns how many there were.
   */
  loadInto(table: LeaseTable): number;
  /** Every stored binding as Lease values (tests and tools; the server uses loadInto). */
  loadAll(): Lease[];
  /**
   * Upserts the given bindings (keyed by address). Calls made in the same turn of the event loop
   * are committed together (group commit: one transaction, one fsync). Resolves when durable;
   * rejects if the write failed (the caller must then not send the reply).
   */
  commit(leases: readonly Lease[]): Promise<void>;
  /**
   * Bindings no reply waits for (the expiries of a mass expiry, issue 15): durable when resolved,
   * like commit(), but they may lag behind the replies' bindings: a store that has this writes
   * them after those and in bounded slices. It never writes an address's older version after a
   * newer one: a later commit() or remove() of an address still waiting here takes it along, ahead
   * of itself. Stores without it: the caller uses commit().
   */
  commitInBackground?(leases: readonly Lease[]): Promise<void>;
  /** Deletes bindings (addresses that left every configured scope). Durable when resolved. */
  remove(addresses: readonly Ipv4[]): Promise<void>;
  /** Small persistent key/value area for non-lease state (failover state, stos, MCLT). */
  getMeta(key: string): string | null;
  setMeta(key: string, value: string): Promise<void>;
  /** Number of stored bindings (for metrics and tests). */
  count(): number;
  /** A consistent copy of the store at `destination`, taken online (embedded SQLite store only). */
  backup?(destination: string): Promise<{ pages: number }>;
  close(): Promise<void>;
}

/**
 * A commit refused because too many bindings already wait for the disk (the store's back-pressure):
 * nothing of it was taken, and the same commit can be tried again once the store has flushed.
 */
export class StoreBusyError extends Error {
  override readonly name = 'StoreBusyError';
}

/**
 * A commit refused because the shared database holds some of its addresses for another binding
 * (PostgreSQL store, several servers: the claim was lost to another server's write). `current` is
 * what the database holds for each lost address: the caller puts it into its table and sends no
 * reply that relies on the lost binding (docs/postgresql.md). Addresses of the commit not listed
 * here were written.
 */
export class BindingConflictError extends Error {
  override readonly name = 'BindingConflictError';
  constructor(
    message: string,
    readonly current: readonly Lease[],
  ) {
    super(message);
  }
}
