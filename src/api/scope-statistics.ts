// Statistics of every scope the engine serves, in the API's shape: from the engine's per-scope
// tallies (kept up to date as bindings change) and its offers, never a pass over the lease table.
// They serve the statistics routes, the status summary and /metrics.

import { sumScopeStatistics } from '../dhcp/statistics.js';
import type { ApiDeps } from './deps.js';
import type { ScopeStatistics } from './schemas.js';
import { roleOfScope } from './scope-resource.js';

export function currentScopeStatistics(deps: ApiDeps, now: number): Map<string, ScopeStatistics> {
  const engine = deps.engine();
  const config = deps.config();
  const stats = engine.scopeStatistics(now, (id) => roleOfScope(config, id));
  const out = new Map<string, ScopeStatistics>();
  for (const [scopeId, s] of stats) out.set(scopeId, { scopeId, role: roleOfScope(config, scopeId), ...s });
  return out;
}

export function totalStatistics(items: Iterable<ScopeStatistics>): ScopeStatistics {
  return { scopeId: '*', role: 'standalone', ...sumScopeStatistics(items) };
}
