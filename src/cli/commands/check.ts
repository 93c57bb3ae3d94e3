// `twinlease check --config FILE [--leases DB]`: checks a config file without starting a server,
// as `dhcpd -t` and `kea-dhcp4 -t` do. The loader's own checks (JSON syntax, the schema, the
// semantic rules: exactly what a start or SIGHUP runs), each finding as `file:line:column: path:
// message`. With --leases, also what the config says about those leases: a reservation on an
// address leased to another client (a reload adding it is refused) and active leases the config
// leaves outside every scope (their clients are NAKed at renewal). Exit status 0: no finding;
// 2: findings. Offline: the store is read, never written, and may belong to a running server.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LOADER_LIMITS } from '../../config/defaults.js';
import { type ConfigError, formatConfigError, readablePath } from '../../config/errors.js';
import { parseJsonWithPositions } from '../../config/json-source.js';
import { loadConfigFile } from '../../config/loader.js';
import { INFINITE_EXPIRY, type Lease } from '../../dhcp/lease.js';
import { ScopeView } from '../../dhcp/scope.js';
import { isCountedAddress } from '../../dhcp/statistics.js';
import { readLeaseStoreFile } from '../../leases/sqlite-store.js';
import { checkReservations, leaseClientText } from '../../server/reservation-check.js';
import { formatIpv4, type Ipv4 } from '../../wire/ipv4.js';

export const CHECK_EXIT = { valid: 0, invalid: 2 } as const;

export interface CheckFlags {
  config: string;
  leases?: string;
  json?: boolean;
}

export interface CheckReport {
  ok: boolean;
  config: string;
  leaseStore: string | null;
  /** Lease records read from --leases (null without it). */
  leases: number | null;
  findings: ConfigError[];
}

/** Active at `now` (not yet run out). */
function isHeld(lease: Lease, now: number): boolean {
  return lease.state === 'active' && (lease.leaseExpiresAt === INFINITE_EXPIRY || lease.leaseExpiresAt > now);
}

/** Adds line and column to errors that name a place in the file but were found without the text. */
function locate(file: string, errors: ConfigError[]): ConfigError[] {
  if (errors.every((e) => e.line !== undefined || e.path === '')) return errors;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return errors;
  }
  const parsed = parseJsonWithPositions(text, LOADER_LIMITS.maxJsonDepth);
  if (!parsed.ok) return errors;
  return errors.map((e) => {
    if (e.line !== undefined || e.file !== file || e.path === '') return e;
    const p = parsed.source.positionOf(e.path);
    return p === undefined ? e : { ...e, line: p.line, column: p.column };
  });
}

/** Checks the file (and the leases); pure apart from reading the two files. */
export function checkConfig(flags: CheckFlags, now: number): CheckReport {
  const file = resolve(flags.config);
  const leaseStore = flags.leases === undefined ? null : resolve(flags.leases);
  const loaded = loadConfigFile(file);
  if (!loaded.ok) return { ok: false, config: file, leaseStore, leases: null, findings: loaded.errors };
  if (leaseStore === null) return { ok: true, config: file, leaseStore, leases: null, findings: [] };

  let leases: Lease[];
  try {
    leases = readLeaseStoreFile(leaseStore);
  } catch (err) {
    const finding: ConfigError = {
      file: leaseStore,
      path: '',
      readablePath: '',
      message: (err as Error).message,
    };
    return { ok: false, config: file, leaseStore, leases: null, findings: [finding] };
  }
  const config = loaded.config;
  const byAddress = new Map<Ipv4, Lease>(leases.map((l) => [l.address, l]));
  // Every conflict is a new one here: there is no running config to compare with.
  const findings = [...checkReservations(config, config, (a) => byAddress.get(a), now).running].map(
    (c): ConfigError => {
      const pointer = `/scopes/${c.scopeIndex}/reservations/${c.reservationIndex}/address`;
      return {
        file,
        path: pointer,
        readablePath: readablePath(pointer),
        message: `${formatIpv4(c.reservation.address)} is leased to another client in ${leaseStore}: ${leaseClientText(c.lease)}; the reservation would not take effect before that lease ends, and a reload that adds it is refused`,
      };
    },
  );
  const views = config.scopes.map((s) => new ScopeView(s));
  const orphans = leases
    .filter((l) => isHeld(l, now) && !views.some((v) => isCountedAddress(v, l.address)))
    .sort((a, b) => a.address - b.address);
  for (const l of orphans) {
    findings.push({
      file: leaseStore,
      path: '',
      readablePath: '',
      message: `${formatIpv4(l.address)} (scope "${l.scopeId}", ${leaseClientText(l)}) is an active lease outside every scope of ${file}: its client would be refused at renewal`,
    });
  }
  return {
    ok: findings.length === 0,
    config: file,
    leaseStore,
    leases: leases.length,
    findings: locate(file, findings),
  };
}

export function runCheck(
  flags: CheckFlags,
  io: { stdout: (s: string) => void; stderr: (s: string) => void; now?: number },
): number {
  const report = checkConfig(flags, io.now ?? Math.floor(Date.now() / 1000));
  if (flags.json === true) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const f of report.findings) io.stderr(`${formatConfigError(f)}\n`);
    const leases =
      report.leases === null ? '' : ` against ${report.leases} lease records of ${report.leaseStore}`;
    io.stdout(
      report.ok
        ? `${report.config}: the configuration is valid${leases}\n`
        : `${report.config}: ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}${leases}\n`,
    );
  }
  return report.ok ? CHECK_EXIT.valid : CHECK_EXIT.invalid;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check a config file without starting a server (like dhcpd -t); exit 0 valid, 2 findings')
    .requiredOption('-c, --config <file>', 'the JSON configuration file to check')
    .option('--leases <db>', 'also check it against this lease store (read only; may be in use)')
    .action((_flags: CheckFlags, command: Command) => {
      process.exitCode = runCheck(command.optsWithGlobals<CheckFlags>(), {
        stdout: (s) => process.stdout.write(s),
        stderr: (s) => process.stderr.write(s),
      });
    });
}
