// TSIG (RFC 8945) with HMAC-SHA256 (RFC 4635): signs a request and verifies the server's signed
// answer. Pure: the caller passes the time. The MAC covers (for an answer, the request's MAC with
// its length first, then) the message without its TSIG record and with its original ID, then the
// "TSIG variables" (RFC 8945 §4.3.3): key name and algorithm in canonical wire form, class ANY,
// TTL 0, time signed, fudge, error and other data.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { type DnsMessage, encodeName, HEADER_BYTES, RCODE, RR_CLASS, RR_TYPE } from './dns-wire.js';

export const TSIG_ALGORITHM_HMAC_SHA256 = 'hmac-sha256';
/** RFC 8945 §10: 300 seconds is the recommended fudge. */
export const DEFAULT_FUDGE_SECONDS = 300;

export interface TsigKey {
  /** Key name as configured on the DNS server (a DNS name). */
  name: string;
  algorithm: typeof TSIG_ALGORITHM_HMAC_SHA256;
  secret: Uint8Array;
}

/** The fields of a TSIG record's RDATA (RFC 8945 §4.2). */
export interface TsigRdata {
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  otherData: Uint8Array;
}

function u48(value: number): Uint8Array {
  const out = new Uint8Array(6);
  const high = Math.floor(value / 2 ** 32);
  const low = value >>> 0;
  out[0] = (high >>> 8) & 255;
  out[1] = high & 255;
  out[2] = low >>> 24;
  out[3] = (low >>> 16) & 255;
  out[4] = (low >>> 8) & 255;
  out[5] = low & 255;
  return out;
}

function u16(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 255, value & 255);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** RFC 8945 §4.3.3 TSIG variables. */
function tsigVariables(keyName: string, t: Omit<TsigRdata, 'mac' | 'originalId'>): Uint8Array {
  return concat([
    encodeName(keyName, true),
    u16(RR_CLASS.ANY),
    Uint8Array.of(0, 0, 0, 0), // TTL
    encodeName(t.algorithm, true),
    u48(t.timeSigned),
    u16(t.fudge),
    u16(t.error),
    u16(t.otherData.length),
    t.otherData,
  ]);
}

export function encodeTsigRdata(t: TsigRdata): Uint8Array {
  return concat([
    encodeName(t.algorithm),
    u48(t.timeSigned),
    u16(t.fudge),
    u16(t.mac.length),
    t.mac,
    u16(t.originalId),
    u16(t.error),
    u16(t.otherData.length),
    t.otherData,
  ]);
}

/** Parses TSIG RDATA; null when malformed. The algorithm name must be uncompressed (§4.2). */
export function decodeTsigRdata(d: Uint8Array): TsigRdata | null {
  const labels: string[] = [];
  let pos = 0;
  for (;;) {
    if (pos >= d.length) return null;
    const len = d[pos]!;
    if (len === 0) {
      pos++;
      break;
    }
    if (len > 63 || pos + 1 + len > d.length) return null;
    labels.push(Buffer.from(d.subarray(pos + 1, pos + 1 + len)).toString('latin1'));
    pos += 1 + len;
  }
  if (pos + 10 > d.length) return null;
  const timeSigned =
    d[pos]! * 2 ** 40 +
    d[pos + 1]! * 2 ** 32 +
    ((d[pos + 2]! << 24) >>> 0) +
    ((d[pos + 3]! << 16) | (d[pos + 4]! << 8) | d[pos + 5]!);
  const fudge = (d[pos + 6]! << 8) | d[pos + 7]!;
  const macSize = (d[pos + 8]! << 8) | d[pos + 9]!;
  pos += 10;
  if (pos + macSize + 6 > d.length) return null;
  const mac = d.slice(pos, pos + macSize);
  pos += macSize;
  const originalId = (d[pos]! << 8) | d[pos + 1]!;
  const error = (d[pos + 2]! << 8) | d[pos + 3]!;
  const otherLength = (d[pos + 4]! << 8) | d[pos + 5]!;
  pos += 6;
  if (pos + otherLength !== d.length) return null;
  return {
    algorithm: labels.join('.'),
    timeSigned,
    fudge,
    mac,
    originalId,
    error,
    otherData: d.slice(pos),
  };
}

function hmac(key: TsigKey, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key.secret).update(data).digest());
}

export interface SignedMessage {
  bytes: Uint8Array;
  /** The request's MAC: the answer's MAC covers it. */
  mac: Uint8Array;
}

/**
 * Appends a TSIG record to `unsigned` (the encoded message, no TSIG yet) and returns the signed
 * bytes. `timeSigned` in seconds since 1970. `requestMac`: signing an answer (a server does; the
 * tests' DNS server does), whose MAC covers the request's first (RFC 8945 §4.3.1).
 */
export function signMessage(
  unsigned: Uint8Array,
  key: TsigKey,
  timeSigned: number,
  fudge = DEFAULT_FUDGE_SECONDS,
  requestMac: Uint8Array | null = null,
): SignedMessage {
  const fields = { algorithm: key.algorithm, timeSigned, fudge, error: 0, otherData: new Uint8Array(0) };
  const prefix = requestMac === null ? [] : [u16(requestMac.length), requestMac];
  const mac = hmac(key, concat([...prefix, unsigned, tsigVariables(key.name, fields)]));
  const originalId = (unsigned[0]! << 8) | unsigned[1]!;
  const rdata = encodeTsigRdata({ ...fields, mac, originalId });
  const name = encodeName(key.name);
  const record = concat([
    name,
    u16(RR_TYPE.TSIG),
    u16(RR_CLASS.ANY),
    Uint8Array.of(0, 0, 0, 0),
    u16(rdata.length),
    rdata,
  ]);
  const bytes = concat([unsigned, record]);
  const arCount = ((bytes[10]! << 8) | bytes[11]!) + 1;
  bytes[10] = arCount >>> 8;
  bytes[11] = arCount & 255;
  return { bytes, mac };
}

export type TsigVerdict =
  | { ok: true; tsig: TsigRdata }
  /**
   * unsigned: no TSIG record; wrongKey: signed with another key or algorithm; badMac: the MAC
   * does not match; badTime: outside the fudge; serverError: the server reports a TSIG error
   * (BADKEY, BADSIG, BADTIME in `error`) and sent no usable MAC; malformed: unreadable record.
   */
  | {
      ok: false;
      reason: 'unsigned' | 'wrongKey' | 'badMac' | 'badTime' | 'serverError' | 'malformed';
      error: number;
    };

/**
 * Verifies the TSIG of `bytes` (a whole message whose last additional record starts at
 * `tsigOffset`). `requestMac` is the MAC of the request this answers, or null when verifying a
 * request. `now` in seconds since 1970.
 */
export function verifyMessage(
  bytes: Uint8Array,
  message: DnsMessage,
  tsigOffset: number | undefined,
  key: TsigKey,
  requestMac: Uint8Array | null,
  now: number,
): TsigVerdict {
  const record = message.additionals.at(-1);
  if (record === undefined || record.type !== RR_TYPE.TSIG || tsigOffset === undefined) {
    return { ok: false, reason: 'unsigned', error: 0 };
  }
  const tsig = decodeTsigRdata(record.rdata);
  if (tsig === null || record.class !== RR_CLASS.ANY) return { ok: false, reason: 'malformed', error: 0 };
  if (
    record.name.toLowerCase() !== key.name.replace(/\.$/, '').toLowerCase() ||
    tsig.algorithm.toLowerCase() !== key.algorithm
  ) {
    return { ok: false, reason: 'wrongKey', error: tsig.error };
  }
  if (tsig.error === RCODE.BADKEY || tsig.error === RCODE.BADSIG || tsig.mac.length === 0) {
    return { ok: false, reason: 'serverError', error: tsig.error };
  }
  const body = bytes.slice(0, tsigOffset);
  body[0] = tsig.originalId >>> 8;
  body[1] = tsig.originalId & 255;
  const arCount = ((body[10]! << 8) | body[11]!) - 1;
  body[10] = arCount >>> 8;
  body[11] = arCount & 255;
  if (body.length < HEADER_BYTES) return { ok: false, reason: 'malformed', error: 0 };
  const parts: Uint8Array[] = [];
  if (requestMac !== null) parts.push(u16(requestMac.length), requestMac);
  parts.push(body, tsigVariables(key.name, tsig));
  const expected = hmac(key, concat(parts));
  // RFC 8945 §5.2.2.1: a truncated MAC is allowed down to half the output (and 10 bytes); we
  // accept only the full one, which is what BIND sends.
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) {
    return { ok: false, reason: 'badMac', error: tsig.error };
  }
  if (tsig.error === RCODE.BADTIME || Math.abs(now - tsig.timeSigned) > tsig.fudge) {
    return { ok: false, reason: 'badTime', error: tsig.error };
  }
  return { ok: true, tsig };
}

/** A key's secret from its configured base64 text; null when it is not base64. */
export function decodeSecret(base64: string): Uint8Array | null {
  const t = base64.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return null;
  return new Uint8Array(Buffer.from(t, 'base64'));
}
