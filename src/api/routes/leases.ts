// Lease records (seed 001, windows-model.md §4.4):
//   GET /api/v1/scopes/{scopeId}/leases?ip=&mac=&hostname=&state=&owner=&limit=&cursor=
//   GET /api/v1/scopes/{scopeId}/leases/{ip}   (and …/{ip}/failover, the Windows name)
//   GET /api/v1/leases?scope=&…                (across scopes)
//   GET /api/v1/leases/{ip}                    (whichever scope holds it)
//   POST …/leases/{ip}/actions/release         end an active binding as a client RELEASE would
//   DELETE …/leases/{ip}?force=                delete the record (an active one only forced)
// (the last two under /api/v1/scopes/{scopeId}/ too).

import { parseIpv4 } from '../../wire/ipv4.js';
import { DEFAULT_PAGE_SIZE, findLeases, leaseContextFor, leaseListPage } from '../lease-query.js';
import { leaseResource } from '../lease-resource.js';
import {
  AddressParams,
  ErrorBody,
  GlobalLeaseQuery,
  Lease,
  LeaseDeleteQuery,
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

  // -------------------------------------------------------------------------------------------
  // Writes: release and delete (src/server/lease-operations.ts)

  type Reply = { code(status: number): { send(body: unknown): unknown } };
  const statusOf: Record<string, number> = {
    'not-found': 404,
    'not-active': 409,
    'lease-active': 409,
    'failover-state': 409,
    'store-failed': 500,
  };

  /** The record the path names (in its scope, when given), or the answer to send instead. */
  const target = (
    scopeId: string | undefined,
    ip: string,
  ): { ok: true } | { ok: false; status: number; body: unknown } => {
    if (scopeId !== undefined && !hasScope(scopeId))
      return { ok: false, status: 404, body: noSuchScope(scopeId) };
    const lease = deps.engine().getLease(parseIpv4(ip));
    if (lease === undefined || (scopeId !== undefined && lease.scopeId !== scopeId)) {
      return {
        ok: false,
        status: 404,
        body: {
          error: 'not-found',
          message: `no lease record for ${ip}${scopeId === undefined ? '' : ` in scope "${scopeId}"`}`,
        },
      };
    }
    if (!deps.leaseOperations) {
      return {
        ok: false,
        status: 501,
        body: { error: 'not-implemented', message: 'this server cannot change leases' },
      };
    }
    return { ok: true };
  };
  const resourceOf = (lease: import('../../dhcp/lease.js').Lease) =>
    leaseResource(lease, undefined, leaseContextFor(deps, deps.engine())(lease.scopeId));

  for (const prefix of ['/api/v1/scopes/:scopeId/leases', '/api/v1/leases']) {
    const isScoped = prefix.includes(':scopeId');
    app.post(
      `${prefix}/:ip/actions/release`,
      {
        config: { access: 'write' },
        schema: {
          tags: ['leases'],
          summary:
            'End an active lease as if its client released it (the failover partner learns it by a binding update; DNS records go)',
          params: isScoped ? LeaseParams : AddressParams,
          response: {
            200: ref(Lease),
            401: ref(ErrorBody),
            403: ref(ErrorBody),
            404: ref(ErrorBody),
            409: ref(ErrorBody),
          },
        },
      },
      async (request, reply) => {
        const { ip } = request.params;
        const scopeId = (request.params as { scopeId?: string }).scopeId;
        const found = target(scopeId, ip);
        if (!found.ok) return void (reply as Reply).code(found.status).send(found.body);
        const result = await deps.leaseOperations!.release(parseIpv4(ip));
        if (!result.ok)
          return void (reply as Reply)
            .code(statusOf[result.error] ?? 500)
            .send({ error: result.error, message: result.message });
        deps.log?.info({
          event: 'api.lease-operation',
          operation: 'release',
          address: ip,
          tokenName: request.caller.tokenName,
        });
        return void (reply as Reply).code(200).send(resourceOf(result.lease!));
      },
    );
    app.delete(
      `${prefix}/:ip`,
      {
        config: { access: 'write' },
        schema: {
          tags: ['leases'],
          summary:
            'Delete the lease record (Remove-DhcpServerv4Lease, lease4-del); an active lease only with force=true, released first',
          params: isScoped ? LeaseParams : AddressParams,
          querystring: LeaseDeleteQuery,
          response: {
            202: ref(Lease),
            204: { type: 'null', description: 'Deleted' },
            401: ref(ErrorBody),
            403: ref(ErrorBody),
            404: ref(ErrorBody),
            409: ref(ErrorBody),
          },
        },
      },
      async (request, reply) => {
        const { ip } = request.params;
        const scopeId = (request.params as { scopeId?: string }).scopeId;
        const found = target(scopeId, ip);
        if (!found.ok) return void (reply as Reply).code(found.status).send(found.body);
        const force = request.query.force === true;
        const result = await deps.leaseOperations!.remove(parseIpv4(ip), { force });
        if (!result.ok)
          return void (reply as Reply)
            .code(statusOf[result.error] ?? 500)
            .send({ error: result.error, message: result.message });
        deps.log?.info({
          event: 'api.lease-operation',
          operation: 'delete',
          address: ip,
          force,
          tokenName: request.caller.tokenName,
          isDeleted: result.lease === null,
        });
        // Released, but the failover partner has not acknowledged it yet: the record stays (202).
        if (result.lease !== null) return void (reply as Reply).code(202).send(resourceOf(result.lease));
        return void (reply as Reply).code(204).send(undefined);
      },
    );
  }
}
