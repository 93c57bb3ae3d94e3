// Twinlease as the partner of a real ISC dhcpd: its config (the relationship mirrors the dhcpd.conf
// failover peer stanza of lib/isc-dhcpd.ts), the process in its namespace, its management API
// (curl from $PFX-cli, as lib/pair.ts does) and its relationship state by name.

import './isc-prefix.js';
import type { Config } from '../../../src/config/schema.js';
import { ApiUnreachable } from './api-get.js';
import { ADDR } from './env.js';
import { PAIR_SCOPE_ID, PairApi, type PairSide, type RelationshipView } from './pair.js';
import { sleep } from './proc.js';
import { harnessConfig, TwinleaseServer } from './server.js';

export interface IscPairSettings {
  relationship: string;
  poolStart: string;
  poolEnd: string;
  leaseTimeSeconds: number;
  mcltSeconds: number;
  /** Ours; ISC's max-response-delay is set to the same. */
  receiveTimerSeconds: number;
  loadBalanceMaxSeconds: number;
  /** Our automatic PARTNER-DOWN (safe period) after this long in COMMUNICATIONS-INTERRUPTED. */
  stateSwitchIntervalSeconds: number;
  failoverPort: number;
}

/** Twinlease's config beside an ISC partner: same relationship name, pool, MCLT, ports swapped. */
export function twinleaseIscConfig(
  dir: string,
  side: PairSide,
  partnerAddress: string,
  s: IscPairSettings,
): Config {
  const base = harnessConfig(dir, [
    {
      id: PAIR_SCOPE_ID,
      subnet: '10.77.0.0/16',
      ranges: [{ start: s.poolStart, end: s.poolEnd }],
      leaseTimeSeconds: s.leaseTimeSeconds,
      options: [{ name: 'routers', data: ADDR.srv }],
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
        name: s.relationship,
        role: side.role,
        mode: 'loadBalance',
        loadBalancePercent: 50,
        mcltSeconds: s.mcltSeconds,
        autoStateTransition: true,
        stateSwitchIntervalSeconds: s.stateSwitchIntervalSeconds,
        receiveTimerSeconds: s.receiveTimerSeconds,
        loadBalanceMaxSeconds: s.loadBalanceMaxSeconds,
        // ISC semantics (spec §8.4), also the default: a set HBA bit means the primary serves.
        hbaBitMeaning: 'primary',
        auth: 'none',
        local: { address: side.address, port: s.failoverPort },
        partner: { address: partnerAddress, port: s.failoverPort, name: 'isc-dhcpd' },
        scopeIds: [PAIR_SCOPE_ID],
      },
    ],
  };
}

export interface StateSample {
  at: number;
  state: string;
  partnerState: string | null;
  connection: string;
}

/** Twinlease beside dhcpd: server process, API, relationship state by name. */
export class TwinleaseMember {
  readonly server: TwinleaseServer;
  readonly api: PairApi;
  readonly seen: StateSample[] = [];
  lastMiss = '';

  constructor(
    readonly side: PairSide,
    readonly relationship: string,
    dir: string,
    config: Config,
  ) {
    this.server = new TwinleaseServer(dir, config, side.ns);
    this.api = new PairApi(side);
  }

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
          throw new Error(`the management API did not come up: ${err.message}\n${this.server.tail(20)}`);
      }
      await sleep(100);
    }
  }

  async view(): Promise<RelationshipView | null> {
    const s = await this.api.status();
    return s.relationships.find((r) => r.name === this.relationship) ?? null;
  }

  /** Current relationship state (API names), or null when the API does not answer. */
  async sample(): Promise<StateSample | null> {
    let r: RelationshipView | null;
    try {
      r = await this.view();
    } catch (err) {
      if (err instanceof ApiUnreachable) {
        this.lastMiss = err.message;
        return null;
      }
      throw err;
    }
    if (r === null) {
      this.lastMiss = `GET /api/v1/status lists no relationship named ${this.relationship}`;
      return null;
    }
    const s = { at: Date.now(), state: r.state, partnerState: r.partnerState, connection: r.connection };
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

  async waitState(states: readonly string[], timeoutMs: number, intervalMs = 150): Promise<StateSample> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.server.isRunning)
        throw new Error(
          `Twinlease exited (${JSON.stringify(this.server.exit)}) while waiting for ${states.join('|')}\n${this.server.tail(30)}`,
        );
      const s = await this.sample();
      if (s !== null && states.includes(s.state)) return s;
      if (Date.now() >= deadline)
        throw new Error(
          `Twinlease not in ${states.join('|')} after ${timeoutMs} ms; states seen: ${this.describeSeen()}\n` +
            `Twinlease failover log:\n${this.failoverLog(25)}`,
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

  /**
   * Waits until this run's log holds a state change to `to` (D12 name). The API can report a state
   * before its log line has come through the stdout pipe, so a test that reads the log right after
   * `waitState` must wait for the line first.
   */
  async waitLogged(to: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.loggedTransitions().some((s) => s.endsWith(`→${to}`))) {
      if (Date.now() >= deadline)
        throw new Error(
          `no state change to ${to} logged within ${timeoutMs} ms: ${this.loggedTransitions().join(', ')}`,
        );
      await sleep(50);
    }
  }

  /** `from→to` of every failover.state-changed this run logged (D12 names). */
  loggedTransitions(): string[] {
    return this.server
      .records()
      .filter((r) => r.event === 'failover.state-changed')
      .map((r) => `${String(r.from)}→${String(r.to)}`);
  }

  failoverLog(n: number): string {
    return this.server.lines
      .filter(
        (l) => l.includes('"event":"failover.') || /"level":("warn"|"error"|"fatal"|4\d|5\d|6\d)/.test(l),
      )
      .slice(-n)
      .join('\n');
  }
}
