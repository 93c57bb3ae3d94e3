// Bounded in-memory histories for the dashboard's charts: relationship states (a segment per
// change, sampled every few seconds) and scope statistics (a sample per interval). Both forget
// what is older than the window and hold at most a fixed number of entries, whatever happens.

import type { ScopeSample, StateSegment } from './view.js';

export interface HistoryLimits {
  windowSeconds: number;
  /** Over every relationship. */
  maxSegments: number;
  maxScopes: number;
  maxSamplesPerScope: number;
}

export const DEFAULT_LIMITS: HistoryLimits = {
  windowSeconds: 6 * 3600,
  maxSegments: 2000,
  maxScopes: 256,
  maxSamplesPerScope: 1500,
};

interface Numbered<T> {
  seq: number;
  value: T;
}

export class StateHistory {
  private segments: Numbered<StateSegment>[] = [];
  private readonly current = new Map<string, StateSegment>();
  private seq = 0;

  constructor(private readonly limits: HistoryLimits) {}

  get lastSeq(): number {
    return this.seq;
  }

  /** The segment in force now for `relationship`. */
  latest(relationship: string): StateSegment | undefined {
    return this.current.get(relationship);
  }

  /** Records `segment` if the state, partner state or reachability changed. True when recorded. */
  observe(segment: StateSegment, nowSeconds: number): boolean {
    const last = this.current.get(segment.relationship);
    if (
      last !== undefined &&
      last.localState === segment.localState &&
      last.partnerState === segment.partnerState &&
      last.isPartnerReachable === segment.isPartnerReachable
    ) {
      return false;
    }
    this.current.set(segment.relationship, segment);
    this.segments.push({ seq: ++this.seq, value: segment });
    this.trim(nowSeconds);
    return true;
  }

  /** Relationships no longer running: forget their current segment (their past stays until trimmed). */
  retain(relationships: ReadonlySet<string>): void {
    for (const name of [...this.current.keys()]) if (!relationships.has(name)) this.current.delete(name);
  }

  all(nowSeconds: number): StateSegment[] {
    this.trim(nowSeconds);
    return this.segments.map((s) => s.value);
  }

  after(seq: number): StateSegment[] {
    return this.segments.filter((s) => s.seq > seq).map((s) => s.value);
  }

  private trim(nowSeconds: number): void {
    const start = nowSeconds - this.limits.windowSeconds;
    // A segment that began before the window is kept while it is the one in force at its start.
    const newerBeforeStart = new Set<string>();
    const kept: Numbered<StateSegment>[] = [];
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i]!;
      if (s.value.fromSeconds <= start) {
        if (newerBeforeStart.has(s.value.relationship)) continue;
        newerBeforeStart.add(s.value.relationship);
      }
      kept.push(s);
    }
    kept.reverse();
    this.segments = kept.length > this.limits.maxSegments ? kept.slice(-this.limits.maxSegments) : kept;
  }
}

export class ScopeHistory {
  private readonly samples = new Map<string, Numbered<ScopeSample>[]>();
  private seq = 0;

  constructor(private readonly limits: HistoryLimits) {}

  get lastSeq(): number {
    return this.seq;
  }

  /** One round of samples (every scope at one time). Scopes beyond maxScopes are not tracked. */
  record(round: ReadonlyMap<string, ScopeSample>, nowSeconds: number): void {
    const seq = ++this.seq;
    for (const [scopeId, sample] of round) {
      let list = this.samples.get(scopeId);
      if (list === undefined) {
        if (this.samples.size >= this.limits.maxScopes) continue;
        list = [];
        this.samples.set(scopeId, list);
      }
      list.push({ seq, value: sample });
    }
    const start = nowSeconds - this.limits.windowSeconds;
    for (const [scopeId, list] of this.samples) {
      let drop = 0;
      while (drop < list.length && list[drop]!.value.atSeconds < start) drop++;
      drop = Math.max(drop, list.length - this.limits.maxSamplesPerScope);
      if (drop > 0) list.splice(0, drop);
      if (list.length === 0 || (!round.has(scopeId) && list.at(-1)!.value.atSeconds < start)) {
        this.samples.delete(scopeId);
      }
    }
  }

  all(): Record<string, ScopeSample[]> {
    const out: Record<string, ScopeSample[]> = {};
    for (const [id, list] of this.samples) out[id] = list.map((s) => s.value);
    return out;
  }

  after(seq: number): Record<string, ScopeSample[]> {
    const out: Record<string, ScopeSample[]> = {};
    for (const [id, list] of this.samples) {
      const fresh = list.filter((s) => s.seq > seq).map((s) => s.value);
      if (fresh.length > 0) out[id] = fresh;
    }
    return out;
  }
}
