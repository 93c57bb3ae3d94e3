// Binding updates against failover.md §5.3 (D12 Table 7.1-1), §5.4 (the decision matrix, written
// here again as data, independently of CONFLICT_MATRIX) and §5.5, through the real codec.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type BindingState, emptyLease, INFINITE_EXPIRY, type Lease } from '../../src/dhcp/lease.js';
import { bindingFromLease, decideIncoming, leaseFromBinding } from '../../src/failover/binding-update.js';
import { buildBndUpd, decodeFailover, encodeFailover } from '../../src/wire/failover-codec.js';
import {
  BindingStatus,
  type FailoverBinding,
  FailoverOptionCode as Opt,
  RejectReason,
} from '../../src/wire/failover-message.js';
import { fromHex, toHex } from '../../src/wire/ipv4.js';

const T0 = 1_700_000_000;
const PARTNER = 'partner-b';
const SCOPE = '192.0.2.0';

/** The BNDUPD carrying `lease`, encoded and decoded by the real codec. */
function onTheWire(lease: Lease): { binding: FailoverBinding; codes: number[] } {
  const bytes = encodeFailover(buildBndUpd({ time: T0, xid: 7, bindings: [bindingFromLease(lease)] }));
  const decoded = decodeFailover(bytes);
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
  assert.equal(decoded.message.bindings.length, 1);
  assert.deepEqual(decoded.message.duplicateOptions, []);
  return { binding: decoded.message.bindings[0]!, codes: decoded.message.options.map((o) => o.code) };
}

/** A binding with every client field set, in `state`. */
function withClient(state: BindingState, over: Partial<Lease> = {}): Lease {
  return {
    ...emptyLease(0xc000020a, SCOPE, state, T0),
    hardwareType: 1,
    hardwareAddress: '001122334455',
    clientId: '01001122334455',
    hostname: 'laptop',
    leaseExpiresAt: T0 + 3600,
    stateStartedAt: T0,
    clientLastTransactionAt: T0 + 5,
    sentPotentialExpiresAt: T0 + 7200,
    ownerServer: 'us',
    ...over,
  };
}

const ALL_STATES: BindingState[] = ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup'];

describe('bindingFromLease — D12 Table 7.1-1 (failover.md §5.3)', () => {
  // Per status: options that MUST be there, and options that MUST NOT (or SHOULD NOT, where we
  // choose to omit them), for a binding that has a client, a CLTT and an expiry.
  const table: Record<BindingState, { status: BindingStatus; must: Opt[]; mustNot: Opt[] }> = {
    active: {
      status: BindingStatus.ACTIVE,
      must: [
        Opt.CLIENT_IDENTIFIER, // the client used option 61
        Opt.CLIENT_HARDWARE_ADDRESS,
        Opt.LEASE_EXPIRATION_TIME,
        Opt.POTENTIAL_EXPIRATION_TIME,
        Opt.CLIENT_LAST_TRANSACTION_TIME,
        Opt.START_TIME_OF_STATE,
      ],
      mustNot: [Opt.IP_FLAGS],
    },
    expired: {
      status: BindingStatus.EXPIRED,
      must: [Opt.CLIENT_HARDWARE_ADDRESS, Opt.START_TIME_OF_STATE, Opt.CLIENT_LAST_TRANSACTION_TIME],
      mustNot: [
        Opt.LEASE_EXPIRATION_TIME,
        Opt.POTENTIAL_EXPIRATION_TIME,
        Opt.CLIENT_REQUEST_OPTIONS,
        Opt.CLIENT_REPLY_OPTIONS,
      ],
    },
    released: {
      status: BindingStatus.RELEASED,
      must: [Opt.CLIENT_HARDWARE_ADDRESS, Opt.START_TIME_OF_STATE, Opt.CLIENT_LAST_TRANSACTION_TIME],
      mustNot: [Opt.LEASE_EXPIRATION_TIME, Opt.POTENTIAL_EXPIRATION_TIME, Opt.CLIENT_REPLY_OPTIONS],
    },
    free: {
      status: BindingStatus.FREE,
      must: [Opt.START_TIME_OF_STATE],
      mustNot: [
        Opt.LEASE_EXPIRATION_TIME,
        Opt.POTENTIAL_EXPIRATION_TIME,
        Opt.CLIENT_REQUEST_OPTIONS,
        Opt.CLIENT_REPLY_OPTIONS,
      ],
    },
    backup: {
      status: BindingStatus.BACKUP,
      must: [Opt.START_TIME_OF_STATE],
      mustNot: [
        Opt.LEASE_EXPIRATION_TIME,
        Opt.POTENTIAL_EXPIRATION_TIME,
        Opt.CLIENT_REQUEST_OPTIONS,
        Opt.CLIENT_REPLY_OPTIONS,
      ],
    },
    reset: {
      status: BindingStatus.RESET,
      must: [Opt.START_TIME_OF_STATE],
      mustNot: [
        Opt.LEASE_EXPIRATION_TIME,
        Opt.POTENTIAL_EXPIRATION_TIME,
        Opt.CLIENT_REQUEST_OPTIONS,
        Opt.CLIENT_REPLY_OPTIONS,
      ],
    },
    abandoned: {
      status: BindingStatus.ABANDONED,
      must: [Opt.START_TIME_OF_STATE],
      mustNot: [
        Opt.CLIENT_IDENTIFIER,
        Opt.CLIENT_HARDWARE_ADDRESS,
        Opt.LEASE_EXPIRATION_TIME,
        Opt.POTENTIAL_EXPIRATION_TIME,
        Opt.CLIENT_REQUEST_OPTIONS,
        Opt.CLIENT_REPLY_OPTIONS,
      ],
    },
  };

  for (const state of ALL_STATES) {
    const row = table[state];
    it(`${state}: assigned-IP-address first, binding-status ${row.status}, MUST [${row.must}], MUST NOT [${row.mustNot}]`, () => {
      const { binding, codes } = onTheWire(withClient(state));
      assert.equal(codes[0], Opt.ASSIGNED_IP_ADDRESS);
      assert.equal(binding.address, 0xc000020a);
      assert.equal(binding.bindingStatus, row.status);
      for (const code of row.must) assert.ok(codes.includes(code), `option ${code} missing`);
      for (const code of row.mustNot) assert.ok(!codes.includes(code), `option ${code} present`);
    });
  }

  it('ACTIVE carries the exact lease-expiration, potential-expiration, CLTT, start time and hardware address', () => {
    const { binding } = onTheWire(withClient('active'));
    assert.equal(binding.leaseExpiresAt, T0 + 3600);
    assert.equal(binding.potentialExpiresAt, T0 + 7200);
    assert.equal(binding.clientLastTransactionAt, T0 + 5);
    assert.equal(binding.stateStartedAt, T0);
    assert.equal(binding.hardwareType, 1);
    assert.equal(binding.hardwareAddress, '001122334455');
    assert.equal(binding.clientId, '01001122334455');
  });

  it('client-identifier iff the client sent option 61', () => {
    for (const state of ['active', 'expired', 'released'] as const) {
      assert.ok(
        !onTheWire(withClient(state, { clientId: null })).codes.includes(Opt.CLIENT_IDENTIFIER),
        state,
      );
      assert.equal(onTheWire(withClient(state, { clientId: '00aabb' })).binding.clientId, '00aabb', state);
    }
  });

  it('a binding that never had a client carries no client options', () => {
    for (const state of ['free', 'backup', 'reset'] as const) {
      const { codes } = onTheWire(emptyLease(1, SCOPE, state, T0));
      assert.ok(!codes.includes(Opt.CLIENT_IDENTIFIER), state);
      assert.ok(!codes.includes(Opt.CLIENT_HARDWARE_ADDRESS), state);
      assert.ok(!codes.includes(Opt.CLIENT_LAST_TRANSACTION_TIME), state); // CLTT 0 = none
    }
  });

  it('a client with no hardware address (hlen 0, e.g. InfiniBand) still sends client-identifier and htype', () => {
    // RFC 4390: htype 32, hlen 0, option 61 mandatory. Table 7.1-1: client-identifier iff option
    // 61 was used; client-hardware-address MUST for ACTIVE, EXPIRED, RELEASED.
    for (const state of ['active', 'expired', 'released'] as const) {
      const lease = withClient(state, {
        hardwareType: 32,
        hardwareAddress: '',
        clientId: 'ff00000000aabbcc',
      });
      const { binding } = onTheWire(lease);
      assert.equal(binding.clientId, 'ff00000000aabbcc', state);
      assert.equal(binding.hardwareType, 32, state);
      assert.equal(binding.hardwareAddress, '', state);
      // And our own receiver has no reason to call it incomplete.
      assert.deepEqual(decideIncoming(undefined, binding, { role: 'primary', now: T0 }), { accept: true });
    }
  });

  it('IP-flags: R from isReserved, B from clientType bootp; absent when zero', () => {
    const cases: [boolean, Lease['clientType'], number | undefined][] = [
      [false, 'dhcp', undefined],
      [true, 'dhcp', 0x0001],
      [false, 'bootp', 0x0002],
      [true, 'bootp', 0x0003],
    ];
    for (const state of ALL_STATES) {
      for (const [isReserved, clientType, flags] of cases) {
        const { binding, codes } = onTheWire(withClient(state, { isReserved, clientType }));
        assert.equal(binding.ipFlags, flags, `${state} ${isReserved} ${clientType}`);
        assert.equal(codes.includes(Opt.IP_FLAGS), flags !== undefined);
      }
    }
  });

  it('potential-expiration-time is never before lease-expiration-time (failover.md §6.3)', () => {
    // No PET sent yet: the lease expiry itself.
    assert.equal(
      onTheWire(withClient('active', { sentPotentialExpiresAt: 0 })).binding.potentialExpiresAt,
      T0 + 3600,
    );
    // A PET beyond the expiry is sent as is.
    assert.equal(
      onTheWire(withClient('active', { sentPotentialExpiresAt: T0 + 9000 })).binding.potentialExpiresAt,
      T0 + 9000,
    );
    // A stale one (e.g. a binding received from the partner with a later expiry) is not.
    assert.equal(
      onTheWire(withClient('active', { sentPotentialExpiresAt: T0 + 60 })).binding.potentialExpiresAt,
      T0 + 3600,
    );
    assert.equal(
      onTheWire(
        withClient('active', { leaseExpiresAt: INFINITE_EXPIRY, sentPotentialExpiresAt: INFINITE_EXPIRY }),
      ).binding.potentialExpiresAt,
      INFINITE_EXPIRY,
    );
  });

  it('the host name travels in client-request-options (magic cookie + option 12) for ACTIVE only', () => {
    const active = onTheWire(withClient('active', { hostname: 'pc-7' })).binding;
    assert.deepEqual(
      toHex(active.clientRequestOptions!),
      `63825363 0c 04 ${toHex(new TextEncoder().encode('pc-7'))}`.replaceAll(' ', ''),
    );
    assert.equal(onTheWire(withClient('active', { hostname: null })).binding.clientRequestOptions, undefined);
  });

  it('reproduces the worked BNDUPD bytes of failover.md §3.6', () => {
    const lease: Lease = {
      ...emptyLease(0xc000020a, SCOPE, 'active', 0x65000000),
      hardwareType: 1,
      hardwareAddress: '001122334455',
      leaseExpiresAt: 0x65000e10,
      sentPotentialExpiresAt: 0x65001518,
      clientLastTransactionAt: 0x65000000,
    };
    const bytes = encodeFailover(
      buildBndUpd({ time: 0x65000000, xid: 3, bindings: [bindingFromLease(lease)] }),
    );
    const expected =
      '0044030c6500000000000003' +
      '00020004c000020a' +
      '0003000102' +
      '0005000701001122334455' +
      '000d000465000e10' +
      '0012000465001518' +
      '0019000465000000' +
      '0006000465000000';
    assert.equal(toHex(bytes), expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip: lease → BNDUPD → bytes → decode → leaseFromBinding keeps what the wire carries.

const uint32Time = fc.integer({ min: 1, max: 0xffffffff });
const hostnameArb = fc
  .oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/), fc.string({ unit: 'grapheme', maxLength: 20 }))
  .filter((h) => !h.endsWith('\0'));

/** Leases as the engine makes them: a client (htype ≠ 0; no hardware address only with a client id) or none. */
const leaseArb: fc.Arbitrary<Lease> = fc
  .record({
    address: fc.integer({ min: 0, max: 0xffffffff }),
    state: fc.constantFrom(...ALL_STATES),
    hasClient: fc.boolean(),
    hardwareType: fc.integer({ min: 1, max: 255 }),
    hardwareAddress: fc.uint8Array({ minLength: 0, maxLength: 16 }).map(toHex),
    clientId: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }).map(toHex)),
    hostname: fc.option(hostnameArb),
    clientType: fc.constantFrom('dhcp' as const, 'bootp' as const),
    isReserved: fc.boolean(),
    leaseExpiresAt: uint32Time,
    stateStartedAt: uint32Time,
    clientLastTransactionAt: fc.oneof(fc.constant(0), uint32Time),
    sentPotentialExpiresAt: fc.oneof(fc.constant(0), uint32Time),
    ackedPotentialExpiresAt: fc.oneof(fc.constant(0), uint32Time),
    receivedPotentialExpiresAt: fc.oneof(fc.constant(0), uint32Time),
    policyName: fc.option(fc.string()),
    fqdn: fc.option(fc.string()),
  })
  .map((r) => {
    const hasClient = r.hasClient || r.state === 'active' || r.state === 'expired' || r.state === 'released';
    const l: Lease = {
      ...emptyLease(r.address, SCOPE, r.state, r.stateStartedAt),
      clientType: r.clientType,
      isReserved: r.isReserved,
      leaseExpiresAt: r.leaseExpiresAt,
      clientLastTransactionAt: r.clientLastTransactionAt,
      sentPotentialExpiresAt: r.sentPotentialExpiresAt,
      ackedPotentialExpiresAt: r.ackedPotentialExpiresAt,
      receivedPotentialExpiresAt: r.receivedPotentialExpiresAt,
      hostname: r.hostname,
      policyName: r.policyName,
      fqdn: r.fqdn,
      ownerServer: 'us',
    };
    if (hasClient) {
      l.hardwareType = r.hardwareType;
      l.hardwareAddress = r.hardwareAddress;
      l.clientId = r.hardwareAddress === '' && r.clientId === null ? '01' : r.clientId;
    }
    return l;
  });

describe('BNDUPD round trip through the codec (fast-check)', () => {
  it('leaseFromBinding(decode(encode(bindingFromLease(l)))) keeps every field the wire carries', () => {
    fc.assert(
      fc.property(leaseArb, (l) => {
        const { binding } = onTheWire(l);
        const got = leaseFromBinding(binding, undefined, SCOPE, PARTNER, T0);
        const isActive = l.state === 'active';
        const carriesClient = l.state !== 'abandoned' && (l.hardwareAddress !== '' || l.clientId !== null);
        // Received EXPIRED/RELEASED/RESET are recorded as FREE (failover.md §5.4).
        const state: BindingState =
          l.state === 'expired' || l.state === 'released' || l.state === 'reset' ? 'free' : l.state;
        assert.deepEqual(
          {
            address: got.address,
            scopeId: got.scopeId,
            state: got.state,
            hardwareType: got.hardwareType,
            hardwareAddress: got.hardwareAddress,
            clientId: got.clientId,
            hostname: got.hostname,
            clientType: got.clientType,
            isReserved: got.isReserved,
            leaseExpiresAt: got.leaseExpiresAt,
            stateStartedAt: got.stateStartedAt,
            clientLastTransactionAt: got.clientLastTransactionAt,
            receivedPotentialExpiresAt: got.receivedPotentialExpiresAt,
            ownerServer: got.ownerServer,
            isPartnerUpToDate: got.isPartnerUpToDate,
            lastBindingUpdateAt: got.lastBindingUpdateAt,
          },
          {
            address: l.address,
            scopeId: SCOPE,
            state,
            hardwareType: carriesClient ? l.hardwareType : 0,
            hardwareAddress: carriesClient ? l.hardwareAddress : '',
            clientId: carriesClient ? l.clientId : null,
            hostname: isActive ? l.hostname : null,
            clientType: l.clientType,
            isReserved: l.isReserved,
            leaseExpiresAt: isActive ? l.leaseExpiresAt : 0,
            stateStartedAt: l.stateStartedAt,
            clientLastTransactionAt: l.clientLastTransactionAt,
            receivedPotentialExpiresAt: isActive ? Math.max(l.sentPotentialExpiresAt, l.leaseExpiresAt) : 0,
            ownerServer: isActive ? PARTNER : null,
            isPartnerUpToDate: true,
            lastBindingUpdateAt: T0,
          },
        );
        // What we sent is not what we received: our own PET bookkeeping stays empty on the receiver.
        assert.equal(got.sentPotentialExpiresAt, 0);
        assert.equal(got.ackedPotentialExpiresAt, 0);
      }),
      { numRuns: 500 },
    );
  });

  it('every generated BNDUPD is acceptable to an empty receiver (no missing binding information)', () => {
    fc.assert(
      fc.property(leaseArb, fc.constantFrom('primary' as const, 'secondary' as const), (l, role) => {
        assert.deepEqual(decideIncoming(undefined, onTheWire(l).binding, { role, now: T0 }), {
          accept: true,
        });
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// decideIncoming: failover.md §5.4 matrix, rows = our status, columns = received status.

type Rule = 'accept' | 'accept¹' | 'T1' | 'T2' | 'T3' | 'reject 16';
type ColumnGroup = 'ACTIVE' | 'EXPIRED' | 'RELEASED' | 'FREE / BACKUP' | 'RESET / ABANDONED';

// Copied by hand from the spec table (not from CONFLICT_MATRIX).
const SPEC_MATRIX: Record<string, Record<ColumnGroup, Rule>> = {
  ACTIVE: {
    ACTIVE: 'accept¹',
    EXPIRED: 'T2',
    RELEASED: 'T1',
    'FREE / BACKUP': 'T2',
    'RESET / ABANDONED': 'accept',
  },
  EXPIRED: {
    ACTIVE: 'T1',
    EXPIRED: 'accept',
    RELEASED: 'accept',
    'FREE / BACKUP': 'accept',
    'RESET / ABANDONED': 'accept',
  },
  RELEASED: {
    ACTIVE: 'T1',
    EXPIRED: 'T1',
    RELEASED: 'accept',
    'FREE / BACKUP': 'accept',
    'RESET / ABANDONED': 'accept',
  },
  'FREE / BACKUP': {
    ACTIVE: 'accept',
    EXPIRED: 'accept',
    RELEASED: 'accept',
    'FREE / BACKUP': 'accept',
    'RESET / ABANDONED': 'accept',
  },
  RESET: {
    ACTIVE: 'T3',
    EXPIRED: 'accept',
    RELEASED: 'accept',
    'FREE / BACKUP': 'accept',
    'RESET / ABANDONED': 'accept',
  },
  ABANDONED: {
    ACTIVE: 'reject 16',
    EXPIRED: 'reject 16',
    RELEASED: 'reject 16',
    'FREE / BACKUP': 'reject 16',
    'RESET / ABANDONED': 'accept',
  },
};

const ROW_OF: Record<BindingState, string> = {
  active: 'ACTIVE',
  expired: 'EXPIRED',
  released: 'RELEASED',
  free: 'FREE / BACKUP',
  backup: 'FREE / BACKUP',
  reset: 'RESET',
  abandoned: 'ABANDONED',
};

const RECEIVED: [BindingStatus, ColumnGroup][] = [
  [BindingStatus.ACTIVE, 'ACTIVE'],
  [BindingStatus.EXPIRED, 'EXPIRED'],
  [BindingStatus.RELEASED, 'RELEASED'],
  [BindingStatus.FREE, 'FREE / BACKUP'],
  [BindingStatus.BACKUP, 'FREE / BACKUP'],
  [BindingStatus.RESET, 'RESET / ABANDONED'],
  [BindingStatus.ABANDONED, 'RESET / ABANDONED'],
];

const OUR_CLTT = T0 + 100;
const OUR_STOS = T0 + 50;
const OUR_EXPIRY = T0 + 1000;
/** ours() builds bindings the partner has acknowledged. */
const OURS_ACKNOWLEDGED: boolean = true;

function ours(state: BindingState, over: Partial<Lease> = {}): Lease {
  return {
    ...emptyLease(0xc0000201, SCOPE, state, OUR_STOS),
    hardwareType: 1,
    hardwareAddress: 'aaaaaaaaaaaa',
    clientLastTransactionAt: OUR_CLTT,
    leaseExpiresAt: OUR_EXPIRY,
    // The partner has acknowledged it: the matrix's time rules apply (an unacknowledged binding
    // is a concurrent change, tested on its own below).
    isPartnerUpToDate: true,
    ...over,
  };
}

/** A complete received binding of `status`; `cltt` undefined = no CLTT option. */
function received(
  status: BindingStatus,
  cltt: number | undefined,
  hardwareAddress = 'aaaaaaaaaaaa',
): FailoverBinding {
  const b: FailoverBinding = {
    address: 0xc0000201,
    bindingStatus: status,
    stateStartedAt: T0 + 60,
    otherOptions: [],
  };
  if (
    status !== BindingStatus.ABANDONED &&
    status !== BindingStatus.FREE &&
    status !== BindingStatus.BACKUP
  ) {
    b.hardwareType = 1;
    b.hardwareAddress = hardwareAddress;
  }
  if (status === BindingStatus.ACTIVE) {
    b.leaseExpiresAt = T0 + 5000;
    b.potentialExpiresAt = T0 + 6000;
  }
  if (cltt !== undefined) b.clientLastTransactionAt = cltt;
  return b;
}

interface Case {
  what: string;
  ours: Lease;
  received: FailoverBinding;
  now: number;
  role: 'primary' | 'secondary';
  accept: boolean;
  reason?: RejectReason;
}

/** Equal times: ACTIVE beats anything else; otherwise the primary's binding wins (ISC's dueling rule). */
function tieWonByReceived(
  ours: BindingState,
  received: BindingStatus,
  role: 'primary' | 'secondary',
): boolean {
  // ours() is acknowledged by the partner: its update follows ours, the tie is theirs.
  if (OURS_ACKNOWLEDGED) return true;
  const receivedIsActive = received === BindingStatus.ACTIVE;
  if (receivedIsActive !== (ours === 'active')) return receivedIsActive;
  return role === 'secondary';
}

/** The cases that pin a rule: both outcomes of every test, and the CLTT-absent rules. */
function casesFor(state: BindingState, status: BindingStatus, rule: Rule): Case[] {
  const mk = (
    what: string,
    o: Lease,
    r: FailoverBinding,
    now: number,
    accept: boolean,
    reason?: RejectReason,
  ) =>
    (['primary', 'secondary'] as const).map((role) => ({
      what,
      ours: o,
      received: r,
      now,
      role,
      accept,
      reason,
    }));
  const before = OUR_EXPIRY - 1; // our lease still running
  const after = OUR_EXPIRY + 1;
  switch (rule) {
    case 'accept':
      return [
        // ACTIVE × ABANDONED: a decline older than our ACTIVE does not replace it (reject 15).
        ...(state === 'active' && status === BindingStatus.ABANDONED
          ? mk(
              'decline older than our ACTIVE → 15',
              ours(state),
              received(status, OUR_CLTT - 1),
              before,
              false,
              15,
            )
          : mk(
              'their CLTT older, our lease running',
              ours(state),
              received(status, OUR_CLTT - 1),
              before,
              true,
            )),
        ...mk('no CLTT received', ours(state), received(status, undefined), before, true),
        ...mk('their CLTT newer', ours(state), received(status, OUR_CLTT + 1), after, true),
      ];
    case 'reject 16':
      if (status === BindingStatus.ACTIVE) {
        // Our ABANDONED against an ACTIVE: a client given the address after our decline (CLTT
        // later than our start of state) is recorded (sim seed 79); an older or undated one is not.
        return [
          ...mk(
            'ACTIVE given after our decline → accept',
            ours(state),
            received(status, OUR_STOS + 1),
            before,
            true,
          ),
          ...mk('ACTIVE from before our decline', ours(state), received(status, OUR_STOS), after, false, 16),
          ...mk('no CLTT', ours(state), received(status, undefined), after, false, 16),
        ];
      }
      return [
        ...mk('their CLTT newer', ours(state), received(status, OUR_CLTT + 1), after, false, 16),
        ...mk('no CLTT', ours(state), received(status, undefined), after, false, 16),
      ];
    case 'T1':
      return [
        ...mk('T1 their CLTT later → accept', ours(state), received(status, OUR_CLTT + 1), before, true),
        // Equal CLTT: ACTIVE beats anything else, otherwise the primary's binding wins.
        ...mk('T1 equal CLTT', ours(state), received(status, OUR_CLTT), after, false, 15).map((c) =>
          tieWonByReceived(state, status, c.role)
            ? { ...c, what: 'T1 equal CLTT, tie won by the sender → accept', accept: true, reason: undefined }
            : { ...c, what: 'T1 equal CLTT, tie won by us → 15' },
        ),
        ...mk('T1 their CLTT earlier → 15', ours(state), received(status, OUR_CLTT - 1), after, false, 15),
        ...mk('T1 no CLTT received → 15', ours(state), received(status, undefined), after, false, 15),
        ...mk(
          'T1 we have no CLTT, they do → accept',
          ours(state, { clientLastTransactionAt: 0 }),
          received(status, 1),
          before,
          true,
        ),
        ...mk(
          'T1 neither has a CLTT → 15',
          ours(state, { clientLastTransactionAt: 0 }),
          received(status, undefined),
          after,
          false,
          15,
        ),
      ];
    case 'T2':
      return [
        ...mk('T2 now after our expiry → accept', ours(state), received(status, undefined), after, true),
        // Whole seconds: the lease is over in its expiry second (our expiry tick, dhcpd's pool timer).
        ...mk(
          'T2 now = our expiry → accept',
          ours(state),
          received(status, OUR_CLTT + 1000),
          OUR_EXPIRY,
          true,
        ),
        ...mk(
          'T2 a second before our expiry → 15',
          ours(state),
          received(status, OUR_CLTT + 1000),
          OUR_EXPIRY - 1,
          false,
          15,
        ),
        ...mk(
          'T2 our lease running → 15 (CLTT irrelevant)',
          ours(state),
          received(status, T0 + 9999),
          before,
          false,
          15,
        ),
        ...mk(
          'T2 infinite lease never expires → 15',
          ours(state, { leaseExpiresAt: INFINITE_EXPIRY }),
          received(status, T0 + 9999),
          0xfffffffe,
          false,
          15,
        ),
      ];
    case 'T3':
      return [
        ...mk(
          'T3 their CLTT after our reset → accept',
          ours(state),
          received(status, OUR_STOS + 1),
          before,
          true,
        ),
        ...mk('T3 their CLTT = our reset', ours(state), received(status, OUR_STOS), after, false, 15).map(
          (c) =>
            tieWonByReceived(state, status, c.role)
              ? { ...c, what: 'T3 equal, tie won by the sender → accept', accept: true, reason: undefined }
              : { ...c, what: 'T3 equal, tie won by us → 15' },
        ),
        ...mk(
          'T3 their CLTT before our reset → 15',
          ours(state),
          received(status, OUR_STOS - 1),
          after,
          false,
          15,
        ),
        ...mk('T3 no CLTT received → 15', ours(state), received(status, undefined), after, false, 15),
        ...mk(
          'T3 compares with our start-time-of-state, not our CLTT',
          ours(state, { clientLastTransactionAt: OUR_STOS + 500 }),
          received(status, OUR_STOS + 1),
          before,
          true,
        ),
      ];
    case 'accept¹': {
      const sameHw = received(status, OUR_CLTT - 1);
      const otherHw = received(status, OUR_CLTT + 1, 'bbbbbbbbbbbb');
      const sameCid = { ...received(status, undefined, 'cccccccccccc'), clientId: '01aa' };
      return [
        ...mk('same client (hardware address) → accept', ours(state), sameHw, before, true),
        ...mk('same client (client id) → accept', ours(state, { clientId: '01aa' }), sameCid, before, true),
        {
          what: 'other client, on the primary → 2',
          ours: ours(state),
          received: otherHw,
          now: after,
          role: 'primary',
          accept: false,
          reason: 2,
        },
        {
          what: 'other client, on the secondary → accept',
          ours: ours(state),
          received: otherHw,
          now: before,
          role: 'secondary',
          accept: true,
        },
        {
          what: 'other client id, same hardware, on the primary → 2',
          ours: ours(state, { clientId: '01aa' }),
          received: { ...sameHw, clientId: '01bb' },
          now: after,
          role: 'primary',
          accept: false,
          reason: 2,
        },
      ];
    }
  }
}

describe('decideIncoming — failover.md §5.4 matrix, every cell', () => {
  for (const state of ALL_STATES) {
    for (const [status, column] of RECEIVED) {
      const rule = SPEC_MATRIX[ROW_OF[state]]![column];
      it(`ours ${state} × received ${BindingStatus[status]}: ${rule}`, () => {
        for (const c of casesFor(state, status, rule)) {
          const got = decideIncoming(c.ours, c.received, { role: c.role, now: c.now });
          const label = `${c.what} (${c.role})`;
          assert.equal(got.accept, c.accept, label);
          if (!got.accept) {
            assert.equal(got.reason, c.reason, label);
            assert.ok(got.message.length > 0, label);
          }
        }
      });
    }
  }

  it('an address we never used (no binding) accepts every status', () => {
    for (const [status] of RECEIVED) {
      for (const role of ['primary', 'secondary'] as const) {
        assert.deepEqual(decideIncoming(undefined, received(status, undefined), { role, now: T0 }), {
          accept: true,
        });
      }
    }
  });
});

describe('decideIncoming — insufficient binding information is rejected with 3 (failover.md §5.4)', () => {
  const ctx = { role: 'primary' as const, now: T0 };
  const cases: [string, FailoverBinding][] = [
    ['no binding-status', { address: 1, otherOptions: [] }],
    [
      'ACTIVE without client-hardware-address',
      { ...received(BindingStatus.ACTIVE, T0), hardwareAddress: undefined, hardwareType: undefined },
    ],
    [
      'ACTIVE without lease-expiration-time',
      { ...received(BindingStatus.ACTIVE, T0), leaseExpiresAt: undefined },
    ],
    [
      'binding-status 0 (not a D12 value)',
      { ...received(BindingStatus.FREE, T0), bindingStatus: 0 as BindingStatus },
    ],
    [
      'binding-status 8 (not a D12 value)',
      { ...received(BindingStatus.FREE, T0), bindingStatus: 8 as BindingStatus },
    ],
    ['binding-status 255', { ...received(BindingStatus.FREE, T0), bindingStatus: 255 as BindingStatus }],
  ];
  for (const [what, b] of cases) {
    it(what, () => {
      for (const o of [undefined, ours('active'), ours('free'), ours('abandoned')]) {
        const got = decideIncoming(o, b, ctx);
        assert.equal(got.accept, false, `${what}, ours ${o?.state}`);
        assert.equal(!got.accept && got.reason, RejectReason.MISSING_BINDING_INFORMATION);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('leaseFromBinding — what the receiver records (failover.md §5.4)', () => {
  const statuses: [BindingStatus, BindingState][] = [
    [BindingStatus.FREE, 'free'],
    [BindingStatus.ACTIVE, 'active'],
    [BindingStatus.EXPIRED, 'free'],
    [BindingStatus.RELEASED, 'free'],
    [BindingStatus.ABANDONED, 'abandoned'],
    [BindingStatus.RESET, 'free'],
    [BindingStatus.BACKUP, 'backup'],
  ];
  for (const [status, state] of statuses) {
    it(`received ${BindingStatus[status]} is recorded as ${state}, whatever we had`, () => {
      for (const before of [undefined, ...ALL_STATES.map((s) => ours(s))]) {
        const got = leaseFromBinding(received(status, T0 + 7), before, SCOPE, PARTNER, T0 + 10);
        assert.equal(got.state, state, `ours ${before?.state}`);
        assert.equal(got.isPartnerUpToDate, true);
        assert.equal(got.lastBindingUpdateAt, T0 + 10);
        assert.equal(got.stateStartedAt, T0 + 60);
      }
    });
  }

  it('ABANDONED drops the client; ACTIVE from another client replaces it', () => {
    const mine = ours('active', { clientId: '01aa', hostname: 'mine' });
    const abandoned = leaseFromBinding(
      received(BindingStatus.ABANDONED, undefined),
      mine,
      SCOPE,
      PARTNER,
      T0,
    );
    assert.deepEqual(
      [abandoned.hardwareType, abandoned.hardwareAddress, abandoned.clientId, abandoned.hostname],
      [0, '', null, null],
    );
    // Even when a (non-conforming) sender includes client options with ABANDONED (Table 7.1-1: MUST NOT).
    const noisy = {
      ...received(BindingStatus.ABANDONED, T0),
      hardwareType: 1,
      hardwareAddress: 'bb',
      clientId: '01bb',
    };
    const dropped = leaseFromBinding(noisy, mine, SCOPE, PARTNER, T0);
    assert.deepEqual([dropped.hardwareType, dropped.hardwareAddress, dropped.clientId], [0, '', null]);
    const theirs = leaseFromBinding(
      received(BindingStatus.ACTIVE, T0 + 7, 'bbbbbbbbbbbb'),
      mine,
      SCOPE,
      PARTNER,
      T0,
    );
    assert.deepEqual(
      [theirs.hardwareAddress, theirs.clientId, theirs.hostname],
      ['bbbbbbbbbbbb', null, null],
    );
    assert.equal(theirs.ownerServer, PARTNER);
  });

  it('records the received potential expiration and keeps our own sent/acked ones', () => {
    const mine = ours('active', {
      sentPotentialExpiresAt: T0 + 111,
      ackedPotentialExpiresAt: T0 + 99,
      receivedPotentialExpiresAt: 5,
    });
    const got = leaseFromBinding(received(BindingStatus.ACTIVE, T0 + 7), mine, SCOPE, PARTNER, T0);
    assert.equal(got.receivedPotentialExpiresAt, T0 + 6000);
    assert.equal(got.sentPotentialExpiresAt, T0 + 111);
    assert.equal(got.ackedPotentialExpiresAt, T0 + 99);
    assert.equal(got.leaseExpiresAt, T0 + 5000);
    // The same client: the later of the two CLTTs stays.
    assert.equal(got.clientLastTransactionAt, OUR_CLTT);
  });

  it('the same client still bound here keeps the later expiry (ours when we renewed it last)', () => {
    const mine = ours('active', { leaseExpiresAt: T0 + 9000, clientLastTransactionAt: T0 + 200 });
    const got = leaseFromBinding(received(BindingStatus.ACTIVE, T0 + 7), mine, SCOPE, PARTNER, T0);
    assert.equal(got.leaseExpiresAt, T0 + 9000);
    assert.equal(got.clientLastTransactionAt, T0 + 200);
    // Another client: theirs, whole.
    const other = leaseFromBinding(
      received(BindingStatus.ACTIVE, T0 + 7, 'bbbbbbbbbbbb'),
      mine,
      SCOPE,
      PARTNER,
      T0,
    );
    assert.equal(other.leaseExpiresAt, T0 + 5000);
    assert.equal(other.clientLastTransactionAt, T0 + 7);
  });

  it('IP-flags set isReserved and clientType', () => {
    for (const [flags, isReserved, clientType] of [
      [undefined, false, 'dhcp'],
      [1, true, 'dhcp'],
      [2, false, 'bootp'],
      [3, true, 'bootp'],
    ] as const) {
      const b = { ...received(BindingStatus.ACTIVE, T0), ipFlags: flags };
      const got = leaseFromBinding(b, undefined, SCOPE, PARTNER, T0);
      assert.deepEqual([got.isReserved, got.clientType], [isReserved, clientType], String(flags));
    }
  });

  it('a host name in client-request-options is kept (and a malformed option list does not throw)', () => {
    const opts = fromHex(`63825363000c03616263ff`); // cookie, pad, option 12 "abc", end
    const b = { ...received(BindingStatus.ACTIVE, T0), clientRequestOptions: opts };
    assert.equal(leaseFromBinding(b, undefined, SCOPE, PARTNER, T0).hostname, 'abc');
    const truncated = { ...b, clientRequestOptions: fromHex('638253630c09616263') };
    assert.equal(leaseFromBinding(truncated, undefined, SCOPE, PARTNER, T0).hostname, null);
  });
});

describe('decideIncoming — a primary in RECOVER', () => {
  it("accepts the partner's ACTIVE for another client (given away in PARTNER-DOWN) but keeps the rest of the matrix", () => {
    const mine = ours('active');
    const theirs = received(BindingStatus.ACTIVE, OUR_CLTT + 5, 'bbbbbbbbbbbb');
    assert.equal(decideIncoming(mine, theirs, { role: 'primary', now: T0 }).accept, false);
    assert.equal(decideIncoming(mine, theirs, { role: 'primary', now: T0, isRecovering: true }).accept, true);
    // Our own later binding (a renewal the partner never heard of) still beats their EXPIRED.
    const expired = received(BindingStatus.EXPIRED, OUR_CLTT - 5);
    const d = decideIncoming(mine, expired, { role: 'primary', now: OUR_EXPIRY - 1, isRecovering: true });
    assert.deepEqual([d.accept, d.accept ? 0 : d.reason], [false, RejectReason.OUTDATED_BINDING_INFORMATION]);
  });
});

describe('decideIncoming — concurrent changes (our binding not yet acknowledged)', () => {
  it('the ACTIVE side wins whatever the CLTTs say', () => {
    for (const role of ['primary', 'secondary'] as const) {
      const ctx = { role, now: OUR_EXPIRY - 1 };
      // Ours ACTIVE, unacknowledged; theirs RELEASED with a later CLTT → keep ours.
      const a = decideIncoming(
        ours('active', { isPartnerUpToDate: false }),
        received(BindingStatus.RELEASED, OUR_CLTT + 30),
        ctx,
      );
      assert.equal(a.accept, false, role);
      // Ours RELEASED, unacknowledged; theirs ACTIVE with an earlier CLTT → take theirs.
      const b = decideIncoming(
        ours('released', { isPartnerUpToDate: false }),
        received(BindingStatus.ACTIVE, OUR_CLTT - 30),
        ctx,
      );
      assert.equal(b.accept, true, role);
      // Both non-ACTIVE: the CLTT decides as usual.
      const c = decideIncoming(
        ours('released', { isPartnerUpToDate: false }),
        received(BindingStatus.EXPIRED, OUR_CLTT - 30),
        ctx,
      );
      assert.equal(c.accept, false, role);
    }
  });
});

describe('decideIncoming — our times stored before a restart no clock measured (sim seed 72758)', () => {
  it('acknowledged or not, an ACTIVE binding wins against a time of ours that cannot be ordered; times since the restart are ordered as usual', () => {
    const bootAt = OUR_CLTT + 10;
    for (const role of ['primary', 'secondary'] as const) {
      const ctx = { role, now: OUR_EXPIRY - 1, orderedTimesFrom: bootAt };
      // Ours ACTIVE (acknowledged) from before the restart; theirs RELEASED with a later CLTT:
      // keep ours (its CLTT may read earlier than it was by a step of the wall clock).
      const a = decideIncoming(ours('active'), received(BindingStatus.RELEASED, OUR_CLTT + 30), ctx);
      assert.deepEqual(
        [a.accept, a.accept ? 0 : a.reason],
        [false, RejectReason.OUTDATED_BINDING_INFORMATION],
        role,
      );
      // Without the restart the later RELEASED wins, as the matrix says.
      const plain = { role, now: OUR_EXPIRY - 1 };
      assert.equal(
        decideIncoming(ours('active'), received(BindingStatus.RELEASED, OUR_CLTT + 30), plain).accept,
        true,
      );
      // Ours RELEASED from before the restart; theirs ACTIVE with an earlier CLTT: take theirs
      // (ours may read later than it was).
      assert.equal(
        decideIncoming(ours('released'), received(BindingStatus.ACTIVE, OUR_CLTT - 30), ctx).accept,
        true,
        role,
      );
      // Ours RESET from before the restart against their ACTIVE: theirs.
      assert.equal(
        decideIncoming(ours('reset'), received(BindingStatus.ACTIVE, OUR_STOS - 30), ctx).accept,
        true,
        role,
      );
      // Ours ACTIVE from before the restart against a decline: keep ours (as sim seed 217).
      assert.equal(
        decideIncoming(ours('active'), received(BindingStatus.ABANDONED, OUR_CLTT + 30), ctx).accept,
        false,
        role,
      );
      // Both non-ACTIVE: either is safe; the CLTT decides as usual.
      assert.equal(
        decideIncoming(ours('released'), received(BindingStatus.EXPIRED, OUR_CLTT - 30), ctx).accept,
        false,
        role,
      );
      // A CLTT of ours taken since the restart is ordered: the later RELEASED wins.
      assert.equal(
        decideIncoming(
          ours('active', { clientLastTransactionAt: bootAt }),
          received(BindingStatus.RELEASED, bootAt + 30),
          ctx,
        ).accept,
        true,
        role,
      );
    }
  });
});

describe('decideIncoming — equal CLTTs', () => {
  it("the partner's update wins a tie when it had acknowledged ours (it follows ours); otherwise ACTIVE, then the primary", () => {
    const ctx = { role: 'primary' as const, now: OUR_EXPIRY - 1 };
    // ISC marks a lease RELEASED without changing its CLTT: the release must still be accepted.
    assert.equal(
      decideIncoming(ours('active'), received(BindingStatus.RELEASED, OUR_CLTT), ctx).accept,
      true,
    );
    // Concurrent (ours not acknowledged): our ACTIVE wins.
    assert.equal(
      decideIncoming(
        ours('active', { isPartnerUpToDate: false }),
        received(BindingStatus.RELEASED, OUR_CLTT),
        ctx,
      ).accept,
      false,
    );
  });
});

describe('decideIncoming — dueling updates', () => {
  it("the loser of a duel accepts the winner's update whatever the matrix says (sim seed 82)", () => {
    // Our RELEASED crossed the primary's EXPIRED; the primary rejects ours (16). Judged by CLTT,
    // the secondary rejected the EXPIRED too and each side kept its own binding for good.
    const mine = ours('released', { isPartnerUpToDate: true });
    const theirs = received(BindingStatus.EXPIRED, OUR_CLTT - 30);
    const ctx = { role: 'secondary' as const, now: OUR_EXPIRY - 1 };
    assert.equal(decideIncoming(mine, theirs, ctx).accept, false);
    assert.equal(decideIncoming(mine, theirs, { ...ctx, hasPartnerWonDuel: true }).accept, true);
    // An ill-formed update is still refused.
    const bad = { ...received(BindingStatus.ACTIVE, OUR_CLTT), leaseExpiresAt: undefined };
    const d = decideIncoming(mine, bad, { ...ctx, hasPartnerWonDuel: true });
    assert.deepEqual([d.accept, d.accept ? 0 : d.reason], [false, RejectReason.MISSING_BINDING_INFORMATION]);
  });
});

describe('decideIncoming — rule T2 at the expiry second (issue 14 item 11)', () => {
  it("accepts the partner's EXPIRED in the lease's last second, and a second early when its clock reads ahead", () => {
    const mine = ours('active');
    const expired = received(BindingStatus.EXPIRED, undefined);
    const at = (now: number, tolerance?: number) =>
      decideIncoming(mine, expired, {
        role: 'secondary',
        now,
        ...(tolerance !== undefined ? { expiryToleranceSeconds: tolerance } : {}),
      }).accept;
    assert.equal(at(OUR_EXPIRY), true, 'dhcpd expires at ends itself');
    assert.equal(at(OUR_EXPIRY - 1), false);
    assert.equal(at(OUR_EXPIRY - 1, 1), true, 'partner clock measured a second ahead');
    assert.equal(at(OUR_EXPIRY - 2, 1), false);
    const infinite = ours('active', { leaseExpiresAt: INFINITE_EXPIRY });
    assert.equal(
      decideIncoming(infinite, expired, {
        role: 'secondary',
        now: INFINITE_EXPIRY - 1,
        expiryToleranceSeconds: 1,
      }).accept,
      false,
      'an infinite lease never ends',
    );
  });
});

describe('decideIncoming — our EXPIRED against the lease it ended, sent back (sim seed 192694)', () => {
  it('the same client, transaction and lease end to within a round trip of the two offset measurements: kept EXPIRED', () => {
    // The partner's copy of our lease ended a second later on its timeline; it rejected our
    // EXPIRED (T2) and sent its ACTIVE copy back, whose CLTT and expiry read a second later here.
    for (const role of ['primary', 'secondary'] as const) {
      for (const isPartnerUpToDate of [true, false]) {
        const mine = ours('expired', { isPartnerUpToDate });
        const ctx = { role, now: OUR_EXPIRY };
        const back = (clttShift: number, expiryShift: number): FailoverBinding => ({
          ...received(BindingStatus.ACTIVE, OUR_CLTT + clttShift),
          leaseExpiresAt: OUR_EXPIRY + expiryShift,
          potentialExpiresAt: OUR_EXPIRY + expiryShift,
        });
        const label = `${role}, acknowledged ${isPartnerUpToDate}`;
        for (const shift of [-1, 0, 1, 2]) {
          const d = decideIncoming(mine, back(shift, shift), ctx);
          assert.deepEqual(
            [d.accept, d.accept ? 0 : d.reason],
            [false, RejectReason.OUTDATED_BINDING_INFORMATION],
            `${label}, shifted ${shift} s`,
          );
        }
        // A later transaction of the client (a renewal on the partner): accepted as before.
        assert.equal(decideIncoming(mine, back(1, 300), ctx).accept, true, `${label}: renewed`);
        assert.equal(decideIncoming(mine, back(3, 3), ctx).accept, true, `${label}: 3 s later`);
        // Another client: not our lease.
        const other = { ...back(1, 1), hardwareAddress: 'bbbbbbbbbbbb' };
        assert.equal(decideIncoming(mine, other, ctx).accept, true, `${label}: another client`);
        // Our CLTT from before a restart no clock measured cannot be compared: the ACTIVE wins.
        const unordered = { ...ctx, orderedTimesFrom: OUR_CLTT + 10 };
        assert.equal(decideIncoming(mine, back(1, 1), unordered).accept, true, `${label}: unordered`);
      }
    }
  });
});

describe('decideIncoming — the end of a lease whose ACTIVE is in flight, against a binding that crossed it (sim seeds 483050, 575894)', () => {
  it('our EXPIRED, RELEASED or RESET is kept (15) against every non-ACTIVE binding while our ACTIVE is in flight, whatever their times', () => {
    for (const role of ['primary', 'secondary'] as const) {
      for (const state of ['expired', 'released', 'reset'] as const) {
        const mine = ours(state, { isPartnerUpToDate: false });
        // 483050: the primary's BACKUP from t=1 s, sent again, against the RELEASED of 199 s.
        // 575894: the primary's RELEASED from a partition, against the secondary's own RELEASED.
        for (const status of [
          BindingStatus.FREE,
          BindingStatus.BACKUP,
          BindingStatus.EXPIRED,
          BindingStatus.RELEASED,
          BindingStatus.RESET,
          BindingStatus.ABANDONED,
        ]) {
          const older = { ...received(status, undefined), stateStartedAt: OUR_STOS - 150 };
          // A crossing update may even be later than our lease's end without knowing of it.
          const later = { ...received(status, OUR_CLTT + 30), stateStartedAt: OUR_CLTT + 30 };
          for (const [what, theirs] of [
            ['older', older],
            ['later', later],
          ] as const) {
            const d = decideIncoming(mine, theirs, { role, now: OUR_EXPIRY + 1, isOurActiveInFlight: true });
            assert.deepEqual(
              [d.accept, d.accept ? 0 : d.reason],
              [false, RejectReason.OUTDATED_BINDING_INFORMATION],
              `${role}: ours ${state} × ${BindingStatus[status]} ${what}`,
            );
          }
        }
      }
    }
  });

  it('without our ACTIVE in flight, after a lost duel, and for the other cells the matrix decides as before', () => {
    for (const role of ['primary', 'secondary'] as const) {
      const ctx = { role, now: OUR_EXPIRY + 1 };
      const crossing = { ...ctx, isOurActiveInFlight: true };
      const backup = { ...received(BindingStatus.BACKUP, undefined), stateStartedAt: OUR_STOS - 150 };
      const ended = ours('released', { isPartnerUpToDate: false });
      // Nothing of ours in flight: the partner's FREE/BACKUP is its binding after all it read of
      // ours (dhcpd after its PARTNER-DOWN, against the EXPIREDs of our restart): accepted.
      for (const state of ['expired', 'released', 'reset'] as const)
        assert.equal(
          decideIncoming(ours(state, { isPartnerUpToDate: false }), backup, ctx).accept,
          true,
          `${role}: ${state}`,
        );
      // Our RELEASED in flight lost a duel to the partner's BACKUP: the partner rejects ours.
      assert.equal(
        decideIncoming(ended, backup, { ...crossing, hasPartnerWonDuel: true }).accept,
        true,
        role,
      );
      // The partner's own end of a lease without our ACTIVE in flight: accepted as before (matrix).
      assert.equal(
        decideIncoming(ended, received(BindingStatus.RELEASED, OUR_CLTT + 1), ctx).accept,
        true,
        role,
      );
      // The partner's ACTIVE holds a lease: the matrix decides (T1: our RELEASED not acknowledged,
      // a concurrent change, the ACTIVE wins).
      assert.equal(
        decideIncoming(ended, received(BindingStatus.ACTIVE, OUR_CLTT + 1), crossing).accept,
        true,
        role,
      );
      // A FREE over our FREE or BACKUP: nothing ended here, accepted.
      for (const state of ['free', 'backup'] as const)
        assert.equal(
          decideIncoming(ours(state, { isPartnerUpToDate: false }), backup, crossing).accept,
          true,
          `${role}: ${state}`,
        );
      // Our ACTIVE (renewed since the version in flight): rule T2 as before.
      assert.equal(
        decideIncoming(ours('active'), backup, crossing).accept,
        true,
        `${role}: T2 after the end`,
      );
      assert.equal(
        decideIncoming(ours('active'), backup, { ...crossing, now: OUR_EXPIRY - 1 }).accept,
        false,
        `${role}: T2 before the end`,
      );
    }
  });
});
