// DNS message codec for dynamic updates (RFC 1035 §4, RFC 2136 §2). Pure: a message value in,
// bytes out; bytes in, a message or an error with its byte offset out. Names are written without
// compression (an UPDATE is small, and RFC 8945 signs the bytes as sent); names read may use
// compression pointers (RFC 1035 §4.1.4), as a server's answer may.
//
// Names are dotted text without the trailing dot; '' is the root. Labels are written as given
// (the callers build them from sanitised host names: letters, digits, '-', '_').

export const RR_TYPE = {
  A: 1,
  NS: 2,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  DHCID: 49,
  TSIG: 250,
  ANY: 255,
} as const;

export const RR_CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;

export const OPCODE_UPDATE = 5;

/** RFC 1035 §4.1.1, RFC 2136 §2.2 (RCODE), RFC 8945 §5.3 (TSIG error field). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
  BADTRUNC: 22,
} as const;

const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([k, v]) => [v, k]));

export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
}

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** RDATA as on the wire (names inside it uncompressed when we write them). */
  rdata: Uint8Array;
}

/**
 * A DNS message. For an UPDATE (RFC 2136 §2) the sections are named zone, prerequisite, update
 * and additional; they are the question, answer, authority and additional sections of RFC 1035.
 */
export interface DnsMessage {
  id: number;
  isResponse: boolean;
  opcode: number;
  isAuthoritative: boolean;
  isTruncated: boolean;
  isRecursionDesired: boolean;
  isRecursionAvailable: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export interface DecodedDnsMessage {
  message: DnsMessage;
  /** Byte offset where each additional record starts (TSIG verification needs the last one). */
  additionalOffsets: number[];
}

export type DnsDecodeResult =
  | { ok: true; decoded: DecodedDnsMessage }
  | { ok: false; offset: number; message: string };

export const HEADER_BYTES = 12;
const MAX_NAME_WIRE_BYTES = 255;
const MAX_LABEL_BYTES = 63;
/** A pointer chain longer than this is a loop (a name has at most 127 labels). */
const MAX_POINTER_JUMPS = 128;

// -----------------------------------------------------------------------------------------------
// Names

/** Labels of a dotted name ('' → no labels, the root). */
export function labelsOf(name: string): string[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return trimmed === '' ? [] : trimmed.split('.');
}

/** A name in wire format, uncompressed, ending with the root label. Throws on a bad name. */
export function encodeName(name: string, isCanonical = false): Uint8Array {
  const labels = labelsOf(name);
  const parts: number[] = [];
  for (const label of labels) {
    const text = isCanonical ? label.toLowerCase() : label;
    const bytes = Buffer.from(text, 'latin1');
    if (bytes.length === 0) throw new RangeError(`empty label in DNS name '${name}'`);
    if (bytes.length > MAX_LABEL_BYTES) throw new RangeError(`label longer than 63 bytes in '${name}'`);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0);
  if (parts.length > MAX_NAME_WIRE_BYTES) throw new RangeError(`DNS name longer than 255 bytes: '${name}'`);
  return Uint8Array.from(parts);
}

/** Whether `name` can be written as a DNS name. */
export function isEncodableName(name: string): boolean {
  try {
    encodeName(name);
    return true;
  } catch {
    return false;
  }
}

/** Names compare without regard to ASCII case (RFC 4343). */
export function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

/** `name` is `zone` or below it. */
export function isInZone(name: string, zone: string): boolean {
  const n = labelsOf(name.toLowerCase());
  const z = labelsOf(zone.toLowerCase());
  if (z.length > n.length) return false;
  for (let i = 1; i <= z.length; i++) if (n[n.length - i] !== z[z.length - i]) return false;
  return true;
}

/** Reads a possibly compressed name at `start`; returns it and the offset after it. */
function readName(
  d: Uint8Array,
  start: number,
): { name: string; next: number } | { error: string; offset: number } {
  const labels: string[] = [];
  let pos = start;
  let next = -1;
  let jumps = 0;
  let wireLength = 1;
  for (;;) {
    if (pos >= d.length) return { error: 'name runs past the end of the message', offset: pos };
    const len = d[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= d.length) return { error: 'truncated compression pointer', offset: pos };
      const target = ((len & 0x3f) << 8) | d[pos + 1]!;
      if (next < 0) next = pos + 2;
      if (++jumps > MAX_POINTER_JUMPS || target >= d.length)
        return { error: 'bad compression pointer', offset: pos };
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return { error: `unknown label type 0x${len.toString(16)}`, offset: pos };
    if (pos + 1 + len > d.length) return { error: 'label runs past the end of the message', offset: pos };
    wireLength += len + 1;
    if (wireLength > MAX_NAME_WIRE_BYTES) return { error: 'name longer than 255 bytes', offset: start };
    let label = '';
    for (let i = pos + 1; i <= pos + len; i++) {
      const c = d[i]!;
      // Keep the dotted text unambiguous: a '.' or '\' inside a label is escaped.
      label += c === 0x2e || c === 0x5c ? `\\${String.fromCharCode(c)}` : String.fromCharCode(c);
    }
    labels.push(label);
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

// -----------------------------------------------------------------------------------------------
// Encoding

class Writer {
  private buf = new Uint8Array(512);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }
  u16(v: number): void {
    this.u8(v >>> 8);
    this.u8(v);
  }
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function checkUint(value: number, bits: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`${what} ${value} does not fit in ${bits} bits`);
  }
}

function writeRecord(w: Writer, r: DnsRecord): void {
  checkUint(r.type, 16, 'type');
  checkUint(r.class, 16, 'class');
  checkUint(r.ttl, 32, 'TTL');
  checkUint(r.rdata.length, 16, 'RDATA length');
  w.bytes(encodeName(r.name));
  w.u16(r.type);
  w.u16(r.class);
  w.u32(r.ttl);
  w.u16(r.rdata.length);
  w.bytes(r.rdata);
}

/** The message as bytes (no name compression). Throws RangeError on values that do not fit. */
export function encodeDnsMessage(m: DnsMessage): Uint8Array {
  checkUint(m.id, 16, 'id');
  checkUint(m.opcode, 4, 'opcode');
  checkUint(m.rcode, 4, 'rcode');
  const w = new Writer();
  w.u16(m.id);
  w.u8(
    (m.isResponse ? 0x80 : 0) |
      (m.opcode << 3) |
      (m.isAuthoritative ? 0x04 : 0) |
      (m.isTruncated ? 0x02 : 0) |
      (m.isRecursionDesired ? 0x01 : 0),
  );
  w.u8((m.isRecursionAvailable ? 0x80 : 0) | m.rcode);
  for (const section of [m.questions, m.answers, m.authorities, m.additionals]) {
    checkUint(section.length, 16, 'section count');
    w.u16(section.length);
  }
  for (const q of m.questions) {
    checkUint(q.type, 16, 'type');
    checkUint(q.class, 16, 'class');
    w.bytes(encodeName(q.name));
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const r of m.answers) writeRecord(w, r);
  for (const r of m.authorities) writeRecord(w, r);
  for (const r of m.additionals) writeRecord(w, r);
  return w.result();
}

// -----------------------------------------------------------------------------------------------
// Decoding

function u16At(d: Uint8Array, at: number): number {
  return (d[at]! << 8) | d[at + 1]!;
}

function u32At(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) >>> 0) + ((d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!);
}

/** Decodes a whole message; never throws. */
export function decodeDnsMessage(d: Uint8Array): DnsDecodeResult {
  if (d.length < HEADER_BYTES) return { ok: false, offset: 0, message: 'shorter than a DNS header' };
  const flags1 = d[2]!;
  const flags2 = d[3]!;
  const counts = [u16At(d, 4), u16At(d, 6), u16At(d, 8), u16At(d, 10)] as const;
  const message: DnsMessage = {
    id: u16At(d, 0),
    isResponse: (flags1 & 0x80) !== 0,
    opcode: (flags1 >>> 3) & 0x0f,
    isAuthoritative: (flags1 & 0x04) !== 0,
    isTruncated: (flags1 & 0x02) !== 0,
    isRecursionDesired: (flags1 & 0x01) !== 0,
    isRecursionAvailable: (flags2 & 0x80) !== 0,
    rcode: flags2 & 0x0f,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  const additionalOffsets: number[] = [];
  let pos = HEADER_BYTES;
  for (let i = 0; i < counts[0]; i++) {
    const n = readName(d, pos);
    if ('error' in n) return { ok: false, offset: n.offset, message: `question ${i}: ${n.error}` };
    if (n.next + 4 > d.length) return { ok: false, offset: n.next, message: `question ${i} truncated` };
    message.questions.push({ name: n.name, type: u16At(d, n.next), class: u16At(d, n.next + 2) });
    pos = n.next + 4;
  }
  const sections = [message.answers, message.authorities, message.additionals];
  for (let s = 0; s < 3; s++) {
    const list = sections[s]!;
    for (let i = 0; i < counts[s + 1]!; i++) {
      if (s === 2) additionalOffsets.push(pos);
      const n = readName(d, pos);
      if ('error' in n) return { ok: false, offset: n.offset, message: `record: ${n.error}` };
      if (n.next + 10 > d.length) return { ok: false, offset: n.next, message: 'record header truncated' };
      const rdLength = u16At(d, n.next + 8);
      const start = n.next + 10;
      if (start + rdLength > d.length) return { ok: false, offset: start, message: 'RDATA truncated' };
      list.push({
        name: n.name,
        type: u16At(d, n.next),
        class: u16At(d, n.next + 2),
        ttl: u32At(d, n.next + 4),
        rdata: d.slice(start, start + rdLength),
      });
      pos = start + rdLength;
    }
  }
  if (pos !== d.length) return { ok: false, offset: pos, message: 'bytes after the last record' };
  return { ok: true, decoded: { message, additionalOffsets } };
}

// -----------------------------------------------------------------------------------------------
// RDATA

/** A record's RDATA for an IPv4 address (host-order number). */
export function aRdata(address: number): Uint8Array {
  return Uint8Array.of(address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255);
}

export function ptrRdata(name: string): Uint8Array {
  return encodeName(name);
}

/** The in-addr.arpa name of an IPv4 address (RFC 1035 §3.5). */
export function reverseNameOf(address: number): string {
  return `${address & 255}.${(address >>> 8) & 255}.${(address >>> 16) & 255}.${address >>> 24}.in-addr.arpa`;
}

/** An empty UPDATE message for `zone` (RFC 2136 §2.3). */
export function newUpdate(id: number, zone: string): DnsMessage {
  return {
    id,
    isResponse: false,
    opcode: OPCODE_UPDATE,
    isAuthoritative: false,
    isTruncated: false,
    isRecursionDesired: false,
    isRecursionAvailable: false,
    rcode: 0,
    questions: [{ name: zone, type: RR_TYPE.SOA, class: RR_CLASS.IN }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

// RFC 2136 §2.4 prerequisites and §2.5 updates, as records.
const EMPTY = new Uint8Array(0);

/** §2.4.5 Name is not in use. */
export function prereqNameNotInUse(name: string): DnsRecord {
  return { name, type: RR_TYPE.ANY, class: RR_CLASS.NONE, ttl: 0, rdata: EMPTY };
}
/** §2.4.2 RRset exists (value dependent). */
export function prereqRecordExists(name: string, type: number, rdata: Uint8Array): DnsRecord {
  return { name, type, class: RR_CLASS.IN, ttl: 0, rdata };
}
/** §2.4.3 RRset does not exist. */
export function prereqRrsetAbsent(name: string, type: number): DnsRecord {
  return { name, type, class: RR_CLASS.NONE, ttl: 0, rdata: EMPTY };
}
/** §2.5.1 Add to an RRset. */
export function addRecord(name: string, type: number, ttl: number, rdata: Uint8Array): DnsRecord {
  return { name, type, class: RR_CLASS.IN, ttl, rdata };
}
/** §2.5.2 Delete an RRset. */
export function deleteRrset(name: string, type: number): DnsRecord {
  return { name, type, class: RR_CLASS.ANY, ttl: 0, rdata: EMPTY };
}
/** §2.5.4 Delete an RR from an RRset. */
export function deleteRecord(name: string, type: number, rdata: Uint8Array): DnsRecord {
  return { name, type, class: RR_CLASS.NONE, ttl: 0, rdata };
}
