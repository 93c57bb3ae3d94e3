// Which relationships the overview shows: a hub runs dozens (one per branch server), and the
// operator looks for the few that need attention or for one branch. Pure (no DOM), so the rule is
// tested without a browser (test/dashboard/relationship-filter.test.ts).

import type { RelationshipView } from '../view.js';

/** Not normal, not running, or the partner unreachable. */
export function needsAttention(r: RelationshipView): boolean {
  return !r.isRunning || r.local.state !== 'normal' || !r.isPartnerReachable;
}

/**
 * `text` (case-insensitive) in the relationship's name, a scope id, either server's name or
 * address, or either state; with `onlyAttention`, only those that need attention.
 */
export function relationshipMatches(r: RelationshipView, text: string, onlyAttention: boolean): boolean {
  if (onlyAttention && !needsAttention(r)) return false;
  const needle = text.trim().toLowerCase();
  if (needle === '') return true;
  return [
    r.name,
    ...r.scopeIds,
    r.local.name,
    r.local.address,
    r.partner.name,
    r.partner.address,
    r.local.state ?? '',
    r.partner.state ?? '',
  ].some((x) => x.toLowerCase().includes(needle));
}
