// The reload action behind POST /api/v1/config/reload: check the file with the loader (errors
// with their JSON paths), then let the server apply it exactly as SIGHUP does. A reload takes the
// file as the truth (as dhcpd and Kea do): it is not refused for the active leases it leaves
// outside every scope, but they are listed (and the server logs them, config.orphaned-lease).

import type { ConfigError } from '../config/errors.js';
import { reloadConfig } from '../config/loader.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { ReloadOutcome } from './deps.js';
import type { OrphanedLeases } from './orphaned-leases.js';

const NONE: OrphanedLeases = { count: 0, items: [] };

export function makeReloader(
  configPath: string,
  current: () => ResolvedConfig,
  apply: () => boolean,
  checkAgainstState: (next: ResolvedConfig) => ConfigError[] = () => [],
  /** Active leases of the running server that `next` leaves outside every scope. */
  orphansOf: (next: ResolvedConfig) => OrphanedLeases = () => NONE,
): (dryRun: boolean) => ReloadOutcome {
  return (dryRun) => {
    const checked = reloadConfig(configPath, current());
    if (!checked.ok) return { ok: false, errors: checked.errors };
    // A dry run answers what a reload would: also a reservation on an address leased to another client.
    const refused = checkAgainstState(checked.config);
    if (refused.length > 0) return { ok: false, errors: refused };
    // Before applying: afterwards the running scopes are the new ones.
    const orphanedLeases = orphansOf(checked.config);
    if (dryRun) return { ok: true, changes: checked.changes, isApplied: false, orphanedLeases };
    if (!apply()) {
      return {
        ok: false,
        errors: [
          {
            file: configPath,
            path: '',
            readablePath: '',
            message: 'the server could not apply the new config (see its log: config.reload-rejected)',
          },
        ],
      };
    }
    return { ok: true, changes: checked.changes, isApplied: true, orphanedLeases };
  };
}
