// One change to one scope's object in the config file, through the API's write path
// (src/api/config-file.ts: dry run, refusal of orphaned active leases unless forced, the partner
// check), and with `replicate` the same scope on the failover partner: ours is written first (the
// partner's own checks then find our new config), then our resulting scope object is PUT to the
// partner's API (PUT …/scopes/{id}/config); if the partner refuses or does not answer, our
// previous file is put back. One turn of the write queue throughout. Used by the scope config PUT
// and by the scope, reservation and exclusion verbs (routes/scope-config.ts, routes/scope-edits.ts).

import type { ConfigChanges } from '../config/loader.js';
import {
  type Edit,
  type JsonObject,
  previewOf,
  type Refusal,
  scopeIdOf,
  type WriteOptions,
} from './config-file.js';
import { PartnerApiClient } from './partner-api.js';
import type { RouteContext } from './server.js';

export interface ScopeEdit {
  scopeId: string;
  /**
   * Changes the scope's object, `scopes[index]` of the file (index = scopes.length and
   * `scope` undefined when the file has no scope with that id). Returns a refusal, or the scope's
   * new object (null: the scope is removed).
   */
  change(scope: JsonObject | undefined, index: number): Refusal | { next: JsonObject | null };
  /** A loader error's pointer relative to the scope (`/ranges/0/end`) → the request's, or null. */
  requestPath(pointerInScope: string): string | null;
}

export type ScopeWriteResult =
  | { ok: false; status: number; body: unknown }
  | { ok: true; isWritten: false; status: 200; body: unknown }
  | { ok: true; isWritten: true; isNew: boolean; changes: ConfigChanges; scope: JsonObject | null };

/** Applies `w` to the file (and with `replicate` to the partner's scope). */
export async function writeScope(
  ctx: RouteContext,
  w: ScopeEdit,
  options: WriteOptions,
  replicate: boolean,
): Promise<ScopeWriteResult> {
  const { deps, configFile, drift } = ctx;
  let at = '';
  let isNew = false;
  let resulting: JsonObject | null = null;
  const edit: Edit = {
    apply(doc) {
      if (!Array.isArray(doc.scopes)) doc.scopes = [];
      const scopes = doc.scopes as unknown[];
      let i = scopes.findIndex((s) => scopeIdOf(s) === w.scopeId);
      isNew = i < 0;
      if (isNew) i = scopes.length;
      const changed = w.change(isNew ? undefined : (scopes[i] as JsonObject), i);
      if ('status' in changed) return changed;
      at = `/scopes/${i}`;
      if (changed.next === null) scopes.splice(i, 1);
      else scopes[i] = changed.next;
      resulting = changed.next === null ? null : { id: w.scopeId, ...structuredClone(changed.next) };
      return null;
    },
    requestPath: (pointer) =>
      pointer === at || pointer.startsWith(`${at}/`) ? w.requestPath(pointer.slice(at.length)) : null,
  };

  if (!replicate) {
    const result = await configFile.write(edit, options);
    if (!result.ok) return { ok: false, status: result.refusal.status, body: result.refusal.body };
    if (!result.isWritten)
      return { ok: true, isWritten: false, status: 200, body: previewOf(result.plan, options) };
    drift.invalidate();
    return { ok: true, isWritten: true, isNew, changes: result.changes, scope: resulting };
  }

  const relationship = deps.config().failover.find((x) => x.scopeIds.includes(w.scopeId));
  if (relationship?.partnerApi === undefined) {
    return {
      ok: false,
      status: 409,
      body: {
        error: 'partner-api-not-configured',
        message: relationship
          ? `relationship "${relationship.name}" has no partner.api { url, token } in the config`
          : `scope "${w.scopeId}" is in no failover relationship: there is no partner to replicate to`,
      },
    };
  }
  const partner = new PartnerApiClient(relationship.partnerApi);
  return configFile.serialized(async (): Promise<ScopeWriteResult> => {
    const ours = await configFile.writeNow(edit, { ...options, isPartnerCheckSkipped: true });
    if (!ours.ok) return { ok: false, status: ours.refusal.status, body: ours.refusal.body };
    const theirScope = resulting as JsonObject | null;
    if (theirScope === null) {
      // Removing a scope of a relationship is refused before this (it must leave the relationship
      // first); nothing to send.
      return {
        ok: false,
        status: 409,
        body: { error: 'conflict', message: 'a removed scope is not replicated' },
      };
    }
    if (!ours.isWritten) {
      // The partner's dry run reports its own orphaned leases; its partner check compares with
      // our config before the change, so those blockers are left out here.
      const theirs = await partner.putScopeConfig(w.scopeId, theirScope, { dryRun: true, force: true });
      const preview = previewOf(ours.plan, options);
      const theirPreview = theirs.ok ? (theirs.body as { blockers?: { error: string }[] }) : null;
      const theirBlockers = (theirPreview?.blockers ?? []).filter((b) => !b.error.startsWith('partner-'));
      return {
        ok: true,
        isWritten: false,
        status: 200,
        body: {
          ...preview,
          wouldApply:
            theirs.ok && preview.wouldApply && (theirBlockers.length === 0 || options.force === true),
          partner: { url: partner.url, preview: theirPreview, message: theirs.ok ? null : theirs.message },
        },
      };
    }
    const put = await partner.putScopeConfig(w.scopeId, theirScope, { force: options.force });
    drift.invalidate();
    if (put.ok) return { ok: true, isWritten: true, isNew, changes: ours.changes, scope: theirScope };
    const restored = configFile.restoreNow(ours.previousText);
    drift.invalidate();
    const theirBody = (put.body ?? {}) as JsonObject;
    const kept = restored.ok ? 'ours was put back' : 'ours could NOT be put back (see the log)';
    return {
      ok: false,
      status: put.status === null ? 502 : 409,
      body: {
        error: put.status === null ? 'partner-unreachable' : 'partner-refused',
        message: `the partner did not take the change (${put.message}); ${kept}`,
        ...(theirBody.orphanedLeases !== undefined ? { orphanedLeases: theirBody.orphanedLeases } : {}),
        ...(theirBody.partnerChecks !== undefined ? { partnerChecks: theirBody.partnerChecks } : {}),
      },
    };
  });
}
