// The settings of a relationship that the two partners must agree on (docs/failover.md "What must
// be equal"), as one server shows them to the other (GET …/relationships/{name}/settings), and
// their comparison for configurationDifferences. The shared secret never leaves the server: a
// fingerprint stands for it, scrypt (slow on purpose, so a leaked fingerprint does not make a weak
// secret cheap to guess) salted with the relationship name.

import { scryptSync } from 'node:crypto';
import type { ResolvedRelationship } from '../config/resolved.js';
import type { ConfigurationDifference } from './relationship-resource.js';
import type { RelationshipSettings } from './schemas.js';

/** name + secret → fingerprint; scrypt costs tens of milliseconds, so it is computed once. */
const fingerprints = new Map<string, string>();
const MAX_FINGERPRINTS = 256;

export function secretFingerprint(relationshipName: string, secret: string): string {
  const key = JSON.stringify([relationshipName, secret]);
  const known = fingerprints.get(key);
  if (known !== undefined) return known;
  const value = scryptSync(secret, `twinlease:shared-secret:${relationshipName}`, 16, {
    N: 1 << 14,
    r: 8,
    p: 1,
  }).toString('hex');
  if (fingerprints.size >= MAX_FINGERPRINTS) fingerprints.clear();
  fingerprints.set(key, value);
  return value;
}

export function relationshipSettings(r: ResolvedRelationship): RelationshipSettings {
  return {
    name: r.name,
    role: r.role,
    mode: r.mode,
    loadBalancePercent: r.loadBalancePercent,
    reservePercent: r.reservePercent,
    serverRole: r.serverRole,
    poolSplit: r.poolSplit,
    mcltSeconds: r.mcltSeconds,
    autoStateTransition: r.autoStateTransition,
    stateSwitchIntervalSeconds: r.stateSwitchIntervalSeconds,
    auth: r.auth,
    sharedSecretFingerprint: r.sharedSecret === null ? null : secretFingerprint(r.name, r.sharedSecret),
    scopeIds: [...r.scopeIds],
    tls: r.tls != null,
  };
}

/**
 * Every setting on which `theirs` (the partner's) disagrees with `ours`. Roles and hot-standby
 * server roles must be opposite, load-balance shares must add up to 100 (each is the share served
 * by its own server), everything else must be equal. Values the mode does not use are skipped.
 */
export function settingsDifferences(
  ours: RelationshipSettings,
  theirs: RelationshipSettings,
): ConfigurationDifference[] {
  const out: ConfigurationDifference[] = [];
  const equal = <K extends keyof RelationshipSettings>(name: K) => {
    if (JSON.stringify(ours[name]) !== JSON.stringify(theirs[name])) {
      out.push({ name, ours: ours[name], partner: theirs[name], rule: 'equal' });
    }
  };
  if (ours.role === theirs.role)
    out.push({ name: 'role', ours: ours.role, partner: theirs.role, rule: 'opposite' });
  equal('mode');
  if (ours.mode === theirs.mode) {
    if (ours.mode === 'loadBalance') {
      if (ours.loadBalancePercent + theirs.loadBalancePercent !== 100) {
        out.push({
          name: 'loadBalancePercent',
          ours: ours.loadBalancePercent,
          partner: theirs.loadBalancePercent,
          rule: 'complement',
        });
      }
    } else {
      // An unset serverRole is the primary's active, the secondary's standby (the config default).
      const roleOf = (s: RelationshipSettings) =>
        s.serverRole ?? (s.role === 'primary' ? 'active' : 'standby');
      if (roleOf(ours) === roleOf(theirs)) {
        out.push({ name: 'serverRole', ours: roleOf(ours), partner: roleOf(theirs), rule: 'opposite' });
      }
      equal('reservePercent');
    }
    equal('poolSplit');
  }
  equal('mcltSeconds');
  equal('autoStateTransition');
  if (ours.autoStateTransition && theirs.autoStateTransition) equal('stateSwitchIntervalSeconds');
  equal('auth');
  if (ours.sharedSecretFingerprint !== theirs.sharedSecretFingerprint) {
    out.push({ name: 'sharedSecret', ours: null, partner: null, rule: 'equal' });
  }
  // A partner that does not report it runs without TLS.
  if ((ours.tls ?? false) !== (theirs.tls ?? false)) {
    out.push({ name: 'tls', ours: ours.tls ?? false, partner: theirs.tls ?? false, rule: 'equal' });
  }
  if (JSON.stringify([...ours.scopeIds].sort()) !== JSON.stringify([...theirs.scopeIds].sort())) {
    out.push({ name: 'scopeIds', ours: ours.scopeIds, partner: theirs.scopeIds, rule: 'equal' });
  }
  return out;
}
