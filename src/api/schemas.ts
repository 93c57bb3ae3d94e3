// The management API's resources and inputs as TypeBox schemas. The same objects validate
// requests (Fastify's Ajv), shape responses (fast-json-stringify) and generate /openapi.json.
// Conventions (windows-model.md §4): camelCase, string enums, ISO-8601 UTC timestamps, IPv4
// dotted, MAC aa:bb:cc:dd:ee:ff, binary ids as colon-separated lower-case hex.

import { type Static, type TSchema, Type } from 'typebox';

/** A string enum rendered as `{ type: 'string', enum: [...] }` (readable OpenAPI, fast serialisation). */
function StringEnum<const T extends readonly string[]>(values: T, description: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
}

function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

const Ipv4 = (description: string) => Type.String({ format: 'ipv4', description });
const Timestamp = (description: string) =>
  Nullable(
    Type.String({ format: 'date-time', description: `${description} (ISO-8601 UTC; null = never/none)` }),
  );
const Count = (description: string) => Type.Integer({ minimum: 0, description });

const HEX_WITH_SEPARATORS = '^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2})*$';

export const BINDING_STATES = [
  'free',
  'active',
  'expired',
  'released',
  'abandoned',
  'reset',
  'backup',
] as const;
export const ADDRESS_STATES = ['offered', 'active', 'declined', 'doomed'] as const;
/** The `state` filter accepts a D12 binding state or a Windows address state. */
export const LEASE_STATE_FILTERS = [...BINDING_STATES, 'offered', 'declined', 'doomed'] as const;
export type LeaseStateFilter = (typeof LEASE_STATE_FILTERS)[number];

export const ErrorBody = Type.Object(
  {
    error: Type.String({
      description: 'Machine-readable code: unauthorized, forbidden, invalid-request, not-found, …',
    }),
    message: Type.String({ description: 'What went wrong, for people' }),
    path: Type.Optional(
      Type.String({
        description:
          'JSON pointer of the offending input, rooted at its part: /query/limit, /params/ip, /body/dryRun',
      }),
    ),
  },
  { $id: 'Error', title: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

// ---------------------------------------------------------------------------------------------
// Statistics (seed 000, windows-model.md §4.3)

export const ScopeStatistics = Type.Object(
  {
    scopeId: Type.String(),
    role: StringEnum(
      ['standalone', 'primary', 'secondary'] as const,
      "This server's part in the scope's free pool",
    ),
    numAddr: Count('Dynamic addresses of the ranges + reserved addresses'),
    addrFree: Count('numAddr − addrInUse − addrAbandoned − addrAwaitingAck'),
    addrInUse: Count('Addresses with an active binding'),
    partnerAddrFree: Count('Free addresses the partner may allocate'),
    thisAddrFree: Count('Free addresses this server may allocate'),
    partnerAddrInUse: Count('Active bindings granted by another server'),
    thisAddrInUse: Count('Active bindings granted by this server'),
    pendingOffers: Count('Offers held now (included in addrFree)'),
    reservedAddresses: Count('Distinct reserved addresses'),
    percentageInUse: Type.Number({
      minimum: 0,
      maximum: 100,
      description: '100 × addrInUse / numAddr, two decimals',
    }),
    addrAbandoned: Count('Declined addresses held out of every pool'),
    addrAwaitingAck: Count('Addresses expired, released or reset, not yet free again'),
  },
  { $id: 'ScopeStatistics', title: 'ScopeStatistics' },
);
export type ScopeStatistics = Static<typeof ScopeStatistics>;

export const StatisticsList = Type.Object(
  {
    items: Type.Array(Type.Ref('ScopeStatistics')),
    total: Type.Ref('ScopeStatistics'),
  },
  { $id: 'StatisticsList', title: 'StatisticsList' },
);

// ---------------------------------------------------------------------------------------------
// Scopes

const OptionEntry = Type.Object({
  code: Type.Integer({ minimum: 1, maximum: 254 }),
  name: Nullable(
    Type.String({ description: 'Catalogue name (docs/dhcp-options.md); null for an unknown code' }),
  ),
  value: Type.Unknown({
    description: "The option's text form, as written in the config (hex:… when undecodable)",
  }),
  alwaysSend: Type.Boolean({ description: 'Sent even when the client does not ask for it' }),
});

const Range = Type.Object({ start: Ipv4('First address'), end: Ipv4('Last address') });

const Reservation = Type.Object({
  address: Ipv4('Reserved address'),
  hardwareAddress: Nullable(Type.String({ description: 'MAC aa:bb:cc:dd:ee:ff' })),
  clientId: Nullable(Type.String({ description: 'Client identifier (option 61) as colon-separated hex' })),
  hostname: Nullable(Type.String()),
  description: Nullable(Type.String()),
  options: Type.Array(OptionEntry, {
    description: "The reservation's own options (they override the scope's)",
  }),
});

export const Scope = Type.Object(
  {
    id: Type.String(),
    name: Nullable(Type.String()),
    description: Nullable(Type.String()),
    subnet: Type.String({ description: 'CIDR a.b.c.d/len' }),
    subnetMask: Ipv4('Mask sent to clients (option 1)'),
    ranges: Type.Array(Range),
    exclusions: Type.Array(Range),
    reservations: Type.Array(Reservation),
    options: Type.Array(OptionEntry, {
      description: 'Server-wide options merged with the scope’s (the scope’s win)',
    }),
    leaseTimeSeconds: Count('Lease time'),
    renewTimeSeconds: Count('T1'),
    rebindTimeSeconds: Count('T2'),
    relayAddresses: Type.Array(Ipv4('giaddr outside the subnet that selects this scope')),
    dynamicBootp: Type.Boolean(),
    bootpLeaseSeconds: Nullable(Count('BOOTP lease time; null = infinite')),
    declineHoldSeconds: Count('How long a declined address is held out of the pool'),
    offerHoldSeconds: Count('How long an offered address is held for the client'),
    authoritative: Type.Boolean(),
    failoverRelationship: Nullable(Type.String()),
    role: StringEnum(
      ['standalone', 'primary', 'secondary'] as const,
      "This server's part in the scope's free pool",
    ),
    dynamicAddresses: Count(
      'Addresses the engine may hand to any client (ranges − exclusions − reservations)',
    ),
  },
  { $id: 'Scope', title: 'Scope' },
);
export type Scope = Static<typeof Scope>;

export const ScopeList = Type.Object(
  { items: Type.Array(Type.Ref('Scope')) },
  { $id: 'ScopeList', title: 'ScopeList' },
);

// ---------------------------------------------------------------------------------------------
// Leases (seed 001, windows-model.md §4.4)

export const Lease = Type.Object(
  {
    ipAddress: Ipv4('ClientIpAddress'),
    scopeId: Type.String(),
    subnetMask: Ipv4('SubnetMask: the mask the client is given'),
    hardwareAddress: Type.Object(
      {
        htype: Type.Integer({
          minimum: 0,
          maximum: 255,
          description: 'ARP hardware type (1 = Ethernet); 0 = unknown',
        }),
        mac: Nullable(Type.String({ description: 'aa:bb:cc:dd:ee:ff; null when unknown' })),
      },
      { description: 'ClientHardwareAddress' },
    ),
    clientId: Nullable(Type.String({ description: 'Client identifier (option 61) as colon-separated hex' })),
    hostname: Nullable(Type.String({ description: 'ClientName' })),
    description: Nullable(Type.String({ description: "ClientComment: the reservation's description" })),
    fqdn: Nullable(Type.String({ description: 'Client FQDN (option 81)' })),
    leaseExpiresAt: Timestamp('ClientLeaseExpires'),
    leaseInfinite: Type.Boolean({
      description: 'The lease never expires (BOOTP); leaseExpiresAt is then null',
    }),
    ownerServer: Type.Object(
      {
        name: Nullable(Type.String({ description: 'Server that granted the binding' })),
        address: Nullable(Ipv4('Its address, when known')),
      },
      { description: 'OwnerHost' },
    ),
    clientType: StringEnum(['unspecified', 'dhcp', 'bootp', 'both', 'none'] as const, 'bClientType (§1.4)'),
    reserved: Type.Boolean({ description: 'bClientType reservation flag' }),
    bindingState: StringEnum(BINDING_STATES, 'D12 binding status'),
    addressState: Nullable(
      StringEnum(
        ADDRESS_STATES,
        'AddressState bits 0–1 (§1.5); null for a free/backup record nobody is offered',
      ),
    ),
    dhcidMode: StringEnum(['none', 'noClientId', 'clientId', 'duid'] as const, 'AddressState bits 2–3'),
    dns: Type.Object(
      {
        cleanupOnDelete: Type.Boolean(),
        updateBothRecords: Type.Boolean(),
        registrationPending: Type.Boolean(),
        removalPending: Type.Boolean(),
      },
      { description: 'AddressState bits 4–7' },
    ),
    napStatus: StringEnum(
      [
        'noQuarantine',
        'restrictedAccess',
        'dropPacket',
        'probation',
        'exempt',
        'defaultQuarSetting',
        'noQuarInfo',
      ] as const,
      'Status (QuarantineStatus, §1.6). NAP is not implemented: always noQuarInfo ("no quarantine information")',
    ),
    probationEndsAt: Timestamp('ProbationEnds (NAP; always null)'),
    napCapable: Type.Boolean({ description: 'QuarantineCapable (NAP; always false)' }),
    sentPotentialExpiresAt: Timestamp('SentPotExpTime: potential-expiration-time sent to the partner'),
    ackedPotentialExpiresAt: Timestamp('AckPotExpTime: potential-expiration-time the partner acknowledged'),
    receivedPotentialExpiresAt: Timestamp(
      'RecvPotExpTime: potential-expiration-time received from the partner',
    ),
    stateStartedAt: Timestamp('StartTime: when the binding entered its state'),
    clientLastTransactionAt: Timestamp('CltLastTransTime'),
    lastBindingUpdateAt: Timestamp('LastBndUpdTime: last binding update sent to or applied from the partner'),
    partnerUpToDate: Type.Boolean({ description: 'The partner has acknowledged the current binding' }),
    policyName: Nullable(Type.String({ description: 'PolicyName' })),
    offerExpiresAt: Timestamp('For an address being offered: when the offer lapses'),
  },
  { $id: 'Lease', title: 'Lease' },
);
export type Lease = Static<typeof Lease>;

export const LeaseList = Type.Object(
  {
    items: Type.Array(Type.Ref('Lease')),
    total: Count('Leases matching the filters (all pages)'),
    nextCursor: Nullable(
      Type.String({ description: 'Pass as ?cursor= for the next page; null on the last page' }),
    ),
  },
  { $id: 'LeaseList', title: 'LeaseList' },
);

export const LeaseQuery = Type.Object(
  {
    ip: Type.Optional(Ipv4('Only this address')),
    mac: Type.Optional(
      Type.String({
        pattern: HEX_WITH_SEPARATORS,
        description: 'Hardware address (any of aa:bb…, aa-bb…, aabb…)',
      }),
    ),
    hostname: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, description: 'Host name, case-insensitive' }),
    ),
    state: Type.Optional(StringEnum(LEASE_STATE_FILTERS, 'A D12 binding state or a Windows address state')),
    owner: Type.Optional(
      Type.String({ minLength: 1, description: 'Name of the server that granted the binding' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size' })),
    cursor: Type.Optional(Ipv4('nextCursor of the previous page')),
  },
  { additionalProperties: false },
);
export type LeaseQuery = Static<typeof LeaseQuery>;

export const GlobalLeaseQuery = Type.Object(
  {
    ...LeaseQuery.properties,
    scope: Type.Optional(Type.String({ minLength: 1, description: 'Only this scope' })),
  },
  { additionalProperties: false },
);
export type GlobalLeaseQuery = Static<typeof GlobalLeaseQuery>;

export const ScopeParams = Type.Object({ scopeId: Type.String({ minLength: 1 }) });
export const LeaseParams = Type.Object({ scopeId: Type.String({ minLength: 1 }), ip: Ipv4('Lease address') });
export const AddressParams = Type.Object({ ip: Ipv4('Lease address') });

// ---------------------------------------------------------------------------------------------
// Status

export const Relationship = Type.Object({
  name: Type.String(),
  role: StringEnum(['primary', 'secondary'] as const, 'D12 role'),
  mode: StringEnum(['loadBalance', 'hotStandby'] as const, 'Failover mode'),
  state: Type.String({ description: 'windows-model.md §1.3 state' }),
  stateSince: Timestamp('When the state was entered'),
  partnerState: Nullable(Type.String()),
  connection: StringEnum(['up', 'down', 'connecting'] as const, 'Connection to the partner'),
  scopeIds: Type.Array(Type.String()),
});

export const Status = Type.Object(
  {
    version: Type.String(),
    serverName: Type.String(),
    serverIdentifier: Ipv4('Option 54 of our replies'),
    now: Type.String({ format: 'date-time' }),
    startedAt: Type.String({ format: 'date-time' }),
    uptimeSeconds: Count('Seconds since start'),
    access: StringEnum(['read', 'write'] as const, 'What the caller may do'),
    leaseStore: Type.Object({
      type: Type.String(),
      path: Type.String(),
      leases: Count('Stored lease records'),
    }),
    scopes: Type.Array(
      Type.Object({
        id: Type.String(),
        name: Nullable(Type.String()),
        subnet: Type.String(),
        role: StringEnum(
          ['standalone', 'primary', 'secondary'] as const,
          "This server's part in the free pool",
        ),
        numAddr: Count('See ScopeStatistics'),
        addrInUse: Count('See ScopeStatistics'),
        addrFree: Count('See ScopeStatistics'),
        pendingOffers: Count('See ScopeStatistics'),
        percentageInUse: Type.Number(),
      }),
    ),
    relationships: Type.Array(Relationship, {
      description: 'Failover relationships (empty until failover runs)',
    }),
  },
  { $id: 'Status', title: 'Status' },
);
export type Status = Static<typeof Status>;

export const Health = Type.Object({ status: Type.Literal('ok') }, { $id: 'Health', title: 'Health' });

// ---------------------------------------------------------------------------------------------
// Config reload

export const ReloadBody = Type.Object(
  {
    dryRun: Type.Optional(
      Type.Boolean({ description: 'Check the file and report the changes without applying them' }),
    ),
  },
  { additionalProperties: false },
);

export const ReloadResult = Type.Object(
  {
    applied: Type.Boolean(),
    changes: Type.Object({
      isUnchanged: Type.Boolean(),
      scopesAdded: Type.Array(Type.String()),
      scopesRemoved: Type.Array(Type.String()),
      scopesChanged: Type.Array(Type.String()),
      relationshipsAdded: Type.Array(Type.String()),
      relationshipsRemoved: Type.Array(Type.String()),
      relationshipsChanged: Type.Array(Type.String()),
      restartRequired: Type.Array(Type.String(), {
        description: 'Settings that change only after a restart',
      }),
    }),
  },
  { $id: 'ReloadResult', title: 'ReloadResult' },
);

export const ConfigErrors = Type.Object(
  {
    error: Type.String(),
    message: Type.String(),
    errors: Type.Array(
      Type.Object({
        file: Type.String(),
        path: Type.String({ description: 'JSON pointer into the config file' }),
        readablePath: Type.String(),
        message: Type.String(),
        line: Type.Optional(Type.Integer()),
        column: Type.Optional(Type.Integer()),
      }),
    ),
  },
  { $id: 'ConfigErrors', title: 'ConfigErrors' },
);

/** Every schema with an $id, registered once with app.addSchema and referenced by name. */
export const SHARED_SCHEMAS: readonly TSchema[] = [
  ErrorBody,
  ScopeStatistics,
  StatisticsList,
  Scope,
  ScopeList,
  Lease,
  LeaseList,
  Status,
  Health,
  ReloadResult,
  ConfigErrors,
];

/** A reference to a shared schema, typed as the schema it names (for the type provider). */
export function ref<T extends TSchema>(schema: T): T {
  const id = (schema as { $id?: string }).$id;
  if (id === undefined) throw new Error('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>(Type.Ref(id)) as unknown as T;
}
