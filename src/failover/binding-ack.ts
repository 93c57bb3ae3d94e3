// The partner's BNDACK of our BNDUPD (D12 §7.2, spec §5.5): each binding it carried is settled.
// Accepted: the potential expiration sent is acknowledged, the binding is up to date on the
// partner, and an ending state (EXPIRED, RELEASED, RESET) becomes FREE, both servers agreeing. Rejected:
// the partner keeps its binding and ours is not sent again in a loop. Not answered: sent again. A
// binding changed since it was sent keeps only the acknowledged PET. No I/O: the endpoint persists
// what changed before anything it sends afterwards.

import type { Lease } from '../dhcp/lease.js';
import { type FailoverBindingAck, rejectReasonMessage } from '../wire/failover-message.js';
import { formatIpv4, type Ipv4 } from '../wire/ipv4.js';
import type { RestartCredit } from './restart-credit.js';
import { type EndpointAction, type EndpointEngine, log } from './types.js';
import { type InFlightBinding, isUnchangedSince, type UpdateQueue } from './update-queue.js';

/** The parts of the endpoint settling works with. */
export interface SettlementParts {
  relationshipName: string;
  /** The engine in use now. */
  engine: () => EndpointEngine;
  updates: UpdateQueue;
  credit: RestartCredit;
  /** The endpoint's counters (bindingUpdatesRejectedByPartner). */
  counters: Record<string, number>;
  /** Puts a binding the endpoint decided (endpoint.ts putBinding). */
  putBinding: (engine: EndpointEngine, lease: Lease) => void;
}

/**
 * Settles `batch` (what the BNDUPD carried, update-queue.ts takeInFlight) by the BNDACK's `acks`;
 * logs each reject in `out`. Returns the bindings changed, to be persisted.
 */
export function settleBindingAck(
  p: SettlementParts,
  batch: readonly InFlightBinding[],
  acks: readonly FailoverBindingAck[],
  now: number,
  out: EndpointAction[],
): Lease[] {
  const engine = p.engine();
  const results = new Map<Ipv4, FailoverBindingAck | undefined>();
  for (const b of acks) results.set(b.address as Ipv4, b);
  const changed: Lease[] = [];
  for (const sent of batch) {
    const ack = results.get(sent.address);
    const current = engine.getLease(sent.address);
    if (ack === undefined) {
      // Not answered: send it again later.
      p.updates.enqueue(sent.address);
      continue;
    }
    p.updates.answered(sent.address);
    if (ack.rejectReason !== undefined) {
      p.counters.bindingUpdatesRejectedByPartner!++;
      out.push(
        log('warn', 'failover-update-rejected', {
          relationship: p.relationshipName,
          address: formatIpv4(sent.address),
          rejectReason: ack.rejectReason,
          reason: rejectReasonMessage(ack.rejectReason),
          message: ack.message ?? null,
        }),
      );
      // D12 §7.2.1: do not resend at once. The partner keeps its binding; ours is marked up to
      // date so it is not sent in a loop (a later change sends it again).
      if (current !== undefined && isUnchangedSince(current, sent)) {
        const next: Lease = { ...current, isPartnerUpToDate: true, lastBindingUpdateAt: Math.floor(now) };
        p.putBinding(engine, next);
        changed.push(next);
      }
      continue;
    }
    if (current === undefined) continue;
    const acked = Math.max(current.ackedPotentialExpiresAt, sent.potentialExpiresAt);
    if (!isUnchangedSince(current, sent)) {
      // Changed since it was sent (the new version is queued): record the acknowledged potential
      // expiration only. Compared by content: the endpoint itself rewrites a binding (this very
      // branch records an acknowledged PET on a newer version), and a BNDACK for that newer
      // version must still settle it.
      if (acked !== current.ackedPotentialExpiresAt) {
        const next: Lease = { ...current, ackedPotentialExpiresAt: acked };
        p.putBinding(engine, next);
        changed.push(next);
      }
      continue;
    }
    p.credit.noteCreditSinceRestart(sent.address, sent.potentialExpiresAt);
    if (
      current.isPartnerUpToDate &&
      acked === current.ackedPotentialExpiresAt &&
      current.state !== 'expired' &&
      current.state !== 'released' &&
      current.state !== 'reset'
    ) {
      // Sent again though the partner had it (UPDREQALL of a partner that lost its store): the
      // BNDACK changes nothing that is kept, so nothing is written — a million rows and an fsync
      // between two windows of BNDUPDs otherwise (issue 15). lastBindingUpdateAt keeps the time
      // of the update that changed the binding.
      continue;
    }
    let next: Lease = {
      ...current,
      ackedPotentialExpiresAt: acked,
      isPartnerUpToDate: true,
      lastBindingUpdateAt: Math.floor(now),
    };
    if (current.state === 'expired' || current.state === 'released' || current.state === 'reset') {
      // The partner knows the address is no longer used: it is FREE (D12 §5.5), and both agree.
      next = { ...next, state: 'free', stateStartedAt: Math.floor(now) };
    }
    p.putBinding(engine, next);
    changed.push(next);
  }
  return changed;
}
