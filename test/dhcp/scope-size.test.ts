// ScopeView.size (the dynamic addresses of a scope) is counted by interval arithmetic, not one
// isDynamic call per address: it must give what the walk over every address gives.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type EngineRange, ScopeView } from '../../src/dhcp/scope.js';
import { reservation, scope } from './helpers.js';

const BASE = 0x0a000000; // 10.0.0.0/24
const rangeArb = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 40 }))
  .map(
    ([start, length]): EngineRange => ({ start: BASE + start, end: BASE + Math.min(255, start + length) }),
  );

test('ScopeView.size equals the number of addresses isDynamic accepts', () => {
  fc.assert(
    fc.property(
      fc.array(rangeArb, { minLength: 1, maxLength: 4 }),
      fc.array(rangeArb, { maxLength: 4 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { maxLength: 5 }),
      (ranges, exclusions, reserved) => {
        const view = new ScopeView(
          scope({
            ranges,
            exclusions,
            reservations: reserved.map((r, i) =>
              reservation({ address: `10.0.0.${r}`, hardwareAddress: `02000000000${i}` }),
            ),
          }),
        );
        let walked = 0;
        for (const r of ranges) for (let a = r.start; a <= r.end; a++) if (view.isDynamic(a)) walked++;
        assert.equal(view.size, walked);
      },
    ),
    { numRuns: 500 },
  );
});
