// dhcpd.leases (dhcpd.leases(5), ISC DHCP 4.x) → lease records and failover states. The file is a
// log: a later `lease` declaration for the same address replaces the earlier one, as dhcpd reads
// it, and so does a later `failover peer "N" state { … }`. Statements the import does not carry
// over are counted per kind with the place of the first one (a lease file repeats them by the
// thousand); unknown statements are errors.

import { isIpv4 } from '../wire/ipv4.js';
import { hexText } from './dhcpd-options.js';
import { DhcpdSyntaxError, type Finding, type SourcePos } from './source.js';
import { describeHead, parseText, type Statement } from './syntax.js';
import type { Token } from './tokenizer.js';

export const DHCPD_BINDING_STATES = [
  'free',
  'active',
  'expired',
  'released',
  'abandoned',
  'reset',
  'backup',
  'reserved',
  'bootp',
] as const;
export type DhcpdBindingState = (typeof DHCPD_BINDING_STATES)[number];

/** `never` is the largest uint32, as Twinlease stores infinite expiry. */
export const NEVER = 0xffffffff;

export interface DhcpdLease {
  readonly address: string;
  readonly pos: SourcePos;
  starts?: number;
  ends?: number;
  tstp?: number;
  tsfp?: number;
  atsfp?: number;
  cltt?: number;
  bindingState?: DhcpdBindingState;
  nextBindingState?: DhcpdBindingState;
  rewindBindingState?: DhcpdBindingState;
  hardwareType?: number;
  /** Lower-case hex, no separators. */
  hardwareAddress?: string;
  /** Client identifier, lower-case hex. */
  uid?: string;
  clientHostname?: string;
  /** `set ddns-fwd-name = "…";` */
  ddnsForwardName?: string;
  isReserved: boolean;
  isBootp: boolean;
}

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
  /** The last declaration of each address, in file order of those last declarations. */
  leases: Map<string, DhcpdLease>;
  /** Lease declarations read (before later ones replaced earlier ones). */
  declarations: number;
  failover: Map<string, DhcpdFailoverState>;
  findings: Finding[];
}

const HARDWARE_TYPES: Record<string, number> = { ethernet: 1, 'token-ring': 6, fddi: 8, infiniband: 32 };

/** "W YYYY/MM/DD HH:MM:SS" (UTC), "epoch N" or "never" → seconds since 1970; null if malformed. */
export function parseLeaseDate(args: readonly Token[]): number | null {
  const w = args.map((t) => t.text);
  if (w.length === 1 && w[0] === 'never') return NEVER;
  if (w.length === 2 && w[0] === 'epoch' && /^\d{1,10}$/.test(w[1]!)) {
    const n = Number(w[1]);
    return n <= NEVER ? n : null;
  }
  if (w.length !== 3 || !/^[0-6]$/.test(w[0]!)) return null;
  const d = /^(\d{4,5})\/(\d{1,2})\/(\d{1,2})$/.exec(w[1]!);
  const t = /^(\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(w[2]!);
  if (!d || !t) return null;
  const [year, month, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const [h, m, s] = [Number(t[1]), Number(t[2]), Number(t[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return null;
  const ms = Date.UTC(year, month - 1, day, h, m, s);
  if (new Date(ms).getUTCDate() !== day) return null;
  const seconds = ms / 1000;
  return seconds >= 0 && seconds <= NEVER ? seconds : null;
}

class LeaseReader {
  readonly findings: Finding[] = [];
  private readonly aggregated = new Map<string, { first: Finding; count: number }>();
  readonly leases = new Map<string, DhcpdLease>();
  readonly failover = new Map<string, DhcpdFailoverState>();
  declarations = 0;

  private error(s: Statement, reason: string, pos?: SourcePos): void {
    this.findings.push({ severity: 'error', pos: pos ?? s.pos, statement: describeHead(s.head), reason });
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
      statement: describeHead(s.head),
      reason: `ignored: ${reason}`,
    };
    this.aggregated.set(kind, { first, count: 1 });
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
          statement: describeHead(s.head),
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
    if (address.kind !== 'word' || !isIpv4(address.text)) {
      this.error(s, `'${address.text}' is not an IPv4 address`, address.pos);
      return;
    }
    this.declarations++;
    const lease: DhcpdLease = { address: address.text, pos: s.pos, isReserved: false, isBootp: false };
    let hasError = false;
    for (const st of s.block) {
      if (!this.leaseStatement(st, lease)) hasError = true;
    }
    if (hasError) return;
    // dhcpd keeps the last declaration; re-insert so the order follows the last one.
    this.leases.delete(lease.address);
    this.leases.set(lease.address, lease);
  }

  /** Returns false after reporting an error. */
  private leaseStatement(s: Statement, lease: DhcpdLease): boolean {
    const w = s.head.map((t) => t.text.toLowerCase());
    const k = w[0]!;
    if (s.block !== null) {
      if (k === 'on') {
        this.ignored('on', s, 'event statements on leases are not imported');
        return true;
      }
      this.error(s, `unexpected block after '${describeHead(s.head)}' in a lease`);
      return false;
    }
    const date = (key: 'starts' | 'ends' | 'tstp' | 'tsfp' | 'atsfp' | 'cltt'): boolean => {
      const v = parseLeaseDate(s.head.slice(1));
      if (v === null) {
        this.error(s, `'${k}' needs a date: W YYYY/MM/DD HH:MM:SS, epoch N, or never`);
        return false;
      }
      lease[key] = v;
      return true;
    };
    const state = (
      which: 'bindingState' | 'nextBindingState' | 'rewindBindingState',
      at: number,
    ): boolean => {
      const name = w[at];
      if (w.length !== at + 1 || !(DHCPD_BINDING_STATES as readonly string[]).includes(name ?? '')) {
        this.error(s, `'${name ?? ''}' is not a binding state (${DHCPD_BINDING_STATES.join(', ')})`);
        return false;
      }
      lease[which] = name as DhcpdBindingState;
      return true;
    };
    switch (k) {
      case 'starts':
      case 'ends':
      case 'tstp':
      case 'tsfp':
      case 'atsfp':
      case 'cltt':
        return date(k);
      case 'binding':
        if (w[1] === 'state') return state('bindingState', 2);
        break;
      case 'next':
        if (w[1] === 'binding' && w[2] === 'state') return state('nextBindingState', 3);
        break;
      case 'rewind':
        if (w[1] === 'binding' && w[2] === 'state') return state('rewindBindingState', 3);
        break;
      case 'hardware': {
        const type =
          HARDWARE_TYPES[w[1] ?? ''] ??
          (/^unknown-(\d+)$/.exec(w[1] ?? '') ? Number(w[1]!.slice(8)) : undefined);
        const addr = w[2] ?? '';
        if (
          type === undefined ||
          type > 255 ||
          w.length !== 3 ||
          !/^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){0,15}$/.test(addr)
        ) {
          this.error(s, 'expected: hardware ethernet|token-ring|fddi|infiniband XX:XX:…;');
          return false;
        }
        lease.hardwareType = type;
        lease.hardwareAddress = addr
          .split(':')
          .map((h) => h.padStart(2, '0'))
          .join('');
        return true;
      }
      case 'uid': {
        const bytes = readUid(s.head.slice(1));
        if (bytes === null) {
          this.error(s, 'uid takes colon-separated hex or a quoted string');
          return false;
        }
        lease.uid = hexText(bytes);
        return true;
      }
      case 'client-hostname': {
        const t = s.head[1];
        if (s.head.length !== 2 || t?.kind !== 'string') {
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
        const name = s.head[1]?.text ?? '';
        const value = s.head[3];
        if (name === 'ddns-fwd-name' && value?.kind === 'string' && s.head.length === 4) {
          lease.ddnsForwardName = value.text;
          return true;
        }
        this.ignored(`set ${name}`, s, `lease variable '${name}' is not imported`);
        return true;
      }
      case 'option':
        this.ignored(
          `option ${s.head[1]?.text ?? ''}`,
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
    this.error(s, `unknown statement '${describeHead(s.head, 3)}' in a lease`);
    return false;
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
    const record: DhcpdFailoverState = { name: name.text, pos: s.pos };
    for (const st of s.block) {
      const w = st.head.map((t) => t.text.toLowerCase());
      const isMine = w[0] === 'my';
      const isPartner = w[0] === 'partner' || w[0] === 'peer';
      if ((isMine || isPartner) && w[1] === 'state' && w.length >= 3 && st.block === null) {
        let at: number | undefined;
        if (w.length > 3) {
          const date = w[3] === 'at' ? parseLeaseDate(st.head.slice(4)) : null;
          if (date === null) {
            this.error(st, 'expected: my|partner state STATE [at DATE];');
            return;
          }
          at = date;
        }
        if (isMine) {
          record.myState = w[2]!;
          record.myStateAt = at;
        } else {
          record.partnerState = w[2]!;
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

/** Reads a dhcpd.leases text. Syntax errors (braces, strings) throw DhcpdSyntaxError; statement
 * problems come back as findings. */
export function readLeasesFile(text: string, file: string): LeasesFile {
  const statements = parseText(text, file);
  const reader = new LeaseReader();
  for (const s of statements) reader.top(s);
  return {
    leases: reader.leases,
    declarations: reader.declarations,
    failover: reader.failover,
    findings: reader.finish(),
  };
}

export { DhcpdSyntaxError };
