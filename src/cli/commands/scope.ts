// `twinlease scope list` and `twinlease scope get ID`: scopes as the server resolved them.
// `twinlease scope config get|set ID`: the scope's object as written in the config file, and its
// replacement through the API's write path (with --dry-run, --force, --replicate).
// `twinlease scope add|set|activate|deactivate|remove ID`: Add-/Set-/Remove-DhcpServerv4Scope as
// config writes (docs/api.md §Scope, reservation and exclusion changes).

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../api-client.js';
import type { Scope, WritePreview } from '../api-types.js';
import { fields, print, printJson, table } from '../output.js';
import { addWriteFlags, isPreview, printPreview, type WriteFlags, withWriteFlags } from './config-write.js';
import { action } from './context.js';
import { parseDuration } from './failover.js';

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

const collect = (value: string, previous: string[]) => [...previous, value];

/** `A-B` (or a single address A) → { start, end }. */
export function parseRange(option: string, text: string): { start: string; end: string } {
  const m = /^\s*(\d{1,3}(?:\.\d{1,3}){3})\s*(?:-\s*(\d{1,3}(?:\.\d{1,3}){3}))?\s*$/.exec(text);
  if (!m)
    throw new CliError(`${option} must be START-END (10.0.0.10-10.0.0.99) or one address, not "${text}"`);
  return { start: m[1]!, end: m[2] ?? m[1]! };
}

interface ScopeFieldOptions {
  name?: string;
  description?: string;
  subnet?: string;
  range: string[];
  exclude: string[];
  leaseTime?: string;
  file?: string;
}

/** The scope properties the options give (a new scope's, or a merge patch). */
function scopeFields(o: ScopeFieldOptions): Record<string, unknown> {
  const b: Record<string, unknown> = o.file === undefined ? {} : readScopeFile(o.file);
  if (o.name !== undefined) b.name = o.name;
  if (o.description !== undefined) b.description = o.description;
  if (o.subnet !== undefined) b.subnet = o.subnet;
  if (o.range.length > 0) b.ranges = o.range.map((r) => parseRange('--range', r));
  if (o.exclude.length > 0) b.exclusions = o.exclude.map((r) => parseRange('--exclude', r));
  if (o.leaseTime !== undefined) b.leaseTimeSeconds = parseDuration(o.leaseTime);
  return b;
}

function addScopeFieldOptions(c: Command): Command {
  return c
    .option('--name <name>', 'display name')
    .option('--description <text>', 'free text')
    .option('--range <start-end>', 'dynamic range (repeat for more; set: replaces the ranges)', collect, [])
    .option(
      '--exclude <start-end>',
      'exclusion range (repeat for more; set: replaces the exclusions)',
      collect,
      [],
    )
    .option('--lease-time <duration>', 'lease time: 3600, 60m, 8h, 1d, or hh:mm:ss')
    .option('--file <file>', 'the properties as a JSON object (- for stdin); the other options override it');
}

const REPLICATE_HELP =
  'make the same change on the failover partner (partner.api); ours is kept only if it takes it';

export function registerScope(program: Command): void {
  const scope = program.command('scope').description('scopes as configured');
  addWriteFlags(
    addScopeFieldOptions(
      scope
        .command('add')
        .description('add a scope to the config file and reload (Add-DhcpServerv4Scope; POST /api/v1/scopes)')
        .argument('<id>', 'scope id')
        .option('--subnet <cidr>', 'the subnet, e.g. 10.50.0.0/24 (required unless in --file)')
        .option('--inactive', 'add it deactivated (active: false)'),
    ),
  ).action(
    action(
      async ({ client, json }, id: string, o: ScopeFieldOptions & WriteFlags & { inactive?: boolean }) => {
        const body = { id, ...scopeFields(o), ...(o.inactive ? { active: false } : {}) };
        const r = await client.post<Record<string, unknown> | WritePreview>(
          withWriteFlags('/api/v1/scopes', o),
          body,
        );
        if (isPreview(r)) return printPreview(json, r);
        if (json) return printJson(r);
        print(`Scope "${id}" added; the server reloaded.`);
      },
    ),
  );
  addWriteFlags(
    addScopeFieldOptions(
      scope
        .command('set')
        .description(
          'change a scope in the config file and reload (Set-DhcpServerv4Scope; PATCH /api/v1/scopes/{id})',
        )
        .argument('<id>', 'scope id')
        .option('--replicate', REPLICATE_HELP),
    ),
  ).action(
    action(
      async ({ client, json }, id: string, o: ScopeFieldOptions & WriteFlags & { replicate?: boolean }) => {
        const patch = scopeFields(o);
        if (Object.keys(patch).length === 0)
          throw new CliError('nothing to change: give an option or --file');
        const r = await client.patch<Record<string, unknown> | WritePreview>(
          withWriteFlags(`/api/v1/scopes/${encodeURIComponent(id)}`, o, { replicate: o.replicate === true }),
          patch,
        );
        if (isPreview(r)) return printPreview(json, r);
        if (json) return printJson(r);
        print(
          `Scope "${id}" changed${o.replicate ? ' here and on the failover partner' : ''}; the server reloaded.`,
        );
      },
    ),
  );
  for (const [verb, what] of [
    ['activate', 'serve the scope again (Set-DhcpServerv4Scope -State Active)'],
    [
      'deactivate',
      'stop answering clients in the scope; it stays configured (Set-DhcpServerv4Scope -State InActive)',
    ],
  ] as const) {
    addWriteFlags(
      scope
        .command(verb)
        .description(what)
        .argument('<id>', 'scope id')
        .option('--replicate', REPLICATE_HELP),
    ).action(
      action(async ({ client, json }, id: string, o: WriteFlags & { replicate?: boolean }) => {
        const r = await client.post<Record<string, unknown> | WritePreview>(
          withWriteFlags(`/api/v1/scopes/${encodeURIComponent(id)}/actions/${verb}`, o, {
            replicate: o.replicate === true,
          }),
          {},
        );
        if (isPreview(r)) return printPreview(json, r);
        if (json) return printJson(r);
        print(
          `Scope "${id}" ${verb}d${o.replicate ? ' here and on the failover partner' : ''}; the server reloaded.`,
        );
      }),
    );
  }
  addWriteFlags(
    scope
      .command('remove')
      .description(
        'remove a scope from the config file and reload (Remove-DhcpServerv4Scope; DELETE /api/v1/scopes/{id})',
      )
      .argument('<id>', 'scope id'),
  ).action(
    action(async ({ client, json }, id: string, o: WriteFlags) => {
      const r = await client.delete<WritePreview | null>(
        withWriteFlags(`/api/v1/scopes/${encodeURIComponent(id)}`, o),
      );
      if (r !== null && isPreview(r)) return printPreview(json, r);
      if (json) return printJson({ removed: id });
      print(`Scope "${id}" removed; the server reloaded.`);
    }),
  );
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
