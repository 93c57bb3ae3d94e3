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
//
// With a PostgreSQL lease store a second warm-up (warmUpDatabasePath) runs after the live store
// has opened: made-up clients through a store whose session writes to temporary tables on the real
// database, so that the pg driver's code has run before the first real packet too.

import { createSocket, type Socket } from 'node:dgram';
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

/** How a pass feeds its clients and waits for their replies. */
interface PassPace {
  /** Clients whose datagrams are delivered in one turn of the event loop. */
  clientsPerTurn: number;
  /** > 0: a batch waits for all its replies, this long at most (settle); 0: until quiet turns. */
  patienceMs: number;
  /**
   * Whether the replies also go out as datagrams, to a socket of the warm-up's own on loopback, so
   * that Node's datagram send path has run too.
   */
  sendsDatagrams: boolean;
  /**
   * Every this many batches the store also writes a meta value, as the server's clock checkpoint
   * does every CHECKPOINT_SECONDS (a transaction of other statements than the packet path's); 0:
   * never.
   */
  metaEveryBatches: number;
}

/** The in-memory passes: 32 clients per turn, as a busy socket delivers them (libuv reads 32). */
const MEMORY_PACE: PassPace = {
  clientsPerTurn: 32,
  patienceMs: 0,
  sendsDatagrams: false,
  metaEveryBatches: 0,
};

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
  /** Replies that also went out as datagrams, on loopback (the database pass). */
  datagrams: number;
  elapsedMs: number;
}

/**
 * A transport that sends nothing and keeps the replies of the current turn. Datagrams enter through
 * the receiver the service gave it, as the UDP transport's do.
 */
class CollectingTransport implements DhcpTransport {
  replies: OutgoingReply[] = [];
  count = 0;
  /** Datagrams the sink's socket sent without an error, and those whose send has not ended. */
  datagrams = 0;
  pendingDatagrams = 0;
  private waiter: { expected: number; resolve: () => void } | null = null;
  /** sendsDatagrams: a socket bound on loopback that the replies are sent to (itself). */
  constructor(private readonly sink: Socket | null = null) {}
  receive: DatagramReceiver = () => {};
  async start(receive: DatagramReceiver): Promise<void> {
    this.receive = receive;
  }
  async stop(): Promise<void> {}
  send(bytes: Uint8Array, out: OutgoingReply, done: (err: Error | null) => void): string {
    this.replies.push(out);
    this.count++;
    const sink = this.sink;
    if (sink === null) done(null);
    else {
      this.pendingDatagrams++;
      sink.send(bytes, sink.address().port, '127.0.0.1', (err) => {
        this.pendingDatagrams--;
        if (err === null) this.datagrams++;
        done(err ?? null);
      });
    }
    const w = this.waiter;
    if (w !== null && this.replies.length >= w.expected) {
      this.waiter = null;
      w.resolve();
    }
    return 'warm-up';
  }
  /** Resolves when the current turn's replies number `expected`, or after `timeoutMs`. */
  waitForReplies(expected: number, timeoutMs: number): Promise<void> {
    if (this.replies.length >= expected) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve();
      }, timeoutMs);
      this.waiter = {
        expected,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
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

/** Quiet turns of the event loop after which a batch's replies are taken as all there. */
const MAX_QUIET_TURNS = 8;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits for the replies of one batch. An in-memory store commits within a turn or two: until no
 * reply has come for MAX_QUIET_TURNS turns. A database's replies come after its round trips
 * (`patienceMs` > 0): until `expected` replies are in, or for patienceMs at most. `expected` null
 * (RELEASEs, which have no reply): until quiet.
 */
async function settle(
  transport: CollectingTransport,
  expected: number | null,
  patienceMs: number,
): Promise<void> {
  if (expected !== null && patienceMs > 0) return transport.waitForReplies(expected, patienceMs);
  let seen = transport.count;
  for (let quietTurns = 0; quietTurns < MAX_QUIET_TURNS; ) {
    if (expected !== null && transport.replies.length >= expected) return;
    await nextTurn();
    if (transport.count === seen) quietTurns++;
    else seen = transport.count;
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

/** The meta key a pass writes (metaEveryBatches), in its throwaway store only. */
const WARM_UP_META_KEY = 'warm-up';

/** Opens the throwaway store of one pass; the pass closes it. */
export type WarmUpStoreOpener = () => Promise<LeaseStore>;

/** The passes' store: an in-memory SQLite store, committing every turn as the live one does. */
const openMemoryStore: WarmUpStoreOpener = async () =>
  openSqliteLeaseStore(':memory:', { commitIntervalMs: 0, commitBatchSize: 1 });

/**
 * Exchanges of the database pass (warmUpDatabasePath), at most. Measured with bench/postgresql.sh
 * at 500/s from a cold start (README, issue 20): 256 clients, 32 per turn, before the live store
 * opened left the pg driver's functions to be compiled under the first seconds' load; 2000, 4 per
 * turn, after it opened (so that the driver has seen the live connection's messages first and the
 * code compiled here stays valid), cut the servers' CPU per lease in the first 8 s of load by
 * 10–18 % for one server and 4–10 % for three.
 */
const DATABASE_PASS_EXCHANGES = 2000;

/**
 * The database pass: 4 clients per turn, so that its group commits carry a few bindings each, as
 * the live store's do at a few hundred leases per second (a commit of 32 runs the driver's
 * per-statement code an eighth as often); its replies also go out as datagrams. Its store writes a
 * meta value every 8 batches: a trace (--trace-deopt) of a server started without them had the
 * driver's result handling deoptimized 2 s into the load by the first clock checkpoint's
 * transaction, and compiled again.
 */
const DATABASE_PACE: PassPace = {
  clientsPerTurn: 4,
  patienceMs: 200,
  sendsDatagrams: true,
  metaEveryBatches: 8,
};

/** The database pass's time limit, in units of WarmUpLimits.maxMs: its round trips make it slower. */
const DATABASE_PASS_TIME_FACTOR = 4;

export interface WarmUpOptions {
  /** Time source of the limits (tests). */
  nowMs?: () => number;
}

/** Runs the warm-up; never throws (a warm-up that fails only costs its time). */
export async function warmUpPacketPath(
  settings: EngineSettings,
  network: DhcpNetworkSettings,
  clock: Clock,
  limits: WarmUpLimits,
  options: WarmUpOptions = {},
): Promise<WarmUpResult> {
  return runWarmUp(settings, limits, options, async (scope, isTimeLeft, total) => {
    const firstPass = Math.min(FIRST_PASS_EXCHANGES, limits.exchanges);
    const pass = (from: number, to: number) =>
      runPass(settings, scope, network, clock, openMemoryStore, MEMORY_PACE, from, to, isTimeLeft, total);
    await pass(0, firstPass);
    if (firstPass < limits.exchanges && isTimeLeft()) await pass(firstPass, limits.exchanges);
  });
}

/**
 * With a PostgreSQL lease store, after the live store has opened and before the DHCP socket does:
 * made-up clients through a store whose session writes to temporary tables on the real database
 * (openPgWarmUpStore), so that the driver's write path has run too. At most
 * DATABASE_PASS_EXCHANGES (and limits.exchanges) clients, within DATABASE_PASS_TIME_FACTOR ×
 * limits.maxMs. Never throws: a store that cannot be opened ends it, and the result says why.
 */
export async function warmUpDatabasePath(
  settings: EngineSettings,
  network: DhcpNetworkSettings,
  clock: Clock,
  limits: WarmUpLimits,
  openDatabaseStore: WarmUpStoreOpener,
  options: WarmUpOptions = {},
): Promise<WarmUpResult> {
  const databaseLimits = { exchanges: limits.exchanges, maxMs: limits.maxMs * DATABASE_PASS_TIME_FACTOR };
  return runWarmUp(settings, databaseLimits, options, async (scope, isTimeLeft, total) => {
    const count = Math.min(DATABASE_PASS_EXCHANGES, limits.exchanges);
    await runPass(
      settings,
      scope,
      network,
      clock,
      openDatabaseStore,
      DATABASE_PACE,
      0,
      count,
      isTimeLeft,
      total,
    );
  });
}

interface PassTotals {
  exchanges: number;
  replies: number;
  datagrams: number;
}

/** The limits, the scope, the result and the failure of either warm-up around its passes. */
async function runWarmUp(
  settings: EngineSettings,
  limits: WarmUpLimits,
  options: WarmUpOptions,
  passes: (scope: EngineScope, isTimeLeft: () => boolean, total: PassTotals) => Promise<void>,
): Promise<WarmUpResult> {
  const nowMs = options.nowMs ?? (() => performance.now());
  const startedAt = nowMs();
  const total = { exchanges: 0, replies: 0, datagrams: 0 };
  const result = (skipped: string | null): WarmUpResult => ({
    skipped,
    exchanges: total.exchanges,
    replies: total.replies,
    datagrams: total.datagrams,
    elapsedMs: nowMs() - startedAt,
  });
  if (limits.exchanges <= 0) return result('off');
  const scope = warmUpScope(settings);
  if (scope === null) return result('no active scope with a range');
  try {
    await passes(scope, () => nowMs() - startedAt < limits.maxMs, total);
    return result(null);
  } catch (err) {
    return result(`failed: ${(err as Error).message}`);
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
  pace: PassPace,
  from: number,
  to: number,
  isTimeLeft: () => boolean,
  total: PassTotals,
): Promise<void> {
  // Relayed from the scope's subnet, as most of a busy server's clients are (giaddr selects it).
  const giaddr: Ipv4 = (scope.subnet.network + 1) >>> 0;
  const relay = { fromAddress: formatIpv4(giaddr), fromPort: 67, receivedOn: 'address' as const };
  const sink = pace.sendsDatagrams ? await openSink() : null;
  const store = await openStore().catch((err) => {
    sink?.close();
    throw err;
  });
  const transport = new CollectingTransport(sink);
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
    for (let first = from; first < to && isTimeLeft(); first += pace.clientsPerTurn) {
      const count = Math.min(pace.clientsPerTurn, to - first);
      const client = (i: number) => ({ client: madeUpClient(first + i), giaddr, xid: first + i, secs: 0 });
      // DISCOVERs of the clients `xids`, then a REQUEST for each OFFER; returns the ACKs.
      const discoverAndRequest = async (xids: number[]): Promise<OutgoingReply[]> => {
        for (const xid of xids) deliver(discover(client(xid - first)));
        await settle(transport, xids.length, pace.patienceMs);
        const offers = transport.replies.filter((r) => r.messageType === DhcpMessageType.Offer);
        transport.replies = [];
        for (const offer of offers) {
          const i = offer.request.xid - first;
          deliver(requestSelecting(client(i), offer.reply.yiaddr, settings.serverIdentifier));
        }
        await settle(transport, offers.length, pace.patienceMs);
        const acks = transport.replies.filter((r) => r.messageType === DhcpMessageType.Ack);
        transport.replies = [];
        return acks;
      };
      const batch = (first - from) / pace.clientsPerTurn;
      if (pace.metaEveryBatches > 0 && batch % pace.metaEveryBatches === 0) {
        await store.setMeta(WARM_UP_META_KEY, String(batch));
      }
      const acks = await discoverAndRequest(Array.from({ length: count }, (_, i) => first + i));
      total.exchanges += acks.length;
      // Every fourth client starts over while bound (a reboot, perfdhcp's repeated clients): its
      // DISCOVER finds the binding it holds.
      await discoverAndRequest(acks.map((ack) => ack.request.xid).filter((xid) => (xid - first) % 4 === 2));
      // Renew and release: the two other messages every busy server sees.
      for (const ack of acks) deliver(requestRenewing(client(ack.request.xid - first), ack.reply.yiaddr));
      await settle(transport, acks.length, pace.patienceMs);
      transport.replies = [];
      for (const ack of acks) {
        deliver(release(client(ack.request.xid - first), ack.reply.yiaddr, settings.serverIdentifier));
      }
      // A RELEASE has no reply: until quiet (a database's commits of them may still be on their way).
      await settle(transport, null, 0);
    }
  } finally {
    total.replies += transport.count;
    await service.stop().catch(() => {});
    await store.close().catch(() => {});
    for (let turn = 0; transport.pendingDatagrams > 0 && turn < MAX_QUIET_TURNS; turn++) await nextTurn();
    total.datagrams += transport.datagrams;
    sink?.close();
  }
}

/** A datagram socket on 127.0.0.1 that drops what it receives (PassPace.sendsDatagrams). */
async function openSink(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', () => {});
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}
