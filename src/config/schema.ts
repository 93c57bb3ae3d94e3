// The one configuration schema. The same TypeBox definitions validate the JSON config file,
// generate schema/twinlease.schema.json (published), and later validate API bodies.
// Field names are camelCase; durations carry their unit in the name. Defaults are annotations
// only (the loader applies them, from defaults.ts); semantic rules live in the loader.

import { type Static, type TSchema, Type } from 'typebox';
import {
  MAX_CONDITION_BRANCHES,
  POLICY_FIELDS,
  POLICY_OPERATORS,
  type PolicyConditionInput,
} from '../dhcp/policy.js';
import {
  API_DEFAULTS,
  DHCP_DEFAULTS,
  FAILOVER_DEFAULTS,
  LEASE_STORE_DEFAULTS,
  LOGGING_DEFAULTS,
  SCOPE_DEFAULTS,
  SERVER_DEFAULTS,
} from './defaults.js';

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** a.b.c.d/len with 0 ≤ len ≤ 32; host bits are checked by the loader. */
export const CIDR_PATTERN = `^${OCTET}(\\.${OCTET}){3}/(3[0-2]|[12]?\\d)$`;

const Ipv4String = (description = 'IPv4 address, dotted quad', extra: { default?: string } = {}) =>
  Type.String({ format: 'ipv4', description, ...extra });
const Cidr = Type.String({
  pattern: CIDR_PATTERN,
  description: 'IPv4 subnet in CIDR form, a.b.c.d/len, with no host bits set',
  examples: ['192.168.77.0/24'],
});
const Seconds = (description: string, minimum = 0, extra: { default?: number } = {}) =>
  Type.Integer({ minimum, maximum: 0xffffffff, description, ...extra });
const Port = (description: string, defaultPort?: number) =>
  Type.Integer({
    minimum: 1,
    maximum: 65535,
    description,
    ...(defaultPort === undefined ? {} : { default: defaultPort }),
  });

/** An option value in its text form: the option catalogue (src/wire/dhcp-options.ts) says which
 * shapes each option takes; the loader reports a precise error for anything else. */
const OptionValueItem = Type.Union([
  Type.String(),
  Type.Number(),
  Type.Boolean(),
  Type.Record(Type.String(), Type.Unknown()),
]);

export const OptionData = Type.Object(
  {
    name: Type.Optional(
      Type.String({ description: 'Option name from the catalogue (docs/dhcp-options.md), e.g. "routers"' }),
    ),
    code: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 254,
        description: 'Option code (1–254); give name or code, or both when they agree',
      }),
    ),
    data: Type.Union(
      [
        Type.String(),
        Type.Number(),
        Type.Boolean(),
        Type.Array(OptionValueItem),
        Type.Record(Type.String(), Type.Unknown()),
      ],
      {
        description:
          'Value in the option type\'s text form (addresses, numbers, text, lists), an object for structured options (clientFqdn, relayAgentInfo, vendor options), or hex with a "hex:" prefix',
        examples: ['10.0.0.1', '10.0.0.53, 10.0.1.53', 86400, 'hex:0a0b0c'],
      },
    ),
    alwaysSend: Type.Optional(
      Type.Boolean({
        description: 'Send even if the client did not ask for it in its parameter request list (option 55)',
        default: false,
      }),
    ),
  },
  { additionalProperties: false, description: 'One DHCP option and its value' },
);
export type OptionData = Static<typeof OptionData>;

export const AddressRange = Type.Object(
  {
    start: Ipv4String('First address of the range (inclusive)'),
    end: Ipv4String('Last address of the range (inclusive)'),
  },
  { additionalProperties: false, description: 'An inclusive address range inside the scope subnet' },
);
export type AddressRange = Static<typeof AddressRange>;

export const Reservation = Type.Object(
  {
    address: Ipv4String('Reserved address; inside the scope subnet, not excluded'),
    hardwareAddress: Type.Optional(
      Type.String({
        description:
          'Client hardware address (chaddr), e.g. aa:bb:cc:dd:ee:ff (":" "-" "." or no separators)',
      }),
    ),
    clientId: Type.Optional(
      Type.String({ description: 'Client identifier (option 61 data) as hex, e.g. 01:aa:bb:cc:dd:ee:ff' }),
    ),
    hostname: Type.Optional(Type.String({ description: 'Host name sent to the client (option 12)' })),
    description: Type.Optional(Type.String({ description: 'Free text for operators' })),
    options: Type.Optional(
      Type.Array(OptionData, { description: "Options for this client; they override the scope's" }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A fixed address for one client, identified by hardwareAddress and/or clientId',
  },
);
export type Reservation = Static<typeof Reservation>;

const PolicyField = Type.Union(
  POLICY_FIELDS.map((f) => Type.Literal(f)),
  {
    description:
      'Request field tested: vendorClass (option 60), userClass (77), hardwareAddress (chaddr), clientId (61), relayCircuitId / relayRemoteId / relaySubscriberId (option 82 sub-options 1, 2, 6), fqdn (81), hostname (12)',
  },
);
const PolicyOperator = Type.Union(
  POLICY_OPERATORS.map((o) => Type.Literal(o)),
  { description: 'equals, notEquals (also true when the client does not send the field) or startsWith' },
);

/** Condition levels the schema spells out. Unrolled rather than recursive (no $ref: every error
 * has a plain schema path, and the published schema needs no resolution); each level doubles the
 * text (and + or), so deeper levels are checked by compileCondition (src/dhcp/policy.ts), which
 * checks every level in any case. */
const SCHEMA_CONDITION_LEVELS = 2;

/** One level of the condition tree. */
function policyConditionLevel(levelsLeft: number): TSchema {
  const child = levelsLeft > 1 ? policyConditionLevel(levelsLeft - 1) : Type.Unknown();
  const list = (what: string) =>
    Type.Optional(Type.Array(child, { minItems: 1, maxItems: MAX_CONDITION_BRANCHES, description: what }));
  return Type.Object(
    {
      field: Type.Optional(PolicyField),
      operator: Type.Optional(PolicyOperator),
      value: Type.Optional(
        Type.String({
          description:
            'Compared value: hex for hardwareAddress and clientId (00:15:5d:0a:1b:2c), text or hex:… for the others; a trailing * matches any continuation (00:15:5d:*), * alone any value sent',
          examples: ['MSFT 5.0', '00:15:5d:*', 'hex:01:00:15:5d:0a:1b:2c'],
        }),
      ),
      and: list('Conditions that must all hold'),
      or: list('Conditions of which at least one must hold'),
    },
    {
      additionalProperties: false,
      description:
        'A test { field, operator, value }, or { and: [...] }, or { or: [...] } (docs/policies.md)',
    },
  );
}

export const PolicyCondition = Type.Unsafe<PolicyConditionInput>(
  policyConditionLevel(SCHEMA_CONDITION_LEVELS),
);

/** Dynamic DNS settings (docs/dns.md; resolved by src/ddns/settings.ts). A policy's override its
 * scope's field by field; `enabled: false` turns DNS off for the scope or the policy's clients. */
export const DnsSettings = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ description: 'false: no DNS updates for these clients', default: true }),
    ),
    forwardZone: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Zone of the A and DHCID records, e.g. example.com; client names are qualified with it',
      }),
    ),
    reverseZone: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'in-addr.arpa zone of the PTR records, e.g. 77.10.in-addr.arpa; none: no PTR records',
      }),
    ),
    server: Type.Optional(
      Type.Object(
        {
          address: Ipv4String('Primary DNS server of the zones (receives the UPDATEs)'),
          port: Type.Optional(Port('DNS port', 53)),
          sourcePort: Type.Optional(
            Port(
              'UDP port the UPDATEs leave from (e.g. for a firewall rule); default: a new random port for every UPDATE, as BIND does',
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    tsigKey: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, description: 'Key name, as in the DNS server configuration' }),
          algorithm: Type.Optional(
            Type.Literal('hmac-sha256', { description: 'TSIG algorithm', default: 'hmac-sha256' }),
          ),
          secret: Type.String({
            minLength: 1,
            writeOnly: true,
            description: 'Secret, base64 (as tsig-keygen prints it); never shown back',
          }),
        },
        { additionalProperties: false, description: 'TSIG key signing the updates (RFC 8945)' },
      ),
    ),
    updateBothRecords: Type.Optional(
      Type.Boolean({
        description:
          'Always update A and PTR, also when the client asks to update its A record itself (option 81 S=0 or N=1)',
        default: false,
      }),
    ),
    nameProtection: Type.Optional(
      Type.Boolean({
        description: 'DHCID records (RFC 4701/4703): never overwrite a name registered for another client',
        default: true,
      }),
    ),
    cleanupOnDelete: Type.Optional(
      Type.Boolean({
        description: 'Remove the records when the lease is released or expires',
        default: true,
      }),
    ),
    ttlSeconds: Type.Optional(
      Seconds('TTL of the records; default a third of the lease time, at least 60', 0),
    ),
  },
  { additionalProperties: false, description: 'Dynamic DNS updates for the clients (docs/dns.md)' },
);
export type DnsSettings = Static<typeof DnsSettings>;
const PolicyDns = DnsSettings;

export const Policy = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'Policy name, unique at its level (recorded on the lease as policyName)',
    }),
    description: Type.Optional(Type.String({ description: 'Free text for operators' })),
    processingOrder: Type.Integer({
      minimum: 1,
      maximum: 0xffff,
      description: 'Evaluation order at its level, unique there; lower first; the first match wins',
    }),
    enabled: Type.Optional(Type.Boolean({ description: 'A disabled policy is skipped', default: true })),
    conditions: PolicyCondition,
    ranges: Type.Optional(
      Type.Array(AddressRange, {
        description:
          "Scope policies only: the addresses for the policy's clients, inside the scope's ranges; nobody else gets them",
      }),
    ),
    options: Type.Optional(
      Type.Array(OptionData, {
        description:
          "Options for the policy's clients; they override the scope's (reservations override them)",
      }),
    ),
    leaseTimeSeconds: Type.Optional(
      Seconds("Lease duration for the policy's clients; T1/T2 are 50% and 87.5% of it", 1),
    ),
    dns: Type.Optional(PolicyDns),
  },
  {
    additionalProperties: false,
    description: 'Settings for the clients whose requests match the conditions (docs/policies.md)',
  },
);
export type Policy = Static<typeof Policy>;

export const Scope = Type.Object(
  {
    id: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Scope id, unique; defaults to the subnet network address (Windows ScopeId), e.g. "10.0.0.0"',
      }),
    ),
    name: Type.Optional(Type.String({ description: 'Display name' })),
    description: Type.Optional(Type.String({ description: 'Free text for operators' })),
    active: Type.Optional(
      Type.Boolean({
        description:
          'false: the scope stays configured (leases, statistics, failover) but no client is answered in it (Windows scope state InActive)',
        default: true,
      }),
    ),
    subnet: Cidr,
    ranges: Type.Array(AddressRange, {
      minItems: 1,
      description: 'Dynamic address ranges; inside the subnet, not overlapping any other range',
    }),
    exclusions: Type.Optional(
      Type.Array(AddressRange, { description: 'Addresses inside the ranges that are never handed out' }),
    ),
    reservations: Type.Optional(
      Type.Array(Reservation, { description: 'Fixed addresses for known clients' }),
    ),
    options: Type.Optional(
      Type.Array(OptionData, { description: 'Options for this scope; they override the server-wide ones' }),
    ),
    leaseTimeSeconds: Type.Optional(
      Seconds('Lease duration granted to DHCP clients; default the server-wide leaseTimeSeconds', 1),
    ),
    renewTimeSeconds: Type.Optional(Seconds('T1 (option 58); default 50% of the lease time', 1)),
    rebindTimeSeconds: Type.Optional(Seconds('T2 (option 59); default 87.5% of the lease time', 1)),
    relayAddresses: Type.Optional(
      Type.Array(Ipv4String(), {
        description: 'Relay addresses (giaddr) outside the subnet that also select this scope',
      }),
    ),
    dynamicBootp: Type.Optional(
      Type.Boolean({
        description: 'Serve BOOTP clients from the ranges (otherwise BOOTP clients get reservations only)',
        default: SCOPE_DEFAULTS.dynamicBootp,
      }),
    ),
    bootpLeaseSeconds: Type.Optional(
      Type.Union([Seconds('Lease for BOOTP clients', 1), Type.Null()], {
        description: 'Lease for dynamically served BOOTP clients; null = infinite',
        default: SCOPE_DEFAULTS.bootpLeaseSeconds,
      }),
    ),
    declineHoldSeconds: Type.Optional(
      Seconds('How long a declined address stays unusable', 0, {
        default: SCOPE_DEFAULTS.declineHoldSeconds,
      }),
    ),
    offerHoldSeconds: Type.Optional(
      Seconds('How long an offered address is held for the client', 0, {
        default: SCOPE_DEFAULTS.offerHoldSeconds,
      }),
    ),
    authoritative: Type.Optional(
      Type.Boolean({
        description: "NAK requests for addresses that are wrong for the client's network (RFC 2131 §4.3.2)",
        default: SCOPE_DEFAULTS.authoritative,
      }),
    ),
    policies: Type.Optional(
      Type.Array(Policy, {
        description: 'Policies of this scope; evaluated before the server-wide ones (docs/policies.md)',
      }),
    ),
    dns: Type.Optional(DnsSettings),
  },
  { additionalProperties: false, description: 'One subnet served by this server' },
);
export type Scope = Static<typeof Scope>;

/** How this server reaches the partner's management API (configuration replication and the
 * configurationDiffers check, docs/api.md). */
/** PEM files for TLS (paths, relative to the server's working directory like leaseStore.path). */
const tlsCert = Type.String({ minLength: 1, description: "PEM file: this server's certificate (chain)" });
const tlsKey = Type.String({
  minLength: 1,
  description: 'PEM file: its private key (keep it readable by the server only)',
});
const tlsCa = Type.String({
  minLength: 1,
  description: "PEM file: the CA(s) the partner's certificate must chain to",
});

export const PartnerApi = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s]+$',
      description: "Base URL of the partner's management API, e.g. http://10.0.0.3:8067",
      examples: ['http://10.0.0.3:8067'],
    }),
    token: Type.Optional(
      Type.String({
        minLength: 16,
        writeOnly: true,
        description:
          "A read-write bearer token of the partner's API (its api.tokens); never shown by the API",
      }),
    ),
  },
  { additionalProperties: false, description: "The partner's management API" },
);
export type PartnerApi = Static<typeof PartnerApi>;

const endpointProperties = (who: string, hasDefaultName: boolean) => ({
  address: Ipv4String(`${who} failover address`),
  port: Type.Optional(Port(`${who} failover TCP port`, FAILOVER_DEFAULTS.port)),
  name: Type.Optional(
    Type.String({
      description: hasDefaultName ? `${who} server name; default server.name` : `${who} server name`,
    }),
  ),
});

const LocalEndpoint = Type.Object(endpointProperties("This server's", true), {
  additionalProperties: false,
});

const PartnerEndpoint = Type.Object(
  { ...endpointProperties("The partner's", false), api: Type.Optional(PartnerApi) },
  { additionalProperties: false },
);

export const FailoverRelationship = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 126,
      description: 'Relationship name; unique, and equal on both partners',
    }),
    role: Type.Union([Type.Literal('primary'), Type.Literal('secondary')], {
      description: "This server's role in the relationship",
    }),
    mode: Type.Optional(
      Type.Union([Type.Literal('loadBalance'), Type.Literal('hotStandby')], {
        description: 'Both servers answer (split by RFC 3074 hash) or one answers while the other waits',
        default: FAILOVER_DEFAULTS.mode,
      }),
    ),
    serverRole: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('standby')], {
        description:
          "hotStandby only: this server's part; default active for the primary, standby for the secondary",
      }),
    ),
    loadBalancePercent: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'loadBalance only: share of clients served by this server',
        default: FAILOVER_DEFAULTS.loadBalancePercent,
      }),
    ),
    reservePercent: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'hotStandby only: share of free addresses kept by the standby server',
        default: FAILOVER_DEFAULTS.reservePercent,
      }),
    ),
    mcltSeconds: Type.Optional(
      Seconds('Maximum client lead time (MCLT)', 1, { default: FAILOVER_DEFAULTS.mcltSeconds }),
    ),
    autoStateTransition: Type.Optional(
      Type.Boolean({
        description:
          'Move to PARTNER-DOWN automatically after stateSwitchIntervalSeconds of lost contact; default true when stateSwitchIntervalSeconds is set',
        default: FAILOVER_DEFAULTS.autoStateTransition,
      }),
    ),
    stateSwitchIntervalSeconds: Type.Optional(
      Type.Union([Seconds('Safe period before automatic PARTNER-DOWN', 1), Type.Null()], {
        description:
          'Safe period before automatic PARTNER-DOWN; null = off (3600 when autoStateTransition is true)',
        default: FAILOVER_DEFAULTS.stateSwitchIntervalSeconds,
      }),
    ),
    auth: Type.Optional(
      Type.Union([Type.Literal('none'), Type.Literal('hmacSha256'), Type.Literal('hmacMd5')], {
        description: 'Message authentication; anything but none needs sharedSecret (ISC partners: none)',
        default: FAILOVER_DEFAULTS.auth,
      }),
    ),
    sharedSecret: Type.Optional(
      Type.String({
        minLength: 1,
        writeOnly: true,
        description: 'Shared secret; required exactly when auth is not none; never shown back',
      }),
    ),
    tls: Type.Optional(
      Type.Object(
        { cert: tlsCert, key: tlsKey, ca: tlsCa },
        {
          additionalProperties: false,
          description:
            'The failover link over TLS 1.3 with certificates both ways (docs/failover.md "TLS"); both partners must have it (Twinlease only: ISC dhcpd has no TLS)',
        },
      ),
    ),
    local: LocalEndpoint,
    partner: PartnerEndpoint,
    scopeIds: Type.Array(Type.String(), {
      minItems: 1,
      description: 'Ids of the scopes this relationship covers; a scope belongs to at most one relationship',
    }),
    maxUnackedUpdates: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: 'Binding updates the partner may have in flight (max-unacked-bndupd)',
        default: FAILOVER_DEFAULTS.maxUnackedUpdates,
      }),
    ),
    receiveTimerSeconds: Type.Optional(
      Seconds('Partner silence tolerated before the link is declared dead', 3, {
        default: FAILOVER_DEFAULTS.receiveTimerSeconds,
      }),
    ),
    loadBalanceMaxSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        description: 'Answer a client of the partner once its secs field exceeds this (0 = never)',
        default: FAILOVER_DEFAULTS.loadBalanceMaxSeconds,
      }),
    ),
    hbaBitMeaning: Type.Optional(
      Type.Union([Type.Literal('primary'), Type.Literal('secondary')], {
        description: 'Which server a set bit of the hash bucket assignment means (ISC: primary)',
        default: FAILOVER_DEFAULTS.hbaBitMeaning,
      }),
    ),
    poolSplit: Type.Optional(
      Type.Union([Type.Literal('even'), Type.Literal('percentage')], {
        description: 'Split free addresses evenly (ISC) or by loadBalancePercent (Windows)',
        default: FAILOVER_DEFAULTS.poolSplit,
      }),
    ),
    maxClockSkewSeconds: Type.Optional(
      Seconds('Largest tolerated clock difference with the partner', 1, {
        default: FAILOVER_DEFAULTS.maxClockSkewSeconds,
      }),
    ),
  },
  { additionalProperties: false, description: 'A failover relationship with one partner server' },
);
export type FailoverRelationship = Static<typeof FailoverRelationship>;

const LogLevel = Type.Union(
  [
    Type.Literal('fatal'),
    Type.Literal('error'),
    Type.Literal('warn'),
    Type.Literal('info'),
    Type.Literal('debug'),
    Type.Literal('trace'),
  ],
  { description: 'Least severe level written to the log', default: LOGGING_DEFAULTS.level },
);

export const Config = Type.Object(
  {
    $schema: Type.Optional(
      Type.String({ description: 'Schema reference for editors; ignored by the server' }),
    ),
    server: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(
            Type.String({
              minLength: 1,
              description: "This server's name (recorded as lease owner); default the host name",
            }),
          ),
          serverIdentifier: Type.Optional(
            Ipv4String('Option 54 in replies; default the address of the served interface'),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    dhcp: Type.Optional(
      Type.Object(
        {
          listenAddress: Type.Optional(
            Ipv4String('Address the DHCP socket binds to', { default: DHCP_DEFAULTS.listenAddress }),
          ),
          port: Type.Optional(Port('Server UDP port', DHCP_DEFAULTS.port)),
          clientPort: Type.Optional(Port('Client UDP port (replies go there)', DHCP_DEFAULTS.clientPort)),
          interface: Type.Optional(
            Type.String({ minLength: 1, description: 'Directly attached interface served by broadcast' }),
          ),
          broadcastAddress: Type.Optional(
            Ipv4String(
              "Destination of replies to clients without an address; absent or 255.255.255.255: the subnet broadcast address of the served interface's first IPv4 address (255.255.255.255 only when there is none)",
            ),
          ),
          mode: Type.Optional(
            Type.Union([Type.Literal('udp'), Type.Literal('direct')], {
              description:
                'udp: one UDP socket (relays, renewals, one directly attached interface by broadcast); direct: a packet socket per interface of `interfaces` (the interface of every packet known, replies out of it, unicast to clients without an address; needs CAP_NET_RAW and the native addon)',
              default: DHCP_DEFAULTS.mode,
            }),
          ),
          interfaces: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 15 }), {
              minItems: 1,
              description: 'direct mode: the interfaces served at layer 2 (any number)',
            }),
          ),
          pingCheck: Type.Optional(
            Type.Object(
              {
                attempts: Type.Optional(
                  Type.Integer({
                    minimum: 0,
                    maximum: 5,
                    description: 'ICMP echo requests sent to a new address before offering it; 0 = off',
                    default: DHCP_DEFAULTS.pingCheckAttempts,
                  }),
                ),
                timeoutMs: Type.Optional(
                  Type.Integer({
                    minimum: 50,
                    maximum: 5000,
                    description: 'How long each echo request waits for a reply, milliseconds',
                    default: DHCP_DEFAULTS.pingCheckTimeoutMs,
                  }),
                ),
              },
              {
                additionalProperties: false,
                description:
                  'Conflict detection before an OFFER (Windows conflict detection, dhcpd ping-check); needs CAP_NET_RAW and the native addon',
              },
            ),
          ),
          warmUp: Type.Optional(
            Type.Object(
              {
                exchanges: Type.Optional(
                  Type.Integer({
                    minimum: 0,
                    maximum: 100000,
                    description:
                      'Made-up DORAs (each with a renewal and a release) run before the socket opens; 0 = off',
                    default: DHCP_DEFAULTS.warmUpExchanges,
                  }),
                ),
                maxMs: Type.Optional(
                  Type.Integer({
                    minimum: 10,
                    maximum: 10000,
                    description: 'The warm-up stops after this many milliseconds whatever is left',
                    default: DHCP_DEFAULTS.warmUpMaxMs,
                  }),
                ),
              },
              {
                additionalProperties: false,
                description:
                  'Runs the per-packet code through a throwaway engine and in-memory store before the DHCP socket opens, so that the first second of load after a start is not answered by code still being compiled',
              },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    leaseStore: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(
            Type.Union([Type.Literal('sqlite'), Type.Literal('postgresql')], {
              description:
                "Lease store implementation: 'sqlite' (embedded file, the default) or 'postgresql' (a database several servers may share; docs/postgresql.md)",
              default: LEASE_STORE_DEFAULTS.type,
            }),
          ),
          url: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                "type 'postgresql': the database, postgresql://user:password@host:port/database (schema made by `twinlease db init`)",
            }),
          ),
          poolSize: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 64,
              description:
                "type 'postgresql': connections for commits (one more listens for the other servers' writes)",
              default: LEASE_STORE_DEFAULTS.poolSize,
            }),
          ),
          connectTimeoutMs: Type.Optional(
            Type.Integer({
              minimum: 100,
              maximum: 60_000,
              description: "type 'postgresql': how long a connection attempt may take (ms)",
              default: LEASE_STORE_DEFAULTS.connectTimeoutMs,
            }),
          ),
          statementTimeoutMs: Type.Optional(
            Type.Integer({
              minimum: 100,
              maximum: 60_000,
              description:
                "type 'postgresql': how long one statement may run before it is cancelled and the commit fails (ms); no ACK leaves for it",
              default: LEASE_STORE_DEFAULTS.statementTimeoutMs,
            }),
          ),
          path: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'Lease database file; relative paths are relative to the working directory',
              default: LEASE_STORE_DEFAULTS.path,
            }),
          ),
          commitIntervalMs: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 50,
              description:
                'Least time between the starts of two group commits (ms): at low rates a few ACKs share one fsync; each ACK still leaves only once its binding is on disk',
              default: LEASE_STORE_DEFAULTS.commitIntervalMs,
            }),
          ),
          commitBatchSize: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 1000,
              description:
                "A group commit starts (commitIntervalMs after the last at the soonest) once this many commits wait, about one per ACK; with fewer it waits up to commitMaxDelayMs for more (dhcpd's delayed-ack). 1 (the default): no waiting beyond the interval",
              default: LEASE_STORE_DEFAULTS.commitBatchSize,
            }),
          ),
          commitMaxDelayMs: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 250,
              description:
                "The longest a commit waits for commitBatchSize others before its group commit starts (ms; dhcpd's max-ack-delay); its ACK leaves once that commit is on disk",
              default: LEASE_STORE_DEFAULTS.commitMaxDelayMs,
            }),
          ),
          writerThread: Type.Optional(
            Type.Boolean({
              description:
                'Commit on a worker thread, so that the fsync of a group commit never blocks the event loop that answers clients',
              default: LEASE_STORE_DEFAULTS.writerThread,
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    logging: Type.Optional(
      Type.Object(
        {
          level: Type.Optional(LogLevel),
          grants: Type.Optional(
            Type.Boolean({
              description:
                'Log every OFFER, ACK and NAK at info (dhcp.offer, dhcp.ack, dhcp.nak); false: at debug',
              default: LOGGING_DEFAULTS.grants,
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    api: Type.Optional(
      Type.Object(
        {
          listenAddress: Type.Optional(
            Ipv4String('Address the management API binds to', { default: API_DEFAULTS.listenAddress }),
          ),
          port: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 65535,
              description: 'Management API TCP port; 0 = any free port (tests)',
              default: API_DEFAULTS.port,
            }),
          ),
          tls: Type.Optional(
            Type.Object(
              { cert: tlsCert, key: tlsKey },
              {
                additionalProperties: false,
                description: 'Serve the API over HTTPS with this certificate and key (restart to change)',
              },
            ),
          ),
          tokens: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: Type.String({
                    minLength: 1,
                    description: 'Who holds the token (logged, never the token)',
                  }),
                  token: Type.String({
                    minLength: 16,
                    writeOnly: true,
                    description: 'Bearer token, at least 16 characters; never shown back',
                  }),
                  readOnly: Type.Optional(
                    Type.Boolean({ description: 'Allow GET requests only', default: false }),
                  ),
                },
                { additionalProperties: false },
              ),
              { description: 'Bearer tokens accepted by the API; names and tokens unique' },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    options: Type.Optional(
      Type.Array(OptionData, { description: 'Server-wide options, overridden per scope' }),
    ),
    leaseTimeSeconds: Type.Optional(
      Seconds('Default lease duration for scopes that set none', 1, {
        default: SERVER_DEFAULTS.leaseTimeSeconds,
      }),
    ),
    policies: Type.Optional(
      Type.Array(Policy, {
        description: "Server-wide policies, evaluated in every scope after the scope's own; no ranges",
      }),
    ),
    scopes: Type.Array(Scope, { description: 'The subnets served' }),
    failover: Type.Optional(Type.Array(FailoverRelationship, { description: 'Failover relationships' })),
  },
  { additionalProperties: false, description: 'Twinlease server configuration' },
);
export type Config = Static<typeof Config>;
