// The DHCID RR (RFC 4701): who a DHCP server registered a name for. RDATA = identifier type
// (2 bytes) + digest type (1 = SHA-256) + SHA-256(identifier || FQDN in canonical wire form).
// Pure.

import { createHash } from 'node:crypto';
import type { DhcidMode } from '../dhcp/lease.js';
import { encodeName } from './dns-wire.js';

/** RFC 4701 §3.3 identifier types. */
export const DHCID_IDENTIFIER = {
  /** htype (1 byte) + chaddr, when the client sent no client identifier. */
  chaddr: 0x0000,
  /** The DHCPv4 client identifier option (61) data. */
  clientId: 0x0001,
  /** A DHCPv6 DUID (or an RFC 4361 DUID in option 61). */
  duid: 0x0002,
} as const;

const DIGEST_SHA256 = 1;

/** DHCID RDATA for `identifier` of `identifierType` and `fqdn` (RFC 4701 §3.3–§3.5). */
export function dhcidRdata(identifierType: number, identifier: Uint8Array, fqdn: string): Uint8Array {
  const digest = createHash('sha256').update(identifier).update(encodeName(fqdn, true)).digest();
  const out = new Uint8Array(3 + digest.length);
  out[0] = identifierType >>> 8;
  out[1] = identifierType & 255;
  out[2] = DIGEST_SHA256;
  out.set(digest, 3);
  return out;
}

/** The client facts the DHCID of a lease is computed from (Lease fields). */
export interface DhcidClient {
  dhcidMode: DhcidMode;
  /** Option 61 data as hex, or null. */
  clientId: string | null;
  hardwareType: number;
  /** chaddr as hex. */
  hardwareAddress: string;
}

/** Option 61 type of an RFC 4361 identifier: type 255, IAID (4 bytes), then a DHCPv6 DUID. */
const RFC4361_TYPE = 0xff;
const RFC4361_HEADER_BYTES = 5;

/**
 * RFC 4701 flavour for a client (§3.3): an RFC 4361 identifier is a DUID (RFC 4361 §6.1: such a
 * client's DHCID is "computed from the DUID", type 0x0002, so that it is the one a DHCPv6 server
 * writes for the same client, and the one Kea writes for it); any other option 61 is a client
 * id (0x0001 over all of it); no option 61, htype + chaddr (0x0000). A type-255 identifier with
 * no byte after the IAID holds no DUID: it is taken as a plain client id.
 */
export function dhcidModeOf(clientId: string | null): DhcidMode {
  if (clientId === null) return 'noClientId';
  const isRfc4361 =
    clientId.length > 2 * RFC4361_HEADER_BYTES && Number.parseInt(clientId.slice(0, 2), 16) === RFC4361_TYPE;
  return isRfc4361 ? 'duid' : 'clientId';
}

/** DHCID RDATA of a lease's client and name; null when the lease has no name protection mode. */
export function dhcidOfClient(client: DhcidClient, fqdn: string): Uint8Array | null {
  switch (client.dhcidMode) {
    case 'none':
      return null;
    case 'clientId':
      if (client.clientId === null) return null;
      return dhcidRdata(DHCID_IDENTIFIER.clientId, Buffer.from(client.clientId, 'hex'), fqdn);
    case 'duid': {
      if (client.clientId === null) return null;
      const id = Buffer.from(client.clientId, 'hex');
      const isRfc4361 = id.length > RFC4361_HEADER_BYTES && id[0] === RFC4361_TYPE;
      return dhcidRdata(DHCID_IDENTIFIER.duid, isRfc4361 ? id.subarray(RFC4361_HEADER_BYTES) : id, fqdn);
    }
    case 'noClientId': {
      const hw = Buffer.from(client.hardwareAddress, 'hex');
      const id = new Uint8Array(1 + hw.length);
      id[0] = client.hardwareType;
      id.set(hw, 1);
      return dhcidRdata(DHCID_IDENTIFIER.chaddr, id, fqdn);
    }
  }
}
