// What every verb that writes the server's config file shares: --dry-run (the API answers what the
// change would do and changes nothing) and --force (write even though the change orphans active
// leases or the failover partner would reject it), and the printing of a dry run's answer
// (docs/api.md §Checks before a write).

import type { Command } from 'commander';
import type { WritePreview } from '../api-types.js';
import { print, printJson, table, time } from '../output.js';

export interface WriteFlags {
  dryRun?: boolean;
  force?: boolean;
}

export function addWriteFlags(c: Command): Command {
  return c
    .option(
      '--dry-run',
      'show what the change would do (diff, orphaned leases, partner check); change nothing',
    )
    .option(
      '--force',
      'write even if the change orphans active leases or the failover partner would reject it',
    );
}

/** `path` with ?dryRun=true / ?force=true as the flags say. */
export function withWriteFlags(path: string, flags: WriteFlags, extra: Record<string, boolean> = {}): string {
  const q = new URLSearchParams();
  if (flags.dryRun) q.set('dryRun', 'true');
  if (flags.force) q.set('force', 'true');
  for (const [k, v] of Object.entries(extra)) if (v) q.set(k, 'true');
  const text = q.toString();
  return text === '' ? path : `${path}?${text}`;
}

export function isPreview(body: unknown): body is WritePreview {
  return typeof body === 'object' && body !== null && (body as { dryRun?: unknown }).dryRun === true;
}

const text = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

/** A dry run's answer as tables (or the JSON with --json). */
export function printPreview(json: boolean, p: WritePreview): void {
  if (json) {
    printJson(p);
    return;
  }
  print(
    p.wouldApply
      ? 'Dry run: nothing was changed. The change would be written.'
      : 'Dry run: nothing was changed. The change would be REFUSED:',
  );
  for (const b of p.blockers) print(`  ${b.error}: ${b.message}`);
  if (p.diff.length === 0) print('No change to the config file.');
  else
    print(
      table(
        ['Path', 'Before', 'After'],
        p.diff.map((d) => [d.path, text(d.before), text(d.after)]),
      ),
    );
  if (p.orphanedLeases.count > 0) {
    print(`Active leases the change would orphan: ${p.orphanedLeases.count}`);
    print(orphanTable(p.orphanedLeases.items));
  }
  if (p.partnerChecks.length > 0) {
    print(
      table(
        ['Relationship', 'Scope', 'Partner', 'Result', 'Addresses', 'Message'],
        p.partnerChecks.map((c) => [
          c.relationship,
          c.scopeId,
          c.partner,
          c.result,
          c.addresses.join(', ') || null,
          c.message,
        ]),
      ),
    );
  }
  if (p.partner !== undefined) {
    const theirs = p.partner.preview as WritePreview | null;
    print(
      theirs === null
        ? `Partner ${p.partner.url}: could not be asked (${p.partner.message ?? 'no answer'})`
        : `Partner ${p.partner.url}: ${theirs.orphanedLeases.count} active lease(s) orphaned there`,
    );
    if (theirs !== null && theirs.orphanedLeases.count > 0) print(orphanTable(theirs.orphanedLeases.items));
  }
}

export function orphanTable(items: WritePreview['orphanedLeases']['items']): string {
  return table(
    ['IP address', 'Scope', 'MAC', 'Client ID', 'Hostname', 'Expires', 'Owner'],
    items.map((l) => [
      l.ipAddress,
      l.scopeId,
      l.hardwareAddress,
      l.clientId,
      l.hostname,
      time(l.leaseExpiresAt) ?? 'never',
      l.ownerServer,
    ]),
  );
}
