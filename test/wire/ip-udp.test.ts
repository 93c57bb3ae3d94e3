// IPv4/UDP/ICMP echo headers of the direct mode and the ping check: a known header checksum, the
// round trip (encode∘decode = id) over random datagrams, every corruption caught, and random
// bytes never throwing past the decoders.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeIcmpEchoReply,
  decodeIpv4Udp,
  encodeIcmpEchoRequest,
  encodeIpv4Udp,
  onesComplementSum,
} from '../../src/wire/ip-udp.js';
import { fromHex, parseIpv4 } from '../../src/wire/ipv4.js';

const datagram = {
  source: parseIpv4('10.91.0.1'),
  destination: parseIpv4('10.91.0.57'),
  sourcePort: 67,
  destinationPort: 68,
  payload: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
  identification: 0x1234,
};

describe('IPv4 + UDP', () => {
  test('a known IPv4 header sums to 0xffff with its checksum (RFC 1071)', () => {
    // 192.168.0.1 → 192.168.0.199, TTL 64, UDP, checksum 0xb861.
    assert.equal(
      onesComplementSum(fromHex('450000730000400040 11b861c0a80001c0a800c7'.replace(/ /g, ''))),
      0xffff,
    );
  });

  test('encode then decode gives the datagram back; header fields as sent', () => {
    const bytes = encodeIpv4Udp(datagram);
    assert.equal(bytes.length, 20 + 8 + 300);
    assert.equal(bytes[0], 0x45);
    assert.equal(bytes[8], 64);
    const d = decodeIpv4Udp(bytes);
    assert.ok(d.ok, JSON.stringify(!d.ok && d.error));
    assert.equal(d.datagram.source, datagram.source);
    assert.equal(d.datagram.destination, datagram.destination);
    assert.equal(d.datagram.sourcePort, 67);
    assert.equal(d.datagram.destinationPort, 68);
    assert.deepEqual([...d.datagram.payload], [...datagram.payload]);
  });

  test('round trip over random datagrams, trailing link padding ignored', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffff }),
        fc.nat({ max: 0xffff }),
        fc.uint8Array({ maxLength: 1400 }),
        fc.nat({ max: 20 }),
        (source, destination, sourcePort, destinationPort, payload, padding) => {
          const bytes = encodeIpv4Udp({
            source,
            destination,
            sourcePort,
            destinationPort,
            payload,
            identification: 7,
          });
          const padded = new Uint8Array(bytes.length + padding);
          padded.set(bytes);
          const d = decodeIpv4Udp(padded);
          assert.ok(d.ok);
          assert.deepEqual(
            { ...d.datagram, payload: [...d.datagram.payload] },
            { source, destination, sourcePort, destinationPort, payload: [...payload] },
          );
        },
      ),
    );
  });

  test('corruption, fragments and other protocols are refused with a reason', () => {
    const good = encodeIpv4Udp(datagram);
    const with_ = (i: number, v: number) => {
      const b = new Uint8Array(good);
      b[i] = v;
      return decodeIpv4Udp(b);
    };
    const reason = (r: ReturnType<typeof decodeIpv4Udp>) => (r.ok ? 'ok' : r.error.reason);
    assert.equal(reason(decodeIpv4Udp(good.subarray(0, 19))), 'too-short');
    assert.equal(reason(with_(0, 0x65)), 'not-ipv4');
    assert.equal(reason(with_(0, 0x44)), 'bad-header-length');
    assert.equal(reason(with_(3, 0xff)), 'bad-total-length');
    assert.equal(reason(with_(15, 2)), 'bad-header-checksum');
    assert.equal(reason(with_(40, good[40]! ^ 1)), 'bad-udp-checksum');
    const fragment = encodeIpv4Udp(datagram);
    fragment[6] = 0x20; // more fragments
    const sum = onesComplementSum(fragment.subarray(0, 20).map((x, i) => (i === 10 || i === 11 ? 0 : x)));
    fragment[10] = (~sum >> 8) & 0xff;
    fragment[11] = ~sum & 0xff;
    assert.equal(reason(decodeIpv4Udp(fragment)), 'fragment');
    // A UDP checksum of 0 is "none" (RFC 768).
    const none = new Uint8Array(good);
    none[26] = 0;
    none[27] = 0;
    none[40] = none[40]! ^ 1;
    assert.equal(reason(decodeIpv4Udp(none)), 'ok');
  });

  test('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        decodeIpv4Udp(bytes);
        decodeIcmpEchoReply(bytes);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('ICMP echo', () => {
  test('a request checksums to 0xffff; a reply in an IP packet decodes to its source, id and sequence', () => {
    const request = encodeIcmpEchoRequest(0xbeef, 3, fromHex('00112233'));
    assert.equal(request[0], 8);
    assert.equal(onesComplementSum(request), 0xffff);
    // The reply: type 0, same id/seq/data; fix the checksum, wrap it in an IPv4 header.
    const reply = new Uint8Array(request);
    reply[0] = 0;
    reply[2] = 0;
    reply[3] = 0;
    const c = ~onesComplementSum(reply) & 0xffff;
    reply[2] = c >> 8;
    reply[3] = c & 0xff;
    const ip = new Uint8Array(20 + reply.length);
    ip.set([0x45, 0, 0, ip.length, 0, 0, 0, 0, 64, 1, 0, 0, 10, 91, 0, 10, 10, 91, 0, 1]);
    ip.set(reply, 20);
    assert.deepEqual(decodeIcmpEchoReply(ip), {
      source: parseIpv4('10.91.0.10'),
      identifier: 0xbeef,
      sequence: 3,
    });
    ip[20] = 8; // a request, not a reply
    assert.equal(decodeIcmpEchoReply(ip), null);
  });
});
