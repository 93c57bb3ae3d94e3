// The one configuration schema. The same TypeBox definitions validate the JSON config file,
// generate schema/twinlease.schema.json (published), and later validate API bodies.
// Field names are camelCase; durations carry their unit in the name.

import { type Static, Type } from 'typebox';

const Ipv4String = Type.String({ format: 'ipv4', description: 'IPv4 address, dotted quad' });
const Cidr = Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$', description: 'IPv4 subnet, a.b.c.d/len' });
const Seconds = (description: string, minimum = 0) => Type.Integer({ minimum, maximum: 0xffffffff, description });

export const OptionData = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Option name from the catalogue, e.g. "routers"' })),
    code: Type.Optional(Type.Integer({ minimum: 1, maximum: 254, description: 'Option code (1–254)' })),
    data: Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.Union([Type.String(), Type.Number()]))], {
      description: 'Value in the option type\'s text form (addresses, numbers, text), or hex with "hex:" prefix',
    }),
    alwaysSend: Type.Optional(Type.Boolean({ description: 'Send even if the client did not ask for it (option 55)' })),
  },
  { additionalProperties: false },
);
export type OptionData = Static<typeof OptionData>;

export const AddressRange = Type.Object(
  { start: Ipv4String, end: Ipv4String },
  { additionalProperties: false },
);
export type AddressRange = Static<typeof AddressRange>;

export const Reservation = Type.Object(
  {
    address: Ipv4String,
    hardwareAddress: Type.Optional(Type.String({ description: 'MAC, aa:bb:cc:dd:ee:ff' })),
    clientId: Type.Optional(Type.String({ description: 'Client identifier (option 61) as hex' })),
    hostname: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    options: Type.Optional(Type.Array(OptionData)),
  },
  { additionalProperties: false },
);
export type Reservation = Static<typeof Reservation>;

export const Scope = Type.Object(
  {
    id: Type.Optional(Type.String({ description: 'Scope id; defaults to the subnet network address (Windows ScopeId)' })),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    subnet: Cidr,
    ranges: Type.Array(AddressRange, { minItems: 1 }),
    exclusions: Type.Optional(Type.Array(AddressRange)),
    reservations: Type.Optional(Type.Array(Reservation)),
    options: Type.Optional(Type.Array(OptionData)),
    leaseTimeSeconds: Type.Optional(Seconds('Lease duration granted to DHCP clients', 1)),
    renewTimeSeconds: Type.Optional(Seconds('T1; default 50% of the lease time', 1)),
    rebindTimeSeconds: Type.Optional(Seconds('T2; default 87.5% of the lease time', 1)),
    /** Relay addresses (giaddr) other than ones inside `subnet` that select this scope. */
    relayAddresses: Type.Optional(Type.Array(Ipv4String)),
    dynamicBootp: Type.Optional(Type.Boolean({ description: 'Serve BOOTP clients from the ranges (default false)' })),
    bootpLeaseSeconds: Type.Optional(
      Type.Union([Seconds('Lease for BOOTP clients', 1), Type.Null()], { description: 'null = infinite (default)' }),
    ),
    declineHoldSeconds: Type.Optional(Seconds('How long a declined address stays unusable')),
    offerHoldSeconds: Type.Optional(Seconds('How long an offered address is held for the client')),
    authoritative: Type.Optional(Type.Boolean({ description: 'NAK requests for addresses that are not ours (default true)' })),
  },
  { additionalProperties: false },
);
export type Scope = Static<typeof Scope>;

export const FailoverRelationship = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 126 }),
    role: Type.Union([Type.Literal('primary'), Type.Literal('secondary')]),
    mode: Type.Optional(Type.Union([Type.Literal('loadBalance'), Type.Literal('hotStandby')])),
    serverRole: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('standby')])),
    loadBalancePercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    reservePercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    mcltSeconds: Type.Optional(Seconds('Maximum client lead time', 1)),
    autoStateTransition: Type.Optional(Type.Boolean()),
    stateSwitchIntervalSeconds: Type.Optional(Type.Union([Seconds('Safe period before automatic PARTNER-DOWN', 1), Type.Null()])),
    auth: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('hmacSha256'), Type.Literal('hmacMd5')])),
    sharedSecret: Type.Optional(Type.String({ minLength: 1 })),
    local: Type.Object(
      { address: Ipv4String, port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })), name: Type.Optional(Type.String()) },
      { additionalProperties: false },
    ),
    partner: Type.Object(
      { address: Ipv4String, port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })), name: Type.Optional(Type.String()) },
      { additionalProperties: false },
    ),
    scopeIds: Type.Array(Type.String(), { minItems: 1 }),
    maxUnackedUpdates: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    receiveTimerSeconds: Type.Optional(Seconds('Partner silence tolerated before the link is declared dead', 3)),
    loadBalanceMaxSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    hbaBitMeaning: Type.Optional(Type.Union([Type.Literal('primary'), Type.Literal('secondary')])),
    poolSplit: Type.Optional(Type.Union([Type.Literal('even'), Type.Literal('percentage')])),
    maxClockSkewSeconds: Type.Optional(Seconds('Largest tolerated clock difference', 1)),
  },
  { additionalProperties: false },
);
export type FailoverRelationship = Static<typeof FailoverRelationship>;

export const Config = Type.Object(
  {
    server: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(Type.String({ description: 'This server\'s name (OwnerHost); default the host name' })),
          serverIdentifier: Type.Optional(Ipv4String),
        },
        { additionalProperties: false },
      ),
    ),
    dhcp: Type.Optional(
      Type.Object(
        {
          listenAddress: Type.Optional(Ipv4String),
          port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Server port (67)' })),
          clientPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Client port (68)' })),
          interface: Type.Optional(Type.String({ description: 'Directly attached interface served by broadcast' })),
          broadcastAddress: Type.Optional(Ipv4String),
        },
        { additionalProperties: false },
      ),
    ),
    leaseStore: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(Type.Literal('sqlite')),
          path: Type.Optional(Type.String({ description: 'Lease database file' })),
        },
        { additionalProperties: false },
      ),
    ),
    logging: Type.Optional(
      Type.Object(
        {
          level: Type.Optional(
            Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace')]),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    api: Type.Optional(
      Type.Object(
        {
          listenAddress: Type.Optional(Ipv4String),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          tokens: Type.Optional(
            Type.Array(
              Type.Object(
                { name: Type.String(), token: Type.String({ minLength: 16 }), readOnly: Type.Optional(Type.Boolean()) },
                { additionalProperties: false },
              ),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    options: Type.Optional(Type.Array(OptionData, { description: 'Server-wide options, overridden per scope' })),
    leaseTimeSeconds: Type.Optional(Seconds('Default lease duration', 1)),
    scopes: Type.Array(Scope),
    failover: Type.Optional(Type.Array(FailoverRelationship)),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof Config>;
