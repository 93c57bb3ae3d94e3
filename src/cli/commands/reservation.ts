// `twinlease reservation add|set|remove --scope ID --ip A`: Add-/Set-/Remove-DhcpServerv4Reservation
// as config writes through the API (--dry-run, --force, --replicate; docs/api.md §Scope,
// reservation and exclusion changes).

import type { Command } from 'commander';
import { CliError } from '../api-client.js';
import type { WritePreview } from '../api-types.js';
import { print, printJson } from '../output.js';
import { addWriteFlags, isPreview, printPreview, type WriteFlags, withWriteFlags } from './config-write.js';
import { action } from './context.js';

interface ReservationOptions extends WriteFlags {
  scope: string;
  ip: string;
  mac?: string;
  clientId?: string;
  hostname?: string;
  description?: string;
  replicate?: boolean;
}

const REPLICATE_HELP =
  'make the same change on the failover partner (partner.api); ours is kept only if it takes it';

const at = (o: ReservationOptions, rest = '') =>
  `/api/v1/scopes/${encodeURIComponent(o.scope)}/reservations${rest}`;

function fieldsOf(o: ReservationOptions): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (o.mac !== undefined) b.hardwareAddress = o.mac;
  if (o.clientId !== undefined) b.clientId = o.clientId;
  if (o.hostname !== undefined) b.hostname = o.hostname;
  if (o.description !== undefined) b.description = o.description;
  return b;
}

function withClientOptions(c: Command): Command {
  return c
    .option('--mac <mac>', 'the client hardware address')
    .option('--client-id <hex>', 'the client identifier (option 61), type byte first: 01:02:00:00:00:00:01')
    .option('--hostname <name>', 'host name sent to the client (option 12)')
    .option('--description <text>', 'free text');
}

async function report(json: boolean, r: unknown, done: string, o: ReservationOptions): Promise<void> {
  if (r !== null && isPreview(r)) return printPreview(json, r as WritePreview);
  if (json) return printJson(r ?? { done });
  print(`${done}${o.replicate ? ' here and on the failover partner' : ''}; the server reloaded.`);
}

export function registerReservation(program: Command): void {
  const reservation = program.command('reservation').description("a scope's reservations (fixed addresses)");
  const base = (c: Command) =>
    addWriteFlags(
      c
        .requiredOption('--scope <id>', 'scope id')
        .requiredOption('--ip <address>', 'the reserved address')
        .option('--replicate', REPLICATE_HELP),
    );
  base(
    withClientOptions(
      reservation
        .command('add')
        .description('reserve an address for a client (Add-DhcpServerv4Reservation; POST …/reservations)'),
    ),
  ).action(
    action(async ({ client, json }, o: ReservationOptions) => {
      const body = { address: o.ip, ...fieldsOf(o) };
      if (o.mac === undefined && o.clientId === undefined)
        throw new CliError('give --mac or --client-id (or both)');
      const r = await client.post(withWriteFlags(at(o), o, { replicate: o.replicate === true }), body);
      await report(json, r, `Reservation of ${o.ip} added to scope "${o.scope}"`, o);
    }),
  );
  base(
    withClientOptions(
      reservation
        .command('set')
        .description('change a reservation (Set-DhcpServerv4Reservation; PATCH …/reservations/{ip})'),
    ),
  ).action(
    action(async ({ client, json }, o: ReservationOptions) => {
      const patch = fieldsOf(o);
      if (Object.keys(patch).length === 0)
        throw new CliError('nothing to change: give --mac, --client-id, --hostname or --description');
      const r = await client.patch(
        withWriteFlags(at(o, `/${encodeURIComponent(o.ip)}`), o, { replicate: o.replicate === true }),
        patch,
      );
      await report(json, r, `Reservation of ${o.ip} in scope "${o.scope}" changed`, o);
    }),
  );
  base(
    reservation
      .command('remove')
      .description('remove a reservation (Remove-DhcpServerv4Reservation; DELETE …/reservations/{ip})'),
  ).action(
    action(async ({ client, json }, o: ReservationOptions) => {
      const r = await client.delete(
        withWriteFlags(at(o, `/${encodeURIComponent(o.ip)}`), o, { replicate: o.replicate === true }),
      );
      await report(json, r, `Reservation of ${o.ip} removed from scope "${o.scope}"`, o);
    }),
  );
}
