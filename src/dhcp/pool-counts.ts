// How a scope's free addresses are split between the failover partners (D12 §5.4: FREE = the
// primary's, BACKUP = the secondary's), counted for pool balancing (src/failover/pool-balancing.ts)
// from the lease table's pages: a range of two million addresses is not visited address by
// address (issue 15). A dynamic address with no binding is FREE (D12).

import type { Ipv4 } from '../wire/ipv4.js';
import { BINDING_STATES, type ColumnTest, type LeaseTable } from './lease-table.js';
import { countDynamicIn, type EngineRange, nonDynamicParts, type ScopeView } from './scope.js';

const ALL_STATES = (1 << BINDING_STATES.length) - 1;
const FREE = 1 << BINDING_STATES.indexOf('free');
const BACKUP = 1 << BINDING_STATES.indexOf('backup');

function test(stateMask: number): ColumnTest {
  return { stateMask, scopeIndex: -1, ownerIndex: -1, extra: null };
}

/** FREE and BACKUP dynamic addresses of `view` within `ranges` (some of its ranges). */
export function freeAndBackupIn(
  table: LeaseTable,
  view: ScopeView,
  ranges: readonly EngineRange[],
): { free: number; backup: number } {
  const holes = nonDynamicParts(view, ranges);
  // Bindings at dynamic addresses whose state is in `mask`.
  const count = (mask: number): number => {
    let n = 0;
    for (const r of ranges) n += table.countInRange(r.start as Ipv4, r.end as Ipv4, test(mask));
    for (const h of holes) n -= table.countInRange(h.start as Ipv4, h.end as Ipv4, test(mask));
    return n;
  };
  return {
    free: countDynamicIn(view, ranges) - count(ALL_STATES & ~FREE),
    backup: count(BACKUP),
  };
}
