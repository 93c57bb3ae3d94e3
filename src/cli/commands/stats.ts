// `twinlease stats [--scope ID]`: address statistics per scope, with the failover split
// (Get-DhcpServerv4ScopeStatistics -Failover).

import type { Command } from 'commander';
import type { ScopeStatistics, StatisticsList } from '../api-types.js';
import { fields, print, printJson, table } from '../output.js';
import { action } from './context.js';

const HEAD = [
  'Scope',
  'Total',
  'In use',
  'Free',
  '% used',
  'Free here',
  'Free partner',
  'Used here',
  'Used partner',
  'Offers',
  'Reserved',
  'Declined',
  'Awaiting ack',
];

function row(s: ScopeStatistics, label = s.scopeId): (string | number)[] {
  return [
    label,
    s.numAddr,
    s.addrInUse,
    s.addrFree,
    s.percentageInUse,
    s.thisAddrFree,
    s.partnerAddrFree,
    s.thisAddrInUse,
    s.partnerAddrInUse,
    s.pendingOffers,
    s.reservedAddresses,
    s.addrAbandoned,
    s.addrAwaitingAck,
  ];
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('address statistics per scope, with the failover split (GET /api/v1/statistics)')
    .option('--scope <id>', 'one scope only')
    .action(
      action(async ({ client, json }, opts: { scope?: string }) => {
        if (opts.scope !== undefined) {
          const s = await client.get<ScopeStatistics>(
            `/api/v1/scopes/${encodeURIComponent(opts.scope)}/failover-statistics`,
          );
          if (json) return printJson(s);
          // One scope: a list, as Get-DhcpServerv4ScopeStatistics -Failover prints it.
          print(
            fields([
              ['Scope', s.scopeId],
              ['Role', s.role],
              ['Addresses', s.numAddr],
              ['Addresses in use', s.addrInUse],
              ['Addresses free', s.addrFree],
              ['Percentage in use', s.percentageInUse],
              ['Free on this server', s.thisAddrFree],
              ['Free on partner server', s.partnerAddrFree],
              ['In use on this server', s.thisAddrInUse],
              ['In use on partner server', s.partnerAddrInUse],
              ['Pending offers', s.pendingOffers],
              ['Reserved addresses', s.reservedAddresses],
              ['Declined (abandoned)', s.addrAbandoned],
              ['Awaiting partner ack', s.addrAwaitingAck],
            ]),
          );
          return;
        }
        const list = await client.get<StatisticsList>('/api/v1/statistics');
        if (json) return printJson(list);
        print(table(HEAD, [...list.items.map((s) => row(s)), row(list.total, 'total')]));
      }),
    );
}
