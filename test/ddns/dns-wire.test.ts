// DNS UPDATE codec, TSIG and DHCID against known-good bytes: RFC 4701's DHCID examples, an
// UPDATE written and signed by BIND's nsupdate (9.18), and BIND named's signed answers to our
// own signed UPDATE (accepted, and refused for a wrong key). The fixtures were captured against a
// named on loopback with a key from `tsig-keygen -a hmac-sha256 tl-key` (the secret below is that
// throwaway test key). Plus encode∘decode = id and a fuzz test of the decoder.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { dhcidOfClient, dhcidRdata } from '../../src/ddns/dhcid.js';
import {
  type DnsMessage,
  decodeDnsMessage,
  encodeDnsMessage,
  encodeName,
  isInZone,
  RCODE,
  RR_CLASS,
  RR_TYPE,
  reverseNameOf,
} from '../../src/ddns/dns-wire.js';
import { decodeTsigRdata, signMessage, type TsigKey, verifyMessage } from '../../src/ddns/tsig.js';

const hex = (parts: string[]) => new Uint8Array(Buffer.from(parts.join(''), 'hex'));
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

const KEY: TsigKey = {
  name: 'tl-key',
  algorithm: 'hmac-sha256',
  secret: new Uint8Array(Buffer.from('coIXMNBKO57g/sD3AaEthvfDhWS9wKJXZ//vkN7JLGg=', 'base64')),
};

/** nsupdate: zone tld.test, prereq nxdomain host1.tld.test, update add host1.tld.test 300 A 10.77.1.5. */
const NSUPDATE_REQUEST = hex([
  '1e662800000100010001000103746c640474657374000006000105686f737431c00c00ff00fe000000000000c01a0001',
  '00010000012c00040a4d010506746c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b0aa7',
  'c6012c0020b10e05a531b2bc4e8b5f9aa86084b81f49efe8144256a1c72715df7f1c2940bf1e6600000000',
]);
/** Our UPDATE (forwardAdd of host2.tld.test, 10.77.1.6, DHCID), signed by signMessage. */
const OUR_REQUEST = hex([
  '12342800000100010002000103746c640474657374000006000105686f73743203746c6404746573740000ff00fe0000',
  '0000000005686f73743203746c64047465737400000100010000012c00040a4d010605686f73743203746c6404746573',
  '7400003100010000012c002300010135272c8a0b51e5114e34462cbf72b76ed99fe4a5b17550e7642bf052f759e99206',
  '746c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b0aa7c6012c00203b57c60858976895',
  '3e9a72a5b29ca1fb13f78a2ba4d39837877454746d0d9d6a123400000000',
]);
/** named's NOERROR answer to OUR_REQUEST, signed. */
const NAMED_ANSWER = hex([
  '1234a800000100000000000103746c640474657374000006000106746c2d6b65790000fa00ff00000000003d0b686d61',
  '632d7368613235360000006b0aa7c6012c002020d96cee1c3e73794b6cda1cc71a34fed3f444c3abb2223dc076a2f9fb',
  'f1516d123400000000',
]);
/** The same UPDATE signed with a wrong secret, and named's answer: NOTAUTH, TSIG error BADSIG, no MAC. */
const WRONG_KEY_REQUEST = hex([
  '43212800000100010002000103746c640474657374000006000105686f73743203746c6404746573740000ff00fe0000',
  '0000000005686f73743203746c64047465737400000100010000012c00040a4d010605686f73743203746c6404746573',
  '7400003100010000012c002300010135272c8a0b51e5114e34462cbf72b76ed99fe4a5b17550e7642bf052f759e99206',
  '746c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b0aa7c6012c0020b36fefebb9503cd0',
  '7c640873934fd0eb9ecf38a9ca976d35c8a8e01f25eb7028432100000000',
]);
const NAMED_BADSIG_ANSWER = hex([
  '4321a809000100000000000103746c640474657374000006000106746c2d6b65790000fa00ff00000000001d0b686d61',
  '632d7368613235360000006b0aa7c6012c0000432100100000',
]);

function tsigOffset(bytes: Uint8Array): number {
  const d = decodeDnsMessage(bytes);
  assert.ok(d.ok);
  return d.decoded.additionalOffsets.at(-1)!;
}

/** Plain objects and arrays, so generated values (null prototypes) compare with decoded ones. */
function plain(m: DnsMessage): unknown {
  const rr = (r: DnsMessage['answers'][number]) => ({ ...r, rdata: [...r.rdata] });
  return {
    ...m,
    questions: m.questions.map((q) => ({ ...q })),
    answers: m.answers.map(rr),
    authorities: m.authorities.map(rr),
    additionals: m.additionals.map(rr),
  };
}

function decode(bytes: Uint8Array): DnsMessage {
  const d = decodeDnsMessage(bytes);
  assert.ok(d.ok, d.ok ? '' : d.message);
  return d.decoded.message;
}

describe('DHCID (RFC 4701 §3.6)', () => {
  it('example 1: a DUID and chi6.example.com', () => {
    const duid = Buffer.from(`000100064${'12df1660102030405 06'.replace(/ /g, '')}`, 'hex');
    assert.equal(
      b64(dhcidRdata(2, duid, 'chi6.example.com')),
      'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=',
    );
  });
  it('example 2: client identifier 01:07:08:09:0a:0b:0c and chi.example.com', () => {
    assert.equal(
      b64(dhcidRdata(1, Buffer.from('010708090a0b0c', 'hex'), 'chi.example.com')),
      'AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No=',
    );
    const lease = {
      dhcidMode: 'clientId' as const,
      clientId: '010708090a0b0c',
      hardwareType: 1,
      hardwareAddress: '',
    };
    assert.equal(
      b64(dhcidOfClient(lease, 'CHI.example.com.')!),
      'AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No=',
    );
  });
  it('example 3: Ethernet 01:02:03:04:05:06 and client.example.com', () => {
    const lease = {
      dhcidMode: 'noClientId' as const,
      clientId: null,
      hardwareType: 1,
      hardwareAddress: '010203040506',
    };
    assert.equal(
      b64(dhcidOfClient(lease, 'client.example.com')!),
      'AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY=',
    );
  });
  it('the DHCID named stored for our update is the one we computed', () => {
    // dig @named host2.tld.test DHCID printed this after OUR_REQUEST was accepted.
    const rdata = dhcidRdata(1, Buffer.from('01aabbccddeeff', 'hex'), 'host2.tld.test');
    assert.equal(b64(rdata), 'AAEBNScsigtR5RFONEYsv3K3btmf5KWxdVDnZCvwUvdZ6ZI=');
  });
});

describe('DNS UPDATE codec', () => {
  it("reads nsupdate's UPDATE (compressed names) section by section", () => {
    const m = decode(NSUPDATE_REQUEST);
    assert.equal(m.opcode, 5);
    assert.equal(m.isResponse, false);
    assert.deepEqual(m.questions, [{ name: 'tld.test', type: RR_TYPE.SOA, class: RR_CLASS.IN }]);
    assert.equal(m.answers.length, 1);
    assert.deepEqual(
      { ...m.answers[0]!, rdata: [...m.answers[0]!.rdata] },
      {
        name: 'host1.tld.test',
        type: RR_TYPE.ANY,
        class: RR_CLASS.NONE,
        ttl: 0,
        rdata: [],
      },
    );
    assert.equal(m.authorities.length, 1);
    const add = m.authorities[0]!;
    assert.equal(add.name, 'host1.tld.test');
    assert.equal(add.type, RR_TYPE.A);
    assert.equal(add.ttl, 300);
    assert.deepEqual([...add.rdata], [10, 77, 1, 5]);
    assert.equal(m.additionals[0]!.type, RR_TYPE.TSIG);
  });

  it('encodes our UPDATE exactly as sent to named (re-encoding the decoded message gives the same bytes)', () => {
    const m = decode(OUR_REQUEST);
    assert.deepEqual(encodeDnsMessage(m), OUR_REQUEST);
  });

  it('encode∘decode = id', () => {
    const label = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
    const name = fc.array(label, { maxLength: 5 }).map((l) => l.join('.'));
    const record = fc.record({
      name,
      type: fc.integer({ min: 0, max: 65535 }),
      class: fc.integer({ min: 0, max: 65535 }),
      ttl: fc.integer({ min: 0, max: 0xffffffff }),
      rdata: fc.uint8Array({ maxLength: 40 }),
    });
    const message = fc.record({
      id: fc.integer({ min: 0, max: 65535 }),
      isResponse: fc.boolean(),
      opcode: fc.integer({ min: 0, max: 15 }),
      isAuthoritative: fc.boolean(),
      isTruncated: fc.boolean(),
      isRecursionDesired: fc.boolean(),
      isRecursionAvailable: fc.boolean(),
      rcode: fc.integer({ min: 0, max: 15 }),
      questions: fc.array(
        fc.record({
          name,
          type: fc.integer({ min: 0, max: 65535 }),
          class: fc.integer({ min: 0, max: 65535 }),
        }),
        { maxLength: 2 },
      ),
      answers: fc.array(record, { maxLength: 3 }),
      authorities: fc.array(record, { maxLength: 3 }),
      additionals: fc.array(record, { maxLength: 2 }),
    });
    fc.assert(
      fc.property(message, (m) => {
        const d = decodeDnsMessage(encodeDnsMessage(m));
        assert.ok(d.ok);
        assert.deepEqual(plain(d.decoded.message), plain(m));
      }),
      { seed: 4701, numRuns: 500 },
    );
  });

  it('random and mutated bytes never throw past the decoder', () => {
    const corpus = [NSUPDATE_REQUEST, OUR_REQUEST, NAMED_ANSWER, NAMED_BADSIG_ANSWER];
    let s = 2136;
    const next = () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s;
    };
    for (let i = 0; i < 20_000; i++) {
      const base = corpus[i % corpus.length]!;
      const b = i % 5 === 0 ? new Uint8Array(next() % 80) : base.slice(0, next() % (base.length + 1));
      for (let k = 0; k < 1 + (next() % 4); k++) if (b.length > 0) b[next() % b.length] = next() & 255;
      // Compression loops: a pointer to itself.
      if (i % 97 === 0 && b.length > 14) b.set([0xc0, 12], 12);
      decodeDnsMessage(b);
    }
  });

  it('names: zone membership, reverse names, limits', () => {
    assert.ok(isInZone('a.tld.test', 'tld.test'));
    assert.ok(isInZone('TLD.test', 'tld.test.'));
    assert.ok(!isInZone('a.xtld.test', 'tld.test'));
    assert.equal(reverseNameOf(((10 << 24) | (77 << 16) | (1 << 8) | 6) >>> 0), '6.1.77.10.in-addr.arpa');
    assert.throws(() => encodeName(`${'a'.repeat(64)}.test`), RangeError);
    assert.throws(() => encodeName(Array(130).fill('ab').join('.')), RangeError);
    assert.deepEqual([...encodeName('')], [0]);
  });
});

describe('TSIG HMAC-SHA256 (RFC 8945)', () => {
  it("verifies nsupdate's signed request", () => {
    const m = decode(NSUPDATE_REQUEST);
    const t = decodeTsigRdata(m.additionals.at(-1)!.rdata)!;
    const v = verifyMessage(NSUPDATE_REQUEST, m, tsigOffset(NSUPDATE_REQUEST), KEY, null, t.timeSigned);
    assert.ok(v.ok, JSON.stringify(v));
  });

  it('signs exactly as before: re-signing the captured request at its time gives the same bytes', () => {
    const m = decode(OUR_REQUEST);
    const t = decodeTsigRdata(m.additionals.at(-1)!.rdata)!;
    const unsigned = encodeDnsMessage({ ...m, additionals: [] });
    const signed = signMessage(unsigned, KEY, t.timeSigned, t.fudge);
    assert.deepEqual(signed.bytes, OUR_REQUEST);
    assert.deepEqual(signed.mac, t.mac);
  });

  it("verifies named's signed answer with the request MAC", () => {
    const req = decode(OUR_REQUEST);
    const requestMac = decodeTsigRdata(req.additionals.at(-1)!.rdata)!.mac;
    const m = decode(NAMED_ANSWER);
    assert.equal(m.rcode, RCODE.NOERROR);
    const t = decodeTsigRdata(m.additionals.at(-1)!.rdata)!;
    const v = verifyMessage(NAMED_ANSWER, m, tsigOffset(NAMED_ANSWER), KEY, requestMac, t.timeSigned + 10);
    assert.ok(v.ok, JSON.stringify(v));
    // Outside the fudge: bad time. Another request's MAC, a flipped bit: bad MAC.
    const late = verifyMessage(
      NAMED_ANSWER,
      m,
      tsigOffset(NAMED_ANSWER),
      KEY,
      requestMac,
      t.timeSigned + 301,
    );
    assert.equal(!late.ok && late.reason, 'badTime');
    const other = verifyMessage(
      NAMED_ANSWER,
      m,
      tsigOffset(NAMED_ANSWER),
      KEY,
      new Uint8Array(32),
      t.timeSigned,
    );
    assert.equal(!other.ok && other.reason, 'badMac');
    const flipped = NAMED_ANSWER.slice();
    flipped[3] = flipped[3]! ^ 0x01; // rcode bit
    const fm = decode(flipped);
    const f = verifyMessage(flipped, fm, tsigOffset(flipped), KEY, requestMac, t.timeSigned);
    assert.equal(!f.ok && f.reason, 'badMac');
  });

  it("reads named's refusal of a wrong key: NOTAUTH with TSIG error BADSIG and no MAC", () => {
    const m = decode(NAMED_BADSIG_ANSWER);
    assert.equal(m.rcode, RCODE.NOTAUTH);
    const req = decode(WRONG_KEY_REQUEST);
    const requestMac = decodeTsigRdata(req.additionals.at(-1)!.rdata)!.mac;
    const v = verifyMessage(NAMED_BADSIG_ANSWER, m, tsigOffset(NAMED_BADSIG_ANSWER), KEY, requestMac, 0);
    assert.deepEqual(v, { ok: false, reason: 'serverError', error: RCODE.BADSIG });
  });

  it('an unsigned answer and another key are refused', () => {
    const m = decode(NAMED_ANSWER);
    const unsigned = encodeDnsMessage({ ...m, additionals: [] });
    const v = verifyMessage(unsigned, { ...m, additionals: [] }, undefined, KEY, null, 0);
    assert.equal(!v.ok && v.reason, 'unsigned');
    const w = verifyMessage(
      NAMED_ANSWER,
      m,
      tsigOffset(NAMED_ANSWER),
      { ...KEY, name: 'other-key' },
      null,
      0,
    );
    assert.equal(!w.ok && w.reason, 'wrongKey');
  });
});
