// Changes to one scope, its reservations and exclusions, as the DhcpServer cmdlets make them
// (windows-model.md): every one is a config write (src/api/scope-write.ts → config-file.ts), so
// each takes ?dryRun= (what it would do), ?force= (despite orphaned active leases or a partner that
// would reject it) and, except add and remove, ?replicate= (the same scope on the failover partner).
//   POST   /api/v1/scopes                                Add-DhcpServerv4Scope
//   PATCH  /api/v1/scopes/{scopeId}                      Set-DhcpServerv4Scope (JSON merge patch)
//   DELETE /api/v1/scopes/{scopeId}                      Remove-DhcpServerv4Scope
//   POST   /api/v1/scopes/{scopeId}/actions/activate     Set-DhcpServerv4Scope -State Active
//   POST   /api/v1/scopes/{scopeId}/actions/deactivate   Set-DhcpServerv4Scope -State InActive
//   POST   /api/v1/scopes/{scopeId}/reservations         Add-DhcpServerv4Reservation
//   PATCH  /api/v1/scopes/{scopeId}/reservations/{ip}    Set-DhcpServerv4Reservation
//   DELETE /api/v1/scopes/{scopeId}/reservations/{ip}    Remove-DhcpServerv4Reservation
//   POST   /api/v1/scopes/{scopeId}/exclusions           Add-DhcpServerv4ExclusionRange
//   DELETE /api/v1/scopes/{scopeId}/exclusions/{start-end} Remove-DhcpServerv4ExclusionRange

import { Type } from 'typebox';
import { parseIpv4 } from '../../wire/ipv4.js';
import { type JsonObject, type Refusal, scopeIdOf, type WriteOptions } from '../config-file.js';
import {
  ConfigWriteQuery,
  ErrorBody,
  ExclusionConfig,
  ExclusionParams,
  PatchReservationBody,
  PatchScopeBody,
  ReservationConfig,
  ReservationParams,
  ref,
  ScopeConfig,
  ScopeConfigWriteQuery,
  ScopeParams,
  WritePreview,
  WriteRefusal,
} from '../schemas.js';
import { type ScopeEdit, writeScope } from '../scope-write.js';
import type { ApiApp, RouteContext } from '../server.js';
import { mergePatch } from './failover.js';

type Reply = { code(status: number): { send(body: unknown): unknown } };

const listOf = (scope: JsonObject, key: string): JsonObject[] =>
  Array.isArray(scope[key]) ? (scope[key] as JsonObject[]) : [];
const sameAddress = (a: unknown, b: string): boolean => {
  try {
    return typeof a === 'string' && parseIpv4(a) === parseIpv4(b);
  } catch {
    return false;
  }
};

function noScope(scopeId: string): Refusal {
  return { status: 404, body: { error: 'not-found', message: `no scope "${scopeId}" in the config file` } };
}

/** `/reservations/3/hardwareAddress` → `/body/hardwareAddress` when 3 is the reservation written. */
function elementPath(list: string, index: () => number): (rel: string) => string | null {
  return (rel) => {
    const prefix = `/${list}/${index()}`;
    if (rel === prefix) return '/body';
    return rel.startsWith(`${prefix}/`) ? `/body${rel.slice(prefix.length)}` : null;
  };
}

export function scopeEditRoutes(app: ApiApp, ctx: RouteContext): void {
  const { deps, configFile } = ctx;
  const errors = {
    400: ref(ErrorBody),
    401: ref(ErrorBody),
    403: ref(ErrorBody),
    404: ref(ErrorBody),
    409: ref(WriteRefusal),
    500: ref(ErrorBody),
    502: ref(WriteRefusal),
  };
  const write = { tags: ['scopes'] };
  const scopeOrPreview = Type.Union([ref(ScopeConfig), ref(WritePreview)]);
  const anyOrPreview = Type.Union([Type.Object({}, { additionalProperties: true }), ref(WritePreview)]);

  /** Runs the edit; answers a refusal or a dry run; on success logs it and answers `success()`. */
  const run = async (
    reply: Reply,
    request: {
      caller: { tokenName: string | null };
      query: { dryRun?: boolean; force?: boolean; replicate?: boolean };
    },
    operation: string,
    edit: ScopeEdit,
    success: (scope: JsonObject | null) => { status: number; body: unknown },
  ): Promise<void> => {
    const options: WriteOptions = { dryRun: request.query.dryRun, force: request.query.force };
    const replicate = request.query.replicate === true;
    const result = await writeScope(ctx, edit, options, replicate);
    if (!result.ok || !result.isWritten) return void reply.code(result.status).send(result.body);
    deps.log?.info({
      event: 'api.scope-edited',
      operation,
      scope: edit.scopeId,
      tokenName: request.caller.tokenName,
      replicated: replicate,
    });
    const answer = success(result.scope);
    reply.code(answer.status).send(answer.body);
  };
  /** The scope's object as the file holds it now, id explicit. */
  const scopeNow = (scopeId: string, fallback: JsonObject | null) => {
    const found = configFile.scopeConfig(scopeId);
    return found.ok && found.config !== null ? found.config : fallback;
  };

  // ---------------------------------------------------------------------------------------------
  // Scopes

  app.post(
    '/api/v1/scopes',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Add a scope to the config file (Add-DhcpServerv4Scope)',
        querystring: ConfigWriteQuery,
        body: ScopeConfig,
        response: { 200: ref(WritePreview), 201: ref(ScopeConfig), ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body as unknown as JsonObject;
      const scopeId = scopeIdOf(body) ?? '';
      return run(
        reply as Reply,
        request,
        'addScope',
        {
          scopeId,
          change: (scope) =>
            scope !== undefined
              ? {
                  status: 409,
                  body: {
                    error: 'conflict',
                    message: `a scope "${scopeId}" exists already`,
                    path: '/body/id',
                  },
                }
              : { next: body },
          requestPath: (rel) => `/body${rel}`,
        },
        (scope) => ({ status: 201, body: scopeNow(scopeId, scope) }),
      );
    },
  );

  app.patch(
    '/api/v1/scopes/:scopeId',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Change a scope (Set-DhcpServerv4Scope): JSON merge patch of its object in the config file',
        consumes: ['application/merge-patch+json', 'application/json'],
        params: ScopeParams,
        querystring: ScopeConfigWriteQuery,
        body: PatchScopeBody,
        response: { 200: scopeOrPreview, ...errors },
      },
    },
    async (request, reply) => {
      const { scopeId } = request.params;
      const patch = request.body as JsonObject;
      return run(
        reply as Reply,
        request,
        'setScope',
        {
          scopeId,
          change: (scope) => {
            if (scope === undefined) return noScope(scopeId);
            const next = structuredClone(scope);
            mergePatch(next, patch);
            return { next };
          },
          requestPath: (rel) => `/body${rel}`,
        },
        (scope) => ({ status: 200, body: scopeNow(scopeId, scope) }),
      );
    },
  );

  app.delete(
    '/api/v1/scopes/:scopeId',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary:
          'Remove a scope from the config file (Remove-DhcpServerv4Scope); refused while it orphans active leases (force) or is in a failover relationship',
        params: ScopeParams,
        querystring: ConfigWriteQuery,
        response: { 200: ref(WritePreview), 204: { type: 'null', description: 'Removed' }, ...errors },
      },
    },
    async (request, reply) => {
      const { scopeId } = request.params;
      const relationship = deps.config().failover.find((r) => r.scopeIds.includes(scopeId));
      if (relationship !== undefined) {
        return void (reply as Reply).code(409).send({
          error: 'conflict',
          message: `scope "${scopeId}" is in failover relationship "${relationship.name}"; take it out of the relationship first (twinlease failover scope remove), on both partners`,
        });
      }
      return run(
        reply as Reply,
        request,
        'removeScope',
        {
          scopeId,
          change: (scope) => (scope === undefined ? noScope(scopeId) : { next: null }),
          requestPath: () => null,
        },
        () => ({ status: 204, body: undefined }),
      );
    },
  );

  for (const state of ['activate', 'deactivate'] as const) {
    app.post(
      `/api/v1/scopes/:scopeId/actions/${state}`,
      {
        config: { access: 'write' },
        schema: {
          ...write,
          summary:
            state === 'activate'
              ? 'Serve the scope again (Set-DhcpServerv4Scope -State Active)'
              : 'Stop answering clients in the scope; it stays configured, with its leases (Set-DhcpServerv4Scope -State InActive)',
          params: ScopeParams,
          querystring: ScopeConfigWriteQuery,
          response: { 200: scopeOrPreview, ...errors },
        },
      },
      async (request, reply) => {
        const { scopeId } = request.params;
        return run(
          reply as Reply,
          request,
          state,
          {
            scopeId,
            change: (scope) => {
              if (scope === undefined) return noScope(scopeId);
              const next = structuredClone(scope);
              // Active is the default: an active scope's object does not name it.
              if (state === 'activate') delete next.active;
              else next.active = false;
              return { next };
            },
            requestPath: () => null,
          },
          (scope) => ({ status: 200, body: scopeNow(scopeId, scope) }),
        );
      },
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Reservations

  app.post(
    '/api/v1/scopes/:scopeId/reservations',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Add a reservation to a scope (Add-DhcpServerv4Reservation)',
        params: ScopeParams,
        querystring: ScopeConfigWriteQuery,
        body: ReservationConfig,
        response: { 200: ref(WritePreview), 201: Type.Object({}, { additionalProperties: true }), ...errors },
      },
    },
    async (request, reply) => {
      const { scopeId } = request.params;
      const body = request.body as unknown as JsonObject;
      let index = 0;
      return run(
        reply as Reply,
        request,
        'addReservation',
        {
          scopeId,
          change: (scope) => {
            if (scope === undefined) return noScope(scopeId);
            const list = listOf(scope, 'reservations');
            if (list.some((r) => sameAddress(r.address, String(body.address)))) {
              return {
                status: 409,
                body: {
                  error: 'conflict',
                  message: `scope "${scopeId}" has a reservation of ${String(body.address)} already`,
                  path: '/body/address',
                },
              };
            }
            index = list.length;
            return { next: { ...scope, reservations: [...list, body] } };
          },
          requestPath: elementPath('reservations', () => index),
        },
        () => ({ status: 201, body }),
      );
    },
  );

  app.patch(
    '/api/v1/scopes/:scopeId/reservations/:ip',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary:
          'Change a reservation (Set-DhcpServerv4Reservation): JSON merge patch of it in the config file',
        consumes: ['application/merge-patch+json', 'application/json'],
        params: ReservationParams,
        querystring: ScopeConfigWriteQuery,
        body: PatchReservationBody,
        response: { 200: anyOrPreview, ...errors },
      },
    },
    async (request, reply) => {
      const { scopeId, ip } = request.params;
      const patch = request.body as JsonObject;
      let index = 0;
      let updated: JsonObject = {};
      return run(
        reply as Reply,
        request,
        'setReservation',
        {
          scopeId,
          change: (scope) => {
            if (scope === undefined) return noScope(scopeId);
            const list = listOf(scope, 'reservations');
            index = list.findIndex((r) => sameAddress(r.address, ip));
            if (index < 0) return noReservation(scopeId, ip);
            updated = structuredClone(list[index]!);
            mergePatch(updated, patch);
            return { next: { ...scope, reservations: list.map((r, i) => (i === index ? updated : r)) } };
          },
          requestPath: elementPath('reservations', () => index),
        },
        () => ({ status: 200, body: updated }),
      );
    },
  );

  app.delete(
    '/api/v1/scopes/:scopeId/reservations/:ip',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Remove a reservation (Remove-DhcpServerv4Reservation)',
        params: ReservationParams,
        querystring: ScopeConfigWriteQuery,
        response: { 200: ref(WritePreview), 204: { type: 'null', description: 'Removed' }, ...errors },
      },
    },
    async (request, reply) => {
      const { scopeId, ip } = request.params;
      return run(
        reply as Reply,
        request,
        'removeReservation',
        {
          scopeId,
          change: (scope) => {
            if (scope === undefined) return noScope(scopeId);
            const list = listOf(scope, 'reservations');
            const i = list.findIndex((r) => sameAddress(r.address, ip));
            if (i < 0) return noReservation(scopeId, ip);
            const next: JsonObject = { ...scope, reservations: list.filter((_, k) => k !== i) };
            if ((next.reservations as unknown[]).length === 0) delete next.reservations;
            return { next };
          },
          requestPath: () => null,
        },
        () => ({ status: 204, body: undefined }),
      );
    },
  );

  // ---------------------------------------------------------------------------------------------
  // Exclusions

  app.post(
    '/api/v1/scopes/:scopeId/exclusions',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Exclude a range of a scope (Add-DhcpServerv4ExclusionRange)',
        params: ScopeParams,
        querystring: ScopeConfigWriteQuery,
        body: ExclusionConfig,
        response: { 200: ref(WritePreview), 201: Type.Object({}, { additionalProperties: true }), ...errors },
      },
    },
    async (request, reply) => {
      const { scopeId } = request.params;
      const body = request.body as unknown as JsonObject;
      let index = 0;
      return run(
        reply as Reply,
        request,
        'addExclusion',
        {
          scopeId,
          change: (scope) => {
            if (scope === undefined) return noScope(scopeId);
            const list = listOf(scope, 'exclusions');
            if (
              list.some(
                (e) => sameAddress(e.start, String(body.start)) && sameAddress(e.end, String(body.end)),
              )
            ) {
              return {
                status: 409,
                body: {
                  error: 'conflict',
                  message: `scope "${scopeId}" excludes ${String(body.start)}-${String(body.end)} already`,
                  path: '/body',
                },
              };
            }
            index = list.length;
            return { next: { ...scope, exclusions: [...list, body] } };
          },
          requestPath: elementPath('exclusions', () => index),
        },
        () => ({ status: 201, body }),
      );
    },
  );

  app.delete(
    '/api/v1/scopes/:scopeId/exclusions/:range',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Remove an exclusion range (Remove-DhcpServerv4ExclusionRange); its addresses join the pool',
        params: ExclusionParams,
        querystring: ScopeConfigWriteQuery,
        response: { 200: ref(WritePreview), 204: { type: 'null', description: 'Removed' }, ...errors },
      },
    },
    async (request, reply) => {
      const { scopeId, range } = request.params;
      const [start, end] = range.split('-') as [string, string];
      return run(
        reply as Reply,
        request,
        'removeExclusion',
        {
          scopeId,
          change: (scope) => {
            if (scope === undefined) return noScope(scopeId);
            const list = listOf(scope, 'exclusions');
            const i = list.findIndex((e) => sameAddress(e.start, start) && sameAddress(e.end, end));
            if (i < 0) {
              return {
                status: 404,
                body: { error: 'not-found', message: `scope "${scopeId}" has no exclusion ${start}-${end}` },
              };
            }
            const next: JsonObject = { ...scope, exclusions: list.filter((_, k) => k !== i) };
            if ((next.exclusions as unknown[]).length === 0) delete next.exclusions;
            return { next };
          },
          requestPath: () => null,
        },
        () => ({ status: 204, body: undefined }),
      );
    },
  );
}

function noReservation(scopeId: string, ip: string): Refusal {
  return {
    status: 404,
    body: { error: 'not-found', message: `scope "${scopeId}" has no reservation of ${ip}` },
  };
}
