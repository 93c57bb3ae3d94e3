// The DHCPv4 packet codec: RFC 2131 §2 fixed header, the RFC 1497 magic cookie, and the options
// area with RFC 2132 §9.3 overloading and RFC 3396 long options. Pure: bytes in, DhcpPacket or a
// typed error out, and back. Decoding never throws: every read is bounds-checked against the
// area it belongs to, so malformed input becomes a DhcpDecodeError with the offending offset.

import { copyBytes, newBytes } from './byte-slab.js';
import {
  DHCP_MAGIC_COOKIE,
  type DhcpDecodeError,
  type DhcpDecodeResult,
  type DhcpPacket,
} from './dhcp-packet.js';

/** RFC 2131 §2: op … file is 236 bytes; the options field (and its cookie) follows. */
export const BOOTP_HEADER_LENGTH = 236;
/** RFC 1542 §3.1.1 / RFC 951: a BOOTP message is at least 300 bytes (64-byte vend area). */
export const BOOTP_MIN_LENGTH = 300;
/** The largest UDP payload an IPv4 datagram can carry (65535 − 20 − 8). */
export const DHCP_MAX_LENGTH = 65507;
/** RFC 2132 §9.10: the smallest legal Maximum DHCP Message Size, also the default. */
export const DEFAULT_MAX_MESSAGE_SIZE = 576;
/** IPv4 header without options plus the UDP header. */
const IP_UDP_HEADER_LENGTH = 28;

// RFC 2131 §2 field offsets.
const OFF_XID = 4;
const OFF_SECS = 8;
const OFF_FLAGS = 10;
const OFF_CIADDR = 12;
const OFF_YIADDR = 16;
const OFF_SIADDR = 20;
const OFF_GIADDR = 24;
const OFF_CHADDR = 28;
const OFF_SNAME = 44;
const OFF_FILE = 108;
const OFF_COOKIE = 236;
const OFF_OPTIONS = 240;
const CHADDR_LENGTH = 16;
const SNAME_LENGTH = 64;
const FILE_LENGTH = 128;
const MAX_HLEN = 16;

const OPT_PAD = 0;
const OPT_END = 255;
const OPT_OVERLOAD = 52;
/** RFC 3046: relay agent information, laid out by its own rule (see encodeDhcpReport). */
const OPT_RELAY_AGENT_INFO = 82;
/** RFC 2132 §9.3 option 52 values. */
const OVERLOAD_FILE = 1;
const OVERLOAD_SNAME = 2;

export interface DecodeDhcpOptions {
  /**
   * Reject an options area (main, or an overloaded file/sname field) that runs to its end without
   * an End option. Off by default: RFC 2131 §4.1 requires End, but real clients omit it and
   * deployed servers (ISC dhcpd, Kea) accept such packets, so we do too.
   */
  requireEnd?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Decoder scratch state. decodeDhcp is synchronous and not re-entrant, so one set of tables is
// reused across calls instead of allocating per packet. Fragments of one option code form a
// linked list (head/tail per code, next per fragment) so that RFC 3396 concatenation is linear in
// the number of fragments even for hostile packets full of repeated codes.
// ---------------------------------------------------------------------------------------------

/** Upper bound on fragments: every fragment is at least 2 bytes of some options area. */
const MAX_FRAGMENTS = (DHCP_MAX_LENGTH - OFF_OPTIONS + SNAME_LENGTH + FILE_LENGTH) / 2 + 2;
const fragStart = new Int32Array(MAX_FRAGMENTS);
const fragLength = new Uint8Array(MAX_FRAGMENTS);
const fragNext = new Int32Array(MAX_FRAGMENTS);
const codeHead = new Int32Array(256);
const codeTail = new Int32Array(256);
const codeTotal = new Int32Array(256);
const codeOrder = new Uint8Array(256);
let fragCount = 0;
let codeCount = 0;
// Option 52 as seen in the main options area (RFC 3396 applies to it too, so track the total).
let overloadOffset = -1;
let overloadTotal = 0;
let overloadValue = 0;
// Set by scanArea: whether the area was closed by an End option.
let sawEnd = false;

function resetDecoderState(): void {
  codeHead.fill(-1);
  fragCount = 0;
  codeCount = 0;
  overloadOffset = -1;
  overloadTotal = 0;
  overloadValue = 0;
  sawEnd = false;
}

function fail(reason: DhcpDecodeError['reason'], offset: number, message: string): DhcpDecodeResult {
  return { ok: false, error: { reason, offset, message } };
}

/**
 * Walks one options area [start, end): records fragments, returns an error result or null.
 * `isMain` is false for the overloaded file/sname fields, where option 52 is ignored (RFC 2131
 * §4.1: the overload option belongs in the options field only).
 */
function scanArea(
  src: Uint8Array,
  start: number,
  end: number,
  area: string,
  isMain: boolean,
): DhcpDecodeResult | null {
  let i = start;
  while (i < end) {
    const code = src[i]!;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (code === OPT_END) {
      sawEnd = true;
      return null;
    }
    if (i + 1 >= end) {
      return fail(
        'option-truncated',
        i,
        `option ${code} at offset ${i} has no length byte before the end of the ${area}`,
      );
    }
    const length = src[i + 1]!;
    const dataStart = i + 2;
    if (dataStart + length > end) {
      return fail(
        'option-overrun',
        i,
        `option ${code} at offset ${i} declares ${length} bytes but only ${end - dataStart} remain in the ${area}`,
      );
    }
    if (code === OPT_OVERLOAD) {
      if (isMain) {
        if (overloadOffset < 0) overloadOffset = i;
        overloadTotal += length;
        if (length > 0) overloadValue = src[dataStart]!;
      }
    } else {
      const f = fragCount++;
      fragStart[f] = dataStart;
      fragLength[f] = length;
      fragNext[f] = -1;
      if (codeHead[code] === -1) {
        codeHead[code] = f;
        codeTotal[code] = length;
        codeOrder[codeCount++] = code;
      } else {
        fragNext[codeTail[code]!] = f;
        codeTotal[code] = codeTotal[code]! + length;
      }
      codeTail[code] = f;
    }
    i = dataStart + length;
  }
  sawEnd = false;
  return null;
}

function readUint32(src: Uint8Array, offset: number): number {
  return ((src[offset]! << 24) | (src[offset + 1]! << 16) | (src[offset + 2]! << 8) | src[offset + 3]!) >>> 0;
}

/** A plain Uint8Array over the same memory, so that .slice() copies into a Uint8Array (not a Buffer view). */
function plainView(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isZero(src: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (src[i] !== 0) return false;
  return true;
}

/**
 * Decodes one DHCP/BOOTP message (the UDP payload). Never throws.
 *
 * - No magic cookie: if everything after the 236-byte header is zero (or absent) the packet is plain
 *   BOOTP (RFC 951: the vend area is opaque and usually zero-filled) → hasMagicCookie=false,
 *   options empty. Anything else there that is not the cookie is 'bad-magic-cookie'.
 * - A missing End option is accepted unless `requireEnd` is set (see DecodeDhcpOptions).
 * - Bytes after End are padding and ignored.
 * - When option 52 overloads a field, the options found there are merged into `options` and the
 *   field itself is returned zero-filled (its bytes were options, not a server name / file name).
 *
 * All returned byte arrays are fresh copies: nothing aliases the input datagram.
 */
export function decodeDhcp(bytes: Uint8Array, opts?: DecodeDhcpOptions): DhcpDecodeResult {
  try {
    return decodeChecked(plainView(bytes), opts?.requireEnd === true);
  } catch (e) {
    // Belt only: decodeChecked is bounds-checked throughout and the fuzz test asserts this branch
    // is never taken. It exists so that a decoder bug costs one dropped packet, not the process.
    return fail('option-overrun', 0, `internal decoder error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodeChecked(src: Uint8Array, requireEnd: boolean): DhcpDecodeResult {
  const n = src.length;
  if (n < BOOTP_HEADER_LENGTH) {
    return fail(
      'too-short',
      n,
      `datagram of ${n} bytes is shorter than the ${BOOTP_HEADER_LENGTH}-byte BOOTP header`,
    );
  }
  if (n > DHCP_MAX_LENGTH) {
    return fail(
      'too-long',
      DHCP_MAX_LENGTH,
      `datagram of ${n} bytes exceeds the ${DHCP_MAX_LENGTH}-byte UDP maximum`,
    );
  }
  const op = src[0]!;
  if (op !== 1 && op !== 2) return fail('bad-op', 0, `op ${op} is neither BOOTREQUEST (1) nor BOOTREPLY (2)`);
  const hlen = src[2]!;
  if (hlen > MAX_HLEN) return fail('bad-hlen', 2, `hlen ${hlen} exceeds the ${MAX_HLEN}-byte chaddr field`);

  let hasMagicCookie = false;
  if (n >= OFF_OPTIONS && readUint32(src, OFF_COOKIE) === DHCP_MAGIC_COOKIE) {
    hasMagicCookie = true;
  } else if (!isZero(src, OFF_COOKIE, n)) {
    return fail(
      'bad-magic-cookie',
      OFF_COOKIE,
      'bytes after the BOOTP header are neither the DHCP magic cookie nor zero',
    );
  }

  const options = new Map<number, Uint8Array>();
  let sname: Uint8Array | null = null;
  let file: Uint8Array | null = null;

  if (hasMagicCookie) {
    resetDecoderState();
    const mainError = scanArea(src, OFF_OPTIONS, n, 'options field', true);
    if (mainError) return mainError;
    if (requireEnd && !sawEnd) return fail('missing-end', n, 'options field has no End option');

    if (overloadOffset >= 0) {
      // RFC 2132 §9.3: one byte, 1 = file, 2 = sname, 3 = both.
      if (overloadTotal !== 1 || overloadValue < 1 || overloadValue > 3) {
        return fail(
          'bad-overload',
          overloadOffset,
          overloadTotal !== 1
            ? `option 52 (overload) has length ${overloadTotal}, expected 1`
            : `option 52 (overload) value ${overloadValue} is not 1, 2 or 3`,
        );
      }
      // RFC 2131 §4.1 / RFC 3396 §5: the file field is read before sname.
      if (overloadValue & OVERLOAD_FILE) {
        const e = scanArea(src, OFF_FILE, OFF_FILE + FILE_LENGTH, 'file field', false);
        if (e) return e;
        if (requireEnd && !sawEnd)
          return fail('missing-end', OFF_FILE + FILE_LENGTH, 'overloaded file field has no End option');
        file = newBytes(FILE_LENGTH);
      }
      if (overloadValue & OVERLOAD_SNAME) {
        const e = scanArea(src, OFF_SNAME, OFF_SNAME + SNAME_LENGTH, 'sname field', false);
        if (e) return e;
        if (requireEnd && !sawEnd) {
          return fail('missing-end', OFF_SNAME + SNAME_LENGTH, 'overloaded sname field has no End option');
        }
        sname = newBytes(SNAME_LENGTH);
      }
    }

    // RFC 3396 §6: fragments of one code are concatenated in the order they were met.
    for (let k = 0; k < codeCount; k++) {
      const code = codeOrder[k]!;
      let f = codeHead[code]!;
      if (fragNext[f] === -1) {
        const s = fragStart[f]!;
        options.set(code, copyBytes(src, s, s + fragLength[f]!));
        continue;
      }
      const data = newBytes(codeTotal[code]!);
      let w = 0;
      for (; f !== -1; f = fragNext[f]!) {
        const s = fragStart[f]!;
        const l = fragLength[f]!;
        data.set(src.subarray(s, s + l), w);
        w += l;
      }
      options.set(code, data);
    }
  }

  return {
    ok: true,
    packet: {
      op,
      htype: src[1]!,
      hlen,
      hops: src[3]!,
      xid: readUint32(src, OFF_XID),
      secs: (src[OFF_SECS]! << 8) | src[OFF_SECS + 1]!,
      flags: (src[OFF_FLAGS]! << 8) | src[OFF_FLAGS + 1]!,
      ciaddr: readUint32(src, OFF_CIADDR),
      yiaddr: readUint32(src, OFF_YIADDR),
      siaddr: readUint32(src, OFF_SIADDR),
      giaddr: readUint32(src, OFF_GIADDR),
      chaddr: copyBytes(src, OFF_CHADDR, OFF_CHADDR + CHADDR_LENGTH),
      sname: sname ?? copyBytes(src, OFF_SNAME, OFF_SNAME + SNAME_LENGTH),
      file: file ?? copyBytes(src, OFF_FILE, OFF_FILE + FILE_LENGTH),
      hasMagicCookie,
      options,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Encoder. One preallocated scratch buffer holds the message while it is laid out; the result is
// copied out so callers own it (it may sit in a socket queue while the next packet is encoded).
// ---------------------------------------------------------------------------------------------

export interface EncodeDhcpOptions {
  /**
   * The client's Maximum DHCP Message Size (option 57), or 576 when it sent none. Clamped to
   * [576, 65535] (RFC 2132 §9.10: 576 is the minimum legal value). Counted as an IP datagram
   * size: RFC 2131 §2 pairs the 576-octet minimum with a 312-octet options field, i.e. the 576
   * includes the 20-byte IP and 8-byte UDP headers, so the message itself is at most maxSize − 28.
   * Reading it that way is safe under either interpretation of option 57.
   */
  maxSize?: number;
}

export interface DhcpEncodeReport {
  bytes: Uint8Array;
  /**
   * Option codes left out, in map order: options that did not fit even after overloading,
   * codes that cannot be sent (0, 52, 255, or outside 0–255), and every option of a packet without
   * the magic cookie (plain BOOTP has no options area).
   */
  droppedOptionCodes: number[];
  /** The option 52 value written (0 when not overloaded; 1 file, 3 file and sname). */
  overload: number;
}

const scratch = new Uint8Array(DHCP_MAX_LENGTH + 1);
const scratchView = new DataView(scratch.buffer);

// Layout areas: 0 = options field, 1 = file, 2 = sname (RFC 3396 §5 order). `end` excludes the byte
// kept for the area's End option.
const areaStart = new Int32Array(3);
const areaEnd = new Int32Array(3);
const areaPos = new Int32Array(3);
let areaCount = 1;
let currentArea = 0;
let usedAreas = 0;

function setAreas(mainStart: number, limit: number, overloaded: boolean): void {
  areaStart[0] = mainStart;
  areaEnd[0] = limit - 1;
  areaCount = 1;
  if (overloaded) {
    areaStart[1] = OFF_FILE;
    areaEnd[1] = OFF_FILE + FILE_LENGTH - 1;
    areaStart[2] = OFF_SNAME;
    areaEnd[2] = OFF_SNAME + SNAME_LENGTH - 1;
    areaCount = 3;
  }
  for (let a = 0; a < areaCount; a++) areaPos[a] = areaStart[a]!;
  currentArea = 0;
  usedAreas = 0;
}

/** Bytes an option takes when written in one area: RFC 3396 §7 splits it into ≤255-byte instances. */
function encodedSize(length: number): number {
  return length === 0 ? 2 : length + 2 * Math.ceil(length / 255);
}

function isSendableCode(code: number): boolean {
  return Number.isInteger(code) && code > OPT_PAD && code < OPT_END && code !== OPT_OVERLOAD;
}

/** Options up to this long are copied byte by byte: cheaper than a subarray and a set() (issue 17). */
const MAX_LOOP_COPY = 64;

/** Copies data[from, to) into the scratch buffer at `at`. */
function copyIntoScratch(data: Uint8Array, from: number, to: number, at: number): void {
  if (to - from <= MAX_LOOP_COPY) {
    for (let i = from; i < to; i++) scratch[at++] = data[i]!;
  } else {
    scratch.set(from === 0 && to === data.length ? data : data.subarray(from, to), at);
  }
}

/** Writes `data` as consecutive instances of `code` at `pos` (no bounds check: callers planned it). */
function writeContiguous(code: number, data: Uint8Array, pos: number): number {
  const length = data.length;
  if (length === 0) {
    scratch[pos] = code;
    scratch[pos + 1] = 0;
    return pos + 2;
  }
  for (let off = 0; off < length; off += 255) {
    const take = Math.min(length - off, 255);
    scratch[pos] = code;
    scratch[pos + 1] = take;
    copyIntoScratch(data, off, off + take, pos + 2);
    pos += take + 2;
  }
  return pos;
}

/**
 * Places one option at the layout cursor, writing it when `write`. Returns false (cursor
 * unchanged) when it does not fit. Order is preserved: the cursor only moves forward, so options
 * after a skipped one never land before it.
 */
function placeOption(code: number, data: Uint8Array, write: boolean): boolean {
  const length = data.length;
  const size = encodedSize(length);
  const a = currentArea;
  if (areaPos[a]! + size <= areaEnd[a]!) {
    if (write) writeContiguous(code, data, areaPos[a]!);
    areaPos[a] = areaPos[a]! + size;
    usedAreas |= 1 << a;
    return true;
  }
  // Keep an option of ≤255 bytes in one piece when a later area can hold it whole: clients that
  // predate RFC 3396 cannot reassemble it otherwise.
  if (length <= 255) {
    for (let b = a + 1; b < areaCount; b++) {
      if (areaEnd[b]! - areaPos[b]! >= size) {
        if (write) writeContiguous(code, data, areaPos[b]!);
        areaPos[b] = areaPos[b]! + size;
        currentArea = b;
        usedAreas |= 1 << b;
        return true;
      }
    }
    if (length === 0) return false;
  }
  // RFC 3396 §7: split across the rest of this area and the following ones, in order. Dry run
  // first so that a failed placement leaves the cursor untouched.
  let remaining = length;
  let b = a;
  let pos = areaPos[a]!;
  while (remaining > 0 && b < areaCount) {
    const room = areaEnd[b]! - pos;
    if (room >= 3) {
      const take = Math.min(remaining, 255, room - 2);
      remaining -= take;
      pos += take + 2;
    } else if (++b < areaCount) {
      pos = areaPos[b]!;
    }
  }
  if (remaining > 0) return false;
  let off = 0;
  b = a;
  pos = areaPos[a]!;
  while (off < length) {
    const room = areaEnd[b]! - pos;
    if (room >= 3) {
      const take = Math.min(length - off, 255, room - 2);
      if (write) {
        scratch[pos] = code;
        scratch[pos + 1] = take;
        copyIntoScratch(data, off, off + take, pos + 2);
      }
      off += take;
      pos += take + 2;
      usedAreas |= 1 << b;
    } else {
      areaPos[b] = pos;
      b++;
      pos = areaPos[b]!;
    }
  }
  areaPos[b] = pos;
  currentArea = b;
  return true;
}

/**
 * Lays out every sendable option; returns the codes that did not fit (plus unsendable ones).
 * Relay agent information is not placed here: it goes last, in the room kept for it, or is
 * reported as dropped when there is none (`isRelayAgentInfoKept`).
 */
function layOut(
  options: ReadonlyMap<number, Uint8Array>,
  write: boolean,
  isRelayAgentInfoKept: boolean,
): number[] {
  const dropped: number[] = [];
  for (const [code, data] of options) {
    if (code === OPT_RELAY_AGENT_INFO) {
      if (!isRelayAgentInfoKept) dropped.push(code);
    } else if (!isSendableCode(code) || !placeOption(code, data, write)) dropped.push(code);
  }
  return dropped;
}

function copyField(source: Uint8Array, offset: number, length: number): void {
  if (source.length >= length) {
    scratch.set(source.length === length ? source : source.subarray(0, length), offset);
  } else {
    scratch.set(source, offset);
    scratch.fill(0, offset + source.length, offset + length);
  }
}

function fieldIsZero(field: Uint8Array, length: number): boolean {
  const n = Math.min(field.length, length);
  for (let i = 0; i < n; i++) if (field[i] !== 0) return false;
  return true;
}

/**
 * Encodes a packet and reports what had to be left out. Options go in map order; each longer
 * than 255 bytes becomes several instances (RFC 3396 §7). When they do not fit the message size
 * and both file and sname are unused (all zero), the encoder overloads them (RFC 2132 §9.3: file
 * first, then sname); options that still do not fit are dropped. The result is at least 300 bytes.
 * chaddr/sname/file are written at their wire sizes (truncated or zero-padded).
 *
 * Relay agent information (82) is the exception to map order. RFC 3046 §2.2: servers "SHALL echo
 * the entire contents of the Relay Agent Information option in all replies. Servers SHOULD copy
 * the Relay Agent Information option as the last DHCP option in the response. Servers SHALL NOT
 * place the echoed Relay Agent Information option in the overloaded sname or file fields. If a
 * server is unable to copy a full Relay Agent Information field into a response, it SHALL send
 * the response without the Relay Information Field". So its room at the end of the options field
 * is kept before any other option is placed (the relay needs it to forward the reply at all; a
 * configured option is what gives way), and it is dropped only when it cannot fit there alone.
 */
export function encodeDhcpReport(packet: DhcpPacket, opts?: EncodeDhcpOptions): DhcpEncodeReport {
  const requested = opts?.maxSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  // NaN and values below the legal minimum fall back to 576.
  const maxSize =
    requested >= DEFAULT_MAX_MESSAGE_SIZE ? Math.min(requested, 65535) : DEFAULT_MAX_MESSAGE_SIZE;
  const limit = Math.floor(maxSize) - IP_UDP_HEADER_LENGTH;

  scratch[0] = packet.op;
  scratch[1] = packet.htype;
  scratch[2] = packet.hlen;
  scratch[3] = packet.hops;
  scratchView.setUint32(OFF_XID, packet.xid >>> 0);
  scratchView.setUint16(OFF_SECS, packet.secs & 0xffff);
  scratchView.setUint16(OFF_FLAGS, packet.flags & 0xffff);
  scratchView.setUint32(OFF_CIADDR, packet.ciaddr >>> 0);
  scratchView.setUint32(OFF_YIADDR, packet.yiaddr >>> 0);
  scratchView.setUint32(OFF_SIADDR, packet.siaddr >>> 0);
  scratchView.setUint32(OFF_GIADDR, packet.giaddr >>> 0);
  copyField(packet.chaddr, OFF_CHADDR, CHADDR_LENGTH);
  copyField(packet.sname, OFF_SNAME, SNAME_LENGTH);
  copyField(packet.file, OFF_FILE, FILE_LENGTH);

  if (!packet.hasMagicCookie) {
    // Plain BOOTP: a zero vend area, no options (RFC 951).
    scratch.fill(0, OFF_COOKIE, BOOTP_MIN_LENGTH);
    return {
      bytes: copyBytes(scratch, 0, BOOTP_MIN_LENGTH),
      droppedOptionCodes: [...packet.options.keys()],
      overload: 0,
    };
  }
  scratchView.setUint32(OFF_COOKIE, DHCP_MAGIC_COOKIE);

  // Relay agent information: its room at the end of the options field is kept first. Kept only
  // when it fits there even with option 52 in front, so overloading never has to give it up.
  const relayAgentInfo = packet.options.get(OPT_RELAY_AGENT_INFO);
  const relayAgentInfoSize = relayAgentInfo === undefined ? 0 : encodedSize(relayAgentInfo.length);
  const isRelayAgentInfoKept =
    relayAgentInfo !== undefined && OFF_OPTIONS + 3 + relayAgentInfoSize + 1 <= limit;
  const otherOptionsLimit = isRelayAgentInfoKept ? limit - relayAgentInfoSize : limit;

  // Fast path: everything fits in the options field.
  let total = 0;
  for (const [code, data] of packet.options) total += isSendableCode(code) ? encodedSize(data.length) : 0;
  let dropped: number[];
  let overload = 0;
  setAreas(OFF_OPTIONS, otherOptionsLimit, false);
  if (OFF_OPTIONS + total + 1 <= limit) {
    dropped = layOut(packet.options, true, isRelayAgentInfoKept);
  } else {
    dropped = layOut(packet.options, false, isRelayAgentInfoKept);
    let useOverload = false;
    // RFC 2131 §4.1: only fields that carry nothing may hold options.
    if (
      dropped.some((c) => isSendableCode(c) && c !== OPT_RELAY_AGENT_INFO) &&
      fieldIsZero(packet.file, FILE_LENGTH) &&
      fieldIsZero(packet.sname, SNAME_LENGTH)
    ) {
      // Option 52 takes the first 3 bytes of the options field.
      setAreas(OFF_OPTIONS + 3, otherOptionsLimit, true);
      const droppedOverloaded = layOut(packet.options, false, isRelayAgentInfoKept);
      overload = (usedAreas >> 1) & 3;
      useOverload = overload !== 0;
      if (useOverload) dropped = droppedOverloaded;
    }
    setAreas(useOverload ? OFF_OPTIONS + 3 : OFF_OPTIONS, otherOptionsLimit, useOverload);
    if (!useOverload) overload = 0;
    layOut(packet.options, true, isRelayAgentInfoKept);
    if (useOverload) {
      scratch[OFF_OPTIONS] = OPT_OVERLOAD;
      scratch[OFF_OPTIONS + 1] = 1;
      scratch[OFF_OPTIONS + 2] = overload;
      // Each overloaded field is its own options area, closed by End (RFC 2131 §4.1).
      if (usedAreas & 2) scratch[areaPos[1]!] = OPT_END;
      if (usedAreas & 4) scratch[areaPos[2]!] = OPT_END;
    }
  }

  let endAt = areaPos[0]!;
  if (isRelayAgentInfoKept) endAt = writeContiguous(OPT_RELAY_AGENT_INFO, relayAgentInfo!, endAt);
  scratch[endAt] = OPT_END;
  let length = endAt + 1;
  if (length < BOOTP_MIN_LENGTH) {
    scratch.fill(0, length, BOOTP_MIN_LENGTH);
    length = BOOTP_MIN_LENGTH;
  }
  return { bytes: copyBytes(scratch, 0, length), droppedOptionCodes: dropped, overload };
}

/** encodeDhcpReport without the report: the bytes to send. */
export function encodeDhcp(packet: DhcpPacket, opts?: EncodeDhcpOptions): Uint8Array {
  return encodeDhcpReport(packet, opts).bytes;
}
