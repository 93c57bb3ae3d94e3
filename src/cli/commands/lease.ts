// `twinlease lease list [--scope ID] [filters]` and `twinlease lease get IP`: lease records
// (DHCPV4_FAILOVER_CLIENT_INFO) from the API, following its pagination.
// `twinlease lease release IP` ends an active lease as its client's RELEASE would; `twinlease lease
// delete IP [--force]` deletes the record (docs/api.md §Lease release and delete).

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../api-client.js';
import type { Lease, LeaseList } from '../api-types.js';
import { fields, print, printJson, table, time } from '../output.js';
import { action } from './context.js';

const PAGE_SIZE = 1000;

interface ImportResult {
  dryRun: boolean;
  leases: number;
  imported: number;
  skipped: {
    count: number;
    byReason: Record<string, number>;
    items: { ipAddress: string | null; reason: string; message: string }[];
  };
}

interface ListOptions {
  scope?: string;
  mac?: string;
  ip?: string;
  hostname?: string;
  state?: string;
  owner?: string;
  limit?: string;
}

export function registerLease(program: Command): void {
  const lease = program.command('lease').description('lease records');
  lease
    .command('list')
    .description('list leases, by address (GET /api/v1/scopes/{id}/leases)')
    .option('--scope <id>', 'scope id (default: every scope)')
    .option('--mac <mac>', 'hardware address')
    .option('--ip <address>', 'one address')
    .option('--hostname <name>', 'host name (case-insensitive)')
    .option(
      '--state <state>',
      'offered|active|declined|doomed, or a binding state: free|expired|released|abandoned|reset|backup',
    )
    .option('--owner <server>', 'server that granted the binding')
    .option('--limit <n>', 'show at most n leases (default: all)')
    .action(
      action(async ({ client, json }, opts: ListOptions) => {
        const max = opts.limit === undefined ? Number.POSITIVE_INFINITY : Number(opts.limit);
        if (!Number.isInteger(max) && max !== Number.POSITIVE_INFINITY)
          throw new CliError('--limit must be a whole number');
        if (max < 1) throw new CliError('--limit must be at least 1');
        const path =
          opts.scope === undefined
            ? '/api/v1/leases'
            : `/api/v1/scopes/${encodeURIComponent(opts.scope)}/leases`;
        const items: Lease[] = [];
        let cursor: string | undefined;
        let total = 0;
        do {
          const page = await client.get<LeaseList>(path, {
            mac: opts.mac,
            ip: opts.ip,
            hostname: opts.hostname,
            state: opts.state,
            owner: opts.owner,
            limit: Math.min(PAGE_SIZE, max - items.length),
            cursor,
          });
          items.push(...page.items);
          total = page.total;
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined && items.length < max);
        if (json) return printJson(items);
        if (items.length === 0) return print('no leases match');
        print(
          table(
            ['IP address', 'Scope', 'MAC', 'Hostname', 'State', 'Binding', 'Expires', 'Owner', 'Reserved'],
            items.map((l) => [
              l.ipAddress,
              l.scopeId,
              l.hardwareAddress.mac,
              l.hostname,
              l.addressState,
              l.bindingState,
              l.leaseInfinite ? 'never' : time(l.leaseExpiresAt),
              l.ownerServer.name,
              l.reserved,
            ]),
          ),
        );
        if (items.length < total) print(`${items.length} of ${total} leases shown`);
      }),
    );
  lease
    .command('get')
    .description('show every field of one lease (GET /api/v1/leases/{ip})')
    .argument('<ip>', 'lease address')
    .option('--scope <id>', 'scope id (default: whichever scope holds the address)')
    .action(
      action(async ({ client, json }, ip: string, opts: { scope?: string }) => {
        const path =
          opts.scope === undefined
            ? `/api/v1/leases/${encodeURIComponent(ip)}`
            : `/api/v1/scopes/${encodeURIComponent(opts.scope)}/leases/${encodeURIComponent(ip)}/failover`;
        const l = await client.get<Lease>(path);
        if (json) return printJson(l);
        print(
          fields([
            ['IP address', l.ipAddress],
            ['Scope', l.scopeId],
            ['Subnet mask', l.subnetMask],
            [
              'Hardware address',
              l.hardwareAddress.mac === null
                ? null
                : `${l.hardwareAddress.mac} (htype ${l.hardwareAddress.htype})`,
            ],
            ['Client ID', l.clientId],
            ['Hostname', l.hostname],
            ['Description', l.description],
            ['FQDN', l.fqdn],
            ['Expires', l.leaseInfinite ? 'never' : time(l.leaseExpiresAt)],
            [
              'Owner server',
              l.ownerServer.name === null
                ? null
                : `${l.ownerServer.name}${l.ownerServer.address ? ` (${l.ownerServer.address})` : ''}`,
            ],
            ['Client type', l.clientType],
            ['Reserved', l.reserved],
            ['Binding state', l.bindingState],
            ['Address state', l.addressState],
            ['Offer expires', time(l.offerExpiresAt)],
            ['DHCID', l.dhcidMode],
            ['DNS cleanup on delete', l.dns.cleanupOnDelete],
            ['DNS update A and PTR', l.dns.updateBothRecords],
            ['DNS registration pending', l.dns.registrationPending],
            ['DNS removal pending', l.dns.removalPending],
            ['NAP status', l.napStatus],
            ['Probation ends', time(l.probationEndsAt)],
            ['NAP capable', l.napCapable],
            ['Potential expiry sent', time(l.sentPotentialExpiresAt)],
            ['Potential expiry acked', time(l.ackedPotentialExpiresAt)],
            ['Potential expiry received', time(l.receivedPotentialExpiresAt)],
            ['State since', time(l.stateStartedAt)],
            ['Client last transaction', time(l.clientLastTransactionAt)],
            ['Last binding update', time(l.lastBindingUpdateAt)],
            ['Partner up to date', l.partnerUpToDate],
            ['Policy', l.policyName],
          ]),
        );
      }),
    );
  const leasePath = (ip: string, scope: string | undefined) =>
    scope === undefined
      ? `/api/v1/leases/${encodeURIComponent(ip)}`
      : `/api/v1/scopes/${encodeURIComponent(scope)}/leases/${encodeURIComponent(ip)}`;
  lease
    .command('release')
    .description(
      'end an active lease as if its client released it; the failover partner learns it (POST …/leases/{ip}/actions/release)',
    )
    .argument('<ip>', 'lease address')
    .option('--scope <id>', 'scope id (default: whichever scope holds the address)')
    .action(
      action(async ({ client, json }, ip: string, opts: { scope?: string }) => {
        const l = await client.post<Lease>(`${leasePath(ip, opts.scope)}/actions/release`, {});
        if (json) return printJson(l);
        print(
          `Lease ${l.ipAddress} released (binding ${l.bindingState}${l.bindingState === 'released' ? ': free once the failover partner acknowledges it' : ''}).`,
        );
      }),
    );
  lease
    .command('delete')
    .description(
      'delete a lease record; an active one only with --force, released first (DELETE …/leases/{ip})',
    )
    .argument('<ip>', 'lease address')
    .option('--scope <id>', 'scope id (default: whichever scope holds the address)')
    .option('--force', 'delete an active lease too: it is released first (the failover partner learns it)')
    .action(
      action(async ({ client, json }, ip: string, opts: { scope?: string; force?: boolean }) => {
        const path = `${leasePath(ip, opts.scope)}${opts.force ? '?force=true' : ''}`;
        const l = await client.delete<Lease | null>(path);
        if (json) return printJson(l === null ? { deleted: true } : { deleted: false, lease: l });
        if (l === null) return print(`Lease record ${ip} deleted.`);
        print(
          `Lease ${ip} released, but the failover partner has not acknowledged it yet: the record stays (${l.bindingState}) until it does; delete it again then.`,
        );
      }),
    );
  lease
    .command('import')
    .description(
      "an export's leases into the running server (Import-DhcpServer -Leases; POST /api/v1/import): active and declined ones onto free addresses",
    )
    .requiredOption('--file <file>', 'the export document (twinlease export)')
    .option('--dry-run', 'say what would be imported; change nothing')
    .action(
      action(async ({ client, json }, o: { file: string; dryRun?: boolean }) => {
        let document: unknown;
        try {
          document = JSON.parse(readFileSync(o.file === '-' ? 0 : o.file, 'utf8'));
        } catch (err) {
          throw new CliError(`cannot read ${o.file}: ${(err as Error).message}`);
        }
        const r = await client.post<ImportResult>(
          `/api/v1/import${o.dryRun ? '?dryRun=true' : ''}`,
          document,
          600_000,
        );
        if (json) return printJson(r);
        print(
          `${r.dryRun ? 'Dry run: would import' : 'Imported'} ${r.imported} of ${r.leases} leases; skipped ${r.skipped.count}${
            r.skipped.count === 0
              ? ''
              : ` (${Object.entries(r.skipped.byReason)
                  .map(([k, v]) => `${v} ${k}`)
                  .join(', ')})`
          }.`,
        );
        if (r.skipped.items.length > 0) {
          print(
            table(
              ['IP address', 'Skipped', 'Why'],
              r.skipped.items.slice(0, 20).map((s) => [s.ipAddress, s.reason, s.message]),
            ),
          );
        }
      }),
    );
}
