// The failover half of the shell: one FailoverEndpoint (sans-I/O core) and one FailoverLink (TCP)
// per configured relationship, the TCP listeners they share (one per local address and port, any
// number of relationships on each: src/server/failover-listener.ts), a once-a-second tick, and the executor that carries out the
// endpoint's actions in order. A `persist` action holds every action after it (of this and later
// calls) until the store has made it durable: a BNDACK, a STATE or a BNDUPD never leaves before
// what it vouches for is on stable storage (D12 §7.1.2, §9; spec §18).

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ResolvedConfig, ResolvedRelationship } from '../config/resolved.js';
import type { FailoverGate } from '../dhcp/failover-gate.js';
import type { Lease } from '../dhcp/lease.js';
import { FailoverEndpoint, metaKeyOf, type PersistedRelationship } from '../failover/endpoint.js';
import { StateHistory } from '../failover/state-history.js';
import type {
  ConnectionId,
  EndpointAction,
  EndpointEngine,
  EndpointInput,
  RelationshipStatus,
} from '../failover/types.js';
import { type LeaseStore, StoreBusyError } from '../leases/store.js';
import type { FailoverAuthConfig } from '../wire/failover-auth.js';
import { SERVER_STATE_NAMES, ServerState } from '../wire/failover-message.js';
import { formatIpv4 } from '../wire/ipv4.js';
import type { Clock, TimelineResume } from './clock.js';
import { FailoverLink, type FailoverLinkTls } from './failover-link.js';
import { FailoverListeners, type ListenerStats } from './failover-listener.js';

/** Bound on actions waiting behind a persist (a stuck store must not grow memory without end). */
const MAX_QUEUED_ACTIONS = 100_000;
/** Pause before a commit the lease store refused for back-pressure is tried again. */
const STORE_BUSY_RETRY_MS = 50;

interface QueuedPersist {
  kind: 'persist';
  afterDurable: readonly EndpointAction[];
  outcome: 'pending' | 'durable' | 'failed';
}
type QueueItem = QueuedPersist | { kind: 'action'; action: EndpointAction };

class RelationshipRunner {
  readonly endpoint: FailoverEndpoint;
  readonly link: FailoverLink;
  private readonly queue: QueueItem[] = [];
  private isStopped = false;
  /** Inputs are taken only once the link listens (a runner replacing another waits for it). */
  isReady = false;

  constructor(
    readonly relationship: ResolvedRelationship,
    endpoint: FailoverEndpoint,
    private readonly store: LeaseStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** The relationship's state changes (outlives this runner across reconfigurations). */
    private readonly history: StateHistory,
    listeners: FailoverListeners,
  ) {
    this.endpoint = endpoint;
    this.link = new FailoverLink(
      {
        relationshipName: relationship.name,
        role: relationship.role,
        listeners,
        localAddress: formatIpv4(relationship.local.address),
        localPort: relationship.local.port,
        partnerAddress: formatIpv4(relationship.partner.address),
        partnerPort: relationship.partner.port,
        auth: authConfig(relationship),
        log,
        ...(relationship.tls ? { tls: tlsFiles(relationship) } : {}),
      },
      (input) => this.feed(input),
    );
  }

  feed(input: EndpointInput): void {
    if (this.isStopped || (!this.isReady && input.type !== 'shutdown')) return;
    let actions: EndpointAction[];
    try {
      const now = this.clock.nowSeconds();
      actions = this.endpoint.handle(input, now, this.clock.wallSeconds?.() ?? now);
    } catch (err) {
      this.log.error(
        {
          event: 'failover.endpoint-error',
          relationship: this.relationship.name,
          input: input.type,
          err: (err as Error).stack,
        },
        'failover endpoint failed on an input',
      );
      return;
    }
    this.run(actions);
  }

  run(actions: readonly EndpointAction[]): void {
    if (this.queue.length + actions.length > MAX_QUEUED_ACTIONS) {
      // The store stopped answering: keep writing what changed (in order), send nothing more;
      // the partner's receive timer drops the link and every binding is resent on reconnection.
      this.log.error(
        { event: 'failover.queue-overflow', relationship: this.relationship.name, queued: this.queue.length },
        'failover actions overflow while the lease store is slow; dropping pending messages',
      );
      this.queue.length = 0;
      for (const a of actions) if (a.type === 'persist') this.write({ ...a, afterDurable: [] });
      return;
    }
    // Writes go to the store at once, in the order the endpoint made the changes, so that they
    // interleave correctly with the DHCP service's commits of newer versions of the same
    // bindings (holding a write back behind an earlier one let an older version land last).
    // What must wait for durability (everything after a persist) waits in the queue.
    for (const a of actions) {
      if (a.type === 'persist') this.queue.push(this.write(a));
      else this.queue.push({ kind: 'action', action: a });
    }
    this.drain();
  }

  private write(a: Extract<EndpointAction, { type: 'persist' }>): QueuedPersist {
    const entry: QueuedPersist = { kind: 'persist', afterDurable: a.afterDurable, outcome: 'pending' };
    this.attemptWrite(a, entry, 0);
    return entry;
  }

  /**
   * Writes `a`; a commit the store refuses for back-pressure (StoreBusyError: nothing taken) is
   * tried again after a pause, with everything queued behind it held meanwhile — giving up would
   * let the messages that follow (BNDUPDs vouching for these bindings) leave while the bindings
   * are not on disk here.
   */
  private attemptWrite(
    a: Extract<EndpointAction, { type: 'persist' }>,
    entry: QueuedPersist,
    retries: number,
  ): void {
    const writes: Promise<void>[] = [];
    if (a.leases.length > 0) writes.push(this.store.commit(a.leases));
    if (retries === 0) for (const m of a.meta) writes.push(this.store.setMeta(m.key, m.value));
    Promise.all(writes).then(
      () => {
        entry.outcome = 'durable';
        this.drain();
      },
      (err: Error) => {
        if (err instanceof StoreBusyError && !this.isStopped) {
          if (retries === 0)
            this.log.warn(
              {
                event: 'failover.persist-deferred',
                relationship: this.relationship.name,
                leases: a.leases.length,
              },
              'the lease store is busy; failover changes wait for it',
            );
          setTimeout(() => this.attemptWrite(a, entry, retries + 1), STORE_BUSY_RETRY_MS);
          return;
        }
        entry.outcome = 'failed';
        this.log.error(
          { event: 'failover.persist-failed', relationship: this.relationship.name, err: err.message },
          'could not make failover changes durable; not acknowledging them',
        );
        this.drain();
      },
    );
  }

  private drain(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'persist') {
        if (head.outcome === 'pending') return;
        this.queue.shift();
        // What vouches for a write leaves only when it is durable (a failed write sends nothing).
        if (head.outcome === 'durable') {
          this.queue.unshift(...head.afterDurable.map((action) => ({ kind: 'action' as const, action })));
        } else this.abandonSendsAfterFailedWrite(head.afterDurable);
        continue;
      }
      this.queue.shift();
      this.perform(head.action);
    }
  }

  /**
   * A write failed for good (not back-pressure): the messages queued after it were made by an
   * endpoint that counts the write as done — BNDUPDs of bindings not on disk here, BNDACKs of the
   * partner's that were not stored. None may leave: they are dropped and their connections closed,
   * so that the endpoint starts over on the next connection (everything not acknowledged is sent
   * again, and the partner resends what we did not acknowledge).
   */
  private abandonSendsAfterFailedWrite(vouching: readonly EndpointAction[]): void {
    const connections = new Set<ConnectionId>();
    for (const a of vouching) if (a.type === 'send') connections.add(a.connectionId);
    const kept = this.queue.filter((item) => {
      if (item.kind !== 'action' || item.action.type !== 'send') return true;
      connections.add(item.action.connectionId);
      return false;
    });
    this.queue.splice(0, this.queue.length, ...kept);
    for (const connectionId of connections) this.perform({ type: 'close', connectionId });
  }

  private perform(a: EndpointAction): void {
    switch (a.type) {
      case 'send':
      case 'close':
      case 'connect':
        try {
          this.link.perform([a]);
        } catch (err) {
          // An encoding RangeError is a bug in the endpoint: log it, keep the server running.
          this.log.error(
            { event: 'failover.send-error', relationship: this.relationship.name, err: (err as Error).stack },
            'could not send a failover message',
          );
        }
        break;
      case 'log':
        this.log[a.level]({ event: `failover.${a.event.replace(/^failover-/, '')}`, ...a.fields });
        if (a.event === 'failover-state-changed') {
          const f = a.fields as { from: string; to: string; rule: string; partnerState: string | null };
          this.history.record({
            from: f.from,
            to: f.to,
            at: Math.floor(this.clock.nowSeconds()),
            rule: f.rule,
            partnerState: f.partnerState,
          });
        }
        break;
      case 'persist':
        // Only reachable through afterDurable, which never holds a persist; write it in order.
        this.queue.unshift(this.write(a));
        break;
    }
  }

  /** Resolves once nothing waits on the store. */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    // An orderly stop of the process is a short stop (spec §7.3): STATE PAUSED moves the partner to
    // COMMUNICATIONS-INTERRUPTED (it keeps serving, its own pool) and we resume our stored state
    // on restart. SHUTDOWN would move it to PARTNER-DOWN and cost us RECOVER plus an MCLT wait.
    this.feed({ type: 'shutdown', kind: 'paused' });
    await this.settle(2000);
    this.isStopped = true;
    await this.link.stop();
  }
}

function stateName(s: ServerState): string {
  return SERVER_STATE_NAMES[s] ?? String(s);
}

/** The PEM texts of the relationship's TLS files (the loader has checked them). */
function tlsFiles(r: ResolvedRelationship): FailoverLinkTls {
  const t = r.tls!;
  return {
    cert: readFileSync(t.certPath, 'utf8'),
    key: readFileSync(t.keyPath, 'utf8'),
    ca: readFileSync(t.caPath!, 'utf8'),
    partnerName: r.partner.name,
  };
}

function authConfig(r: ResolvedRelationship): FailoverAuthConfig {
  if (r.auth === 'none' || r.sharedSecret === null) return { algorithm: 'none' };
  return { algorithm: r.auth === 'hmacSha256' ? 'hmac-sha256' : 'hmac-md5-d12', secret: r.sharedSecret };
}

function readPersisted(store: LeaseStore, name: string, log: Logger): PersistedRelationship | null {
  const text = store.getMeta(metaKeyOf(name));
  if (text === null) return null;
  try {
    return JSON.parse(text) as PersistedRelationship;
  } catch {
    log.error(
      { event: 'failover.state-unreadable', relationship: name },
      'stored failover state unreadable; starting in RECOVER',
    );
    return null;
  }
}

export interface FailoverServiceOptions {
  config: ResolvedConfig;
  engine: () => EndpointEngine;
  store: LeaseStore;
  clock: Clock;
  log: Logger;
  vendorClass: string;
  isStoreEmpty: boolean;
  /** How the clock's timeline continued over the downtime before this process (src/server/clock.ts). */
  restart?: TimelineResume | null;
}

export class FailoverService {
  private readonly runners = new Map<string, RelationshipRunner>();
  private readonly listeners: FailoverListeners;
  /** State changes per relationship name, across reconfigurations (not across restarts). */
  private readonly histories = new Map<string, StateHistory>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: FailoverServiceOptions) {
    this.listeners = new FailoverListeners(options.log, () => options.clock.nowSeconds());
    for (const r of options.config.failover) {
      this.runners.set(r.name, this.makeRunner(r, readPersisted(options.store, r.name, options.log), true));
    }
  }

  /** `isStored`: `persisted` comes from the store (written before this process, perhaps). */
  private makeRunner(
    r: ResolvedRelationship,
    persisted: PersistedRelationship | null,
    isStored: boolean,
  ): RelationshipRunner {
    const o = this.options;
    const now = o.clock.nowSeconds();
    const endpoint = new FailoverEndpoint({
      relationship: r,
      engine: o.engine,
      serverName: o.config.server.name,
      vendorClass: o.vendorClass,
      persisted,
      isStoreEmpty: o.isStoreEmpty,
      now,
      wallNow: o.clock.wallSeconds?.() ?? now,
      restart: isStored ? (o.restart ?? null) : null,
    });
    let history = this.histories.get(r.name);
    if (history === undefined) {
      history = new StateHistory();
      this.histories.set(r.name, history);
    }
    return new RelationshipRunner(r, endpoint, o.store, o.clock, o.log, history, this.listeners);
  }

  private logStarted(runner: RelationshipRunner): void {
    this.options.log.info(
      {
        event: 'failover.started',
        relationship: runner.relationship.name,
        role: runner.relationship.role,
        mode: runner.relationship.mode,
        state: runner.endpoint.currentState,
        listen: `${formatIpv4(runner.relationship.local.address)}:${runner.relationship.local.port}`,
        partner: `${formatIpv4(runner.relationship.partner.address)}:${runner.relationship.partner.port}`,
      },
      'failover relationship started',
    );
  }

  /**
   * Applies a reloaded configuration: relationships that were removed or changed stop (STATE
   * PAUSED, as on SIGTERM) and changed or added ones start, resuming the state the old endpoint had
   * (or the stored one). Returns the gates for the engine built from the new configuration.
   */
  reconfigure(config: ResolvedConfig): Map<string, FailoverGate> {
    const now = this.options.clock.nowSeconds();
    const wanted = new Map(config.failover.map((r) => [r.name, r] as const));
    for (const [name, runner] of [...this.runners]) {
      const r = wanted.get(name);
      if (r !== undefined && JSON.stringify(r) === JSON.stringify(runner.relationship)) continue;
      this.runners.delete(name);
      const stopped = runner
        .stop()
        .catch((err: Error) =>
          this.options.log.error(
            { event: 'failover.stop-failed', relationship: name, err: err.message },
            'failover stop failed',
          ),
        );
      this.options.log.info(
        { event: r ? 'failover.reconfiguring' : 'failover.removed', relationship: name },
        'failover relationship reconfigured',
      );
      if (r !== undefined)
        this.launch(this.makeRunner(r, runner.endpoint.persistedRecord(now), false), stopped);
      else this.histories.delete(name);
    }
    for (const r of config.failover) {
      if (!this.runners.has(r.name)) {
        this.launch(
          this.makeRunner(r, readPersisted(this.options.store, r.name, this.options.log), true),
          Promise.resolve(),
        );
      }
    }
    return this.gates();
  }

  /** Starts `runner` once `after` resolved (the old listener of a changed relationship is closed). */
  private launch(runner: RelationshipRunner, after: Promise<unknown>): void {
    this.runners.set(runner.relationship.name, runner);
    after
      .then(() => runner.link.start())
      .then(
        () => {
          runner.isReady = true;
          this.logStarted(runner);
          runner.feed({ type: 'tick' });
        },
        (err: Error) =>
          this.options.log.error(
            { event: 'failover.start-failed', relationship: runner.relationship.name, err: err.message },
            'failover relationship could not start; fix the configuration and reload',
          ),
      );
  }

  get isEmpty(): boolean {
    return this.runners.size === 0;
  }

  /** scope id → gate, for the engine (the same gates across configuration reloads). */
  gates(): Map<string, FailoverGate> {
    const m = new Map<string, FailoverGate>();
    for (const runner of this.runners.values()) {
      for (const id of runner.relationship.scopeIds) m.set(id, runner.endpoint.gate);
    }
    return m;
  }

  async start(): Promise<void> {
    const started: RelationshipRunner[] = [];
    try {
      for (const runner of this.runners.values()) {
        await runner.link.start();
        started.push(runner);
        runner.isReady = true;
        this.logStarted(runner);
      }
    } catch (err) {
      for (const r of started) await r.link.stop();
      throw err;
    }
    for (const runner of this.runners.values()) runner.feed({ type: 'tick' });
    const tick = () => {
      for (const runner of this.runners.values()) runner.feed({ type: 'tick' });
      this.timer = setTimeout(tick, 1000);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, 1000);
    this.timer.unref();
  }

  /** Local bindings changed and are durable: queue binding updates. */
  leasesChanged(leases: readonly Lease[]): void {
    for (const runner of this.runners.values()) runner.feed({ type: 'leasesChanged', leases });
  }

  /** The endpoint's status of each relationship, its counters joined by its TCP link's. */
  statuses(): RelationshipStatus[] {
    const now = this.options.clock.nowSeconds();
    return [...this.runners.values()].map((r) => {
      const status = r.endpoint.status(now);
      const link = r.link.stats();
      return {
        ...status,
        stateHistory: [...(this.histories.get(r.relationship.name)?.list() ?? [])],
        counters: {
          ...status.counters,
          connectsAttempted: link.connectsAttempted,
          connectsFailed: link.connectsFailed,
          connectionsAccepted: link.accepted,
          connectNameMismatches: link.connectNameMismatches,
          framingErrors: link.framingErrors,
          decodeErrors: link.decodeErrors,
          bytesReceived: link.bytesIn,
          bytesSent: link.bytesOut,
        },
      };
    });
  }

  /** The TCP listeners and what they did with the connections they got (docs/metrics.md). */
  listenerStats(): ListenerStats[] {
    return this.listeners.stats();
  }

  /**
   * Operator resync (UPDREQALL) or pool rebalance of relationship `name`: only in NORMAL with the
   * partner reachable (elsewhere the protocol runs its own: RECOVER asks for everything, POTENTIAL-
   * CONFLICT for what is missing, and pools are balanced on entering NORMAL).
   */
  operatorSync(
    name: string,
    kind: 'resync' | 'rebalance',
  ): { ok: true } | { ok: false; reason: 'unknown' | 'invalidState'; message: string } {
    const runner = this.runners.get(name);
    if (!runner) return { ok: false, reason: 'unknown', message: `no failover relationship named "${name}"` };
    const status = runner.endpoint.status(this.options.clock.nowSeconds());
    if (!status.isCommunicating) {
      return {
        ok: false,
        reason: 'invalidState',
        message: `the partner cannot be reached (state ${stateName(status.localState)}): nothing to ${kind} with; it is done on its own when the partners talk again`,
      };
    }
    if (status.localState !== ServerState.NORMAL) {
      return {
        ok: false,
        reason: 'invalidState',
        message: `state ${stateName(status.localState)}: the partners are resynchronising on their own (D12); ${kind} is for NORMAL`,
      };
    }
    runner.feed({ type: kind === 'resync' ? 'operatorResync' : 'operatorRebalance' });
    this.options.log.info({ event: `failover.operator-${kind}-requested`, relationship: name });
    return { ok: true };
  }

  declarePartnerDown(
    name: string,
  ): { ok: true } | { ok: false; reason: 'unknown' | 'invalidState'; message: string } {
    const runner = this.runners.get(name);
    if (!runner) return { ok: false, reason: 'unknown', message: `no failover relationship named "${name}"` };
    const result = runner.endpoint.declarePartnerDown(this.options.clock.nowSeconds());
    runner.run(result.actions);
    if (result.error !== null) return { ok: false, reason: 'invalidState', message: result.error };
    this.options.log.warn(
      { event: 'failover.operator-partner-down', relationship: name },
      'partner declared down by the operator',
    );
    return { ok: true };
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }
}
