// One scope's configuration as written in the config file, for configuration replication between
// failover partners (Invoke-DhcpServerv4FailoverReplication):
//   GET /api/v1/scopes/{scopeId}/config   the scope's object from the file, id explicit
//   PUT /api/v1/scopes/{scopeId}/config   replace it (or add it), through the API's write path:
//     ?dryRun=true shows what it would do, ?force=true writes despite orphaned leases or a partner
//     that would reject it, ?replicate=true makes the same change on the failover partner

import { Type } from 'typebox';
import type { JsonObject, WriteOptions } from '../config-file.js';
import {
  ErrorBody,
  ref,
  ScopeConfig,
  ScopeConfigWriteQuery,
  ScopeParams,
  WritePreview,
  WriteRefusal,
} from '../schemas.js';
import { writeScope } from '../scope-write.js';
import type { ApiApp, RouteContext } from '../server.js';

/** Answers built from the file are checked by the loader, not by these types. */
type LooseReply = { code(status: number): { send(body: unknown): unknown } };

export function scopeConfigRoutes(app: ApiApp, ctx: RouteContext): void {
  const { deps, configFile } = ctx;
  app.get(
    '/api/v1/scopes/:scopeId/config',
    {
      schema: {
        tags: ['scopes'],
        summary: "The scope's object as written in the config file (for replication)",
        params: ScopeParams,
        response: { 200: ref(ScopeConfig), 401: ref(ErrorBody), 404: ref(ErrorBody), 500: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const found = configFile.scopeConfig(request.params.scopeId);
      const r = reply as unknown as LooseReply;
      if (!found.ok) return void r.code(found.refusal.status).send(found.refusal.body);
      if (found.config === null) {
        return void r
          .code(404)
          .send({ error: 'not-found', message: `no scope "${request.params.scopeId}" in the config file` });
      }
      r.code(200).send(found.config);
    },
  );

  app.put(
    '/api/v1/scopes/:scopeId/config',
    {
      config: { access: 'write' },
      schema: {
        tags: ['scopes'],
        summary:
          "Replace (or add) the scope's object in the config file, then reload; dryRun shows what it would do, replicate makes the same change on the failover partner",
        params: ScopeParams,
        querystring: ScopeConfigWriteQuery,
        body: ScopeConfig,
        response: {
          200: Type.Union([ref(ScopeConfig), ref(WritePreview)]),
          201: ref(ScopeConfig),
          400: ref(ErrorBody),
          401: ref(ErrorBody),
          403: ref(ErrorBody),
          409: ref(WriteRefusal),
          500: ref(ErrorBody),
          502: ref(WriteRefusal),
        },
      },
    },
    async (request, reply) => {
      const { scopeId } = request.params;
      const options: WriteOptions = { dryRun: request.query.dryRun, force: request.query.force };
      const body = request.body as unknown as JsonObject;
      const r = reply as unknown as LooseReply;
      if (body.id !== undefined && body.id !== scopeId) {
        return void r.code(400).send({
          error: 'invalid-request',
          message: `/body/id is "${String(body.id)}", not the scope of the path ("${scopeId}")`,
          path: '/body/id',
        });
      }
      const scopeConfig = { id: scopeId, ...body };
      const result = await writeScope(
        ctx,
        { scopeId, change: () => ({ next: scopeConfig }), requestPath: (rel) => `/body${rel}` },
        options,
        request.query.replicate === true,
      );
      if (!result.ok || !result.isWritten) return void r.code(result.status).send(result.body);
      deps.log?.info({
        event: 'api.scope-config-written',
        scope: scopeId,
        tokenName: request.caller.tokenName,
        isNew: result.isNew,
        replicated: request.query.replicate === true,
      });
      const now = configFile.scopeConfig(scopeId);
      r.code(result.isNew ? 201 : 200).send(now.ok ? now.config : scopeConfig);
    },
  );
}
