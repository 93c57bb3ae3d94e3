// What the engine needs to know about one scope, already resolved (addresses as numbers, options
// compiled to bytes). The shell builds these from the config; tests build them directly.

import type { DnsSettings } from '../ddns/settings.js';
import type { Ipv4, Ipv4Subnet } from '../wire/ipv4.js';
import { subnetBroadcast, subnetContains } from '../wire/ipv4.js';
import type { EnginePolicy } from './policy.js';

export interface EngineRange {
  start: Ipv4;
  end: Ipv4;
}

export interface EngineReservation {
  address: Ipv4;
  /** lower-case hex, no separators; null when the reservation is by client id only */
  hardwareAddress: string | null;
  /** option 61 data as hex; null when by hardware address only */
  clientId: string | null;
  hostname: string | null;
  options: ReadonlyMap<number, Uint8Array>;
}

export interface EngineScope {
  id: string;
  /** false: no client is answered in this scope (Windows InActive); absent means true. */
  isActive?: boolean;
  subnet: Ipv4Subnet;
  ranges: readonly EngineRange[];
  exclusions: readonly EngineRange[];
  reservations: readonly EngineReservation[];
  /** Server-level options merged with the scope's (scope wins). */
  options: ReadonlyMap<number, Uint8Array>;
  /** Option codes sent even when the client's parameter request list (55) does not ask for them. */
  alwaysSend: ReadonlySet<number>;
  leaseTimeSeconds: number;
  renewTimeSeconds: number;
  rebindTimeSeconds: number;
  /** giaddr values outside `subnet` that also select this scope. */
  relayAddresses: readonly Ipv4[];
  dynamicBootp: boolean;
  /** null = infinite */
  bootpLeaseSeconds: number | null;
  declineHoldSeconds: number;
  offerHoldSeconds: number;
  /** NAK requests for addresses that are wrong for the client's network (RFC 2131 §4.3.2). */
  authoritative: boolean;
  /**
   * Enabled policies in evaluation order (the scope's, then the server's; src/dhcp/policy.ts);
   * absent when there are none, so a scope without policies costs nothing per request.
   */
  policies?: readonly EnginePolicy[];
  /** Dynamic DNS settings (src/ddns/settings.ts); absent when the scope has none, so a scope
   * without DNS costs nothing per request. */
  dns?: DnsSettings;
}

export interface EngineSettings {
  /** Name recorded as the owner of the bindings this server grants (Windows OwnerHost). */
  serverName: string;
  /** Option 54 in our replies (unless the packet's arrival names another of ours). */
  serverIdentifier: Ipv4;
  /**
   * Other addresses clients may name as this server (option 54): in direct mode, the address of
   * each served interface, which is option 54 on that link. Absent: serverIdentifier only.
   */
  otherServerIdentifiers?: readonly Ipv4[];
  scopes: readonly EngineScope[];
  /**
   * Scopes whose subnet is on the directly attached interface we listen on: a client without a
   * relay (giaddr 0) is served from the first of these (udp mode cannot tell interfaces apart).
   */
  directScopeIds: readonly string[];
}

export function rangeContains(range: EngineRange, address: Ipv4): boolean {
  return address >= range.start && address <= range.end;
}

/** Runtime view of a scope with lookup indexes. */
export class ScopeView {
  readonly reservationByAddress = new Map<Ipv4, EngineReservation>();
  readonly reservationByHardware = new Map<string, EngineReservation>();
  readonly reservationByClientId = new Map<string, EngineReservation>();
  readonly broadcast: Ipv4;
  readonly size: number;

  constructor(readonly settings: EngineScope) {
    for (const r of settings.reservations) {
      this.reservationByAddress.set(r.address, r);
      if (r.hardwareAddress) this.reservationByHardware.set(r.hardwareAddress, r);
      if (r.clientId) this.reservationByClientId.set(r.clientId, r);
    }
    this.broadcast = subnetBroadcast(settings.subnet);
    this.size = countDynamic(this);
  }

  get id(): string {
    return this.settings.id;
  }

  inSubnet(address: Ipv4): boolean {
    return subnetContains(this.settings.subnet, address);
  }

  isExcluded(address: Ipv4): boolean {
    for (const x of this.settings.exclusions) if (rangeContains(x, address)) return true;
    return false;
  }

  inRanges(address: Ipv4): boolean {
    for (const r of this.settings.ranges) if (rangeContains(r, address)) return true;
    return false;
  }

  /** An address the engine may hand to any client: in a range, not excluded, not reserved, not network/broadcast. */
  isDynamic(address: Ipv4): boolean {
    return (
      this.inRanges(address) &&
      !this.isExcluded(address) &&
      !this.reservationByAddress.has(address) &&
      address !== this.settings.subnet.network &&
      address !== this.broadcast
    );
  }

  reservationFor(hardwareAddress: string, clientId: string | null): EngineReservation | undefined {
    if (clientId !== null) {
      const r = this.reservationByClientId.get(clientId);
      if (r) return r;
    }
    return this.reservationByHardware.get(hardwareAddress);
  }
}

/**
 * Addresses for which `view.isDynamic` holds, counted by interval arithmetic instead of one call
 * per address (a /8 range of two million addresses is counted at every start and reload).
 */
export function countDynamic(view: ScopeView): number {
  return countDynamicIn(view, view.settings.ranges);
}

/**
 * The addresses of `ranges` (some of the scope's) for which `view.isDynamic` holds: range sizes,
 * minus the parts of them that nonDynamicParts lists.
 */
export function countDynamicIn(view: ScopeView, ranges: readonly EngineRange[]): number {
  let n = 0;
  for (const r of ranges) if (r.end >= r.start) n += r.end - r.start + 1;
  for (const x of nonDynamicParts(view, ranges)) n -= x.end - x.start + 1;
  return n;
}

/**
 * The parts of `ranges` where `view.isDynamic` does not hold (excluded spans; reserved, network
 * and broadcast addresses), as intervals: one per range they fall in, so that a count over
 * `ranges` minus a count over these is a count over the dynamic addresses.
 */
export function nonDynamicParts(view: ScopeView, ranges: readonly EngineRange[]): EngineRange[] {
  // Exclusions as disjoint, sorted intervals.
  const merged: EngineRange[] = [];
  for (const x of [...view.settings.exclusions].sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1);
    if (last !== undefined && x.start <= last.end + 1) last.end = Math.max(last.end, x.end);
    else merged.push({ start: x.start, end: x.end });
  }
  const out: EngineRange[] = [];
  for (const r of ranges) {
    for (const x of merged) {
      const start = Math.max(r.start, x.start);
      const end = Math.min(r.end, x.end);
      if (start <= end) out.push({ start, end });
    }
  }
  const singles = new Set<Ipv4>(view.reservationByAddress.keys());
  singles.add(view.settings.subnet.network);
  singles.add(view.broadcast);
  for (const a of singles) {
    if (view.isExcluded(a)) continue;
    for (const r of ranges) if (rangeContains(r, a)) out.push({ start: a, end: a });
  }
  return out;
}
