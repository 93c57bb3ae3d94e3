// computeScopeStatistics against a brute-force count: walk every address of every subnet, decide
// from the raw scope settings (not ScopeView) whether it is counted, look its record up, classify.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { type BindingState, emptyLease, type Lease } from '../../src/dhcp/lease.js';
import type { EngineScope } from '../../src/dhcp/scope.js';
import { ScopeView } from '../../src/dhcp/scope.js';
import {
  computeScopeStatistics,
  type ScopeRole,
  type ScopeStatistics,
  statisticsFromTallies,
  sumScopeStatistics,
} from '../../src/dhcp/statistics.js';
import { type Ipv4, parseSubnet } from '../../src/wire/ipv4.js';
import { ip, NOW, reservation, scope } from './helpers.js';

const ME = 'tl-a';
const STATES: BindingState[] = ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup'];

interface Offer {
  address: Ipv4;
  scopeId: string;
}

function bruteForce(
  s: EngineScope,
  leases: Map<Ipv4, Lease>,
  offers: Offer[],
  role: ScopeRole,
): ScopeStatistics {
  const reserved = new Set(s.reservations.map((r) => r.address));
  const broadcast = (s.subnet.network | (~s.subnet.mask >>> 0)) >>> 0;
  const counted = (a: Ipv4): boolean => {
    if (reserved.has(a)) return true;
    if (a === s.subnet.network || a === broadcast) return false;
    if (!s.ranges.some((r) => a >= r.start && a <= r.end)) return false;
    return !s.exclusions.some((x) => a >= x.start && a <= x.end);
  };
  let numAddr = 0;
  let inUse = 0;
  let inUseThis = 0;
  let abandoned = 0;
  let awaiting = 0;
  let freeClass = 0;
  let backupClass = 0;
  for (let a = s.subnet.network; a <= broadcast; a++) {
    if (!counted(a)) continue;
    numAddr++;
    const l = leases.get(a);
    const state = l?.state ?? 'free';
    if (state === 'active') {
      inUse++;
      if (l?.ownerServer === ME) inUseThis++;
    } else if (state === 'abandoned') abandoned++;
    else if (state === 'expired' || state === 'released' || state === 'reset') awaiting++;
    else if (state === 'backup') backupClass++;
    else freeClass++;
  }
  const free = freeClass + backupClass;
  const pending = offers.filter((o) => counted(o.address)).length;
  const thisFree = role === 'standalone' ? free : role === 'primary' ? freeClass : backupClass;
  return {
    numAddr,
    addrFree: free,
    addrInUse: inUse,
    partnerAddrFree: free - thisFree,
    thisAddrFree: thisFree,
    partnerAddrInUse: inUse - inUseThis,
    thisAddrInUse: inUseThis,
    pendingOffers: pending,
    reservedAddresses: reserved.size,
    percentageInUse: numAddr === 0 ? 0 : Math.round((10000 * inUse) / numAddr) / 100,
    addrAbandoned: abandoned,
    addrAwaitingAck: awaiting,
  };
}

const SUBNETS = ['10.0.0.0/26', '10.0.1.0/26'] as const;

const rangeArb = fc
  .tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 63 }))
  .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);

const scopeArb = (index: number) => {
  const net = parseSubnet(SUBNETS[index]!).network;
  return fc
    .record({
      ranges: fc.array(rangeArb, { maxLength: 3 }),
      exclusions: fc.array(rangeArb, { maxLength: 2 }),
      reserved: fc.uniqueArray(fc.integer({ min: 1, max: 62 }), { maxLength: 6 }),
      role: fc.constantFrom<ScopeRole>('standalone', 'primary', 'secondary'),
    })
    .map((r) => ({
      role: r.role,
      settings: scope({
        id: `s${index}`,
        subnet: SUBNETS[index]!,
        // Ranges of one scope must not overlap (the config loader rejects it): keep them disjoint.
        ranges: disjoint(r.ranges).map(([a, b]) => ({ start: net + a, end: net + b })),
        exclusions: r.exclusions.map(([a, b]) => ({ start: net + a, end: net + b })),
        reservations: r.reserved.map((o, i) => ({
          ...reservation({ address: `10.0.${index}.${o}` }),
          hardwareAddress: `0200000000${index}${i}`,
        })),
      }),
    }));
};

function disjoint(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

const leaseArb = fc.record({
  subnet: fc.integer({ min: 0, max: 2 }), // 2 = an address no scope knows
  offset: fc.integer({ min: 0, max: 63 }),
  state: fc.constantFrom(...STATES),
  owner: fc.constantFrom<string | null>(ME, 'tl-b', null),
  namesOtherScope: fc.boolean(),
});

test('computeScopeStatistics equals a brute-force count over every address', () => {
  fc.assert(
    fc.property(
      scopeArb(0),
      scopeArb(1),
      fc.array(leaseArb, { maxLength: 150 }),
      fc.array(
        fc.record({ subnet: fc.integer({ min: 0, max: 2 }), offset: fc.integer({ min: 0, max: 63 }) }),
        {
          maxLength: 10,
        },
      ),
      (s0, s1, rawLeases, rawOffers) => {
        const scopes = [s0, s1];
        const leases = new Map<Ipv4, Lease>();
        for (const r of rawLeases) {
          const address = ip(`10.0.${r.subnet}.${r.offset}`);
          const scopeId = r.namesOtherScope ? `s${1 - Math.min(r.subnet, 1)}` : `s${r.subnet}`;
          leases.set(address, { ...emptyLease(address, scopeId, r.state, NOW), ownerServer: r.owner });
        }
        const offers: Offer[] = rawOffers.map((o) => ({
          address: ip(`10.0.${o.subnet}.${o.offset}`),
          scopeId: `s${o.subnet}`,
        }));
        const roles = new Map(scopes.map((s) => [s.settings.id, s.role]));
        const views = scopes.map((s) => new ScopeView(s.settings));
        const context = { serverName: ME, roleOf: (id: string) => roles.get(id)!, now: NOW };
        const got = computeScopeStatistics(views, leases.values(), offers, context);
        // The engine's tallies (kept as bindings are put, here half at start and half after) give
        // the same numbers.
        const all = [...leases.values()];
        const engine = new DhcpEngine(
          { serverName: ME, serverIdentifier: 1, scopes: scopes.map((s) => s.settings), directScopeIds: [] },
          all.slice(0, all.length >> 1),
        );
        for (const l of all.slice(all.length >> 1)) engine.putLease({ ...l });
        assert.deepEqual(
          statisticsFromTallies(views, (i) => engine.leaseTable.tallyOf(i), offers, context),
          got,
        );
        for (const s of scopes) {
          const expected = bruteForce(s.settings, leases, offers, s.role);
          const actual = got.get(s.settings.id);
          assert.deepEqual(actual, expected);
          assert.equal(actual!.thisAddrFree + actual!.partnerAddrFree, actual!.addrFree);
          assert.equal(actual!.thisAddrInUse + actual!.partnerAddrInUse, actual!.addrInUse);
          assert.equal(
            actual!.addrFree + actual!.addrInUse + actual!.addrAbandoned + actual!.addrAwaitingAck,
            actual!.numAddr,
          );
        }
      },
    ),
    { numRuns: 400 },
  );
});

test('worked example (docs/api.md): a /24 with one range, an exclusion and two reservations', () => {
  const settings = scope({
    id: 'office',
    ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.199') }],
    exclusions: [{ start: ip('10.0.0.150'), end: ip('10.0.0.159') }],
    reservations: [
      { ...reservation({ address: '10.0.0.120' }), hardwareAddress: '001ba9123456' },
      { ...reservation({ address: '10.0.0.20' }), clientId: '01525400abcdef' },
    ],
  });
  const lease = (a: string, state: BindingState, owner: string | null = ME): Lease => ({
    ...emptyLease(ip(a), 'office', state, NOW),
    ownerServer: owner,
  });
  const leases = [
    lease('10.0.0.100', 'active'),
    lease('10.0.0.101', 'active', 'tl-b'),
    lease('10.0.0.20', 'active'),
    lease('10.0.0.102', 'abandoned'),
    lease('10.0.0.103', 'expired'),
    lease('10.0.0.104', 'backup'),
    lease('10.0.0.105', 'free'),
  ];
  const views = [new ScopeView(settings)];
  const stats = (role: ScopeRole) =>
    computeScopeStatistics(views, leases, [{ address: ip('10.0.0.106'), scopeId: 'office' }], {
      serverName: ME,
      roleOf: () => role,
      now: NOW,
    }).get('office')!;
  // 100 addresses in the range − 10 excluded − 1 reserved inside = 89 dynamic; + 2 reserved = 91.
  assert.deepEqual(stats('primary'), {
    numAddr: 91,
    addrFree: 91 - 3 - 1 - 1,
    addrInUse: 3,
    partnerAddrFree: 1,
    thisAddrFree: 85,
    partnerAddrInUse: 1,
    thisAddrInUse: 2,
    pendingOffers: 1,
    reservedAddresses: 2,
    percentageInUse: 3.3,
    addrAbandoned: 1,
    addrAwaitingAck: 1,
  });
  assert.equal(stats('secondary').thisAddrFree, 1);
  assert.equal(stats('secondary').partnerAddrFree, 85);
  assert.equal(stats('standalone').thisAddrFree, 86);
  assert.equal(stats('standalone').partnerAddrFree, 0);
  const sum = sumScopeStatistics([stats('primary'), stats('primary')]);
  assert.equal(sum.numAddr, 182);
  assert.equal(sum.percentageInUse, 3.3);
});

test('a duplicate record for one address is an invariant violation, not a silent miscount', () => {
  const settings = scope({ id: 'x', ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.100') }] });
  const l = emptyLease(ip('10.0.0.100'), 'x', 'active', NOW);
  assert.throws(
    () =>
      computeScopeStatistics([new ScopeView(settings)], [l, l], [], {
        serverName: ME,
        roleOf: () => 'standalone',
        now: NOW,
      }),
    /duplicate/,
  );
});
