// The partner's BNDUPD, binding by binding (D12 §7.1.2–§7.1.4, spec §5.4): which bindings we take,
// which we reject, and which of ours go back to the partner. The conflict matrix itself (rules T1,
// T2, T3, ABANDONED's 16) is binding-update.ts's decideIncoming; around it, here: the address must
// be in a pool of this relationship (reject 1), dueling updates (ours of the same address in
// flight), the counter-update after a reject (D12 §7.2.1), ABANDONED's hold, and a later renewal
// of our own that the partner has not heard of yet. No I/O: the endpoint sends the BNDACK once
// the bindings changed here are durable (D12 §7.1.2).

import type { Lease } from '../dhcp/lease.js';
import {
  BindingStatus,
  type FailoverBinding,
  type FailoverBindingAck,
  RejectReason,
} from '../wire/failover-message.js';
import type { Ipv4 } from '../wire/ipv4.js';
import { bindingFromLease, bindingKey, decideIncoming, leaseFromBinding } from './binding-update.js';
import type { PartnerClock } from './partner-clock.js';
import type { RestartCredit } from './restart-credit.js';
import type { EndpointEngine } from './types.js';
import { isUnchangedSince, type UpdateQueue } from './update-queue.js';

/** The parts of the endpoint the acceptance works with (they outlive connections). */
export interface AcceptanceParts {
  role: 'primary' | 'secondary';
  scopeIds: ReadonlySet<string>;
  /** The engine in use now. */
  engine: () => EndpointEngine;
  /** The outgoing updates: ours in flight duel, ours sent back are queued. */
  updates: UpdateQueue;
  clock: PartnerClock;
  credit: RestartCredit;
  /** The endpoint's counters (bindingUpdatesReceived, bindingUpdatesRejected). */
  counters: Record<string, number>;
  /** Puts a binding the endpoint decided (endpoint.ts putBinding). */
  putBinding: (engine: EndpointEngine, lease: Lease) => void;
}

/** What one BNDUPD is judged in. */
export interface AcceptanceContext {
  /** The partner is ISC dhcpd (our bindings as sent to it: bindingFromLease). */
  isIscPeer: boolean;
  /**
   * We are in RECOVER and the partner is not recovering itself (two recovering servers have no
   * authoritative side; the regular rules apply): decideIncoming's isRecovering.
   */
  isRecovering: boolean;
  /** The partner's name, the OwnerHost of the bindings taken from it. */
  partnerName: string;
}

export interface AcceptanceResult {
  /** One per binding received, in order. */
  acks: FailoverBindingAck[];
  /** Bindings put here, to be durable before the BNDACK leaves. */
  changed: Lease[];
}

export class BindingAcceptance {
  /**
   * Address → the binding we sent back after rejecting the partner's, and the partner's binding it
   * answered (bindingKeys), on this connection: each version of ours is sent back once against each
   * version of theirs.
   */
  private readonly counterUpdated = new Map<Ipv4, string>();

  constructor(private readonly p: AcceptanceParts) {}

  /** The connection is gone: counter-updates may be sent again on the next one. */
  connectionLost(): void {
    this.counterUpdated.clear();
  }

  /** Judges the bindings of one BNDUPD (in the partner's times, as on the wire). */
  receive(bindings: readonly FailoverBinding[], ctx: AcceptanceContext, now: number): AcceptanceResult {
    const engine = this.p.engine();
    const acks: FailoverBindingAck[] = [];
    const changed: Lease[] = [];
    for (const wire of bindings) {
      this.p.counters.bindingUpdatesReceived!++;
      const b = this.p.clock.toLocalBinding(wire);
      const address = b.address as Ipv4;
      const scopeId = this.scopeOf(address);
      if (scopeId === null) {
        acks.push(
          this.rejectBinding(
            address,
            RejectReason.ILLEGAL_IP_ADDRESS,
            'address is in no pool of this relationship',
          ),
        );
        continue;
      }
      const ours = engine.getLease(address);
      const duel = this.duel(address, b);
      if (duel === 'ours') {
        // Our own update of this address is on its way and wins (both sides apply the same rule,
        // so the partner accepts ours and we reject theirs). Accepting theirs here would leave
        // our in-flight update to land on the partner afterwards: each side would end with the
        // other's binding (sim seed 264: a BACKUP assignment crossed a FREE and the address went
        // to a client on each side).
        acks.push(
          this.rejectBinding(
            address,
            RejectReason.LESS_CRITICAL_BINDING_INFORMATION,
            'our own update of this address is in flight and wins',
          ),
        );
        continue;
      }
      const orderedTimesFrom = this.p.credit.orderedTimesFrom(address);
      const decision = decideIncoming(ours, b, {
        role: this.p.role,
        now: Math.floor(now),
        isRecovering: ctx.isRecovering,
        hasPartnerWonDuel: duel === 'theirs',
        isOurActiveInFlight: this.p.updates.inFlightBindingOf(address)?.state === 'active',
        expiryToleranceSeconds: this.p.clock.expiryToleranceSeconds(),
        ...(orderedTimesFrom !== undefined ? { orderedTimesFrom } : {}),
      });
      if (!decision.accept) {
        acks.push(this.rejectBinding(address, decision.reason, decision.message));
        // Our binding is the better one: tell the partner. Each version of it once per
        // connection, so two servers that both think they are right cannot ping-pong (D12
        // §7.2.1); once per address per connection was too few: a binding that changed since
        // its last counter-update (a release, an expiry) was then never sent back, and each side
        // kept rejecting the other's (sim seed 5656: RELEASED on the primary, EXPIRED on the
        // secondary, both acknowledged as rejected, for good). Nor is once per version of ours
        // enough: a new version of theirs rejected by the same binding of ours was left unanswered
        // (our RELEASED sent back against their ACTIVE, which they kept as it predated a restart no
        // clock measured; their EXPIRED at the lease's end was then rejected for good). Once per
        // version of ours and of theirs still ends: a counter-update changes neither side's
        // binding, so a second round finds both keys used.
        const key =
          ours === undefined
            ? null
            : `${bindingKey(bindingFromLease(ours, { isIscPeer: ctx.isIscPeer }))} / ${bindingKey(b)}`;
        if (
          decision.reason === RejectReason.OUTDATED_BINDING_INFORMATION &&
          key !== null &&
          this.counterUpdated.get(address) !== key
        ) {
          this.counterUpdated.set(address, key);
          this.p.updates.enqueue(address);
          if (ours?.isPartnerUpToDate) {
            // A binding the partner rejected before is marked up to date (not sent in a loop);
            // sending it back makes it pending again, on disk, so that a crash before the
            // partner's answer sends it again after the restart: else an acknowledgement whose
            // write the crash lost (a RELEASED turning FREE) left it RELEASED here and FREE on
            // the partner for good (sim seed 109738).
            const pending: Lease = { ...ours, isPartnerUpToDate: false };
            this.p.putBinding(engine, pending);
            changed.push(pending);
          }
        }
        continue;
      }
      let next = leaseFromBinding(b, ours, scopeId, ctx.partnerName, Math.floor(now));
      this.p.credit.noteCreditSinceRestart(address, b.potentialExpiresAt);
      this.p.credit.noteReceived(address, next.clientLastTransactionAt === b.clientLastTransactionAt);
      if (next.state === 'abandoned' && next.leaseExpiresAt <= now) {
        // D12's ABANDONED carries no expiry: hold the address as this scope holds a decline, so
        // it comes back (as EXPIRED, then FREE once both agree) instead of being lost for good.
        // The hold counts from the decline (the binding's start of state), as on the partner, so
        // both holds end together (sim seed 79: counted from receipt, ours outlived the partner's).
        const hold = engine.scopeView(scopeId)?.settings.declineHoldSeconds ?? 0;
        const declinedAt =
          next.stateStartedAt > 0 ? Math.min(next.stateStartedAt, Math.floor(now)) : Math.floor(now);
        next = { ...next, leaseExpiresAt: Math.max(declinedAt + hold, Math.floor(now) + 1) };
      }
      // The same client with a later expiry here than in the update (we renewed it and our update
      // is on its way, or crossed theirs): keep ours and make sure the partner gets it.
      const isOursLater = next.state === 'active' && next.leaseExpiresAt > (b.leaseExpiresAt ?? 0);
      if (isOursLater) {
        next = { ...next, isPartnerUpToDate: false };
        this.p.updates.enqueue(address);
      } else {
        // We have our own update of this address outstanding; theirs won, ours is obsolete.
        if (this.p.updates.isPending(address)) this.p.updates.dropQueued(address);
        next = { ...next, isPartnerUpToDate: true };
      }
      this.p.putBinding(engine, next);
      changed.push(next);
      acks.push({ address });
    }
    return { acks, changed };
  }

  /**
   * Dueling updates (both sides sent an update of the same address before seeing the other's):
   * ACTIVE beats non-ACTIVE, then the primary (ISC's rule without its CLTT step, below). The loser
   * accepts the winner's update whatever its conflict rules say (decideIncoming's
   * hasPartnerWonDuel). Returns who wins, or null when we have no update of this address in flight.
   */
  private duel(address: Ipv4, theirs: FailoverBinding): 'ours' | 'theirs' | null {
    const mine = this.p.updates.inFlightBindingOf(address);
    if (!mine) return null;
    // Our binding changed after we sent it (a client was ACKed meanwhile): the version in flight is
    // not ours any more, and the newer one is queued behind it. The partner's update is judged
    // against what we hold now, by the regular rules. Letting the stale version duel made the
    // secondary, which loses every duel between two non-ACTIVE versions, accept the primary's
    // RELEASED over the ACTIVE binding it had just ACKed (sim seed 168958: its in-flight BACKUP
    // duelled the primary's RELEASED; the primary then gave the address to another client). The
    // partner still judges our stale version in its own duel; whichever way, our newer version
    // reaches it next.
    const current = this.p.engine().getLease(address);
    if (current !== undefined && !isUnchangedSince(current, mine)) return null;
    const isMineActive = mine.state === 'active';
    const isTheirsActive = theirs.bindingStatus === BindingStatus.ACTIVE;
    if (isMineActive !== isTheirsActive) return isMineActive ? 'ours' : 'theirs';
    // Otherwise the primary's binding wins. Both sides must reach the same verdict, and they do
    // not when they compare CLTTs: each side shifts the other's times by its own measurement of
    // the clock offset, and two measurements differ by a second or two (sim seed 7447: the
    // primary saw the secondary's RELEASED as 2 s later than its BACKUP, the secondary saw a tie;
    // each kept the other's binding and both gave the address out). ISC's "later CLTT" step is
    // dropped for that reason; a client's own later renewal is kept when the primary's ACTIVE is
    // accepted (the later expiry of the same client stays, leaseFromBinding).
    return this.p.role === 'primary' ? 'ours' : 'theirs';
  }

  private rejectBinding(address: Ipv4, reason: RejectReason, message: string): FailoverBindingAck {
    this.p.counters.bindingUpdatesRejected!++;
    return { address, rejectReason: reason, message };
  }

  /** The scope of this relationship whose ranges or reservations hold `address`, else null. */
  private scopeOf(address: Ipv4): string | null {
    const engine = this.p.engine();
    for (const id of this.p.scopeIds) {
      const v = engine.scopeView(id);
      if (v && (v.inRanges(address) || v.reservationByAddress.has(address))) return id;
    }
    return null;
  }
}
