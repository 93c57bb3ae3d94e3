// `twinlease status`: version, uptime, lease store, scopes at a glance, failover relationships.

import type { Command } from 'commander';
import type { Status } from '../api-types.js';
import { duration, fields, partnerStateText, print, printJson, table, time } from '../output.js';
import { action } from './context.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show server status (GET /api/v1/status)')
    .action(
      action(async ({ client, json }) => {
        const s = await client.get<Status>('/api/v1/status');
        if (json) return printJson(s);
        print(
          fields([
            ['Server', s.serverName],
            ['Version', s.version],
            ['Server identifier', s.serverIdentifier],
            ['Up', `${duration(s.uptimeSeconds)} (since ${time(s.startedAt)})`],
            ['Lease store', `${s.leaseStore.path} (${s.leaseStore.type}, ${s.leaseStore.leases} records)`],
            ['Access', s.access],
          ]),
        );
        print(
          table(
            ['Scope', 'Subnet', 'Role', 'Addresses', 'In use', 'Free', 'Offers', '% in use'],
            s.scopes.map((x) => [
              x.id,
              x.subnet,
              x.role,
              x.numAddr,
              x.addrInUse,
              x.addrFree,
              x.pendingOffers,
              x.percentageInUse,
            ]),
          ),
        );
        if (s.relationships.length === 0) print('Failover: no relationships');
        else
          print(
            table(
              ['Relationship', 'Role', 'Mode', 'State', 'Since', 'Partner state', 'Connection', 'Scopes'],
              s.relationships.map((r) => [
                r.name,
                r.role,
                r.mode,
                r.state,
                time(r.stateSince),
                partnerStateText(r),
                r.connection,
                r.scopeIds.join(', '),
              ]),
            ),
          );
      }),
    );
}
