// Statistics of every scope the engine serves, from its live lease table and offers, in the API's
// shape. One pass over the table serves the statistics routes, the status summary and /metrics.

import type { ScopeView } from '../dhcp/scope.js';
import { computeScopeStatistics, sumScopeStatistics } from '../dhcp/statistics.js';
import type { ApiDeps } from './deps.js';
import type { ScopeStatistics } from './schemas.js';
import { roleOfScope } from './scope-resource.js';

export function currentScopeStatistics(deps: ApiDeps, now: number): Map<string, ScopeStatistics> {
  const engine = deps.engine();
  const config = deps.config();
  const views: ScopeView[] = [];
  for (const id of engine.scopeIds()) {
    const v = engine.scopeView(id);
    if (v) views.push(v);
  }
  const stats = computeScopeStatistics(views, engine.leases(), engine.pendingOffers(now), {
    serverName: engine.settings.serverName,
    roleOf: (id) => roleOfScope(config, id),
    now,
  });
  const out = new Map<string, ScopeStatistics>();
  for (const [scopeId, s] of stats) out.set(scopeId, { scopeId, role: roleOfScope(config, scopeId), ...s });
  return out;
}

export function totalStatistics(items: Iterable<ScopeStatistics>): ScopeStatistics {
  return { scopeId: '*', role: 'standalone', ...sumScopeStatistics(items) };
}
