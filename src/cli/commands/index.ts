// The operator commands (docs/cli.md): they call the management API and print tables or JSON;
// `probe` talks DHCP to the servers instead.

import type { Command } from 'commander';
import { addGlobalOptions } from './context.js';
import { registerExclusion } from './exclusion.js';
import { registerExport } from './export.js';
import { registerFailover } from './failover.js';
import { registerLease } from './lease.js';
import { registerProbe } from './probe.js';
import { registerReservation } from './reservation.js';
import { registerScope } from './scope.js';
import { registerStats } from './stats.js';
import { registerStatus } from './status.js';

export function registerOperatorCommands(program: Command): void {
  addGlobalOptions(program);
  registerStatus(program);
  registerScope(program);
  registerReservation(program);
  registerExclusion(program);
  registerStats(program);
  registerLease(program);
  registerFailover(program);
  registerProbe(program);
  registerExport(program);
}
