// The management API's resources and inputs as TypeBox schemas. The same objects validate
// requests (Fastify's Ajv), shape responses (fast-json-stringify) and generate /openapi.json.
// Conventions (windows-model.md §4): camelCase, string enums, ISO-8601 UTC timestamps, IPv4
// dotted, MAC aa:bb:cc:dd:ee:ff, binary ids as colon-separated lower-case hex.

import { type Static, type TSchema, Type } from 'typebox';
import {
  AddressRange as ConfigAddressRange,
  FailoverRelationship as ConfigRelationship,
  Reservation as ConfigReservation,
  Scope as ConfigScope,
} from '../config/schema.js';

/** A string enum rendered as `{ type: 'string', enum: [...] }` (readable OpenAPI, fast serialisation). */
function StringEnum<const T extends readonly string[]>(values: T, description: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
}

/** Types that `Nullable` widens with 'null' in place (`{ type: [t, 'null'] }`). */
const PRIMITIVE_TYPES: ReadonlySet<unknown> = new Set(['string', 'number', 'integer', 'boolean']);

/**
 * `schema` or null. A plain string, number, integer or boolean schema (no enum or const) becomes
 * `{ …schema, type: [t, 'null'] }` (JSON Schema and OpenAPI 3.1 allow a list of types), anything
 * else `anyOf: [schema, null]`. The first form is what fast-json-stringify writes with a typeof
 * test; for an anyOf it runs an Ajv validation of every value to pick a branch, date-time format
 * checks included (a page of 1000 leases has 13 nullable fields per lease; issue 15). An enum or a
 * const would refuse null in the first form, so those keep the anyOf.
 */
function Nullable<T extends TSchema>(schema: T) {
  const s = schema as TSchema & { type?: unknown; enum?: unknown; const?: unknown };
  if (PRIMITIVE_TYPES.has(s.type) && s.enum === undefined && s.const === undefined)
    return Type.Unsafe<Static<T> | null>({ ...schema, type: [s.type, 'null'] });
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
    active: Type.Boolean({
      description: 'false: configured but no client is answered in it (Windows State InActive)',
    }),
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
      'Status (QuarantineStatus, §1.6). NAP is deprecated by Microsoft and Twinlease has no quarantine policy: always noQuarInfo ("no quarantine information")',
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

/** The query string of a route that takes no parameters: any parameter is an error. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

export const ScopeParams = Type.Object({ scopeId: Type.String({ minLength: 1 }) });
export const LeaseParams = Type.Object({ scopeId: Type.String({ minLength: 1 }), ip: Ipv4('Lease address') });
export const AddressParams = Type.Object({ ip: Ipv4('Lease address') });

// ---------------------------------------------------------------------------------------------
// Failover (seed 002, windows-model.md §4.1–4.5)

/** windows-model.md §1.3, "Ours" column: the only way a failover state leaves the API. */
export const FAILOVER_STATES = [
  'noState',
  'init',
  'startup',
  'normal',
  'communicationsInterrupted',
  'partnerDown',
  'potentialConflict',
  'conflictDone',
  'resolutionInterrupted',
  'recover',
  'recoverWait',
  'recoverDone',
  'paused',
  'shutdown',
] as const;
export type FailoverStateName = (typeof FAILOVER_STATES)[number];
const FailoverState = (description: string) => StringEnum(FAILOVER_STATES, description);

const PreviousState = () =>
  Nullable(FailoverState('The state before the current one (null: no change seen since the server started)'));
const StateChangeReason = () =>
  Nullable(
    Type.String({ description: 'Why the relationship entered its current state, in words (null: unknown)' }),
  );

export const StateChange = Type.Object({
  from: FailoverState('State left'),
  to: FailoverState('State entered'),
  at: Type.String({ format: 'date-time' }),
  rule: Type.String({
    description:
      'The state-table row that fired, `<state>:<event>` (src/failover/state-machine.ts), e.g. normal:comm-failed',
  }),
  reason: Type.String({ description: 'The event in words' }),
  partnerState: Nullable(FailoverState('The partner’s state as last known then')),
});

export const RelationshipSummary = Type.Object(
  {
    name: Type.String(),
    role: StringEnum(['primary', 'secondary'] as const, 'This server’s D12 role'),
    mode: StringEnum(['loadBalance', 'hotStandby'] as const, 'Failover mode'),
    state: FailoverState('This server’s failover state (noState: the endpoint does not run it)'),
    stateSince: Timestamp('When this server entered the state'),
    previousState: PreviousState(),
    stateChangeReason: StateChangeReason(),
    partnerState: Nullable(
      FailoverState('The partner’s state as it last reported it (last known: see isPartnerStateStale)'),
    ),
    partnerStateSince: Timestamp('When the partner entered its state'),
    isPartnerStateStale: Type.Boolean({
      description:
        'partnerState is only the last known state: the partner is not reachable now, so it may have changed since partnerStateHeardAt',
    }),
    partnerStateHeardAt: Timestamp('When the partner was last heard (its last message)'),
    connection: StringEnum(
      ['up', 'down', 'connecting'] as const,
      'up: connected, CONNECT/CONNECTACK done and the partner’s STATE received',
    ),
    isPartnerReachable: Type.Boolean({ description: 'connection is up' }),
    lastContactAt: Timestamp('Last message from the partner'),
    clockSkewSeconds: Nullable(Type.Number({ description: 'Partner clock − ours, seconds' })),
    scopeIds: Type.Array(Type.String()),
  },
  { $id: 'RelationshipSummary', title: 'RelationshipSummary' },
);
export type RelationshipSummary = Static<typeof RelationshipSummary>;

const FailoverServer = Type.Object(
  {
    role: StringEnum(['primary', 'secondary'] as const, 'Server1 is the primary, Server2 the secondary'),
    isThisServer: Type.Boolean(),
    address: Ipv4('Server1IP / Server2IP'),
    name: Nullable(Type.String({ description: 'Server1Name / Server2Name (as configured)' })),
    recordId: Type.Integer({ minimum: 0, description: 'Server1RecordId / Server2RecordId (docs/api.md)' }),
    state: Nullable(FailoverState('Server1State / Server2State')),
    isStateStale: Type.Boolean({
      description: 'The partner’s entry while it is unreachable: `state` is its last known state',
    }),
    percentage: Type.Integer({
      minimum: 0,
      maximum: 100,
      description:
        'Server1Percentage (Server2: the complement): loadBalance, its share of clients; hotStandby, its share of the free addresses',
    }),
  },
  { description: 'IPAM view (MS-IPAMM2 DhcpFailover Server1*/Server2*)' },
);

export const FAILOVER_OPERATIONS = [
  'create',
  'update',
  'addScopes',
  'removeScope',
  'partnerDown',
  'replicate',
  'resync',
  'rebalance',
] as const;

export const OPERATION_EFFECTS = ['started', 'restarted', 'none'] as const;

const Operation = Type.Object({
  operation: StringEnum(FAILOVER_OPERATIONS, 'What was done'),
  at: Type.String({ format: 'date-time' }),
  serverName: Type.String({ description: 'The server the operation was started from (ServerOwner)' }),
  tokenName: Nullable(Type.String({ description: 'API token that asked for it' })),
  effect: StringEnum(
    OPERATION_EFFECTS,
    'What the change did to the running relationship, at once (no restart of the server): started (new), restarted (STATE paused to the partner, reconnected, state resumed), none',
  ),
  detail: Nullable(Type.String()),
});

const ConfigurationDifference = Type.Object({
  name: Type.String({
    description:
      'The setting (mode, role, loadBalancePercent, serverRole, reservePercent, poolSplit, mcltSeconds, autoStateTransition, stateSwitchIntervalSeconds, auth, sharedSecret, scopeIds, relationship) or scopes/<id>',
  }),
  ours: Type.Unknown({ description: 'Our configured value (null for a secret or a scope object)' }),
  partner: Type.Unknown({
    description: "The partner's configured value (null for a secret or a scope object)",
  }),
  rule: StringEnum(
    ['equal', 'complement', 'opposite'] as const,
    'equal: must be the same; complement: the two add up to 100; opposite: one each (primary/secondary, active/standby)',
  ),
});

export const FailoverRelationship = Type.Object(
  {
    name: Type.String({ description: 'RelationshipName' }),
    recordId: Type.Integer({
      minimum: 0,
      description: 'RecordId: stable, derived from the name (docs/api.md)',
    }),
    role: StringEnum(['primary', 'secondary'] as const, 'This server’s role (serverType)'),
    mode: StringEnum(['loadBalance', 'hotStandby'] as const, 'Mode'),
    serverRole: Nullable(
      StringEnum(['active', 'standby'] as const, 'hotStandby: this server’s part, as in force'),
    ),
    loadBalancePercent: Type.Integer({
      minimum: 0,
      maximum: 100,
      description:
        'Share of clients served here, as in force (a secondary applies the primary’s hash-bucket assignment)',
    }),
    reservePercent: Type.Integer({
      minimum: 0,
      maximum: 100,
      description: 'Standby’s share of free addresses',
    }),
    mcltSeconds: Count('MCLT in force: a secondary adopts the primary’s at every CONNECT'),
    configuredValues: Type.Object(
      {
        mcltSeconds: Type.Optional(Count('Configured MCLT')),
        loadBalancePercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
        serverRole: Type.Optional(StringEnum(['active', 'standby'] as const, 'Configured serverRole')),
      },
      {
        description:
          'The configured value of each field above that differs from the value in force (taken from the primary); empty when they agree',
      },
    ),
    autoStateTransition: Type.Boolean({ description: 'AutoStateTransition' }),
    stateSwitchIntervalSeconds: Nullable(Count('StateSwitchInterval (safe period); null = off')),
    auth: StringEnum(['none', 'hmacSha256', 'hmacMd5'] as const, 'Message authentication'),
    sharedSecretEnabled: Type.Boolean({
      description: 'SharedSecretEnabled: a shared secret is configured (the secret itself is never shown)',
    }),
    tlsEnabled: Type.Boolean({
      description: 'The failover link runs over TLS with certificates both ways (tls in the config)',
    }),
    scopeIds: Type.Array(Type.String(), { description: 'pScopes / ScopeId[]' }),
    local: Type.Object({
      address: Ipv4('This server’s failover address'),
      port: Type.Integer(),
      name: Nullable(Type.String()),
    }),
    partner: Type.Object({
      address: Ipv4('The partner’s failover address'),
      port: Type.Integer(),
      name: Nullable(Type.String()),
      api: Nullable(
        Type.Object({
          url: Type.String({ description: 'The partner’s management API' }),
          isTokenConfigured: Type.Boolean({ description: 'A token is configured (never shown)' }),
        }),
      ),
    }),
    maxUnackedUpdates: Count('max-unacked-bndupd'),
    receiveTimerSeconds: Count('Partner silence tolerated'),
    loadBalanceMaxSeconds: Count('secs threshold'),
    hbaBitMeaning: StringEnum(['primary', 'secondary'] as const, 'Meaning of a set HBA bit'),
    poolSplit: StringEnum(['even', 'percentage'] as const, 'Free pool split'),
    maxClockSkewSeconds: Count('Tolerated clock difference'),
    isRunning: Type.Boolean({
      description:
        'The failover endpoint runs this relationship (it starts, restarts or stops with the reload a config write makes)',
    }),
    state: FailoverState('State'),
    stateSince: Timestamp('When this server entered the state'),
    previousState: PreviousState(),
    stateChangeReason: StateChangeReason(),
    stateHistory: Type.Array(StateChange, {
      description: 'The last 20 state changes since the server started, newest first',
    }),
    partnerState: Nullable(
      FailoverState('The partner’s state as last reported (last known: see isPartnerStateStale)'),
    ),
    partnerStateSince: Timestamp('When the partner entered its state'),
    isPartnerStateStale: Type.Boolean({
      description:
        'partnerState is only the last known state: the partner is not reachable now, so it may have changed since partnerStateHeardAt',
    }),
    partnerStateHeardAt: Timestamp('When the partner was last heard (its last message)'),
    connection: Type.Object({
      status: StringEnum(['up', 'down', 'connecting'] as const, 'Connection to the partner'),
      lastContactAt: Timestamp('Last message from the partner'),
      clockSkewSeconds: Nullable(Type.Number({ description: 'Partner clock − ours' })),
      partnerVendorClass: Nullable(Type.String()),
      queuedUpdates: Count('Binding updates queued, not yet sent'),
      unackedUpdates: Count('Binding updates sent, not yet acknowledged'),
    }),
    partnerDownAt: Timestamp('When COMMUNICATIONS-INTERRUPTED turns into PARTNER-DOWN (auto)'),
    partnerPoolUsableAt: Timestamp('PARTNER-DOWN: when the partner’s free addresses become usable'),
    partnerSeenServingAt: Timestamp(
      'Last time a client took the partner’s OFFER (a REQUEST naming it, seen here); automatic partner-down waits a full switch interval after it',
    ),
    counters: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
      description: 'Failover endpoint counters (docs/metrics.md)',
    }),
    server1: FailoverServer,
    server2: FailoverServer,
    serverOwner: Nullable(
      Type.String({ description: 'ServerOwner: the server the last operation was started from' }),
    ),
    operationTracker: Type.Array(Operation, {
      description: 'OperationTracker: the last operations on this relationship, newest first',
    }),
    configurationDiffers: Nullable(
      Type.Boolean({
        description:
          'configurationDifferences is not empty; null when partner.api is not configured or not reachable',
      }),
    ),
    configurationDifferences: Nullable(
      Type.Array(ConfigurationDifference, {
        description:
          'Every setting and scope on which the partner’s configuration differs from ours (GET on its API); null when unknown',
      }),
    ),
  },
  { $id: 'FailoverRelationship', title: 'FailoverRelationship' },
);
export type FailoverRelationship = Static<typeof FailoverRelationship>;

export const FailoverRelationshipList = Type.Object(
  { items: Type.Array(ref(FailoverRelationship)) },
  { $id: 'FailoverRelationshipList', title: 'FailoverRelationshipList' },
);

/** GET /api/v1/failover/relationships: filters (all given must hold), for a hub with many. */
export const RelationshipListQuery = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 126,
        description: 'Name contains this text (case-insensitive)',
      }),
    ),
    state: Type.Optional(FailoverState('This server’s state in the relationship')),
    partnerState: Type.Optional(FailoverState('The partner’s state (as last reported)')),
    connection: Type.Optional(StringEnum(['up', 'down'] as const, 'Whether the partner is communicating')),
    role: Type.Optional(StringEnum(['primary', 'secondary'] as const, 'This server’s role')),
    mode: Type.Optional(StringEnum(['loadBalance', 'hotStandby'] as const, 'Failover mode')),
    partner: Type.Optional(Ipv4('The partner’s failover address')),
    scope: Type.Optional(
      Type.String({ minLength: 1, description: 'The relationship holding this scope id' }),
    ),
  },
  { additionalProperties: false },
);
export type RelationshipListQuery = Static<typeof RelationshipListQuery>;

const LISTENER_OUTCOMES = [
  'unknown-peer',
  'unknown-name',
  'no-connect',
  'not-connect',
  'wake-up',
  'closing',
] as const;

/** GET /api/v1/failover/listeners: one per local address and port, shared by its relationships. */
export const FailoverListenerList = Type.Object(
  {
    items: Type.Array(
      Type.Object({
        listen: Type.String({ description: 'address:port' }),
        relationships: Type.Array(Type.String(), { description: 'Relationships served by this listener' }),
        matched: Count('Connections handed to a relationship since start'),
        refused: Type.Object(
          Object.fromEntries(LISTENER_OUTCOMES.map((o) => [o, Count(`Connections refused: ${o}`)])) as Record<
            (typeof LISTENER_OUTCOMES)[number],
            ReturnType<typeof Count>
          >,
          { description: 'Connections refused since start, by reason (docs/failover.md)' },
        ),
        nameOfAnotherPartner: Count(
          'CONNECTs naming a relationship of this listener whose partner has another address',
        ),
        waitingForConnect: Count('Connections held now until their CONNECT names a relationship'),
      }),
    ),
  },
  { $id: 'FailoverListenerList', title: 'FailoverListenerList' },
);

/** GET …/relationships/{name}/settings: what the partner compares (configurationDifferences). */
export const RelationshipSettings = Type.Object(
  {
    name: Type.String(),
    role: StringEnum(['primary', 'secondary'] as const, 'Configured role'),
    mode: StringEnum(['loadBalance', 'hotStandby'] as const, 'Configured mode'),
    loadBalancePercent: Type.Integer({ minimum: 0, maximum: 100, description: 'Configured' }),
    reservePercent: Type.Integer({ minimum: 0, maximum: 100, description: 'Configured' }),
    serverRole: Nullable(StringEnum(['active', 'standby'] as const, 'Configured')),
    poolSplit: StringEnum(['even', 'percentage'] as const, 'Configured'),
    mcltSeconds: Count('Configured MCLT'),
    autoStateTransition: Type.Boolean(),
    stateSwitchIntervalSeconds: Nullable(Count('Configured; null = off')),
    auth: StringEnum(['none', 'hmacSha256', 'hmacMd5'] as const, 'Message authentication'),
    sharedSecretFingerprint: Nullable(
      Type.String({
        description:
          'scrypt of the shared secret salted with the relationship name (16 bytes, hex): equal on both partners exactly when the secrets are; the secret itself never leaves the server',
      }),
    ),
    scopeIds: Type.Array(Type.String()),
    tls: Type.Optional(Type.Boolean({ description: 'The failover link runs over TLS (both must agree)' })),
  },
  { $id: 'RelationshipSettings', title: 'RelationshipSettings' },
);
export type RelationshipSettings = Static<typeof RelationshipSettings>;

export const RelationshipParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 126 }) });
export const RelationshipScopeParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 126 }),
  scopeId: Type.String({ minLength: 1 }),
});

export const AddScopesBody = Type.Object(
  { scopeIds: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
  { additionalProperties: false },
);

/** POST /failover/relationships: a relationship exactly as in the config file (failover[]). */
export const CreateRelationshipBody = ConfigRelationship;

/** JSON round trip: a plain JSON Schema without TypeBox's bookkeeping keys. */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** Every property optional; those optional in the config may also be null (= remove it). */
function mergePatchOf(
  schema: { properties: Record<string, unknown> },
  omit: readonly string[],
  nested: Record<string, Record<string, unknown>>,
): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema.properties)) {
    if (omit.includes(key)) continue;
    const isOptional = (value as Record<string, unknown>)['~optional'] === true;
    const body = nested[key] ?? plain(value);
    properties[key] = isOptional ? { anyOf: [body, { type: 'null' }] } : body;
  }
  return { type: 'object', additionalProperties: false, properties };
}

const endpointPatch = (endpoint: unknown) =>
  mergePatchOf(endpoint as { properties: Record<string, unknown> }, [], {});

/**
 * PATCH /failover/relationships/{name}: a JSON merge patch (RFC 7396) of the relationship's
 * config: given properties replace, null removes (back to the default), `name` cannot change.
 */
export const PatchRelationshipBody = Type.Unsafe<Record<string, unknown>>({
  ...mergePatchOf(ConfigRelationship, ['name'], {
    local: endpointPatch(ConfigRelationship.properties.local),
    partner: endpointPatch(ConfigRelationship.properties.partner),
  }),
  description:
    'JSON merge patch of the relationship as written in the config (null removes a property); sharedSecret enables auth (hmacSha256), sharedSecret: null disables it',
});

/** Drops `default` annotations: the serializer would otherwise add them to a file's object. */
function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).flatMap(([k, v]) => (k === 'default' ? [] : [[k, withoutDefaults(v)]])),
  );
}

const ScopeConfigShape = Type.Object(ConfigScope.properties, { additionalProperties: false });

/**
 * A scope exactly as in the config file (scopes[]), id explicit. Without default annotations, so
 * the answer is the file's object and nothing else (replication compares them).
 */
export const ScopeConfig = Type.Unsafe<Static<typeof ScopeConfigShape>>({
  ...(withoutDefaults(plain(ScopeConfigShape)) as Record<string, unknown>),
  $id: 'ScopeConfig',
  title: 'ScopeConfig',
  description: 'One scope as written in the config file (docs/configuration.md), with its id',
});

/** PATCH /scopes/{id}: a JSON merge patch (RFC 7396) of the scope's object in the file; `id` cannot change. */
export const PatchScopeBody = Type.Unsafe<Record<string, unknown>>({
  ...(withoutDefaults(mergePatchOf(ScopeConfigShape, ['id'], {})) as Record<string, unknown>),
  description:
    'JSON merge patch of the scope as written in the config (null removes a property); arrays (ranges, reservations, …) are replaced whole',
});

/** POST /scopes/{id}/reservations: a reservation exactly as in the config file. */
export const ReservationConfig = Type.Unsafe<Static<typeof ConfigReservation>>({
  ...(withoutDefaults(plain(ConfigReservation)) as Record<string, unknown>),
  description: 'One reservation as written in the config file (scopes[].reservations[])',
});

/** PATCH /scopes/{id}/reservations/{ip}: merge patch of the reservation; `address` cannot change. */
export const PatchReservationBody = Type.Unsafe<Record<string, unknown>>({
  ...mergePatchOf(ConfigReservation as unknown as { properties: Record<string, unknown> }, ['address'], {}),
  description: 'JSON merge patch of the reservation as written in the config (null removes a property)',
});

/** POST /scopes/{id}/exclusions: an inclusive range, as in the config file. */
export const ExclusionConfig = Type.Unsafe<Static<typeof ConfigAddressRange>>({
  ...plain(ConfigAddressRange),
  description: 'An exclusion range as written in the config file (scopes[].exclusions[])',
});

export const ReservationParams = Type.Object({
  scopeId: Type.String({ minLength: 1 }),
  ip: Ipv4('Reserved address'),
});
export const ExclusionParams = Type.Object({
  scopeId: Type.String({ minLength: 1 }),
  range: Type.String({
    pattern: '^\\d{1,3}(\\.\\d{1,3}){3}-\\d{1,3}(\\.\\d{1,3}){3}$',
    description: 'The exclusion as START-END, e.g. 10.0.0.5-10.0.0.9',
  }),
});

export const ReplicateBody = Type.Object(
  {
    scopeIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'Only these scopes of the relationship (default: all of them)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ReplicateResult = Type.Object(
  {
    relationship: Type.String(),
    partner: Type.String({ description: 'The partner API the configs were sent to' }),
    items: Type.Array(
      Type.Object({
        scopeId: Type.String(),
        result: StringEnum(
          ['identical', 'updated', 'failed', 'wouldUpdate', 'wouldBeRefused'] as const,
          'identical: the partner already had it; updated: replaced on the partner; failed: see message. dryRun: wouldUpdate, or wouldBeRefused (message: why; force=true would write it)',
        ),
        message: Nullable(Type.String()),
      }),
    ),
  },
  { $id: 'ReplicateResult', title: 'ReplicateResult' },
);
export type ReplicateResult = Static<typeof ReplicateResult>;

// ---------------------------------------------------------------------------------------------
// Status

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
    relationships: Type.Array(ref(RelationshipSummary), {
      description: 'Failover relationships: configured or running, with their live state',
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

const ConfigChanges = Type.Object({
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
});

export const ReloadResult = Type.Object(
  {
    applied: Type.Boolean(),
    changes: ConfigChanges,
    orphanedLeases: Type.Unsafe<Static<typeof OrphanedLeases>>({
      $ref: 'OrphanedLeases',
      description:
        'Active leases the file leaves outside every scope; a reload applies it all the same (the file is the truth) and logs each (config.orphaned-lease)',
    }),
  },
  { $id: 'ReloadResult', title: 'ReloadResult' },
);

// ---------------------------------------------------------------------------------------------
// Config writes: dry run, force, and what a refusal lists (docs/api.md §Checks before a write)

const DryRunFlag = Type.Boolean({
  description: 'Check the change and answer what it would do (WritePreview); change nothing',
});
const ForceFlag = Type.Boolean({
  description: 'Write even if the change orphans active leases or the failover partner would reject it',
});

/** The query string of every route that writes the config file. */
export const ConfigWriteQuery = Type.Object(
  { dryRun: Type.Optional(DryRunFlag), force: Type.Optional(ForceFlag) },
  { additionalProperties: false },
);

/** PATCH …/failover/relationships/{name}: also on the partner (Set-DhcpServerv4Failover changes both). */
export const RelationshipWriteQuery = Type.Object(
  {
    dryRun: Type.Optional(DryRunFlag),
    force: Type.Optional(ForceFlag),
    replicate: Type.Optional(
      Type.Boolean({
        description:
          "Make the same change on the partner (its API, partner.api), mirrored where the setting is each server's own (role, serverRole, loadBalancePercent, local/partner); ours is put back if the partner refuses",
      }),
    ),
  },
  { additionalProperties: false },
);

/** DELETE …/leases/{ip}: force deletes an active lease (released first). */
export const LeaseDeleteQuery = Type.Object(
  {
    force: Type.Optional(
      Type.Boolean({
        description: 'Delete an active lease too: it is released first (the partner learns it)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** PUT …/scopes/{id}/config: also replicate (make the same change on the failover partner). */
export const ScopeConfigWriteQuery = Type.Object(
  {
    dryRun: Type.Optional(DryRunFlag),
    force: Type.Optional(ForceFlag),
    replicate: Type.Optional(
      Type.Boolean({
        description:
          'Make the same change on the failover partner (its API, partner.api) after ours; ours is put back if the partner refuses. Replaces the partner check',
      }),
    ),
  },
  { additionalProperties: false },
);

export const OrphanedLeases = Type.Object(
  {
    count: Count('Active leases the change leaves outside every scope'),
    items: Type.Array(
      Type.Object({
        ipAddress: Ipv4('The leased address'),
        scopeId: Type.String(),
        hardwareAddress: Nullable(Type.String({ description: 'MAC aa:bb:cc:dd:ee:ff' })),
        clientId: Nullable(Type.String({ description: 'Option 61 as colon-separated hex' })),
        hostname: Nullable(Type.String()),
        leaseExpiresAt: Timestamp('When the lease ends (null: infinite)'),
        ownerServer: Nullable(Type.String({ description: 'The server that granted it' })),
      }),
      { description: 'The first 1000, by address' },
    ),
  },
  { $id: 'OrphanedLeases', title: 'OrphanedLeases' },
);

const PartnerCheck = Type.Object({
  relationship: Type.String(),
  scopeId: Type.String(),
  partner: Nullable(Type.String({ description: 'The partner API asked; null without partner.api' })),
  result: StringEnum(
    ['accepted', 'wouldReject', 'unverified'] as const,
    'accepted: the partner has every address the change adds; wouldReject: it lacks `addresses`; unverified: it could not be asked',
  ),
  addresses: Type.Array(Type.String(), { description: 'a.b.c.d or a.b.c.d-e.f.g.h' }),
  message: Nullable(Type.String()),
});

const Blocker = Type.Object({
  error: StringEnum(
    ['orphans-active-leases', 'partner-would-reject', 'partner-unverified'] as const,
    'Why the write is refused without force',
  ),
  message: Type.String(),
});

export const WritePreview = Type.Object(
  {
    dryRun: Type.Literal(true),
    wouldApply: Type.Boolean({
      description: 'The same request without dryRun would be written (no blocker, or force)',
    }),
    changes: ConfigChanges,
    diff: Type.Array(
      Type.Object({
        path: Type.String({ description: 'JSON pointer into the config file' }),
        before: Type.Optional(Type.Unknown({ description: 'Absent: added' })),
        after: Type.Optional(Type.Unknown({ description: 'Absent: removed' })),
      }),
      { description: 'What changes in the file (secrets shown as "[redacted]")' },
    ),
    orphanedLeases: ref(OrphanedLeases),
    partnerChecks: Type.Array(PartnerCheck, {
      description: 'Failover scopes that gain addresses: does the partner have them?',
    }),
    blockers: Type.Array(Blocker, { description: 'Why it would be refused without force' }),
    partner: Type.Optional(
      Type.Object(
        {
          url: Type.String(),
          preview: Nullable(Type.Unknown({ description: "The partner's own WritePreview" })),
          message: Nullable(Type.String({ description: 'Why the partner could not be asked' })),
        },
        { description: 'replicate=true: the same dry run on the partner' },
      ),
    ),
  },
  { $id: 'WritePreview', title: 'WritePreview' },
);
export type WritePreview = Static<typeof WritePreview>;

export const WriteRefusal = Type.Object(
  {
    error: Type.String({
      description:
        'orphans-active-leases, partner-would-reject, partner-unverified, partner-refused, partner-unreachable, …',
    }),
    message: Type.String(),
    path: Type.Optional(Type.String()),
    orphanedLeases: Type.Optional(ref(OrphanedLeases)),
    partnerChecks: Type.Optional(Type.Array(PartnerCheck)),
  },
  { $id: 'WriteRefusal', title: 'WriteRefusal' },
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
  RelationshipSummary,
  FailoverRelationship,
  FailoverRelationshipList,
  FailoverListenerList,
  ReplicateResult,
  RelationshipSettings,
  ScopeConfig,
  Status,
  Health,
  ReloadResult,
  ConfigErrors,
  OrphanedLeases,
  WritePreview,
  WriteRefusal,
];

/** A reference to a shared schema, typed as the schema it names (for the type provider). */
export function ref<T extends TSchema>(schema: T): T {
  const id = (schema as { $id?: string }).$id;
  if (id === undefined) throw new Error('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>(Type.Ref(id)) as unknown as T;
}
