// The only place that reads the clocks. Cores get `now` from here, in whole seconds, on the
// server's *timeline*: the wall clock as it read when the timeline began, advanced by the
// monotonic clock since. The wall clock may be stepped (NTP at boot, a hypervisor, an operator);
// the timeline is not, so every wait a core measures as a difference of `now` values (MCLT,
// partner-down reuse, STARTUP, the safe period, receive and send timers, offer and decline holds,
// lease ends) lasts what it says whatever happens to the wall clock (docs/safety.md, "The time
// base"). The wall clock is read only for what needs it: the absolute times on the failover wire
// (the endpoint converts per connection) and what operators read.
//
// The timeline continues across restarts: stored bindings hold timeline times, so the timeline
// must not jump between two lives of the process. A checkpoint (store meta `clock`) records the
// timeline, the monotonic and the wall clock together every CHECKPOINT_SECONDS. On the same host
// boot (same /proc boot id) the monotonic clock ran through the downtime and measures it exactly;
// after a power loss nothing ran through it, and the timeline is advanced by what the wall clock
// says (never backwards) and the restart is reported as unmeasured, so that the failover core
// resumes its safety waits conservatively. Every later checkpoint carries that restart on, across
// measured restarts, until the next unmeasured one: the times stored before it stay on the
// timeline of before it for good (their offset from the new one is unknown), and the failover core
// keeps treating them so (docs/safety.md, "Restarts").

import { readFileSync } from 'node:fs';
import type { UnmeasuredRestart } from '../failover/lease-time.js';

export interface Clock {
  /** The timeline, whole seconds since 1970: every core's `now`. */
  nowSeconds(): number;
  /** The wall clock, whole seconds since 1970 (absent: the timeline is the wall clock). */
  wallSeconds?(): number;
  /** The timeline in milliseconds, for sub-second timers (absent: nowSeconds() × 1000). */
  nowMs?(): number;
}

/** A clock whose timeline is the wall clock (tests, tools; the server uses a Timeline). */
export const systemClock: Clock = {
  nowSeconds: () => Math.floor(Date.now() / 1000),
};

/** Seconds to add to a timeline time to show it as wall-clock time (0 for a plain clock). */
export function wallOffsetSeconds(clock: Clock): number {
  return clock.wallSeconds === undefined ? 0 : clock.wallSeconds() - clock.nowSeconds();
}

/** How often the shell stores a checkpoint (and the most a measured restart can learn late). */
export const CHECKPOINT_SECONDS = 10;
export const CHECKPOINT_META_KEY = 'clock';

/** The three clocks read together (ms), as stored in the lease store's meta `clock`. */
export interface ClockCheckpoint {
  /** /proc/sys/kernel/random/boot_id of the host boot (null: unknown, never measured). */
  bootId: string | null;
  /** Monotonic clock (CLOCK_MONOTONIC, since the host booted). */
  monoMs: number;
  /** The timeline. */
  localMs: number;
  /** The wall clock. */
  wallMs: number;
  /** The latest restart no clock measured, in timeline seconds (absent or null: none). */
  lastUnmeasured?: UnmeasuredRestart | null;
}

/** How the timeline was continued over the downtime before this process (null: it began now). */
export interface TimelineResume {
  /** The monotonic clock ran through the downtime (same host boot): the timeline is exact. */
  isMeasured: boolean;
  /** Timeline time (s) of the last checkpoint: the last time the previous process was known alive. */
  lastAliveAt: number;
  /**
   * The latest restart no clock measured: this one if it is unmeasured, else the one the checkpoint
   * carried (null: none since the timeline began).
   */
  lastUnmeasured: UnmeasuredRestart | null;
}

export interface ClockSources {
  monoMs(): number;
  wallMs(): number;
  bootId(): string | null;
}

export const systemSources: ClockSources = {
  // process.hrtime is CLOCK_MONOTONIC: one clock for every process of this host boot, never stepped.
  monoMs: () => Number(process.hrtime.bigint() / 1_000_000n),
  wallMs: () => Date.now(),
  bootId: () => {
    try {
      return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      return null;
    }
  },
};

export class Timeline implements Clock {
  private constructor(
    private readonly sources: ClockSources,
    private readonly bootId: string | null,
    /** Timeline (ms) at monotonic time anchorMonoMs. */
    private readonly anchorLocalMs: number,
    private readonly anchorMonoMs: number,
    private readonly lastUnmeasured: UnmeasuredRestart | null = null,
  ) {}

  /**
   * The timeline of a process whose store holds `checkpoint` (null or unreadable: a new timeline,
   * equal to the wall clock now). Never goes back from the checkpoint.
   */
  static resume(
    checkpoint: ClockCheckpoint | null,
    sources: ClockSources = systemSources,
  ): { clock: Timeline; resume: TimelineResume | null } {
    const bootId = sources.bootId();
    const monoMs = sources.monoMs();
    const wallMs = sources.wallMs();
    if (checkpoint === null || !isCheckpoint(checkpoint)) {
      return { clock: new Timeline(sources, bootId, wallMs, monoMs), resume: null };
    }
    const isMeasured = bootId !== null && checkpoint.bootId === bootId && monoMs >= checkpoint.monoMs;
    const downMs = isMeasured ? monoMs - checkpoint.monoMs : Math.max(0, wallMs - checkpoint.wallMs);
    const lastAliveAt = Math.floor(checkpoint.localMs / 1000);
    const lastUnmeasured = isMeasured
      ? (checkpoint.lastUnmeasured ?? null)
      : { lastAliveAt, bootAt: Math.floor((checkpoint.localMs + downMs) / 1000) };
    return {
      clock: new Timeline(sources, bootId, checkpoint.localMs + downMs, monoMs, lastUnmeasured),
      resume: { isMeasured, lastAliveAt, lastUnmeasured },
    };
  }

  static parseCheckpoint(text: string | null): ClockCheckpoint | null {
    if (text === null) return null;
    try {
      const v = JSON.parse(text) as unknown;
      return isCheckpoint(v) ? v : null;
    } catch {
      return null;
    }
  }

  private localMs(monoMs: number): number {
    return this.anchorLocalMs + (monoMs - this.anchorMonoMs);
  }

  nowSeconds(): number {
    return Math.floor(this.localMs(this.sources.monoMs()) / 1000);
  }

  nowMs(): number {
    return this.localMs(this.sources.monoMs());
  }

  wallSeconds(): number {
    return Math.floor(this.sources.wallMs() / 1000);
  }

  checkpoint(): ClockCheckpoint {
    const monoMs = this.sources.monoMs();
    return {
      bootId: this.bootId,
      monoMs,
      localMs: this.localMs(monoMs),
      wallMs: this.sources.wallMs(),
      lastUnmeasured: this.lastUnmeasured,
    };
  }
}

function isCheckpoint(v: unknown): v is ClockCheckpoint {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    (c.bootId === null || typeof c.bootId === 'string') &&
    Number.isFinite(c.monoMs) &&
    Number.isFinite(c.localMs) &&
    Number.isFinite(c.wallMs) &&
    (c.lastUnmeasured === undefined || c.lastUnmeasured === null || isUnmeasuredRestart(c.lastUnmeasured))
  );
}

function isUnmeasuredRestart(v: unknown): v is UnmeasuredRestart {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return Number.isFinite(r.lastAliveAt) && Number.isFinite(r.bootAt);
}
