// Builders for engine tests: scopes and client packets without sockets or codecs.

import { DhcpEngine } from '../../src/dhcp/engine.js';
import type { FailoverGate } from '../../src/dhcp/failover-gate.js';
import type { Lease } from '../../src/dhcp/lease.js';
import type { EngineReservation, EngineScope, EngineSettings } from '../../src/dhcp/scope.js';
import { BOOTREQUEST, type DhcpMessageType, type DhcpPacket } from '../../src/wire/dhcp-packet.js';
import { fromHex, type Ipv4, parseIpv4, parseSubnet } from '../../src/wire/ipv4.js';

export const ip = parseIpv4;
export const SERVER_ID = ip('10.0.0.1');
export const NOW = 1_700_000_000;

export function scope(over: Omit<Partial<EngineScope>, 'subnet'> & { subnet?: string } = {}): EngineScope {
  const { subnet, ...rest } = over;
  return {
    id: '10.0.0.0',
    subnet: parseSubnet(subnet ?? '10.0.0.0/24'),
    ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.109') }],
    exclusions: [],
    reservations: [],
    options: new Map([
      [3, Uint8Array.of(10, 0, 0, 1)],
      [6, Uint8Array.of(10, 0, 0, 53)],
      [15, new TextEncoder().encode('example.test')],
    ]),
    alwaysSend: new Set(),
    leaseTimeSeconds: 3600,
    renewTimeSeconds: 1800,
    rebindTimeSeconds: 3150,
    relayAddresses: [],
    dynamicBootp: false,
    bootpLeaseSeconds: null,
    declineHoldSeconds: 600,
    offerHoldSeconds: 60,
    authoritative: true,
    ...rest,
  };
}

export function reservation(
  over: Omit<Partial<EngineReservation>, 'address'> & { address: string },
): EngineReservation {
  return {
    hardwareAddress: null,
    clientId: null,
    hostname: null,
    options: new Map(),
    ...over,
    address: ip(over.address),
  };
}

export function settings(
  scopes: EngineScope[] = [scope()],
  over: Partial<EngineSettings> = {},
): EngineSettings {
  return {
    serverName: 'tl-test',
    serverIdentifier: SERVER_ID,
    scopes,
    directScopeIds: [scopes[0]!.id],
    ...over,
  };
}

export function engine(
  scopes?: EngineScope[],
  leases: Lease[] = [],
  gates?: Map<string, FailoverGate>,
): DhcpEngine {
  return new DhcpEngine(settings(scopes), leases, gates);
}

export function mac(n: number): string {
  return `02000000${n.toString(16).padStart(4, '0')}`;
}

export interface PacketOptions {
  mac?: string;
  /** The hardware address as bytes, instead of `mac` (the simulator keeps each client's). */
  macBytes?: Uint8Array;
  xid?: number;
  /** Addresses: dotted text, or the number (the simulator's, which has them as numbers). */
  ciaddr?: string | Ipv4;
  giaddr?: string;
  flags?: number;
  secs?: number;
  requested?: string | Ipv4;
  serverId?: string | Ipv4;
  clientId?: string;
  hostname?: string;
  prl?: number[];
  leaseTime?: number;
  extra?: [number, Uint8Array][];
  noMessageType?: boolean;
}

export function packet(type: DhcpMessageType, o: PacketOptions = {}): DhcpPacket {
  const chaddr = new Uint8Array(16);
  chaddr.set(o.macBytes ?? fromHex(o.mac ?? mac(1)));
  const options = new Map<number, Uint8Array>();
  if (!o.noMessageType) options.set(53, Uint8Array.of(type));
  if (o.requested !== undefined && o.requested !== '') options.set(50, u32(addressOf(o.requested)));
  if (o.serverId !== undefined && o.serverId !== '') options.set(54, u32(addressOf(o.serverId)));
  if (o.clientId) options.set(61, fromHex(o.clientId));
  if (o.hostname) options.set(12, new TextEncoder().encode(o.hostname));
  if (o.leaseTime !== undefined) options.set(51, u32(o.leaseTime));
  if (o.prl) options.set(55, Uint8Array.from(o.prl));
  for (const [c, d] of o.extra ?? []) options.set(c, d);
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: o.giaddr ? 1 : 0,
    xid: o.xid ?? 0x1234,
    secs: o.secs ?? 0,
    flags: o.flags ?? 0,
    ciaddr: o.ciaddr ? addressOf(o.ciaddr) : 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: o.giaddr ? ip(o.giaddr) : 0,
    chaddr,
    sname: new Uint8Array(64),
    file: new Uint8Array(128),
    hasMagicCookie: !o.noMessageType,
    options,
  };
}

function addressOf(a: string | Ipv4): Ipv4 {
  return typeof a === 'string' ? ip(a) : a;
}

export function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

export function readU32(b: Uint8Array | undefined): number | undefined {
  if (b?.length !== 4) return undefined;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
