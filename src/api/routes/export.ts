// Export, import and backup (Export-DhcpServer, Import-DhcpServer, Backup-DhcpServer):
//   GET  /api/v1/export?leases=        the config and the leases in one JSON document, streamed
//   POST /api/v1/import?dryRun=        an export's leases into this running server (free addresses)
//   POST /api/v1/backup                an online copy of the lease store that a server can start from
// All need a write token: the export carries the config's secrets and every client's lease.

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { Lease } from '../../dhcp/lease.js';
import type { ScopeView } from '../../dhcp/scope.js';
import {
  checkExportDocument,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  exportChunks,
  leaseFromExport,
  shiftLeaseTimes,
} from '../../import/export-document.js';
import { MAX_SKIPPED_LISTED, placeLease, type SkippedLease } from '../../import/lease-placement.js';
import { formatIpv4 } from '../../wire/ipv4.js';
import { iso, wallOffsetNow } from '../format.js';
import { ErrorBody, ref } from '../schemas.js';
import type { ApiApp, RouteContext } from '../server.js';

type Reply = { code(status: number): { send(body: unknown): unknown } };

/** Largest import document (a million leases is about 500 MB of JSON). */
const IMPORT_BODY_LIMIT_BYTES = 1024 * 1024 * 1024;

const ImportResult = Type.Object({
  dryRun: Type.Boolean(),
  leases: Type.Integer({ minimum: 0, description: 'Leases in the document' }),
  imported: Type.Integer({ minimum: 0, description: 'Leases taken (dry run: that would be taken)' }),
  skipped: Type.Object({
    count: Type.Integer({ minimum: 0 }),
    byReason: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
    items: Type.Array(
      Type.Object({
        ipAddress: Type.Union([Type.String(), Type.Null()]),
        reason: Type.String({
          description: 'invalid, outside-scopes, address-in-use, state-not-imported',
        }),
        message: Type.String(),
      }),
      { description: 'The first 1000' },
    ),
  }),
});

const BackupResult = Type.Object({
  path: Type.String({ description: 'The backup file on the server' }),
  bytes: Type.Integer({ minimum: 0 }),
  pages: Type.Integer({ minimum: 0 }),
  leases: Type.Integer({ minimum: 0, description: 'Lease records in the store when the backup began' }),
  durationMs: Type.Integer({ minimum: 0 }),
});

/** `<dir>/<store>.backup-20261124T000000Z.db`, beside the store. */
export function defaultBackupPath(storePath: string, nowSeconds: number): string {
  const stamp = iso(nowSeconds).replace(/[-:]/g, '');
  return join(dirname(storePath), `${basename(storePath).replace(/\.db$/, '')}.backup-${stamp}.db`);
}

export function exportRoutes(app: ApiApp, { deps, now, configFile }: RouteContext): void {
  app.get(
    '/api/v1/export',
    {
      config: { access: 'write' },
      schema: {
        tags: ['config'],
        summary:
          'The config file and every lease record in one JSON document, streamed (Export-DhcpServer); needs a write token (secrets)',
        querystring: Type.Object(
          {
            leases: Type.Optional(
              Type.Boolean({ description: 'Include the leases (default true; false: the config only)' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 401: ref(ErrorBody), 403: ref(ErrorBody), 500: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const read = configFile.read();
      if (!read.ok) return void (reply as Reply).code(read.refusal.status).send(read.refusal.body);
      const t = now();
      // Lease objects are replaced, never changed, so the array is a consistent copy of this
      // moment; serialising it in chunks (with the stream's back-pressure) keeps memory flat.
      const leases = request.query.leases === false ? null : [...deps.engine().leases()];
      const header = {
        format: EXPORT_FORMAT,
        version: EXPORT_VERSION,
        exportedAt: iso(t),
        serverName: deps.config().server.name,
        twinleaseVersion: deps.version,
        timeBase: 'wall',
      } as const;
      deps.log?.info({
        event: 'api.exported',
        leases: leases?.length ?? null,
        tokenName: request.caller.tokenName,
      });
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="twinlease-export-${header.serverName}-${header.exportedAt.replace(/[-:]/g, '')}.json"`,
        );
      (reply as Reply).code(200).send(Readable.from(exportChunks(header, read.doc, leases, wallOffsetNow())));
      return reply;
    },
  );

  app.post(
    '/api/v1/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT_BYTES,
      config: { access: 'write' },
      schema: {
        tags: ['leases'],
        summary:
          "An export's leases into this running server (Import-DhcpServer -Leases): active and declined bindings onto addresses free here; the config is not changed",
        querystring: Type.Object(
          {
            dryRun: Type.Optional(
              Type.Boolean({ description: 'Say what would be imported; change nothing' }),
            ),
          },
          { additionalProperties: false },
        ),
        body: Type.Unsafe<Record<string, unknown>>({
          type: 'object',
          description: 'A Twinlease export document (GET /api/v1/export)',
        }),
        response: { 200: ImportResult, 400: ref(ErrorBody), 401: ref(ErrorBody), 403: ref(ErrorBody) },
      },
    },
    async (request, reply) => {
      const checked = checkExportDocument(request.body);
      if (!checked.ok) {
        return void (reply as Reply).code(400).send({
          error: 'invalid-request',
          message: `not a Twinlease export: ${checked.message}`,
          path: '/body',
        });
      }
      const engine = deps.engine();
      const views: ScopeView[] = engine.scopeIds().flatMap((id) => {
        const v = engine.scopeView(id);
        return v ? [v] : [];
      });
      const skipped: SkippedLease[] = [];
      const byReason: Record<string, number> = {};
      const skip = (s: SkippedLease) => {
        byReason[s.reason] = (byReason[s.reason] ?? 0) + 1;
        if (skipped.length < MAX_SKIPPED_LISTED) skipped.push(s);
      };
      const candidates: Lease[] = [];
      // Wall-clock times in the document onto this server's timeline (export-document.ts).
      const toTimeline = checked.document.timeBase === 'wall' ? -wallOffsetNow() : 0;
      for (const [i, value] of checked.leases.entries()) {
        const r = leaseFromExport(value, i);
        if (!r.ok) {
          skip({ ipAddress: null, reason: 'invalid', message: r.message });
          continue;
        }
        const placed = placeLease(shiftLeaseTimes(r.lease, toTimeline), views);
        if (placed === null) {
          skip({
            ipAddress: formatIpv4(r.lease.address),
            reason: 'outside-scopes',
            message: 'in no scope of this server',
          });
          continue;
        }
        candidates.push(placed);
      }
      const dryRun = request.query.dryRun === true;
      let imported = 0;
      if (dryRun) {
        const t = now();
        for (const l of candidates) {
          const existing = engine.getLease(l.address);
          if (l.state !== 'active' && l.state !== 'abandoned') {
            skip({
              ipAddress: formatIpv4(l.address),
              reason: 'state-not-imported',
              message: `a ${l.state} record is not imported online`,
            });
          } else if (
            (existing !== undefined && existing.state !== 'free') ||
            engine.isOffered(l.address, t)
          ) {
            skip({
              ipAddress: formatIpv4(l.address),
              reason: 'address-in-use',
              message: `${formatIpv4(l.address)} is in use here`,
            });
          } else imported++;
        }
      } else {
        if (!deps.leaseOperations?.importLeases) {
          return void (reply as Reply)
            .code(501)
            .send({ error: 'not-implemented', message: 'this server cannot import leases' });
        }
        const result = await deps.leaseOperations.importLeases(candidates);
        if ('error' in result) {
          return void (reply as Reply).code(500).send({ error: 'store-failed', message: result.error });
        }
        imported = result.imported;
        for (const s of result.skipped)
          skip({ ipAddress: formatIpv4(s.address), reason: s.reason, message: s.message });
        deps.log?.info({
          event: 'api.imported',
          imported,
          skipped: byReason,
          tokenName: request.caller.tokenName,
        });
      }
      const count = Object.values(byReason).reduce((a, b) => a + b, 0);
      return {
        dryRun,
        leases: checked.leases.length,
        imported,
        skipped: { count, byReason, items: skipped },
      };
    },
  );

  app.post(
    '/api/v1/backup',
    {
      config: { access: 'write' },
      schema: {
        tags: ['leases'],
        summary:
          'An online copy of the lease store, on the server (Backup-DhcpServer): a server can start from it (docs/api.md §Backup and restore)',
        body: Type.Object(
          {
            path: Type.Optional(
              Type.String({
                minLength: 1,
                description:
                  'Absolute path of the copy, which must not exist (default: beside the store, time-stamped)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: BackupResult,
          400: ref(ErrorBody),
          401: ref(ErrorBody),
          403: ref(ErrorBody),
          409: ref(ErrorBody),
          500: ref(ErrorBody),
          501: ref(ErrorBody),
        },
      },
    },
    async (request, reply) => {
      const store = deps.leaseStore;
      if (!store.backup) {
        return void (reply as Reply)
          .code(501)
          .send({ error: 'not-implemented', message: 'this lease store has no online backup' });
      }
      const wanted = request.body?.path;
      if (wanted !== undefined && !isAbsolute(wanted)) {
        return void (reply as Reply).code(400).send({
          error: 'invalid-request',
          message: '/body/path must be an absolute path',
          path: '/body/path',
        });
      }
      const path = wanted ?? defaultBackupPath(resolve(store.path), now());
      if (resolve(path) === resolve(store.path) || existsSync(path)) {
        return void (reply as Reply)
          .code(409)
          .send({ error: 'conflict', message: `${path} exists; a backup never overwrites a file` });
      }
      const leases = store.count();
      const started = Date.now();
      let pages: number;
      try {
        pages = (await store.backup(path)).pages;
      } catch (err) {
        return void (reply as Reply)
          .code(500)
          .send({ error: 'backup-failed', message: `cannot write ${path}: ${(err as Error).message}` });
      }
      const result = { path, bytes: statSync(path).size, pages, leases, durationMs: Date.now() - started };
      deps.log?.info({ event: 'api.backup-written', ...result, tokenName: request.caller.tokenName });
      return result;
    },
  );
}
