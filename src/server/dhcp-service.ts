// The DHCP half of the shell: datagram in (a DhcpTransport: udp or direct mode), engine decision,
// lease store commit, reply out by the same transport. The one rule it enforces: a reply that
// carries a binding leaves only after the binding is durable (LeaseStore.commit resolved).
// Malformed datagrams are counted and dropped; nothing a client sends can throw past `onDatagram`.
// With a ping check configured, a new address is probed before it is offered (OfferProbe).

import type { Logger } from 'pino';
import type { Arrival, DhcpEngine, EngineResult, PacketArrival } from '../dhcp/engine.js';
import { INFINITE_EXPIRY, type Lease } from '../dhcp/lease.js';
import { BindingConflictError, type LeaseStore } from '../leases/store.js';
import { decodeDhcp, encodeDhcpReport } from '../wire/dhcp-codec.js';
import { getIpv4Option, getUint32Option, OPTION } from '../wire/dhcp-options.js';
import { DhcpMessageType, type DhcpPacket } from '../wire/dhcp-packet.js';
import { formatIpv4, formatMac, type Ipv4, toHex } from '../wire/ipv4.js';
import type { Clock } from './clock.js';
import type { Counters } from './counters.js';
import type { LocalAddressLister, ReceivedOn } from './dhcp-sockets.js';
import type { DhcpArrival, DhcpTransport, LinkArrival } from './dhcp-transport.js';
import { UdpTransport } from './dhcp-transport.js';

export interface DhcpNetworkSettings {
  listenAddress: string;
  port: number;
  clientPort: number;
  /** Where broadcast replies go (udp mode): the directly attached subnet's broadcast address. */
  broadcastAddress: string;
}

/** The ping check before an OFFER (src/server/offer-probe.ts). */
export interface OfferProbe {
  /** Whether something answers for `address` (then it is not offered). */
  isInUse(address: number): Promise<boolean>;
}

/** A request whose binding lost its claim in the shared database is decided again at most this often. */
const MAX_CLAIM_ATTEMPTS = 3;

/** At most this many addresses are probed for one DISCOVER before it is left unanswered. */
const MAX_PROBES_PER_DISCOVER = 3;

/** What the DHCP service writes to the log (config `logging`). */
export interface DhcpLogSettings {
  /** OFFER, ACK, NAK and BOOTP replies at info (true) or at debug (false). */
  isGrantLogged: boolean;
}

type Reply = Extract<EngineResult, { action: 'reply' }>;

/** Lets the failover endpoint (or anything else) hear about every binding change made by DHCP. */
export type LeaseChangeListener = (changes: readonly Lease[]) => void;

const MESSAGE_NAMES: Record<number, string> = {
  [DhcpMessageType.Discover]: 'discover',
  [DhcpMessageType.Offer]: 'offer',
  [DhcpMessageType.Request]: 'request',
  [DhcpMessageType.Decline]: 'decline',
  [DhcpMessageType.Ack]: 'ack',
  [DhcpMessageType.Nak]: 'nak',
  [DhcpMessageType.Release]: 'release',
  [DhcpMessageType.Inform]: 'inform',
};

/** Counter names per message name, built once (a template string per packet showed in profiles, issue 17). */
const RECEIVED_COUNTERS = new Map<string, string>();
const SENT_COUNTERS = new Map<string, string>();
for (const name of [...Object.values(MESSAGE_NAMES), 'bootp', 'bootp-reply', 'unknown']) {
  RECEIVED_COUNTERS.set(name, `pkt4-${name}-received`);
  SENT_COUNTERS.set(name, `pkt4-${name}-sent`);
}

/** Per-reason log lines are rate limited: one per reason per this many seconds. */
const LOG_INTERVAL_SECONDS = 10;

/**
 * Bindings expired per turn of the event loop. A mass expiry (100,000 leases granted in the same
 * second run out in the same second) goes in batches of this size, each its own commit, with the
 * packets that arrived in between handled between them: replies wait for one batch, not for all
 * (issue 15). With 1M leases in the store a batch of 100 spread over the table took 1-2 ms to
 * expire and 1-14 ms to commit (fsync included); a batch of 500 took 2-16 and 6-16 ms.
 */
export const EXPIRY_BATCH = 100;

/**
 * Expired bindings at most given to the store and not yet durable (issue 15). Their writes may
 * lag (LeaseStore.commitInBackground: no reply waits for them); the expiry pauses while this many
 * wait, so that what the table says runs ahead of the disk by a bounded amount. 1000, not 10,000
 * as first: the store writes them no faster, and at 10,000 each waited ~250 ms at 1M, long enough
 * to be promoted out of V8's young generation; the Mark-Compacts that followed stalled replies
 * 40-60 ms in mid-storm (README, "Expiry storm"). The expiry then takes longer.
 */
export const MAX_EXPIRY_BACKLOG = 1_000;

export class DhcpService {
  private readonly transport: DhcpTransport;
  private readonly probe: OfferProbe | null;
  private isListening = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private readonly lastLogged = new Map<string, number>();
  private readonly listeners: LeaseChangeListener[] = [];
  private isClosing = false;
  /** Expired bindings given to the store whose commit has not settled. */
  private expiryBacklog = 0;
  /** The expiry paused at MAX_EXPIRY_BACKLOG; the next settled expiry commit resumes it. */
  private isExpiryWaitingForStore = false;

  constructor(
    private engine: DhcpEngine,
    private readonly store: LeaseStore,
    private network: DhcpNetworkSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly counters: Counters,
    private logSettings: DhcpLogSettings = { isGrantLogged: true },
    io: { transport?: DhcpTransport; probe?: OfferProbe | null; localAddresses?: LocalAddressLister } = {},
  ) {
    this.transport =
      io.transport ??
      new UdpTransport(
        () => this.network,
        (err, address) =>
          this.log.error({ event: 'dhcp.socket-error', address, err: err.message }, 'DHCP socket error'),
        io.localAddresses,
      );
    this.probe = io.probe ?? null;
  }

  get currentEngine(): DhcpEngine {
    return this.engine;
  }

  onLeaseChanges(listener: LeaseChangeListener): void {
    this.listeners.push(listener);
  }

  /** Swaps in an engine built from a new config (SIGHUP); the socket stays open. */
  replaceEngine(engine: DhcpEngine, network: DhcpNetworkSettings, logSettings?: DhcpLogSettings): void {
    this.engine = engine;
    this.network = network;
    if (logSettings) this.logSettings = logSettings;
  }

  async start(): Promise<void> {
    await this.transport.start((bytes, arrival) =>
      this.onDatagram(bytes, arrival.fromAddress, arrival.fromPort, arrival.receivedOn ?? null, arrival.link),
    );
    this.isListening = true;
    this.log.info({ event: 'dhcp.listening', ...this.transport.describe() }, 'DHCP service listening');
    this.scheduleTick();
  }

  async stop(): Promise<void> {
    this.isClosing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    if (this.isListening) await this.transport.stop();
    this.isListening = false;
  }

  /**
   * Entry point for every received datagram (also used by tests without a socket, where the
   * destination is unknown: `receivedOn` null). udp mode: `receivedOn`, the socket it came in on;
   * direct mode: `link`, the interface it arrived on.
   */
  onDatagram(
    bytes: Uint8Array,
    fromAddress: string,
    fromPort: number,
    receivedOn: ReceivedOn | null = null,
    link?: LinkArrival,
  ): void {
    const arrival: DhcpArrival = { fromAddress, fromPort };
    if (receivedOn !== null) arrival.receivedOn = receivedOn;
    if (link !== undefined) arrival.link = link;
    this.counters.inc('pkt4-received');
    const decoded = decodeDhcp(bytes);
    if (!decoded.ok) {
      this.counters.inc('pkt4-receive-drop');
      this.counters.inc(`pkt4-parse-failed:${decoded.error.reason}`);
      this.logLimited('malformed', 'debug', {
        event: 'dhcp.malformed',
        from: `${fromAddress}:${fromPort}`,
        reason: decoded.error.reason,
        offset: decoded.error.offset,
        detail: decoded.error.message,
      });
      return;
    }
    const packet = decoded.packet;
    const typeByte = packet.options.get(53);
    const typeName =
      typeByte === undefined
        ? 'bootp'
        : typeByte.length === 1
          ? (MESSAGE_NAMES[typeByte[0]!] ?? 'unknown')
          : 'unknown';
    this.counters.inc(RECEIVED_COUNTERS.get(typeName) ?? `pkt4-${typeName}-received`);
    const result = this.decide(packet, arrival);
    if (result !== null) this.dispatch(result, packet, arrival);
  }

  private decide(packet: DhcpPacket, arrival: DhcpArrival): EngineResult | null {
    try {
      return this.engine.handle(
        packet,
        this.clock.nowSeconds(),
        this.arrivalOf(packet, arrival),
        engineArrival(arrival),
      );
    } catch (err) {
      // An exception here is a bug in the engine, not bad input: count it, log it, keep serving.
      this.counters.inc('pkt4-processing-failed');
      this.log.error({ event: 'dhcp.engine-error', err: (err as Error).stack }, 'engine failed on a packet');
      return null;
    }
  }

  /**
   * Unicast or broadcast (RFC 2131 §4.3.2). Direct mode: the frame's IP destination says.
   * udp mode: the socket the datagram came in on (dhcp-sockets.ts). On the wildcard socket it was a
   * broadcast only if every local address has a socket of its own; that costs an interface
   * listing, so it is checked only where the engine's answer depends on it: a message with ciaddr
   * and no relay (RENEWING or REBINDING; DhcpEngine selectScope). Anything not known is
   * 'unknown', which the engine treats as before it could tell.
   */
  private arrivalOf(packet: DhcpPacket, arrival: DhcpArrival): Arrival {
    const link = arrival.link;
    if (link !== undefined) {
      if (link.destination === 0xffffffff) return 'broadcast';
      return link.destination === link.serverIdentifier ? 'unicast' : 'unknown';
    }
    if (arrival.receivedOn === 'address') return 'unicast';
    if (arrival.receivedOn !== 'wildcard' || packet.giaddr !== 0 || packet.ciaddr === 0) return 'unknown';
    return this.transport.coverNewAddresses?.() ? 'broadcast' : 'unknown';
  }

  private dispatch(result: EngineResult, request: DhcpPacket, arrival: DhcpArrival, probes = 0): void {
    if (result.action === 'ignore') {
      if (result.reason !== 'no-reply-needed') {
        this.counters.inc('pkt4-receive-drop');
        this.counters.inc(`pkt4-ignored:${result.reason}`);
      }
      if (result.reason === 'no-free-address') {
        this.counters.inc('v4-allocation-fail');
        this.logLimited(
          `nofree:${result.scopeId}`,
          'warn',
          { event: 'dhcp.no-free-address', scope: result.scopeId },
          'scope has no free address',
        );
      } else if (result.detail !== undefined) {
        this.log.debug({ event: `dhcp.${result.reason}`, scope: result.scopeId, detail: result.detail });
      }
      if (result.changes.length > 0) {
        if (result.detail?.startsWith('declined')) {
          this.log.warn(
            { event: 'dhcp.decline', scope: result.scopeId, detail: result.detail },
            'client declined an address',
          );
        }
        this.persist(result.changes, null);
      }
      return;
    }
    if (this.probe !== null && this.isNewOffer(result)) {
      this.probeThenDispatch(result, request, arrival, probes);
      return;
    }
    if (result.changes.length === 0) {
      this.send(result, request, arrival);
      return;
    }
    this.persist(result.changes, { result, request, arrival });
  }

  /** An OFFER of an address no client holds here: the ping check applies (reservations excepted). */
  private isNewOffer(result: Reply): boolean {
    if (result.messageType !== DhcpMessageType.Offer) return false;
    const address = result.reply.yiaddr;
    const lease = this.engine.getLease(address);
    if (lease !== undefined && lease.state === 'active') return false;
    return !(this.engine.scopeView(result.scopeId)?.reservationByAddress.has(address) ?? false);
  }

  /**
   * RFC 2131 §4.4.1 (the server SHOULD probe an address before allocating it), Windows conflict
   * detection, dhcpd's ping check: an address that answers is held out (abandoned, like a declined
   * one) and the DISCOVER is decided again, at most MAX_PROBES_PER_DISCOVER times.
   */
  private probeThenDispatch(result: Reply, request: DhcpPacket, arrival: DhcpArrival, probes: number): void {
    const address = result.reply.yiaddr;
    this.probe!.isInUse(address).then(
      (isInUse) => {
        if (this.isClosing) return;
        if (!isInUse) {
          if (result.changes.length === 0) this.send(result, request, arrival);
          else this.persist(result.changes, { result, request, arrival });
          return;
        }
        this.counters.inc('pkt4-offer-conflicts');
        this.log.warn(
          {
            event: 'dhcp.address-in-use',
            address: formatIpv4(address),
            scope: result.scopeId,
            ...clientFieldsOf(request),
          },
          'an address answered the ping check before it was offered: held out as abandoned, another chosen',
        );
        const changes = this.engine.abandonConflict(address, this.clock.nowSeconds());
        if (changes.length > 0) this.persist(changes, null);
        if (probes + 1 >= MAX_PROBES_PER_DISCOVER) {
          this.counters.inc('pkt4-receive-drop');
          this.counters.inc('pkt4-ping-check-dropped');
          return;
        }
        const again = this.decide(request, arrival);
        if (again !== null) this.dispatch(again, request, arrival, probes + 1);
      },
      (err: Error) => {
        // A probe that fails (no ICMP socket) does not stop the service: offer as without it.
        this.logLimited('probe-failed', 'warn', { event: 'dhcp.ping-check-failed', err: err.message });
        if (result.changes.length === 0) this.send(result, request, arrival);
        else this.persist(result.changes, { result, request, arrival });
      },
    );
  }

  /**
   * Bindings another server committed to the shared database (PostgreSQL store, several servers;
   * docs/postgresql.md): put into the table as a partner's binding updates are, so that this server
   * does not offer an address another one took, and answers a client another one served.
   */
  applyStoredBindings(leases: readonly Lease[]): void {
    for (const l of leases) {
      if (this.engine.scopeForAddress(l.address) === undefined) continue;
      this.engine.putLease(l);
    }
  }

  /**
   * Records another server deleted from the shared database (an operator's delete there): this
   * server drops its copy too, else it would keep answering from a binding that no longer exists.
   */
  applyStoredRemovals(addresses: readonly Ipv4[]): void {
    for (const a of addresses) this.engine.removeLease(a);
  }

  /**
   * Expired bindings: no reply waits for them, so they go to the store's background lane where it
   * has one, and may reach the disk seconds after the table changed (issue 15). What that lag may
   * and may not do:
   *  - Listeners (failover's binding updates, DDNS removals) hear of them only once they are
   *    durable, as of every change: no BNDUPD tells the partner of an expiry a crash could undo.
   *    With a partner the lag delays reuse only: the binding is EXPIRED (stateAfterExpiry), which
   *    this server allocates only once the partner has acknowledged the update (then FREE or
   *    BACKUP) or, in PARTNER-DOWN, after max(stos, expiry, PETs) + MCLT (reclaimInPartnerDown),
   *    and both of those write through commit(), which takes the waiting expiry along first.
   *  - Standalone the address is FREE in the table at once and may be given to a new client
   *    before its expiry is durable: the new client's ACK commits through commit(), which writes
   *    the waiting expiry batch in the same transaction ahead of it (PendingWrites), so the store
   *    ends with the new binding and listeners hear the expiry first.
   *  - kill -9 before the expiry is durable: the old binding comes back ACTIVE with its expiry in
   *    the past and is expired again at start (before anything is answered); no ACK of another
   *    client for that address can have left, since its commit would have carried the expiry.
   */
  private persistExpiry(changes: Lease[]): void {
    this.expiryBacklog += changes.length;
    const settled = () => {
      this.expiryBacklog -= changes.length;
      if (this.isExpiryWaitingForStore && this.expiryBacklog < MAX_EXPIRY_BACKLOG) {
        this.isExpiryWaitingForStore = false;
        this.scheduleTick();
      }
    };
    const written = this.store.commitInBackground?.(changes) ?? this.store.commit(changes);
    written.then(
      () => {
        settled();
        for (const l of this.listeners) l(changes);
      },
      (err: Error) => {
        settled();
        this.counters.inc('lease-commit-failed');
        this.log.error(
          { event: 'lease.commit-failed', err: err.message, count: changes.length },
          'expired bindings not written: they come back active after a restart and expire again',
        );
      },
    );
  }

  /** Commits `changes`; sends `after` only once they are durable. */
  private persist(
    changes: Lease[],
    after: { result: Reply; request: DhcpPacket; arrival: DhcpArrival } | null,
    attempt = 0,
  ): void {
    this.store.commit(changes).then(
      () => {
        for (const l of this.listeners) l(changes);
        if (after && !this.isClosing) this.send(after.result, after.request, after.arrival);
      },
      (err: Error) => {
        if (err instanceof BindingConflictError) {
          this.claimLost(err, changes, after, attempt);
          return;
        }
        this.counters.inc('lease-commit-failed');
        this.log.error(
          { event: 'lease.commit-failed', err: err.message, count: changes.length },
          'lease commit failed: reply withheld',
        );
      },
    );
  }

  /**
   * The shared database holds some of these addresses for another binding (another server won the
   * claim): no reply that relies on them leaves. The winners go into the table, and the request is
   * decided again from that view: a REQUEST for an address now bound to another client is NAKed
   * (RFC 2131 §4.3.2), a DISCOVER gets another address. Bounded, as a ping-check conflict is.
   */
  private claimLost(
    err: BindingConflictError,
    changes: readonly Lease[],
    after: { result: Reply; request: DhcpPacket; arrival: DhcpArrival } | null,
    attempt: number,
  ): void {
    this.counters.inc('lease-claim-lost', err.current.length);
    const lost = new Set(err.current.map((l) => l.address));
    this.applyStoredBindings(err.current);
    const written = changes.filter((l) => !lost.has(l.address));
    if (written.length > 0) for (const l of this.listeners) l(written);
    this.logLimited('claim-lost', 'info', {
      event: 'lease.claim-lost',
      addresses: err.current.map((l) => formatIpv4(l.address)),
    });
    if (after === null || this.isClosing || attempt + 1 >= MAX_CLAIM_ATTEMPTS) return;
    const again = this.decide(after.request, after.arrival);
    if (again === null) return;
    if (again.action === 'reply' && again.changes.length > 0) {
      this.persist(
        again.changes,
        { result: again, request: after.request, arrival: after.arrival },
        attempt + 1,
      );
    } else this.dispatch(again, after.request, after.arrival);
  }

  private send(result: Reply, request: DhcpPacket, arrival: DhcpArrival): void {
    if (!this.isListening) return;
    let bytes: Uint8Array;
    try {
      const encoded = encodeDhcpReport(result.reply, { maxSize: result.maxSize });
      bytes = encoded.bytes;
      if (encoded.droppedOptionCodes.length > 0 && result.reply.hasMagicCookie) {
        this.noteDroppedOptions(result, encoded.droppedOptionCodes);
      }
    } catch (err) {
      this.counters.inc('pkt4-encode-failed');
      this.log.error({ event: 'dhcp.encode-error', err: (err as Error).message }, 'could not encode reply');
      return;
    }
    const name = result.messageType === 0 ? 'bootp-reply' : (MESSAGE_NAMES[result.messageType] ?? 'unknown');
    const out = { to: result.to, request, reply: result.reply, messageType: result.messageType, arrival };
    let to = '';
    to = this.transport.send(bytes, out, (err) => {
      if (err) {
        this.counters.inc('pkt4-send-failed');
        this.logLimited(`send:${err.message}`, 'warn', { event: 'dhcp.send-failed', to, err: err.message });
        return;
      }
      this.counters.inc('pkt4-sent');
      this.counters.inc(SENT_COUNTERS.get(name) ?? `pkt4-${name}-sent`);
    });
    // Logged when handed to the socket: an ACK only leaves once its binding is durable (persist).
    this.logReply(result, request, name, to);
  }

  /**
   * One line per reply that grants, confirms or refuses a binding, as dhcpd ("DHCPACK on …") and
   * Kea (DHCP4_LEASE_ALLOC) log theirs: `dhcp.offer`, `dhcp.ack`, `dhcp.nak`, `dhcp.bootp-reply`;
   * the ACK to an INFORM (no binding) is `dhcp.inform-ack`, at debug. Nothing is built when the
   * level is off.
   */
  private logReply(result: Reply, request: DhcpPacket, name: string, to: string): void {
    const isInform = result.messageType === DhcpMessageType.Ack && result.reply.yiaddr === 0;
    const level = isInform || !this.logSettings.isGrantLogged ? 'debug' : 'info';
    if (!this.log.isLevelEnabled(level)) return;
    const reply = result.reply;
    const isNak = result.messageType === DhcpMessageType.Nak;
    const fields: Record<string, unknown> = {
      event: isInform ? 'dhcp.inform-ack' : `dhcp.${name}`,
      ...clientFieldsOf(request),
      address: formatIpv4(
        isNak || isInform
          ? (getIpv4Option(request.options, OPTION.requestedAddress) ?? request.ciaddr)
          : reply.yiaddr,
      ),
      scope: result.scopeId,
    };
    if (isNak) fields.reason = result.detail ?? null;
    else if (!isInform) fields.leaseSeconds = leaseSecondsOf(result);
    fields.giaddr = request.giaddr === 0 ? null : formatIpv4(request.giaddr);
    fields.to = to;
    fields.xid = `0x${request.xid.toString(16).padStart(8, '0')}`;
    this.log[level](fields);
  }

  /** RFC 2131 §4.1 / RFC 2132 §9.10: options that do not fit the client's maximum message size. */
  private noteDroppedOptions(result: Reply, codes: readonly number[]): void {
    for (const code of codes) this.counters.inc(`pkt4-option-dropped:${code}`);
    this.logLimited(
      `dropped:${result.scopeId}`,
      'warn',
      {
        event: 'dhcp.options-dropped',
        scope: result.scopeId,
        options: codes,
        maxSize: result.maxSize,
        ...clientFieldsOf(result.reply),
      },
      'options left out of a reply: larger than the client accepts (option 57, else 576)',
    );
  }

  private scheduleTick(hasFailed = false): void {
    if (this.isClosing) return;
    if (this.expiryBacklog >= MAX_EXPIRY_BACKLOG) {
      this.isExpiryWaitingForStore = true;
      return;
    }
    const now = this.clock.nowSeconds();
    const next = this.engine.nextWakeAt();
    if (next !== null && next <= now && !hasFailed) {
      // More is due (the last batch was full): go on in the next turn, after the packets and the
      // commit that are waiting.
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.tick();
      });
      return;
    }
    // Wake at the next expiry, but at least once a second so reloads and clock jumps are noticed.
    const delayMs = next === null ? 1000 : Math.max(50, Math.min(1000, (next - now) * 1000));
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  private tick(): void {
    try {
      const changes = this.engine.tick(this.clock.nowSeconds(), EXPIRY_BATCH);
      if (changes.length > 0) {
        this.counters.inc('reclaimed-leases', changes.length);
        this.persistExpiry(changes);
      }
    } catch (err) {
      this.log.error({ event: 'dhcp.tick-error', err: (err as Error).stack }, 'lease expiry failed');
      // Retry on the timer, not in a tight loop.
      this.scheduleTick(true);
      return;
    }
    this.scheduleTick();
  }

  private logLimited(
    key: string,
    level: 'debug' | 'info' | 'warn',
    fields: Record<string, unknown>,
    msg?: string,
  ): void {
    const now = this.clock.nowSeconds();
    const last = this.lastLogged.get(key);
    if (last !== undefined && now - last < LOG_INTERVAL_SECONDS) return;
    if (this.lastLogged.size > 1000) this.lastLogged.clear();
    this.lastLogged.set(key, now);
    this.log[level](fields, msg);
  }
}

/** What the engine is told of where a datagram arrived (direct mode: the link). */
function engineArrival(arrival: DhcpArrival): PacketArrival | undefined {
  const link = arrival.link;
  if (link === undefined) return undefined;
  return { directScopeIds: link.directScopeIds, serverIdentifier: link.serverIdentifier };
}

/** The client as the logs name it: MAC (chaddr) and client identifier (option 61), colon hex. */
function clientFieldsOf(packet: DhcpPacket): { mac: string; clientId: string | null } {
  const cid = packet.options.get(OPTION.clientId);
  return {
    mac: formatMac(toHex(packet.chaddr.subarray(0, Math.min(packet.hlen, 16)))),
    clientId: cid === undefined || cid.length === 0 ? null : formatMac(toHex(cid)),
  };
}

/** Lease time granted by a reply: option 51, else (BOOTP) the binding's; null when infinite. */
function leaseSecondsOf(result: Reply): number | null {
  const fromOption = getUint32Option(result.reply.options, OPTION.leaseTime);
  if (fromOption !== null) return fromOption === INFINITE_EXPIRY ? null : fromOption;
  const lease = result.changes.find((l) => l.address === result.reply.yiaddr);
  if (lease === undefined || lease.leaseExpiresAt === INFINITE_EXPIRY) return null;
  return lease.leaseExpiresAt - lease.clientLastTransactionAt;
}
