// POST /api/v1/config/reload: SIGHUP over HTTP, with a dry run that only checks the file and
// reports what would change, the active leases it would leave outside every scope included. A
// write: needs a token that is not read-only.

import { ConfigErrors, ErrorBody, ReloadBody, ReloadResult, ref } from '../schemas.js';
import type { ApiApp, RouteContext } from '../server.js';

export function configRoutes(app: ApiApp, { deps }: RouteContext): void {
  app.post(
    '/api/v1/config/reload',
    {
      config: { access: 'write' },
      schema: {
        tags: ['config'],
        summary: 'Re-read the config file (like SIGHUP); dryRun only checks it',
        body: ReloadBody,
        response: {
          200: ref(ReloadResult),
          422: ref(ConfigErrors),
          403: ref(ErrorBody),
          501: ref(ErrorBody),
        },
      },
    },
    async (request, reply) => {
      if (!deps.reload)
        return reply.code(501).send({ error: 'not-implemented', message: 'this server cannot reload' });
      const dryRun = request.body?.dryRun ?? false;
      const outcome = deps.reload(dryRun);
      if (!outcome.ok) {
        return reply.code(422).send({
          error: 'invalid-config',
          message: `the config file was rejected (${outcome.errors.length} error${outcome.errors.length === 1 ? '' : 's'}); the running config is kept`,
          errors: outcome.errors.map((e) => ({ ...e })),
        });
      }
      deps.log?.info({
        event: 'api.config-reload',
        tokenName: request.caller.tokenName,
        dryRun,
        applied: outcome.isApplied,
        orphanedLeases: outcome.orphanedLeases.count,
      });
      const c = outcome.changes;
      return {
        applied: outcome.isApplied,
        changes: {
          isUnchanged: c.isUnchanged,
          scopesAdded: [...c.scopesAdded],
          scopesRemoved: [...c.scopesRemoved],
          scopesChanged: [...c.scopesChanged],
          relationshipsAdded: [...c.relationshipsAdded],
          relationshipsRemoved: [...c.relationshipsRemoved],
          relationshipsChanged: [...c.relationshipsChanged],
          restartRequired: [...c.restartRequired],
        },
        orphanedLeases: outcome.orphanedLeases,
      };
    },
  );
}
