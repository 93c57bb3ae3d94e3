// The lease table (src/dhcp/lease-table.ts) against a reference model made of plain Maps, the
// structures the engine used before the table: random sequences of put, delete, get, ordered scans
// from a cursor, client lookups, expiry pops, free-address searches and tallies must give the same
// answers, and every lease must read back exactly as it was put (odd values included).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type BindingState, emptyLease, INFINITE_EXPIRY, type Lease } from '../../src/dhcp/lease.js';
import {
  BINDING_STATES,
  clientKeyOf,
  LeaseTable,
  type Tally,
  type TallyRule,
} from '../../src/dhcp/lease-table.js';
import type { Ipv4 } from '../../src/wire/ipv4.js';

/** The engine's former structures: a Map of leases, a client-key Map, a set of expiring addresses. */
class ReferenceTable {
  readonly leases = new Map<Ipv4, Lease>();
  readonly byClient = new Map<string, Ipv4>();
  readonly expiring = new Set<Ipv4>();
  private version = 1;

  put(lease: Lease): number {
    const old = this.leases.get(lease.address);
    if (old) this.unindex(old);
    const copy = { ...lease, dns: { ...lease.dns }, version: this.version++ };
    this.leases.set(lease.address, copy);
    const key = clientKeyOf(copy);
    if (key !== null) this.byClient.set(`${copy.scopeId}|${key}`, copy.address);
    const isExpiring =
      (copy.state === 'active' || copy.state === 'abandoned') &&
      copy.leaseExpiresAt !== INFINITE_EXPIRY &&
      copy.leaseExpiresAt > 0;
    if (isExpiring) this.expiring.add(copy.address);
    else this.expiring.delete(copy.address);
    return copy.version;
  }

  delete(address: Ipv4): boolean {
    const old = this.leases.get(address);
    if (!old) return false;
    this.unindex(old);
    this.leases.delete(address);
    this.expiring.delete(address);
    return true;
  }

  private unindex(lease: Lease): void {
    const key = clientKeyOf(lease);
    if (key === null) return;
    const k = `${lease.scopeId}|${key}`;
    if (this.byClient.get(k) === lease.address) this.byClient.delete(k);
  }

  popDue(now: number): Ipv4 | null {
    let best: Lease | null = null;
    for (const a of this.expiring) {
      const l = this.leases.get(a)!;
      if (
        best === null ||
        l.leaseExpiresAt < best.leaseExpiresAt ||
        (l.leaseExpiresAt === best.leaseExpiresAt && l.address < best.address)
      )
        best = l;
    }
    if (best === null || best.leaseExpiresAt > now) return null;
    this.expiring.delete(best.address);
    return best.address;
  }

  nextExpiryAt(): number | null {
    let t: number | null = null;
    for (const a of this.expiring) {
      const e = this.leases.get(a)!.leaseExpiresAt;
      if (t === null || e < t) t = e;
    }
    return t;
  }

  sortedAddresses(): Ipv4[] {
    return [...this.leases.keys()].sort((x, y) => x - y);
  }

  tally(rule: TallyRule, group: number): Tally {
    const byState = Object.fromEntries(BINDING_STATES.map((s) => [s, 0])) as Record<BindingState, number>;
    let records = 0;
    let activeOwned = 0;
    for (const l of this.leases.values()) {
      if (rule.groupOf(l.address, l.scopeId) !== group) continue;
      records++;
      byState[l.state]++;
      if (l.state === 'active' && l.ownerServer === rule.countedOwner) activeOwned++;
    }
    return { records, byState, activeOwned };
  }
}

// Addresses from a few /24 pages (collisions, page boundaries), the extremes and the boundaries of
// the directory's /16 and /8 levels.
const addressArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x0a0000fa, max: 0x0a000205 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      0,
      1,
      0xffffffff,
      0xfffffffe,
      0xc0a80101,
      0x0affffff,
      0x0b000000,
      0x0a00ffff,
      0x0a010000,
      0x00ffffff,
      0x01000000,
    ),
  },
);
const hwArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('', '02000000000a', '02000000000b', '0a0b0c0d0e0f', 'aabbccddeeff'),
  },
  // Odd ones that must survive as they are: long (InfiniBand-like), upper case, odd length, colons.
  {
    weight: 1,
    arbitrary: fc.constantFrom('0102030405060708090a', 'AABBCCDDEEFF', 'abc', 'aa:bb', '0102030405060708'),
  },
);
const timeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(0, 1000, 1000, 2000, 3000, INFINITE_EXPIRY) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 5000 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, 2 ** 32, 2 ** 40) },
);
const stateArb = fc.constantFrom<BindingState>(...BINDING_STATES);
const leaseArb: fc.Arbitrary<Lease> = fc
  .record({
    address: addressArb,
    scopeId: fc.constantFrom('a', 'b'),
    state: stateArb,
    hardwareType: fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(0, 1, 6) },
      { weight: 1, arbitrary: fc.constant(300) },
    ),
    hardwareAddress: hwArb,
    clientIdKind: fc.constantFrom('none', 'none', 'fromHw', 'other', 'duid'),
    hostname: fc.option(fc.constantFrom('pc', 'laptop', 'Printer-1', 'x'.repeat(70))),
    clientType: fc.constantFrom('dhcp' as const, 'bootp' as const),
    isReserved: fc.boolean(),
    leaseExpiresAt: timeArb,
    stateStartedAt: timeArb,
    clientLastTransactionAt: timeArb,
    ownerServer: fc.option(fc.constantFrom('me', 'partner')),
    policyName: fc.option(fc.constantFrom('voip', 'guests')),
    sentPotentialExpiresAt: timeArb,
    ackedPotentialExpiresAt: timeArb,
    receivedPotentialExpiresAt: timeArb,
    lastBindingUpdateAt: timeArb,
    isPartnerUpToDate: fc.boolean(),
    fqdn: fc.option(fc.constantFrom('pc.example.com.', 'laptop.example.com.')),
    dhcidMode: fc.constantFrom('none' as const, 'noClientId' as const, 'clientId' as const, 'duid' as const),
    dns: fc.record({
      cleanupOnDelete: fc.boolean(),
      updateBothRecords: fc.boolean(),
      registrationPending: fc.boolean(),
      removalPending: fc.boolean(),
    }),
  })
  .map(({ clientIdKind, ...l }) => {
    const hex2 = (l.hardwareType & 255).toString(16).padStart(2, '0');
    const clientId =
      clientIdKind === 'none'
        ? null
        : clientIdKind === 'fromHw'
          ? hex2 + l.hardwareAddress
          : clientIdKind === 'other'
            ? '01aabbccddeeff'
            : 'ff00000001000100011c39cf880800272fe3a9';
    return { ...l, clientId } as Lease;
  });

type Op =
  | { kind: 'put'; lease: Lease }
  | { kind: 'delete'; address: Ipv4 }
  | { kind: 'get'; address: Ipv4 }
  | { kind: 'scan'; after: number; limit: number; hw: string }
  | { kind: 'client'; scopeId: string; key: string }
  | { kind: 'pop'; now: number }
  | { kind: 'absent'; from: Ipv4; length: number }
  | { kind: 'rule'; owner: string | null };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: leaseArb.map((lease) => ({ kind: 'put' as const, lease })) },
  { weight: 2, arbitrary: addressArb.map((address) => ({ kind: 'delete' as const, address })) },
  { weight: 3, arbitrary: addressArb.map((address) => ({ kind: 'get' as const, address })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('scan' as const),
      after: fc.oneof(fc.constant(-1), addressArb),
      limit: fc.integer({ min: 1, max: 40 }),
      hw: hwArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('client' as const),
      scopeId: fc.constantFrom('a', 'b', 'c'),
      key: fc.constantFrom(
        'c01aabbccddeeff',
        'c0102000000000a',
        'h1:02000000000a',
        'h1:aabbccddeeff',
        'h6:0a0b0c0d0e0f',
        'cff00000001000100011c39cf880800272fe3a9',
        'h0:0102030405060708090a',
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pop' as const), now: timeArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('absent' as const),
      from: addressArb,
      length: fc.integer({ min: 0, max: 600 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rule' as const),
      owner: fc.option(fc.constantFrom('me', 'partner')),
    }),
  },
);

/** Two scopes plus one group that counts only a part of the addresses (like a scope's ranges). */
function ruleWith(owner: string | null): TallyRule {
  return {
    groupCount: 3,
    countedOwner: owner,
    groupOf: (address, scopeId) => {
      if (address >= 0x0a000180 && address <= 0x0a0001ff) return 2;
      if (address > 0x0b000000) return -1;
      return scopeId === 'a' ? 0 : 1;
    },
  };
}

test('the lease table answers as the Map-based reference model (random operations)', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { minLength: 1, maxLength: 120 }),
      fc.integer({ min: 16, max: 64 }),
      (ops, cap) => {
        const table = new LeaseTable(cap);
        const ref = new ReferenceTable();
        let rule = ruleWith('me');
        table.setTallyRule(rule);
        for (const op of ops) {
          switch (op.kind) {
            case 'put': {
              const given = { ...op.lease, dns: { ...op.lease.dns } };
              table.put(given);
              const v = ref.put(op.lease);
              // Versions need not be equal numbers, only change with every put: compare the read.
              assert.equal(given.version, table.versionOf(op.lease.address));
              const back = table.get(op.lease.address)!;
              assert.deepEqual({ ...back, version: 0 }, { ...ref.leases.get(op.lease.address)!, version: 0 });
              assert.ok(v > 0);
              break;
            }
            case 'delete':
              assert.equal(table.delete(op.address), ref.delete(op.address));
              break;
            case 'get': {
              const a = table.get(op.address);
              const b = ref.leases.get(op.address);
              assert.equal(a === undefined, b === undefined);
              if (a && b) assert.deepEqual({ ...a, version: 0 }, { ...b, version: 0 });
              assert.equal(table.has(op.address), b !== undefined);
              assert.equal(table.stateOf(op.address), b?.state);
              break;
            }
            case 'scan': {
              const seen: Ipv4[] = [];
              const hasHw = table.hardwareAddressTest(op.hw);
              table.forEachFrom(op.after, (s) => {
                const a = table.addressAt(s);
                seen.push(a);
                // Column reads agree with the record.
                const l = ref.leases.get(a)!;
                assert.equal(hasHw(s), l.hardwareAddress === op.hw);
                assert.equal(table.hasHardwareAddressAt(s, op.hw), l.hardwareAddress === op.hw);
                assert.equal(table.stateAt(s), l.state);
                assert.equal(table.hostnameAt(s), l.hostname);
                assert.equal(table.ownerServerAt(s), l.ownerServer);
                assert.equal(table.scopeIdAt(s), l.scopeId);
                assert.equal(table.clientKeyAt(s), clientKeyOf(l));
                assert.equal(table.leaseExpiresAtAt(s), l.leaseExpiresAt);
                return seen.length < op.limit;
              });
              const expected = ref
                .sortedAddresses()
                .filter((a) => a > op.after)
                .slice(0, op.limit);
              assert.deepEqual(seen, expected);
              break;
            }
            case 'client':
              assert.equal(
                table.addressOfClient(op.scopeId, op.key),
                ref.byClient.get(`${op.scopeId}|${op.key}`),
              );
              break;
            case 'pop':
              assert.equal(table.nextExpiryAt(), ref.nextExpiryAt());
              assert.equal(table.popDue(op.now), ref.popDue(op.now));
              break;
            case 'absent': {
              const to = Math.min(0xffffffff, op.from + op.length);
              let expected: Ipv4 | null = null;
              for (let a = op.from; a <= to; a++) {
                if (!ref.leases.has(a)) {
                  expected = a;
                  break;
                }
              }
              assert.equal(table.nextAbsent(op.from, to), expected);
              break;
            }
            case 'rule':
              rule = ruleWith(op.owner);
              table.setTallyRule(rule);
              break;
          }
          assert.equal(table.size, ref.leases.size);
          for (let g = 0; g < rule.groupCount; g++) assert.deepEqual(table.tallyOf(g), ref.tally(rule, g));
          // Lease lists count matches by state and scope from counts kept by put and delete.
          for (const scopeId of [undefined, 'a', 'b', 'c']) {
            for (const stateMask of [0b1111111, 1 << 1, (1 << 2) | (1 << 3) | (1 << 6)]) {
              const expected = [...ref.leases.values()].filter(
                (l) =>
                  (scopeId === undefined || l.scopeId === scopeId) &&
                  ((stateMask >>> BINDING_STATES.indexOf(l.state)) & 1) !== 0,
              ).length;
              const scopeIndex = scopeId === undefined ? -1 : table.nameIndexOf(scopeId);
              if (scopeIndex < 0 && scopeId !== undefined) {
                assert.equal(expected, 0);
                continue;
              }
              const columns = { stateMask, scopeIndex, ownerIndex: -1, extra: null };
              assert.equal(table.countMatching(columns), expected, `${scopeId} ${stateMask}`);
              assert.equal(table.countMatchingByScan(columns), expected);
            }
          }
        }
        // Full read-back in address order.
        assert.deepEqual(
          [...table.leases()].map((l) => ({ ...l, version: 0 })),
          ref.sortedAddresses().map((a) => ({ ...ref.leases.get(a)!, version: 0 })),
        );
      },
    ),
    { numRuns: Number(process.env.TABLE_RUNS ?? 400) },
  );
});

test('versions change with every put and are carried by every read', () => {
  const t = new LeaseTable();
  const l = { ...emptyLease(0x0a000001, 's', 'active', 100), leaseExpiresAt: 200 };
  t.put(l);
  const v1 = l.version;
  assert.equal(t.get(l.address)!.version, v1);
  assert.notEqual(t.get(l.address), t.get(l.address), 'a fresh value each read');
  const next = { ...t.get(l.address)!, hostname: 'pc' };
  t.put(next);
  assert.notEqual(next.version, v1);
  assert.equal(t.versionOf(l.address), next.version);
});

test('growing past the initial capacity keeps every record, index and heap entry', () => {
  const t = new LeaseTable(16);
  const n = 5000;
  for (let i = 0; i < n; i++) {
    t.put({
      ...emptyLease(0x0a000000 + i * 3, 's', 'active', 100),
      hardwareType: 1,
      hardwareAddress: (0x020000000000 + i).toString(16).padStart(12, '0'),
      clientId: null,
      leaseExpiresAt: 10_000 - i,
    });
  }
  assert.equal(t.size, n);
  assert.equal(
    t.addressOfClient('s', `h1:${(0x020000000000 + 17).toString(16).padStart(12, '0')}`),
    0x0a000000 + 17 * 3,
  );
  assert.equal(t.nextExpiryAt(), 10_000 - (n - 1));
  // Earliest expiry first: the last put (i = n − 1) runs out first.
  let popped = 0;
  for (let a = t.popDue(20_000); a !== null; a = t.popDue(20_000)) {
    assert.equal(a, 0x0a000000 + (n - 1 - popped) * 3);
    popped++;
  }
  assert.equal(popped, n);
});

test('nextAbsent skips full pages', () => {
  const t = new LeaseTable();
  for (let a = 0x0a010000; a < 0x0a010000 + 256 * 40 + 7; a++) t.put(emptyLease(a, 's', 'active', 1));
  assert.equal(t.nextAbsent(0x0a010000, 0x0a01ffff), 0x0a010000 + 256 * 40 + 7);
  assert.equal(t.nextAbsent(0x0a010000, 0x0a010000 + 300), null);
});

test('scans, ranges and free-address searches cross the directory levels (/8, /16, /24) in address order', () => {
  const t = new LeaseTable();
  // Bindings on both sides of /24, /16 and /8 boundaries, in /8s far apart, and none in the /8s
  // between them (a scan jumps over those).
  const held = [
    0x00000000, 0x000000ff, 0x00000100, 0x0000ffff, 0x00010000, 0x00ffffff, 0x01000000, 0x0a0000ff,
    0x0a000100, 0x0a00ffff, 0x0a010000, 0x0a7f8001, 0x0affffff, 0x0b000000, 0x7f000001, 0xc0a80101,
    0xfeffffff, 0xff000000, 0xffffffff,
  ] as Ipv4[];
  for (const a of [...held].reverse()) t.put(emptyLease(a, 's', 'active', 1));
  const starts = [-1, 0x00000005, 0x0000ffff, 0x02000000, 0x02abcdef, 0x0a00ff00, 0x30123456, 0xfe000000];
  for (const a of held) starts.push(a - 1, a);
  for (const after of starts) {
    const seen: number[] = [];
    t.forEachFrom(after, (s) => {
      seen.push(t.addressAt(s));
      return true;
    });
    assert.deepEqual(
      seen,
      held.filter((a) => a > after),
      `forEachFrom(${after.toString(16)})`,
    );
    const matching: number[] = [];
    t.forEachMatching(after, { stateMask: 1 << 1, scopeIndex: -1, ownerIndex: -1, extra: null }, (s) => {
      matching.push(t.addressAt(s));
      return true;
    });
    assert.deepEqual(matching, seen, `forEachMatching(${after.toString(16)})`);
  }
  const all = { stateMask: 0b1111111, scopeIndex: -1, ownerIndex: -1, extra: null };
  for (const [from, to] of [
    [0x00000000, 0x0001ffff],
    [0x00ffff00, 0x010000ff],
    [0x0a00ff00, 0x0a0100ff],
    [0x0afffff0, 0x0b00000f],
  ] as const) {
    const expected = held.filter((a) => a >= from && a <= to).length;
    assert.equal(
      t.countInRange(from as Ipv4, to as Ipv4, all),
      expected,
      `countInRange ${from.toString(16)}`,
    );
  }
  assert.equal(t.nextAbsent(0x00ffffff as Ipv4, 0x01000001 as Ipv4), 0x01000001);
  assert.equal(t.nextAbsent(0x0affffff as Ipv4, 0x0b000000 as Ipv4), null);
  assert.equal(t.nextAbsent(0xfeffffff as Ipv4, 0xff000001 as Ipv4), 0xff000001);
  assert.equal(t.delete(0x0a010000 as Ipv4), true);
  assert.equal(t.nextAbsent(0x0a00ffff as Ipv4, 0x0a010001 as Ipv4), 0x0a010000);
  assert.equal(t.get(0x0a010000 as Ipv4), undefined);
  assert.equal(t.get(0x0a00ffff as Ipv4)?.address, 0x0a00ffff);
});
