// Requests as a client or relay puts them on the wire, byte for byte under the test's control:
// options in the given order, repeated codes, no End option, bytes after End, no magic cookie.
// src/wire's encoder normalises all of that away, which is right for a server and wrong for a
// test of how a server copes with what real clients send.

import { parseIpv4 } from '../../../src/wire/ipv4.js';

export type RawOption = readonly [code: number, data: Uint8Array];

export interface RawRequest {
  op?: number;
  htype: number;
  hlen: number;
  hops?: number;
  xid: number;
  secs?: number;
  flags?: number;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  /** Up to 16 bytes; the rest of chaddr is zero. */
  chaddr: Uint8Array;
  sname?: Uint8Array;
  file?: Uint8Array;
  /** false: plain BOOTP, no cookie and no options (the vend area is zero). */
  hasCookie?: boolean;
  options: readonly RawOption[];
  /** false: no End option (RFC 2131 §4.1 requires it; clients omit it). */
  hasEnd?: boolean;
  /** Bytes after End (padding that is not zero). */
  trailing?: Uint8Array;
  /** Pad the message to this length with zeros (RFC 1542 §3.1.1: BOOTP messages are ≥ 300 bytes). */
  padTo?: number;
}

const HEADER = 236;

export function encodeRequest(r: RawRequest): Uint8Array {
  const parts: number[] = [];
  const push32 = (v: number) => parts.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  const addr = (a: string | undefined) => push32(a === undefined ? 0 : parseIpv4(a));
  parts.push(r.op ?? 1, r.htype, r.hlen, r.hops ?? 0);
  push32(r.xid >>> 0);
  parts.push(((r.secs ?? 0) >>> 8) & 255, (r.secs ?? 0) & 255);
  parts.push(((r.flags ?? 0) >>> 8) & 255, (r.flags ?? 0) & 255);
  addr(r.ciaddr);
  addr(r.yiaddr);
  addr(r.siaddr);
  addr(r.giaddr);
  const field = (bytes: Uint8Array | undefined, length: number) => {
    for (let i = 0; i < length; i++) parts.push(bytes?.[i] ?? 0);
  };
  field(r.chaddr, 16);
  field(r.sname, 64);
  field(r.file, 128);
  if (parts.length !== HEADER) throw new Error(`header is ${parts.length} bytes`);
  if (r.hasCookie ?? true) {
    parts.push(0x63, 0x82, 0x53, 0x63);
    for (const [code, data] of r.options) {
      if (data.length > 255) throw new RangeError(`option ${code} is ${data.length} bytes`);
      parts.push(code, data.length, ...data);
    }
    if (r.hasEnd ?? true) parts.push(255);
    if (r.trailing) parts.push(...r.trailing);
  }
  const padTo = r.padTo ?? 300;
  while (parts.length < padTo) parts.push(0);
  return Uint8Array.from(parts);
}

export const u8 = (v: number) => Uint8Array.of(v & 255);
export const u16 = (v: number) => Uint8Array.of((v >>> 8) & 255, v & 255);
export const u32 = (v: number) => Uint8Array.of((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
export const ip = (a: string) => u32(parseIpv4(a));
export const text = (s: string) => new TextEncoder().encode(s);
export const hex = (s: string) =>
  Uint8Array.from((s.replace(/[^0-9a-f]/gi, '').match(/../g) ?? []).map((b) => parseInt(b, 16)));
export const toHexString = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** RFC 3046 option 82 from sub-options. */
export function relayAgentInfo(subs: readonly RawOption[]): Uint8Array {
  const out: number[] = [];
  for (const [code, data] of subs) out.push(code, data.length, ...data);
  return Uint8Array.from(out);
}

/** RFC 3004 option 77: one or more length-prefixed classes. */
export function userClass(classes: readonly string[]): Uint8Array {
  const out: number[] = [];
  for (const c of classes) {
    const b = text(c);
    out.push(b.length, ...b);
  }
  return Uint8Array.from(out);
}

/** RFC 4702 option 81 with a canonical (wire-format) name, or ASCII when `isAscii`. */
export function clientFqdn(flags: number, name: string, isAscii = false): Uint8Array {
  const out: number[] = [flags, 0, 0];
  if (isAscii) out.push(...text(name));
  else {
    const labels = name.split('.').filter((l) => l !== '');
    for (const l of labels) out.push(l.length, ...text(l));
    // A fully qualified name ends with the root label; a partial one (no trailing dot) does not.
    if (name.endsWith('.')) out.push(0);
  }
  return Uint8Array.from(out);
}
