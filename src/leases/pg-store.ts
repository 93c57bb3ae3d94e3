// The PostgreSQL lease store (issue 20; docs/postgresql.md): one database that any number of
// Twinlease servers share. The LeaseStore contract is synchronous where it reads (loadInto,
// getMeta), so `open()` reads every row and this server's meta before the server serves; commits
// are grouped like the SQLite store's (every commit() of one turn, and those made while a
// transaction runs, go into the next transaction) and resolve only once PostgreSQL has committed.
//
// Several servers, one database: the database decides every write. A row is written only if the
// row there is free for it (the claim condition below, evaluated by PostgreSQL under the row lock
// of INSERT ... ON CONFLICT DO UPDATE ... WHERE, so two claims cannot race); a row that is not
// returned was lost, and the commit rejects with BindingConflictError carrying the row that holds
// the address, which the shell puts into its table and answers no ACK from. Every committed row is
// notified (LISTEN/NOTIFY, the row as JSON), and every deleted one, so each server's table follows
// the others' writes and deletions and offers mostly avoid addresses another server took.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DhcidMode, Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import type { Ipv4 } from '../wire/ipv4.js';
import { checkPgSchema, PG_NOTIFY_CHANNEL } from './pg-schema.js';
import { BindingConflictError, type LeaseStore, StoreBusyError } from './store.js';

export interface PgStoreOptions {
  /** postgresql://user:password@host:port/database */
  url: string;
  /** Name of this server (config server.name): the key of its meta rows and of its writes. */
  serverName: string;
  /** Connections for commits (the listener has one more of its own). */
  poolSize?: number;
  /** How long a connection attempt may take before it counts as failed (ms). */
  connectTimeoutMs?: number;
  /** How long one statement may run before PostgreSQL cancels it (ms); also the query timeout. */
  statementTimeoutMs?: number;
  /** Attempts of a group commit that failed for want of a connection, before its waiters reject. */
  commitAttempts?: number;
  /** Where the store reports what it does (connection lost/back); default: nothing. */
  onEvent?: (event: PgStoreEvent) => void;
}

export type PgStoreEvent =
  | { type: 'commit-retry'; attempt: number; error: string }
  | { type: 'listener-lost'; error: string }
  | { type: 'listener-restored'; changed: number; durationMs: number };

export const PG_STORE_DEFAULTS = {
  poolSize: 4,
  connectTimeoutMs: 2000,
  statementTimeoutMs: 5000,
  commitAttempts: 3,
} as const;

/** Largest number of bindings waiting for a transaction; beyond it commit() rejects (back-pressure). */
export const PG_MAX_PENDING_LEASES = 50_000;

/** (address, revision) pairs per read of the catch-up after a lost listening connection. */
export const PG_CATCH_UP_PAGE_ROWS = 20_000;
/** Whole rows per read of those the catch-up found changed. */
const PG_CATCH_UP_FETCH_ROWS = 5_000;

const COLUMNS = [
  ['address', 'bigint'],
  ['scope_id', 'text'],
  ['state', 'text'],
  ['hardware_type', 'integer'],
  ['hardware_address', 'text'],
  ['client_id', 'text'],
  ['hostname', 'text'],
  ['client_type', 'text'],
  ['is_reserved', 'boolean'],
  ['lease_expires_at', 'bigint'],
  ['state_started_at', 'bigint'],
  ['client_last_transaction_at', 'bigint'],
  ['owner_server', 'text'],
  ['policy_name', 'text'],
  ['sent_potential_expires_at', 'bigint'],
  ['acked_potential_expires_at', 'bigint'],
  ['received_potential_expires_at', 'bigint'],
  ['last_binding_update_at', 'bigint'],
  ['is_partner_up_to_date', 'boolean'],
  ['fqdn', 'text'],
  ['dhcid_mode', 'text'],
  ['dns_flags', 'integer'],
] as const;
const NAMES = COLUMNS.map(([n]) => n);

/**
 * When a write may replace the row there (`l`: the row in the database, `excluded`: the write).
 *  1. The address holds nobody: its row is not a binding (free, expired, released, backup, reset),
 *     or it is one whose lease time has run out by the database's clock (a server that has not yet
 *     expired it does not keep it from the others).
 *  2. Or it is the same client's binding (client identifier when either row has one, else the
 *     hardware address) and the write is not older than the row: client-last-transaction-time is
 *     never behind the row's. An expiry or a renewal made from a stale copy carries the older time
 *     and loses to the newer one another server wrote.
 * Anything else is another client's live binding, or a decline hold (abandoned, no client) that
 * has not ended: the write is lost.
 */
const CLAIM_CONDITION = `
  (l.state NOT IN ('active', 'abandoned')
    OR l.lease_expires_at <= floor(extract(epoch FROM clock_timestamp()))::bigint)
  OR ((CASE WHEN l.client_id IS NOT NULL OR excluded.client_id IS NOT NULL
            THEN l.client_id IS NOT DISTINCT FROM excluded.client_id
            ELSE l.hardware_type = excluded.hardware_type AND l.hardware_address = excluded.hardware_address
       END)
      AND excluded.client_last_transaction_at >= l.client_last_transaction_at)`;

const UPSERT = `
  INSERT INTO twinlease_leases AS l (${NAMES.join(', ')}, revision, written_by)
  SELECT u.*, nextval('twinlease_revision'), $${COLUMNS.length + 1}
  FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')}) AS u(${NAMES.join(', ')})
  ON CONFLICT (address) DO UPDATE SET ${[...NAMES.slice(1), 'revision', 'written_by']
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}
  WHERE ${CLAIM_CONDITION}
  RETURNING address, revision`;

interface PgLeaseRow {
  address: number;
  scope_id: string;
  state: Lease['state'];
  hardware_type: number;
  hardware_address: string;
  client_id: string | null;
  hostname: string | null;
  client_type: Lease['clientType'];
  is_reserved: boolean;
  lease_expires_at: number;
  state_started_at: number;
  client_last_transaction_at: number;
  owner_server: string | null;
  policy_name: string | null;
  sent_potential_expires_at: number;
  acked_potential_expires_at: number;
  received_potential_expires_at: number;
  last_binding_update_at: number;
  is_partner_up_to_date: boolean;
  fqdn: string | null;
  dhcid_mode: DhcidMode;
  dns_flags: number;
  revision: number;
  written_by: string;
}

function rowToLease(r: PgLeaseRow): Lease {
  return {
    address: Number(r.address) >>> 0,
    scopeId: r.scope_id,
    state: r.state,
    hardwareType: r.hardware_type,
    hardwareAddress: r.hardware_address,
    clientId: r.client_id,
    hostname: r.hostname,
    clientType: r.client_type,
    isReserved: r.is_reserved,
    leaseExpiresAt: Number(r.lease_expires_at),
    stateStartedAt: Number(r.state_started_at),
    clientLastTransactionAt: Number(r.client_last_transaction_at),
    ownerServer: r.owner_server,
    policyName: r.policy_name,
    sentPotentialExpiresAt: Number(r.sent_potential_expires_at),
    ackedPotentialExpiresAt: Number(r.acked_potential_expires_at),
    receivedPotentialExpiresAt: Number(r.received_potential_expires_at),
    lastBindingUpdateAt: Number(r.last_binding_update_at),
    isPartnerUpToDate: r.is_partner_up_to_date,
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

/** Column arrays for UPSERT's unnest (one array per column, in COLUMNS order). */
function columnArrays(leases: Iterable<Lease>): unknown[][] {
  const cols: unknown[][] = COLUMNS.map(() => []);
  for (const l of leases) {
    cols[0]!.push(l.address >>> 0);
    cols[1]!.push(l.scopeId);
    cols[2]!.push(l.state);
    cols[3]!.push(l.hardwareType);
    cols[4]!.push(l.hardwareAddress);
    cols[5]!.push(l.clientId);
    cols[6]!.push(l.hostname);
    cols[7]!.push(l.clientType);
    cols[8]!.push(l.isReserved);
    cols[9]!.push(l.leaseExpiresAt);
    cols[10]!.push(l.stateStartedAt);
    cols[11]!.push(l.clientLastTransactionAt);
    cols[12]!.push(l.ownerServer);
    cols[13]!.push(l.policyName);
    cols[14]!.push(l.sentPotentialExpiresAt);
    cols[15]!.push(l.ackedPotentialExpiresAt);
    cols[16]!.push(l.receivedPotentialExpiresAt);
    cols[17]!.push(l.lastBindingUpdateAt);
    cols[18]!.push(l.isPartnerUpToDate);
    cols[19]!.push(l.fqdn);
    cols[20]!.push(l.dhcidMode);
    cols[21]!.push(
      (l.dns.cleanupOnDelete ? 1 : 0) |
        (l.dns.updateBothRecords ? 2 : 0) |
        (l.dns.registrationPending ? 4 : 0) |
        (l.dns.removalPending ? 8 : 0),
    );
  }
  return cols;
}

/** bigint (int8) as a JS number: addresses, times and revisions all fit in 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
};

interface Waiter {
  addresses: readonly number[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Errors worth another attempt: the connection, not the statement (SQLSTATE class 08, 57P0x). */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  if (typeof code === 'string') {
    return (
      code.startsWith('08') ||
      code === '57P01' ||
      code === '57P02' ||
      code === '57P03' ||
      code === 'ECONNREFUSED' ||
      code === 'ECONNRESET' ||
      code === 'ETIMEDOUT' ||
      code === 'EPIPE'
    );
  }
  const message = (err as Error).message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error|Client was closed and is not queryable/.test(
    message,
  );
}

/** The other servers' writes (`leases`) and deletions (`removed`, addresses) of one turn. */
export type RemoteChangeListener = (leases: readonly Lease[], removed: readonly Ipv4[]) => void;

/** A deletion as the trigger of schema version 2 notifies it. */
/** A catch-up's record of the revisions noted while it runs. */
interface CatchUpState {
  /** Address -> the number of pages asked for when its revision was last noted. */
  noted: Map<number, number>;
  pagesSent: number;
}

interface PgDeletedRow {
  address: number;
  revision: number;
  deleted: true;
  /** application_name of the deleting session. */
  deleted_by: string;
}

export class PgLeaseStore implements LeaseStore {
  private readonly pool: pg.Pool;
  private readonly options: Required<Omit<PgStoreOptions, 'onEvent'>> & Pick<PgStoreOptions, 'onEvent'>;
  /** Rows read by open(), until loadInto has put them into the table. */
  private loaded: Lease[] | null = null;
  private readonly meta = new Map<string, string>();
  private readonly guarded = new WeakSet<pg.PoolClient>();
  /** Revision of the version of each address this server holds (open, own commits, notifications). */
  private readonly revisions = new Map<number, number>();
  /**
   * Addresses whose last version is another server's deletion: their revision stays in
   * `revisions` so that an older version of the row notified late is not applied over it.
   */
  private readonly deleted = new Set<number>();
  /** The catch-up running after a lost listening connection (see catchUp); null otherwise. */
  private catchUpState: CatchUpState | null = null;
  private pending = new Map<number, Lease>();
  /** The bindings of the group commit being written (null between commits). */
  private flushing: Map<number, Lease> | null = null;
  private pendingRemovals = new Set<number>();
  private pendingMeta = new Map<string, string>();
  private waiters: Waiter[] = [];
  private isFlushScheduled = false;
  private isFlushing = false;
  private isClosed = false;
  private listener: pg.Client | null = null;
  /** A warm-up store (openPgWarmUpStore): writes only on its own session. */
  private isScratch = false;
  /** Where the rows' notifications come (a warm-up store: a channel of its session's own). */
  private notifyChannel = PG_NOTIFY_CHANNEL;
  private listenerRetry: NodeJS.Timeout | null = null;
  private readonly remoteListeners: RemoteChangeListener[] = [];
  /** Notified rows (null: deleted) gathered in this turn, handed to the listeners together. */
  private remoteBatch = new Map<number, Lease | null>();
  private isRemoteScheduled = false;
  readonly counters = {
    transactions: 0,
    leasesWritten: 0,
    lostClaims: 0,
    retries: 0,
    remoteChanges: 0,
    /** Notifications of this server's own rows, dropped unparsed (see notified()). */
    ownNotifications: 0,
  };

  constructor(options: PgStoreOptions) {
    this.options = {
      poolSize: PG_STORE_DEFAULTS.poolSize,
      connectTimeoutMs: PG_STORE_DEFAULTS.connectTimeoutMs,
      statementTimeoutMs: PG_STORE_DEFAULTS.statementTimeoutMs,
      commitAttempts: PG_STORE_DEFAULTS.commitAttempts,
      ...options,
    };
    this.pool = new pg.Pool(this.clientConfig({ max: this.options.poolSize }));
    // An idle connection that breaks (the database restarted) is dropped by the pool; without a
    // handler the 'error' event would end the process.
    this.pool.on('error', () => {});
  }

  /** The sessions' application_name: what deletion notifications name as their author. */
  private get applicationName(): string {
    return `twinlease ${this.options.serverName}`;
  }

  /** Where errors name the database: the URL without its password. */
  get where(): string {
    try {
      const u = new URL(this.options.url);
      u.password = '';
      return u.toString();
    } catch {
      return 'postgresql lease store';
    }
  }

  private clientConfig(extra: pg.PoolConfig = {}): pg.PoolConfig {
    return {
      connectionString: this.options.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      statement_timeout: this.options.statementTimeoutMs,
      query_timeout: this.options.statementTimeoutMs + 1000,
      application_name: this.applicationName,
      types: TYPES,
      ...extra,
    };
  }

  /**
   * Connects, checks the schema version, reads every binding and this server's meta, and starts
   * listening for the other servers' writes. Throws an Error naming the database on failure.
   */
  async open(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.connect();
    } catch (err) {
      await this.pool.end().catch(() => {});
      throw new Error(`lease store ${this.where}: cannot connect: ${(err as Error).message}`);
    }
    try {
      await checkPgSchema(client);
      await this.startListener();
      const rows = await client.query<PgLeaseRow>('SELECT * FROM twinlease_leases ORDER BY address');
      this.loaded = rows.rows.map((r) => {
        this.revisions.set(Number(r.address) >>> 0, r.revision);
        return rowToLease(r);
      });
      const meta = await client.query<{ key: string; value: string }>(
        'SELECT key, value FROM twinlease_meta WHERE server = $1',
        [this.options.serverName],
      );
      for (const m of meta.rows) this.meta.set(m.key, m.value);
    } catch (err) {
      client.release();
      await this.close().catch(() => {});
      throw new Error(`lease store ${this.where}: ${(err as Error).message}`);
    }
    client.release();
  }

  /** See openPgWarmUpStore: a session of its own on a temporary copy of the table. */
  async openScratch(): Promise<void> {
    const client = new pg.Client(this.clientConfig());
    client.on('error', () => {});
    try {
      await client.connect();
      await checkPgSchema(client);
      // Resolved before the temporary table exists: the real table's columns, defaults and key.
      await client.query('CREATE TEMPORARY TABLE twinlease_leases (LIKE twinlease_leases INCLUDING ALL)');
      await client.query('CREATE TEMPORARY TABLE twinlease_meta (LIKE twinlease_meta INCLUDING ALL)');
      // Each written row is notified back to this session, on a channel no server listens to, as
      // the live store's own rows come back on its listening connection (and are dropped there by
      // the backend's PID): the driver's code then sees the messages it will see live.
      const channel = `twinlease_warm_up_${randomBytes(6).toString('hex')}`;
      await client.query(`CREATE FUNCTION pg_temp.twinlease_notify_lease() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('${channel}', row_to_json(NEW)::text);
          RETURN NULL;
        END $$`);
      await client.query(`CREATE TRIGGER twinlease_leases_notify AFTER INSERT OR UPDATE ON pg_temp.twinlease_leases
        FOR EACH ROW EXECUTE FUNCTION pg_temp.twinlease_notify_lease()`);
      this.notifyChannel = channel;
      client.on('notification', (n) => this.notified(client, n));
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      await client.end().catch(() => {});
      await this.pool.end().catch(() => {});
      throw new Error(`lease store ${this.where}: ${(err as Error).message}`);
    }
    this.listener = client;
    this.isScratch = true;
    this.loaded = [];
  }

  /** Other servers' committed writes, in batches per turn (only versions newer than the one held). */
  onRemoteChanges(listener: RemoteChangeListener): void {
    this.remoteListeners.push(listener);
  }

  loadInto(table: LeaseTable): number {
    const rows = this.loaded ?? [];
    for (const l of rows) table.put(l);
    this.loaded = null;
    return rows.length;
  }

  /** The rows read at open() (before loadInto); afterwards use readAll(). */
  loadAll(): Lease[] {
    if (this.loaded === null)
      throw new Error(`lease store ${this.where}: loadAll after loadInto; use readAll()`);
    return [...this.loaded];
  }

  /** Every binding in the database now. */
  async readAll(): Promise<Lease[]> {
    const rows = await this.pool.query<PgLeaseRow>('SELECT * FROM twinlease_leases ORDER BY address');
    return rows.rows.map(rowToLease);
  }

  commit(leases: readonly Lease[]): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error(`lease store ${this.where} is closed`));
    if (this.pending.size + leases.length > PG_MAX_PENDING_LEASES) {
      return Promise.reject(
        new StoreBusyError(
          `lease store ${this.where}: ${PG_MAX_PENDING_LEASES} bindings already waiting for the database`,
        ),
      );
    }
    for (const l of leases) {
      this.pending.set(l.address, l);
      this.pendingRemovals.delete(l.address);
    }
    return this.enqueue(leases.map((l) => l.address));
  }

  remove(addresses: readonly Ipv4[]): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error(`lease store ${this.where} is closed`));
    for (const a of addresses) {
      this.pending.delete(a);
      this.pendingRemovals.add(a);
    }
    return this.enqueue([]);
  }

  getMeta(key: string): string | null {
    return this.pendingMeta.get(key) ?? this.meta.get(key) ?? null;
  }

  setMeta(key: string, value: string): Promise<void> {
    if (this.isClosed) return Promise.reject(new Error(`lease store ${this.where} is closed`));
    this.pendingMeta.set(key, value);
    return this.enqueue([]);
  }

  count(): number {
    return this.revisions.size - this.deleted.size;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    // What is pending still goes out (the server stops after its last replies).
    while (this.waiters.length > 0 || this.isFlushing) {
      if (!this.isFlushing) await this.flush();
      else await new Promise((r) => setTimeout(r, 5));
    }
    this.isClosed = true;
    if (this.listenerRetry !== null) clearTimeout(this.listenerRetry);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
    await this.pool.end().catch(() => {});
  }

  private enqueue(addresses: readonly number[]): Promise<void> {
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ addresses, resolve, reject }));
    if (!this.isFlushScheduled && !this.isFlushing) {
      this.isFlushScheduled = true;
      setImmediate(() => void this.flush());
    }
    return p;
  }

  /** One transaction for everything pending; settles the waiters of the batch. */
  private async flush(): Promise<void> {
    this.isFlushScheduled = false;
    if (this.waiters.length === 0 || this.isFlushing) return;
    this.isFlushing = true;
    const leases = this.pending;
    const removals = this.pendingRemovals;
    const meta = this.pendingMeta;
    const waiters = this.waiters;
    this.pending = new Map();
    this.pendingRemovals = new Set();
    this.pendingMeta = new Map();
    this.waiters = [];
    let lost: Map<number, Lease>;
    this.flushing = leases;
    try {
      lost = await this.writeWithRetries(leases, removals, meta);
    } catch (err) {
      const e = new Error(`lease store ${this.where}: commit failed: ${(err as Error).message}`);
      for (const w of waiters) w.reject(e);
      this.afterFlush();
      return;
    } finally {
      this.flushing = null;
    }
    this.counters.transactions++;
    this.counters.leasesWritten += leases.size - lost.size;
    this.counters.lostClaims += lost.size;
    for (const [k, v] of meta) this.meta.set(k, v);
    for (const w of waiters) {
      const current = w.addresses.flatMap((a) => {
        const l = lost.get(a);
        return l === undefined ? [] : [l];
      });
      if (current.length === 0) w.resolve();
      else
        w.reject(
          new BindingConflictError(
            `lease store ${this.where}: ${current.length} address(es) held by another binding in the database`,
            current,
          ),
        );
    }
    this.afterFlush();
  }

  private afterFlush(): void {
    this.isFlushing = false;
    if (this.waiters.length > 0 && !this.isFlushScheduled) {
      this.isFlushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /**
   * The transaction, tried again (bounded) when it failed for want of a connection: the upsert is
   * idempotent (a second run finds this server's own row, same client, same time), so a commit
   * whose outcome was unknown can be run again. Returns the rows that hold the lost addresses.
   */
  private async writeWithRetries(
    leases: Map<number, Lease>,
    removals: Set<number>,
    meta: Map<string, string>,
  ): Promise<Map<number, Lease>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(leases, removals, meta);
      } catch (err) {
        if (attempt >= this.options.commitAttempts || !isConnectionError(err) || this.isClosed) throw err;
        this.counters.retries++;
        this.options.onEvent?.({ type: 'commit-retry', attempt, error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  private async write(
    leases: Map<number, Lease>,
    removals: Set<number>,
    meta: Map<string, string>,
  ): Promise<Map<number, Lease>> {
    // The listening connection carries the writes too while it is up: the notifications of this
    // server's own rows then come back on it, in the same read as the statement's result, and are
    // dropped by the sending backend's PID without being parsed (a separate write connection cost
    // each lease one more wakeup, read and JSON.parse on the listener). While it is down (the
    // catch-up after a lost connection has not started yet), a pooled connection writes.
    const session = this.listener;
    // A warm-up store's temporary tables exist in its session only: a pooled connection would
    // write to the real ones. Its session is never replaced, so without it nothing is written.
    if (session === null && this.isScratch) throw new Error('the warm-up session is gone');
    const client = session ?? (await this.connect());
    let isBroken = false;
    // Bindings alone (the packet path): the upsert is one statement, atomic on its own, so it runs
    // without BEGIN/COMMIT: one round trip per group commit instead of three (the profile of
    // bench/postgresql.sh had a third of each server's busy time in pg's socket writes).
    const isTransaction = removals.size > 0 || meta.size > 0;
    try {
      if (isTransaction) await client.query('BEGIN');
      const lost = new Map<number, Lease>();
      const won = new Map<number, number>();
      if (leases.size > 0) {
        // Named: PostgreSQL parses and plans it once per connection, and each commit sends only
        // the parameters, not its ~1.5 kB of text.
        const r = await client.query<[number, number]>({
          name: 'twinlease_upsert',
          text: UPSERT,
          values: [...columnArrays(leases.values()), this.options.serverName],
          rowMode: 'array',
        });
        for (const [address, revision] of r.rows) won.set(Number(address) >>> 0, revision);
        const lostAddresses = [...leases.keys()].filter((a) => !won.has(a));
        if (lostAddresses.length > 0) {
          const current = await client.query<PgLeaseRow>(
            'SELECT * FROM twinlease_leases WHERE address = ANY($1::bigint[])',
            [lostAddresses],
          );
          // A row that refused the claim and is gone by now (deleted meanwhile): nothing to hand
          // the waiter as the winner, and its binding is not written either. Fail the commit
          // (no reply; the client asks again) rather than resolve it as written.
          if (current.rows.length < lostAddresses.length)
            throw new Error('a binding refused by the database was deleted before it could be read');
          for (const row of current.rows) lost.set(Number(row.address) >>> 0, rowToLease(row));
          for (const row of current.rows) this.noteRevision(Number(row.address) >>> 0, row.revision);
        }
      }
      if (removals.size > 0) {
        await client.query('DELETE FROM twinlease_leases WHERE address = ANY($1::bigint[])', [[...removals]]);
      }
      for (const [k, v] of meta) {
        await client.query(
          `INSERT INTO twinlease_meta (server, key, value) VALUES ($1, $2, $3)
           ON CONFLICT (server, key) DO UPDATE SET value = excluded.value`,
          [this.options.serverName, k, v],
        );
      }
      if (isTransaction) await client.query('COMMIT');
      for (const [a, rev] of won) this.noteRevision(a, rev);
      for (const a of removals) {
        this.revisions.delete(a);
        this.deleted.delete(a);
      }
      return lost;
    } catch (err) {
      isBroken = isConnectionError(err);
      if (isTransaction && !isBroken) await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      if (client !== session) (client as pg.PoolClient).release(isBroken ? true : undefined);
    }
  }

  /**
   * A pooled connection. The pool handles the errors of idle connections only: one that breaks
   * while checked out (the database killed between two statements of a transaction) also emits
   * 'error', which would end the process without a handler (the e2e run with a database restart
   * did: every server died). The statement in flight rejects all the same, and the commit with it.
   */
  private async connect(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    if (!this.guarded.has(client)) {
      this.guarded.add(client);
      client.on('error', () => {});
    }
    return client;
  }

  /** Records `revision` as held for `address` unless a newer one is; returns whether it was newer. */
  private noteRevision(address: number, revision: number): boolean {
    const held = this.revisions.get(address);
    if (held !== undefined && held >= revision) return false;
    this.revisions.set(address, revision);
    this.deleted.delete(address);
    const c = this.catchUpState;
    c?.noted.set(address, c.pagesSent);
    return true;
  }

  // --- Following the other servers' writes -------------------------------------------------------

  private async startListener(): Promise<void> {
    const client = new pg.Client(this.clientConfig());
    client.on('error', (err) => this.listenerLost(client, err));
    client.on('end', () => this.listenerLost(client, new Error('connection ended')));
    client.on('notification', (n) => this.notified(client, n));
    await client.connect();
    await client.query(`LISTEN ${this.notifyChannel}`);
    this.listener = client;
  }

  /** A notification on the listening connection (or a warm-up store's own, see openScratch). */
  private notified(client: pg.Client, n: pg.Notification): void {
    if (n.channel !== this.notifyChannel || n.payload === undefined) return;
    // A row this connection wrote (see write()): already applied, not worth parsing.
    if (n.processId === (client as unknown as { processID: number | null }).processID) {
      this.counters.ownNotifications++;
      return;
    }
    try {
      const row = JSON.parse(n.payload) as PgLeaseRow | PgDeletedRow;
      if ('deleted' in row && row.deleted === true) this.remoteDeletion(row);
      else this.remoteRow(row as PgLeaseRow);
    } catch {
      // A payload this version cannot read: the next resync brings the row.
    }
  }

  private remoteRow(row: PgLeaseRow): void {
    if (row.written_by === this.options.serverName) return;
    const address = Number(row.address) >>> 0;
    if (!this.noteRevision(address, Number(row.revision))) return;
    this.remoteBatch.set(address, rowToLease(row));
    this.scheduleRemoteBatch();
  }

  /** Another server (or an operator in psql) deleted a row: drop this server's copy. */
  private remoteDeletion(row: PgDeletedRow): void {
    if (row.deleted_by === this.applicationName) return; // our own remove(), already applied
    const address = Number(row.address) >>> 0;
    if (!this.noteRevision(address, Number(row.revision))) return;
    this.deleted.add(address);
    this.remoteBatch.set(address, null);
    this.scheduleRemoteBatch();
  }

  private scheduleRemoteBatch(): void {
    if (this.isRemoteScheduled) return;
    this.isRemoteScheduled = true;
    setImmediate(() => {
      this.isRemoteScheduled = false;
      const leases: Lease[] = [];
      const removed: Ipv4[] = [];
      for (const [address, l] of this.remoteBatch) {
        if (l === null) removed.push(address);
        else leases.push(l);
      }
      this.remoteBatch = new Map();
      // Before loadInto the rows go in with the loaded ones (open() reads after LISTEN).
      if (this.loaded !== null) {
        const byAddress = new Map(this.loaded.map((l) => [l.address, l] as const));
        for (const l of leases) byAddress.set(l.address, l);
        for (const a of removed) byAddress.delete(a);
        this.loaded = [...byAddress.values()];
        return;
      }
      this.counters.remoteChanges += leases.length + removed.length;
      for (const listener of this.remoteListeners) listener(leases, removed);
    });
  }

  /**
   * The listening connection broke (the database restarted, the network): reconnect with backoff
   * and then read every row whose revision is newer than the one held, since notifications sent
   * while nobody listened are gone.
   */
  private listenerLost(client: pg.Client, err: Error): void {
    if (this.listener !== client || this.isClosed) return;
    this.listener = null;
    client.removeAllListeners('end');
    client.end().catch(() => {});
    this.options.onEvent?.({ type: 'listener-lost', error: err.message });
    this.retryListener(250);
  }

  private retryListener(delayMs: number): void {
    this.listenerRetry = setTimeout(async () => {
      this.listenerRetry = null;
      if (this.isClosed) return;
      const startedAt = performance.now();
      // A listening connection lost again during a catch-up starts another one, which supersedes
      // it: the first stops applying what it read (the second compares everything again).
      const state: CatchUpState = { noted: new Map(), pagesSent: 0 };
      this.catchUpState = state;
      try {
        await this.startListener();
        const changed = await this.catchUp(state);
        if (changed === null) return;
        this.options.onEvent?.({
          type: 'listener-restored',
          changed,
          durationMs: Math.round(performance.now() - startedAt),
        });
      } catch {
        if (this.listener !== null) {
          const l = this.listener;
          this.listener = null;
          l.removeAllListeners('end');
          await l.end().catch(() => {});
        }
        this.retryListener(Math.min(delayMs * 2, 5000));
      } finally {
        if (this.catchUpState === state) this.catchUpState = null;
      }
    }, delayMs);
    this.listenerRetry.unref();
  }

  /**
   * What changed while nobody listened, read once the new LISTEN is in place (whatever commits
   * after it is notified). The whole address set is compared with the revisions held, in pages of
   * (address, revision) in address order: a row newer than the one held is read whole and applied;
   * an address held but absent from the page that covers it was deleted meanwhile (a deletion
   * leaves no row to read, and its notification was lost) and is dropped. Revisions cannot stand
   * in for the comparison (`WHERE revision > last seen`): the sequence hands them out at the write,
   * not at the commit, so a write committed during the gap may carry an older revision than one
   * already seen. The pages bound the memory; the cost is one read of two columns per row
   * (bench/lib/pg-catchup.ts). Returns the number of addresses changed, or null when another
   * catch-up superseded this one.
   */
  private async catchUp(state: CatchUpState): Promise<number | null> {
    const held = Uint32Array.from(this.revisions.keys()).sort();
    const noted = state.noted;
    const newer: number[] = [];
    const absent: { address: number; page: number }[] = [];
    let next = 0; // index into held of the first address not yet judged
    let after = -1;
    for (;;) {
      const page = ++state.pagesSent;
      const r = await this.pool.query<[number, number]>({
        text: 'SELECT address, revision FROM twinlease_leases WHERE address > $1 ORDER BY address LIMIT $2',
        values: [after, PG_CATCH_UP_PAGE_ROWS],
        rowMode: 'array',
      });
      if (this.catchUpState !== state) return null;
      for (const [address, revision] of r.rows) {
        while (next < held.length && held[next]! < address) absent.push({ address: held[next++]!, page });
        if (next < held.length && held[next] === address) next++;
        const before = this.revisions.get(address);
        if (before === undefined || before < revision) newer.push(address);
      }
      if (r.rows.length < PG_CATCH_UP_PAGE_ROWS) {
        while (next < held.length) absent.push({ address: held[next++]!, page });
        break;
      }
      after = r.rows[r.rows.length - 1]![0];
    }
    let changed = 0;
    for (let i = 0; i < newer.length; i += PG_CATCH_UP_FETCH_ROWS) {
      const rows = await this.pool.query<PgLeaseRow>(
        'SELECT * FROM twinlease_leases WHERE address = ANY($1::bigint[])',
        [newer.slice(i, i + PG_CATCH_UP_FETCH_ROWS)],
      );
      if (this.catchUpState !== state) return null;
      for (const row of rows.rows) {
        const before = this.revisions.get(Number(row.address) >>> 0);
        if (before !== undefined && before >= row.revision) continue;
        // A row of ours we do not hold (written by an earlier run of this server) counts too.
        this.remoteRow({
          ...row,
          written_by: row.written_by === this.options.serverName ? '' : row.written_by,
        });
        changed++;
      }
    }
    for (const { address, page } of absent) {
      // An address held but not in the page that covers it is gone, unless its revision was noted
      // since that page was asked for: a notification, or a commit of ours, that may postdate the
      // page's snapshot (that version decides). A version noted before was committed before the
      // page's snapshot, which then shows its deletion. Judged here, in one turn with the state:
      // also not deleted already, and not being written by this server (its commit decides).
      if (!this.revisions.has(address) || this.deleted.has(address)) continue;
      if ((noted.get(address) ?? 0) >= page) continue;
      if (this.pending.has(address) || this.flushing?.has(address) === true) continue;
      this.deleted.add(address);
      this.remoteBatch.set(address, null);
      this.scheduleRemoteBatch();
      changed++;
    }
    return changed;
  }
}

/**
 * A store for the DHCP warm-up (src/server/warm-up.ts) that runs the live store's write path
 * against the real database without touching its leases: its one connection creates a temporary
 * `twinlease_leases` (same columns and key, no trigger, gone with the session), which shadows the
 * real table in that session, and carries every write, as the live store's listening connection
 * does. The pg driver's code (statement preparation, parameters, the result parser) and this
 * store's have then run before the first real packet. It takes revisions from the real sequence
 * (gaps in it are harmless: revisions are only compared). Nothing is read. Its rows are notified on
 * a channel of its session's own, which only it listens to (openScratch), so no server hears them.
 */
export async function openPgWarmUpStore(
  options: Pick<PgStoreOptions, 'url' | 'serverName' | 'connectTimeoutMs' | 'statementTimeoutMs'>,
): Promise<PgLeaseStore> {
  const store = new PgLeaseStore({ ...options, poolSize: 1, commitAttempts: 1 });
  await store.openScratch();
  return store;
}

/** Opens the store (connect, schema check, read); throws an Error naming the database. */
export async function openPgLeaseStore(options: PgStoreOptions): Promise<PgLeaseStore> {
  const store = new PgLeaseStore(options);
  await store.open();
  return store;
}
