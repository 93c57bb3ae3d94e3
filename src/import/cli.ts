// `twinlease import dhcpd --conf dhcpd.conf [--leases dhcpd.leases] [--out config.json]
// [--lease-db path] [--strict] [--accept-untranslated]` (and the global --json)
// Exit codes: 0 written (warnings are printed), 2 not written (errors; with --strict, warnings
// too), 1 an I/O failure while writing. Findings go to stderr, the config to --out or stdout.

import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type ImportPlan, planImport, writeLeaseStore } from './dhcpd-import.js';
import { formatFinding } from './source.js';
import { runTwinleaseImport, type TwinleaseImportFlags } from './twinlease-import.js';

interface ImportFlags {
  conf: string;
  leases?: string;
  out?: string;
  leaseDb?: string;
  strict?: boolean;
  acceptUntranslated?: boolean;
  json?: boolean;
}

export const IMPORT_EXIT = { ok: 0, ioFailure: 1, notWritten: 2 } as const;

function report(plan: ImportPlan, flags: ImportFlags, write: (s: string) => void): void {
  if (flags.json === true) {
    write(`${JSON.stringify({ ok: plan.ok, summary: plan.summary, findings: plan.findings })}\n`);
    return;
  }
  for (const f of plan.findings) write(`${formatFinding(f)}\n`);
  const count = (s: string) => plan.findings.filter((f) => f.severity === s).length;
  const s = plan.summary;
  const states = Object.entries(s.leasesByState)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  write(
    `twinlease import: ${count('error')} errors, ${count('warning')} warnings, ${count('note')} notes; ` +
      `${s.scopes} scopes, ${s.reservations} reservations, ${s.relationships} failover relationships` +
      (flags.leases !== undefined
        ? `; ${s.leasesImported} leases (${states || 'none'}) from ${s.leaseDeclarations} declarations, ${s.leasesSkipped} skipped`
        : '') +
      '\n',
  );
}

/** Runs the import; returns the exit code. Exported for tests. */
export async function runDhcpdImport(
  flags: ImportFlags,
  io: { stdout: (s: string) => void; stderr: (s: string) => void; now?: number } = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  },
): Promise<number> {
  if (flags.leaseDb !== undefined && flags.leases === undefined) {
    io.stderr('twinlease import: --lease-db needs --leases (the dhcpd.leases file to import)\n');
    return IMPORT_EXIT.notWritten;
  }
  const leaseDbPath = flags.leaseDb === undefined ? undefined : resolve(flags.leaseDb);
  if (leaseDbPath !== undefined && existsSync(leaseDbPath)) {
    io.stderr(`twinlease import: ${leaseDbPath} exists; the import creates a new lease store only\n`);
    return IMPORT_EXIT.notWritten;
  }
  const plan = planImport({
    confPath: flags.conf,
    ...(flags.leases === undefined ? {} : { leasesPath: flags.leases }),
    ...(leaseDbPath === undefined ? {} : { leaseDbPath }),
    isStrict: flags.strict === true,
    acceptUntranslated: flags.acceptUntranslated === true,
    now: io.now ?? Math.floor(Date.now() / 1000),
  });
  report(plan, flags, io.stderr);
  if (!plan.ok || plan.configText === null) {
    io.stderr(
      `twinlease import: nothing written${flags.strict === true && !plan.findings.some((f) => f.severity === 'error') ? ' (--strict: warnings count as errors)' : ''}\n`,
    );
    return IMPORT_EXIT.notWritten;
  }
  try {
    if (leaseDbPath !== undefined) await writeLeaseStore(leaseDbPath, plan.leases, plan.failoverState);
    if (flags.out !== undefined) {
      // Write then rename, so a half-written config never sits at --out.
      const tmp = `${flags.out}.tmp-${process.pid}`;
      writeFileSync(tmp, plan.configText);
      renameSync(tmp, flags.out);
    } else io.stdout(plan.configText);
  } catch (e) {
    io.stderr(`twinlease import: ${(e as Error).message}\n`);
    return IMPORT_EXIT.ioFailure;
  }
  if (flags.out !== undefined) io.stderr(`twinlease import: wrote ${flags.out}\n`);
  if (leaseDbPath !== undefined)
    io.stderr(`twinlease import: wrote ${leaseDbPath} (${plan.leases.count} leases)\n`);
  return IMPORT_EXIT.ok;
}

/** Adds `import dhcpd` to the CLI. */
export function registerImportCommand(program: Command): void {
  const imp = program
    .command('import')
    .description('translate another DHCP server’s configuration and leases');
  imp
    .command('dhcpd')
    .description(
      'ISC dhcpd: dhcpd.conf (+ dhcpd.leases) → Twinlease config (+ lease store); see docs/migrate-from-isc-dhcp.md',
    )
    .requiredOption('--conf <file>', 'dhcpd.conf to translate (includes are followed)')
    .option('--leases <file>', 'dhcpd.leases to import (needs --lease-db to be written)')
    .option('--out <file>', 'write the config here (default: stdout)')
    .option('--lease-db <path>', 'create this Twinlease lease store (SQLite) from --leases; must not exist')
    .option('--strict', 'treat warnings (ignored or approximate statements) as errors')
    .option(
      '--accept-untranslated',
      'write even when statements that change service cannot be translated (listed as warnings)',
    )
    // --json is the CLI's global option (docs/cli.md): here it prints the findings as JSON.
    .action(async (_flags: ImportFlags, command: Command) => {
      process.exitCode = await runDhcpdImport(command.optsWithGlobals<ImportFlags>());
    });
  imp
    .command('twinlease')
    .description(
      'a Twinlease export (twinlease export; Import-DhcpServer) into a stopped server: the config to --out, the leases into the lease store',
    )
    .requiredOption('--file <file>', 'the export document (JSON)')
    .option('--out <file>', 'write the configuration here (default: not written)')
    .option(
      '--config <file>',
      "the stopped server's own config: place the leases by its scopes and store (default: the export's)",
    )
    .option(
      '--lease-db <path>',
      "the lease store to write (default: the config's leaseStore.path); an existing one takes leases on free addresses only, and its server must be stopped",
    )
    .action(async (_flags: TwinleaseImportFlags, command: Command) => {
      process.exitCode = await runTwinleaseImport(command.optsWithGlobals<TwinleaseImportFlags>(), {
        stdout: (s) => process.stdout.write(s),
        stderr: (s) => process.stderr.write(s),
      });
    });
}
