// The links to the partner (D12 §8, spec §2): every TCP connection the shell reports, at most one
// established (CONNECT/CONNECTACK done); the primary's CONNECT, the secondary's validation of it
// (connection.ts), the checks every message passes (the clock-skew limit, the digest, duplicate
// options), closing with DISCONNECT or without a word, the receive timer, CONTACT, reconnecting,
// and the skew and our own clock's steps checked at every tick (partner-clock.ts; the argument is
// connection.ts's). The endpoint owns the protocol above the link: it hears when the link comes up
// (linkUp: its STATE goes out) and when the established one is lost (linkLost).

import type { ResolvedRelationship } from '../config/resolved.js';
import {
  buildConnect,
  buildConnectAck,
  buildContact,
  buildDisconnect,
  buildState,
} from '../wire/failover-codec.js';
import {
  type DecodedFailoverMessage,
  type FailoverMessage,
  FailoverMessageType,
  REJECT_REASON_MESSAGES,
  RejectReason,
  rejectReasonMessage,
  ServerState,
  TLS_REPLY_NONE,
} from '../wire/failover-message.js';
import {
  adoptPartnerParameters,
  type Connection,
  connectProblem,
  handshakeSkewProblem,
  isContactDue,
  isHandshakeOverdue,
  newConnection,
  ownWallStepSeconds,
  RECONNECT_AFTER_REJECT_SECONDS,
  RECONNECT_SECONDS,
} from './connection.js';
import { PartnerClock, wireTime } from './partner-clock.js';
import { type ConnectionId, type EndpointAction, log } from './types.js';

/** What the link needs of the endpoint. */
export interface LinkHost {
  name: string;
  role: 'primary' | 'secondary';
  relationship: ResolvedRelationship;
  /** Sent in CONNECT/CONNECTACK. */
  vendorClass: string;
  /** The partner's clock (shared with the endpoint, which converts the times of bindings). */
  clock: PartnerClock;
  /** The endpoint's counters (messages, rejects, skew disconnects). */
  counters: Record<string, number>;
  /** The server state now (no reconnect in SHUTDOWN). */
  state(): ServerState;
  /** The MCLT and HBA the primary's CONNECT carries. */
  mcltSeconds(): number;
  hashBucketAssignment(): Uint8Array;
  /** Secondary: a valid CONNECT; take the primary's MCLT and HBA (D12 §7.8.2). */
  adoptPrimaryParameters(m: DecodedFailoverMessage, out: EndpointAction[]): void;
  /** The handshake succeeded on `c`. */
  linkUp(c: Connection, now: number, out: EndpointAction[]): void;
  /** The established connection is gone (`wasCommunicating`: the partner's STATE had come). */
  linkLost(wasCommunicating: boolean, now: number, out: EndpointAction[]): void;
  /**
   * The partner is up (its CONNECT or CONNECTACK came) but the handshake failed, so it has not
   * learnt our state: it may be serving in COMMUNICATIONS-INTERRUPTED (sim seed 418541).
   */
  partnerUpUnsynchronised(now: number, out: EndpointAction[]): void;
}

export class PartnerLink {
  private readonly name: string;
  private readonly role: 'primary' | 'secondary';
  private readonly config: ResolvedRelationship;
  private readonly vendorClass: string;
  private readonly clock: PartnerClock;
  private readonly counters: Record<string, number>;
  private readonly connections = new Map<ConnectionId, Connection>();
  /** The one established connection (CONNECT/CONNECTACK done). */
  active: Connection | null = null;
  private nextConnectAt: number;
  /** Last time any message came from the partner (0: never). */
  lastContactAt = 0;
  /** The partner's vendor class, from its CONNECT or CONNECTACK. */
  partnerVendorClass: string | null = null;

  constructor(
    private readonly h: LinkHost,
    now: number,
  ) {
    this.name = h.name;
    this.role = h.role;
    this.config = h.relationship;
    this.vendorClass = h.vendorClass;
    this.clock = h.clock;
    this.counters = h.counters;
    this.nextConnectAt = now;
  }

  onConnected(id: ConnectionId, outbound: boolean, now: number, out: EndpointAction[]): void {
    const c = newConnection(
      id,
      outbound,
      this.role,
      this.clock.wallOffsetSeconds,
      this.config.receiveTimerSeconds,
      now,
    );
    this.connections.set(id, c);
    if (this.role === 'primary') {
      // DECISION (spec §2.1, docs/failover.md): the primary sends CONNECT on the first
      // established link, ours or theirs, and closes extra links. Both servers connect, so a
      // healthy start has one: expected, logged at info. It is closed without a DISCONNECT: no
      // failover conversation ever ran on it (D12 §8.2 only says to close it), and dhcpd logs
      // every DISCONNECT with a reject reason as an error, while it drops a link that is not its
      // link to us without a word.
      if (this.active !== null || this.hasPendingConnect(id)) {
        out.push(log('info', 'failover-extra-connection-closed', { relationship: this.name, outbound }));
        this.dropConnection(id, now, out);
        return;
      }
      c.connectXid = this.xid(c);
      this.send(
        c,
        buildConnect({
          time: wireTime(now + c.wireOffsetSeconds),
          xid: c.connectXid,
          relationshipName: this.name,
          maxUnackedUpdates: this.config.maxUnackedUpdates,
          receiveTimerSeconds: this.config.receiveTimerSeconds,
          vendorClass: this.vendorClass,
          mcltSeconds: this.h.mcltSeconds(),
          hashBucketAssignment: this.h.hashBucketAssignment(),
          // Inside TLS (the link is TLS from its first byte, docs/failover.md "TLS") the
          // TLS-request option is left out, as D12 §7.8.1 says for a connection already in TLS.
          ...(this.config.tls ? { tlsRequest: null } : {}),
        }),
        now,
        out,
      );
    }
  }
  private hasPendingConnect(except: ConnectionId): boolean {
    for (const c of this.connections.values()) {
      if (c.id !== except && c.phase === 'waitConnectAck' && c.connectXid !== 0) return true;
    }
    return false;
  }
  onDisconnected(id: ConnectionId, reason: string, now: number, out: EndpointAction[]): void {
    const c = this.connections.get(id);
    if (!c) return;
    this.connections.delete(id);
    if (this.active === c) this.lostActive(reason, now, out);
  }
  private lostActive(reason: string, now: number, out: EndpointAction[]): void {
    const wasCommunicating = this.active?.hasPartnerState ?? false;
    this.active = null;
    // Responses are only valid on the connection that carried the request (spec §2.5): what was in
    // flight is sent again on the next connection (the endpoint's linkLost).
    this.clock.clearSamples();
    this.nextConnectAt = Math.min(this.nextConnectAt, now + RECONNECT_SECONDS);
    out.push(log('warn', 'failover-connection-lost', { relationship: this.name, reason }));
    this.h.linkLost(wasCommunicating, now, out);
  }

  private closeForSkew(c: Connection, skew: number, now: number, out: EndpointAction[]): void {
    this.counters.clockSkewDisconnects!++;
    this.closeConnection(
      c,
      RejectReason.TIME_MISMATCH,
      `clocks differ by ${Math.abs(skew)} s (limit ${this.config.maxClockSkewSeconds} s)`,
      now,
      out,
    );
    this.nextConnectAt = now + RECONNECT_AFTER_REJECT_SECONDS;
  }
  /**
   * The handshake succeeded on `c` (its CONNECT or CONNECTACK is `m`): it becomes the connection,
   * and the partner's clock offset is measured from this message on (the wire offset is one per
   * connection, see Connection.wireOffsetSeconds).
   */
  private acceptConnection(c: Connection, m: DecodedFailoverMessage, now: number): void {
    c.phase = 'up';
    this.active = c;
    this.clock.startConnection(m.time, now);
  }
  dropConnection(id: ConnectionId, now: number, out: EndpointAction[]): void {
    const c = this.connections.get(id);
    if (!c) return;
    this.connections.delete(id);
    out.push({ type: 'close', connectionId: id });
    if (this.active === c) this.lostActive('closed by us', now, out);
  }
  closeConnection(
    c: Connection,
    reason: RejectReason,
    message: string,
    now: number,
    out: EndpointAction[],
  ): void {
    this.send(
      c,
      buildDisconnect({
        time: wireTime(now + c.wireOffsetSeconds),
        xid: this.xid(c),
        rejectReason: reason,
        message,
      }),
      now,
      out,
    );
    this.dropConnection(c.id, now, out);
  }
  onDisconnectMessage(c: Connection, m: DecodedFailoverMessage, now: number, out: EndpointAction[]): void {
    // A primary closing the extra link of the two both sides opened (before any CONNECT on it,
    // while another is there) with a DISCONNECT, as Twinlease did before it closed them without
    // one (a pair half upgraded): expected, not a warning. A DISCONNECT on a link in use, or for
    // another reason, still is.
    const isExtraLinkClosed =
      m.rejectReason === RejectReason.DUPLICATE_CONNECTION &&
      c.phase === 'waitConnect' &&
      this.connections.size > 1;
    if (isExtraLinkClosed) {
      out.push(
        log('info', 'failover-extra-connection-closed', { relationship: this.name, outbound: c.outbound }),
      );
      this.dropConnection(c.id, now, out);
      return;
    }
    out.push(
      log('warn', 'failover-partner-disconnected', {
        relationship: this.name,
        rejectReason: m.rejectReason ?? null,
        reason: m.rejectReason !== undefined ? rejectReasonMessage(m.rejectReason) : null,
        message: m.message ?? null,
      }),
    );
    this.dropConnection(c.id, now, out);
  }
  /** Secondary: validate a CONNECT (D12 §7.8.2, spec §2.3). */
  private onConnect(c: Connection, m: DecodedFailoverMessage, now: number, out: EndpointAction[]): void {
    if (this.role === 'primary') {
      this.rejectConnect(
        c,
        m,
        RejectReason.INVALID_PARTNER,
        now,
        out,
        'both servers are configured as primary',
      );
      return;
    }
    if (this.active !== null) {
      // A CONNECT on a second link while another is in use. dhcpd as primary sends CONNECT on
      // every link it has, and its 5-s reconnect can open one of its own while our link's
      // handshake is under way (CI run 351bb97); it keeps the link whose CONNECTACK it gets
      // first. DECISION (docs/failover.md): close the second link without an answer. A CONNECTACK
      // rejecting it (reason 7, what dhcpd itself does) is logged by dhcpd as an error, a close
      // is not. A partner that restarted behind a half-open link gets the same silence and tries
      // again; the dead link goes when its receive timer runs out (that is the warning).
      out.push(
        log('info', 'failover-extra-connection-closed', {
          relationship: this.name,
          outbound: c.outbound,
          reason: 'CONNECT on a second link while one is in use',
          linkInUseLastHeardSecondsAgo: Math.max(0, Math.round(now - this.active.lastReceivedAt)),
        }),
      );
      this.dropConnection(c.id, now, out);
      return;
    }
    const reason = connectProblem(
      m,
      this.name,
      this.clock.wallSecondsAt(now),
      this.config.maxClockSkewSeconds,
    );
    if (reason !== null) {
      this.rejectConnect(c, m, reason.reason, now, out, reason.message);
      return;
    }
    this.h.adoptPrimaryParameters(m, out);
    this.partnerVendorClass = m.vendorClass ?? null;
    adoptPartnerParameters(c, m, this.config);
    this.acceptConnection(c, m, now);
    this.send(
      c,
      buildConnectAck({
        time: wireTime(now + c.wireOffsetSeconds),
        xid: m.xid,
        relationshipName: this.name,
        maxUnackedUpdates: this.config.maxUnackedUpdates,
        receiveTimerSeconds: this.config.receiveTimerSeconds,
        vendorClass: this.vendorClass,
        ...(m.tlsRequest !== undefined ? { tlsReply: TLS_REPLY_NONE } : {}),
      }),
      now,
      out,
    );
    out.push(
      log('info', 'failover-connected', {
        relationship: this.name,
        partnerVendorClass: this.partnerVendorClass,
      }),
    );
    this.h.linkUp(c, now, out);
  }
  rejectConnect(
    c: Connection,
    m: DecodedFailoverMessage,
    reason: RejectReason,
    now: number,
    out: EndpointAction[],
    message = REJECT_REASON_MESSAGES[reason],
  ): void {
    this.counters.connectRejected!++;
    out.push(
      log('warn', 'failover-connect-rejected', { relationship: this.name, rejectReason: reason, message }),
    );
    this.h.partnerUpUnsynchronised(now, out);
    this.send(
      c,
      buildConnectAck({
        time: wireTime(now + c.wireOffsetSeconds),
        xid: m.xid,
        // ISC echoes the received name when it has no such relationship (spec §5.1).
        relationshipName: m.relationshipName ?? this.name,
        rejectReason: reason,
        message,
        ...(m.tlsRequest !== undefined ? { tlsReply: TLS_REPLY_NONE } : {}),
      }),
      now,
      out,
    );
    this.connections.delete(c.id);
    out.push({ type: 'close', connectionId: c.id });
    if (this.active === c) this.lostActive('connect rejected', now, out);
  }
  /** Primary: the secondary's answer to our CONNECT. */
  private onConnectAck(c: Connection, m: DecodedFailoverMessage, now: number, out: EndpointAction[]): void {
    if (this.role !== 'primary' || m.xid !== c.connectXid) {
      this.closeConnection(c, RejectReason.UNKNOWN_ERROR, 'unexpected CONNECTACK', now, out);
      return;
    }
    if (m.rejectReason !== undefined) {
      this.counters.connectRejected!++;
      out.push(
        log('error', 'failover-connect-refused-by-partner', {
          relationship: this.name,
          rejectReason: m.rejectReason,
          reason: rejectReasonMessage(m.rejectReason),
          message: m.message ?? null,
        }),
      );
      this.nextConnectAt = now + RECONNECT_AFTER_REJECT_SECONDS;
      this.dropConnection(c.id, now, out);
      this.h.partnerUpUnsynchronised(now, out);
      return;
    }
    const skewProblem = handshakeSkewProblem(
      m.time,
      this.clock.wallSecondsAt(now),
      this.config.maxClockSkewSeconds,
    );
    if (skewProblem !== null) {
      this.closeConnection(c, skewProblem.reason, skewProblem.message, now, out);
      this.h.partnerUpUnsynchronised(now, out);
      this.nextConnectAt = now + RECONNECT_AFTER_REJECT_SECONDS;
      return;
    }
    if (m.relationshipName !== this.name) {
      this.closeConnection(c, RejectReason.INVALID_PARTNER, 'relationship name differs', now, out);
      return;
    }
    this.partnerVendorClass = m.vendorClass ?? null;
    adoptPartnerParameters(c, m, this.config);
    this.acceptConnection(c, m, now);
    // Any other link (e.g. the secondary's wake-up connection) is now surplus.
    for (const other of [...this.connections.values()]) {
      if (other !== c) this.dropConnection(other.id, now, out);
    }
    out.push(
      log('info', 'failover-connected', {
        relationship: this.name,
        partnerVendorClass: this.partnerVendorClass,
      }),
    );
    this.h.linkUp(c, now, out);
  }
  xid(c: Connection): number {
    const x = c.nextXid;
    c.nextXid = c.nextXid >= 0xffffffff ? 1 : c.nextXid + 1;
    return x;
  }
  send(c: Connection, message: FailoverMessage, now: number, out: EndpointAction[]): void {
    this.counters.messagesSent!++;
    c.lastSentAt = now;
    out.push({ type: 'send', connectionId: c.id, message });
  }
  /**
   * A message on connection `id`: the checks of every message (the skew limit, the digest,
   * duplicate options) and the handshake's. Returns the established connection it came on when
   * it is for the endpoint; null when handled here (or the connection is unknown).
   */
  receive(
    id: ConnectionId,
    m: DecodedFailoverMessage,
    auth: 'ok' | 'missing' | 'bad' | 'unexpected',
    now: number,
    out: EndpointAction[],
  ): Connection | null {
    const c = this.connections.get(id);
    if (!c) return null;
    this.counters.messagesReceived!++;
    c.lastReceivedAt = now;
    this.lastContactAt = now;
    // The partner's wall clock (as of its side of this connection) against ours now.
    const skew = this.clock.noteMessageTime(m.time, now);
    // Samples of the established connection only: CONNECT/CONNECTACK start them (acceptConnection).
    // A refused handshake's time left among them skewed the next connection's median by minutes.
    if (c.phase === 'up') this.clock.addSkewSample(m.time, now);
    if (c.phase === 'up' && PartnerClock.isBeyondLimit(skew, this.config.maxClockSkewSeconds)) {
      // The wall clocks drifted apart (or one was stepped) after the handshake. Times on this
      // connection stay consistent (each side keeps the wall offset it had when the connection
      // opened), but the pair no longer meets the limit the handshake checks (spec §13); the next
      // handshake decides. Windows checks every message the same way.
      this.closeForSkew(c, skew, now, out);
      return null;
    }
    if (auth !== 'ok') {
      this.counters.authFailures!++;
      const reason =
        auth === 'missing'
          ? RejectReason.MISSING_DIGEST
          : auth === 'bad'
            ? RejectReason.DIGEST_MISMATCH
            : RejectReason.DIGEST_NOT_CONFIGURED;
      out.push(
        log('warn', 'failover-auth-failed', { relationship: this.name, result: auth, messageType: m.type }),
      );
      if (m.type === FailoverMessageType.CONNECT) this.rejectConnect(c, m, reason, now, out);
      else this.closeConnection(c, reason, REJECT_REASON_MESSAGES[reason], now, out);
      return null;
    }
    if (
      m.duplicateOptions.length > 0 &&
      m.type !== FailoverMessageType.BNDUPD &&
      m.type !== FailoverMessageType.BNDACK
    ) {
      this.counters.protocolErrors!++;
      this.closeConnection(
        c,
        RejectReason.UNKNOWN_ERROR,
        `duplicate options ${m.duplicateOptions.join(',')}`,
        now,
        out,
      );
      return null;
    }
    if (c.phase !== 'up') {
      if (m.type === FailoverMessageType.CONNECT) this.onConnect(c, m, now, out);
      else if (m.type === FailoverMessageType.CONNECTACK) this.onConnectAck(c, m, now, out);
      else if (m.type === FailoverMessageType.DISCONNECT) this.onDisconnectMessage(c, m, now, out);
      else this.closeConnection(c, RejectReason.UNKNOWN_ERROR, 'message before CONNECT/CONNECTACK', now, out);
      return null;
    }
    return c;
  }

  /** Each tick: handshake timeout, receive timer, the skew and our own clock's steps, CONTACT, reconnect. */
  tick(now: number, out: EndpointAction[]): void {
    // Connections: handshake timeout, receive timer, CONTACT.
    for (const c of [...this.connections.values()]) {
      if (c.phase !== 'up') {
        if (isHandshakeOverdue(c, now)) {
          out.push(log('warn', 'failover-handshake-timeout', { relationship: this.name }));
          this.dropConnection(c.id, now, out);
        }
        continue;
      }
      if (now - c.lastReceivedAt > this.config.receiveTimerSeconds) {
        this.closeConnection(
          c,
          RejectReason.NO_TRAFFIC,
          `nothing received for ${this.config.receiveTimerSeconds} s`,
          now,
          out,
        );
        continue;
      }
      // Our own wall clock stepped since the partner's last message: its clock as it reads now
      // (its wire time runs with our timeline) against our wall clock. Found at once rather than
      // at the partner's next message, which a stalled link may hold up to a receive timer (the
      // simulator's seeds 4007, 42100, 61906, 87570: a step while CONNECT/CONNECTACK were in
      // flight).
      if (c === this.active && this.clock.hasSamples()) {
        const skew = this.clock.ownClockSkewSeconds();
        if (PartnerClock.isBeyondLimit(skew, this.config.maxClockSkewSeconds)) {
          this.closeForSkew(c, skew, now, out);
          continue;
        }
      }
      // Our own wall clock stepped since this connection opened: the wire still shows the partner
      // our wall clock as it was then, so the partner's check cannot see this step, as ours cannot
      // see a step of the partner's. Two steps, each within the limit, can put the clocks over it
      // with neither side noticing (sim seeds 212970, 217263: +3.5 s and −65.5 s). Reopen: the
      // next handshake carries our wall clock as it is now and compares (docs/safety.md).
      const ownStepSeconds = ownWallStepSeconds(c, this.clock.wallOffsetSeconds);
      if (c === this.active && ownStepSeconds !== null) {
        out.push(
          log('warn', 'failover-own-clock-stepped', { relationship: this.name, stepSeconds: ownStepSeconds }),
        );
        this.closeConnection(
          c,
          RejectReason.TIME_MISMATCH,
          `our wall clock stepped ${ownStepSeconds} s since the connection opened; reconnecting`,
          now,
          out,
        );
        continue;
      }
      if (isContactDue(c, now))
        this.send(c, buildContact({ time: wireTime(now + c.wireOffsetSeconds), xid: this.xid(c) }), now, out);
    }
    if (this.connections.size === 0 && now >= this.nextConnectAt && this.h.state() !== ServerState.SHUTDOWN) {
      this.nextConnectAt = now + RECONNECT_SECONDS;
      out.push({ type: 'connect' });
    }
  }

  /** Orderly stop: STATE (SHUTDOWN or PAUSED) and DISCONNECT on the established link, every link closed. */
  shutdown(kind: 'shutdown' | 'paused', now: number, out: EndpointAction[]): void {
    const c = this.active;
    if (c !== null && c.phase === 'up') {
      this.send(
        c,
        buildState({
          time: wireTime(now + c.wireOffsetSeconds),
          xid: this.xid(c),
          serverState: kind === 'shutdown' ? ServerState.SHUTDOWN : ServerState.PAUSED,
          serverFlags: 0,
          startTimeOfState: Math.floor(now) + c.wireOffsetSeconds,
        }),
        now,
        out,
      );
      this.send(
        c,
        buildDisconnect({
          time: wireTime(now + c.wireOffsetSeconds),
          xid: this.xid(c),
          rejectReason: RejectReason.UNKNOWN_ERROR,
          message: `server ${kind}`,
        }),
        now,
        out,
      );
    }
    for (const id of [...this.connections.keys()]) {
      out.push({ type: 'close', connectionId: id });
      this.connections.delete(id);
    }
    this.active = null;
  }
}
