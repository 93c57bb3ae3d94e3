// A binary min-heap of (time, address) used for lease and hold expiry. Entries are not removed
// when a lease changes; the consumer validates each popped entry against the live record
// ("lazy deletion"), which keeps every update O(log n).

import type { Ipv4 } from '../wire/ipv4.js';

export class ExpiryHeap {
  private times: number[] = [];
  private addresses: Ipv4[] = [];

  get size(): number {
    return this.times.length;
  }

  push(time: number, address: Ipv4): void {
    const t = this.times;
    const a = this.addresses;
    let i = t.length;
    t.push(time);
    a.push(address);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= time) break;
      t[i] = t[p]!;
      a[i] = a[p]!;
      i = p;
    }
    t[i] = time;
    a[i] = address;
  }

  peekTime(): number | null {
    return this.times.length > 0 ? this.times[0]! : null;
  }

  /** Removes and returns the earliest address if its time is ≤ `now`. */
  popDue(now: number): Ipv4 | null {
    if (this.times.length === 0 || this.times[0]! > now) return null;
    const top = this.addresses[0]!;
    const lastTime = this.times.pop()!;
    const lastAddress = this.addresses.pop()!;
    const n = this.times.length;
    if (n > 0) {
      const t = this.times;
      const a = this.addresses;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && t[r]! < t[l]! ? r : l;
        if (t[c]! >= lastTime) break;
        t[i] = t[c]!;
        a[i] = a[c]!;
        i = c;
      }
      t[i] = lastTime;
      a[i] = lastAddress;
    }
    return top;
  }

  clear(): void {
    this.times = [];
    this.addresses = [];
  }
}
