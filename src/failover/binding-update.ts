// Binding updates: a local binding as a BNDUPD transaction, a received transaction as a local
// binding, and the conflict rules deciding whether a received update is accepted (D12 §7.1.2–
// §7.1.4, failover.md §5.3–§5.5). Pure functions.

import { ddnsOptionOf, dnsFieldsFromOption } from '../ddns/failover-ddns.js';
import type { BindingState, Lease } from '../dhcp/lease.js';
import { emptyLease, INFINITE_EXPIRY, NO_DNS_FLAGS } from '../dhcp/lease.js';
import { getStringOption } from '../wire/dhcp-options.js';
import { bindingOptions } from '../wire/failover-codec.js';
import {
  BindingStatus,
  type FailoverBinding,
  type FailoverBindingInput,
  FailoverOptionCode,
  RejectReason,
} from '../wire/failover-message.js';
import { type Ipv4, toHex } from '../wire/ipv4.js';

/** IP-flags (option 12, uint16): R = reserved on the sender, B = BOOTP client (D12 §12.12). */
export const IP_FLAG_RESERVED = 0x0001;
export const IP_FLAG_BOOTP = 0x0002;

const STATUS_OF_STATE: Record<BindingState, BindingStatus> = {
  free: BindingStatus.FREE,
  active: BindingStatus.ACTIVE,
  expired: BindingStatus.EXPIRED,
  released: BindingStatus.RELEASED,
  abandoned: BindingStatus.ABANDONED,
  reset: BindingStatus.RESET,
  backup: BindingStatus.BACKUP,
};

export function bindingStatusOf(state: BindingState): BindingStatus {
  return STATUS_OF_STATE[state];
}

/**
 * Microsoft's option 40, Client Matched Policy (MS-DHCPF §2.2; failover.md §3.4): the policy
 * name as UTF-16LE with a terminating NUL, as Windows writes its other strings (31, 32, 35).
 */
export function encodeMatchedPolicy(name: string): Uint8Array {
  const out = new Uint8Array(2 * name.length + 2);
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    out[2 * i] = unit & 255;
    out[2 * i + 1] = unit >>> 8;
  }
  return out;
}

/** Option 40 data → the policy name; null when empty. Tolerates a missing NUL and an odd length. */
export function decodeMatchedPolicy(data: Uint8Array): string | null {
  let units = data.length >>> 1;
  while (units > 0 && data[2 * units - 2] === 0 && data[2 * units - 1] === 0) units--;
  let name = '';
  for (let i = 0; i < units; i++) name += String.fromCharCode(data[2 * i]! | (data[2 * i + 1]! << 8));
  return name === '' ? null : name;
}

/**
 * The BNDUPD transaction that tells the partner about `lease` (D12 Table 7.1-1). Toward a
 * partner other than ISC dhcpd, an ACTIVE binding also carries the policy that matched the
 * client in Microsoft's option 40 (ISC would ignore it; we keep it off that link anyway).
 */
export function bindingFromLease(
  lease: Lease,
  peer: { isIscPeer: boolean } = { isIscPeer: false },
): FailoverBindingInput {
  const status = bindingStatusOf(lease.state);
  const b: FailoverBindingInput = { address: lease.address, bindingStatus: status };
  const flags =
    (lease.isReserved ? IP_FLAG_RESERVED : 0) | (lease.clientType === 'bootp' ? IP_FLAG_BOOTP : 0);
  if (flags !== 0) b.ipFlags = flags;
  if (status !== BindingStatus.ABANDONED) {
    if (lease.clientId !== null) b.clientId = lease.clientId;
    // A client with hlen 0 (InfiniBand, RFC 4390: htype 32, option 61 mandatory) still has a type.
    if (lease.hardwareAddress !== '' || lease.hardwareType !== 0) {
      b.hardwareType = lease.hardwareType;
      b.hardwareAddress = lease.hardwareAddress;
    }
  }
  if (status === BindingStatus.ACTIVE) {
    b.leaseExpiresAt = lease.leaseExpiresAt;
    // Never below the expiry told to the client (failover.md §6.3), even if sentPET is stale.
    b.potentialExpiresAt = Math.max(lease.sentPotentialExpiresAt, lease.leaseExpiresAt);
  }
  b.stateStartedAt = lease.stateStartedAt;
  if (lease.clientLastTransactionAt > 0) b.clientLastTransactionAt = lease.clientLastTransactionAt;
  if (status === BindingStatus.ACTIVE && lease.hostname !== null) {
    // client-request-options: magic cookie + option 12, so the partner can show the host name.
    const name = new TextEncoder().encode(lease.hostname).subarray(0, 255);
    const opts = new Uint8Array(4 + 2 + name.length);
    opts.set([0x63, 0x82, 0x53, 0x63, 12, name.length]);
    opts.set(name, 6);
    b.clientRequestOptions = opts;
  }
  if (lease.fqdn !== null && !peer.isIscPeer) {
    // The DDNS option (9), so the partner can remove the records if we are down when the lease
    // ends (docs/dns.md). Not toward ISC dhcpd, whose DDNS support is incomplete (spec §15.15).
    const ddns = ddnsOptionOf(lease);
    if (ddns !== null) b.ddns = ddns;
  }
  if (status === BindingStatus.ACTIVE && lease.policyName !== null && !peer.isIscPeer) {
    b.otherOptions = [
      { code: FailoverOptionCode.MS_CLIENT_MATCHED_POLICY, data: encodeMatchedPolicy(lease.policyName) },
    ];
  }
  return b;
}

/**
 * The binding as the partner reads it, as a comparable string: two leases with the same key tell
 * the partner the same thing, whatever else (acknowledged PET, up-to-date flag) differs locally.
 * A BNDACK vouches for the content sent, not for one object in memory (issue 14 item 4: matching
 * by identity left a RELEASE that followed an unacknowledged ACK unsettled for good).
 */
export function bindingKey(b: FailoverBindingInput): string {
  return bindingOptions(b)
    .map((o) => `${o.code}:${toHex(o.data)}`)
    .join(' ');
}

export type ConflictDecision = { accept: true } | { accept: false; reason: RejectReason; message: string };

type Column = 'active' | 'expired' | 'released' | 'free' | 'resetOrAbandoned';

/** null for a value outside D12's 1..7 (the codec passes unknown binding-status values through). */
function columnOf(status: BindingStatus): Column | null {
  switch (status) {
    case BindingStatus.ACTIVE:
      return 'active';
    case BindingStatus.EXPIRED:
      return 'expired';
    case BindingStatus.RELEASED:
      return 'released';
    case BindingStatus.FREE:
    case BindingStatus.BACKUP:
      return 'free';
    case BindingStatus.RESET:
    case BindingStatus.ABANDONED:
      return 'resetOrAbandoned';
    default:
      return null;
  }
}

type Rule = 'accept' | 'T1' | 'T2' | 'T3' | 'R16' | 'ACTIVE_ACTIVE';

/** failover.md §5.4 decision matrix: rows = our status, columns = received status. */
export const CONFLICT_MATRIX: Record<BindingState, Record<Column, Rule>> = {
  active: { active: 'ACTIVE_ACTIVE', expired: 'T2', released: 'T1', free: 'T2', resetOrAbandoned: 'accept' },
  expired: {
    active: 'T1',
    expired: 'accept',
    released: 'accept',
    free: 'accept',
    resetOrAbandoned: 'accept',
  },
  released: { active: 'T1', expired: 'T1', released: 'accept', free: 'accept', resetOrAbandoned: 'accept' },
  free: {
    active: 'accept',
    expired: 'accept',
    released: 'accept',
    free: 'accept',
    resetOrAbandoned: 'accept',
  },
  backup: {
    active: 'accept',
    expired: 'accept',
    released: 'accept',
    free: 'accept',
    resetOrAbandoned: 'accept',
  },
  reset: { active: 'T3', expired: 'accept', released: 'accept', free: 'accept', resetOrAbandoned: 'accept' },
  abandoned: { active: 'R16', expired: 'R16', released: 'R16', free: 'R16', resetOrAbandoned: 'accept' },
};

function clientKey(hardwareAddress: string | undefined, clientId: string | null | undefined): string {
  return clientId ? `c${clientId}` : `h${hardwareAddress ?? ''}`;
}

/**
 * How far one of our times can move on a trip to the partner and back: each side converts with
 * its own measurement of the connection's offset, each within about a second of the truth (whole
 * seconds; offsets of ±1 counted as 0), and the two errors need not cancel (sim seed 192694: +1 s
 * a round trip). A binding of ours the partner sends back reads up to this much later or earlier.
 */
export const ROUND_TRIP_SKEW_SECONDS = 2;

/**
 * Should a received binding replace ours? `ours` undefined = never used = FREE.
 * CLTT comparisons: an update without CLTT is never "later"; one with CLTT is later than a local
 * binding that has none (failover.md §5.4).
 */
export function decideIncoming(
  ours: Lease | undefined,
  received: FailoverBinding,
  ctx: {
    role: 'primary' | 'secondary';
    now: number;
    /**
     * We are in RECOVER: an address the partner gave to another client while we were away (in
     * PARTNER-DOWN, after MCLT) is the partner's to give; the primary's ACTIVE-vs-ACTIVE priority
     * does not apply (D12 §9.6). Every other cell of the matrix does: our own later binding (a
     * renewal the partner never heard of) still beats the partner's EXPIRED.
     */
    isRecovering?: boolean;
    /**
     * Our own update of this address crossed this one and lost the duel (the endpoint's duel():
     * ACTIVE first, then the primary). The partner applies the same rule and rejects ours, so
     * this one is accepted whatever the matrix says: judged by the matrix (CLTTs from two clocks),
     * each side could reject the other's and keep its own for good (sim seed 82: EXPIRED on the
     * primary, RELEASED on the secondary, neither ever given out again).
     */
    hasPartnerWonDuel?: boolean;
    /**
     * Our ACTIVE binding of this address is on its way to the partner (sent, not yet answered) and
     * ours has changed since: it now ends that lease (isLeaseEndCrossingOurActive).
     */
    isOurActiveInFlight?: boolean;
    /**
     * Rule T2 counts our lease as over this many seconds early: the partner's clock measured ahead
     * of ours (0 or 1; whole-second clocks cannot tell less).
     */
    expiryToleranceSeconds?: number;
    /**
     * Our stored times before this timeline time cannot be ordered against the partner's: they
     * were taken before a restart no clock measured (src/server/clock.ts), on a timeline whose
     * jump over the downtime is wrong by any step of the wall clock while the host was off. Such a
     * CLTT or start of state may read earlier or later than it was by that step, so when it
     * decides between an ACTIVE binding and one that ends it, the ACTIVE one wins (as for
     * concurrent changes, rule T1): it loses no lease a client may hold, and a released address
     * waits for the lease's end (sim seed 72758: a renewal granted before a power loss read
     * 166 s older and lost to a RELEASE made before it). Absent: every stored time is ordered.
     */
    orderedTimesFrom?: number;
  },
): ConflictDecision {
  const status = received.bindingStatus;
  if (status === undefined) return reject(RejectReason.MISSING_BINDING_INFORMATION, 'binding-status missing');
  const column = columnOf(status);
  if (column === null)
    return reject(RejectReason.MISSING_BINDING_INFORMATION, `unknown binding-status ${status}`);
  if (
    status === BindingStatus.ACTIVE &&
    (received.hardwareAddress === undefined || received.leaseExpiresAt === undefined)
  ) {
    return reject(
      RejectReason.MISSING_BINDING_INFORMATION,
      'ACTIVE binding without client-hardware-address or lease-expiration-time',
    );
  }
  if (!ours || ctx.hasPartnerWonDuel === true) return { accept: true };
  if (column !== 'active' && isLeaseEndCrossingOurActive(ours, ctx.isOurActiveInFlight === true)) {
    return reject(
      RejectReason.OUTDATED_BINDING_INFORMATION,
      'our ACTIVE is on its way to the partner and its end follows: our binding goes first',
    );
  }
  const rule = CONFLICT_MATRIX[ours.state][column];
  const theirCltt = received.clientLastTransactionAt;
  const isOrdered = (ourTime: number) =>
    ctx.orderedTimesFrom === undefined || ourTime >= ctx.orderedTimesFrom;
  if (
    ours.state === 'active' &&
    status === BindingStatus.ABANDONED &&
    theirCltt !== undefined &&
    (ours.clientLastTransactionAt > theirCltt || !isOrdered(ours.clientLastTransactionAt))
  ) {
    // The matrix lets ABANDONED replace ACTIVE, but this ACTIVE is newer than the decline: a
    // client declined the address on the partner, then (during a partition) was given it here
    // again and accepted it. Replacing our binding would forget a lease we ACKed; once the
    // partner's decline hold ends it would free the address while the client still holds it
    // (sim seed 217). Keep ours; it goes back to the partner. The same when our CLTT cannot be
    // ordered against the decline (orderedTimesFrom).
    return reject(RejectReason.OUTDATED_BINDING_INFORMATION, 'our binding is newer than the decline');
  }
  if (
    ours.state === 'abandoned' &&
    status === BindingStatus.ACTIVE &&
    theirCltt !== undefined &&
    (theirCltt > ours.stateStartedAt || !isOrdered(ours.stateStartedAt))
  ) {
    // The partner gave the address to a client after the decline we hold (its decline hold
    // ended first). Rejecting would leave us ABANDONED and the partner ACTIVE until our hold ends,
    // and the partner, rejected, would not send it again (sim seed 79). Recording a lease a client
    // holds never hands the address out twice.
    return { accept: true };
  }
  // Equal times (whole seconds: a client releases on one server and is ACKed by the other in
  // the same second) would make both sides reject each other's update and the binding would never
  // converge. Ties are broken as ISC breaks dueling updates (failover.md §5.4): ACTIVE beats
  // anything else (losing an ACKed lease is worse than holding a released address until it runs
  // out); otherwise the primary's binding wins.
  // When the partner has acknowledged our binding, its update was made knowing it and follows it:
  // the tie is the partner's (ISC keeps the CLTT of a lease it marks RELEASED, so its release
  // carries the same CLTT as the ACTIVE it ends; rejecting it undid the client's release on the
  // ISC side: e2e migration test).
  const receivedIsActive = status === BindingStatus.ACTIVE;
  const winsTie = ours.isPartnerUpToDate
    ? true
    : receivedIsActive !== (ours.state === 'active')
      ? receivedIsActive
      : ctx.role === 'secondary';
  const isLaterThan = (ourTime: number) =>
    theirCltt !== undefined && (ourTime === 0 || theirCltt > ourTime || (theirCltt === ourTime && winsTie));
  switch (rule) {
    case 'accept':
      return { accept: true };
    case 'T1': {
      // Our EXPIRED against an ACTIVE of the same client whose transaction and lease end are ours
      // to within a round trip's skew: the lease our expiry ended, sent back by the partner (its
      // copy, which ends here up to a second or two later, so it rejected our EXPIRED, rule T2).
      // It is no newer transaction. Taken as one (its CLTT reads a second later), it made us ACTIVE
      // again until a second later, the partner did the same with ours, and every round moved the
      // lease a second on: the pair never settled (sim seed 192694). Rejecting it is safe: our
      // EXPIRED frees the address only once the partner accepts it, which T2 allows only when the
      // lease is over on the partner's timeline. Not for our times stored before a restart no clock
      // measured: those cannot be compared at all (below).
      if (
        ours.state === 'expired' &&
        receivedIsActive &&
        theirCltt !== undefined &&
        ours.clientLastTransactionAt > 0 &&
        isOrdered(ours.clientLastTransactionAt) &&
        clientKey(ours.hardwareAddress, ours.clientId) ===
          clientKey(received.hardwareAddress, received.clientId ?? null) &&
        theirCltt <= ours.clientLastTransactionAt + ROUND_TRIP_SKEW_SECONDS &&
        received.leaseExpiresAt! <= ours.leaseExpiresAt + ROUND_TRIP_SKEW_SECONDS
      ) {
        return reject(
          RejectReason.OUTDATED_BINDING_INFORMATION,
          'the lease our EXPIRED ended, sent back: no later transaction',
        );
      }
      // Concurrent changes: our binding has not been acknowledged, so the partner decided without
      // knowing it, and exactly one side is ACTIVE. CLTTs from two clocks (skew, a clock step in
      // between) cannot order them reliably; keep the ACTIVE one, which loses no lease a client
      // holds (a released address then waits for its expiry). Sim seed 211. The same when our
      // CLTT was taken before a restart no clock measured (orderedTimesFrom): acknowledged or
      // not, it cannot be ordered against the partner's (sim seed 72758).
      const isOneActive = (ours.state === 'active') !== receivedIsActive;
      if ((!ours.isPartnerUpToDate || !isOrdered(ours.clientLastTransactionAt)) && isOneActive) {
        return receivedIsActive
          ? { accept: true }
          : reject(
              RejectReason.OUTDATED_BINDING_INFORMATION,
              ours.isPartnerUpToDate
                ? 'our ACTIVE binding predates a restart no clock measured: it wins'
                : 'our unacknowledged ACTIVE binding wins a concurrent change',
            );
      }
      return isLaterThan(ours.clientLastTransactionAt)
        ? { accept: true }
        : reject(RejectReason.OUTDATED_BINDING_INFORMATION, 'older client-last-transaction-time');
    }
    case 'T2':
      // D12 time(2): "the current time is later than the lease-expiration-time". With clocks in
      // whole seconds a lease is over at its expiry second itself: our expiry tick and dhcpd's
      // pool timer expire it then (now >= ends), and rejecting the partner's EXPIRED or FREE sent in
      // that second ("our lease has not expired") left dhcpd's expiries refused by the hundred
      // (issue 14 item 11). An infinite lease never ends.
      return ours.leaseExpiresAt !== INFINITE_EXPIRY &&
        ctx.now + (ctx.expiryToleranceSeconds ?? 0) >= ours.leaseExpiresAt
        ? { accept: true }
        : reject(RejectReason.OUTDATED_BINDING_INFORMATION, 'our lease has not expired');
    case 'T3':
      // Our RESET against their ACTIVE: an ACTIVE that cannot be ordered against it wins.
      return isLaterThan(ours.stateStartedAt) || !isOrdered(ours.stateStartedAt)
        ? { accept: true }
        : reject(RejectReason.OUTDATED_BINDING_INFORMATION, 'older than our reset');
    case 'R16':
      return reject(RejectReason.LESS_CRITICAL_BINDING_INFORMATION, 'address is abandoned here');
    case 'ACTIVE_ACTIVE': {
      const same =
        clientKey(ours.hardwareAddress, ours.clientId) ===
        clientKey(received.hardwareAddress, received.clientId ?? null);
      if (same || ctx.role === 'secondary' || ctx.isRecovering === true) return { accept: true };
      // Two clients, one address: the primary's binding wins (D12 §7.1.4).
      return reject(RejectReason.FATAL_CONFLICT, 'address is bound to another client on the primary');
    }
  }
}

/**
 * The partner's update that does not hold the lease (FREE, BACKUP, EXPIRED, RELEASED, RESET,
 * ABANDONED) crossed our ACTIVE binding of the address, and ours has since ended that lease
 * (EXPIRED, RELEASED, RESET; not yet sent: it waits behind the ACTIVE in flight). The partner made
 * its update before it read our ACTIVE, and it will take the ACTIVE after (an ACTIVE wins a duel
 * against every other state, binding-acceptance.ts duel, and the matrix accepts it over
 * FREE/BACKUP): it will hold the client's lease and may renew it, whatever it sent us. Accepting
 * its update here would drop our pending end of the lease (binding-acceptance.ts dropQueued) and
 * mark the binding up to date, so the partner would never hear of the end. The rule broken: an
 * ending state becomes FREE only once the partner acknowledges it (spec §4.1, §5.5), and only
 * FREE addresses change owner (pool balancing, D12 §5.4; spec §9.1); and the two servers' bindings
 * of an address converge (D12 §7.1.2: the update the partner holds is the last one we sent).
 * - Sim seed 483050, a FREE/BACKUP: the primary's pool-balancing BACKUP from t=1 s, sent again at
 *   200 s, crossed the secondary's ACTIVE for c14, which c14 had just released; the secondary took
 *   the BACKUP over its RELEASED and leased the address to c10, the primary gave it to c14 again.
 * - Sim seed 575894, a RELEASED: in a partition c18 released the address to the primary, then got
 *   it from the secondary (which held its binding) and released it there too; on the reconnect the
 *   secondary's ACTIVE (its durable version, sent while the release's write was in progress) and
 *   the primary's RELEASED crossed. The primary's RELEASED lost the duel and the primary took the
 *   ACTIVE; the secondary took the RELEASED over its own (matrix: accept), dropped its queued
 *   RELEASED and freed the address when the primary acknowledged the ACTIVE. The primary held
 *   c18's ACTIVE and the secondary FREE, both marked up to date: no update was left to settle it.
 * No time decides it: a crossing update can be later than our lease's end and still not know of
 * our ACTIVE. So it is rejected (15) and our binding goes back (the counter-update, queued behind
 * the ACTIVE): the partner takes the lease's end over the ACTIVE it then holds (T1 for a RELEASED,
 * the later transaction; T2 for an EXPIRED; RESET is accepted), and its BNDACK frees the address
 * on both sides, owned by the primary; if the partner keeps its ACTIVE, the address stays ended and
 * unused here until that lease ends. The cost, when the partner's update did follow our ACTIVE (its
 * BNDACK still on its way), is one round trip: our end of the lease meets an ending state there
 * (matrix: accept), or an ABANDONED (R16: the decline's hold ends it).
 * Without our ACTIVE in flight the matrix decides as before: the partner made its update after
 * reading every ACTIVE of ours it will read for the address (one lost with a connection is not
 * sent again: the current binding is), so it holds no lease of ours there (e.g. dhcpd's bindings
 * after its PARTNER-DOWN, against the EXPIREDs our restart made: rejecting those failed
 * test/e2e/isc-interop.test.ts phase 9). Our in-flight version unchanged is a duel, decided before
 * (hasPartnerWonDuel). The partner's ACTIVE is judged by the matrix (it holds a lease: T1, T2).
 */
function isLeaseEndCrossingOurActive(ours: Lease, isOurActiveInFlight: boolean): boolean {
  return (
    isOurActiveInFlight && (ours.state === 'expired' || ours.state === 'released' || ours.state === 'reset')
  );
}

function reject(reason: RejectReason, message: string): ConflictDecision {
  return { accept: false, reason, message };
}

/** The local binding that results from accepting `received` (D12 §7.1.2). */
export function leaseFromBinding(
  received: FailoverBinding,
  ours: Lease | undefined,
  scopeId: string,
  partnerName: string,
  now: number,
): Lease {
  const status = received.bindingStatus!;
  const base = ours ?? emptyLease(received.address as Ipv4, scopeId, 'free', now);
  let state: BindingState;
  switch (status) {
    case BindingStatus.ACTIVE:
      state = 'active';
      break;
    case BindingStatus.BACKUP:
      state = 'backup';
      break;
    case BindingStatus.ABANDONED:
      state = 'abandoned';
      break;
    default:
      // FREE, and EXPIRED/RELEASED/RESET once accepted: free again, owned by the primary (D12 §5.4).
      state = 'free';
  }
  const hasClient = received.hardwareAddress !== undefined && state !== 'abandoned';
  const flags = received.ipFlags ?? 0;
  let hostname: string | null = null;
  if (state === 'active' && received.clientRequestOptions && received.clientRequestOptions.length > 4) {
    hostname = hostnameFromOptions(received.clientRequestOptions.subarray(4));
  }
  const sameClient =
    hasClient &&
    clientKey(base.hardwareAddress, base.clientId) ===
      clientKey(received.hardwareAddress, received.clientId ?? null);
  const isStillOurs = sameClient && base.state === 'active' && ours !== undefined;
  const policyOption = received.otherOptions.find(
    (o) => o.code === FailoverOptionCode.MS_CLIENT_MATCHED_POLICY,
  );
  return {
    ...base,
    scopeId,
    state,
    hardwareType: hasClient ? (received.hardwareType ?? 1) : state === 'free' ? base.hardwareType : 0,
    hardwareAddress: hasClient ? received.hardwareAddress! : state === 'free' ? base.hardwareAddress : '',
    clientId: hasClient ? (received.clientId ?? null) : state === 'free' ? base.clientId : null,
    hostname: hostname ?? (sameClient ? base.hostname : null),
    clientType: flags & IP_FLAG_BOOTP ? 'bootp' : 'dhcp',
    isReserved: (flags & IP_FLAG_RESERVED) !== 0,
    // The same client still bound here: keep the later of the two expiries (D12 §7.1.2 "MAY adopt
    // a later lease-expiration-time"; the reverse would shorten a lease a client was promised here).
    leaseExpiresAt:
      state === 'active' && isStillOurs
        ? Math.max(received.leaseExpiresAt ?? 0, base.leaseExpiresAt)
        : (received.leaseExpiresAt ?? (state === 'active' ? base.leaseExpiresAt : 0)),
    stateStartedAt: received.stateStartedAt ?? now,
    clientLastTransactionAt: isStillOurs
      ? Math.max(received.clientLastTransactionAt ?? 0, base.clientLastTransactionAt)
      : (received.clientLastTransactionAt ?? base.clientLastTransactionAt),
    ownerServer:
      state === 'active'
        ? sameClient && base.state === 'active' && received.clientLastTransactionAt === undefined
          ? base.ownerServer
          : partnerName
        : base.ownerServer,
    // The partner's policy for an ACTIVE binding (none without option 40, e.g. from ISC); a binding
    // freed again keeps the name it had, like the client's identity.
    policyName:
      state === 'active'
        ? policyOption === undefined
          ? null
          : decodeMatchedPolicy(policyOption.data)
        : state === 'free'
          ? base.policyName
          : null,
    receivedPotentialExpiresAt: received.potentialExpiresAt ?? base.receivedPotentialExpiresAt,
    lastBindingUpdateAt: now,
    isPartnerUpToDate: true,
    ...dnsFieldsOf(received, base, state, sameClient),
  };
}

/** The DNS state of a received binding: from its DDNS option, else ours for the same client. */
function dnsFieldsOf(
  received: FailoverBinding,
  base: Lease,
  state: BindingState,
  sameClient: boolean,
): Pick<Lease, 'fqdn' | 'dhcidMode' | 'dns'> {
  if (received.ddns !== undefined) {
    const fields = dnsFieldsFromOption(received.ddns, state, received.clientId ?? base.clientId);
    if (fields !== null) return fields;
  }
  if (state === 'active' && !sameClient) return { fqdn: null, dhcidMode: 'none', dns: { ...NO_DNS_FLAGS } };
  return { fqdn: base.fqdn, dhcidMode: base.dhcidMode, dns: base.dns };
}

function hostnameFromOptions(data: Uint8Array): string | null {
  const options = new Map<number, Uint8Array>();
  for (let i = 0; i < data.length; ) {
    const code = data[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255 || i + 1 >= data.length) break;
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) break;
    if (!options.has(code)) options.set(code, data.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return getStringOption(options, 12);
}
