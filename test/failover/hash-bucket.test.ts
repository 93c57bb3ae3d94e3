// RFC 3074 hash and HBA helpers against spec §8 (table guard, test vectors, ISC `split`).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BUCKET_COUNT,
  clientBucket,
  clientHashKey,
  countSetBuckets,
  hbaFromPercent,
  hbaFromSplit,
  isBucketSet,
  LOAD_BALANCE_MIXING_TABLE,
  loadBalanceHash,
  serves,
} from '../../src/failover/hash-bucket.js';
import { fromHex, toHex } from '../../src/wire/ipv4.js';

describe('RFC 3074 mixing table (spec §8.2)', () => {
  it('matches the SHA-256 guard', () => {
    const digest = createHash('sha256').update(LOAD_BALANCE_MIXING_TABLE).digest('hex');
    assert.equal(digest, '50015bcb049a75f57f1224b2d303a4d75485a0de3a772a30e06256daa1c873a7');
  });

  it('is a permutation of 0..255 with the documented ends', () => {
    assert.equal(LOAD_BALANCE_MIXING_TABLE.length, 256);
    assert.deepEqual(
      [...LOAD_BALANCE_MIXING_TABLE].sort((a, b) => a - b),
      Array.from({ length: 256 }, (_, i) => i),
    );
    assert.deepEqual([...LOAD_BALANCE_MIXING_TABLE.subarray(0, 8)], [251, 175, 119, 215, 81, 14, 79, 191]);
    assert.deepEqual([...LOAD_BALANCE_MIXING_TABLE.subarray(251)], [68, 6, 169, 234, 151]);
  });
});

describe('loadBalanceHash — spec §8.3 vectors', () => {
  // key hex, bucket, HBA byte, HBA bit mask, owner with split 128
  const vectors: [string, number, number, number, 'primary' | 'secondary'][] = [
    ['', 0, 0, 0x01, 'primary'],
    ['00', 175, 21, 0x80, 'secondary'],
    ['616263', 170, 21, 0x04, 'secondary'],
    ['000000000000', 254, 31, 0x40, 'secondary'],
    ['001122334455', 135, 16, 0x80, 'secondary'],
    ['010203040506', 179, 22, 0x08, 'secondary'],
    ['aabbccddeeff', 57, 7, 0x02, 'primary'],
    ['ffffffffffff', 79, 9, 0x80, 'primary'],
    ['525400123456', 156, 19, 0x10, 'secondary'],
    ['01001122334455', 223, 27, 0x80, 'secondary'],
    ['01aabbccddeeff', 102, 12, 0x40, 'primary'],
  ];
  const split128 = hbaFromSplit(128);

  for (const [keyHex, bucket, byte, mask, owner] of vectors) {
    it(`key "${keyHex}" → bucket ${bucket}, HBA byte ${byte} bit 0x${mask.toString(16)}, ${owner}`, () => {
      assert.equal(loadBalanceHash(fromHex(keyHex)), bucket);
      assert.equal(bucket >> 3, byte);
      assert.equal(1 << (bucket & 7), mask);
      // The bit in the HBA is exactly that byte/mask.
      const only = new Uint8Array(32);
      only[byte] = mask;
      assert.equal(isBucketSet(only, bucket), true);
      assert.equal(countSetBuckets(only), 1);
      assert.equal(serves(split128, bucket, owner, 'primary'), true);
      assert.equal(serves(split128, bucket, owner === 'primary' ? 'secondary' : 'primary', 'primary'), false);
    });
  }

  it('follows the trace for 00 11 22 33 44 55 (start 6, walk from the last byte)', () => {
    const t = LOAD_BALANCE_MIXING_TABLE;
    let h = 6;
    const steps: number[] = [];
    for (const byte of [0x55, 0x44, 0x33, 0x22, 0x11, 0x00]) {
      h = t[h ^ byte]!;
      steps.push(h);
    }
    assert.deepEqual(steps, [204, 168, 146, 137, 217, 135]);
  });

  it('uses length mod 256 as the start value', () => {
    const key = new Uint8Array(256); // length 256 → start 0, same as an empty walk start
    let h = 0;
    for (let i = key.length - 1; i >= 0; i--) h = LOAD_BALANCE_MIXING_TABLE[h ^ key[i]!]!;
    assert.equal(loadBalanceHash(key), h);
  });

  it('spreads random 6-byte keys evenly (spec §8.2 sanity: every bucket 893..1113 of 256 000)', () => {
    const counts = new Array<number>(BUCKET_COUNT).fill(0);
    // Deterministic xorshift so the check replays exactly.
    let s = 0x9e3779b9;
    const key = new Uint8Array(6);
    for (let n = 0; n < 256_000; n++) {
      for (let i = 0; i < 6; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        key[i] = s & 0xff;
      }
      counts[loadBalanceHash(key)]!++;
    }
    assert.ok(Math.min(...counts) >= 850, `min ${Math.min(...counts)}`);
    assert.ok(Math.max(...counts) <= 1150, `max ${Math.max(...counts)}`);
  });

  it('always returns 0..255', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (key) => {
        const h = loadBalanceHash(key);
        return Number.isInteger(h) && h >= 0 && h <= 255;
      }),
    );
  });
});

describe('clientHashKey (spec §8.1)', () => {
  const chaddr = fromHex('00112233445500000000000000000000');

  it('uses the client-identifier when present and non-empty', () => {
    const id = fromHex('01001122334455');
    assert.equal(toHex(clientHashKey(id, chaddr, 6)), '01001122334455');
    assert.equal(clientBucket(id, chaddr, 6), 223);
  });

  it('falls back to chaddr[0..hlen) without htype for a missing or empty client-id', () => {
    assert.equal(toHex(clientHashKey(null, chaddr, 6)), '001122334455');
    assert.equal(toHex(clientHashKey(new Uint8Array(0), chaddr, 6)), '001122334455');
    assert.equal(clientBucket(null, chaddr, 6), 135);
  });

  it('clamps a bogus hlen to the chaddr bytes', () => {
    assert.equal(clientHashKey(null, chaddr, 200).length, 16);
    assert.equal(clientHashKey(null, chaddr, -3).length, 0);
  });
});

describe('HBA helpers (spec §8.4)', () => {
  it('hbaFromPercent(50) equals ISC split 128: 16×ff + 16×00', () => {
    const expected = `${'ff'.repeat(16)}${'00'.repeat(16)}`;
    assert.equal(toHex(hbaFromPercent(50)), expected);
    assert.equal(toHex(hbaFromSplit(128)), expected);
  });

  it('maps split n to buckets 0..n−1, LSB first in each byte', () => {
    assert.equal(toHex(hbaFromSplit(0)), '00'.repeat(32));
    assert.equal(toHex(hbaFromSplit(256)), 'ff'.repeat(32));
    assert.equal(toHex(hbaFromSplit(3)), `07${'00'.repeat(31)}`);
    assert.equal(toHex(hbaFromSplit(9)), `ff01${'00'.repeat(30)}`);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 256 }), (n) => {
        const hba = hbaFromSplit(n);
        assert.equal(countSetBuckets(hba), n);
        for (let b = 0; b < 256; b++) assert.equal(isBucketSet(hba, b), b < n);
      }),
    );
  });

  it('rounds percentages to round(256·p/100) primary buckets', () => {
    assert.equal(countSetBuckets(hbaFromPercent(0)), 0);
    assert.equal(countSetBuckets(hbaFromPercent(100)), 256);
    assert.equal(countSetBuckets(hbaFromPercent(10)), 26); // 25.6
    assert.equal(countSetBuckets(hbaFromPercent(33)), 84); // 84.48
    assert.equal(countSetBuckets(hbaFromPercent(70)), 179); // 179.2
  });

  it('with bit meaning "secondary" sets the complement', () => {
    const hba = hbaFromPercent(25, 'secondary');
    assert.equal(countSetBuckets(hba), 192);
    for (let b = 0; b < 256; b++) {
      assert.equal(serves(hba, b, 'primary', 'secondary'), b < 64);
    }
  });

  it('serves: exactly one role per bucket, under both bit meanings', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('primary' as const, 'secondary' as const),
        (hba, bucket, meaning) => {
          const p = serves(hba, bucket, 'primary', meaning);
          const s = serves(hba, bucket, 'secondary', meaning);
          assert.notEqual(p, s);
          assert.equal(isBucketSet(hba, bucket), meaning === 'primary' ? p : s);
        },
      ),
    );
  });

  it('ISC meaning: split 256 → primary serves everyone; split 0 → secondary serves everyone', () => {
    for (let b = 0; b < 256; b++) {
      assert.equal(serves(hbaFromSplit(256), b, 'primary', 'primary'), true);
      assert.equal(serves(hbaFromSplit(0), b, 'secondary', 'primary'), true);
    }
  });

  it('rejects out-of-range input', () => {
    assert.throws(() => hbaFromPercent(101), RangeError);
    assert.throws(() => hbaFromPercent(Number.NaN), RangeError);
    assert.throws(() => hbaFromSplit(257), RangeError);
    assert.throws(() => hbaFromSplit(1.5), RangeError);
    assert.throws(() => isBucketSet(new Uint8Array(31), 0), RangeError);
    assert.throws(() => isBucketSet(new Uint8Array(32), 256), RangeError);
  });
});
