// dhcpd.leases (dhcpd.leases(5), ISC DHCP 4.x) → lease records and failover states. The file is a
// log: a later `lease` declaration for the same address replaces the earlier one, as dhcpd reads
// it, and so does a later `failover peer "N" state { … }`. Statements the import does not carry
// over are counted per kind with the place of the first one (a lease file repeats them by the
// thousand); unknown statements are errors.

import { LeaseBlockScanner } from './dhcpd-lease-scanner.js';
import {
  DHCPD_BINDING_STATES,
  type DhcpdBindingState,
  type DhcpdLease,
  DhcpdLeaseTable,
} from './dhcpd-lease-table.js';
import { calendarSeconds, digitsValue, dottedQuadValue, NEVER } from './dhcpd-lease-values.js';
import { hexText } from './dhcpd-options.js';
import { DhcpdSyntaxError, type Finding, type SourcePos } from './source.js';
import { describeHead, parseChunks, type Statement } from './syntax.js';
import type { Token } from './tokenizer.js';

export {
  DHCPD_BINDING_STATES,
  type DhcpdBindingState,
  type DhcpdLease,
  DhcpdLeaseTable,
  dottedQuadValue,
  NEVER,
};

export interface DhcpdFailoverState {
  readonly name: string;
  readonly pos: SourcePos;
  myState?: string;
  myStateAt?: number;
  partnerState?: string;
  partnerStateAt?: number;
  /** Written by a secondary: the MCLT its primary sent. */
  mclt?: number;
}

export interface LeasesFile {
  /** The last declaration of each address. */
  leases: DhcpdLeaseTable;
  /** Lease declarations read (before later ones replaced earlier ones). */
  declarations: number;
  failover: Map<string, DhcpdFailoverState>;
  findings: Finding[];
}

const HARDWARE_TYPES: Record<string, number> = { ethernet: 1, 'token-ring': 6, fddi: 8, infiniband: 32 };

/** "W YYYY/MM/DD HH:MM:SS" (UTC), "epoch N" or "never" → seconds since 1970; null if malformed.
 * The date is args[from…]. */
export function parseLeaseDate(args: readonly Token[], from = 0): number | null {
  // Hand-parsed rather than by regular expressions: a lease has three to six dates, a million
  // leases millions of them.
  const count = args.length - from;
  if (count === 1) return args[from]!.text === 'never' ? NEVER : null;
  if (count === 2) {
    const n =
      args[from]!.text === 'epoch'
        ? digitsValue(args[from + 1]!.text, 0, args[from + 1]!.text.length, 1, 10)
        : -1;
    return n >= 0 && n <= NEVER ? n : null;
  }
  if (count !== 3) return null;
  const weekday = args[from]!.text;
  if (weekday.length !== 1 || weekday < '0' || weekday > '6') return null;
  const date = args[from + 1]!.text;
  const time = args[from + 2]!.text;
  const seconds = calendarSeconds(date, 0, date.length, time, 0, time.length);
  return seconds < 0 ? null : seconds;
}

const BINDING_STATE_NAMES: ReadonlySet<string> = new Set(DHCPD_BINDING_STATES);

/** A MAC as dhcpd writes it: 1–16 octets of 1–2 hex digits, colon-separated. */
const HARDWARE_ADDRESS = /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){0,15}$/;

/** The usual form: every octet with two digits, so only the colons go. */
const TWO_DIGIT_OCTETS = /^[0-9a-f]{2}(:[0-9a-f]{2})*$/;

const lower = (t: Token | undefined): string | undefined => t?.text.toLowerCase();

class LeaseReader {
  readonly findings: Finding[] = [];
  private readonly aggregated = new Map<string, { first: Finding; count: number }>();
  readonly leases: DhcpdLeaseTable;
  readonly failover = new Map<string, DhcpdFailoverState>();
  declarations = 0;

  constructor(file: string, expectedLeases: number) {
    this.leases = new DhcpdLeaseTable(file, expectedLeases);
  }

  private error(s: Statement, reason: string, pos?: SourcePos): void {
    this.findings.push({
      severity: 'error',
      pos: pos ?? s.pos,
      statement: detached(describeHead(s.head)),
      reason: detached(reason),
    });
  }

  /** One finding per kind, with the first place and the number of times it occurred. */
  private ignored(kind: string, s: Statement, reason: string): void {
    const seen = this.aggregated.get(kind);
    if (seen) {
      seen.count++;
      return;
    }
    const first: Finding = {
      severity: 'warning',
      pos: s.pos,
      statement: detached(describeHead(s.head)),
      reason: detached(`ignored: ${reason}`),
    };
    this.aggregated.set(detached(kind), { first, count: 1 });
  }

  finish(): Finding[] {
    for (const { first, count } of this.aggregated.values()) {
      this.findings.push(
        count === 1 ? first : { ...first, reason: `${first.reason} (${count} times; the first is shown)` },
      );
    }
    return this.findings.sort(
      (a, b) =>
        (a.pos?.file ?? '').localeCompare(b.pos?.file ?? '') ||
        (a.pos?.line ?? 0) - (b.pos?.line ?? 0) ||
        (a.pos?.column ?? 0) - (b.pos?.column ?? 0),
    );
  }

  top(s: Statement): void {
    const k = s.head[0]!.text.toLowerCase();
    if (s.head[0]!.kind !== 'word') {
      this.error(s, 'a statement cannot start here');
      return;
    }
    switch (k) {
      case 'lease':
        this.lease(s);
        return;
      case 'failover':
        this.failoverState(s);
        return;
      case 'authoring-byte-order':
        // Byte order matters to dhcpd's binary hashes only; the text we read is the same.
        return;
      case 'server-duid':
        // DHCPv6 only: dhcpd 4.4 writes it into every lease file, v4 included.
        this.findings.push({
          severity: 'note',
          pos: s.pos,
          statement: detached(describeHead(s.head)),
          reason: 'server-duid is for DHCPv6; not needed',
        });
        return;
      case 'lease-id-format':
        return;
      case 'host':
      case 'group':
      case 'subgroup':
        this.ignored(
          k,
          s,
          `${k} declarations made through OMAPI are not imported; add them to dhcpd.conf and import again`,
        );
        return;
      case 'class':
      case 'subclass':
        this.ignored(k, s, 'billing classes are not imported');
        return;
      case 'ia-na':
      case 'ia_na':
      case 'ia-ta':
      case 'ia_ta':
      case 'ia-pd':
      case 'ia_pd':
        this.ignored('ia', s, 'DHCPv6 leases are not imported');
        return;
    }
    this.error(s, `unknown statement '${s.head[0]!.text}' in a leases file`);
  }

  private lease(s: Statement): void {
    const address = s.head[1];
    if (s.block === null || s.head.length !== 2 || address === undefined) {
      this.error(s, 'expected: lease ADDRESS { … }');
      return;
    }
    const value = address.kind === 'word' ? dottedQuadValue(address.text) : -1;
    if (value < 0) {
      this.error(s, `'${address.text}' is not an IPv4 address`, address.pos);
      return;
    }
    const lease: DhcpdLease = { address: address.text, pos: s.pos, isReserved: false, isBootp: false };
    let hasError = false;
    for (const st of s.block) {
      if (!this.leaseStatement(st, lease)) hasError = true;
    }
    if (hasError) this.declarations++;
    else this.put(lease, value);
  }

  /** A lease declaration read without error (`address`: lease.address as a number). */
  put(lease: DhcpdLease, address: number): void {
    this.declarations++;
    // dhcpd keeps the last declaration.
    this.leases.put(lease, address);
  }

  /** Returns false after reporting an error. */
  private leaseStatement(s: Statement, lease: DhcpdLease): boolean {
    const head = s.head;
    const k = head[0]!.text.toLowerCase();
    if (s.block !== null) {
      if (k === 'on') {
        this.ignored('on', s, 'event statements on leases are not imported');
        return true;
      }
      this.error(s, `unexpected block after '${describeHead(head)}' in a lease`);
      return false;
    }
    switch (k) {
      case 'starts':
      case 'ends':
      case 'tstp':
      case 'tsfp':
      case 'atsfp':
      case 'cltt': {
        const v = parseLeaseDate(head, 1);
        if (v === null) {
          this.error(s, `'${k}' needs a date: W YYYY/MM/DD HH:MM:SS, epoch N, or never`);
          return false;
        }
        lease[k] = v;
        return true;
      }
      case 'binding':
        if (lower(head[1]) === 'state') return this.bindingState(s, lease, 'bindingState', 2);
        break;
      case 'next':
        if (lower(head[1]) === 'binding' && lower(head[2]) === 'state')
          return this.bindingState(s, lease, 'nextBindingState', 3);
        break;
      case 'rewind':
        if (lower(head[1]) === 'binding' && lower(head[2]) === 'state')
          return this.bindingState(s, lease, 'rewindBindingState', 3);
        break;
      case 'hardware': {
        const kind = lower(head[1]) ?? '';
        const type =
          HARDWARE_TYPES[kind] ?? (/^unknown-(\d+)$/.test(kind) ? Number(kind.slice(8)) : undefined);
        const addr = lower(head[2]) ?? '';
        if (type === undefined || type > 255 || head.length !== 3 || !HARDWARE_ADDRESS.test(addr)) {
          this.error(s, 'expected: hardware ethernet|token-ring|fddi|infiniband XX:XX:…;');
          return false;
        }
        lease.hardwareType = type;
        // Every octet with two digits (the usual form): only the colons go.
        lease.hardwareAddress = TWO_DIGIT_OCTETS.test(addr)
          ? addr.replaceAll(':', '')
          : addr
              .split(':')
              .map((h) => h.padStart(2, '0'))
              .join('');
        return true;
      }
      case 'uid': {
        const bytes = readUid(head.slice(1));
        if (bytes === null) {
          this.error(s, 'uid takes colon-separated hex or a quoted string');
          return false;
        }
        lease.uid = hexText(bytes);
        return true;
      }
      case 'client-hostname': {
        const t = head[1];
        if (head.length !== 2 || t?.kind !== 'string') {
          this.error(s, 'client-hostname takes a quoted string');
          return false;
        }
        lease.clientHostname = t.text;
        return true;
      }
      case 'reserved':
        lease.isReserved = true;
        return true;
      case 'dynamic-bootp':
      case 'bootp':
        lease.isBootp = true;
        return true;
      case 'set': {
        // set NAME = VALUE;
        const name = head[1]?.text ?? '';
        const value = head[3];
        if (name === 'ddns-fwd-name' && value?.kind === 'string' && head.length === 4) {
          lease.ddnsForwardName = value.text;
          return true;
        }
        this.ignored(`set ${name}`, s, `lease variable '${name}' is not imported`);
        return true;
      }
      case 'option':
        this.ignored(
          `option ${head[1]?.text ?? ''}`,
          s,
          'relay agent options recorded on leases are not imported',
        );
        return true;
      case 'billing':
        this.ignored('billing', s, 'billing classes are not imported');
        return true;
      case 'vendor-class-identifier':
        this.ignored('vendor-class-identifier', s, 'the vendor class recorded on leases is not imported');
        return true;
      case 'ddns-text':
      case 'ddns-dhcid':
      case 'ddns-rev-name':
      case 'ddns-fwd-name':
      case 'ddns-client-fqdn':
        this.ignored(k, s, 'DNS update records are not imported');
        return true;
    }
    this.error(s, `unknown statement '${describeHead(head, 3)}' in a lease`);
    return false;
  }

  /** `… binding state NAME;` with NAME at head[at]; false after reporting an error. */
  private bindingState(
    s: Statement,
    lease: DhcpdLease,
    which: 'bindingState' | 'nextBindingState' | 'rewindBindingState',
    at: number,
  ): boolean {
    const name = lower(s.head[at]);
    if (s.head.length !== at + 1 || name === undefined || !BINDING_STATE_NAMES.has(name)) {
      this.error(s, `'${name ?? ''}' is not a binding state (${DHCPD_BINDING_STATES.join(', ')})`);
      return false;
    }
    lease[which] = name as DhcpdBindingState;
    return true;
  }

  private failoverState(s: Statement): void {
    const [, peer, name, state] = s.head;
    if (
      peer?.text !== 'peer' ||
      name?.kind !== 'string' ||
      state?.text !== 'state' ||
      s.head.length !== 4 ||
      s.block === null
    ) {
      this.error(s, 'expected: failover peer "NAME" state { … }');
      return;
    }
    const record: DhcpdFailoverState = { name: detached(name.text), pos: s.pos };
    for (const st of s.block) {
      const w = st.head.map((t) => t.text.toLowerCase());
      const isMine = w[0] === 'my';
      const isPartner = w[0] === 'partner' || w[0] === 'peer';
      if ((isMine || isPartner) && w[1] === 'state' && w.length >= 3 && st.block === null) {
        let at: number | undefined;
        if (w.length > 3) {
          const date = w[3] === 'at' ? parseLeaseDate(st.head, 4) : null;
          if (date === null) {
            this.error(st, 'expected: my|partner state STATE [at DATE];');
            return;
          }
          at = date;
        }
        if (isMine) {
          record.myState = detached(w[2]!);
          record.myStateAt = at;
        } else {
          record.partnerState = detached(w[2]!);
          record.partnerStateAt = at;
        }
        continue;
      }
      if (w[0] === 'mclt' && w.length === 2 && /^\d+$/.test(w[1]!) && st.block === null) {
        record.mclt = Number(w[1]);
        continue;
      }
      this.error(st, `unknown failover state statement '${describeHead(st.head)}'`);
      return;
    }
    this.failover.set(record.name, record);
  }
}

/** uid: colon-separated hex (1–2 digits per octet) or a quoted string with octal escapes. */
function readUid(args: readonly Token[]): Uint8Array | null {
  if (args.length !== 1) return null;
  const t = args[0]!;
  if (t.kind === 'string') return t.bytes ?? null;
  if (t.kind === 'word' && /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*$/.test(t.text))
    return Uint8Array.from(t.text.split(':').map((h) => Number.parseInt(h, 16)));
  return null;
}

/**
 * A copy of `s` that shares no memory with it. Token texts are slices of the chunk they were read
 * from; a finding kept to the end of the import must not hold a whole chunk of the file alive.
 */
function detached(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** Bound on the room made for leases ahead of reading them (4M slots: ~400 MB of address space,
 * committed only as it is filled). */
const MAX_EXPECTED_LEASES = 4 * 1024 * 1024;

/** Bytes of the smallest usual lease declaration (dhcpd writes starts, ends, cltt, three binding
 * states and a hardware address: ~200 bytes): a file's size over this is the room made ahead. */
export const MIN_LEASE_BYTES = 200;

/**
 * Reads a dhcpd.leases given in pieces (of any size, cut anywhere), keeping only the latest
 * declaration of each address. `expectedLeases` sizes the table ahead (it grows past it), so a
 * million leases are not copied into larger arrays 30 times over. Syntax errors (braces, strings) throw DhcpdSyntaxError; statement
 * problems come back as findings.
 */
export function readLeasesChunks(chunks: Iterable<string>, file: string, expectedLeases = 0): LeasesFile {
  const reader = new LeaseReader(file, Math.min(expectedLeases, MAX_EXPECTED_LEASES));
  const scanner = new LeaseBlockScanner(file);
  parseChunks(chunks, file, (s) => reader.top(s), {
    read: (text, start, line, column) => {
      // The usual lease declaration, read without tokens; anything else goes to reader.top().
      const end = scanner.scan(text, start, line, column);
      if (end >= 0) reader.put(scanner.lease!, scanner.address);
      return end;
    },
    get newlines() {
      return scanner.newlines;
    },
    get lastLineStart() {
      return scanner.lastLineStart;
    },
  });
  return {
    leases: reader.leases,
    declarations: reader.declarations,
    failover: reader.failover,
    findings: reader.finish(),
  };
}

/** Reads a dhcpd.leases text (readLeasesChunks with one piece). */
export function readLeasesFile(text: string, file: string): LeasesFile {
  return readLeasesChunks([text], file);
}

export { DhcpdSyntaxError };
