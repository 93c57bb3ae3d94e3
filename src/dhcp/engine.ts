// The DHCPv4 allocation engine (RFC 2131 §4.3, RFC 951/1542 for BOOTP). Sans-I/O: it is given a
// decoded packet and `now` (seconds since epoch) and returns the reply to send, where to send it,
// and the binding changes that must be durable before the reply leaves. Timers are `tick(now)`.
// It works on the live lease table (src/dhcp/lease-table.ts), which it is given or builds; the shell
// persists what it returns and the failover endpoint answers the questions in FailoverGate. Nothing
// it does per packet grows with the number of bindings held (issue 15).

import { decideClientName, dnsFlagsAfterEnd, leaseDnsFields } from '../ddns/client-name.js';
import { type DnsSettings, effectiveDnsSettings } from '../ddns/settings.js';
import { newBytes } from '../wire/byte-slab.js';
import {
  getBytesOption,
  getIpv4Option,
  getStringOption,
  getUint16Option,
  getUint32Option,
  linkSelectionOf,
  OPTION,
  subnetSelectionOf,
} from '../wire/dhcp-options.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  DhcpMessageType,
  type DhcpPacket,
  FLAG_BROADCAST,
} from '../wire/dhcp-packet.js';
import { formatIpv4, type Ipv4, toHex } from '../wire/ipv4.js';
import { type FailoverGate, type RequestKind, STANDALONE_GATE } from './failover-gate.js';
import { FreePool, type PoolClass } from './free-pool.js';
import { emptyLease, INFINITE_EXPIRY, type Lease, NO_DNS_FLAGS } from './lease.js';
import { clientKeyOf, LeaseTable } from './lease-table.js';
import { addressGroups, type EnginePolicy, matchPolicy } from './policy.js';
import { type EngineReservation, type EngineSettings, rangeContains, ScopeView } from './scope.js';
import {
  countingScopeOf,
  type ScopeRole,
  type ScopeStatistics,
  statisticsFromTallies,
} from './statistics.js';

/**
 * How a request reached the server, as the shell saw it: sent to one of the server's own
 * addresses ('unicast'), or to a broadcast address ('broadcast': the client is on a directly
 * attached link), or the shell cannot tell ('unknown'). RFC 2131 §4.3.2 tells a RENEWING client
 * (unicast, "the DHCP server will trust the value in 'ciaddr'") from a REBINDING one (broadcast;
 * "the DHCP server SHOULD check 'ciaddr' for correctness") by exactly this.
 */
export type Arrival = 'unicast' | 'broadcast' | 'unknown';

/** Where a reply goes; the shell maps these to socket addresses and ports. */
export type ReplyDestination =
  | { kind: 'relay'; address: Ipv4 } // giaddr, server port (RFC 2131 §4.1)
  | { kind: 'client'; address: Ipv4 } // ciaddr, client port
  | { kind: 'broadcast' }; // limited/subnet broadcast, client port

/**
 * Where a packet came in, when the shell knows it (direct mode: the interface, RFC 2131 §4.1 "the
 * server must use the network on which the message arrived"). Absent: udp mode, settings apply.
 */
export interface PacketArrival {
  /** Scopes of the link the packet arrived on; for clients without relay, instead of directScopeIds. */
  directScopeIds?: readonly string[];
  /** Our address on that link: option 54 of the reply. */
  serverIdentifier?: Ipv4;
}

const NO_ARRIVAL: PacketArrival = {};

export type IgnoreReason =
  | 'not-a-request'
  | 'no-client-identity'
  | 'no-scope'
  | 'scope-inactive'
  | 'not-responsive'
  | 'load-balanced-to-partner'
  | 'other-server-selected'
  | 'no-free-address'
  | 'reserved-address-in-use'
  | 'unknown-client'
  | 'not-our-address'
  | 'bootp-disabled'
  | 'malformed-request'
  | 'unsupported-message-type'
  | 'no-reply-needed';

export type EngineResult =
  | {
      action: 'reply';
      /** 0 for a BOOTP reply */
      messageType: DhcpMessageType | 0;
      reply: DhcpPacket;
      to: ReplyDestination;
      /** Largest reply the client accepts (option 57, at least 576). */
      maxSize: number;
      /** Must be durable before `reply` is sent. */
      changes: Lease[];
      scopeId: string;
      /** Why a NAK was sent, for the log. */
      detail?: string;
    }
  | { action: 'ignore'; reason: IgnoreReason; changes: Lease[]; scopeId: string | null; detail?: string };

interface Offer {
  address: Ipv4;
  clientKey: string;
  scopeId: string;
  expiresAt: number;
}

/** An offer being held for a client (see DhcpEngine.pendingOffers). */
export interface PendingOffer {
  readonly address: Ipv4;
  readonly scopeId: string;
  readonly expiresAt: number;
  /** hex, when the client is known by its client identifier */
  readonly clientId: string | null;
  /** 0 and '' when the client is known by its client identifier */
  readonly hardwareType: number;
  readonly hardwareAddress: string;
}

interface ClientIdentity {
  /** Key in the per-scope client index: client id if sent, else hardware type + address. */
  key: string;
  hardwareType: number;
  hardwareAddress: string;
  clientId: string | null;
  /** Bytes hashed for load balancing (RFC 3074 / failover.md §8.1). */
  hashKey: Uint8Array;
  /** The policy the request falls under in its scope (src/dhcp/policy.ts), or null. */
  policy: EnginePolicy | null;
}

interface ScopeRuntime {
  view: ScopeView;
  /** Addresses outside every policy's ranges (all of the scope's when it has no policy ranges). */
  pool: FreePool;
  gate: FailoverGate;
  /** One pool per policy with ranges: its clients get those addresses and nobody else does. */
  policyPools: Map<EnginePolicy, FreePool> | null;
}

/** Why an address cannot go to a client now (DhcpEngine.unavailability). */
type Unavailability =
  | 'outside-dynamic-ranges'
  | 'outside-clients-ranges'
  | 'offered-to-another-client'
  | 'bound-to-another-client'
  | 'abandoned'
  /** The failover gate refuses it: the partner's pool, or an ended binding not yet settled. */
  | 'not-allocatable-here';

const MIN_DHCP_MESSAGE = 576;
/**
 * How long after a client started over a RELEASE of its binding is taken as sent before that
 * (noteStartedOver). The engine's clock is in whole seconds: 2 is the same second or the next,
 * 1 to 2 s, far above any reordering between a client's RELEASE and its next DORA (e2e
 * migration runs: a few ms, 26 of 26 in the same second). A RELEASE really sent in that time is
 * ignored, and the address stays with its client until the lease ends, as for a client that
 * leaves without a RELEASE; a longer window ignores more of those (with 5 s, one migration run
 * ignored a RELEASE sent in order 3 s after the client's DORA).
 */
const RELEASE_REORDER_SECONDS = 2;
const NO_CHANGES: Lease[] = [];

function isFreeState(state: Lease['state']): boolean {
  return state === 'free' || state === 'backup';
}

function poolClassOf(state: Lease['state']): PoolClass {
  return state === 'backup' ? 'backup' : 'free';
}

const clientKeyOfLease = clientKeyOf;

export class DhcpEngine {
  private readonly scopes: ScopeRuntime[] = [];
  private readonly scopeById = new Map<string, ScopeRuntime>();
  /** Every binding, with its client index (scope, client key → address) and expiry order. */
  private readonly table: LeaseTable;
  private readonly offers = new Map<Ipv4, Offer>();
  /** When the client of an ACTIVE binding last started over (noteStartedOver), by address. */
  private readonly startedOverAt = new Map<Ipv4, number>();
  private readonly offerByClient = new Map<string, Ipv4>();
  private readonly offerQueue: Offer[] = [];
  private offerQueueHead = 0;

  /**
   * `leases`: the bindings to serve. A LeaseTable is taken over as it is (start-up loads the store
   * straight into one; a reload hands the running engine's table to the new engine, which must
   * then be the only one to use it); any other iterable of leases is copied into a new table.
   */
  constructor(
    readonly settings: EngineSettings,
    leases: Iterable<Lease> | LeaseTable,
    gates: ReadonlyMap<string, FailoverGate> = new Map(),
  ) {
    const nextUnbound = (from: Ipv4, to: Ipv4) => this.table.nextAbsent(from, to);
    for (const s of settings.scopes) {
      const view = new ScopeView(s);
      const groups = addressGroups(s);
      const maxQueue = view.size * 2 + 1024;
      const policyPools = new Map<EnginePolicy, FreePool>();
      for (const g of groups)
        if (g.policy !== null) policyPools.set(g.policy, new FreePool(g.ranges, maxQueue, nextUnbound));
      const rt: ScopeRuntime = {
        view,
        pool: new FreePool(groups.at(-1)!.ranges, maxQueue, nextUnbound),
        gate: gates.get(s.id) ?? STANDALONE_GATE,
        policyPools: policyPools.size === 0 ? null : policyPools,
      };
      this.scopes.push(rt);
      this.scopeById.set(s.id, rt);
    }
    if (leases instanceof LeaseTable) {
      this.table = leases;
    } else {
      this.table = new LeaseTable();
      for (const lease of leases) this.table.load(lease);
    }
    // Statistics are tallied per scope as bindings change (statistics.ts): a record counts for
    // the scope whose counted addresses hold it, looked up first in the scope it names.
    const views = this.scopes.map((s) => s.view);
    const indexById = new Map(views.map((v, i) => [v.id, i] as const));
    this.table.setTallyRule({
      groupCount: views.length,
      countedOwner: settings.serverName,
      groupOf: (address, scopeId) => countingScopeOf(views, indexById.get(scopeId), address),
    });
    this.queueRecycled();
  }

  /**
   * Queues every freed binding in its pool, least recently freed first (ties in address order),
   * so returning clients find their old address untouched longest.
   */
  private queueRecycled(): void {
    const t = this.table;
    const slots: number[] = [];
    t.forEachFrom(-1, (s) => {
      const state = t.stateAt(s);
      if (isFreeState(state) || state === 'expired' || state === 'released' || state === 'reset')
        slots.push(s);
      return true;
    });
    const startedAt = new Float64Array(slots.length);
    for (let i = 0; i < slots.length; i++) startedAt[i] = t.stateStartedAtAt(slots[i]!);
    const order = new Uint32Array(slots.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => startedAt[a]! - startedAt[b]! || a - b);
    for (const i of order) {
      const s = slots[i]!;
      const address = t.addressAt(s);
      const scope = this.scopeForAddress(address);
      if (scope) poolOf(scope, address).release(poolClassOf(t.stateAt(s)), address);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Queries (API, metrics, failover)

  getLease(address: Ipv4): Lease | undefined {
    return this.table.get(address);
  }

  /** Every binding, materialised one by one in address order (tests; production code scans `leaseTable`). */
  leases(): IterableIterator<Lease> {
    return this.table.leases();
  }

  /** The live table, for scans that read columns (API, failover, DNS) and for a reload's hand-over. */
  get leaseTable(): LeaseTable {
    return this.table;
  }

  /**
   * Statistics of every scope (statistics.ts), from the table's tallies and the offers held at
   * `now`: O(scopes + offers), whatever the number of bindings.
   */
  scopeStatistics(now: number, roleOf: (scopeId: string) => ScopeRole): Map<string, ScopeStatistics> {
    return statisticsFromTallies(
      this.scopes.map((s) => s.view),
      (i) => this.table.tallyOf(i),
      this.pendingOffers(now),
      { serverName: this.settings.serverName, roleOf, now },
    );
  }

  scopeIds(): string[] {
    return this.scopes.map((s) => s.view.id);
  }

  scopeView(scopeId: string): ScopeView | undefined {
    return this.scopeById.get(scopeId)?.view;
  }

  /** The scope whose ranges (or reservations) hold `address`. */
  scopeForAddress(address: Ipv4): ScopeRuntime | undefined {
    for (const s of this.scopes) {
      if (s.view.inRanges(address) || s.view.reservationByAddress.has(address)) return s;
    }
    return undefined;
  }

  isOffered(address: Ipv4, now: number): boolean {
    const o = this.offers.get(address);
    return o !== undefined && o.expiresAt > now;
  }

  /**
   * Offers still held at `now` (read-only view, for the management API and statistics). The
   * client is given as the engine knows it: by client id when the client sent one, else by
   * hardware address.
   */
  *pendingOffers(now: number): IterableIterator<PendingOffer> {
    for (const o of this.offers.values()) {
      if (o.expiresAt <= now) continue;
      const isClientId = o.clientKey.startsWith('c');
      const colon = o.clientKey.indexOf(':');
      yield {
        address: o.address,
        scopeId: o.scopeId,
        expiresAt: o.expiresAt,
        clientId: isClientId ? o.clientKey.slice(1) : null,
        hardwareType: isClientId ? 0 : Number(o.clientKey.slice(1, colon)),
        hardwareAddress: isClientId ? '' : o.clientKey.slice(colon + 1),
      };
    }
  }

  /** Earliest time at which `tick` has work to do, or null. */
  nextWakeAt(): number | null {
    const a = this.table.nextExpiryAt();
    const o =
      this.offerQueueHead < this.offerQueue.length ? this.offerQueue[this.offerQueueHead]!.expiresAt : null;
    if (a === null) return o;
    if (o === null) return a;
    return Math.min(a, o);
  }

  // ---------------------------------------------------------------------------------------------
  // Binding changes from outside the DHCP exchange (failover binding updates, operator actions).

  /** Installs `lease` as the binding for its address, keeping every index consistent. */
  putLease(lease: Lease): void {
    const oldState = this.table.stateOf(lease.address);
    this.table.put(lease);
    if (isFreeState(lease.state) && (oldState === undefined || oldState !== lease.state)) {
      const scope = this.scopeForAddress(lease.address);
      if (scope) poolOf(scope, lease.address).release(poolClassOf(lease.state), lease.address);
    }
  }

  /**
   * `address` answered a ping before we offered it (RFC 2131 §4.4.1: the server SHOULD probe an
   * address before allocating it; Windows conflict detection, dhcpd's ping check): someone uses it
   * without a lease here. Withdraw any offer of it and hold it out of every pool like a declined
   * address (declineHoldSeconds; D12: abandoned, no client). Returns the change to persist, none
   * when the address is bound to a client (then the ping proves nothing against it).
   */
  abandonConflict(address: Ipv4, now: number): Lease[] {
    const scope = this.scopeForAddress(address);
    const lease = this.table.get(address);
    if (scope === undefined || lease?.state === 'active' || lease?.state === 'abandoned') return [];
    const offer = this.offers.get(address);
    if (offer) this.dropOffer(offer);
    const held: Lease = {
      ...emptyLease(address, scope.view.id, 'abandoned', now),
      leaseExpiresAt: now + scope.view.settings.declineHoldSeconds,
      clientLastTransactionAt: now,
      ownerServer: this.settings.serverName,
    };
    this.putLease(held);
    return [held];
  }

  /**
   * Operator release (Windows "Remove-DhcpServerv4Lease" of an active lease, Kea "lease4-del"):
   * ends the active binding of `address` exactly as the client's DHCPRELEASE would (RFC 2131
   * §4.3.4; release() below), keeping the client's identity. Returns the change to persist, or
   * null when the address holds no active binding.
   */
  releaseBinding(address: Ipv4, now: number): Lease | null {
    const lease = this.table.get(address);
    if (lease?.state !== 'active') return null;
    const gate = this.scopeForAddress(address)?.gate ?? STANDALONE_GATE;
    const released: Lease = {
      ...lease,
      state: gate.stateAfterRelease(),
      leaseExpiresAt: now,
      stateStartedAt: now,
      clientLastTransactionAt: now,
      isPartnerUpToDate: false,
      dns: dnsFlagsAfterEnd(lease),
    };
    this.putLease(released);
    return released;
  }

  /**
   * Forgets the record of `address` (an operator deleting it). Without a record the address is
   * FREE (D12 §5.4), so it goes back to the FREE queue; the caller decides when that is safe.
   * Returns the record removed.
   */
  removeLease(address: Ipv4): Lease | undefined {
    const old = this.table.get(address);
    if (!old) return undefined;
    this.table.delete(address);
    const scope = this.scopeForAddress(address);
    if (scope) poolOf(scope, address).release('free', address);
    return old;
  }

  // ---------------------------------------------------------------------------------------------
  // Timers

  /**
   * Expires leases, declined-address holds and offers that are due. Returns changes to persist.
   * At most `maxChanges` bindings change per call (the shell calls again at once while
   * `nextWakeAt() <= now`), so that a mass expiry interleaves with packets instead of stalling them.
   */
  tick(now: number, maxChanges = Number.POSITIVE_INFINITY): Lease[] {
    const changes: Lease[] = [];
    while (changes.length < maxChanges) {
      const a = this.table.popDue(now);
      if (a === null) break;
      const lease = this.table.get(a);
      if (!lease || lease.leaseExpiresAt > now || lease.leaseExpiresAt === INFINITE_EXPIRY) continue;
      const scope = this.scopeForAddress(a);
      const gate = scope?.gate ?? STANDALONE_GATE;
      if (lease.state === 'active') {
        const next: Lease = {
          ...lease,
          state: gate.stateAfterExpiry(),
          stateStartedAt: now,
          isPartnerUpToDate: false,
          dns: dnsFlagsAfterEnd(lease),
        };
        this.putLease(next);
        changes.push(next);
      } else if (lease.state === 'abandoned') {
        // The decline hold is over: the address is usable again, with no client attached.
        // Keep the potential expiration times: a failover partner may still rely on them (they
        // bound when the address may be reused in PARTNER-DOWN).
        const next: Lease = {
          ...emptyLease(a, lease.scopeId, gate.stateAfterExpiry(), now),
          sentPotentialExpiresAt: lease.sentPotentialExpiresAt,
          ackedPotentialExpiresAt: lease.ackedPotentialExpiresAt,
          receivedPotentialExpiresAt: lease.receivedPotentialExpiresAt,
        };
        this.putLease(next);
        changes.push(next);
      }
    }
    while (this.offerQueueHead < this.offerQueue.length) {
      const o = this.offerQueue[this.offerQueueHead]!;
      if (o.expiresAt > now) break;
      this.offerQueueHead++;
      if (this.offers.get(o.address) === o) this.withdrawOffer(o);
    }
    if (this.offerQueueHead > 1024 && this.offerQueueHead * 2 > this.offerQueue.length) {
      this.offerQueue.splice(0, this.offerQueueHead);
      this.offerQueueHead = 0;
    }
    return changes;
  }

  // ---------------------------------------------------------------------------------------------
  // Packets

  private arrival: PacketArrival = NO_ARRIVAL;

  /** Option 54 of a reply: our address on the link the request came in on, else the configured one. */
  private get replyServerIdentifier(): Ipv4 {
    return this.arrival.serverIdentifier ?? this.settings.serverIdentifier;
  }

  /** A server identifier (option 54) a client sent names this server. */
  private isOurServerIdentifier(address: Ipv4): boolean {
    return (
      address === this.settings.serverIdentifier ||
      (this.settings.otherServerIdentifiers?.includes(address) ?? false)
    );
  }

  /**
   * `arrival`: whether the datagram was unicast to us or broadcast (RFC 2131 §4.3.2); `link`: the
   * link it came in on, when the shell knows it (direct mode).
   */
  handle(
    packet: DhcpPacket,
    now: number,
    arrival: Arrival = 'unknown',
    link: PacketArrival = NO_ARRIVAL,
  ): EngineResult {
    // handle() is synchronous: the link is this call's, read by selectScope and the replies.
    this.arrival = link;
    if (packet.op !== BOOTREQUEST) return ignore('not-a-request', null);
    const client = identify(packet);
    if (!client) return ignore('no-client-identity', null);
    const scope = this.selectScope(packet, arrival);
    if (!scope)
      return ignore(
        'no-scope',
        null,
        `giaddr ${formatIpv4(packet.giaddr)} ciaddr ${formatIpv4(packet.ciaddr)}`,
      );
    // A deactivated scope keeps its bindings, statistics and failover; it answers nobody.
    if (scope.view.settings.isActive === false) return ignore('scope-inactive', scope.view.id);
    if (!scope.gate.isResponsive(now)) return ignore('not-responsive', scope.view.id);
    const policies = scope.view.settings.policies;
    if (policies !== undefined) client.policy = matchPolicy(policies, packet);

    const typeBytes = packet.options.get(OPTION.messageType);
    // RFC 1534 §2: a BOOTP request is one without option 53. One whose option 53 is not the one
    // byte of RFC 2132 §9.6 (e.g. two instances, concatenated per RFC 3396) is a broken DHCP
    // message: served as BOOTP it would get an address bound for good instead of an OFFER.
    if (!packet.hasMagicCookie || typeBytes === undefined) return this.bootp(packet, scope, client, now);
    if (typeBytes.length !== 1) {
      return ignore('malformed-request', scope.view.id, `option 53 of ${typeBytes.length} bytes`);
    }
    const messageType = typeBytes[0] as DhcpMessageType;
    if (
      messageType === DhcpMessageType.Discover ||
      (messageType === DhcpMessageType.Request &&
        packet.ciaddr === 0 &&
        packet.options.get(OPTION.serverIdentifier) !== undefined)
    )
      this.noteStartedOver(scope, client, now);
    switch (messageType) {
      case DhcpMessageType.Discover:
        return this.discover(packet, scope, client, now);
      case DhcpMessageType.Request:
        return this.request(packet, scope, client, now, arrival);
      case DhcpMessageType.Decline:
        return this.decline(packet, scope, client, now);
      case DhcpMessageType.Release:
        return this.release(packet, scope, client, now);
      case DhcpMessageType.Inform:
        return this.inform(packet, scope, client, now);
      default:
        return ignore('unsupported-message-type', scope.view.id, `type ${typeBytes[0]}`);
    }
  }

  // RFC 2131 §4.3.1
  private discover(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    now: number,
  ): EngineResult {
    const isReserved = scope.view.reservationFor(client.hardwareAddress, client.clientId) !== undefined;
    if (
      !scope.gate.shouldAnswer(isReserved ? 'reservedDiscover' : 'discover', client.hashKey, packet.secs, now)
    ) {
      return ignore('load-balanced-to-partner', scope.view.id);
    }
    const chosen = this.chooseAddress(
      scope,
      client,
      getIpv4Option(packet.options, OPTION.requestedAddress),
      true,
      now,
    );
    if ('action' in chosen) return chosen;
    const { address, reservation } = chosen;
    const seconds = this.leaseSeconds(packet, scope, client.policy);
    const grant = scope.gate.grant(this.table.get(address), seconds, false, now);
    this.makeOffer(address, client.key, scope, now);
    const reply = this.buildReply(
      packet,
      scope,
      DhcpMessageType.Offer,
      address,
      reservation,
      grant.expiresAt - now,
      client.policy,
    );
    this.addFqdnReply(packet, scope, client, reservation, reply);
    return this.replyResult(packet, scope, DhcpMessageType.Offer, reply, NO_CHANGES);
  }

  // RFC 2131 §4.3.2
  private request(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    now: number,
    arrival: Arrival,
  ): EngineResult {
    const serverId = getIpv4Option(packet.options, OPTION.serverIdentifier);
    const requested = getIpv4Option(packet.options, OPTION.requestedAddress);
    const reservation = scope.view.reservationFor(client.hardwareAddress, client.clientId);
    const view = scope.view;

    if (serverId !== null) {
      // SELECTING: the client answers an OFFER.
      if (!this.isOurServerIdentifier(serverId)) {
        scope.gate.noteOtherServerSelected(serverId, now);
        const offered = this.offerByClient.get(`${view.id}|${client.key}`);
        if (offered !== undefined) {
          const o = this.offers.get(offered);
          if (o) this.withdrawOffer(o);
        }
        return ignore('other-server-selected', view.id);
      }
      const address = requested ?? packet.ciaddr;
      if (address === 0) return ignore('malformed-request', view.id, 'SELECTING without requested address');
      if (reservation && reservation.address !== address) {
        return this.nak(packet, scope, `address ${formatIpv4(address)} is not the client's reserved address`);
      }
      if (!view.inSubnet(address))
        return this.nak(packet, scope, `address ${formatIpv4(address)} is not in subnet ${view.id}`);
      const why = this.unavailability(scope, address, client, now, reservation !== undefined);
      if (why !== null) {
        // An address we offered this very client can still be refused: its binding ended on the
        // failover partner between OFFER and REQUEST (the client's RELEASE, sent there before
        // its DISCOVER, came to us as the partner's update), and a FREE address is the primary's
        // alone (D12 §5.4). docs/migrate-from-isc-dhcp.md, issue 14.
        return this.nak(
          packet,
          scope,
          `address ${formatIpv4(address)} is not available to this client: ${this.describeUnavailability(scope, address, why, now)}`,
        );
      }
      return this.ack(packet, scope, client, address, reservation, now);
    }

    if (packet.ciaddr === 0) {
      // INIT-REBOOT: the client wants to keep a previously allocated address.
      if (requested === null)
        return ignore('malformed-request', view.id, 'REQUEST without ciaddr or requested address');
      if (!view.inSubnet(requested)) {
        return view.settings.authoritative
          ? this.nak(packet, scope, `address ${formatIpv4(requested)} is on the wrong network`)
          : ignore('not-our-address', view.id);
      }
      if (!scope.gate.shouldAnswer('initReboot', client.hashKey, packet.secs, now)) {
        return ignore('load-balanced-to-partner', view.id);
      }
      return this.confirm(packet, scope, client, requested, reservation, now, false);
    }

    // RENEWING (unicast) or REBINDING (broadcast); both carry ciaddr and are never load balanced.
    if (!view.inSubnet(packet.ciaddr)) {
      // Only a relayed or a broadcast request gets a scope that is not ciaddr's own (selectScope):
      // the client is on that scope's network with an address of another one (a laptop moved
      // between networks). RFC 2131 §4.3.2, REBINDING: "The DHCP server SHOULD check 'ciaddr'
      // for correctness"; the answer to a client on the wrong network is the one INIT-REBOOT gets.
      // Extending its binding elsewhere would hand it an address it cannot use here.
      const isClientsNetworkKnown = packet.giaddr !== 0 || arrival === 'broadcast';
      return isClientsNetworkKnown && view.settings.authoritative
        ? this.nak(packet, scope, `address ${formatIpv4(packet.ciaddr)} is on the wrong network`)
        : ignore('not-our-address', view.id, `ciaddr ${formatIpv4(packet.ciaddr)} outside scope ${view.id}`);
    }
    return this.confirm(packet, scope, client, packet.ciaddr, reservation, now, true);
  }

  /**
   * INIT-REBOOT, RENEWING and REBINDING: the client names an address it believes it holds.
   * ACK if it does, NAK if it cannot, stay silent when we know nothing (RFC 2131 §4.3.2).
   */
  private confirm(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    address: Ipv4,
    reservation: EngineReservation | undefined,
    now: number,
    isRenewal: boolean,
  ): EngineResult {
    const view = scope.view;
    if (reservation && reservation.address !== address) {
      return this.nak(
        packet,
        scope,
        `client is reserved ${formatIpv4(reservation.address)}, asked for ${formatIpv4(address)}`,
      );
    }
    const lease = this.table.get(address);
    const isOurs = lease !== undefined && clientKeyOfLease(lease) === client.key;
    // A policy decides where its clients are, also for the bindings they already hold: a client
    // whose address is outside its policy's ranges (or inside another policy's) starts over.
    if (!reservation && !isInClientsPool(scope, client, address) && view.isDynamic(address)) {
      return view.settings.authoritative
        ? this.nak(
            packet,
            scope,
            `address ${formatIpv4(address)} is outside the ranges for ${policyLabel(client.policy)}`,
          )
        : ignore('not-our-address', view.id);
    }
    if (lease?.state === 'active') {
      if (isOurs) return this.ack(packet, scope, client, address, reservation, now);
      return this.nak(packet, scope, `address ${formatIpv4(address)} is bound to another client`);
    }
    const bound = this.table.addressOfClient(view.id, client.key);
    if (bound !== undefined && bound !== address && this.table.stateOf(bound) === 'active') {
      return this.nak(packet, scope, `client holds ${formatIpv4(bound)}, asked for ${formatIpv4(address)}`);
    }
    if (!reservation && !view.isDynamic(address)) {
      if (view.inSubnet(address) && view.settings.authoritative) {
        return this.nak(
          packet,
          scope,
          `address ${formatIpv4(address)} is not in a range of scope ${view.id}`,
        );
      }
      return ignore('not-our-address', view.id);
    }
    // We hold no active binding for this client. A renewing client (or one we remember by its
    // expired/released binding) may have its address back if it is still free: this restores
    // service after a lost lease file. An INIT-REBOOT from a client we never saw: stay silent.
    if (
      (isRenewal || isOurs || reservation) &&
      this.isAvailableFor(scope, address, client, now, reservation !== undefined)
    ) {
      return this.ack(packet, scope, client, address, reservation, now);
    }
    if (isRenewal && lease !== undefined && !isFreeState(lease.state)) {
      return this.nak(packet, scope, `address ${formatIpv4(address)} is not available (${lease.state})`);
    }
    return ignore('unknown-client', view.id);
  }

  private ack(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    address: Ipv4,
    reservation: EngineReservation | undefined,
    now: number,
  ): EngineResult {
    const { changes, grantedExpiresAt } = this.bind(
      packet,
      scope,
      client,
      address,
      reservation,
      'dhcp',
      this.leaseSeconds(packet, scope, client.policy),
      false,
      now,
    );
    const reply = this.buildReply(
      packet,
      scope,
      DhcpMessageType.Ack,
      address,
      reservation,
      grantedExpiresAt - now,
      client.policy,
    );
    reply.ciaddr = packet.ciaddr; // RFC 2131 table 3: 'ciaddr' from the DHCPREQUEST, or 0
    this.addFqdnReply(packet, scope, client, reservation, reply);
    return this.replyResult(packet, scope, DhcpMessageType.Ack, reply, changes);
  }

  /**
   * Creates or extends the binding of `address` to `client`; returns the changes to persist and
   * the expiry the client is told (the gate's grant). The stored expiry is never lowered below the
   * lease the same client already holds: a grant shorter than that (the failover gate's MCLT cap
   * after a restart no clock measured, or a shorter lease time configured since) reaches the
   * client only if the ACK does, and a client whose ACK is lost keeps its lease (RFC 2131 §4.4.5),
   * so the store must keep it too (docs/safety.md, "No ACKed lease lost"; sim seeds 131981, 67602,
   * 154253: the capped expiry ran out in both stores while the client held the address).
   */
  private bind(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    address: Ipv4,
    reservation: EngineReservation | undefined,
    clientType: Lease['clientType'],
    seconds: number,
    isInfinite: boolean,
    now: number,
  ): { changes: Lease[]; grantedExpiresAt: number } {
    const old = this.table.get(address);
    const grant = scope.gate.grant(old, seconds, isInfinite, now);
    const wasSameActive = old !== undefined && old.state === 'active' && clientKeyOfLease(old) === client.key;
    const base = old ?? emptyLease(address, scope.view.id, 'active', now);
    const hostname =
      reservation?.hostname ??
      getStringOption(packet.options, OPTION.hostName) ??
      (wasSameActive ? old.hostname : null);
    const lease: Lease = {
      ...base,
      scopeId: scope.view.id,
      state: 'active',
      hardwareType: client.hardwareType,
      hardwareAddress: client.hardwareAddress,
      clientId: client.clientId,
      hostname,
      clientType,
      isReserved: reservation !== undefined,
      leaseExpiresAt: wasSameActive ? Math.max(old.leaseExpiresAt, grant.expiresAt) : grant.expiresAt,
      stateStartedAt: wasSameActive ? base.stateStartedAt : now,
      clientLastTransactionAt: now,
      ownerServer: this.settings.serverName,
      policyName: client.policy?.name ?? null,
      sentPotentialExpiresAt:
        grant.potentialExpiresAt > 0 ? grant.potentialExpiresAt : base.sentPotentialExpiresAt,
      isPartnerUpToDate: false,
      ...this.dnsFieldsOf(packet, scope, client, hostname, old, wasSameActive),
    };
    const changes: Lease[] = [lease];
    // One binding per client per scope: a client that moves to a new address gives up the old one.
    const previous = this.table.addressOfClient(scope.view.id, client.key);
    if (previous !== undefined && previous !== address) {
      const p = this.table.get(previous);
      if (p && p.state === 'active') {
        const released: Lease = {
          ...p,
          state: scope.gate.stateAfterRelease(),
          stateStartedAt: now,
          leaseExpiresAt: now,
          isPartnerUpToDate: false,
          dns: dnsFlagsAfterEnd(p),
        };
        this.putLease(released);
        changes.push(released);
      }
    }
    const offer = this.offers.get(address);
    if (offer) this.dropOffer(offer);
    this.putLease(lease);
    return { changes, grantedExpiresAt: grant.expiresAt };
  }

  // ---------------------------------------------------------------------------------------------
  // Dynamic DNS (RFC 4702; src/ddns/). A scope and policy without DNS settings cost one check.

  private dnsSettingsOf(scope: ScopeRuntime, client: ClientIdentity): DnsSettings | null {
    const policyDns = client.policy?.dns;
    if (scope.view.settings.dns === undefined && (policyDns === null || policyDns === undefined)) return null;
    return effectiveDnsSettings(scope.view.settings.dns, policyDns);
  }

  /** fqdn, dhcidMode and dns flags of a binding being made; undefined: keep what the lease has. */
  private dnsFieldsOf(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    hostname: string | null,
    old: Lease | undefined,
    isSameBinding: boolean,
  ): Pick<Lease, 'fqdn' | 'dhcidMode' | 'dns'> | undefined {
    const settings = this.dnsSettingsOf(scope, client);
    if (settings === null) {
      // No DNS for this client: an address taken over from another client drops that one's name.
      return old !== undefined && old.fqdn !== null && !isSameBinding
        ? { fqdn: null, dhcidMode: 'none', dns: { ...NO_DNS_FLAGS } }
        : undefined;
    }
    const decision = decideClientName(settings, packet.options.get(OPTION.clientFqdn), hostname);
    return leaseDnsFields(decision, settings, client.clientId, old, isSameBinding);
  }

  /** RFC 4702 §4: a client that sent option 81 gets it back with the server's flags and name. */
  private addFqdnReply(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    reservation: EngineReservation | undefined,
    reply: DhcpPacket,
  ): void {
    const fqdnOption = packet.options.get(OPTION.clientFqdn);
    if (fqdnOption === undefined) return;
    const settings = this.dnsSettingsOf(scope, client);
    if (settings === null) return;
    const hostname = reservation?.hostname ?? getStringOption(packet.options, OPTION.hostName);
    const decision = decideClientName(settings, fqdnOption, hostname);
    if (decision?.replyOption) reply.options.set(OPTION.clientFqdn, decision.replyOption);
  }

  // RFC 2131 §4.3.3
  private decline(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    now: number,
  ): EngineResult {
    const serverId = getIpv4Option(packet.options, OPTION.serverIdentifier);
    if (serverId !== null && !this.isOurServerIdentifier(serverId))
      return ignore('other-server-selected', scope.view.id);
    const address = getIpv4Option(packet.options, OPTION.requestedAddress) ?? packet.ciaddr;
    const lease = this.table.get(address);
    const offer = this.offers.get(address);
    const isClients =
      (lease !== undefined && clientKeyOfLease(lease) === client.key) || offer?.clientKey === client.key;
    if (!isClients) return ignore('unknown-client', scope.view.id, `DECLINE of ${formatIpv4(address)}`);
    if (offer) this.dropOffer(offer);
    // D12: an abandoned binding carries no client. The hold keeps it out of every pool. It keeps
    // the address's potential expiration times, as the end of the hold does (tick): a failover
    // partner may have granted up to MCLT past them, and PARTNER-DOWN waits for that before reuse
    // (sim seed 18835: dropped here, the partner-down server reused an address its partner had
    // leased on the strength of a PET this server no longer remembered).
    const declined: Lease = {
      ...emptyLease(address, scope.view.id, 'abandoned', now),
      leaseExpiresAt: now + scope.view.settings.declineHoldSeconds,
      clientLastTransactionAt: now,
      ownerServer: this.settings.serverName,
      sentPotentialExpiresAt: lease?.sentPotentialExpiresAt ?? 0,
      ackedPotentialExpiresAt: lease?.ackedPotentialExpiresAt ?? 0,
      receivedPotentialExpiresAt: lease?.receivedPotentialExpiresAt ?? 0,
    };
    this.putLease(declined);
    return {
      action: 'ignore',
      reason: 'no-reply-needed',
      changes: [declined],
      scopeId: scope.view.id,
      detail: `declined ${formatIpv4(address)}`,
    };
  }

  /**
   * A client that sends a DISCOVER, or a SELECTING REQUEST (server identifier, no ciaddr), while
   * it holds an ACTIVE binding here has started over (RFC 2131 §4.4, INIT): any RELEASE of that
   * binding it sent was sent before. Not an INIT-REBOOT (no server identifier): that client asks
   * for the lease it still holds and may release it right after the ACK (dhclient restarted and
   * then `dhclient -r`: test/e2e/real-clients.test.ts), and a RELEASE sent before it would have
   * ended the very lease it asks back. UDP keeps no order, and a client's RELEASE
   * (unicast to the server) and its DISCOVER and REQUEST (broadcast, or through a relay) come in
   * on different sockets and paths: test/e2e/migration.test.ts saw the RELEASE handled after
   * the REQUEST, releasing the lease just ACKed (lost, both servers FREE, 10.77.3.207), and
   * between DISCOVER and REQUEST (NAKed, 10.77.3.98). A RELEASE names no lease, only the address
   * and the client, so it is judged by when it comes: within RELEASE_REORDER_SECONDS of the
   * start-over it is ignored (see release()).
   */
  private noteStartedOver(scope: ScopeRuntime, client: ClientIdentity, now: number): void {
    const bound = this.table.addressOfClient(scope.view.id, client.key);
    if (bound !== undefined && this.table.stateOf(bound) === 'active') this.startedOverAt.set(bound, now);
  }

  // RFC 2131 §4.3.4
  private release(
    packet: DhcpPacket,
    scope: ScopeRuntime,
    client: ClientIdentity,
    now: number,
  ): EngineResult {
    const serverId = getIpv4Option(packet.options, OPTION.serverIdentifier);
    if (serverId !== null && !this.isOurServerIdentifier(serverId))
      return ignore('other-server-selected', scope.view.id);
    const lease = this.table.get(packet.ciaddr);
    if (lease?.state !== 'active' || clientKeyOfLease(lease) !== client.key) {
      return ignore('unknown-client', scope.view.id, `RELEASE of ${formatIpv4(packet.ciaddr)}`);
    }
    const startedOverAt = this.startedOverAt.get(lease.address);
    if (startedOverAt !== undefined) {
      if (now - startedOverAt < RELEASE_REORDER_SECONDS) {
        return ignore(
          'no-reply-needed',
          scope.view.id,
          `RELEASE of ${formatIpv4(packet.ciaddr)} ignored: the client started over ${now - startedOverAt} s before; it was sent before that`,
        );
      }
      this.startedOverAt.delete(lease.address);
    }
    // The binding is settled where it lives (its failover relationship decides the next state),
    // whichever scope the request's path selected (a broadcast or relayed RELEASE).
    const own = this.scopeById.get(lease.scopeId) ?? scope;
    // Keep the client's identity on the free binding, so it gets the same address back next time.
    const released: Lease = {
      ...lease,
      state: own.gate.stateAfterRelease(),
      leaseExpiresAt: now,
      stateStartedAt: now,
      clientLastTransactionAt: now,
      isPartnerUpToDate: false,
      dns: dnsFlagsAfterEnd(lease),
    };
    this.putLease(released);
    return {
      action: 'ignore',
      reason: 'no-reply-needed',
      changes: [released],
      scopeId: own.view.id,
      detail: `released ${formatIpv4(packet.ciaddr)}`,
    };
  }

  // RFC 2131 §4.3.5
  private inform(packet: DhcpPacket, scope: ScopeRuntime, client: ClientIdentity, now: number): EngineResult {
    if (!scope.gate.shouldAnswer('other', client.hashKey, packet.secs, now))
      return ignore('load-balanced-to-partner', scope.view.id);
    const reservation = scope.view.reservationFor(client.hardwareAddress, client.clientId);
    const reply = this.buildReply(packet, scope, DhcpMessageType.Ack, 0, reservation, null, client.policy);
    reply.ciaddr = packet.ciaddr;
    return this.replyResult(packet, scope, DhcpMessageType.Ack, reply, NO_CHANGES);
  }

  // RFC 951 / RFC 1534: BOOTP clients get reserved addresses, and dynamic ones where allowed.
  private bootp(packet: DhcpPacket, scope: ScopeRuntime, client: ClientIdentity, now: number): EngineResult {
    if (!scope.gate.shouldAnswer('bootp', client.hashKey, packet.secs, now))
      return ignore('load-balanced-to-partner', scope.view.id);
    const settings = scope.view.settings;
    const chosen = this.chooseAddress(scope, client, null, settings.dynamicBootp, now);
    if ('action' in chosen) return chosen;
    const { address, reservation } = chosen;
    const isInfinite = settings.bootpLeaseSeconds === null;
    const { changes } = this.bind(
      packet,
      scope,
      client,
      address,
      reservation,
      'bootp',
      settings.bootpLeaseSeconds ?? 0,
      isInfinite,
      now,
    );
    const reply = this.buildReply(packet, scope, 0, address, reservation, null, client.policy);
    return this.replyResult(packet, scope, 0, reply, changes);
  }

  // ---------------------------------------------------------------------------------------------
  // Allocation

  /** The client's reserved address, else (where dynamic allocation is allowed) one from the pool. */
  private chooseAddress(
    scope: ScopeRuntime,
    client: ClientIdentity,
    requested: Ipv4 | null,
    isDynamicAllowed: boolean,
    now: number,
  ): { address: Ipv4; reservation: EngineReservation | undefined } | EngineResult {
    const reservation = scope.view.reservationFor(client.hardwareAddress, client.clientId);
    if (reservation) {
      if (!this.isAvailableFor(scope, reservation.address, client, now, true)) {
        return ignore('reserved-address-in-use', scope.view.id, formatIpv4(reservation.address));
      }
      return { address: reservation.address, reservation };
    }
    if (!isDynamicAllowed) return ignore('bootp-disabled', scope.view.id);
    const address = this.findAddress(scope, client, requested, now);
    return address === null ? ignore('no-free-address', scope.view.id) : { address, reservation: undefined };
  }

  /** RFC 2131 §4.3.1 order: the client's current or previous binding, its requested address, then a free one. */
  private findAddress(
    scope: ScopeRuntime,
    client: ClientIdentity,
    requested: Ipv4 | null,
    now: number,
  ): Ipv4 | null {
    const key = `${scope.view.id}|${client.key}`;
    const offered = this.offerByClient.get(key);
    if (offered !== undefined && this.isAvailableFor(scope, offered, client, now, false)) return offered;
    const bound = this.table.addressOfClient(scope.view.id, client.key);
    if (
      bound !== undefined &&
      scope.view.isDynamic(bound) &&
      this.isAvailableFor(scope, bound, client, now, false)
    )
      return bound;
    if (
      requested !== null &&
      scope.view.isDynamic(requested) &&
      this.isAvailableFor(scope, requested, client, now, false)
    ) {
      return requested;
    }
    const gate = scope.gate;
    const classes = gate.allocationClasses(now);
    // A policy with ranges gives its clients those addresses only: none when they run out (Windows).
    const pool = poolOfClient(scope, client);
    if (classes.includes('free') && gate.mayAllocate(undefined, now)) {
      const a = pool.takeNeverUsed(
        (x) => !this.table.has(x) && !this.isOffered(x, now) && scope.view.isDynamic(x),
      );
      if (a !== null) return a;
    }
    for (const cls of classes) {
      const a = pool.takeRecycled(
        cls,
        (x) => {
          const state = this.table.stateOf(x);
          // A never-used address is queued only after an offer of it lapsed; it is FREE (D12).
          const isFree =
            state === undefined ? cls === 'free' : poolClassOf(state) === cls && isFreeState(state);
          return isFree && !this.isOffered(x, now) && scope.view.isDynamic(x);
        },
        (x) => !gate.mayAllocate(this.table.get(x), now),
      );
      if (a !== null) return a;
    }
    return null;
  }

  /** Can `address` go to `client` now? (Its own binding, or a free address nobody else is offered.) */
  private isAvailableFor(
    scope: ScopeRuntime,
    address: Ipv4,
    client: ClientIdentity,
    now: number,
    isReserved: boolean,
  ): boolean {
    return this.unavailability(scope, address, client, now, isReserved) === null;
  }

  /** Why `address` cannot go to `client` now (isAvailableFor), or null when it can. */
  private unavailability(
    scope: ScopeRuntime,
    address: Ipv4,
    client: ClientIdentity,
    now: number,
    isReserved: boolean,
  ): Unavailability | null {
    if (!isReserved && !scope.view.isDynamic(address)) return 'outside-dynamic-ranges';
    if (!isReserved && !isInClientsPool(scope, client, address)) return 'outside-clients-ranges';
    const offer = this.offers.get(address);
    if (offer && offer.expiresAt > now && offer.clientKey !== client.key) return 'offered-to-another-client';
    const lease = this.table.get(address);
    if (lease?.state === 'active')
      return clientKeyOfLease(lease) === client.key ? null : 'bound-to-another-client';
    if (lease?.state === 'abandoned') return 'abandoned';
    // The client's own reservation: no other client can be given it by either server (it is never
    // dynamic), so pool ownership (FREE/BACKUP) and the wait for the partner's acknowledgement of
    // an ended binding protect nobody; D12 lets either server allocate a reserved address to the
    // client it is reserved for (ISC sends such a free address in the peer's free state for that).
    if (isReserved) return null;
    return scope.gate.mayAllocate(lease, now) ? null : 'not-allocatable-here';
  }

  /**
   * The NAK reason for a SELECTING REQUEST whose address is `why` unavailable: precise enough to
   * tell, from the log alone, a binding the failover partner ended after our OFFER (its update
   * made the address FREE, the primary's to allocate) from one taken by another client.
   */
  private describeUnavailability(
    scope: ScopeRuntime,
    address: Ipv4,
    why: Unavailability,
    now: number,
  ): string {
    switch (why) {
      case 'outside-dynamic-ranges':
        return 'outside the dynamic ranges';
      case 'outside-clients-ranges':
        return 'outside the ranges of its policy';
      case 'offered-to-another-client':
        return 'offered to another client';
      case 'bound-to-another-client':
        return 'bound to another client';
      case 'abandoned':
        return 'abandoned (declined or in conflict)';
      case 'not-allocatable-here': {
        const state = this.table.stateOf(address) ?? 'free';
        const stateName = state.toUpperCase();
        if (state === 'free' || state === 'backup') {
          const classes = scope.gate.allocationClasses(now);
          if (classes.length === 0) return `${stateName}: this server allocates no address now`;
          return classes.includes(state)
            ? `${stateName}, not allocatable by this server yet`
            : `${stateName}: the failover partner's to allocate`;
        }
        return `${stateName}: not allocatable until the failover partner acknowledges it (or, partner down, until its reuse time)`;
      }
    }
  }

  private makeOffer(address: Ipv4, clientKey: string, scope: ScopeRuntime, now: number): void {
    const existing = this.offers.get(address);
    if (existing) this.dropOffer(existing);
    const key = `${scope.view.id}|${clientKey}`;
    const previous = this.offerByClient.get(key);
    if (previous !== undefined && previous !== address) {
      const p = this.offers.get(previous);
      if (p) this.withdrawOffer(p);
    }
    const offer: Offer = {
      address,
      clientKey,
      scopeId: scope.view.id,
      expiresAt: now + scope.view.settings.offerHoldSeconds,
    };
    this.offers.set(address, offer);
    this.offerByClient.set(key, address);
    this.offerQueue.push(offer);
  }

  /** Forgets an offer whose address is being bound (it does not go back to the pool). */
  private dropOffer(offer: Offer): void {
    this.offers.delete(offer.address);
    const key = `${offer.scopeId}|${offer.clientKey}`;
    if (this.offerByClient.get(key) === offer.address) this.offerByClient.delete(key);
  }

  /** Forgets an offer that was not taken: its address returns to the pool. */
  private withdrawOffer(offer: Offer): void {
    this.dropOffer(offer);
    const scope = this.scopeById.get(offer.scopeId);
    if (!scope) return;
    const state = this.table.stateOf(offer.address);
    const pool = poolOf(scope, offer.address);
    if (state === undefined) {
      if (!pool.isAheadOfCursor(offer.address)) pool.release('free', offer.address);
    } else if (isFreeState(state)) pool.release(poolClassOf(state), offer.address);
  }

  private leaseSeconds(packet: DhcpPacket, scope: ScopeRuntime, policy: EnginePolicy | null): number {
    const configured = (policy ?? scope.view.settings).leaseTimeSeconds;
    const asked = getUint32Option(packet.options, OPTION.leaseTime);
    return asked !== null && asked > 0 && asked < configured ? asked : configured;
  }

  // ---------------------------------------------------------------------------------------------
  // Scope selection (RFC 3527 link selection, RFC 3011 subnet selection, giaddr, ciaddr, interface)

  private selectScope(packet: DhcpPacket, arrival: Arrival): ScopeRuntime | undefined {
    const link = linkSelectionOf(packet.options) ?? subnetSelectionOf(packet.options);
    if (link !== null) return this.scopes.find((s) => s.view.inSubnet(link));
    if (packet.giaddr !== 0) {
      return this.scopes.find(
        (s) => s.view.inSubnet(packet.giaddr) || s.view.settings.relayAddresses.includes(packet.giaddr),
      );
    }
    const direct: ScopeRuntime[] = [];
    // direct mode: the scopes of the link the packet came in on; udp mode: the attached interface's.
    for (const id of this.arrival.directScopeIds ?? this.settings.directScopeIds) {
      const s = this.scopeById.get(id);
      if (s) direct.push(s);
    }
    if (packet.ciaddr !== 0) {
      // RFC 2131 §4.3.2: ciaddr of a unicast (RENEWING: "the DHCP server will trust the value in
      // 'ciaddr'") names the client's network, wherever it is; a broadcast comes from a client on
      // a directly attached link, so only the subnets there can hold it (the shell cannot tell
      // which of several attached interfaces it came in on in udp mode: all of them, then).
      const candidates = arrival === 'broadcast' ? direct : this.scopes;
      const s = candidates.find((x) => x.view.inSubnet(packet.ciaddr));
      if (s) return s;
    }
    return direct[0];
  }

  // ---------------------------------------------------------------------------------------------
  // Replies (RFC 2131 §4.3.1 table 3, §4.1 destinations)

  private buildReply(
    request: DhcpPacket,
    scope: ScopeRuntime,
    type: DhcpMessageType | 0,
    yiaddr: Ipv4,
    reservation: EngineReservation | undefined,
    leaseSeconds: number | null,
    policy: EnginePolicy | null,
  ): DhcpPacket {
    const settings = scope.view.settings;
    // Reservation options > policy > scope > server (the policy's map has the last two merged in).
    const timing = policy ?? settings;
    const options = new Map<number, Uint8Array>();
    if (type !== 0) {
      options.set(OPTION.messageType, Uint8Array.of(type));
      options.set(OPTION.serverIdentifier, u32(this.replyServerIdentifier));
      // DHCP replies only: RFC 6842 updates RFC 2131's DHCP messages and RFC 3011 is a DHCP
      // option; a BOOTREPLY carries neither echo (nor does Kea 2.2's).
      echoClientOptions(request, options);
    }
    if (leaseSeconds !== null && type !== 0) {
      const isInfinite = leaseSeconds >= INFINITE_EXPIRY;
      const seconds = isInfinite ? INFINITE_EXPIRY : Math.max(0, leaseSeconds);
      options.set(OPTION.leaseTime, u32(seconds));
      if (!isInfinite) {
        // Scale T1/T2 with the granted time when MCLT shortened it (failover.md §6).
        const ratio = Math.min(1, seconds / timing.leaseTimeSeconds);
        options.set(OPTION.renewalTime, u32(Math.floor(timing.renewTimeSeconds * ratio)));
        options.set(OPTION.rebindingTime, u32(Math.floor(timing.rebindTimeSeconds * ratio)));
      }
    }
    const scopeOptions = policy?.options ?? settings.options;
    const configured =
      reservation && reservation.options.size > 0
        ? new Map([...scopeOptions, ...reservation.options])
        : scopeOptions;
    options.set(OPTION.subnetMask, configured.get(OPTION.subnetMask) ?? u32(settings.subnet.mask));
    const prl = getBytesOption(request.options, OPTION.parameterRequestList);
    if (prl) {
      // The client's order first (RFC 2131 §4.3.1), then what the operator always sends.
      for (const code of prl) {
        const data = configured.get(code);
        if (data !== undefined && !options.has(code)) options.set(code, data);
      }
      for (const code of (policy ?? settings).alwaysSend) {
        const data = configured.get(code);
        if (data !== undefined && !options.has(code)) options.set(code, data);
      }
    } else {
      for (const [code, data] of configured) if (!options.has(code)) options.set(code, data);
    }
    if (reservation?.hostname && !options.has(OPTION.hostName) && (!prl || prl.includes(OPTION.hostName))) {
      options.set(OPTION.hostName, new TextEncoder().encode(reservation.hostname));
    }
    // RFC 3046 §2.2: echo relay agent information in all replies, relayed or not (a switch doing
    // DHCP snooping adds option 82 and leaves giaddr 0; it strips the echo before the client). The
    // encoder keeps its room before any configured option and writes it last (dhcp-codec.ts).
    const rai = request.options.get(OPTION.relayAgentInfo);
    if (rai !== undefined) options.set(OPTION.relayAgentInfo, rai);
    return {
      op: BOOTREPLY,
      htype: request.htype,
      hlen: request.hlen,
      hops: 0,
      xid: request.xid,
      secs: 0,
      flags: request.flags,
      ciaddr: 0,
      yiaddr,
      siaddr: 0,
      giaddr: request.giaddr,
      chaddr: request.chaddr,
      sname: new Uint8Array(64),
      file: newBytes(128),
      hasMagicCookie: request.hasMagicCookie || type !== 0,
      options,
    };
  }

  private nak(request: DhcpPacket, scope: ScopeRuntime, why: string): EngineResult {
    const options = new Map<number, Uint8Array>([
      [OPTION.messageType, Uint8Array.of(DhcpMessageType.Nak)],
      [OPTION.serverIdentifier, u32(this.replyServerIdentifier)],
    ]);
    echoClientOptions(request, options);
    options.set(OPTION.message, new TextEncoder().encode(why));
    const rai = request.options.get(OPTION.relayAgentInfo);
    if (rai !== undefined) options.set(OPTION.relayAgentInfo, rai);
    const reply: DhcpPacket = {
      op: BOOTREPLY,
      htype: request.htype,
      hlen: request.hlen,
      hops: 0,
      xid: request.xid,
      secs: 0,
      // RFC 2131 §4.1: a NAK through a relay asks it to broadcast.
      flags: request.giaddr !== 0 ? request.flags | FLAG_BROADCAST : request.flags,
      ciaddr: 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: request.giaddr,
      chaddr: request.chaddr,
      sname: new Uint8Array(64),
      file: newBytes(128),
      hasMagicCookie: true,
      options,
    };
    return {
      action: 'reply',
      messageType: DhcpMessageType.Nak,
      reply,
      to: request.giaddr !== 0 ? { kind: 'relay', address: request.giaddr } : { kind: 'broadcast' },
      maxSize: maxReplySize(request),
      changes: NO_CHANGES,
      scopeId: scope.view.id,
      detail: why,
    };
  }

  private replyResult(
    request: DhcpPacket,
    scope: ScopeRuntime,
    type: DhcpMessageType | 0,
    reply: DhcpPacket,
    changes: Lease[],
  ): EngineResult {
    return {
      action: 'reply',
      messageType: type,
      reply,
      to: destinationOf(request, reply),
      maxSize: maxReplySize(request),
      changes,
      scopeId: scope.view.id,
    };
  }
}

function ignore(reason: IgnoreReason, scopeId: string | null, detail?: string): EngineResult {
  return detail === undefined
    ? { action: 'ignore', reason, changes: NO_CHANGES, scopeId }
    : { action: 'ignore', reason, changes: NO_CHANGES, scopeId, detail };
}

function identify(packet: DhcpPacket): ClientIdentity | null {
  const hlen = Math.min(packet.hlen, 16);
  const hw = packet.chaddr.subarray(0, hlen);
  const hardwareAddress = toHex(hw);
  const cid = packet.options.get(OPTION.clientId);
  const clientId = cid !== undefined && cid.length > 0 ? toHex(cid) : null;
  if (clientId === null && hlen === 0) return null;
  return {
    key: clientId !== null ? `c${clientId}` : `h${packet.htype}:${hardwareAddress}`,
    hardwareType: packet.htype,
    hardwareAddress,
    clientId,
    hashKey: cid !== undefined && cid.length > 0 ? cid : hw,
    policy: null,
  };
}

/**
 * The options a server returns as the client sent them, whether or not the parameter request list
 * asks for them. Set before the configured options so that a small maximum message size drops
 * those, not these.
 * - RFC 6842 §3: "If the 'client identifier' option is present in a message received from a
 *   client, the server MUST return the 'client identifier' option, unaltered, in its response
 *   message" (OFFER, ACK, NAK; the ACK to an INFORM too, as Kea 2.2 does).
 * - RFC 3011 §3: "Servers configured to support this option MUST return an identical copy of the
 *   option to any client that sends it" (subnet selection, 118). We support its 4-byte form
 *   (selectScope); a copy of another length would claim a selection that was not made.
 */
function echoClientOptions(request: DhcpPacket, options: Map<number, Uint8Array>): void {
  const cid = request.options.get(OPTION.clientId);
  if (cid !== undefined && cid.length > 0) options.set(OPTION.clientId, cid);
  const subnet = request.options.get(OPTION.subnetSelection);
  if (subnet !== undefined && subnet.length === 4) options.set(OPTION.subnetSelection, subnet);
}

/** The pool `address` is allocated from and freed into. */
function poolOf(scope: ScopeRuntime, address: Ipv4): FreePool {
  if (scope.policyPools === null) return scope.pool;
  for (const [policy, pool] of scope.policyPools) {
    for (const r of policy.ranges) if (rangeContains(r, address)) return pool;
  }
  return scope.pool;
}

/** The pool the client's addresses come from: its policy's, or the scope's. */
function poolOfClient(scope: ScopeRuntime, client: ClientIdentity): FreePool {
  if (scope.policyPools === null || client.policy === null) return scope.pool;
  return scope.policyPools.get(client.policy) ?? scope.pool;
}

function isInClientsPool(scope: ScopeRuntime, client: ClientIdentity, address: Ipv4): boolean {
  return scope.policyPools === null || poolOf(scope, address) === poolOfClient(scope, client);
}

function policyLabel(policy: EnginePolicy | null): string {
  return policy === null ? 'clients that match no policy' : `policy '${policy.name}'`;
}

function destinationOf(request: DhcpPacket, reply: DhcpPacket): ReplyDestination {
  if (request.giaddr !== 0) return { kind: 'relay', address: request.giaddr };
  if (request.ciaddr !== 0) return { kind: 'client', address: request.ciaddr };
  // A client without an address yet: broadcast (udp mode cannot unicast without an ARP entry).
  void reply;
  return { kind: 'broadcast' };
}

function maxReplySize(request: DhcpPacket): number {
  const asked = getUint16Option(request.options, OPTION.maxMessageSize);
  return asked !== null && asked > MIN_DHCP_MESSAGE ? Math.min(asked, 1500) : MIN_DHCP_MESSAGE;
}

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = value >>> 24;
  b[1] = (value >>> 16) & 255;
  b[2] = (value >>> 8) & 255;
  b[3] = value & 255;
  return b;
}

export type { RequestKind };
