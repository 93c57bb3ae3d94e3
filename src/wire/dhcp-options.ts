// The DHCPv4 option catalogue: which code means what (RFC 2132 and later), how each option's
// text form (config files, API) becomes bytes and back, and fast typed getters for the engine.
// Pure: no I/O. Option data here is always the concatenated data of one option (RFC 3396 is the
// codec's business), without code and length bytes.

import type { Ipv4 } from './ipv4.js';
import { formatIpv4, isIpv4, parseIpv4, prefixToMask, toHex } from './ipv4.js';

export type OptionType =
  | 'ipv4'
  | 'ipv4List'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'int32'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'uint8List'
  | 'uint16List'
  | 'ipv4PairList'
  | 'domainList'
  | 'classlessRoutes'
  | 'fqdn'
  | 'relayAgentInfo'
  | 'vivso'
  | 'userClass';

/** A JSON value: the text form of an option in config and the API, and what decodeOptionValue returns. */
export type OptionValue =
  | string
  | number
  | boolean
  | readonly OptionValue[]
  | { readonly [key: string]: OptionValue };

export interface OptionDef {
  readonly code: number;
  /** camelCase, as written in config ("name": "routers"). */
  readonly name: string;
  readonly type: OptionType;
  /** Where the option is defined. */
  readonly rfc: string;
  /** A valid config value (also used by the docs table and the tests). */
  readonly example: OptionValue;
}

const CATALOGUE = [
  { code: 1, name: 'subnetMask', type: 'ipv4', rfc: 'RFC 2132 §3.3', example: '255.255.255.0' },
  { code: 2, name: 'timeOffset', type: 'int32', rfc: 'RFC 2132 §3.4', example: -18000 },
  { code: 3, name: 'routers', type: 'ipv4List', rfc: 'RFC 2132 §3.5', example: '10.0.0.1' },
  { code: 4, name: 'timeServers', type: 'ipv4List', rfc: 'RFC 2132 §3.6', example: '10.0.0.2, 10.0.0.3' },
  { code: 5, name: 'nameServers', type: 'ipv4List', rfc: 'RFC 2132 §3.7', example: '10.0.0.2' },
  {
    code: 6,
    name: 'domainNameServers',
    type: 'ipv4List',
    rfc: 'RFC 2132 §3.8',
    example: '10.0.0.53, 10.0.1.53',
  },
  { code: 7, name: 'logServers', type: 'ipv4List', rfc: 'RFC 2132 §3.9', example: '10.0.0.5' },
  { code: 8, name: 'cookieServers', type: 'ipv4List', rfc: 'RFC 2132 §3.10', example: '10.0.0.6' },
  { code: 9, name: 'lprServers', type: 'ipv4List', rfc: 'RFC 2132 §3.11', example: '10.0.0.7' },
  { code: 10, name: 'impressServers', type: 'ipv4List', rfc: 'RFC 2132 §3.12', example: '10.0.0.8' },
  { code: 11, name: 'resourceLocationServers', type: 'ipv4List', rfc: 'RFC 2132 §3.13', example: '10.0.0.9' },
  { code: 12, name: 'hostName', type: 'string', rfc: 'RFC 2132 §3.14', example: 'printer-3' },
  { code: 13, name: 'bootFileSize', type: 'uint16', rfc: 'RFC 2132 §3.15', example: 2048 },
  { code: 14, name: 'meritDumpFile', type: 'string', rfc: 'RFC 2132 §3.16', example: '/var/dump/core' },
  { code: 15, name: 'domainName', type: 'string', rfc: 'RFC 2132 §3.17', example: 'example.com' },
  { code: 16, name: 'swapServer', type: 'ipv4', rfc: 'RFC 2132 §3.18', example: '10.0.0.10' },
  { code: 17, name: 'rootPath', type: 'string', rfc: 'RFC 2132 §3.19', example: '/export/root/host3' },
  { code: 18, name: 'extensionsPath', type: 'string', rfc: 'RFC 2132 §3.20', example: '/tftpboot/ext' },
  { code: 19, name: 'ipForwarding', type: 'bool', rfc: 'RFC 2132 §4.1', example: false },
  { code: 20, name: 'nonLocalSourceRouting', type: 'bool', rfc: 'RFC 2132 §4.2', example: false },
  {
    code: 21,
    name: 'policyFilter',
    type: 'ipv4PairList',
    rfc: 'RFC 2132 §4.3',
    example: '10.0.0.0 255.0.0.0',
  },
  { code: 22, name: 'maxDatagramReassemblySize', type: 'uint16', rfc: 'RFC 2132 §4.4', example: 1500 },
  { code: 23, name: 'defaultIpTtl', type: 'uint8', rfc: 'RFC 2132 §4.5', example: 64 },
  { code: 24, name: 'pathMtuAgingTimeout', type: 'uint32', rfc: 'RFC 2132 §4.6', example: 600 },
  {
    code: 25,
    name: 'pathMtuPlateauTable',
    type: 'uint16List',
    rfc: 'RFC 2132 §4.7',
    example: '1500, 1492, 576',
  },
  { code: 26, name: 'interfaceMtu', type: 'uint16', rfc: 'RFC 2132 §5.1', example: 1500 },
  { code: 27, name: 'allSubnetsLocal', type: 'bool', rfc: 'RFC 2132 §5.2', example: true },
  { code: 28, name: 'broadcastAddress', type: 'ipv4', rfc: 'RFC 2132 §5.3', example: '10.0.0.255' },
  { code: 29, name: 'performMaskDiscovery', type: 'bool', rfc: 'RFC 2132 §5.4', example: false },
  { code: 30, name: 'maskSupplier', type: 'bool', rfc: 'RFC 2132 §5.5', example: false },
  { code: 31, name: 'performRouterDiscovery', type: 'bool', rfc: 'RFC 2132 §5.6', example: false },
  { code: 32, name: 'routerSolicitationAddress', type: 'ipv4', rfc: 'RFC 2132 §5.7', example: '224.0.0.2' },
  {
    code: 33,
    name: 'staticRoutes',
    type: 'ipv4PairList',
    rfc: 'RFC 2132 §5.8',
    example: '10.20.0.0 10.0.0.254',
  },
  { code: 34, name: 'trailerEncapsulation', type: 'bool', rfc: 'RFC 2132 §6.1', example: false },
  { code: 35, name: 'arpCacheTimeout', type: 'uint32', rfc: 'RFC 2132 §6.2', example: 300 },
  { code: 36, name: 'ethernetEncapsulation', type: 'bool', rfc: 'RFC 2132 §6.3', example: false },
  { code: 37, name: 'tcpDefaultTtl', type: 'uint8', rfc: 'RFC 2132 §7.1', example: 64 },
  { code: 38, name: 'tcpKeepaliveInterval', type: 'uint32', rfc: 'RFC 2132 §7.2', example: 7200 },
  { code: 39, name: 'tcpKeepaliveGarbage', type: 'bool', rfc: 'RFC 2132 §7.3', example: false },
  { code: 40, name: 'nisDomain', type: 'string', rfc: 'RFC 2132 §8.1', example: 'nis.example.com' },
  { code: 41, name: 'nisServers', type: 'ipv4List', rfc: 'RFC 2132 §8.2', example: '10.0.0.11' },
  { code: 42, name: 'ntpServers', type: 'ipv4List', rfc: 'RFC 2132 §8.3', example: '10.0.0.123, 10.0.1.123' },
  { code: 43, name: 'vendorSpecific', type: 'bytes', rfc: 'RFC 2132 §8.4', example: 'hex:0104c0a80001' },
  { code: 44, name: 'netbiosNameServers', type: 'ipv4List', rfc: 'RFC 2132 §8.5', example: '10.0.0.12' },
  {
    code: 45,
    name: 'netbiosDatagramDistributionServers',
    type: 'ipv4List',
    rfc: 'RFC 2132 §8.6',
    example: '10.0.0.13',
  },
  { code: 46, name: 'netbiosNodeType', type: 'uint8', rfc: 'RFC 2132 §8.7', example: 8 },
  { code: 47, name: 'netbiosScope', type: 'string', rfc: 'RFC 2132 §8.8', example: 'corp' },
  { code: 48, name: 'xWindowFontServers', type: 'ipv4List', rfc: 'RFC 2132 §8.9', example: '10.0.0.14' },
  { code: 49, name: 'xWindowDisplayManagers', type: 'ipv4List', rfc: 'RFC 2132 §8.10', example: '10.0.0.15' },
  { code: 50, name: 'requestedAddress', type: 'ipv4', rfc: 'RFC 2132 §9.1', example: '10.0.0.42' },
  { code: 51, name: 'leaseTime', type: 'uint32', rfc: 'RFC 2132 §9.2', example: 86400 },
  { code: 52, name: 'overload', type: 'uint8', rfc: 'RFC 2132 §9.3', example: 3 },
  { code: 53, name: 'messageType', type: 'uint8', rfc: 'RFC 2132 §9.6', example: 5 },
  { code: 54, name: 'serverIdentifier', type: 'ipv4', rfc: 'RFC 2132 §9.7', example: '10.0.0.1' },
  {
    code: 55,
    name: 'parameterRequestList',
    type: 'uint8List',
    rfc: 'RFC 2132 §9.8',
    example: '1, 3, 6, 15, 42',
  },
  { code: 56, name: 'message', type: 'string', rfc: 'RFC 2132 §9.9', example: 'address not available' },
  { code: 57, name: 'maxMessageSize', type: 'uint16', rfc: 'RFC 2132 §9.10', example: 1500 },
  { code: 58, name: 'renewalTime', type: 'uint32', rfc: 'RFC 2132 §9.11', example: 43200 },
  { code: 59, name: 'rebindingTime', type: 'uint32', rfc: 'RFC 2132 §9.12', example: 75600 },
  {
    code: 60,
    name: 'vendorClassId',
    type: 'string',
    rfc: 'RFC 2132 §9.13',
    example: 'PXEClient:Arch:00007:UNDI:003016',
  },
  { code: 61, name: 'clientId', type: 'bytes', rfc: 'RFC 2132 §9.14', example: 'hex:01:00:11:22:33:44:55' },
  { code: 62, name: 'netwareIpDomain', type: 'string', rfc: 'RFC 2242 §2', example: 'nwip.example.com' },
  { code: 63, name: 'netwareIpInformation', type: 'bytes', rfc: 'RFC 2242 §3', example: 'hex:0100' },
  { code: 64, name: 'nisPlusDomain', type: 'string', rfc: 'RFC 2132 §8.11', example: 'nisplus.example.com' },
  { code: 65, name: 'nisPlusServers', type: 'ipv4List', rfc: 'RFC 2132 §8.12', example: '10.0.0.16' },
  { code: 66, name: 'tftpServerName', type: 'string', rfc: 'RFC 2132 §9.4', example: 'tftp.example.com' },
  { code: 67, name: 'bootfileName', type: 'string', rfc: 'RFC 2132 §9.5', example: 'pxelinux.0' },
  { code: 69, name: 'smtpServers', type: 'ipv4List', rfc: 'RFC 2132 §8.14', example: '10.0.0.25' },
  { code: 70, name: 'pop3Servers', type: 'ipv4List', rfc: 'RFC 2132 §8.15', example: '10.0.0.110' },
  { code: 71, name: 'nntpServers', type: 'ipv4List', rfc: 'RFC 2132 §8.16', example: '10.0.0.119' },
  { code: 72, name: 'wwwServers', type: 'ipv4List', rfc: 'RFC 2132 §8.17', example: '10.0.0.80' },
  { code: 73, name: 'fingerServers', type: 'ipv4List', rfc: 'RFC 2132 §8.18', example: '10.0.0.79' },
  { code: 74, name: 'ircServers', type: 'ipv4List', rfc: 'RFC 2132 §8.19', example: '10.0.0.194' },
  { code: 75, name: 'streetTalkServers', type: 'ipv4List', rfc: 'RFC 2132 §8.20', example: '10.0.0.17' },
  { code: 76, name: 'stdaServers', type: 'ipv4List', rfc: 'RFC 2132 §8.21', example: '10.0.0.18' },
  { code: 77, name: 'userClass', type: 'userClass', rfc: 'RFC 3004 §4', example: 'iPXE' },
  { code: 80, name: 'rapidCommit', type: 'bytes', rfc: 'RFC 4039 §4', example: 'hex:' },
  { code: 81, name: 'clientFqdn', type: 'fqdn', rfc: 'RFC 4702 §2', example: 'host3.example.com.' },
  {
    code: 82,
    name: 'relayAgentInfo',
    type: 'relayAgentInfo',
    rfc: 'RFC 3046 §2',
    example: 'hex:010465746830',
  },
  {
    code: 90,
    name: 'authentication',
    type: 'bytes',
    rfc: 'RFC 3118 §2',
    example: 'hex:000000000000000000000000',
  },
  { code: 91, name: 'clientLastTransactionTime', type: 'uint32', rfc: 'RFC 4388 §6.1', example: 120 },
  { code: 92, name: 'associatedIp', type: 'ipv4List', rfc: 'RFC 4388 §6.2', example: '10.0.0.42' },
  { code: 93, name: 'clientSystemArchitecture', type: 'uint16List', rfc: 'RFC 4578 §2.1', example: 7 },
  { code: 94, name: 'clientNetworkInterfaceId', type: 'bytes', rfc: 'RFC 4578 §2.2', example: 'hex:010201' },
  { code: 97, name: 'clientMachineId', type: 'bytes', rfc: 'RFC 4578 §2.3', example: 'hex:00' },
  {
    code: 100,
    name: 'posixTimezone',
    type: 'string',
    rfc: 'RFC 4833 §2',
    example: 'EST5EDT4,M3.2.0/02:00,M11.1.0/02:00',
  },
  { code: 101, name: 'tzdbTimezone', type: 'string', rfc: 'RFC 4833 §2', example: 'Europe/Zurich' },
  { code: 108, name: 'ipv6OnlyPreferred', type: 'uint32', rfc: 'RFC 8925 §3.1', example: 1800 },
  {
    code: 114,
    name: 'captivePortal',
    type: 'string',
    rfc: 'RFC 8910 §2.1',
    example: 'https://portal.example.net/api',
  },
  { code: 116, name: 'autoConfigure', type: 'uint8', rfc: 'RFC 2563 §2', example: 0 },
  { code: 118, name: 'subnetSelection', type: 'ipv4', rfc: 'RFC 3011 §3', example: '10.1.0.0' },
  {
    code: 119,
    name: 'domainSearch',
    type: 'domainList',
    rfc: 'RFC 3397 §2',
    example: 'example.com, corp.example.com',
  },
  {
    code: 121,
    name: 'classlessStaticRoutes',
    type: 'classlessRoutes',
    rfc: 'RFC 3442',
    example: '10.20.0.0/16 10.0.0.254, 0.0.0.0/0 10.0.0.1',
  },
  { code: 124, name: 'vivco', type: 'bytes', rfc: 'RFC 3925 §3', example: 'hex:0000118b0706646f63736973' },
  { code: 125, name: 'vivso', type: 'vivso', rfc: 'RFC 3925 §4', example: '4491 hex:0204c0a80001' },
  { code: 150, name: 'tftpServerAddress', type: 'ipv4List', rfc: 'RFC 5859 §3', example: '10.0.0.69' },
  {
    code: 249,
    name: 'msClasslessStaticRoutes',
    type: 'classlessRoutes',
    rfc: 'Microsoft (RFC 3442 format)',
    example: '10.20.0.0/16 10.0.0.254',
  },
  {
    code: 252,
    name: 'wpadUrl',
    type: 'string',
    rfc: 'private use (WPAD draft)',
    example: 'http://wpad.example.com/wpad.dat',
  },
] as const satisfies readonly OptionDef[];

type CatalogueEntry = (typeof CATALOGUE)[number];
export type OptionName = CatalogueEntry['name'];

/** Option codes by name: `OPTION.routers === 3`. */
export const OPTION = Object.freeze(Object.fromEntries(CATALOGUE.map((d) => [d.name, d.code]))) as {
  readonly [D in CatalogueEntry as D['name']]: D['code'];
};

/** Every catalogued option, by code. */
export const OPTION_CATALOGUE: readonly OptionDef[] = CATALOGUE;

const BY_CODE: (OptionDef | undefined)[] = new Array(256).fill(undefined);
const BY_NAME = new Map<string, OptionDef>();
for (const d of CATALOGUE) {
  BY_CODE[d.code] = d;
  BY_NAME.set(d.name, d);
}

export function optionByCode(code: number): OptionDef | undefined {
  return Number.isInteger(code) && code >= 0 && code < 256 ? BY_CODE[code] : undefined;
}

export function optionByName(name: string): OptionDef | undefined {
  return BY_NAME.get(name);
}

// ---------------------------------------------------------------------------------------------
// Relay agent information (option 82) sub-options.
// ---------------------------------------------------------------------------------------------

type SubOptionType = 'text' | 'ipv4' | 'flag' | 'uint8' | 'bytes';

export interface RelayAgentSubOptionDef {
  readonly code: number;
  readonly name: string;
  readonly type: SubOptionType;
  readonly rfc: string;
}

export const RELAY_AGENT_SUBOPTIONS: readonly RelayAgentSubOptionDef[] = [
  { code: 1, name: 'circuitId', type: 'text', rfc: 'RFC 3046 §3.1' },
  { code: 2, name: 'remoteId', type: 'text', rfc: 'RFC 3046 §3.2' },
  { code: 4, name: 'docsisDeviceClass', type: 'bytes', rfc: 'RFC 3256 §3' },
  { code: 5, name: 'linkSelection', type: 'ipv4', rfc: 'RFC 3527 §3' },
  { code: 6, name: 'subscriberId', type: 'text', rfc: 'RFC 3993 §3' },
  { code: 7, name: 'radiusAttributes', type: 'bytes', rfc: 'RFC 4014 §3' },
  { code: 8, name: 'authentication', type: 'bytes', rfc: 'RFC 4030 §4' },
  { code: 9, name: 'vendorSpecific', type: 'bytes', rfc: 'RFC 4243 §2' },
  { code: 10, name: 'relayAgentFlags', type: 'uint8', rfc: 'RFC 5010 §3' },
  { code: 11, name: 'serverIdOverride', type: 'ipv4', rfc: 'RFC 5107 §4' },
  { code: 12, name: 'relayId', type: 'bytes', rfc: 'RFC 6925 §3' },
  // RFC 8357 §5.1: zero-length; its presence says the relay listens on its UDP source port.
  { code: 19, name: 'relayPort', type: 'flag', rfc: 'RFC 8357 §5.1' },
  { code: 151, name: 'virtualSubnetSelection', type: 'bytes', rfc: 'RFC 6607 §3.1' },
  { code: 152, name: 'virtualSubnetSelectionControl', type: 'flag', rfc: 'RFC 6607 §3.2' },
];

/** Relay agent sub-option codes by name. */
export const RELAY_AGENT_SUBOPTION = {
  circuitId: 1,
  remoteId: 2,
  docsisDeviceClass: 4,
  linkSelection: 5,
  subscriberId: 6,
  radiusAttributes: 7,
  authentication: 8,
  vendorSpecific: 9,
  relayAgentFlags: 10,
  serverIdOverride: 11,
  relayId: 12,
  relayPort: 19,
  virtualSubnetSelection: 151,
  virtualSubnetSelectionControl: 152,
} as const;

const SUB_BY_CODE: (RelayAgentSubOptionDef | undefined)[] = new Array(256).fill(undefined);
const SUB_BY_NAME = new Map<string, RelayAgentSubOptionDef>();
for (const d of RELAY_AGENT_SUBOPTIONS) {
  SUB_BY_CODE[d.code] = d;
  SUB_BY_NAME.set(d.name, d);
}

/**
 * Option 82 data → sub-options by code (RFC 3046 §2: code, length, data; no pad, no end).
 * null when a sub-option runs past the data. A repeated sub-option code keeps its first value:
 * RFC 3046 defines no concatenation for sub-options.
 */
export function parseRelayAgentInfo(data: Uint8Array): Map<number, Uint8Array> | null {
  const subs = new Map<number, Uint8Array>();
  let i = 0;
  while (i < data.length) {
    if (i + 1 >= data.length) return null;
    const code = data[i]!;
    const length = data[i + 1]!;
    if (i + 2 + length > data.length) return null;
    if (!subs.has(code)) subs.set(code, data.slice(i + 2, i + 2 + length));
    i += 2 + length;
  }
  return subs;
}

/** One sub-option of option 82 data without building a map (first occurrence); null if absent or malformed. */
export function relayAgentSubOption(data: Uint8Array, subCode: number): Uint8Array | null {
  let i = 0;
  let found: Uint8Array | null = null;
  while (i < data.length) {
    if (i + 1 >= data.length) return null;
    const code = data[i]!;
    const length = data[i + 1]!;
    if (i + 2 + length > data.length) return null;
    if (code === subCode && found === null) found = data.subarray(i + 2, i + 2 + length);
    i += 2 + length;
  }
  return found;
}

/** Builds option 82 data from sub-options in iteration order. Throws RangeError on a code outside 0–255 or data over 255 bytes. */
export function encodeRelayAgentInfo(subOptions: Iterable<readonly [number, Uint8Array]>): Uint8Array {
  const parts: (readonly [number, Uint8Array])[] = [];
  let total = 0;
  for (const entry of subOptions) {
    const [code, data] = entry;
    if (!Number.isInteger(code) || code < 0 || code > 255)
      throw new RangeError(`relay agent sub-option code ${code} is outside 0–255`);
    if (data.length > 255)
      throw new RangeError(`relay agent sub-option ${code} has ${data.length} bytes; at most 255 fit`);
    parts.push(entry);
    total += 2 + data.length;
  }
  const out = new Uint8Array(total);
  let w = 0;
  for (const [code, data] of parts) {
    out[w] = code;
    out[w + 1] = data.length;
    out.set(data, w + 2);
    w += 2 + data.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hot-path getters: exact lengths, no allocation beyond the result.
// ---------------------------------------------------------------------------------------------

export type OptionMap = ReadonlyMap<number, Uint8Array>;

function ipv4At(d: Uint8Array, i: number): Ipv4 {
  return ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;
}

/** A single-address option (exactly 4 bytes), e.g. 50, 54, 118. */
export function getIpv4Option(options: OptionMap, code: number): Ipv4 | null {
  const d = options.get(code);
  return d !== undefined && d.length === 4 ? ipv4At(d, 0) : null;
}

export function getUint8Option(options: OptionMap, code: number): number | null {
  const d = options.get(code);
  return d !== undefined && d.length === 1 ? d[0]! : null;
}

export function getUint16Option(options: OptionMap, code: number): number | null {
  const d = options.get(code);
  return d !== undefined && d.length === 2 ? (d[0]! << 8) | d[1]! : null;
}

export function getUint32Option(options: OptionMap, code: number): number | null {
  const d = options.get(code);
  return d !== undefined && d.length === 4 ? ipv4At(d, 0) : null;
}

const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** A text option as a string: trailing NULs stripped (many clients NUL-terminate), UTF-8 with replacement. */
export function getStringOption(options: OptionMap, code: number): string | null {
  const d = options.get(code);
  if (d === undefined) return null;
  let end = d.length;
  while (end > 0 && d[end - 1] === 0) end--;
  let ascii = true;
  for (let i = 0; i < end; i++) {
    if (d[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return lenientUtf8.decode(d.subarray(0, end));
  let s = '';
  for (let i = 0; i < end; i++) s += String.fromCharCode(d[i]!);
  return s;
}

export function getBytesOption(options: OptionMap, code: number): Uint8Array | null {
  return options.get(code) ?? null;
}

/** RFC 3527: the link-selection sub-option (5) of option 82, when exactly 4 bytes. */
export function linkSelectionOf(options: OptionMap): Ipv4 | null {
  const rai = options.get(82);
  if (rai === undefined) return null;
  const d = relayAgentSubOption(rai, 5);
  return d !== null && d.length === 4 ? ipv4At(d, 0) : null;
}

/** RFC 5107: the server-identifier-override sub-option (11) of option 82, when exactly 4 bytes. */
export function serverIdOverrideOf(options: OptionMap): Ipv4 | null {
  const rai = options.get(82);
  if (rai === undefined) return null;
  const d = relayAgentSubOption(rai, 11);
  return d !== null && d.length === 4 ? ipv4At(d, 0) : null;
}

/** RFC 3011: the subnet selection option (118). */
export function subnetSelectionOf(options: OptionMap): Ipv4 | null {
  return getIpv4Option(options, 118);
}

// ---------------------------------------------------------------------------------------------
// Client FQDN (option 81, RFC 4702).
// ---------------------------------------------------------------------------------------------

/** RFC 4702 §2.1 flag bits. */
export const FQDN_FLAG = { S: 0x01, O: 0x02, E: 0x04, N: 0x08 } as const;
const FQDN_MBZ = 0xf0;
const FQDN_LETTERS = ['S', 'O', 'E', 'N'] as const;

export interface ClientFqdn {
  flags: number;
  rcode1: number;
  rcode2: number;
  /** Dotted name without a trailing dot; '' when the client sent no name. */
  name: string;
  /** E flag set and the name ends with the root label (RFC 4702 §2.3.1), or ASCII form ending in '.'. */
  isFullyQualified: boolean;
}

const LABEL = /^[A-Za-z0-9_-]{1,63}$/;

/**
 * Reads uncompressed wire-format labels from d[start..end) (RFC 4702 §2.3.1 forbids compression).
 * Labels are host-name characters, or with `isAnyPrintable` any printable ASCII (the same as the
 * ASCII encoding accepts), for a caller that sanitises the name itself.
 */
function readWireName(
  d: Uint8Array,
  start: number,
  end: number,
  isAnyPrintable = false,
): { labels: string[]; isRooted: boolean } | null {
  const labels: string[] = [];
  let pos = start;
  let wireLength = 0;
  while (pos < end) {
    const length = d[pos]!;
    if (length === 0) {
      if (pos !== end - 1) return null;
      return wireLength + 1 > 255 ? null : { labels, isRooted: true };
    }
    if (length > 63 || pos + 1 + length > end) return null;
    const label = isAnyPrintable
      ? isPrintableAscii(d, pos + 1, pos + 1 + length)
        ? String.fromCharCode(...d.subarray(pos + 1, pos + 1 + length))
        : null
      : asciiLabel(d, pos + 1, length);
    if (label === null) return null;
    labels.push(label);
    wireLength += length + 1;
    pos += length + 1;
  }
  return wireLength > 255 ? null : { labels, isRooted: false };
}

function asciiLabel(d: Uint8Array, start: number, length: number): string | null {
  let s = '';
  for (let i = start; i < start + length; i++) s += String.fromCharCode(d[i]!);
  return LABEL.test(s) ? s : null;
}

function isPrintableAscii(d: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (d[i]! < 0x20 || d[i]! > 0x7e) return false;
  return true;
}

export interface ParseClientFqdnOptions {
  /**
   * Accept wire-format labels of any printable ASCII, as the ASCII encoding is accepted (for the
   * DNS name decision, which sanitises labels). Default: host-name characters only, so that
   * every decoded value encodes again.
   */
  isAnyPrintableLabel?: boolean;
}

/** Option 81 data → its fields; null when malformed (short, MBZ bits set, bad name encoding). */
export function parseClientFqdn(data: Uint8Array, opts: ParseClientFqdnOptions = {}): ClientFqdn | null {
  if (data.length < 3) return null;
  const flags = data[0]!;
  if (flags & FQDN_MBZ) return null;
  // RFC 4702 §2.1: if N is 1, S MUST be 0.
  if (flags & FQDN_FLAG.N && flags & FQDN_FLAG.S) return null;
  const rcode1 = data[1]!;
  const rcode2 = data[2]!;
  if (flags & FQDN_FLAG.E) {
    const wire = readWireName(data, 3, data.length, opts.isAnyPrintableLabel === true);
    if (wire === null) return null;
    return { flags, rcode1, rcode2, name: wire.labels.join('.'), isFullyQualified: wire.isRooted };
  }
  // RFC 4702 §2.3.2: the deprecated ASCII encoding.
  if (!isPrintableAscii(data, 3, data.length)) return null;
  let name = '';
  for (let i = 3; i < data.length; i++) name += String.fromCharCode(data[i]!);
  const isFullyQualified = name.endsWith('.');
  return { flags, rcode1, rcode2, name: isFullyQualified ? name.slice(0, -1) : name, isFullyQualified };
}

// ---------------------------------------------------------------------------------------------
// Text form → bytes.
// ---------------------------------------------------------------------------------------------

export type OptionEncodeResult =
  | { ok: true; code: number; data: Uint8Array }
  | { ok: false; message: string };

/** Internal: a precise, user-facing problem with a config value. Never escapes this module. */
class ValueError extends Error {}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const HEX_PREFIX = /^hex:/i;
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function parseHex(text: string, label: string): Uint8Array {
  const digits = text.replace(HEX_PREFIX, '').replace(/[\s:.-]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits))
    throw new ValueError(`${label}: '${text}' is not hex (e.g. hex:01aabbccddeeff)`);
  if (digits.length % 2 !== 0) throw new ValueError(`${label}: '${text}' has an odd number of hex digits`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function hexForm(data: Uint8Array): string {
  return `hex:${toHex(data)}`;
}

function parseIpv4Text(value: unknown, label: string): Ipv4 {
  if (typeof value !== 'string')
    throw new ValueError(`${label}: expected an IPv4 address, got ${describe(value)}`);
  const text = value.trim();
  if (!isIpv4(text)) throw new ValueError(`${label}: '${value}' is not an IPv4 address`);
  return parseIpv4(text);
}

function parseInteger(value: unknown, min: number, max: number, label: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const t = value.trim();
    if (/^[+-]?\d+$/.test(t)) n = Number(t);
    else if (/^0x[0-9a-f]+$/i.test(t)) n = Number.parseInt(t.slice(2), 16);
    else throw new ValueError(`${label}: '${value}' is not an integer`);
  } else throw new ValueError(`${label}: expected an integer, got ${describe(value)}`);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ValueError(
      `${label}: ${typeof value === 'string' ? `'${value}'` : value} is not an integer in ${min}–${max}`,
    );
  }
  return n;
}

/** A list value: an array, or a string split on `separator`. Numbers and booleans are one item. */
function listItems(value: OptionValue, separator: RegExp, label: string): (string | number)[] {
  if (typeof value === 'string') {
    return value
      .split(separator)
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) {
    return value.map((item: OptionValue, i: number) => {
      if (typeof item === 'number') return item;
      if (typeof item === 'string' && item.trim() !== '') return item.trim();
      throw new ValueError(
        `${label}: list entry ${i} (${describe(item)}) must be a non-empty string or a number`,
      );
    });
  }
  throw new ValueError(`${label}: expected a list, got ${describe(value)}`);
}

function nonEmpty<T>(items: T[], label: string, what: string): T[] {
  if (items.length === 0) throw new ValueError(`${label}: at least one ${what} is required`);
  return items;
}

function textBytes(value: unknown, label: string): Uint8Array {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new ValueError(`${label}: expected text, got ${describe(value)}`);
  }
  const text = String(value);
  if (text === '') throw new ValueError(`${label}: must not be empty`);
  const control = CONTROL.exec(text);
  if (control) {
    const cp = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new ValueError(
      `${label}: control character U+${cp} at index ${control.index}; give binary data as hex:…`,
    );
  }
  if (LONE_SURROGATE.test(text)) throw new ValueError(`${label}: text is not valid Unicode (lone surrogate)`);
  return utf8Encoder.encode(text);
}

/** Text rule shared by decoders: valid UTF-8, no control characters, not mistakable for hex:…. */
function decodeText(d: Uint8Array): string | null {
  if (d.length === 0) return null;
  let s: string;
  try {
    s = strictUtf8.decode(d);
  } catch {
    return null;
  }
  return CONTROL.test(s) || HEX_PREFIX.test(s) ? null : s;
}

function textOrHex(d: Uint8Array): string {
  return decodeText(d) ?? hexForm(d);
}

/** A sub-value that may be text or hex:… (circuit ids, user classes). */
function textOrHexBytes(value: unknown, label: string): Uint8Array {
  if (typeof value === 'string' && HEX_PREFIX.test(value)) return parseHex(value, label);
  return textBytes(value, label);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let w = 0;
  for (const p of parts) {
    out.set(p, w);
    w += p.length;
  }
  return out;
}

function u32Bytes(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

/** "example.com" / "example.com." → labels, validated (RFC 1035 §2.3.4: labels ≤63, name ≤255 on the wire). */
function domainLabels(text: string, label: string): string[] {
  const bare = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = bare.split('.');
  let wireLength = 1;
  for (const l of labels) {
    if (!LABEL.test(l)) {
      throw new ValueError(
        l === ''
          ? `${label}: '${text}' is not a domain name (empty label)`
          : `${label}: '${text}' is not a domain name (label '${l}': 1–63 of letters, digits, '-', '_')`,
      );
    }
    wireLength += l.length + 1;
  }
  if (wireLength > 255) throw new ValueError(`${label}: '${text}' is longer than 255 bytes in wire form`);
  return labels;
}

function wireName(labels: readonly string[], isRooted: boolean): number[] {
  const out: number[] = [];
  for (const l of labels) {
    out.push(l.length);
    for (let i = 0; i < l.length; i++) out.push(l.charCodeAt(i));
  }
  if (isRooted) out.push(0);
  return out;
}

function encodeFqdn(value: OptionValue, label: string): Uint8Array {
  let flagsText: unknown = 'E';
  // RFC 4702 §2.2: servers send 255 in both (deprecated) RCODE fields.
  let rcode1: unknown = 255;
  let rcode2: unknown = 255;
  let name: unknown;
  if (typeof value === 'string') name = value;
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as { readonly [key: string]: OptionValue };
    for (const key of Object.keys(o)) {
      if (key !== 'flags' && key !== 'rcode1' && key !== 'rcode2' && key !== 'name') {
        throw new ValueError(`${label}: unknown field '${key}' (expected flags, rcode1, rcode2, name)`);
      }
    }
    if (o.flags !== undefined) flagsText = o.flags;
    if (o.rcode1 !== undefined) rcode1 = o.rcode1;
    if (o.rcode2 !== undefined) rcode2 = o.rcode2;
    name = o.name;
  } else
    throw new ValueError(
      `${label}: expected a name or {flags, rcode1, rcode2, name}, got ${describe(value)}`,
    );
  if (typeof flagsText !== 'string' || !/^[SOENsoen]*$/.test(flagsText)) {
    throw new ValueError(`${label}: flags ${describe(flagsText)} must be letters from S, O, E, N`);
  }
  let flags = 0;
  for (const c of flagsText.toUpperCase()) flags |= FQDN_FLAG[c as keyof typeof FQDN_FLAG];
  if (flags & FQDN_FLAG.N && flags & FQDN_FLAG.S) {
    throw new ValueError(`${label}: flags N and S cannot both be set (RFC 4702 §2.1)`);
  }
  const r1 = parseInteger(rcode1, 0, 255, `${label} rcode1`);
  const r2 = parseInteger(rcode2, 0, 255, `${label} rcode2`);
  if (typeof name !== 'string')
    throw new ValueError(`${label}: name must be a string, got ${describe(name)}`);
  let nameBytes: number[];
  if (flags & FQDN_FLAG.E) {
    if (name === '') nameBytes = [];
    else if (name === '.') nameBytes = [0];
    else nameBytes = wireName(domainLabels(name, label), name.endsWith('.'));
  } else {
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c < 0x20 || c > 0x7e)
        throw new ValueError(`${label}: ASCII-form name '${name}' has a non-printable character`);
    }
    nameBytes = [...name].map((c) => c.charCodeAt(0));
  }
  return new Uint8Array([flags, r1, r2, ...nameBytes]);
}

function encodeRelayAgentInfoValue(value: OptionValue, label: string): Uint8Array {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValueError(
      `${label}: expected an object of sub-options (e.g. {"circuitId": "eth0"}) or hex:…, got ${describe(value)}`,
    );
  }
  const o = value as { readonly [key: string]: OptionValue };
  const seen = new Set<number>();
  const parts: [number, Uint8Array][] = [];
  for (const key of Object.keys(o)) {
    const def = SUB_BY_NAME.get(key);
    const numbered = /^sub(\d{1,3})$/.exec(key);
    const code = def?.code ?? (numbered ? Number(numbered[1]) : -1);
    if (code < 0 || code > 255) {
      throw new ValueError(
        `${label}: unknown sub-option '${key}' (known: ${RELAY_AGENT_SUBOPTIONS.map((d) => d.name).join(', ')}; or sub<N>)`,
      );
    }
    if (seen.has(code)) throw new ValueError(`${label}: sub-option ${code} given twice`);
    seen.add(code);
    const v = o[key]!;
    const subLabel = `${label}.${key}`;
    let data: Uint8Array;
    if (typeof v === 'string' && HEX_PREFIX.test(v)) data = parseHex(v, subLabel);
    else {
      switch (def?.type ?? 'bytes') {
        case 'text':
          data = textBytes(v, subLabel);
          break;
        case 'ipv4':
          data = u32Bytes(parseIpv4Text(v, subLabel));
          break;
        case 'uint8':
          data = new Uint8Array([parseInteger(v, 0, 255, subLabel)]);
          break;
        case 'flag':
          if (v !== true) throw new ValueError(`${subLabel}: a flag sub-option takes true`);
          data = new Uint8Array(0);
          break;
        case 'bytes':
          if (typeof v !== 'string') throw new ValueError(`${subLabel}: expected hex, got ${describe(v)}`);
          data = parseHex(v, subLabel);
          break;
      }
    }
    if (data.length > 255)
      throw new ValueError(`${subLabel}: ${data.length} bytes; a sub-option holds at most 255`);
    parts.push([code, data]);
  }
  return encodeRelayAgentInfo(parts);
}

function encodeVivso(value: OptionValue, label: string): Uint8Array {
  const entries: OptionValue[] =
    typeof value === 'string'
      ? value.split(',').filter((s) => s.trim() !== '')
      : Array.isArray(value)
        ? [...value]
        : [value];
  const parts: Uint8Array[] = [];
  for (const entry of nonEmpty(entries, label, 'enterprise entry')) {
    let enterprise: number;
    let data: Uint8Array;
    if (typeof entry === 'string') {
      const m = /^\s*(\d+)(?:\s+(\S+))?\s*$/.exec(entry);
      if (!m) throw new ValueError(`${label}: '${entry.trim()}' is not '<enterprise-number> hex:<data>'`);
      enterprise = parseInteger(m[1]!, 0, 0xffffffff, `${label} enterprise number`);
      data = m[2] === undefined ? new Uint8Array(0) : parseHex(m[2], label);
    } else if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
      const o = entry as { readonly [key: string]: OptionValue };
      enterprise = parseInteger(o.enterpriseNumber, 0, 0xffffffff, `${label} enterpriseNumber`);
      const d = o.data ?? 'hex:';
      if (typeof d !== 'string') throw new ValueError(`${label}: data must be hex, got ${describe(d)}`);
      data = parseHex(d, label);
    } else
      throw new ValueError(`${label}: expected '<enterprise-number> hex:<data>', got ${describe(entry)}`);
    // RFC 3925 §4: data-len is one octet.
    if (data.length > 255)
      throw new ValueError(
        `${label}: data for enterprise ${enterprise} is ${data.length} bytes; at most 255`,
      );
    parts.push(u32Bytes(enterprise), new Uint8Array([data.length]), data);
  }
  return concat(parts);
}

function encodeTyped(def: OptionDef, value: OptionValue): Uint8Array {
  const label = def.name;
  switch (def.type) {
    case 'ipv4':
      return u32Bytes(parseIpv4Text(value, label));
    case 'ipv4List': {
      const items = nonEmpty(listItems(value, /[\s,]+/, label), label, 'IPv4 address');
      return concat(items.map((s) => u32Bytes(parseIpv4Text(s, label))));
    }
    case 'uint8':
      return new Uint8Array([parseInteger(value, 0, 0xff, label)]);
    case 'uint16': {
      const n = parseInteger(value, 0, 0xffff, label);
      return new Uint8Array([n >> 8, n & 255]);
    }
    case 'uint32':
      return u32Bytes(parseInteger(value, 0, 0xffffffff, label));
    case 'int32':
      return u32Bytes(parseInteger(value, -0x80000000, 0x7fffffff, label) >>> 0);
    case 'bool': {
      const t = typeof value === 'string' ? value.trim().toLowerCase() : value;
      if (t === true || t === 1 || t === 'true' || t === 'yes' || t === 'on' || t === '1')
        return new Uint8Array([1]);
      if (t === false || t === 0 || t === 'false' || t === 'no' || t === 'off' || t === '0')
        return new Uint8Array([0]);
      throw new ValueError(`${label}: ${describe(value)} is not a boolean (true/false)`);
    }
    case 'string':
      return textBytes(value, label);
    case 'bytes':
      if (typeof value === 'string') return parseHex(value, label);
      if (Array.isArray(value))
        return new Uint8Array(listItems(value, /,/, label).map((b) => parseInteger(b, 0, 255, label)));
      throw new ValueError(`${label}: expected hex (e.g. hex:01aabb), got ${describe(value)}`);
    case 'uint8List': {
      const items = nonEmpty(listItems(value, /[\s,]+/, label), label, 'number');
      return new Uint8Array(items.map((s) => parseInteger(s, 0, 0xff, label)));
    }
    case 'uint16List': {
      const items = nonEmpty(listItems(value, /[\s,]+/, label), label, 'number');
      const out = new Uint8Array(items.length * 2);
      items.forEach((s, i) => {
        const n = parseInteger(s, 0, 0xffff, label);
        out[2 * i] = n >> 8;
        out[2 * i + 1] = n & 255;
      });
      return out;
    }
    case 'ipv4PairList': {
      const items = nonEmpty(listItems(value, /,/, label), label, 'address pair');
      return concat(
        items.map((item) => {
          const parts = String(item).split(/\s+/);
          if (parts.length !== 2)
            throw new ValueError(`${label}: '${item}' is not a pair of IPv4 addresses separated by a space`);
          return concat([u32Bytes(parseIpv4Text(parts[0], label)), u32Bytes(parseIpv4Text(parts[1], label))]);
        }),
      );
    }
    case 'domainList': {
      // RFC 3397 §2 allows compression; we never compress on encode (simpler, and lists are short).
      const items = nonEmpty(listItems(value, /[\s,]+/, label), label, 'domain name');
      return new Uint8Array(items.flatMap((name) => wireName(domainLabels(String(name), label), true)));
    }
    case 'classlessRoutes': {
      const items = nonEmpty(listItems(value, /,/, label), label, 'route');
      const out: number[] = [];
      for (const item of items) {
        const m = /^(\S+)\/(\d{1,2})\s+(?:-\s+)?(\S+)$/.exec(String(item));
        if (!m) throw new ValueError(`${label}: '${item}' is not '<network>/<prefix> <router>'`);
        const network = parseIpv4Text(m[1], label);
        const prefix = Number(m[2]);
        if (prefix > 32) throw new ValueError(`${label}: '${item}' has prefix length ${prefix} (0–32)`);
        const mask = prefixToMask(prefix);
        if ((network & mask) >>> 0 !== network) {
          throw new ValueError(
            `${label}: '${item}' has host bits set (did you mean ${formatIpv4((network & mask) >>> 0)}/${prefix}?)`,
          );
        }
        // RFC 3442 §2: width, then only the significant octets of the destination, then the router.
        out.push(prefix);
        for (let i = 0; i < Math.ceil(prefix / 8); i++) out.push((network >>> (24 - 8 * i)) & 255);
        out.push(...u32Bytes(parseIpv4Text(m[3], label)));
      }
      return new Uint8Array(out);
    }
    case 'fqdn':
      return encodeFqdn(value, label);
    case 'relayAgentInfo':
      return encodeRelayAgentInfoValue(value, label);
    case 'vivso':
      return encodeVivso(value, label);
    case 'userClass': {
      // RFC 3004 §4: each class is length-prefixed; a string is a comma-separated list.
      const items =
        typeof value === 'string' ? listItems(value, /,/, label) : Array.isArray(value) ? value : [value];
      const parts = nonEmpty([...items], label, 'user class').map((item, i) => {
        const itemLabel = items.length > 1 ? `${label} entry ${i}` : label;
        const data = textOrHexBytes(item, itemLabel);
        if (data.length === 0 || data.length > 255) {
          throw new ValueError(`${itemLabel}: ${data.length} bytes; each user class is 1–255 bytes`);
        }
        return concat([new Uint8Array([data.length]), data]);
      });
      return concat(parts);
    }
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function suggestName(name: string): string {
  let best = '';
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const d of CATALOGUE) {
    const distance = editDistance(lower, d.name.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = d.name;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean '${best}'?)` : '';
}

/**
 * A config/API value → option bytes. `value` is the option type's text form (see
 * docs/dhcp-options.md); "hex:…" is accepted for every option and is the only form accepted for
 * codes outside the catalogue. Never throws; problems come back as one precise message.
 */
export function encodeOptionValue(codeOrName: number | string, value: OptionValue): OptionEncodeResult {
  let code: number;
  let def: OptionDef | undefined;
  if (typeof codeOrName === 'number') {
    if (!Number.isInteger(codeOrName) || codeOrName < 1 || codeOrName > 254) {
      return { ok: false, message: `option code ${codeOrName} is outside 1–254` };
    }
    code = codeOrName;
    def = BY_CODE[code];
  } else {
    def = BY_NAME.get(codeOrName);
    if (def === undefined)
      return { ok: false, message: `unknown option name '${codeOrName}'${suggestName(codeOrName)}` };
    code = def.code;
  }
  try {
    if (typeof value === 'string' && HEX_PREFIX.test(value))
      return { ok: true, code, data: parseHex(value, def?.name ?? `option ${code}`) };
    if (def === undefined) {
      return {
        ok: false,
        message: `option ${code}: not in the catalogue; give the value as hex (e.g. "hex:0a0b")`,
      };
    }
    return { ok: true, code, data: encodeTyped(def, value) };
  } catch (e) {
    if (e instanceof ValueError) return { ok: false, message: e.message };
    return {
      ok: false,
      message: `${def?.name ?? `option ${code}`}: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Bytes → typed value (API, logs). A value is returned typed only when encodeOptionValue accepts
// it back; anything else is "hex:…", which encodeOptionValue also accepts.
// ---------------------------------------------------------------------------------------------

/** RFC 1035 §4.1.4 names with compression pointers relative to the option data (RFC 3397 §2). */
function decodeDomainList(d: Uint8Array): string[] | null {
  const names: string[] = [];
  let pos = 0;
  while (pos < d.length) {
    const labels: string[] = [];
    let p = pos;
    let next = -1;
    // Pointers must point strictly backwards, before the name and before each earlier jump:
    // legitimate compression always does, and it bounds the walk on hostile data.
    let jumpLimit = pos;
    let wireLength = 1;
    for (;;) {
      if (p >= d.length) return null;
      const length = d[p]!;
      if (length === 0) {
        if (next < 0) next = p + 1;
        break;
      }
      if ((length & 0xc0) === 0xc0) {
        if (p + 1 >= d.length) return null;
        const target = ((length & 0x3f) << 8) | d[p + 1]!;
        if (target >= jumpLimit) return null;
        if (next < 0) next = p + 2;
        jumpLimit = target;
        p = target;
        continue;
      }
      if (length > 63 || p + 1 + length > d.length) return null;
      const label = asciiLabel(d, p + 1, length);
      if (label === null) return null;
      wireLength += length + 1;
      if (wireLength > 255) return null;
      labels.push(label);
      p += 1 + length;
    }
    if (labels.length === 0) return null;
    names.push(labels.join('.'));
    pos = next;
  }
  return names.length > 0 ? names : null;
}

function decodeClasslessRoutes(d: Uint8Array): string[] | null {
  const routes: string[] = [];
  let pos = 0;
  while (pos < d.length) {
    const prefix = d[pos]!;
    if (prefix > 32) return null;
    const significant = Math.ceil(prefix / 8);
    if (pos + 1 + significant + 4 > d.length) return null;
    let network = 0;
    for (let i = 0; i < significant; i++) network |= d[pos + 1 + i]! << (24 - 8 * i);
    network >>>= 0;
    const mask = prefixToMask(prefix);
    if ((network & mask) >>> 0 !== network) return null;
    const router = ipv4At(d, pos + 1 + significant);
    routes.push(`${formatIpv4(network)}/${prefix} ${formatIpv4(router)}`);
    pos += 1 + significant + 4;
  }
  return routes.length > 0 ? routes : null;
}

function decodeRelayAgentInfoValue(d: Uint8Array): { [key: string]: OptionValue } | null {
  const out: { [key: string]: OptionValue } = {};
  const seen = new Set<number>();
  let i = 0;
  while (i < d.length) {
    if (i + 1 >= d.length) return null;
    const code = d[i]!;
    const length = d[i + 1]!;
    if (i + 2 + length > d.length) return null;
    if (seen.has(code)) return null;
    seen.add(code);
    const data = d.subarray(i + 2, i + 2 + length);
    const def = SUB_BY_CODE[code];
    let v: OptionValue = hexForm(data);
    switch (def?.type) {
      case 'text':
        v = textOrHex(data);
        break;
      case 'ipv4':
        if (length === 4) v = formatIpv4(ipv4At(data, 0));
        break;
      case 'uint8':
        if (length === 1) v = data[0]!;
        break;
      case 'flag':
        if (length === 0) v = true;
        break;
      case 'bytes':
      case undefined:
        break;
    }
    out[def?.name ?? `sub${code}`] = v;
    i += 2 + length;
  }
  return out;
}

function decodeVivso(d: Uint8Array): OptionValue[] | null {
  const entries: OptionValue[] = [];
  let pos = 0;
  while (pos < d.length) {
    if (pos + 5 > d.length) return null;
    const enterpriseNumber = ipv4At(d, pos);
    const length = d[pos + 4]!;
    if (pos + 5 + length > d.length) return null;
    entries.push({ enterpriseNumber, data: hexForm(d.subarray(pos + 5, pos + 5 + length)) });
    pos += 5 + length;
  }
  return entries.length > 0 ? entries : null;
}

function decodeUserClass(d: Uint8Array): string[] | null {
  const classes: string[] = [];
  let pos = 0;
  while (pos < d.length) {
    const length = d[pos]!;
    if (length === 0 || pos + 1 + length > d.length) return null;
    classes.push(textOrHex(d.subarray(pos + 1, pos + 1 + length)));
    pos += 1 + length;
  }
  return classes.length > 0 ? classes : null;
}

function decodeFqdnValue(d: Uint8Array): OptionValue | null {
  const f = parseClientFqdn(d);
  if (f === null) return null;
  let flags = '';
  FQDN_LETTERS.forEach((letter, bit) => {
    if (f.flags & (1 << bit)) flags += letter;
  });
  let name = f.name;
  if (f.flags & FQDN_FLAG.E) {
    if (f.isFullyQualified) name = name === '' ? '.' : `${name}.`;
  } else if (f.isFullyQualified) name = `${name}.`;
  return { flags, rcode1: f.rcode1, rcode2: f.rcode2, name };
}

function decodeTyped(type: OptionType, d: Uint8Array): OptionValue | null {
  const n = d.length;
  switch (type) {
    case 'ipv4':
      return n === 4 ? formatIpv4(ipv4At(d, 0)) : null;
    case 'ipv4List': {
      if (n === 0 || n % 4 !== 0) return null;
      const out: string[] = [];
      for (let i = 0; i < n; i += 4) out.push(formatIpv4(ipv4At(d, i)));
      return out;
    }
    case 'uint8':
      return n === 1 ? d[0]! : null;
    case 'uint16':
      return n === 2 ? (d[0]! << 8) | d[1]! : null;
    case 'uint32':
      return n === 4 ? ipv4At(d, 0) : null;
    case 'int32':
      return n === 4 ? ipv4At(d, 0) | 0 : null;
    case 'bool':
      return n === 1 && d[0]! <= 1 ? d[0] === 1 : null;
    case 'string': {
      let end = n;
      while (end > 0 && d[end - 1] === 0) end--;
      return decodeText(d.subarray(0, end));
    }
    case 'bytes':
      return hexForm(d);
    case 'uint8List':
      return n > 0 ? Array.from(d) : null;
    case 'uint16List': {
      if (n === 0 || n % 2 !== 0) return null;
      const out: number[] = [];
      for (let i = 0; i < n; i += 2) out.push((d[i]! << 8) | d[i + 1]!);
      return out;
    }
    case 'ipv4PairList': {
      if (n === 0 || n % 8 !== 0) return null;
      const out: string[] = [];
      for (let i = 0; i < n; i += 8) out.push(`${formatIpv4(ipv4At(d, i))} ${formatIpv4(ipv4At(d, i + 4))}`);
      return out;
    }
    case 'domainList':
      return decodeDomainList(d);
    case 'classlessRoutes':
      return decodeClasslessRoutes(d);
    case 'fqdn':
      return decodeFqdnValue(d);
    case 'relayAgentInfo':
      return decodeRelayAgentInfoValue(d);
    case 'vivso':
      return decodeVivso(d);
    case 'userClass':
      return decodeUserClass(d);
  }
}

/**
 * Option bytes → a JSON-friendly value in the type's text form. Unknown codes and malformed data
 * give "hex:…". Never throws. encodeOptionValue accepts every value this returns.
 */
export function decodeOptionValue(code: number, data: Uint8Array): OptionValue {
  const def = optionByCode(code);
  if (def === undefined) return hexForm(data);
  try {
    return decodeTyped(def.type, data) ?? hexForm(data);
  } catch {
    // Belt only: every decoder above is bounds-checked; a bug here must not take down a log line.
    return hexForm(data);
  }
}
