// Would the failover partner reject a configuration change? A Twinlease partner rejects a binding
// update for an address that none of the relationship's scopes holds in a range or a reservation
// (REJECT "Illegal IP address", src/failover/binding-acceptance.ts scopeOf; dhcpd does the same for an
// address outside its pools). So a change that gives a failover scope addresses it did not have
// is safe only if the partner's configuration of that scope has them too: otherwise every update
// we send for them, and every BACKUP address the primary hands over, is rejected and the pair
// diverges. DECISION (docs/api.md §Checks before a write): the partner's scope config is read
// through its API (partner.api, as configuration replication does); a change that shrinks a pool
// or keeps it needs no check, a new relationship or scope joining one is not checked (the partner
// is being set up too), and a partner that cannot be asked makes the change unverified (refused
// unless forced, like a rejected one).

import type { ResolvedConfig, ResolvedScope } from '../config/resolved.js';
import { formatIpv4, isIpv4, parseIpv4 } from '../wire/ipv4.js';
import type { JsonObject } from './config-file.js';
import { PartnerApiClient } from './partner-api.js';

/** Inclusive address intervals, sorted and not touching. */
export type AddressIntervals = ReadonlyArray<readonly [number, number]>;

export function normaliseIntervals(list: Iterable<readonly [number, number]>): AddressIntervals {
  const sorted = [...list].filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** The addresses of `a` that are not in `b`. */
export function subtractIntervals(a: AddressIntervals, b: AddressIntervals): AddressIntervals {
  const out: [number, number][] = [];
  for (const [start, end] of a) {
    let from = start;
    for (const [bs, be] of b) {
      if (be < from || bs > end) continue;
      if (bs > from) out.push([from, bs - 1]);
      from = be + 1;
      if (from > end) break;
    }
    if (from <= end) out.push([from, end]);
  }
  return out;
}

export function formatIntervals(list: AddressIntervals): string[] {
  return list.map(([a, b]) => (a === b ? formatIpv4(a) : `${formatIpv4(a)}-${formatIpv4(b)}`));
}

/** Addresses that can carry a binding in a scope: its ranges and its reserved addresses. */
export function bindableAddresses(scope: ResolvedScope): AddressIntervals {
  return normaliseIntervals([
    ...scope.ranges.map((r) => [r.start, r.end] as const),
    ...scope.reservations.map((r) => [r.address, r.address] as const),
  ]);
}

/** The same from a scope's object as written in a config file (the partner's GET …/config). */
export function bindableAddressesOfConfig(config: JsonObject): AddressIntervals {
  const ip = (v: unknown): number | null => (typeof v === 'string' && isIpv4(v) ? parseIpv4(v) : null);
  const list: [number, number][] = [];
  for (const r of Array.isArray(config.ranges) ? config.ranges : []) {
    const start = ip((r as JsonObject)?.start);
    const end = ip((r as JsonObject)?.end);
    if (start !== null && end !== null) list.push([start, end]);
  }
  for (const r of Array.isArray(config.reservations) ? config.reservations : []) {
    const address = ip((r as JsonObject)?.address);
    if (address !== null) list.push([address, address]);
  }
  return normaliseIntervals(list);
}

export interface PartnerCheck {
  relationship: string;
  scopeId: string;
  /** The partner API asked; null when partner.api is not configured. */
  partner: string | null;
  /**
   * accepted: the partner's config has every address the change adds; wouldReject: it lacks
   * `addresses`; unverified: it could not be asked (`message` says why).
   */
  result: 'accepted' | 'wouldReject' | 'unverified';
  /** Addresses the change adds that the partner lacks (wouldReject) or that are unverified. */
  addresses: string[];
  message: string | null;
}

/** A scope of a relationship whose bindable addresses the change grows. */
interface Growth {
  relationship: string;
  scopeId: string;
  gained: AddressIntervals;
  partnerApi: ResolvedConfig['failover'][number]['partnerApi'];
}

/** Scopes already in a relationship (before and after the change) that gain addresses. */
export function poolGrowth(current: ResolvedConfig, next: ResolvedConfig): Growth[] {
  const out: Growth[] = [];
  for (const r of next.failover) {
    const was = current.failover.find((x) => x.name === r.name);
    if (!was) continue;
    for (const scopeId of r.scopeIds) {
      if (!was.scopeIds.includes(scopeId)) continue;
      const before = current.scopes.find((s) => s.id === scopeId);
      const after = next.scopes.find((s) => s.id === scopeId);
      if (!before || !after) continue;
      const gained = subtractIntervals(bindableAddresses(after), bindableAddresses(before));
      if (gained.length > 0) out.push({ relationship: r.name, scopeId, gained, partnerApi: r.partnerApi });
    }
  }
  return out;
}

/** Asks each partner whether its config of the scope has the addresses the change adds. */
export async function checkPartners(current: ResolvedConfig, next: ResolvedConfig): Promise<PartnerCheck[]> {
  return Promise.all(
    poolGrowth(current, next).map(async (g): Promise<PartnerCheck> => {
      const base = { relationship: g.relationship, scopeId: g.scopeId };
      if (g.partnerApi === undefined) {
        return {
          ...base,
          partner: null,
          result: 'unverified',
          addresses: formatIntervals(g.gained),
          message: `relationship "${g.relationship}" has no partner.api, so the partner's config of scope "${g.scopeId}" cannot be checked`,
        };
      }
      const client = new PartnerApiClient(g.partnerApi);
      const theirs = await client.getScopeConfig(g.scopeId);
      if (!theirs.ok) {
        return {
          ...base,
          partner: client.url,
          result: 'unverified',
          addresses: formatIntervals(g.gained),
          message: theirs.message,
        };
      }
      const missing =
        theirs.config === null
          ? g.gained
          : subtractIntervals(g.gained, bindableAddressesOfConfig(theirs.config));
      if (missing.length === 0) {
        return { ...base, partner: client.url, result: 'accepted', addresses: [], message: null };
      }
      return {
        ...base,
        partner: client.url,
        result: 'wouldReject',
        addresses: formatIntervals(missing),
        message:
          theirs.config === null
            ? `the partner has no scope "${g.scopeId}"`
            : `the partner's scope "${g.scopeId}" has no range or reservation for these addresses`,
      };
    }),
  );
}
