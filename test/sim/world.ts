// The deterministic simulation of a failover pair (issue 4): two servers built from the product's
// cores unchanged — DhcpEngine, FailoverEndpoint (its gate and state machine) — with every failover
// message through the real codec; a shell that behaves like src/server/ (actions run in order, a
// persist holds everything after it until the store says durable, a DHCP reply leaves only after
// its binding is durable); a TCP model; a lease store whose commits become durable later; clients
// doing DORA, renew, rebind, release, decline, INIT-REBOOT and vanishing; and a fault injector. One
// seeded scheduler orders every event on a virtual millisecond clock. The checker (checker.ts) looks
// at the world after every event.

import type { ResolvedRelationship } from '../../src/config/resolved.js';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import type { FailoverGate, LeaseGrant } from '../../src/dhcp/failover-gate.js';
import type { Lease } from '../../src/dhcp/lease.js';
import type { EngineScope } from '../../src/dhcp/scope.js';
import { FailoverEndpoint, metaKeyOf, type PersistedRelationship } from '../../src/failover/endpoint.js';
import type { UnmeasuredRestart } from '../../src/failover/lease-time.js';
import type { ConnectionId, EndpointAction, EndpointInput } from '../../src/failover/types.js';
import { CHECKPOINT_META_KEY, CHECKPOINT_SECONDS, type ClockCheckpoint } from '../../src/server/clock.js';
import { DhcpMessageType, type DhcpPacket } from '../../src/wire/dhcp-packet.js';
import { decodeFailover, encodeFailover } from '../../src/wire/failover-codec.js';
import {
  type DecodedFailoverMessage,
  FailoverMessageType,
  SERVER_STATE_NAMES,
  ServerState,
} from '../../src/wire/failover-message.js';
import { formatIpv4, fromHex, type Ipv4 } from '../../src/wire/ipv4.js';
import { ip, packet, scope, settings } from '../dhcp/helpers.js';
import { Checker, type Violation } from './checker.js';
import { Prng } from './prng.js';
import type { FaultKind, Scenario } from './scenario.js';

export const SCOPE_ID = '10.0.0.0';
const START_MS = 1_700_000_000_000;
const S = ServerState;

// -------------------------------------------------------------------------------------------------
// Scheduler

interface Scheduled {
  atMs: number;
  seq: number;
  run: () => void;
}

/**
 * A binary min-heap on (atMs, seq): events at the same millisecond run in the order they were
 * scheduled. The order is total, so any correct heap pops the same sequence; this one moves a hole
 * instead of swapping pairs (no temporary arrays on the hot path: every event passes through it).
 */
class EventQueue {
  private readonly heap: Scheduled[] = [];
  private seq = 0;

  push(atMs: number, run: () => void): void {
    const e: Scheduled = { atMs, seq: this.seq++, run };
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.atMs < atMs || (parent.atMs === atMs && parent.seq < e.seq)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  pop(): Scheduled | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let m = l;
        if (r < n && before(h[r]!, h[l]!)) m = r;
        if (!before(h[m]!, last)) break;
        h[i] = h[m]!;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }

  get size(): number {
    return this.heap.length;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

// -------------------------------------------------------------------------------------------------
// Servers

interface SimQueuedPersist {
  kind: 'persist';
  afterDurable: readonly EndpointAction[];
  isDurable: boolean;
}
type SimQueueItem = SimQueuedPersist | { kind: 'action'; action: EndpointAction };

export interface SimServer {
  name: 'a' | 'b';
  index: 0 | 1;
  config: ResolvedRelationship;
  /** What survives a crash. */
  durable: Map<Ipv4, Lease>;
  durableMeta: Map<string, string>;
  isUp: boolean;
  /** Bumped on every crash: events of an earlier life are ignored. */
  life: number;
  engine: DhcpEngine;
  endpoint: FailoverEndpoint;
  /** Wall clock offset from simulation time, ms (what clockJump and bigSkew step). */
  skewMs: number;
  /**
   * The host: its monotonic clock counts from hostBootMs (simulation time) and never steps; a
   * host crash (power loss) reboots it (a new boot id), a process crash does not.
   */
  hostBootMs: number;
  bootId: number;
  isHostRebootPending: boolean;
  /**
   * The shell's timeline (src/server/clock.ts): anchorLocalMs at monotonic time anchorMonoMs.
   * What every core gets as `now`.
   */
  anchorLocalMs: number;
  anchorMonoMs: number;
  /** The latest restart no clock measured, carried in every checkpoint (src/server/clock.ts). */
  lastUnmeasured: UnmeasuredRestart | null;
  failoverTicks: number;
  /** The failover shell's in-order action queue (src/server/failover-service.ts). */
  actionQueue: SimQueueItem[];
  /** Store writes requested and not yet durable. */
  pendingWrites: number;
  lastWriteDoneMs: number;
  slowDiskUntilMs: number;
  crashOnNextWrite: boolean;
  isConnecting: boolean;
  /** Restart is due at this time (when down). */
  restartAtMs: number | null;
}

// -------------------------------------------------------------------------------------------------
// The failover link: TCP connections between the two servers

interface Segment {
  kind: 'data' | 'fin';
  bytes?: Uint8Array;
  readyAtMs: number;
}

interface TcpEnd {
  id: ConnectionId;
  server: SimServer;
  life: number;
  isOpen: boolean;
  peer: TcpEnd;
  tcp: Tcp;
  /** Segments on their way from this end to `peer`, in order. */
  out: Segment[];
  isDeliveryScheduled: boolean;
  /** Once the connection is broken: how many more segments of `out` still arrive. */
  remainingAfterBreak: number;
}

interface Tcp {
  id: number;
  isBroken: boolean;
}

// -------------------------------------------------------------------------------------------------
// Clients

type ClientPhase =
  | 'idle'
  | 'selecting'
  | 'requesting'
  | 'bound'
  | 'renewing'
  | 'rebinding'
  | 'rebooting'
  | 'gone';

interface ClientLease {
  address: Ipv4;
  server: 'a' | 'b';
  /** When the client believes it ends (sim ms): request sent + lease time. */
  untilMs: number;
  t1Ms: number;
  t2Ms: number;
}

interface SimClient {
  id: number;
  mac: string;
  /** The bytes of `mac`, built once (every packet of the client carries them). */
  hardwareAddress: Uint8Array;
  phase: ClientPhase;
  /** Cancels timers of an earlier phase. */
  generation: number;
  xid: number;
  secs: number;
  requestSentMs: number;
  offers: Array<{ server: 'a' | 'b'; address: Ipv4 }>;
  lease: ClientLease | null;
  /** Address to ask for in the next DISCOVER (the last one held). */
  remembered: Ipv4 | null;
  /** An address this client declined (ARP conflict): it refuses it for a while, as real clients do. */
  declined: { address: Ipv4; untilMs: number } | null;
}

export interface SimOptions {
  seed: number;
  scenario: Scenario;
  /** Fault kinds not injected (shrinking). */
  disabledFaults?: ReadonlySet<FaultKind>;
  /** Fault occurrences (index in this seed's fault stream) that are skipped (shrinking). */
  skippedFaults?: ReadonlySet<number>;
  trace?: boolean;
  maxEvents?: number;
}

export interface SimResult {
  seed: number;
  violations: Violation[];
  events: number;
  simSeconds: number;
  faults: Record<string, number>;
  /** Index → description of every fault drawn (for shrinking and the report). */
  faultLog: string[];
  counters: Record<string, number>;
  trace: string[];
}

const UDP_LOSS = 0.01;

export class World {
  readonly rNet: Prng;
  readonly rClients: Prng;
  readonly rFaults: Prng;
  readonly rDisk: Prng;
  readonly queue = new EventQueue();
  nowMs = START_MS;
  events = 0;
  readonly servers: [SimServer, SimServer];
  readonly clients: SimClient[] = [];
  readonly checker: Checker;
  readonly trace: string[] = [];
  readonly isTracing: boolean;
  readonly faults: Record<string, number> = {};
  readonly faultLog: string[] = [];
  readonly counters: Record<string, number> = {};
  /** Failover link directions blackholed: [a→b, b→a]. */
  readonly blocked: [boolean, boolean] = [false, false];
  private bigSkewActive = false;
  private nextConnectionId = 1;
  private nextTcpId = 1;
  private readonly ends = new Map<ConnectionId, TcpEnd>();
  private faultIndex = 0;
  isChaos = true;
  isQuiescing = false;
  stopped = false;

  constructor(readonly options: SimOptions) {
    const seed = options.seed;
    this.rNet = new Prng(seed, 1);
    this.rClients = new Prng(seed, 2);
    this.rFaults = new Prng(seed, 3);
    this.rDisk = new Prng(seed, 4);
    this.isTracing = options.trace ?? false;
    const sc = options.scenario;
    const scopes: EngineScope[] = [
      scope({
        // A large scope (ScenarioLimits.large) needs more than the /24.
        ...(sc.poolSize > 150 ? { subnet: '10.0.0.0/14' } : {}),
        ranges: [{ start: ip('10.0.0.100'), end: (ip('10.0.0.100') + sc.poolSize - 1) as Ipv4 }],
        leaseTimeSeconds: sc.leaseSeconds,
        renewTimeSeconds: Math.floor(sc.leaseSeconds / 2),
        rebindTimeSeconds: Math.floor((sc.leaseSeconds * 7) / 8),
        declineHoldSeconds: sc.declineHoldSeconds,
        offerHoldSeconds: sc.offerHoldSeconds,
      }),
    ];
    this.servers = [this.makeServer('a', 0, scopes), this.makeServer('b', 1, scopes)];
    this.checker = new Checker(this);
    for (const s of this.servers) this.boot(s);
    for (let i = 0; i < sc.clients; i++) {
      const mac = `02000000${(i + 1).toString(16).padStart(4, '0')}`;
      const c: SimClient = {
        id: i + 1,
        mac,
        hardwareAddress: fromHex(mac),
        phase: 'idle',
        generation: 0,
        xid: (i + 1) * 1000,
        secs: 0,
        requestSentMs: 0,
        offers: [],
        lease: null,
        remembered: null,
        declined: null,
      };
      this.clients.push(c);
      this.clientLater(c, this.rClients.int(1_000, 60_000), () => this.discover(c));
    }
    this.scheduleNextFault();
    this.at(this.nowMs + sc.chaosSeconds * 1000, () => this.endChaos());
  }

  get scenario(): Scenario {
    return this.options.scenario;
  }

  // -----------------------------------------------------------------------------------------------
  // Running

  at(atMs: number, run: () => void): void {
    this.queue.push(Math.max(atMs, this.nowMs), run);
  }

  run(): SimResult {
    const maxEvents = this.options.maxEvents ?? 2_000_000;
    while (!this.stopped) {
      const e = this.queue.pop();
      if (!e) break;
      this.nowMs = e.atMs;
      this.events++;
      try {
        e.run();
      } catch (err) {
        this.checker.report({
          kind: 'exception',
          message: `exception in an event: ${(err as Error).stack ?? String(err)}`,
        });
      }
      if (!this.stopped) this.checker.afterEvent();
      if (this.checker.violations.length > 0) break;
      if (this.events >= maxEvents) {
        this.checker.report({ kind: 'no-convergence', message: `event budget of ${maxEvents} exhausted` });
        break;
      }
    }
    return {
      seed: this.options.seed,
      violations: this.checker.violations,
      events: this.events,
      simSeconds: Math.round((this.nowMs - START_MS) / 1000),
      faults: this.faults,
      faultLog: this.faultLog,
      counters: this.counters,
      trace: this.trace,
    };
  }

  log(text: string | (() => string)): void {
    if (!this.isTracing) return;
    const t = ((this.nowMs - START_MS) / 1000).toFixed(3).padStart(9);
    this.trace.push(`${t} ${typeof text === 'string' ? text : text()}`);
  }

  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  /** A server's timeline (src/server/clock.ts), whole seconds: every core's `now`. */
  nowOf(s: SimServer): number {
    return Math.floor(this.localMsOf(s) / 1000);
  }

  /** A server's wall clock, whole seconds. */
  wallOf(s: SimServer): number {
    return Math.floor((this.nowMs + s.skewMs) / 1000);
  }

  localMsOf(s: SimServer): number {
    return s.anchorLocalMs + (this.monoMsOf(s) - s.anchorMonoMs);
  }

  monoMsOf(s: SimServer): number {
    return this.nowMs - s.hostBootMs;
  }

  /** Timeline − simulation time, ms: constant during one life of the process. */
  timelineOffsetMs(s: SimServer): number {
    return s.anchorLocalMs - s.anchorMonoMs - s.hostBootMs;
  }

  other(s: SimServer): SimServer {
    return s.index === 0 ? this.servers[1] : this.servers[0];
  }

  server(name: 'a' | 'b'): SimServer {
    return name === 'a' ? this.servers[0] : this.servers[1];
  }

  // -----------------------------------------------------------------------------------------------
  // Servers: boot, the failover shell, the DHCP shell, the store

  private makeServer(name: 'a' | 'b', index: 0 | 1, scopes: EngineScope[]): SimServer {
    const sc = this.options.scenario;
    const role = index === 0 ? 'primary' : 'secondary';
    const config: ResolvedRelationship = {
      name: 'pair',
      role,
      mode: sc.mode,
      serverRole: sc.mode === 'hotStandby' ? (role === 'primary' ? 'active' : 'standby') : null,
      loadBalancePercent: 50,
      reservePercent: 20,
      mcltSeconds: sc.mcltSeconds,
      autoStateTransition: sc.autoPartnerDownSeconds !== null,
      stateSwitchIntervalSeconds: sc.autoPartnerDownSeconds,
      auth: 'none',
      sharedSecret: null,
      local: { address: ip(index === 0 ? '10.0.0.1' : '10.0.0.2'), port: 647, name },
      partner: {
        address: ip(index === 0 ? '10.0.0.2' : '10.0.0.1'),
        port: 647,
        name: index === 0 ? 'b' : 'a',
      },
      scopeIds: [SCOPE_ID],
      maxUnackedUpdates: 10,
      receiveTimerSeconds: sc.receiveTimerSeconds,
      loadBalanceMaxSeconds: sc.loadBalanceMaxSeconds,
      hbaBitMeaning: 'primary',
      poolSplit: 'even',
      maxClockSkewSeconds: 60,
    } as ResolvedRelationship;
    const s = {
      name,
      index,
      config,
      durable: new Map<Ipv4, Lease>(),
      durableMeta: new Map<string, string>(),
      isUp: false,
      life: 0,
      skewMs: sc.skewMs[index],
      hostBootMs: START_MS - 3_600_000,
      bootId: 1,
      isHostRebootPending: false,
      anchorLocalMs: 0,
      anchorMonoMs: 0,
      lastUnmeasured: null,
      failoverTicks: 0,
      actionQueue: [],
      pendingWrites: 0,
      lastWriteDoneMs: 0,
      slowDiskUntilMs: 0,
      crashOnNextWrite: false,
      isConnecting: false,
      restartAtMs: null,
      scopes,
    } as unknown as SimServer & { scopes: EngineScope[] };
    return s;
  }

  private boot(s: SimServer): void {
    const scopes = (s as SimServer & { scopes: EngineScope[] }).scopes;
    const stored = [...s.durable.values()].map(copyLease);
    const text = s.durableMeta.get(metaKeyOf(s.config.name));
    const persisted = text === undefined ? null : (JSON.parse(text) as PersistedRelationship);
    if (s.isHostRebootPending) {
      s.isHostRebootPending = false;
      s.bootId++;
      s.hostBootMs = this.nowMs;
    }
    const restart = this.resumeTimeline(s);
    let engine: DhcpEngine | null = null;
    const now = this.nowOf(s);
    const endpoint = new FailoverEndpoint({
      relationship: s.config,
      engine: () => engine!,
      serverName: s.name,
      vendorClass: 'twinlease-sim',
      persisted,
      isStoreEmpty: stored.length === 0,
      now,
      wallNow: this.wallOf(s),
      restart,
    });
    const gate = new RecordingGate(endpoint.gate, this, s);
    engine = new DhcpEngine(
      settings(scopes, { serverName: s.name, serverIdentifier: s.config.local.address }),
      stored,
      new Map([[SCOPE_ID, gate]]),
    );
    s.engine = engine;
    s.endpoint = endpoint;
    s.isUp = true;
    s.restartAtMs = null;
    s.actionQueue = [];
    s.pendingWrites = 0;
    s.isConnecting = false;
    this.log(
      `${s.name} boot state=${persisted ? SERVER_STATE_NAMES[persisted.state] : 'none'} leases=${stored.length}`,
    );
    // Like serve: expire what ran out while down, durable before anything else.
    const expired = engine.tick(now);
    if (expired.length > 0) this.write(s, expired, [], () => {});
    const life = s.life;
    this.writeCheckpoint(s);
    // The failover tick (1 s) and the DHCP expiry tick (1 s), at their own phases.
    const phase = this.rNet.int(0, 999);
    this.at(this.nowMs + 1, () => this.failoverTick(s, life));
    this.at(this.nowMs + 1 + phase, () => this.dhcpTick(s, life));
  }

  private failoverTick(s: SimServer, life: number): void {
    if (!s.isUp || s.life !== life) return;
    if (++s.failoverTicks % CHECKPOINT_SECONDS === 0) this.writeCheckpoint(s);
    this.feed(s, { type: 'tick' });
    this.at(this.nowMs + 1000, () => this.failoverTick(s, life));
  }

  private dhcpTick(s: SimServer, life: number): void {
    if (!s.isUp || s.life !== life) return;
    const changes = s.engine.tick(this.nowOf(s));
    if (changes.length > 0) {
      this.log(
        () => `${s.name} expiry ${changes.map((l) => `${formatIpv4(l.address)}→${l.state}`).join(' ')}`,
      );
      this.write(s, changes, [], () => this.feed(s, { type: 'leasesChanged', leases: changes }));
    }
    this.at(this.nowMs + 1000, () => this.dhcpTick(s, life));
  }

  /**
   * As src/server/clock.ts at start: continue the timeline from the stored checkpoint, by the
   * monotonic clock on the same host boot, else by the wall clock (never backwards).
   */
  private resumeTimeline(
    s: SimServer,
  ): { isMeasured: boolean; lastAliveAt: number; lastUnmeasured: UnmeasuredRestart | null } | null {
    const text = s.durableMeta.get(CHECKPOINT_META_KEY);
    const mono = this.monoMsOf(s);
    const wall = this.nowMs + s.skewMs;
    s.anchorMonoMs = mono;
    if (text === undefined) {
      s.anchorLocalMs = wall;
      s.lastUnmeasured = null;
      return null;
    }
    const ck = JSON.parse(text) as ClockCheckpoint & { simMs: number };
    const isMeasured = ck.bootId === String(s.bootId);
    const downMs = isMeasured ? mono - ck.monoMs : Math.max(0, wall - ck.wallMs);
    s.anchorLocalMs = ck.localMs + downMs;
    // The timeline advanced by more than the time that passed (the wall clock was stepped forward
    // since the checkpoint): every binding this server stored ends that much early, as for any
    // DHCP server that keeps wall-clock lease times; the checker allows for it.
    const overMs = downMs - (this.nowMs - ck.simMs);
    if (!isMeasured && overMs > 0) this.checker.noteTimelineForward(s, overMs);
    this.log(
      `${s.name} timeline resumed ${isMeasured ? 'measured' : 'unmeasured'}${overMs !== 0 ? ` (${overMs > 0 ? '+' : ''}${(overMs / 1000).toFixed(1)} s vs real time)` : ''}`,
    );
    const lastAliveAt = Math.floor(ck.localMs / 1000);
    s.lastUnmeasured = isMeasured
      ? (ck.lastUnmeasured ?? null)
      : { lastAliveAt, bootAt: Math.floor(s.anchorLocalMs / 1000) };
    return { isMeasured, lastAliveAt, lastUnmeasured: s.lastUnmeasured };
  }

  /**
   * The shell stores the clock checkpoint in the lease store (src/server/server.ts). Modelled as
   * durable a millisecond later, outside the write queue, so that it draws no randomness and moves
   * no other write (the histories of earlier seeds stay as they were).
   */
  private writeCheckpoint(s: SimServer): void {
    const ck: ClockCheckpoint & { simMs: number } = {
      bootId: String(s.bootId),
      monoMs: this.monoMsOf(s),
      localMs: this.localMsOf(s),
      wallMs: this.nowMs + s.skewMs,
      lastUnmeasured: s.lastUnmeasured,
      simMs: this.nowMs,
    };
    const life = s.life;
    this.at(this.nowMs + 1, () => {
      if (s.life === life) s.durableMeta.set(CHECKPOINT_META_KEY, JSON.stringify(ck));
    });
  }

  /** Feeds the endpoint and runs what it returns (src/server/failover-service.ts). */
  feed(s: SimServer, input: EndpointInput): void {
    if (!s.isUp) return;
    const before = s.endpoint.currentState;
    const actions = s.endpoint.handle(input, this.nowOf(s), this.wallOf(s));
    this.noteState(s, before, actions);
    this.runActions(s, actions);
  }

  noteState(s: SimServer, before: ServerState, actions: readonly EndpointAction[] = []): void {
    const after = s.endpoint.currentState;
    if (after !== before) {
      this.count(`state:${SERVER_STATE_NAMES[after]}`);
      this.log(() => {
        const rules = actions.flatMap((a) =>
          a.type === 'log' && a.event === 'failover-state-changed' ? [String(a.fields.rule)] : [],
        );
        return `${s.name} state ${SERVER_STATE_NAMES[before]} → ${SERVER_STATE_NAMES[after]}${rules.length > 0 ? ` (${rules.join(', ')})` : ''}`;
      });
      this.checker.onStateChange(s, before, after);
    }
  }

  /**
   * As src/server/failover-service.ts: a persist's writes go to the store at once (in the order the
   * endpoint made the changes, interleaved with DHCP commits); what follows a persist waits until
   * it is durable.
   */
  runActions(s: SimServer, actions: readonly EndpointAction[]): void {
    for (const a of actions) {
      if (a.type === 'persist') s.actionQueue.push(this.persistEntry(s, a));
      else s.actionQueue.push({ kind: 'action', action: a });
    }
    this.drain(s);
  }

  private persistEntry(s: SimServer, a: Extract<EndpointAction, { type: 'persist' }>): SimQueuedPersist {
    const entry: SimQueuedPersist = { kind: 'persist', afterDurable: a.afterDurable, isDurable: false };
    const life = s.life;
    this.write(s, a.leases, a.meta, () => {
      if (s.life !== life) return;
      entry.isDurable = true;
      this.drain(s);
    });
    return entry;
  }

  private drain(s: SimServer): void {
    const life = s.life;
    while (s.isUp && s.life === life && s.actionQueue.length > 0) {
      const head = s.actionQueue[0]!;
      if (head.kind === 'persist') {
        if (!head.isDurable) return;
        s.actionQueue.shift();
        s.actionQueue.unshift(...head.afterDurable.map((action) => ({ kind: 'action' as const, action })));
        continue;
      }
      s.actionQueue.shift();
      const a = head.action;
      switch (a.type) {
        case 'send':
          this.tcpSend(a.connectionId, a.message);
          break;
        case 'close':
          this.tcpClose(s, a.connectionId);
          break;
        case 'connect':
          this.tcpConnect(s);
          break;
        case 'log':
          if (this.isTracing && a.level !== 'info')
            this.log(`${s.name} log ${a.event} ${JSON.stringify(a.fields)}`);
          break;
        case 'persist':
          s.actionQueue.unshift(this.persistEntry(s, a));
          break;
      }
    }
  }

  /** A store commit: durable after a latency, in call order; lost if the server crashes first. */
  write(
    s: SimServer,
    leases: readonly Lease[],
    meta: ReadonlyArray<{ key: string; value: string }>,
    done: () => void,
  ): void {
    const copies = leases.map(copyLease);
    const metaCopy = meta.map((m) => ({ ...m }));
    const [lo, hi] = this.scenario.storeLatencyMs;
    const latency = this.nowMs < s.slowDiskUntilMs ? this.rDisk.int(200, 3000) : this.rDisk.int(lo, hi);
    const atMs = Math.max(s.lastWriteDoneMs, this.nowMs + latency);
    s.lastWriteDoneMs = atMs;
    s.pendingWrites++;
    const life = s.life;
    if (s.crashOnNextWrite) {
      s.crashOnNextWrite = false;
      const crashAt = this.nowMs + Math.floor((atMs - this.nowMs) * this.rDisk.float());
      this.at(Math.min(crashAt, atMs - 1), () => {
        if (s.isUp && s.life === life) {
          this.log(`${s.name} CRASH while a write of ${copies.length} leases is not durable`);
          this.crash(s, 'process', this.restartDelayMs());
        }
      });
    }
    this.at(atMs, () => {
      if (s.life !== life) return; // crashed first: lost
      for (const l of copies) s.durable.set(l.address, l);
      for (const m of metaCopy) s.durableMeta.set(m.key, m.value);
      s.pendingWrites--;
      if (s.isUp) done();
    });
  }

  crash(s: SimServer, kind: 'process' | 'host', restartAfterMs: number): void {
    if (!s.isUp) return;
    this.checker.beforeCrash(s);
    this.log(`${s.name} CRASH (${kind}); restart in ${(restartAfterMs / 1000).toFixed(1)} s`);
    s.isUp = false;
    s.life++;
    if (kind === 'host') s.isHostRebootPending = true;
    s.actionQueue = [];
    s.pendingWrites = 0;
    s.crashOnNextWrite = false;
    s.lastWriteDoneMs = 0;
    for (const end of [...this.ends.values()]) {
      if (end.server !== s) continue;
      this.ends.delete(end.id);
      if (!end.isOpen) continue;
      end.isOpen = false;
      if (kind === 'process') this.pushSegment(end, { kind: 'fin', readyAtMs: 0 });
      else end.out.length = 0;
    }
    s.restartAtMs = this.nowMs + restartAfterMs;
    this.at(s.restartAtMs, () => this.tryRestart(s));
  }

  private tryRestart(s: SimServer): void {
    if (s.isUp) return;
    if (!this.mayRestart(s)) {
      this.at(this.nowMs + 5000, () => this.tryRestart(s));
      return;
    }
    s.life++;
    this.count('restart');
    this.boot(s);
  }

  /**
   * A server that an up partner holds PARTNER-DOWN against (or whose own stored state is
   * PARTNER-DOWN) comes back only when it can reach its partner: otherwise its STARTUP timer
   * would put it back in service while the partner uses its addresses — the operator's (or the
   * safe period's) "partner is down" would be false, which D12 cannot protect against.
   */
  private mayRestart(s: SimServer): boolean {
    const isLinkCut = this.blocked[0] || this.blocked[1] || this.bigSkewActive;
    if (!isLinkCut) return true;
    return (
      !this.holdsPartnerDown(this.other(s)) &&
      !this.holdsPartnerDown(s) &&
      this.scenario.autoPartnerDownSeconds === null
    );
  }

  /** In PARTNER-DOWN now (up) or on restart (stored). */
  holdsPartnerDown(s: SimServer): boolean {
    if (s.isUp) return s.endpoint.currentState === S.PARTNER_DOWN;
    const text = s.durableMeta.get(metaKeyOf(s.config.name));
    return text !== undefined && (JSON.parse(text) as PersistedRelationship).state === S.PARTNER_DOWN;
  }

  restartDelayMs(): number {
    const mclt = this.scenario.mcltSeconds;
    const r = this.rFaults.float();
    if (r < 0.4) return 1000 + Math.floor(this.rFaults.float() * 20_000);
    if (r < 0.8) return Math.floor(this.rFaults.float() * mclt * 1000);
    return Math.floor((1 + this.rFaults.float() * 3) * mclt * 1000);
  }

  // -----------------------------------------------------------------------------------------------
  // DHCP shell (src/server/dhcp-service.ts)

  dhcpReceive(s: SimServer, p: DhcpPacket, client: SimClient): void {
    if (!s.isUp) return;
    const now = this.nowOf(s);
    const gate = this.gateOf(s);
    gate.lastGrants.clear();
    const r = s.engine.handle(p, now);
    const type = p.options.get(53)?.[0];
    if (r.action === 'ignore') {
      this.log(
        () =>
          `${s.name} ignores ${msgName(type)} from c${client.id}: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`,
      );
      if (r.changes.length > 0) {
        const changes = r.changes;
        this.write(s, changes, [], () => this.feed(s, { type: 'leasesChanged', leases: changes }));
      }
      return;
    }
    const reply = r.reply;
    const replyType = reply.options.get(53)?.[0];
    if (replyType === DhcpMessageType.Ack) {
      const g = gate.lastGrants.get(reply.yiaddr as Ipv4);
      this.checker.onServerAck(s, reply.yiaddr as Ipv4, client, g, r.changes, leaseTimeOf(reply));
    }
    const deliver = () => {
      this.log(
        () =>
          `${s.name} → c${client.id} ${msgName(replyType)} ${formatIpv4(reply.yiaddr)}${leaseTimeOf(reply) !== null ? ` for ${leaseTimeOf(reply)} s` : ''}`,
      );
      this.udp(() => this.clientReceive(client, s, reply));
    };
    if (r.changes.length === 0) {
      deliver();
      return;
    }
    const changes = r.changes;
    this.write(s, changes, [], () => {
      this.feed(s, { type: 'leasesChanged', leases: changes });
      deliver();
    });
  }

  private gateOf(s: SimServer): RecordingGate {
    return (s.engine as unknown as { scopeById: Map<string, { gate: RecordingGate }> }).scopeById.get(
      SCOPE_ID,
    )!.gate;
  }

  private udp(run: () => void): void {
    if (this.rNet.chance(UDP_LOSS)) {
      this.count('udp-lost');
      return;
    }
    this.at(this.nowMs + this.rNet.int(1, 20), run);
  }

  private toServers(c: SimClient, p: DhcpPacket, only: 'a' | 'b' | null): void {
    for (const s of this.servers) {
      if (only !== null && s.name !== only) continue;
      this.udp(() => this.dhcpReceive(s, p, c));
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Clients (RFC 2131 §4.4)

  private clientLater(c: SimClient, delayMs: number, run: () => void): void {
    const g = c.generation;
    this.at(this.nowMs + delayMs, () => {
      if (c.generation === g && c.phase !== 'gone' && !this.stopped) run();
    });
  }

  private newPhase(c: SimClient, phase: ClientPhase): void {
    c.phase = phase;
    c.generation++;
  }

  private discover(c: SimClient): void {
    if (this.isQuiescing) return;
    this.newPhase(c, 'selecting');
    c.xid++;
    c.offers = [];
    this.count('client-discover');
    const p = packet(DhcpMessageType.Discover, {
      macBytes: c.hardwareAddress,
      xid: c.xid,
      secs: c.secs,
      ...(c.remembered !== null ? { requested: c.remembered } : {}),
    });
    this.log(`c${c.id} DISCOVER`);
    this.toServers(c, p, null);
    this.clientLater(c, 1000, () => this.select(c));
  }

  private select(c: SimClient): void {
    if (c.offers.length === 0) {
      c.secs = Math.min(c.secs + 2, 60);
      this.newPhase(c, 'idle');
      this.clientLater(c, this.rClients.int(2_000, 10_000), () => this.discover(c));
      return;
    }
    const o = this.rClients.pick(c.offers);
    this.newPhase(c, 'requesting');
    c.requestSentMs = this.nowMs;
    const p = packet(DhcpMessageType.Request, {
      macBytes: c.hardwareAddress,
      xid: c.xid,
      secs: c.secs,
      requested: o.address,
      serverId: this.server(o.server).config.local.address,
    });
    this.log(() => `c${c.id} REQUEST ${formatIpv4(o.address)} from ${o.server}`);
    this.toServers(c, p, null);
    this.clientLater(c, 3000, () => {
      this.newPhase(c, 'idle');
      this.clientLater(c, this.rClients.int(500, 5000), () => this.discover(c));
    });
  }

  private clientReceive(c: SimClient, from: SimServer, reply: DhcpPacket): void {
    if (this.stopped || c.phase === 'gone' || reply.xid !== c.xid) return;
    const type = reply.options.get(53)?.[0];
    const isDeclined =
      c.declined !== null && c.declined.address === reply.yiaddr && this.nowMs < c.declined.untilMs;
    if (type === DhcpMessageType.Offer) {
      if (c.phase === 'selecting' && !isDeclined)
        c.offers.push({ server: from.name, address: reply.yiaddr as Ipv4 });
      return;
    }
    const waiting =
      c.phase === 'requesting' ||
      c.phase === 'renewing' ||
      c.phase === 'rebinding' ||
      c.phase === 'rebooting';
    if (!waiting) return;
    if (c.phase === 'renewing' && from.name !== c.lease?.server) return;
    if (type === DhcpMessageType.Nak) {
      this.log(`c${c.id} got NAK from ${from.name}`);
      this.count('client-nak');
      this.dropLease(c, 'nak');
      this.newPhase(c, 'idle');
      this.clientLater(c, this.rClients.int(100, 3000), () => this.discover(c));
      return;
    }
    if (type !== DhcpMessageType.Ack || isDeclined) return;
    const seconds = leaseTimeOf(reply);
    if (seconds === null) return;
    const address = reply.yiaddr as Ipv4;
    const t1 = u32Of(reply.options.get(58)) ?? Math.floor(seconds / 2);
    const t2 = u32Of(reply.options.get(59)) ?? Math.floor((seconds * 7) / 8);
    const start = c.requestSentMs;
    if (c.lease !== null && c.lease.address !== address) this.dropLease(c, 'moved');
    const lease: ClientLease = {
      address,
      server: from.name,
      untilMs: start + seconds * 1000,
      t1Ms: start + t1 * 1000,
      t2Ms: start + t2 * 1000,
    };
    this.count('client-ack');
    this.log(
      `c${c.id} ACK ${formatIpv4(address)} from ${from.name}, holds until ${((lease.untilMs - START_MS) / 1000).toFixed(3)}`,
    );
    this.checker.onClientAck(c.id, lease, from, start);
    c.lease = lease;
    c.remembered = address;
    c.secs = 0;
    this.newPhase(c, 'bound');
    this.planBound(c);
  }

  private planBound(c: SimClient): void {
    const l = c.lease!;
    const r = this.rClients.float();
    if (r < 0.03) {
      // ARP says someone else uses it: DECLINE.
      this.clientLater(c, this.rClients.int(10, 500), () => this.decline(c));
      return;
    }
    if (r < 0.12) {
      const at = this.rClients.int(this.nowMs, Math.max(this.nowMs, l.t1Ms - 1));
      this.clientLater(c, at - this.nowMs, () => this.release(c));
      return;
    }
    if (r < 0.17) {
      const at = this.rClients.int(this.nowMs, Math.max(this.nowMs, l.untilMs));
      this.clientLater(c, at - this.nowMs, () => this.vanish(c));
      return;
    }
    if (r < 0.25) {
      const at = this.rClients.int(this.nowMs, Math.max(this.nowMs, l.t1Ms));
      this.clientLater(c, at - this.nowMs, () => this.reboot(c));
      return;
    }
    this.clientLater(c, Math.max(0, l.t1Ms - this.nowMs), () => this.renew(c));
    this.clientLater(c, Math.max(0, l.untilMs - this.nowMs), () => this.expire(c));
  }

  private renew(c: SimClient): void {
    const l = c.lease;
    if (l === null || this.isQuiescing) return;
    if (this.nowMs >= l.t2Ms) {
      this.rebind(c);
      return;
    }
    this.newPhase(c, 'renewing');
    c.xid++;
    c.requestSentMs = this.nowMs;
    const p = packet(DhcpMessageType.Request, { macBytes: c.hardwareAddress, xid: c.xid, ciaddr: l.address });
    this.log(() => `c${c.id} RENEW ${formatIpv4(l.address)} at ${l.server}`);
    this.toServers(c, p, l.server);
    const retry = Math.max(1000, Math.floor((l.t2Ms - this.nowMs) / 2));
    this.clientLater(c, retry, () => this.renew(c));
    this.clientLater(c, Math.max(0, l.untilMs - this.nowMs), () => this.expire(c));
  }

  private rebind(c: SimClient): void {
    const l = c.lease;
    if (l === null || this.isQuiescing) return;
    this.newPhase(c, 'rebinding');
    c.xid++;
    c.requestSentMs = this.nowMs;
    const p = packet(DhcpMessageType.Request, { macBytes: c.hardwareAddress, xid: c.xid, ciaddr: l.address });
    this.log(() => `c${c.id} REBIND ${formatIpv4(l.address)}`);
    this.toServers(c, p, null);
    const retry = Math.max(1000, Math.floor((l.untilMs - this.nowMs) / 2));
    if (this.nowMs + retry < l.untilMs) this.clientLater(c, retry, () => this.rebind(c));
    this.clientLater(c, Math.max(0, l.untilMs - this.nowMs), () => this.expire(c));
  }

  private expire(c: SimClient): void {
    const l = c.lease;
    if (l === null) return;
    this.log(() => `c${c.id} lease of ${formatIpv4(l.address)} ran out`);
    this.dropLease(c, 'expired');
    this.newPhase(c, 'idle');
    this.clientLater(c, this.rClients.int(0, 5000), () => this.discover(c));
  }

  private release(c: SimClient): void {
    const l = c.lease;
    if (l === null) return;
    this.count('client-release');
    const p = packet(DhcpMessageType.Release, {
      macBytes: c.hardwareAddress,
      ciaddr: l.address,
      serverId: this.server(l.server).config.local.address,
    });
    this.log(() => `c${c.id} RELEASE ${formatIpv4(l.address)} to ${l.server}`);
    this.dropLease(c, 'release');
    this.toServers(c, p, l.server);
    this.newPhase(c, 'idle');
    this.clientLater(c, this.rClients.int(1000, 120_000), () => this.discover(c));
  }

  private decline(c: SimClient): void {
    const l = c.lease;
    if (l === null) return;
    this.count('client-decline');
    const p = packet(DhcpMessageType.Decline, {
      macBytes: c.hardwareAddress,
      requested: l.address,
      serverId: this.server(l.server).config.local.address,
    });
    this.log(() => `c${c.id} DECLINE ${formatIpv4(l.address)}`);
    this.dropLease(c, 'decline');
    c.remembered = null;
    c.declined = { address: l.address, untilMs: this.nowMs + 600_000 };
    this.toServers(c, p, null);
    this.newPhase(c, 'idle');
    this.clientLater(c, 10_000, () => this.discover(c));
  }

  /** The client disappears without a word (powered off); it may come back later. */
  private vanish(c: SimClient): void {
    this.count('client-vanish');
    this.log(`c${c.id} vanishes`);
    this.newPhase(c, 'idle');
    this.clientLater(c, this.rClients.int(1000, this.scenario.leaseSeconds * 2000), () => {
      if (c.lease !== null && this.nowMs < c.lease.untilMs) this.reboot(c);
      else {
        if (c.lease !== null) this.expire(c);
        else this.discover(c);
      }
    });
  }

  /** INIT-REBOOT: the client asks to keep its address (broadcast, no server id, ciaddr 0). */
  private reboot(c: SimClient): void {
    const l = c.lease;
    if (l === null || this.isQuiescing) return;
    if (this.nowMs >= l.untilMs) {
      this.expire(c);
      return;
    }
    this.newPhase(c, 'rebooting');
    c.xid++;
    c.requestSentMs = this.nowMs;
    this.count('client-reboot');
    const p = packet(DhcpMessageType.Request, {
      macBytes: c.hardwareAddress,
      xid: c.xid,
      requested: l.address,
    });
    this.log(() => `c${c.id} INIT-REBOOT ${formatIpv4(l.address)}`);
    this.toServers(c, p, null);
    // No answer: keep using the lease (RFC 2131 §3.2) and renew as planned.
    this.clientLater(c, 3000, () => {
      this.newPhase(c, 'bound');
      this.clientLater(c, Math.max(0, l.t1Ms - this.nowMs), () => this.renew(c));
      this.clientLater(c, Math.max(0, l.untilMs - this.nowMs), () => this.expire(c));
    });
  }

  private dropLease(c: SimClient, why: string): void {
    if (c.lease === null) return;
    this.checker.onClientDrop(c.id, c.lease, why);
    c.lease = null;
  }

  // -----------------------------------------------------------------------------------------------
  // TCP model

  private tcpConnect(s: SimServer): void {
    if (s.isConnecting) return;
    s.isConnecting = true;
    const life = s.life;
    const peer = this.other(s);
    this.at(this.nowMs + this.rNet.int(1, 30), () => {
      if (!s.isUp || s.life !== life) return;
      s.isConnecting = false;
      if (!peer.isUp || this.blocked[0] || this.blocked[1]) {
        this.count('connect-failed');
        return;
      }
      const tcp: Tcp = { id: this.nextTcpId++, isBroken: false };
      const mine = this.makeEnd(s, tcp);
      const theirs = this.makeEnd(peer, tcp);
      mine.peer = theirs;
      theirs.peer = mine;
      this.log(`tcp#${tcp.id} ${s.name}→${peer.name} established (conn ${mine.id}/${theirs.id})`);
      this.count('tcp-connections');
      this.feed(peer, { type: 'connected', connectionId: theirs.id, outbound: false });
      this.feed(s, { type: 'connected', connectionId: mine.id, outbound: true });
    });
  }

  private makeEnd(s: SimServer, tcp: Tcp): TcpEnd {
    const end = {
      id: this.nextConnectionId++,
      server: s,
      life: s.life,
      isOpen: true,
      tcp,
      out: [],
      isDeliveryScheduled: false,
      remainingAfterBreak: Number.POSITIVE_INFINITY,
    } as unknown as TcpEnd;
    this.ends.set(end.id, end);
    return end;
  }

  private tcpSend(id: ConnectionId, message: Parameters<typeof encodeFailover>[0]): void {
    const end = this.ends.get(id);
    if (!end?.isOpen) return;
    const bytes = encodeFailover(message);
    this.count(`msg:${FailoverMessageType[message.type] ?? message.type}`);
    if (end.tcp.isBroken) {
      // Writing on a broken connection: RST.
      this.notifyDisconnect(end, this.rNet.int(1, 50), 'connection reset');
      return;
    }
    this.pushSegment(end, { kind: 'data', bytes, readyAtMs: 0 });
  }

  private pushSegment(end: TcpEnd, seg: Segment): void {
    const last = end.out.length > 0 ? end.out[end.out.length - 1]!.readyAtMs : 0;
    seg.readyAtMs = Math.max(last, this.nowMs + this.rNet.int(1, 25));
    end.out.push(seg);
    this.pump(end);
  }

  private directionBlocked(end: TcpEnd): boolean {
    return this.blocked[end.server.index];
  }

  private pump(end: TcpEnd): void {
    if (end.isDeliveryScheduled || end.out.length === 0 || this.directionBlocked(end)) return;
    end.isDeliveryScheduled = true;
    this.at(Math.max(this.nowMs + 1, end.out[0]!.readyAtMs), () => this.deliver(end));
  }

  private deliver(end: TcpEnd): void {
    end.isDeliveryScheduled = false;
    if (end.out.length === 0) return;
    if (this.directionBlocked(end)) return; // resumes on heal (TCP retransmits)
    if (end.tcp.isBroken) {
      if (end.remainingAfterBreak <= 0) {
        end.out.length = 0;
        return;
      }
      end.remainingAfterBreak--;
    }
    const seg = end.out.shift()!;
    const to = end.peer;
    const receiver = to.server;
    if (!receiver.isUp || receiver.life !== to.life || !this.ends.has(to.id)) {
      // The receiving process is gone. A rebooted host answers with RST.
      if (receiver.isUp && end.isOpen && this.ends.has(end.id))
        this.notifyDisconnect(end, this.rNet.int(1, 30), 'connection reset by peer');
      end.out.length = 0;
      return;
    }
    if (!to.isOpen) {
      // Our side closed it already: data is discarded.
      this.pump(end);
      return;
    }
    if (seg.kind === 'fin') {
      to.isOpen = false;
      this.ends.delete(to.id);
      this.log(`tcp#${end.tcp.id} ${receiver.name} sees the close`);
      this.feed(receiver, { type: 'disconnected', connectionId: to.id, reason: 'peer closed' });
      end.out.length = 0;
      return;
    }
    const decoded = decodeFailover(seg.bytes!);
    if (!decoded.ok) throw new Error(`undecodable failover message: ${decoded.error.message}`);
    const m = decoded.message;
    this.log(() => `${end.server.name}→${receiver.name} ${describeMessage(m)}`);
    this.feed(receiver, { type: 'message', connectionId: to.id, message: m, auth: 'ok' });
    this.pump(end);
  }

  private tcpClose(s: SimServer, id: ConnectionId): void {
    const end = this.ends.get(id);
    if (!end?.isOpen) return;
    end.isOpen = false;
    this.ends.delete(id);
    this.pushSegment(end, { kind: 'fin', readyAtMs: 0 });
    const life = s.life;
    this.at(this.nowMs, () => {
      if (s.isUp && s.life === life)
        this.feed(s, { type: 'disconnected', connectionId: id, reason: 'closed' });
    });
  }

  private notifyDisconnect(end: TcpEnd, delayMs: number, reason: string): void {
    const life = end.server.life;
    this.at(this.nowMs + delayMs, () => {
      if (!end.isOpen || !end.server.isUp || end.server.life !== life) return;
      end.isOpen = false;
      this.ends.delete(end.id);
      end.out.length = 0;
      this.log(`${end.server.name} conn ${end.id}: ${reason}`);
      this.feed(end.server, { type: 'disconnected', connectionId: end.id, reason });
    });
  }

  private healLink(): void {
    if (!this.blocked[0] && !this.blocked[1]) return;
    this.blocked[0] = false;
    this.blocked[1] = false;
    this.log('link healed');
    for (const end of this.ends.values()) this.pump(end);
  }

  // -----------------------------------------------------------------------------------------------
  // Faults

  private scheduleNextFault(): void {
    const gap = Math.max(1000, Math.floor(this.rFaults.exp(this.scenario.meanFaultGapSeconds * 1000)));
    this.at(this.nowMs + gap, () => {
      if (!this.isChaos) return;
      this.injectFault();
      this.scheduleNextFault();
    });
  }

  /** Longest link outage allowed: with auto partner-down, shorter than the safe period (D12 §10). */
  private maxOutageMs(): number {
    const pd = this.scenario.autoPartnerDownSeconds;
    const longest = 300_000;
    if (pd === null) return longest;
    return Math.max(0, (pd - 2 * this.scenario.receiveTimerSeconds - 20) * 1000);
  }

  /**
   * May the link be cut now? Not while one server holds PARTNER-DOWN against a partner that is up
   * and still in STARTUP (or about to be) — see mayRestart — and not while a cut is active.
   */
  private mayCutLink(): boolean {
    if (this.blocked[0] || this.blocked[1] || this.bigSkewActive) return false;
    // With automatic partner-down, a cut starts only once the pair talks again after the last
    // one: two cuts in a row (the second before the reconnect) are one outage longer than the
    // premise allows, and both servers take PARTNER-DOWN with both alive (seeds 60373, 69852).
    if (
      this.scenario.autoPartnerDownSeconds !== null &&
      this.servers.some((s) => !s.isUp || !s.endpoint.isCommunicating())
    )
      return false;
    for (const s of this.servers) {
      const o = this.other(s);
      if (!this.holdsPartnerDown(s)) continue;
      if (!o.isUp) return false;
      const st = o.endpoint.currentState;
      if (st !== S.RECOVER && st !== S.RECOVER_WAIT && st !== S.RECOVER_DONE && st !== S.POTENTIAL_CONFLICT)
        return false;
    }
    return true;
  }

  private injectFault(): void {
    const index = this.faultIndex++;
    const r = this.rFaults;
    // Every fault draws the same amount of randomness, whether or not it happens, so that skipping
    // one while shrinking leaves the others alone.
    const kind = r.pick(this.scenario.faultKinds);
    const x = [r.float(), r.float(), r.float(), r.float()] as const;
    const target = x[0] < 0.5 ? this.servers[0] : this.servers[1];
    const skip =
      (this.options.disabledFaults?.has(kind) ?? false) || (this.options.skippedFaults?.has(index) ?? false);
    if (skip) return;
    const done = (text: string) => {
      this.faults[kind] = (this.faults[kind] ?? 0) + 1;
      const line = `#${index} ${kind} ${text}`;
      this.faultLog.push(`${((this.nowMs - START_MS) / 1000).toFixed(3)} ${line}`);
      this.log(`FAULT ${line}`);
    };
    const outage = (lo: number) => Math.floor(lo + x[1] * (Math.min(this.maxOutageMs(), 300_000) - lo));
    switch (kind) {
      case 'partition':
      case 'oneWay':
      case 'stall': {
        if (!this.mayCutLink()) return;
        const ms =
          kind === 'stall'
            ? Math.floor(500 + x[1] * 2 * this.scenario.receiveTimerSeconds * 1000)
            : outage(3000);
        if (ms <= 1000 || ms > this.maxOutageMs()) return;
        if (kind === 'partition') {
          this.blocked[0] = true;
          this.blocked[1] = true;
        } else this.blocked[target.index] = true;
        done(
          `${kind === 'partition' ? 'both ways' : `${target.name}→${this.other(target).name}`} for ${(ms / 1000).toFixed(1)} s`,
        );
        this.at(this.nowMs + ms, () => this.healLink());
        return;
      }
      case 'linkReset': {
        const live = [...this.ends.values()].filter((e) => e.isOpen && !e.tcp.isBroken);
        if (live.length === 0) return;
        const tcp = live[0]!.tcp;
        tcp.isBroken = true;
        for (const e of live) {
          if (e.tcp !== tcp) continue;
          e.remainingAfterBreak = Math.floor(x[1] * (e.out.length + 1));
          // Each side notices at its own time; a half-open side only when it next writes.
          const i = e.server.index;
          if (x[2 + i]! < 0.75) this.notifyDisconnect(e, Math.floor(x[2 + i]! * 4000), 'connection reset');
        }
        done(`tcp#${tcp.id}`);
        return;
      }
      case 'crash':
      case 'hostCrash': {
        if (!target.isUp) return;
        done(`${target.name}`);
        this.crash(target, kind === 'crash' ? 'process' : 'host', this.restartDelayMs());
        return;
      }
      case 'crashMidPersist': {
        if (!target.isUp) return;
        target.crashOnNextWrite = true;
        done(`${target.name}`);
        return;
      }
      case 'clockJump': {
        // Steps within the allowed skew; forward steps are small (a forward step shortens every
        // lease the server gave, for any DHCP server; the checker allows for them).
        // Not while a bigSkew runs: its restore puts back the clock it saved, and a jump of the
        // other server meanwhile could leave the two > 60 s apart for good (seeds 22454, 23886:
        // the pair, rightly refusing, never talked again).
        if (this.bigSkewActive) return;
        const delta = Math.round((x[1] * 25 - 20) * 1000);
        const next = target.skewMs + delta;
        if (Math.abs(next - this.other(target).skewMs) > 60_000) return;
        target.skewMs = next;
        done(`${target.name} ${delta > 0 ? '+' : ''}${(delta / 1000).toFixed(1)} s`);
        return;
      }
      case 'bigSkew': {
        if (!this.mayCutLink()) return;
        const ms = outage(5000);
        if (ms <= 1000) return;
        const other = this.other(target);
        const off = Math.round((61 + x[2] * 240) * 1000) * (x[3] < 0.5 ? -1 : 1);
        const saved = target.skewMs;
        // Backward when it makes the clock go back (forward jumps are bounded, see clockJump).
        target.skewMs = other.skewMs - Math.abs(off);
        this.bigSkewActive = true;
        done(
          `${target.name} clock ${((target.skewMs - other.skewMs) / 1000).toFixed(0)} s off for ${(ms / 1000).toFixed(1)} s`,
        );
        this.at(this.nowMs + ms, () => {
          // Restoring steps the wall clock forward; the timeline does not follow.
          target.skewMs = saved;
          this.bigSkewActive = false;
          this.log(`${target.name} clock restored`);
        });
        return;
      }
      case 'operatorPartnerDown': {
        // Only when the partner really is down (D12 cannot protect against the operator declaring
        // a live partner down).
        const partner = this.other(target);
        if (!target.isUp || partner.isUp) return;
        const before = target.endpoint.currentState;
        const r2 = target.endpoint.declarePartnerDown(this.nowOf(target));
        this.noteState(target, before);
        this.runActions(target, r2.actions);
        done(`${target.name} (${r2.error ?? 'ok'})`);
        return;
      }
      case 'slowDisk': {
        if (!target.isUp) return;
        const ms = Math.floor(5000 + x[1] * 60_000);
        target.slowDiskUntilMs = this.nowMs + ms;
        done(`${target.name} for ${(ms / 1000).toFixed(1)} s`);
        return;
      }
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Phases

  private endChaos(): void {
    this.isChaos = false;
    this.log('--- chaos over: healing ---');
    this.healLink();
    for (const s of this.servers) {
      s.slowDiskUntilMs = 0;
      if (!s.isUp) {
        s.restartAtMs = this.nowMs;
        this.at(this.nowMs, () => this.tryRestart(s));
      }
    }
    this.at(this.nowMs + this.scenario.settleSeconds * 1000, () => this.quiesce());
  }

  private quiesce(): void {
    this.isQuiescing = true;
    this.log('--- clients go quiet; waiting for the pair to settle ---');
    for (const c of this.clients) {
      c.generation++;
      c.phase = 'gone';
    }
    const deadline = this.nowMs + (600 + 4 * this.scenario.mcltSeconds + this.scenario.leaseSeconds) * 1000;
    const check = () => {
      // Settled, the stores must agree, or differ only until a lease or decline hold ends
      // (checker.checkSettled); the pair keeps running (quiet) until then.
      if (this.isSettled() && this.checker.checkSettled()) {
        this.stopped = true;
        return;
      }
      if (this.nowMs > Math.max(deadline, this.checker.latestBoundMs + 60_000)) {
        this.checker.report({
          kind: 'no-convergence',
          message: `the pair did not settle: a=${this.describeServer(this.servers[0])} b=${this.describeServer(this.servers[1])}`,
        });
        this.stopped = true;
        return;
      }
      this.at(this.nowMs + 1000, check);
    };
    this.at(this.nowMs + 1000, check);
  }

  describeServer(s: SimServer): string {
    if (!s.isUp) return 'down';
    const st = s.endpoint.status(this.nowOf(s));
    return `${SERVER_STATE_NAMES[st.localState]}${st.isCommunicating ? '' : ' (not communicating)'} queued=${st.queuedUpdates} unacked=${st.unackedUpdates} writes=${s.pendingWrites}`;
  }

  /** Both NORMAL, talking, nothing queued, in flight or waiting for the disk. */
  isSettled(): boolean {
    for (const s of this.servers) {
      if (!s.isUp || s.endpoint.currentState !== S.NORMAL || !s.endpoint.isCommunicating()) return false;
      const st = s.endpoint.status(this.nowOf(s));
      if (st.queuedUpdates > 0 || st.unackedUpdates > 0 || s.pendingWrites > 0 || s.actionQueue.length > 0)
        return false;
    }
    for (const e of this.ends.values()) if (e.out.length > 0) return false;
    return true;
  }
}

/** Wraps the endpoint's gate to record each grant with the binding it was computed from (checker 2). */
export class RecordingGate implements FailoverGate {
  readonly lastGrants = new Map<Ipv4, GrantRecord>();
  constructor(
    private readonly inner: FailoverGate,
    private readonly world: World,
    private readonly server: SimServer,
  ) {}
  isResponsive(now: number): boolean {
    return this.inner.isResponsive(now);
  }
  shouldAnswer(...a: Parameters<FailoverGate['shouldAnswer']>): boolean {
    return this.inner.shouldAnswer(...a);
  }
  mayAllocate(lease: Lease | undefined, now: number): boolean {
    return this.inner.mayAllocate(lease, now);
  }
  allocationClasses(now: number): ReturnType<FailoverGate['allocationClasses']> {
    return this.inner.allocationClasses(now);
  }
  grant(lease: Lease | undefined, desiredSeconds: number, isInfinite: boolean, now: number): LeaseGrant {
    const g = this.inner.grant(lease, desiredSeconds, isInfinite, now);
    if (lease !== undefined) {
      this.lastGrants.set(lease.address, {
        before: copyLease(lease),
        now,
        state: this.server.endpoint.currentState,
        grant: g,
      });
    }
    void this.world;
    return g;
  }
  stateAfterRelease(): ReturnType<FailoverGate['stateAfterRelease']> {
    return this.inner.stateAfterRelease();
  }
  stateAfterExpiry(): ReturnType<FailoverGate['stateAfterExpiry']> {
    return this.inner.stateAfterExpiry();
  }
  noteOtherServerSelected(serverId: Ipv4, now: number): void {
    this.inner.noteOtherServerSelected(serverId, now);
  }
}

export interface GrantRecord {
  before: Lease;
  now: number;
  state: ServerState;
  grant: LeaseGrant;
}

export function copyLease(l: Lease): Lease {
  return { ...l, dns: { ...l.dns } };
}

function u32Of(b: Uint8Array | undefined): number | null {
  if (b?.length !== 4) return null;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function leaseTimeOf(p: DhcpPacket): number | null {
  return u32Of(p.options.get(51));
}

function msgName(t: number | undefined): string {
  return t === undefined ? 'bootp' : (DhcpMessageType[t] ?? String(t)).toUpperCase();
}

function describeMessage(m: DecodedFailoverMessage): string {
  const name = FailoverMessageType[m.type] ?? String(m.type);
  switch (m.type) {
    case FailoverMessageType.STATE:
      return `STATE ${SERVER_STATE_NAMES[m.serverState as ServerState] ?? m.serverState}${(m.serverFlags ?? 0) & 1 ? ' (startup)' : ''}`;
    case FailoverMessageType.BNDUPD:
      return `BNDUPD x${m.xid} ${m.bindings.map((b) => `${formatIpv4(b.address)}:${b.bindingStatus}${b.hardwareAddress ? `/${b.hardwareAddress.slice(-4)}` : ''}${b.leaseExpiresAt ? `/exp${b.leaseExpiresAt % 100000}` : ''}`).join(' ')}`;
    case FailoverMessageType.BNDACK:
      return `BNDACK x${m.xid} ${m.bindings.map((b) => `${formatIpv4(b.address)}${b.rejectReason ? `!${b.rejectReason}` : ''}`).join(' ')}`;
    case FailoverMessageType.DISCONNECT:
    case FailoverMessageType.CONNECTACK:
      return `${name}${m.rejectReason ? ` reject ${m.rejectReason} ${m.message ?? ''}` : ''}`;
    default:
      return name;
  }
}

export { START_MS };
