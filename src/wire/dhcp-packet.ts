// The decoded form of an RFC 2131 message. The codec (dhcp-codec.ts) turns bytes into this and
// back; the engine reads and builds it. Options are kept raw (code → data bytes, in the order first
// seen, RFC 3396 fragments already concatenated); typed access goes through dhcp-options.ts.

import type { Ipv4 } from './ipv4.js';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const DHCP_MAGIC_COOKIE = 0x63825363;
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** RFC 2131 §2: the broadcast bit of `flags`. */
export const FLAG_BROADCAST = 0x8000;

/** Option 53 values (RFC 2132 §9.6). */
export enum DhcpMessageType {
  Discover = 1,
  Offer = 2,
  Request = 3,
  Decline = 4,
  Ack = 5,
  Nak = 6,
  Release = 7,
  Inform = 8,
}

export interface DhcpPacket {
  op: number; // 1 request, 2 reply
  htype: number;
  hlen: number;
  hops: number;
  xid: number; // uint32
  secs: number; // uint16
  flags: number; // uint16
  ciaddr: Ipv4;
  yiaddr: Ipv4;
  siaddr: Ipv4;
  giaddr: Ipv4;
  /** Exactly 16 bytes, as on the wire. The hardware address is its first `hlen` bytes. */
  chaddr: Uint8Array;
  /** 64 bytes on the wire; holds options when option 52 says so (then decoded into `options`). */
  sname: Uint8Array;
  /** 128 bytes on the wire; same overload rule. */
  file: Uint8Array;
  /** false for a plain BOOTP packet (no magic cookie / no options area). */
  hasMagicCookie: boolean;
  /**
   * Options by code in first-seen order, data only (no code/length bytes). Pad (0) and End (255)
   * are never present. Option 52 (overload) is consumed by the decoder and never appears here;
   * the encoder decides overloading itself.
   */
  options: Map<number, Uint8Array>;
}

export interface DhcpDecodeError {
  /** Byte offset in the datagram where decoding failed. */
  offset: number;
  /** Stable machine-readable reason, used as a metrics label. */
  reason:
    | 'too-short'
    | 'bad-op'
    | 'bad-hlen'
    | 'bad-magic-cookie'
    | 'option-truncated'
    | 'option-overrun'
    | 'bad-overload'
    | 'missing-end'
    | 'too-long';
  message: string;
}

export type DhcpDecodeResult = { ok: true; packet: DhcpPacket } | { ok: false; error: DhcpDecodeError };
