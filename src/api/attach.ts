// Starts the management API for a running server: builds ApiDeps from the server's parts and
// listens on config.api. Kept here so the composition root (src/server/server.ts) needs one call.

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ConfigError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { LeaseStore } from '../leases/store.js';
import type { Clock } from '../server/clock.js';
import { formatIpv4 } from '../wire/ipv4.js';
import type { ApiDeps, ApiEngine, DhcpInterfaceStatus, FailoverApi, LeaseOperationsApi } from './deps.js';
import { orphanedLeases } from './orphaned-leases.js';
import { makeReloader } from './reload.js';
import { type ApiServer, startApiServer } from './server.js';
import { TWINLEASE_VERSION } from './version.js';

export type { ApiServer } from './server.js';
export { ApiStartupError } from './server.js';

export interface ManagedServerParts {
  config(): ResolvedConfig;
  engine(): ApiEngine;
  store: Pick<LeaseStore, 'count' | 'backup'>;
  /** The lease store file as opened. */
  storePath: string;
  counters: { snapshot(): Record<string, number> };
  clock: Clock;
  log: Logger;
  /** Seconds since epoch. */
  startedAt: number;
  /** The config file the server loaded (reload re-reads it). */
  configPath: string;
  /** The server's own reload (SIGHUP): true when the new config is running. */
  reload(): boolean;
  /** Errors a loadable config has against the running server's state (reservations on leased addresses). */
  checkConfig(next: ResolvedConfig): ConfigError[];
  failover?: FailoverApi;
  /** direct mode: the served interfaces and whether each is up. */
  dhcpInterfaces?: () => readonly DhcpInterfaceStatus[];
  leaseOperations?: LeaseOperationsApi;
}

export function startManagementApi(parts: ManagedServerParts): Promise<ApiServer> {
  const deps: ApiDeps = {
    engine: parts.engine,
    config: parts.config,
    leaseStore: {
      path: parts.storePath,
      count: () => parts.store.count(),
      ...(parts.store.backup ? { backup: (d: string) => parts.store.backup!(d) } : {}),
    },
    counters: parts.counters,
    startedAt: parts.startedAt,
    version: TWINLEASE_VERSION,
    clock: parts.clock,
    log: parts.log,
    reload: makeReloader(parts.configPath, parts.config, parts.reload, parts.checkConfig, (next) =>
      orphanedLeases(parts.engine(), next, parts.clock.nowSeconds()),
    ),
    checkConfig: parts.checkConfig,
    configPath: parts.configPath,
    ...(parts.failover ? { failover: parts.failover } : {}),
    ...(parts.dhcpInterfaces ? { dhcpInterfaces: parts.dhcpInterfaces } : {}),
    ...(parts.leaseOperations ? { leaseOperations: parts.leaseOperations } : {}),
  };
  const api = parts.config().api;
  return startApiServer(deps, {
    listenAddress: formatIpv4(api.listenAddress),
    port: api.port,
    ...(api.tls === null
      ? {}
      : {
          tls: { cert: readFileSync(api.tls.certPath, 'utf8'), key: readFileSync(api.tls.keyPath, 'utf8') },
        }),
  });
}
