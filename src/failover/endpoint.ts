// One failover relationship, as a sans-I/O state machine (D12; shared/spec/failover.md). The shell
// feeds it EndpointInputs with an explicit `now` (seconds on the server's timeline, which the wall
// clock's steps do not move: src/server/clock.ts) and the wall clock, and carries out the
// EndpointActions it returns; the endpoint reads and writes bindings through the DHCP engine
// (itself sans-I/O) and answers the engine's questions through a FailoverGate.
//
// The endpoint composes the parts of the protocol, each in its own module with its safety rule
// and argument beside it:
//   connection.ts          one link and the CONNECT/CONNECTACK handshake: validation, the clock-skew
//                          check, handshake timeout, CONTACT interval;
//   partner-link.ts        the links to the partner: at most one established, the handshake's
//                          answers, the checks of every message, closing, the receive timer,
//                          reconnecting, the skew and our own clock's steps at every tick;
//   partner-clock.ts       the partner's clock on the wire: one offset per connection, the skew
//                          limit per message and per tick, converting times both ways (D12 §5.10);
//   state-machine.ts       the server states and their transitions (D12 §9);
//   state-timers.ts        STARTUP, the safe period, RECOVER-WAIT, the PARTNER-DOWN pool wait, the
//                          heartbeat, and their re-arming after a restart no clock measured;
//   binding-update.ts      one binding in and out: the conflict matrix (rules T1, T2, T3), the wire
//                          form (D12 §7.1);
//   binding-acceptance.ts  the partner's BNDUPD binding by binding: pools, duels, counter-updates,
//                          ABANDONED's hold, our later renewal kept (D12 §7.1.2–§7.1.4, §7.2.1);
//   binding-ack.ts         the partner's BNDACK of ours: acknowledged PETs, ending states to FREE,
//                          rejects not resent (D12 §7.2);
//   update-queue.ts        the outgoing binding updates: the queue, the window of unacked BNDUPDs,
//                          the partner's UPDREQ/UPDREQALL answered a window at a time, the hold of
//                          an EXPIRED an ISC primary would refuse (D12 §7.1, §7.3);
//   lease-time.ts          what a grant may promise (MCLT), when an address may be reused, and what
//                          PARTNER-DOWN takes back;
//   restart-credit.ts      what a restart no clock measured leaves trusted: the PETs a grant counts
//                          on, the stored times conflict resolution may order;
//   relationship-gate.ts   the answers to the DHCP engine (which client, which address, how long);
//   pool-balancing.ts      which free addresses move to the secondary, in batches on the primary's
//                          timer, an operator's rebalance and a POOLREQ (D12 §5.4).
// What still lives here: dispatching the partner's messages once the link has checked them,
// applying state-machine events with their side effects (the own pool held after PARTNER-DOWN
// entered unheard, RECOVER-WAIT's end, the first POOLREQ) and persisting the state, the state
// timers' tick, and sending what the protocol above the link sends: STATE, the queued updates,
// UPDREQ/UPDREQALL/UPDDONE, POOLREQ/POOLRESP.

import type { ResolvedRelationship } from '../config/resolved.js';
import type { FailoverGate } from '../dhcp/failover-gate.js';
import type { PoolClass } from '../dhcp/free-pool.js';
import type { Lease } from '../dhcp/lease.js';
import {
  buildBndAck,
  buildBndUpd,
  buildPoolReq,
  buildPoolResp,
  buildState,
  buildUpdDone,
  buildUpdReq,
  buildUpdReqAll,
} from '../wire/failover-codec.js';
import {
  type DecodedFailoverMessage,
  FailoverMessageType,
  isServerState,
  RejectReason,
  SERVER_FLAG_STARTUP,
  SERVER_STATE_NAMES,
  ServerState,
} from '../wire/failover-message.js';
import { BindingAcceptance } from './binding-acceptance.js';
import { type SettlementParts, settleBindingAck } from './binding-ack.js';
import { bindingFromLease, bindingKey } from './binding-update.js';
import type { Connection } from './connection.js';
import { BUCKET_COUNT, countSetBuckets, hbaFromPercent, serves } from './hash-bucket.js';
import { partnerDownReclaims, partnerDownReuseAt, type UnmeasuredRestart } from './lease-time.js';
import { PartnerClock, wireTime } from './partner-clock.js';
import { PartnerLink } from './partner-link.js';
import { PoolBalancer } from './pool-balancing.js';
import { RelationshipGate } from './relationship-gate.js';
import { RestartCredit } from './restart-credit.js';
import { responsiveness, type StateEvent, transition } from './state-machine.js';
import {
  HEARTBEAT_SECONDS,
  partnerPoolUsableAt,
  recoverWaitEndsAt,
  safePeriodEndsAt,
  wasDownLongerThanMclt,
} from './state-timers.js';
import {
  type ConnectionId,
  type EndpointAction,
  type EndpointEngine,
  type EndpointInput,
  log,
  type RelationshipStatus,
} from './types.js';
import { isExpiryHeldForIscPrimary, MAX_BINDINGS_PER_UPDATE, UpdateQueue } from './update-queue.js';

export interface EndpointOptions {
  relationship: ResolvedRelationship;
  /** The engine in use now (it is replaced on configuration reload). */
  engine: () => EndpointEngine;
  /** This server's name (OwnerHost of leases applied from the partner is the partner's name). */
  serverName: string;
  /** Sent in CONNECT/CONNECTACK, e.g. "twinlease-0.1.0". */
  vendorClass: string;
  /** The persisted record of this relationship (store meta `failover:<name>`), or null. */
  persisted: PersistedRelationship | null;
  /** Whether the lease store was empty at start (lost or new: RECOVER must ask for everything). */
  isStoreEmpty: boolean;
  /** The timeline now (see handle). */
  now: number;
  /** The wall clock now (default: `now`). */
  wallNow?: number;
  /**
   * How the timeline continued over the downtime before this process (src/server/clock.ts): a
   * restart no clock measured re-arms the safety waits that were running (docs/safety.md,
   * "Restarts"). Absent or null: nothing to resume, or the same process (a reload).
   * `lastUnmeasured`: the latest restart no clock measured, this one or one before it (the shell
   * carries it in its checkpoint across measured restarts): the times stored before it stay on
   * the timeline of before it, whatever restarts follow. Absent: computed for this restart if it
   * is unmeasured, else none.
   */
  restart?: { isMeasured: boolean; lastAliveAt: number; lastUnmeasured?: UnmeasuredRestart | null } | null;
  /** STARTUP period, seconds (spec §7.4: 15). */
  startupSeconds?: number;
  /** Seconds between pool balancing runs on the primary. */
  poolBalanceSeconds?: number;
}

/** What survives a restart (D12 §7.2: state and its start time on stable storage). */
export interface PersistedRelationship {
  state: ServerState;
  stateStartedAt: number;
  partnerState: ServerState | null;
  partnerStateStartedAt: number | null;
  mcltSeconds: number;
  /**
   * Last time this server was known to answer clients (a state that does, D12 §9.6.2's "the time
   * the server went down"): written every HEARTBEAT_SECONDS while it does and when it leaves such a
   * state; STARTUP, RECOVER, RECOVER-WAIT and the other silent states do not advance it.
   */
  lastOperationalAt: number;
}

export const metaKeyOf = (name: string): string => `failover:${name}`;

type Counters = Record<string, number>;

export { POOL_BALANCE_BATCH } from './pool-balancing.js';

export class FailoverEndpoint {
  readonly name: string;
  readonly role: 'primary' | 'secondary';
  readonly gate: FailoverGate;
  private config: ResolvedRelationship;
  private readonly scopeIds: Set<string>;

  private state: ServerState = ServerState.STARTUP;
  private stateStartedAt: number;
  /** What STARTUP resumes (D12 §9.3). */
  private readonly previousState: ServerState;
  private readonly hasNoPartnerRecord: boolean;
  private partnerState: ServerState | null;
  private partnerStateStartedAt: number | null;
  private partnerIsStartup = false;
  /** Last time a client chose the partner's OFFER (a SELECTING REQUEST naming it). */
  private partnerSeenServingAt = 0;
  /** A partner STATE has been received since this process started. */
  private hasHeardPartnerSinceBoot = false;
  /**
   * PARTNER-DOWN entered before hearing the partner since boot: until this time our own free
   * addresses are not allocated either (set in apply(), where PARTNER-DOWN is entered).
   */
  private ownPoolHeldUntil = 0;
  /** PARTNER-DOWN: the partner's pool and every reuse wait until then (partnerUpUnsynchronised). */
  private partnerUpHeldUntil = 0;
  private mcltSeconds: number;
  private lastOperationalAt: number;
  private lastHeartbeatAt = 0;
  private readonly startupEndsAt: number;

  /** The links to the partner: the established one, the handshake, closing (partner-link.ts). */
  private readonly link: PartnerLink;
  /** The partner's clock: the wall offset, the measured offset per connection, the skew. */
  private readonly clock: PartnerClock;
  /** This process resumed a timeline over a downtime no clock measured. */
  private readonly isRestartUnmeasured: boolean;
  /**
   * The latest restart no clock measured, by this process or an earlier one (a measured restart
   * since keeps it): waits that began before it are re-armed, and our times stored before it are
   * not ordered against the partner's (decideIncoming's orderedTimesFrom).
   */
  private readonly unmeasuredRestart: UnmeasuredRestart | null;
  /** What the latest unmeasured restart leaves trusted (restart-credit.ts). */
  private readonly credit: RestartCredit;
  /** HBA in force: ours (primary) or received in CONNECT (secondary). */
  private hba: Uint8Array;

  /** The outgoing binding updates, in flight and queued, and the partner's update request. */
  private readonly updates: UpdateQueue;
  /** The partner's BNDUPDs, binding by binding: accepted, rejected, sent back. */
  private readonly acceptance: BindingAcceptance;
  /** What settling the partner's BNDACKs works with (binding-ack.ts). */
  private readonly settlement: SettlementParts;
  /** xid of the UPDREQ/UPDREQALL we sent and wait UPDDONE for, on the active connection. */
  private ourUpdateRequestXid: number | null = null;
  private recoverWaitEndsAt: number | null = null;
  /** The primary's pool balancing (pool-balancing.ts). */
  private readonly poolBalancer: PoolBalancer;
  private hasLoggedStartupWait = false;
  private readonly startupSeconds: number;
  private readonly counters: Counters = {
    messagesReceived: 0,
    messagesSent: 0,
    bindingUpdatesSent: 0,
    bindingUpdatesReceived: 0,
    bindingUpdatesRejectedByPartner: 0,
    bindingUpdatesRejected: 0,
    connectRejected: 0,
    authFailures: 0,
    protocolErrors: 0,
    stateTransitions: 0,
    poolAddressesTransferred: 0,
    clockSkewDisconnects: 0,
  };

  constructor(private readonly options: EndpointOptions) {
    const r = options.relationship;
    this.config = r;
    this.name = r.name;
    this.role = r.role;
    this.scopeIds = new Set(r.scopeIds);
    this.updates = new UpdateQueue(this.scopeIds);
    const p = options.persisted;
    this.previousState = p ? normaliseStored(p.state) : ServerState.RECOVER;
    this.hasNoPartnerRecord = p === null || options.isStoreEmpty;
    this.stateStartedAt = p?.stateStartedAt ?? options.now;
    this.partnerState = p?.partnerState ?? null;
    this.partnerStateStartedAt = p?.partnerStateStartedAt ?? null;
    // The secondary adopts the primary's MCLT (D12 §7.8.2); until the first CONNECT it uses the
    // last one it adopted, else its own configuration.
    this.mcltSeconds = r.role === 'secondary' && p ? p.mcltSeconds : r.mcltSeconds;
    this.lastOperationalAt = p?.lastOperationalAt ?? 0;
    this.startupSeconds = options.startupSeconds ?? 15;
    this.startupEndsAt = options.now + this.startupSeconds;
    this.clock = new PartnerClock((options.wallNow ?? options.now) - options.now);
    this.link = new PartnerLink(
      {
        name: this.name,
        role: this.role,
        relationship: r,
        vendorClass: options.vendorClass,
        clock: this.clock,
        counters: this.counters,
        state: () => this.state,
        mcltSeconds: () => this.mcltSeconds,
        hashBucketAssignment: () => this.hba,
        adoptPrimaryParameters: (m, out) => {
          if (m.mcltSeconds !== this.mcltSeconds) {
            out.push(
              log('info', 'failover-mclt-adopted', { relationship: this.name, mcltSeconds: m.mcltSeconds }),
            );
            this.mcltSeconds = m.mcltSeconds!;
          }
          this.hba = new Uint8Array(m.hashBucketAssignment!);
        },
        linkUp: (c, now, out) => this.sendState(c, now, out),
        linkLost: (wasCommunicating, now, out) => this.linkLost(wasCommunicating, now, out),
        partnerUpUnsynchronised: (now, out) => this.partnerUpUnsynchronised(now, out),
      },
      options.now,
    );
    const restart = options.restart ?? null;
    this.isRestartUnmeasured = restart !== null && !restart.isMeasured;
    this.unmeasuredRestart =
      restart === null
        ? null
        : (restart.lastUnmeasured ??
          (restart.isMeasured
            ? null
            : {
                lastAliveAt: restart.lastAliveAt,
                bootAt: Math.max(restart.lastAliveAt, Math.floor(options.now)),
              }));
    this.credit = new RestartCredit(this.unmeasuredRestart);
    this.acceptance = new BindingAcceptance({
      role: this.role,
      scopeIds: this.scopeIds,
      engine: () => this.options.engine(),
      updates: this.updates,
      clock: this.clock,
      credit: this.credit,
      counters: this.counters,
      putBinding: (engine, lease) => this.putBinding(engine, lease),
    });
    this.settlement = {
      relationshipName: this.name,
      engine: () => this.options.engine(),
      updates: this.updates,
      credit: this.credit,
      counters: this.counters,
      putBinding: (engine, lease) => this.putBinding(engine, lease),
    };
    this.poolBalancer = new PoolBalancer({
      relationship: r,
      scopeIds: this.scopeIds,
      engine: () => this.options.engine(),
      updates: this.updates,
      counters: this.counters,
      putBinding: (engine, lease) => this.putBinding(engine, lease),
      intervalSeconds: options.poolBalanceSeconds ?? 30,
    });
    this.hba = this.ownHba();
    this.gate = new RelationshipGate(this);
  }

  // -----------------------------------------------------------------------------------------------
  // Queries

  get currentState(): ServerState {
    return this.state;
  }

  get currentStateStartedAt(): number {
    return this.stateStartedAt;
  }

  get mclt(): number {
    return this.mcltSeconds;
  }

  /**
   * A client answered an OFFER of the partner: the partner is up and serving, even if the link to
   * it is not. Automatic partner-down waits for a full switch interval without such a sign.
   */
  notePartnerSeenServing(now: number): void {
    this.partnerSeenServingAt = Math.max(this.partnerSeenServingAt, Math.floor(now));
  }

  /**
   * PARTNER-DOWN while the partner is up but has not learnt our state (its CONNECT refused, or
   * ours, e.g. for clock skew): it may be running in COMMUNICATIONS-INTERRUPTED, granting MCLT-long
   * leases from its pool and renewing the bindings it holds, none of which we hear of. Its pool and
   * every reuse wait until MCLT after the last such sign; a refused handshake every few seconds
   * keeps them waiting. PARTNER-DOWN's premise is a partner that is down: a partner that is up and
   * talking to us learns our state in the handshake and stops serving (RECOVER); one we refuse
   * does not (sim seed 418541: the partner came back while our clock was 228 s off, was refused,
   * and leased from its pool an address we gave another client MCLT after our entry).
   */
  partnerUpUnsynchronised(now: number, out: EndpointAction[]): void {
    if (this.state !== ServerState.PARTNER_DOWN) return;
    const until = Math.floor(now) + this.mcltSeconds;
    if (until <= this.partnerUpHeldUntil) return;
    if (now >= this.partnerUpHeldUntil) {
      out.push(
        log('warn', 'failover-partner-pool-held', {
          relationship: this.name,
          until,
          reason: 'the partner is up but the handshake failed: it may be serving without knowing our state',
        }),
      );
    }
    this.partnerUpHeldUntil = until;
  }

  /** Our own free addresses are allocatable (see ownPoolHeldUntil). */
  isOwnPoolUsable(now: number): boolean {
    return this.state !== ServerState.PARTNER_DOWN || now >= this.ownPoolHeldUntil;
  }

  get relationship(): ResolvedRelationship {
    return this.config;
  }

  covers(scopeId: string): boolean {
    return this.scopeIds.has(scopeId);
  }

  isCommunicating(): boolean {
    return this.link.active?.hasPartnerState === true;
  }

  status(_now: number): RelationshipStatus {
    const r = this.config;
    return {
      name: r.name,
      role: r.role,
      mode: r.mode,
      serverRole: r.serverRole,
      localState: this.state,
      localStateStartedAt: this.stateStartedAt,
      partnerState: this.partnerState,
      partnerStateStartedAt: this.partnerStateStartedAt,
      isCommunicating: this.isCommunicating(),
      lastContactAt: this.link.lastContactAt,
      clockSkewSeconds: this.clock.clockSkewSeconds,
      mcltSeconds: this.mcltSeconds,
      clientSharePercent: this.clientSharePercent(),
      unackedUpdates: this.updates.unackedCount,
      queuedUpdates: this.updates.queuedCount,
      partnerDownAt: this.partnerDownAt(),
      partnerPoolUsableAt: this.state === ServerState.PARTNER_DOWN ? this.partnerPoolUsableAt() : null,
      partnerSeenServingAt: this.partnerSeenServingAt > 0 ? this.partnerSeenServingAt : null,
      partnerVendorClass: this.link.partnerVendorClass,
      counters: { ...this.counters },
    };
  }

  persistedRecord(now: number): PersistedRelationship {
    return {
      state: this.state,
      stateStartedAt: this.stateStartedAt,
      partnerState: this.partnerState,
      partnerStateStartedAt: this.partnerStateStartedAt,
      mcltSeconds: this.mcltSeconds,
      lastOperationalAt: Math.max(this.lastOperationalAt, this.isOperational() ? now : 0),
    };
  }

  private wasDownLongerThanMclt(): boolean {
    return wasDownLongerThanMclt({
      lastOperationalAt: this.lastOperationalAt,
      isRestartUnmeasured: this.isRestartUnmeasured,
      startedAt: this.startupEndsAt - this.startupSeconds,
      mcltSeconds: this.mcltSeconds,
    });
  }

  /** PARTNER-DOWN: when the partner's free addresses become usable (state-timers.ts). */
  partnerPoolUsableAt(): number {
    return Math.max(
      partnerPoolUsableAt(this.stateStartedAt, this.mcltSeconds, this.unmeasuredRestart),
      this.partnerUpHeldUntil,
    );
  }

  /** The binding a grant may count on (restart-credit.ts). */
  creditFor(lease: Lease): { lease: Lease; isExpiryTrusted: boolean } {
    return this.credit.creditFor(lease);
  }

  /** PARTNER-DOWN: the earliest time `lease`'s address may go to a new client (see lease-time.ts). */
  reuseAt(lease: Lease | undefined): number {
    return Math.max(
      partnerDownReuseAt(lease, this.stateStartedAt, this.mcltSeconds, this.unmeasuredRestart),
      this.partnerUpHeldUntil,
    );
  }

  // -----------------------------------------------------------------------------------------------
  // Input

  /**
   * `now`: the timeline (every wait and every stored time is on it). `wallNow`: the wall clock,
   * for the absolute times on the wire and the clock-skew limit; it defaults to `now` (a shell
   * whose timeline is the wall clock, as in most tests).
   */
  handle(input: EndpointInput, now: number, wallNow: number = now): EndpointAction[] {
    const out: EndpointAction[] = [];
    this.clock.wallOffsetSeconds = wallNow - now;
    switch (input.type) {
      case 'connected':
        this.link.onConnected(input.connectionId, input.outbound, now, out);
        break;
      case 'disconnected':
        this.link.onDisconnected(input.connectionId, input.reason, now, out);
        break;
      case 'protocolError':
        this.counters.protocolErrors!++;
        out.push(log('warn', 'failover-protocol-error', { relationship: this.name, reason: input.reason }));
        this.link.dropConnection(input.connectionId, now, out);
        break;
      case 'message':
        this.onMessage(input.connectionId, input.message, input.auth, now, out);
        break;
      case 'leasesChanged': {
        const engine = this.options.engine();
        for (const lease of input.leases) {
          if (this.scopeIds.has(lease.scopeId) && !lease.isPartnerUpToDate) {
            // While this change was on its way to the disk, the endpoint replaced the binding (a
            // binding update of the partner accepted, a pool move): that one is current, ours is
            // obsolete. Sending ours would undo it on the partner (sim seed 23347: a stale EXPIRED,
            // written late on a slow disk, overrode the BACKUP the primary had just given; both
            // then allocated the address).
            const current = engine.getLease(lease.address);
            if (current !== undefined && this.supersedes(current, lease)) continue;
            this.updates.enqueueDurable(lease);
          }
        }
        this.pump(now, out);
        break;
      }
      case 'tick':
        this.onTick(now, out);
        break;
      case 'operatorPartnerDown':
        this.apply({ type: 'operatorPartnerDown' }, now, out);
        break;
      case 'operatorResync':
      case 'operatorRebalance':
        this.onOperatorSync(input.type, now, out);
        break;
      case 'shutdown':
        this.onShutdown(input.kind, now, out);
        break;
    }
    return out;
  }

  /**
   * Every binding change the endpoint makes goes through here (see supersedes). The endpoint
   * persists what it puts before anything it sends afterwards, so an older durable version held for
   * sending is obsolete: the new one goes out (sim seed 6829: a received ACTIVE merged with our later
   * renewal was queued, but the renewal's own durable version was sent; its BNDACK did not match
   * the merged binding, which stayed unacknowledged for good).
   */
  private putBinding(engine: EndpointEngine, lease: Lease): void {
    this.updates.forgetDurable(lease.address);
    engine.putLease(lease);
    // The bindings this endpoint put (partner's updates, acknowledgements, pool moves) carry the
    // table's mark until the next put of the address, whoever makes it.
    engine.leaseTable.mark(lease.address);
  }

  /**
   * `current` (the engine's binding now) makes the durable change `changed` obsolete: the
   * endpoint put `current` after the engine made `changed`, having read it (the endpoint changes a
   * binding only from the engine's latest version), and it says something else. An endpoint
   * version that says the same (an acknowledged PET recorded on it) supersedes nothing: the
   * change still has to reach the partner (issue 14 item 4). Sim seed 34: the primary expired a
   * lease, accepted the secondary's EXPIRED (FREE) and moved the address to the secondary as BACKUP
   * before its own EXPIRED was durable; that EXPIRED, sent after the BACKUP, left the primary
   * with BACKUP and the secondary with FREE, an address neither server would give out.
   */
  private supersedes(current: Lease, changed: Lease): boolean {
    return (
      current.version !== changed.version &&
      this.options.engine().leaseTable.isMarked(current.address) &&
      bindingKey(bindingFromLease(current)) !== bindingKey(bindingFromLease(changed))
    );
  }

  /** Operator command; returns why it cannot be done, or null when done. */
  declarePartnerDown(now: number): { actions: EndpointAction[]; error: string | null } {
    if (this.state === ServerState.PARTNER_DOWN) return { actions: [], error: null };
    if (this.isCommunicating()) {
      // DECISION (docs/failover.md): D12 lets an operator declare partner-down from NORMAL, but a
      // partner we are talking to is not down; declaring it so would let both servers hand out
      // the same addresses. Windows allows it only in COMMUNICATION-INTERRUPTED as well.
      return {
        actions: [],
        error: `the partner is reachable (state ${SERVER_STATE_NAMES[this.state]}, link up): it is not down; stop it or cut the link first`,
      };
    }
    const out: EndpointAction[] = [];
    const before = this.state;
    this.apply({ type: 'operatorPartnerDown' }, now, out);
    if (this.state === before) {
      return {
        actions: out,
        error: `cannot declare the partner down in state ${SERVER_STATE_NAMES[before]} (only while the partner is unreachable: communications-interrupted, resolution-interrupted, or startup)`,
      };
    }
    return { actions: out, error: null };
  }

  /** Operator resync (UPDREQALL) or pool rebalance; only in NORMAL with the partner reachable. */
  private onOperatorSync(
    kind: 'operatorResync' | 'operatorRebalance',
    now: number,
    out: EndpointAction[],
  ): void {
    const c = this.link.active;
    if (this.state !== ServerState.NORMAL || c === null || !c.hasPartnerState) return;
    if (kind === 'operatorResync') {
      // One request at a time on a connection: a resync already under way answers this one too.
      if (this.ourUpdateRequestXid !== null) return;
      out.push(log('info', 'failover-operator-resync', { relationship: this.name }));
      this.sendUpdateRequest(true, now, out);
    } else if (this.role === 'primary') {
      const moved = this.poolBalancer.runNow(now, out);
      out.push(
        log('info', 'failover-operator-rebalance', { relationship: this.name, movedToSecondary: moved }),
      );
    } else {
      out.push(log('info', 'failover-operator-rebalance', { relationship: this.name, poolRequested: true }));
      this.link.send(
        c,
        buildPoolReq({ time: wireTime(now + c.wireOffsetSeconds), xid: this.link.xid(c) }),
        now,
        out,
      );
    }
    this.pump(now, out);
  }

  // -----------------------------------------------------------------------------------------------
  // The link (partner-link.ts)

  /**
   * The established connection is gone (partner-link.ts). Responses are only valid on the
   * connection that carried the request (spec §2.5): what was in flight is sent again on the next
   * connection, counter-updates may go again, our update request is asked again.
   */
  private linkLost(wasCommunicating: boolean, now: number, out: EndpointAction[]): void {
    this.updates.connectionLost();
    this.acceptance.connectionLost();
    this.ourUpdateRequestXid = null;
    if (wasCommunicating) this.apply({ type: 'commFailed' }, now, out);
  }

  // -----------------------------------------------------------------------------------------------
  // Messages

  private onMessage(
    id: ConnectionId,
    m: DecodedFailoverMessage,
    auth: 'ok' | 'missing' | 'bad' | 'unexpected',
    now: number,
    out: EndpointAction[],
  ): void {
    const c = this.link.receive(id, m, auth, now, out);
    if (c === null) return;
    switch (m.type) {
      case FailoverMessageType.STATE:
        this.onState(c, m, now, out);
        break;
      case FailoverMessageType.BNDUPD:
        this.onBindingUpdate(c, m, now, out);
        break;
      case FailoverMessageType.BNDACK:
        this.onBindingAck(m, now, out);
        break;
      case FailoverMessageType.UPDREQ:
      case FailoverMessageType.UPDREQALL:
        this.onUpdateRequest(m, now, out);
        break;
      case FailoverMessageType.UPDDONE:
        if (this.ourUpdateRequestXid !== null) {
          // ISC does not check the UPDDONE xid (spec §5.6); we accept any UPDDONE on this link.
          this.ourUpdateRequestXid = null;
          this.apply({ type: 'updDone' }, now, out);
        }
        break;
      case FailoverMessageType.POOLREQ:
        this.onPoolRequest(c, m, now, out);
        break;
      case FailoverMessageType.POOLRESP:
        out.push(
          log('info', 'failover-pool-response', {
            relationship: this.name,
            addressesTransferred: m.addressesTransferred ?? 0,
          }),
        );
        break;
      case FailoverMessageType.CONTACT:
        break;
      case FailoverMessageType.DISCONNECT:
        this.link.onDisconnectMessage(c, m, now, out);
        break;
      case FailoverMessageType.CONNECT:
        // A second CONNECT on an established link.
        this.link.rejectConnect(c, m, RejectReason.DUPLICATE_CONNECTION, now, out);
        break;
      case FailoverMessageType.CONNECTACK:
        break;
    }
  }

  private onState(c: Connection, m: DecodedFailoverMessage, now: number, out: EndpointAction[]): void {
    const s = m.serverState;
    if (s === undefined || !isServerState(s)) {
      this.link.closeConnection(
        c,
        RejectReason.UNKNOWN_ERROR,
        `invalid server-state ${s ?? 'missing'}`,
        now,
        out,
      );
      return;
    }
    const isStartup = ((m.serverFlags ?? 0) & SERVER_FLAG_STARTUP) !== 0;
    const changed = !c.hasPartnerState || s !== this.partnerState || isStartup !== this.partnerIsStartup;
    this.partnerState = s;
    this.partnerIsStartup = isStartup;
    this.partnerStateStartedAt =
      this.clock.toLocalTime(m.startTimeOfState, this.clock.partnerClockOffset()) ?? Math.floor(now);
    const first = !c.hasPartnerState;
    c.hasPartnerState = true;
    this.hasHeardPartnerSinceBoot = true;
    if (first) {
      out.push(
        log('info', 'failover-communicating', {
          relationship: this.name,
          partnerState: SERVER_STATE_NAMES[s],
          startup: isStartup,
        }),
      );
    }
    if (changed) {
      const before = this.state;
      this.apply(
        {
          type: 'partnerState',
          partnerState: s,
          partnerStartup: isStartup,
          partnerStateStartedAt: this.partnerStateStartedAt,
        },
        now,
        out,
      );
      if (this.state === before) this.persistState(now, out, []);
      // A RECOVER that stays RECOVER asks for everything once per connection.
      if (first && this.state === ServerState.RECOVER && this.ourUpdateRequestXid === null) {
        this.sendUpdateRequest(true, now, out);
      }
    }
    this.pump(now, out);
  }

  // -----------------------------------------------------------------------------------------------
  // State machine

  private apply(event: StateEvent, now: number, out: EndpointAction[]): void {
    const t = transition(this.state, event, {
      role: this.role,
      previousState: this.previousState,
      lastOperationalAt: this.lastOperationalAt,
      hasNoPartnerRecord: this.hasNoPartnerRecord,
      partnerState: this.partnerState,
    });
    if (t === null) return;
    const from = this.state;
    const entering = t.next !== from;
    if (entering) {
      this.counters.stateTransitions!++;
      // Leaving a state that answers clients: that is the last time we did (the heartbeat may be
      // up to HEARTBEAT_SECONDS old).
      if (this.isOperational()) this.lastOperationalAt = Math.floor(now);
      const keepStos =
        t.next === ServerState.RECOVER_WAIT ||
        // Resuming the stored state keeps its start time; an operator's partner-down starts now
        // (the partner's pool is usable only MCLT after it).
        (from === ServerState.STARTUP &&
          t.next === this.previousState &&
          event.type !== 'operatorPartnerDown');
      this.state = t.next;
      if (!keepStos) this.stateStartedAt = Math.floor(now);
      if (t.next === ServerState.PARTNER_DOWN && !this.hasHeardPartnerSinceBoot) {
        // Entering PARTNER-DOWN without having heard the partner since we started (an operator's
        // partner-down from STARTUP, or a stored PARTNER-DOWN resumed). While we were down the
        // partner may itself have been in PARTNER-DOWN (we were the one down) and used our free
        // addresses; its grants then were MCLT-bounded and it is down now, so they end within
        // MCLT of now. Until then our own free addresses wait like the partner's; renewals go on.
        // (Found by sim seed 1125: a restarted primary, declared partner-down, gave a client an
        // address the secondary had leased during its own partner-down while the primary was down.)
        this.ownPoolHeldUntil = Math.floor(now) + this.mcltSeconds;
        out.push(
          log('warn', 'failover-own-pool-held', {
            relationship: this.name,
            until: this.ownPoolHeldUntil,
            reason: 'partner-down entered before the partner was heard since start',
          }),
        );
      }
      out.push(
        log(
          t.next === ServerState.PARTNER_DOWN || t.next === ServerState.COMMUNICATIONS_INTERRUPTED
            ? 'warn'
            : 'info',
          'failover-state-changed',
          {
            relationship: this.name,
            from: SERVER_STATE_NAMES[from],
            to: SERVER_STATE_NAMES[t.next],
            rule: t.rule,
            partnerState: this.partnerState === null ? null : SERVER_STATE_NAMES[this.partnerState],
          },
        ),
      );
      this.onEnter(now);
    }
    const after: EndpointAction[] = [];
    if (entering && this.link.active !== null && this.link.active.phase === 'up')
      this.sendState(this.link.active, now, after);
    for (const effect of t.effects) {
      if (this.link.active === null || !this.link.active.hasPartnerState || this.ourUpdateRequestXid !== null)
        continue;
      if (effect === 'sendUpdReqAll') this.sendUpdateRequest(true, now, after);
      else if (effect === 'sendUpdReq' || effect === 'sendUpdReqIfNeeded')
        this.sendUpdateRequest(false, now, after);
    }
    if (entering) this.persistState(now, out, after);
    else out.push(...after);
    // The state reached may allow more (RECOVER-WAIT already elapsed, POOLREQ on NORMAL …).
    if (entering) this.afterEnter(now, out);
  }

  private onEnter(now: number): void {
    if (this.state === ServerState.RECOVER_WAIT) {
      // D12 §9.6.2: MCLT past the time we went down (state-timers.ts).
      this.recoverWaitEndsAt = recoverWaitEndsAt(
        this.lastOperationalAt,
        this.stateStartedAt,
        this.mcltSeconds,
        this.unmeasuredRestart,
      );
    } else {
      this.recoverWaitEndsAt = null;
    }
    if (this.state === ServerState.NORMAL) this.poolBalancer.enteredNormal(now);
  }

  private afterEnter(now: number, out: EndpointAction[]): void {
    if (
      this.state === ServerState.RECOVER_WAIT &&
      this.recoverWaitEndsAt !== null &&
      now >= this.recoverWaitEndsAt
    ) {
      this.apply({ type: 'recoverWaitElapsed' }, now, out);
      return;
    }
    // An ISC secondary never sends POOLREQ (an ISC primary balances on its own when it enters
    // NORMAL), and an ISC primary answers one with a balanced pool by logging "Got POOLREQ,
    // answering negatively! Peer may be out of leases or database inconsistent" (spec §15.2).
    if (
      this.state === ServerState.NORMAL &&
      this.role === 'secondary' &&
      this.isCommunicating() &&
      !this.link.active!.isIscPeer
    ) {
      const c = this.link.active!;
      this.link.send(
        c,
        buildPoolReq({ time: wireTime(now + c.wireOffsetSeconds), xid: this.link.xid(c) }),
        now,
        out,
      );
    }
    this.pump(now, out);
  }

  private persistState(now: number, out: EndpointAction[], afterDurable: EndpointAction[]): void {
    const record = this.persistedRecord(now);
    out.push({
      type: 'persist',
      leases: [],
      meta: [{ key: metaKeyOf(this.name), value: JSON.stringify(record) }],
      afterDurable,
    });
  }

  private sendState(c: Connection, now: number, out: EndpointAction[]): void {
    const isStartup = this.state === ServerState.STARTUP;
    this.link.send(
      c,
      buildState({
        time: wireTime(now + c.wireOffsetSeconds),
        xid: this.link.xid(c),
        serverState: isStartup ? this.previousState : this.state,
        serverFlags: isStartup ? SERVER_FLAG_STARTUP : 0,
        startTimeOfState: this.stateStartedAt + c.wireOffsetSeconds,
      }),
      now,
      out,
    );
  }

  private sendUpdateRequest(all: boolean, now: number, out: EndpointAction[]): void {
    const c = this.link.active;
    if (c === null) return;
    const xid = this.link.xid(c);
    this.ourUpdateRequestXid = xid;
    this.link.send(
      c,
      all
        ? buildUpdReqAll({ time: wireTime(now + c.wireOffsetSeconds), xid })
        : buildUpdReq({ time: wireTime(now + c.wireOffsetSeconds), xid }),
      now,
      out,
    );
  }

  /**
   * This server may answer clients in its state, so it may grant leases the partner has not heard
   * of: what lastOperationalAt measures. RECOVER and RECOVER-WAIT are not: counting them (the
   * heartbeat of the restarted process) made RECOVER-WAIT wait a full MCLT from the restart (issue
   * 14 item 10).
   */
  private isOperational(): boolean {
    return responsiveness(this.state, this.role) !== 'none';
  }

  private partnerDownAt(): number | null {
    if (this.state !== ServerState.COMMUNICATIONS_INTERRUPTED) return null;
    const r = this.config;
    if (!r.autoStateTransition || r.stateSwitchIntervalSeconds === null) return null;
    // From the last sign of the partner, not only the loss of the link (state-timers.ts).
    return safePeriodEndsAt({
      stateStartedAt: this.stateStartedAt,
      partnerSeenServingAt: this.partnerSeenServingAt,
      lastContactAt: this.link.lastContactAt,
      stateSwitchIntervalSeconds: r.stateSwitchIntervalSeconds,
      restart: this.unmeasuredRestart,
    });
  }

  // -----------------------------------------------------------------------------------------------
  // Timers

  private onTick(now: number, out: EndpointAction[]): void {
    this.link.tick(now, out);
    // State timers.
    if (this.state === ServerState.STARTUP && now >= this.startupEndsAt && !this.isCommunicating()) {
      if (this.wasDownLongerThanMclt()) {
        // Down longer than MCLT: the partner may have moved to PARTNER-DOWN meanwhile and be
        // handing out our free addresses. Resuming on our own (COMMUNICATIONS-INTERRUPTED would
        // allocate from them) could give one address to two clients (D12 §9.3; sim seed 162).
        // Wait for the partner; an operator who knows it is dead declares partner-down.
        if (!this.hasLoggedStartupWait) {
          this.hasLoggedStartupWait = true;
          out.push(
            log('warn', 'failover-startup-waiting', {
              relationship: this.name,
              downSeconds: Math.floor(now) - this.lastOperationalAt,
              mcltSeconds: this.mcltSeconds,
              message: 'down longer than MCLT: not serving until the partner is reached or declared down',
            }),
          );
        }
      } else {
        this.apply({ type: 'startupTimerExpired' }, now, out);
      }
    }
    const pdAt = this.partnerDownAt();
    if (pdAt !== null && now >= pdAt) this.apply({ type: 'safePeriodExpired' }, now, out);
    if (
      this.state === ServerState.RECOVER_WAIT &&
      this.recoverWaitEndsAt !== null &&
      now >= this.recoverWaitEndsAt
    ) {
      this.apply({ type: 'recoverWaitElapsed' }, now, out);
    }
    if (this.state === ServerState.PARTNER_DOWN) this.reclaimInPartnerDown(now, out);
    if (
      this.role === 'primary' &&
      this.state === ServerState.NORMAL &&
      this.isCommunicating() &&
      this.poolBalancer.isDue(now)
    ) {
      this.poolBalancer.runNow(now, out);
    }
    if (this.isOperational() && now - this.lastHeartbeatAt >= HEARTBEAT_SECONDS) {
      // Every ACK leaves after its binding is durable, and the store makes writes durable in
      // order: a lease granted before a crash is at most one heartbeat (and a tick) younger than
      // the lastOperationalAt a restart reads.
      this.lastHeartbeatAt = now;
      this.lastOperationalAt = Math.floor(now);
      this.persistState(now, out, []);
    }
    this.pump(now, out);
  }

  private lastReclaimAt = 0;

  /** PARTNER-DOWN: every 5 s, the ended bindings whose reuse wait is over become ours (lease-time.ts). */
  private reclaimInPartnerDown(now: number, out: EndpointAction[]): void {
    if (now - this.lastReclaimAt < 5) return;
    this.lastReclaimAt = now;
    const engine = this.options.engine();
    const changed = partnerDownReclaims(
      engine.leaseTable,
      this.scopeIds,
      this.role === 'primary' ? 'free' : 'backup',
      (lease) => this.reuseAt(lease),
      now,
    );
    for (const lease of changed) {
      this.putBinding(engine, lease);
      this.updates.enqueue(lease.address);
    }
    if (changed.length > 0) out.push({ type: 'persist', leases: changed, meta: [], afterDurable: [] });
  }

  private onShutdown(kind: 'shutdown' | 'paused', now: number, out: EndpointAction[]): void {
    this.link.shutdown(kind, now, out);
    // The stored state stays what it was: a restart resumes it through STARTUP (spec §7.3 "any").
    if (this.isOperational()) this.lastOperationalAt = Math.floor(now);
    this.persistState(now, out, []);
  }

  // -----------------------------------------------------------------------------------------------
  // Binding updates out

  /**
   * Sends queued binding updates while the partner's window has room (update-queue.ts takes them,
   * walking the lease table a window at a time for an update request), then the UPDDONE of a
   * request whose walk has just ended with nothing left to wait for.
   */
  private pump(now: number, out: EndpointAction[]): void {
    const c = this.link.active;
    // A server in RECOVER does not push its (possibly stale) bindings: it first takes everything
    // from its partner (UPDREQALL → UPDDONE); what the partner's data did not supersede goes out
    // afterwards (D12 §9.6). It does answer a partner's own update request (both recovering).
    if (c === null || !c.hasPartnerState || this.state === ServerState.STARTUP) return;
    if (this.state === ServerState.RECOVER && !this.updates.isAnsweringRequest) return;
    const context = {
      engine: this.options.engine(),
      isIscPeer: c.isIscPeer,
      wireOffsetSeconds: c.wireOffsetSeconds,
      // A function made only for an ISC primary's secondary: pump runs at every input, and every
      // other pair holds nothing (the simulator, which runs under tsx, paid for naming a fresh
      // arrow function at each call: issue 16).
      isHeld:
        c.isIscPeer && this.role === 'secondary'
          ? (lease: Lease) =>
              isExpiryHeldForIscPrimary(lease, {
                isWaitedFor: this.updates.isWaitedFor(lease.address),
                // dhcpd keeps the expiry as we sent it (our timeline + the connection's wall offset)
                // and compares it with its own clock (partner's time = our timeline + the measured
                // offset).
                partnerClockLagSeconds: Math.max(0, c.wireOffsetSeconds - this.clock.partnerClockOffset()),
                now,
              })
          : isNeverHeld,
    };
    const perMessage = c.isIscPeer ? 1 : MAX_BINDINGS_PER_UPDATE;
    while (this.updates.unackedMessages < c.partnerMaxUnacked) {
      const batch = this.updates.nextBatch(context, perMessage);
      if (batch === null) break;
      const xid = this.link.xid(c);
      this.updates.sent(xid, batch.sent);
      this.counters.bindingUpdatesSent! += batch.sent.length;
      this.link.send(
        c,
        buildBndUpd({ time: wireTime(now + c.wireOffsetSeconds), xid, bindings: batch.bindings }),
        now,
        out,
      );
      if (batch.isQueueExhausted) break;
    }
    this.maybeFinishPartnerUpdateRequest(now, out);
  }

  private onBindingAck(m: DecodedFailoverMessage, now: number, out: EndpointAction[]): void {
    const batch = this.updates.takeInFlight(m.xid);
    if (!batch) {
      out.push(log('warn', 'failover-unexpected-bndack', { relationship: this.name, xid: m.xid }));
      return;
    }
    const changed = settleBindingAck(this.settlement, batch, m.bindings, now, out);
    if (changed.length > 0) out.push({ type: 'persist', leases: changed, meta: [], afterDurable: [] });
    this.maybeFinishPartnerUpdateRequest(now, out);
    this.pump(now, out);
  }

  /**
   * UPDREQ/UPDREQALL (D12 §7.3, spec §5.6): the bindings are taken from the lease table a window at
   * a time as the updates leave (update-queue.ts); UPDDONE once the walk has reached the end and
   * every update the request took has its BNDACK.
   */
  private onUpdateRequest(m: DecodedFailoverMessage, now: number, out: EndpointAction[]): void {
    const all = m.type === FailoverMessageType.UPDREQALL;
    const pending = this.updates.startRequest(m.xid, all);
    out.push(log('info', 'failover-update-request', { relationship: this.name, all, pending }));
    this.pump(now, out);
  }

  private maybeFinishPartnerUpdateRequest(now: number, out: EndpointAction[]): void {
    const c = this.link.active;
    if (c === null) return;
    const xid = this.updates.takeAnsweredRequest();
    if (xid === null) return;
    this.link.send(c, buildUpdDone({ time: wireTime(now + c.wireOffsetSeconds), xid }), now, out);
  }

  // -----------------------------------------------------------------------------------------------
  // Binding updates in

  /** A BNDUPD: each binding judged (binding-acceptance.ts), one BNDACK once the result is durable. */
  private onBindingUpdate(
    c: Connection,
    m: DecodedFailoverMessage,
    now: number,
    out: EndpointAction[],
  ): void {
    const { acks, changed } = this.acceptance.receive(
      m.bindings,
      {
        isIscPeer: c.isIscPeer,
        isRecovering:
          this.state === ServerState.RECOVER &&
          this.partnerState !== ServerState.RECOVER &&
          this.partnerState !== ServerState.RECOVER_WAIT,
        partnerName: this.config.partner.name ?? ipString(this.config.partner.address),
      },
      now,
    );
    if (acks.length === 0) return;
    const ack = buildBndAck({ time: wireTime(now + c.wireOffsetSeconds), xid: m.xid, acks });
    // BNDACK only once what it acknowledges is on stable storage (D12 §7.1.2).
    const send: EndpointAction = { type: 'send', connectionId: c.id, message: ack };
    this.counters.messagesSent!++;
    c.lastSentAt = now;
    if (changed.length > 0) out.push({ type: 'persist', leases: changed, meta: [], afterDurable: [send] });
    else out.push(send);
    this.maybeFinishPartnerUpdateRequest(now, out);
    this.pump(now, out);
  }

  // -----------------------------------------------------------------------------------------------
  // Pool balancing (D12 §5.4, spec §9)

  private onPoolRequest(c: Connection, m: DecodedFailoverMessage, now: number, out: EndpointAction[]): void {
    if (this.role !== 'primary') {
      out.push(log('warn', 'failover-poolreq-to-secondary', { relationship: this.name }));
      return;
    }
    const moved = this.state === ServerState.NORMAL ? this.poolBalancer.balance(now, out) : 0;
    this.link.send(
      c,
      buildPoolResp({ time: wireTime(now + c.wireOffsetSeconds), xid: m.xid, addressesTransferred: moved }),
      now,
      out,
    );
  }

  // -----------------------------------------------------------------------------------------------
  // Helpers used by the gate

  /** This server's own allocation class. */
  ownClass(): PoolClass {
    return this.role === 'primary' ? 'free' : 'backup';
  }

  ownHba(): Uint8Array {
    const r = this.config;
    let primaryPercent: number;
    if (r.mode === 'hotStandby') {
      const primaryIsActive = (r.role === 'primary') === (r.serverRole !== 'standby');
      primaryPercent = primaryIsActive ? 100 : 0;
    } else {
      primaryPercent = r.role === 'primary' ? r.loadBalancePercent : 100 - r.loadBalancePercent;
    }
    return hbaFromPercent(primaryPercent, r.hbaBitMeaning);
  }

  /** Percent of the hash buckets this server serves under the HBA in force (rounded). */
  private clientSharePercent(): number {
    const set = countSetBuckets(this.hba);
    const served = this.role === this.config.hbaBitMeaning ? set : BUCKET_COUNT - set;
    return Math.round((100 * served) / BUCKET_COUNT);
  }

  servesBucket(bucket: number): boolean {
    return serves(this.hba, bucket, this.role, this.config.hbaBitMeaning);
  }
}

function isNeverHeld(): boolean {
  return false;
}

function normaliseStored(state: ServerState): ServerState {
  return isServerState(state) && state !== ServerState.STARTUP ? state : ServerState.RECOVER;
}

function ipString(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
