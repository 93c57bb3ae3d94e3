// The messages of a probe client that reaches its servers through a relay agent (RFC 2131 §4.1:
// giaddr set, so every reply comes back to the relay's server port, never to a client port that
// would need root or an address the client does not have yet). Pure: packets in the project's own
// form (src/wire/dhcp-packet.ts) in and out; the shell (relay-agent.ts) encodes and sends them.

import {
  getIpv4Option,
  getStringOption,
  getUint8Option,
  getUint32Option,
  OPTION,
} from '../wire/dhcp-options.js';
import { BOOTREPLY, BOOTREQUEST, DhcpMessageType, type DhcpPacket } from '../wire/dhcp-packet.js';
import type { Ipv4 } from '../wire/ipv4.js';

/** Ethernet (RFC 1700 hardware type 1). */
const HTYPE_ETHERNET = 1;
/** What a probe asks for (option 55): mask, routers, DNS servers, domain name, lease time, T1, T2. */
const PARAMETER_REQUEST_LIST = Uint8Array.of(
  OPTION.subnetMask,
  OPTION.routers,
  6, // domain name servers
  OPTION.domainName,
  OPTION.leaseTime,
  OPTION.renewalTime,
  OPTION.rebindingTime,
);

export interface ProbeClient {
  /** chaddr; at most 16 bytes. */
  hardwareAddress: Uint8Array;
  /** Option 61 as sent (type byte first), or null to be known by the hardware address. */
  clientId: Uint8Array | null;
  /** Option 12, or null. */
  hostname: string | null;
}

/** The n-th of `count` clients made from one: hardware address and client id counted up by n. */
export function nthClient(base: ProbeClient, n: number): ProbeClient {
  return {
    hardwareAddress: addToBytes(base.hardwareAddress, n),
    clientId: base.clientId === null ? null : addToBytes(base.clientId, n),
    hostname: base.hostname === null || n === 0 ? base.hostname : `${base.hostname}-${n}`,
  };
}

/** `bytes` read as one big-endian number, plus `n`, wrapping within the same length. */
function addToBytes(bytes: Uint8Array, n: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  let carry = n;
  for (let i = out.length - 1; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + carry;
    out[i] = sum & 0xff;
    carry = Math.floor(sum / 256);
  }
  return out;
}

export interface RelayedRequest {
  client: ProbeClient;
  /** The relay's address: giaddr, where the servers send their replies. */
  giaddr: Ipv4;
  xid: number;
  /** Seconds since the client began acquiring or renewing (RFC 2131 §2, table 1). */
  secs: number;
}

function ipv4Data(address: Ipv4): Uint8Array {
  return Uint8Array.of(address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff);
}

function request(
  r: RelayedRequest,
  type: DhcpMessageType,
  ciaddr: Ipv4,
  extra: [number, Uint8Array][],
): DhcpPacket {
  const chaddr = new Uint8Array(16);
  chaddr.set(r.client.hardwareAddress.subarray(0, 16));
  const options = new Map<number, Uint8Array>([[OPTION.messageType, Uint8Array.of(type)]]);
  if (r.client.clientId !== null) options.set(OPTION.clientId, r.client.clientId);
  for (const [code, data] of extra) options.set(code, data);
  if (r.client.hostname !== null) options.set(OPTION.hostName, new TextEncoder().encode(r.client.hostname));
  if (type !== DhcpMessageType.Release) options.set(OPTION.parameterRequestList, PARAMETER_REQUEST_LIST);
  return {
    op: BOOTREQUEST,
    htype: HTYPE_ETHERNET,
    hlen: Math.min(16, r.client.hardwareAddress.length),
    hops: 1, // the relay agent incremented it (RFC 1542 §4.1.1)
    xid: r.xid >>> 0,
    secs: Math.min(0xffff, Math.max(0, Math.floor(r.secs))),
    flags: 0,
    ciaddr,
    yiaddr: 0,
    siaddr: 0,
    giaddr: r.giaddr,
    chaddr,
    sname: new Uint8Array(64),
    file: new Uint8Array(128),
    hasMagicCookie: true,
    options,
  };
}

/** RFC 2131 §4.4.1: DHCPDISCOVER. */
export function discover(r: RelayedRequest): DhcpPacket {
  return request(r, DhcpMessageType.Discover, 0, []);
}

/** RFC 2131 §4.3.2 SELECTING: the REQUEST that accepts `serverId`'s offer of `address`. */
export function requestSelecting(r: RelayedRequest, address: Ipv4, serverId: Ipv4): DhcpPacket {
  return request(r, DhcpMessageType.Request, 0, [
    [OPTION.requestedAddress, ipv4Data(address)],
    [OPTION.serverIdentifier, ipv4Data(serverId)],
  ]);
}

/**
 * RFC 2131 §4.3.2 RENEWING/REBINDING: ciaddr is the address held, no requested address, no server
 * identifier. Relayed here (giaddr set), so the reply comes back to the relay (§4.1) and, as for any
 * REQUEST with ciaddr, it is never load balanced away (D12 §5.3, RFC 3074 applies to DISCOVER and
 * INIT-REBOOT only).
 */
export function requestRenewing(r: RelayedRequest, address: Ipv4): DhcpPacket {
  return request(r, DhcpMessageType.Request, address, []);
}

/** RFC 2131 §4.4.6: DHCPRELEASE of `address` to the server that granted it. */
export function release(r: RelayedRequest, address: Ipv4, serverId: Ipv4): DhcpPacket {
  return request(r, DhcpMessageType.Release, address, [[OPTION.serverIdentifier, ipv4Data(serverId)]]);
}

/** What a reply said, as a probe reports it. */
export interface ProbeReply {
  type: 'offer' | 'ack' | 'nak';
  /** yiaddr (0 in a NAK). */
  address: Ipv4;
  /** Option 54, or null when the server sent none. */
  serverId: Ipv4 | null;
  /** Option 51; null when absent. */
  leaseSeconds: number | null;
  renewSeconds: number | null;
  rebindSeconds: number | null;
  /** Option 56 (a NAK's reason), or null. */
  message: string | null;
}

/** Reads a reply to the request `xid`; null when it is not one (another xid, a request, no type). */
export function readReply(packet: DhcpPacket, xid: number): ProbeReply | null {
  if (packet.op !== BOOTREPLY || packet.xid !== xid >>> 0) return null;
  const type = getUint8Option(packet.options, OPTION.messageType);
  const name =
    type === DhcpMessageType.Offer
      ? 'offer'
      : type === DhcpMessageType.Ack
        ? 'ack'
        : type === DhcpMessageType.Nak
          ? 'nak'
          : null;
  if (name === null) return null;
  return {
    type: name,
    address: packet.yiaddr,
    serverId: getIpv4Option(packet.options, OPTION.serverIdentifier),
    leaseSeconds: getUint32Option(packet.options, OPTION.leaseTime),
    renewSeconds: getUint32Option(packet.options, OPTION.renewalTime),
    rebindSeconds: getUint32Option(packet.options, OPTION.rebindingTime),
    message: getStringOption(packet.options, OPTION.message),
  };
}
