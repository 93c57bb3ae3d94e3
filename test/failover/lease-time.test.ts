// MCLT arithmetic against failover.md §6.2–§6.3 (what may be promised, what PET to send; the D12
// example with M = 1 h, L = 3 d) and §7.5 (when PARTNER-DOWN may reuse an address).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type BindingState, emptyLease, INFINITE_EXPIRY, type Lease } from '../../src/dhcp/lease.js';
import { boundedGrant, partnerDownReuseAt, rearmed } from '../../src/failover/lease-time.js';

const HOUR = 3600;
const DAY = 24 * HOUR;
const T0 = 1_700_000_000;
const M = HOUR;
const L = 3 * DAY;

function lease(over: Partial<Lease> = {}): Lease {
  return {
    ...emptyLease(0xc0000201, 'scope', 'active', T0),
    hardwareType: 1,
    hardwareAddress: '001122334455',
    ...over,
  };
}

describe('boundedGrant — first grant (failover.md §6.2)', () => {
  it('a brand-new lease gets at most MCLT; PET = now + L + granted/2', () => {
    assert.deepEqual(
      boundedGrant({
        now: T0,
        desiredSeconds: L,
        mcltSeconds: M,
        lease: undefined,
        includeCurrentExpiry: false,
      }),
      { expiresAt: T0 + M, potentialExpiresAt: T0 + L + M / 2 },
    );
  });

  it('a stored binding the partner never heard of (no acked or received PET) is new too', () => {
    for (const state of ['free', 'backup', 'expired', 'released', 'active'] as BindingState[]) {
      const g = boundedGrant({
        now: T0,
        desiredSeconds: L,
        mcltSeconds: M,
        lease: lease({ state }),
        includeCurrentExpiry: false,
      });
      assert.equal(g.expiresAt, T0 + M, state);
    }
  });

  it('a desired lease shorter than MCLT is granted in full', () => {
    assert.deepEqual(
      boundedGrant({
        now: T0,
        desiredSeconds: 20 * 60,
        mcltSeconds: M,
        lease: undefined,
        includeCurrentExpiry: false,
      }),
      { expiresAt: T0 + 20 * 60, potentialExpiresAt: T0 + 20 * 60 + 10 * 60 },
    );
  });

  it('a PET in the past does not shorten the grant below now + MCLT', () => {
    const old = lease({ ackedPotentialExpiresAt: T0 - DAY, receivedPotentialExpiresAt: T0 - 2 * DAY });
    assert.equal(
      boundedGrant({ now: T0, desiredSeconds: L, mcltSeconds: M, lease: old, includeCurrentExpiry: false })
        .expiresAt,
      T0 + M,
    );
  });
});

describe('boundedGrant — the D12 example (failover.md §6.3: M = 1 h, L = 3 d), step by step', () => {
  it('1 h first; after the ACK the renewal at 30 min gets the full 3 d; and so on', () => {
    // Step 1: first DHCPACK at T0. Promise 1 h; tell the partner PET = T0 + 3 d + 30 min.
    const g1 = boundedGrant({
      now: T0,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: undefined,
      includeCurrentExpiry: false,
    });
    assert.deepEqual(g1, { expiresAt: T0 + HOUR, potentialExpiresAt: T0 + 3 * DAY + 30 * 60 });

    // Step 2: the partner ACKs the BNDUPD: that PET becomes the acked one.
    const afterAck = lease({
      leaseExpiresAt: g1.expiresAt,
      sentPotentialExpiresAt: g1.potentialExpiresAt,
      ackedPotentialExpiresAt: g1.potentialExpiresAt,
    });

    // Step 3: the client renews at T1 (its T1 = half of 1 h). Acked PET - now = 3 d exactly, and
    // 3 d + M > L, so the full 3 d is granted; the new PET is now + 3 d + 1.5 d.
    const t1 = T0 + 30 * 60;
    assert.equal(afterAck.ackedPotentialExpiresAt - t1, 3 * DAY);
    const g2 = boundedGrant({
      now: t1,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: afterAck,
      includeCurrentExpiry: false,
    });
    assert.deepEqual(g2, { expiresAt: t1 + 3 * DAY, potentialExpiresAt: t1 + 3 * DAY + 36 * HOUR });

    // Step 4: once that is ACKed, the next renewal (half of 3 d later) is full length again.
    const t2 = t1 + 36 * HOUR;
    const afterAck2 = {
      ...afterAck,
      leaseExpiresAt: g2.expiresAt,
      ackedPotentialExpiresAt: g2.potentialExpiresAt,
    };
    const g3 = boundedGrant({
      now: t2,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: afterAck2,
      includeCurrentExpiry: false,
    });
    assert.deepEqual(g3, { expiresAt: t2 + 3 * DAY, potentialExpiresAt: t2 + 3 * DAY + 36 * HOUR });
  });

  it('without the ACK the renewal is capped again at now + MCLT', () => {
    const g1 = boundedGrant({
      now: T0,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: undefined,
      includeCurrentExpiry: false,
    });
    const unacked = lease({ leaseExpiresAt: g1.expiresAt, sentPotentialExpiresAt: g1.potentialExpiresAt });
    const t1 = T0 + 30 * 60;
    const g2 = boundedGrant({
      now: t1,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: unacked,
      includeCurrentExpiry: false,
    });
    assert.equal(g2.expiresAt, t1 + M); // a *sent* PET proves nothing
  });

  it('a PET received from the partner (and ACKed by us) counts like an acked one', () => {
    const received = lease({ receivedPotentialExpiresAt: T0 + 2 * DAY });
    const g = boundedGrant({
      now: T0,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: received,
      includeCurrentExpiry: false,
    });
    assert.equal(g.expiresAt, T0 + 2 * DAY + M);
  });
});

describe('boundedGrant — very long finite leases stay uint32 times', () => {
  it('a configured lease of 0xfffffffe s (finite): the renewal after the ACK fits option 13 and is not infinite', () => {
    const desired = 0xfffffffe;
    const g1 = boundedGrant({
      now: T0,
      desiredSeconds: desired,
      mcltSeconds: M,
      lease: undefined,
      includeCurrentExpiry: false,
    });
    assert.equal(g1.expiresAt, T0 + M);
    assert.equal(g1.potentialExpiresAt, INFINITE_EXPIRY - 1);
    const acked = lease({ leaseExpiresAt: g1.expiresAt, ackedPotentialExpiresAt: g1.potentialExpiresAt });
    const g2 = boundedGrant({
      now: T0 + M / 2,
      desiredSeconds: desired,
      mcltSeconds: M,
      lease: acked,
      includeCurrentExpiry: false,
    });
    assert.equal(g2.expiresAt, INFINITE_EXPIRY - 1);
    assert.ok(g2.potentialExpiresAt >= g2.expiresAt && g2.potentialExpiresAt <= 0xffffffff);
  });
});

describe('boundedGrant — COMMUNICATIONS-INTERRUPTED keeps remaining time (failover.md §6.2, D12 §9.9.2)', () => {
  const running = lease({
    state: 'active',
    leaseExpiresAt: T0 + 2 * DAY,
    ackedPotentialExpiresAt: T0 - HOUR,
  });

  it('with includeCurrentExpiry the lease keeps its current expiry but is not extended past the bound', () => {
    const g = boundedGrant({
      now: T0,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: running,
      includeCurrentExpiry: true,
    });
    assert.equal(g.expiresAt, T0 + 2 * DAY);
    assert.ok(g.potentialExpiresAt >= g.expiresAt);
  });

  it('renewals in a row cannot chain MCLT past each other (sim seed 9757)', () => {
    // Never acknowledged (the partner heard nothing): each renewal is bounded by now + MCLT.
    let l = lease({ state: 'active', leaseExpiresAt: T0 + M });
    for (let i = 1; i <= 5; i++) {
      const now = T0 + i * 60;
      const g = boundedGrant({
        now,
        desiredSeconds: L,
        mcltSeconds: M,
        lease: l,
        includeCurrentExpiry: true,
      });
      assert.ok(g.expiresAt <= Math.max(now + M, l.leaseExpiresAt), `renewal ${i}`);
      assert.ok(g.expiresAt <= T0 + M + i * 60, `renewal ${i}: ${g.expiresAt - T0}`);
      l = { ...l, leaseExpiresAt: g.expiresAt };
    }
  });

  it('without it (e.g. NORMAL) the same renewal would shorten the lease to now + MCLT', () => {
    const g = boundedGrant({
      now: T0,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: running,
      includeCurrentExpiry: false,
    });
    assert.equal(g.expiresAt, T0 + M);
  });

  it('a request for less than the time left keeps the time left', () => {
    const g = boundedGrant({
      now: T0,
      desiredSeconds: DAY,
      mcltSeconds: M,
      lease: running,
      includeCurrentExpiry: true,
    });
    assert.equal(g.expiresAt, T0 + 2 * DAY, 'a shorter request keeps the current expiry');
  });

  it('only an ACTIVE binding has a current expiry to keep', () => {
    for (const state of ['expired', 'released', 'reset', 'free', 'backup', 'abandoned'] as BindingState[]) {
      const g = boundedGrant({
        now: T0,
        desiredSeconds: L,
        mcltSeconds: M,
        lease: { ...running, state },
        includeCurrentExpiry: true,
      });
      assert.equal(g.expiresAt, T0 + M, state);
    }
  });

  it('an infinite current expiry is not carried into the bound', () => {
    const infinite = { ...running, leaseExpiresAt: INFINITE_EXPIRY };
    const g = boundedGrant({
      now: T0,
      desiredSeconds: L,
      mcltSeconds: M,
      lease: infinite,
      includeCurrentExpiry: true,
    });
    assert.equal(g.expiresAt, T0 + M);
  });
});

// ---------------------------------------------------------------------------------------------

const UINT32 = 0xffffffff;
const maybeTime = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: UINT32 }), fc.constant(INFINITE_EXPIRY));
const grantArb = fc.record({
  now: fc.integer({ min: 1, max: 0xfffffff0 }),
  desiredSeconds: fc.oneof(fc.integer({ min: 0, max: 400 * DAY }), fc.integer({ min: 0, max: 0xfffffffe })),
  mcltSeconds: fc.integer({ min: 0, max: 7 * DAY }),
  state: fc.constantFrom<BindingState>(
    'free',
    'active',
    'expired',
    'released',
    'abandoned',
    'reset',
    'backup',
  ),
  hasLease: fc.boolean(),
  leaseExpiresAt: maybeTime,
  ackedPotentialExpiresAt: maybeTime,
  receivedPotentialExpiresAt: maybeTime,
  sentPotentialExpiresAt: maybeTime,
  includeCurrentExpiry: fc.boolean(),
});

describe('boundedGrant — properties (fast-check)', () => {
  it('never grants beyond max(now, acked, received) + MCLT (or the current expiry kept), nor beyond now + desired; grants all it may', () => {
    fc.assert(
      fc.property(grantArb, (r) => {
        const l = r.hasLease ? lease(r) : undefined;
        const g = boundedGrant({ ...r, lease: l });
        const base = Math.max(r.now, l?.ackedPotentialExpiresAt ?? 0, l?.receivedPotentialExpiresAt ?? 0);
        const kept =
          r.includeCurrentExpiry && l?.state === 'active' && l.leaseExpiresAt !== INFINITE_EXPIRY
            ? Math.min(l.leaseExpiresAt, INFINITE_EXPIRY - 1)
            : 0;
        assert.ok(g.expiresAt <= Math.max(base + r.mcltSeconds, kept), 'beyond the MCLT bound');
        assert.ok(g.expiresAt <= Math.max(r.now + r.desiredSeconds, kept), 'beyond the desired lease');
        assert.ok(g.expiresAt >= r.now, 'expires in the past');
        // Exactly min(now + L, bound) (never below the kept expiry), short only of what a finite
        // uint32 time can hold.
        assert.equal(
          g.expiresAt,
          Math.max(Math.min(r.now + r.desiredSeconds, base + r.mcltSeconds, INFINITE_EXPIRY - 1), kept),
        );
        // The sent PET (option 18 is a uint32) is never before the granted expiry (failover.md §6.3).
        assert.ok(g.potentialExpiresAt >= g.expiresAt, 'PET before the expiry');
        assert.ok(Number.isInteger(g.expiresAt) && g.expiresAt <= UINT32, 'expiry not a uint32');
        assert.ok(
          Number.isInteger(g.potentialExpiresAt) && g.potentialExpiresAt <= UINT32,
          'PET not a uint32',
        );
        // A finite grant never reads as the infinite (BOOTP) expiry.
        assert.notEqual(g.expiresAt, INFINITE_EXPIRY);
      }),
      { numRuns: 2000 },
    );
  });

  it('PET = now + desired + floor(granted / 2) whenever that fits', () => {
    fc.assert(
      fc.property(grantArb, (r) => {
        const g = boundedGrant({ ...r, lease: r.hasLease ? lease(r) : undefined });
        const expected = Math.max(
          g.expiresAt,
          r.now + r.desiredSeconds + Math.floor((g.expiresAt - r.now) / 2),
        );
        fc.pre(expected < INFINITE_EXPIRY);
        assert.equal(g.potentialExpiresAt, expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('a renewal after the ACK of the previous PET is never shorter than the time left of that PET, capped by L', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: T0, max: T0 + 10 * 365 * DAY }),
        fc.integer({ min: 60, max: 30 * DAY }),
        fc.integer({ min: 60, max: DAY }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (now, desired, mclt, fraction) => {
          const g1 = boundedGrant({
            now,
            desiredSeconds: desired,
            mcltSeconds: mclt,
            lease: undefined,
            includeCurrentExpiry: false,
          });
          const t = now + Math.floor((g1.expiresAt - now) * fraction);
          const acked = lease({
            leaseExpiresAt: g1.expiresAt,
            ackedPotentialExpiresAt: g1.potentialExpiresAt,
          });
          const g2 = boundedGrant({
            now: t,
            desiredSeconds: desired,
            mcltSeconds: mclt,
            lease: acked,
            includeCurrentExpiry: false,
          });
          assert.ok(g2.expiresAt >= Math.min(t + desired, g1.potentialExpiresAt));
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('partnerDownReuseAt (failover.md §7.5)', () => {
  const STOS = T0 + 10 * DAY;

  it('an address with no binding (the partner’s free pool at PD entry): stos + MCLT', () => {
    assert.equal(partnerDownReuseAt(undefined, STOS, M), STOS + M);
  });

  it('old times do not bring it before stos + MCLT', () => {
    const old = lease({
      leaseExpiresAt: T0,
      sentPotentialExpiresAt: T0,
      ackedPotentialExpiresAt: T0,
      receivedPotentialExpiresAt: T0,
    });
    assert.equal(partnerDownReuseAt(old, STOS, M), STOS + M);
    assert.equal(partnerDownReuseAt(emptyLease(1, 's', 'backup', 0), STOS, M), STOS + M);
  });

  it('each of the four times, when latest, decides: MCLT past it', () => {
    const fields = [
      'leaseExpiresAt',
      'sentPotentialExpiresAt',
      'ackedPotentialExpiresAt',
      'receivedPotentialExpiresAt',
    ] as const;
    for (const [i, field] of fields.entries()) {
      const l = lease({
        leaseExpiresAt: STOS + 1,
        sentPotentialExpiresAt: STOS + 2,
        ackedPotentialExpiresAt: STOS + 3,
        receivedPotentialExpiresAt: STOS + 4,
      });
      l[field] = STOS + 100 + i;
      assert.equal(partnerDownReuseAt(l, STOS, M), STOS + 100 + i + M, field);
    }
  });

  it('property: exactly max(stos, expiry, sent, acked, received) + MCLT for finite leases; never before stos + MCLT', () => {
    const t = fc.integer({ min: 0, max: 0xfffffffe });
    fc.assert(
      fc.property(
        t,
        t,
        t,
        t,
        t,
        fc.integer({ min: 0, max: 30 * DAY }),
        (stos, exp, sent, acked, recv, mclt) => {
          const l = lease({
            leaseExpiresAt: exp,
            sentPotentialExpiresAt: sent,
            ackedPotentialExpiresAt: acked,
            receivedPotentialExpiresAt: recv,
          });
          const at = partnerDownReuseAt(l, stos, mclt);
          assert.equal(at, Math.max(stos, exp, sent, acked, recv) + mclt);
          assert.ok(at >= stos + mclt);
          assert.ok(partnerDownReuseAt(undefined, stos, mclt) === stos + mclt);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('an infinite lease is never reusable on a uint32 clock', () => {
    for (const mclt of [0, 60, HOUR, 7 * DAY]) {
      for (const pet of [0, T0, INFINITE_EXPIRY]) {
        const l = lease({
          leaseExpiresAt: INFINITE_EXPIRY,
          sentPotentialExpiresAt: pet,
          ackedPotentialExpiresAt: pet,
        });
        assert.ok(partnerDownReuseAt(l, STOS, mclt) >= INFINITE_EXPIRY, `mclt ${mclt} pet ${pet}`);
      }
    }
  });
});

describe('partnerDownReuseAt after a restart no clock measured (docs/safety.md, "Restarts")', () => {
  const LAST_ALIVE = T0 + 10 * DAY;
  const DOWN = 500;
  const restart = { lastAliveAt: LAST_ALIVE, bootAt: LAST_ALIVE + DOWN };

  it('rearmed: a wait still running at the last checkpoint keeps what it had left, from the restart; an ended one stays ended', () => {
    assert.equal(rearmed(LAST_ALIVE + 40, restart), LAST_ALIVE + DOWN + 40);
    assert.equal(rearmed(LAST_ALIVE, restart), LAST_ALIVE);
    assert.equal(rearmed(LAST_ALIVE - 40, restart), LAST_ALIVE - 40);
    assert.equal(rearmed(LAST_ALIVE + 40, null), LAST_ALIVE + 40);
  });

  it('PARTNER-DOWN entered before the restart: stos + MCLT re-armed; entered after it: not', () => {
    const before = LAST_ALIVE - 10;
    assert.equal(partnerDownReuseAt(undefined, before, M, restart), before + M + DOWN);
    const after = LAST_ALIVE + DOWN + 5;
    assert.equal(partnerDownReuseAt(undefined, after, M, restart), after + M);
  });

  it('a binding whose last client transaction was before the restart waits its full remainder; one since then does not', () => {
    const stos = LAST_ALIVE + DOWN + 5;
    const old = lease({ leaseExpiresAt: LAST_ALIVE + 100, clientLastTransactionAt: LAST_ALIVE - 200 });
    assert.equal(partnerDownReuseAt(old, stos, M, restart), LAST_ALIVE + 100 + M + DOWN);
    const fresh = lease({
      leaseExpiresAt: LAST_ALIVE + DOWN + 900,
      clientLastTransactionAt: LAST_ALIVE + DOWN + 1,
    });
    assert.equal(partnerDownReuseAt(fresh, stos, M, restart), LAST_ALIVE + DOWN + 900 + M);
  });

  it('property: never earlier than without the restart', () => {
    const t = fc.integer({ min: 1, max: 0xfffffff0 });
    fc.assert(
      fc.property(t, t, t, t, fc.integer({ min: 0, max: 30 * DAY }), (stos, exp, cltt, last, down) => {
        const r = { lastAliveAt: last, bootAt: last + down };
        const l = lease({ leaseExpiresAt: exp, clientLastTransactionAt: cltt });
        assert.ok(partnerDownReuseAt(l, stos, M, r) >= partnerDownReuseAt(l, stos, M));
      }),
      { numRuns: 1000 },
    );
  });
});
