// Synthetic lease data at ISP size for bench/scale.sh and the import tests: one /8 scope
// (10.0.0.0/8) with one range of 2,031,616 addresses (10.1.0.0–10.31.255.255) and N active
// leases, one per client, spread evenly over the range (so free addresses sit between bound ones,
// as in a pool that has turned over). The same leases are written in three formats: ISC
// dhcpd.leases (what `twinlease import dhcpd` reads), Kea 2.2 memfile CSV, and the dhcpd.conf
// that declares the scope.
//
//   node --import tsx bench/lib/scale-data.ts --out DIR [--leases N] [--now SECONDS]
//
// Everything is a pure function of (index, now): two runs with the same arguments write the same
// bytes. Generation streams, so 1M leases (~260 MB of dhcpd.leases) need little memory.

import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const SCALE_SUBNET = { network: '10.0.0.0', mask: '255.0.0.0', prefixLength: 8 } as const;
export const SCALE_RANGE = { start: '10.1.0.0', end: '10.31.255.255' } as const;
const RANGE_START = (10 << 24) + (1 << 16);
const RANGE_END = (10 << 24) + (31 << 16) + 0xffff;
export const SCALE_RANGE_SIZE = RANGE_END - RANGE_START + 1;
/** Lease length written into the files; every lease ends 12–24 h after `now`. */
export const SCALE_LEASE_SECONDS = 86_400;

export interface ScaleLease {
  address: string;
  /** Six bytes, lower-case hex with colons. */
  mac: string;
  starts: number;
  ends: number;
  hostname: string;
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/** Lease `i` of `count`, at `now` (seconds since 1970). */
export function scaleLease(i: number, count: number, now: number): ScaleLease {
  if (count > SCALE_RANGE_SIZE) throw new Error(`at most ${SCALE_RANGE_SIZE} leases fit the range`);
  const address = RANGE_START + Math.floor((i * SCALE_RANGE_SIZE) / count);
  // Locally administered unicast MACs 02:00:xx:xx:xx:xx, one per client.
  const mac = `02:00:${hex2((i >>> 24) & 255)}:${hex2((i >>> 16) & 255)}:${hex2((i >>> 8) & 255)}:${hex2(i & 255)}`;
  // Granted between 12 h and 1 s ago (a deterministic spread), for SCALE_LEASE_SECONDS.
  const age = 1 + ((i * 7919) % 43_200);
  const starts = now - age;
  return { address: ipv4(address), mac, starts, ends: starts + SCALE_LEASE_SECONDS, hostname: `client-${i}` };
}

const dateCache = new Map<number, string>();

/** dhcpd's date format: weekday, then UTC date and time. */
export function dhcpdDate(seconds: number): string {
  const cached = dateCache.get(seconds);
  if (cached !== undefined) return cached;
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const text = `${d.getUTCDay()} ${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  // A run writes at most 2 × 43,200 distinct times (starts and ends over 12 hours).
  if (dateCache.size < 200_000) dateCache.set(seconds, text);
  return text;
}

/** How dhcpd writes one byte inside a quoted string: printable as is, else a 3-digit octal escape. */
const QUOTED_BYTE = Array.from({ length: 256 }, (_, b) =>
  b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c
    ? String.fromCharCode(b)
    : `\\${b.toString(8).padStart(3, '0')}`,
);

/** The client identifier dhcpd writes for an Ethernet client: type 1 then the MAC, octal-escaped. */
function dhcpdUid(mac: string): string {
  let text = QUOTED_BYTE[1]!;
  for (let i = 0; i < mac.length; i += 3) text += QUOTED_BYTE[Number.parseInt(mac.slice(i, i + 2), 16)];
  return text;
}

/** One `lease` declaration as dhcpd 4.4 writes it for an active binding without failover. */
export function dhcpdLeaseText(l: ScaleLease): string {
  return (
    `lease ${l.address} {\n` +
    `  starts ${dhcpdDate(l.starts)};\n` +
    `  ends ${dhcpdDate(l.ends)};\n` +
    `  cltt ${dhcpdDate(l.starts)};\n` +
    '  binding state active;\n' +
    '  next binding state free;\n' +
    '  rewind binding state free;\n' +
    `  hardware ethernet ${l.mac};\n` +
    `  uid "${dhcpdUid(l.mac)}";\n` +
    `  client-hostname "${l.hostname}";\n` +
    '}\n'
  );
}

export const DHCPD_LEASES_HEADER =
  '# The format of this file is documented in the dhcpd.leases(5) manual page.\n' +
  '# This lease file was written by isc-dhcp-4.4.3-P1\n\n' +
  '# authoring-byte-order entry is generated, DO NOT DELETE\n' +
  'authoring-byte-order little-endian;\n\n';

/** Line of lease `i`'s `lease` statement in dhcpdLeasesChunks() output (each lease takes 11 lines). */
export const dhcpdLeaseLine = (i: number): number => 7 + 11 * i;

/**
 * The dhcpd.leases text in pieces of about `chunkChars` characters (header first). `edit` may
 * change a lease's text (tests put errors in the middle of a big file with it).
 */
export function* dhcpdLeasesChunks(
  count: number,
  now: number,
  options: { chunkChars?: number; edit?: (i: number, text: string) => string } = {},
): Generator<string> {
  const chunkChars = options.chunkChars ?? 1 << 20;
  let chunk = DHCPD_LEASES_HEADER;
  for (let i = 0; i < count; i++) {
    const text = dhcpdLeaseText(scaleLease(i, count, now));
    chunk += options.edit === undefined ? text : options.edit(i, text);
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

export function dhcpdConfText(): string {
  return (
    '# bench/lib/scale-data.ts: one /8 scope, one range of 2,031,616 addresses\n' +
    'authoritative;\n' +
    `default-lease-time ${SCALE_LEASE_SECONDS};\n` +
    `max-lease-time ${SCALE_LEASE_SECONDS};\n` +
    `subnet ${SCALE_SUBNET.network} netmask ${SCALE_SUBNET.mask} {\n` +
    `  range ${SCALE_RANGE.start} ${SCALE_RANGE.end};\n` +
    '}\n'
  );
}

export const KEA_CSV_HEADER =
  'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n';

/** One Kea 2.2 memfile lease4 row (state 0 = assigned); `expire` = cltt + valid lifetime. */
export function keaCsvRow(l: ScaleLease, subnetId: number): string {
  return `${l.address},${l.mac},01:${l.mac},${SCALE_LEASE_SECONDS},${l.ends},${subnetId},0,0,${l.hostname},0,\n`;
}

function writeStreamed(path: string, chunks: Iterable<string>): number {
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    for (const c of chunks) bytes += writeSync(fd, c);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

function* keaCsvChunks(count: number, now: number, subnetId: number): Generator<string> {
  let chunk = KEA_CSV_HEADER;
  for (let i = 0; i < count; i++) {
    chunk += keaCsvRow(scaleLease(i, count, now), subnetId);
    if (chunk.length >= 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      leases: { type: 'string', default: '1000000' },
      now: { type: 'string' },
      'kea-subnet-id': { type: 'string', default: '1' },
    },
  });
  if (values.out === undefined) throw new Error('--out DIR is required');
  const count = Number(values.leases);
  const now = values.now === undefined ? Math.floor(Date.now() / 1000) : Number(values.now);
  if (!Number.isInteger(count) || count < 0) throw new Error(`--leases: '${values.leases}' is not a count`);
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'dhcpd.conf'), dhcpdConfText());
  const leaseBytes = writeStreamed(join(values.out, 'dhcpd.leases'), dhcpdLeasesChunks(count, now));
  const csvBytes = writeStreamed(
    join(values.out, 'kea-leases4.csv'),
    keaCsvChunks(count, now, Number(values['kea-subnet-id'])),
  );
  process.stdout.write(
    `${JSON.stringify({ leases: count, now, dhcpd_leases_bytes: leaseBytes, kea_csv_bytes: csvBytes })}\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
