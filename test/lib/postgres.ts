// A throwaway PostgreSQL 15 cluster for tests: initdb into a temporary directory, postgres on a
// free TCP port of 127.0.0.1 (and a Unix socket in the same directory), no system service assumed.
// PostgreSQL refuses to run as root, and CI runs as root: then the cluster runs as the `postgres`
// user (Debian's postgresql package creates it) through runuser, with the directory given to it.
// Binaries: /usr/lib/postgresql/15/bin (Debian's postgresql-15), else PG_BIN.

import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  /** postgresql://twinlease:twinlease@<listen address>:port/twinlease */
  readonly url: string;
  /** node-postgres settings reaching the cluster through its Unix socket (from any namespace). */
  readonly socketConfig: { host: string; port: number; user: string; password: string; database: string };
  readonly port: number;
  readonly dir: string;
  /** pg_ctl stop -m fast (clean shutdown). */
  stop(): void;
  /** pg_ctl stop -m immediate (no checkpoint: like a crash; WAL replay on the next start). */
  crash(): void;
  start(): void;
  /** Stops and deletes the cluster. */
  destroy(): void;
  /** One SQL statement through psql as the superuser; rows as tab-separated lines. */
  psql(sql: string, database?: string): string;
}

export function postgresAvailable(): string | null {
  if (!existsSync(join(PG_BIN, 'initdb'))) return `no PostgreSQL binaries in ${PG_BIN} (postgresql package)`;
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const isRoot = process.getuid?.() === 0;

function asPostgres(command: string, args: string[], options: { input?: string; ns?: string } = {}): string {
  let [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  if (options.ns !== undefined) [file, argv] = ['ip', ['netns', 'exec', options.ns, file, ...argv]];
  return execFileSync(file, argv, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    input: options.input ?? '',
    cwd: '/',
  });
}

export interface TestPostgresOptions {
  /** Network namespace the server runs in (e2e: reachable from the servers' namespaces). */
  ns?: string;
  /** Address it listens on (default 127.0.0.1). */
  listenAddress?: string;
}

export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const listen = options.listenAddress ?? '127.0.0.1';
  const missing = postgresAvailable();
  if (missing !== null) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'twinlease-pg-'));
  chmodSync(dir, 0o700);
  if (isRoot) chownSync(dir, ...ids());
  const data = join(dir, 'data');
  asPostgres(join(PG_BIN, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-instructions',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  // Connections from other hosts (the e2e servers in their namespaces), by password.
  appendFileSync(join(data, 'pg_hba.conf'), 'host all all 0.0.0.0/0 scram-sha-256\n');
  // In another namespace the root namespace's free port says nothing; any high port is free there.
  const port = options.ns === undefined ? await freePort() : 20000 + Math.floor(Math.random() * 20000);
  const pgCtl = (...args: string[]) =>
    asPostgres(
      join(PG_BIN, 'pg_ctl'),
      ['-D', data, ...args],
      options.ns === undefined ? {} : { ns: options.ns },
    );
  const start = () => {
    pgCtl(
      '-w',
      '-t',
      '30',
      '-l',
      join(dir, 'log'),
      '-o',
      `-c listen_addresses=${listen} -c port=${port} -c unix_socket_directories=${dir} -c fsync=on -c max_connections=100`,
      'start',
    );
  };
  start();
  const psql = (sql: string, database = 'postgres') =>
    asPostgres(join(PG_BIN, 'psql'), [
      '-h',
      dir,
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      database,
      '-XAtq',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      sql,
    ]);
  psql("CREATE ROLE twinlease LOGIN PASSWORD 'twinlease'");
  psql('CREATE DATABASE twinlease OWNER twinlease');
  let isRunning = true;
  return {
    url: `postgresql://twinlease:twinlease@${listen}:${port}/twinlease`,
    socketConfig: { host: dir, port, user: 'twinlease', password: 'twinlease', database: 'twinlease' },
    port,
    dir,
    psql,
    stop() {
      if (!isRunning) return;
      pgCtl('-w', '-m', 'fast', 'stop');
      isRunning = false;
    },
    crash() {
      if (!isRunning) return;
      pgCtl('-w', '-m', 'immediate', 'stop');
      isRunning = false;
    },
    start() {
      if (isRunning) return;
      start();
      isRunning = true;
    },
    destroy() {
      if (isRunning) {
        // The postmaster may be in a namespace; pg_ctl finds it by its pid file either way.
        spawnSync(isRoot ? 'runuser' : join(PG_BIN, 'pg_ctl'), [
          ...(isRoot ? ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl')] : []),
          '-D',
          data,
          '-w',
          '-m',
          'immediate',
          'stop',
        ]);
        isRunning = false;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ids(): [number, number] {
  return [
    Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  ];
}
