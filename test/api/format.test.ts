// The API's time format (src/api/format.ts): the fast path of iso() (date cached per day, time of
// day from a table, issue 15) writes exactly what Date.toISOString() without milliseconds writes.

import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { colonHex, iso, isoOrNull, setWallOffsetSource } from '../../src/api/format.js';

const byDate = (wallSeconds: number) => new Date(wallSeconds * 1000).toISOString().replace('.000Z', 'Z');

afterEach(() => setWallOffsetSource(() => 0));

test('iso() equals toISOString without milliseconds, at day, year and range boundaries', () => {
  const edges = [
    0, 1, 59, 60, 3599, 3600, 86_399, 86_400, 86_401, 951_782_399, 951_782_400, 951_868_800, 1_796_361_566,
    2_147_483_647, 4_294_967_294, 253_402_300_799, 253_402_300_800, -1, -86_401, 0.5, 1_796_361_566.25,
  ];
  for (const s of edges) assert.equal(iso(s), byDate(s), `iso(${s})`);
});

test('iso() equals toISOString without milliseconds over random times, with a wall offset', () => {
  let x = 12_345;
  const next = () => {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    return x;
  };
  for (const offset of [0, 37, -3600, 0.25]) {
    setWallOffsetSource(() => offset);
    for (let i = 0; i < 20_000; i++) {
      const s = i % 2 === 0 ? next() : 1_796_000_000 + (next() % 200_000);
      assert.equal(iso(s), byDate(s + offset), `iso(${s}) with offset ${offset}`);
    }
  }
});

test('isoOrNull: 0 and infinite are null', () => {
  assert.equal(isoOrNull(0), null);
  assert.equal(isoOrNull(0xffffffff), null);
  assert.equal(isoOrNull(86_400), '1970-01-02T00:00:00Z');
});

test('colonHex puts a colon between octets, as the regular expression it replaces did', () => {
  const byRegExp = (hex: string) => hex.toLowerCase().replace(/(..)(?!$)/g, '$1:');
  assert.equal(colonHex(null), null);
  assert.equal(colonHex(''), null);
  for (const hex of ['a', 'ab', 'abc', '001BA9', '0102030405', '01020304050607080910111213141516', 'ABCDE'])
    assert.equal(colonHex(hex), byRegExp(hex), hex);
  assert.equal(colonHex('001BA9'), '00:1b:a9');
});
