// Scopes as configured, and their statistics (seed 000, windows-model.md §4.3):
//   GET /api/v1/scopes, /api/v1/scopes/{scopeId}
//   GET /api/v1/statistics (every scope + total)
//   GET /api/v1/scopes/{scopeId}/statistics and …/failover-statistics (the same numbers)

import {
  ErrorBody,
  ref,
  Scope,
  ScopeList,
  ScopeParams,
  ScopeStatistics,
  StatisticsList,
} from '../schemas.js';
import { scopeResource } from '../scope-resource.js';
import { currentScopeStatistics, totalStatistics } from '../scope-statistics.js';
import type { ApiApp, RouteContext } from '../server.js';

export function noSuchScope(scopeId: string) {
  return { error: 'not-found', message: `no scope "${scopeId}"` };
}

export function scopeRoutes(app: ApiApp, { deps, now }: RouteContext): void {
  const dynamicCount = (id: string) => deps.engine().scopeView(id)?.size ?? 0;

  app.get(
    '/api/v1/scopes',
    {
      schema: { tags: ['scopes'], summary: 'Every scope, as configured', response: { 200: ref(ScopeList) } },
    },
    async () => {
      const config = deps.config();
      return { items: config.scopes.map((s) => scopeResource(config, s, dynamicCount(s.id))) };
    },
  );

  app.get(
    '/api/v1/scopes/:scopeId',
    {
      schema: {
        tags: ['scopes'],
        summary: 'One scope: ranges, exclusions, reservations, options, lease times',
        params: ScopeParams,
        response: { 200: ref(Scope), 404: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const config = deps.config();
      const scope = config.scopes.find((s) => s.id === request.params.scopeId);
      if (!scope) return reply.code(404).send(noSuchScope(request.params.scopeId));
      return scopeResource(config, scope, dynamicCount(scope.id));
    },
  );

  app.get(
    '/api/v1/statistics',
    {
      schema: {
        tags: ['scopes'],
        summary: 'Statistics of every scope and their sum',
        response: { 200: ref(StatisticsList) },
      },
    },
    async () => {
      const items = [...currentScopeStatistics(deps, now()).values()];
      return { items, total: totalStatistics(items) };
    },
  );

  for (const suffix of ['statistics', 'failover-statistics']) {
    app.get(
      `/api/v1/scopes/:scopeId/${suffix}`,
      {
        schema: {
          tags: ['scopes'],
          summary:
            suffix === 'statistics'
              ? 'Address statistics of one scope (Get-DhcpServerv4ScopeStatistics)'
              : 'The same, under the Windows failover name (DHCP_FAILOVER_STATISTICS)',
          params: ScopeParams,
          response: { 200: ref(ScopeStatistics), 404: ref(ErrorBody) },
        },
      },
      async (request, reply) => {
        const s = currentScopeStatistics(deps, now()).get(request.params.scopeId);
        if (!s) return reply.code(404).send(noSuchScope(request.params.scopeId));
        return s;
      },
    );
  }
}
