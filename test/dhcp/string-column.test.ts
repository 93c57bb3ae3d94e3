// The lease table's byte column for host names and FQDNs (src/dhcp/string-column.ts): every value
// reads back exactly as it was put, inline or not, across overwrites, clears and growth.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { INLINE_MAX, StringColumn } from '../../src/dhcp/string-column.js';

test('values read back as put: null, empty, inline ASCII, the longest inline, longer, non-ASCII', () => {
  const c = new StringColumn(8);
  assert.equal(c.get(3), null, 'nothing allocated yet: null');
  const values = [
    '',
    'a',
    'x'.repeat(INLINE_MAX),
    'y'.repeat(INLINE_MAX + 1),
    'hôte',
    'émoji 😀',
    'A\u0000B',
  ];
  for (const [i, v] of values.entries()) c.set(i, v);
  for (const [i, v] of values.entries()) assert.equal(c.get(i), v, JSON.stringify(v));
  assert.equal(c.get(7), null);
  // Overwrite an outside value with an inline one and back, then clear.
  c.set(3, 'short');
  assert.equal(c.get(3), 'short');
  c.set(0, 'z'.repeat(100));
  assert.equal(c.get(0), 'z'.repeat(100));
  c.set(0, null);
  assert.equal(c.get(0), null);
});

test('a slot beyond the capacity is refused, not written somewhere else', () => {
  const c = new StringColumn(2);
  c.set(1, 'b');
  assert.throws(() => c.set(2, 'c'), /beyond capacity/);
  c.grow(4);
  c.set(3, 'd');
  assert.equal(c.get(1), 'b');
  assert.equal(c.get(3), 'd');
  assert.equal(c.get(2), null);
});

test('against a model: any sequence of sets and growths reads back as a Map of the same writes', () => {
  const value = fc.oneof(
    fc.constant(null),
    fc.string({ maxLength: INLINE_MAX + 5 }),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.string({ unit: fc.constantFrom('a', 'Z', '-', '.', '0'), maxLength: 40 }),
  );
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), slot: fc.nat(63), value }),
    fc.record({ kind: fc.constant('grow' as const), by: fc.integer({ min: 1, max: 16 }) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 16 }), fc.array(op, { maxLength: 80 }), (initial, ops) => {
      let capacity = initial;
      const c = new StringColumn(capacity);
      const model = new Map<number, string>();
      for (const o of ops) {
        if (o.kind === 'grow') {
          capacity += o.by;
          c.grow(capacity);
        } else if (o.slot < capacity) {
          c.set(o.slot, o.value);
          if (o.value === null) model.delete(o.slot);
          else model.set(o.slot, o.value);
        }
      }
      for (let s = 0; s < capacity; s++) assert.equal(c.get(s), model.get(s) ?? null, `slot ${s}`);
    }),
    { numRuns: 300 },
  );
});
