// Failover relationships (seed 002, windows-model.md §4.1–4.5):
//   GET    /api/v1/failover/relationships[/{name}]          Get-DhcpServerv4Failover (the list
//                                                            filtered by state, partner, scope, …)
//   GET    /api/v1/failover/listeners                       TCP listeners shared by relationships
//   POST   /api/v1/failover/relationships                    Add-DhcpServerv4Failover
//   PATCH  /api/v1/failover/relationships/{name}             Set-DhcpServerv4Failover
//   DELETE /api/v1/failover/relationships/{name}             Remove-DhcpServerv4Failover
//   POST   …/{name}/scopes, DELETE …/{name}/scopes/{scopeId} Add-/Remove-DhcpServerv4FailoverScope
//   POST   …/{name}/actions/partner-down                     Set-DhcpServerv4Failover -PartnerDown
//   POST   …/{name}/actions/replicate (also replicate-config) Invoke-DhcpServerv4FailoverReplication
//   POST   …/{name}/actions/resync                        UPDREQALL now (Kea ha-sync)
//   POST   …/{name}/actions/rebalance                     pool balancing now
//   GET    …/{name}/statistics, GET /api/v1/scopes/{scopeId}/failover
// Writes change the config file (src/api/config-file.ts) and reload the server; each is recorded
// in the operation tracker (src/api/operation-log.ts) with this server as its owner.

import { Type } from 'typebox';
import type { ResolvedRelationship } from '../../config/resolved.js';
import { sumScopeStatistics } from '../../dhcp/statistics.js';
import { parseIpv4 } from '../../wire/ipv4.js';
import {
  bodyAt,
  canonicalJson,
  type Edit,
  type JsonObject,
  previewOf,
  type Refusal,
  type WriteOptions,
} from '../config-file.js';
import { PartnerApiClient } from '../partner-api.js';
import { mirroredPatch } from '../relationship-mirror.js';
import {
  type OperationEffect,
  relationshipResource,
  relationshipSummary,
  type TrackedOperation,
} from '../relationship-resource.js';
import { relationshipSettings } from '../relationship-settings.js';
import {
  AddScopesBody,
  ConfigWriteQuery,
  CreateRelationshipBody,
  ErrorBody,
  FailoverListenerList,
  FailoverRelationship,
  FailoverRelationshipList,
  PatchRelationshipBody,
  RelationshipListQuery,
  RelationshipParams,
  RelationshipScopeParams,
  RelationshipSettings,
  RelationshipSummary,
  RelationshipWriteQuery,
  ReplicateBody,
  ReplicateResult,
  ref,
  ScopeParams,
  ScopeStatistics,
  WritePreview,
  WriteRefusal,
} from '../schemas.js';
import { currentScopeStatistics } from '../scope-statistics.js';
import type { ApiApp, RouteContext } from '../server.js';

type Reply = { code(status: number): { send(body: unknown): unknown } };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function noSuchRelationship(name: string): Refusal {
  return { status: 404, body: { error: 'not-found', message: `no failover relationship named "${name}"` } };
}

/** RFC 7396: objects merge, null removes, anything else replaces. */
export function mergePatch(target: JsonObject, patch: JsonObject): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (isObject(v) && isObject(target[k])) mergePatch(target[k] as JsonObject, v);
    else target[k] = v;
  }
}

/**
 * The Windows conveniences on top of the merge (Add-/Set-DhcpServerv4Failover): a shared secret
 * turns authentication on (HMAC-SHA256) and removing it turns it off; an interval turns automatic
 * transition on; switching mode drops the other mode's percentages.
 */
export function applyWindowsDefaults(r: JsonObject, patch: JsonObject): void {
  if (!('auth' in patch) && 'sharedSecret' in patch) {
    if (patch.sharedSecret === null) delete r.auth;
    else if (r.auth === undefined || r.auth === 'none') r.auth = 'hmacSha256';
  }
  if (!('autoStateTransition' in patch)) {
    if (typeof patch.stateSwitchIntervalSeconds === 'number') r.autoStateTransition = true;
  } else if (patch.autoStateTransition === false && !('stateSwitchIntervalSeconds' in patch)) {
    delete r.stateSwitchIntervalSeconds;
  }
  if (patch.mode === 'hotStandby' && !('loadBalancePercent' in patch)) delete r.loadBalancePercent;
  if (patch.mode === 'loadBalance') {
    if (!('serverRole' in patch)) delete r.serverRole;
    if (!('reservePercent' in patch)) delete r.reservePercent;
  }
}

function writeOptions(query: { dryRun?: boolean; force?: boolean }): WriteOptions {
  return { dryRun: query.dryRun, force: query.force };
}

function relationshipsOf(doc: JsonObject): JsonObject[] {
  if (!Array.isArray(doc.failover)) doc.failover = [];
  return doc.failover as JsonObject[];
}

export function failoverRoutes(app: ApiApp, ctx: RouteContext): void {
  const { deps, now, configFile, operations, drift } = ctx;

  const statusOf = (name: string) => deps.failover?.statuses().find((s) => s.name === name) ?? null;
  const configured = (name: string) => deps.config().failover.find((r) => r.name === name) ?? null;
  const resourceOf = async (r: ResolvedRelationship) =>
    relationshipResource(r, statusOf(r.name), {
      operations: operations.list(r.name),
      configurationDifferences: await drift.differences(r),
    });
  const refuse = (reply: Reply, refusal: Refusal): void => {
    reply.code(refusal.status).send(refusal.body);
  };

  /** Records an operation of ours on `name` (ServerOwner = this server). */
  const track = (
    name: string,
    operation: TrackedOperation['operation'],
    tokenName: string | null,
    effect: OperationEffect,
    detail: string | null = null,
  ) => {
    operations.record(name, {
      operation,
      at: now(),
      serverName: deps.config().server.name,
      tokenName,
      effect,
      detail,
    });
    deps.log?.info({
      event: 'api.failover-operation',
      relationship: name,
      operation,
      tokenName,
      effect,
      detail,
    });
  };

  /** Runs a config edit of relationship `name`; on success records it and answers its resource. */
  const writeRelationship = async (
    reply: Reply,
    name: string,
    operation: TrackedOperation['operation'],
    tokenName: string | null,
    edit: Edit,
    options: WriteOptions,
    status = 200,
    detail: string | null = null,
  ): Promise<void> => {
    const result = await configFile.write(edit, options);
    if (!result.ok) return refuse(reply, result.refusal);
    if (!result.isWritten) return void reply.code(200).send(previewOf(result.plan, options));
    drift.invalidate();
    // The reload that wrote it has already applied it to the failover endpoint (docs/api.md).
    const c = result.changes;
    const effect: OperationEffect = c.relationshipsAdded.includes(name)
      ? 'started'
      : c.relationshipsChanged.includes(name)
        ? 'restarted'
        : 'none';
    track(name, operation, tokenName, effect, detail);
    const r = configured(name);
    if (!r) return refuse(reply, noSuchRelationship(name));
    reply.code(status).send(await resourceOf(r));
  };

  /** An edit of the relationship `name` in the file, at its index. */
  const editRelationship = (
    name: string,
    change: (r: JsonObject, at: string) => Refusal | null,
    requestPath: (at: string) => (pointer: string) => string | null,
  ): Edit => {
    let at = '';
    return {
      apply(doc) {
        const list = relationshipsOf(doc);
        const i = list.findIndex((r) => isObject(r) && r.name === name);
        if (i < 0) return noSuchRelationship(name);
        at = `/failover/${i}`;
        return change(list[i]!, at);
      },
      requestPath: (pointer) => requestPath(at)(pointer),
    };
  };

  const read = { tags: ['failover'] };
  const write = { tags: ['failover'], security: [{ bearer: [] }] };
  const errors = {
    400: ref(ErrorBody),
    401: ref(ErrorBody),
    403: ref(ErrorBody),
    404: ref(ErrorBody),
    409: ref(WriteRefusal),
  };
  const relationshipOrPreview = Type.Union([ref(FailoverRelationship), ref(WritePreview)]);

  app.get(
    '/api/v1/failover/relationships',
    {
      schema: {
        ...read,
        summary:
          'Every failover relationship (Get-DhcpServerv4Failover), or those matching every filter given',
        querystring: RelationshipListQuery,
        response: { 200: ref(FailoverRelationshipList), 401: ref(ErrorBody) },
      },
    },
    async (request) => {
      const q = request.query;
      const needle = q.name?.toLowerCase();
      const partner = q.partner === undefined ? undefined : parseIpv4(q.partner);
      // Config filters first: the resource (with its partner comparison) is built only for matches.
      const wanted = deps
        .config()
        .failover.filter(
          (r) =>
            (needle === undefined || r.name.toLowerCase().includes(needle)) &&
            (q.role === undefined || r.role === q.role) &&
            (q.mode === undefined || r.mode === q.mode) &&
            (partner === undefined || r.partner.address === partner) &&
            (q.scope === undefined || r.scopeIds.includes(q.scope)),
        );
      const items = await Promise.all(wanted.map(resourceOf));
      return {
        items: items.filter(
          (r) =>
            (q.state === undefined || r.state === q.state) &&
            (q.partnerState === undefined || r.partnerState === q.partnerState) &&
            (q.connection === undefined || r.connection.status === q.connection),
        ),
      };
    },
  );

  app.get(
    '/api/v1/failover/listeners',
    {
      schema: {
        ...read,
        summary:
          'The TCP listeners (one per local address and port), the relationships each serves, and the connections each matched or refused',
        response: { 200: ref(FailoverListenerList), 401: ref(ErrorBody) },
      },
    },
    async () => ({
      items: (deps.failover?.listeners?.() ?? []).map((l) => ({
        listen: l.listen,
        relationships: [...l.relationships],
        matched: l.matched,
        refused: {
          'unknown-peer': l.refused['unknown-peer'] ?? 0,
          'unknown-name': l.refused['unknown-name'] ?? 0,
          'no-connect': l.refused['no-connect'] ?? 0,
          'not-connect': l.refused['not-connect'] ?? 0,
          'wake-up': l.refused['wake-up'] ?? 0,
          closing: l.refused.closing ?? 0,
        },
        nameOfAnotherPartner: l.nameOfAnotherPartner,
        waitingForConnect: l.waitingForConnect,
      })),
    }),
  );

  app.get(
    '/api/v1/failover/relationships/:name',
    {
      schema: {
        ...read,
        summary: 'One relationship: config, live state, operation tracker, configurationDiffers',
        params: RelationshipParams,
        response: { 200: ref(FailoverRelationship), 401: ref(ErrorBody), 404: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const r = configured(request.params.name);
      if (!r) return refuse(reply, noSuchRelationship(request.params.name));
      return resourceOf(r);
    },
  );

  app.get(
    '/api/v1/failover/relationships/:name/settings',
    {
      schema: {
        ...read,
        summary:
          'The configured settings the partners must agree on (what the partner compares for configurationDifferences; the secret as a fingerprint)',
        params: RelationshipParams,
        response: { 200: ref(RelationshipSettings), 401: ref(ErrorBody), 404: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const r = configured(request.params.name);
      if (!r) return refuse(reply, noSuchRelationship(request.params.name));
      return relationshipSettings(r);
    },
  );

  app.post(
    '/api/v1/failover/relationships',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Create a relationship (Add-DhcpServerv4Failover); the failover endpoint starts it at once',
        querystring: ConfigWriteQuery,
        body: CreateRelationshipBody,
        response: { 200: ref(WritePreview), 201: ref(FailoverRelationship), ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body as unknown as JsonObject;
      const name = String(body.name);
      let at = '';
      return writeRelationship(
        reply,
        name,
        'create',
        request.caller.tokenName,
        {
          apply(doc) {
            const list = relationshipsOf(doc);
            if (list.some((r) => isObject(r) && r.name === name)) {
              return {
                status: 409,
                body: {
                  error: 'conflict',
                  message: `a failover relationship named "${name}" exists already`,
                  path: '/body/name',
                },
              };
            }
            const r = structuredClone(body);
            applyWindowsDefaults(r, body);
            at = `/failover/${list.length}`;
            list.push(r);
            return null;
          },
          requestPath: (pointer) => bodyAt(at)(pointer),
        },
        writeOptions(request.query),
        201,
      );
    },
  );

  app.patch(
    '/api/v1/failover/relationships/:name',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary:
          'Change a relationship (Set-DhcpServerv4Failover): JSON merge patch of its config; replicate=true changes the partner too',
        consumes: ['application/merge-patch+json', 'application/json'],
        params: RelationshipParams,
        querystring: RelationshipWriteQuery,
        body: PatchRelationshipBody,
        response: { 200: relationshipOrPreview, 502: ref(WriteRefusal), ...errors },
      },
    },
    async (request, reply) => {
      const patch = request.body as JsonObject;
      const { name } = request.params;
      const edit = editRelationship(
        name,
        (r) => {
          mergePatch(r, patch);
          applyWindowsDefaults(r, patch);
          return null;
        },
        (at) => bodyAt(at),
      );
      const options = writeOptions(request.query);
      const detail = Object.keys(patch).sort().join(', ') || null;
      if (request.query.replicate !== true) {
        return writeRelationship(reply, name, 'update', request.caller.tokenName, edit, options, 200, detail);
      }
      // Both partners (Set-DhcpServerv4Failover): ours first, then the partner's PATCH, mirrored;
      // if the partner refuses or does not answer, ours is put back. One write turn throughout.
      const r = configured(name);
      if (!r) return refuse(reply, noSuchRelationship(name));
      if (r.partnerApi === undefined) {
        return reply.code(409).send({
          error: 'partner-api-not-configured',
          message: `relationship "${name}" has no partner.api { url, token } in the config`,
        });
      }
      if (isObject(patch.tls)) {
        // Certificate and key files are each server's own: the partner's cannot be derived.
        return reply.code(400).send({
          error: 'invalid-request',
          message:
            "/body/tls names this server's own certificate files: set tls on each server (replicate mirrors only tls: null, turning it off)",
          path: '/body/tls',
        });
      }
      const partner = new PartnerApiClient(r.partnerApi);
      const theirPatch = mirroredPatch(patch);
      await configFile.serialized(async () => {
        const ours = await configFile.writeNow(edit, options);
        if (!ours.ok) return refuse(reply, ours.refusal);
        if (!ours.isWritten) {
          const theirs = await partner.patchRelationship(name, theirPatch, {
            dryRun: true,
            force: options.force,
          });
          const preview = previewOf(ours.plan, options);
          const theirPreview = theirs.ok ? (theirs.body as { wouldApply?: boolean }) : null;
          return void (reply as Reply).code(200).send({
            ...preview,
            wouldApply: preview.wouldApply && theirs.ok && theirPreview?.wouldApply !== false,
            partner: { url: partner.url, preview: theirPreview, message: theirs.ok ? null : theirs.message },
          });
        }
        const done = await partner.patchRelationship(name, theirPatch, { force: options.force });
        drift.invalidate();
        if (!done.ok) {
          const restored = configFile.restoreNow(ours.previousText);
          const kept = restored.ok ? 'ours was put back' : 'ours could NOT be put back (see the log)';
          return void (reply as Reply).code(done.status === null ? 502 : 409).send({
            error: done.status === null ? 'partner-unreachable' : 'partner-refused',
            message: `the partner did not take the change (${done.message}); ${kept}`,
          });
        }
        const c = ours.changes;
        track(
          name,
          'update',
          request.caller.tokenName,
          c.relationshipsChanged.includes(name) ? 'restarted' : 'none',
          `${detail ?? ''} (both partners)`.trim(),
        );
        const now = configured(name);
        if (!now) return refuse(reply, noSuchRelationship(name));
        (reply as Reply).code(200).send(await resourceOf(now));
      });
    },
  );

  app.delete(
    '/api/v1/failover/relationships/:name',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Remove a relationship (Remove-DhcpServerv4Failover); its scopes stay, standalone',
        params: RelationshipParams,
        querystring: ConfigWriteQuery,
        response: { 200: ref(WritePreview), 204: Type204(), ...errors },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const options = writeOptions(request.query);
      const result = await configFile.write(
        {
          apply(doc) {
            const list = relationshipsOf(doc);
            const i = list.findIndex((r) => isObject(r) && r.name === name);
            if (i < 0) return noSuchRelationship(name);
            list.splice(i, 1);
            if (list.length === 0) delete doc.failover;
            return null;
          },
          requestPath: () => null,
        },
        options,
      );
      if (!result.ok) return refuse(reply, result.refusal);
      if (!result.isWritten) return void (reply as Reply).code(200).send(previewOf(result.plan, options));
      drift.invalidate();
      operations.forget(name);
      deps.log?.info({
        event: 'api.failover-operation',
        relationship: name,
        operation: 'delete',
        tokenName: request.caller.tokenName,
      });
      (reply as Reply).code(204).send(undefined);
    },
  );

  app.post(
    '/api/v1/failover/relationships/:name/scopes',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Add scopes to a relationship (Add-DhcpServerv4FailoverScope)',
        params: RelationshipParams,
        querystring: ConfigWriteQuery,
        body: AddScopesBody,
        response: { 200: relationshipOrPreview, ...errors },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const added = request.body.scopeIds;
      let before = 0;
      return writeRelationship(
        reply,
        name,
        'addScopes',
        request.caller.tokenName,
        editRelationship(
          name,
          (r) => {
            const ids = Array.isArray(r.scopeIds) ? (r.scopeIds as unknown[]) : [];
            for (const [k, id] of added.entries()) {
              if (ids.includes(id) || added.indexOf(id) !== k) {
                return {
                  status: 409,
                  body: {
                    error: 'conflict',
                    message: `scope "${id}" is already in relationship "${name}"`,
                    path: `/body/scopeIds/${k}`,
                  },
                };
              }
            }
            before = ids.length;
            r.scopeIds = [...ids, ...added];
            return null;
          },
          (at) => (pointer) => {
            const m = new RegExp(`^${at}/scopeIds/(\\d+)`).exec(pointer);
            return m && Number(m[1]) >= before ? `/body/scopeIds/${Number(m[1]) - before}` : null;
          },
        ),
        writeOptions(request.query),
        200,
        added.join(', '),
      );
    },
  );

  app.delete(
    '/api/v1/failover/relationships/:name/scopes/:scopeId',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Remove a scope from a relationship (Remove-DhcpServerv4FailoverScope)',
        params: RelationshipScopeParams,
        querystring: ConfigWriteQuery,
        response: { 200: relationshipOrPreview, ...errors },
      },
    },
    async (request, reply) => {
      const { name, scopeId } = request.params;
      return writeRelationship(
        reply,
        name,
        'removeScope',
        request.caller.tokenName,
        editRelationship(
          name,
          (r) => {
            const ids = Array.isArray(r.scopeIds) ? (r.scopeIds as unknown[]) : [];
            if (!ids.includes(scopeId)) {
              return {
                status: 404,
                body: { error: 'not-found', message: `scope "${scopeId}" is not in relationship "${name}"` },
              };
            }
            if (ids.length === 1) {
              return {
                status: 409,
                body: {
                  error: 'conflict',
                  message: `"${scopeId}" is the last scope of relationship "${name}"; remove the relationship instead`,
                },
              };
            }
            r.scopeIds = ids.filter((id) => id !== scopeId);
            return null;
          },
          () => () => null,
        ),
        writeOptions(request.query),
        200,
        scopeId,
      );
    },
  );

  app.post(
    '/api/v1/failover/relationships/:name/actions/partner-down',
    {
      config: { access: 'write' },
      schema: {
        ...write,
        summary: 'Declare the partner down (Set-DhcpServerv4Failover -PartnerDown; D12 §9.7)',
        params: RelationshipParams,
        response: { 200: ref(FailoverRelationship), 204: Type204(), ...errors },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const r = configured(name);
      if (!deps.failover) {
        if (!r) return refuse(reply, noSuchRelationship(name));
        return reply.code(409).send({
          error: 'failover-not-running',
          message: 'the failover endpoint is not running in this server',
        });
      }
      const outcome = deps.failover.declarePartnerDown(name);
      if (!outcome.ok) {
        if (outcome.reason === 'unknown') {
          if (!r) return refuse(reply, noSuchRelationship(name));
          return reply.code(409).send({
            error: 'not-running',
            message: `relationship "${name}" is configured but the failover endpoint does not run it (see the server log: failover.start-failed)`,
          });
        }
        return reply.code(409).send({ error: 'invalid-state', message: outcome.message });
      }
      track(name, 'partnerDown', request.caller.tokenName, 'none');
      // Running but no longer in the config (removed, restart pending): nothing to show.
      if (!r) return (reply as Reply).code(204).send(undefined) as undefined;
      return resourceOf(r);
    },
  );

  for (const kind of ['resync', 'rebalance'] as const) {
    app.post(
      `/api/v1/failover/relationships/:name/actions/${kind}`,
      {
        config: { access: 'write' },
        schema: {
          ...write,
          summary:
            kind === 'resync'
              ? 'Ask the partner for every binding again now (UPDREQALL, D12 §7.7; Kea ha-sync); NORMAL only'
              : 'Balance the free pools now (D12 §5.4): the primary moves addresses, the secondary asks it (POOLREQ); NORMAL only',
          params: RelationshipParams,
          response: { 200: ref(FailoverRelationship), ...errors },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const r = configured(name);
        if (!deps.failover?.operatorSync) {
          if (!r) return refuse(reply, noSuchRelationship(name));
          return reply.code(409).send({
            error: 'failover-not-running',
            message: 'the failover endpoint is not running in this server',
          });
        }
        const outcome = deps.failover.operatorSync(name, kind);
        if (!outcome.ok) {
          if (outcome.reason === 'unknown') {
            if (!r) return refuse(reply, noSuchRelationship(name));
            return reply.code(409).send({
              error: 'not-running',
              message: `relationship "${name}" is configured but the failover endpoint does not run it (see the server log: failover.start-failed)`,
            });
          }
          return reply.code(409).send({ error: 'invalid-state', message: outcome.message });
        }
        track(name, kind, request.caller.tokenName, 'none');
        if (!r) return refuse(reply, noSuchRelationship(name));
        return resourceOf(r);
      },
    );
  }

  for (const action of ['replicate', 'replicate-config']) {
    app.post(
      `/api/v1/failover/relationships/:name/actions/${action}`,
      {
        config: { access: 'write' },
        schema: {
          ...write,
          summary:
            action === 'replicate'
              ? "Send our scope configs to the partner's API (Invoke-DhcpServerv4FailoverReplication)"
              : 'The same, under the windows-model.md name',
          params: RelationshipParams,
          querystring: ConfigWriteQuery,
          body: ReplicateBody,
          response: { 200: ref(ReplicateResult), ...errors },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const r = configured(name);
        if (!r) return refuse(reply, noSuchRelationship(name));
        if (r.partnerApi === undefined) {
          return reply.code(409).send({
            error: 'partner-api-not-configured',
            message: `relationship "${name}" has no partner.api { url, token } in the config`,
          });
        }
        const scopeIds = request.body?.scopeIds ?? r.scopeIds;
        for (const [k, id] of scopeIds.entries()) {
          if (!r.scopeIds.includes(id)) {
            return reply.code(400).send({
              error: 'invalid-request',
              message: `/body/scopeIds/${k} scope "${id}" is not in relationship "${name}"`,
              path: `/body/scopeIds/${k}`,
            });
          }
        }
        // dryRun: the partner checks each PUT and answers what it would do; force: the partner
        // writes even what orphans its leases (docs/api.md §Checks before a write).
        const { dryRun, force } = request.query;
        const partner = new PartnerApiClient(r.partnerApi);
        const items: ReplicateResult['items'] = [];
        for (const id of new Set(scopeIds)) {
          const ours = configFile.scopeConfig(id);
          if (!ours.ok || ours.config === null) {
            items.push({ scopeId: id, result: 'failed', message: 'not in our config file' });
            continue;
          }
          const theirs = await partner.getScopeConfig(id);
          if (!theirs.ok) {
            items.push({ scopeId: id, result: 'failed', message: theirs.message });
            continue;
          }
          if (theirs.config !== null && canonicalJson(theirs.config) === canonicalJson(ours.config)) {
            items.push({ scopeId: id, result: 'identical', message: null });
            continue;
          }
          const put = await partner.putScopeConfig(id, ours.config, { dryRun, force });
          if (!put.ok) {
            items.push({ scopeId: id, result: 'failed', message: put.message });
          } else if (dryRun) {
            const preview = put.body as { wouldApply?: boolean; blockers?: { message: string }[] } | null;
            items.push(
              preview?.wouldApply === false
                ? {
                    scopeId: id,
                    result: 'wouldBeRefused',
                    message: (preview.blockers ?? []).map((b) => b.message).join('; ') || null,
                  }
                : { scopeId: id, result: 'wouldUpdate', message: null },
            );
          } else {
            items.push({ scopeId: id, result: 'updated', message: null });
          }
        }
        if (dryRun) return { relationship: name, partner: partner.url, items };
        drift.invalidate();
        const count = (x: string) => items.filter((i) => i.result === x).length;
        track(
          name,
          'replicate',
          request.caller.tokenName,
          'none',
          `${count('updated')} updated, ${count('identical')} identical, ${count('failed')} failed`,
        );
        return { relationship: name, partner: partner.url, items };
      },
    );
  }

  app.get(
    '/api/v1/failover/relationships/:name/statistics',
    {
      schema: {
        ...read,
        summary: 'Failover statistics summed over the relationship’s scopes',
        params: RelationshipParams,
        response: { 200: ref(ScopeStatistics), 401: ref(ErrorBody), 404: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const r = configured(request.params.name);
      if (!r) return refuse(reply, noSuchRelationship(request.params.name));
      const stats = currentScopeStatistics(deps, now());
      const items = r.scopeIds.flatMap((id) => {
        const s = stats.get(id);
        return s ? [s] : [];
      });
      return { scopeId: '*', role: r.role, ...sumScopeStatistics(items) };
    },
  );

  app.get(
    '/api/v1/scopes/:scopeId/failover',
    {
      schema: {
        tags: ['failover', 'scopes'],
        summary: 'The relationship a scope belongs to (DhcpV4FailoverGetScopeRelationship)',
        params: ScopeParams,
        response: { 200: ref(RelationshipSummary), 401: ref(ErrorBody), 404: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const { scopeId } = request.params;
      const r = deps.config().failover.find((x) => x.scopeIds.includes(scopeId));
      if (!r) {
        return reply
          .code(404)
          .send({ error: 'not-found', message: `scope "${scopeId}" is in no failover relationship` });
      }
      return relationshipSummary(r.name, r, statusOf(r.name));
    },
  );
}

function Type204() {
  return { type: 'null', description: 'Removed' } as const;
}
