// dhcpd.conf `option` statements → Twinlease option entries (name from our catalogue,
// src/wire/dhcp-options.ts, and the value in its text form). ISC option names follow
// dhcp-options(5); values are ISC's syntax: comma-separated lists, quoted text, colon-separated
// hex, on/off/true/false. User-defined options (`option NAME code N = TYPE;`) are translated for
// the simple types and sent by code as hex (RFC 3442 routes as our classlessStaticRoutes text).

import type { OptionData } from '../config/schema.js';
import { isIpv4 } from '../wire/ipv4.js';
import type { Token } from './tokenizer.js';

type ValueKind =
  | 'ip'
  | 'ipList'
  | 'text'
  | 'uint'
  | 'int'
  | 'bool'
  | 'domainList'
  | 'hex'
  | 'ipPairList'
  | 'uintList';

/** ISC name → our catalogue name and how to read the value. */
export const ISC_OPTIONS: Readonly<Record<string, { name: string; kind: ValueKind }>> = {
  'subnet-mask': { name: 'subnetMask', kind: 'ip' },
  'time-offset': { name: 'timeOffset', kind: 'int' },
  routers: { name: 'routers', kind: 'ipList' },
  'time-servers': { name: 'timeServers', kind: 'ipList' },
  'ien116-name-servers': { name: 'nameServers', kind: 'ipList' },
  'domain-name-servers': { name: 'domainNameServers', kind: 'ipList' },
  'log-servers': { name: 'logServers', kind: 'ipList' },
  'cookie-servers': { name: 'cookieServers', kind: 'ipList' },
  'lpr-servers': { name: 'lprServers', kind: 'ipList' },
  'impress-servers': { name: 'impressServers', kind: 'ipList' },
  'resource-location-servers': { name: 'resourceLocationServers', kind: 'ipList' },
  'host-name': { name: 'hostName', kind: 'text' },
  'boot-size': { name: 'bootFileSize', kind: 'uint' },
  'merit-dump': { name: 'meritDumpFile', kind: 'text' },
  'domain-name': { name: 'domainName', kind: 'text' },
  'swap-server': { name: 'swapServer', kind: 'ip' },
  'root-path': { name: 'rootPath', kind: 'text' },
  'extensions-path': { name: 'extensionsPath', kind: 'text' },
  'ip-forwarding': { name: 'ipForwarding', kind: 'bool' },
  'non-local-source-routing': { name: 'nonLocalSourceRouting', kind: 'bool' },
  'policy-filter': { name: 'policyFilter', kind: 'ipPairList' },
  'max-dgram-reassembly': { name: 'maxDatagramReassemblySize', kind: 'uint' },
  'default-ip-ttl': { name: 'defaultIpTtl', kind: 'uint' },
  'path-mtu-aging-timeout': { name: 'pathMtuAgingTimeout', kind: 'uint' },
  'path-mtu-plateau-table': { name: 'pathMtuPlateauTable', kind: 'uintList' },
  'interface-mtu': { name: 'interfaceMtu', kind: 'uint' },
  'all-subnets-local': { name: 'allSubnetsLocal', kind: 'bool' },
  'broadcast-address': { name: 'broadcastAddress', kind: 'ip' },
  'perform-mask-discovery': { name: 'performMaskDiscovery', kind: 'bool' },
  'mask-supplier': { name: 'maskSupplier', kind: 'bool' },
  'router-discovery': { name: 'performRouterDiscovery', kind: 'bool' },
  'router-solicitation-address': { name: 'routerSolicitationAddress', kind: 'ip' },
  'static-routes': { name: 'staticRoutes', kind: 'ipPairList' },
  'trailer-encapsulation': { name: 'trailerEncapsulation', kind: 'bool' },
  'arp-cache-timeout': { name: 'arpCacheTimeout', kind: 'uint' },
  'ieee802-3-encapsulation': { name: 'ethernetEncapsulation', kind: 'bool' },
  'default-tcp-ttl': { name: 'tcpDefaultTtl', kind: 'uint' },
  'tcp-keepalive-interval': { name: 'tcpKeepaliveInterval', kind: 'uint' },
  'tcp-keepalive-garbage': { name: 'tcpKeepaliveGarbage', kind: 'bool' },
  'nis-domain': { name: 'nisDomain', kind: 'text' },
  'nis-servers': { name: 'nisServers', kind: 'ipList' },
  'ntp-servers': { name: 'ntpServers', kind: 'ipList' },
  'vendor-encapsulated-options': { name: 'vendorSpecific', kind: 'hex' },
  'netbios-name-servers': { name: 'netbiosNameServers', kind: 'ipList' },
  'netbios-dd-server': { name: 'netbiosDatagramDistributionServers', kind: 'ipList' },
  'netbios-node-type': { name: 'netbiosNodeType', kind: 'uint' },
  'netbios-scope': { name: 'netbiosScope', kind: 'text' },
  'font-servers': { name: 'xWindowFontServers', kind: 'ipList' },
  'x-display-manager': { name: 'xWindowDisplayManagers', kind: 'ipList' },
  'dhcp-message': { name: 'message', kind: 'text' },
  'vendor-class-identifier': { name: 'vendorClassId', kind: 'text' },
  'nwip-domain': { name: 'netwareIpDomain', kind: 'text' },
  'nisplus-domain': { name: 'nisPlusDomain', kind: 'text' },
  'nisplus-servers': { name: 'nisPlusServers', kind: 'ipList' },
  'tftp-server-name': { name: 'tftpServerName', kind: 'text' },
  'bootfile-name': { name: 'bootfileName', kind: 'text' },
  'smtp-server': { name: 'smtpServers', kind: 'ipList' },
  'pop-server': { name: 'pop3Servers', kind: 'ipList' },
  'nntp-server': { name: 'nntpServers', kind: 'ipList' },
  'www-server': { name: 'wwwServers', kind: 'ipList' },
  'finger-server': { name: 'fingerServers', kind: 'ipList' },
  'irc-server': { name: 'ircServers', kind: 'ipList' },
  'streettalk-server': { name: 'streetTalkServers', kind: 'ipList' },
  'streettalk-directory-assistance-server': { name: 'stdaServers', kind: 'ipList' },
  'user-class': { name: 'userClass', kind: 'text' },
  pcode: { name: 'posixTimezone', kind: 'text' },
  tcode: { name: 'tzdbTimezone', kind: 'text' },
  'domain-search': { name: 'domainSearch', kind: 'domainList' },
  'default-url': { name: 'captivePortal', kind: 'text' },
  'v4-captive-portal': { name: 'captivePortal', kind: 'text' },
};

/** ISC options the server manages itself or that only clients send: never a config value. */
export const ISC_SPECIAL_OPTIONS: Readonly<Record<string, string>> = {
  'dhcp-lease-time': 'the lease time comes from default-lease-time (leaseTimeSeconds)',
  'dhcp-requested-address': 'it is sent by clients',
  'dhcp-option-overload': 'the codec decides about overloading',
  'dhcp-message-type': 'the server sets the message type',
  'dhcp-parameter-request-list': 'forcing the option list is not supported; use alwaysSend on the options',
  'dhcp-max-message-size': 'it is sent by clients',
  'relay-agent-information': 'relay agents add it',
};

/** A user-defined option: `option NAME code N = TYPE;`. */
export interface CustomOptionDef {
  readonly code: number;
  /** The type as written, e.g. "text", "ip-address", "array of integer 8". */
  readonly type: string;
}

export type OptionValueResult =
  | { ok: true; option: OptionData }
  | { ok: false; reason: string; isUntranslatable: boolean };

/** Splits value tokens on `,` into items (each a non-empty token run). */
export function splitItems(tokens: readonly Token[]): Token[][] | null {
  const items: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === ',') items.push([]);
    else if (t.kind === 'punct') return null;
    else items[items.length - 1]!.push(t);
  }
  return items.some((i) => i.length === 0) ? null : items;
}

const HOSTNAME =
  /^[a-zA-Z0-9_]([a-zA-Z0-9_-]*[a-zA-Z0-9_])?(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]*[a-zA-Z0-9_])?)*\.?$/;

/** An address value: a dotted quad; a host name is reported as such (dhcpd resolves it at start). */
export function readAddress(
  t: Token,
): { ok: true; address: string } | { ok: false; reason: string; isUntranslatable: boolean } {
  if (t.kind === 'word' && isIpv4(t.text)) return { ok: true, address: t.text };
  if (t.kind === 'word' && HOSTNAME.test(t.text) && /[a-zA-Z]/.test(t.text)) {
    return {
      ok: false,
      reason: `'${t.text}' is a host name; dhcpd resolves it when it starts, the import does not (write the address)`,
      isUntranslatable: true,
    };
  }
  return { ok: false, reason: `'${t.text}' is not an IPv4 address`, isUntranslatable: false };
}

const BOOL_WORDS: Record<string, boolean> = { true: true, on: true, false: false, off: false };

/** ISC colon-separated hex (octets of 1–2 digits, "0:a:bc") or a quoted string → bytes. */
export function readHexOrString(tokens: readonly Token[]): Uint8Array | null {
  if (tokens.length !== 1) return null;
  const t = tokens[0]!;
  if (t.kind === 'string') return t.bytes ?? new TextEncoder().encode(t.text);
  if (t.kind !== 'word') return null;
  if (!/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*$/.test(t.text)) return null;
  return Uint8Array.from(t.text.split(':').map((h) => Number.parseInt(h, 16)));
}

/** Each byte as two lower-case hex digits. */
export const HEX_OCTETS: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b.toString(16).padStart(2, '0'),
);

/** Lower-case hex, two digits per byte, no separators (a uid of every lease of a leases file). */
export function hexText(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += HEX_OCTETS[bytes[i]!];
  return text;
}

function readInteger(t: Token, min: number, max: number): number | null {
  if (t.kind !== 'word') return null;
  let n: number;
  if (/^-?\d+$/.test(t.text)) n = Number(t.text);
  else if (/^0x[0-9a-f]+$/i.test(t.text)) n = Number.parseInt(t.text.slice(2), 16);
  else return null;
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

function bad(reason: string): OptionValueResult {
  return { ok: false, reason, isUntranslatable: false };
}

function single(items: Token[][], what: string): Token | string {
  if (items.length !== 1 || items[0]!.length !== 1) return `expected one ${what}`;
  return items[0]![0]!;
}

/** Translates the value tokens of a catalogue option. */
export function translateIscOption(iscName: string, valueTokens: readonly Token[]): OptionValueResult {
  const def = ISC_OPTIONS[iscName];
  if (def === undefined) return bad(`no translation for option '${iscName}'`);
  const items = splitItems(valueTokens);
  if (items === null) return bad(`option ${iscName}: the value is not a comma-separated list`);
  const option = (data: OptionData['data']): OptionValueResult => ({
    ok: true,
    option: { name: def.name, data },
  });
  switch (def.kind) {
    case 'ip': {
      const t = single(items, 'IPv4 address');
      if (typeof t === 'string') return bad(`option ${iscName}: ${t}`);
      const a = readAddress(t);
      return a.ok ? option(a.address) : { ...a, reason: `option ${iscName}: ${a.reason}` };
    }
    case 'ipList': {
      const out: string[] = [];
      for (const item of items) {
        if (item.length !== 1) return bad(`option ${iscName}: expected a list of IPv4 addresses`);
        const a = readAddress(item[0]!);
        if (!a.ok) return { ...a, reason: `option ${iscName}: ${a.reason}` };
        out.push(a.address);
      }
      return option(out.join(', '));
    }
    case 'ipPairList': {
      const out: string[] = [];
      for (const item of items) {
        if (item.length !== 2) return bad(`option ${iscName}: expected pairs of addresses, 'a b, c d'`);
        const a = readAddress(item[0]!);
        if (!a.ok) return { ...a, reason: `option ${iscName}: ${a.reason}` };
        const b = readAddress(item[1]!);
        if (!b.ok) return { ...b, reason: `option ${iscName}: ${b.reason}` };
        out.push(`${a.address} ${b.address}`);
      }
      return option(out.join(', '));
    }
    case 'text': {
      const t = single(items, 'quoted string');
      if (typeof t === 'string') return bad(`option ${iscName}: ${t}`);
      if (t.kind !== 'string') return bad(`option ${iscName}: expected a quoted string, got '${t.text}'`);
      return option(t.text);
    }
    case 'domainList': {
      const names: string[] = [];
      for (const item of items) {
        if (item.length !== 1 || item[0]!.kind !== 'string')
          return bad(`option ${iscName}: expected quoted domain names separated by commas`);
        names.push(item[0]!.text);
      }
      return option(names.join(', '));
    }
    case 'uint':
    case 'int': {
      const t = single(items, 'number');
      if (typeof t === 'string') return bad(`option ${iscName}: ${t}`);
      const n = def.kind === 'uint' ? readInteger(t, 0, 0xffffffff) : readInteger(t, -0x80000000, 0x7fffffff);
      return n === null ? bad(`option ${iscName}: '${t.text}' is not an integer`) : option(n);
    }
    case 'uintList': {
      const out: number[] = [];
      for (const item of items) {
        const n = item.length === 1 ? readInteger(item[0]!, 0, 0xffff) : null;
        if (n === null) return bad(`option ${iscName}: expected numbers separated by commas`);
        out.push(n);
      }
      return option(out.join(', '));
    }
    case 'bool': {
      const t = single(items, 'flag');
      if (typeof t === 'string') return bad(`option ${iscName}: ${t}`);
      const v = BOOL_WORDS[t.text.toLowerCase()];
      return v === undefined ? bad(`option ${iscName}: '${t.text}' is not on/off/true/false`) : option(v);
    }
    case 'hex': {
      const bytes = readHexOrString(valueTokens);
      return bytes === null
        ? bad(`option ${iscName}: expected colon-separated hex or a quoted string`)
        : option(`hex:${hexText(bytes)}`);
    }
  }
}

/** RFC 3442 bytes (width, significant destination octets, router) → "net/len router, …"; null if malformed. */
export function classlessRoutesText(bytes: readonly number[]): string | null {
  const routes: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    const width = bytes[i]!;
    if (width > 32) return null;
    const significant = Math.ceil(width / 8);
    if (i + 1 + significant + 4 > bytes.length) return null;
    const dest = [0, 0, 0, 0];
    for (let k = 0; k < significant; k++) dest[k] = bytes[i + 1 + k]!;
    const router = bytes.slice(i + 1 + significant, i + 5 + significant);
    routes.push(`${dest.join('.')}/${width} ${router.join('.')}`);
    i += 5 + significant;
  }
  return routes.length === 0 ? null : routes.join(', ');
}

const INT_TYPES: Record<string, { bytes: number; signed: boolean }> = {
  'unsigned integer 8': { bytes: 1, signed: false },
  'unsigned integer 16': { bytes: 2, signed: false },
  'unsigned integer 32': { bytes: 4, signed: false },
  'integer 8': { bytes: 1, signed: true },
  'integer 16': { bytes: 2, signed: true },
  'integer 32': { bytes: 4, signed: true },
  'signed integer 8': { bytes: 1, signed: true },
  'signed integer 16': { bytes: 2, signed: true },
  'signed integer 32': { bytes: 4, signed: true },
};

function intBytes(n: number, size: number): number[] {
  const out: number[] = [];
  for (let k = size - 1; k >= 0; k--) out.push(Math.floor(n / 2 ** (8 * k)) & 255);
  return out;
}

/** Translates a value of a user-defined option (simple ISC types only). */
export function translateCustomOption(
  iscName: string,
  def: CustomOptionDef,
  valueTokens: readonly Token[],
): OptionValueResult {
  const type = def.type.replace(/\s+/g, ' ').trim();
  const isArray = type.startsWith('array of ');
  const element = isArray ? type.slice('array of '.length) : type;
  const untranslatable = (why: string): OptionValueResult => ({
    ok: false,
    reason: `option ${iscName} (code ${def.code}, type '${def.type}'): ${why}`,
    isUntranslatable: true,
  });
  const items = splitItems(valueTokens);
  if (items === null) return bad(`option ${iscName}: the value is not a comma-separated list`);
  if (!isArray && items.length !== 1) return bad(`option ${iscName}: expected one value`);
  const bytes: number[] = [];
  if (element === 'text' || element === 'string') {
    if (isArray) return untranslatable('arrays of text are not translated');
    const data = readHexOrString(valueTokens);
    if (data === null) return bad(`option ${iscName}: expected a quoted string or colon-separated hex`);
    bytes.push(...data);
  } else if (element === 'ip-address') {
    for (const item of items) {
      if (item.length !== 1) return bad(`option ${iscName}: expected IPv4 addresses`);
      const a = readAddress(item[0]!);
      if (!a.ok) return { ...a, reason: `option ${iscName}: ${a.reason}` };
      bytes.push(...a.address.split('.').map(Number));
    }
  } else if (element === 'boolean') {
    for (const item of items) {
      const v = item.length === 1 ? BOOL_WORDS[item[0]!.text.toLowerCase()] : undefined;
      if (v === undefined) return bad(`option ${iscName}: expected on/off/true/false`);
      bytes.push(v ? 1 : 0);
    }
  } else if (INT_TYPES[element] !== undefined) {
    const { bytes: size, signed } = INT_TYPES[element]!;
    const max = 2 ** (8 * size) - 1;
    for (const item of items) {
      const n =
        item.length === 1
          ? // Signed types also take their unsigned spelling: RFC 3442 definitions written as
            // "array of integer 8" carry octets like 192, which dhcpd stores as the same byte.
            readInteger(item[0]!, signed ? -(2 ** (8 * size - 1)) : 0, max)
          : null;
      if (n === null)
        return bad(`option ${iscName}: '${item.map((t) => t.text).join(' ')}' is not a ${element}`);
      bytes.push(...intBytes(n < 0 ? n + 2 ** (8 * size) : n, size));
    }
  } else {
    return untranslatable('this option type is not translated; give the option as {code, data: "hex:…"}');
  }
  if (bytes.length > 255) return bad(`option ${iscName}: ${bytes.length} bytes; an option holds at most 255`);
  if (def.code === 121 || def.code === 249) {
    const routes = classlessRoutesText(bytes);
    if (routes === null) return bad(`option ${iscName}: not RFC 3442 classless routes`);
    return { ok: true, option: { code: def.code, data: routes } };
  }
  return { ok: true, option: { code: def.code, data: `hex:${hexText(Uint8Array.from(bytes))}` } };
}
