// The outgoing binding updates (D12 §7.1, §7.3; spec §5.6): the addresses whose binding the partner
// has not acknowledged, the window of BNDUPDs in flight, and the partner's update request
// (UPDREQ/UPDREQALL) being answered until its UPDDONE. No I/O: the endpoint owns the connection,
// numbers the messages and sends them (endpoint.ts pump, onUpdateRequest); binding-ack.ts settles
// the BNDACKs.
//
// The lease table is walked a window at a time, never in one turn: the start-up scan (bindings the
// partner has not acknowledged, from before this process) and the walk of an update request both
// keep an address cursor over the table and fill the queue when it runs low. At 1M bindings an
// UPDREQALL answered in one turn built two Sets of a million addresses (0.7–1.6 s each on the test
// host) and held every DHCP answer of the primary meanwhile (issue 15: DISCOVER→OFFER max 2.0 s).

import type { BindingState, Lease } from '../dhcp/lease.js';
import type { LeaseTable } from '../dhcp/lease-table.js';
import { bindingOptions } from '../wire/failover-codec.js';
import {
  FAILOVER_HEADER_LENGTH,
  FAILOVER_MAX_LENGTH,
  type FailoverBindingInput,
} from '../wire/failover-message.js';
import type { Ipv4 } from '../wire/ipv4.js';
import { bindingFromLease, bindingKey } from './binding-update.js';
import { toWireBinding } from './partner-clock.js';

/** Bindings per BNDUPD toward a non-ISC peer (Windows ignores past 16, spec §3.5). */
export const MAX_BINDINGS_PER_UPDATE = 16;
/** Binding bytes per BNDUPD: a message is at most 2048 bytes (spec §3.1); room for the digest. */
const MAX_BNDUPD_BINDING_BYTES = FAILOVER_MAX_LENGTH - FAILOVER_HEADER_LENGTH - 64;
/**
 * A table walk fills the queue when fewer than this many addresses are queued (a sent one leaves
 * the queue): more than one window of BNDUPDs (maxUnackedUpdates × 16 = 160 at the default), so the
 * window does not run dry between two fills.
 */
export const TABLE_WALK_REFILL_BELOW = 256;
/** Most addresses one fill takes from the lease table. */
export const TABLE_WALK_WINDOW = 512;
/**
 * Most bindings one fill looks at: an UPDREQ over a table the partner mostly has finds few to take,
 * and the walk of a million bindings costs ~3 ms (lease-table.ts forEachFrom); a quarter of it per
 * turn. The walk goes on at the next input (a BNDACK, at the latest the shell's tick).
 */
export const TABLE_WALK_BINDINGS_PER_FILL = 262_144;

export interface InFlightBinding {
  address: Ipv4;
  /** What was sent: the BNDACK settles a local binding that still says this (isUnchangedSince). */
  binding: FailoverBindingInput;
  /** The lease table's version of the binding sent (Lease.version). */
  version: number | undefined;
  state: BindingState;
  potentialExpiresAt: number;
  isIscPeer: boolean;
}

/** A walk over the lease table in address order: the bindings above `afterAddress` are still to look at. */
interface TableWalk {
  afterAddress: number;
  /** Every binding (UPDREQALL), else only those the partner has not acknowledged. */
  isAll: boolean;
}

interface PartnerUpdateRequest {
  xid: number;
  /** UPDREQALL, or an UPDREQ that followed one before its UPDDONE. */
  isAll: boolean;
  /**
   * Addresses whose update must be answered (BNDACK, accepted or rejected) before UPDDONE: those
   * queued or in flight when the request came, and those its walk took from the table since.
   */
  waitingFor: Set<Ipv4>;
  /** The request's walk over the table; null once it reached the end. */
  walk: TableWalk | null;
}

/** What the queue reads of the DHCP engine. */
export interface UpdateQueueEngine {
  getLease(address: Ipv4): Lease | undefined;
  readonly leaseTable: LeaseTable;
}

/** The sending side's view of the connection for one BNDUPD. */
export interface BatchContext {
  engine: UpdateQueueEngine;
  /** An ISC peer takes one binding per BNDUPD (spec §15). */
  isIscPeer: boolean;
  wireOffsetSeconds: number;
  /** The binding is not sent yet (it stays queued): isExpiryHeldForIscPrimary. */
  isHeld(lease: Lease): boolean;
}

export interface Batch {
  bindings: FailoverBindingInput[];
  sent: InFlightBinding[];
  /** Nothing more can be taken now: everything queued is in flight or held. */
  isQueueExhausted: boolean;
}

export class UpdateQueue {
  /** Addresses whose binding the partner has not acknowledged, in order of change. */
  private readonly queue = new Set<Ipv4>();
  /** Where nextBatch goes on in queue (nextQueuedAddress). */
  private cursor: Iterator<Ipv4> | null = null;
  /** xid of each BNDUPD in flight → what it carried. */
  private readonly inFlight = new Map<number, InFlightBinding[]>();
  private readonly inFlightAddresses = new Set<Ipv4>();
  /** The durable version of bindings the DHCP exchange changed, until they are sent. */
  private readonly durableVersion = new Map<Ipv4, Lease>();
  private request: PartnerUpdateRequest | null = null;
  /**
   * The start-up scan: bindings stored as not acknowledged by the partner (a crash or a lost link
   * before their BNDACK) go out on the next connection. A walk rather than one pass: at 1M bindings
   * not acknowledged (a store imported, or a long PARTNER-DOWN) one pass queued them all in one turn.
   * An update request's walk covers it (it takes every binding the partner has not acknowledged):
   * when that walk reaches the end, this one is done too.
   */
  private storeScan: TableWalk | null = { afterAddress: -1, isAll: false };

  constructor(private readonly scopeIds: ReadonlySet<string>) {}

  /**
   * Addresses queued, not in flight; one more while a walk over the table is not finished, so that
   * 0 still means nothing is left to send (the walk's remainder is not counted: not known without it).
   */
  get queuedCount(): number {
    return this.queue.size + (this.isWalking ? 1 : 0);
  }

  /** Addresses sent and not yet acknowledged. */
  get unackedCount(): number {
    return this.inFlightAddresses.size;
  }

  /** BNDUPDs in flight (the partner's window, maxUnackedUpdates, counts messages). */
  get unackedMessages(): number {
    return this.inFlight.size;
  }

  /** A walk over the lease table (start-up scan or update request) has bindings left to look at. */
  get isWalking(): boolean {
    return this.storeScan !== null || (this.request !== null && this.request.walk !== null);
  }

  /** A partner's UPDREQ/UPDREQALL is being answered (its UPDDONE has not been sent). */
  get isAnsweringRequest(): boolean {
    return this.request !== null;
  }

  /** The partner's update request waits for this address's BNDACK. */
  isWaitedFor(address: Ipv4): boolean {
    return this.request?.waitingFor.has(address) === true;
  }

  isInFlight(address: Ipv4): boolean {
    return this.inFlightAddresses.has(address);
  }

  /** Queued, in flight, or both. */
  isPending(address: Ipv4): boolean {
    return this.inFlightAddresses.has(address) || this.queue.has(address);
  }

  /** The binding of `address` in flight, if any. */
  inFlightBindingOf(address: Ipv4): InFlightBinding | undefined {
    if (!this.inFlightAddresses.has(address)) return undefined;
    for (const batch of this.inFlight.values()) {
      const mine = batch.find((x) => x.address === address);
      if (mine) return mine;
    }
    return undefined;
  }

  /** The binding of `address` changed (or must be sent again): send the engine's version. */
  enqueue(address: Ipv4): void {
    this.queue.add(address);
  }

  /**
   * The DHCP exchange changed `lease` and it is durable: send this version, even if the engine
   * already holds a newer one whose commit is still in progress (D12: every potential expiration
   * sent must be recoverable).
   */
  enqueueDurable(lease: Lease): void {
    this.queue.add(lease.address);
    this.durableVersion.set(lease.address, lease);
  }

  /**
   * The endpoint put a new binding for `address`: it is persisted before anything sent after it,
   * so a durable version held for sending is obsolete.
   */
  forgetDurable(address: Ipv4): void {
    this.durableVersion.delete(address);
  }

  /**
   * The partner's binding of `address` won over ours: our queued update is obsolete. One in flight
   * stays until its BNDACK; one that is not in flight is no longer waited for (else an UPDDONE would
   * never come: a pair stuck in POTENTIAL-CONFLICT, chaos seed 1933406798).
   */
  dropQueued(address: Ipv4): void {
    this.queue.delete(address);
    this.durableVersion.delete(address);
    if (!this.inFlightAddresses.has(address)) this.request?.waitingFor.delete(address);
  }

  /**
   * The connection is gone. Responses are only valid on the connection that carried the request
   * (spec §2.5): what was in flight is sent again on the next connection. The partner's update
   * request ends unanswered: a partner still recovering asks again on the next connection (D12
   * §9.6: RECOVER sends UPDREQ/UPDREQALL once communicating), and that request walks the table
   * again from its start. The addresses its walk had queued stay queued and go out as plain updates.
   */
  connectionLost(): void {
    for (const batch of this.inFlight.values()) for (const b of batch) this.queue.add(b.address);
    this.inFlight.clear();
    this.inFlightAddresses.clear();
    this.request = null;
  }

  /**
   * The partner sent UPDREQ (`isAll` false) or UPDREQALL. A second request while one is answered
   * replaces it (one UPDDONE, with the new xid), and after an UPDREQALL a later UPDREQ is treated as
   * an UPDREQALL until the UPDDONE (spec §5.6). Returns how many updates the request waits for now
   * (queued or in flight); its walk adds more.
   */
  startRequest(xid: number, isAll: boolean): number {
    const all = isAll || this.request?.isAll === true;
    // Bounded by what is pending now, not by the table: the walks keep the queue to a few windows.
    const waitingFor = new Set<Ipv4>(this.queue);
    for (const a of this.inFlightAddresses) waitingFor.add(a);
    this.request = { xid, isAll: all, waitingFor, walk: { afterAddress: -1, isAll: all } };
    return waitingFor.size;
  }

  /**
   * The request is answered: its walk reached the end and every update it waits for has its
   * BNDACK. Returns its xid for the UPDDONE (and forgets the request), else null.
   */
  takeAnsweredRequest(): number | null {
    const r = this.request;
    if (r === null || r.walk !== null || r.waitingFor.size > 0) return null;
    this.request = null;
    return r.xid;
  }

  /**
   * The next BNDUPD's bindings (up to `perMessage`, within a message's size), taken off the queue;
   * null when none can go now. Fills the queue from a walk first when it runs low. The caller sends
   * them and records them with `sent`.
   */
  nextBatch(ctx: BatchContext, perMessage: number): Batch | null {
    this.fill(ctx.engine.leaseTable);
    if (this.queue.size === 0) return null;
    const sent: InFlightBinding[] = [];
    const bindings: FailoverBindingInput[] = [];
    let bytes = 0;
    for (let visited = 0, n = this.queue.size; visited < n; visited++) {
      if (sent.length >= perMessage) break;
      const address = this.nextQueuedAddress();
      if (address === undefined) break;
      if (this.inFlightAddresses.has(address)) continue;
      // Send what is on stable storage: the engine may already hold a newer version of a binding
      // whose commit is still in progress (D12: every potential expiration sent must be
      // recoverable). Endpoint-made changes are durable before any send that follows them.
      const lease = this.durableVersion.get(address) ?? ctx.engine.getLease(address);
      if (!lease || !this.scopeIds.has(lease.scopeId)) {
        this.queue.delete(address);
        this.durableVersion.delete(address);
        this.request?.waitingFor.delete(address);
        continue;
      }
      if (ctx.isHeld(lease)) continue;
      const b = bindingFromLease(lease, { isIscPeer: ctx.isIscPeer });
      // Host and policy names make bindings long: the rest waits for the next BNDUPD.
      const size = bindingOptions(b).reduce((n, o) => n + 4 + o.data.length, 0);
      if (sent.length > 0 && bytes + size > MAX_BNDUPD_BINDING_BYTES) break;
      bytes += size;
      this.queue.delete(address);
      this.durableVersion.delete(address);
      bindings.push(toWireBinding(b, ctx.wireOffsetSeconds));
      sent.push({
        address,
        binding: b,
        version: lease.version,
        state: lease.state,
        potentialExpiresAt: b.potentialExpiresAt ?? 0,
        isIscPeer: ctx.isIscPeer,
      });
    }
    if (sent.length === 0) return null;
    // Everything queued may be in flight already (waiting for its ACK to be re-sent).
    const isQueueExhausted =
      sent.length < perMessage &&
      this.queue.size > 0 &&
      [...this.queue].every((a) => this.inFlightAddresses.has(a));
    return { bindings, sent, isQueueExhausted };
  }

  /** The BNDUPD `xid` carries `sent` (from nextBatch). */
  sent(xid: number, sent: InFlightBinding[]): void {
    this.inFlight.set(xid, sent);
    for (const s of sent) this.inFlightAddresses.add(s.address);
  }

  /** The BNDACK `xid` came: what its BNDUPD carried (no longer in flight), or undefined if unknown. */
  takeInFlight(xid: number): InFlightBinding[] | undefined {
    const batch = this.inFlight.get(xid);
    if (!batch) return undefined;
    this.inFlight.delete(xid);
    for (const b of batch) this.inFlightAddresses.delete(b.address);
    return batch;
  }

  /** The partner answered the update of `address` (accepted or rejected). */
  answered(address: Ipv4): void {
    this.request?.waitingFor.delete(address);
  }

  /**
   * Takes up to TABLE_WALK_WINDOW addresses from the walk in progress (the request's, else the
   * start-up scan) when the queue runs low, looking at TABLE_WALK_BINDINGS_PER_FILL bindings at
   * most. The walk goes in address order from where it stopped, so bindings added behind it are not
   * taken (they are changes, queued as such), those added ahead are, a binding changed meanwhile is
   * taken in its current version, and one removed is not taken at all.
   */
  private fill(table: LeaseTable): void {
    const r = this.request;
    const walk = r !== null ? r.walk : this.storeScan;
    if (walk === null) return;
    if (this.queue.size >= TABLE_WALK_REFILL_BELOW) return;
    let taken = 0;
    let looked = 0;
    let isEnd = true;
    table.forEachFrom(walk.afterAddress, (s) => {
      if (taken >= TABLE_WALK_WINDOW || looked >= TABLE_WALK_BINDINGS_PER_FILL) {
        isEnd = false;
        return false;
      }
      looked++;
      const address = table.addressAt(s);
      walk.afterAddress = address;
      if ((walk.isAll || !table.isPartnerUpToDateAt(s)) && this.scopeIds.has(table.scopeIdAt(s))) {
        this.queue.add(address);
        r?.waitingFor.add(address);
        taken++;
      }
      return true;
    });
    if (!isEnd) return;
    // A request's walk took every binding the partner has not acknowledged: the scan's too.
    if (r !== null) r.walk = null;
    this.storeScan = null;
  }

  /**
   * The next address of the queue after the last one nextBatch looked at, from the start again once
   * it reached the end. A Set iterated from its start walks over every entry deleted before (V8
   * keeps them until it rehashes): sending a queue of 1M bindings 16 at a time from the start cost
   * ~34 s of CPU, with several ms per BNDUPD in the event loop (issue 15); a live iterator goes on
   * where it stopped and sees what is added after it.
   */
  private nextQueuedAddress(): Ipv4 | undefined {
    for (let pass = 0; pass < 2; pass++) {
      if (this.cursor === null) this.cursor = this.queue.values();
      const r = this.cursor.next();
      if (r.done !== true) return r.value;
      this.cursor = null;
    }
    return undefined;
  }
}

/**
 * The local binding still tells the partner what `sent` told it. The same table version is the
 * same binding (the common case, an UPDREQALL of a million bindings: no key built); another
 * version may still say the same (the endpoint rewrites a binding to record an acknowledged PET),
 * so then the content is compared.
 */
export function isUnchangedSince(current: Lease, sent: InFlightBinding): boolean {
  if (sent.version !== undefined && current.version === sent.version) return true;
  return bindingKey(bindingFromLease(current, { isIscPeer: sent.isIscPeer })) === bindingKey(sent.binding);
}

/**
 * A secondary paired with an ISC primary holds its own EXPIRED this long past the lease's end (plus
 * how far the primary's clock is behind ours) for the primary's EXPIRED to settle it.
 */
export const ISC_EXPIRY_HOLD_SECONDS = 5;

/**
 * An EXPIRED of ours that an ISC primary would refuse: dhcpd's primary in NORMAL lets its
 * secondary move an ACTIVE lease only to RELEASED or ABANDONED and rejects ACTIVE → EXPIRED with
 * reject reason 2, "invalid state transition: active to expired" (normal_binding_state_
 * transition_check in dhcpd 4.4 server/failover.c); its own secondary never sends one, since its
 * pool timer does not expire ACTIVE leases in NORMAL and waits for the primary's EXPIRED (mdb.c
 * pool_timer). Both expire the lease in its last second and ours tends to come first: dhcpd
 * refused 249 of 249 (issue 14 item 12), 8 of 8 in test/e2e/isc-interop.test.ts item 8 on the
 * code before this rule. So the update waits; the primary's EXPIRED, arriving within the
 * second, is accepted (an EXPIRED over our EXPIRED) and takes it off the queue. Held, not
 * dropped: if none comes by the lease's end + the primary's clock lag + ISC_EXPIRY_HOLD_SECONDS
 * (the primary renewed and its update is late, or we refused its EXPIRED), ours goes out, and
 * dhcpd, whose lease is no longer ACTIVE then, takes it.
 *
 * Whatever the states as we know them: dhcpd reads the update in the state it is in when it
 * arrives, and right after a recovery that is NORMAL before we hear of it (our RECOVER-DONE
 * moves it to NORMAL; test/e2e/isc-interop.test.ts phase 9 sent the EXPIRED in RECOVER-DONE, the
 * partner still PARTNER-DOWN here, and dhcpd, NORMAL, refused it). Outside NORMAL dhcpd would
 * have taken it at once; there the hold only delays it by a few seconds. An update the partner's update request waits
 * for is not held: its UPDDONE must not wait on it. For a secondary whose partner is ISC dhcpd
 * (the endpoint asks only then).
 */
export function isExpiryHeldForIscPrimary(
  lease: Lease,
  at: {
    /** The partner's update request waits for this binding's update. */
    isWaitedFor: boolean;
    /** How far the primary's clock is behind the time we sent (0 when ahead). */
    partnerClockLagSeconds: number;
    now: number;
  },
): boolean {
  return (
    lease.state === 'expired' &&
    !at.isWaitedFor &&
    at.now < lease.leaseExpiresAt + at.partnerClockLagSeconds + ISC_EXPIRY_HOLD_SECONDS
  );
}
