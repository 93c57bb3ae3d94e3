// IPv4 (RFC 791), UDP (RFC 768) and ICMP echo (RFC 792) headers, for the DHCP direct mode, where
// the shell sends and receives whole IP packets on an interface (src/server/direct/), and for the
// ping check. Pure: bytes in, typed value or typed error out.

import type { Ipv4 } from './ipv4.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
const IPV4_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
const ICMP_ECHO_HEADER_BYTES = 8;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;

export interface UdpDatagram {
  source: Ipv4;
  destination: Ipv4;
  sourcePort: number;
  destinationPort: number;
  payload: Uint8Array;
}

export type IpUdpDecodeError = {
  reason:
    | 'too-short'
    | 'not-ipv4'
    | 'bad-header-length'
    | 'bad-total-length'
    | 'bad-header-checksum'
    | 'fragment'
    | 'not-udp'
    | 'bad-udp-length'
    | 'bad-udp-checksum';
  message: string;
};

export type IpUdpDecodeResult = { ok: true; datagram: UdpDatagram } | { ok: false; error: IpUdpDecodeError };

/** RFC 1071 one's-complement sum of `bytes` (big-endian 16-bit words), plus `initial`, folded. */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (even !== bytes.length) sum += bytes[even]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function checksum(bytes: Uint8Array, initial = 0): number {
  return ~onesComplementSum(bytes, initial) & 0xffff;
}

/** The UDP pseudo-header sum (RFC 768): addresses, protocol, UDP length. */
function pseudoHeaderSum(source: Ipv4, destination: Ipv4, udpLength: number): number {
  return (
    (source >>> 16) +
    (source & 0xffff) +
    (destination >>> 16) +
    (destination & 0xffff) +
    IPPROTO_UDP +
    udpLength
  );
}

function fail(reason: IpUdpDecodeError['reason'], message: string): IpUdpDecodeResult {
  return { ok: false, error: { reason, message } };
}

/**
 * One IPv4 packet carrying a whole UDP datagram. Options in the IP header are skipped; fragments
 * are refused (a DHCP message fits one frame, and a packet socket sees fragments unreassembled); a
 * UDP checksum of 0 means none (RFC 768), any other must be right — unless
 * `isUdpChecksumNotReady`: the kernel says the sender's checksum was left to offload (a packet from
 * this host, e.g. over a veth), so the field holds only the pseudo-header part.
 */
export function decodeIpv4Udp(
  bytes: Uint8Array,
  options: { isUdpChecksumNotReady?: boolean } = {},
): IpUdpDecodeResult {
  if (bytes.length < IPV4_HEADER_BYTES) return fail('too-short', `${bytes.length} bytes`);
  if (bytes[0]! >> 4 !== 4) return fail('not-ipv4', `version ${bytes[0]! >> 4}`);
  const headerLength = (bytes[0]! & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_BYTES || headerLength > bytes.length)
    return fail('bad-header-length', `IHL ${headerLength}`);
  const totalLength = (bytes[2]! << 8) | bytes[3]!;
  if (totalLength < headerLength + UDP_HEADER_BYTES || totalLength > bytes.length)
    return fail('bad-total-length', `total length ${totalLength} of ${bytes.length} bytes`);
  if (onesComplementSum(bytes.subarray(0, headerLength)) !== 0xffff)
    return fail('bad-header-checksum', 'IPv4 header checksum');
  const fragment = (bytes[6]! << 8) | bytes[7]!;
  if ((fragment & 0x3fff) !== 0) return fail('fragment', 'fragmented packet');
  if (bytes[9] !== IPPROTO_UDP) return fail('not-udp', `protocol ${bytes[9]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, totalLength);
  const source = view.getUint32(12);
  const destination = view.getUint32(16);
  const udp = bytes.subarray(headerLength, totalLength);
  const udpLength = (udp[4]! << 8) | udp[5]!;
  if (udpLength < UDP_HEADER_BYTES || udpLength > udp.length)
    return fail('bad-udp-length', `UDP length ${udpLength} of ${udp.length} bytes`);
  const datagram = udp.subarray(0, udpLength);
  const sent = (udp[6]! << 8) | udp[7]!;
  if (
    sent !== 0 &&
    options.isUdpChecksumNotReady !== true &&
    onesComplementSum(datagram, pseudoHeaderSum(source, destination, udpLength)) !== 0xffff
  )
    return fail('bad-udp-checksum', 'UDP checksum');
  return {
    ok: true,
    datagram: {
      source,
      destination,
      sourcePort: (udp[0]! << 8) | udp[1]!,
      destinationPort: (udp[2]! << 8) | udp[3]!,
      payload: datagram.subarray(UDP_HEADER_BYTES),
    },
  };
}

export interface Ipv4UdpInput extends UdpDatagram {
  /** IP identification (RFC 6864: any value for an unfragmented packet). */
  identification: number;
  /** Default 64. */
  ttl?: number;
}

/** An IPv4 packet (no options, DF clear) carrying `payload` in one UDP datagram, checksums set. */
export function encodeIpv4Udp(input: Ipv4UdpInput): Uint8Array {
  const udpLength = UDP_HEADER_BYTES + input.payload.length;
  const total = IPV4_HEADER_BYTES + udpLength;
  if (total > 0xffff) throw new RangeError(`IPv4 packet of ${total} bytes`);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, 0x45);
  view.setUint16(2, total);
  view.setUint16(4, input.identification & 0xffff);
  view.setUint8(8, input.ttl ?? 64);
  view.setUint8(9, IPPROTO_UDP);
  view.setUint32(12, input.source);
  view.setUint32(16, input.destination);
  view.setUint16(10, checksum(bytes.subarray(0, IPV4_HEADER_BYTES)));
  view.setUint16(20, input.sourcePort);
  view.setUint16(22, input.destinationPort);
  view.setUint16(24, udpLength);
  bytes.set(input.payload, IPV4_HEADER_BYTES + UDP_HEADER_BYTES);
  const sum = checksum(
    bytes.subarray(IPV4_HEADER_BYTES),
    pseudoHeaderSum(input.source, input.destination, udpLength),
  );
  view.setUint16(26, sum === 0 ? 0xffff : sum); // RFC 768: a computed 0 is sent as all ones
  return bytes;
}

/** An ICMP echo request (RFC 792), checksum set; the kernel adds the IP header. */
export function encodeIcmpEchoRequest(identifier: number, sequence: number, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(ICMP_ECHO_HEADER_BYTES + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, ICMP_ECHO_REQUEST);
  view.setUint16(4, identifier & 0xffff);
  view.setUint16(6, sequence & 0xffff);
  bytes.set(data, ICMP_ECHO_HEADER_BYTES);
  view.setUint16(2, checksum(bytes));
  return bytes;
}

export interface IcmpEchoReply {
  source: Ipv4;
  identifier: number;
  sequence: number;
}

/** An IPv4 packet holding an ICMP echo reply with a correct checksum, or null. */
export function decodeIcmpEchoReply(bytes: Uint8Array): IcmpEchoReply | null {
  if (bytes.length < IPV4_HEADER_BYTES || bytes[0]! >> 4 !== 4) return null;
  const headerLength = (bytes[0]! & 0x0f) * 4;
  const totalLength = (bytes[2]! << 8) | bytes[3]!;
  if (headerLength < IPV4_HEADER_BYTES || totalLength > bytes.length || bytes[9] !== IPPROTO_ICMP)
    return null;
  if (totalLength < headerLength + ICMP_ECHO_HEADER_BYTES) return null;
  const icmp = bytes.subarray(headerLength, totalLength);
  if (icmp[0] !== ICMP_ECHO_REPLY || icmp[1] !== 0 || onesComplementSum(icmp) !== 0xffff) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    source: view.getUint32(12),
    identifier: (icmp[4]! << 8) | icmp[5]!,
    sequence: (icmp[6]! << 8) | icmp[7]!,
  };
}
