// The partner's clock, as the failover wire carries it (D12 §5.10 "time skew"; docs/safety.md,
// "The time base"): every absolute time we send is our timeline plus the wall offset the
// connection opened with (Connection.wireOffsetSeconds, toWireBinding), and every absolute time we
// receive is moved onto our timeline by the offset measured on the connection (toLocalBinding).
//
// Why no step of either wall clock can reorder two times (the safety rule this module keeps): both
// wire clocks are fixed for a connection, so the measured offset is one constant per connection up
// to whole-second noise; it is held (heldPartnerOffset) and moves only when the median of the
// connection's samples departs from it by more than a second, and the samples start afresh with
// each accepted handshake. A time received therefore maps to the same instant on our timeline
// whatever the wall clocks do afterwards, and two times of one sender keep their order (sim seed
// 38588). The skew limit (spec §13) is a policy on top: it compares wall clocks, at the handshake,
// on every message and at every tick (the endpoint closes with reject reason 4).

import { INFINITE_EXPIRY } from '../dhcp/lease.js';
import type { FailoverBinding, FailoverBindingInput } from '../wire/failover-message.js';

/** Message times are whole seconds sent a little before they are read: tolerate that much more. */
export const CLOCK_SKEW_SLACK_SECONDS = 2;
/** Samples in the skew median (whole-second times jitter by one either way). */
const SKEW_SAMPLES = 15;

export class PartnerClock {
  /** Partner's wall clock − ours, from the last message (what operators and the skew limit see). */
  clockSkewSeconds: number | null = null;
  /** Wall clock − timeline, as the shell last told us (0 until the wall clock is stepped). */
  wallOffsetSeconds: number;
  /**
   * Recent (partner's wire time − our timeline) samples on the active connection; their median
   * converts the partner's times to our timeline.
   */
  private readonly skewSamples: number[] = [];
  /**
   * The offset the active connection converts with (the median when it was last set; null before
   * any sample). Held while the median stays within a second of it: both wire clocks are fixed
   * per connection, so a median that moves by one is whole-second noise, and converting two times
   * of one sender with offsets a second or two apart could swap their order (sim seed 38588: a
   * RELEASED sorted before the partner's own ACTIVE it ended, and the two stores stayed apart).
   */
  private heldPartnerOffset: number | null = null;

  constructor(wallOffsetSeconds: number) {
    this.wallOffsetSeconds = wallOffsetSeconds;
  }

  /** The wall clock at timeline time `now`, whole seconds. */
  wallSecondsAt(now: number): number {
    return Math.floor(now + this.wallOffsetSeconds);
  }

  /** A message arrived: the partner's wall clock (as of its side of the connection) against ours now. */
  noteMessageTime(messageTime: number, now: number): number {
    this.clockSkewSeconds = messageTime - this.wallSecondsAt(now);
    return this.clockSkewSeconds;
  }

  /** Whether wall clocks `skew` seconds apart exceed the limit (with the slack for message times). */
  static isBeyondLimit(skew: number, maxClockSkewSeconds: number): boolean {
    return Math.abs(skew) > maxClockSkewSeconds + CLOCK_SKEW_SLACK_SECONDS;
  }

  hasSamples(): boolean {
    return this.skewSamples.length > 0;
  }

  addSkewSample(messageTime: number, now: number): void {
    this.skewSamples.push(messageTime - Math.floor(now));
    if (this.skewSamples.length > SKEW_SAMPLES) this.skewSamples.shift();
    const sorted = [...this.skewSamples].sort((x, y) => x - y);
    const median = sorted[sorted.length >> 1]!;
    if (this.heldPartnerOffset === null || Math.abs(median - this.heldPartnerOffset) > 1)
      this.heldPartnerOffset = median;
  }

  /** The connection went: its offset goes with it (the next one is measured afresh). */
  clearSamples(): void {
    this.skewSamples.length = 0;
    this.heldPartnerOffset = null;
  }

  /**
   * A handshake was accepted (its CONNECT or CONNECTACK carried `messageTime`): the offset is
   * measured from this message on. A refused handshake's time is never a sample: left among them
   * it skewed the next connection's median by minutes.
   */
  startConnection(messageTime: number, now: number): void {
    this.clearSamples();
    this.addSkewSample(messageTime, now);
  }

  /**
   * The partner's wall clock as it reads now (its wire time runs with our timeline) against our
   * wall clock: a step of our own wall clock shows here at the next tick, not only at the
   * partner's next message.
   */
  ownClockSkewSeconds(): number {
    return this.rawPartnerOffset() - this.wallOffsetSeconds;
  }

  /**
   * The partner's wire clock minus our timeline, as measured on this connection (held median,
   * see heldPartnerOffset; 0 before any). Received absolute times are shifted by it before they
   * are compared or stored (D12 §5.10): CLTTs from two clocks up to 60 s apart otherwise order a
   * release and a later re-ACK the wrong way round (sim seed 24).
   */
  partnerClockOffset(): number {
    const median = this.rawPartnerOffset();
    // Whole-second times read on either side of a second boundary differ by one: that is
    // measurement noise, not skew (correcting it made two synchronised stores differ by 1 s).
    return Math.abs(median) <= 1 ? 0 : median;
  }

  /** The held offset, not rounded to 0 (0 before any sample). */
  rawPartnerOffset(): number {
    return this.heldPartnerOffset ?? 0;
  }

  /**
   * How early rule T2 may count one of our leases as over: 1 s when the partner's clock reads ahead
   * of ours (median sample ≥ 1), else 0. Its expiry second then starts up to a second before ours,
   * and whole-second times cannot measure the offset more finely (the correction above ignores
   * ±1 s). Never more: a renewal moves an expiry by far more than a second, so accepting an
   * EXPIRED this early cannot end a lease we extended.
   */
  expiryToleranceSeconds(): number {
    return this.rawPartnerOffset() >= 1 ? 1 : 0;
  }

  toLocalTime(t: number | undefined, offset: number): number | undefined {
    if (t === undefined || t === 0 || t >= INFINITE_EXPIRY - 1 || offset === 0) return t;
    return Math.max(1, t - offset);
  }

  toLocalBinding(b: FailoverBinding): FailoverBinding {
    const offset = this.partnerClockOffset();
    if (offset === 0) return b;
    const r: FailoverBinding = { ...b };
    const set = (
      k: 'leaseExpiresAt' | 'potentialExpiresAt' | 'stateStartedAt' | 'clientLastTransactionAt',
    ) => {
      const v = this.toLocalTime(b[k], offset);
      if (v === undefined) delete r[k];
      else r[k] = v;
    };
    set('leaseExpiresAt');
    set('potentialExpiresAt');
    set('stateStartedAt');
    set('clientLastTransactionAt');
    return r;
  }
}

export function wireTime(now: number): number {
  return Math.floor(now) >>> 0;
}

/** A binding's times from our timeline to the wire (the connection's wall offset added). */
export function toWireBinding(b: FailoverBindingInput, offset: number): FailoverBindingInput {
  if (offset === 0) return b;
  const r: FailoverBindingInput = { ...b };
  const shift = (t: number | undefined) =>
    t === undefined || t === 0 || t >= INFINITE_EXPIRY - 1 ? t : Math.max(1, t + offset);
  for (const k of [
    'leaseExpiresAt',
    'potentialExpiresAt',
    'stateStartedAt',
    'clientLastTransactionAt',
  ] as const) {
    const v = shift(b[k]);
    if (v !== undefined) r[k] = v;
  }
  return r;
}
