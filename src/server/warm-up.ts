// A warm-up of the per-packet path before the DHCP socket opens (issue 19). V8 compiles a function
// to optimized code only once it has run often; until then it runs slower code and compiles the hot
// functions on background threads. On a server started under load (a restart in the middle of the
// morning's renewals, a benchmark) that compiling competes with the first second's packets for the
// CPU: measured at 4000/s on one core, the share of DISCOVERs answered within 20 ms in the first
// second after start was a median 60 % without a warm-up and 85.5 % with one (README, issue 19).
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
import type { Ipv4 } from '../wire/ipv4.js';
import type { Clock } from './clock.js';
import { Counters } from './counters.js';
import { type DhcpNetworkSettings, DhcpService } from './dhcp-service.js';
import type { DhcpTransport, OutgoingReply } from './dhcp-transport.js';

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

/** A transport that sends nothing and keeps the replies of the current turn. */
class CollectingTransport implements DhcpTransport {
  replies: OutgoingReply[] = [];
  count = 0;
  async start(): Promise<void> {}
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

/** Runs the warm-up; never throws (a warm-up that fails only costs its time). */
export async function warmUpPacketPath(
  settings: EngineSettings,
  network: DhcpNetworkSettings,
  clock: Clock,
  limits: WarmUpLimits,
  nowMs: () => number = () => performance.now(),
): Promise<WarmUpResult> {
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
  // Relayed from the scope's subnet, as most of a busy server's clients are (giaddr selects it).
  const giaddr: Ipv4 = (scope.subnet.network + 1) >>> 0;
  const store = openSqliteLeaseStore(':memory:', { commitIntervalMs: 0, commitBatchSize: 1 });
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
  const base: ProbeClient = {
    // A locally administered unicast MAC (02:…), never a real client's.
    hardwareAddress: Uint8Array.of(0x02, 0x77, 0x61, 0x72, 0x6d, 0x00),
    clientId: null,
    hostname: null,
  };
  const deliver = (packet: DhcpPacket) => service.onDatagram(encodeDhcp(packet), '127.0.0.1', 67, null);
  let exchanges = 0;
  try {
    await service.start();
    for (
      let first = 0;
      first < limits.exchanges && nowMs() - startedAt < limits.maxMs;
      first += CLIENTS_PER_TURN
    ) {
      const count = Math.min(CLIENTS_PER_TURN, limits.exchanges - first);
      const client = (i: number) => ({ client: nthClient(base, first + i), giaddr, xid: first + i, secs: 0 });
      for (let i = 0; i < count; i++) deliver(discover(client(i)));
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
      exchanges += acks.length;
      // Renew and release: the two other messages every busy server sees.
      for (const ack of acks) deliver(requestRenewing(client(ack.request.xid - first), ack.reply.yiaddr));
      await settle(transport);
      transport.replies = [];
      for (const ack of acks) {
        deliver(release(client(ack.request.xid - first), ack.reply.yiaddr, settings.serverIdentifier));
      }
      await settle(transport);
    }
    return result(null, exchanges, transport.count);
  } catch (err) {
    return result(`failed: ${(err as Error).message}`, exchanges, transport.count);
  } finally {
    await service.stop().catch(() => {});
    await store.close().catch(() => {});
  }
}
