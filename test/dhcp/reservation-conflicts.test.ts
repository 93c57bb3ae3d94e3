// findReservationConflicts: which reservations sit on an address another client holds now.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyLease, INFINITE_EXPIRY, type Lease } from '../../src/dhcp/lease.js';
import { findReservationConflicts } from '../../src/dhcp/reservation-conflicts.js';
import { ip, mac, NOW, reservation, scope } from './helpers.js';

function bound(address: string, o: Partial<Lease>): Lease {
  return {
    ...emptyLease(ip(address), '10.0.0.0', 'active', NOW - 100),
    hardwareType: 1,
    leaseExpiresAt: NOW + 3600,
    ...o,
  };
}

describe('findReservationConflicts', () => {
  const scopes = [
    scope({
      reservations: [
        reservation({ address: '10.0.0.50', hardwareAddress: mac(1) }),
        reservation({ address: '10.0.0.51', clientId: '01aabb' }),
        reservation({ address: '10.0.0.52', hardwareAddress: mac(3) }),
      ],
    }),
  ];
  const conflictsWith = (leases: Lease[]) =>
    findReservationConflicts(scopes, (a) => leases.find((l) => l.address === a), NOW).map((c) => [
      c.reservationIndex,
      c.lease.hardwareAddress,
    ]);

  test("an active binding of another client is a conflict; the reserved client's own is not", () => {
    assert.deepEqual(
      conflictsWith([
        bound('10.0.0.50', { hardwareAddress: mac(9) }),
        bound('10.0.0.51', { hardwareAddress: mac(8), clientId: '01aabb' }),
        bound('10.0.0.52', { hardwareAddress: mac(3) }),
      ]),
      [[0, mac(9)]],
    );
  });

  test("by the engine's rule: a client id that has its own reservation elsewhere is not this MAC reservation's client", () => {
    // mac(3)'s lease carries client id 01aabb, which is reserved 10.0.0.51: the engine gives it .51.
    assert.deepEqual(conflictsWith([bound('10.0.0.52', { hardwareAddress: mac(3), clientId: '01aabb' })]), [
      [2, mac(3)],
    ]);
  });

  test('bindings that ended, or ran out and await the expiry timer, are no conflict; infinite BOOTP ones are', () => {
    assert.deepEqual(
      conflictsWith([
        bound('10.0.0.50', { hardwareAddress: mac(9), state: 'released' }),
        bound('10.0.0.52', { hardwareAddress: mac(9), leaseExpiresAt: NOW }),
      ]),
      [],
    );
    assert.deepEqual(
      conflictsWith([bound('10.0.0.50', { hardwareAddress: mac(9), leaseExpiresAt: INFINITE_EXPIRY })]),
      [[0, mac(9)]],
    );
  });
});
