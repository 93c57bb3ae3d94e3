// Finding leases for the API: filters, the default "client leases" view, and pagination by
// address (a stable cursor: the last address returned; the next page starts after it, so records
// that come and go never shift a page). Lists are scans of the lease table's columns in address
// order (src/dhcp/lease-table.ts): no Lease is built for a record that is not on the page.

import type { PendingOffer } from '../dhcp/engine.js';
import { addressStateOf, type Lease } from '../dhcp/lease.js';
import { BINDING_STATES, type ColumnTest, type LeaseTable } from '../dhcp/lease-table.js';
import type { Ipv4 } from '../wire/ipv4.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4.js';
import type { ApiDeps, ApiEngine } from './deps.js';
import { canonicalHex } from './format.js';
import { type LeaseContext, leaseResource, offerOnlyLease, withOffer } from './lease-resource.js';
import type { Lease as LeaseResource, LeaseStateFilter } from './schemas.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface LeaseFilter {
  scopeId?: string | undefined;
  ip?: string | undefined;
  mac?: string | undefined;
  hostname?: string | undefined;
  state?: LeaseStateFilter | undefined;
  owner?: string | undefined;
}

export interface LeasePage {
  items: LeaseResource[];
  total: number;
  nextCursor: string | null;
}

interface Candidate {
  lease: Lease;
  offer: PendingOffer | undefined;
}

/** Looks up names, addresses and descriptions the lease view needs, from the live config. */
export function leaseContextFor(deps: ApiDeps, engine: ApiEngine): (scopeId: string) => LeaseContext {
  const config = deps.config();
  const descriptions = new Map<Ipv4, string | null>();
  for (const s of config.scopes) for (const r of s.reservations) descriptions.set(r.address, r.description);
  const servers = new Map<string, Ipv4>();
  for (const r of config.failover) {
    if (r.partner.name !== null) servers.set(r.partner.name, r.partner.address);
    if (r.local.name !== null) servers.set(r.local.name, r.local.address);
  }
  // A server in a relationship is named by its failover address on both partners (the partner
  // knows no other); a standalone server by its server identifier.
  if (!servers.has(engine.settings.serverName)) {
    servers.set(engine.settings.serverName, engine.settings.serverIdentifier);
  }
  const reservationDescription = (address: Ipv4) => descriptions.get(address) ?? null;
  const serverAddress = (name: string) => servers.get(name) ?? null;
  // One context per scope for the request (a page of 1000 leases asks 1000 times).
  const contexts = new Map<string, LeaseContext>();
  return (scopeId) => {
    let context = contexts.get(scopeId);
    if (context === undefined) {
      context = { view: engine.scopeView(scopeId), reservationDescription, serverAddress };
      contexts.set(scopeId, context);
    }
    return context;
  };
}

function matches(c: Candidate, f: LeaseFilter): boolean {
  const lease = c.lease;
  if (f.scopeId !== undefined && lease.scopeId !== f.scopeId) return false;
  const addressState =
    c.offer !== undefined && lease.state !== 'active' ? 'offered' : addressStateOf(lease.state);
  if (f.state === undefined) {
    // Without a state (or an address) the list shows client leases: records nobody holds or is
    // offered (free/backup pool records) are left out.
    if (f.ip === undefined && addressState === null) return false;
  } else if (f.state === 'offered' || f.state === 'declined' || f.state === 'doomed') {
    if (addressState !== f.state) return false;
  } else if (lease.state !== f.state) return false;
  if (f.mac !== undefined && lease.hardwareAddress !== canonicalHex(f.mac)) return false;
  if (f.hostname !== undefined && lease.hostname?.toLowerCase() !== f.hostname.toLowerCase()) return false;
  if (f.owner !== undefined && lease.ownerServer !== f.owner) return false;
  return true;
}

/**
 * `matches` for a record nobody is offered, as a test of the table's columns (numbers: a state
 * mask, interned scope and owner; MAC and host name only when asked): a list request tests every
 * record of the table against it. Null when no record can pass.
 */
function columnTest(t: LeaseTable, f: LeaseFilter): ColumnTest | null {
  let stateMask = 0;
  BINDING_STATES.forEach((state, code) => {
    const addressState = addressStateOf(state);
    let isOk: boolean;
    if (f.state === undefined) isOk = f.ip !== undefined || addressState !== null;
    else if (f.state === 'offered' || f.state === 'declined' || f.state === 'doomed')
      isOk = addressState === f.state;
    else isOk = state === f.state;
    if (isOk) stateMask |= 1 << code;
  });
  const scopeIndex = f.scopeId === undefined ? -1 : t.nameIndexOf(f.scopeId);
  const ownerIndex = f.owner === undefined ? -1 : t.nameIndexOf(f.owner);
  // No state passes, or a scope or owner no binding was ever put with: nothing matches.
  if (
    stateMask === 0 ||
    (f.scopeId !== undefined && scopeIndex < 0) ||
    (f.owner !== undefined && ownerIndex < 1)
  )
    return null;
  const hasMac = f.mac === undefined ? null : t.hardwareAddressTest(canonicalHex(f.mac));
  const hostname = f.hostname?.toLowerCase();
  const hasHostname =
    hostname === undefined
      ? null
      : (s: number) => {
          const h = t.hostnameAt(s);
          return h !== null && h.length === hostname.length && h.toLowerCase() === hostname;
        };
  const extra =
    hasMac !== null && hasHostname !== null
      ? (s: number) => hasMac(s) && hasHostname(s)
      : (hasMac ?? hasHostname);
  return { stateMask, scopeIndex, ownerIndex, extra };
}

/**
 * One page of the records and offers that match `filter`, by address, after `cursor`, and the
 * number of matches in all. Lease values are built only for the page and for the (few) records
 * being offered, whose listing shows the offer's client; no list of every match is built.
 *
 * What it costs at a million records (issue 15): a filter by state, scope or neither is counted
 * from the table's per-scope state counts, and the page walks from the cursor through the records
 * that pass until it is full, or, on the first page, until it holds every match (a rare state
 * does not walk the whole table). A filter the counts cannot answer (MAC, host name, owner) is one
 * pass over the records from the start that counts every match and fills the page on the way (it
 * was a counting pass and then a walk).
 */
export function leaseListPage(
  engine: ApiEngine,
  now: number,
  filter: LeaseFilter,
  contextOf: (scopeId: string) => LeaseContext,
  cursor: string | undefined,
  limit: number,
): LeasePage {
  if (filter.ip !== undefined) return leasePage(findLeases(engine, now, filter), contextOf, cursor, limit);
  const after = cursor === undefined ? -1 : parseIpv4(cursor);
  const t = engine.leaseTable;
  const test = columnTest(t, filter);
  const isCountedByWalk = test !== null && !t.isCountedFromTallies(test);
  // Offered addresses, with a record or not, are judged on what the listing shows of them.
  const offered: Candidate[] = [];
  const offeredAddresses = new Set<Ipv4>();
  const recordMatches = test === null || isCountedByWalk ? 0 : t.countMatching(test);
  let total = recordMatches;
  for (const offer of engine.pendingOffers(now)) {
    offeredAddresses.add(offer.address);
    const s = t.slotOf(offer.address);
    if (s >= 0 && test !== null && t.matchesAt(s, test)) total--;
    const c =
      s >= 0
        ? { lease: withOffer(t.leaseAt(s), offer), offer }
        : {
            lease: offerOnlyLease(offer, engine.settings.serverName, engine.scopeView(offer.scopeId)),
            offer,
          };
    if (!matches(c, filter)) continue;
    total++;
    if (offer.address > after) offered.push(c);
  }
  offered.sort((a, b) => a.lease.address - b.lease.address);
  const page: Candidate[] = [];
  let hasMore = false;
  let k = 0;
  /** Adds a candidate; false once the page is full (one more match means there is a next page). */
  const add = (c: Candidate): boolean => {
    if (page.length === limit) {
      hasMore = true;
      return false;
    }
    page.push(c);
    return true;
  };
  if (test !== null && isCountedByWalk) {
    // One pass from the start: every match counted, the page filled from the cursor on.
    t.forEachMatching(-1, test, (s) => {
      total++;
      if (hasMore) return true;
      const address = t.addressAt(s);
      if (address <= after) return true;
      while (k < offered.length && offered[k]!.lease.address < address) if (!add(offered[k++]!)) return true;
      if (!offeredAddresses.has(address)) add({ lease: t.leaseAt(s), offer: undefined });
      return true;
    });
  } else if (test !== null) {
    // Without a cursor the walk can stop once it has seen every matching record.
    let unseen = after < 0 ? recordMatches : Number.POSITIVE_INFINITY;
    if (unseen > 0) {
      t.forEachMatching(after, test, (s) => {
        unseen--;
        const address = t.addressAt(s);
        while (k < offered.length && offered[k]!.lease.address < address)
          if (!add(offered[k++]!)) return false;
        if (!offeredAddresses.has(address) && !add({ lease: t.leaseAt(s), offer: undefined })) return false;
        return unseen > 0;
      });
    }
  }
  while (!hasMore && k < offered.length) add(offered[k++]!);
  return {
    items: page.map((c) => leaseResource(c.lease, c.offer, contextOf(c.lease.scopeId))),
    total,
    nextCursor: hasMore && page.length > 0 ? formatIpv4(page[page.length - 1]!.lease.address) : null,
  };
}

/** Every record and offer that matches `filter`, sorted by address (with `ip`: at most one). */
export function findLeases(engine: ApiEngine, now: number, filter: LeaseFilter): Candidate[] {
  const offers = new Map<Ipv4, PendingOffer>();
  for (const o of engine.pendingOffers(now)) offers.set(o.address, o);
  const out: Candidate[] = [];
  const consider = (address: Ipv4, lease: Lease | undefined) => {
    const offer = offers.get(address);
    let c: Candidate | null = null;
    if (lease) c = { lease: withOffer(lease, offer), offer };
    else if (offer)
      c = {
        lease: offerOnlyLease(offer, engine.settings.serverName, engine.scopeView(offer.scopeId)),
        offer,
      };
    if (c && matches(c, filter)) out.push(c);
  };
  if (filter.ip !== undefined) {
    const address = parseIpv4(filter.ip);
    consider(address, engine.getLease(address));
    return out;
  }
  const t = engine.leaseTable;
  const test = columnTest(t, filter);
  for (const address of offers.keys()) if (t.has(address)) consider(address, t.leaseAt(t.slotOf(address)));
  if (test !== null) {
    t.forEachMatching(-1, test, (s) => {
      if (!offers.has(t.addressAt(s))) out.push({ lease: t.leaseAt(s), offer: undefined });
      return true;
    });
  }
  for (const [address, offer] of offers) {
    if (!t.has(address)) consider(offer.address, undefined);
  }
  out.sort((a, b) => a.lease.address - b.lease.address);
  return out;
}

export function leasePage(
  candidates: readonly Candidate[],
  contextOf: (scopeId: string) => LeaseContext,
  cursor: string | undefined,
  limit: number,
): LeasePage {
  const after = cursor === undefined ? -1 : parseIpv4(cursor);
  // First index past the cursor (candidates are sorted by address).
  let lo = 0;
  let hi = candidates.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (candidates[mid]!.lease.address <= after) lo = mid + 1;
    else hi = mid;
  }
  const page = candidates.slice(lo, lo + limit);
  const hasMore = lo + limit < candidates.length;
  return {
    items: page.map((c) => leaseResource(c.lease, c.offer, contextOf(c.lease.scopeId))),
    total: candidates.length,
    nextCursor: hasMore && page.length > 0 ? formatIpv4(page[page.length - 1]!.lease.address) : null,
  };
}
