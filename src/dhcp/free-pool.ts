// Where a scope finds an address for a new client, in O(1) amortised per allocation.
// Two sources, tried in order:
//  1. a cursor over the scope's ranges for addresses that never had a binding (like dhcpd, which
//     hands out never-used addresses before recycling, so returning clients keep theirs longer).
//     It jumps over bound addresses with the lease table's `nextAbsent`, which skips full /24s
//     whole: after a restart with a million bindings the first DISCOVER does not walk them one by
//     one (issue 15);
//  2. FIFO queues of addresses whose binding became free again, least recently freed first, one
//     queue per owner class (D12 FREE = primary's, BACKUP = secondary's).
// Queue entries are validated when popped (the caller's predicate): an address that was taken in
// the meantime is simply skipped. Queues are bounded: past `maxQueue` they are rebuilt.

import type { Ipv4 } from '../wire/ipv4.js';
import type { EngineRange } from './scope.js';

export type PoolClass = 'free' | 'backup';

class AddressQueue {
  private items: Ipv4[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(address: Ipv4): void {
    this.items.push(address);
  }

  shift(): Ipv4 | undefined {
    if (this.head >= this.items.length) return undefined;
    const a = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return a;
  }

  unshift(address: Ipv4): void {
    if (this.head > 0) this.items[--this.head] = address;
    else this.items.unshift(address);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class FreePool {
  private rangeIndex = 0;
  private next: Ipv4;
  private readonly queues: Record<PoolClass, AddressQueue> = {
    free: new AddressQueue(),
    backup: new AddressQueue(),
  };

  constructor(
    private readonly ranges: readonly EngineRange[],
    /** Bound on queued entries; duplicates can accumulate under churn, so past this we compact. */
    private readonly maxQueue: number,
    /** The first address in [from, to] that holds no binding, or null (LeaseTable.nextAbsent). */
    private readonly nextUnbound: (from: Ipv4, to: Ipv4) => Ipv4 | null = (from) => from,
  ) {
    this.next = ranges[0]?.start ?? 0;
  }

  /** Next never-used address accepted by `isCandidate`, advancing the cursor past rejected ones. */
  takeNeverUsed(isCandidate: (address: Ipv4) => boolean): Ipv4 | null {
    while (this.rangeIndex < this.ranges.length) {
      const range = this.ranges[this.rangeIndex]!;
      while (this.next <= range.end) {
        const a = this.nextUnbound(this.next, range.end);
        if (a === null) {
          this.next = range.end + 1;
          break;
        }
        this.next = a + 1;
        if (isCandidate(a)) return a;
      }
      this.rangeIndex++;
      const following = this.ranges[this.rangeIndex];
      if (following) this.next = following.start;
    }
    return null;
  }

  /** Whether the cursor has not yet passed `address` (it still counts as never used). */
  isAheadOfCursor(address: Ipv4): boolean {
    for (let i = this.rangeIndex; i < this.ranges.length; i++) {
      const r = this.ranges[i]!;
      const from = i === this.rangeIndex ? this.next : r.start;
      if (address >= from && address <= r.end) return true;
    }
    return false;
  }

  release(cls: PoolClass, address: Ipv4): void {
    this.queues[cls].push(address);
  }

  /**
   * Oldest queued address of class `cls` accepted by `isAvailable`. Entries rejected by
   * `isAvailable` are dropped (they are re-queued when they become free again); an entry for which
   * `isBlockedForNow` says "not yet" (e.g. a PARTNER-DOWN wait) is kept and ends the search.
   */
  takeRecycled(
    cls: PoolClass,
    isAvailable: (address: Ipv4) => boolean,
    isBlockedForNow: (address: Ipv4) => boolean = () => false,
  ): Ipv4 | null {
    const q = this.queues[cls];
    for (;;) {
      const a = q.shift();
      if (a === undefined) return null;
      if (!isAvailable(a)) continue;
      if (isBlockedForNow(a)) {
        q.unshift(a);
        return null;
      }
      return a;
    }
  }

  queued(cls: PoolClass): number {
    return this.queues[cls].length;
  }

  needsRebuild(): boolean {
    return this.queues.free.length + this.queues.backup.length > this.maxQueue;
  }

  /** Replaces the queues' contents (used when they grew past `maxQueue`, and at start). */
  rebuild(entries: Iterable<{ cls: PoolClass; address: Ipv4 }>): void {
    this.queues.free.clear();
    this.queues.backup.clear();
    for (const e of entries) this.queues[e.cls].push(e.address);
  }
}
