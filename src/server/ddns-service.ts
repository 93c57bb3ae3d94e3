// The dynamic DNS half of the shell (docs/dns.md): hears about every binding change once it is
// durable, turns it into register/remove work for the planner (src/ddns/planner.ts), carries
// the planner's UPDATEs over the transport, and when a binding's work is done, clears its
// registrationPending / removalPending flag through the engine and the lease store (and tells
// the failover partner). It never blocks or delays a DHCP reply: the ACK has left before the
// first UPDATE is written.
//
// Who updates DNS (failover): the server that granted the binding (Lease.ownerServer). Records
// of a binding the partner granted are removed here only in PARTNER-DOWN, once the address is
// ours to reuse (partnerDownReuseAt: expiry or potential expiry + MCLT): before that the partner
// may still be serving the client and may be the one to remove them (D12 §5.12: no DDNS removal
// in COMMUNICATIONS-INTERRUPTED).

import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { dhcidModeOf, dhcidOfClient } from '../ddns/dhcid.js';
import { DdnsPlanner, type DdnsRefusal, type DdnsWork, type PlannerAction } from '../ddns/planner.js';
import { type DnsSettings, effectiveDnsSettings, ttlFor } from '../ddns/settings.js';
import { DnsTransport } from '../ddns/transport.js';
import type { DhcpEngine } from '../dhcp/engine.js';
import type { Lease } from '../dhcp/lease.js';
import { partnerDownReuseAt } from '../failover/lease-time.js';
import type { RelationshipStatus } from '../failover/types.js';
import type { LeaseStore } from '../leases/store.js';
import { ServerState } from '../wire/failover-message.js';
import { formatIpv4, type Ipv4 } from '../wire/ipv4.js';
import type { Counters } from './counters.js';

export interface DdnsServiceOptions {
  engine: () => DhcpEngine;
  store: LeaseStore;
  log: Logger;
  counters: Counters;
  /** This server's name (Lease.ownerServer of the bindings it grants). */
  serverName: () => string;
  /** Status of the failover relationship covering a scope; null when the scope is standalone. */
  relationshipOf: (scopeId: string) => RelationshipStatus | null;
  /** Bindings this service changed, once durable (for the failover partner). */
  onLeasesUpdated: (leases: Lease[]) => void;
  nowMs?: () => number;
}

/** Removals waiting for PARTNER-DOWN, and bindings left pending, are looked at this often. */
const SCAN_INTERVAL_MS = 5_000;
/** Bindings still pending with no work queued (e.g. dropped by a full queue) are re-queued this often. */
const RESCAN_PENDING_MS = 60_000;
/** One log line per zone and error reason per this many milliseconds. */
const LOG_INTERVAL_MS = 10_000;

/** Why the DNS server refused a removal step (RFC 2136 §3.2 prerequisites, RFC 4703 §5.5). */
function refusalReason(r: DdnsRefusal): string {
  if (r.rcode === 'NXDOMAIN') return 'the name does not exist (removed already)';
  if (r.step === 'forwardRemove') {
    return 'the name does not carry our DHCID (another client holds it) or our A record is gone already';
  }
  if (r.rcode === 'YXRRSET') return 'other addresses remain on the name, so its DHCID stays';
  return 'the DHCID is not ours any more';
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.compare(a, b) === 0;
}

export class DdnsService {
  private readonly planner: DdnsPlanner;
  private readonly transport: DnsTransport;
  /** address → the records we registered (or are registering) there. */
  private readonly registered = new Map<Ipv4, DdnsWork>();
  /** Ended bindings of the partner whose records wait for PARTNER-DOWN, as they ended. */
  private readonly deferred = new Map<Ipv4, Lease>();
  private readonly lastLogged = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private lastScanAtMs = 0;
  private lastRescanAtMs = 0;
  private isStopped = false;
  private readonly nowMs: () => number;
  private engineSeen: DhcpEngine | null = null;

  constructor(private readonly o: DdnsServiceOptions) {
    this.nowMs = o.nowMs ?? Date.now;
    this.planner = new DdnsPlanner(() => randomInt(0, 0x10000));
    this.transport = new DnsTransport({
      onResponse: (id, bytes) => this.run(this.planner.onResponse(id, bytes, this.nowMs())),
      onSendFailed: (id) => this.run(this.planner.onSendFailed(id, this.nowMs())),
    });
  }

  async start(): Promise<void> {
    await this.transport.start();
    this.engineSeen = this.o.engine();
    // Work left over from the last run: registrations and removals still pending.
    for (const lease of this.o.engine().leases()) if (lease.fqdn !== null) this.consider(lease);
    this.lastRescanAtMs = this.nowMs();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.transport.stop();
  }

  /** Queued jobs and requests in flight (tests, status). */
  get backlog(): { jobs: number; inFlight: number; deferred: number } {
    return {
      jobs: this.planner.queuedJobs,
      inFlight: this.planner.requestsInFlight,
      deferred: this.deferred.size,
    };
  }

  /** Bindings changed and durable (DhcpService.onLeaseChanges). */
  leasesChanged(changes: readonly Lease[]): void {
    if (this.isStopped) return;
    for (const lease of changes) {
      if (lease.fqdn === null && !this.registered.has(lease.address)) continue;
      this.consider(lease);
    }
  }

  /**
   * A binding an operator ended on this server (a release or delete through the API; durable):
   * its records go now, as for a client's release here, whoever granted it. Windows, too, removes
   * them on the server where the lease is deleted; the partner learns of the end by the binding
   * update and has nothing left to remove.
   */
  bindingEndedByOperator(lease: Lease): void {
    if (this.isStopped || lease.fqdn === null || lease.state === 'active' || !lease.dns.removalPending)
      return;
    const settings = this.settingsFor(lease);
    const work = settings === null ? null : this.workOf(lease, 'remove', settings);
    this.registered.delete(lease.address);
    this.deferred.delete(lease.address);
    if (work !== null) this.submit(work, this.nowMs());
  }

  private settingsFor(lease: Lease): DnsSettings | null {
    const scope = this.o.engine().scopeView(lease.scopeId)?.settings;
    if (scope === undefined) return null;
    const policy =
      lease.policyName === null ? undefined : scope.policies?.find((p) => p.name === lease.policyName);
    return effectiveDnsSettings(scope.dns, policy?.dns);
  }

  private workOf(lease: Lease, kind: DdnsWork['kind'], settings: DnsSettings): DdnsWork | null {
    const fqdn = lease.fqdn;
    if (fqdn === null) return null;
    const mode = lease.dhcidMode === 'none' ? dhcidModeOf(lease.clientId) : lease.dhcidMode;
    return {
      kind,
      address: lease.address,
      fqdn,
      dhcid: settings.nameProtection ? dhcidOfClient({ ...lease, dhcidMode: mode }, fqdn) : null,
      doesForward: lease.dns.updateBothRecords,
      doesReverse: settings.reverseZone !== null,
      ttlSeconds: ttlFor(settings, Math.max(0, lease.leaseExpiresAt - lease.clientLastTransactionAt)),
      settings,
    };
  }

  private isOwner(lease: Lease): boolean {
    return lease.ownerServer === null || lease.ownerServer === this.o.serverName();
  }

  /** May this server remove the records of an ended binding now? */
  private mayRemove(lease: Lease): boolean {
    if (this.isOwner(lease)) return true;
    const r = this.o.relationshipOf(lease.scopeId);
    if (r === null) return true;
    if (r.localState !== ServerState.PARTNER_DOWN) return false;
    return this.nowMs() / 1000 >= partnerDownReuseAt(lease, r.localStateStartedAt, r.mcltSeconds);
  }

  private consider(lease: Lease): void {
    const now = this.nowMs();
    const ended = this.deferred.get(lease.address);
    if (ended !== undefined && lease.state === 'active') {
      // The address went to a client again before the periodic scan removed the partner's
      // records of the ended binding: remove them now if they are ours to remove (PARTNER-DOWN
      // past the reuse time, which is also when we may allocate the address); otherwise the
      // partner, alive, removes them itself.
      this.deferred.delete(lease.address);
      const endedSettings = ended.fqdn === null ? null : this.settingsFor(ended);
      const endedWork = endedSettings === null ? null : this.workOf(ended, 'remove', endedSettings);
      if (endedWork !== null && this.mayRemove(ended)) this.submit(endedWork, now);
    }
    const settings = lease.fqdn === null ? null : this.settingsFor(lease);
    const work = settings === null ? null : this.workOf(lease, 'add', settings);
    const previous = this.registered.get(lease.address);
    if (previous !== undefined) {
      const isSame = work !== null && previous.fqdn === work.fqdn && sameBytes(previous.dhcid, work.dhcid);
      if (lease.state === 'active' && !isSame) {
        // A new name or a new client on the address: the old records go first.
        this.submit({ ...previous, kind: 'remove' }, now);
        this.registered.delete(lease.address);
      } else if (lease.state !== 'active') {
        this.registered.delete(lease.address);
        // Declined (the binding lost its client) or renamed: the records registered go too.
        if (!isSame && previous.settings.cleanupOnDelete) this.submit({ ...previous, kind: 'remove' }, now);
      }
    }
    if (work === null || settings === null) return;
    if (lease.state === 'active') {
      if (!this.isOwner(lease)) return;
      // The same records already queued (a renewal while the server is down): nothing to add.
      const isQueued = this.registered.has(lease.address) && this.planner.hasWorkFor(lease.address);
      if (lease.dns.registrationPending && !isQueued) this.submit(work, now);
      this.registered.set(lease.address, work);
      return;
    }
    if (!lease.dns.removalPending) return;
    if (this.mayRemove(lease)) {
      this.deferred.delete(lease.address);
      this.submit({ ...work, kind: 'remove' }, now);
    } else {
      this.deferred.set(lease.address, lease);
    }
  }

  private submit(work: DdnsWork, nowMs: number): void {
    this.run(this.planner.submit(work, nowMs));
  }

  private run(actions: readonly PlannerAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.o.counters.inc('ddns-requests-sent');
          this.transport.send(a.requestId, {
            address: a.serverAddress,
            port: a.serverPort,
            sourcePort: a.sourcePort,
            isTcp: a.isTcp,
            bytes: a.bytes,
            timeoutMs: a.timeoutMs,
          });
          break;
        case 'completed':
          this.completed(a);
          break;
        case 'failed': {
          this.o.counters.inc('ddns-update-errors');
          this.o.counters.inc(`ddns-update-errors:${a.reason}`);
          const key = `${a.zone}|${a.reason}`;
          const now = this.nowMs();
          const last = this.lastLogged.get(key);
          if (last === undefined || now - last >= LOG_INTERVAL_MS) {
            if (this.lastLogged.size > 1000) this.lastLogged.clear();
            this.lastLogged.set(key, now);
            this.o.log.warn(
              {
                event: 'ddns.update-failed',
                zone: a.zone,
                server: `${a.work.settings.serverAddress}:${a.work.settings.serverPort}`,
                reason: a.reason,
                rcode: a.rcode,
                step: a.step,
                fqdn: a.work.fqdn,
                address: formatIpv4(a.work.address),
                attempts: a.attempts,
                retryInSeconds: a.retryInMs / 1000,
              },
              `DNS update of ${a.zone} failed (${a.rcode ?? a.reason}); will retry`,
            );
          }
          break;
        }
        case 'dropped':
          this.o.counters.inc('ddns-queue-full');
          this.o.log.warn(
            {
              event: 'ddns.queue-full',
              fqdn: a.work.fqdn,
              address: formatIpv4(a.work.address),
              kind: a.work.kind,
            },
            'DNS update queue full; the binding stays pending and is queued again later',
          );
          break;
      }
    }
    this.schedule();
  }

  private completed(done: Extract<PlannerAction, { type: 'completed' }>): void {
    const { work, outcome } = done;
    const engine = this.o.engine();
    const lease = engine.getLease(work.address);
    const address = formatIpv4(work.address);
    if (outcome === 'removed' || outcome === 'removeRefused') {
      if (outcome === 'removed') {
        this.o.counters.inc('ddns-removals-completed');
        this.o.log.info(
          { event: 'ddns.removed', fqdn: work.fqdn, address, records: done.removed },
          'DNS records removed',
        );
      } else {
        // The server refused part of the removal (a prerequisite failed): say so, with its answer,
        // rather than claim the records are gone. Retrying would get the same answer.
        this.o.counters.inc('ddns-removals-refused');
        this.o.log.info(
          {
            event: 'ddns.remove-refused',
            fqdn: work.fqdn,
            address,
            removed: done.removed,
            refused: done.refused.map((r) => ({ ...r, why: refusalReason(r) })),
            rcode: done.refused[0]?.rcode ?? null,
          },
          `DNS server refused to remove ${done.refused.map((r) => `${r.record} (${r.rcode})`).join(', ')} of ${work.fqdn}; ${done.removed.length > 0 ? `removed ${done.removed.join(', ')}` : 'nothing removed'}`,
        );
      }
      if (lease && lease.state !== 'active' && lease.dns.removalPending && lease.fqdn === work.fqdn)
        this.persist({ ...lease, dns: { ...lease.dns, removalPending: false }, isPartnerUpToDate: false });
      return;
    }
    if (outcome === 'conflict') {
      this.o.counters.inc('ddns-conflicts');
      this.o.log.warn(
        { event: 'ddns.conflict', fqdn: work.fqdn, address, zone: work.settings.forwardZone },
        'name is registered for another client (DHCID differs); left unchanged',
      );
      if (this.registered.get(work.address) === work) this.registered.delete(work.address);
    } else {
      this.o.counters.inc('ddns-registrations-completed');
      this.o.log.info({ event: 'ddns.registered', fqdn: work.fqdn, address }, 'DNS records registered');
    }
    if (lease && lease.state === 'active' && lease.dns.registrationPending && lease.fqdn === work.fqdn)
      this.persist({ ...lease, dns: { ...lease.dns, registrationPending: false }, isPartnerUpToDate: false });
  }

  /** Installs `next` in the engine and makes it durable; then the partner hears about it. */
  private persist(next: Lease): void {
    this.o.engine().putLease(next);
    this.o.store.commit([next]).then(
      () => {
        if (!this.isStopped) this.o.onLeasesUpdated([next]);
      },
      (err: Error) =>
        this.o.log.error(
          { event: 'ddns.commit-failed', address: formatIpv4(next.address), err: err.message },
          'could not store the DNS state of a binding',
        ),
    );
  }

  private schedule(): void {
    if (this.isStopped) return;
    if (this.timer) clearTimeout(this.timer);
    const now = this.nowMs();
    const next = this.planner.nextWakeAtMs();
    const delay = Math.max(20, Math.min(SCAN_INTERVAL_MS, next === null ? SCAN_INTERVAL_MS : next - now));
    this.timer = setTimeout(() => this.onTimer(), delay);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    if (this.isStopped) return;
    const now = this.nowMs();
    const engine = this.o.engine();
    if (engine !== this.engineSeen) {
      // A reload (new zones, server or key): pending work is queued again with the new settings.
      this.engineSeen = engine;
      for (const lease of engine.leases()) {
        if (lease.fqdn === null || (!lease.dns.registrationPending && !lease.dns.removalPending)) continue;
        const settings = this.settingsFor(lease);
        const work = settings === null ? null : this.workOf(lease, 'add', settings);
        if (work === null) continue;
        if (lease.state === 'active' && lease.dns.registrationPending && this.isOwner(lease))
          this.submit(work, now);
        else if (lease.state !== 'active' && lease.dns.removalPending && this.mayRemove(lease))
          this.submit({ ...work, kind: 'remove' }, now);
      }
    }
    const actions = this.planner.poll(now);
    if (now - this.lastScanAtMs >= SCAN_INTERVAL_MS) {
      this.lastScanAtMs = now;
      const engine = this.o.engine();
      for (const address of [...this.deferred.keys()]) {
        const lease = engine.getLease(address);
        if (lease !== undefined && lease.state === 'active') {
          this.consider(lease); // reallocated: the ended binding's records (see consider)
          continue;
        }
        if (!lease?.dns.removalPending || lease.fqdn === null) {
          this.deferred.delete(address);
          continue;
        }
        if (this.mayRemove(lease)) this.consider(lease);
      }
      if (now - this.lastRescanAtMs >= RESCAN_PENDING_MS) {
        this.lastRescanAtMs = now;
        for (const lease of engine.leases()) {
          if (lease.fqdn === null || this.planner.hasWorkFor(lease.address)) continue;
          if (lease.dns.registrationPending || lease.dns.removalPending) this.consider(lease);
        }
      }
    }
    this.run(actions);
  }
}
