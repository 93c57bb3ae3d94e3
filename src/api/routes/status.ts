// GET /healthz (public liveness) and GET /api/v1/status (what an operator looks at first).

import { resolve } from 'node:path';
import { formatIpv4, formatSubnet } from '../../wire/ipv4.js';
import { iso } from '../format.js';
import { relationshipNames, relationshipSummary } from '../relationship-resource.js';
import { ErrorBody, Health, ref, Status } from '../schemas.js';
import { currentScopeStatistics } from '../scope-statistics.js';
import type { ApiApp, RouteContext } from '../server.js';

export function statusRoutes(app: ApiApp, { deps, now }: RouteContext): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['status'],
        summary: 'Liveness (no token needed)',
        security: [],
        response: { 200: ref(Health) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/api/v1/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Version, uptime, lease store, scope summary, failover relationships',
        response: { 200: ref(Status), 401: ref(ErrorBody) },
      },
    },
    async (request) => {
      const t = now();
      const engine = deps.engine();
      const config = deps.config();
      const stats = currentScopeStatistics(deps, t);
      const statuses = deps.failover?.statuses() ?? [];
      return {
        version: deps.version,
        serverName: config.server.name,
        serverIdentifier: formatIpv4(engine.settings.serverIdentifier),
        now: iso(t),
        startedAt: iso(deps.startedAt),
        uptimeSeconds: Math.max(0, t - deps.startedAt),
        access: request.caller.access,
        leaseStore: {
          type: config.leaseStore.type,
          // PostgreSQL: the database URL without its password.
          path:
            config.leaseStore.type === 'postgresql' ? deps.leaseStore.path : resolve(deps.leaseStore.path),
          leases: deps.leaseStore.count(),
        },
        scopes: config.scopes.map((s) => {
          const st = stats.get(s.id);
          return {
            id: s.id,
            name: s.name,
            subnet: formatSubnet(s.subnet),
            role: st?.role ?? 'standalone',
            numAddr: st?.numAddr ?? 0,
            addrInUse: st?.addrInUse ?? 0,
            addrFree: st?.addrFree ?? 0,
            pendingOffers: st?.pendingOffers ?? 0,
            percentageInUse: st?.percentageInUse ?? 0,
          };
        }),
        relationships: relationshipNames(config, statuses).map((name) =>
          relationshipSummary(
            name,
            config.failover.find((r) => r.name === name) ?? null,
            statuses.find((x) => x.name === name) ?? null,
          ),
        ),
      };
    },
  );
}
