// One scope's configuration as written in the config file, for configuration replication between
// failover partners (Invoke-DhcpServerv4FailoverReplication):
//   GET /api/v1/scopes/{scopeId}/config   the scope's object from the file, id explicit
//   PUT /api/v1/scopes/{scopeId}/config   replace it (or add it), through the API's write path:
//     ?dryRun=true shows what it would do, ?force=true writes despite orphaned leases or a partner
//     that would reject it, ?replicate=true makes the same change on the failover partner

import { Type } from 'typebox';
import {
  bodyAt,
  type Edit,
  type JsonObject,
  previewOf,
  scopeIdOf,
  type WriteOptions,
} from '../config-file.js';
import { PartnerApiClient } from '../partner-api.js';
import {
  ErrorBody,
  ref,
  ScopeConfig,
  ScopeConfigWriteQuery,
  ScopeParams,
  WritePreview,
  WriteRefusal,
} from '../schemas.js';
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
      let at = '';
      let isNew = false;
      const edit: Edit = {
        apply(doc) {
          if (!Array.isArray(doc.scopes)) doc.scopes = [];
          const scopes = doc.scopes as unknown[];
          let i = scopes.findIndex((s) => scopeIdOf(s) === scopeId);
          isNew = i < 0;
          if (isNew) i = scopes.length;
          scopes[i] = scopeConfig;
          at = `/scopes/${i}`;
          return null;
        },
        requestPath: (pointer) => bodyAt(at)(pointer),
      };
      const written = (): void => {
        drift.invalidate();
        deps.log?.info({
          event: 'api.scope-config-written',
          scope: scopeId,
          tokenName: request.caller.tokenName,
          isNew,
          replicated: request.query.replicate === true,
        });
        const now = configFile.scopeConfig(scopeId);
        r.code(isNew ? 201 : 200).send(now.ok ? now.config : scopeConfig);
      };

      if (request.query.replicate !== true) {
        const result = await configFile.write(edit, options);
        if (!result.ok) return void r.code(result.refusal.status).send(result.refusal.body);
        if (!result.isWritten) return void r.code(200).send(previewOf(result.plan, options));
        return written();
      }

      // replicate=true: ours first (the partner's own check then finds our new config), then the
      // partner's through its API; if the partner refuses, ours is put back. One turn throughout.
      const relationship = deps.config().failover.find((x) => x.scopeIds.includes(scopeId));
      if (relationship?.partnerApi === undefined) {
        return void r.code(409).send({
          error: 'partner-api-not-configured',
          message: relationship
            ? `relationship "${relationship.name}" has no partner.api { url, token } in the config`
            : `scope "${scopeId}" is in no failover relationship: there is no partner to replicate to`,
        });
      }
      const partner = new PartnerApiClient(relationship.partnerApi);
      await configFile.serialized(async () => {
        const ours = await configFile.writeNow(edit, { ...options, isPartnerCheckSkipped: true });
        if (!ours.ok) return void r.code(ours.refusal.status).send(ours.refusal.body);
        if (!ours.isWritten) {
          // The partner's dry run reports its own orphaned leases; its partner check compares with
          // our config before the change, so those blockers are left out here.
          const theirs = await partner.putScopeConfig(scopeId, scopeConfig, { dryRun: true, force: true });
          const preview = previewOf(ours.plan, options);
          const theirPreview = theirs.ok ? (theirs.body as { blockers?: { error: string }[] }) : null;
          const theirBlockers = (theirPreview?.blockers ?? []).filter((b) => !b.error.startsWith('partner-'));
          return void r.code(200).send({
            ...preview,
            wouldApply:
              theirs.ok && preview.wouldApply && (theirBlockers.length === 0 || options.force === true),
            partner: { url: partner.url, preview: theirPreview, message: theirs.ok ? null : theirs.message },
          });
        }
        const put = await partner.putScopeConfig(scopeId, scopeConfig, { force: options.force });
        if (put.ok) return written();
        const restored = configFile.restoreNow(ours.previousText);
        drift.invalidate();
        const theirBody = (put.body ?? {}) as JsonObject;
        const kept = restored.ok ? 'ours was put back' : 'ours could NOT be put back (see the log)';
        return void r.code(put.status === null ? 502 : 409).send({
          error: put.status === null ? 'partner-unreachable' : 'partner-refused',
          message: `the partner did not take the change (${put.message}); ${kept}`,
          ...(theirBody.orphanedLeases !== undefined ? { orphanedLeases: theirBody.orphanedLeases } : {}),
          ...(theirBody.partnerChecks !== undefined ? { partnerChecks: theirBody.partnerChecks } : {}),
        });
      });
    },
  );
}
