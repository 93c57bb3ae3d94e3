// Two Twinlease servers in a D12 failover relationship on the harness bridge: the primary in
// $PFX-srv (10.77.0.1), the secondary in $PFX-srv2 (10.77.0.3), failover TCP between them, each
// with its own management API (reached with curl from $PFX-cli, the only namespace that sees both),
// its own token, lease database and log. Also: who should answer a client (RFC 3074 buckets), a
// DORA broadcast to both partners, and lease lists in a comparable form.

import './pair-prefix.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Lease as ApiLease, ScopeStatistics, Status } from '../../../src/api/schemas.js';
import type { Config } from '../../../src/config/schema.js';
import {
  clientBucket,
  type FailoverRole,
  hbaFromPercent,
  serves,
} from '../../../src/failover/hash-bucket.js';
import { fromHex } from '../../../src/wire/ipv4.js';
import { ApiUnreachable, apiGetText } from './api-get.js';
import type { DhcpTestClient, DoraResult, ExchangeOptions, Reply } from './dhcp-test-client.js';

import { ADDR, NS } from './env.js';
import { run, sleep } from './proc.js';
import { harnessConfig, makeWorkDir, TwinleaseServer } from './server.js';

export type { ApiLease, ScopeStatistics, Status };
export type RelationshipView = Status['relationships'][number];
type ScopeDns = NonNullable<Config['scopes'][number]['dns']>;

/** The pair's scope: the harness /16 (it holds the relay 10.77.0.2), with a small pool. */
export const PAIR_SCOPE_ID = '10.77.0.0';
export const RELATIONSHIP = 'tlf-pair';
export const FAILOVER_PORT = 647;

export interface PairOptions {
  mode: 'loadBalance' | 'hotStandby';
  poolStart: string;
  poolEnd: string;
  leaseTimeSeconds: number;
  mcltSeconds: number;
  receiveTimerSeconds: number;
  /** null: no automatic PARTNER-DOWN. */
  stateSwitchIntervalSeconds: number | null;
  /** loadBalance: the primary's share of clients (default 50). */
  loadBalancePercent?: number;
  /** hotStandby: the standby's share of free addresses. */
  reservePercent?: number;
  /** HMAC-SHA256 with this secret on both sides; none when absent. */
  sharedSecret?: string;
  /** Dynamic DNS settings of the scope, the same on both sides (docs/dns.md); none when absent. */
  dns?: ScopeDns;
}

export interface PairSide {
  role: FailoverRole;
  ns: string;
  address: string;
  serverName: string;
  apiPort: number;
  token: string;
}

export const PRIMARY_SIDE: PairSide = {
  role: 'primary',
  ns: NS.srv,
  address: ADDR.srv,
  serverName: 'tl-primary',
  apiPort: 8067,
  token: 'primary-e2e-token-0123456789',
};
export const SECONDARY_SIDE: PairSide = {
  role: 'secondary',
  ns: NS.srv2,
  address: ADDR.srv2,
  serverName: 'tl-secondary',
  apiPort: 8068,
  token: 'secondary-e2e-token-9876543210',
};

/** The config of one side; everything the relationship needs equal is equal on both. */
export function pairConfig(dir: string, side: PairSide, partner: PairSide, o: PairOptions): Config {
  const base = harnessConfig(dir, [
    {
      id: PAIR_SCOPE_ID,
      subnet: '10.77.0.0/16',
      ranges: [{ start: o.poolStart, end: o.poolEnd }],
      leaseTimeSeconds: o.leaseTimeSeconds,
      options: [{ name: 'routers', data: ADDR.srv }],
      ...(o.dns === undefined ? {} : { dns: o.dns }),
    },
  ]);
  return {
    ...base,
    server: { name: side.serverName, serverIdentifier: side.address },
    logging: { level: 'debug' },
    api: {
      listenAddress: side.address,
      port: side.apiPort,
      tokens: [{ name: `e2e-${side.role}`, token: side.token }],
    },
    failover: [
      {
        name: RELATIONSHIP,
        role: side.role,
        mode: o.mode,
        ...(o.mode === 'loadBalance'
          ? { loadBalancePercent: o.loadBalancePercent ?? 50 }
          : { reservePercent: o.reservePercent ?? 5 }),
        mcltSeconds: o.mcltSeconds,
        ...(o.stateSwitchIntervalSeconds === null
          ? { autoStateTransition: false }
          : { autoStateTransition: true, stateSwitchIntervalSeconds: o.stateSwitchIntervalSeconds }),
        receiveTimerSeconds: o.receiveTimerSeconds,
        ...(o.sharedSecret === undefined
          ? {}
          : { auth: 'hmacSha256' as const, sharedSecret: o.sharedSecret }),
        local: { address: side.address, port: FAILOVER_PORT },
        partner: { address: partner.address, port: FAILOVER_PORT, name: partner.serverName },
        scopeIds: [PAIR_SCOPE_ID],
      },
    ],
  };
}

/**
 * The management API of one side, over curl run in $PFX-cli (the test process lives in the root
 * namespace, which has no route to the bridge).
 */
export class PairApi {
  constructor(readonly side: PairSide) {}

  get baseUrl(): string {
    return `http://${this.side.address}:${this.side.apiPort}`;
  }

  async get<T>(path: string): Promise<T> {
    return JSON.parse(await this.text(path)) as T;
  }

  /** The body of a GET that answered 200 (e.g. /metrics). */
  text(path: string): Promise<string> {
    return apiGetText(this.baseUrl, this.side.token, path);
  }

  status(): Promise<Status> {
    return this.get<Status>('/api/v1/status');
  }

  async relationship(): Promise<RelationshipView | null> {
    const s = await this.status();
    return s.relationships.find((r) => r.name === RELATIONSHIP) ?? null;
  }

  /** Every lease of the pair's scope (all pages); `state` as the API filter (default: client leases). */
  async leases(state?: string): Promise<ApiLease[]> {
    const out: ApiLease[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const q = new URLSearchParams({ limit: '1000' });
      if (state !== undefined) q.set('state', state);
      if (cursor !== null) q.set('cursor', cursor);
      const list: { items: ApiLease[]; nextCursor: string | null } = await this.get(
        `/api/v1/scopes/${PAIR_SCOPE_ID}/leases?${q.toString()}`,
      );
      out.push(...list.items);
      cursor = list.nextCursor;
      if (cursor === null) return out;
    }
    throw new Error('lease list did not end after 100 pages');
  }

  /** The operator's partner-down (POST …/actions/partner-down); the HTTP status. */
  async declarePartnerDown(): Promise<number> {
    const r = await run(
      'ip',
      [
        'netns',
        'exec',
        NS.cli,
        'curl',
        '-sS',
        '--max-time',
        '3',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-X',
        'POST',
        '-H',
        `Authorization: Bearer ${this.side.token}`,
        '-H',
        'Content-Type: application/json',
        '-d',
        '{}',
        `${this.baseUrl}/api/v1/failover/relationships/${RELATIONSHIP}/actions/partner-down`,
      ],
      { timeoutMs: 6000, check: false },
    );
    if (r.code !== 0) throw new ApiUnreachable(`POST partner-down: curl exit ${r.code}: ${r.stderr.trim()}`);
    return Number(r.stdout.trim());
  }

  statistics(): Promise<ScopeStatistics> {
    return this.get<ScopeStatistics>(`/api/v1/scopes/${PAIR_SCOPE_ID}/failover-statistics`);
  }
}

/** One observation of a side's relationship state (for messages: what was seen, when). */
export interface StateSample {
  at: number;
  state: string;
  partnerState: string | null;
  connection: string;
}

export class PairMember {
  readonly server: TwinleaseServer;
  readonly api: PairApi;
  /** State changes seen by the pollers, in order. */
  readonly seen: StateSample[] = [];

  constructor(
    readonly side: PairSide,
    dir: string,
    config: Config,
  ) {
    this.server = new TwinleaseServer(dir, config, side.ns);
    this.api = new PairApi(side);
  }

  get name(): string {
    return this.side.role;
  }

  /** Starts the server and waits until its management API answers (it starts after DHCP). */
  async start(timeoutMs = 20_000): Promise<void> {
    await this.server.start(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.api.status();
        return;
      } catch (err) {
        if (!(err instanceof ApiUnreachable)) throw err;
        if (!this.server.isRunning || Date.now() >= deadline)
          throw new Error(
            `${this.name}: the management API did not come up: ${err.message}\n${this.server.tail(20)}`,
          );
      }
      await sleep(100);
    }
  }

  /**
   * State names the API sent that are not windows-model.md §1.3 names (e.g. D12's
   * `communications-interrupted` for `communicationsInterrupted`). The waits still understand them,
   * so the later phases run; a test asserts that this stays empty.
   */
  readonly nonApiStateNames = new Set<string>();

  private apiName(name: string): string {
    const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (camel !== name) this.nonApiStateNames.add(name);
    return camel;
  }

  /** Why the last sample had no state (API unreachable, no relationship in the status). */
  lastMiss = '';

  /** Current relationship state, or null when the API does not answer (or has no relationship). */
  async sample(): Promise<StateSample | null> {
    let r: RelationshipView | null;
    try {
      r = await this.api.relationship();
    } catch (err) {
      if (err instanceof ApiUnreachable) {
        this.lastMiss = err.message;
        return null;
      }
      throw err;
    }
    if (r === null) {
      this.lastMiss = `GET /api/v1/status lists no relationship named ${RELATIONSHIP}`;
      return null;
    }
    const s = {
      at: Date.now(),
      state: this.apiName(r.state),
      partnerState: r.partnerState === null ? null : this.apiName(r.partnerState),
      connection: r.connection,
    };
    const last = this.seen.at(-1);
    if (
      !last ||
      last.state !== s.state ||
      last.partnerState !== s.partnerState ||
      last.connection !== s.connection
    )
      this.seen.push(s);
    return s;
  }

  /** Waits until the relationship is in one of `states`; the message lists every state seen. */
  async waitState(states: readonly string[], timeoutMs: number, intervalMs = 150): Promise<StateSample> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.server.isRunning)
        throw new Error(
          `${this.name} exited (${JSON.stringify(this.server.exit)}) while waiting for ${states.join('|')}\n${this.server.tail(30)}`,
        );
      const s = await this.sample();
      if (s !== null && states.includes(s.state)) return s;
      if (Date.now() >= deadline)
        throw new Error(
          `${this.name} not in ${states.join('|')} after ${timeoutMs} ms; states seen: ${this.describeSeen()}\n` +
            `failover log of ${this.name}:\n${this.failoverLog(25)}`,
        );
      await sleep(intervalMs);
    }
  }

  describeSeen(): string {
    const t0 = this.seen[0]?.at ?? 0;
    return (
      this.seen
        .map(
          (s) => `+${((s.at - t0) / 1000).toFixed(1)}s ${s.state}/${s.partnerState ?? '-'}/${s.connection}`,
        )
        .join(' → ') || `(no state seen; last: ${this.lastMiss || 'not sampled'})`
    );
  }

  /** The last `n` log lines whose event starts with `failover.` (and every warn/error line). */
  failoverLog(n: number): string {
    const lines = this.server.lines.filter(
      (l) => l.includes('"event":"failover.') || /"level":("warn"|"error"|"fatal"|4\d|5\d|6\d)/.test(l),
    );
    return lines.slice(-n).join('\n');
  }
}

/** Primary and secondary with their work folders, configs and APIs. */
export class FailoverPair {
  readonly primary: PairMember;
  readonly secondary: PairMember;
  readonly dir: string;

  constructor(
    tag: string,
    readonly options: PairOptions,
  ) {
    this.dir = makeWorkDir(tag);
    const dirP = join(this.dir, 'primary');
    const dirS = join(this.dir, 'secondary');
    mkdirSync(dirP, { recursive: true });
    mkdirSync(dirS, { recursive: true });
    this.primary = new PairMember(
      PRIMARY_SIDE,
      dirP,
      pairConfig(dirP, PRIMARY_SIDE, SECONDARY_SIDE, options),
    );
    this.secondary = new PairMember(
      SECONDARY_SIDE,
      dirS,
      pairConfig(dirS, SECONDARY_SIDE, PRIMARY_SIDE, options),
    );
  }

  get members(): readonly PairMember[] {
    return [this.primary, this.secondary];
  }

  async start(): Promise<void> {
    await Promise.all([this.primary.start(), this.secondary.start()]);
  }

  async waitBoth(states: readonly string[], timeoutMs: number): Promise<void> {
    await Promise.all([
      this.primary.waitState(states, timeoutMs),
      this.secondary.waitState(states, timeoutMs),
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.server.stop()));
  }

  errors(): string {
    return this.members
      .flatMap((m) => m.server.errors().map((r) => `${m.name}: ${JSON.stringify(r)}`))
      .join('\n');
  }
}

/** The role that answers a client's DISCOVER in NORMAL state (RFC 3074 on chaddr, no client id). */
export function hashOwner(mac: string, primaryPercent = 50): FailoverRole {
  const chaddr = fromHex(mac);
  const bucket = clientBucket(null, chaddr, chaddr.length);
  return serves(hbaFromPercent(primaryPercent, 'primary'), bucket, 'primary', 'primary')
    ? 'primary'
    : 'secondary';
}

export interface PairDora extends DoraResult {
  xid: number;
  /** Every reply with this exchange's xid (from either server), after a short grace period. */
  replies: Reply[];
}

let nextXid = 0x51f00000;

/** DORA with a known xid, so every reply to it (from either partner) can be found afterwards. */
export async function dora(client: DhcpTestClient, mac: string, o: ExchangeOptions = {}): Promise<PairDora> {
  const xid = o.xid ?? nextXid++;
  const r = await client.dora(mac, { ...o, xid });
  return { ...r, xid, replies: [] };
}

/** Fills in `replies` of each result from everything the client received. */
export function collectReplies(client: DhcpTestClient, results: PairDora[]): void {
  for (const r of results) r.replies = client.replies.filter((x) => x.xid === r.xid && x.mac === r.mac);
}

/** Who answered a reply: 'primary', 'secondary' or the address. */
export function sender(reply: Reply): string {
  if (reply.from === ADDR.srv) return 'primary';
  if (reply.from === ADDR.srv2) return 'secondary';
  return reply.from;
}

/** MAC in the API's form (aa:bb:…) from the test client's hex. */
export function colonMac(hex: string): string {
  return hex.match(/../g)?.join(':') ?? hex;
}

/** One lease in a form two servers must agree on. */
export function leaseKey(l: ApiLease): string {
  return `${l.bindingState} mac=${l.hardwareAddress.mac ?? '-'} expires=${l.leaseExpiresAt ?? '-'}`;
}

export const ipInt = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
export const intIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** Every address of an inclusive range. */
export function rangeAddresses(start: string, end: string): string[] {
  const out: string[] = [];
  for (let n = ipInt(start); n <= ipInt(end); n++) out.push(intIp(n));
  return out;
}
