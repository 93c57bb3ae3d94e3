// A column of per-slot strings for the lease table (host names, FQDNs) that costs the garbage
// collector nothing for the usual values. A million JavaScript strings, one per binding, are a
// million old-space objects that every full collection marks: a LeaseTable of 1M bindings took
// 73–93 ms per full collection with a host name each, 15–45 ms without; 6–12 ms with this column
// (`node --expose-gc`, five forced full collections; README, issue 15).
// Here a value of at most INLINE_MAX ASCII characters lives in a byte array (one header byte and the
// characters, WIDTH bytes per slot); anything else (longer, or not ASCII) keeps its string in a
// side map, so every value reads back exactly as it was put. The byte array is allocated at the
// first value, so a table without such strings pays nothing.

/** Bytes per slot: one header byte, then the characters. */
const WIDTH = 32;
/** Longest value stored inline. */
export const INLINE_MAX = WIDTH - 2;
/** Header: no value. */
const H_NULL = 0;
/** Header: the value is in the side map. */
const H_OTHER = 255;
// Otherwise the header is the length + 1 (an empty string is 1).

export class StringColumn {
  private bytes: Buffer | null = null;
  private readonly others = new Map<number, string>();

  constructor(private capacity: number) {}

  get(slot: number): string | null {
    const b = this.bytes;
    if (b === null) return null;
    const o = slot * WIDTH;
    const h = b[o]!;
    if (h === H_NULL) return null;
    if (h === H_OTHER) return this.others.get(slot)!;
    return b.toString('latin1', o + 1, o + h);
  }

  set(slot: number, value: string | null): void {
    let b = this.bytes;
    if (b === null) {
      if (value === null) return;
      b = this.bytes = Buffer.alloc(this.capacity * WIDTH);
    }
    const o = slot * WIDTH;
    if (o + WIDTH > b.length) throw new Error(`StringColumn: slot ${slot} beyond capacity ${this.capacity}`);
    if (b[o] === H_OTHER) this.others.delete(slot);
    if (value === null) {
      b[o] = H_NULL;
      return;
    }
    const n = value.length;
    if (n <= INLINE_MAX && writeAscii(b, o + 1, value)) {
      b[o] = n + 1;
    } else {
      b[o] = H_OTHER;
      this.others.set(slot, value);
    }
  }

  /** Slots from the old capacity on hold no value. */
  grow(capacity: number): void {
    if (this.bytes !== null) {
      const next = Buffer.alloc(capacity * WIDTH);
      this.bytes.copy(next, 0, 0, Math.min(this.capacity, capacity) * WIDTH);
      this.bytes = next;
    }
    this.capacity = capacity;
  }
}

/**
 * Writes `value` at `at` if it is all ASCII; false (bytes partly written, header not set) if not.
 * A loop here rather than Buffer#write: a million short host names at start-up, and the call into
 * C++ per value cost more than the characters (measured at 1M: start-up +0.2–0.4 s with it).
 */
function writeAscii(b: Buffer, at: number, value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) return false;
    b[at + i] = c;
  }
  return true;
}
