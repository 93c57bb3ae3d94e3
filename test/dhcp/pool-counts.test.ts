// freeAndBackupIn (pool balancing's count) equals the walk over every address it replaces.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type BindingState, emptyLease } from '../../src/dhcp/lease.js';
import { BINDING_STATES, LeaseTable } from '../../src/dhcp/lease-table.js';
import { freeAndBackupIn } from '../../src/dhcp/pool-counts.js';
import { type EngineRange, ScopeView } from '../../src/dhcp/scope.js';
import { NOW, reservation, scope } from './helpers.js';

const BASE = 0x0a000000; // 10.0.0.0/23: two /24 pages
const spanArb = fc
  .tuple(fc.integer({ min: 0, max: 511 }), fc.integer({ min: 0, max: 300 }))
  .map(
    ([start, length]): EngineRange => ({ start: BASE + start, end: BASE + Math.min(511, start + length) }),
  );

test('FREE and BACKUP counts from the table pages equal the walk over every dynamic address', () => {
  fc.assert(
    fc.property(
      fc.array(spanArb, { minLength: 1, maxLength: 3 }),
      fc.array(spanArb, { maxLength: 3 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 511 }), { maxLength: 5 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 520 }), fc.constantFrom<BindingState>(...BINDING_STATES)), {
        maxLength: 300,
      }),
      (rawRanges, exclusions, reserved, records) => {
        // Ranges of one scope do not overlap (the config loader rejects it).
        const ranges: EngineRange[] = [];
        for (const r of [...rawRanges].sort((a, b) => a.start - b.start)) {
          const last = ranges.at(-1);
          if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
          else ranges.push({ ...r });
        }
        const view = new ScopeView(
          scope({
            subnet: '10.0.0.0/23',
            ranges,
            exclusions,
            reservations: reserved.map((o, i) =>
              reservation({ address: `10.0.${o >> 8}.${o & 255}`, hardwareAddress: `02000000000${i}` }),
            ),
          }),
        );
        const table = new LeaseTable();
        for (const [o, state] of records) table.put(emptyLease(BASE + o, '10.0.0.0', state, NOW));
        const group = ranges.slice(0, Math.max(1, ranges.length - 1));
        let free = 0;
        let backup = 0;
        for (const r of group) {
          for (let a = r.start; a <= r.end; a++) {
            if (!view.isDynamic(a)) continue;
            const state = table.stateOf(a);
            if (state === undefined || state === 'free') free++;
            else if (state === 'backup') backup++;
          }
        }
        assert.deepEqual(freeAndBackupIn(table, view, group), { free, backup });
      },
    ),
    { numRuns: 500 },
  );
});
