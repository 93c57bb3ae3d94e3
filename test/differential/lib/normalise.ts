// A reply as the comparison sees it: every header field and option in a readable text form, with
// the few things that legitimately differ between two correct servers named instead of spelled:
// dynamic addresses become pool#1, pool#2… in the order a scenario first meets them (which free
// address a server picks is its own business; that a client gets the same one back is not), and
// destinations are named by their role (giaddr, ciaddr, yiaddr, broadcast) rather than by number.

import { decodeDhcp } from '../../../src/wire/dhcp-codec.js';
import { decodeOptionValue, optionByCode } from '../../../src/wire/dhcp-options.js';
import { DhcpMessageType } from '../../../src/wire/dhcp-packet.js';
import { formatIpv4, parseIpv4 } from '../../../src/wire/ipv4.js';
import { toHexString } from './packet.js';
import { NET } from './spec.js';
import type { WireFrame } from './world.js';

const POOLS = [NET.pool, NET.remote.pool, NET.tiny.pool].map((p) => [parseIpv4(p.start), parseIpv4(p.end)]);

/** Names the dynamic addresses of one scenario in one world. */
export class Symbols {
  private readonly names = new Map<string, string>();
  private readonly addresses = new Map<string, string>();

  /** `a.b.c.d` → pool#n for an address of a dynamic pool; anything else unchanged. */
  name(address: string): string {
    if (address === '0.0.0.0') return address;
    let n: number;
    try {
      n = parseIpv4(address);
    } catch {
      return address;
    }
    if (!POOLS.some(([lo, hi]) => n >= lo! && n <= hi!)) return address;
    let s = this.names.get(address);
    if (s === undefined) {
      s = `pool#${this.names.size + 1}`;
      this.names.set(address, s);
      this.addresses.set(s, address);
    }
    return s;
  }

  /** pool#n → the address it names in this world; anything else unchanged. */
  address(nameOrAddress: string): string {
    return this.addresses.get(nameOrAddress) ?? nameOrAddress;
  }
}

export interface OptionView {
  /** Hex of the option data: what is compared. */
  hex: string;
  /** Readable value (the catalogue's text form), for the report. */
  text: string;
}

export interface ReplyView {
  /** OFFER, ACK, NAK, BOOTREPLY, … or `undecodable (reason)`. */
  message: string;
  /** Destination by role: giaddr:67, ciaddr:68, yiaddr:68, 255.255.255.255:68, 10.77.255.255:68 … */
  to: string;
  /** Link-layer destination: broadcast, chaddr, relay, or the MAC. */
  l2: string;
  from: string;
  header: Record<string, string>;
  options: Record<string, OptionView>;
  /** Option codes in the order sent (informational: the order is not compared). */
  order: number[];
  /** UDP payload length (checked against the client's limit, not compared). */
  size: number;
}

/** What the comparison needs to know about the request a reply answers. */
export interface RequestContext {
  giaddr: string;
  ciaddr: string;
  chaddr: Uint8Array;
  /** hex of the 6-byte source MAC the request was sent with. */
  srcMac: string;
  relayMac: string;
}

const MESSAGE: Record<number, string> = {
  [DhcpMessageType.Offer]: 'OFFER',
  [DhcpMessageType.Ack]: 'ACK',
  [DhcpMessageType.Nak]: 'NAK',
  [DhcpMessageType.Discover]: 'DISCOVER',
  [DhcpMessageType.Request]: 'REQUEST',
  [DhcpMessageType.Decline]: 'DECLINE',
  [DhcpMessageType.Release]: 'RELEASE',
  [DhcpMessageType.Inform]: 'INFORM',
};

function fieldText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  const used = end < 0 ? bytes : bytes.subarray(0, end);
  if (used.length === 0 && bytes.every((b) => b === 0)) return '';
  const isPrintable = used.every((b) => b >= 0x20 && b < 0x7f);
  return isPrintable && bytes.subarray(used.length).every((b) => b === 0)
    ? JSON.stringify(new TextDecoder().decode(used))
    : `hex:${toHexString(bytes)}`;
}

function render(code: number, data: Uint8Array): string {
  const v = decodeOptionValue(code, data);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function optionLabel(code: number): string {
  const def = optionByCode(code);
  return def ? `${code} ${def.name}` : `${code}`;
}

export function viewOf(frame: WireFrame, req: RequestContext, symbols: Symbols): ReplyView {
  const decoded = decodeDhcp(frame.payload);
  const to = destinationOf(frame, req, decoded.ok ? formatIpv4(decoded.packet.yiaddr) : '', symbols);
  const l2 =
    frame.dstMac === 'ffffffffffff'
      ? 'broadcast'
      : frame.dstMac === req.relayMac
        ? 'relay'
        : frame.dstMac === toHexString(req.chaddr.subarray(0, 6))
          ? 'chaddr'
          : frame.dstMac === req.srcMac
            ? 'client'
            : frame.dstMac;
  const base = { to, l2, from: `${frame.srcIp}:${frame.srcPort}`, size: frame.payload.length };
  if (!decoded.ok) {
    return { ...base, message: `undecodable (${decoded.error.reason})`, header: {}, options: {}, order: [] };
  }
  const p = decoded.packet;
  const type = p.options.get(53);
  const message =
    type === undefined
      ? p.hasMagicCookie
        ? 'BOOTREPLY (cookie, no option 53)'
        : 'BOOTREPLY'
      : type.length === 1
        ? (MESSAGE[type[0]!] ?? `type ${type[0]}`)
        : `option 53 of ${type.length} bytes`;
  const chaddrText =
    toHexString(p.chaddr) === toHexString(padTo16(req.chaddr)) ? 'as sent' : toHexString(p.chaddr);
  const header: Record<string, string> = {
    op: String(p.op),
    htype: String(p.htype),
    hlen: String(p.hlen),
    hops: String(p.hops),
    secs: String(p.secs),
    flags: `0x${p.flags.toString(16).padStart(4, '0')}`,
    ciaddr: symbols.name(formatIpv4(p.ciaddr)),
    yiaddr: symbols.name(formatIpv4(p.yiaddr)),
    siaddr: symbols.name(formatIpv4(p.siaddr)),
    giaddr: symbols.name(formatIpv4(p.giaddr)),
    chaddr: chaddrText,
    sname: fieldText(p.sname),
    file: fieldText(p.file),
    cookie: p.hasMagicCookie ? 'yes' : 'no',
  };
  const options: Record<string, OptionView> = {};
  for (const [code, data] of p.options) {
    let text = render(code, data);
    // Addresses inside options are named like the header's.
    if (code === 50 || code === 54) text = symbols.name(text);
    options[optionLabel(code)] = { hex: code === 50 || code === 54 ? text : toHexString(data), text };
  }
  return { ...base, message, header, options, order: [...p.options.keys()] };
}

function padTo16(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(b.subarray(0, 16));
  return out;
}

function destinationOf(frame: WireFrame, req: RequestContext, yiaddr: string, symbols: Symbols): string {
  const port = `:${frame.dstPort}`;
  const d = frame.dstIp;
  if (req.giaddr !== '0.0.0.0' && d === req.giaddr) return `giaddr${port}`;
  if (req.ciaddr !== '0.0.0.0' && d === req.ciaddr) return `ciaddr${port}`;
  if (yiaddr !== '' && yiaddr !== '0.0.0.0' && d === yiaddr) return `yiaddr${port}`;
  return `${symbols.name(d)}${port}`;
}
