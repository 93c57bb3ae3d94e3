// One scope's configuration as written in the config file, for configuration replication between
// failover partners (Invoke-DhcpServerv4FailoverReplication):
//   GET /api/v1/scopes/{scopeId}/config   the scope's object from the file, id explicit
//   PUT /api/v1/scopes/{scopeId}/config   replace it (or add it), through the API's write path

import { bodyAt, type JsonObject, scopeIdOf } from '../config-file.js';
import { ErrorBody, ref, ScopeConfig, ScopeParams } from '../schemas.js';
import type { ApiApp, RouteContext } from '../server.js';

/** Answers built from the file are checked by the loader, not by these types. */
type LooseReply = { code(status: number): { send(body: unknown): unknown } };

export function scopeConfigRoutes(app: ApiApp, { deps, configFile, drift }: RouteContext): void {
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
        summary: "Replace (or add) the scope's object in the config file, then reload",
        params: ScopeParams,
        body: ScopeConfig,
        response: {
          200: ref(ScopeConfig),
          201: ref(ScopeConfig),
          400: ref(ErrorBody),
          401: ref(ErrorBody),
          403: ref(ErrorBody),
          409: ref(ErrorBody),
        },
      },
    },
    async (request, reply) => {
      const { scopeId } = request.params;
      const body = request.body as unknown as JsonObject;
      if (body.id !== undefined && body.id !== scopeId) {
        return reply.code(400).send({
          error: 'invalid-request',
          message: `/body/id is "${String(body.id)}", not the scope of the path ("${scopeId}")`,
          path: '/body/id',
        });
      }
      let at = '';
      let isNew = false;
      const result = configFile.write({
        apply(doc) {
          if (!Array.isArray(doc.scopes)) doc.scopes = [];
          const scopes = doc.scopes as unknown[];
          let i = scopes.findIndex((s) => scopeIdOf(s) === scopeId);
          isNew = i < 0;
          if (isNew) i = scopes.length;
          scopes[i] = { id: scopeId, ...body };
          at = `/scopes/${i}`;
          return null;
        },
        requestPath: (pointer) => bodyAt(at)(pointer),
      });
      const r = reply as unknown as LooseReply;
      if (!result.ok) return void r.code(result.refusal.status).send(result.refusal.body);
      drift.invalidate();
      deps.log?.info({
        event: 'api.scope-config-written',
        scope: scopeId,
        tokenName: request.caller.tokenName,
        isNew,
      });
      const now = configFile.scopeConfig(scopeId);
      r.code(isNew ? 201 : 200).send(now.ok ? now.config : { id: scopeId, ...body });
    },
  );
}
