// The latest declaration of every address of a dhcpd.leases, kept compactly: a million leases
// must fit in well under the import's memory bound (issue 15: < 500 MB peak for 1M leases), and
// a JS object per lease with its strings costs ~350 bytes. Here a lease is one slot: fixed-width
// fields in typed arrays (address, six times, the place of the declaration, states, flags) and its
// four strings as UTF-8 in one byte arena, about 100 bytes in all. Addresses find their slot
// through an open-addressing hash over the address column.
//
// A later declaration of an address overwrites its slot (dhcpd.leases is a log; the last one
// wins, as dhcpd reads it); its strings are rewritten in place when they fit, which they do when
// the same client renews, else appended, and the arena is compacted when most of it is garbage.

import { Buffer } from 'node:buffer';
import { formatIpv4, parseIpv4 } from '../wire/ipv4.js';
import type { SourcePos } from './source.js';

/** dhcpd binding states, in the order their codes use (code = index + 1; 0 = not given). */
export const DHCPD_BINDING_STATES = [
  'free',
  'active',
  'expired',
  'released',
  'abandoned',
  'reset',
  'backup',
  'reserved',
  'bootp',
] as const;
export type DhcpdBindingState = (typeof DHCPD_BINDING_STATES)[number];

/** One `lease ADDRESS { … }` declaration, as read. Times are seconds since 1970. */
export interface DhcpdLease {
  readonly address: string;
  readonly pos: SourcePos;
  starts?: number;
  ends?: number;
  tstp?: number;
  tsfp?: number;
  atsfp?: number;
  cltt?: number;
  bindingState?: DhcpdBindingState;
  nextBindingState?: DhcpdBindingState;
  rewindBindingState?: DhcpdBindingState;
  hardwareType?: number;
  /** Lower-case hex, no separators. */
  hardwareAddress?: string;
  /** Client identifier, lower-case hex. */
  uid?: string;
  clientHostname?: string;
  /** `set ddns-fwd-name = "…";` */
  ddnsForwardName?: string;
  isReserved: boolean;
  isBootp: boolean;
}

/** The six times, in the order of `times` and of the flag bits 0–5. */
const TIME_FIELDS = ['starts', 'ends', 'tstp', 'tsfp', 'atsfp', 'cltt'] as const;
/** A time's index in TIME_FIELDS, for timeAt(). */
export const TIME_FIELD = { starts: 0, ends: 1, tstp: 2, tsfp: 3, atsfp: 4, cltt: 5 } as const;
// A slot's blob: hardwareAddress, uid, clientHostname, ddnsForwardName, each as a varint
// (0 = absent, else UTF-8 length + 1) and its bytes.

// flags: bit i (0–5) = TIME_FIELDS[i] given; then:
const IS_RESERVED = 1 << 6;
const IS_BOOTP = 1 << 7;

const STATE_CODE = new Map<string, number>(DHCPD_BINDING_STATES.map((s, i) => [s, i + 1]));

/** Bytes a slot takes outside its strings (for the memory accounting in tests and reports). */
export const FIXED_BYTES_PER_SLOT =
  4 /* address */ +
  4 * TIME_FIELDS.length +
  4 /* line */ +
  4 /* column */ +
  2 /* states */ +
  1 /* flags */ +
  1 /* hardware type */ +
  4 /* blob offset */ +
  4; /* blob capacity */

/** The arena is addressed with 32-bit offsets. */
const MAX_ARENA_BYTES = 0xffff_ffff;

export class DhcpdLeaseTable {
  private capacity: number;
  private count = 0;
  private address: Uint32Array;
  private readonly times: Uint32Array[];
  private line: Uint32Array;
  private column: Uint32Array;
  /** binding | next << 4 | rewind << 8, each a code (index + 1, 0 = not given). */
  private states: Uint16Array;
  private flags: Uint8Array;
  private hardwareType: Uint8Array;
  private blobOffset: Uint32Array;
  private blobCapacity: Uint32Array;
  private arena: Buffer;
  private arenaUsed = 0;
  /** Arena bytes of strings that were replaced (reclaimed by compact()). */
  private arenaGarbage = 0;
  /** slot + 1, or 0 for an empty bucket; size a power of two, at most half full. */
  private buckets: Int32Array;
  /** 32 - log2(buckets.length): the hash keeps the top bits of the product. */
  private bucketShift: number;
  /** Where get() reads the next string of a slot. */
  private readAt = 0;
  /** Scratch of putStrings(): the string fields in blob order, and their UTF-8 lengths (-1: absent). */
  private readonly strings: (string | undefined)[] = [undefined, undefined, undefined, undefined];
  private readonly stringLengths = new Int32Array(4);

  constructor(
    /** The leases file: every declaration's place is in it. */
    readonly file: string,
    initialSlots = 1024,
  ) {
    this.capacity = Math.max(16, initialSlots);
    this.address = new Uint32Array(this.capacity);
    this.times = TIME_FIELDS.map(() => new Uint32Array(this.capacity));
    this.line = new Uint32Array(this.capacity);
    this.column = new Uint32Array(this.capacity);
    this.states = new Uint16Array(this.capacity);
    this.flags = new Uint8Array(this.capacity);
    this.hardwareType = new Uint8Array(this.capacity);
    this.blobOffset = new Uint32Array(this.capacity);
    this.blobCapacity = new Uint32Array(this.capacity);
    this.arena = Buffer.allocUnsafe(this.capacity * 48);
    this.buckets = new Int32Array(bucketsFor(this.capacity));
    this.bucketShift = 32 - Math.log2(this.buckets.length);
  }

  /** Addresses held. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the table's arrays (not the JS objects around them). */
  get bytesAllocated(): number {
    return this.capacity * FIXED_BYTES_PER_SLOT + this.arena.length + this.buckets.byteLength;
  }

  /** The slot of `address`, or -1. */
  slotOf(address: number): number {
    const mask = this.buckets.length - 1;
    for (let b = hash(address, this.bucketShift); ; b = (b + 1) & mask) {
      const entry = this.buckets[b]!;
      if (entry === 0) return -1;
      if (this.address[entry - 1] === address) return entry - 1;
    }
  }

  /** Records `lease` as the latest declaration of its address (`address`, lease.address as a
   * number); returns its slot. */
  put(lease: DhcpdLease, address: number = parseIpv4(lease.address)): number {
    let slot = this.slotOf(address);
    if (slot < 0) {
      if (this.count === this.capacity) this.grow();
      slot = this.count++;
      this.address[slot] = address;
      this.blobCapacity[slot] = 0;
      this.insertBucket(address, slot);
    }
    // Field by field, not by a loop over names: keyed access by a variable name is several times
    // slower, and this runs for every declaration of the file.
    let flags =
      this.putTime(0, slot, lease.starts) |
      this.putTime(1, slot, lease.ends) |
      this.putTime(2, slot, lease.tstp) |
      this.putTime(3, slot, lease.tsfp) |
      this.putTime(4, slot, lease.atsfp) |
      this.putTime(5, slot, lease.cltt);
    if (lease.isReserved) flags |= IS_RESERVED;
    if (lease.isBootp) flags |= IS_BOOTP;
    this.flags[slot] = flags;
    this.states[slot] =
      stateCode(lease.bindingState) |
      (stateCode(lease.nextBindingState) << 4) |
      (stateCode(lease.rewindBindingState) << 8);
    this.hardwareType[slot] = lease.hardwareType ?? 0;
    this.line[slot] = lease.pos.line;
    this.column[slot] = lease.pos.column;
    this.putStrings(slot, lease);
    return slot;
  }

  /** The address of `slot` as a number. */
  addressAt(slot: number): number {
    return this.address[slot]!;
  }

  lineAt(slot: number): number {
    return this.line[slot]!;
  }

  /** The time TIME_FIELDS[field] of `slot`, or undefined when its declaration had none (what
   * get() would set, without making the declaration's object). */
  timeAt(slot: number, field: number): number | undefined {
    return (this.flags[slot]! & (1 << field)) !== 0 ? this.times[field]![slot]! : undefined;
  }

  /** The binding state of `slot`, or undefined when its declaration had none. */
  bindingStateAt(slot: number): DhcpdBindingState | undefined {
    return stateName(this.states[slot]! & 15);
  }

  /** The declaration held in `slot`, as a new object; without its four strings (hardware address,
   * uid, host names) when `withStrings` is false. */
  get(slot: number, withStrings = true): DhcpdLease {
    if (slot < 0 || slot >= this.count) throw new RangeError(`no slot ${slot}`);
    const flags = this.flags[slot]!;
    const lease: DhcpdLease = {
      address: formatIpv4(this.address[slot]!),
      pos: { file: this.file, line: this.line[slot]!, column: this.column[slot]! },
      isReserved: (flags & IS_RESERVED) !== 0,
      isBootp: (flags & IS_BOOTP) !== 0,
    };
    const times = this.times;
    if ((flags & 1) !== 0) lease.starts = times[0]![slot]!;
    if ((flags & 2) !== 0) lease.ends = times[1]![slot]!;
    if ((flags & 4) !== 0) lease.tstp = times[2]![slot]!;
    if ((flags & 8) !== 0) lease.tsfp = times[3]![slot]!;
    if ((flags & 16) !== 0) lease.atsfp = times[4]![slot]!;
    if ((flags & 32) !== 0) lease.cltt = times[5]![slot]!;
    const states = this.states[slot]!;
    const binding = stateName(states & 15);
    const next = stateName((states >> 4) & 15);
    const rewind = stateName((states >> 8) & 15);
    if (binding !== undefined) lease.bindingState = binding;
    if (next !== undefined) lease.nextBindingState = next;
    if (rewind !== undefined) lease.rewindBindingState = rewind;
    if (!withStrings) return lease;
    this.readAt = this.blobOffset[slot]!;
    const hardwareAddress = this.readString();
    const uid = this.readString();
    const clientHostname = this.readString();
    const ddnsForwardName = this.readString();
    if (hardwareAddress !== undefined) {
      lease.hardwareType = this.hardwareType[slot]!;
      lease.hardwareAddress = hardwareAddress;
    }
    if (uid !== undefined) lease.uid = uid;
    if (clientHostname !== undefined) lease.clientHostname = clientHostname;
    if (ddnsForwardName !== undefined) lease.ddnsForwardName = ddnsForwardName;
    return lease;
  }

  /** The string at readAt in the arena (undefined when absent); moves readAt past it. */
  private readString(): string | undefined {
    let at = this.readAt;
    let code = 0;
    let scale = 1;
    for (;;) {
      const byte = this.arena[at++]!;
      code += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
    }
    if (code === 0) {
      this.readAt = at;
      return undefined;
    }
    const end = at + code - 1;
    this.readAt = end;
    return this.arena.toString('utf8', at, end);
  }

  private putTime(field: number, slot: number, value: number | undefined): number {
    this.times[field]![slot] = value ?? 0;
    return value === undefined ? 0 : 1 << field;
  }

  /** Slots in file order of each address's first declaration. */
  *slots(): Generator<number> {
    for (let s = 0; s < this.count; s++) yield s;
  }

  /** Every slot, in ascending address order. */
  slotsByAddress(): Uint32Array {
    const order = new Uint32Array(this.count);
    let isSorted = true;
    for (let s = 0; s < this.count; s++) {
      order[s] = s;
      if (s > 0 && this.address[s]! < this.address[s - 1]!) isSorted = false;
    }
    // Files dhcpd has just rewritten are in address order within a pool: usually no sort at all.
    if (!isSorted) order.sort((a, b) => this.address[a]! - this.address[b]!);
    return order;
  }

  private putStrings(slot: number, lease: DhcpdLease): void {
    const strings = this.strings;
    strings[0] = lease.hardwareAddress;
    strings[1] = lease.uid;
    strings[2] = lease.clientHostname;
    strings[3] = lease.ddnsForwardName;
    const lengths = this.stringLengths;
    let needed = 0;
    for (let f = 0; f < 4; f++) {
      const s = strings[f];
      const length = s === undefined ? -1 : utf8Length(s);
      lengths[f] = length;
      needed += length < 0 ? 1 : varintLength(length + 1) + length;
    }
    let at = this.blobOffset[slot]!;
    // A renewal by the same client has the same strings: it fits where the last one was.
    if (needed > this.blobCapacity[slot]!) {
      this.arenaGarbage += this.blobCapacity[slot]!;
      this.blobCapacity[slot] = 0;
      at = this.allocate(needed);
      this.blobOffset[slot] = at;
      this.blobCapacity[slot] = needed;
    }
    const arena = this.arena;
    for (let f = 0; f < 4; f++) {
      const length = lengths[f]!;
      if (length < 0) {
        arena[at++] = 0;
        continue;
      }
      const s = strings[f]!;
      at = writeVarint(arena, at, length + 1);
      if (length === s.length) {
        // ASCII (hex digits, most host names): byte by byte beats a call into Buffer.write.
        for (let i = 0; i < length; i++) arena[at + i] = s.charCodeAt(i);
        at += length;
      } else at += arena.write(s, at, length, 'utf8');
    }
    strings.fill(undefined);
  }

  private allocate(bytes: number): number {
    if (this.arenaUsed + bytes > this.arena.length) {
      if (this.arenaGarbage > this.arenaUsed / 2) this.compact();
      if (this.arenaUsed + bytes > this.arena.length) {
        const size = Math.min(
          MAX_ARENA_BYTES,
          Math.max(this.arenaUsed + bytes, Math.ceil(this.arena.length * 1.5)),
        );
        if (this.arenaUsed + bytes > size) {
          throw new RangeError('the leases file holds more than 4 GiB of client strings');
        }
        const next = Buffer.allocUnsafe(size);
        this.arena.copy(next, 0, 0, this.arenaUsed);
        this.arena = next;
      }
    }
    const at = this.arenaUsed;
    this.arenaUsed += bytes;
    return at;
  }

  /** Copies every slot's strings into a new arena, dropping replaced ones. */
  private compact(): void {
    const live = this.arenaUsed - this.arenaGarbage;
    const next = Buffer.allocUnsafe(Math.max(live * 2, 1024));
    let used = 0;
    for (let s = 0; s < this.count; s++) {
      const from = this.blobOffset[s]!;
      const n = this.blobCapacity[s]!;
      this.arena.copy(next, used, from, from + n);
      this.blobOffset[s] = used;
      used += n;
    }
    this.arena = next;
    this.arenaUsed = used;
    this.arenaGarbage = 0;
  }

  private grow(): void {
    const capacity = Math.ceil(this.capacity * 1.5);
    const widen = <T extends Uint32Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.address = widen(this.address, (n) => new Uint32Array(n));
    for (let f = 0; f < this.times.length; f++)
      this.times[f] = widen(this.times[f]!, (n) => new Uint32Array(n));
    this.line = widen(this.line, (n) => new Uint32Array(n));
    this.column = widen(this.column, (n) => new Uint32Array(n));
    this.states = widen(this.states, (n) => new Uint16Array(n));
    this.flags = widen(this.flags, (n) => new Uint8Array(n));
    this.hardwareType = widen(this.hardwareType, (n) => new Uint8Array(n));
    this.blobOffset = widen(this.blobOffset, (n) => new Uint32Array(n));
    this.blobCapacity = widen(this.blobCapacity, (n) => new Uint32Array(n));
    this.capacity = capacity;
    if (bucketsFor(capacity) > this.buckets.length) {
      this.buckets = new Int32Array(bucketsFor(capacity));
      this.bucketShift = 32 - Math.log2(this.buckets.length);
      for (let s = 0; s < this.count; s++) this.insertBucket(this.address[s]!, s);
    }
  }

  private insertBucket(address: number, slot: number): void {
    const mask = this.buckets.length - 1;
    let b = hash(address, this.bucketShift);
    while (this.buckets[b] !== 0) b = (b + 1) & mask;
    this.buckets[b] = slot + 1;
  }
}

/** A power of two at least twice `slots`. */
function bucketsFor(slots: number): number {
  let n = 16;
  while (n < slots * 2) n *= 2;
  return n;
}

/** Fibonacci hashing (the top bits of address × 2^32/φ): consecutive addresses, the usual case,
 * spread evenly over the buckets. */
function hash(address: number, shift: number): number {
  return Math.imul(address, 0x9e3779b1) >>> shift;
}

function stateCode(s: DhcpdBindingState | undefined): number {
  return s === undefined ? 0 : STATE_CODE.get(s)!;
}

function stateName(code: number): DhcpdBindingState | undefined {
  return code === 0 ? undefined : DHCPD_BINDING_STATES[code - 1];
}

/** Bytes of `s` in UTF-8 (without a call into Buffer for the usual short ASCII string). */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function writeVarint(b: Buffer, at: number, v: number): number {
  while (v >= 0x80) {
    b[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 0x80);
  }
  b[at++] = v;
  return at;
}
