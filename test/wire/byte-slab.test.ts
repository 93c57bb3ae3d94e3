// The slab allocator behind the codec's byte arrays (issue 17): every array it hands out is
// zero, plain, of the asked length, and shares no byte with any other live array, across slabs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyBytes, newBytes } from '../../src/wire/byte-slab.js';

test('newBytes: zero-filled plain Uint8Arrays that never overlap, also when a slab fills up', () => {
  const live: Uint8Array[] = [];
  // 128 and 300 bytes (a file field, a reply) and odd sizes, more than several slabs hold.
  for (let i = 0; i < 2000; i++) {
    const length = [128, 300, 65, 4096, 1, 64, 5000][i % 7]!;
    const b = newBytes(length);
    assert.equal(b.constructor, Uint8Array);
    assert.equal(b.length, length);
    assert.ok(
      b.every((x) => x === 0),
      `array ${i} of ${length} bytes is not zero`,
    );
    b.fill((i % 251) + 1);
    live.push(b);
  }
  // Written after all were handed out: any overlap would have overwritten an earlier one.
  for (const [i, b] of live.entries()) {
    assert.ok(
      b.every((x) => x === (i % 251) + 1),
      `array ${i} was overwritten`,
    );
  }
});

test('copyBytes: a copy of the range, not a view of the source', () => {
  const src = Uint8Array.from({ length: 400 }, (_, i) => i & 255);
  for (const [start, end] of [
    [0, 0],
    [3, 19],
    [10, 74],
    [100, 400],
  ] as const) {
    const c = copyBytes(src, start, end);
    assert.equal(c.constructor, Uint8Array);
    assert.deepEqual([...c], [...src.subarray(start, end)]);
    if (c.length > 0) {
      c[0] = (c[0]! + 1) & 255;
      assert.notEqual(c[0], src[start], 'the copy shares memory with the source');
    }
  }
});
