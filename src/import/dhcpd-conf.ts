// dhcpd.conf (ISC DHCP 4.x, dhcpd.conf(5)) → a Twinlease configuration (src/config/schema.ts).
// The statement tree comes from syntax.ts; this walks it with dhcpd's scoping (global →
// shared-network → group → subnet → pool, and host), collects what it can translate, and lists
// everything else as a finding with its file, line and column. Nothing is guessed: a statement
// the translator does not know is an error; one it knows but cannot express is an error when
// dropping it would change which client gets which address or options (unless the operator
// accepts that), and a warning when it would not. The translation table is in
// docs/migrate-from-isc-dhcp.md.

import type { Config, FailoverRelationship, OptionData, Reservation, Scope } from '../config/schema.js';
import { countSetBuckets, hbaFromSplit } from '../failover/hash-bucket.js';
import { optionByCode, optionByName } from '../wire/dhcp-options.js';
import { formatIpv4, isIpv4, maskToPrefix, parseIpv4, prefixToMask } from '../wire/ipv4.js';
import {
  type CustomOptionDef,
  hexText,
  ISC_OPTIONS,
  ISC_SPECIAL_OPTIONS,
  readAddress,
  readHexOrString,
  translateCustomOption,
  translateIscOption,
} from './dhcpd-options.js';
import type { Finding, Severity, SourcePos } from './source.js';
import { describeHead, type Statement } from './syntax.js';
import type { Token } from './tokenizer.js';

/** dhcpd's own defaults (dhcpd.conf(5), includes/failover.h), applied when the file sets nothing. */
export const DHCPD_DEFAULTS = {
  defaultLeaseTimeSeconds: 43200,
  maxLeaseTimeSeconds: 86400,
  failoverPort: 647,
  maxResponseDelaySeconds: 20,
  maxUnackedUpdates: 100,
} as const;

export interface TranslateOptions {
  /** Statements that change service when dropped become warnings instead of errors. */
  acceptUntranslated?: boolean;
  /** MCLT per relationship name as the secondary adopted it (dhcpd.leases `mclt N;`). */
  mcltFromLeases?: ReadonlyMap<string, number>;
  /** Written as leaseStore.path. */
  leaseStorePath?: string;
}

export interface ConfTranslation {
  /** The generated configuration; present even with errors (for inspection), not to be used then. */
  config: Config;
  findings: Finding[];
  /** JSON pointer → where it came from, to place loader errors in dhcpd.conf. */
  origins: Map<string, SourcePos>;
}

// ---------------------------------------------------------------------------------------------
// Internal model

interface OptionEntry {
  code: number;
  option: OptionData;
  pos: SourcePos;
}

interface Valued<T> {
  value: T;
  pos: SourcePos;
}

interface Params {
  options: OptionEntry[];
  leaseTime?: Valued<number>;
  maxLeaseTime?: Valued<number>;
  minLeaseTime?: Valued<number>;
  authoritative?: Valued<boolean>;
  renewTime?: Valued<number>;
  rebindTime?: Valued<number>;
  declineHold?: Valued<number>;
  useHostDeclNames?: Valued<boolean>;
  /** Host-only: the client identifier and host name given as options. */
  clientId?: Valued<string>;
  hostName?: Valued<string>;
}

type LevelKind = 'global' | 'shared-network' | 'group' | 'subnet' | 'pool' | 'host' | 'class';

interface Level {
  kind: LevelKind;
  parent: Level | null;
  params: Params;
  pos: SourcePos | null;
  /** Statements at this level that are not per-level parameters (for pool merging decisions). */
  hasParams: boolean;
}

interface RangeDecl {
  start: number;
  end: number;
  isBootp: boolean;
  pos: SourcePos;
  pool: PoolDecl | null;
}

interface PoolDecl {
  level: Level;
  peer: Valued<string> | null;
  dynamicBootp: Valued<boolean> | null;
  ranges: RangeDecl[];
  pos: SourcePos;
}

interface SubnetDecl {
  network: number;
  prefixLength: number;
  mask: number;
  level: Level;
  sharedNetwork: string | null;
  ranges: RangeDecl[];
  pos: SourcePos;
}

interface HostDecl {
  name: string;
  level: Level;
  hardware: Valued<string> | null;
  addresses: Valued<string>[];
  pos: SourcePos;
}

interface PeerDecl {
  name: string;
  pos: SourcePos;
  role?: Valued<'primary' | 'secondary'>;
  address?: Valued<string>;
  port?: Valued<number>;
  peerAddress?: Valued<string>;
  peerPort?: Valued<number>;
  maxResponseDelay?: Valued<number>;
  maxUnackedUpdates?: Valued<number>;
  mclt?: Valued<number>;
  split?: Valued<number>;
  hba?: Valued<Uint8Array>;
  loadBalanceMaxSeconds?: Valued<number>;
  autoPartnerDown?: Valued<number>;
  /** An address was given as a host name (already listed as untranslated). */
  hasUnresolvedAddress?: boolean;
}

/** Known statements that have no Twinlease equivalent and do not change which client gets what. */
const IGNORABLE: Readonly<Record<string, string>> = {
  'log-facility': 'Twinlease logs JSON lines to stdout (docs/metrics.md)',
  'pid-file-name': 'Twinlease writes no pid file (run it under systemd)',
  'lease-file-name': 'the lease store is leaseStore.path (--lease-db)',
  'dhcpv6-lease-file-name': 'DHCPv6 is not served by Twinlease',
  'dhcpv6-pid-file-name': 'DHCPv6 is not served by Twinlease',
  'db-time-format': 'only affects the dhcpd lease file',
  'dont-use-fsync': 'Twinlease always commits leases durably',
  'omapi-port': 'OMAPI is replaced by the management API (docs/api.md)',
  'omapi-key': 'OMAPI is replaced by the management API (docs/api.md)',
  key: 'TSIG keys are for OMAPI/DNS updates, which are not translated',
  zone: 'DNS update zones are not translated',
  'local-port': 'set dhcp.port in the generated config if you need another port',
  'remote-port': 'set dhcp.clientPort in the generated config if you need another port',
  'local-address': 'set dhcp.listenAddress / dhcp.interface in the generated config',
  'ping-timeout': 'Twinlease does not ping an address before offering it',
  'ping-timeout-ms': 'Twinlease does not ping an address before offering it',
  'ping-cltt-secs': 'Twinlease does not ping an address before offering it',
  'one-lease-per-client': 'Twinlease keeps one binding per client and scope already',
  'lease-id-format': 'only affects the dhcpd lease file',
  'dhcp-cache-threshold': 'Twinlease does not reuse a lease without updating it',
  'log-threshold-high': 'use the scope statistics and metrics instead (docs/metrics.md)',
  'log-threshold-low': 'use the scope statistics and metrics instead (docs/metrics.md)',
  'stash-agent-options': 'relay agent options are not kept with the lease',
  'server-id-check': 'Twinlease checks the server identifier of a REQUEST itself',
  'check-secs-byte-order': 'not needed: the secs field is read in network order',
  'echo-client-id': 'Twinlease does not echo option 61',
  'get-lease-hostnames': 'Twinlease does not look host names up in DNS',
  'always-reply-rfc1048': 'Twinlease always answers with RFC 1048 options',
  'always-broadcast': 'Twinlease follows the client broadcast flag (RFC 2131 §4.1)',
  'boot-unknown-clients': 'known/unknown client rules are not translated',
  'adaptive-lease-time-threshold': 'lease times do not adapt to pool usage',
  'delayed-ack': 'Twinlease commits before each ACK (group commit), no delay knob',
  'max-ack-delay': 'Twinlease commits before each ACK (group commit), no delay knob',
  'release-on-roam': 'DHCPv6 only',
  'ignore-client-uids': 'Twinlease always identifies clients by option 61 when present',
  'persist-eui-64-leases': 'DHCPv6 only',
  'min-secs': 'Twinlease answers regardless of the secs field',
  'infinite-is-reserved': 'infinite leases are not marked reserved',
  'limit-addrs-per-ia': 'DHCPv6 only',
  'dynamic-bootp-lease-cutoff': 'BOOTP leases are infinite or bootpLeaseSeconds',
  'dynamic-bootp-lease-length': 'set bootpLeaseSeconds on the scope',
  'authoring-byte-order': 'only affects the dhcpd lease file',
  'site-option-space': 'option spaces are not translated',
  'vendor-option-space': 'option spaces are not translated',
  'use-lease-addr-for-default-route': 'set the routers option instead',
  'update-static-leases': 'DNS updates are not translated',
  'update-optimization': 'DNS updates are not translated',
  'update-conflict-detection': 'DNS updates are not translated',
  'do-forward-updates': 'DNS updates are not translated',
  'ddns-updates': 'DNS updates are not translated',
  'ddns-domainname': 'DNS updates are not translated',
  'ddns-rev-domainname': 'DNS updates are not translated',
  'ddns-hostname': 'DNS updates are not translated',
  'ddns-ttl': 'DNS updates are not translated',
  'ddns-local-address4': 'DNS updates are not translated',
  'ddns-local-address6': 'DNS updates are not translated',
  'ddns-dual-stack-mixed-mode': 'DNS updates are not translated',
  'ddns-guard-id-must-match': 'DNS updates are not translated',
  'ddns-other-guard-is-dynamic': 'DNS updates are not translated',
  'server-duid': 'DHCPv6 only',
  'server-name': 'Twinlease leaves the sname field empty (use option tftp-server-name for TFTP)',
  subnet6: 'DHCPv6 is not served by Twinlease',
  range6: 'DHCPv6 is not served by Twinlease',
  prefix6: 'DHCPv6 is not served by Twinlease',
  'fixed-address6': 'DHCPv6 is not served by Twinlease',
  'fixed-prefix6': 'DHCPv6 is not served by Twinlease',
  'preferred-lifetime': 'DHCPv6 only',
  'dhcpv6-set-tee-times': 'DHCPv6 only',
  'prefix-length-mode': 'DHCPv6 only',
  'use-eui-64': 'DHCPv6 only',
  'local-address6': 'DHCPv6 only',
  'vendor-class': 'vendor classes are not translated',
};

/** Known statements whose loss changes which client gets which address or options. */
const UNTRANSLATABLE: Readonly<Record<string, string>> = {
  class: 'client classes are not translated (Twinlease policies are configured differently)',
  subclass: 'client classes are not translated',
  if: 'conditional statements are not translated',
  elsif: 'conditional statements are not translated',
  else: 'conditional statements are not translated',
  switch: 'conditional statements are not translated',
  on: 'event statements (on commit/release/expiry) are not translated',
  set: 'variables are not translated',
  unset: 'variables are not translated',
  eval: 'expressions are not translated',
  execute: 'external commands are not translated',
  log: 'log statements are not translated',
  match: 'client classes are not translated',
  spawn: 'client classes are not translated',
  'lease limit': 'client classes are not translated',
  'host-identifier': 'hosts identified by an option other than 61 are not translated',
  'ddns-update-style': 'DNS updates (interim/standard) are not translated',
  'dynamic-bootp': 'dynamic-bootp belongs in a range statement',
  billing: 'client classes are not translated',
};

const MAX_STATEMENT_TEXT = 120;

function statementText(s: Statement): string {
  const text = describeHead(s.head, 12) + (s.block === null ? ';' : ' { … }');
  return text.length > MAX_STATEMENT_TEXT ? `${text.slice(0, MAX_STATEMENT_TEXT - 1)}…` : text;
}

function words(s: Statement): string[] {
  return s.head.map((t) => (t.kind === 'string' ? `"${t.text}"` : t.text));
}

function readUint(t: Token | undefined, max = 0xffffffff): number | null {
  if (t === undefined || t.kind !== 'word' || !/^\d+$/.test(t.text)) return null;
  const n = Number(t.text);
  return Number.isSafeInteger(n) && n <= max ? n : null;
}

function emptyParams(): Params {
  return { options: [] };
}

function lookup<K extends Exclude<keyof Params, 'options'>>(
  level: Level | null,
  key: K,
  stopAt: Level | null = null,
): Params[K] {
  for (let l = level; l !== null && l !== stopAt; l = l.parent) {
    if (l.params[key] !== undefined) return l.params[key];
  }
  return undefined;
}

/** Options along the chain from `level` up to (not including) `stopAt`, inner ones winning. */
function chainOptions(level: Level | null, stopAt: Level | null): OptionEntry[] {
  const chain: Level[] = [];
  for (let l = level; l !== null && l !== stopAt; l = l.parent) chain.unshift(l);
  const byCode = new Map<number, OptionEntry>();
  for (const l of chain) for (const o of l.params.options) byCode.set(o.code, o);
  return [...byCode.values()];
}

// ---------------------------------------------------------------------------------------------

class Translator {
  readonly findings: Finding[] = [];
  readonly origins = new Map<string, SourcePos>();
  private readonly global: Level = {
    kind: 'global',
    parent: null,
    params: emptyParams(),
    pos: null,
    hasParams: false,
  };
  private readonly subnets: SubnetDecl[] = [];
  private readonly pools: PoolDecl[] = [];
  private readonly hosts: HostDecl[] = [];
  private readonly peers = new Map<string, PeerDecl>();
  private readonly customOptions = new Map<string, CustomOptionDef>();
  private readonly sharedNetworks: { name: string; pos: SourcePos; subnets: number; pools: PoolDecl[] }[] =
    [];
  private readonly maxLeaseStatements: { level: Level; value: number; pos: SourcePos }[] = [];
  private serverIdentifier: Valued<string> | null = null;

  constructor(private readonly options: TranslateOptions) {}

  private add(severity: Severity, s: Statement | null, reason: string, pos?: SourcePos): void {
    this.findings.push({
      severity,
      pos: pos ?? s?.pos ?? null,
      statement: s === null ? '' : statementText(s),
      reason,
    });
  }

  private error(s: Statement, reason: string, pos?: SourcePos): void {
    this.add('error', s, reason, pos);
  }

  private untranslated(s: Statement, reason: string, pos?: SourcePos): void {
    this.add(this.options.acceptUntranslated ? 'warning' : 'error', s, `not translated: ${reason}`, pos);
  }

  private ignored(s: Statement, reason: string): void {
    this.add('warning', s, `ignored: ${reason}`);
  }

  // -------------------------------------------------------------------------------------------
  // Walking the tree

  run(statements: readonly Statement[]): ConfTranslation {
    this.block(statements, this.global);
    const config = this.build();
    return { config, findings: this.findings, origins: this.origins };
  }

  private block(statements: readonly Statement[], level: Level): void {
    for (const s of statements) this.statement(s, level);
  }

  private expectNoBlock(s: Statement): boolean {
    if (s.block !== null) {
      this.error(s, `'${s.head[0]!.text}' takes no '{ … }' block`);
      return false;
    }
    return true;
  }

  private statement(s: Statement, level: Level): void {
    const first = s.head[0]!;
    if (first.kind !== 'word') {
      this.error(
        s,
        `a statement cannot start with ${first.kind === 'string' ? 'a quoted string' : `'${first.text}'`}`,
      );
      return;
    }
    const k = first.text.toLowerCase();
    switch (k) {
      case 'option':
        if (this.expectNoBlock(s)) this.option(s, level);
        return;
      case 'default-lease-time':
      case 'max-lease-time':
      case 'min-lease-time':
      case 'abandon-lease-time':
        if (this.expectNoBlock(s)) this.seconds(s, level, k);
        return;
      case 'authoritative':
        if (this.expectNoBlock(s) && this.arity(s, 1)) this.setAuthoritative(s, level, true);
        return;
      case 'not':
        if (s.head[1]?.text === 'authoritative' && s.head.length === 2 && this.expectNoBlock(s))
          this.setAuthoritative(s, level, false);
        else this.error(s, `unknown statement '${words(s).slice(0, 2).join(' ')}'`);
        return;
      case 'filename':
      case 'next-server':
        if (this.expectNoBlock(s)) this.bootServer(s, level, k);
        return;
      case 'server-identifier':
        if (this.expectNoBlock(s)) this.serverId(s, level);
        return;
      case 'use-host-decl-names': {
        if (!this.expectNoBlock(s)) return;
        const v = this.flag(s);
        if (v !== null) level.params.useHostDeclNames = { value: v, pos: s.pos };
        return;
      }
      case 'ping-check': {
        if (!this.expectNoBlock(s)) return;
        const v = this.flag(s);
        if (v === true) this.ignored(s, 'Twinlease does not ping an address before offering it');
        else if (v === false) this.add('note', s, 'Twinlease does not ping either: same behaviour');
        return;
      }
      case 'ddns-update-style':
        if (!this.expectNoBlock(s)) return;
        if (s.head[1]?.text === 'none' && s.head.length === 2)
          this.add('note', s, 'no DNS updates: Twinlease does none either');
        else
          this.ignored(s, 'DNS updates (interim/standard) are not translated; Twinlease does not update DNS');
        return;
      case 'allow':
      case 'deny':
      case 'ignore':
        if (this.expectNoBlock(s)) this.access(s, level, k);
        return;
      case 'range':
        if (this.expectNoBlock(s)) this.range(s, level);
        return;
      case 'subnet':
        this.subnet(s, level);
        return;
      case 'shared-network':
        this.sharedNetwork(s, level);
        return;
      case 'group':
        this.group(s, level);
        return;
      case 'pool':
        this.pool(s, level);
        return;
      case 'host':
        this.host(s, level);
        return;
      case 'failover':
        this.failover(s, level);
        return;
      case 'hardware':
      case 'fixed-address':
      case 'uid':
        this.error(s, `'${k}' belongs in a host declaration`);
        return;
      case 'include':
        this.error(s, 'include takes one quoted file name: include "file";');
        return;
    }
    if (Object.hasOwn(IGNORABLE, k)) {
      this.ignored(s, IGNORABLE[k]!);
      return;
    }
    if (k === 'lease' && s.head[1]?.text === 'limit') {
      this.untranslated(s, UNTRANSLATABLE['lease limit']!);
      return;
    }
    if (Object.hasOwn(UNTRANSLATABLE, k)) {
      this.untranslated(s, UNTRANSLATABLE[k]!);
      return;
    }
    this.error(s, `unknown statement '${first.text}'`);
  }

  private arity(s: Statement, n: number): boolean {
    if (s.head.length !== n) {
      this.error(s, `'${s.head[0]!.text}' takes ${n - 1 === 0 ? 'no arguments' : `${n - 1} argument(s)`}`);
      return false;
    }
    return true;
  }

  private flag(s: Statement): boolean | null {
    const v = s.head.length === 2 ? s.head[1]!.text.toLowerCase() : '';
    if (v === 'true' || v === 'on') return true;
    if (v === 'false' || v === 'off') return false;
    this.error(s, `'${s.head[0]!.text}' takes true/false/on/off`);
    return null;
  }

  private markParams(level: Level): void {
    level.hasParams = true;
  }

  private seconds(s: Statement, level: Level, k: string): void {
    const n = s.head.length === 2 ? readUint(s.head[1]) : null;
    if (n === null) {
      this.error(s, `'${k}' takes a number of seconds`);
      return;
    }
    if (level.kind === 'host') {
      this.ignored(s, 'Twinlease has no per-reservation lease time; the scope lease time applies');
      return;
    }
    this.markParams(level);
    const v = { value: n, pos: s.pos };
    if (k === 'default-lease-time') {
      if (n < 1) this.error(s, 'a lease time of 0 s cannot be translated (leaseTimeSeconds ≥ 1)');
      else level.params.leaseTime = v;
    } else if (k === 'max-lease-time') {
      level.params.maxLeaseTime = v;
      this.maxLeaseStatements.push({ level, value: n, pos: s.pos });
    } else if (k === 'min-lease-time') {
      level.params.minLeaseTime = v;
      if (n > 0)
        this.ignored(s, 'Twinlease grants a shorter lease when a client asks for one; there is no minimum');
    } else level.params.declineHold = v;
  }

  private setAuthoritative(s: Statement, level: Level, value: boolean): void {
    if (level.kind === 'host' || level.kind === 'pool') {
      this.ignored(s, `authoritative is per scope in Twinlease, not per ${level.kind}`);
      return;
    }
    this.markParams(level);
    level.params.authoritative = { value, pos: s.pos };
  }

  private addOption(s: Statement, level: Level, code: number, option: OptionData): void {
    this.markParams(level);
    const list = level.params.options;
    const earlier = list.findIndex((o) => o.code === code);
    // dhcpd: a later statement in the same scope replaces the earlier one.
    if (earlier >= 0) list.splice(earlier, 1);
    list.push({ code, option, pos: s.pos });
  }

  private bootServer(s: Statement, level: Level, k: 'filename' | 'next-server'): void {
    const arg = s.head[1];
    if (s.head.length !== 2 || arg === undefined) {
      this.error(s, `'${k}' takes one argument`);
      return;
    }
    if (k === 'filename') {
      if (arg.kind !== 'string') {
        this.error(s, 'filename takes a quoted string');
        return;
      }
      this.addOption(s, level, 67, { name: 'bootfileName', data: arg.text, alwaysSend: true });
      this.add(
        'warning',
        s,
        'translated approximately: sent as option 67 (bootfileName, always), not in the BOOTP file field; clients that read only the file field will not see it',
      );
      return;
    }
    const a = readAddress(arg);
    if (!a.ok) {
      if (a.isUntranslatable) this.untranslated(s, a.reason);
      else this.error(s, `next-server: ${a.reason}`);
      return;
    }
    this.addOption(s, level, 66, { name: 'tftpServerName', data: a.address, alwaysSend: true });
    this.add(
      'warning',
      s,
      'translated approximately: sent as option 66 (tftpServerName, always) with the address as text; siaddr stays 0',
    );
  }

  private serverId(s: Statement, level: Level): void {
    const arg = s.head[1];
    if (s.head.length !== 2 || arg === undefined) {
      this.error(s, "'server-identifier' takes one address");
      return;
    }
    const a = readAddress(arg);
    if (!a.ok) {
      if (a.isUntranslatable) this.untranslated(s, a.reason);
      else this.error(s, `server-identifier: ${a.reason}`);
      return;
    }
    if (level.kind !== 'global') {
      this.ignored(s, 'Twinlease has one server identifier (server.serverIdentifier), set only globally');
      return;
    }
    this.serverIdentifier = { value: a.address, pos: s.pos };
  }

  private option(s: Statement, level: Level): void {
    const nameToken = s.head[1];
    if (nameToken === undefined || nameToken.kind !== 'word') {
      this.error(s, 'option needs a name');
      return;
    }
    const name = nameToken.text.toLowerCase();
    const rest = s.head.slice(2);
    if (name === 'space') {
      this.ignored(s, 'option spaces are not translated');
      return;
    }
    if (rest[0]?.text === 'code') {
      this.defineOption(s, name, rest);
      return;
    }
    if (rest[0]?.kind === 'punct' && rest[0].text === '=') {
      this.untranslated(s, 'option values computed by expressions are not translated');
      return;
    }
    if (rest.length === 0) {
      this.error(s, `option ${name} has no value`);
      return;
    }
    switch (name) {
      case 'dhcp-client-identifier': {
        if (level.kind !== 'host') {
          this.untranslated(s, 'option dhcp-client-identifier outside a host declaration is not translated');
          return;
        }
        const bytes = readHexOrString(rest);
        if (bytes === null || bytes.length < 2) {
          this.error(
            s,
            'dhcp-client-identifier takes colon-separated hex or a quoted string (at least 2 bytes)',
          );
          return;
        }
        level.params.clientId = { value: hexText(bytes), pos: s.pos };
        return;
      }
      case 'host-name':
        if (level.kind === 'host') {
          if (rest.length !== 1 || rest[0]!.kind !== 'string') {
            this.error(s, 'option host-name takes a quoted string');
            return;
          }
          level.params.hostName = { value: rest[0]!.text, pos: s.pos };
          return;
        }
        break;
      case 'dhcp-server-identifier':
        this.serverId({ head: [s.head[0]!, ...rest], block: s.block, pos: s.pos }, level);
        return;
      case 'dhcp-renewal-time':
      case 'dhcp-rebinding-time': {
        const n = rest.length === 1 ? readUint(rest[0]) : null;
        if (n === null || n < 1) {
          this.error(s, `option ${name} takes a number of seconds (≥ 1)`);
          return;
        }
        if (level.kind === 'host') {
          this.ignored(s, 'Twinlease has no per-reservation renew/rebind times');
          return;
        }
        this.markParams(level);
        if (name === 'dhcp-renewal-time') level.params.renewTime = { value: n, pos: s.pos };
        else level.params.rebindTime = { value: n, pos: s.pos };
        return;
      }
    }
    if (Object.hasOwn(ISC_SPECIAL_OPTIONS, name)) {
      this.untranslated(s, `option ${name}: ${ISC_SPECIAL_OPTIONS[name]}`);
      return;
    }
    const custom = this.customOptions.get(name);
    const result = custom
      ? translateCustomOption(name, custom, rest)
      : Object.hasOwn(ISC_OPTIONS, name)
        ? translateIscOption(name, rest)
        : null;
    if (result === null) {
      if (name.includes('.'))
        this.untranslated(
          s,
          `option ${name}: options of other option spaces (agent., fqdn., vendor) are not translated`,
        );
      else
        this.untranslated(
          s,
          `no translation for option '${name}'; define it in the output as {"code": N, "data": "hex:…"}`,
        );
      return;
    }
    if (!result.ok) {
      if (result.isUntranslatable) this.untranslated(s, result.reason);
      else this.error(s, result.reason);
      return;
    }
    const code =
      result.option.code ??
      (result.option.name !== undefined ? optionByName(result.option.name)?.code : undefined);
    if (code === undefined) {
      this.error(s, `internal: no code for option ${name}`);
      return;
    }
    this.addOption(s, level, code, result.option);
  }

  private defineOption(s: Statement, name: string, rest: readonly Token[]): void {
    // option NAME code N = TYPE ;
    const code = readUint(rest[1], 255);
    if (code === null || rest[2]?.text !== '=' || rest.length < 4) {
      this.error(s, 'option definition: expected option NAME code N = TYPE;');
      return;
    }
    if (name.includes('.')) {
      this.ignored(s, 'options of other option spaces are not translated');
      return;
    }
    if (code < 1 || code > 254) {
      this.error(s, `option code ${code} is outside 1–254`);
      return;
    }
    const type = rest
      .slice(3)
      .map((t) => t.text)
      .join(' ');
    this.customOptions.set(name, { code, type });
    const known = optionByCode(code);
    this.add(
      'note',
      s,
      `option definition recorded (code ${code}${known ? `, ${known.name} in Twinlease` : ''}); its values are sent by code`,
    );
  }

  private access(s: Statement, level: Level, verb: 'allow' | 'deny' | 'ignore'): void {
    const what = s.head
      .slice(1)
      .map((t) => t.text.toLowerCase())
      .join(' ');
    if (level.kind === 'pool') {
      if (what === 'dynamic bootp clients') {
        const pool = this.pools.find((p) => p.level === level);
        if (pool) pool.dynamicBootp = { value: verb === 'allow', pos: s.pos };
        return;
      }
      if (
        /^(members of|known-clients|unknown-clients|known clients|unknown clients|all clients|authenticated clients|unauthenticated clients|after)\b/.test(
          what,
        )
      ) {
        if (
          verb === 'allow' &&
          (what === 'all clients' || what === 'unknown-clients' || what === 'unknown clients')
        ) {
          this.add('note', s, 'every client may use the pool: same as Twinlease');
          return;
        }
        this.untranslated(s, 'pool permit lists (client classes, known/unknown clients) are not translated');
        return;
      }
    }
    switch (what) {
      case 'unknown-clients':
        if (verb === 'allow') this.add('note', s, 'unknown clients are served: same as Twinlease');
        else
          this.untranslated(
            s,
            'Twinlease serves unknown clients; restricting service to hosts is not translated',
          );
        return;
      case 'known-clients':
        if (verb === 'allow') this.add('note', s, 'known clients are served: same as Twinlease');
        else this.untranslated(s, 'denying known clients is not translated');
        return;
      case 'bootp':
        if (verb === 'allow') this.add('note', s, 'BOOTP clients are answered: same as Twinlease');
        else
          this.ignored(
            s,
            'Twinlease answers BOOTP clients that have a reservation (and from the ranges when dynamicBootp is set)',
          );
        return;
      case 'booting':
        if (verb === 'allow') this.add('note', s, 'same as Twinlease');
        else this.untranslated(s, 'refusing service to booting clients is not translated');
        return;
      case 'duplicates':
      case 'declines':
      case 'client-updates':
      case 'leasequery':
        this.ignored(s, `'${verb} ${what}' has no Twinlease setting; Twinlease's fixed behaviour applies`);
        return;
    }
    this.error(s, `unknown statement '${verb} ${what}'`);
  }

  private range(s: Statement, level: Level): void {
    if (level.kind !== 'subnet' && level.kind !== 'pool') {
      this.error(s, 'range belongs in a subnet or pool declaration');
      return;
    }
    let args = s.head.slice(1);
    let isBootp = false;
    if (args[0]?.text === 'dynamic-bootp') {
      isBootp = true;
      args = args.slice(1);
    }
    if (args.length < 1 || args.length > 2) {
      this.error(s, 'range takes [dynamic-bootp] low-address [high-address]');
      return;
    }
    const addresses: number[] = [];
    for (const t of args) {
      if (t.kind !== 'word' || !isIpv4(t.text)) {
        this.error(s, `range: '${t.text}' is not an IPv4 address`, t.pos);
        return;
      }
      addresses.push(parseIpv4(t.text));
    }
    let start = addresses[0]!;
    let end = addresses[addresses.length - 1]!;
    // dhcpd accepts the two ends in either order.
    if (start > end) [start, end] = [end, start];
    const pool = level.kind === 'pool' ? (this.pools.find((p) => p.level === level) ?? null) : null;
    const range: RangeDecl = { start, end, isBootp, pos: s.pos, pool };
    if (pool) pool.ranges.push(range);
    else this.subnets.find((n) => n.level === level)?.ranges.push(range);
  }

  private requireBlock(s: Statement): boolean {
    if (s.block === null) {
      this.error(s, `'${s.head[0]!.text}' needs a '{ … }' block`);
      return false;
    }
    return true;
  }

  private child(kind: LevelKind, parent: Level, s: Statement): Level {
    return { kind, parent, params: emptyParams(), pos: s.pos, hasParams: false };
  }

  private subnet(s: Statement, level: Level): void {
    if (!this.requireBlock(s)) return;
    if (level.kind !== 'global' && level.kind !== 'shared-network' && level.kind !== 'group') {
      this.error(s, `a subnet cannot be declared inside a ${level.kind}`);
      return;
    }
    const [, net, kw, mask] = s.head;
    if (s.head.length !== 4 || kw?.text !== 'netmask') {
      this.error(s, 'expected: subnet ADDRESS netmask MASK { … }');
      return;
    }
    if (net!.kind !== 'word' || !isIpv4(net!.text)) {
      this.error(s, `subnet: '${net!.text}' is not an IPv4 address`, net!.pos);
      return;
    }
    if (mask!.kind !== 'word' || !isIpv4(mask!.text)) {
      this.error(s, `subnet: netmask '${mask!.text}' is not an IPv4 address`, mask!.pos);
      return;
    }
    const m = parseIpv4(mask!.text);
    const prefixLength = maskToPrefix(m);
    if (prefixToMask(prefixLength) >>> 0 !== m) {
      this.error(s, `subnet: netmask ${mask!.text} is not contiguous`, mask!.pos);
      return;
    }
    const network = parseIpv4(net!.text);
    if ((network & m) >>> 0 !== network) {
      this.error(
        s,
        `subnet ${net!.text} has host bits set for netmask ${mask!.text} (did you mean ${formatIpv4((network & m) >>> 0)}?)`,
        net!.pos,
      );
      return;
    }
    let shared: string | null = null;
    for (let l: Level | null = level; l !== null; l = l.parent) {
      if (l.kind === 'shared-network') {
        shared = this.sharedNetworks.find((n) => n.pos === l!.pos)?.name ?? null;
        break;
      }
    }
    const sub = this.child('subnet', level, s);
    const decl: SubnetDecl = {
      network,
      prefixLength,
      mask: m,
      level: sub,
      sharedNetwork: shared,
      ranges: [],
      pos: s.pos,
    };
    this.subnets.push(decl);
    if (shared !== null) this.sharedNetworks.find((n) => n.name === shared)!.subnets++;
    this.block(s.block!, sub);
  }

  private sharedNetwork(s: Statement, level: Level): void {
    if (!this.requireBlock(s)) return;
    if (level.kind !== 'global' && level.kind !== 'group') {
      this.error(s, `a shared-network cannot be declared inside a ${level.kind}`);
      return;
    }
    const name = s.head[1];
    if (s.head.length !== 2 || name === undefined) {
      this.error(s, 'expected: shared-network NAME { … }');
      return;
    }
    this.sharedNetworks.push({ name: name.text, pos: s.pos, subnets: 0, pools: [] });
    this.block(s.block!, this.child('shared-network', level, s));
  }

  private group(s: Statement, level: Level): void {
    if (!this.requireBlock(s)) return;
    if (level.kind === 'pool' || level.kind === 'host') {
      this.error(s, `a group cannot be declared inside a ${level.kind}`);
      return;
    }
    if (s.head.length > 2) {
      this.error(s, 'expected: group [NAME] { … }');
      return;
    }
    this.block(s.block!, this.child('group', level, s));
  }

  private pool(s: Statement, level: Level): void {
    if (!this.requireBlock(s)) return;
    if (level.kind !== 'subnet' && level.kind !== 'shared-network') {
      this.error(s, 'a pool belongs in a subnet or shared-network declaration');
      return;
    }
    if (s.head.length !== 1) {
      this.error(s, 'expected: pool { … }');
      return;
    }
    const poolLevel = this.child('pool', level, s);
    const pool: PoolDecl = { level: poolLevel, peer: null, dynamicBootp: null, ranges: [], pos: s.pos };
    this.pools.push(pool);
    if (level.kind === 'shared-network')
      this.sharedNetworks.find((n) => n.pos === level.pos)?.pools.push(pool);
    this.block(s.block!, poolLevel);
    if (pool.ranges.length === 0) this.error(s, 'a pool needs at least one range (dhcpd refuses it too)');
  }

  private host(s: Statement, level: Level): void {
    if (!this.requireBlock(s)) return;
    if (level.kind === 'pool' || level.kind === 'host') {
      this.error(s, `a host cannot be declared inside a ${level.kind}`);
      return;
    }
    const name = s.head[1];
    if (s.head.length !== 2 || name === undefined) {
      this.error(s, 'expected: host NAME { … }');
      return;
    }
    const hostLevel = this.child('host', level, s);
    const decl: HostDecl = { name: name.text, level: hostLevel, hardware: null, addresses: [], pos: s.pos };
    for (const st of s.block!) {
      const k = st.head[0]!.text.toLowerCase();
      if (k === 'hardware') this.hardware(st, decl);
      else if (k === 'fixed-address') this.fixedAddress(st, decl);
      else if (k === 'uid') {
        const bytes = readHexOrString(st.head.slice(1));
        if (bytes === null || bytes.length < 2 || st.block !== null)
          this.error(st, 'uid takes colon-separated hex or a quoted string');
        else hostLevel.params.clientId = { value: hexText(bytes), pos: st.pos };
      } else if (k === 'deleted' || k === 'dynamic') {
        this.ignored(st, 'OMAPI host markers are not translated');
      } else this.statement(st, hostLevel);
    }
    this.hosts.push(decl);
  }

  private hardware(s: Statement, host: HostDecl): void {
    const [, type, address] = s.head;
    if (s.block !== null || s.head.length !== 3 || type === undefined || address === undefined) {
      this.error(s, 'expected: hardware TYPE ADDRESS;');
      return;
    }
    const types = ['ethernet', 'token-ring', 'fddi', 'infiniband'];
    if (!types.includes(type.text.toLowerCase())) {
      this.error(s, `hardware type '${type.text}' is not one of ${types.join(', ')}`, type.pos);
      return;
    }
    if (address.kind !== 'word' || !/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){0,15}$/.test(address.text)) {
      this.error(s, `'${address.text}' is not a hardware address (colon-separated hex)`, address.pos);
      return;
    }
    if (type.text.toLowerCase() !== 'ethernet')
      this.add('note', s, 'Twinlease reservations match the hardware address only, not its type');
    const hex = address.text
      .split(':')
      .map((h) => h.padStart(2, '0').toLowerCase())
      .join(':');
    host.hardware = { value: hex, pos: s.pos };
  }

  private fixedAddress(s: Statement, host: HostDecl): void {
    if (s.block !== null || s.head.length < 2) {
      this.error(s, 'expected: fixed-address ADDRESS[, ADDRESS…];');
      return;
    }
    const items = s.head.slice(1).filter((t) => !(t.kind === 'punct' && t.text === ','));
    for (const t of items) {
      const a = readAddress(t);
      if (!a.ok) {
        if (a.isUntranslatable) this.untranslated(s, `fixed-address: ${a.reason}`, t.pos);
        else this.error(s, `fixed-address: ${a.reason}`, t.pos);
        continue;
      }
      host.addresses.push({ value: a.address, pos: t.pos });
    }
  }

  // failover peer "NAME" { … }   |   failover peer "NAME";   |   failover peer "NAME" state { … }
  private failover(s: Statement, level: Level): void {
    const [, peerWord, nameToken, extra] = s.head;
    if (peerWord?.text !== 'peer' || nameToken === undefined || nameToken.kind !== 'string') {
      this.error(s, 'expected: failover peer "NAME" …');
      return;
    }
    const name = nameToken.text;
    if (extra?.text === 'state') {
      this.ignored(
        s,
        'a failover state in dhcpd.conf is not translated; the state comes from the leases file',
      );
      return;
    }
    if (s.head.length !== 3) {
      this.error(s, 'expected: failover peer "NAME" { … } or failover peer "NAME";');
      return;
    }
    if (s.block === null) {
      if (level.kind !== 'pool') {
        if (level.kind === 'shared-network' || level.kind === 'subnet')
          this.untranslated(
            s,
            'a failover peer reference outside a pool is not translated; put it in the pools',
          );
        else this.error(s, 'a failover peer reference belongs in a pool');
        return;
      }
      const pool = this.pools.find((p) => p.level === level);
      if (pool) pool.peer = { value: name, pos: s.pos };
      return;
    }
    if (level.kind !== 'global') {
      this.untranslated(s, 'a failover peer declared outside the global scope is not translated');
      return;
    }
    if (this.peers.has(name)) {
      this.error(s, `failover peer "${name}" is declared twice (dhcpd refuses that too)`);
      return;
    }
    if (name.length < 1 || name.length > 126) {
      this.error(s, 'a failover peer name must be 1–126 characters');
      return;
    }
    const peer: PeerDecl = { name, pos: s.pos };
    this.peers.set(name, peer);
    for (const st of s.block) this.peerStatement(st, peer);
  }

  private peerStatement(s: Statement, peer: PeerDecl): void {
    const w = s.head.map((t) => t.text.toLowerCase());
    if (s.block !== null) {
      this.error(s, 'failover peer statements take no block');
      return;
    }
    const number = (t: Token | undefined, max = 0xffffffff): number | null => {
      const n = readUint(t, max);
      if (n === null) this.error(s, `'${t?.text ?? ''}' is not a number in 0–${max}`, t?.pos);
      return n;
    };
    const address = (t: Token | undefined): string | null => {
      if (t === undefined) {
        this.error(s, 'an address is missing');
        return null;
      }
      const a = readAddress(t);
      if (a.ok) return a.address;
      peer.hasUnresolvedAddress = true;
      if (a.isUntranslatable) this.untranslated(s, a.reason, t.pos);
      else this.error(s, a.reason, t.pos);
      return null;
    };
    const set = <K extends keyof PeerDecl>(
      key: K,
      value: PeerDecl[K] extends Valued<infer T> | undefined ? T : never,
    ) => {
      (peer as unknown as Record<string, unknown>)[key] = { value, pos: s.pos };
    };
    const head = w.join(' ');
    if ((head === 'primary' || head === 'secondary') && w.length === 1) {
      set('role', head);
      return;
    }
    if (w[0] === 'address' && w.length === 2) {
      const a = address(s.head[1]);
      if (a !== null) set('address', a);
      return;
    }
    if (w[0] === 'port' && w.length === 2) {
      const n = number(s.head[1], 65535);
      if (n !== null) set('port', n);
      return;
    }
    if (w[0] === 'peer' && w[1] === 'address' && w.length === 3) {
      const a = address(s.head[2]);
      if (a !== null) set('peerAddress', a);
      return;
    }
    if (w[0] === 'peer' && w[1] === 'port' && w.length === 3) {
      const n = number(s.head[2], 65535);
      if (n !== null) set('peerPort', n);
      return;
    }
    if (w[0] === 'max-response-delay' && w.length === 2) {
      const n = number(s.head[1]);
      if (n !== null) set('maxResponseDelay', n);
      return;
    }
    if (w[0] === 'max-unacked-updates' && w.length === 2) {
      const n = number(s.head[1]);
      if (n !== null) set('maxUnackedUpdates', n);
      return;
    }
    if (w[0] === 'mclt' && w.length === 2) {
      const n = number(s.head[1]);
      if (n !== null) set('mclt', n);
      return;
    }
    if (w[0] === 'split' && w.length === 2) {
      const n = number(s.head[1], 256);
      if (n !== null) set('split', n);
      return;
    }
    if (w[0] === 'hba') {
      const joined = s.head
        .slice(1)
        .map((t) => t.text)
        .join('');
      const bytes = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*$/.test(joined)
        ? joined.split(':').map((h) => Number.parseInt(h, 16))
        : [];
      if (bytes.length !== 32) {
        this.error(s, 'hba must be exactly 32 colon-separated hex bytes');
        return;
      }
      set('hba', Uint8Array.from(bytes));
      return;
    }
    if (head.startsWith('load balance max seconds') && w.length === 5) {
      const n = number(s.head[4], 65535);
      if (n !== null) set('loadBalanceMaxSeconds', n);
      return;
    }
    if (w[0] === 'auto-partner-down' && w.length === 2) {
      const n = number(s.head[1]);
      if (n !== null) set('autoPartnerDown', n);
      return;
    }
    if (
      ['max-lease-misbalance', 'max-lease-ownership', 'min-balance', 'max-balance'].includes(w[0]!) &&
      w.length === 2
    ) {
      if (number(s.head[1]) !== null)
        this.ignored(
          s,
          'pool balancing is Twinlease\'s own (poolSplit "even", as ISC); its timing is not configurable',
        );
      return;
    }
    this.error(s, `unknown failover peer statement '${describeHead(s.head)}'`);
  }

  // -------------------------------------------------------------------------------------------
  // Building the configuration

  private origin(pointer: string, pos: SourcePos): void {
    if (!this.origins.has(pointer)) this.origins.set(pointer, pos);
  }

  private build(): Config {
    const config: Config = { scopes: [] };
    const g = this.global.params;

    // Lease-file MCLT hints and server identifier.
    if (this.serverIdentifier !== null) {
      config.server = { serverIdentifier: this.serverIdentifier.value };
      this.origin('/server/serverIdentifier', this.serverIdentifier.pos);
    }
    if (this.options.leaseStorePath !== undefined) config.leaseStore = { path: this.options.leaseStorePath };

    if (g.leaseTime) {
      config.leaseTimeSeconds = g.leaseTime.value;
      this.origin('/leaseTimeSeconds', g.leaseTime.pos);
    } else {
      config.leaseTimeSeconds = DHCPD_DEFAULTS.defaultLeaseTimeSeconds;
      this.findings.push({
        severity: 'note',
        pos: null,
        statement: '',
        reason: `no global default-lease-time: leaseTimeSeconds is dhcpd's default, ${DHCPD_DEFAULTS.defaultLeaseTimeSeconds} s`,
      });
    }
    const globalOptions = g.options.map((o) => o.option);
    if (globalOptions.length > 0) {
      config.options = globalOptions;
      for (const [i, o] of g.options.entries()) this.origin(`/options/${i}`, o.pos);
    }

    // max-lease-time: Twinlease grants at most leaseTimeSeconds.
    for (const m of this.maxLeaseStatements) {
      const def = lookup(m.level, 'leaseTime')?.value ?? DHCPD_DEFAULTS.defaultLeaseTimeSeconds;
      if (m.value > def) {
        this.findings.push({
          severity: 'warning',
          pos: m.pos,
          statement: `max-lease-time ${m.value};`,
          reason: `translated approximately: Twinlease never grants more than leaseTimeSeconds (${def} s here); clients asking for up to ${m.value} s get ${def} s`,
        });
      }
    }

    // Ranges of shared-network pools go to the subnet that holds them.
    for (const pool of this.pools) {
      if (pool.level.parent?.kind === 'subnet') {
        const subnet = this.subnets.find((n) => n.level === pool.level.parent);
        subnet?.ranges.push(...pool.ranges);
        continue;
      }
      for (const r of pool.ranges) {
        const holder = this.subnets.find(
          (n) => (r.start & n.mask) >>> 0 === n.network && (r.end & n.mask) >>> 0 === n.network,
        );
        if (holder === undefined) {
          this.findings.push({
            severity: 'error',
            pos: r.pos,
            statement: `range ${formatIpv4(r.start)} ${formatIpv4(r.end)};`,
            reason: 'no subnet declaration holds this range (dhcpd refuses it too)',
          });
        } else holder.ranges.push(r);
      }
    }

    for (const shared of this.sharedNetworks) {
      if (shared.subnets > 1) {
        this.findings.push({
          severity: 'warning',
          pos: shared.pos,
          statement: `shared-network ${shared.name} { … }`,
          reason:
            'translated approximately: each subnet becomes its own scope; Twinlease serves a client from the subnet its relay (giaddr) or interface is in, and does not move to another subnet of the shared network when that one is full',
        });
      }
    }

    const scopeOf = new Map<SubnetDecl, number>();
    const relationshipScopes = new Map<string, string[]>();
    for (const subnet of this.subnets) {
      const built = this.buildScope(subnet, config.scopes.length);
      if (built === null) continue;
      scopeOf.set(subnet, config.scopes.length);
      config.scopes.push(built.scope);
      if (built.peer !== null) {
        const list = relationshipScopes.get(built.peer) ?? [];
        list.push(built.scope.id ?? formatIpv4(subnet.network));
        relationshipScopes.set(built.peer, list);
      }
    }

    this.buildReservations(config, scopeOf);

    const failover: FailoverRelationship[] = [];
    for (const pool of this.pools) {
      if (pool.peer !== null && !this.peers.has(pool.peer.value)) {
        this.findings.push({
          severity: 'error',
          pos: pool.peer.pos,
          statement: `failover peer "${pool.peer.value}";`,
          reason: `no failover peer "${pool.peer.value}" is declared`,
        });
      }
    }
    for (const peer of this.peers.values()) {
      const r = this.buildRelationship(peer, relationshipScopes.get(peer.name) ?? [], failover.length);
      if (r !== null) failover.push(r);
    }
    if (failover.length > 0) config.failover = failover;
    return config;
  }

  private buildScope(subnet: SubnetDecl, index: number): { scope: Scope; peer: string | null } | null {
    const at = `/scopes/${index}`;
    const cidr = `${formatIpv4(subnet.network)}/${subnet.prefixLength}`;
    if (subnet.ranges.length === 0) {
      const hasHosts = this.hosts.some((h) =>
        h.addresses.some((a) => (parseIpv4(a.value) & subnet.mask) >>> 0 === subnet.network),
      );
      this.findings.push({
        severity: hasHosts ? 'warning' : 'note',
        pos: subnet.pos,
        statement: `subnet ${formatIpv4(subnet.network)} netmask ${formatIpv4(subnet.mask)} { … }`,
        reason: hasHosts
          ? 'not translated: a Twinlease scope needs a dynamic range; the fixed-address hosts of this subnet are listed separately'
          : 'no dynamic range: dhcpd serves nothing here (a topology declaration); no scope is generated',
      });
      return null;
    }
    const scope: Scope = { subnet: cidr, ranges: [] };
    this.origin(at, subnet.pos);
    this.origin(`${at}/subnet`, subnet.pos);
    if (subnet.sharedNetwork !== null) scope.description = `shared-network ${subnet.sharedNetwork}`;

    // Where the ranges come from: the subnet itself and/or its pools.
    const pools = [...new Set(subnet.ranges.map((r) => r.pool))];
    const isSinglePool = pools.length === 1 && pools[0] !== null;
    const peers = new Set(pools.map((p) => p?.peer?.value ?? null));
    let peer: string | null = null;
    if (peers.size > 1) {
      this.findings.push({
        severity: this.options.acceptUntranslated ? 'warning' : 'error',
        pos: subnet.pos,
        statement: `subnet ${cidr}`,
        reason:
          'not translated: some ranges of this subnet are in a failover pool and some are not (or in pools of different peers); a Twinlease scope belongs wholly to one relationship or none',
      });
    } else peer = [...peers][0] ?? null;

    // Pool parameters become scope parameters only when the pool is the only source of ranges.
    for (const pool of pools) {
      if (pool === null || !pool.level.hasParams || isSinglePool) continue;
      this.findings.push({
        severity: this.options.acceptUntranslated ? 'warning' : 'error',
        pos: pool.pos,
        statement: 'pool { … }',
        reason:
          'not translated: this subnet has several pools (or ranges outside pools) and this pool sets its own parameters; a Twinlease scope has one set',
      });
    }
    // The single pool's own parameters over the subnet's chain (a shared-network pool's parent is
    // the shared network, but its ranges live in this subnet, whose parameters apply too).
    const inner: Level = isSinglePool
      ? pools[0]!.level.parent === subnet.level
        ? pools[0]!.level
        : { ...pools[0]!.level, parent: subnet.level }
      : subnet.level;

    subnet.ranges
      .slice()
      .sort((a, b) => a.start - b.start)
      .forEach((r, j) => {
        scope.ranges.push({ start: formatIpv4(r.start), end: formatIpv4(r.end) });
        this.origin(`${at}/ranges/${j}`, r.pos);
      });

    const options = chainOptions(inner, this.global);
    if (options.length > 0) {
      scope.options = options.map((o) => o.option);
      for (const [i, o] of options.entries()) this.origin(`${at}/options/${i}`, o.pos);
    }
    const leaseTime = lookup(inner, 'leaseTime', this.global);
    if (leaseTime) {
      scope.leaseTimeSeconds = leaseTime.value;
      this.origin(`${at}/leaseTimeSeconds`, leaseTime.pos);
    }
    const renew = lookup(inner, 'renewTime');
    if (renew) {
      scope.renewTimeSeconds = renew.value;
      this.origin(`${at}/renewTimeSeconds`, renew.pos);
    }
    const rebind = lookup(inner, 'rebindTime');
    if (rebind) {
      scope.rebindTimeSeconds = rebind.value;
      this.origin(`${at}/rebindTimeSeconds`, rebind.pos);
    }
    const hold = lookup(inner, 'declineHold');
    if (hold) {
      scope.declineHoldSeconds = hold.value;
      this.origin(`${at}/declineHoldSeconds`, hold.pos);
    }
    // dhcpd is not authoritative unless told so; Twinlease's default is the opposite.
    const authoritative = lookup(inner, 'authoritative');
    scope.authoritative = authoritative?.value ?? false;
    if (authoritative) this.origin(`${at}/authoritative`, authoritative.pos);

    const bootpRanges = subnet.ranges.filter((r) => r.isBootp || r.pool?.dynamicBootp?.value === true);
    if (bootpRanges.length > 0) {
      scope.dynamicBootp = true;
      if (bootpRanges.length < subnet.ranges.length) {
        this.findings.push({
          severity: 'warning',
          pos: bootpRanges[0]!.pos,
          statement: 'range dynamic-bootp …',
          reason:
            'translated approximately: only some ranges of this subnet serve dynamic BOOTP; Twinlease sets dynamicBootp for the whole scope',
        });
      }
    }
    return { scope, peer };
  }

  private buildReservations(config: Config, scopeOf: Map<SubnetDecl, number>): void {
    for (const host of this.hosts) {
      const statement = `host ${host.name} { … }`;
      const own = host.level.params;
      if (host.addresses.length === 0) {
        const hasParams = host.level.params.options.length > 0 || own.hostName !== undefined;
        if (hasParams)
          this.findings.push({
            severity: this.options.acceptUntranslated ? 'warning' : 'error',
            pos: host.pos,
            statement,
            reason:
              'not translated: a host without fixed-address gives a dynamic client its own options; Twinlease has per-client options only on reservations',
          });
        else
          this.findings.push({
            severity: 'warning',
            pos: host.pos,
            statement,
            reason:
              'ignored: a host without fixed-address only marks the client known; known/unknown rules are not translated',
          });
        continue;
      }
      if (host.hardware === null && own.clientId === undefined) {
        this.findings.push({
          severity: this.options.acceptUntranslated ? 'warning' : 'error',
          pos: host.pos,
          statement,
          reason: 'not translated: the host has neither hardware ethernet nor a client identifier to match',
        });
        continue;
      }
      const useDeclName = lookup(host.level, 'useHostDeclNames')?.value === true;
      const hostname = own.hostName?.value ?? (useDeclName ? host.name : undefined);
      const options = chainOptions(host.level, this.global);
      for (const a of host.addresses) {
        const address = parseIpv4(a.value);
        const subnet = this.subnets.find((n) => (address & n.mask) >>> 0 === n.network);
        const index = subnet === undefined ? undefined : scopeOf.get(subnet);
        if (index === undefined) {
          this.findings.push({
            severity: 'warning',
            pos: a.pos,
            statement,
            reason: `ignored: no translated scope holds ${a.value} (dhcpd serves a fixed address only on a declared subnet; a Twinlease scope also needs a dynamic range)`,
          });
          continue;
        }
        const scope = config.scopes[index]!;
        const reservation: Reservation = { address: a.value, description: `host ${host.name}` };
        if (host.hardware) reservation.hardwareAddress = host.hardware.value;
        if (own.clientId) reservation.clientId = own.clientId.value.replace(/(..)(?=.)/g, '$1:');
        if (hostname !== undefined) reservation.hostname = hostname;
        if (options.length > 0) reservation.options = options.map((o) => o.option);
        scope.reservations ??= [];
        const at = `/scopes/${index}/reservations/${scope.reservations.length}`;
        scope.reservations.push(reservation);
        this.origin(at, host.pos);
        this.origin(`${at}/address`, a.pos);
        if (host.hardware) this.origin(`${at}/hardwareAddress`, host.hardware.pos);
        if (own.clientId) this.origin(`${at}/clientId`, own.clientId.pos);
        for (const [i, o] of options.entries()) this.origin(`${at}/options/${i}`, o.pos);
      }
    }
  }

  private buildRelationship(peer: PeerDecl, scopeIds: string[], index: number): FailoverRelationship | null {
    const at = `/failover/${index}`;
    const statement = `failover peer "${peer.name}" { … }`;
    const fail = (reason: string, pos: SourcePos = peer.pos): null => {
      this.findings.push({ severity: 'error', pos, statement, reason });
      return null;
    };
    const note = (reason: string, severity: Severity = 'note', pos: SourcePos = peer.pos) =>
      this.findings.push({ severity, pos, statement, reason });
    if (peer.hasUnresolvedAddress === true) return null;
    if (peer.role === undefined) return fail('primary or secondary is missing');
    if (peer.address === undefined)
      return fail('address is missing (dhcpd derives one; Twinlease needs the local failover address)');
    if (peer.peerAddress === undefined) return fail('peer address is missing (dhcpd refuses that too)');
    if (scopeIds.length === 0)
      return fail('no pool refers to this peer (failover peer "NAME"; in a pool): dhcpd refuses to start');
    const role = peer.role.value;
    if (role === 'secondary') {
      for (const key of ['mclt', 'split', 'hba'] as const) {
        if (peer[key] !== undefined)
          return fail(`${key} is not allowed on the secondary (dhcpd refuses it)`, peer[key]!.pos);
      }
    }
    if (peer.split !== undefined && peer.hba !== undefined)
      return fail('split and hba are mutually exclusive (dhcpd refuses both)', peer.hba.pos);

    const r: FailoverRelationship = {
      name: peer.name,
      role,
      mode: 'loadBalance',
      local: { address: peer.address.value, port: peer.port?.value ?? DHCPD_DEFAULTS.failoverPort },
      partner: { address: peer.peerAddress.value, port: peer.peerPort?.value ?? DHCPD_DEFAULTS.failoverPort },
      scopeIds,
      auth: 'none',
      hbaBitMeaning: 'primary',
      poolSplit: 'even',
    };
    this.origin(at, peer.pos);
    this.origin(`${at}/local/address`, peer.address.pos);
    this.origin(`${at}/partner/address`, peer.peerAddress.pos);
    if (peer.port) this.origin(`${at}/local/port`, peer.port.pos);
    if (peer.peerPort) this.origin(`${at}/partner/port`, peer.peerPort.pos);

    if (role === 'primary') {
      if (peer.mclt === undefined) return fail('mclt is missing (required on the primary)');
      if (peer.split === undefined && peer.hba === undefined)
        return fail('split or hba is missing (required on the primary)');
      if (peer.mclt.value < 1) return fail('mclt 0 cannot be translated (mcltSeconds ≥ 1)', peer.mclt.pos);
      r.mcltSeconds = peer.mclt.value;
      this.origin(`${at}/mcltSeconds`, peer.mclt.pos);
      const buckets = peer.split?.value ?? countSetBuckets(peer.hba!.value);
      const percent = Math.round((buckets * 100) / 256);
      r.loadBalancePercent = percent;
      this.origin(`${at}/loadBalancePercent`, (peer.split ?? peer.hba)!.pos);
      const ours = hbaFromSplit(Math.round((256 * percent) / 100));
      const theirs = peer.hba?.value ?? hbaFromSplit(buckets);
      if (hexText(ours) !== hexText(theirs)) {
        note(
          peer.hba !== undefined && countSetBuckets(ours) === buckets
            ? `translated approximately: hba has ${buckets} buckets set, but not the first ${buckets}; Twinlease sends split-style buckets (${percent}%), so some clients move to the other server`
            : `translated approximately: ${buckets} of 256 buckets is not a whole percentage; Twinlease uses ${percent}% (${countSetBuckets(ours)} buckets)`,
          'warning',
          (peer.split ?? peer.hba)!.pos,
        );
      }
    } else {
      const fromLeases = this.options.mcltFromLeases?.get(peer.name);
      if (fromLeases !== undefined && fromLeases >= 1) {
        r.mcltSeconds = fromLeases;
        note(
          `secondary: mcltSeconds ${fromLeases} taken from the leases file (the MCLT the primary sent); the primary's value rules on the wire`,
        );
      } else {
        note(
          'secondary: dhcpd has no mclt or split here; the primary sends both when it connects. Twinlease defaults are used until then (mcltSeconds 3600, loadBalancePercent 50)',
        );
      }
    }

    const delay = peer.maxResponseDelay?.value ?? DHCPD_DEFAULTS.maxResponseDelaySeconds;
    if (peer.maxResponseDelay === undefined)
      note(`max-response-delay is missing: dhcpd's default ${delay} s is used`);
    else this.origin(`${at}/receiveTimerSeconds`, peer.maxResponseDelay.pos);
    if (delay < 3) {
      r.receiveTimerSeconds = 3;
      note(
        `translated approximately: max-response-delay ${delay} is below Twinlease's minimum; 3 s is used`,
        'warning',
        peer.maxResponseDelay?.pos,
      );
    } else r.receiveTimerSeconds = delay;

    const unacked = peer.maxUnackedUpdates?.value ?? DHCPD_DEFAULTS.maxUnackedUpdates;
    if (peer.maxUnackedUpdates === undefined)
      note(`max-unacked-updates is missing: dhcpd's default ${unacked} is used`);
    else this.origin(`${at}/maxUnackedUpdates`, peer.maxUnackedUpdates.pos);
    if (unacked < 1 || unacked > 1000) {
      r.maxUnackedUpdates = Math.min(1000, Math.max(1, unacked));
      note(
        `translated approximately: max-unacked-updates ${unacked} is outside 1–1000; ${r.maxUnackedUpdates} is used`,
        'warning',
        peer.maxUnackedUpdates?.pos,
      );
    } else r.maxUnackedUpdates = unacked;

    // dhcpd: absent or 0 = load balancing off, every client answered (load_balance_mine()).
    // Twinlease's 0 means the opposite (never answer the partner's clients): no exact equivalent.
    const lbms = peer.loadBalanceMaxSeconds?.value ?? 0;
    r.loadBalanceMaxSeconds = lbms;
    if (peer.loadBalanceMaxSeconds)
      this.origin(`${at}/loadBalanceMaxSeconds`, peer.loadBalanceMaxSeconds.pos);
    if (lbms === 0) {
      note(
        "translated approximately: 'load balance max seconds' is absent or 0, which turns dhcpd's load balancing off (both servers answer every client); Twinlease always balances, and its loadBalanceMaxSeconds 0 means it never answers the partner's clients in NORMAL",
        'warning',
        peer.loadBalanceMaxSeconds?.pos,
      );
    }

    if (peer.autoPartnerDown !== undefined && peer.autoPartnerDown.value > 0) {
      r.autoStateTransition = true;
      r.stateSwitchIntervalSeconds = peer.autoPartnerDown.value;
      this.origin(`${at}/stateSwitchIntervalSeconds`, peer.autoPartnerDown.pos);
    }
    return r;
  }
}

/** Translates parsed dhcpd.conf statements into a Twinlease configuration and a findings list. */
export function translateDhcpdConf(
  statements: readonly Statement[],
  options: TranslateOptions = {},
): ConfTranslation {
  return new Translator(options).run(statements);
}
