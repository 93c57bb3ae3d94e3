// The DHCP half of the shell: UDP socket in, engine decision, lease store commit, UDP socket out.
// The one rule it enforces: a reply that carries a binding leaves only after the binding is durable
// (LeaseStore.commit resolved). Malformed datagrams are counted and dropped; nothing a client
// sends can throw past `onDatagram`.

import type { Logger } from 'pino';
import type { Arrival, DhcpEngine, EngineResult, ReplyDestination } from '../dhcp/engine.js';
import { INFINITE_EXPIRY, type Lease } from '../dhcp/lease.js';
import type { LeaseStore } from '../leases/store.js';
import { decodeDhcp, encodeDhcpReport } from '../wire/dhcp-codec.js';
import { getIpv4Option, getUint32Option, OPTION } from '../wire/dhcp-options.js';
import { DhcpMessageType, type DhcpPacket } from '../wire/dhcp-packet.js';
import { formatIpv4, formatMac, toHex } from '../wire/ipv4.js';
import type { Clock } from './clock.js';
import type { Counters } from './counters.js';
import { DhcpSockets, type LocalAddressLister, type ReceivedOn } from './dhcp-sockets.js';

export interface DhcpNetworkSettings {
  listenAddress: string;
  port: number;
  clientPort: number;
  /** Where broadcast replies go: the directly attached subnet's broadcast address. */
  broadcastAddress: string;
}

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

export class DhcpService {
  private sockets: DhcpSockets | null = null;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private readonly lastLogged = new Map<string, number>();
  private readonly listeners: LeaseChangeListener[] = [];
  private isClosing = false;

  constructor(
    private engine: DhcpEngine,
    private readonly store: LeaseStore,
    private network: DhcpNetworkSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly counters: Counters,
    private logSettings: DhcpLogSettings = { isGrantLogged: true },
    private readonly localAddresses?: LocalAddressLister,
  ) {}

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
    const sockets = new DhcpSockets(
      this.network.listenAddress,
      this.network.port,
      (msg, rinfo, receivedOn) => this.onDatagram(msg, rinfo.address, rinfo.port, receivedOn),
      (err, address) =>
        this.log.error({ event: 'dhcp.socket-error', address, err: err.message }, 'DHCP socket error'),
      this.localAddresses,
    );
    await sockets.open();
    this.sockets = sockets;
    this.log.info(
      {
        event: 'dhcp.listening',
        address: this.network.listenAddress,
        port: sockets.boundPort,
        broadcast: this.network.broadcastAddress,
        // With 0.0.0.0: the addresses whose unicast datagrams are told from broadcasts.
        unicastAddresses: sockets.addresses,
      },
      'DHCP service listening',
    );
    this.scheduleTick();
  }

  async stop(): Promise<void> {
    this.isClosing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    const s = this.sockets;
    this.sockets = null;
    await s?.close();
  }

  /**
   * Entry point for every received datagram (also used by tests without a socket, where the
   * destination is unknown: `receivedOn` null).
   */
  onDatagram(
    bytes: Uint8Array,
    fromAddress: string,
    fromPort: number,
    receivedOn: ReceivedOn | null = null,
  ): void {
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
    this.counters.inc(`pkt4-${typeName}-received`);
    let result: EngineResult;
    try {
      result = this.engine.handle(packet, this.clock.nowSeconds(), this.arrivalOf(packet, receivedOn));
    } catch (err) {
      // An exception here is a bug in the engine, not bad input: count it, log it, keep serving.
      this.counters.inc('pkt4-processing-failed');
      this.log.error({ event: 'dhcp.engine-error', err: (err as Error).stack }, 'engine failed on a packet');
      return;
    }
    this.dispatch(result, packet);
  }

  /**
   * Unicast or broadcast, from the socket the datagram came in on (dhcp-sockets.ts). On the
   * wildcard socket it was a broadcast only if every local address has a socket of its own; that
   * costs an interface listing, so it is checked only where the engine's answer depends on it: a
   * message with ciaddr and no relay (RFC 2131 §4.3.2, RENEWING or REBINDING; DhcpEngine
   * selectScope). Anything not known is 'unknown', which the engine treats as before it could tell.
   */
  private arrivalOf(packet: DhcpPacket, receivedOn: ReceivedOn | null): Arrival {
    if (receivedOn === 'address') return 'unicast';
    if (receivedOn !== 'wildcard' || packet.giaddr !== 0 || packet.ciaddr === 0) return 'unknown';
    return this.sockets?.coverNewAddresses() ? 'broadcast' : 'unknown';
  }

  private dispatch(result: EngineResult, request: DhcpPacket): void {
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
    if (result.changes.length === 0) {
      this.send(result, request);
      return;
    }
    this.persist(result.changes, { result, request });
  }

  /** Commits `changes`; sends `after` only once they are durable. */
  private persist(changes: Lease[], after: { result: Reply; request: DhcpPacket } | null): void {
    this.store.commit(changes).then(
      () => {
        for (const l of this.listeners) l(changes);
        if (after && !this.isClosing) this.send(after.result, after.request);
      },
      (err: Error) => {
        this.counters.inc('lease-commit-failed');
        this.log.error(
          { event: 'lease.commit-failed', err: err.message, count: changes.length },
          'lease commit failed: reply withheld',
        );
      },
    );
  }

  private send(result: Reply, request: DhcpPacket): void {
    const sockets = this.sockets;
    if (!sockets) return;
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
    const [address, port] = this.destination(result.to);
    const name = result.messageType === 0 ? 'bootp-reply' : (MESSAGE_NAMES[result.messageType] ?? 'unknown');
    // Logged when handed to the socket: an ACK only leaves once its binding is durable (persist).
    this.logReply(result, request, name, address, port);
    sockets.send(bytes, port, address, (err) => {
      if (err) {
        this.counters.inc('pkt4-send-failed');
        this.logLimited(`send:${err.message}`, 'warn', {
          event: 'dhcp.send-failed',
          to: `${address}:${port}`,
          err: err.message,
        });
        return;
      }
      this.counters.inc('pkt4-sent');
      this.counters.inc(`pkt4-${name}-sent`);
    });
  }

  /**
   * One line per reply that grants, confirms or refuses a binding, as dhcpd ("DHCPACK on …") and
   * Kea (DHCP4_LEASE_ALLOC) log theirs: `dhcp.offer`, `dhcp.ack`, `dhcp.nak`, `dhcp.bootp-reply`;
   * the ACK to an INFORM (no binding) is `dhcp.inform-ack`, at debug. Nothing is built when the
   * level is off.
   */
  private logReply(result: Reply, request: DhcpPacket, name: string, address: string, port: number): void {
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
    fields.to = `${address}:${port}`;
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

  private destination(to: ReplyDestination): [string, number] {
    switch (to.kind) {
      case 'relay':
        return [formatIpv4(to.address), this.network.port];
      case 'client':
        return [formatIpv4(to.address), this.network.clientPort];
      case 'broadcast':
        return [this.network.broadcastAddress, this.network.clientPort];
    }
  }

  private scheduleTick(hasFailed = false): void {
    if (this.isClosing) return;
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
        this.persist(changes, null);
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
