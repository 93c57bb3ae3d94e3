// `twinlease import dhcpd`: dhcpd.conf (+ dhcpd.leases) → a Twinlease config checked by the real
// loader, and lease records + failover state for a new SQLite lease store. planImport() reads
// and decides (nothing is written); writeLeaseStore() writes a store only when the plan is clean.
// The leases file is streamed (it can hold millions of leases): the plan keeps the latest
// declaration of each address in a compact table and hands out Lease records one at a time.

import { existsSync } from 'node:fs';
import { parseConfigText, type ResolvedConfig } from '../config/loader.js';
import type { Config } from '../config/schema.js';
import { type BindingState, INFINITE_EXPIRY, type Lease, NO_DNS_FLAGS } from '../dhcp/lease.js';
import { metaKeyOf, type PersistedRelationship } from '../failover/endpoint.js';
import { writeNewLeaseStore } from '../leases/sqlite-store.js';
import { SERVER_STATE_NAMES, ServerState } from '../wire/failover-message.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { translateDhcpdConf } from './dhcpd-conf.js';
import { type DhcpdBindingState, TIME_FIELD } from './dhcpd-lease-table.js';
import {
  type DhcpdFailoverState,
  type DhcpdLease,
  type DhcpdLeaseTable,
  type LeasesFile,
  MIN_LEASE_BYTES,
  NEVER,
  readLeasesChunks,
} from './dhcpd-leases.js';
import { DhcpdSyntaxError, type Finding, type SourcePos } from './source.js';
import { fileSystemReader, parseFileWithIncludes, type SourceReader } from './syntax.js';

export interface ImportOptions {
  confPath: string;
  leasesPath?: string;
  /** Written as leaseStore.path in the generated config. */
  leaseDbPath?: string;
  /** Warnings count as errors. */
  isStrict?: boolean;
  /** Statements that change service when dropped are warnings instead of errors. */
  acceptUntranslated?: boolean;
  /** Seconds since 1970 (leases without a binding state are judged against it). */
  now: number;
  /** server.name default for the loader check. */
  hostname?: string;
  reader?: SourceReader;
}

export interface ImportSummary {
  scopes: number;
  reservations: number;
  relationships: number;
  leaseDeclarations: number;
  leasesImported: number;
  leasesByState: Record<string, number>;
  leasesSkipped: number;
}

export interface ImportPlan {
  /** True when nothing blocks writing (no error; with isStrict, no warning either). */
  ok: boolean;
  findings: Finding[];
  config: Config | null;
  /** The config as written (JSON, 2-space indent). */
  configText: string | null;
  resolved: ResolvedConfig | null;
  /** The leases to write, made one at a time from the compact table (never all held at once). */
  leases: ImportedLeases;
  /** Store meta `failover:<name>` → record. */
  failoverState: Map<string, PersistedRelationship>;
  summary: ImportSummary;
}

const STATE_BY_NAME = new Map<string, ServerState>(
  Object.entries(SERVER_STATE_NAMES).map(([n, name]) => [name, Number(n) as ServerState]),
);

function finding(
  severity: Finding['severity'],
  pos: SourcePos | null,
  statement: string,
  reason: string,
): Finding {
  return { severity, pos, statement, reason };
}

function syntaxFinding(e: unknown): Finding {
  if (e instanceof DhcpdSyntaxError) return finding('error', e.pos, '', e.reason);
  throw e;
}

/** The longest JSON pointer prefix with a known source position. */
function originOf(pointer: string, origins: ReadonlyMap<string, SourcePos>): SourcePos | null {
  let p = pointer;
  for (;;) {
    const pos = origins.get(p);
    if (pos !== undefined) return pos;
    const cut = p.lastIndexOf('/');
    if (cut < 0) return null;
    p = p.slice(0, cut);
  }
}

function emptySummary(): ImportSummary {
  return {
    scopes: 0,
    reservations: 0,
    relationships: 0,
    leaseDeclarations: 0,
    leasesImported: 0,
    leasesByState: {},
    leasesSkipped: 0,
  };
}

export function planImport(options: ImportOptions): ImportPlan {
  const reader = options.reader ?? fileSystemReader;
  const findings: Finding[] = [];
  const summary = emptySummary();
  const fail = (): ImportPlan => ({
    ok: false,
    findings: sortFindings(findings),
    config: null,
    configText: null,
    resolved: null,
    leases: ImportedLeases.EMPTY,
    failoverState: new Map(),
    summary,
  });

  // 1. The leases file first: a secondary's MCLT is only there.
  let leasesFile: LeasesFile | null = null;
  if (options.leasesPath !== undefined) {
    try {
      const path = options.leasesPath;
      const expected = Math.floor((reader.byteLength?.(path) ?? 0) / MIN_LEASE_BYTES);
      leasesFile = readLeasesChunks(reader.chunks?.(path) ?? [reader.read(path)], path, expected);
      findings.push(...leasesFile.findings);
      summary.leaseDeclarations = leasesFile.declarations;
    } catch (e) {
      if (e instanceof DhcpdSyntaxError) findings.push(syntaxFinding(e));
      else findings.push(finding('error', null, '', `cannot read ${options.leasesPath}: ${ioReason(e)}`));
    }
  }

  // 2. dhcpd.conf → Config.
  let statements: ReturnType<typeof parseFileWithIncludes>;
  try {
    statements = parseFileWithIncludes(options.confPath, reader);
  } catch (e) {
    findings.push(syntaxFinding(e));
    return fail();
  }
  const mcltFromLeases = new Map<string, number>();
  for (const s of leasesFile?.failover.values() ?? [])
    if (s.mclt !== undefined) mcltFromLeases.set(s.name, s.mclt);
  const translation = translateDhcpdConf(statements, {
    acceptUntranslated: options.acceptUntranslated === true,
    mcltFromLeases,
    ...(options.leaseDbPath === undefined ? {} : { leaseStorePath: options.leaseDbPath }),
  });
  findings.push(...translation.findings);
  const config = translation.config;
  const configText = `${JSON.stringify(config, null, 2)}\n`;
  summary.scopes = config.scopes.length;
  summary.reservations = config.scopes.reduce((n, s) => n + (s.reservations?.length ?? 0), 0);
  summary.relationships = config.failover?.length ?? 0;
  if (findings.some((f) => f.severity === 'error')) return { ...fail(), config, configText };

  // 3. The real loader: what `twinlease serve` would say about the generated file.
  const loaded = parseConfigText(configText, '<generated>', { hostname: options.hostname ?? 'twinlease' });
  if (!loaded.ok) {
    for (const e of loaded.errors) {
      findings.push(
        finding(
          'error',
          originOf(e.path, translation.origins),
          e.readablePath,
          `the generated configuration is rejected by the loader: ${e.readablePath === '' ? '' : `${e.readablePath}: `}${e.message}`,
        ),
      );
    }
    return { ...fail(), config, configText };
  }
  const resolved = loaded.config;

  // 4. Leases → Twinlease lease records and failover state.
  let leases = ImportedLeases.EMPTY;
  const failoverState = new Map<string, PersistedRelationship>();
  if (leasesFile !== null) {
    leases = mapLeases(leasesFile, resolved, options.now, findings, summary);
    for (const r of resolved.failover) {
      const record = leasesFile.failover.get(r.name);
      const persisted = record
        ? mapFailoverState(record, r.role, r.mcltSeconds, leases, r.scopeIds, options.now, findings)
        : null;
      if (persisted === null) {
        findings.push(
          finding(
            'note',
            null,
            '',
            `no failover state for "${r.name}" in ${options.leasesPath}: Twinlease starts that relationship in RECOVER (it asks the partner for every binding and waits MCLT)`,
          ),
        );
      } else failoverState.set(metaKeyOf(r.name), persisted);
    }
    for (const name of leasesFile.failover.keys()) {
      if (!resolved.failover.some((r) => r.name === name)) {
        findings.push(
          finding(
            'warning',
            leasesFile.failover.get(name)!.pos,
            `failover peer "${name}" state`,
            'ignored: no such relationship in the configuration',
          ),
        );
      }
    }
  }

  const sorted = sortFindings(findings);
  const hasErrors = sorted.some((f) => f.severity === 'error');
  const hasWarnings = sorted.some((f) => f.severity === 'warning');
  return {
    ok: !hasErrors && !(options.isStrict === true && hasWarnings),
    findings: sorted,
    config,
    configText,
    resolved,
    leases,
    failoverState,
    summary,
  };
}

function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

function sortFindings(findings: Finding[]): Finding[] {
  const rank = { error: 0, warning: 1, note: 2 } as const;
  return findings
    .map((f, i) => ({ f, i }))
    .sort(
      (a, b) =>
        rank[a.f.severity] - rank[b.f.severity] ||
        (a.f.pos?.file ?? '\uffff').localeCompare(b.f.pos?.file ?? '\uffff') ||
        (a.f.pos?.line ?? 0) - (b.f.pos?.line ?? 0) ||
        (a.f.pos?.column ?? 0) - (b.f.pos?.column ?? 0) ||
        a.i - b.i,
    )
    .map(({ f }) => f);
}

// ---------------------------------------------------------------------------------------------
// Leases

/**
 * Which scope holds an address in the generated config: the scope whose ranges or reservations
 * contain it; 'subnet' when a scope's subnet does but no range or reservation; else null. Subnets
 * and ranges never overlap (the loader rejects that), so each lookup is a binary search, not a walk
 * over every scope for each of a million leases.
 */
class ScopeLookup {
  /** Ranges of every scope, by start: [start, end, scope index]. */
  private readonly ranges: [number, number, number][] = [];
  private readonly subnets: [number, number, number][] = [];
  private readonly reservations = new Map<number, number>();

  constructor(readonly scopes: ResolvedConfig['scopes']) {
    scopes.forEach((s, i) => {
      for (const r of s.ranges) this.ranges.push([r.start, r.end, i]);
      for (const r of s.reservations)
        if (!this.reservations.has(r.address)) this.reservations.set(r.address, i);
      this.subnets.push([s.subnet.network, (s.subnet.network | ~s.subnet.mask) >>> 0, i]);
    });
    this.ranges.sort((a, b) => a[0] - b[0]);
    this.subnets.sort((a, b) => a[0] - b[0]);
  }

  /** The scope index, -1 for "in a scope subnet only", -2 for "in no scope". */
  find(address: number): number {
    const inRange = containing(this.ranges, address);
    const reserved = this.reservations.get(address) ?? -1;
    if (inRange >= 0 || reserved >= 0) {
      // The first scope in the config order, as a walk over the scopes would find.
      return inRange < 0 ? reserved : reserved < 0 ? inRange : Math.min(inRange, reserved);
    }
    return containing(this.subnets, address) >= 0 ? -1 : -2;
  }
}

/** The third element of the interval in `sorted` (by start, not overlapping) holding `v`, or -1. */
function containing(sorted: readonly [number, number, number][], v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const [start, end, value] = sorted[mid]!;
    if (v < start) hi = mid - 1;
    else if (v > end) lo = mid + 1;
    else return value;
  }
  return -1;
}

/** The Twinlease state of a dhcpd binding state (reserved and bootp are active bindings with a
 * flag); without one (dhcpd 2.x files), a lease that has not ended is active. */
function importedState(
  bindingState: DhcpdBindingState | undefined,
  ends: number | undefined,
  now: number,
): BindingState {
  switch (bindingState) {
    case undefined:
      return ends !== undefined && ends > now ? 'active' : 'free';
    case 'reserved':
    case 'bootp':
      return 'active';
    default:
      return bindingState;
  }
}

/** The latest of a lease's cltt and stateStartedAt, as toLease() sets them. */
function latestTimeOf(starts: number | undefined, cltt: number | undefined, now: number): number {
  return Math.max(cltt ?? 0, starts ?? cltt ?? now);
}

/**
 * One dhcpd lease → one Twinlease binding. The failover times follow dhcpd's meaning
 * (includes/dhcpd.h, server/failover.c):
 *   tstp  = potential expiry we sent the partner          → sentPotentialExpiresAt
 *   atsfp = potential expiry the partner acknowledged (BNDACK) or sent (BNDUPD); zeroed by every
 *           local change until the partner acknowledges it → ackedPotentialExpiresAt
 *   tsfp  = dhcpd's "effective" partner time, the base of its MCLT bound (it can be lowered to
 *           tstp, or raised to stos+MCLT in PARTNER-DOWN) → receivedPotentialExpiresAt
 * Twinlease bounds a grant by max(acked, received) + MCLT, which is dhcpd's tsfp + MCLT.
 *   isPartnerUpToDate = tstp ≤ atsfp, dhcpd's own test for "must be sent again" (tstp > atsfp).
 */
export function toLease(
  d: DhcpdLease,
  scopeId: string,
  now: number,
  address: number = parseIpv4(d.address),
): { lease: Lease; isStateInferred: boolean } {
  const state = importedState(d.bindingState, d.ends, now);
  const isReserved = d.isReserved || d.bindingState === 'reserved';
  const isBootp = d.isBootp || d.bindingState === 'bootp';
  const isStateInferred = d.bindingState === undefined;
  const tstp = d.tstp ?? 0;
  const atsfp = d.atsfp ?? 0;
  const lease: Lease = {
    address,
    scopeId,
    state,
    hardwareType: d.hardwareAddress !== undefined ? (d.hardwareType ?? 1) : 0,
    hardwareAddress: d.hardwareAddress ?? '',
    clientId: d.uid !== undefined && d.uid.length > 0 ? d.uid : null,
    hostname: d.clientHostname ?? null,
    clientType: isBootp ? 'bootp' : 'dhcp',
    isReserved,
    leaseExpiresAt: d.ends === NEVER ? INFINITE_EXPIRY : (d.ends ?? 0),
    stateStartedAt: d.starts ?? d.cltt ?? now,
    clientLastTransactionAt: d.cltt ?? 0,
    // dhcpd does not record which server granted a binding.
    ownerServer: null,
    policyName: null,
    sentPotentialExpiresAt: tstp,
    ackedPotentialExpiresAt: atsfp,
    receivedPotentialExpiresAt: d.tsfp ?? 0,
    lastBindingUpdateAt: 0,
    isPartnerUpToDate: tstp <= atsfp,
    fqdn: d.ddnsForwardName ?? null,
    dhcidMode: 'none',
    dns: { ...NO_DNS_FLAGS },
  };
  return { lease, isStateInferred };
}

/**
 * The leases of a plan: the table read from dhcpd.leases plus, per slot, the scope it goes to (or
 * none) and whether its state was changed on the way. Iterating makes each Lease record when it is
 * needed, in address order (the store's key order, so its B-tree is written front to back).
 */
export class ImportedLeases implements Iterable<Lease> {
  static readonly EMPTY = new ImportedLeases(null, [], new Int32Array(0), new Uint8Array(0), 0, 0, new Map());

  constructor(
    private readonly table: DhcpdLeaseTable | null,
    private readonly scopeIds: readonly string[],
    /** Per slot: index into scopeIds, or -1 when the lease is not imported. */
    private readonly scopeOf: Int32Array,
    /** Per slot: 1 when a backup lease goes in as free (its scope has no failover). */
    private readonly isBackupFreed: Uint8Array,
    /** Leases imported. */
    readonly count: number,
    private readonly now: number,
    /** Per scope id: the latest clientLastTransactionAt or stateStartedAt of its leases. */
    private readonly latestTimeByScope: ReadonlyMap<string, number>,
  ) {}

  /** The latest time a lease of scope `scopeId` was written (cltt or starts), or 0. */
  latestTimeIn(scopeId: string): number {
    return this.latestTimeByScope.get(scopeId) ?? 0;
  }

  *[Symbol.iterator](): Iterator<Lease> {
    if (this.table === null) return;
    for (const slot of this.table.slotsByAddress()) {
      const scope = this.scopeOf[slot]!;
      if (scope < 0) continue;
      const { lease } = toLease(
        this.table.get(slot),
        this.scopeIds[scope]!,
        this.now,
        this.table.addressAt(slot),
      );
      if (this.isBackupFreed[slot] === 1) lease.state = 'free';
      yield lease;
    }
  }
}

function mapLeases(
  file: LeasesFile,
  resolved: ResolvedConfig,
  now: number,
  findings: Finding[],
  summary: ImportSummary,
): ImportedLeases {
  const table = file.leases;
  const lookup = new ScopeLookup(resolved.scopes);
  const scopeOf = new Int32Array(table.size);
  const isBackupFreed = new Uint8Array(table.size);
  let imported = 0;
  const latestTimeByScope = new Map<string, number>();
  // The note about leases without a binding state names the first of them in the file.
  let inferred = -1;
  let inferredCount = 0;
  for (const slot of table.slots()) {
    const address = table.addressAt(slot);
    const found = lookup.find(address);
    if (found < 0) {
      scopeOf[slot] = -1;
      summary.leasesSkipped++;
      const d = table.get(slot);
      findings.push(
        finding(
          'warning',
          d.pos,
          `lease ${d.address}`,
          found === -2
            ? 'not imported: no scope holds this address (dhcpd drops such leases too)'
            : 'not imported: the address is in a scope subnet but in no range or reservation',
        ),
      );
      continue;
    }
    scopeOf[slot] = found;
    const scope = resolved.scopes[found]!;
    // The state and three times are all this pass needs: read from the table's columns, with no
    // declaration or Lease object per slot (as toLease() would make them: importedState(),
    // latestTimeOf()); the golden import test holds the two to the same result.
    const bindingState = table.bindingStateAt(slot);
    let state = importedState(bindingState, table.timeAt(slot, TIME_FIELD.ends), now);
    if (bindingState === undefined) {
      inferredCount++;
      if (inferred < 0 || table.lineAt(slot) < table.lineAt(inferred)) inferred = slot;
    }
    if (state === 'backup' && scope.failoverRelationship === null) {
      const d = table.get(slot, false);
      findings.push(
        finding(
          'warning',
          d.pos,
          `lease ${d.address}`,
          'imported as free: backup state in a scope without failover',
        ),
      );
      state = 'free';
      isBackupFreed[slot] = 1;
    }
    imported++;
    summary.leasesByState[state] = (summary.leasesByState[state] ?? 0) + 1;
    const latest = latestTimeOf(
      table.timeAt(slot, TIME_FIELD.starts),
      table.timeAt(slot, TIME_FIELD.cltt),
      now,
    );
    if (latest > (latestTimeByScope.get(scope.id) ?? 0)) latestTimeByScope.set(scope.id, latest);
  }
  if (inferred >= 0) {
    const d = table.get(inferred);
    findings.push(
      finding(
        'note',
        d.pos,
        `lease ${d.address}`,
        `no binding state (${inferredCount} leases): active when ends is in the future, else free (as dhcpd reads old files)`,
      ),
    );
  }
  summary.leasesImported = imported;
  return new ImportedLeases(
    table,
    resolved.scopes.map((s) => s.id),
    scopeOf,
    isBackupFreed,
    imported,
    now,
    latestTimeByScope,
  );
}

function mapFailoverState(
  record: DhcpdFailoverState,
  role: 'primary' | 'secondary',
  configuredMclt: number,
  leases: ImportedLeases,
  scopeIds: readonly string[],
  now: number,
  findings: Finding[],
): PersistedRelationship | null {
  const statement = `failover peer "${record.name}" state`;
  if (record.myState === undefined) {
    findings.push(finding('warning', record.pos, statement, 'ignored: no "my state" line'));
    return null;
  }
  let state = STATE_BY_NAME.get(record.myState);
  if (state === undefined) {
    if (record.myState !== 'unknown-state') {
      findings.push(finding('error', record.pos, statement, `'${record.myState}' is not a failover state`));
      return null;
    }
    state = ServerState.RECOVER;
    findings.push(
      finding('note', record.pos, statement, 'my state unknown-state: Twinlease starts in RECOVER'),
    );
  }
  let partnerState: ServerState | null = null;
  if (record.partnerState !== undefined && record.partnerState !== 'unknown-state') {
    const p = STATE_BY_NAME.get(record.partnerState);
    if (p === undefined) {
      findings.push(
        finding('error', record.pos, statement, `'${record.partnerState}' is not a failover state`),
      );
      return null;
    }
    partnerState = p;
  }
  // No "at": dhcpd takes the time it reads the file.
  const stateStartedAt = record.myStateAt ?? now;
  // The last time dhcpd is known to have run as a failover server: the latest time it wrote for
  // this relationship. A lower bound (safe: if the partner went PARTNER-DOWN after it, we RECOVER).
  let lastOperationalAt = record.myStateAt ?? 0;
  for (const id of scopeIds) lastOperationalAt = Math.max(lastOperationalAt, leases.latestTimeIn(id));
  lastOperationalAt = Math.min(lastOperationalAt, now);
  const mcltSeconds = role === 'secondary' ? (record.mclt ?? configuredMclt) : configuredMclt;
  return {
    state,
    stateStartedAt,
    partnerState,
    partnerStateStartedAt: partnerState === null ? null : (record.partnerStateAt ?? null),
    mcltSeconds,
    lastOperationalAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Creates a new lease store at `path` with the plan's leases and failover state. */
export async function writeLeaseStore(
  path: string,
  leases: Iterable<Lease>,
  failoverState: ReadonlyMap<string, PersistedRelationship>,
): Promise<void> {
  if (existsSync(path)) {
    throw new Error(`${path} exists; the import writes a new lease store only (move the old one away first)`);
  }
  const meta = [...failoverState].map(([key, value]) => [key, JSON.stringify(value)] as const);
  writeNewLeaseStore(path, leases, meta);
}
