// A warm-up of the per-packet path before the DHCP socket opens (issue 19). V8 compiles a function
// to optimized code only once it has run often; until then it runs slower code and compiles the hot
// functions on background threads. On a server started under load (a restart in the middle of the
// morning's renewals, a benchmark) that compiling competes with the first second's packets for the
// CPU: measured at 4000/s on one core, the share of DISCOVERs answered within 20 ms in the first
// second after start was a median 56 % without a warm-up and 94 % with this one (81 % before the
// issue-19 build; README, issue 19).
//
// The warm-up runs DORAs, renewals and releases of made-up clients through a throwaway engine,
// lease table, DHCP service and in-memory SQLite store built from the same engine settings, so that
// the same functions (decoder, engine, lease table, store writes, group commit, encoder) have run
// before the first real packet. It never touches the server's table, store, failover endpoints or
// sockets: its replies go to a transport that only counts them, and its bindings vanish with the
// in-memory database. It is bounded by a number of exchanges and by time.

import { pino } from 'pino';
import { DhcpEngine } from '../dhcp/engine.js';
import { LeaseTable } from '../dhcp/lease-table.js';
import type { EngineScope, EngineSettings } from '../dhcp/scope.js';
import { openSqliteLeaseStore } from '../leases/sqlite-store.js';
import type { LeaseStore } from '../leases/store.js';
import {
  discover,
  nthClient,
  type ProbeClient,
  release,
  requestRenewing,
  requestSelecting,
} from '../probe/messages.js';
import { encodeDhcp } from '../wire/dhcp-codec.js';
import { DhcpMessageType, type DhcpPacket } from '../wire/dhcp-packet.js';
import { formatIpv4, type Ipv4 } from '../wire/ipv4.js';
import type { Clock } from './clock.js';
import { Counters } from './counters.js';
import { type DhcpNetworkSettings, DhcpService } from './dhcp-service.js';
import type { DatagramReceiver, DhcpTransport, OutgoingReply } from './dhcp-transport.js';

/** Clients handled per turn of the event loop, as a busy socket delivers them (libuv reads 32). */
const CLIENTS_PER_TURN = 32;

export interface WarmUpLimits {
  /** DISCOVER/REQUEST exchanges at most (each client also renews and releases once). */
  exchanges: number;
  /** Stops after the turn in which this much time has passed. */
  maxMs: number;
}

export interface WarmUpResult {
  /** Why nothing ran, or null. */
  skipped: string | null;
  /** Exchanges that ended in an ACK. */
  exchanges: number;
  /** Replies sent to the counting transport (OFFERs, ACKs, NAKs). */
  replies: number;
  elapsedMs: number;
}

/**
 * A transport that sends nothing and keeps the replies of the current turn. Datagrams enter through
 * the receiver the service gave it, as the UDP transport's do.
 */
class CollectingTransport implements DhcpTransport {
  replies: OutgoingReply[] = [];
  count = 0;
  receive: DatagramReceiver = () => {};
  async start(receive: DatagramReceiver): Promise<void> {
    this.receive = receive;
  }
  async stop(): Promise<void> {}
  send(_bytes: Uint8Array, out: OutgoingReply, done: (err: Error | null) => void): string {
    this.replies.push(out);
    this.count++;
    done(null);
    return 'warm-up';
  }
  describe(): Record<string, unknown> {
    return { mode: 'warm-up' };
  }
}

/** The first active scope with a dynamic range: where made-up clients get addresses. */
function warmUpScope(settings: EngineSettings): EngineScope | null {
  return settings.scopes.find((s) => s.isActive !== false && s.ranges.length > 0) ?? null;
}

/** A locally administered unicast MAC (02:…), never a real client's. */
const WARM_UP_MAC = Uint8Array.of(0x02, 0x77, 0x61, 0x72, 0x6d, 0x00);

/**
 * The n-th made-up client. Half send a client identifier (type 1 and the MAC, as dhclient and
 * perfdhcp do) and every fourth a host name, so that the code paths of both kinds of client key
 * and of option 12 have run.
 */
function madeUpClient(n: number): ProbeClient {
  const c = nthClient({ hardwareAddress: WARM_UP_MAC, clientId: null, hostname: null }, n);
  return {
    hardwareAddress: c.hardwareAddress,
    clientId: n % 2 === 0 ? Uint8Array.of(1, ...c.hardwareAddress) : null,
    hostname: n % 4 === 1 ? `warm-up-${n}` : null,
  };
}

/** Turns of the event loop waited at most for the replies of one batch. */
const MAX_TURNS_PER_BATCH = 8;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Turns of the event loop until the store's group commit and the replies after it have run. */
async function settle(transport: CollectingTransport): Promise<void> {
  for (let turn = 0; turn < MAX_TURNS_PER_BATCH; turn++) {
    const before = transport.count;
    await nextTurn();
    if (turn > 0 && transport.count === before) return;
  }
}

/**
 * Exchanges of the first pass. V8 records the classes a field has held and compiles code that
 * counts on them; a second engine, table, store and service (the live ones) make those fields
 * general and throw that code away. Measured at 4000/s (issue 19): after a one-pass warm-up, the
 * live engine's construction and the first real datagram deoptimized ~100 functions of the packet
 * path, which were compiled again under the first second's load. A short first pass on parts of
 * their own makes every such field general before the second pass compiles the code the live
 * server keeps.
 */
const FIRST_PASS_EXCHANGES = 64;

/** Opens the throwaway store of one pass; the pass closes it. */
export type WarmUpStoreOpener = () => Promise<LeaseStore>;

/** The passes' store: an in-memory SQLite store, committing every turn as the live one does. */
const openMemoryStore: WarmUpStoreOpener = async () =>
  openSqliteLeaseStore(':memory:', { commitIntervalMs: 0, commitBatchSize: 1 });

/**
 * Exchanges of the database pass (WarmUpOptions.openDatabaseStore). Measured with
 * bench/postgresql.sh at 500/s: a database pass in place of the in-memory passes cut one server's
 * CPU per lease in the first seconds by ~7 % but raised three servers' by 5–11 % (each server
 * decides every packet there, and the passes, slowed by the round trips, ran fewer exchanges
 * within maxMs); so it comes after them, with a budget of its own.
 */
const DATABASE_PASS_EXCHANGES = 256;

export interface WarmUpOptions {
  /** Time source of the limits (tests). */
  nowMs?: () => number;
  /**
   * With a database lease store (PostgreSQL): opens a store that writes to a temporary table on
   * the real database (openPgWarmUpStore). After the in-memory passes, DATABASE_PASS_EXCHANGES
   * more clients go through a service on it, within another maxMs / 2, so that the driver's
   * write path has run too.
   */
  openDatabaseStore?: WarmUpStoreOpener;
}

/** Runs the warm-up; never throws (a warm-up that fails only costs its time). */
export async function warmUpPacketPath(
  settings: EngineSettings,
  network: DhcpNetworkSettings,
  clock: Clock,
  limits: WarmUpLimits,
  options: WarmUpOptions = {},
): Promise<WarmUpResult> {
  const nowMs = options.nowMs ?? (() => performance.now());
  const startedAt = nowMs();
  const result = (skipped: string | null, exchanges = 0, replies = 0): WarmUpResult => ({
    skipped,
    exchanges,
    replies,
    elapsedMs: nowMs() - startedAt,
  });
  if (limits.exchanges <= 0) return result('off');
  const scope = warmUpScope(settings);
  if (scope === null) return result('no active scope with a range');
  const isTimeLeft = () => nowMs() - startedAt < limits.maxMs;
  const total = { exchanges: 0, replies: 0 };
  try {
    const firstPass = Math.min(FIRST_PASS_EXCHANGES, limits.exchanges);
    await runPass(settings, scope, network, clock, openMemoryStore, 0, firstPass, isTimeLeft, total);
    if (firstPass < limits.exchanges && isTimeLeft()) {
      await runPass(
        settings,
        scope,
        network,
        clock,
        openMemoryStore,
        firstPass,
        limits.exchanges,
        isTimeLeft,
        total,
      );
    }
    if (options.openDatabaseStore !== undefined) {
      const passStartedAt = nowMs();
      const from = limits.exchanges;
      await runPass(
        settings,
        scope,
        network,
        clock,
        options.openDatabaseStore,
        from,
        from + Math.min(DATABASE_PASS_EXCHANGES, limits.exchanges),
        () => nowMs() - passStartedAt < limits.maxMs / 2,
        total,
      );
    }
    return result(null, total.exchanges, total.replies);
  } catch (err) {
    return result(`failed: ${(err as Error).message}`, total.exchanges, total.replies);
  }
}

/**
 * Made-up clients `from` to `to` (exclusive) through an engine, table, throwaway store and service
 * of their own, 32 per event-loop turn, while `isTimeLeft`. Adds to `total`; throws on failure.
 */
async function runPass(
  settings: EngineSettings,
  scope: EngineScope,
  network: DhcpNetworkSettings,
  clock: Clock,
  openStore: WarmUpStoreOpener,
  from: number,
  to: number,
  isTimeLeft: () => boolean,
  total: { exchanges: number; replies: number },
): Promise<void> {
  // Relayed from the scope's subnet, as most of a busy server's clients are (giaddr selects it).
  const giaddr: Ipv4 = (scope.subnet.network + 1) >>> 0;
  const relay = { fromAddress: formatIpv4(giaddr), fromPort: 67, receivedOn: 'address' as const };
  const store = await openStore();
  const transport = new CollectingTransport();
  const service = new DhcpService(
    new DhcpEngine(settings, new LeaseTable(0)),
    store,
    network,
    clock,
    pino({ level: 'silent' }),
    new Counters(),
    { isGrantLogged: true },
    { transport, probe: null },
  );
  // A Buffer and a relay's arrival, as the UDP transport hands them over.
  const deliver = (packet: DhcpPacket) => transport.receive(Buffer.from(encodeDhcp(packet)), { ...relay });
  try {
    await service.start();
    for (let first = from; first < to && isTimeLeft(); first += CLIENTS_PER_TURN) {
      const count = Math.min(CLIENTS_PER_TURN, to - first);
      const client = (i: number) => ({ client: madeUpClient(first + i), giaddr, xid: first + i, secs: 0 });
      // DISCOVERs of the clients `xids`, then a REQUEST for each OFFER; returns the ACKs.
      const discoverAndRequest = async (xids: number[]): Promise<OutgoingReply[]> => {
        for (const xid of xids) deliver(discover(client(xid - first)));
        await settle(transport);
        const offers = transport.replies.filter((r) => r.messageType === DhcpMessageType.Offer);
        transport.replies = [];
        for (const offer of offers) {
          const i = offer.request.xid - first;
          deliver(requestSelecting(client(i), offer.reply.yiaddr, settings.serverIdentifier));
        }
        await settle(transport);
        const acks = transport.replies.filter((r) => r.messageType === DhcpMessageType.Ack);
        transport.replies = [];
        return acks;
      };
      const acks = await discoverAndRequest(Array.from({ length: count }, (_, i) => first + i));
      total.exchanges += acks.length;
      // Every fourth client starts over while bound (a reboot, perfdhcp's repeated clients): its
      // DISCOVER finds the binding it holds.
      await discoverAndRequest(acks.map((ack) => ack.request.xid).filter((xid) => (xid - first) % 4 === 2));
      // Renew and release: the two other messages every busy server sees.
      for (const ack of acks) deliver(requestRenewing(client(ack.request.xid - first), ack.reply.yiaddr));
      await settle(transport);
      transport.replies = [];
      for (const ack of acks) {
        deliver(release(client(ack.request.xid - first), ack.reply.yiaddr, settings.serverIdentifier));
      }
      await settle(transport);
    }
  } finally {
    total.replies += transport.count;
    await service.stop().catch(() => {});
    await store.close().catch(() => {});
  }
}
