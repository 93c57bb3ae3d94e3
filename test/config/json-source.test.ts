import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseJsonWithPositions } from '../../src/config/json-source.js';

function jsonParseOrFail(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

test('agrees with JSON.parse on valid documents (values and -0 aside, exactly)', () => {
  fc.assert(
    fc.property(fc.json({ maxDepth: 6 }), fc.constantFrom(0, 2), (text, indent) => {
      const doc = indent === 0 ? text : JSON.stringify(JSON.parse(text), null, indent);
      const r = parseJsonWithPositions(doc, 64);
      assert.ok(r.ok, doc);
      if (r.ok) assert.deepEqual(r.source.value, JSON.parse(doc));
    }),
    { numRuns: 2000 },
  );
});

test('accepts and rejects the same texts as JSON.parse (mutated documents), never throws', () => {
  const edit = fc.record({
    at: fc.nat(),
    remove: fc.nat({ max: 3 }),
    insert: fc.oneof(
      fc.string({ maxLength: 3 }),
      fc.constantFrom('"', '\\', ',', '}', ']', '{', '[', ':', '-', '0', 'e', '.', '\n', '\\u12'),
    ),
  });
  fc.assert(
    fc.property(fc.json({ maxDepth: 4 }), fc.array(edit, { maxLength: 3 }), (text, edits) => {
      let t = text;
      for (const e of edits) {
        const at = t.length === 0 ? 0 : e.at % (t.length + 1);
        t = t.slice(0, at) + e.insert + t.slice(at + e.remove);
      }
      if (t.charCodeAt(0) === 0xfeff) return; // we accept a BOM, JSON.parse does not
      const ours = parseJsonWithPositions(t, 64);
      const theirs = jsonParseOrFail(t);
      assert.equal(ours.ok, theirs.ok, JSON.stringify(t));
      if (ours.ok && theirs.ok) assert.deepEqual(ours.source.value, theirs.value);
      if (!ours.ok) {
        assert.ok(ours.position.line >= 1 && ours.position.column >= 1);
      }
    }),
    { numRuns: 3000 },
  );
});

test('positions of values and keys; missing pointers fall back to the nearest ancestor', () => {
  const text = '{\n  "a": [\n    1,\n    {"b": true}\n  ],\n  "c~/d": null\n}';
  const r = parseJsonWithPositions(text, 64);
  assert.ok(r.ok);
  if (!r.ok) return;
  const at = (p: string, key = false) => r.source.positionOf(p, key);
  assert.deepEqual(at(''), { line: 1, column: 1 });
  assert.deepEqual(at('/a'), { line: 2, column: 8 });
  assert.deepEqual(at('/a', true), { line: 2, column: 3 });
  assert.deepEqual(at('/a/0'), { line: 3, column: 5 });
  assert.deepEqual(at('/a/1/b'), { line: 4, column: 11 });
  assert.deepEqual(at('/a/1/b', true), { line: 4, column: 6 });
  assert.deepEqual(at('/c~0~1d'), { line: 6, column: 11 });
  assert.deepEqual(at('/a/1/missing'), { line: 4, column: 5 });
  assert.deepEqual(at('/nothing/here'), { line: 1, column: 1 });
});

test('duplicate properties are listed, the last value wins (as in JSON.parse)', () => {
  const r = parseJsonWithPositions('{"x": 1, "y": {"z": 1, "z": 2}, "x": 3}', 64);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.deepEqual(r.source.value, { x: 3, y: { z: 2 } });
  assert.deepEqual(
    r.source.duplicates.map((d) => [d.pointer, d.position.column, d.firstPosition.column]),
    [
      ['/y/z', 24, 16],
      ['/x', 33, 2],
    ],
  );
});

test('depth is bounded', () => {
  assert.ok(parseJsonWithPositions(`${'['.repeat(10)}${']'.repeat(10)}`, 10).ok);
  const r = parseJsonWithPositions(`${'['.repeat(11)}${']'.repeat(11)}`, 10);
  assert.ok(!r.ok && /nested deeper than 10 levels/.test(r.message));
});
