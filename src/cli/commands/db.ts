// `twinlease db init|upgrade --url URL` (docs/postgresql.md): makes or migrates the schema of a
// PostgreSQL lease database. Offline like `check`: no server needed, none may be running an older
// version against the database while it is upgraded (a server checks the version at start).

import type { Command } from 'commander';

interface DbFlags {
  url?: string;
  config?: string;
}

/** The URL from --url, else from the config file's leaseStore.url. */
async function urlOf(flags: DbFlags): Promise<string> {
  if (flags.url !== undefined) return flags.url;
  if (flags.config !== undefined) {
    const { loadConfigFile } = await import('../../config/loader.js');
    const loaded = loadConfigFile(flags.config);
    if (!loaded.ok)
      throw new Error(
        `${flags.config}: not a valid configuration (twinlease check --config ${flags.config})`,
      );
    if (loaded.config.leaseStore.url !== null) return loaded.config.leaseStore.url;
    throw new Error(`${flags.config}: leaseStore has no url (leaseStore.type 'postgresql')`);
  }
  throw new Error('give --url postgresql://user:password@host:port/database (or --config FILE)');
}

export async function runDb(
  mode: 'init' | 'upgrade',
  flags: DbFlags,
  out: { stdout: (s: string) => void; stderr: (s: string) => void },
): Promise<number> {
  const { default: pg } = await import('pg');
  const { migratePgSchema } = await import('../../leases/pg-schema.js');
  let url: string;
  try {
    url = await urlOf(flags);
  } catch (err) {
    out.stderr(`twinlease db ${mode}: ${(err as Error).message}\n`);
    return 2;
  }
  const where = (() => {
    try {
      const u = new URL(url);
      u.password = '';
      return u.toString();
    } catch {
      return 'the database';
    }
  })();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    out.stderr(`twinlease db ${mode}: ${where}: cannot connect: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const { from, to } = await migratePgSchema(client, mode);
    out.stdout(
      from === to
        ? `${where}: schema already at version ${to}\n`
        : `${where}: schema version ${from === 0 ? 'none' : from} -> ${to}\n`,
    );
    return 0;
  } catch (err) {
    out.stderr(`twinlease db ${mode}: ${where}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await client.end().catch(() => {});
  }
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('PostgreSQL lease database: make or migrate its schema');
  for (const mode of ['init', 'upgrade'] as const) {
    db.command(mode)
      .description(
        mode === 'init'
          ? 'create the Twinlease schema in an empty database'
          : 'migrate the schema to the version of this Twinlease',
      )
      .option('--url <url>', 'postgresql://user:password@host:port/database')
      .option('-c, --config <file>', 'take the URL from this config file (leaseStore.url)')
      .action(async (_flags: DbFlags, command: Command) => {
        process.exitCode = await runDb(mode, command.opts<DbFlags>(), {
          stdout: (s) => process.stdout.write(s),
          stderr: (s) => process.stderr.write(s),
        });
      });
  }
}
