// Lease records (seed 001, windows-model.md §4.4):
//   GET /api/v1/scopes/{scopeId}/leases?ip=&mac=&hostname=&state=&owner=&limit=&cursor=
//   GET /api/v1/scopes/{scopeId}/leases/{ip}   (and …/{ip}/failover, the Windows name)
//   GET /api/v1/leases?scope=&…                (across scopes)
//   GET /api/v1/leases/{ip}                    (whichever scope holds it)

import { DEFAULT_PAGE_SIZE, findLeases, leaseContextFor, leaseListPage } from '../lease-query.js';
import { leaseResource } from '../lease-resource.js';
import {
  AddressParams,
  ErrorBody,
  GlobalLeaseQuery,
  Lease,
  LeaseList,
  LeaseParams,
  LeaseQuery,
  ref,
  ScopeParams,
} from '../schemas.js';
import type { ApiApp, RouteContext } from '../server.js';
import { noSuchScope } from './scopes.js';

export function leaseRoutes(app: ApiApp, { deps, now }: RouteContext): void {
  const hasScope = (id: string) => deps.engine().scopeView(id) !== undefined;

  app.get(
    '/api/v1/scopes/:scopeId/leases',
    {
      schema: {
        tags: ['leases'],
        summary: 'Leases of one scope, by address, filtered and paginated',
        params: ScopeParams,
        querystring: LeaseQuery,
        response: { 200: ref(LeaseList), 404: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const { scopeId } = request.params;
      if (!hasScope(scopeId)) return reply.code(404).send(noSuchScope(scopeId));
      const engine = deps.engine();
      const q = request.query;
      const context = leaseContextFor(deps, engine);
      return leaseListPage(engine, now(), { ...q, scopeId }, context, q.cursor, q.limit ?? DEFAULT_PAGE_SIZE);
    },
  );

  app.get(
    '/api/v1/leases',
    {
      schema: {
        tags: ['leases'],
        summary: 'Leases of every scope (or ?scope=), by address, filtered and paginated',
        querystring: GlobalLeaseQuery,
        response: { 200: ref(LeaseList), 404: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const { scope, ...q } = request.query;
      if (scope !== undefined && !hasScope(scope)) return reply.code(404).send(noSuchScope(scope));
      const engine = deps.engine();
      const context = leaseContextFor(deps, engine);
      const filter = { ...q, scopeId: scope };
      return leaseListPage(engine, now(), filter, context, q.cursor, q.limit ?? DEFAULT_PAGE_SIZE);
    },
  );

  for (const suffix of ['', '/failover']) {
    app.get(
      `/api/v1/scopes/:scopeId/leases/:ip${suffix}`,
      {
        schema: {
          tags: ['leases'],
          summary:
            suffix === ''
              ? 'The lease record of one address, whatever its state'
              : 'The same, under the Windows name (DhcpV4FailoverGetClientInfo)',
          params: LeaseParams,
          response: { 200: ref(Lease), 404: ref(ErrorBody) },
        },
      },
      async (request, reply) => {
        const { scopeId, ip } = request.params;
        if (!hasScope(scopeId)) return reply.code(404).send(noSuchScope(scopeId));
        const engine = deps.engine();
        const [found] = findLeases(engine, now(), { ip, scopeId });
        if (!found) {
          return reply
            .code(404)
            .send({ error: 'not-found', message: `no lease record for ${ip} in scope "${scopeId}"` });
        }
        return leaseResource(found.lease, found.offer, leaseContextFor(deps, engine)(found.lease.scopeId));
      },
    );
  }

  app.get(
    '/api/v1/leases/:ip',
    {
      schema: {
        tags: ['leases'],
        summary: 'The lease record of one address, in whichever scope holds it',
        params: AddressParams,
        response: { 200: ref(Lease), 404: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const engine = deps.engine();
      const [found] = findLeases(engine, now(), { ip: request.params.ip });
      if (!found)
        return reply
          .code(404)
          .send({ error: 'not-found', message: `no lease record for ${request.params.ip}` });
      return leaseResource(found.lease, found.offer, leaseContextFor(deps, engine)(found.lease.scopeId));
    },
  );
}
