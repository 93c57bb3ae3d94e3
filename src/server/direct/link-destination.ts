// Where a reply to a client without a relay and without an address goes on its link (RFC 2131
// §4.1, the paragraph on giaddr = 0 and ciaddr = 0): broadcast when the client set the broadcast
// bit, for a DHCPNAK, or when the client's hardware address cannot be used; otherwise unicast to
// the client's hardware address (chaddr) and yiaddr, which is what a client that cannot receive
// unicast before it is configured signals with the broadcast bit. Pure.

import { DhcpMessageType, type DhcpPacket } from '../../wire/dhcp-packet.js';

/** RFC 2131 §2: the leftmost bit of `flags`. */
export const BROADCAST_FLAG = 0x8000;
const HTYPE_ETHERNET = 1;

export type LinkDestination = { kind: 'broadcast' } | { kind: 'unicast'; mac: Uint8Array; address: number };

export function linkDestination(
  request: DhcpPacket,
  reply: DhcpPacket,
  messageType: number,
): LinkDestination {
  // "In all cases, when 'giaddr' is zero, the server broadcasts any DHCPNAK messages."
  if (messageType === DhcpMessageType.Nak) return { kind: 'broadcast' };
  if ((request.flags & BROADCAST_FLAG) !== 0) return { kind: 'broadcast' };
  if (reply.yiaddr === 0) return { kind: 'broadcast' };
  // Only an Ethernet address can be put on the frame (a packet socket on an Ethernet link).
  if (request.htype !== HTYPE_ETHERNET || request.hlen !== 6) return { kind: 'broadcast' };
  return { kind: 'unicast', mac: request.chaddr.slice(0, 6), address: reply.yiaddr };
}
