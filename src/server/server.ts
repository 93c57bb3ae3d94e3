// The composition root of `twinlease serve`: config → lease store → engine → sockets, plus the
// process signals (SIGHUP reload, SIGTERM/SIGINT stop). Everything with I/O is created here.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ApiServer } from '../api/attach.js';
import { setWallOffsetSource } from '../api/format.js';
import { type OrphanedLeases, orphanedLeases } from '../api/orphaned-leases.js';
import { TWINLEASE_VERSION } from '../api/version.js';
import { formatConfigErrors, loadConfigFile, type ResolvedConfig, reloadConfig } from '../config/loader.js';
import { DhcpEngine } from '../dhcp/engine.js';
import { LeaseTable } from '../dhcp/lease-table.js';
import type { EngineSettings } from '../dhcp/scope.js';
import { acquireLockFile } from '../leases/lock-file.js';
import type { PgLeaseStore } from '../leases/pg-store.js';
import { openSqliteLeaseStore } from '../leases/sqlite-store.js';
import { openThreadedSqliteLeaseStore } from '../leases/sqlite-writer-thread.js';
import type { LeaseStore } from '../leases/store.js';
import { makeStoreDirectory } from '../leases/store-directory.js';
import { formatIpv4, formatMac } from '../wire/ipv4.js';
import { CHECKPOINT_META_KEY, CHECKPOINT_SECONDS, type Clock, Timeline, wallOffsetSeconds } from './clock.js';
import { Counters } from './counters.js';
import { DdnsService } from './ddns-service.js';
import { type DhcpNetworkSettings, DhcpService, EXPIRY_BATCH } from './dhcp-service.js';
import { DirectTransport } from './direct/direct-transport.js';
import { loadNative, type NativeNet } from './direct/native.js';
import { FailoverService } from './failover-service.js';
import { LeaseOperations } from './lease-operations.js';
import { createLogger, logOutputOf } from './logger.js';
import {
  chooseDirectNetwork,
  chooseNetwork,
  directScopeIds,
  type InterfaceLister,
  listInterfaceAddresses,
} from './network.js';
import { PingCheck } from './ping-check.js';
import { checkReservations, conflictMessage } from './reservation-check.js';
import { type WarmUpStoreOpener, warmUpDatabasePath, warmUpPacketPath } from './warm-up.js';

/** How long stop() waits for queued log lines to leave (docs/logging.md). */
export const LOG_SETTLE_MS = 2000;

/** The embedded default used when `serve` gets no --config. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/default.json', import.meta.url));

export interface ServeOptions {
  configPath: string | null;
  clock?: Clock;
  interfaces?: InterfaceLister;
  /** Log destination (fd or file); stdout by default. */
  logDestination?: number | string;
}

export interface RunningServer {
  config: ResolvedConfig;
  log: Logger;
  store: LeaseStore;
  dhcp: DhcpService;
  counters: Counters;
  startedAt: number;
  /** The management API (src/api/), listening on config.api. */
  api: ApiServer;
  failover: FailoverService;
  /** Dynamic DNS updates (docs/dns.md). */
  ddns: DdnsService;
  reload(): boolean;
  stop(): Promise<void>;
}

export class StartupError extends Error {}

/** At most this many `config.orphaned-lease` lines per reload (the summary has the count). */
export const MAX_ORPHANED_LEASE_LINES = 100;

/** One warning with the count, and one per lease (the first MAX_ORPHANED_LEASE_LINES). */
function warnOrphanedLeases(log: Logger, orphaned: OrphanedLeases): void {
  if (orphaned.count === 0) return;
  log.warn(
    { event: 'config.orphaned-leases', count: orphaned.count },
    `the reloaded config leaves ${orphaned.count} active lease${orphaned.count === 1 ? '' : 's'} outside every scope; their clients lose the address at renewal`,
  );
  for (const l of orphaned.items.slice(0, MAX_ORPHANED_LEASE_LINES)) {
    log.warn({
      event: 'config.orphaned-lease',
      address: l.ipAddress,
      scope: l.scopeId,
      mac: l.hardwareAddress,
      clientId: l.clientId,
      hostname: l.hostname,
      leaseExpiresAt: l.leaseExpiresAt,
    });
  }
}

function engineSettings(
  config: ResolvedConfig,
  interfaces: InterfaceLister,
): { settings: EngineSettings; network: DhcpNetworkSettings } {
  if (config.dhcp.mode === 'direct') {
    const direct = chooseDirectNetwork(
      config.dhcp.interfaces,
      config.server.serverIdentifier === null ? null : formatIpv4(config.server.serverIdentifier),
      interfaces,
    );
    if (typeof direct === 'string') throw new StartupError(`${config.file}: ${direct}`);
    return {
      settings: {
        serverName: config.server.name,
        serverIdentifier: direct.serverIdentifier,
        otherServerIdentifiers: direct.otherServerIdentifiers,
        scopes: config.scopes,
        // Every packet arrives with its interface, which names its scopes (PacketArrival).
        directScopeIds: [],
      },
      network: {
        listenAddress: '0.0.0.0',
        port: config.dhcp.port,
        clientPort: config.dhcp.clientPort,
        broadcastAddress: '255.255.255.255',
      },
    };
  }
  const choice = chooseNetwork(
    {
      interfaceName: config.dhcp.interface,
      listenAddress: formatIpv4(config.dhcp.listenAddress),
      serverIdentifier:
        config.server.serverIdentifier === null ? null : formatIpv4(config.server.serverIdentifier),
      // 255.255.255.255 (the default) cannot be routed out of a chosen interface by a Node socket:
      // use the served subnet's broadcast address instead unless the operator set another one.
      broadcastAddress:
        config.dhcp.broadcastAddress === 0xffffffff ? null : formatIpv4(config.dhcp.broadcastAddress),
    },
    interfaces,
  );
  if (typeof choice === 'string') throw new StartupError(`${config.file}: ${choice}`);
  return {
    settings: {
      serverName: config.server.name,
      serverIdentifier: choice.serverIdentifier,
      scopes: config.scopes,
      directScopeIds: directScopeIds(config.scopes, choice.directlyAttached),
    },
    network: {
      listenAddress: formatIpv4(config.dhcp.listenAddress),
      port: config.dhcp.port,
      clientPort: config.dhcp.clientPort,
      broadcastAddress: choice.broadcastAddress,
    },
  };
}

/** What a reload cannot apply (the sockets are chosen at start); null when it can. */
function restartOnlyChange(current: ResolvedConfig, next: ResolvedConfig, hasNative: boolean): string | null {
  if (next.dhcp.mode !== current.dhcp.mode) {
    return `dhcp.mode: changing '${current.dhcp.mode}' to '${next.dhcp.mode}' needs a restart`;
  }
  if (next.dhcp.pingCheck.attempts > 0 && !hasNative) {
    return 'dhcp.pingCheck: turning the ping check on needs a restart (the native addon is loaded at start)';
  }
  return null;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const interfaces = options.interfaces ?? listInterfaceAddresses;
  const configPath = options.configPath === null ? DEFAULT_CONFIG_PATH : resolve(options.configPath);
  const loaded = loadConfigFile(configPath);
  if (!loaded.ok) throw new StartupError(formatConfigErrors(loaded.errors));
  let config = loaded.config;
  const log = createLogger(config.logging.level, options.logDestination ?? 1);
  const { settings, network } = engineSettings(config, interfaces);

  const storePath = resolve(config.leaseStore.path);
  const isPostgres = config.leaseStore.type === 'postgresql';
  let lock: ReturnType<typeof acquireLockFile>;
  try {
    // A shared PostgreSQL database is many servers' by design: no lock file.
    if (isPostgres) lock = { release: () => {} } as ReturnType<typeof acquireLockFile>;
    else {
      makeStoreDirectory(storePath);
      lock = acquireLockFile(storePath);
    }
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  // The per-packet path compiled before anyone can send us a packet (issue 19, warm-up.ts), and
  // before the store is read: with the leases loaded, the warm-up's garbage cost a collection of
  // the whole heap (at 200k leases +30 MB of peak RSS and +0.3 s of CPU, test/server/scale-budget).
  // Its clock is a new timeline, equal to the wall clock (nothing it decides outlives it), of the
  // class the live server's clock has, so that the code compiled for it fits the live one.
  const warmUpClock = options.clock ?? Timeline.resume(null).clock;
  // With a PostgreSQL store a second warm-up writes to temporary tables on the real database, so
  // that the driver's path has run too (warm-up.ts); it runs once the live store is open (below).
  const openDatabaseStore: WarmUpStoreOpener | undefined = isPostgres
    ? async () => {
        const { openPgWarmUpStore } = await import('../leases/pg-store.js');
        return openPgWarmUpStore({
          url: config.leaseStore.url!,
          serverName: config.server.name,
          connectTimeoutMs: config.leaseStore.connectTimeoutMs,
          statementTimeoutMs: config.leaseStore.statementTimeoutMs,
        });
      }
    : undefined;
  const warmUp = await warmUpPacketPath(settings, network, warmUpClock, config.dhcp.warmUp);
  log.info(
    { event: 'dhcp.warm-up', ...warmUp, elapsedMs: Math.round(warmUp.elapsedMs) },
    'per-packet path warmed up',
  );
  // Writes run on this thread, grouped per event-loop turn, at most one commit per
  // commitIntervalMs, and at low rates a few replies per commit (commitBatchSize,
  // commitMaxDelayMs; GroupCommitSchedule), issue 17. A writer thread was measured and was worse here (more CPU per
  // lease and a longer p99 at 2000/s, 1fc787b): see bench/README.md.
  const storeOptions = {
    commitIntervalMs: config.leaseStore.commitIntervalMs,
    commitBatchSize: config.leaseStore.commitBatchSize,
    commitMaxDelayMs: config.leaseStore.commitMaxDelayMs,
  };
  let pgStore: PgLeaseStore | null = null;
  if (isPostgres) {
    try {
      // Loaded only for this store: the SQLite start does not pay for the pg driver.
      const { openPgLeaseStore } = await import('../leases/pg-store.js');
      pgStore = await openPgLeaseStore({
        url: config.leaseStore.url!,
        serverName: config.server.name,
        poolSize: config.leaseStore.poolSize,
        connectTimeoutMs: config.leaseStore.connectTimeoutMs,
        statementTimeoutMs: config.leaseStore.statementTimeoutMs,
        onEvent: (e) => log.warn({ event: `lease-store.${e.type}`, ...e }, 'PostgreSQL lease store'),
      });
    } catch (err) {
      throw new StartupError(`${config.file}: leaseStore.url: ${(err as Error).message}`);
    }
  }
  const store: LeaseStore =
    pgStore ??
    (config.leaseStore.writerThread
      ? openThreadedSqliteLeaseStore(storePath, storeOptions)
      : openSqliteLeaseStore(storePath, storeOptions));
  // Rows go straight into the table's columns: no Lease per row, no list of them (issue 15).
  const table = new LeaseTable(store.count());
  let storedCount: number;
  try {
    storedCount = store.loadInto(table);
  } catch (err) {
    await store.close();
    lock.release();
    throw new StartupError((err as Error).message);
  }
  // The timeline every core runs on (src/server/clock.ts), continued from the last checkpoint in
  // this store; a clock passed in (tests) is used as it is.
  const timeline =
    options.clock === undefined
      ? Timeline.resume(Timeline.parseCheckpoint(store.getMeta(CHECKPOINT_META_KEY)))
      : null;
  const clock: Clock = options.clock ?? timeline!.clock;
  setWallOffsetSource(() => wallOffsetSeconds(clock));
  const writeCheckpoint = async (): Promise<void> => {
    if (timeline === null) return;
    try {
      await store.setMeta(CHECKPOINT_META_KEY, JSON.stringify(timeline.clock.checkpoint()));
    } catch (err) {
      log.error(
        { event: 'server.clock-checkpoint-failed', err: (err as Error).message },
        'could not store the clock checkpoint',
      );
    }
  };
  if (timeline?.resume && !timeline.resume.isMeasured) {
    log.warn(
      {
        event: 'server.clock-resumed-unmeasured',
        lastAliveAt: new Date(timeline.resume.lastAliveAt * 1000).toISOString(),
      },
      'no clock measured the downtime (host rebooted): safety waits resume in full',
    );
  }
  await writeCheckpoint();
  const checkpointTimer = setInterval(() => void writeCheckpoint(), CHECKPOINT_SECONDS * 1000);
  checkpointTimer.unref();
  // Failover endpoints first: their gates go into the engine; they reach the engine in use
  // through a getter (it is replaced on reload).
  let currentEngine: DhcpEngine | null = null;
  const failover = new FailoverService({
    config,
    engine: () => currentEngine!,
    store,
    clock,
    log,
    vendorClass: `twinlease-${TWINLEASE_VERSION}`,
    isStoreEmpty: storedCount === 0,
    restart: timeline?.resume ?? null,
  });
  const engine = new DhcpEngine(settings, table, failover.gates());
  currentEngine = engine;
  const counters = new Counters();
  // --- The native addon (direct mode, ping check): loaded only when the config needs it.
  let native: NativeNet | null = null;
  if (config.dhcp.mode === 'direct' || config.dhcp.pingCheck.attempts > 0) {
    const loaded = loadNative();
    if (loaded instanceof Error) {
      await store.close();
      lock.release();
      const what = config.dhcp.mode === 'direct' ? "dhcp.mode 'direct'" : 'dhcp.pingCheck';
      throw new StartupError(`${config.file}: ${what} needs the native addon: ${loaded.message}`);
    }
    native = loaded;
  }
  const transport =
    config.dhcp.mode === 'direct' && native !== null
      ? new DirectTransport(
          native,
          () => ({
            interfaces: config.dhcp.interfaces,
            port: config.dhcp.port,
            clientPort: config.dhcp.clientPort,
            serverIdentifier: config.server.serverIdentifier,
            scopesFor: (addresses) => directScopeIds(config.scopes, addresses),
          }),
          log,
          counters,
          interfaces,
        )
      : undefined;
  const pingCheck =
    native === null ? null : new PingCheck(native, () => config.dhcp.pingCheck, log, counters);
  if (pingCheck !== null && config.dhcp.pingCheck.attempts > 0) {
    try {
      pingCheck.start();
    } catch (err) {
      await store.close();
      lock.release();
      throw new StartupError(`${config.file}: dhcp.pingCheck: ${(err as Error).message}`);
    }
  }
  const dhcp = new DhcpService(
    engine,
    store,
    network,
    clock,
    log,
    counters,
    { isGrantLogged: config.logging.isGrantLogged },
    { ...(transport === undefined ? {} : { transport }), probe: pingCheck },
  );
  dhcp.onLeaseChanges((changes) => failover.leasesChanged(changes));
  // Several servers on one database (docs/postgresql.md): the others' committed writes go into
  // this server's table as a failover partner's binding updates do, so it offers from a fresh view.
  pgStore?.onRemoteChanges((leases, removed) => {
    dhcp.applyStoredBindings(leases);
    dhcp.applyStoredRemovals(removed);
  });
  // --- Dynamic DNS (src/ddns/, docs/dns.md): after a change is durable, never before the reply.
  const ddns = new DdnsService({
    engine: () => dhcp.currentEngine,
    store,
    log,
    counters,
    serverName: () => config.server.name,
    relationshipOf: (scopeId) => {
      const name = config.failover.find((r) => r.scopeIds.includes(scopeId))?.name;
      return name === undefined ? null : (failover.statuses().find((s) => s.name === name) ?? null);
    },
    onLeasesUpdated: (leases) => failover.leasesChanged(leases),
    // Lease and partner-down times are on the timeline.
    ...(clock.nowMs !== undefined ? { nowMs: () => clock.nowMs!() } : {}),
  });
  dhcp.onLeaseChanges((changes) => ddns.leasesChanged(changes));
  // --- end dynamic DNS
  // Expire what ran out while we were down before answering anyone, in batches the store's
  // pending queue takes however many ran out (MAX_PENDING_LEASES).
  let expired = engine.tick(clock.nowSeconds(), EXPIRY_BATCH);
  while (expired.length > 0) {
    await store.commit(expired);
    expired = engine.tick(clock.nowSeconds(), EXPIRY_BATCH);
  }
  // Reservations on addresses leased to other clients: a reload that adds one is refused; one the
  // server starts with is reported (refusing to start would take DHCP down for every client).
  const warnReservationConflicts = (conflicts: ReturnType<typeof checkReservations>['running']) => {
    for (const c of conflicts) {
      log.warn(
        {
          event: 'config.reservation-conflict',
          scope: c.scopeId,
          address: formatIpv4(c.reservation.address),
          mac: formatMac(c.lease.hardwareAddress),
          clientId: c.lease.clientId === null ? null : formatMac(c.lease.clientId),
          leaseExpiresAt: c.lease.leaseExpiresAt,
        },
        conflictMessage(c),
      );
    }
  };
  const checkAgainstLeases = (next: ResolvedConfig, current: ResolvedConfig | null) =>
    checkReservations(current, next, (a) => dhcp.currentEngine.getLease(a), clock.nowSeconds());
  warnReservationConflicts(checkAgainstLeases(config, null).running);
  try {
    await failover.start();
  } catch (err) {
    clearInterval(checkpointTimer);
    await store.close();
    lock.release();
    throw new StartupError(`${config.file}: failover: ${(err as Error).message}`);
  }
  // The pg driver's path, after the live store's connections have read the table and before the
  // DHCP socket opens: code compiled before the live connection's first messages was thrown away
  // when they came (measured with --trace-deopt, bench/README.md issue 20). If its store cannot be
  // opened the log line says why and the server starts all the same.
  if (openDatabaseStore !== undefined) {
    const w = await warmUpDatabasePath(settings, network, warmUpClock, config.dhcp.warmUp, openDatabaseStore);
    log.info(
      { event: 'dhcp.warm-up-database', ...w, elapsedMs: Math.round(w.elapsedMs) },
      'pg driver path warmed up',
    );
  }
  try {
    await ddns.start();
    await dhcp.start();
  } catch (err) {
    await ddns.stop();
    await failover.stop();
    clearInterval(checkpointTimer);
    await store.close();
    lock.release();
    throw new StartupError((err as Error).message);
  }
  log.info(
    {
      event: 'server.started',
      config: config.file,
      leaseStore: isPostgres ? pgStore!.where : storePath,
      leases: storedCount,
      serverIdentifier: formatIpv4(settings.serverIdentifier),
      scopes: config.scopes.map((s) => s.id),
      directScopes: settings.directScopeIds,
    },
    'twinlease started',
  );

  const reload = (): boolean => {
    const result = reloadConfig(configPath, config);
    const leaseCheck = result.ok ? checkAgainstLeases(result.config, config) : null;
    const errors = result.ok ? leaseCheck!.errors : result.errors;
    if (!result.ok || errors.length > 0) {
      log.error(
        { event: 'config.reload-rejected', errors: errors.map((e) => `${e.path}: ${e.message}`) },
        'new config rejected; keeping the running one',
      );
      return false;
    }
    warnReservationConflicts(leaseCheck!.running);
    const restartOnly = restartOnlyChange(config, result.config, native !== null);
    if (restartOnly !== null) {
      log.error(
        { event: 'config.reload-rejected', errors: [restartOnly] },
        'new config rejected; keeping the running one',
      );
      return false;
    }
    // The file is the truth (as for dhcpd and Kea): a reload is not refused for the active leases
    // it leaves outside every scope, but each is named (their clients are NAKed or ignored at
    // renewal). Counted against the scopes in force, before they are replaced.
    const orphaned = orphanedLeases(dhcp.currentEngine, result.config, clock.nowSeconds());
    try {
      const next = engineSettings(result.config, interfaces);
      // Relationships added, removed or changed start/stop now; unchanged ones keep running.
      const nextGates = failover.reconfigure(result.config);
      // The running engine's table is handed over, not copied: the new engine indexes it for its
      // scopes (statistics, free pools) and the old one is not used again.
      const nextEngine = new DhcpEngine(next.settings, dhcp.currentEngine.leaseTable, nextGates);
      currentEngine = nextEngine;
      dhcp.replaceEngine(nextEngine, next.network, { isGrantLogged: result.config.logging.isGrantLogged });
      log.level = result.config.logging.level;
      config = result.config;
      log.info({ event: 'config.reloaded', config: config.file, changes: result.changes }, 'config reloaded');
      warnOrphanedLeases(log, orphaned);
      return true;
    } catch (err) {
      log.error(
        { event: 'config.reload-rejected', errors: [(err as Error).message] },
        'new config rejected; keeping the running one',
      );
      return false;
    }
  };

  let stopping: Promise<void> | null = null;
  let api: ApiServer | null = null; // management API, started below
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info({ event: 'server.stopping' }, 'stopping');
      await api?.close(); // management API
      await failover.stop();
      await dhcp.stop();
      pingCheck?.stop();
      await ddns.stop();
      clearInterval(checkpointTimer);
      await writeCheckpoint();
      await store.close();
      lock.release();
      // Bounded: a log reader that stopped reading must not keep the server from stopping.
      await logOutputOf(log)?.settle(LOG_SETTLE_MS);
    })();
    return stopping;
  };

  // --- Management API (src/api/): REST + /metrics on config.api, after the DHCP service is up.
  // It reads the live engine and config through getters (both change on reload). A failure to
  // start it (port in use, no tokens on a non-loopback address) stops the server.
  const startedAt = clock.nowSeconds();
  const failoverApi = {
    statuses: () => failover.statuses(),
    listeners: () => failover.listenerStats(),
    declarePartnerDown: (name: string) => failover.declarePartnerDown(name),
    operatorSync: (name: string, kind: 'resync' | 'rebalance') => failover.operatorSync(name, kind),
  };
  const leaseOperations = new LeaseOperations({
    engine: () => dhcp.currentEngine,
    store,
    clock,
    log,
    failoverScopeIds: () => new Set(config.failover.flatMap((r) => r.scopeIds)),
    onEnded: (lease) => {
      failover.leasesChanged([lease]);
      ddns.bindingEndedByOperator(lease);
    },
    onImported: (leases) => failover.leasesChanged(leases),
  });
  // The API's modules (Fastify, its response schemas, the routes: ~0.3 s of CPU to load on the
  // 2-core development machine) load here, once DHCP is answering, not before the lease store is
  // read: start-up until serving at a million leases (issue 15) does not wait for them.
  const { ApiStartupError, startManagementApi } = await import('../api/attach.js');
  try {
    api = await startManagementApi({
      config: () => config,
      engine: () => dhcp.currentEngine,
      store,
      storePath: pgStore?.where ?? storePath,
      counters,
      clock,
      log,
      startedAt,
      configPath,
      reload,
      checkConfig: (next) => checkAgainstLeases(next, config).errors,
      failover: failoverApi,
      ...(transport === undefined ? {} : { dhcpInterfaces: () => transport.status() }),
      leaseOperations,
    });
  } catch (err) {
    await stop();
    throw err instanceof ApiStartupError ? new StartupError(`${config.file}: ${err.message}`) : err;
  }
  // --- end management API

  return {
    get config() {
      return config;
    },
    log,
    store,
    dhcp,
    counters,
    startedAt,
    api,
    failover,
    ddns,
    reload,
    stop,
  };
}
