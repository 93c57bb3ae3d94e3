// configurationDifferences of a relationship: does the partner's configuration of it agree with
// ours? Two reads on the partner's API: the relationship's settings (mode, percentages, MCLT,
// automatic transition, authentication by fingerprint; src/api/relationship-settings.ts) and each
// scope's config (canonical JSON compared). Answers are cached for DRIFT_CACHE_SECONDS and
// concurrent asks share one round of requests, so listing relationships does not hammer the
// partner; each request gives up after 2 s. The partner answers both from its config alone (no
// request back to us), so two servers asking each other never wait on each other.

import type { ResolvedRelationship } from '../config/resolved.js';
import { type ConfigFile, canonicalJson } from './config-file.js';
import { PartnerApiClient } from './partner-api.js';
import type { ConfigurationDifference } from './relationship-resource.js';
import { relationshipSettings, settingsDifferences } from './relationship-settings.js';

export const DRIFT_CACHE_SECONDS = 10;

type Differences = readonly ConfigurationDifference[] | null;

export class ConfigDrift {
  private readonly cache = new Map<string, { at: number; key: string; value: Promise<Differences> }>();

  constructor(
    private readonly file: ConfigFile,
    private readonly now: () => number,
  ) {}

  /** null: partner.api is not configured, or the partner could not be asked. */
  differences(r: ResolvedRelationship): Promise<Differences> {
    if (r.partnerApi === undefined) return Promise.resolve(null);
    const key = canonicalJson([r.partnerApi, relationshipSettings(r)]);
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

  private async compare(r: ResolvedRelationship, partner: PartnerApiClient): Promise<Differences> {
    const [settings, ...answers] = await Promise.all([
      partner.getRelationshipSettings(r.name),
      ...r.scopeIds.map((id) => partner.getScopeConfig(id)),
    ]);
    if (!settings?.ok) return null;
    const out: ConfigurationDifference[] = [];
    if (settings.settings === null) {
      out.push({ name: 'relationship', ours: r.name, partner: null, rule: 'equal' });
    } else {
      out.push(...settingsDifferences(relationshipSettings(r), settings.settings));
    }
    for (const [i, id] of r.scopeIds.entries()) {
      const theirs = answers[i];
      if (!theirs?.ok) return null;
      const ours = this.file.scopeConfig(id);
      if (!ours.ok) return null;
      if (theirs.config === null) {
        out.push({ name: `scopes/${id}`, ours: null, partner: 'absent', rule: 'equal' });
      } else if (ours.config === null || canonicalJson(ours.config) !== canonicalJson(theirs.config)) {
        out.push({ name: `scopes/${id}`, ours: null, partner: null, rule: 'equal' });
      }
    }
    return out;
  }
}
