// `twinlease scope list` and `twinlease scope get ID`: scopes as the server resolved them.

import type { Command } from 'commander';
import type { Scope } from '../api-types.js';
import { fields, print, printJson, table } from '../output.js';
import { action } from './context.js';

const ranges = (rs: { start: string; end: string }[]) =>
  rs.length === 0 ? null : rs.map((r) => `${r.start}-${r.end}`).join(', ');
const optionText = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Array.isArray(v) && v.every((x) => typeof x !== 'object')
      ? v.join(', ')
      : JSON.stringify(v);

export function registerScope(program: Command): void {
  const scope = program.command('scope').description('scopes as configured');
  scope
    .command('list')
    .description('list scopes (GET /api/v1/scopes)')
    .action(
      action(async ({ client, json }) => {
        const { items } = await client.get<{ items: Scope[] }>('/api/v1/scopes');
        if (json) return printJson(items);
        print(
          table(
            ['ID', 'Name', 'Subnet', 'Ranges', 'Reservations', 'Lease time', 'Role'],
            items.map((s) => [
              s.id,
              s.name,
              s.subnet,
              ranges(s.ranges),
              s.reservations.length,
              `${s.leaseTimeSeconds}s`,
              s.role,
            ]),
          ),
        );
      }),
    );
  scope
    .command('get')
    .description('show one scope (GET /api/v1/scopes/{id})')
    .argument('<id>', 'scope id')
    .action(
      action(async ({ client, json }, id: string) => {
        const s = await client.get<Scope>(`/api/v1/scopes/${encodeURIComponent(id)}`);
        if (json) return printJson(s);
        print(
          fields([
            ['ID', s.id],
            ['Name', s.name],
            ['Description', s.description],
            ['Subnet', `${s.subnet} (mask ${s.subnetMask})`],
            ['Ranges', ranges(s.ranges)],
            ['Exclusions', ranges(s.exclusions)],
            ['Dynamic addresses', s.dynamicAddresses],
            ['Lease time', `${s.leaseTimeSeconds}s (T1 ${s.renewTimeSeconds}s, T2 ${s.rebindTimeSeconds}s)`],
            ['Offer hold', `${s.offerHoldSeconds}s`],
            ['Decline hold', `${s.declineHoldSeconds}s`],
            ['Relay addresses', s.relayAddresses.length === 0 ? null : s.relayAddresses.join(', ')],
            [
              'BOOTP',
              s.dynamicBootp
                ? `dynamic, ${s.bootpLeaseSeconds === null ? 'infinite' : `${s.bootpLeaseSeconds}s`}`
                : 'reservations only',
            ],
            ['Authoritative', s.authoritative],
            ['Failover', s.failoverRelationship === null ? 'none' : `${s.failoverRelationship} (${s.role})`],
          ]),
        );
        if (s.options.length > 0) {
          print(
            table(
              ['Code', 'Option', 'Value', 'Always send'],
              s.options.map((o) => [o.code, o.name, optionText(o.value), o.alwaysSend]),
            ),
          );
        }
        if (s.reservations.length > 0) {
          print(
            table(
              ['Reserved address', 'MAC', 'Client ID', 'Hostname', 'Description'],
              s.reservations.map((r) => [
                r.address,
                r.hardwareAddress,
                r.clientId,
                r.hostname,
                r.description,
              ]),
            ),
          );
        }
      }),
    );
}
