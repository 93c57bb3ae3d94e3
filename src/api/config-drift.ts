// configurationDiffers of a relationship: are our configs of its scopes the same as the partner's
// (GET /api/v1/scopes/{id}/config on the partner's API, canonical JSON compared)? Answers are
// cached for DRIFT_CACHE_SECONDS and concurrent asks share one round of requests, so listing
// relationships does not hammer the partner; each request gives up after 2 s.

import type { ResolvedRelationship } from '../config/resolved.js';
import { type ConfigFile, canonicalJson } from './config-file.js';
import { PartnerApiClient } from './partner-api.js';

export const DRIFT_CACHE_SECONDS = 10;

export class ConfigDrift {
  private readonly cache = new Map<string, { at: number; key: string; value: Promise<boolean | null> }>();

  constructor(
    private readonly file: ConfigFile,
    private readonly now: () => number,
  ) {}

  /** null: partner.api is not configured, or the partner could not be asked. */
  differs(r: ResolvedRelationship): Promise<boolean | null> {
    if (r.partnerApi === undefined) return Promise.resolve(null);
    const key = canonicalJson([r.partnerApi, r.scopeIds]);
    const hit = this.cache.get(r.name);
    const t = this.now();
    if (hit && hit.key === key && t - hit.at < DRIFT_CACHE_SECONDS) return hit.value;
    const value = this.compare(r, new PartnerApiClient(r.partnerApi));
    this.cache.set(r.name, { at: t, key, value });
    return value;
  }

  /** After any config write of ours (or a replication). */
  invalidate(): void {
    this.cache.clear();
  }

  private async compare(r: ResolvedRelationship, partner: PartnerApiClient): Promise<boolean | null> {
    const answers = await Promise.all(r.scopeIds.map((id) => partner.getScopeConfig(id)));
    let differs = false;
    for (const [i, id] of r.scopeIds.entries()) {
      const theirs = answers[i];
      if (!theirs?.ok) return null;
      const ours = this.file.scopeConfig(id);
      if (!ours.ok) return null;
      if (
        theirs.config === null ||
        ours.config === null ||
        canonicalJson(ours.config) !== canonicalJson(theirs.config)
      )
        differs = true;
    }
    return differs;
  }
}
