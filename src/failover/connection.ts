// The failover connection (D12 §7.8, §8; spec §2): one TCP link, the CONNECT/CONNECTACK handshake
// that validates it, and its timers (handshake timeout, the receive timer, CONTACT at a third of
// the partner's receive timer). partner-link.ts owns the connections and composes these rules.
//
// The clock-skew check (spec §13; docs/safety.md invariant 5): the handshake refuses wall clocks
// more than the limit apart (reject reason 4), on both sides — the secondary when CONNECT arrives
// (connectProblem), the primary when CONNECTACK arrives (handshakeSkewProblem). A step that falls
// while CONNECT/CONNECTACK are in flight passes these checks (each compared clocks that agreed when
// its message was written); it is caught after the handshake, on every message (+2 s slack) and
// at every tick against the measured offset (src/failover/partner-clock.ts), so a pair never talks
// longer than a receive timer with clocks apart. Those checks see the partner's wall clock only as
// its wire shows it, as of the connection's opening; so a server whose own wall clock steps by
// more than 1 s reopens the connection (ownWallStepSeconds; sim seeds 212970, 217263). Until then
// nothing is at risk: each side keeps the wall offset its connection opened with, so the times on
// it stay consistent.

import type { ResolvedRelationship } from '../config/resolved.js';
import { type DecodedFailoverMessage, RejectReason, TLS_REQUEST_REQUIRED } from '../wire/failover-message.js';
import { HBA_LENGTH } from './hash-bucket.js';
import type { ConnectionId } from './types.js';

export const CONNECT_TIMEOUT_SECONDS = 15;
export const RECONNECT_SECONDS = 5;
export const RECONNECT_AFTER_REJECT_SECONDS = 60;

export interface Connection {
  id: ConnectionId;
  outbound: boolean;
  /**
   * Wall clock − timeline when the connection opened. Every absolute time sent on it is a
   * timeline time plus this, so the partner reads our wall clock as it was then, and a step of
   * our wall clock afterwards does not move what we tell it (the partner measures one offset per
   * connection and corrects every time by it, D12 §5.10). A step of more than a second closes
   * the connection (onTick: the partner cannot see it on this wire); the next handshake checks
   * the clocks afresh.
   */
  wireOffsetSeconds: number;
  phase: 'waitConnect' | 'waitConnectAck' | 'up';
  openedAt: number;
  nextXid: number;
  connectXid: number;
  lastReceivedAt: number;
  lastSentAt: number;
  /** The partner's receive timer (our CONTACT interval is a third of it). */
  partnerReceiveTimerSeconds: number;
  partnerMaxUnacked: number;
  isIscPeer: boolean;
  /** The partner's STATE has arrived on this connection (communications OK, D12 §8.3). */
  hasPartnerState: boolean;
}

/** A link just opened: the primary sends CONNECT on it, the secondary waits for one. */
export function newConnection(
  id: ConnectionId,
  outbound: boolean,
  role: 'primary' | 'secondary',
  wallOffsetSeconds: number,
  receiveTimerSeconds: number,
  now: number,
): Connection {
  return {
    id,
    outbound,
    wireOffsetSeconds: wallOffsetSeconds,
    phase: role === 'primary' ? 'waitConnectAck' : 'waitConnect',
    openedAt: now,
    nextXid: 1,
    connectXid: 0,
    lastReceivedAt: now,
    lastSentAt: now,
    partnerReceiveTimerSeconds: receiveTimerSeconds,
    partnerMaxUnacked: 1,
    isIscPeer: false,
    hasPartnerState: false,
  };
}

export interface HandshakeProblem {
  reason: RejectReason;
  message: string;
}

/** The wall clocks at the handshake: the partner's message time against ours (`wallSeconds`). */
export function handshakeSkewProblem(
  messageTime: number,
  wallSeconds: number,
  maxClockSkewSeconds: number,
): HandshakeProblem | null {
  const skew = Math.abs(messageTime - wallSeconds);
  if (skew <= maxClockSkewSeconds) return null;
  return {
    reason: RejectReason.TIME_MISMATCH,
    message: `clocks differ by ${skew} s (limit ${maxClockSkewSeconds} s)`,
  };
}

/** Secondary: what is wrong with a CONNECT, if anything (D12 §7.8.2, spec §2.3). */
export function connectProblem(
  m: DecodedFailoverMessage,
  relationshipName: string,
  wallSeconds: number,
  maxClockSkewSeconds: number,
): HandshakeProblem | null {
  if (m.protocolVersion !== 1) {
    return {
      reason: RejectReason.PROTOCOL_VERSION_MISMATCH,
      message: `protocol version ${m.protocolVersion ?? 'missing'}, we speak 1`,
    };
  }
  if (m.tlsRequest === TLS_REQUEST_REQUIRED) {
    return { reason: RejectReason.TLS_NOT_SUPPORTED, message: 'TLS is not supported' };
  }
  if (m.relationshipName !== relationshipName) {
    return {
      reason: RejectReason.INVALID_PARTNER,
      message: `unknown failover relationship name "${m.relationshipName ?? ''}"`,
    };
  }
  const skew = handshakeSkewProblem(m.time, wallSeconds, maxClockSkewSeconds);
  if (skew !== null) return skew;
  if (m.mcltSeconds === undefined || m.mcltSeconds < 1) {
    return { reason: RejectReason.INVALID_MCLT, message: 'MCLT missing or zero' };
  }
  if (m.hashBucketAssignment === undefined || m.hashBucketAssignment.length !== HBA_LENGTH) {
    return { reason: RejectReason.HBA_CONFLICT, message: 'hash bucket assignment missing or not 32 bytes' };
  }
  return null;
}

/** What the partner's CONNECT or CONNECTACK tells about how to talk to it. */
export function adoptPartnerParameters(
  c: Connection,
  m: DecodedFailoverMessage,
  config: Pick<ResolvedRelationship, 'receiveTimerSeconds'>,
): void {
  c.isIscPeer = (m.vendorClass ?? '').startsWith('isc-');
  c.partnerMaxUnacked = Math.max(1, m.maxUnackedUpdates ?? 1);
  c.partnerReceiveTimerSeconds = m.receiveTimerSeconds ?? config.receiveTimerSeconds;
}

/**
 * How far our wall clock has stepped since `c` opened (`wallOffsetSeconds` is wall clock − timeline
 * now), or null within ±1 s: both clocks are read in whole seconds, so their difference moves by
 * one with no step at all. The partner cannot see a larger step (the wire carries the offset the
 * connection opened with), so its skew check is blind by that much: the connection is reopened.
 */
export function ownWallStepSeconds(c: Connection, wallOffsetSeconds: number): number | null {
  const step = wallOffsetSeconds - c.wireOffsetSeconds;
  return Math.abs(step) <= 1 ? null : step;
}

/** A handshake not done within CONNECT_TIMEOUT_SECONDS is given up. */
export function isHandshakeOverdue(c: Connection, now: number): boolean {
  return now - c.openedAt > CONNECT_TIMEOUT_SECONDS;
}

/** Our CONTACT interval: a third of the partner's receive timer, at least 1 s. */
export function isContactDue(c: Connection, now: number): boolean {
  const contactEvery = Math.max(1, Math.floor(c.partnerReceiveTimerSeconds / 3));
  return now - c.lastSentAt >= contactEvery;
}
