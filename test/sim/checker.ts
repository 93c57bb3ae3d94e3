// The invariants the simulator checks after every event (docs/safety.md):
//  1. no address is held by two clients whose leases overlap, as each client believes it
//     (client-side: the ACKed address and expiry, request time + lease time, in simulation time);
//  2. MCLT: no server tells a client an expiry beyond max(now, ackedPET, receivedPET) + MCLT for
//     that address, checked from the binding as it was before the grant (D12 §7.1.5; in
//     COMMUNICATIONS-INTERRUPTED / RESOLUTION-INTERRUPTED the current expiry joins the max, §9.9.2);
//  3. every lease a client holds survives a crash of the server that ACKed it: it is in that
//     server's durable store, or in its partner's;
//  4. once the pair is healed and quiet (both NORMAL, nothing queued or in flight) every binding is
//     acknowledged by the partner, and the two stores agree address by address (state, and client
//     when ACTIVE), at once or, for a difference that a lease or a decline hold ends and that
//     neither side can act on meanwhile, by the end of that timer (checkSettled).
// Also: a server is not communicating with its partner for long while the two wall clocks differ by
// more than the allowed skew (the handshake refuses it; a step during or after the handshake closes
// the connection within a receive timer), and no core may throw.

import type { Lease } from '../../src/dhcp/lease.js';
import { INFINITE_EXPIRY } from '../../src/dhcp/lease.js';
import { SERVER_STATE_NAMES, ServerState } from '../../src/wire/failover-message.js';
import { formatIpv4, type Ipv4 } from '../../src/wire/ipv4.js';
import type { GrantRecord, SimServer, World } from './world.js';

export type ViolationKind =
  | 'double-holding'
  | 'mclt'
  | 'lost-lease'
  | 'divergence'
  | 'not-up-to-date'
  | 'no-convergence'
  | 'skew-not-refused'
  | 'exception';

export interface Violation {
  kind: ViolationKind;
  message: string;
  atMs?: number;
  address?: number;
}

interface Holding {
  client: number;
  address: Ipv4;
  server: 'a' | 'b';
  fromMs: number;
  untilMs: number;
}

/** Server clocks are whole seconds: a server may see a lease end up to 1 s before its client does. */
const TOLERANCE_MS = 1000;
/**
 * Wall clocks this far apart are over the limit as the product measures it (60 s, + 2 s on a
 * connection for whole-second times sent a little before they are read, + 2 s of rounding).
 */
const SKEW_LIMIT_MS = 64_000;
const START_S = 1_700_000_000;

export class Checker {
  readonly violations: Violation[] = [];
  /**
   * Times a server's timeline ran ahead of real time (ms): a restart that no clock measured, over
   * a downtime during which its wall clock was stepped forward. Every binding it stored then ends
   * that much early, as for any DHCP server that keeps wall-clock lease times (docs/safety.md). A
   * step of a running server's wall clock moves no timeline and is not allowed for.
   */
  private readonly forwardSteps: Array<{ atMs: number; ms: number }> = [];
  /** address → the client holding it (as the client believes). */
  private readonly holders = new Map<Ipv4, Holding>();
  /** Per server: since when it has been communicating with the wall clocks over the limit apart. */
  private readonly skewedSinceMs: [number | null, number | null] = [null, null];

  constructor(private readonly w: World) {}

  report(v: Violation): void {
    if (this.violations.length > 0) return;
    this.violations.push({ ...v, atMs: this.w.nowMs });
    this.w.log(`VIOLATION ${v.kind}: ${v.message}`);
  }

  afterEvent(): void {
    this.checkSkew();
  }

  noteTimelineForward(_s: SimServer, ms: number): void {
    this.forwardSteps.push({ atMs: this.w.nowMs, ms });
  }

  private toleranceSince(fromMs: number): number {
    let t = TOLERANCE_MS;
    for (const f of this.forwardSteps) if (f.atMs >= fromMs) t += f.ms;
    return t;
  }

  // -----------------------------------------------------------------------------------------------
  // Clock skew: refused at the handshake, or the connection closed soon after

  /**
   * A server communicating with its partner while their wall clocks are more than the limit apart
   * (D12 §5.10, spec §13: ISC and Windows refuse it) must stop within a receive timer: the server
   * whose clock stepped closes at its next tick; the other hears the close, or, over a stalled
   * link, its receive timer fires. In between nothing is at risk: each side keeps the wall offset
   * its connection opened with, so the times on it stay consistent (docs/safety.md).
   */
  private checkSkew(): void {
    const [a, b] = this.w.servers;
    const isApart = Math.abs(a.skewMs - b.skewMs) > SKEW_LIMIT_MS;
    const limitMs = (this.w.scenario.receiveTimerSeconds + 3) * 1000;
    for (const s of this.w.servers) {
      if (!isApart || !s.isUp || !s.endpoint.isCommunicating()) {
        this.skewedSinceMs[s.index] = null;
        continue;
      }
      const since = this.skewedSinceMs[s.index] ?? this.w.nowMs;
      this.skewedSinceMs[s.index] = since;
      if (this.w.nowMs - since > limitMs) {
        this.report({
          kind: 'skew-not-refused',
          message: `${s.name} has been communicating for ${((this.w.nowMs - since) / 1000).toFixed(1)} s with wall clocks ${(Math.abs(a.skewMs - b.skewMs) / 1000).toFixed(1)} s apart (limit 60 s)`,
        });
        return;
      }
    }
  }

  // -----------------------------------------------------------------------------------------------
  // 1. Client-side double holding

  onClientAck(
    client: number,
    lease: { address: Ipv4; server: 'a' | 'b'; untilMs: number },
    from: SimServer,
    requestSentMs: number,
  ): void {
    const now = this.w.nowMs;
    const h = this.holders.get(lease.address);
    if (h !== undefined && h.client !== client && h.untilMs - now > this.toleranceSince(h.fromMs)) {
      this.report({
        kind: 'double-holding',
        address: lease.address,
        message: `${formatIpv4(lease.address)}: client c${client} ACKed by ${from.name} while c${h.client} holds it (ACKed by ${h.server}) for ${((h.untilMs - now) / 1000).toFixed(1)} s more`,
      });
      return;
    }
    this.holders.set(lease.address, {
      client,
      address: lease.address,
      server: lease.server,
      // The client counts its lease from when it sent the request (RFC 2131 §4.4.1); a forward
      // step of the granting server's clock after that instant shortens it (seeds 416, 1642: the
      // step fell between the grant and the ACK's arrival).
      fromMs: Math.min(now, requestSentMs),
      untilMs: lease.untilMs,
    });
  }

  onClientDrop(client: number, lease: { address: Ipv4 }, _why: string): void {
    const h = this.holders.get(lease.address);
    if (h !== undefined && h.client === client) this.holders.delete(lease.address);
  }

  // -----------------------------------------------------------------------------------------------
  // 2. MCLT on every ACK

  onServerAck(
    s: SimServer,
    address: Ipv4,
    client: { id: number },
    g: GrantRecord | undefined,
    changes: Lease[],
    leaseSeconds: number | null,
  ): void {
    const lease = changes.find((l) => l.address === address && l.state === 'active');
    if (lease === undefined || leaseSeconds === null) return;
    // 0xffffffff seconds on the wire is an infinite lease (RFC 2131 §3.3).
    if (lease.leaseExpiresAt === INFINITE_EXPIRY || leaseSeconds === 0xffffffff) return;
    const mclt = this.w.scenario.mcltSeconds;
    const before = g?.before;
    const now = g?.now ?? this.w.nowOf(s);
    // What the client is told. The store may keep more (the lease the same client held before,
    // should this ACK be lost: src/dhcp/engine.ts bind), never less.
    const toldExpiresAt = now + leaseSeconds;
    if (lease.leaseExpiresAt < toldExpiresAt) {
      this.report({
        kind: 'lost-lease',
        address,
        message: `${s.name} ACKed ${formatIpv4(address)} to c${client.id} until ${toldExpiresAt} but stores ${lease.leaseExpiresAt}`,
      });
    }
    let base = now;
    let floor = 0;
    if (before !== undefined) {
      base = Math.max(base, before.ackedPotentialExpiresAt, before.receivedPotentialExpiresAt);
      const st = g!.state;
      if (
        (st === ServerState.COMMUNICATIONS_INTERRUPTED || st === ServerState.RESOLUTION_INTERRUPTED) &&
        before.state === 'active' &&
        before.leaseExpiresAt !== INFINITE_EXPIRY
      ) {
        // The current expiry may be kept, not extended (it is no part of the bound: seed 9757).
        floor = before.leaseExpiresAt;
      }
    }
    if (toldExpiresAt > Math.max(base + mclt, floor)) {
      this.report({
        kind: 'mclt',
        address,
        message: `${s.name} ACKed ${formatIpv4(address)} to c${client.id} until ${toldExpiresAt} > max(now ${now}, acked ${before?.ackedPotentialExpiresAt ?? 0}, received ${before?.receivedPotentialExpiresAt ?? 0}) + MCLT ${mclt} = ${base + mclt} in ${g ? SERVER_STATE_NAMES[g.state] : '?'}`,
      });
    }
    // The PET we tell the partner must cover what we told the client (D12 §7.1.5).
    if (lease.sentPotentialExpiresAt < lease.leaseExpiresAt && lease.sentPotentialExpiresAt !== 0) {
      // bindingFromLease sends max(sentPET, expiry): fine on the wire; nothing to report.
    }
  }

  // -----------------------------------------------------------------------------------------------
  // 3. ACKed leases survive a crash

  beforeCrash(s: SimServer): void {
    const partner = this.w.other(s);
    const now = this.w.nowMs;
    for (const h of this.holders.values()) {
      if (h.server !== s.name) continue;
      const tol =
        this.toleranceSince(h.fromMs) +
        Math.abs(this.w.timelineOffsetMs(s) - this.w.timelineOffsetMs(partner));
      if (h.untilMs - now <= tol) continue;
      const client = this.w.clients[h.client - 1]!;
      const ok = (srv: SimServer) => {
        const l = srv.durable.get(h.address);
        if (l === undefined || l.state !== 'active' || l.hardwareAddress !== client.mac) return false;
        const untilOnServerMs = l.leaseExpiresAt * 1000 - this.w.timelineOffsetMs(srv);
        return untilOnServerMs >= h.untilMs - tol - 1000;
      };
      if (!ok(s) && !ok(partner)) {
        const mine = s.durable.get(h.address);
        const theirs = partner.durable.get(h.address);
        this.report({
          kind: 'lost-lease',
          address: h.address,
          message: `${s.name} crashes; c${h.client} holds ${formatIpv4(h.address)} for ${((h.untilMs - now) / 1000).toFixed(1)} s more (ACKed by ${s.name}), but neither durable store has it: ${s.name}=${describe(mine, s)} ${partner.name}=${describe(theirs, partner)}`,
        });
        return;
      }
    }
  }

  onStateChange(_s: SimServer, _before: ServerState, _after: ServerState): void {}

  // -----------------------------------------------------------------------------------------------
  // 4. Converged stores

  /**
   * Called each second once the pair is settled (both NORMAL and talking, nothing queued, in flight
   * or waiting for the disk). Returns true when the check is over (the stores agree, or a
   * violation was reported), false while a difference is still within its bound.
   *
   * A settled pair sends nothing more on its own, so every binding must be acknowledged
   * (isPartnerUpToDate), and the two stores must agree address by address: the same state
   * (a never-used address is FREE) and, when ACTIVE, the same client. The one difference allowed is
   * one that a timer of either server ends, and only while neither side may give the address to a
   * new client meanwhile: an ACTIVE lease or a decline hold (ABANDONED) on one side against a
   * binding nobody allocates (EXPIRED, RELEASED, RESET, ABANDONED; FREE/BACKUP only against a decline
   * hold). When that timer runs out the server tells its partner and the two agree; the bound is the
   * later of the two timers plus BOUND_SLACK_S. A difference that outlives its bound, or one that
   * no timer ends, is a violation.
   */
  checkSettled(): boolean {
    const [a, b] = this.w.servers;
    for (const s of this.w.servers) {
      for (const l of s.engine.leases()) {
        if (!l.isPartnerUpToDate) {
          this.report({
            kind: 'not-up-to-date',
            address: l.address,
            message: `${s.name}: ${formatIpv4(l.address)} is not acknowledged by the partner, and nothing is queued or in flight to settle it: ${describe(l, s)}; ${this.w.other(s).name}=${describe(this.w.other(s).engine.getLease(l.address), this.w.other(s))}`,
          });
          return true;
        }
      }
    }
    // The stores also hold what the engines hold (nothing active is only in memory).
    for (const s of this.w.servers) {
      for (const l of s.engine.leases()) {
        const d = s.durable.get(l.address);
        if (
          l.state === 'active' &&
          (d === undefined || d.state !== 'active' || clientOf(d) !== clientOf(l))
        ) {
          this.report({
            kind: 'divergence',
            address: l.address,
            message: `${s.name}: ${formatIpv4(l.address)} active in memory (${describe(l, s)}) but not in its store (${describe(d, s)})`,
          });
          return true;
        }
      }
    }
    const addresses = new Set<Ipv4>([...a.engine.leases()].map((l) => l.address));
    for (const l of b.engine.leases()) addresses.add(l.address);
    let isWaiting = false;
    for (const address of [...addresses].sort((x, y) => x - y)) {
      const la = a.engine.getLease(address);
      const lb = b.engine.getLease(address);
      if (agree(la, lb)) {
        this.divergedUntilMs.delete(address);
        continue;
      }
      const boundMs = this.convergenceBoundMs(la, lb);
      const what = `${formatIpv4(address)}: a=${describe(la, a)} b=${describe(lb, b)}`;
      if (boundMs === null) {
        this.report({
          kind: 'divergence',
          address,
          message: `settled pair, ${what}: no timer of either server ends this difference, or one side may give the address to a new client`,
        });
        return true;
      }
      const firstBoundMs = this.divergedUntilMs.get(address) ?? boundMs;
      this.divergedUntilMs.set(address, firstBoundMs);
      if (this.w.nowMs > firstBoundMs) {
        this.report({
          kind: 'divergence',
          address,
          message: `settled pair, ${what}: still apart ${((this.w.nowMs - firstBoundMs) / 1000).toFixed(1)} s after the bound (the end of the lease or decline hold + ${BOUND_SLACK_S} s)`,
        });
        return true;
      }
      isWaiting = true;
    }
    return !isWaiting;
  }

  /** Addresses found apart in a settled pair → the time (sim ms) by which they must agree. */
  private readonly divergedUntilMs = new Map<Ipv4, number>();

  /** Latest end of a convergence bound seen (the world waits at least that long). */
  get latestBoundMs(): number {
    let t = 0;
    for (const v of this.divergedUntilMs.values()) t = Math.max(t, v);
    return t;
  }

  /**
   * When the difference between `la` (server a) and `lb` (server b) ends, in simulation ms; null
   * when no timer ends it or one side may allocate the address meanwhile.
   */
  private convergenceBoundMs(la: Lease | undefined, lb: Lease | undefined): number | null {
    const [a, b] = this.w.servers;
    const ka = kindOf(la);
    const kb = kindOf(lb);
    // Two clients on one address, or two owners of a free address: both may act on it.
    if (ka === 'active' && kb === 'active') return null;
    if (isAllocatable(ka) && isAllocatable(kb)) return null;
    const timerEndMs = (l: Lease | undefined, s: SimServer): number | null => {
      const k = kindOf(l);
      if ((k !== 'active' && k !== 'abandoned') || l!.leaseExpiresAt === INFINITE_EXPIRY) return null;
      // Timeline time T is simulation time T·1000 − the timeline's offset; the expiry tick runs
      // once a second.
      return l!.leaseExpiresAt * 1000 - this.w.timelineOffsetMs(s) + 1000;
    };
    const ta = timerEndMs(la, a);
    const tb = timerEndMs(lb, b);
    if (ta === null && tb === null) return null;
    // An ACTIVE lease against an address the other side may give out: only a lease running out
    // now (one server expires it a second or two before the other) is not a hazard.
    const apartMs = Math.abs(this.w.timelineOffsetMs(a) - this.w.timelineOffsetMs(b));
    const nearMs = (3 + Math.ceil(apartMs / 1000)) * 1000;
    if (ka === 'active' && isAllocatable(kb) && ta! - this.w.nowMs > nearMs) return null;
    if (kb === 'active' && isAllocatable(ka) && tb! - this.w.nowMs > nearMs) return null;
    // A timer already past (a clock just stepped forward over it: seed 8935) fires at the next
    // expiry tick: the bound counts from now then.
    return Math.max(ta ?? 0, tb ?? 0, this.w.nowMs) + BOUND_SLACK_S * 1000 + apartMs;
  }
}

/** After a timer ends a difference: the expiry tick, the update's round trip, the disk. */
const BOUND_SLACK_S = 5;

type BindingKind = 'active' | 'free' | 'backup' | 'abandoned' | 'ending';

function kindOf(l: Lease | undefined): BindingKind {
  if (l === undefined || l.state === 'free') return 'free';
  if (l.state === 'expired' || l.state === 'released' || l.state === 'reset') return 'ending';
  return l.state;
}

function isAllocatable(k: BindingKind): boolean {
  return k === 'free' || k === 'backup';
}

/** The two servers say the same about an address (a never-used address is FREE). */
function agree(la: Lease | undefined, lb: Lease | undefined): boolean {
  const ka = kindOf(la);
  if (ka !== kindOf(lb)) return false;
  // EXPIRED/RELEASED/RESET that the partner acknowledged become FREE; in a settled pair they are
  // left only by a rejected update, and on both sides nothing would ever free the address.
  if (ka === 'ending') return false;
  return ka !== 'active' || clientOf(la!) === clientOf(lb!);
}

function clientOf(l: Lease): string {
  return l.clientId ?? l.hardwareAddress;
}

function describe(l: Lease | undefined, s: SimServer): string {
  if (l === undefined) return 'none';
  const client = l.hardwareAddress ? `/${l.hardwareAddress.slice(-4)}` : '';
  void s;
  const t = (x: number) => (x === 0 ? '0' : `+${x - START_S}`);
  return `${l.state}${client} exp=${t(l.leaseExpiresAt)} cltt=${t(l.clientLastTransactionAt)} sentPET=${t(l.sentPotentialExpiresAt)} ackedPET=${t(l.ackedPotentialExpiresAt)} rcvdPET=${t(l.receivedPotentialExpiresAt)} upToDate=${l.isPartnerUpToDate}`;
}
