// The PostgreSQL lease database's schema, created and migrated by Twinlease (`twinlease db init`,
// `twinlease db upgrade`; docs/postgresql.md). Its version is one row of twinlease_schema; a server
// checks it at start and refuses a database older or newer than it understands, so that two
// versions of the code never write one database with different ideas of its columns.

import type pg from 'pg';

export const PG_SCHEMA_VERSION = 2;

/**
 * Channel of the change notifications: one per committed row, the row as JSON; one per deleted
 * row, `{"address", "revision", "deleted": true, "deleted_by"}` (schema version 2).
 */
export const PG_NOTIFY_CHANNEL = 'twinlease_leases';

/** Migrations: entry i takes the schema from version i to i + 1. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE twinlease_schema (version integer NOT NULL);
  INSERT INTO twinlease_schema (version) VALUES (0);
  -- Every write of a row takes the next revision: a server keeps, per address, the revision of the
  -- version it holds, and applies a notified row only when it is newer (notifications and commit
  -- results reach it over different connections, in no common order).
  CREATE SEQUENCE twinlease_revision;
  CREATE TABLE twinlease_leases (
    address bigint PRIMARY KEY,
    scope_id text NOT NULL,
    state text NOT NULL,
    hardware_type integer NOT NULL,
    hardware_address text NOT NULL,
    client_id text,
    hostname text,
    client_type text NOT NULL,
    is_reserved boolean NOT NULL,
    lease_expires_at bigint NOT NULL,
    state_started_at bigint NOT NULL,
    client_last_transaction_at bigint NOT NULL,
    owner_server text,
    policy_name text,
    sent_potential_expires_at bigint NOT NULL,
    acked_potential_expires_at bigint NOT NULL,
    received_potential_expires_at bigint NOT NULL,
    last_binding_update_at bigint NOT NULL,
    is_partner_up_to_date boolean NOT NULL,
    fqdn text,
    dhcid_mode text NOT NULL,
    dns_flags integer NOT NULL,
    revision bigint NOT NULL,
    written_by text NOT NULL
  );
  -- Non-lease state (failover state, clock checkpoint) is each server's own.
  CREATE TABLE twinlease_meta (
    server text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (server, key)
  );
  CREATE FUNCTION twinlease_notify_lease() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${PG_NOTIFY_CHANNEL}', row_to_json(NEW)::text);
    RETURN NULL;
  END $$;
  CREATE TRIGGER twinlease_leases_notify AFTER INSERT OR UPDATE ON twinlease_leases
    FOR EACH ROW EXECUTE FUNCTION twinlease_notify_lease();
  `,
  // 1 -> 2: a deleted row is notified too (an operator's delete, an address leaving every scope),
  // so the other servers drop their copy. The deletion takes a revision like a write, so that a
  // server applies it only over an older version; deleted_by is the deleting session's
  // application_name ("twinlease <server name>"), by which a server skips its own deletions.
  `
  CREATE FUNCTION twinlease_notify_lease_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${PG_NOTIFY_CHANNEL}', json_build_object(
      'address', OLD.address,
      'revision', nextval('twinlease_revision'),
      'deleted', true,
      'deleted_by', current_setting('application_name'))::text);
    RETURN NULL;
  END $$;
  CREATE TRIGGER twinlease_leases_notify_deleted AFTER DELETE ON twinlease_leases
    FOR EACH ROW EXECUTE FUNCTION twinlease_notify_lease_deleted();
  `,
];

/** The schema version of the database, 0 when Twinlease's tables are not there. */
export async function readSchemaVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('twinlease_schema') AS t");
  if (exists.rows[0]?.t == null) return 0;
  const r = await client.query<{ version: number }>('SELECT version FROM twinlease_schema');
  return r.rows[0]?.version ?? 0;
}

/**
 * Brings the schema to PG_SCHEMA_VERSION (`toVersion`, lower only in tests of an upgrade), each
 * step in one transaction. `mode` 'init' refuses a database that already has a schema; 'upgrade'
 * refuses one that has none. Returns the versions.
 */
export async function migratePgSchema(
  client: pg.ClientBase,
  mode: 'init' | 'upgrade',
  toVersion = PG_SCHEMA_VERSION,
): Promise<{ from: number; to: number }> {
  if (!Number.isInteger(toVersion) || toVersion < 1 || toVersion > PG_SCHEMA_VERSION)
    throw new Error(`no schema version ${toVersion}`);
  // One migrator at a time: a second `db upgrade` waits for the first and then finds nothing to do.
  await client.query('SELECT pg_advisory_lock(hashtext($1))', ['twinlease_schema']);
  try {
    const from = await readSchemaVersion(client);
    if (from > PG_SCHEMA_VERSION) {
      throw new Error(
        `schema version ${from} is newer than this program understands (${PG_SCHEMA_VERSION}): upgrade Twinlease`,
      );
    }
    if (mode === 'init' && from !== 0) {
      throw new Error(
        `the database already has a Twinlease schema (version ${from}); use \`twinlease db upgrade\``,
      );
    }
    if (mode === 'upgrade' && from === 0) {
      throw new Error('the database has no Twinlease schema; use `twinlease db init`');
    }
    for (let v = from; v < toVersion; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v]!);
        await client.query('UPDATE twinlease_schema SET version = $1', [v + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return { from, to: Math.max(from, toVersion) };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['twinlease_schema']);
  }
}

/** Throws an Error saying what to run when the database's schema is not the one this code writes. */
export async function checkPgSchema(client: pg.ClientBase): Promise<void> {
  const version = await readSchemaVersion(client);
  if (version === PG_SCHEMA_VERSION) return;
  if (version === 0)
    throw new Error('the database has no Twinlease schema: run `twinlease db init --url ...`');
  if (version < PG_SCHEMA_VERSION) {
    throw new Error(
      `schema version ${version} is older than this server's (${PG_SCHEMA_VERSION}): run \`twinlease db upgrade --url ...\``,
    );
  }
  throw new Error(
    `schema version ${version} is newer than this server understands (${PG_SCHEMA_VERSION}): upgrade Twinlease`,
  );
}
