// The embedded lease store: one SQLite file, WAL journal, synchronous=FULL, so a committed
// transaction survives kill -9 and power loss. Commits are grouped: every `commit()` made in one
// turn of the event loop (and while a flush runs) goes into one transaction and one fsync, so
// throughput does not collapse to one fsync per lease (DEPENDENCIES.md: ~15k/s single rows,
// ~146k/s in groups of 100 on this kind of machine).
//
// Compaction: rows are keyed by address, so the table never holds more rows than there are
// addresses in the configured ranges; a binding that changes rewrites its row. The WAL is
// checkpointed automatically (wal_autocheckpoint) and truncated on close and by compact().
//
// A new store can also be written in one go (writeNewLeaseStore, for the dhcpd import): large
// transactions without journal or fsync into a temporary file, which is flushed and then named.

import { closeSync, fsyncSync, linkSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DhcidMode, Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import type { Ipv4 } from '../wire/ipv4.js';
import {
  BackgroundPacer,
  FlushTimer,
  GroupCommitSchedule,
  PendingWrites,
  type Waiter,
} from './pending-writes.js';
import { type LeaseStore, StoreBusyError } from './store.js';
import { type CheckpointResult, WalCheckpointer, type WalCheckpointerStats } from './wal-checkpointer.js';
import { WalSync } from './wal-sync.js';

const SCHEMA_VERSION = 1;

/** Largest number of bindings waiting for a flush; beyond it commit() rejects (back-pressure). */
export const MAX_PENDING_LEASES = 50_000;

/**
 * SQLite's automatic checkpoint (pages), where the checkpointer thread does not run. It runs
 * inside the COMMIT that takes the WAL past this many pages, on the event loop, and copies them
 * into the database file and fsyncs it: ~8-25 µs per page on this machine (more for pages spread
 * over a large table). At 4000 pages (until issue 15) that was one 30-70 ms stall every 4000
 * pages: 5 in a storm of 100,000 expiries at 1M, ~4 % of its time, and an arrival p99 of 33-36
 * ms at the store; at 500 pages each is 5-15 ms and the storm's arrival p99 was 6.8-7.7 ms
 * (README, "Expiry storm"). Smaller ones lose little: the pages of a storm or of renewals are
 * spread over the table, so few repeat within 4000 pages anyway.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 500;

/**
 * Default least time between the starts of two group commits (config leaseStore.commitIntervalMs).
 * Each commit costs a fixed ~170 µs of CPU on this kind of machine whatever its size (the fsync:
 * block I/O submission, the inode write, the cache flush; bench/profiles/README.md), so at a low
 * rate, where each packet would otherwise get a commit of its own, waiting up to this long for the
 * next ones to join cuts the CPU per lease; at a high rate a commit takes longer than this anyway.
 * A binding waits at most this plus one commit before its ACK may leave.
 */
export const DEFAULT_COMMIT_INTERVAL_MS = 2;

/**
 * Default commits (about one per reply) a group commit waits for, and the most the oldest of them
 * waits for the others (config leaseStore.commitBatchSize, commitMaxDelayMs; GroupCommitSchedule).
 * 1: no waiting beyond the interval. Measured (issue 17, bench/profiles/README.md): a batch of 8
 * cut the fsyncs at 1000 leases/s from 334/s to 123/s but not the server's CPU per lease (231–253
 * against 225–231 µs): with the event loop no longer blocked in a fsync every 3 ms, each packet
 * woke it on its own (epoll_pwait 1.4 → 2.6 per DORA), and on this VM a wake-up costs about what
 * the fsyncs saved. So it is not the default.
 */
export const DEFAULT_COMMIT_BATCH_SIZE = 1;
export const DEFAULT_COMMIT_MAX_DELAY_MS = 8;

/**
 * Background bindings (commitInBackground: expiries) per transaction at most (issue 15). A
 * transaction's time grows with its rows (each expired binding rewrites a page of its own in a
 * table of 1M: about 1.4 ms + 0.06 ms per row with the fsync, measured on this machine), and on
 * this thread nothing else runs meanwhile: this bounds how long a packet or an ACK waits behind
 * expiries.
 */
export const BACKGROUND_LEASES_PER_COMMIT = 100;

/**
 * After a transaction that carried background bindings, none are written again for this many
 * times as long as it took (issue 15): at most about 1 / (1 + this) of the time goes to expiry
 * writes while a mass expiry lasts, the rest to packets and replies' commits.
 */
export const BACKGROUND_REST_FACTOR = 1;

export interface SqliteStoreOptions {
  /** Least time between the starts of two group commits (ms); 0 = the next turn of the event loop. */
  commitIntervalMs?: number;
  /** DEFAULT_COMMIT_BATCH_SIZE unless given; 1: no waiting beyond the interval (as before). */
  commitBatchSize?: number;
  /** DEFAULT_COMMIT_MAX_DELAY_MS unless given. */
  commitMaxDelayMs?: number;
  /** BACKGROUND_LEASES_PER_COMMIT unless given (tests, measurements). */
  backgroundLeasesPerCommit?: number;
  /** BACKGROUND_REST_FACTOR unless given. */
  backgroundRestFactor?: number;
  /**
   * WAL checkpoints on a thread of their own (WalCheckpointer, issue 15), not inside a COMMIT on
   * this thread. Default false, SQLite's automatic checkpoint (wal_autocheckpoint 4000): measured
   * at the store, the thread's checkpoints made the COMMITs' fsyncs wait at the disk (README).
   */
  isCheckpointerThread?: boolean;
  /** WAL_AUTOCHECKPOINT_PAGES unless given (measurements: bench/lib/storm-store.ts). */
  walAutocheckpointPages?: number;
  /** The checkpointer's thresholds unless given (tests). */
  checkpointAfterRows?: number;
  restartAfterFrames?: number;
  /**
   * Commits without the WAL's fsync on this thread (synchronous=NORMAL), which WalSync then runs
   * on libuv's thread pool; waiters are settled once it returned (issue 15). Default false:
   * measured at the store, the event loop waits less but ACKs wait longer (README, issue 15).
   */
  isWalSyncedOffLoop?: boolean;
  /** Every checkpoint the checkpointer ran (measurements). */
  onCheckpoint?: (r: CheckpointResult) => void;
  /** Called after every transaction with its timing (measurements: bench/lib/storm-store.ts). */
  onTransaction?: (t: TransactionTiming) => void;
}

/** One transaction of the store, timed on performance.now() (milliseconds). */
export interface TransactionTiming {
  startedAtMs: number;
  /** From BEGIN to the last row written (the upserts), before COMMIT. */
  writeMs: number;
  /** COMMIT: the WAL append, its fsync, and a checkpoint if one ran in it. */
  commitMs: number;
  leases: number;
  backgroundLeases: number;
}

/** The grouping of replies' commits a store's options ask for. */
export function groupCommitScheduleOf(options: SqliteStoreOptions): GroupCommitSchedule {
  return new GroupCommitSchedule({
    commitIntervalMs: options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
    commitBatchSize: options.commitBatchSize ?? DEFAULT_COMMIT_BATCH_SIZE,
    commitMaxDelayMs: options.commitMaxDelayMs ?? DEFAULT_COMMIT_MAX_DELAY_MS,
  });
}

/** The pacing of background writes a store's options ask for. */
export function backgroundPacerOf(options: SqliteStoreOptions): BackgroundPacer {
  return new BackgroundPacer(
    options.backgroundLeasesPerCommit ?? BACKGROUND_LEASES_PER_COMMIT,
    options.backgroundRestFactor ?? BACKGROUND_REST_FACTOR,
  );
}

const COLUMNS = [
  'address',
  'scope_id',
  'state',
  'hardware_type',
  'hardware_address',
  'client_id',
  'hostname',
  'client_type',
  'is_reserved',
  'lease_expires_at',
  'state_started_at',
  'client_last_transaction_at',
  'owner_server',
  'policy_name',
  'sent_potential_expires_at',
  'acked_potential_expires_at',
  'received_potential_expires_at',
  'last_binding_update_at',
  'is_partner_up_to_date',
  'fqdn',
  'dhcid_mode',
  'dns_flags',
] as const;

interface LeaseRow {
  address: number;
  scope_id: string;
  state: Lease['state'];
  hardware_type: number;
  hardware_address: string;
  client_id: string | null;
  hostname: string | null;
  client_type: Lease['clientType'];
  is_reserved: number;
  lease_expires_at: number;
  state_started_at: number;
  client_last_transaction_at: number;
  owner_server: string | null;
  policy_name: string | null;
  sent_potential_expires_at: number;
  acked_potential_expires_at: number;
  received_potential_expires_at: number;
  last_binding_update_at: number;
  is_partner_up_to_date: number;
  fqdn: string | null;
  dhcid_mode: DhcidMode;
  dns_flags: number;
}

// Windows AddressState bits 4–7 order (seed 001): cleanup, both records, unregistered, deleted.
function dnsFlagsToInt(d: Lease['dns']): number {
  return (
    (d.cleanupOnDelete ? 1 : 0) |
    (d.updateBothRecords ? 2 : 0) |
    (d.registrationPending ? 4 : 0) |
    (d.removalPending ? 8 : 0)
  );
}

function rowToLease(r: LeaseRow): Lease {
  return {
    address: r.address >>> 0,
    scopeId: r.scope_id,
    state: r.state,
    hardwareType: r.hardware_type,
    hardwareAddress: r.hardware_address,
    clientId: r.client_id,
    hostname: r.hostname,
    clientType: r.client_type,
    isReserved: r.is_reserved !== 0,
    leaseExpiresAt: r.lease_expires_at,
    stateStartedAt: r.state_started_at,
    clientLastTransactionAt: r.client_last_transaction_at,
    ownerServer: r.owner_server,
    policyName: r.policy_name,
    sentPotentialExpiresAt: r.sent_potential_expires_at,
    ackedPotentialExpiresAt: r.acked_potential_expires_at,
    receivedPotentialExpiresAt: r.received_potential_expires_at,
    lastBindingUpdateAt: r.last_binding_update_at,
    isPartnerUpToDate: r.is_partner_up_to_date !== 0,
    fqdn: r.fqdn,
    dhcidMode: r.dhcid_mode,
    dns: {
      cleanupOnDelete: (r.dns_flags & 1) !== 0,
      updateBothRecords: (r.dns_flags & 2) !== 0,
      registrationPending: (r.dns_flags & 4) !== 0,
      removalPending: (r.dns_flags & 8) !== 0,
    },
  };
}

/** Values per lease in a flat row array (fillLeaseParams, SqliteBatchWriter.write). */
export const LEASE_ROW_VALUES = COLUMNS.length;

/** The first 12 columns (address … client last transaction), the same in every row writer. */
function fillLeadingParams(l: Lease, params: unknown[], at: number): void {
  params[at] = l.address >>> 0;
  params[at + 1] = l.scopeId;
  params[at + 2] = l.state;
  params[at + 3] = l.hardwareType;
  params[at + 4] = l.hardwareAddress;
  params[at + 5] = l.clientId;
  params[at + 6] = l.hostname;
  params[at + 7] = l.clientType;
  params[at + 8] = l.isReserved ? 1 : 0;
  params[at + 9] = l.leaseExpiresAt;
  params[at + 10] = l.stateStartedAt;
  params[at + 11] = l.clientLastTransactionAt;
}

/** Writes the row of `l` into `params` from `at` on (in COLUMNS order); returns `params`. */
export function fillLeaseParams(l: Lease, params: unknown[], at = 0): unknown[] {
  fillLeadingParams(l, params, at);
  params[at + 12] = l.ownerServer;
  params[at + 13] = l.policyName;
  params[at + 14] = l.sentPotentialExpiresAt;
  params[at + 15] = l.ackedPotentialExpiresAt;
  params[at + 16] = l.receivedPotentialExpiresAt;
  params[at + 17] = l.lastBindingUpdateAt;
  params[at + 18] = l.isPartnerUpToDate ? 1 : 0;
  params[at + 19] = l.fqdn;
  params[at + 20] = l.dhcidMode;
  params[at + 21] = dnsFlagsToInt(l.dns);
  return params;
}

// loadInto's packed integer: state (3 bits; 7 = a state this server does not know), reserved (8),
// partner up to date (16), BOOTP (32), DHCID mode (2 bits from 64), DNS flags (4 bits from 256);
// loadInto adds the hardware type (8 bits from 4096).
const STORED_STATES: readonly (Lease['state'] | undefined)[] = [
  'free',
  'active',
  'expired',
  'released',
  'abandoned',
  'reset',
  'backup',
  undefined,
];
const STORED_DHCID_MODES: readonly DhcidMode[] = ['none', 'noClientId', 'clientId', 'duid'];
const sqlCase = (column: string, values: readonly (string | undefined)[], otherwise: number) =>
  `(CASE ${column} ${values.flatMap((v, i) => (v === undefined ? [] : [`WHEN '${v}' THEN ${i}`])).join(' ')} ELSE ${otherwise} END)`;
const PACKED_FIELDS = `${sqlCase('state', STORED_STATES, 7)}
  | ((is_reserved != 0) << 3) | ((is_partner_up_to_date != 0) << 4) | ((client_type = 'bootp') << 5)
  | (${sqlCase('dhcid_mode', STORED_DHCID_MODES, 0)} << 6) | ((dns_flags & 15) << 8)`;

/** A set of IPv4 addresses as bits, in 8 KiB pages per /16 (a /8 range of 2M addresses: 256 KiB). */
class AddressBits {
  private readonly pages = new Map<number, Uint32Array>();

  has(address: number): boolean {
    const page = this.pages.get(address >>> 16);
    return page !== undefined && (page[(address & 0xffff) >>> 5]! & (1 << (address & 31))) !== 0;
  }

  add(address: number): void {
    let page = this.pages.get(address >>> 16);
    if (page === undefined) {
      page = new Uint32Array(2048);
      this.pages.set(address >>> 16, page);
    }
    page[(address & 0xffff) >>> 5]! |= 1 << (address & 31);
  }

  delete(address: number): void {
    const page = this.pages.get(address >>> 16);
    if (page !== undefined) page[(address & 0xffff) >>> 5]! &= ~(1 << (address & 31));
  }
}

export interface SqliteStoreStats {
  transactions: number;
  leasesWritten: number;
  largestBatch: number;
}

export class SqliteLeaseStore implements LeaseStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly deleteOne: Database.Statement;
  private readonly metaSet: Database.Statement;
  private readonly metaGet: Database.Statement;
  private readonly existsStmt: Database.Statement;
  /** Rows in the table: counted once at open, then kept up to date by every write. */
  private rowCount: number;
  /**
   * Which addresses have a row, once loadInto has read them all (null before): a write learns
   * whether it adds a row from here instead of asking SQLite (a second B-tree descent per row,
   * which showed in the commits of a mass expiry).
   */
  private rows: AddressBits | null = null;
  private readonly writeBatch: (
    leases: Map<number, Lease>,
    removals: Set<number>,
    meta: Map<string, string>,
  ) => number;
  private readonly pending = new PendingWrites();
  private readonly pacer: BackgroundPacer;
  /** performance.now() for which the next flush is scheduled (Infinity: none is). */
  private readonly flushTimer = new FlushTimer(() => this.flush());
  private readonly grouping: GroupCommitSchedule;
  private isClosed = false;
  private readonly counters: SqliteStoreStats = { transactions: 0, leasesWritten: 0, largestBatch: 0 };
  private readonly onTransaction: ((t: TransactionTiming) => void) | undefined;
  /** performance.now() when the last transaction's rows were written, before its COMMIT. */
  private writtenAt = 0;
  /** Checkpoints off this thread (null: SQLite's automatic ones, inside COMMITs). */
  private checkpointer: WalCheckpointer | null = null;
  /** The WAL's fsync off this thread (null: inside each COMMIT, synchronous=FULL). */
  private readonly walSync: WalSync | null = null;
  /** wal_autocheckpoint (pages) while checkpoints run inside COMMITs. */
  private readonly walAutocheckpoint: number;

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    this.grouping = groupCommitScheduleOf(options);
    this.pacer = backgroundPacerOf(options);
    this.walAutocheckpoint = options.walAutocheckpointPages ?? WAL_AUTOCHECKPOINT_PAGES;
    this.onTransaction = options.onTransaction;
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma(`wal_autocheckpoint = ${this.walAutocheckpoint}`);
      migrate(this.db);
      // Touch the table so a corrupt file fails here, at start, and not at the first ACK.
      this.rowCount = (this.db.prepare('SELECT count(*) AS n FROM leases').get() as { n: number }).n;
    } catch (err) {
      throw new Error(`lease store ${path}: cannot open: ${(err as Error).message}`);
    }
    if (options.isWalSyncedOffLoop === true) {
      // In WAL mode NORMAL is FULL without the fsync at COMMIT; WalSync runs it and settles the
      // waiters after it (checkpoints still sync the WAL before and the database file after).
      this.db.pragma('synchronous = NORMAL');
      this.walSync = new WalSync(`${path}-wal`, () => this.schedule());
    }
    if (options.isCheckpointerThread === true) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new WalCheckpointer(path, {
        checkpointAfterRows: options.checkpointAfterRows,
        restartAfterFrames: options.restartAfterFrames,
        onCheckpoint: options.onCheckpoint,
        onRelease: () => this.schedule(),
        onFailure: () => {
          // Back to checkpoints inside COMMITs: slower replies, but the WAL stays bounded.
          this.checkpointer = null;
          if (!this.isClosed) this.db.pragma(`wal_autocheckpoint = ${this.walAutocheckpoint}`);
        },
      });
    }
    this.upsert = this.db.prepare(
      `INSERT INTO leases (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT(address) DO UPDATE SET ${COLUMNS.slice(1)
         .map((c) => `${c} = excluded.${c}`)
         .join(', ')}`,
    );
    this.deleteOne = this.db.prepare('DELETE FROM leases WHERE address = ?');
    this.metaSet = this.db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.metaGet = this.db.prepare('SELECT value FROM meta WHERE key = ?');
    this.existsStmt = this.db.prepare('SELECT 1 FROM leases WHERE address = ?').pluck();
    // One parameter array for every row (better-sqlite3 binds its values and keeps no reference).
    const params = new Array<unknown>(COLUMNS.length);
    this.writeBatch = this.db.transaction(
      (leases: Map<number, Lease>, removals: Set<number>, meta: Map<string, string>) => {
        // count() must not scan a million rows per metrics scrape: count what each write adds.
        let added = 0;
        const rows = this.rows;
        for (const l of leases.values()) {
          const isNew =
            rows !== null ? !rows.has(l.address) : this.existsStmt.get(l.address >>> 0) === undefined;
          if (isNew) added++;
          this.upsert.run(fillLeaseParams(l, params));
        }
        for (const a of removals) added -= this.deleteOne.run(a).changes;
        for (const [k, v] of meta) this.metaSet.run(k, v);
        if (this.onTransaction !== undefined) this.writtenAt = performance.now();
        return added;
      },
    );
  }

  loadAll(): Lease[] {
    const rows = this.db.prepare(`SELECT ${COLUMNS.join(', ')} FROM leases`).all() as LeaseRow[];
    return rows.map(rowToLease);
  }

  /**
   * Rows straight into the table's columns (issue 15): raw rows read one at a time, no row
   * objects, no Lease objects, no array of all rows. In address order (the primary key), which is
   * the order the table's pages are filled in.
   *
   * Turning SQLite values into JS values is most of the cost of a start with a million leases
   * (SQLite's own scan of the table is a twentieth of it), so the query returns fewer of them:
   * the small fields and the hardware type packed into one integer, and the scope, owner and
   * policy that most rows share (the first row's) as one 0 instead of a value each. A row whose
   * names differ from the first row's, or whose hardware type is not a byte, gets them all in one
   * JSON array instead (14 values per row instead of 17: ~0.15–0.3 s less at a million rows).
   */
  loadInto(table: LeaseTable): number {
    let n = 0;
    const rowBits = new AddressBits();
    try {
      const first = this.db
        .prepare('SELECT scope_id, owner_server, policy_name FROM leases LIMIT 1')
        .raw(true)
        .get() as [string, string | null, string | null] | undefined;
      if (first === undefined) {
        this.rowCount = 0;
        this.rows = rowBits;
        return 0;
      }
      const [scope, owner, policy] = first;
      const rows = this.db
        .prepare(
          `SELECT address, ${PACKED_FIELDS} | ((hardware_type & 255) << 12),
             CASE WHEN scope_id = @scope AND owner_server IS @owner AND policy_name IS @policy
               AND hardware_type BETWEEN 0 AND 255 THEN 0
               ELSE json_array(scope_id, owner_server, policy_name, hardware_type) END,
             hardware_address, client_id, hostname, fqdn,
             lease_expires_at, state_started_at, client_last_transaction_at, sent_potential_expires_at,
             acked_potential_expires_at, received_potential_expires_at, last_binding_update_at
           FROM leases`,
        )
        .raw(true)
        .iterate({ scope, owner, policy }) as IterableIterator<unknown[]>;
      for (const r of rows) {
        rowBits.add((r[0] as number) >>> 0);
        const bits = r[1] as number;
        let scopeId = scope;
        let ownerServer = owner;
        let policyName = policy;
        let hardwareType = (bits >> 12) & 255;
        if (r[2] !== 0)
          [scopeId, ownerServer, policyName, hardwareType] = JSON.parse(r[2] as string) as [
            string,
            string | null,
            string | null,
            number,
          ];
        table.putFields(
          (r[0] as number) >>> 0,
          scopeId,
          STORED_STATES[bits & 7] as Lease['state'],
          hardwareType,
          r[3] as string,
          r[4] as string | null,
          r[5] as string | null,
          (bits & 32) !== 0,
          (bits & 8) !== 0,
          r[7] as number,
          r[8] as number,
          r[9] as number,
          ownerServer,
          policyName,
          r[10] as number,
          r[11] as number,
          r[12] as number,
          r[13] as number,
          (bits & 16) !== 0,
          r[6] as string | null,
          STORED_DHCID_MODES[(bits >> 6) & 3]!,
          (bits >> 8) & 15,
        );
        n++;
      }
    } catch (err) {
      throw new Error(`lease store ${this.path}: cannot read the leases: ${(err as Error).message}`);
    }
    this.rowCount = n;
    this.rows = rowBits;
    return n;
  }

  commit(leases: readonly Lease[]): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error(`lease store ${this.path} is closed`));
    if (this.walSync?.error) return Promise.reject(this.walSync.error);
    if (leases.length > MAX_PENDING_LEASES) {
      // Never takable, however long the caller waits: not StoreBusyError.
      return Promise.reject(
        new Error(
          `lease store ${this.path}: ${leases.length} bindings in one commit, more than the ${MAX_PENDING_LEASES} that may wait for the disk`,
        ),
      );
    }
    if (this.pending.leaseCount + leases.length > MAX_PENDING_LEASES) {
      return Promise.reject(
        new StoreBusyError(
          `lease store ${this.path}: ${MAX_PENDING_LEASES} bindings already waiting for the disk`,
        ),
      );
    }
    return this.enqueue((w) => this.pending.put(leases, w));
  }

  /**
   * Bindings no reply waits for (expiries, issue 15): written after the replies' bindings, at most
   * BACKGROUND_LEASES_PER_COMMIT per transaction and paced (BACKGROUND_REST_FACTOR); durable when
   * resolved. An address's versions still reach the disk in the order they were given
   * (PendingWrites).
   */
  commitInBackground(leases: readonly Lease[]): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error(`lease store ${this.path} is closed`));
    if (this.pending.backgroundLeaseCount + leases.length > MAX_PENDING_LEASES) {
      return Promise.reject(
        new StoreBusyError(
          `lease store ${this.path}: ${MAX_PENDING_LEASES} background bindings already waiting for the disk`,
        ),
      );
    }
    return this.enqueue((w) => this.pending.putInBackground(leases, w));
  }

  remove(addresses: readonly Ipv4[]): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error(`lease store ${this.path} is closed`));
    return this.enqueue((w) => this.pending.remove(addresses, w));
  }

  getMeta(key: string): string | null {
    const pending = this.pending.metaOf(key);
    if (pending !== undefined) return pending;
    const row = this.metaGet.get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error(`lease store ${this.path} is closed`));
    return this.enqueue((w) => this.pending.setMeta(key, value, w));
  }

  count(): number {
    return this.rowCount;
  }

  stats(): SqliteStoreStats {
    return { ...this.counters };
  }

  /** The checkpointer thread's counters (null: SQLite's automatic checkpoints). */
  checkpointerStats(): WalCheckpointerStats | null {
    return this.checkpointer?.stats() ?? null;
  }

  /** This connection's wal_autocheckpoint (pages; 0: it never checkpoints inside a commit). */
  walAutocheckpointPages(): number {
    return this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
  }

  /**
   * Online backup to `destination` (SQLite's backup API, better-sqlite3 `db.backup`): a complete,
   * consistent copy of what is committed, taken while the server keeps writing (every ACKed
   * binding is committed before its ACK). The copy is a store a server can start from.
   */
  async backup(destination: string): Promise<{ pages: number }> {
    if (this.isClosed) throw new Error(`lease store ${this.path} is closed`);
    const r = await this.db.backup(destination);
    return { pages: r.totalPages };
  }

  /** Truncates the WAL into the main file and gives free pages back to the file system. */
  compact(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const total = this.db.pragma('page_count', { simple: true }) as number;
    if (total > 0 && free / total > 0.25) this.db.exec('VACUUM');
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    // No checkpoint runs beside the last writes and the truncating checkpoint below. Without the
    // opt-in threads nothing here awaits: the file is closed (its -wal and -shm removed) before
    // close() returns, as callers that do not await it (a CLI about to exit) rely on.
    if (this.checkpointer !== null) {
      await this.checkpointer.close();
      this.checkpointer = null;
    }
    // Everything given reaches the disk, the background lane included, unpaced.
    while (!this.pending.isEmpty) this.flush(true);
    this.flushTimer.cancel();
    this.isClosed = true;
    if (this.walSync !== null) await this.walSync.close();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  private enqueue(add: (waiter: Waiter) => void): Promise<void> {
    const p = new Promise<void>((resolve, reject) => add({ resolve, reject }));
    this.grouping.noteGiven(this.pending, performance.now());
    this.schedule();
    return p;
  }

  /**
   * Everything of this turn goes in one commit, and commits of later turns join it until it is
   * due (GroupCommitSchedule: the interval, the batch, the longest wait), so that at a low rate a
   * few packets share a fsync. A flush for background bindings alone waits until they are due
   * (BackgroundPacer); a reply's binding brings it forward.
   */
  private schedule(): void {
    if (this.isClosed || this.pending.isEmpty) return;
    this.flushTimer.at(this.grouping.dueAt(this.pending, this.pacer.backgroundDueAt));
  }

  /**
   * Writes the replies' lane and the background bindings that are due in one transaction, then
   * settles every waiter of it; `isDraining` (close) takes background bindings whatever the pacing.
   */
  private flush(isDraining = false): void {
    this.flushTimer.cancel();
    // A catch-up checkpoint is restarting the WAL: onRelease schedules this again; so does an
    // fsync of the WAL returning when too many commits wait for it.
    if (this.pending.isEmpty || this.checkpointer?.isHoldingWrites === true) return;
    if (this.walSync?.isFull === true && !isDraining) return;
    const startedAt = performance.now();
    // With the fsync off this thread, background bindings also wait for the WAL's fsync to
    // return: they go at the disk's pace, not at the pace of COMMITs that no longer wait for it.
    const slice =
      this.walSync?.isSyncing === true && !isDraining
        ? this.pending.hasUrgent
          ? this.pending.take(0)
          : null
        : this.pacer.takeSlice(this.pending, startedAt, isDraining);
    if (slice === null) {
      this.schedule();
      return;
    }
    this.grouping.noteStarted(this.pending, startedAt);
    const { leases, removals, meta, waiters } = slice;
    try {
      this.rowCount += this.writeBatch(leases, removals, meta);
      if (this.rows !== null) {
        for (const a of leases.keys()) this.rows.add(a);
        for (const a of removals) this.rows.delete(a);
      }
    } catch (err) {
      const e = new Error(`lease store ${this.path}: write failed: ${(err as Error).message}`);
      for (const w of waiters) w.reject(e);
      this.schedule();
      return;
    }
    this.counters.transactions++;
    this.counters.leasesWritten += leases.size;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, leases.size);
    this.checkpointer?.noteWritten(leases.size + removals.size + meta.size);
    const endedAt = performance.now();
    this.pacer.noteWritten(startedAt, endedAt, slice.backgroundLeases);
    this.onTransaction?.({
      startedAtMs: startedAt,
      writeMs: this.writtenAt - startedAt,
      commitMs: endedAt - this.writtenAt,
      leases: leases.size,
      backgroundLeases: slice.backgroundLeases,
    });
    if (this.walSync !== null) this.walSync.add(waiters);
    else for (const w of waiters) w.resolve();
    this.schedule();
  }
}

/**
 * The writing half of the store on a connection of its own, for the writer thread
 * (sqlite-writer.ts): the same pragmas (WAL, synchronous=FULL) and the same upsert as
 * SqliteLeaseStore's commits, fed rows already flattened (LEASE_ROW_VALUES values per lease) so
 * that only plain values cross between threads. One write() is one transaction and one fsync;
 * it returns how many rows it added.
 */
export class SqliteBatchWriter {
  private readonly db: Database.Database;
  private readonly rows = new AddressBits();
  private readonly write_: (
    rows: readonly unknown[],
    removals: readonly number[],
    meta: readonly [string, string][],
  ) => number;

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('wal_autocheckpoint = 4000');
    migrate(this.db);
    for (const a of this.db.prepare('SELECT address FROM leases').pluck().iterate())
      this.rows.add((a as number) >>> 0);
    const upsert = this.db.prepare(
      `INSERT INTO leases (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT(address) DO UPDATE SET ${COLUMNS.slice(1)
         .map((c) => `${c} = excluded.${c}`)
         .join(', ')}`,
    );
    const deleteOne = this.db.prepare('DELETE FROM leases WHERE address = ?');
    const metaSet = this.db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    const params = new Array<unknown>(COLUMNS.length);
    this.write_ = this.db.transaction(
      (rows: readonly unknown[], removals: readonly number[], meta: readonly [string, string][]) => {
        let added = 0;
        for (let at = 0; at < rows.length; at += COLUMNS.length) {
          for (let c = 0; c < COLUMNS.length; c++) params[c] = rows[at + c];
          upsert.run(params);
        }
        for (const a of removals) added -= deleteOne.run(a).changes;
        for (const [k, v] of meta) metaSet.run(k, v);
        return added;
      },
    );
  }

  write(rows: readonly unknown[], removals: readonly number[], meta: readonly [string, string][]): number {
    const added = this.write_(rows, removals, meta);
    // Only once committed: a failed transaction adds nothing.
    let news = 0;
    for (let at = 0; at < rows.length; at += COLUMNS.length) {
      const a = rows[at] as number;
      if (!this.rows.has(a)) {
        this.rows.add(a);
        news++;
      }
    }
    for (const a of removals) this.rows.delete(a);
    return added + news;
  }

  close(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

export function openSqliteLeaseStore(path: string, options: SqliteStoreOptions = {}): SqliteLeaseStore {
  return new SqliteLeaseStore(path, options);
}

/**
 * Every binding of a store file, read without writing to it (no migration, no lock file): for
 * offline checks of a store a server may be running on (SQLite readers and a WAL writer coexist).
 * Throws an Error naming the file when it cannot be read or is newer than this code.
 */
export function readLeaseStoreFile(path: string): Lease[] {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`lease store ${path}: cannot open: ${(err as Error).message}`);
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`schema version ${version} is newer than this program understands (${SCHEMA_VERSION})`);
    }
    if (version < 1) return [];
    return (db.prepare(`SELECT ${COLUMNS.join(', ')} FROM leases`).all() as LeaseRow[]).map(rowToLease);
  } catch (err) {
    throw new Error(`lease store ${path}: cannot read: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`schema version ${version} is newer than this server understands (${SCHEMA_VERSION})`);
  }
  if (version < 1) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS leases (
        address INTEGER PRIMARY KEY,
        scope_id TEXT NOT NULL,
        state TEXT NOT NULL,
        hardware_type INTEGER NOT NULL,
        hardware_address TEXT NOT NULL,
        client_id TEXT,
        hostname TEXT,
        client_type TEXT NOT NULL,
        is_reserved INTEGER NOT NULL,
        lease_expires_at INTEGER NOT NULL,
        state_started_at INTEGER NOT NULL,
        client_last_transaction_at INTEGER NOT NULL,
        owner_server TEXT,
        policy_name TEXT,
        sent_potential_expires_at INTEGER NOT NULL,
        acked_potential_expires_at INTEGER NOT NULL,
        received_potential_expires_at INTEGER NOT NULL,
        last_binding_update_at INTEGER NOT NULL,
        is_partner_up_to_date INTEGER NOT NULL,
        fqdn TEXT,
        dhcid_mode TEXT NOT NULL,
        dns_flags INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
}

/** Rows per transaction of writeNewLeaseStore(). */
export const BULK_ROWS_PER_TRANSACTION = 50_000;
/** Rows per INSERT statement of writeNewLeaseStore(). */
const BULK_ROWS_PER_STATEMENT = 16;
const ROW = `(${COLUMNS.map(() => '?').join(', ')})`;

/**
 * The values every binding an import makes has in these columns (a new binding: no owner, policy,
 * binding update or DNS state): writeNewLeaseStore() writes them as SQL literals, not bound
 * parameters, for the rows that have them (issue 15: 22 → 17 values bound per row, ~0.4 s of 2.4
 * for 1M rows, measured). Each literal is what binding the value stores (NULL, INTEGER 0, TEXT).
 */
const NEW_BINDING_LITERALS: Partial<Record<(typeof COLUMNS)[number], string>> = {
  owner_server: 'NULL',
  policy_name: 'NULL',
  last_binding_update_at: '0',
  dhcid_mode: "'none'",
  dns_flags: '0',
};
const NEW_BINDING_ROW = `(${COLUMNS.map((c) => NEW_BINDING_LITERALS[c] ?? '?').join(', ')})`;
/** Values bound per row of NEW_BINDING_ROW. */
const NEW_BINDING_PARAMS = COLUMNS.length - Object.keys(NEW_BINDING_LITERALS).length;

/** Does `l` hold NEW_BINDING_LITERALS' values? */
function isNewBinding(l: Lease): boolean {
  return (
    l.ownerServer === null &&
    l.policyName === null &&
    l.lastBindingUpdateAt === 0 &&
    l.dhcidMode === 'none' &&
    dnsFlagsToInt(l.dns) === 0
  );
}

/** fillLeaseParams() without the NEW_BINDING_LITERALS columns (in COLUMNS order). */
function fillNewBindingParams(l: Lease, params: unknown[], at: number): void {
  fillLeadingParams(l, params, at);
  params[at + 12] = l.sentPotentialExpiresAt;
  params[at + 13] = l.ackedPotentialExpiresAt;
  params[at + 14] = l.receivedPotentialExpiresAt;
  params[at + 15] = l.isPartnerUpToDate ? 1 : 0;
  params[at + 16] = l.fqdn;
}

/** Row `r` of a multi-row parameter array of `width` values per row, into `into`. */
function copyRow(params: readonly unknown[], r: number, width: number, into: unknown[]): unknown[] {
  for (let c = 0; c < width; c++) into[c] = params[r * width + c];
  return into;
}

/**
 * Creates a new store at `path` holding `leases` and `meta` at once (the dhcpd import: a million
 * rows). Unlike commit(), which serves ACKs, this is built for volume: prepared INSERTs of 16 rows
 * with one reused parameter array, transactions of `rowsPerTransaction` rows, and no journal and no
 * fsync while it runs. Safety comes from the name instead: the file is built under a temporary name,
 * flushed to disk, and only then linked to `path` (which fails if `path` exists), so `path` never
 * names a half-written store and an existing store is never replaced. The file is left in WAL mode,
 * as the server opens it. Returns the number of leases written.
 */
export function writeNewLeaseStore(
  path: string,
  leases: Iterable<Lease>,
  meta: Iterable<readonly [string, string]>,
  rowsPerTransaction = BULK_ROWS_PER_TRANSACTION,
): number {
  const temporary = `${path}.new-${process.pid}`;
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${temporary}${suffix}`, { force: true });
  let db: Database.Database | null = null;
  let written = 0;
  try {
    db = new Database(temporary);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    migrate(db);
    const insertInto = `INSERT INTO leases (${COLUMNS.join(', ')}) VALUES`;
    const insertOne = db.prepare(`${insertInto} ${ROW}`);
    const insertNewOne = db.prepare(`${insertInto} ${NEW_BINDING_ROW}`);
    // Several rows per statement: half the cost per row of one-row INSERTs (measured, 22 columns).
    // The rows of new bindings are grouped; any other row is written by itself at once (all go
    // in one order-independent table; only the file's page layout can differ).
    const insertNewMany = db.prepare(
      `${insertInto} ${Array(BULK_ROWS_PER_STATEMENT).fill(NEW_BINDING_ROW).join(', ')}`,
    );
    const insertMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    const params = new Array<unknown>(NEW_BINDING_PARAMS * BULK_ROWS_PER_STATEMENT);
    const one = new Array<unknown>(COLUMNS.length);
    const newOne = new Array<unknown>(NEW_BINDING_PARAMS);
    let filled = 0;
    let committed = 0;
    db.exec('BEGIN');
    for (const lease of leases) {
      written++;
      if (!isNewBinding(lease)) insertOne.run(fillLeaseParams(lease, one));
      else {
        fillNewBindingParams(lease, params, filled * NEW_BINDING_PARAMS);
        if (++filled === BULK_ROWS_PER_STATEMENT) {
          insertNewMany.run(params);
          filled = 0;
        }
      }
      if (written - committed >= rowsPerTransaction) {
        db.exec('COMMIT');
        db.exec('BEGIN');
        committed = written;
      }
    }
    for (let r = 0; r < filled; r++) insertNewOne.run(copyRow(params, r, NEW_BINDING_PARAMS, newOne));
    for (const [key, value] of meta) insertMeta.run(key, value);
    db.exec('COMMIT');
    db.pragma('journal_mode = WAL');
    db.close();
    db = null;
    const fd = openSync(temporary, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temporary, path);
    rmSync(temporary);
    syncDirectory(dirname(path));
  } catch (err) {
    if (db?.open) db.close();
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${temporary}${suffix}`, { force: true });
    throw err;
  }
  return written;
}

/** fsync of a directory, so a new name in it survives a power loss. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
