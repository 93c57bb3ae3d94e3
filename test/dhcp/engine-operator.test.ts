// Operator changes to bindings (issue 18): releaseBinding ends an active binding as the client's
// DHCPRELEASE does (the same record, the gate's state after release), removeLease forgets a record
// and puts the address back in the FREE pool.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FailoverGate } from '../../src/dhcp/failover-gate.js';
import { StandaloneGate } from '../../src/dhcp/failover-gate.js';
import type { Lease } from '../../src/dhcp/lease.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { engine, ip, mac, NOW, packet, scope } from './helpers.js';

function dora(e: ReturnType<typeof engine>, m: string, now = NOW): string {
  const offer = e.handle(packet(T.Discover, { mac: m }), now);
  assert.equal(offer.action, 'reply');
  const yi = formatIpv4((offer as { reply: { yiaddr: number } }).reply.yiaddr);
  const ack = e.handle(packet(T.Request, { mac: m, requested: yi, serverId: '10.0.0.1' }), now);
  assert.equal(ack.action, 'reply');
  return yi;
}

describe('operator release', () => {
  test('ends the binding exactly as the client RELEASE does', () => {
    const byClient = engine();
    const byOperator = engine();
    const a = dora(byClient, mac(1));
    assert.equal(dora(byOperator, mac(1)), a);
    const r = byClient.handle(packet(T.Release, { mac: mac(1), ciaddr: a }), NOW + 10);
    const clientReleased = r.changes[0]!;
    const operatorReleased = byOperator.releaseBinding(ip(a), NOW + 10);
    assert.deepEqual(operatorReleased, clientReleased);
    assert.equal(operatorReleased?.state, 'free');
    assert.equal(operatorReleased?.hardwareAddress, mac(1), 'the client is remembered');
    assert.equal(byOperator.getLease(ip(a)), operatorReleased);
    // The same client gets its address back.
    assert.equal(dora(byOperator, mac(1), NOW + 20), a);
  });

  test('in a failover scope the binding becomes RELEASED (awaiting the partner), not free', () => {
    class FailoverLike extends StandaloneGate {
      override stateAfterRelease(): Lease['state'] {
        return 'released';
      }
    }
    const s = scope();
    const e = engine([s], [], new Map<string, FailoverGate>([[s.id, new FailoverLike()]]));
    const a = dora(e, mac(2));
    assert.equal(e.releaseBinding(ip(a), NOW + 5)?.state, 'released');
  });

  test('only an active binding is released', () => {
    const e = engine();
    assert.equal(e.releaseBinding(ip('10.0.0.100'), NOW), null, 'no record');
    const a = dora(e, mac(3));
    e.releaseBinding(ip(a), NOW);
    assert.equal(e.releaseBinding(ip(a), NOW + 1), null, 'released already');
  });
});

describe('operator delete', () => {
  test('forgets the record; the address can be allocated again, to anyone', () => {
    const e = engine([scope({ ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.100') }] })]);
    const a = dora(e, mac(4));
    e.releaseBinding(ip(a), NOW);
    const removed = e.removeLease(ip(a));
    assert.equal(removed?.hardwareAddress, mac(4));
    assert.equal(e.getLease(ip(a)), undefined);
    assert.equal([...e.leases()].length, 0);
    // The only address of the range goes to a new client: it is back in the pool.
    assert.equal(dora(e, mac(5), NOW + 1), a);
    assert.equal(e.removeLease(ip('10.0.0.1')), undefined, 'no record: nothing removed');
  });

  test('a declined address (in no pool) is allocatable once its record is deleted', () => {
    const e = engine([scope({ ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.100') }] })]);
    const a = dora(e, mac(6));
    e.handle(packet(T.Decline, { mac: mac(6), requested: a, serverId: '10.0.0.1' }), NOW);
    assert.equal(e.getLease(ip(a))?.state, 'abandoned');
    assert.equal(e.handle(packet(T.Discover, { mac: mac(7) }), NOW + 1).action, 'ignore');
    e.removeLease(ip(a));
    assert.equal(dora(e, mac(7), NOW + 2), a);
  });
});

describe('a deactivated scope (active: false)', () => {
  test('answers nobody, keeps its bindings and still expires them', () => {
    const on = engine();
    const a = dora(on, mac(8));
    const lease = on.getLease(ip(a))!;
    const off = engine([scope({ isActive: false })], [lease]);
    const d = off.handle(packet(T.Discover, { mac: mac(9) }), NOW + 1);
    assert.equal(d.action === 'ignore' && d.reason, 'scope-inactive');
    const renew = off.handle(packet(T.Request, { mac: mac(8), ciaddr: a }), NOW + 2);
    assert.equal(renew.action === 'ignore' && renew.reason, 'scope-inactive');
    assert.equal(off.getLease(ip(a))?.state, 'active', 'the binding stays');
    const expired = off.tick(lease.leaseExpiresAt + 1);
    assert.equal(expired[0]?.state, 'free');
  });
});
