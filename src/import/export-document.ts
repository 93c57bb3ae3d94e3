// One JSON document holding a server's configuration and its leases, as Export-DhcpServer writes
// one file and Import-DhcpServer reads it back (docs/api.md §Export and import):
//
//   { "format": "twinlease-export", "version": 1, "exportedAt": "…Z", "serverName": "…",
//     "twinleaseVersion": "…", "config": { …the config file's JSON… },
//     "leases": [ { "address": "10.0.0.10", "scopeId": "lab", "state": "active", … }, … ] }
//
// A lease is the stored record (src/dhcp/lease.ts) field for field, the address dotted: nothing is
// lost in a round trip. Its times are wall-clock seconds (`"timeBase": "wall"`): a server keeps
// them on its timeline (docs/safety.md), which is the wall clock offset by any step since it
// started, so the export adds the exporting server's offset and an import subtracts its own. A
// document without `timeBase` (written before it existed) is read as it is. The failover state (the meta records) is not carried: a server importing
// leases starts its relationships in RECOVER and takes everything from its partner (D12 §9.6).
// Written as a stream (a million leases do not become one string), read whole.

import { type BindingState, type DhcidMode, emptyLease, INFINITE_EXPIRY, type Lease } from '../dhcp/lease.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4.js';

export const EXPORT_FORMAT = 'twinlease-export';
export const EXPORT_VERSION = 1;

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportedAt: string;
  serverName: string;
  twinleaseVersion: string;
  /** "wall": the lease times are wall-clock seconds; absent (older documents): as the store kept them. */
  timeBase?: 'wall';
}

export type ExportedLease = Omit<Lease, 'address'> & { address: string };

export interface ExportDocument extends ExportHeader {
  config: Record<string, unknown>;
  /** Absent when exported without leases. */
  leases?: ExportedLease[];
}

/** The lease fields that are times (seconds since 1970; 0: never; INFINITE_EXPIRY: no end). */
const LEASE_TIME_FIELDS = [
  'leaseExpiresAt',
  'stateStartedAt',
  'clientLastTransactionAt',
  'sentPotentialExpiresAt',
  'ackedPotentialExpiresAt',
  'receivedPotentialExpiresAt',
  'lastBindingUpdateAt',
] as const;

/** `lease` with every time moved by `deltaSeconds` (never and no-end stay as they are). */
export function shiftLeaseTimes<L extends Pick<Lease, (typeof LEASE_TIME_FIELDS)[number]>>(
  lease: L,
  deltaSeconds: number,
): L {
  if (deltaSeconds === 0) return lease;
  const out = { ...lease };
  for (const k of LEASE_TIME_FIELDS) {
    const t = out[k];
    if (t > 0 && t !== INFINITE_EXPIRY) out[k] = Math.max(1, t + deltaSeconds);
  }
  return out;
}

/** A record for the document: the address dotted, times moved to the wall clock by `wallOffsetSeconds`. */
export function exportedLease(l: Lease, wallOffsetSeconds = 0): ExportedLease {
  return shiftLeaseTimes({ ...l, address: formatIpv4(l.address), dns: { ...l.dns } }, wallOffsetSeconds);
}

/** Leases per chunk of the stream. */
const CHUNK_LEASES = 1000;

/**
 * The document as text chunks, in order: a consumer that waits for each (a stream with
 * back-pressure) never holds more than one chunk. `leases` is iterated once, lazily; pass a
 * snapshot (lease objects are immutable, so an array of the live ones is a consistent copy).
 */
export function* exportChunks(
  header: ExportHeader,
  config: unknown,
  leases: Iterable<Lease> | null,
  wallOffsetSeconds = 0,
): Generator<string> {
  const head = JSON.stringify(header);
  yield `${head.slice(0, -1)},\n"config":${JSON.stringify(config)}`;
  if (leases === null) {
    yield '}\n';
    return;
  }
  yield ',\n"leases":[';
  let batch: string[] = [];
  let isFirst = true;
  for (const l of leases) {
    batch.push(JSON.stringify(exportedLease(l, wallOffsetSeconds)));
    if (batch.length >= CHUNK_LEASES) {
      yield `${isFirst ? '\n' : ',\n'}${batch.join(',\n')}`;
      isFirst = false;
      batch = [];
    }
  }
  if (batch.length > 0) yield `${isFirst ? '\n' : ',\n'}${batch.join(',\n')}`;
  yield '\n]}\n';
}

export type ParsedExport =
  | { ok: true; document: ExportDocument; leases: unknown[] }
  | { ok: false; message: string };

/** Checks the envelope of a parsed document; the leases are checked one by one (leaseFromExport). */
export function checkExportDocument(value: unknown): ParsedExport {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'not a JSON object' };
  }
  const d = value as Record<string, unknown>;
  if (d.format !== EXPORT_FORMAT) {
    return { ok: false, message: `"format" is ${JSON.stringify(d.format)}, not "${EXPORT_FORMAT}"` };
  }
  if (d.version !== EXPORT_VERSION) {
    return {
      ok: false,
      message: `"version" ${JSON.stringify(d.version)} is not one this program reads (${EXPORT_VERSION})`,
    };
  }
  if (typeof d.config !== 'object' || d.config === null || Array.isArray(d.config)) {
    return { ok: false, message: '"config" is missing or not an object' };
  }
  if (d.timeBase !== undefined && d.timeBase !== 'wall') {
    return { ok: false, message: `"timeBase" ${JSON.stringify(d.timeBase)} is not "wall"` };
  }
  if (d.leases !== undefined && !Array.isArray(d.leases)) {
    return { ok: false, message: '"leases" is not an array' };
  }
  return { ok: true, document: d as unknown as ExportDocument, leases: (d.leases as unknown[]) ?? [] };
}

const STATES: readonly BindingState[] = [
  'free',
  'active',
  'expired',
  'released',
  'abandoned',
  'reset',
  'backup',
];
const DHCID_MODES: readonly DhcidMode[] = ['none', 'noClientId', 'clientId', 'duid'];

/** One exported lease back to a record, or why not (`leases/<index>/<field>`). */
export function leaseFromExport(
  value: unknown,
  index: number,
): { ok: true; lease: Lease } | { ok: false; message: string } {
  const at = `leases/${index}`;
  const bad = (field: string, what: string) => ({ ok: false as const, message: `${at}/${field}: ${what}` });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('', 'not an object');
  const v = value as Record<string, unknown>;
  let address: number;
  try {
    address = parseIpv4(String(v.address));
  } catch {
    return bad('address', `${JSON.stringify(v.address)} is not an IPv4 address`);
  }
  if (typeof v.scopeId !== 'string' || v.scopeId === '') return bad('scopeId', 'must be a non-empty string');
  if (!STATES.includes(v.state as BindingState))
    return bad('state', `${JSON.stringify(v.state)} is not a binding state`);
  const base = emptyLease(address, v.scopeId, v.state as BindingState, 0);
  const lease: Lease = { ...base };
  const numbers = ['hardwareType', ...LEASE_TIME_FIELDS] as const;
  for (const k of numbers) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'number' || !Number.isInteger(v[k]) || (v[k] as number) < 0) {
      return bad(k, 'must be a whole number ≥ 0');
    }
    lease[k] = v[k] as number;
  }
  const strings = ['clientId', 'hostname', 'ownerServer', 'policyName', 'fqdn'] as const;
  for (const k of strings) {
    if (v[k] === undefined) continue;
    if (v[k] !== null && typeof v[k] !== 'string') return bad(k, 'must be a string or null');
    lease[k] = v[k] as string | null;
  }
  if (v.hardwareAddress !== undefined) {
    if (typeof v.hardwareAddress !== 'string' || !/^([0-9a-f]{2})*$/.test(v.hardwareAddress)) {
      return bad('hardwareAddress', 'must be lower-case hex without separators');
    }
    lease.hardwareAddress = v.hardwareAddress;
  }
  if (v.clientType !== undefined) {
    if (v.clientType !== 'dhcp' && v.clientType !== 'bootp')
      return bad('clientType', 'must be dhcp or bootp');
    lease.clientType = v.clientType;
  }
  for (const k of ['isReserved', 'isPartnerUpToDate'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'boolean') return bad(k, 'must be true or false');
    lease[k] = v[k] as boolean;
  }
  if (v.dhcidMode !== undefined) {
    if (!DHCID_MODES.includes(v.dhcidMode as DhcidMode)) return bad('dhcidMode', 'unknown mode');
    lease.dhcidMode = v.dhcidMode as DhcidMode;
  }
  if (v.dns !== undefined) {
    const d = v.dns as Record<string, unknown> | null;
    const keys = ['cleanupOnDelete', 'updateBothRecords', 'registrationPending', 'removalPending'] as const;
    if (typeof d !== 'object' || d === null || keys.some((k) => typeof d[k] !== 'boolean')) {
      return bad('dns', `must be { ${keys.join(', ')} } of booleans`);
    }
    lease.dns = {
      cleanupOnDelete: d.cleanupOnDelete as boolean,
      updateBothRecords: d.updateBothRecords as boolean,
      registrationPending: d.registrationPending as boolean,
      removalPending: d.removalPending as boolean,
    };
  }
  return { ok: true, lease };
}
