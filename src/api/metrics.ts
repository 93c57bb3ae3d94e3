// Prometheus metrics (docs/metrics.md). Counters mirror the DHCP service's Counters (Kea-style
// names, src/server/counters.ts) under kea-exporter-like names prefixed twinlease_; address gauges
// are counted from the lease table at scrape time (the same counting as the statistics routes);
// process metrics are prom-client's defaults (process_*, nodejs_*), unprefixed as Prometheus expects.

import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DdnsErrorReason } from '../ddns/planner.js';
import type { IgnoreReason } from '../dhcp/engine.js';
import type { DhcpDecodeError } from '../wire/dhcp-packet.js';
import { formatSubnet } from '../wire/ipv4.js';
import type { ApiDeps } from './deps.js';
import { wallTimeOf } from './format.js';
import { failoverStateName } from './relationship-resource.js';
import { FAILOVER_STATES } from './schemas.js';
import { currentScopeStatistics } from './scope-statistics.js';

/** How a Counters name maps onto a metric: which one, and with which labels. */
type CounterTarget =
  | { metric: 'received'; operation: string }
  | { metric: 'sent'; operation: string }
  | { metric: 'dropped'; stage: 'parse' | 'engine' | 'error' | 'frame' | 'ping-check'; reason: string }
  | { metric: 'replyFailed'; reason: string }
  | { metric: 'optionDropped'; option: string }
  | { metric: 'datagrams' | 'allocationFailed' | 'commitFailed' | 'claimLost' | 'reclaimed' | 'aggregate' }
  | { metric: 'other'; name: string };

/** Fails to compile when `T` has a member the list lacks: the lists below stay complete. */
type Covers<T extends string, L extends readonly T[]> = Exclude<T, L[number]> extends never ? L : never;

// Every label value a counter can take, known in advance, so each series exists from the start at 0
// (docs/metrics.md): a dashboard or rate() then sees the first event as an increase, not as a new
// series. The service's counter names are built from these (src/server/dhcp-service.ts,
// src/server/ddns-service.ts).
const PARSE_REASONS = [
  'too-short',
  'bad-op',
  'bad-hlen',
  'bad-magic-cookie',
  'option-truncated',
  'option-overrun',
  'bad-overload',
  'missing-end',
  'too-long',
] as const satisfies readonly DhcpDecodeError['reason'][];
const ENGINE_REASONS = [
  'no-scope',
  'scope-inactive',
  'no-free-address',
  'not-responsive',
  'load-balanced-to-partner',
  'other-server-selected',
  'reserved-address-in-use',
  'unknown-client',
  'not-our-address',
  'bootp-disabled',
  'malformed-request',
  'unsupported-message-type',
  'no-client-identity',
  'not-a-request',
] as const satisfies readonly Exclude<IgnoreReason, 'no-reply-needed'>[];
const DDNS_ERROR_REASONS = [
  'timeout',
  'refused',
  'notauth',
  'servfail',
  'notzone',
  'formerr',
  'badkey',
  'badsig',
  'badtime',
  'unsigned-response',
  'bad-response-signature',
  'bad-response',
  'send-failed',
  'other-rcode',
] as const satisfies readonly DdnsErrorReason[];
const _completeness: [
  Covers<DhcpDecodeError['reason'], typeof PARSE_REASONS>,
  Covers<Exclude<IgnoreReason, 'no-reply-needed'>, typeof ENGINE_REASONS>,
  Covers<DdnsErrorReason, typeof DDNS_ERROR_REASONS>,
] = [PARSE_REASONS, ENGINE_REASONS, DDNS_ERROR_REASONS];

/** Every counter name the DHCP and DNS services can count, each 0 until it moves. */
export const KNOWN_COUNTER_NAMES: readonly string[] = [
  'pkt4-received',
  ...['discover', 'request', 'decline', 'release', 'inform', 'bootp', 'offer', 'ack', 'nak', 'unknown'].map(
    (op) => `pkt4-${op}-received`,
  ),
  ...['offer', 'ack', 'nak', 'bootp-reply'].map((op) => `pkt4-${op}-sent`),
  ...PARSE_REASONS.map((r) => `pkt4-parse-failed:${r}`),
  ...ENGINE_REASONS.map((r) => `pkt4-ignored:${r}`),
  'pkt4-processing-failed',
  'pkt4-encode-failed',
  'pkt4-send-failed',
  'v4-allocation-fail',
  'lease-commit-failed',
  'lease-claim-lost',
  'reclaimed-leases',
  'ddns-requests-sent',
  'ddns-registrations-completed',
  'ddns-removals-completed',
  'ddns-removals-refused',
  'ddns-conflicts',
  'ddns-update-errors',
  ...DDNS_ERROR_REASONS.map((r) => `ddns-update-errors:${r}`),
  'ddns-queue-full',
];

export function counterTarget(name: string): CounterTarget {
  switch (name) {
    case 'pkt4-received':
      return { metric: 'datagrams' };
    case 'pkt4-receive-drop':
    case 'pkt4-sent':
      return { metric: 'aggregate' }; // sums of labelled series below; not exported twice
    case 'pkt4-processing-failed':
      return { metric: 'dropped', stage: 'error', reason: 'processing-failed' };
    case 'pkt4-encode-failed':
      return { metric: 'replyFailed', reason: 'encode-failed' };
    case 'pkt4-send-failed':
      return { metric: 'replyFailed', reason: 'send-failed' };
    case 'v4-allocation-fail':
      return { metric: 'allocationFailed' };
    case 'lease-commit-failed':
      return { metric: 'commitFailed' };
    case 'lease-claim-lost':
      return { metric: 'claimLost' };
    case 'reclaimed-leases':
      return { metric: 'reclaimed' };
  }
  if (name.startsWith('pkt4-parse-failed:'))
    return { metric: 'dropped', stage: 'parse', reason: name.slice(18) };
  if (name.startsWith('pkt4-ignored:')) return { metric: 'dropped', stage: 'engine', reason: name.slice(13) };
  // direct mode: frames of the packet sockets that are no whole IPv4/UDP datagram (src/wire/ip-udp.ts).
  if (name.startsWith('pkt4-frame-dropped:'))
    return { metric: 'dropped', stage: 'frame', reason: name.slice(19) };
  if (name === 'pkt4-ping-check-dropped')
    return { metric: 'dropped', stage: 'ping-check', reason: 'addresses-in-use' };
  if (name.startsWith('pkt4-option-dropped:')) return { metric: 'optionDropped', option: name.slice(20) };
  const received = /^pkt4-(.+)-received$/.exec(name);
  if (received) return { metric: 'received', operation: received[1]! };
  const sent = /^pkt4-(.+)-sent$/.exec(name);
  if (sent) return { metric: 'sent', operation: sent[1]! };
  return { metric: 'other', name };
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly datagrams: Counter;
  private readonly received: Counter<'operation'>;
  private readonly sent: Counter<'operation'>;
  private readonly dropped: Counter<'stage' | 'reason'>;
  private readonly replyFailed: Counter<'reason'>;
  private readonly optionDropped: Counter<'option'>;
  private readonly allocationFailed: Counter;
  private readonly commitFailed: Counter;
  private readonly claimLost: Counter;
  private readonly reclaimed: Counter;
  private readonly other: Counter<'name'>;
  private readonly addresses: Gauge<'scope' | 'subnet'>;
  private readonly free: Gauge<'scope' | 'subnet' | 'server'>;
  private readonly assigned: Gauge<'scope' | 'subnet' | 'server'>;
  private readonly declined: Gauge<'scope' | 'subnet'>;
  private readonly awaitingAck: Gauge<'scope' | 'subnet'>;
  private readonly reserved: Gauge<'scope' | 'subnet'>;
  private readonly offers: Gauge<'scope' | 'subnet'>;
  private readonly storeRecords: Gauge;
  private readonly info: Gauge<'version' | 'server'>;
  private readonly failoverState: Gauge<'relationship' | 'state'>;
  private readonly failoverPartnerState: Gauge<'relationship' | 'state'>;
  private readonly failoverStateSince: Gauge<'relationship'>;
  private readonly failoverLinkUp: Gauge<'relationship'>;
  private readonly failoverLastContact: Gauge<'relationship'>;
  private readonly failoverClockSkew: Gauge<'relationship'>;
  private readonly failoverUnacked: Gauge<'relationship'>;
  private readonly failoverQueued: Gauge<'relationship'>;
  private readonly failoverEvents: Counter<'relationship' | 'counter'>;
  private readonly listenerConnections: Counter<'listener' | 'outcome'>;
  private readonly listenerRelationships: Gauge<'listener'>;
  private readonly interfaceUp: Gauge<'interface'>;

  constructor(private readonly deps: ApiDeps) {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers });
    const scope = ['scope', 'subnet'] as const;
    const byServer = ['scope', 'subnet', 'server'] as const;

    this.datagrams = counter(
      'twinlease_dhcp4_datagrams_received_total',
      'UDP datagrams received on the DHCP socket',
    );
    this.received = counter(
      'twinlease_dhcp4_packets_received_total',
      'Decoded DHCP packets received, by message type (bootp = no DHCP message type)',
      ['operation'],
    );
    this.sent = counter('twinlease_dhcp4_packets_sent_total', 'Replies sent, by message type', ['operation']);
    this.dropped = counter(
      'twinlease_dhcp4_packets_dropped_total',
      'Packets received and not answered: stage parse (malformed), engine (policy: no scope, no free address, …), error (bug), frame (direct mode: no whole IPv4/UDP datagram), ping-check (every candidate address answered)',
      ['stage', 'reason'],
    );
    this.replyFailed = counter(
      'twinlease_dhcp4_replies_failed_total',
      'Replies that could not be encoded or sent',
      ['reason'],
    );
    this.optionDropped = counter(
      'twinlease_dhcp4_reply_options_dropped_total',
      "Options left out of replies because the reply would exceed the client's maximum message size (option 57, else 576), by option code",
      ['option'],
    );
    this.allocationFailed = counter(
      'twinlease_dhcp4_allocations_failed_total',
      'DISCOVERs or BOOTP requests left unanswered because the scope had no free address',
    );
    this.commitFailed = counter(
      'twinlease_lease_commits_failed_total',
      'Lease store commits that failed (the reply was withheld)',
    );
    this.claimLost = counter(
      'twinlease_lease_claims_lost_total',
      "Bindings the shared PostgreSQL database refused because another server's client holds the address (the reply was not sent; the request was decided again)",
    );
    this.reclaimed = counter(
      'twinlease_dhcp4_leases_reclaimed_total',
      'Bindings expired or decline holds ended by the timer',
    );
    this.other = counter(
      'twinlease_events_total',
      'Other service counters by their internal name (not stable)',
      ['name'],
    );

    this.addresses = gauge(
      'twinlease_dhcp4_addresses',
      'numAddr: dynamic addresses of the ranges + reserved addresses',
      scope,
    );
    this.free = gauge(
      'twinlease_dhcp4_addresses_free',
      'Free addresses, by which server may allocate them (this | partner)',
      byServer,
    );
    this.assigned = gauge(
      'twinlease_dhcp4_addresses_assigned',
      'Addresses with an active binding, by the server that granted it (this | partner)',
      byServer,
    );
    this.declined = gauge(
      'twinlease_dhcp4_addresses_declined',
      'Declined (abandoned) addresses held out of the pool',
      scope,
    );
    this.awaitingAck = gauge(
      'twinlease_dhcp4_addresses_awaiting_ack',
      'Addresses expired, released or reset and not yet free again',
      scope,
    );
    this.reserved = gauge('twinlease_dhcp4_addresses_reserved', 'Reserved addresses', scope);
    this.offers = gauge('twinlease_dhcp4_offers_pending', 'Offers held for clients now', scope);
    this.storeRecords = gauge('twinlease_lease_store_records', 'Lease records in the lease store');
    this.info = gauge('twinlease_info', 'Always 1; labels carry the version and server name', [
      'version',
      'server',
    ]);

    const rel = ['relationship'] as const;
    this.failoverState = gauge(
      'twinlease_failover_state',
      'Failover state of this server: 1 for the current state (windows-model.md §1.3 name), 0 for the others',
      ['relationship', 'state'],
    );
    this.failoverPartnerState = gauge(
      'twinlease_failover_partner_state',
      "The partner's last reported state: 1 for it, 0 for the others (all 0 before it reported one; last known while the link is down)",
      ['relationship', 'state'],
    );
    this.failoverStateSince = gauge(
      'twinlease_failover_state_since_timestamp_seconds',
      'When this server entered its current failover state (Unix time)',
      rel,
    );
    this.failoverLinkUp = gauge(
      'twinlease_failover_link_up',
      '1 while connected to the partner (CONNECT/CONNECTACK done, STATE received), else 0',
      rel,
    );
    this.failoverLastContact = gauge(
      'twinlease_failover_last_contact_timestamp_seconds',
      'Last message from the partner (Unix time; 0 = never)',
      rel,
    );
    this.failoverClockSkew = gauge(
      'twinlease_failover_clock_skew_seconds',
      'Partner clock minus ours, from its last message (NaN while unknown)',
      rel,
    );
    this.failoverUnacked = gauge(
      'twinlease_failover_unacked_updates',
      'Binding updates sent to the partner and not yet acknowledged',
      rel,
    );
    this.failoverQueued = gauge(
      'twinlease_failover_queued_updates',
      'Binding updates queued for the partner, not yet sent',
      rel,
    );
    this.failoverEvents = counter(
      'twinlease_failover_events_total',
      'Failover endpoint counters by name (messagesSent, bindingUpdatesRejected, …; docs/metrics.md)',
      ['relationship', 'counter'],
    );
    this.listenerConnections = counter(
      'twinlease_failover_listener_connections_total',
      'Failover TCP connections a listener received, by outcome: matched (handed to a relationship) or the reason it was refused (docs/failover.md)',
      ['listener', 'outcome'],
    );
    this.listenerRelationships = gauge(
      'twinlease_failover_listener_relationships',
      'Relationships served by a failover listener (one per local address and port)',
      ['listener'],
    );
    this.interfaceUp = gauge(
      'twinlease_dhcp4_interface_up',
      'direct mode: 1 while the interface is served (exists, up, has an IPv4 address), else 0',
      ['interface'],
    );
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, with every value read now. */
  async render(now: number): Promise<string> {
    this.updateCounters();
    this.updateGauges(now);
    this.updateFailover();
    return this.registry.metrics();
  }

  private updateCounters(): void {
    for (const c of [
      this.datagrams,
      this.received,
      this.sent,
      this.dropped,
      this.replyFailed,
      this.optionDropped,
      this.allocationFailed,
      this.commitFailed,
      this.claimLost,
      this.reclaimed,
      this.other,
    ] as Counter<string>[]) {
      c.reset();
    }
    const values = {
      ...Object.fromEntries(KNOWN_COUNTER_NAMES.map((n) => [n, 0])),
      ...this.deps.counters.snapshot(),
    };
    for (const [name, value] of Object.entries(values)) {
      const t = counterTarget(name);
      switch (t.metric) {
        case 'datagrams':
          this.datagrams.inc(value);
          break;
        case 'received':
          this.received.inc({ operation: t.operation }, value);
          break;
        case 'sent':
          this.sent.inc({ operation: t.operation }, value);
          break;
        case 'dropped':
          this.dropped.inc({ stage: t.stage, reason: t.reason }, value);
          break;
        case 'replyFailed':
          this.replyFailed.inc({ reason: t.reason }, value);
          break;
        case 'optionDropped':
          this.optionDropped.inc({ option: t.option }, value);
          break;
        case 'allocationFailed':
          this.allocationFailed.inc(value);
          break;
        case 'commitFailed':
          this.commitFailed.inc(value);
          break;
        case 'claimLost':
          this.claimLost.inc(value);
          break;
        case 'reclaimed':
          this.reclaimed.inc(value);
          break;
        case 'aggregate':
          break;
        case 'other':
          this.other.inc({ name: t.name }, value);
          break;
      }
    }
  }

  private updateGauges(now: number): void {
    const config = this.deps.config();
    const subnets = new Map(config.scopes.map((s) => [s.id, formatSubnet(s.subnet)]));
    for (const g of [
      this.addresses,
      this.free,
      this.assigned,
      this.declined,
      this.awaitingAck,
      this.reserved,
      this.offers,
    ]) {
      (g as Gauge<string>).reset();
    }
    for (const s of currentScopeStatistics(this.deps, now).values()) {
      const labels = { scope: s.scopeId, subnet: subnets.get(s.scopeId) ?? '' };
      this.addresses.set(labels, s.numAddr);
      this.free.set({ ...labels, server: 'this' }, s.thisAddrFree);
      this.free.set({ ...labels, server: 'partner' }, s.partnerAddrFree);
      this.assigned.set({ ...labels, server: 'this' }, s.thisAddrInUse);
      this.assigned.set({ ...labels, server: 'partner' }, s.partnerAddrInUse);
      this.declined.set(labels, s.addrAbandoned);
      this.awaitingAck.set(labels, s.addrAwaitingAck);
      this.reserved.set(labels, s.reservedAddresses);
      this.offers.set(labels, s.pendingOffers);
    }
    this.storeRecords.set(this.deps.leaseStore.count());
    this.info.reset();
    this.info.set({ version: this.deps.version, server: config.server.name }, 1);
  }

  private updateFailover(): void {
    const all = [
      this.failoverState,
      this.failoverPartnerState,
      this.failoverStateSince,
      this.failoverLinkUp,
      this.failoverLastContact,
      this.failoverClockSkew,
      this.failoverUnacked,
      this.failoverQueued,
    ] as Gauge<string>[];
    for (const g of all) g.reset();
    this.failoverEvents.reset();
    for (const s of this.deps.failover?.statuses() ?? []) {
      const relationship = s.name;
      const state = failoverStateName(s.localState);
      const partner = s.partnerState === null ? null : failoverStateName(s.partnerState);
      // Before the partner reports a state, every state is 0 (none is known).
      for (const name of FAILOVER_STATES) {
        this.failoverState.set({ relationship, state: name }, name === state ? 1 : 0);
        this.failoverPartnerState.set({ relationship, state: name }, name === partner ? 1 : 0);
      }
      this.failoverStateSince.set({ relationship }, wallTimeOf(s.localStateStartedAt));
      this.failoverLinkUp.set({ relationship }, s.isCommunicating ? 1 : 0);
      this.failoverLastContact.set({ relationship }, s.lastContactAt === 0 ? 0 : wallTimeOf(s.lastContactAt));
      // NaN while unknown (the partner never heard): present, and never mistaken for "in sync".
      this.failoverClockSkew.set({ relationship }, s.clockSkewSeconds ?? Number.NaN);
      this.failoverUnacked.set({ relationship }, s.unackedUpdates);
      this.failoverQueued.set({ relationship }, s.queuedUpdates);
      // Every counter gets its series from the start (0 included), so rate() sees the first event.
      for (const [counter, value] of Object.entries(s.counters)) {
        this.failoverEvents.inc({ relationship, counter }, Math.max(0, value));
      }
    }
    this.interfaceUp.reset();
    for (const i of this.deps.dhcpInterfaces?.() ?? []) {
      this.interfaceUp.set({ interface: i.interfaceName }, i.isUp ? 1 : 0);
    }
    this.listenerConnections.reset();
    this.listenerRelationships.reset();
    for (const l of this.deps.failover?.listeners?.() ?? []) {
      this.listenerRelationships.set({ listener: l.listen }, l.relationships.length);
      this.listenerConnections.inc({ listener: l.listen, outcome: 'matched' }, l.matched);
      for (const [outcome, value] of Object.entries(l.refused)) {
        this.listenerConnections.inc({ listener: l.listen, outcome }, Math.max(0, value));
      }
    }
  }
}
