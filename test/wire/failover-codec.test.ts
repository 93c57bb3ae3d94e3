// Failover codec: spec §3.6 worked examples byte for byte, every builder, batching, decode errors
// with offsets, encode∘decode properties, and the TCP framer.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hbaFromSplit } from '../../src/failover/hash-bucket.js';
import {
  bindingOptions,
  buildBndAck,
  buildBndUpd,
  buildConnect,
  buildConnectAck,
  buildContact,
  buildDisconnect,
  buildPoolReq,
  buildPoolResp,
  buildState,
  buildUpdDone,
  buildUpdReq,
  buildUpdReqAll,
  DEFAULT_FRAMER_MAX_BUFFERED,
  decodeFailover,
  encodeFailover,
  FailoverFramer,
  failoverMessageLength,
} from '../../src/wire/failover-codec.js';
import {
  BindingStatus,
  type DecodedFailoverMessage,
  FAILOVER_FIXED_OPTION_LENGTHS,
  FAILOVER_MIN_OPTION_LENGTHS,
  type FailoverBindingInput,
  type FailoverMessage,
  FailoverMessageType,
  type FailoverOption,
  FailoverOptionCode as Opt,
  RejectReason,
  rejectReasonMessage,
  ServerState,
} from '../../src/wire/failover-message.js';
import { fromHex, parseIpv4, toHex } from '../../src/wire/ipv4.js';

const T = 0x65000000;

function hex(text: string): string {
  return text.replace(/[\s|]/g, '').toLowerCase();
}

function decodeOk(bytes: Uint8Array): DecodedFailoverMessage {
  const r = decodeFailover(bytes);
  if (!r.ok) assert.fail(`decode failed: ${JSON.stringify(r.error)}`);
  return r.message;
}

function roundTrip(m: FailoverMessage): DecodedFailoverMessage {
  return decodeOk(encodeFailover(m));
}

/** Raw message bytes from header fields and [code, dataHex] options (lengths computed). */
function raw(
  type: number,
  options: [number, string][],
  extra: { payloadOffset?: number; pad?: string } = {},
) {
  const pad = extra.pad ?? '';
  const body = options
    .map(([code, data]) => {
      const d = hex(data);
      return code.toString(16).padStart(4, '0') + (d.length / 2).toString(16).padStart(4, '0') + d;
    })
    .join('');
  const length = 12 + pad.length / 2 + body.length / 2;
  const po = extra.payloadOffset ?? 12 + pad.length / 2;
  return fromHex(
    length.toString(16).padStart(4, '0') +
      type.toString(16).padStart(2, '0') +
      po.toString(16).padStart(2, '0') +
      '6500000000000007' +
      pad +
      body,
  );
}

describe('spec §3.6 worked examples', () => {
  it('CONNECT from the primary (104 bytes)', () => {
    const m = buildConnect({
      time: T,
      xid: 1,
      relationshipName: 'foo',
      maxUnackedUpdates: 10,
      receiveTimerSeconds: 60,
      vendorClass: 'example-0.1',
      protocolVersion: 1,
      tlsRequest: 0,
      mcltSeconds: 3600,
      hashBucketAssignment: hbaFromSplit(128),
    });
    const expected = hex(`00 68 05 0c 65 00 00 00 00 00 00 01  00 16 00 03 66 6f 6f  00 0e 00 04 00 00 00 0a
      00 13 00 04 00 00 00 3c  00 1c 00 0b 65 78 61 6d 70 6c 65 2d 30 2e 31  00 14 00 01 01
      00 1b 00 01 00  00 0f 00 04 00 00 0e 10  00 0b 00 20 ${'ff'.repeat(16)} ${'00'.repeat(16)}`);
    const bytes = encodeFailover(m);
    assert.equal(bytes.length, 104);
    assert.equal(toHex(bytes), expected);
    const d = decodeOk(bytes);
    assert.equal(d.type, FailoverMessageType.CONNECT);
    assert.equal(d.relationshipName, 'foo');
    assert.equal(d.maxUnackedUpdates, 10);
    assert.equal(d.receiveTimerSeconds, 60);
    assert.equal(d.vendorClass, 'example-0.1');
    assert.equal(d.protocolVersion, 1);
    assert.equal(d.tlsRequest, 0);
    assert.equal(d.mcltSeconds, 3600);
    assert.equal(toHex(d.hashBucketAssignment!), `${'ff'.repeat(16)}${'00'.repeat(16)}`);
  });

  it('STATE NORMAL', () => {
    const m = buildState({
      time: T,
      xid: 2,
      serverState: ServerState.NORMAL,
      serverFlags: 0,
      startTimeOfState: 0x64ffff9c,
    });
    assert.equal(
      toHex(encodeFailover(m)),
      hex('00 1e 0a 0c 65 00 00 00 00 00 00 02 00 18 00 01 02 00 17 00 01 00 00 19 00 04 64 ff ff 9c'),
    );
    const d = roundTrip(m);
    assert.equal(d.serverState, ServerState.NORMAL);
    assert.equal(d.serverFlags, 0);
    assert.equal(d.startTimeOfState, 0x64ffff9c);
  });

  it('BNDUPD ACTIVE 192.0.2.10, ethernet 00:11:22:33:44:55', () => {
    const m = buildBndUpd({
      time: T,
      xid: 3,
      bindings: [
        {
          address: parseIpv4('192.0.2.10'),
          bindingStatus: BindingStatus.ACTIVE,
          hardwareType: 1,
          hardwareAddress: '001122334455',
          leaseExpiresAt: T + 3600,
          potentialExpiresAt: T + 5400,
          stateStartedAt: T,
          clientLastTransactionAt: T,
        },
      ],
    });
    assert.equal(
      toHex(encodeFailover(m)),
      hex(`00 44 03 0c 65000000 00000003 | 0002 0004 c000020a | 0003 0001 02 | 0005 0007 01 001122334455 |
        000d 0004 65000e10 | 0012 0004 65001518 | 0019 0004 65000000 | 0006 0004 65000000`),
    );
    const [b] = roundTrip(m).bindings;
    assert.deepEqual(b, {
      address: parseIpv4('192.0.2.10'),
      bindingStatus: BindingStatus.ACTIVE,
      hardwareType: 1,
      hardwareAddress: '001122334455',
      leaseExpiresAt: T + 3600,
      potentialExpiresAt: T + 5400,
      stateStartedAt: T,
      clientLastTransactionAt: T,
      otherOptions: [],
    });
  });

  it('BNDACK accept', () => {
    const m = buildBndAck({ time: T, xid: 3, acks: [{ address: parseIpv4('192.0.2.10') }] });
    assert.equal(
      toHex(encodeFailover(m)),
      hex('00 14 04 0c 65 00 00 00 00 00 00 03 00 02 00 04 c0 00 02 0a'),
    );
  });

  it('BNDACK reject 15 "outdated"', () => {
    const m = buildBndAck({
      time: T,
      xid: 3,
      acks: [
        {
          address: parseIpv4('192.0.2.10'),
          rejectReason: RejectReason.OUTDATED_BINDING_INFORMATION,
          message: 'outdated',
        },
      ],
    });
    const bytes = encodeFailover(m);
    const tail = hex(
      `00 02 00 04 c0 00 02 0a 00 15 00 01 0f 00 10 00 08 ${toHex(new TextEncoder().encode('outdated'))}`,
    );
    assert.equal(toHex(bytes), hex('00 25 04 0c 65 00 00 00 00 00 00 03') + tail);
    const [b] = decodeOk(bytes).bindings;
    assert.equal(b!.rejectReason, 15);
    assert.equal(b!.message, 'outdated');
  });

  it('CONTACT', () => {
    assert.equal(
      toHex(encodeFailover(buildContact({ time: T, xid: 4 }))),
      hex('00 0c 0b 0c 65 00 00 00 00 00 00 04'),
    );
  });
});

describe('builders', () => {
  const header = { time: T, xid: 0xfffffffe };

  it('CONNECT defaults protocol-version 1 and TLS-request 0; null omits TLS-request; delayed-service last', () => {
    const base = {
      ...header,
      relationshipName: 'rel',
      maxUnackedUpdates: 10,
      receiveTimerSeconds: 60,
      vendorClass: 'twinlease-0.1',
      mcltSeconds: 3600,
      hashBucketAssignment: hbaFromSplit(100),
    };
    assert.deepEqual(
      buildConnect(base).options.map((o) => o.code),
      [22, 14, 19, 28, 20, 27, 15, 11],
    );
    const d = roundTrip(buildConnect(base));
    assert.equal(d.protocolVersion, 1);
    assert.equal(d.tlsRequest, 0);
    assert.deepEqual(
      buildConnect({ ...base, tlsRequest: null, delayedServiceParameter: 4 }).options.map((o) => o.code),
      [22, 14, 19, 28, 20, 15, 11, 10],
    );
    assert.equal(roundTrip(buildConnect({ ...base, delayedServiceParameter: 4 })).delayedServiceParameter, 4);
    assert.throws(() => buildConnect({ ...base, hashBucketAssignment: new Uint8Array(31) }), RangeError);
    assert.throws(() => buildConnect({ ...base, mcltSeconds: -1 }), RangeError);
    assert.throws(() => buildConnect({ ...base, maxUnackedUpdates: 2 ** 32 }), RangeError);
  });

  it('CONNECTACK accept mirrors ISC; reject carries reason and message', () => {
    const accept = buildConnectAck({
      ...header,
      relationshipName: 'rel',
      maxUnackedUpdates: 10,
      receiveTimerSeconds: 30,
      vendorClass: 'twinlease-0.1',
      tlsReply: 0,
    });
    assert.deepEqual(
      accept.options.map((o) => o.code),
      [22, 14, 19, 28, 20, 26],
    );
    const reject = buildConnectAck({
      ...header,
      relationshipName: 'nope',
      rejectReason: RejectReason.INVALID_PARTNER,
      message: rejectReasonMessage(RejectReason.INVALID_PARTNER),
    });
    assert.deepEqual(
      reject.options.map((o) => o.code),
      [22, 20, 21, 16],
    );
    const d = roundTrip(reject);
    assert.equal(d.type, FailoverMessageType.CONNECTACK);
    assert.equal(d.relationshipName, 'nope');
    assert.equal(d.rejectReason, RejectReason.INVALID_PARTNER);
    assert.equal(d.message, 'Connection rejected, invalid failover partner');
    assert.equal(d.tlsReply, undefined);
  });

  it('STATE RECOVER-WAIT (254) with the STARTUP flag', () => {
    const d = roundTrip(
      buildState({ ...header, serverState: ServerState.RECOVER_WAIT, serverFlags: 1, startTimeOfState: T }),
    );
    assert.equal(d.serverState, 254);
    assert.equal(d.serverFlags, 1);
    assert.equal(
      roundTrip(buildState({ ...header, serverState: ServerState.NORMAL, startTimeOfState: T })).serverFlags,
      0,
    );
  });

  it('option-less messages: UPDREQ, UPDREQALL, UPDDONE, POOLREQ, CONTACT', () => {
    const cases: [(h: typeof header) => FailoverMessage, FailoverMessageType][] = [
      [buildUpdReq, FailoverMessageType.UPDREQ],
      [buildUpdReqAll, FailoverMessageType.UPDREQALL],
      [buildUpdDone, FailoverMessageType.UPDDONE],
      [buildPoolReq, FailoverMessageType.POOLREQ],
      [buildContact, FailoverMessageType.CONTACT],
    ];
    for (const [build, type] of cases) {
      const bytes = encodeFailover(build(header));
      assert.equal(bytes.length, 12);
      assert.equal(bytes[2], type);
      const d = decodeOk(bytes);
      assert.equal(d.type, type);
      assert.equal(d.xid, header.xid);
      assert.equal(d.time, T);
      assert.deepEqual(d.options, []);
    }
  });

  it('POOLRESP carries addresses-transferred', () => {
    const d = roundTrip(buildPoolResp({ ...header, addressesTransferred: 8192 }));
    assert.equal(d.type, FailoverMessageType.POOLRESP);
    assert.equal(d.addressesTransferred, 8192);
  });

  it('DISCONNECT carries reject-reason and optional message', () => {
    const d = roundTrip(
      buildDisconnect({ ...header, rejectReason: RejectReason.NO_TRAFFIC, message: 'bye' }),
    );
    assert.equal(d.type, FailoverMessageType.DISCONNECT);
    assert.equal(d.rejectReason, 17);
    assert.equal(d.message, 'bye');
    assert.deepEqual(
      buildDisconnect({ ...header, rejectReason: RejectReason.UNKNOWN_ERROR }).options.map((o) => o.code),
      [21],
    );
  });

  it('BNDUPD with every typed field, in ISC order, round trips', () => {
    const binding: FailoverBindingInput = {
      address: parseIpv4('10.0.0.1'),
      bindingStatus: BindingStatus.ACTIVE,
      clientId: '01aabbccddeeff',
      hardwareType: 1,
      hardwareAddress: 'aabbccddeeff',
      leaseExpiresAt: T + 60,
      potentialExpiresAt: T + 90,
      stateStartedAt: T,
      clientLastTransactionAt: T,
      ipFlags: 0x0002,
      ddns: { flags: 0x000f, fqdn: fromHex('04686f7374076578616d706c6500') },
      clientRequestOptions: fromHex('638253630c04686f7374'),
      clientReplyOptions: fromHex('63825363330400000e10'),
      otherOptions: [{ code: Opt.MS_CLIENT_NAME, data: fromHex('68006900') }],
    };
    const m = buildBndUpd({ ...header, bindings: [binding] });
    assert.deepEqual(
      m.options.map((o) => o.code),
      [2, 3, 4, 5, 13, 18, 25, 6, 12, 9, 8, 7, 31],
    );
    const d = roundTrip(m);
    assert.deepEqual(d.bindings, [binding]);
    assert.deepEqual(d.otherOptions, []);
  });

  it('refuses empty batches, hardware address without type, oversize messages', () => {
    assert.throws(() => buildBndUpd({ ...header, bindings: [] }), RangeError);
    assert.throws(() => buildBndAck({ ...header, acks: [] }), RangeError);
    assert.throws(() => bindingOptions({ address: 1, hardwareAddress: '00' }), RangeError);
    const many = Array.from({ length: 200 }, (_, i) => ({ address: i, bindingStatus: BindingStatus.FREE }));
    const m = buildBndUpd({ ...header, bindings: many });
    assert.equal(failoverMessageLength(m), 12 + 200 * 13);
    assert.throws(() => encodeFailover(m), RangeError);
    assert.throws(() => encodeFailover({ ...buildContact(header), xid: -1 }), RangeError);
    assert.throws(() => encodeFailover({ ...buildContact(header), time: 2 ** 32 }), RangeError);
  });
});

describe('batching (spec §3.5)', () => {
  it('splits a BNDUPD at each assigned-IP-address; digest and leading options stay message-level', () => {
    const bindings: FailoverBindingInput[] = [
      { address: parseIpv4('10.0.0.1'), bindingStatus: BindingStatus.FREE },
      {
        address: parseIpv4('10.0.0.2'),
        bindingStatus: BindingStatus.ACTIVE,
        clientId: '0102',
        hardwareType: 1,
        hardwareAddress: '010203040506',
        leaseExpiresAt: T + 1,
        potentialExpiresAt: T + 2,
        clientLastTransactionAt: T,
      },
      { address: parseIpv4('10.0.0.3'), bindingStatus: BindingStatus.BACKUP, stateStartedAt: T },
    ];
    const m = buildBndUpd({ time: T, xid: 9, bindings });
    // A leading vendor-class and a trailing digest around the transactions.
    m.options.unshift({ code: Opt.VENDOR_CLASS_IDENTIFIER, data: new TextEncoder().encode('x') });
    m.options.push({ code: Opt.MESSAGE_DIGEST, data: fromHex(`01${'ab'.repeat(16)}`) });
    const d = roundTrip(m);
    assert.deepEqual(
      d.bindings,
      bindings.map((b) => ({ ...b, otherOptions: [] })),
    );
    assert.equal(d.vendorClass, 'x');
    assert.equal(d.messageDigest?.type, 1);
    assert.equal(toHex(d.messageDigest!.digest), 'ab'.repeat(16));
    assert.deepEqual(d.duplicateOptions, []); // repeats across transactions are not duplicates
    assert.equal(toHex(encodeFailover(d)), toHex(encodeFailover(m)));
  });

  it('splits a BNDACK with mixed accepts and rejects, in order', () => {
    const acks = [
      { address: 1 },
      { address: 2, rejectReason: RejectReason.LESS_CRITICAL_BINDING_INFORMATION, message: 'later' },
      { address: 3 },
    ];
    const d = roundTrip(buildBndAck({ time: T, xid: 9, acks }));
    assert.deepEqual(
      d.bindings,
      acks.map((a) => ({ ...a, otherOptions: [] })),
    );
  });

  it('reports a repeated option inside one transaction and keeps the first', () => {
    const bytes = raw(FailoverMessageType.BNDUPD, [
      [2, '0a000001'],
      [3, '02'],
      [3, '01'],
      [2, '0a000002'],
      [3, '07'],
    ]);
    const d = decodeOk(bytes);
    assert.deepEqual(d.duplicateOptions, [3]);
    assert.equal(d.bindings[0]!.bindingStatus, BindingStatus.ACTIVE);
    assert.equal(d.bindings[1]!.bindingStatus, BindingStatus.BACKUP);
    assert.equal(d.options.length, 5);
  });
});

describe('decoder details', () => {
  it('honours a payload offset > 12 by skipping extra header bytes', () => {
    const bytes = raw(FailoverMessageType.STATE, [[24, '02']], { pad: 'deadbeef' });
    const d = decodeOk(bytes);
    assert.equal(d.payloadOffset, 16);
    assert.equal(d.serverState, ServerState.NORMAL);
    // Re-encoding normalises to offset 12.
    assert.equal(toHex(encodeFailover(d)), toHex(raw(FailoverMessageType.STATE, [[24, '02']])));
  });

  it('keeps unknown and Microsoft options raw, in order', () => {
    const bytes = raw(FailoverMessageType.CONNECT, [
      [999, 'cafe'],
      [22, '616263'],
      [Opt.MS_SCOPE_ID_LIST, '0102000a'],
      [0, ''],
    ]);
    const d = decodeOk(bytes);
    assert.equal(d.relationshipName, 'abc');
    assert.deepEqual(
      d.otherOptions.map((o) => [o.code, toHex(o.data)]),
      [
        [999, 'cafe'],
        [30, '0102000a'],
        [0, ''],
      ],
    );
  });

  it('binding options outside BNDUPD/BNDACK are message-level "other" options', () => {
    const d = decodeOk(raw(FailoverMessageType.STATE, [[2, '0a000001']]));
    assert.deepEqual(d.bindings, []);
    assert.equal(d.otherOptions[0]!.code, 2);
  });

  it('reports repeated message-level options (ISC would drop the link) and keeps the first', () => {
    const d = decodeOk(
      raw(FailoverMessageType.CONNECT, [
        [22, '61'],
        [22, '62'],
      ]),
    );
    assert.deepEqual(d.duplicateOptions, [22]);
    assert.equal(d.relationshipName, 'a');
  });

  it('owns its bytes: mutating the input afterwards changes nothing', () => {
    const bytes = raw(FailoverMessageType.CONNECT, [[11, 'ff'.repeat(32)]]);
    const d = decodeOk(bytes);
    bytes.fill(0);
    assert.equal(toHex(d.hashBucketAssignment!), 'ff'.repeat(32));
  });

  it('accepts a Buffer and returns plain Uint8Arrays', () => {
    const d = decodeOk(Buffer.from(raw(FailoverMessageType.CONNECT, [[11, '00'.repeat(32)]])));
    assert.equal(Object.getPrototypeOf(d.hashBucketAssignment), Uint8Array.prototype);
  });

  it('rejects each malformation with a reason and the right offset', () => {
    const cases: [string, Uint8Array, string, number][] = [
      ['11 bytes', new Uint8Array(11), 'too-short', 0],
      ['length field 11', fromHex('000b0b0c0000000000000000'), 'bad-length', 0],
      [
        'length field 2049',
        (() => {
          const b = new Uint8Array(2049);
          b.set(fromHex('08010b0c'));
          return b;
        })(),
        'bad-length',
        0,
      ],
      ['length field vs bytes', fromHex('000d0b0c0000000000000000'), 'length-mismatch', 0],
      ['trailing bytes', fromHex('000c0b0c000000000000000000'), 'length-mismatch', 0],
      ['type 0', fromHex('000c000c0000000000000000'), 'unknown-message-type', 2],
      ['type 13', fromHex('000c0d0c0000000000000000'), 'unknown-message-type', 2],
      ['type 200', fromHex('000cc80c0000000000000000'), 'unknown-message-type', 2],
      ['payload offset 8', raw(10, [], { payloadOffset: 8 }), 'bad-payload-offset', 3],
      ['payload offset past end', raw(10, [], { payloadOffset: 13 }), 'bad-payload-offset', 3],
      [
        'IP-flags of 1 byte (D12 diagram)',
        raw(3, [
          [2, '0a000001'],
          [12, '01'],
        ]),
        'bad-option-length',
        20,
      ],
      ['HBA of 31 bytes', raw(5, [[11, '00'.repeat(31)]]), 'bad-option-length', 12],
      ['stos of 3 bytes', raw(10, [[25, '000000']]), 'bad-option-length', 12],
      ['empty digest', raw(11, [[17, '']]), 'bad-option-length', 12],
      [
        'empty hardware address',
        raw(3, [
          [2, '0a000001'],
          [5, ''],
        ]),
        'bad-option-length',
        20,
      ],
      [
        '1-byte DDNS',
        raw(3, [
          [2, '0a000001'],
          [9, '00'],
        ]),
        'bad-option-length',
        20,
      ],
    ];
    for (const [what, bytes, reason, offset] of cases) {
      const r = decodeFailover(bytes);
      assert.equal(r.ok, false, what);
      if (!r.ok) {
        assert.equal(r.error.reason, reason, what);
        assert.equal(r.error.offset, offset, what);
        assert.ok(r.error.message.length > 0);
      }
    }
  });

  it('rejects a truncated option header and an overrunning option', () => {
    const truncated = fromHex('000f0b0c65000000000000070001ff');
    const r1 = decodeFailover(truncated);
    assert.equal(r1.ok, false);
    if (!r1.ok) assert.deepEqual([r1.error.reason, r1.error.offset], ['option-truncated', 12]);
    const good = raw(11, [[22, '6162']]);
    good[15] = 9; // option length 9, only 2 bytes follow
    const r3 = decodeFailover(good);
    assert.equal(r3.ok, false);
    if (!r3.ok) assert.deepEqual([r3.error.reason, r3.error.offset], ['option-overrun', 12]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const fixedCodes = [...FAILOVER_FIXED_OPTION_LENGTHS.keys()];

const arbOption: fc.Arbitrary<FailoverOption> = fc
  .oneof(fc.integer({ min: 0, max: 45 }), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(...fixedCodes))
  .chain((code) => {
    const fixed = FAILOVER_FIXED_OPTION_LENGTHS.get(code);
    const min = FAILOVER_MIN_OPTION_LENGTHS.get(code) ?? 0;
    const data =
      fixed !== undefined
        ? fc.uint8Array({ minLength: fixed, maxLength: fixed })
        : fc.uint8Array({ minLength: min, maxLength: min + 40 });
    return data.map((d) => ({ code, data: d }));
  });

const arbMessage: fc.Arbitrary<FailoverMessage> = fc
  .record({
    type: fc.integer({ min: 1, max: 12 }),
    time: fc.nat({ max: 0xffffffff }),
    xid: fc.nat({ max: 0xffffffff }),
    options: fc.array(arbOption, { maxLength: 30 }),
  })
  .filter((m) => failoverMessageLength(m) <= 2048)
  .map((m) => ({ ...m, payloadOffset: 12 }));

const uint32 = fc.nat({ max: 0xffffffff });
const hexBytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map(toHex);
const text = fc.string({ unit: 'grapheme', maxLength: 20 });

// fast-check records have a null prototype; spreading makes them plain objects for deepStrictEqual.
const arbBinding: fc.Arbitrary<FailoverBindingInput> = fc
  .record(
    {
      address: uint32,
      bindingStatus: fc.integer({ min: 1, max: 7 }),
      clientId: hexBytes(0, 20),
      hw: fc.record({ hardwareType: fc.integer({ min: 0, max: 255 }), hardwareAddress: hexBytes(0, 16) }),
      leaseExpiresAt: uint32,
      potentialExpiresAt: uint32,
      stateStartedAt: uint32,
      clientLastTransactionAt: uint32,
      ipFlags: fc.integer({ min: 0, max: 0xffff }),
      ddns: fc
        .record({ flags: fc.integer({ min: 0, max: 0xffff }), fqdn: fc.uint8Array({ maxLength: 30 }) })
        .map((d) => ({ ...d })),
      clientRequestOptions: fc.uint8Array({ maxLength: 30 }),
      clientReplyOptions: fc.uint8Array({ maxLength: 30 }),
      rejectReason: fc.integer({ min: 0, max: 255 }),
      message: text,
      otherOptions: fc.uniqueArray(
        fc
          .record({
            code: fc.oneof(fc.integer({ min: 30, max: 41 }), fc.integer({ min: 100, max: 0xffff })),
            data: fc.uint8Array({ maxLength: 10 }),
          })
          .map((o) => ({ ...o })),
        { selector: (o) => o.code, maxLength: 3 },
      ),
    },
    { requiredKeys: ['address', 'otherOptions'] },
  )
  .map(({ hw, ...rest }) => ({ ...rest, ...(hw ?? {}) }));

describe('properties', () => {
  it('decode(encode(m)) ≡ m at the wire level', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const d = roundTrip(m);
        assert.deepEqual(
          { type: d.type, time: d.time, xid: d.xid, payloadOffset: d.payloadOffset, options: d.options },
          m,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('encode(decode(bytes)) ≡ bytes for every decodable message with offset 12', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const bytes = encodeFailover(m);
        assert.deepEqual(encodeFailover(decodeOk(bytes)), bytes);
      }),
    );
  });

  it('typed bindings survive build → encode → decode', () => {
    fc.assert(
      fc.property(
        fc.array(arbBinding, { minLength: 1, maxLength: 4 }),
        uint32,
        uint32,
        (bindings, time, xid) => {
          const m = buildBndUpd({ time, xid, bindings });
          fc.pre(failoverMessageLength(m) <= 2048);
          const d = roundTrip(m);
          assert.deepEqual(d.bindings, bindings);
          assert.deepEqual(d.duplicateOptions, []);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('typed CONNECT / CONNECTACK / STATE / POOLRESP / DISCONNECT fields survive a round trip', () => {
    fc.assert(
      fc.property(
        fc.record({
          time: uint32,
          xid: uint32,
          relationshipName: text,
          maxUnackedUpdates: uint32,
          receiveTimerSeconds: uint32,
          vendorClass: text,
          protocolVersion: fc.integer({ min: 0, max: 255 }),
          tlsRequest: fc.integer({ min: 0, max: 255 }),
          mcltSeconds: uint32,
          hashBucketAssignment: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          delayedServiceParameter: fc.integer({ min: 0, max: 255 }),
        }),
        fc.integer({ min: 0, max: 255 }),
        (c, state) => {
          const d = roundTrip(buildConnect(c));
          const { time, xid, ...fields } = c;
          for (const [key, value] of Object.entries(fields)) {
            assert.deepEqual(d[key as keyof typeof d], value, key);
          }
          assert.equal(d.time, time);
          assert.equal(d.xid, xid);
          const ack = roundTrip(
            buildConnectAck({
              time,
              xid,
              relationshipName: c.relationshipName,
              tlsReply: c.tlsRequest,
              rejectReason: state,
              message: c.vendorClass,
            }),
          );
          assert.deepEqual(
            [ack.relationshipName, ack.tlsReply, ack.rejectReason, ack.message],
            [c.relationshipName, c.tlsRequest, state, c.vendorClass],
          );
          const st = roundTrip(
            buildState({
              time,
              xid,
              serverState: state,
              serverFlags: c.protocolVersion,
              startTimeOfState: c.mcltSeconds,
            }),
          );
          assert.deepEqual(
            [st.serverState, st.serverFlags, st.startTimeOfState],
            [state, c.protocolVersion, c.mcltSeconds],
          );
          assert.equal(
            roundTrip(buildPoolResp({ time, xid, addressesTransferred: c.mcltSeconds })).addressesTransferred,
            c.mcltSeconds,
          );
          const dis = roundTrip(
            buildDisconnect({ time, xid, rejectReason: state, message: c.relationshipName }),
          );
          assert.deepEqual([dis.rejectReason, dis.message], [state, c.relationshipName]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Framer

function drain(framer: FailoverFramer): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (;;) {
    const r = framer.next();
    if (r === null) return out;
    if (!r.ok) assert.fail(`framing error: ${r.error.message}`);
    out.push(r.bytes);
  }
}

describe('FailoverFramer', () => {
  it('returns nothing until a whole message is in', () => {
    const f = new FailoverFramer();
    const bytes = encodeFailover(buildContact({ time: T, xid: 1 }));
    f.push(bytes.subarray(0, 1));
    assert.equal(f.next(), null);
    f.push(bytes.subarray(1, 11));
    assert.equal(f.next(), null);
    f.push(bytes.subarray(11));
    assert.deepEqual(drain(f), [bytes]);
    assert.equal(f.bufferedBytes, 0);
  });

  it('splits merged messages and reassembles arbitrarily chunked ones', () => {
    fc.assert(
      fc.property(
        fc.array(arbMessage, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 40 }),
        (messages, cuts) => {
          const encoded = messages.map(encodeFailover);
          const stream = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
          let at = 0;
          for (const e of encoded) {
            stream.set(e, at);
            at += e.length;
          }
          const f = new FailoverFramer();
          const got: Uint8Array[] = [];
          let pos = 0;
          let i = 0;
          while (pos < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            f.push(stream.subarray(pos, pos + n));
            pos += n;
            got.push(...drain(f));
          }
          assert.deepEqual(got, encoded);
          assert.equal(f.bufferedBytes, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('delivers byte-at-a-time input', () => {
    const bytes = encodeFailover(
      buildState({ time: T, xid: 5, serverState: ServerState.NORMAL, startTimeOfState: T }),
    );
    const f = new FailoverFramer();
    const got: Uint8Array[] = [];
    for (const b of [...bytes, ...bytes]) {
      f.push(Uint8Array.of(b));
      got.push(...drain(f));
    }
    assert.deepEqual(got, [bytes, bytes]);
  });

  it('copies pushed chunks (the socket may reuse its buffer)', () => {
    const bytes = encodeFailover(buildContact({ time: T, xid: 1 }));
    const chunk = new Uint8Array(bytes);
    const f = new FailoverFramer();
    f.push(chunk);
    chunk.fill(0xff);
    assert.deepEqual(drain(f), [bytes]);
  });

  for (const [what, prefix] of [
    ['< 12', '000b'],
    ['0', '0000'],
    ['> 2048', '0801'],
  ] as const) {
    it(`fails for good on a length ${what}`, () => {
      const f = new FailoverFramer();
      f.push(encodeFailover(buildContact({ time: T, xid: 1 })));
      f.push(fromHex(`${prefix}0b0c`));
      const first = f.next();
      assert.ok(first?.ok);
      const bad = f.next();
      assert.equal(bad?.ok, false);
      if (bad && !bad.ok) assert.equal(bad.error.reason, 'bad-length');
      f.push(encodeFailover(buildContact({ time: T, xid: 2 })));
      assert.equal(f.next()?.ok, false);
      assert.equal(f.bufferedBytes, 0);
    });
  }

  it('bounds its buffer', () => {
    const f = new FailoverFramer(4096);
    const msg = encodeFailover(buildContact({ time: T, xid: 1 }));
    for (let i = 0; i < 341; i++) f.push(msg); // 4092 bytes
    assert.equal(f.bufferedBytes, 4092);
    f.push(msg);
    const r = f.next();
    assert.equal(r?.ok, false);
    if (r && !r.ok) assert.equal(r.error.reason, 'buffer-overflow');
    assert.equal(f.bufferedBytes, 0);
    assert.throws(() => new FailoverFramer(100), RangeError);
    assert.equal(DEFAULT_FRAMER_MAX_BUFFERED >= 2048, true);
  });
});
