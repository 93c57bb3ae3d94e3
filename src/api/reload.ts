// The reload action behind POST /api/v1/config/reload: check the file with the loader (errors
// with their JSON paths), then let the server apply it exactly as SIGHUP does.

import type { ConfigError } from '../config/errors.js';
import { reloadConfig } from '../config/loader.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { ReloadOutcome } from './deps.js';

export function makeReloader(
  configPath: string,
  current: () => ResolvedConfig,
  apply: () => boolean,
  checkAgainstState: (next: ResolvedConfig) => ConfigError[] = () => [],
): (dryRun: boolean) => ReloadOutcome {
  return (dryRun) => {
    const checked = reloadConfig(configPath, current());
    if (!checked.ok) return { ok: false, errors: checked.errors };
    // A dry run answers what a reload would: also a reservation on an address leased to another client.
    const refused = checkAgainstState(checked.config);
    if (refused.length > 0) return { ok: false, errors: refused };
    if (dryRun) return { ok: true, changes: checked.changes, isApplied: false };
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
    return { ok: true, changes: checked.changes, isApplied: true };
  };
}
