// Message digest (option 17, spec §11): sign/verify round trip, tampering, missing/unexpected digests.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { hbaFromSplit } from '../../src/failover/hash-bucket.js';
import { type FailoverAuthKey, signFailover, verifyFailover } from '../../src/wire/failover-auth.js';
import {
  buildBndUpd,
  buildConnect,
  buildContact,
  decodeFailover,
  encodeFailover,
} from '../../src/wire/failover-codec.js';
import { BindingStatus, FailoverOptionCode } from '../../src/wire/failover-message.js';
import { toHex } from '../../src/wire/ipv4.js';

const T = 0x65000000;
const SECRET = 'correct horse battery staple';
const SHA: FailoverAuthKey = { algorithm: 'hmac-sha256', secret: SECRET };
const MD5: FailoverAuthKey = { algorithm: 'hmac-md5-d12', secret: SECRET };

const connect = encodeFailover(
  buildConnect({
    time: T,
    xid: 0,
    relationshipName: 'rel',
    maxUnackedUpdates: 10,
    receiveTimerSeconds: 30,
    vendorClass: 'twinlease',
    mcltSeconds: 3600,
    hashBucketAssignment: hbaFromSplit(128),
  }),
);

describe('signFailover / verifyFailover', () => {
  for (const [key, type, digestLength] of [
    [SHA, 2, 32],
    [MD5, 1, 16],
  ] as const) {
    it(`${key.algorithm}: appends option 17 (type ${type}) last and verifies`, () => {
      const signed = signFailover(connect, key);
      assert.equal(signed.length, connect.length + 4 + 1 + digestLength);
      assert.equal((signed[0]! << 8) | signed[1]!, signed.length);
      const r = decodeFailover(signed);
      assert.ok(r.ok);
      const last = r.message.options.at(-1)!;
      assert.equal(last.code, FailoverOptionCode.MESSAGE_DIGEST);
      assert.equal(r.message.messageDigest?.type, type);
      assert.equal(r.message.messageDigest?.digest.length, digestLength);
      assert.equal(r.message.relationshipName, 'rel');
      assert.equal(verifyFailover(signed, key), 'ok');
    });

    it(`${key.algorithm}: digest = HMAC(secret, whole message with the digest bytes zeroed)`, () => {
      const signed = signFailover(connect, key);
      const zeroed = new Uint8Array(signed);
      zeroed.fill(0, signed.length - digestLength);
      const hash = key.algorithm === 'hmac-sha256' ? 'sha256' : 'md5';
      const expected = createHmac(hash, SECRET).update(zeroed).digest('hex');
      assert.equal(toHex(signed.subarray(signed.length - digestLength)), expected);
    });
  }

  it('detects tampering with any single byte', () => {
    const signed = signFailover(connect, SHA);
    for (let i = 0; i < signed.length; i++) {
      const t = new Uint8Array(signed);
      t[i] = t[i]! ^ 0x01;
      assert.notEqual(verifyFailover(t, SHA), 'ok', `byte ${i}`);
    }
  });

  it('rejects a wrong secret or a different algorithm', () => {
    const signed = signFailover(connect, SHA);
    assert.equal(verifyFailover(signed, { algorithm: 'hmac-sha256', secret: 'other' }), 'bad');
    assert.equal(verifyFailover(signed, MD5), 'bad');
    assert.equal(verifyFailover(signFailover(connect, MD5), SHA), 'bad');
  });

  it('reports a missing digest when a secret is configured', () => {
    assert.equal(verifyFailover(connect, SHA), 'missing');
    assert.equal(verifyFailover(encodeFailover(buildContact({ time: T, xid: 1 })), MD5), 'missing');
  });

  it('reports an unexpected digest when none is configured, and passes plain messages', () => {
    assert.equal(verifyFailover(signFailover(connect, SHA), { algorithm: 'none' }), 'unexpected');
    assert.equal(verifyFailover(connect, { algorithm: 'none' }), 'ok');
  });

  it('accepts the digest as the first option too (D12 §11.1 placement)', () => {
    const body = connect.subarray(12);
    const length = 12 + 4 + 33 + body.length;
    const bytes = new Uint8Array(length);
    bytes.set(connect.subarray(0, 12));
    bytes[0] = length >> 8;
    bytes[1] = length & 0xff;
    bytes.set([0x00, 0x11, 0x00, 33, 2], 12);
    bytes.set(body, 12 + 4 + 33);
    bytes.set(createHmac('sha256', SECRET).update(bytes).digest(), 17);
    assert.equal(verifyFailover(bytes, SHA), 'ok');
  });

  it('rejects two digests and a malformed message', () => {
    const signed = signFailover(connect, SHA);
    const twice = new Uint8Array(signed.length + 37);
    twice.set(signed);
    twice.set(signed.subarray(signed.length - 37), signed.length);
    twice[0] = twice.length >> 8;
    twice[1] = twice.length & 0xff;
    assert.equal(verifyFailover(twice, SHA), 'bad');
    assert.equal(verifyFailover(signed.subarray(0, 20), SHA), 'bad');
    assert.equal(verifyFailover(new Uint8Array(3), { algorithm: 'none' }), 'bad');
  });

  it('signs batched BNDUPDs and accepts a Uint8Array secret', () => {
    const key: FailoverAuthKey = { algorithm: 'hmac-sha256', secret: new Uint8Array([1, 2, 3, 4]) };
    const bnd = encodeFailover(
      buildBndUpd({
        time: T,
        xid: 7,
        bindings: [1, 2, 3].map((address) => ({ address, bindingStatus: BindingStatus.FREE })),
      }),
    );
    const signed = signFailover(bnd, key);
    assert.equal(verifyFailover(signed, key), 'ok');
    const r = decodeFailover(signed);
    assert.ok(r.ok);
    assert.equal(r.message.bindings.length, 3);
    for (const b of r.message.bindings) assert.deepEqual(b.otherOptions, []);
  });

  it('refuses to sign twice, malformed input, oversize results, empty secrets — without echoing the secret', () => {
    const errors: unknown[] = [];
    const attempt = (f: () => unknown) => {
      try {
        f();
        assert.fail('expected a throw');
      } catch (e) {
        errors.push(e);
      }
    };
    attempt(() => signFailover(signFailover(connect, SHA), SHA));
    attempt(() => signFailover(new Uint8Array(5), SHA));
    const big = encodeFailover(
      buildBndUpd({
        time: T,
        xid: 1,
        bindings: Array.from({ length: 156 }, (_, i) => ({ address: i, bindingStatus: BindingStatus.FREE })),
      }),
    );
    assert.ok(big.length <= 2048 && big.length + 37 > 2048);
    attempt(() => signFailover(big, SHA));
    attempt(() => signFailover(connect, { algorithm: 'hmac-sha256', secret: '' }));
    for (const e of errors) {
      assert.ok(e instanceof RangeError);
      assert.ok(!e.message.includes(SECRET));
    }
  });
});
