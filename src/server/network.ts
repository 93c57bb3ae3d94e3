// What the shell learns from the host's interfaces: our server identifier, where broadcast
// replies go, and which scopes are directly attached. In udp mode Node's dgram cannot tell which
// interface a broadcast arrived on (DEPENDENCIES.md), so "directly attached" means: the subnet of an
// address on the configured interface (or, with none configured, on any non-loopback interface).
// In direct mode every packet comes with its interface (src/server/direct/), whose scopes are
// those whose subnet holds one of its addresses.

import os from 'node:os';
import {
  formatIpv4,
  type Ipv4,
  parseIpv4,
  parseSubnet,
  subnetBroadcast,
  subnetContains,
} from '../wire/ipv4.js';

export interface InterfaceAddress {
  interfaceName: string;
  address: Ipv4;
  prefixLength: number;
}

export type InterfaceLister = () => InterfaceAddress[];

export function listInterfaceAddresses(): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [name, infos] of Object.entries(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      const prefix = Number(info.cidr?.split('/')[1] ?? 32);
      out.push({ interfaceName: name, address: parseIpv4(info.address), prefixLength: prefix });
    }
  }
  return out;
}

export interface NetworkChoice {
  serverIdentifier: Ipv4;
  broadcastAddress: string;
  directlyAttached: InterfaceAddress[];
}

export interface NetworkRequest {
  interfaceName: string | null;
  listenAddress: string;
  serverIdentifier: string | null;
  broadcastAddress: string | null;
}

/** Decides server identifier and broadcast destination; returns an error text when it cannot. */
export function chooseNetwork(
  req: NetworkRequest,
  list: InterfaceLister = listInterfaceAddresses,
): NetworkChoice | string {
  const all = list();
  const candidates = req.interfaceName ? all.filter((a) => a.interfaceName === req.interfaceName) : all;
  if (req.interfaceName && candidates.length === 0) {
    return `interface ${req.interfaceName} has no IPv4 address (have: ${[...new Set(all.map((a) => a.interfaceName))].join(', ') || 'none'})`;
  }
  let serverIdentifier: Ipv4 | null = null;
  if (req.serverIdentifier) serverIdentifier = parseIpv4(req.serverIdentifier);
  else if (req.listenAddress !== '0.0.0.0') serverIdentifier = parseIpv4(req.listenAddress);
  else if (candidates[0]) serverIdentifier = candidates[0].address;
  if (serverIdentifier === null) {
    return 'cannot choose a server identifier: no IPv4 interface address; set server.serverIdentifier';
  }
  let broadcastAddress = req.broadcastAddress;
  if (!broadcastAddress) {
    // The subnet-directed broadcast leaves by the right interface even without a default route,
    // where 255.255.255.255 fails with ENETUNREACH.
    const first = candidates[0];
    broadcastAddress = first
      ? formatIpv4(
          subnetBroadcast(
            parseSubnet(`${formatIpv4(maskTo(first.address, first.prefixLength))}/${first.prefixLength}`),
          ),
        )
      : '255.255.255.255';
  }
  return { serverIdentifier, broadcastAddress, directlyAttached: candidates };
}

function maskTo(address: Ipv4, prefixLength: number): Ipv4 {
  return prefixLength === 0 ? 0 : (address & ((0xffffffff << (32 - prefixLength)) >>> 0)) >>> 0;
}

/** Scopes whose subnet holds one of the directly attached addresses, in config order. */
export function directScopeIds(
  scopes: readonly { id: string; subnet: { network: Ipv4; prefixLength: number; mask: Ipv4 } }[],
  attached: readonly InterfaceAddress[],
): string[] {
  return scopes.filter((s) => attached.some((a) => subnetContains(s.subnet, a.address))).map((s) => s.id);
}

export interface DirectNetworkChoice {
  serverIdentifier: Ipv4;
  /** Every address of the served interfaces: a client may name any of them as its server. */
  otherServerIdentifiers: Ipv4[];
}

/**
 * direct mode: the configured server identifier, else the first address of the first served
 * interface that has one, else of any interface. Interfaces that are missing or down now are not
 * an error here (the direct transport reports and watches them).
 */
export function chooseDirectNetwork(
  interfaceNames: readonly string[],
  serverIdentifier: string | null,
  list: InterfaceLister = listInterfaceAddresses,
): DirectNetworkChoice | string {
  const all = list();
  const served = interfaceNames.flatMap((name) => all.filter((a) => a.interfaceName === name));
  const chosen = serverIdentifier !== null ? parseIpv4(serverIdentifier) : (served[0] ?? all[0])?.address;
  if (chosen === undefined) {
    return 'cannot choose a server identifier: none of dhcp.interfaces has an IPv4 address now; set server.serverIdentifier';
  }
  return {
    serverIdentifier: chosen,
    otherServerIdentifiers: served.map((a) => a.address).filter((a) => a !== chosen),
  };
}
