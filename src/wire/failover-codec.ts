// The failover message codec (D12 §6, spec §3): bytes ⇄ FailoverMessage, builders for every
// message kind, and a TCP stream framer. Pure: no sockets, no clock. Decoding never throws: every
// read is bounds-checked and malformed input becomes a FailoverDecodeError with its byte offset.
// Encoding throws RangeError on values that cannot be represented (a programming error).

import {
  type DecodedFailoverMessage,
  FAILOVER_FIXED_OPTION_LENGTHS,
  FAILOVER_HEADER_LENGTH,
  FAILOVER_MAX_LENGTH,
  FAILOVER_MIN_LENGTH,
  FAILOVER_MIN_OPTION_LENGTHS,
  FAILOVER_OPTION_HEADER_LENGTH,
  FAILOVER_PROTOCOL_VERSION,
  type FailoverBinding,
  type FailoverBindingAck,
  type FailoverBindingInput,
  type FailoverDecodeError,
  type FailoverDecodeErrorReason,
  type FailoverDecodeResult,
  type FailoverMessage,
  type FailoverMessageFields,
  FailoverMessageType,
  type FailoverOption,
  isFailoverMessageType,
  FailoverOptionCode as Opt,
  type RejectReason,
  type ServerState,
  TLS_REQUEST_NONE,
} from './failover-message.js';
import { fromHex, toHex } from './ipv4.js';

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Decoding

function fail(offset: number, reason: FailoverDecodeErrorReason, message: string): FailoverDecodeResult {
  const error: FailoverDecodeError = { offset, reason, message };
  return { ok: false, error };
}

function readUint16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function readUint32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function uint32Of(data: Uint8Array): number {
  return readUint32(data, 0);
}

function textOf(data: Uint8Array): string {
  return utf8Decoder.decode(data);
}

/** Option codes that belong to a binding transaction and get a typed field there. */
function applyBindingOption(binding: FailoverBinding, option: FailoverOption): boolean {
  const { data } = option;
  switch (option.code) {
    case Opt.BINDING_STATUS:
      binding.bindingStatus = data[0]!;
      return true;
    case Opt.CLIENT_IDENTIFIER:
      binding.clientId = toHex(data);
      return true;
    case Opt.CLIENT_HARDWARE_ADDRESS:
      binding.hardwareType = data[0]!;
      binding.hardwareAddress = toHex(data.subarray(1));
      return true;
    case Opt.LEASE_EXPIRATION_TIME:
      binding.leaseExpiresAt = uint32Of(data);
      return true;
    case Opt.POTENTIAL_EXPIRATION_TIME:
      binding.potentialExpiresAt = uint32Of(data);
      return true;
    case Opt.START_TIME_OF_STATE:
      binding.stateStartedAt = uint32Of(data);
      return true;
    case Opt.CLIENT_LAST_TRANSACTION_TIME:
      binding.clientLastTransactionAt = uint32Of(data);
      return true;
    case Opt.IP_FLAGS:
      binding.ipFlags = readUint16(data, 0);
      return true;
    case Opt.DDNS:
      binding.ddns = { flags: readUint16(data, 0), fqdn: data.subarray(2) };
      return true;
    case Opt.CLIENT_REQUEST_OPTIONS:
      binding.clientRequestOptions = data;
      return true;
    case Opt.CLIENT_REPLY_OPTIONS:
      binding.clientReplyOptions = data;
      return true;
    case Opt.REJECT_REASON:
      binding.rejectReason = data[0]!;
      return true;
    case Opt.MESSAGE:
      binding.message = textOf(data);
      return true;
    default:
      return false;
  }
}

/** Message-level options with a typed field. */
function applyMessageOption(fields: FailoverMessageFields, option: FailoverOption): boolean {
  const { data } = option;
  switch (option.code) {
    case Opt.ADDRESSES_TRANSFERRED:
      fields.addressesTransferred = uint32Of(data);
      return true;
    case Opt.DELAYED_SERVICE_PARAMETER:
      fields.delayedServiceParameter = data[0]!;
      return true;
    case Opt.HASH_BUCKET_ASSIGNMENT:
      fields.hashBucketAssignment = data;
      return true;
    case Opt.MAX_UNACKED_BNDUPD:
      fields.maxUnackedUpdates = uint32Of(data);
      return true;
    case Opt.MCLT:
      fields.mcltSeconds = uint32Of(data);
      return true;
    case Opt.MESSAGE:
      fields.message = textOf(data);
      return true;
    case Opt.MESSAGE_DIGEST:
      fields.messageDigest = { type: data[0]!, digest: data.subarray(1) };
      return true;
    case Opt.RECEIVE_TIMER:
      fields.receiveTimerSeconds = uint32Of(data);
      return true;
    case Opt.PROTOCOL_VERSION:
      fields.protocolVersion = data[0]!;
      return true;
    case Opt.REJECT_REASON:
      fields.rejectReason = data[0]!;
      return true;
    case Opt.RELATIONSHIP_NAME:
      fields.relationshipName = textOf(data);
      return true;
    case Opt.SERVER_FLAGS:
      fields.serverFlags = data[0]!;
      return true;
    case Opt.SERVER_STATE:
      fields.serverState = data[0]!;
      return true;
    case Opt.START_TIME_OF_STATE:
      fields.startTimeOfState = uint32Of(data);
      return true;
    case Opt.TLS_REPLY:
      fields.tlsReply = data[0]!;
      return true;
    case Opt.TLS_REQUEST:
      fields.tlsRequest = data[0]!;
      return true;
    case Opt.VENDOR_CLASS_IDENTIFIER:
      fields.vendorClass = textOf(data);
      return true;
    case Opt.VENDOR_SPECIFIC_OPTIONS:
      fields.vendorSpecificOptions = data;
      return true;
    default:
      return false;
  }
}

/**
 * Decode one whole failover message (exactly `bytes.length` bytes, as the framer delivers them).
 * Honours a received payload offset ≥ 12 by skipping the extra header bytes (spec §3.1). Unknown
 * option codes are kept raw; fixed-size options of the wrong size are an error ('bad-option-length':
 * ISC drops the connection there, the caller decides). Repeated options are reported in
 * `duplicateOptions`, not rejected. The result owns a private copy of the bytes.
 */
export function decodeFailover(bytes: Uint8Array): FailoverDecodeResult {
  if (bytes.length < FAILOVER_MIN_LENGTH) {
    return fail(
      0,
      'too-short',
      `failover message of ${bytes.length} bytes is shorter than its 12-byte header`,
    );
  }
  const length = readUint16(bytes, 0);
  if (length < FAILOVER_MIN_LENGTH || length > FAILOVER_MAX_LENGTH) {
    return fail(
      0,
      'bad-length',
      `message length ${length} outside ${FAILOVER_MIN_LENGTH}..${FAILOVER_MAX_LENGTH}`,
    );
  }
  if (length !== bytes.length) {
    return fail(0, 'length-mismatch', `message length field says ${length} bytes, got ${bytes.length}`);
  }
  const type = bytes[2]!;
  if (!isFailoverMessageType(type)) {
    return fail(2, 'unknown-message-type', `unknown failover message type ${type}`);
  }
  const payloadOffset = bytes[3]!;
  if (payloadOffset < FAILOVER_HEADER_LENGTH || payloadOffset > length) {
    return fail(3, 'bad-payload-offset', `payload offset ${payloadOffset} outside 12..${length}`);
  }

  // One private copy; option data are views into it.
  const own = new Uint8Array(bytes);
  const options: FailoverOption[] = [];
  let at = payloadOffset;
  while (at < length) {
    if (length - at < FAILOVER_OPTION_HEADER_LENGTH) {
      return fail(at, 'option-truncated', `${length - at} bytes left where an option header needs 4`);
    }
    const code = readUint16(own, at);
    const dataLength = readUint16(own, at + 2);
    const dataStart = at + FAILOVER_OPTION_HEADER_LENGTH;
    if (dataLength > length - dataStart) {
      return fail(
        at,
        'option-overrun',
        `option ${code} claims ${dataLength} bytes, ${length - dataStart} left`,
      );
    }
    const fixed = FAILOVER_FIXED_OPTION_LENGTHS.get(code);
    if (fixed !== undefined && dataLength !== fixed) {
      return fail(at, 'bad-option-length', `option ${code} must have ${fixed} data bytes, has ${dataLength}`);
    }
    const min = FAILOVER_MIN_OPTION_LENGTHS.get(code);
    if (min !== undefined && dataLength < min) {
      return fail(
        at,
        'bad-option-length',
        `option ${code} needs at least ${min} data bytes, has ${dataLength}`,
      );
    }
    options.push({ code, data: own.subarray(dataStart, dataStart + dataLength) });
    at = dataStart + dataLength;
  }

  const message: DecodedFailoverMessage = {
    type,
    time: readUint32(own, 4),
    xid: readUint32(own, 8),
    payloadOffset,
    options,
    bindings: [],
    otherOptions: [],
    duplicateOptions: [],
  };
  buildTypedView(message);
  return { ok: true, message };
}

function buildTypedView(message: DecodedFailoverMessage): void {
  const hasBindings =
    message.type === FailoverMessageType.BNDUPD || message.type === FailoverMessageType.BNDACK;
  const duplicates = new Set<number>();
  const messageSeen = new Set<number>();
  let binding: FailoverBinding | null = null;
  let bindingSeen = new Set<number>();

  for (const option of message.options) {
    if (hasBindings && option.code === Opt.ASSIGNED_IP_ADDRESS) {
      binding = { address: uint32Of(option.data), otherOptions: [] };
      bindingSeen = new Set([option.code]);
      message.bindings.push(binding);
      continue;
    }
    if (binding !== null && option.code !== Opt.MESSAGE_DIGEST) {
      if (bindingSeen.has(option.code)) {
        duplicates.add(option.code);
        continue; // first occurrence wins in the typed view
      }
      bindingSeen.add(option.code);
      if (!applyBindingOption(binding, option)) binding.otherOptions.push(option);
      continue;
    }
    if (messageSeen.has(option.code)) {
      duplicates.add(option.code);
      continue;
    }
    messageSeen.add(option.code);
    if (!applyMessageOption(message, option)) message.otherOptions.push(option);
  }
  message.duplicateOptions = [...duplicates];
}

// ---------------------------------------------------------------------------------------------
// Encoding

function assertUint(value: number, bits: 8 | 16 | 32, what: string): void {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be a uint${bits}, got ${value}`);
  }
}

/** Total encoded size of a message (header + options), without building it. */
export function failoverMessageLength(message: Pick<FailoverMessage, 'options'>): number {
  let length = FAILOVER_HEADER_LENGTH;
  for (const option of message.options) length += FAILOVER_OPTION_HEADER_LENGTH + option.data.length;
  return length;
}

/**
 * Encode a message with payload offset 12, options in the given order. Throws RangeError when a
 * field does not fit its wire size or the message exceeds 2048 bytes (spec §3.1).
 */
export function encodeFailover(message: FailoverMessage): Uint8Array {
  assertUint(message.type, 8, 'message type');
  assertUint(message.time, 32, 'time');
  assertUint(message.xid, 32, 'xid');
  const length = failoverMessageLength(message);
  if (length > FAILOVER_MAX_LENGTH) {
    throw new RangeError(`failover message of ${length} bytes exceeds ${FAILOVER_MAX_LENGTH}`);
  }
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint16(0, length);
  out[2] = message.type;
  out[3] = FAILOVER_HEADER_LENGTH;
  view.setUint32(4, message.time);
  view.setUint32(8, message.xid);
  let at = FAILOVER_HEADER_LENGTH;
  for (const option of message.options) {
    assertUint(option.code, 16, 'option code');
    view.setUint16(at, option.code);
    view.setUint16(at + 2, option.data.length);
    out.set(option.data, at + FAILOVER_OPTION_HEADER_LENGTH);
    at += FAILOVER_OPTION_HEADER_LENGTH + option.data.length;
  }
  return out;
}

// Option constructors.

function optUint8(code: number, value: number, what: string): FailoverOption {
  assertUint(value, 8, what);
  return { code, data: Uint8Array.of(value) };
}

function optUint16(code: number, value: number, what: string): FailoverOption {
  assertUint(value, 16, what);
  return { code, data: Uint8Array.of(value >>> 8, value & 0xff) };
}

function optUint32(code: number, value: number, what: string): FailoverOption {
  assertUint(value, 32, what);
  return {
    code,
    data: Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff),
  };
}

function optBytes(code: number, data: Uint8Array): FailoverOption {
  if (data.length > 0xffff) throw new RangeError(`option ${code} data of ${data.length} bytes exceeds 65535`);
  return { code, data: new Uint8Array(data) };
}

function optText(code: number, text: string): FailoverOption {
  return optBytes(code, utf8Encoder.encode(text));
}

function optHex(code: number, hex: string, prefix?: number): FailoverOption {
  const bytes = fromHex(hex);
  if (prefix === undefined) return optBytes(code, bytes);
  const data = new Uint8Array(1 + bytes.length);
  data[0] = prefix;
  data.set(bytes, 1);
  return optBytes(code, data);
}

/**
 * The options of one binding transaction, in the order ISC sends them (fixtures, spec §15.5):
 * assigned-IP-address, binding-status, client-identifier, client-hardware-address,
 * lease-expiration, potential-expiration, start-time-of-state, CLTT; then IP-flags, DDNS,
 * request/reply options, reject-reason, message; then the raw extras.
 */
export function bindingOptions(binding: FailoverBindingInput | FailoverBindingAck): FailoverOption[] {
  const b: FailoverBindingInput = binding;
  const out: FailoverOption[] = [optUint32(Opt.ASSIGNED_IP_ADDRESS, b.address, 'assigned-IP-address')];
  if (b.bindingStatus !== undefined)
    out.push(optUint8(Opt.BINDING_STATUS, b.bindingStatus, 'binding-status'));
  if (b.clientId !== undefined) out.push(optHex(Opt.CLIENT_IDENTIFIER, b.clientId));
  if (b.hardwareType !== undefined) {
    assertUint(b.hardwareType, 8, 'hardware type');
    out.push(optHex(Opt.CLIENT_HARDWARE_ADDRESS, b.hardwareAddress ?? '', b.hardwareType));
  } else if (b.hardwareAddress !== undefined) {
    throw new RangeError('hardwareAddress needs hardwareType (option 5 starts with the htype byte)');
  }
  if (b.leaseExpiresAt !== undefined) {
    out.push(optUint32(Opt.LEASE_EXPIRATION_TIME, b.leaseExpiresAt, 'lease-expiration-time'));
  }
  if (b.potentialExpiresAt !== undefined) {
    out.push(optUint32(Opt.POTENTIAL_EXPIRATION_TIME, b.potentialExpiresAt, 'potential-expiration-time'));
  }
  if (b.stateStartedAt !== undefined) {
    out.push(optUint32(Opt.START_TIME_OF_STATE, b.stateStartedAt, 'start-time-of-state'));
  }
  if (b.clientLastTransactionAt !== undefined) {
    out.push(optUint32(Opt.CLIENT_LAST_TRANSACTION_TIME, b.clientLastTransactionAt, 'CLTT'));
  }
  if (b.ipFlags !== undefined) out.push(optUint16(Opt.IP_FLAGS, b.ipFlags, 'IP-flags'));
  if (b.ddns !== undefined) {
    assertUint(b.ddns.flags, 16, 'DDNS flags');
    const data = new Uint8Array(2 + b.ddns.fqdn.length);
    data[0] = b.ddns.flags >>> 8;
    data[1] = b.ddns.flags & 0xff;
    data.set(b.ddns.fqdn, 2);
    out.push(optBytes(Opt.DDNS, data));
  }
  if (b.clientRequestOptions !== undefined) {
    out.push(optBytes(Opt.CLIENT_REQUEST_OPTIONS, b.clientRequestOptions));
  }
  if (b.clientReplyOptions !== undefined) out.push(optBytes(Opt.CLIENT_REPLY_OPTIONS, b.clientReplyOptions));
  if (b.rejectReason !== undefined) out.push(optUint8(Opt.REJECT_REASON, b.rejectReason, 'reject-reason'));
  if (b.message !== undefined) out.push(optText(Opt.MESSAGE, b.message));
  for (const extra of b.otherOptions ?? []) out.push(optBytes(extra.code, extra.data));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Builders. Each returns a FailoverMessage (encode with encodeFailover). Option order follows what
// ISC 4.4.3 sends (fixtures) so that an ISC peer sees familiar messages.

/** Header fields every builder takes. `time` is the sender's clock (uint32 s); `xid` per connection. */
export interface FailoverHeaderInput {
  time: number;
  xid: number;
}

function message(type: FailoverMessageType, header: FailoverHeaderInput, options: FailoverOption[]) {
  const m: FailoverMessage = {
    type,
    time: header.time,
    xid: header.xid,
    payloadOffset: FAILOVER_HEADER_LENGTH,
    options,
  };
  return m;
}

export interface ConnectInput extends FailoverHeaderInput {
  relationshipName: string;
  maxUnackedUpdates: number;
  receiveTimerSeconds: number;
  vendorClass: string;
  /** Default 1. */
  protocolVersion?: number;
  /** Default 0 (no TLS); null omits it (only inside an established TLS session, D12 §7.8.1). */
  tlsRequest?: number | null;
  mcltSeconds: number;
  /** Always sent (ISC secondaries require it), 32 bytes (spec §5.1). */
  hashBucketAssignment: Uint8Array;
  /** RFC 3074 delayed service, 1..255 s; ISC never sends it. */
  delayedServiceParameter?: number;
}

/** CONNECT (primary → secondary), spec §5.1 / §3.6. */
export function buildConnect(input: ConnectInput): FailoverMessage {
  if (input.hashBucketAssignment.length !== 32) {
    throw new RangeError(`hash-bucket-assignment must be 32 bytes, got ${input.hashBucketAssignment.length}`);
  }
  const options = [
    optText(Opt.RELATIONSHIP_NAME, input.relationshipName),
    optUint32(Opt.MAX_UNACKED_BNDUPD, input.maxUnackedUpdates, 'max-unacked-bndupd'),
    optUint32(Opt.RECEIVE_TIMER, input.receiveTimerSeconds, 'receive-timer'),
    optText(Opt.VENDOR_CLASS_IDENTIFIER, input.vendorClass),
    optUint8(Opt.PROTOCOL_VERSION, input.protocolVersion ?? FAILOVER_PROTOCOL_VERSION, 'protocol-version'),
  ];
  const tlsRequest = input.tlsRequest === undefined ? TLS_REQUEST_NONE : input.tlsRequest;
  if (tlsRequest !== null) options.push(optUint8(Opt.TLS_REQUEST, tlsRequest, 'TLS-request'));
  options.push(optUint32(Opt.MCLT, input.mcltSeconds, 'MCLT'));
  options.push(optBytes(Opt.HASH_BUCKET_ASSIGNMENT, input.hashBucketAssignment));
  if (input.delayedServiceParameter !== undefined) {
    options.push(optUint8(Opt.DELAYED_SERVICE_PARAMETER, input.delayedServiceParameter, 'delayed-service'));
  }
  return message(FailoverMessageType.CONNECT, input, options);
}

export interface ConnectAckInput extends FailoverHeaderInput {
  relationshipName: string;
  /** Accept: required. Reject: omit. */
  maxUnackedUpdates?: number;
  receiveTimerSeconds?: number;
  vendorClass?: string;
  /** Default 1. */
  protocolVersion?: number;
  /** Send iff the CONNECT carried TLS-request (spec §5.1). */
  tlsReply?: number;
  /** Present = the connection is rejected. */
  rejectReason?: RejectReason;
  message?: string;
}

/** CONNECTACK (secondary → primary), accept or reject, spec §5.1. */
export function buildConnectAck(input: ConnectAckInput): FailoverMessage {
  const options = [optText(Opt.RELATIONSHIP_NAME, input.relationshipName)];
  if (input.maxUnackedUpdates !== undefined) {
    options.push(optUint32(Opt.MAX_UNACKED_BNDUPD, input.maxUnackedUpdates, 'max-unacked-bndupd'));
  }
  if (input.receiveTimerSeconds !== undefined) {
    options.push(optUint32(Opt.RECEIVE_TIMER, input.receiveTimerSeconds, 'receive-timer'));
  }
  if (input.vendorClass !== undefined) options.push(optText(Opt.VENDOR_CLASS_IDENTIFIER, input.vendorClass));
  options.push(
    optUint8(Opt.PROTOCOL_VERSION, input.protocolVersion ?? FAILOVER_PROTOCOL_VERSION, 'protocol-version'),
  );
  if (input.tlsReply !== undefined) options.push(optUint8(Opt.TLS_REPLY, input.tlsReply, 'TLS-reply'));
  if (input.rejectReason !== undefined) {
    options.push(optUint8(Opt.REJECT_REASON, input.rejectReason, 'reject-reason'));
  }
  if (input.message !== undefined) options.push(optText(Opt.MESSAGE, input.message));
  return message(FailoverMessageType.CONNECTACK, input, options);
}

export interface StateInput extends FailoverHeaderInput {
  serverState: ServerState;
  /** Default 0; SERVER_FLAG_STARTUP while in STARTUP (spec §5.2). */
  serverFlags?: number;
  startTimeOfState: number;
}

/** STATE, spec §5.2: server-state, server-flags, start-time-of-state. */
export function buildState(input: StateInput): FailoverMessage {
  return message(FailoverMessageType.STATE, input, [
    optUint8(Opt.SERVER_STATE, input.serverState, 'server-state'),
    optUint8(Opt.SERVER_FLAGS, input.serverFlags ?? 0, 'server-flags'),
    optUint32(Opt.START_TIME_OF_STATE, input.startTimeOfState, 'start-time-of-state'),
  ]);
}

export interface BndUpdInput extends FailoverHeaderInput {
  /** One or more transactions; never more than one toward an `isc-` peer (spec §3.5, §15.2). */
  bindings: FailoverBindingInput[];
}

/** BNDUPD: one binding transaction per entry, each starting with assigned-IP-address (spec §3.5). */
export function buildBndUpd(input: BndUpdInput): FailoverMessage {
  if (input.bindings.length === 0) throw new RangeError('a BNDUPD needs at least one binding');
  return message(FailoverMessageType.BNDUPD, input, input.bindings.flatMap(bindingOptions));
}

export interface BndAckInput extends FailoverHeaderInput {
  /** Same addresses as the BNDUPD, in its order (Windows requires the order, spec §3.5). */
  acks: FailoverBindingAck[];
}

/** BNDACK: assigned-IP-address per transaction, plus reject-reason and message when rejected (spec §5.5). */
export function buildBndAck(input: BndAckInput): FailoverMessage {
  if (input.acks.length === 0) throw new RangeError('a BNDACK needs at least one address');
  return message(FailoverMessageType.BNDACK, input, input.acks.flatMap(bindingOptions));
}

/** UPDREQ: "send me what I have not acknowledged" (spec §5.6). No options. */
export function buildUpdReq(input: FailoverHeaderInput): FailoverMessage {
  return message(FailoverMessageType.UPDREQ, input, []);
}

/** UPDREQALL: "send me everything" (spec §5.6). No options. */
export function buildUpdReqAll(input: FailoverHeaderInput): FailoverMessage {
  return message(FailoverMessageType.UPDREQALL, input, []);
}

/** UPDDONE, with the xid of the UPDREQ/UPDREQALL it answers (spec §5.6). No options. */
export function buildUpdDone(input: FailoverHeaderInput): FailoverMessage {
  return message(FailoverMessageType.UPDDONE, input, []);
}

/** POOLREQ (secondary → primary), spec §5.7. No options. */
export function buildPoolReq(input: FailoverHeaderInput): FailoverMessage {
  return message(FailoverMessageType.POOLREQ, input, []);
}

export interface PoolRespInput extends FailoverHeaderInput {
  addressesTransferred: number;
}

/** POOLRESP (primary → secondary) with the POOLREQ's xid, spec §5.7. */
export function buildPoolResp(input: PoolRespInput): FailoverMessage {
  return message(FailoverMessageType.POOLRESP, input, [
    optUint32(Opt.ADDRESSES_TRANSFERRED, input.addressesTransferred, 'addresses-transferred'),
  ]);
}

/** CONTACT keepalive, spec §5.8. No options. */
export function buildContact(input: FailoverHeaderInput): FailoverMessage {
  return message(FailoverMessageType.CONTACT, input, []);
}

export interface DisconnectInput extends FailoverHeaderInput {
  rejectReason: RejectReason;
  message?: string;
}

/** DISCONNECT: reject-reason (MUST) and message (SHOULD), spec §5.8. */
export function buildDisconnect(input: DisconnectInput): FailoverMessage {
  const options = [optUint8(Opt.REJECT_REASON, input.rejectReason, 'reject-reason')];
  if (input.message !== undefined) options.push(optText(Opt.MESSAGE, input.message));
  return message(FailoverMessageType.DISCONNECT, input, options);
}

// ---------------------------------------------------------------------------------------------
// TCP framing

export type FailoverFrameError = {
  reason: 'bad-length' | 'buffer-overflow';
  message: string;
};

export type FailoverFrameResult = { ok: true; bytes: Uint8Array } | { ok: false; error: FailoverFrameError };

/** Default cap on bytes held between push() and next(): a generous multiple of one socket read. */
export const DEFAULT_FRAMER_MAX_BUFFERED = 256 * 1024;

/**
 * Splits a TCP byte stream into failover messages by their 2-byte length (spec §18). Feed every
 * chunk to push(), then call next() until it returns null. A length outside 12..2048 is a framing
 * error: the stream cannot be resynchronised, so the framer stays failed and next() keeps returning
 * that error — close the connection. Memory is bounded: at most `maxBufferedBytes` may wait unread.
 */
export class FailoverFramer {
  private readonly chunks: Uint8Array[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  private buffered = 0;
  private error: FailoverFrameError | null = null;

  constructor(private readonly maxBufferedBytes = DEFAULT_FRAMER_MAX_BUFFERED) {
    if (!Number.isInteger(maxBufferedBytes) || maxBufferedBytes < FAILOVER_MAX_LENGTH) {
      throw new RangeError(`maxBufferedBytes must be an integer ≥ ${FAILOVER_MAX_LENGTH}`);
    }
  }

  /** Bytes received and not yet returned by next(). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (this.error !== null || chunk.length === 0) return;
    if (this.buffered + chunk.length > this.maxBufferedBytes) {
      this.error = {
        reason: 'buffer-overflow',
        message: `more than ${this.maxBufferedBytes} bytes buffered without being read`,
      };
      this.chunks.length = 0;
      this.buffered = 0;
      return;
    }
    // Copy: the caller (a socket) may reuse its buffer.
    this.chunks.push(new Uint8Array(chunk));
    this.buffered += chunk.length;
  }

  next(): FailoverFrameResult | null {
    if (this.error !== null) return { ok: false, error: this.error };
    if (this.buffered < 2) return null;
    const length = (this.peekByte(0) << 8) | this.peekByte(1);
    if (length < FAILOVER_MIN_LENGTH || length > FAILOVER_MAX_LENGTH) {
      this.error = {
        reason: 'bad-length',
        message: `message length ${length} outside ${FAILOVER_MIN_LENGTH}..${FAILOVER_MAX_LENGTH}`,
      };
      this.chunks.length = 0;
      this.buffered = 0;
      return { ok: false, error: this.error };
    }
    if (this.buffered < length) return null;
    return { ok: true, bytes: this.take(length) };
  }

  private peekByte(index: number): number {
    let i = this.head + index;
    for (const chunk of this.chunks) {
      if (i < chunk.length) return chunk[i]!;
      i -= chunk.length;
    }
    throw new Error('framer invariant: peek past buffered data');
  }

  private take(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0]!;
      const n = Math.min(chunk.length - this.head, length - filled);
      out.set(chunk.subarray(this.head, this.head + n), filled);
      filled += n;
      this.head += n;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.buffered -= length;
    return out;
  }
}
