// The dynamic DNS update planner (sans-I/O, in the shape of the failover endpoint): work in
// (register or remove the records of one binding), DNS UPDATE messages out, answers and
// timeouts in, outcomes out. It owns a bounded queue with one job per address at a time (a
// binding's records change in order), a bound on requests in flight, and exponential backoff
// while the server is slow, down, or refusing. Time (milliseconds) and randomness (message ids)
// are parameters.
//
// The steps follow RFC 4703 §5 for a DHCP server that updates both records:
//   register: 1. A + DHCID if the name is not in use ("name not in use", RFC 2136 §2.4.5);
//             2. on YXDOMAIN, replace A if the name's DHCID is ours ("DHCID matches"); a name held
//                by another client's DHCID (NXRRSET) is a conflict: nothing is overwritten, and
//                the PTR is not added either;
//             3. PTR in the reverse zone (the address is ours: no prerequisite).
//   remove:   1. our A record, if the DHCID is ours; 2. the DHCID once no A/AAAA is left;
//             3. the PTR pointing to the name.
// Without name protection the forward steps have no prerequisites and no DHCID is written.

import type { Ipv4 } from '../wire/ipv4.js';
import {
  addRecord,
  aRdata,
  type DnsMessage,
  type DnsRecord,
  decodeDnsMessage,
  deleteRecord,
  deleteRrset,
  encodeDnsMessage,
  newUpdate,
  OPCODE_UPDATE,
  prereqNameNotInUse,
  prereqRecordExists,
  prereqRrsetAbsent,
  ptrRdata,
  RCODE,
  RR_TYPE,
  rcodeName,
  reverseNameOf,
} from './dns-wire.js';
import type { DnsSettings } from './settings.js';
import { decodeSecret, signMessage, type TsigKey, verifyMessage } from './tsig.js';

/** One binding's records to register or remove. */
export interface DdnsWork {
  kind: 'add' | 'remove';
  address: Ipv4;
  /** Fully qualified, no trailing dot. */
  fqdn: string;
  /** DHCID RDATA (name protection), or null. */
  dhcid: Uint8Array | null;
  /** A (+ DHCID) records in the forward zone. */
  doesForward: boolean;
  /** PTR in the reverse zone (settings.reverseZone must be set). */
  doesReverse: boolean;
  ttlSeconds: number;
  settings: DnsSettings;
}

export type DdnsStep =
  | 'forwardAdd'
  | 'forwardReplace'
  | 'reverseAdd'
  | 'forwardRemove'
  | 'forwardRemoveDhcid'
  | 'reverseRemove';

/**
 * removed: every record the removal went for is gone; removeRefused: the server refused part of it
 * (a prerequisite failed: the name's DHCID is not ours, other addresses remain on it, or it is
 * gone already), so some records were not removed by us — `refused` says which and why.
 */
export type DdnsOutcome = 'registered' | 'conflict' | 'removed' | 'removeRefused';

/** The records a removal step goes for. */
export type DdnsRecordName = 'A' | 'DHCID' | 'PTR';

/** A removal step the DNS server refused: its prerequisite did not hold. */
export interface DdnsRefusal {
  step: DdnsStep;
  record: DdnsRecordName;
  /** The answer's RCODE name: NXRRSET, YXRRSET, NXDOMAIN. */
  rcode: string;
}

/** Why a step failed; it is retried later. Counter and log names (docs/metrics.md). */
export type DdnsErrorReason =
  | 'timeout'
  | 'refused'
  | 'notauth'
  | 'servfail'
  | 'notzone'
  | 'formerr'
  | 'badkey'
  | 'badsig'
  | 'badtime'
  | 'unsigned-response'
  | 'bad-response-signature'
  | 'bad-response'
  | 'send-failed'
  | 'other-rcode';

export type PlannerAction =
  | {
      type: 'send';
      requestId: number;
      serverAddress: string;
      serverPort: number;
      /** UDP source port; null: a new random one for this request. */
      sourcePort: number | null;
      isTcp: boolean;
      bytes: Uint8Array;
      zone: string;
      timeoutMs: number;
    }
  | {
      type: 'completed';
      work: DdnsWork;
      outcome: DdnsOutcome;
      /** Removal: the records the server removed on our request, in order. */
      removed: DdnsRecordName[];
      /** Removal: the steps the server refused. */
      refused: DdnsRefusal[];
    }
  | {
      type: 'failed';
      work: DdnsWork;
      step: DdnsStep;
      zone: string;
      reason: DdnsErrorReason;
      /** The answer's RCODE (or TSIG error) name, when there was one. */
      rcode: string | null;
      attempts: number;
      retryInMs: number;
    }
  | { type: 'dropped'; work: DdnsWork; reason: 'queue-full' };

export interface PlannerLimits {
  /** Jobs queued in all (waiting, backing off or in flight). */
  maxJobs: number;
  /** Jobs queued for one address (further work replaces the last queued one). */
  maxJobsPerAddress: number;
  maxInFlight: number;
  requestTimeoutMs: number;
  firstRetryMs: number;
  maxRetryMs: number;
}

export const DEFAULT_PLANNER_LIMITS: PlannerLimits = {
  maxJobs: 10_000,
  maxJobsPerAddress: 4,
  maxInFlight: 32,
  requestTimeoutMs: 3_000,
  firstRetryMs: 1_000,
  maxRetryMs: 30_000,
};

interface Job {
  work: DdnsWork;
  step: DdnsStep;
  /** Removal: what the server did with each step so far. */
  removed: DdnsRecordName[];
  refused: DdnsRefusal[];
  /** Failed attempts of the current step. */
  attempts: number;
  nextAttemptAtMs: number;
  isInFlight: boolean;
  isTcp: boolean;
  /**
   * The work was queued again (newer settings: a reload) while a request of the old settings was
   * in flight: if that request fails, the next attempt goes at once, with the new settings.
   */
  isRenewedInFlight: boolean;
}

interface Flight {
  job: Job;
  /** The work the request was built from (job.work may be renewed while it is in flight). */
  work: DdnsWork;
  dnsId: number;
  zone: string;
  key: TsigKey | null;
  requestMac: Uint8Array | null;
  timeoutAtMs: number;
}

/** UDP DNS messages are limited to 512 bytes without EDNS (RFC 1035 §4.2.1). */
const MAX_UDP_BYTES = 512;

function keyOf(settings: DnsSettings): TsigKey | null {
  if (settings.tsigKey === null) return null;
  const secret = decodeSecret(settings.tsigKey.secret);
  if (secret === null) return null;
  return { name: settings.tsigKey.name, algorithm: settings.tsigKey.algorithm, secret };
}

function firstStep(work: DdnsWork): DdnsStep | null {
  const hasReverse = work.doesReverse && work.settings.reverseZone !== null;
  if (work.kind === 'add') return work.doesForward ? 'forwardAdd' : hasReverse ? 'reverseAdd' : null;
  return work.doesForward ? 'forwardRemove' : hasReverse ? 'reverseRemove' : null;
}

function afterForward(work: DdnsWork): DdnsStep | null {
  const hasReverse = work.doesReverse && work.settings.reverseZone !== null;
  if (!hasReverse) return null;
  return work.kind === 'add' ? 'reverseAdd' : 'reverseRemove';
}

function isSameWork(a: DdnsWork, b: DdnsWork): boolean {
  return a.kind === b.kind && a.address === b.address && a.fqdn === b.fqdn;
}

/** The UPDATE message of a step (RFC 2136 §2, RFC 4703 §5). */
export function updateFor(work: DdnsWork, step: DdnsStep, id: number): { message: DnsMessage; zone: string } {
  const s = work.settings;
  const isForward = step === 'forwardAdd' || step === 'forwardReplace' || step.startsWith('forwardRemove');
  const zone = isForward ? s.forwardZone : (s.reverseZone ?? '');
  const m = newUpdate(id, zone);
  const prereq: DnsRecord[] = m.answers;
  const update: DnsRecord[] = m.authorities;
  const name = work.fqdn;
  const a = aRdata(work.address);
  const reverse = reverseNameOf(work.address);
  switch (step) {
    case 'forwardAdd':
      if (work.dhcid !== null) {
        prereq.push(prereqNameNotInUse(name));
        update.push(addRecord(name, RR_TYPE.A, work.ttlSeconds, a));
        update.push(addRecord(name, RR_TYPE.DHCID, work.ttlSeconds, work.dhcid));
      } else {
        update.push(deleteRrset(name, RR_TYPE.A), addRecord(name, RR_TYPE.A, work.ttlSeconds, a));
      }
      break;
    case 'forwardReplace':
      if (work.dhcid !== null) prereq.push(prereqRecordExists(name, RR_TYPE.DHCID, work.dhcid));
      update.push(deleteRrset(name, RR_TYPE.A), addRecord(name, RR_TYPE.A, work.ttlSeconds, a));
      break;
    case 'reverseAdd':
      update.push(
        deleteRrset(reverse, RR_TYPE.PTR),
        addRecord(reverse, RR_TYPE.PTR, work.ttlSeconds, ptrRdata(name)),
      );
      break;
    case 'forwardRemove':
      if (work.dhcid !== null) prereq.push(prereqRecordExists(name, RR_TYPE.DHCID, work.dhcid));
      update.push(deleteRecord(name, RR_TYPE.A, a));
      break;
    case 'forwardRemoveDhcid':
      if (work.dhcid !== null) prereq.push(prereqRecordExists(name, RR_TYPE.DHCID, work.dhcid));
      prereq.push(prereqRrsetAbsent(name, RR_TYPE.A), prereqRrsetAbsent(name, RR_TYPE.AAAA));
      update.push(deleteRrset(name, RR_TYPE.DHCID));
      break;
    case 'reverseRemove':
      update.push(deleteRecord(reverse, RR_TYPE.PTR, ptrRdata(name)));
      break;
  }
  return { message: m, zone };
}

/** The record each removal step deletes. */
const REMOVES: Partial<Record<DdnsStep, DdnsRecordName>> = {
  forwardRemove: 'A',
  forwardRemoveDhcid: 'DHCID',
  reverseRemove: 'PTR',
};

/**
 * What the planner does after an answer with `rcode` to `step`. `isRefused`: the server refused
 * this removal step (a prerequisite failed); the removal goes on with the next step.
 */
type Transition =
  | { next: DdnsStep | null; outcome?: 'registered' | 'conflict' | 'removed'; isRefused?: boolean }
  | { error: DdnsErrorReason };

function transition(work: DdnsWork, step: DdnsStep, rcode: number): Transition {
  const done = (): Transition =>
    work.kind === 'add' ? { next: null, outcome: 'registered' } : { next: null, outcome: 'removed' };
  const toReverseOrDone = (): Transition => {
    const next = afterForward(work);
    return next === null ? done() : { next };
  };
  switch (step) {
    case 'forwardAdd':
      if (rcode === RCODE.NOERROR) return toReverseOrDone();
      if (rcode === RCODE.YXDOMAIN) return { next: 'forwardReplace' };
      break;
    case 'forwardReplace':
      if (rcode === RCODE.NOERROR) return toReverseOrDone();
      // RFC 4703 §5.3.1: the name belongs to another client; leave it (and the PTR) alone.
      if (rcode === RCODE.NXRRSET || rcode === RCODE.NXDOMAIN) return { next: null, outcome: 'conflict' };
      break;
    case 'reverseAdd':
    case 'reverseRemove':
      if (rcode === RCODE.NOERROR) return done();
      break;
    case 'forwardRemove':
      if (rcode === RCODE.NOERROR)
        return work.dhcid !== null ? { next: 'forwardRemoveDhcid' } : toReverseOrDone();
      // Not our name (another client's DHCID, or gone already): we may not remove anything there
      // (RFC 4703 §5.5); the PTR of our address still goes.
      if (rcode === RCODE.NXRRSET || rcode === RCODE.NXDOMAIN)
        return { ...toReverseOrDone(), isRefused: true };
      break;
    case 'forwardRemoveDhcid':
      if (rcode === RCODE.NOERROR) return toReverseOrDone();
      // NXRRSET/YXRRSET: the DHCID is not ours any more, or other addresses remain on the name.
      if (rcode === RCODE.NXRRSET || rcode === RCODE.YXRRSET || rcode === RCODE.NXDOMAIN)
        return { ...toReverseOrDone(), isRefused: true };
      break;
  }
  return { error: errorOfRcode(rcode) };
}

function errorOfRcode(rcode: number): DdnsErrorReason {
  switch (rcode) {
    case RCODE.REFUSED:
      return 'refused';
    case RCODE.NOTAUTH:
      return 'notauth';
    case RCODE.SERVFAIL:
      return 'servfail';
    case RCODE.NOTZONE:
      return 'notzone';
    case RCODE.FORMERR:
      return 'formerr';
    default:
      return 'other-rcode';
  }
}

export class DdnsPlanner {
  /** address → its jobs, oldest first; only the first runs. */
  private readonly jobsByAddress = new Map<Ipv4, Job[]>();
  private readonly flights = new Map<number, Flight>();
  private readonly dnsIdsInFlight = new Set<number>();
  private jobCount = 0;
  private nextRequestId = 1;

  constructor(
    private readonly randomId: () => number,
    private readonly limits: PlannerLimits = DEFAULT_PLANNER_LIMITS,
  ) {}

  get queuedJobs(): number {
    return this.jobCount;
  }

  get requestsInFlight(): number {
    return this.flights.size;
  }

  /** Whether work for `address` is queued or running. */
  hasWorkFor(address: Ipv4): boolean {
    return this.jobsByAddress.has(address);
  }

  /** Queues `work`; returns what to do now (sends, or a drop). */
  submit(work: DdnsWork, nowMs: number): PlannerAction[] {
    const out: PlannerAction[] = [];
    const step = firstStep(work);
    if (step === null) {
      out.push({
        type: 'completed',
        work,
        outcome: work.kind === 'add' ? 'registered' : 'removed',
        removed: [],
        refused: [],
      });
      return out;
    }
    const list = this.jobsByAddress.get(work.address);
    const job: Job = {
      work,
      step,
      removed: [],
      refused: [],
      attempts: 0,
      nextAttemptAtMs: nowMs,
      isInFlight: false,
      isTcp: false,
      isRenewedInFlight: false,
    };
    if (list !== undefined) {
      const last = list[list.length - 1]!;
      // The same work already queued: keep one job, with the newest settings (a reloaded key or
      // server). Waiting, it is tried now. In flight, its answer is still judged by what was sent
      // (the flight keeps the key it was signed with) and the next step or attempt uses the new
      // settings, at once if this one fails. A second job behind it would never run while the
      // first retried with the old settings for good (a wrong key, an old server).
      if (isSameWork(last.work, work)) {
        last.work = work;
        if (last.isInFlight) {
          last.isRenewedInFlight = true;
          return out;
        }
        last.attempts = 0;
        last.nextAttemptAtMs = nowMs;
        return this.poll(nowMs);
      }
      if (list.length >= this.limits.maxJobsPerAddress) {
        out.push({ type: 'dropped', work, reason: 'queue-full' });
        return out;
      }
    }
    if (this.jobCount >= this.limits.maxJobs) {
      out.push({ type: 'dropped', work, reason: 'queue-full' });
      return out;
    }
    if (list === undefined) this.jobsByAddress.set(work.address, [job]);
    else list.push(job);
    this.jobCount++;
    out.push(...this.poll(nowMs));
    return out;
  }

  /** Sends what is due (within the in-flight bound) and times out what waited too long. */
  poll(nowMs: number): PlannerAction[] {
    const out: PlannerAction[] = [];
    for (const [requestId, f] of this.flights) {
      if (f.timeoutAtMs <= nowMs) out.push(...this.fail(requestId, 'timeout', null, nowMs));
    }
    if (this.flights.size >= this.limits.maxInFlight) return out;
    for (const list of this.jobsByAddress.values()) {
      const job = list[0]!;
      if (job.isInFlight || job.nextAttemptAtMs > nowMs) continue;
      out.push(this.send(job, nowMs));
      if (this.flights.size >= this.limits.maxInFlight) break;
    }
    return out;
  }

  /** Earliest time poll() has something to do; null when idle. */
  nextWakeAtMs(): number | null {
    let at: number | null = null;
    for (const f of this.flights.values()) at = at === null ? f.timeoutAtMs : Math.min(at, f.timeoutAtMs);
    if (this.flights.size < this.limits.maxInFlight) {
      for (const list of this.jobsByAddress.values()) {
        const job = list[0]!;
        if (!job.isInFlight) at = at === null ? job.nextAttemptAtMs : Math.min(at, job.nextAttemptAtMs);
      }
    }
    return at;
  }

  private send(job: Job, nowMs: number): PlannerAction {
    let dnsId = this.randomId() & 0xffff;
    while (this.dnsIdsInFlight.has(dnsId)) dnsId = (dnsId + 1) & 0xffff;
    const { message, zone } = updateFor(job.work, job.step, dnsId);
    const key = keyOf(job.work.settings);
    let bytes = encodeDnsMessage(message);
    let requestMac: Uint8Array | null = null;
    if (key !== null) {
      const signed = signMessage(bytes, key, Math.floor(nowMs / 1000));
      bytes = signed.bytes;
      requestMac = signed.mac;
    }
    const requestId = this.nextRequestId++;
    job.isInFlight = true;
    job.isRenewedInFlight = false;
    this.flights.set(requestId, {
      job,
      work: job.work,
      dnsId,
      zone,
      key,
      requestMac,
      timeoutAtMs: nowMs + this.limits.requestTimeoutMs,
    });
    this.dnsIdsInFlight.add(dnsId);
    return {
      type: 'send',
      requestId,
      serverAddress: job.work.settings.serverAddress,
      serverPort: job.work.settings.serverPort,
      sourcePort: job.work.settings.serverSourcePort,
      isTcp: job.isTcp || bytes.length > MAX_UDP_BYTES,
      bytes,
      zone,
      timeoutMs: this.limits.requestTimeoutMs,
    };
  }

  /** The DNS id of a request in flight (the transport matches answers with it). */
  dnsIdOf(requestId: number): number | null {
    return this.flights.get(requestId)?.dnsId ?? null;
  }

  /** The answer to request `requestId` arrived. */
  onResponse(requestId: number, bytes: Uint8Array, nowMs: number): PlannerAction[] {
    const f = this.flights.get(requestId);
    if (f === undefined) return [];
    const decoded = decodeDnsMessage(bytes);
    if (!decoded.ok) return this.fail(requestId, 'bad-response', null, nowMs);
    const m = decoded.decoded.message;
    if (m.id !== f.dnsId || !m.isResponse || m.opcode !== OPCODE_UPDATE)
      return this.fail(requestId, 'bad-response', null, nowMs);
    if (m.isTruncated) {
      // RFC 2136 §3.8 / RFC 1035 §4.2.2: ask again over TCP.
      f.job.isTcp = true;
      return this.retryNow(requestId, nowMs);
    }
    if (f.key !== null) {
      const verdict = verifyMessage(
        bytes,
        m,
        decoded.decoded.additionalOffsets.at(-1),
        f.key,
        f.requestMac,
        Math.floor(nowMs / 1000),
      );
      if (!verdict.ok) {
        switch (verdict.reason) {
          case 'serverError':
            return this.fail(
              requestId,
              verdict.error === RCODE.BADKEY
                ? 'badkey'
                : verdict.error === RCODE.BADTIME
                  ? 'badtime'
                  : 'badsig',
              rcodeName(verdict.error),
              nowMs,
            );
          case 'badTime':
            return this.fail(requestId, 'badtime', rcodeName(m.rcode), nowMs);
          case 'unsigned':
            // BIND answers a request it could not verify (unknown key) unsigned, with NOTAUTH.
            return this.fail(
              requestId,
              m.rcode === RCODE.NOTAUTH ? 'notauth' : 'unsigned-response',
              rcodeName(m.rcode),
              nowMs,
            );
          default:
            return this.fail(requestId, 'bad-response-signature', rcodeName(m.rcode), nowMs);
        }
      }
    }
    const t = transition(f.job.work, f.job.step, m.rcode);
    if ('error' in t) return this.fail(requestId, t.error, rcodeName(m.rcode), nowMs);
    this.land(requestId);
    const job = f.job;
    const record = REMOVES[job.step];
    if (record !== undefined) {
      if (t.isRefused) job.refused.push({ step: job.step, record, rcode: rcodeName(m.rcode) });
      else job.removed.push(record);
    }
    if (t.next === null) {
      this.finish(job);
      const outcome = t.outcome === 'removed' && job.refused.length > 0 ? 'removeRefused' : t.outcome;
      return [
        {
          type: 'completed',
          work: job.work,
          outcome: outcome ?? 'registered',
          removed: [...job.removed],
          refused: [...job.refused],
        },
        ...this.poll(nowMs),
      ];
    }
    job.step = t.next;
    job.attempts = 0;
    job.nextAttemptAtMs = nowMs;
    return this.poll(nowMs);
  }

  /** The request could not be sent (socket error, TCP refused). */
  onSendFailed(requestId: number, nowMs: number): PlannerAction[] {
    return this.fail(requestId, 'send-failed', null, nowMs);
  }

  private land(requestId: number): void {
    const f = this.flights.get(requestId);
    if (f === undefined) return;
    this.flights.delete(requestId);
    this.dnsIdsInFlight.delete(f.dnsId);
    f.job.isInFlight = false;
  }

  private retryNow(requestId: number, nowMs: number): PlannerAction[] {
    this.land(requestId);
    return this.poll(nowMs);
  }

  private fail(
    requestId: number,
    reason: DdnsErrorReason,
    rcode: string | null,
    nowMs: number,
  ): PlannerAction[] {
    const f = this.flights.get(requestId);
    if (f === undefined) return [];
    this.land(requestId);
    const job = f.job;
    const attempts = job.attempts + 1;
    let retryInMs = Math.min(
      this.limits.maxRetryMs,
      this.limits.firstRetryMs * 2 ** Math.min(attempts - 1, 20),
    );
    job.attempts = attempts;
    if (job.isRenewedInFlight) {
      // The attempt that failed used settings replaced since: the new ones get a try of their own.
      job.isRenewedInFlight = false;
      job.attempts = 0;
      retryInMs = 0;
    }
    job.nextAttemptAtMs = nowMs + retryInMs;
    // A timeout over UDP may be a lost datagram or a large answer: keep UDP (BIND answers UPDATE
    // over UDP), TCP is used only after a truncated answer.
    return [
      {
        type: 'failed',
        work: f.work,
        step: job.step,
        zone: f.zone,
        reason,
        rcode,
        attempts,
        retryInMs,
      },
    ];
  }

  private finish(job: Job): void {
    const list = this.jobsByAddress.get(job.work.address);
    if (list === undefined) return;
    const i = list.indexOf(job);
    if (i >= 0) {
      list.splice(i, 1);
      this.jobCount--;
    }
    if (list.length === 0) this.jobsByAddress.delete(job.work.address);
  }
}
