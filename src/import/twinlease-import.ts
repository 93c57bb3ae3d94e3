// `twinlease import twinlease --file EXPORT.json [--out CONFIG] [--lease-db DB]`: a Twinlease export
// (src/import/export-document.ts; Import-DhcpServer) into a stopped server: the configuration to
// --out, the leases into the lease store — a new one, or an existing one whose server is stopped
// (its lock file is taken while writing), where only addresses that are free take a lease.
// Exit codes as `import dhcpd`: 0 written, 2 not written (a document or config that does not
// load), 1 an I/O failure while writing.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatConfigErrors, loadConfigFile, parseConfigText } from '../config/loader.js';
import type { Lease } from '../dhcp/lease.js';
import { ScopeView } from '../dhcp/scope.js';
import { acquireLockFile } from '../leases/lock-file.js';
import { openSqliteLeaseStore } from '../leases/sqlite-store.js';
import { CHECKPOINT_META_KEY, Timeline } from '../server/clock.js';
import { IMPORT_EXIT } from './cli.js';
import { checkExportDocument, leaseFromExport, shiftLeaseTimes } from './export-document.js';
import { isAddressFree, placeLease, type SkipReason } from './lease-placement.js';

export interface TwinleaseImportFlags {
  file: string;
  out?: string;
  /** The stopped server's own config: leases are placed by it (default: the export's). */
  config?: string;
  leaseDb?: string;
  json?: boolean;
}

export interface ImportSummary {
  leases: number;
  imported: number;
  skipped: Record<SkipReason, number>;
  config: string | null;
  leaseStore: string | null;
}

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export async function runTwinleaseImport(flags: TwinleaseImportFlags, io: Io): Promise<number> {
  const fail = (message: string) => {
    io.stderr(`twinlease import: ${message}\n`);
    return IMPORT_EXIT.notWritten;
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(flags.file, 'utf8'));
  } catch (err) {
    return fail(`${flags.file}: ${(err as Error).message}`);
  }
  const checked = checkExportDocument(parsed);
  if (!checked.ok) return fail(`${flags.file} is not a Twinlease export: ${checked.message}`);
  const configText = `${JSON.stringify(checked.document.config, null, 2)}\n`;
  const loaded = parseConfigText(configText, flags.out ?? `${flags.file}#/config`);
  if (!loaded.ok) {
    io.stderr(`${formatConfigErrors(loaded.errors)}\n`);
    return fail('the configuration in the export does not load; nothing written');
  }
  const summary: ImportSummary = {
    leases: checked.leases.length,
    imported: 0,
    skipped: { invalid: 0, 'outside-scopes': 0, 'address-in-use': 0, 'state-not-imported': 0 },
    config: flags.out === undefined ? null : resolve(flags.out),
    leaseStore: null,
  };
  // Leases go where the server that will run them puts scopes: its own config when given.
  const target = flags.config === undefined ? loaded : loadConfigFile(flags.config);
  if (!target.ok) {
    io.stderr(`${formatConfigErrors(target.errors)}\n`);
    return fail(`${flags.config} does not load; nothing written`);
  }
  const views = target.config.scopes.map((s) => new ScopeView(s));
  const leases: Lease[] = [];
  for (const [i, value] of checked.leases.entries()) {
    const r = leaseFromExport(value, i);
    if (!r.ok) {
      summary.skipped.invalid++;
      if (summary.skipped.invalid <= 10) io.stderr(`twinlease import: skipped ${r.message}\n`);
      continue;
    }
    const placed = placeLease(r.lease, views);
    if (placed === null) {
      summary.skipped['outside-scopes']++;
      continue;
    }
    // The partner (if any) is told every imported binding again.
    leases.push({ ...placed, isPartnerUpToDate: false });
  }

  try {
    if (flags.out !== undefined) {
      const tmp = `${flags.out}.tmp-${process.pid}`;
      writeFileSync(tmp, configText, { mode: 0o600 });
      renameSync(tmp, flags.out);
    }
    if (leases.length > 0 || flags.leaseDb !== undefined) {
      const path = resolve(flags.leaseDb ?? target.config.leaseStore.path);
      summary.leaseStore = path;
      summary.imported = await writeIntoStore(
        path,
        leases,
        checked.document.timeBase === 'wall',
        (reason) => summary.skipped[reason]++,
      );
    }
  } catch (err) {
    io.stderr(`twinlease import: ${(err as Error).message}\n`);
    return IMPORT_EXIT.ioFailure;
  }
  if (flags.json === true) io.stdout(`${JSON.stringify(summary)}\n`);
  else {
    const s = summary.skipped;
    io.stderr(
      `twinlease import: ${summary.config === null ? 'config not written (no --out)' : `wrote ${summary.config}`}; ` +
        `${summary.imported} of ${summary.leases} leases into ${summary.leaseStore ?? '(no lease store)'}; skipped: ` +
        `${s['outside-scopes']} outside every scope, ${s['address-in-use']} on addresses in use, ${s.invalid} invalid\n`,
    );
  }
  return IMPORT_EXIT.ok;
}

/**
 * Writes `leases` into the store at `path` (created when absent), each onto a free address only;
 * returns how many went in. The store's lock file is held throughout: a running server refuses.
 */
async function writeIntoStore(
  path: string,
  leases: readonly Lease[],
  isWallTime: boolean,
  skip: (r: SkipReason) => void,
): Promise<number> {
  const lock = acquireLockFile(path);
  try {
    const store = openSqliteLeaseStore(path);
    try {
      // The store's times are on the timeline its server resumes from the checkpoint: wall clock +
      // (timeline − wall at the checkpoint), the wall clock itself for a store without one.
      const checkpoint = Timeline.parseCheckpoint(store.getMeta(CHECKPOINT_META_KEY));
      const toTimeline =
        isWallTime && checkpoint !== null ? Math.round((checkpoint.localMs - checkpoint.wallMs) / 1000) : 0;
      const existing = new Map(store.loadAll().map((l) => [l.address, l] as const));
      const accepted: Lease[] = [];
      for (const wall of leases) {
        const l = shiftLeaseTimes(wall, toTimeline);
        if (!isAddressFree(existing.get(l.address), false)) {
          skip('address-in-use');
          continue;
        }
        existing.set(l.address, l);
        accepted.push(l);
      }
      const batch = 10_000;
      for (let i = 0; i < accepted.length; i += batch) await store.commit(accepted.slice(i, i + batch));
      return accepted.length;
    } finally {
      await store.close();
    }
  } finally {
    lock.release();
  }
}
