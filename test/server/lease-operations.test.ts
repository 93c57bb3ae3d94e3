// Operator release and delete in the shell (issue 18 item 2): what a failover scope allows. Without
// a record an address is FREE (D12 §5.4), so only a FREE record is deleted there; an active one,
// forced, is released and deleted once the partner has acknowledged the release (the BNDACK turns
// it FREE), or left RELEASED when the acknowledgement does not come in time.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { type FailoverGate, StandaloneGate } from '../../src/dhcp/failover-gate.js';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { MemoryLeaseStore } from '../../src/leases/memory-store.js';
import { LeaseOperations } from '../../src/server/lease-operations.js';
import { ip, NOW, scope, settings } from '../dhcp/helpers.js';

class FailoverLikeGate extends StandaloneGate {
  override stateAfterRelease(): Lease['state'] {
    return 'released';
  }
}

function active(address: string, n: number): Lease {
  return {
    ...emptyLease(ip(address), '10.0.0.0', 'active', NOW - 60),
    hardwareType: 1,
    hardwareAddress: `0200000000${n.toString(16).padStart(2, '0')}`,
    leaseExpiresAt: NOW + 3600,
    clientLastTransactionAt: NOW - 60,
    ownerServer: 'tl-test',
  };
}

function setup(isFailover: boolean, leases: Lease[], partnerAckWaitMs = 2000) {
  const s = scope();
  const gates = new Map<string, FailoverGate>(isFailover ? [[s.id, new FailoverLikeGate()]] : []);
  const engine = new DhcpEngine(settings([s]), leases, gates);
  const store = new MemoryLeaseStore();
  const ended: Lease[] = [];
  const ops = new LeaseOperations({
    engine: () => engine,
    store,
    clock: { nowSeconds: () => NOW },
    log: pino({ level: 'silent' }),
    failoverScopeIds: () => new Set(isFailover ? [s.id] : []),
    onEnded: (l) => ended.push(l),
    partnerAckWaitMs,
  });
  return { engine, store, ops, ended };
}

describe('operator lease changes in a failover scope', () => {
  test('records whose state the partners share are not deleted; a FREE one is', async () => {
    const leases = [
      { ...emptyLease(ip('10.0.0.100'), '10.0.0.0', 'backup', NOW) },
      { ...active('10.0.0.101', 1), state: 'released' as const },
      { ...emptyLease(ip('10.0.0.102'), '10.0.0.0', 'abandoned', NOW), leaseExpiresAt: NOW + 600 },
      { ...emptyLease(ip('10.0.0.103'), '10.0.0.0', 'free', NOW) },
    ];
    const f = setup(true, leases);
    const backup = await f.ops.remove(ip('10.0.0.100'), { force: true });
    assert.equal(backup.ok, false);
    assert.match(!backup.ok ? backup.message : '', /BACKUP address .* both servers could allocate it/);
    const released = await f.ops.remove(ip('10.0.0.101'), { force: true });
    assert.match(
      !released.ok ? released.message : '',
      /is RELEASED: it becomes FREE once the failover partner/,
    );
    const abandoned = await f.ops.remove(ip('10.0.0.102'), { force: false });
    assert.equal(!abandoned.ok && abandoned.error, 'failover-state');
    assert.deepEqual(await f.ops.remove(ip('10.0.0.103'), { force: false }), { ok: true, lease: null });
    assert.equal(f.engine.getLease(ip('10.0.0.103')), undefined);
    assert.equal(f.engine.getLease(ip('10.0.0.100'))?.state, 'backup', 'untouched');

    // Standalone, the same records go.
    const s = setup(false, leases);
    for (const a of ['10.0.0.100', '10.0.0.101', '10.0.0.102'])
      assert.deepEqual(await s.ops.remove(ip(a), { force: false }), { ok: true, lease: null }, a);
  });

  test('a forced delete of an active lease: released (the partner hears of it), deleted once acknowledged', async () => {
    const f = setup(true, [active('10.0.0.104', 4)]);
    // The partner's BNDACK arrives 150 ms later: the endpoint makes the binding FREE.
    setTimeout(() => {
      const l = f.engine.getLease(ip('10.0.0.104'))!;
      f.engine.putLease({ ...l, state: 'free', isPartnerUpToDate: true });
    }, 150);
    const r = await f.ops.remove(ip('10.0.0.104'), { force: true });
    assert.deepEqual(r, { ok: true, lease: null });
    assert.equal(f.ended.length, 1);
    assert.equal(f.ended[0]!.state, 'released', 'the partner is sent the RELEASED binding');
    assert.equal(f.engine.getLease(ip('10.0.0.104')), undefined);
  });

  test('no acknowledgement in time: the lease stays RELEASED and the answer says so', async () => {
    const f = setup(true, [active('10.0.0.105', 5)], 200);
    const r = await f.ops.remove(ip('10.0.0.105'), { force: true });
    assert.ok(r.ok);
    assert.equal(r.isAwaitingPartner, true);
    assert.equal(r.lease?.state, 'released');
    assert.equal(f.engine.getLease(ip('10.0.0.105'))?.state, 'released');
    assert.equal(
      f.store.snapshot().leases.find((l) => l.address === ip('10.0.0.105'))?.state,
      'released',
      'durable',
    );
  });

  test('release of an active lease: durable first, then the partner and DNS hear of it', async () => {
    const f = setup(true, [active('10.0.0.106', 6)]);
    const r = await f.ops.release(ip('10.0.0.106'));
    assert.ok(r.ok);
    assert.equal(r.lease?.state, 'released');
    assert.equal(r.lease?.clientLastTransactionAt, NOW, 'as a client release: CLTT now');
    assert.deepEqual(f.ended, [r.lease]);
    assert.equal(f.store.snapshot().leases.find((l) => l.address === ip('10.0.0.106'))?.state, 'released');
    const again = await f.ops.release(ip('10.0.0.106'));
    assert.equal(!again.ok && again.error, 'not-active');
  });
});
