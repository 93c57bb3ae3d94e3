// Failover message authentication: the message-digest option (17), spec §11, D12 §11.1.
// The digest is an HMAC keyed with the shared secret over the whole message — header included, with
// the final length — in which the digest bytes themselves are zero. We append option 17 as the LAST
// option (D12's §6.3 schematic; ISC's parser also assumes last), and accept it anywhere on receipt
// (D12 §11.1 says "first"). Type 1 = HMAC-MD5 (D12); type 2 = HMAC-SHA256 is our own choice, as
// Windows' type byte and placement are unspecified (UNCERTAIN). Never log or echo the secret.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeFailover } from './failover-codec.js';
import {
  FAILOVER_MAX_LENGTH,
  FAILOVER_OPTION_HEADER_LENGTH,
  FailoverOptionCode,
  MessageDigestType,
} from './failover-message.js';

export type FailoverAuthAlgorithm = 'hmac-md5-d12' | 'hmac-sha256';

export interface FailoverAuthKey {
  algorithm: FailoverAuthAlgorithm;
  /** The shared secret; a string is taken as UTF-8. */
  secret: string | Uint8Array;
}

/** Verification settings: a key, or `{ algorithm: 'none' }` when no secret is configured. */
export type FailoverAuthConfig = FailoverAuthKey | { algorithm: 'none' };

/**
 * - ok: digest present and correct (or absent and none expected);
 * - missing: a secret is configured but the message has no digest (reject reason 21);
 * - bad: wrong digest, wrong digest type or length, several digests, or an unparsable message (20);
 * - unexpected: a digest arrived but no secret is configured (13).
 */
export type FailoverVerifyResult = 'ok' | 'missing' | 'bad' | 'unexpected';

interface AlgorithmSpec {
  type: MessageDigestType;
  hash: 'md5' | 'sha256';
  digestLength: number;
}

const ALGORITHMS: Readonly<Record<FailoverAuthAlgorithm, AlgorithmSpec>> = {
  'hmac-md5-d12': { type: MessageDigestType.HMAC_MD5, hash: 'md5', digestLength: 16 },
  'hmac-sha256': { type: MessageDigestType.HMAC_SHA256, hash: 'sha256', digestLength: 32 },
};

/** Offsets of every message-digest option's header in a well-formed message. */
function digestOptionOffsets(bytes: Uint8Array, payloadOffset: number): number[] {
  const found: number[] = [];
  let at = payloadOffset;
  while (at < bytes.length) {
    const code = (bytes[at]! << 8) | bytes[at + 1]!;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (code === FailoverOptionCode.MESSAGE_DIGEST) found.push(at);
    at += FAILOVER_OPTION_HEADER_LENGTH + length;
  }
  return found;
}

function hmac(spec: AlgorithmSpec, secret: string | Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(spec.hash, secret).update(data).digest());
}

function assertSecret(secret: string | Uint8Array): void {
  if (secret.length === 0) throw new RangeError('failover shared secret must not be empty');
}

/**
 * Append a message-digest option to an encoded message and fill it in. Returns new bytes. Throws
 * if the message is malformed, already carries a digest, or would exceed 2048 bytes.
 */
export function signFailover(bytes: Uint8Array, key: FailoverAuthKey): Uint8Array {
  const spec = ALGORITHMS[key.algorithm];
  assertSecret(key.secret);
  const decoded = decodeFailover(bytes);
  if (!decoded.ok) throw new RangeError(`cannot sign a malformed failover message: ${decoded.error.message}`);
  if (digestOptionOffsets(bytes, decoded.message.payloadOffset).length > 0) {
    throw new RangeError('failover message already carries a message digest');
  }
  const dataLength = 1 + spec.digestLength;
  const length = bytes.length + FAILOVER_OPTION_HEADER_LENGTH + dataLength;
  if (length > FAILOVER_MAX_LENGTH) {
    throw new RangeError(`signed failover message of ${length} bytes exceeds ${FAILOVER_MAX_LENGTH}`);
  }
  const out = new Uint8Array(length);
  out.set(bytes);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  const at = bytes.length;
  out[at] = FailoverOptionCode.MESSAGE_DIGEST >>> 8;
  out[at + 1] = FailoverOptionCode.MESSAGE_DIGEST & 0xff;
  out[at + 2] = dataLength >>> 8;
  out[at + 3] = dataLength & 0xff;
  out[at + 4] = spec.type;
  // Digest bytes are still zero here: compute over exactly what the receiver will reconstruct.
  out.set(hmac(spec, key.secret, out), at + FAILOVER_OPTION_HEADER_LENGTH + 1);
  return out;
}

/** Check a received message's digest against the configured secret (spec §11). Never throws on input. */
export function verifyFailover(bytes: Uint8Array, config: FailoverAuthConfig): FailoverVerifyResult {
  const decoded = decodeFailover(bytes);
  if (!decoded.ok) return 'bad';
  const offsets = digestOptionOffsets(bytes, decoded.message.payloadOffset);
  if (config.algorithm === 'none') return offsets.length > 0 ? 'unexpected' : 'ok';
  const spec = ALGORITHMS[config.algorithm];
  assertSecret(config.secret);
  if (offsets.length === 0) return 'missing';
  if (offsets.length > 1) return 'bad';
  const at = offsets[0]!;
  const dataLength = (bytes[at + 2]! << 8) | bytes[at + 3]!;
  if (dataLength !== 1 + spec.digestLength || bytes[at + 4] !== spec.type) return 'bad';
  const digestStart = at + FAILOVER_OPTION_HEADER_LENGTH + 1;
  const received = bytes.slice(digestStart, digestStart + spec.digestLength);
  const zeroed = new Uint8Array(bytes);
  zeroed.fill(0, digestStart, digestStart + spec.digestLength);
  const expected = hmac(spec, config.secret, zeroed);
  return timingSafeEqual(expected, received) ? 'ok' : 'bad';
}
