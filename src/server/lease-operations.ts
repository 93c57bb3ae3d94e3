// Operator changes to single bindings, for the management API (Remove-DhcpServerv4Lease, Kea's
// lease4-del, omshell's "set state = free"):
//   release: the active binding ends as if its client had sent DHCPRELEASE (RFC 2131 §4.3.4): the
//     engine's own release state (free standalone, RELEASED in failover), durable, then the
//     failover partner hears of it by a binding update and the DNS records go.
//   remove: the record is deleted. Without a record an address is FREE (D12 §5.4: the primary's),
//     so in a failover scope only a record that is FREE already may go; any other state is part of
//     what the partners agree on (BACKUP: the secondary's to allocate; EXPIRED/RELEASED/RESET: not
//     reusable before the partner acknowledges; ABANDONED: held out of both pools). An active
//     binding goes only when forced, released first; in failover its record then waits for the
//     partner's acknowledgement (which makes it FREE) before it is deleted.

import type { Logger } from 'pino';
import { iso } from '../api/format.js';
import type { DhcpEngine } from '../dhcp/engine.js';
import type { Lease } from '../dhcp/lease.js';
import { isAddressFree } from '../import/lease-placement.js';
import type { LeaseStore } from '../leases/store.js';
import { formatIpv4, type Ipv4 } from '../wire/ipv4.js';
import type { Clock } from './clock.js';

export type LeaseOperationError =
  /** No record at the address. */
  | 'not-found'
  /** release: the binding is not active. */
  | 'not-active'
  /** remove without force: the binding is active. */
  | 'lease-active'
  /** remove in a failover scope: the record's state is shared with the partner. */
  | 'failover-state'
  /** The store refused the write. */
  | 'store-failed';

export type LeaseOperationResult =
  | {
      ok: true;
      /** The record after the operation; null when it was deleted. */
      lease: Lease | null;
      /** remove (forced) of an active binding in failover: released, the partner has not acknowledged it yet. */
      isAwaitingPartner?: boolean;
    }
  | { ok: false; error: LeaseOperationError; message: string };

export interface LeaseOperationsOptions {
  engine: () => DhcpEngine;
  store: LeaseStore;
  clock: Clock;
  log: Logger;
  /** Scope ids covered by a failover relationship now. */
  failoverScopeIds: () => ReadonlySet<string>;
  /** Bindings changed by an operator, once durable: the failover partner and DNS hear of them. */
  onEnded: (lease: Lease) => void;
  /** Bindings imported online, once durable: the failover partner hears of them. */
  onImported?: (leases: readonly Lease[]) => void;
  /** How long a forced delete waits for the partner's acknowledgement of the release. */
  partnerAckWaitMs?: number;
}

const POLL_MS = 50;

/** What an online import did (src/import/lease-placement.ts says where a lease may go). */
export interface LeaseImportResult {
  imported: number;
  skipped: { address: Ipv4; reason: 'address-in-use' | 'state-not-imported'; message: string }[];
}

/**
 * Why the record `lease` may not be deleted (null: it may). `isFailover`: its scope is shared
 * with a failover partner.
 */
export function removalRefusal(lease: Lease, isFailover: boolean): string | null {
  const address = formatIpv4(lease.address);
  if (lease.state === 'active') return `${address} is an active lease (a client holds it)`;
  if (!isFailover || lease.state === 'free') return null;
  switch (lease.state) {
    case 'backup':
      return `${address} is a BACKUP address (the secondary's to allocate, D12 §5.4); without its record it would be FREE, the primary's, and both servers could allocate it`;
    case 'expired':
    case 'released':
    case 'reset':
      return `${address} is ${lease.state.toUpperCase()}: it becomes FREE once the failover partner has acknowledged that (D12 §5.5); delete it then`;
    case 'abandoned':
      return `${address} was declined and is held out of both servers' pools until ${iso(lease.leaseExpiresAt)}; the partner holds it too`;
  }
}

export class LeaseOperations {
  constructor(private readonly o: LeaseOperationsOptions) {}

  private now(): number {
    return this.o.clock.nowSeconds();
  }

  async release(address: Ipv4): Promise<LeaseOperationResult> {
    const engine = this.o.engine();
    const current = engine.getLease(address);
    if (current === undefined) return notFound(address);
    if (current.state !== 'active') {
      return {
        ok: false,
        error: 'not-active',
        message: `${formatIpv4(address)} is not an active lease (its binding is ${current.state})`,
      };
    }
    const released = engine.releaseBinding(address, this.now())!;
    try {
      await this.o.store.commit([released]);
    } catch (err) {
      return storeFailed(err);
    }
    this.o.onEnded(released);
    this.o.log.info(
      {
        event: 'lease.released-by-operator',
        address: formatIpv4(address),
        scope: released.scopeId,
        state: released.state,
      },
      'lease released by an operator',
    );
    return { ok: true, lease: released };
  }

  async remove(address: Ipv4, options: { force: boolean }): Promise<LeaseOperationResult> {
    let lease = this.o.engine().getLease(address);
    if (lease === undefined) return notFound(address);
    const isFailover = this.o.failoverScopeIds().has(lease.scopeId);
    if (lease.state === 'active') {
      if (!options.force) {
        return {
          ok: false,
          error: 'lease-active',
          message: `${formatIpv4(address)} is an active lease${lease.hardwareAddress === '' ? '' : ` of ${lease.hardwareAddress.replace(/(..)(?!$)/g, '$1:')}`}; release it first, or force the delete (it is then released first)`,
        };
      }
      const released = await this.release(address);
      if (!released.ok) return released;
      lease = released.lease!;
      if (isFailover && lease.state !== 'free') {
        lease = await this.waitUntilFree(address, lease);
        if (lease.state !== 'free') return { ok: true, lease, isAwaitingPartner: true };
      }
    }
    const refusal = removalRefusal(lease, isFailover);
    if (refusal !== null) return { ok: false, error: 'failover-state', message: refusal };
    this.o.engine().removeLease(address);
    try {
      await this.o.store.remove([address]);
    } catch (err) {
      return storeFailed(err);
    }
    this.o.log.info(
      {
        event: 'lease.deleted-by-operator',
        address: formatIpv4(address),
        scope: lease.scopeId,
        state: lease.state,
      },
      'lease record deleted by an operator',
    );
    return { ok: true, lease: null };
  }

  /**
   * Online import (docs/api.md §Export and import): the bindings clients hold (active) or that
   * are held out of the pools (abandoned), each onto an address that is free here — no record or
   * a FREE one, not being offered. Durable, then the failover partner is told each one. Pool
   * records (free, backup, …) are this server's own business and are not imported.
   */
  async importLeases(leases: readonly Lease[]): Promise<LeaseImportResult | { error: string }> {
    const engine = this.o.engine();
    const now = this.now();
    const accepted: Lease[] = [];
    const skipped: LeaseImportResult['skipped'] = [];
    for (const l of leases) {
      if (l.state !== 'active' && l.state !== 'abandoned') {
        skipped.push({
          address: l.address,
          reason: 'state-not-imported',
          message: `a ${l.state} record is not imported online`,
        });
        continue;
      }
      if (!isAddressFree(engine.getLease(l.address), engine.isOffered(l.address, now))) {
        skipped.push({
          address: l.address,
          reason: 'address-in-use',
          message: `${formatIpv4(l.address)} is in use here`,
        });
        continue;
      }
      const lease: Lease = { ...l, isPartnerUpToDate: false };
      engine.putLease(lease);
      accepted.push(lease);
    }
    try {
      for (let i = 0; i < accepted.length; i += 10_000)
        await this.o.store.commit(accepted.slice(i, i + 10_000));
    } catch (err) {
      return { error: (err as Error).message };
    }
    if (accepted.length > 0) this.o.onImported?.(accepted);
    this.o.log.info(
      { event: 'lease.imported', imported: accepted.length, skipped: skipped.length },
      'leases imported',
    );
    return { imported: accepted.length, skipped };
  }

  /** The partner's BNDACK turns a RELEASED binding FREE (D12 §5.5); waits a little for it. */
  private async waitUntilFree(address: Ipv4, lease: Lease): Promise<Lease> {
    const deadline = Date.now() + (this.o.partnerAckWaitMs ?? 3000);
    let current = lease;
    while (current.state !== 'free' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const now = this.o.engine().getLease(address);
      // A client took the address again meanwhile: that binding is not ours to delete.
      if (now === undefined || now.state === 'active') return now ?? current;
      current = now;
    }
    return current;
  }
}

function notFound(address: Ipv4): LeaseOperationResult {
  return { ok: false, error: 'not-found', message: `no lease record for ${formatIpv4(address)}` };
}

function storeFailed(err: unknown): LeaseOperationResult {
  return { ok: false, error: 'store-failed', message: (err as Error).message };
}
