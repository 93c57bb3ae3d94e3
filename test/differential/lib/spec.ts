// One description of the network served, written out twice: as a Twinlease config and as a Kea 2.2
// config that means the same thing. Every setting that exists on both sides is set from here, so a
// difference in the replies is a difference in behaviour, not in configuration. Where the two
// products spell one policy differently, the mapping says so next to the setting.

import { join } from 'node:path';
import type { Config, OptionData } from '../../../src/config/schema.js';

/** Addresses of one world (each world is its own copy of the harness topology, so both use these). */
export const NET = {
  server: '10.77.0.1',
  /** br0 in the hub namespace: the on-link relay. */
  relay: '10.77.0.2',
  subnet: '10.77.0.0/16',
  /** Large enough that no run exhausts it: a full pool makes the result depend on which of the
   * concurrent scenarios asked first. Its end (10.77.30.x for the random scenarios, 10.77.31.x
   * for the scripted ones) is never reached by the allocators in a run: scenarios ask for those
   * addresses by number as free addresses of the pool, each its own. */
  pool: { start: '10.77.1.0', end: '10.77.31.255' },
  /** A relayed subnet: giaddr 10.99.0.1 lives on br0 and the server routes it via 10.77.0.2. */
  remote: { subnet: '10.99.0.0/20', giaddr: '10.99.0.1', pool: { start: '10.99.1.0', end: '10.99.15.255' } },
  /** Two addresses only, for exhaustion; reached only through its relay. */
  tiny: { subnet: '10.98.0.0/24', giaddr: '10.98.0.1', pool: { start: '10.98.0.10', end: '10.98.0.11' } },
  /** A relay no scope knows. */
  unknownGiaddr: '10.55.0.1',
} as const;

/** Every relay address the hub owns. */
export const RELAY_ADDRESSES = [NET.remote.giaddr, NET.tiny.giaddr, NET.unknownGiaddr] as const;
/** What the server routes via the hub (10.77.0.2): the relayed subnets, where renewing clients live. */
export const ROUTED = [NET.remote.subnet, NET.tiny.subnet, `${NET.unknownGiaddr}/32`] as const;

/** Dynamic DNS of the relayed subnet (the main and tiny subnets have none). */
export const DNS = { zone: 'remote.example.test', server: '10.77.0.53' } as const;

export const LEASE = { validSeconds: 4000, renewSeconds: 1000, rebindSeconds: 2000 } as const;

interface SpecOption {
  code: number;
  /** Twinlease catalogue name. */
  name: string;
  /** Kea option name (standard DHCPv4 option space). */
  kea: string;
  /** Twinlease text form. */
  data: string | number;
  /** Kea csv form, when it differs from `data`. */
  keaData?: string;
}

/** Longer than one option can carry: sent as several instances (RFC 3396). */
const LONG_MERIT_DUMP = `/var/dump/${'very-long-file-name-'.repeat(15)}core`;
const LONG_ROOT_PATH = `/export/root/${'long-path-segment/'.repeat(11)}end`; // 214 bytes
const MANY_NBNS = Array.from({ length: 30 }, (_, i) => `10.77.0.${100 + i}`).join(', ');

/** Server-wide (Kea global) options. */
const GLOBAL_OPTIONS: SpecOption[] = [
  { code: 42, name: 'ntpServers', kea: 'ntp-servers', data: '10.77.0.123' },
  { code: 2, name: 'timeOffset', kea: 'time-offset', data: 3600 },
];

const MAIN_OPTIONS: SpecOption[] = [
  { code: 3, name: 'routers', kea: 'routers', data: NET.server },
  { code: 6, name: 'domainNameServers', kea: 'domain-name-servers', data: '10.77.0.53, 10.77.0.54' },
  { code: 15, name: 'domainName', kea: 'domain-name', data: 'example.test' },
  {
    code: 119,
    name: 'domainSearch',
    kea: 'domain-search',
    data: 'example.test, corp.example.test',
  },
  { code: 26, name: 'interfaceMtu', kea: 'interface-mtu', data: 1400 },
  { code: 66, name: 'tftpServerName', kea: 'tftp-server-name', data: 'tftp.example.test' },
  { code: 17, name: 'rootPath', kea: 'root-path', data: LONG_ROOT_PATH },
  { code: 44, name: 'netbiosNameServers', kea: 'netbios-name-servers', data: MANY_NBNS },
  { code: 14, name: 'meritDumpFile', kea: 'merit-dump', data: LONG_MERIT_DUMP },
  // Overrides the global value for this scope.
  { code: 42, name: 'ntpServers', kea: 'ntp-servers', data: '10.77.0.124, 10.77.0.125' },
];

const REMOTE_OPTIONS: SpecOption[] = [
  { code: 3, name: 'routers', kea: 'routers', data: NET.remote.giaddr },
  { code: 15, name: 'domainName', kea: 'domain-name', data: 'remote.example.test' },
];

const TINY_OPTIONS: SpecOption[] = [{ code: 3, name: 'routers', kea: 'routers', data: NET.tiny.giaddr }];

export interface SpecReservation {
  address: string;
  hardwareAddress?: string;
  clientId?: string;
  hostname?: string;
  options?: SpecOption[];
}

/** Reserved clients of the main scope (scenarios refer to them by these identities). */
export const RESERVED = {
  /** By MAC, outside the pool, with a host name and its own domain name. */
  macOutside: {
    address: '10.77.40.10',
    hardwareAddress: '02dd00000001',
    hostname: 'resv-mac',
    options: [{ code: 15, name: 'domainName', kea: 'domain-name', data: 'resv.example.test' }],
  },
  /** By client identifier (type 1), outside the pool. */
  clientIdOutside: { address: '10.77.40.11', clientId: '0102dd00000002' },
  /** By MAC, inside the pool. */
  macInside: { address: '10.77.1.250', hardwareAddress: '02dd00000003' },
  /** By an RFC 4361 client identifier (type 255, IAID, DUID-LL). */
  duidOutside: { address: '10.77.40.12', clientId: 'ff000000010003000102dd00000004' },
} as const satisfies Record<string, SpecReservation>;

function twOptions(list: readonly SpecOption[]): OptionData[] {
  return list.map((o) => ({ name: o.name, data: o.data }));
}

function keaOptions(list: readonly SpecOption[]): object[] {
  return list.map((o) => ({ name: o.kea, data: o.keaData ?? String(o.data) }));
}

const colonHex = (hex: string) => hex.match(/../g)!.join(':');

/** The Twinlease side. */
export function twinleaseConfig(dir: string): Config {
  return {
    server: { name: 'tl-differential' },
    // Defaults elsewhere: server identifier and broadcast address come from eth0.
    dhcp: { interface: 'eth0' },
    leaseStore: { path: join(dir, 'leases.db') },
    logging: { level: 'debug' },
    options: twOptions(GLOBAL_OPTIONS),
    scopes: [
      {
        id: 'main',
        subnet: NET.subnet,
        ranges: [NET.pool],
        leaseTimeSeconds: LEASE.validSeconds,
        renewTimeSeconds: LEASE.renewSeconds,
        rebindTimeSeconds: LEASE.rebindSeconds,
        options: twOptions(MAIN_OPTIONS),
        reservations: Object.values(RESERVED).map((r: SpecReservation) => ({
          address: r.address,
          ...(r.hardwareAddress ? { hardwareAddress: r.hardwareAddress } : {}),
          ...(r.clientId ? { clientId: r.clientId } : {}),
          ...(r.hostname ? { hostname: r.hostname } : {}),
          ...(r.options ? { options: twOptions(r.options) } : {}),
        })),
        dynamicBootp: true,
      },
      {
        id: 'remote',
        subnet: NET.remote.subnet,
        ranges: [NET.remote.pool],
        leaseTimeSeconds: LEASE.validSeconds,
        renewTimeSeconds: LEASE.renewSeconds,
        rebindTimeSeconds: LEASE.rebindSeconds,
        options: twOptions(REMOTE_OPTIONS),
        dynamicBootp: true,
        // Names are registered here (the updates go nowhere: nothing listens at that address;
        // what is compared is what the replies say about the name).
        dns: { forwardZone: DNS.zone, server: { address: DNS.server } },
      },
      {
        id: 'tiny',
        subnet: NET.tiny.subnet,
        ranges: [NET.tiny.pool],
        leaseTimeSeconds: LEASE.validSeconds,
        renewTimeSeconds: LEASE.renewSeconds,
        rebindTimeSeconds: LEASE.rebindSeconds,
        options: twOptions(TINY_OPTIONS),
        dynamicBootp: true,
      },
    ],
  };
}

/** The Kea side (kea-dhcp4 2.2, raw sockets, memfile without persistence: fresh every start). */
export function keaConfig(dir: string, hooksDir: string): object {
  const lifetimes = {
    'valid-lifetime': LEASE.validSeconds,
    // Twinlease grants a shorter lease when the client asks for one (option 51); Kea does so only
    // between min- and max-valid-lifetime.
    'min-valid-lifetime': 1,
    'max-valid-lifetime': LEASE.validSeconds,
    'renew-timer': LEASE.renewSeconds,
    'rebind-timer': LEASE.rebindSeconds,
  };
  const subnet = (id: number, cidr: string, pool: { start: string; end: string }, options: SpecOption[]) => ({
    id,
    subnet: cidr,
    pools: [{ pool: `${pool.start} - ${pool.end}` }],
    'option-data': keaOptions(options),
    ...lifetimes,
  });
  const main = {
    ...subnet(1, NET.subnet, NET.pool, MAIN_OPTIONS),
    reservations: Object.values(RESERVED).map((r: SpecReservation) => ({
      'ip-address': r.address,
      ...(r.hardwareAddress ? { 'hw-address': colonHex(r.hardwareAddress) } : {}),
      ...(r.clientId ? { 'client-id': colonHex(r.clientId) } : {}),
      ...(r.hostname ? { hostname: r.hostname } : {}),
      ...(r.options ? { 'option-data': keaOptions(r.options) } : {}),
    })),
  };
  return {
    Dhcp4: {
      'interfaces-config': { interfaces: ['eth0'], 'dhcp-socket-type': 'raw' },
      'lease-database': { type: 'memfile', persist: false, 'lfc-interval': 0 },
      // Twinlease scopes are authoritative by default (NAK a request for an address that is wrong
      // for the client's network); Kea's default is not.
      authoritative: true,
      ...lifetimes,
      'option-data': keaOptions(GLOBAL_OPTIONS),
      // DNS updates: on in the relayed subnet only. Kea hands its name changes to kea-dhcp-ddns
      // (not running: nothing is updated on either side, the replies are what is compared).
      'dhcp-ddns': { 'enable-updates': true },
      'ddns-send-updates': false,
      subnet4: [
        main,
        {
          ...subnet(2, NET.remote.subnet, NET.remote.pool, REMOTE_OPTIONS),
          'ddns-send-updates': true,
          'ddns-qualifying-suffix': DNS.zone,
        },
        subnet(3, NET.tiny.subnet, NET.tiny.pool, TINY_OPTIONS),
      ],
      // BOOTP (RFC 951/1497) needs this hook in Kea; Twinlease serves it with dynamicBootp.
      'hooks-libraries': [{ library: join(hooksDir, 'libdhcp_bootp.so') }],
      loggers: [
        {
          name: 'kea-dhcp4',
          output_options: [{ output: join(dir, 'kea.log') }],
          severity: 'DEBUG',
          debuglevel: 40,
        },
      ],
    },
  };
}
