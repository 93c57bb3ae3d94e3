// The lease table: the one owner of bindings in memory, sized for a million of them (issue 15).
// Pure data structure, no I/O, no clock.
//
// Storage is a struct of arrays by slot: typed-array columns for the numbers (seven times and a
// version in one stride, state, flags, hardware type and address packed in 8 bytes), small interned
// tables for the strings that repeat (scope id, owner server, policy name), byte columns for host
// names and FQDNs (string-column.ts: no object per binding for the collector to mark), and a plain
// array for the client ids that are not the usual form. A client id that is the usual
// "hardware type ‖ hardware address" (RFC 2132 §9.14, as dhclient and Windows send) costs nothing.
// A record that does not fit the compact encoding (a time that is not a whole uint32, a hardware
// address that is not lower-case hex of at most 8 bytes, a hardware type above 255) keeps a copy of
// itself in a side map, so every value reads back exactly as it was put.
//
// Lookups are O(1) and never grow with the table:
//  * address → slot: a four-level directory (/8 → /16 → /24 → address) of 256-entry arrays and
//    pages, independent of the configuration, so a reload hands the table over as it is. Walking the
//    pages in order gives address order without sorting (API cursors), and each page's record count
//    lets the free pool skip full /24s when it looks for never-used addresses (`nextAbsent`). Four
//    levels, not one array of 65,536 /16s: that array cost more to allocate (a 512 KiB object per
//    table) and to walk (every scan visited each of its 65,536 cells) than a small table holds; the
//    simulator builds a table at every server start and walks it every second (issue 16).
//  * (scope, client) → address: an open-addressing hash over slots, compared against the slot's own
//    columns (no per-entry key strings). As the map it replaces: the last binding put for a client
//    wins; removing a binding removes the entry only if the entry is that binding's.
//  * expiry: an indexed min-heap of the slots whose binding runs out (active or abandoned with a
//    finite expiry), keyed by (expiry, address); exactly one entry per such slot, so it never holds
//    stale entries however often bindings are renewed.
//  * tallies: per group (the engine's scopes), records by state and active records owned by one
//    named server, kept up to date by every put and delete, so statistics cost O(scopes).
//
// `get` materialises a fresh Lease each time; callers treat leases as immutable values (they spread
// and put). Object identity therefore means nothing: `Lease.version` (stamped by `put`, returned by
// `get`) tells whether a binding changed since a Lease value was taken.

import type { Ipv4 } from '../wire/ipv4.js';
import { type BindingState, type DhcidMode, INFINITE_EXPIRY, type Lease } from './lease.js';
import { StringColumn } from './string-column.js';

/** State codes of the `state` column, in the order of this list. */
export const BINDING_STATES: readonly BindingState[] = [
  'free',
  'active',
  'expired',
  'released',
  'abandoned',
  'reset',
  'backup',
];
const STATE_CODE: Readonly<Record<BindingState, number>> = {
  free: 0,
  active: 1,
  expired: 2,
  released: 3,
  abandoned: 4,
  reset: 5,
  backup: 6,
};
const ACTIVE = 1;
const ABANDONED = 4;
const DHCID_MODES: readonly DhcidMode[] = ['none', 'noClientId', 'clientId', 'duid'];
const DHCID_CODE: Readonly<Record<DhcidMode, number>> = { none: 0, noClientId: 1, clientId: 2, duid: 3 };

// flags column
const F_RESERVED = 1;
const F_UP_TO_DATE = 2;
const F_BOOTP = 4;
/** clientId = hex(hardware type) ‖ hardware address: not stored. */
const F_CID_FROM_HW = 8;
/** The record did not fit the columns: `side` holds it. */
const F_SIDE = 16;
/** The client index has an entry that points at this slot. */
const F_INDEXED = 32;
/** Set by `mark`, cleared by the next put of the address. */
const F_MARKED = 1 << 12;
const DHCID_SHIFT = 6; // 2 bits
const DNS_SHIFT = 8; // 4 bits, Windows AddressState bits 4–7 order

// times column: one stride per slot
const TIME_STRIDE = 8;
const T_EXPIRES = 0;
const T_STATE_STARTED = 1;
const T_CLTT = 2;
const T_SENT_PET = 3;
const T_ACKED_PET = 4;
const T_RECEIVED_PET = 5;
const T_LAST_BU = 6;
const T_VERSION = 7;

const PAGE_SIZE = 256;
const PAGE_COUNT_AT = PAGE_SIZE;
const NO_SLOT = -1;
const EMPTY = -1;
const TOMBSTONE = -2;
/** Tally row: one count per state, then active records of the counted owner, then records. */
export const TALLY_WIDTH = BINDING_STATES.length + 2;
const TALLY_ACTIVE_OWNED = BINDING_STATES.length;
const TALLY_RECORDS = BINDING_STATES.length + 1;
/** Row width of the per-scope-name state counts (the state codes fit in 8). */
const STATE_ROW = 8;

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Windows AddressState bits 4–7 (seed 001): cleanup, both records, unregistered, deleted. */
export function dnsFlagsToBits(d: Lease['dns']): number {
  return (
    (d.cleanupOnDelete ? 1 : 0) |
    (d.updateBothRecords ? 2 : 0) |
    (d.registrationPending ? 4 : 0) |
    (d.removalPending ? 8 : 0)
  );
}

function isUint32(v: number): boolean {
  return v >>> 0 === v;
}

/** Value of a lower-case hex digit by character code, −1 for anything else. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

function hexDigit(c: number): number {
  return c < 128 ? HEX_VALUE[c]! : -1;
}

/** The client's key in the per-scope client index: client id if sent, else hardware type + address. */
export function clientKeyOf(
  lease: Pick<Lease, 'clientId' | 'hardwareType' | 'hardwareAddress'>,
): string | null {
  if (lease.clientId !== null) return `c${lease.clientId}`;
  if (lease.hardwareAddress !== '') return `h${lease.hardwareType}:${lease.hardwareAddress}`;
  return null;
}

const FNV_PRIME = 0x01000193;

function hashChars(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** Final avalanche (murmur3 fmix32) so that linear probing sees well-spread low bits. */
function finishHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Hash of (scope, client key string): FNV-1a over the key's characters. */
function hashKey(scopeIndex: number, key: string): number {
  return finishHash(hashChars(Math.imul(0x811c9dc5 ^ scopeIndex, FNV_PRIME), key));
}

/**
 * hashKey of the key clientKeyOf would build from these fields, without building it (every
 * binding loaded at start is hashed).
 */
function hashClientFields(scopeIndex: number, clientId: string | null, hwType: number, hw: string): number {
  let h = Math.imul(0x811c9dc5 ^ scopeIndex, FNV_PRIME);
  if (clientId !== null) return finishHash(hashChars(Math.imul(h ^ 99 /* c */, FNV_PRIME), clientId));
  h = Math.imul(h ^ 104 /* h */, FNV_PRIME);
  h = hashChars(h, String(hwType));
  h = Math.imul(h ^ 58 /* : */, FNV_PRIME);
  return finishHash(hashChars(h, hw));
}

/**
 * A test of a binding's columns for scans (LeaseTable.countMatching, forEachMatching): the state
 * (bit `1 << code` of `stateMask`, codes as in BINDING_STATES), the interned scope and owner
 * (nameIndexOf; −1: any), then `extra` if given.
 */
export interface ColumnTest {
  stateMask: number;
  scopeIndex: number;
  ownerIndex: number;
  extra: ((slot: number) => boolean) | null;
}

/** Which tally group (the engine's scope index) counts a record at `address`, or −1 for none. */
export type TallyGroupOf = (address: Ipv4, scopeId: string) => number;

export interface TallyRule {
  groupOf: TallyGroupOf;
  groupCount: number;
  /** Active records whose ownerServer is this name are counted apart (this server's own). */
  countedOwner: string | null;
}

/** Counts of one tally group. */
export interface Tally {
  records: number;
  /** Records by state. */
  byState: Readonly<Record<BindingState, number>>;
  /** Active records owned by the rule's counted owner. */
  activeOwned: number;
}

/** One /16 of the address directory: its 256 /24 pages (slot by address & 255, then the count). */
type Directory24 = (Int32Array | undefined)[];
/** One /8 of the address directory: its 256 /16s. */
type Directory16 = (Directory24 | undefined)[];

export class LeaseTable {
  private capacity: number;
  private count = 0;
  private nextVersion = 1;
  private readonly freeSlots: number[] = [];
  /** Slots ever handed out (the rest of the columns is unused). */
  private highWater = 0;

  // Columns by slot.
  private addr: Uint32Array;
  private scope: Uint16Array;
  private owner: Uint16Array;
  private policy: Uint16Array;
  /** BINDING_STATES index; 255 = unused slot. */
  private state: Uint8Array;
  private flags: Uint16Array;
  private hwType: Uint8Array;
  private hwLen: Uint8Array;
  private hwHi: Uint32Array;
  private hwLo: Uint32Array;
  private times: Uint32Array;
  private clientIds: (string | null)[];
  private readonly hostnames: StringColumn;
  private readonly fqdns: StringColumn;
  private readonly side = new Map<number, Lease>();

  // Interned strings (index 0 = null).
  private readonly names: string[] = [''];
  private readonly nameIndex = new Map<string, number>();
  /** Per column (scope, owner, policy): the last name interned and its index. */
  private readonly lastNames: (string | null)[] = [null, null, null];
  private readonly lastNameIndexes = [0, 0, 0];

  // address → slot: /8 → /16 → /24 page (see the file comment).
  private readonly directory: (Directory16 | undefined)[] = new Array(256);

  // (scope, client key) → slot
  private keyHash: Int32Array;
  private clientSlots: Int32Array;
  /** Cells that are not EMPTY (entries and tombstones); probing needs some EMPTY ones. */
  private clientUsed = 0;
  private clientLive = 0;

  // Expiry heap over slots.
  private heap: Int32Array;
  private heapPos: Int32Array;
  private heapSize = 0;

  /**
   * Records by (interned scope name, state), at `name * STATE_ROW + state`, whatever the tally
   * rule: lease lists filtered by state and scope only count their matches from here (O(names)),
   * not by a pass over a million slots per request.
   */
  private scopeStateCounts = new Int32Array(16 * STATE_ROW);

  // Tallies.
  private rule: TallyRule | null = null;
  private countedOwnerIndex = -1;
  private tallyGroup: Uint16Array;
  private tallies = new Int32Array(0);

  constructor(initialCapacity = 1024) {
    const c = Math.max(16, 2 ** Math.ceil(Math.log2(initialCapacity)));
    this.capacity = c;
    this.addr = new Uint32Array(c);
    this.scope = new Uint16Array(c);
    this.owner = new Uint16Array(c);
    this.policy = new Uint16Array(c);
    this.state = new Uint8Array(c).fill(255);
    this.flags = new Uint16Array(c);
    this.hwType = new Uint8Array(c);
    this.hwLen = new Uint8Array(c);
    this.hwHi = new Uint32Array(c);
    this.hwLo = new Uint32Array(c);
    this.times = new Uint32Array(c * TIME_STRIDE);
    this.clientIds = new Array<string | null>(c).fill(null);
    this.hostnames = new StringColumn(c);
    this.fqdns = new StringColumn(c);
    this.keyHash = new Int32Array(c);
    this.clientSlots = new Int32Array(c * 2).fill(EMPTY);
    this.heap = new Int32Array(c);
    this.heapPos = new Int32Array(c).fill(-1);
    this.tallyGroup = new Uint16Array(c);
  }

  /** Number of bindings held. */
  get size(): number {
    return this.count;
  }

  // -----------------------------------------------------------------------------------------------
  // Records

  has(address: Ipv4): boolean {
    return this.slotOf(address) !== NO_SLOT;
  }

  /** A fresh Lease value of the binding at `address` (with its version), or undefined. */
  get(address: Ipv4): Lease | undefined {
    const s = this.slotOf(address);
    return s === NO_SLOT ? undefined : this.leaseAt(s);
  }

  /** The binding's version: it changes with every put of the address. */
  versionOf(address: Ipv4): number | undefined {
    const s = this.slotOf(address);
    return s === NO_SLOT ? undefined : this.times[s * TIME_STRIDE + T_VERSION];
  }

  stateOf(address: Ipv4): BindingState | undefined {
    const s = this.slotOf(address);
    return s === NO_SLOT ? undefined : BINDING_STATES[this.state[s]!];
  }

  /**
   * Installs `lease` as the binding of its address (replacing any) and stamps `lease.version` with
   * the binding's new version. Every index and tally follows.
   */
  put(lease: Lease): void {
    lease.version = this.putLease(lease);
  }

  /** `put` without stamping `lease.version` (loading values that belong to someone else). */
  load(lease: Lease): void {
    this.putLease(lease);
  }

  /** Installs `lease`'s fields; returns the binding's new version. */
  private putLease(lease: Lease): number {
    return this.putFields(
      lease.address,
      lease.scopeId,
      lease.state,
      lease.hardwareType,
      lease.hardwareAddress,
      lease.clientId,
      lease.hostname,
      lease.clientType === 'bootp',
      lease.isReserved,
      lease.leaseExpiresAt,
      lease.stateStartedAt,
      lease.clientLastTransactionAt,
      lease.ownerServer,
      lease.policyName,
      lease.sentPotentialExpiresAt,
      lease.ackedPotentialExpiresAt,
      lease.receivedPotentialExpiresAt,
      lease.lastBindingUpdateAt,
      lease.isPartnerUpToDate,
      lease.fqdn,
      lease.dhcidMode,
      dnsFlagsToBits(lease.dns),
      lease,
    );
  }

  /**
   * `put` from the fields of a Lease (same order; DNS flags as bits, see dnsFlagsToBits), for
   * loaders that read stored rows without building Lease objects. Returns the new version.
   * `original` is only for the rare record that does not fit the columns (copied if given,
   * else rebuilt from the fields).
   */
  putFields(
    address: Ipv4,
    scopeId: string,
    state: BindingState,
    hardwareType: number,
    hardwareAddress: string,
    clientId: string | null,
    hostname: string | null,
    isBootp: boolean,
    isReserved: boolean,
    leaseExpiresAt: number,
    stateStartedAt: number,
    clientLastTransactionAt: number,
    ownerServer: string | null,
    policyName: string | null,
    sentPotentialExpiresAt: number,
    ackedPotentialExpiresAt: number,
    receivedPotentialExpiresAt: number,
    lastBindingUpdateAt: number,
    isPartnerUpToDate: boolean,
    fqdn: string | null,
    dhcidMode: DhcidMode,
    dnsBits: number,
    original?: Lease,
  ): number {
    if (!isUint32(address)) throw new RangeError(`lease table: not an IPv4 address: ${address}`);
    const stateCode = STATE_CODE[state];
    if (stateCode === undefined) throw new RangeError(`lease table: unknown binding state ${String(state)}`);
    let s = this.slotOf(address);
    if (s === NO_SLOT) {
      s = this.allocateSlot(address);
    } else {
      this.untally(s);
      this.countScopeState(s, -1);
      if ((this.flags[s]! & F_INDEXED) !== 0) this.unindexClient(s);
      this.side.delete(s);
    }
    const version = this.nextVersion;
    this.nextVersion = (this.nextVersion + 1) >>> 0 || 1;

    // Hardware address: up to 8 bytes of lower-case hex pack into two words.
    let hwHi = 0;
    let hwLo = 0;
    let fits =
      hardwareType >>> 0 === hardwareType &&
      hardwareType <= 255 &&
      hardwareAddress.length <= 16 &&
      (hardwareAddress.length & 1) === 0;
    for (let i = 0; fits && i < hardwareAddress.length; i += 2) {
      const hi = hexDigit(hardwareAddress.charCodeAt(i));
      const lo = hexDigit(hardwareAddress.charCodeAt(i + 1));
      if (hi < 0 || lo < 0) {
        fits = false;
        break;
      }
      const byte = (hi << 4) | lo;
      const k = i >> 1;
      if (k < 4) hwHi |= byte << (24 - 8 * k);
      else hwLo |= byte << (24 - 8 * (k - 4));
    }
    fits =
      fits &&
      isUint32(leaseExpiresAt) &&
      isUint32(stateStartedAt) &&
      isUint32(clientLastTransactionAt) &&
      isUint32(sentPotentialExpiresAt) &&
      isUint32(ackedPotentialExpiresAt) &&
      isUint32(receivedPotentialExpiresAt) &&
      isUint32(lastBindingUpdateAt);

    let f =
      (isReserved ? F_RESERVED : 0) |
      (isPartnerUpToDate ? F_UP_TO_DATE : 0) |
      (isBootp ? F_BOOTP : 0) |
      (DHCID_CODE[dhcidMode] << DHCID_SHIFT) |
      ((dnsBits & 15) << DNS_SHIFT);
    this.addr[s] = address;
    this.scope[s] = this.intern(scopeId);
    this.owner[s] = ownerServer === null ? 0 : this.intern(ownerServer, 1);
    this.policy[s] = policyName === null ? 0 : this.intern(policyName, 2);
    this.state[s] = stateCode;
    this.countScopeState(s, 1);
    this.hostnames.set(s, hostname);
    this.fqdns.set(s, fqdn);
    const t = s * TIME_STRIDE;
    const times = this.times;
    if (fits) {
      this.hwType[s] = hardwareType;
      this.hwLen[s] = hardwareAddress.length >> 1;
      this.hwHi[s] = hwHi >>> 0;
      this.hwLo[s] = hwLo >>> 0;
      if (
        clientId !== null &&
        clientId.length === hardwareAddress.length + 2 &&
        clientId.startsWith(HEX[hardwareType]!) &&
        clientId.endsWith(hardwareAddress)
      ) {
        f |= F_CID_FROM_HW;
        this.clientIds[s] = null;
      } else {
        this.clientIds[s] = clientId;
      }
      times[t + T_EXPIRES] = leaseExpiresAt;
      times[t + T_STATE_STARTED] = stateStartedAt;
      times[t + T_CLTT] = clientLastTransactionAt;
      times[t + T_SENT_PET] = sentPotentialExpiresAt;
      times[t + T_ACKED_PET] = ackedPotentialExpiresAt;
      times[t + T_RECEIVED_PET] = receivedPotentialExpiresAt;
      times[t + T_LAST_BU] = lastBindingUpdateAt;
    } else {
      f |= F_SIDE;
      this.hwType[s] = 0;
      this.hwLen[s] = 0;
      this.hwHi[s] = 0;
      this.hwLo[s] = 0;
      this.clientIds[s] = clientId;
      times.fill(0, t, t + T_VERSION);
      this.side.set(s, {
        address,
        scopeId,
        state,
        hardwareType,
        hardwareAddress,
        clientId,
        hostname,
        clientType: isBootp ? 'bootp' : 'dhcp',
        isReserved,
        leaseExpiresAt,
        stateStartedAt,
        clientLastTransactionAt,
        ownerServer,
        policyName,
        sentPotentialExpiresAt,
        ackedPotentialExpiresAt,
        receivedPotentialExpiresAt,
        lastBindingUpdateAt,
        isPartnerUpToDate,
        fqdn,
        dhcidMode,
        dns: original
          ? { ...original.dns }
          : {
              cleanupOnDelete: (dnsBits & 1) !== 0,
              updateBothRecords: (dnsBits & 2) !== 0,
              registrationPending: (dnsBits & 4) !== 0,
              removalPending: (dnsBits & 8) !== 0,
            },
      });
    }
    times[t + T_VERSION] = version;
    this.flags[s] = f;
    if (clientId !== null || hardwareAddress !== '')
      this.indexClient(s, hashClientFields(this.scope[s]!, clientId, hardwareType, hardwareAddress));
    this.reschedule(s);
    this.tally(s);
    return version;
  }

  /**
   * Leaves a one-bit note on the binding of `address` as it is now; the next put of the address
   * clears it. The failover endpoint marks the versions it puts itself, so that it can tell them
   * from the DHCP exchange's (what object identity told when bindings were objects in a Map).
   */
  mark(address: Ipv4): void {
    const s = this.slotOf(address);
    if (s !== NO_SLOT) this.flags[s] = this.flags[s]! | F_MARKED;
  }

  /** Whether the binding of `address` was marked since it was last put. */
  isMarked(address: Ipv4): boolean {
    const s = this.slotOf(address);
    return s !== NO_SLOT && (this.flags[s]! & F_MARKED) !== 0;
  }

  /** Removes the binding of `address`; returns whether there was one. */
  delete(address: Ipv4): boolean {
    const s = this.slotOf(address);
    if (s === NO_SLOT) return false;
    this.untally(s);
    this.countScopeState(s, -1);
    if ((this.flags[s]! & F_INDEXED) !== 0) this.unindexClient(s);
    if (this.heapPos[s]! >= 0) this.heapRemove(s);
    this.side.delete(s);
    this.state[s] = 255;
    this.flags[s] = 0;
    this.clientIds[s] = null;
    this.hostnames.set(s, null);
    this.fqdns.set(s, null);
    this.setSlotOf(address, NO_SLOT);
    this.freeSlots.push(s);
    this.count--;
    return true;
  }

  // -----------------------------------------------------------------------------------------------
  // Reading columns by slot (scans). A slot is valid until the next put or delete.

  /** The slot of `address`'s binding, or −1. */
  slotOf(address: Ipv4): number {
    const mid = this.directory[address >>> 24]?.[(address >>> 16) & 255];
    if (mid === undefined) return NO_SLOT;
    const page = mid[(address >>> 8) & 255];
    if (page === undefined) return NO_SLOT;
    return page[address & 255]!;
  }

  leaseAt(s: number): Lease {
    const version = this.times[s * TIME_STRIDE + T_VERSION]!;
    const f = this.flags[s]!;
    if ((f & F_SIDE) !== 0) {
      const l = this.side.get(s)!;
      return { ...l, dns: { ...l.dns }, version };
    }
    const t = s * TIME_STRIDE;
    const times = this.times;
    const hw = this.hwHexAt(s);
    const o = this.owner[s]!;
    const p = this.policy[s]!;
    return {
      address: this.addr[s]!,
      scopeId: this.names[this.scope[s]!]!,
      state: BINDING_STATES[this.state[s]!]!,
      hardwareType: this.hwType[s]!,
      hardwareAddress: hw,
      clientId: (f & F_CID_FROM_HW) !== 0 ? HEX[this.hwType[s]!]! + hw : this.clientIds[s]!,
      hostname: this.hostnames.get(s),
      clientType: (f & F_BOOTP) !== 0 ? 'bootp' : 'dhcp',
      isReserved: (f & F_RESERVED) !== 0,
      leaseExpiresAt: times[t + T_EXPIRES]!,
      stateStartedAt: times[t + T_STATE_STARTED]!,
      clientLastTransactionAt: times[t + T_CLTT]!,
      ownerServer: o === 0 ? null : this.names[o]!,
      policyName: p === 0 ? null : this.names[p]!,
      sentPotentialExpiresAt: times[t + T_SENT_PET]!,
      ackedPotentialExpiresAt: times[t + T_ACKED_PET]!,
      receivedPotentialExpiresAt: times[t + T_RECEIVED_PET]!,
      lastBindingUpdateAt: times[t + T_LAST_BU]!,
      isPartnerUpToDate: (f & F_UP_TO_DATE) !== 0,
      fqdn: this.fqdns.get(s),
      dhcidMode: DHCID_MODES[(f >> DHCID_SHIFT) & 3]!,
      dns: {
        cleanupOnDelete: (f & (1 << DNS_SHIFT)) !== 0,
        updateBothRecords: (f & (2 << DNS_SHIFT)) !== 0,
        registrationPending: (f & (4 << DNS_SHIFT)) !== 0,
        removalPending: (f & (8 << DNS_SHIFT)) !== 0,
      },
      version,
    };
  }

  addressAt(s: number): Ipv4 {
    return this.addr[s]!;
  }

  stateAt(s: number): BindingState {
    return BINDING_STATES[this.state[s]!]!;
  }

  /** The state as its index in BINDING_STATES (scans test it against a mask). */
  stateCodeAt(s: number): number {
    return this.state[s]!;
  }

  /**
   * The index under which `name` (a scope id, owner server or policy name) is kept, or −1 when no
   * binding was ever put with it: scans compare scopeIndexAt/ownerIndexAt with it.
   */
  nameIndexOf(name: string): number {
    return this.nameIndex.get(name) ?? -1;
  }

  scopeIndexAt(s: number): number {
    return this.scope[s]!;
  }

  /** 0 for no owner. */
  ownerIndexAt(s: number): number {
    return this.owner[s]!;
  }

  scopeIdAt(s: number): string {
    return this.names[this.scope[s]!]!;
  }

  ownerServerAt(s: number): string | null {
    const o = this.owner[s]!;
    return o === 0 ? null : this.names[o]!;
  }

  hostnameAt(s: number): string | null {
    return this.hostnames.get(s);
  }

  fqdnAt(s: number): string | null {
    return this.fqdns.get(s);
  }

  isPartnerUpToDateAt(s: number): boolean {
    return (this.flags[s]! & F_UP_TO_DATE) !== 0;
  }

  /** DNS flags as bits (dnsFlagsToBits). */
  dnsBitsAt(s: number): number {
    return (this.flags[s]! >> DNS_SHIFT) & 15;
  }

  leaseExpiresAtAt(s: number): number {
    return (this.flags[s]! & F_SIDE) !== 0 ? this.side.get(s)!.leaseExpiresAt : this.times[s * TIME_STRIDE]!;
  }

  stateStartedAtAt(s: number): number {
    return (this.flags[s]! & F_SIDE) !== 0
      ? this.side.get(s)!.stateStartedAt
      : this.times[s * TIME_STRIDE + T_STATE_STARTED]!;
  }

  hardwareAddressAt(s: number): string {
    return this.hwHexAt(s);
  }

  /**
   * Whether the binding's hardware address is `hex` (lower-case, no separators), without building
   * a string: scans compare millions of these.
   */
  hasHardwareAddressAt(s: number, hex: string): boolean {
    if ((this.flags[s]! & F_SIDE) !== 0) return this.side.get(s)!.hardwareAddress === hex;
    const len = this.hwLen[s]!;
    if (hex.length !== len * 2) return false;
    const hi = this.hwHi[s]!;
    const lo = this.hwLo[s]!;
    for (let k = 0; k < len; k++) {
      const byte = k < 4 ? (hi >>> (24 - 8 * k)) & 255 : (lo >>> (24 - 8 * (k - 4))) & 255;
      const a = hexDigit(hex.charCodeAt(2 * k));
      const b = hexDigit(hex.charCodeAt(2 * k + 1));
      if (a < 0 || b < 0 || ((a << 4) | b) !== byte) return false;
    }
    return true;
  }

  /**
   * A test of "the binding's hardware address is `hex`" (lower-case, no separators) for scans:
   * `hex` is parsed once and compared as packed words.
   */
  hardwareAddressTest(hex: string): (s: number) => boolean {
    let hi = 0;
    let lo = 0;
    let isPackable = hex.length <= 16 && (hex.length & 1) === 0;
    for (let i = 0; isPackable && i < hex.length; i += 2) {
      const a = hexDigit(hex.charCodeAt(i));
      const b = hexDigit(hex.charCodeAt(i + 1));
      if (a < 0 || b < 0) isPackable = false;
      else if (i < 8) hi |= ((a << 4) | b) << (24 - 4 * i);
      else lo |= ((a << 4) | b) << (24 - 4 * (i - 8));
    }
    const len = hex.length >> 1;
    hi >>>= 0;
    lo >>>= 0;
    return (s) => {
      if ((this.flags[s]! & F_SIDE) !== 0) return this.side.get(s)!.hardwareAddress === hex;
      return isPackable && this.hwLen[s] === len && this.hwHi[s] === hi && this.hwLo[s] === lo;
    };
  }

  private hwHexAt(s: number): string {
    if ((this.flags[s]! & F_SIDE) !== 0) return this.side.get(s)!.hardwareAddress;
    const len = this.hwLen[s]!;
    if (len === 0) return '';
    const hi = this.hwHi[s]!;
    const lo = this.hwLo[s]!;
    let out = '';
    for (let k = 0; k < len; k++) {
      out += HEX[k < 4 ? (hi >>> (24 - 8 * k)) & 255 : (lo >>> (24 - 8 * (k - 4))) & 255];
    }
    return out;
  }

  // -----------------------------------------------------------------------------------------------
  // Ordered scans

  /**
   * Calls `visit` with the slot of every binding whose address is above `afterAddress` (−1: all),
   * in address order, until `visit` returns false. The table must not change during the scan.
   */
  forEachFrom(afterAddress: number, visit: (slot: number) => boolean | undefined): void {
    // The same walk as forEachMatching's, kept apart on purpose: calling forEachMatching with a
    // test every binding passes was measured 2× slower for both (1M bindings: 3 → 7 ms a walk here,
    // 4–6 → 11–15 ms for forEachMatching; its callback and test sites stop being monomorphic).
    const start = afterAddress < 0 ? 0 : afterAddress + 1;
    if (start > 0xffffffff) return;
    for (let hi = start >>> 16; hi < 65536; hi++) {
      const upper = this.directory[hi >>> 8];
      if (upper === undefined) {
        hi |= 255;
        continue;
      }
      const mid = upper[hi & 255];
      if (mid === undefined) continue;
      const midFrom = hi === start >>> 16 ? (start >>> 8) & 255 : 0;
      for (let m = midFrom; m < 256; m++) {
        const page = mid[m];
        if (page === undefined || page[PAGE_COUNT_AT] === 0) continue;
        const from = hi === start >>> 16 && m === midFrom ? start & 255 : 0;
        for (let i = from; i < PAGE_SIZE; i++) {
          const s = page[i]!;
          if (s !== NO_SLOT && visit(s) === false) return;
        }
      }
    }
  }

  /** Whether slot `s` passes `test`. */
  matchesAt(s: number, test: ColumnTest): boolean {
    return (
      ((test.stateMask >>> this.state[s]!) & 1) !== 0 &&
      (test.scopeIndex < 0 || this.scope[s] === test.scopeIndex) &&
      (test.ownerIndex < 0 || this.owner[s] === test.ownerIndex) &&
      (test.extra === null || test.extra(s))
    );
  }

  /** Whether countMatching answers `test` from the per-scope state counts (a test of state and scope only). */
  isCountedFromTallies(test: ColumnTest): boolean {
    return test.ownerIndex < 0 && test.extra === null;
  }

  /**
   * How many bindings pass `test`: from the per-scope state counts when the test is by state and
   * scope only, else one pass over the columns, no call per binding.
   */
  countMatching(test: ColumnTest): number {
    const { stateMask, scopeIndex } = test;
    if (this.isCountedFromTallies(test)) {
      const counts = this.scopeStateCounts;
      const rows = counts.length / STATE_ROW;
      let n = 0;
      for (let name = Math.max(scopeIndex, 0); name < rows; name++) {
        for (let st = 0; st < BINDING_STATES.length; st++)
          if (((stateMask >>> st) & 1) !== 0) n += counts[name * STATE_ROW + st]!;
        if (scopeIndex >= 0) break;
      }
      return n;
    }
    return this.countMatchingByScan(test);
  }

  /** countMatching by a pass over the columns (also the check of the counts in tests). */
  countMatchingByScan(test: ColumnTest): number {
    const { stateMask, scopeIndex, ownerIndex, extra } = test;
    const state = this.state;
    const scope = this.scope;
    const owner = this.owner;
    let n = 0;
    for (let s = 0; s < this.highWater; s++) {
      const st = state[s]!;
      if (st === 255 || ((stateMask >>> st) & 1) === 0) continue;
      if (scopeIndex >= 0 && scope[s] !== scopeIndex) continue;
      if (ownerIndex >= 0 && owner[s] !== ownerIndex) continue;
      if (extra !== null && !extra(s)) continue;
      n++;
    }
    return n;
  }

  /** How many bindings in [from, to] pass `test` (walks the /24 pages of that span only). */
  countInRange(from: Ipv4, to: Ipv4, test: ColumnTest): number {
    const { stateMask, scopeIndex, ownerIndex, extra } = test;
    const state = this.state;
    let n = 0;
    for (let base = (from & ~255) >>> 0; base <= to; base += PAGE_SIZE) {
      const page = this.directory[base >>> 24]?.[(base >>> 16) & 255]?.[(base >>> 8) & 255];
      if (page === undefined || page[PAGE_COUNT_AT] === 0) continue;
      const lo = Math.max(from, base) - base;
      const hi = Math.min(to, base + PAGE_SIZE - 1) - base;
      for (let i = lo; i <= hi; i++) {
        const s = page[i]!;
        if (s === NO_SLOT || ((stateMask >>> state[s]!) & 1) === 0) continue;
        if (scopeIndex >= 0 && this.scope[s] !== scopeIndex) continue;
        if (ownerIndex >= 0 && this.owner[s] !== ownerIndex) continue;
        if (extra === null || extra(s)) n++;
      }
    }
    return n;
  }

  /**
   * forEachFrom for the bindings that pass `test` only: the columns are tested in the loop, so a
   * filter that few bindings pass costs a pass over the columns, not a call per binding.
   */
  forEachMatching(
    afterAddress: number,
    test: ColumnTest,
    visit: (slot: number) => boolean | undefined,
  ): void {
    const start = afterAddress < 0 ? 0 : afterAddress + 1;
    if (start > 0xffffffff) return;
    const { stateMask, scopeIndex, ownerIndex, extra } = test;
    const state = this.state;
    for (let hi = start >>> 16; hi < 65536; hi++) {
      const upper = this.directory[hi >>> 8];
      if (upper === undefined) {
        hi |= 255;
        continue;
      }
      const mid = upper[hi & 255];
      if (mid === undefined) continue;
      const midFrom = hi === start >>> 16 ? (start >>> 8) & 255 : 0;
      for (let m = midFrom; m < 256; m++) {
        const page = mid[m];
        if (page === undefined || page[PAGE_COUNT_AT] === 0) continue;
        const from = hi === start >>> 16 && m === midFrom ? start & 255 : 0;
        for (let i = from; i < PAGE_SIZE; i++) {
          const s = page[i]!;
          if (s === NO_SLOT || ((stateMask >>> state[s]!) & 1) === 0) continue;
          if (scopeIndex >= 0 && this.scope[s] !== scopeIndex) continue;
          if (ownerIndex >= 0 && this.owner[s] !== ownerIndex) continue;
          if (extra !== null && !extra(s)) continue;
          if (visit(s) === false) return;
        }
      }
    }
  }

  /** Every binding as a fresh Lease, in address order (materialises all: tests and small tables). */
  *leases(): IterableIterator<Lease> {
    const slots: number[] = [];
    this.forEachFrom(-1, (s) => {
      slots.push(s);
      return true;
    });
    for (const s of slots) if (this.state[s] !== 255) yield this.leaseAt(s);
  }

  /**
   * The first address in [from, to] that holds no binding, or null. Skips full /24 pages whole,
   * so a walk over a densely used range costs a few steps per 256 addresses.
   */
  nextAbsent(from: Ipv4, to: Ipv4): Ipv4 | null {
    let a = from;
    while (a <= to) {
      const mid = this.directory[a >>> 24]?.[(a >>> 16) & 255];
      if (mid === undefined) return a;
      const page = mid[(a >>> 8) & 255];
      if (page === undefined || page[PAGE_COUNT_AT] === 0) return a;
      const pageEnd = (a | 255) >>> 0;
      if (page[PAGE_COUNT_AT] === PAGE_SIZE) {
        a = pageEnd + 1;
        continue;
      }
      const last = Math.min(pageEnd, to);
      for (; a <= last; a++) if (page[a & 255] === NO_SLOT) return a;
    }
    return null;
  }

  // -----------------------------------------------------------------------------------------------
  // Client index

  /** The address of the binding last put for this client in scope `scopeId`, if any. */
  addressOfClient(scopeId: string, clientKey: string): Ipv4 | undefined {
    const scopeIndex = this.nameIndex.get(scopeId);
    if (scopeIndex === undefined) return undefined;
    const h = hashKey(scopeIndex, clientKey);
    const slots = this.clientSlots;
    const mask = slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === EMPTY) return undefined;
      if (
        s >= 0 &&
        this.keyHash[s] === h &&
        this.scope[s] === scopeIndex &&
        this.clientKeyAt(s) === clientKey
      )
        return this.addr[s]!;
    }
  }

  /** The client key of the binding in slot `s` (clientKeyOf), or null. */
  clientKeyAt(s: number): string | null {
    const f = this.flags[s]!;
    if ((f & F_SIDE) !== 0) return clientKeyOf(this.side.get(s)!);
    if ((f & F_CID_FROM_HW) !== 0) return `c${HEX[this.hwType[s]!]}${this.hwHexAt(s)}`;
    const cid = this.clientIds[s]!;
    if (cid !== null) return `c${cid}`;
    if (this.hwLen[s] === 0) return null;
    return `h${this.hwType[s]}:${this.hwHexAt(s)}`;
  }

  /** Adds slot `s` (whose client key hashes to `h`) to the client index. */
  private indexClient(s: number, h: number): void {
    const scopeIndex = this.scope[s]!;
    let key: string | null = null; // built only if another entry has the same hash
    this.keyHash[s] = h;
    if ((this.clientUsed + 1) * 2 > this.clientSlots.length) {
      // Mostly tombstones: clean up in place; else double.
      const size = this.clientSlots.length;
      this.rehashClients((this.clientLive + 1) * 4 > size ? size * 2 : size);
    }
    const slots = this.clientSlots;
    const mask = slots.length - 1;
    let firstFree = -1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const t = slots[i]!;
      if (t === EMPTY) {
        if (firstFree < 0) {
          firstFree = i;
          this.clientUsed++;
        }
        break;
      }
      if (t === TOMBSTONE) {
        if (firstFree < 0) firstFree = i;
        continue;
      }
      if (this.keyHash[t] === h && this.scope[t] === scopeIndex) key ??= this.clientKeyAt(s);
      if (this.keyHash[t] === h && this.scope[t] === scopeIndex && this.clientKeyAt(t) === key) {
        // Another binding of the same client: the newest put wins (the entry moves here).
        this.flags[t] = this.flags[t]! & ~F_INDEXED;
        slots[i] = s;
        this.flags[s] = this.flags[s]! | F_INDEXED;
        return;
      }
    }
    slots[firstFree] = s;
    this.clientLive++;
    this.flags[s] = this.flags[s]! | F_INDEXED;
  }

  /** Removes the index entry that points at slot `s` (the slot's columns still hold its key). */
  private unindexClient(s: number): void {
    const h = this.keyHash[s]!;
    const slots = this.clientSlots;
    const mask = slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const t = slots[i]!;
      if (t === EMPTY) throw new Error(`lease table: client index lost the entry of ${this.addr[s]}`);
      if (t === s) {
        slots[i] = TOMBSTONE;
        this.clientLive--;
        break;
      }
    }
    this.flags[s] = this.flags[s]! & ~F_INDEXED;
  }

  private rehashClients(size: number): void {
    const next = new Int32Array(size).fill(EMPTY);
    const mask = size - 1;
    let used = 0;
    for (const s of this.clientSlots) {
      if (s < 0) continue;
      let i = this.keyHash[s]! & mask;
      while (next[i] !== EMPTY) i = (i + 1) & mask;
      next[i] = s;
      used++;
    }
    this.clientSlots = next;
    this.clientUsed = used;
    this.clientLive = used;
  }

  // -----------------------------------------------------------------------------------------------
  // Expiry

  /** Earliest expiry among bindings that run out (active or abandoned, finite), or null. */
  nextExpiryAt(): number | null {
    return this.heapSize === 0 ? null : this.leaseExpiresAtAt(this.heap[0]!);
  }

  /**
   * Removes and returns the address whose binding runs out first if that is at or before `now`.
   * The caller puts the binding that follows (until then the address is out of the expiry index).
   */
  popDue(now: number): Ipv4 | null {
    if (this.heapSize === 0) return null;
    const s = this.heap[0]!;
    if (this.leaseExpiresAtAt(s) > now) return null;
    this.heapRemove(s);
    return this.addr[s]!;
  }

  private isExpiring(s: number): boolean {
    const st = this.state[s];
    if (st !== ACTIVE && st !== ABANDONED) return false;
    const e = this.leaseExpiresAtAt(s);
    return e !== INFINITE_EXPIRY && e > 0;
  }

  private reschedule(s: number): void {
    const inHeap = this.heapPos[s]! >= 0;
    if (this.isExpiring(s)) {
      if (inHeap) {
        this.siftUp(this.heapPos[s]!);
        this.siftDown(this.heapPos[s]!);
      } else {
        const i = this.heapSize++;
        this.heap[i] = s;
        this.heapPos[s] = i;
        this.siftUp(i);
      }
    } else if (inHeap) {
      this.heapRemove(s);
    }
  }

  /** (expiry, address) order. */
  private before(a: number, b: number): boolean {
    const ea = this.leaseExpiresAtAt(a);
    const eb = this.leaseExpiresAtAt(b);
    return ea < eb || (ea === eb && this.addr[a]! < this.addr[b]!);
  }

  private heapRemove(s: number): void {
    const i = this.heapPos[s]!;
    const last = this.heap[--this.heapSize]!;
    this.heapPos[s] = -1;
    if (last === s) return;
    this.heap[i] = last;
    this.heapPos[last] = i;
    this.siftUp(i);
    this.siftDown(this.heapPos[last]!);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const s = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = heap[p]!;
      if (!this.before(s, ps)) break;
      heap[i] = ps;
      this.heapPos[ps] = i;
      i = p;
    }
    heap[i] = s;
    this.heapPos[s] = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = this.heapSize;
    const s = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(heap[r]!, heap[l]!) ? r : l;
      const cs = heap[c]!;
      if (!this.before(cs, s)) break;
      heap[i] = cs;
      this.heapPos[cs] = i;
      i = c;
    }
    heap[i] = s;
    this.heapPos[s] = i;
  }

  // -----------------------------------------------------------------------------------------------
  // Tallies

  /** Sets how records are tallied and recounts every record (one pass). */
  setTallyRule(rule: TallyRule | null): void {
    this.rule = rule;
    this.countedOwnerIndex =
      rule === null ? -1 : rule.countedOwner === null ? 0 : this.intern(rule.countedOwner);
    this.tallies = new Int32Array((rule?.groupCount ?? 0) * TALLY_WIDTH);
    this.tallyGroup.fill(0);
    if (rule === null) return;
    for (let s = 0; s < this.highWater; s++) if (this.state[s] !== 255) this.tally(s);
  }

  /** The counts of tally group `group` (see setTallyRule). */
  tallyOf(group: number): Tally {
    const base = group * TALLY_WIDTH;
    const t = this.tallies;
    if (base < 0 || base + TALLY_WIDTH > t.length)
      throw new RangeError(`lease table: no tally group ${group}`);
    const byState = {} as Record<BindingState, number>;
    for (let i = 0; i < BINDING_STATES.length; i++) byState[BINDING_STATES[i]!] = t[base + i]!;
    return { records: t[base + TALLY_RECORDS]!, byState, activeOwned: t[base + TALLY_ACTIVE_OWNED]! };
  }

  private tally(s: number): void {
    const rule = this.rule;
    if (rule === null) return;
    const g = rule.groupOf(this.addr[s]!, this.names[this.scope[s]!]!);
    if (g < 0 || g >= rule.groupCount) {
      this.tallyGroup[s] = 0;
      return;
    }
    this.tallyGroup[s] = g + 1;
    this.addTally(s, g, 1);
  }

  private untally(s: number): void {
    const g = this.tallyGroup[s]!;
    if (g === 0) return;
    this.tallyGroup[s] = 0;
    this.addTally(s, g - 1, -1);
  }

  private countScopeState(s: number, delta: number): void {
    const i = this.scope[s]! * STATE_ROW + this.state[s]!;
    if (i >= this.scopeStateCounts.length) {
      const grown = new Int32Array(Math.max(this.scopeStateCounts.length * 2, i + STATE_ROW));
      grown.set(this.scopeStateCounts);
      this.scopeStateCounts = grown;
    }
    this.scopeStateCounts[i]! += delta;
  }

  private addTally(s: number, group: number, delta: number): void {
    const base = group * TALLY_WIDTH;
    const st = this.state[s]!;
    this.tallies[base + st]! += delta;
    this.tallies[base + TALLY_RECORDS]! += delta;
    if (st === ACTIVE && this.owner[s] === this.countedOwnerIndex)
      this.tallies[base + TALLY_ACTIVE_OWNED]! += delta;
  }

  // -----------------------------------------------------------------------------------------------
  // Slots and pages

  /** Index of `name` in the interned names; `column` picks the one-entry cache to use. */
  private intern(name: string, column = 0): number {
    // Consecutive bindings (loading in address order) mostly repeat the names of the last one.
    if (name === this.lastNames[column]) return this.lastNameIndexes[column]!;
    const i = this.lookupName(name);
    this.lastNames[column] = name;
    this.lastNameIndexes[column] = i;
    return i;
  }

  private lookupName(name: string): number {
    const i = this.nameIndex.get(name);
    if (i !== undefined) return i;
    if (this.names.length > 0xffff) throw new RangeError('lease table: more than 65535 distinct names');
    this.names.push(name);
    this.nameIndex.set(name, this.names.length - 1);
    return this.names.length - 1;
  }

  private allocateSlot(address: Ipv4): number {
    let s = this.freeSlots.pop();
    if (s === undefined) {
      if (this.highWater === this.capacity) this.grow(this.capacity * 2);
      s = this.highWater++;
    }
    this.setSlotOf(address, s);
    this.count++;
    return s;
  }

  private setSlotOf(address: Ipv4, s: number): void {
    let upper = this.directory[address >>> 24];
    if (upper === undefined) {
      if (s === NO_SLOT) return;
      upper = new Array<Directory24 | undefined>(256);
      this.directory[address >>> 24] = upper;
    }
    const hi = (address >>> 16) & 255;
    let mid = upper[hi];
    if (mid === undefined) {
      if (s === NO_SLOT) return;
      mid = new Array<Int32Array | undefined>(256);
      upper[hi] = mid;
    }
    const m = (address >>> 8) & 255;
    let page = mid[m];
    if (page === undefined) {
      if (s === NO_SLOT) return;
      page = new Int32Array(PAGE_SIZE + 1).fill(NO_SLOT);
      page[PAGE_COUNT_AT] = 0;
      mid[m] = page;
    }
    const i = address & 255;
    const had = page[i] !== NO_SLOT;
    page[i] = s;
    if (had && s === NO_SLOT) page[PAGE_COUNT_AT]!--;
    else if (!had && s !== NO_SLOT) page[PAGE_COUNT_AT]!++;
  }

  private grow(capacity: number): void {
    const copy = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(
      a: T,
      n: number,
      fill?: number,
    ): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      if (fill !== undefined) b.fill(fill);
      b.set(a);
      return b;
    };
    this.addr = copy(this.addr, capacity);
    this.scope = copy(this.scope, capacity);
    this.owner = copy(this.owner, capacity);
    this.policy = copy(this.policy, capacity);
    this.state = copy(this.state, capacity, 255);
    this.flags = copy(this.flags, capacity);
    this.hwType = copy(this.hwType, capacity);
    this.hwLen = copy(this.hwLen, capacity);
    this.hwHi = copy(this.hwHi, capacity);
    this.hwLo = copy(this.hwLo, capacity);
    this.times = copy(this.times, capacity * TIME_STRIDE);
    this.keyHash = copy(this.keyHash, capacity);
    this.heap = copy(this.heap, capacity);
    this.heapPos = copy(this.heapPos, capacity, -1);
    this.tallyGroup = copy(this.tallyGroup, capacity);
    const from = this.clientIds.length;
    this.clientIds.length = capacity;
    this.clientIds.fill(null, from);
    this.hostnames.grow(capacity);
    this.fqdns.grow(capacity);
    this.capacity = capacity;
  }
}
