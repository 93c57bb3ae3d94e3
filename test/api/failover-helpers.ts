// An API server for the failover routes: the real HTTP app (startApiServer) over a temp config
// file and a bare engine, with a fake FailoverApi whose statuses the test sets, and a reload that
// re-reads the file exactly as the server's SIGHUP path does (makeReloader) and counts its calls.
// No DHCP sockets, no failover endpoint: deterministic.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiDeps, FailoverApi, FailoverListenerStatus } from '../../src/api/deps.js';
import { makeReloader } from '../../src/api/reload.js';
import { type ApiServer, startApiServer } from '../../src/api/server.js';
import { loadConfigFile } from '../../src/config/loader.js';
import type { ResolvedConfig } from '../../src/config/resolved.js';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import type { RelationshipStatus } from '../../src/failover/types.js';
import { checkReservations } from '../../src/server/reservation-check.js';
import { ServerState } from '../../src/wire/failover-message.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { READ_TOKEN, WRITE_TOKEN } from './helpers.js';

export { READ_TOKEN, WRITE_TOKEN };

/** Fixed "now" of the fake endpoint and the API clock: 2026-11-24T00:00:00Z. */
export const NOW = 1_795_478_400;

export function failoverConfig(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { name, serverIdentifier: '127.0.0.1' },
    dhcp: { listenAddress: '127.0.0.1', port: 6767 },
    api: {
      listenAddress: '127.0.0.1',
      port: 0,
      tokens: [
        { name: 'ops', token: WRITE_TOKEN },
        { name: 'grafana', token: READ_TOKEN, readOnly: true },
      ],
    },
    scopes: [
      {
        id: 'lab',
        name: 'lab',
        subnet: '10.50.0.0/24',
        ranges: [{ start: '10.50.0.10', end: '10.50.0.29' }],
        options: [{ name: 'routers', data: '10.50.0.1' }],
        leaseTimeSeconds: 3600,
      },
      { id: 'office', subnet: '10.60.0.0/24', ranges: [{ start: '10.60.0.100', end: '10.60.0.149' }] },
      { subnet: '10.70.0.0/24', ranges: [{ start: '10.70.0.10', end: '10.70.0.20' }] },
    ],
    ...extra,
  };
}

/** A relationship as written in the config (failover[]). */
export function relationshipConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'dc-pair',
    role: 'primary',
    local: { address: '10.0.0.2' },
    partner: { address: '10.0.0.3', name: 'dhcp-b' },
    scopeIds: ['lab'],
    mcltSeconds: 1800,
    ...over,
  };
}

export function fakeStatus(over: Partial<RelationshipStatus> = {}): RelationshipStatus {
  return {
    name: 'dc-pair',
    role: 'primary',
    mode: 'loadBalance',
    serverRole: null,
    localState: ServerState.NORMAL,
    localStateStartedAt: NOW - 600,
    partnerState: ServerState.NORMAL,
    partnerStateStartedAt: NOW - 590,
    isCommunicating: true,
    lastContactAt: NOW - 2,
    clockSkewSeconds: -1,
    mcltSeconds: 1800,
    clientSharePercent: 50,
    unackedUpdates: 3,
    queuedUpdates: 7,
    partnerDownAt: null,
    partnerPoolUsableAt: null,
    partnerSeenServingAt: null,
    partnerVendorClass: 'twinlease 0.1.0',
    counters: { messagesSent: 42, messagesReceived: 40, bindingUpdatesRejected: 0 },
    ...over,
  };
}

export class FakeFailover implements FailoverApi {
  statusList: RelationshipStatus[] = [];
  listenerList: FailoverListenerStatus[] = [];
  partnerDownCalls: string[] = [];
  partnerDownAnswer: ReturnType<FailoverApi['declarePartnerDown']> = { ok: true };

  statuses(): readonly RelationshipStatus[] {
    return this.statusList;
  }

  listeners(): readonly FailoverListenerStatus[] {
    return this.listenerList;
  }

  syncCalls: [string, 'resync' | 'rebalance'][] = [];
  syncAnswer: ReturnType<NonNullable<FailoverApi['operatorSync']>> = { ok: true };

  operatorSync(
    name: string,
    kind: 'resync' | 'rebalance',
  ): ReturnType<NonNullable<FailoverApi['operatorSync']>> {
    this.syncCalls.push([name, kind]);
    if (!this.statusList.some((s) => s.name === name)) {
      return { ok: false, reason: 'unknown', message: `no failover relationship named "${name}"` };
    }
    return this.syncAnswer;
  }

  declarePartnerDown(name: string): ReturnType<FailoverApi['declarePartnerDown']> {
    this.partnerDownCalls.push(name);
    if (!this.statusList.some((s) => s.name === name)) {
      return { ok: false, reason: 'unknown', message: `no failover relationship named "${name}"` };
    }
    return this.partnerDownAnswer;
  }
}

export interface FailoverApiServer {
  dir: string;
  configPath: string;
  baseUrl: string;
  failover: FakeFailover;
  /** reload(false) calls that applied a new config. */
  reloads: number;
  config(): ResolvedConfig;
  close(): Promise<void>;
}

function engineFor(config: ResolvedConfig, leases: readonly Lease[]): DhcpEngine {
  return new DhcpEngine(
    {
      serverName: config.server.name,
      serverIdentifier: parseIpv4('127.0.0.1'),
      scopes: config.scopes,
      directScopeIds: [],
    },
    [...leases],
  );
}

/** An active lease granted by `owner` at NOW − 60, running until NOW + 3600. */
export function activeLease(address: string, scopeId: string, n: number, owner = 'dhcp-a'): Lease {
  return {
    ...emptyLease(parseIpv4(address), scopeId, 'active', NOW - 60),
    hardwareType: 1,
    hardwareAddress: `02000000${n.toString(16).padStart(4, '0')}`,
    hostname: `host-${n}`,
    leaseExpiresAt: NOW + 3600,
    clientLastTransactionAt: NOW - 60,
    ownerServer: owner,
  };
}

export async function startFailoverApi(
  serverName: string,
  extra: Record<string, unknown> = {},
  /** Lease records the engine starts with (carried across reloads, as the server does). */
  leases: readonly Lease[] = [],
): Promise<FailoverApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'twinlease-fo-api-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, `${JSON.stringify(failoverConfig(serverName, extra), null, 2)}\n`);
  const loaded = loadConfigFile(configPath);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  let config = loaded.config;
  let engine = engineFor(config, leases);
  const failover = new FakeFailover();
  const state = { reloads: 0 };
  const apply = (): boolean => {
    const next = loadConfigFile(configPath);
    if (!next.ok) return false;
    config = next.config;
    engine = engineFor(config, [...engine.leases()]);
    state.reloads++;
    return true;
  };
  const deps: ApiDeps = {
    engine: () => engine,
    config: () => config,
    leaseStore: { path: join(dir, 'leases.db'), count: () => 0 },
    counters: { snapshot: () => ({}) },
    startedAt: NOW - 3600,
    version: '0.0.0-test',
    clock: { nowSeconds: () => NOW },
    reload: makeReloader(configPath, () => config, apply),
    checkConfig: (next) => checkReservations(config, next, (a) => engine.getLease(a), NOW).errors,
    failover,
    configPath,
  };
  const api: ApiServer = await startApiServer(deps, { listenAddress: '127.0.0.1', port: 0 });
  return {
    dir,
    configPath,
    baseUrl: `http://127.0.0.1:${api.port}`,
    failover,
    get reloads() {
      return state.reloads;
    },
    config: () => config,
    close: async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
