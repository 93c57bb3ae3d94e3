// `twinlease scope list` and `twinlease scope get ID`: scopes as the server resolved them.
// `twinlease scope config get|set ID`: the scope's object as written in the config file, and its
// replacement through the API's write path (with --dry-run, --force, --replicate).

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../api-client.js';
import type { Scope, WritePreview } from '../api-types.js';
import { fields, print, printJson, table } from '../output.js';
import { addWriteFlags, isPreview, printPreview, type WriteFlags, withWriteFlags } from './config-write.js';
import { action } from './context.js';

const configPath = (id: string) => `/api/v1/scopes/${encodeURIComponent(id)}/config`;

function readScopeFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${file} is not a scope object in JSON: ${(err as Error).message}`);
  }
}

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
  const config = scope.command('config').description("a scope's object in the config file");
  config
    .command('get')
    .description('print the scope as written in the config file, as JSON (GET /api/v1/scopes/{id}/config)')
    .argument('<id>', 'scope id')
    .action(
      action(async ({ client }, id: string) => {
        printJson(await client.get<Record<string, unknown>>(configPath(id)));
      }),
    );
  addWriteFlags(
    config
      .command('set')
      .description(
        'replace (or add) the scope in the config file and reload (PUT /api/v1/scopes/{id}/config)',
      )
      .argument('<id>', 'scope id')
      .requiredOption(
        '--file <file>',
        'the scope object as JSON (as `scope config get` prints it; - for stdin)',
      )
      .option(
        '--replicate',
        'make the same change on the failover partner (partner.api); ours is kept only if it takes it',
      ),
  ).action(
    action(async ({ client, json }, id: string, o: WriteFlags & { file: string; replicate?: boolean }) => {
      const body = readScopeFile(o.file);
      const r = await client.put<Record<string, unknown> | WritePreview>(
        withWriteFlags(configPath(id), o, { replicate: o.replicate === true }),
        body,
      );
      if (isPreview(r)) return printPreview(json, r);
      if (json) return printJson(r);
      print(
        `Scope "${id}" written${o.replicate ? ' here and on the failover partner' : ''}; the server reloaded.`,
      );
    }),
  );
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
