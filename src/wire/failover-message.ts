// The failover protocol's vocabulary (draft-ietf-dhc-failover-12, "D12") and the decoded form of a
// failover message. The codec (failover-codec.ts) turns bytes into DecodedFailoverMessage and a
// FailoverMessage back into bytes. Numbers are facts from D12 §12 / spec §3–§4; names follow the spec.

import type { Ipv4 } from './ipv4.js';

/** IANA port `dhcp-failover` (spec §2.1). */
export const FAILOVER_PORT = 647;
/** Fixed header: length(2) type(1) payload-offset(1) time(4) xid(4) (spec §3.1). */
export const FAILOVER_HEADER_LENGTH = 12;
/** Smallest and largest whole message, header included (spec §3.1; ISC drops the link outside). */
export const FAILOVER_MIN_LENGTH = 12;
export const FAILOVER_MAX_LENGTH = 2048;
/** Option header: code(2) length(2) (spec §3.3). */
export const FAILOVER_OPTION_HEADER_LENGTH = 4;
/** The only protocol-version there is (option 20). */
export const FAILOVER_PROTOCOL_VERSION = 1;

/** Message types (spec §3.2). ISC treats any other value as a protocol error. */
export enum FailoverMessageType {
  POOLREQ = 1,
  POOLRESP = 2,
  BNDUPD = 3,
  BNDACK = 4,
  CONNECT = 5,
  CONNECTACK = 6,
  UPDREQALL = 7,
  UPDDONE = 8,
  UPDREQ = 9,
  STATE = 10,
  CONTACT = 11,
  DISCONNECT = 12,
}

export function isFailoverMessageType(value: number): value is FailoverMessageType {
  return (
    Number.isInteger(value) && value >= FailoverMessageType.POOLREQ && value <= FailoverMessageType.DISCONNECT
  );
}

/** Option codes (spec §3.4, D12 §12; 30–41 are Microsoft's, MS-DHCPF §2.2). */
export enum FailoverOptionCode {
  ADDRESSES_TRANSFERRED = 1,
  ASSIGNED_IP_ADDRESS = 2,
  BINDING_STATUS = 3,
  CLIENT_IDENTIFIER = 4,
  CLIENT_HARDWARE_ADDRESS = 5,
  CLIENT_LAST_TRANSACTION_TIME = 6,
  CLIENT_REPLY_OPTIONS = 7,
  CLIENT_REQUEST_OPTIONS = 8,
  DDNS = 9,
  DELAYED_SERVICE_PARAMETER = 10,
  HASH_BUCKET_ASSIGNMENT = 11,
  IP_FLAGS = 12,
  LEASE_EXPIRATION_TIME = 13,
  MAX_UNACKED_BNDUPD = 14,
  MCLT = 15,
  MESSAGE = 16,
  MESSAGE_DIGEST = 17,
  POTENTIAL_EXPIRATION_TIME = 18,
  RECEIVE_TIMER = 19,
  PROTOCOL_VERSION = 20,
  REJECT_REASON = 21,
  RELATIONSHIP_NAME = 22,
  SERVER_FLAGS = 23,
  SERVER_STATE = 24,
  START_TIME_OF_STATE = 25,
  TLS_REPLY = 26,
  TLS_REQUEST = 27,
  VENDOR_CLASS_IDENTIFIER = 28,
  VENDOR_SPECIFIC_OPTIONS = 29,
  MS_SCOPE_ID_LIST = 30,
  MS_CLIENT_NAME = 31,
  MS_CLIENT_DESCRIPTION = 32,
  MS_CLIENT_SUBNET_MASK = 33,
  MS_SERVER_IP = 34,
  MS_SERVER_NAME = 35,
  MS_CLIENT_TYPE = 36,
  MS_CLIENT_NAP_STATUS = 37,
  MS_CLIENT_NAP_PROBATION = 38,
  MS_NAP_CAPABLE = 39,
  MS_CLIENT_MATCHED_POLICY = 40,
  MS_EXTENDED_ADDRESS_STATE = 41,
}

/** Spec names of the options, for logs and docs. */
export const FAILOVER_OPTION_NAMES: Readonly<Record<FailoverOptionCode, string>> = {
  [FailoverOptionCode.ADDRESSES_TRANSFERRED]: 'addresses-transferred',
  [FailoverOptionCode.ASSIGNED_IP_ADDRESS]: 'assigned-IP-address',
  [FailoverOptionCode.BINDING_STATUS]: 'binding-status',
  [FailoverOptionCode.CLIENT_IDENTIFIER]: 'client-identifier',
  [FailoverOptionCode.CLIENT_HARDWARE_ADDRESS]: 'client-hardware-address',
  [FailoverOptionCode.CLIENT_LAST_TRANSACTION_TIME]: 'client-last-transaction-time',
  [FailoverOptionCode.CLIENT_REPLY_OPTIONS]: 'client-reply-options',
  [FailoverOptionCode.CLIENT_REQUEST_OPTIONS]: 'client-request-options',
  [FailoverOptionCode.DDNS]: 'DDNS',
  [FailoverOptionCode.DELAYED_SERVICE_PARAMETER]: 'delayed-service-parameter',
  [FailoverOptionCode.HASH_BUCKET_ASSIGNMENT]: 'hash-bucket-assignment',
  [FailoverOptionCode.IP_FLAGS]: 'IP-flags',
  [FailoverOptionCode.LEASE_EXPIRATION_TIME]: 'lease-expiration-time',
  [FailoverOptionCode.MAX_UNACKED_BNDUPD]: 'max-unacked-bndupd',
  [FailoverOptionCode.MCLT]: 'MCLT',
  [FailoverOptionCode.MESSAGE]: 'message',
  [FailoverOptionCode.MESSAGE_DIGEST]: 'message-digest',
  [FailoverOptionCode.POTENTIAL_EXPIRATION_TIME]: 'potential-expiration-time',
  [FailoverOptionCode.RECEIVE_TIMER]: 'receive-timer',
  [FailoverOptionCode.PROTOCOL_VERSION]: 'protocol-version',
  [FailoverOptionCode.REJECT_REASON]: 'reject-reason',
  [FailoverOptionCode.RELATIONSHIP_NAME]: 'relationship-name',
  [FailoverOptionCode.SERVER_FLAGS]: 'server-flags',
  [FailoverOptionCode.SERVER_STATE]: 'server-state',
  [FailoverOptionCode.START_TIME_OF_STATE]: 'start-time-of-state',
  [FailoverOptionCode.TLS_REPLY]: 'TLS-reply',
  [FailoverOptionCode.TLS_REQUEST]: 'TLS-request',
  [FailoverOptionCode.VENDOR_CLASS_IDENTIFIER]: 'vendor-class-identifier',
  [FailoverOptionCode.VENDOR_SPECIFIC_OPTIONS]: 'vendor-specific-options',
  [FailoverOptionCode.MS_SCOPE_ID_LIST]: 'ms-scope-id-list',
  [FailoverOptionCode.MS_CLIENT_NAME]: 'ms-client-name',
  [FailoverOptionCode.MS_CLIENT_DESCRIPTION]: 'ms-client-description',
  [FailoverOptionCode.MS_CLIENT_SUBNET_MASK]: 'ms-client-subnet-mask',
  [FailoverOptionCode.MS_SERVER_IP]: 'ms-server-ip',
  [FailoverOptionCode.MS_SERVER_NAME]: 'ms-server-name',
  [FailoverOptionCode.MS_CLIENT_TYPE]: 'ms-client-type',
  [FailoverOptionCode.MS_CLIENT_NAP_STATUS]: 'ms-client-nap-status',
  [FailoverOptionCode.MS_CLIENT_NAP_PROBATION]: 'ms-client-nap-probation',
  [FailoverOptionCode.MS_NAP_CAPABLE]: 'ms-nap-capable',
  [FailoverOptionCode.MS_CLIENT_MATCHED_POLICY]: 'ms-client-matched-policy',
  [FailoverOptionCode.MS_EXTENDED_ADDRESS_STATE]: 'ms-extended-address-state',
};

/**
 * Data lengths the decoder enforces exactly (spec §3.3: ISC drops the connection on a wrong size).
 * IP-flags is 2 bytes although D12's diagram shows 1 (spec §17 erratum 2). Microsoft's options are
 * kept raw and not size-checked: we do not interpret them and two of their sizes are UNCERTAIN.
 */
export const FAILOVER_FIXED_OPTION_LENGTHS: ReadonlyMap<number, number> = new Map([
  [FailoverOptionCode.ADDRESSES_TRANSFERRED, 4],
  [FailoverOptionCode.ASSIGNED_IP_ADDRESS, 4],
  [FailoverOptionCode.BINDING_STATUS, 1],
  [FailoverOptionCode.CLIENT_LAST_TRANSACTION_TIME, 4],
  [FailoverOptionCode.DELAYED_SERVICE_PARAMETER, 1],
  [FailoverOptionCode.HASH_BUCKET_ASSIGNMENT, 32],
  [FailoverOptionCode.IP_FLAGS, 2],
  [FailoverOptionCode.LEASE_EXPIRATION_TIME, 4],
  [FailoverOptionCode.MAX_UNACKED_BNDUPD, 4],
  [FailoverOptionCode.MCLT, 4],
  [FailoverOptionCode.POTENTIAL_EXPIRATION_TIME, 4],
  [FailoverOptionCode.RECEIVE_TIMER, 4],
  [FailoverOptionCode.PROTOCOL_VERSION, 1],
  [FailoverOptionCode.REJECT_REASON, 1],
  [FailoverOptionCode.SERVER_FLAGS, 1],
  [FailoverOptionCode.SERVER_STATE, 1],
  [FailoverOptionCode.START_TIME_OF_STATE, 4],
  [FailoverOptionCode.TLS_REPLY, 1],
  [FailoverOptionCode.TLS_REQUEST, 1],
]);

/**
 * Minimum data lengths of variable-size options the decoder types: hardware address needs its
 * htype byte, DDNS its 16-bit flags, a digest its type byte.
 */
export const FAILOVER_MIN_OPTION_LENGTHS: ReadonlyMap<number, number> = new Map([
  [FailoverOptionCode.CLIENT_HARDWARE_ADDRESS, 1],
  [FailoverOptionCode.DDNS, 2],
  [FailoverOptionCode.MESSAGE_DIGEST, 1],
]);

/** binding-status, option 3 (spec §4.1). Windows redefines these values (spec §16). */
export enum BindingStatus {
  FREE = 1,
  ACTIVE = 2,
  EXPIRED = 3,
  RELEASED = 4,
  ABANDONED = 5,
  RESET = 6,
  BACKUP = 7,
}

export const BINDING_STATUS_NAMES: Readonly<Record<BindingStatus, string>> = {
  [BindingStatus.FREE]: 'FREE',
  [BindingStatus.ACTIVE]: 'ACTIVE',
  [BindingStatus.EXPIRED]: 'EXPIRED',
  [BindingStatus.RELEASED]: 'RELEASED',
  [BindingStatus.ABANDONED]: 'ABANDONED',
  [BindingStatus.RESET]: 'RESET',
  [BindingStatus.BACKUP]: 'BACKUP',
};

/** server-state, option 24 (spec §4.2). RECOVER-WAIT has no D12 code; ISC uses 254 and so do we. */
export enum ServerState {
  STARTUP = 1,
  NORMAL = 2,
  COMMUNICATIONS_INTERRUPTED = 3,
  PARTNER_DOWN = 4,
  POTENTIAL_CONFLICT = 5,
  RECOVER = 6,
  PAUSED = 7,
  SHUTDOWN = 8,
  RECOVER_DONE = 9,
  RESOLUTION_INTERRUPTED = 10,
  CONFLICT_DONE = 11,
  RECOVER_WAIT = 254,
}

/** Lower-case hyphenated state names, as ISC logs and writes them in its lease file. */
export const SERVER_STATE_NAMES: Readonly<Record<ServerState, string>> = {
  [ServerState.STARTUP]: 'startup',
  [ServerState.NORMAL]: 'normal',
  [ServerState.COMMUNICATIONS_INTERRUPTED]: 'communications-interrupted',
  [ServerState.PARTNER_DOWN]: 'partner-down',
  [ServerState.POTENTIAL_CONFLICT]: 'potential-conflict',
  [ServerState.RECOVER]: 'recover',
  [ServerState.PAUSED]: 'paused',
  [ServerState.SHUTDOWN]: 'shutdown',
  [ServerState.RECOVER_DONE]: 'recover-done',
  [ServerState.RESOLUTION_INTERRUPTED]: 'resolution-interrupted',
  [ServerState.CONFLICT_DONE]: 'conflict-done',
  [ServerState.RECOVER_WAIT]: 'recover-wait',
};

/** Whether a received server-state value is one ISC accepts (others move ISC to SHUTDOWN). */
export function isServerState(value: number): value is ServerState {
  return Object.hasOwn(SERVER_STATE_NAMES, value);
}

/** server-flags, option 23 (spec §4.3). */
export const SERVER_FLAG_STARTUP = 0x01;

/** IP-flags, option 12 (D12 meaning; Windows reuses the bits differently, spec §16). */
export const IP_FLAG_RESERVED = 0x0001;
export const IP_FLAG_BOOTP = 0x0002;

/** DDNS option 9 flags, least significant bit first (spec §3.4). */
export const DDNS_FLAG_FORWARD_DONE = 0x0001;
export const DDNS_FLAG_OWNS_A = 0x0002;
export const DDNS_FLAG_REVERSE_DONE = 0x0004;
export const DDNS_FLAG_OWNS_PTR = 0x0008;

/** TLS-request (27) and TLS-reply (26) values (spec §12). */
export const TLS_REQUEST_NONE = 0;
export const TLS_REQUEST_DESIRED = 1;
export const TLS_REQUEST_REQUIRED = 2;
export const TLS_REPLY_NONE = 0;
export const TLS_REPLY_USE_TLS = 1;

/**
 * message-digest (17) type byte. 1 is D12's HMAC-MD5. D12 allows nothing else; Windows uses SHA-256
 * with an unspecified type byte (UNCERTAIN), so 2 is our own choice for HMAC-SHA256 (docs/failover-wire.md).
 */
export enum MessageDigestType {
  HMAC_MD5 = 1,
  HMAC_SHA256 = 2,
}

/** reject-reason, option 21 (spec §4.4). */
export enum RejectReason {
  ILLEGAL_IP_ADDRESS = 1,
  FATAL_CONFLICT = 2,
  MISSING_BINDING_INFORMATION = 3,
  TIME_MISMATCH = 4,
  INVALID_MCLT = 5,
  UNKNOWN_CONNECTION_REASON = 6,
  DUPLICATE_CONNECTION = 7,
  INVALID_PARTNER = 8,
  TLS_NOT_SUPPORTED = 9,
  TLS_NOT_CONFIGURED = 10,
  TLS_REQUIRED = 11,
  DIGEST_NOT_SUPPORTED = 12,
  DIGEST_NOT_CONFIGURED = 13,
  PROTOCOL_VERSION_MISMATCH = 14,
  OUTDATED_BINDING_INFORMATION = 15,
  LESS_CRITICAL_BINDING_INFORMATION = 16,
  NO_TRAFFIC = 17,
  HBA_CONFLICT = 18,
  IP_NOT_RESERVED = 19,
  DIGEST_MISMATCH = 20,
  MISSING_DIGEST = 21,
  UNKNOWN_ERROR = 254,
}

/** Human-readable texts for the `message` option (16) that accompanies a reject-reason. */
export const REJECT_REASON_MESSAGES: Readonly<Record<RejectReason, string>> = {
  [RejectReason.ILLEGAL_IP_ADDRESS]: 'Illegal IP address (not part of any address pool)',
  [RejectReason.FATAL_CONFLICT]: 'Fatal conflict exists: address in use by other client',
  [RejectReason.MISSING_BINDING_INFORMATION]: 'Missing binding information',
  [RejectReason.TIME_MISMATCH]: 'Connection rejected, time mismatch too great',
  [RejectReason.INVALID_MCLT]: 'Connection rejected, invalid MCLT',
  [RejectReason.UNKNOWN_CONNECTION_REASON]: 'Connection rejected, unknown reason',
  [RejectReason.DUPLICATE_CONNECTION]: 'Connection rejected, duplicate connection',
  [RejectReason.INVALID_PARTNER]: 'Connection rejected, invalid failover partner',
  [RejectReason.TLS_NOT_SUPPORTED]: 'TLS not supported',
  [RejectReason.TLS_NOT_CONFIGURED]: 'TLS supported but not configured',
  [RejectReason.TLS_REQUIRED]: 'TLS required but not supported by partner',
  [RejectReason.DIGEST_NOT_SUPPORTED]: 'Message digest not supported',
  [RejectReason.DIGEST_NOT_CONFIGURED]: 'Message digest not configured',
  [RejectReason.PROTOCOL_VERSION_MISMATCH]: 'Protocol version mismatch',
  [RejectReason.OUTDATED_BINDING_INFORMATION]: 'Outdated binding information',
  [RejectReason.LESS_CRITICAL_BINDING_INFORMATION]: 'Less critical binding information',
  [RejectReason.NO_TRAFFIC]: 'No traffic within sufficient time',
  [RejectReason.HBA_CONFLICT]: 'Hash bucket assignment conflict',
  [RejectReason.IP_NOT_RESERVED]: 'IP not reserved on this server',
  [RejectReason.DIGEST_MISMATCH]: 'Message digest failed to compare',
  [RejectReason.MISSING_DIGEST]: 'Missing message digest',
  [RejectReason.UNKNOWN_ERROR]: 'Unknown error',
};

/** Text for any received reject-reason value, including reserved ones. */
export function rejectReasonMessage(reason: number): string {
  return Object.hasOwn(REJECT_REASON_MESSAGES, reason)
    ? REJECT_REASON_MESSAGES[reason as RejectReason]
    : `Reserved reject reason ${reason}`;
}

/** One option as on the wire: code and data (no code/length bytes). */
export interface FailoverOption {
  code: number;
  data: Uint8Array;
}

/**
 * A failover message at the wire level: what encodeFailover takes. `options` is the exact option
 * sequence, in order and with repeats (batched BNDUPD/BNDACK repeat their per-binding options).
 * The encoder always writes payload offset 12; `payloadOffset` records what a received message had.
 */
export interface FailoverMessage {
  type: FailoverMessageType;
  /** Sender's clock, uint32 seconds since 1970 UTC. */
  time: number;
  xid: number;
  payloadOffset: number;
  options: FailoverOption[];
}

/** Option 17 split into its type byte and the digest proper. */
export interface MessageDigest {
  type: number;
  digest: Uint8Array;
}

/** Option 9: flags (C/A/D/P bits) and the FQDN in DNS wire format, kept raw. */
export interface DdnsInfo {
  flags: number;
  fqdn: Uint8Array;
}

/**
 * Typed fields of one binding transaction of a BNDUPD or BNDACK: everything from one
 * assigned-IP-address option to the next (spec §3.5). Absent options are `undefined`. Values are
 * not range-checked (an unknown binding-status number is passed through): that is the core's call.
 */
export interface FailoverBindingFields {
  /** Option 2. */
  address: Ipv4;
  /** Option 3. */
  bindingStatus?: BindingStatus;
  /** Option 4, the DHCP option 61 data, lower-case hex. */
  clientId?: string;
  /** Option 5, first byte (htype). */
  hardwareType?: number;
  /** Option 5 after the htype byte (chaddr), lower-case hex. */
  hardwareAddress?: string;
  /** Option 13, uint32 seconds since 1970. */
  leaseExpiresAt?: number;
  /** Option 18. */
  potentialExpiresAt?: number;
  /** Option 25 inside a binding: when the lease entered its binding status. */
  stateStartedAt?: number;
  /** Option 6. */
  clientLastTransactionAt?: number;
  /** Option 12 (uint16). */
  ipFlags?: number;
  /** Option 9. */
  ddns?: DdnsInfo;
  /** Option 8: magic cookie + DHCP options, raw. */
  clientRequestOptions?: Uint8Array;
  /** Option 7: magic cookie + DHCP options, raw. */
  clientReplyOptions?: Uint8Array;
  /** Option 21 (BNDACK). */
  rejectReason?: RejectReason;
  /** Option 16 (BNDACK). */
  message?: string;
}

/** A decoded binding transaction; `otherOptions` keeps the options it has no typed field for. */
export interface FailoverBinding extends FailoverBindingFields {
  otherOptions: FailoverOption[];
}

/** Input of the BNDUPD builder: typed fields plus raw extra options appended after them. */
export interface FailoverBindingInput extends FailoverBindingFields {
  otherOptions?: FailoverOption[];
}

/** Input of the BNDACK builder: one entry per acknowledged address; a reject-reason means "rejected". */
export interface FailoverBindingAck {
  address: Ipv4;
  rejectReason?: RejectReason;
  message?: string;
  otherOptions?: FailoverOption[];
}

/** Message-level typed fields (options outside binding transactions). */
export interface FailoverMessageFields {
  /** Option 1 (POOLRESP). */
  addressesTransferred?: number;
  /** Option 10 (CONNECT). */
  delayedServiceParameter?: number;
  /** Option 11 (CONNECT), 32 bytes. */
  hashBucketAssignment?: Uint8Array;
  /** Option 14 (CONNECT, CONNECTACK). */
  maxUnackedUpdates?: number;
  /** Option 15 (CONNECT). */
  mcltSeconds?: number;
  /** Option 16 (CONNECTACK, DISCONNECT). */
  message?: string;
  /** Option 17 (any message, when authentication is on). */
  messageDigest?: MessageDigest;
  /** Option 19 (CONNECT, CONNECTACK). */
  receiveTimerSeconds?: number;
  /** Option 20 (CONNECT, CONNECTACK). */
  protocolVersion?: number;
  /** Option 21 (CONNECTACK, DISCONNECT). */
  rejectReason?: RejectReason;
  /** Option 22 (CONNECT, CONNECTACK), UTF-8. */
  relationshipName?: string;
  /** Option 23 (STATE). */
  serverFlags?: number;
  /** Option 24 (STATE). */
  serverState?: ServerState;
  /** Option 25 at message level (STATE): when the sender entered its failover state. */
  startTimeOfState?: number;
  /** Option 26 (CONNECTACK). */
  tlsReply?: number;
  /** Option 27 (CONNECT). */
  tlsRequest?: number;
  /** Option 28 (CONNECT, CONNECTACK), e.g. `isc-4.4.3-P1`. */
  vendorClass?: string;
  /** Option 29, nested TLVs kept raw. */
  vendorSpecificOptions?: Uint8Array;
}

/**
 * A decoded message: the wire-level message (re-encodable as is) plus a typed view. In BNDUPD and
 * BNDACK every assigned-IP-address starts a binding transaction that runs to the next one; options
 * before the first address are message-level; message-digest is message-level wherever it appears.
 * In other messages all options are message-level and `bindings` is empty.
 */
export interface DecodedFailoverMessage extends FailoverMessage, FailoverMessageFields {
  bindings: FailoverBinding[];
  /** Message-level options with no typed field: unknown codes, Microsoft's, misplaced ones. */
  otherOptions: FailoverOption[];
  /**
   * Codes seen more than once in one scope (the message level, or one binding transaction), once
   * each, in order of first repeat. D12 §6.2 forbids repeats and ISC drops the connection on one;
   * the typed view keeps the first occurrence and the caller decides.
   */
  duplicateOptions: number[];
}

/** Why decoding failed; stable strings, usable as metric labels. */
export type FailoverDecodeErrorReason =
  | 'too-short'
  | 'bad-length'
  | 'length-mismatch'
  | 'bad-payload-offset'
  | 'unknown-message-type'
  | 'option-truncated'
  | 'option-overrun'
  | 'bad-option-length';

export interface FailoverDecodeError {
  /** Byte offset in the message where decoding failed. */
  offset: number;
  reason: FailoverDecodeErrorReason;
  message: string;
}

export type FailoverDecodeResult =
  | { ok: true; message: DecodedFailoverMessage }
  | { ok: false; error: FailoverDecodeError };
