// Fuzzing the failover decoder, framer and digest check: ≥ 100 000 random and mutated messages
// must never throw and must finish in bounded time. Seeded, so any failure replays exactly.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hbaFromSplit } from '../../src/failover/hash-bucket.js';
import { signFailover, verifyFailover } from '../../src/wire/failover-auth.js';
import {
  buildBndAck,
  buildBndUpd,
  buildConnect,
  buildState,
  decodeFailover,
  encodeFailover,
  FailoverFramer,
} from '../../src/wire/failover-codec.js';
import { BindingStatus, RejectReason, ServerState } from '../../src/wire/failover-message.js';
import { fromHex } from '../../src/wire/ipv4.js';

const FIXTURE = new URL('../../../shared/fixtures/isc-dhcpd-4.4.3-failover.jsonl', import.meta.url);
const TIME_BUDGET_MS = 15_000;

/** xorshift32: tiny, fast, deterministic. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function corpus(): Uint8Array[] {
  const fromFixture = readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => fromHex((JSON.parse(l) as { hex: string }).hex));
  const T = 0x65000000;
  const built = [
    buildConnect({
      time: T,
      xid: 1,
      relationshipName: 'fuzz',
      maxUnackedUpdates: 10,
      receiveTimerSeconds: 30,
      vendorClass: 'twinlease',
      mcltSeconds: 3600,
      hashBucketAssignment: hbaFromSplit(128),
    }),
    buildState({ time: T, xid: 2, serverState: ServerState.RECOVER_WAIT, startTimeOfState: T }),
    buildBndUpd({
      time: T,
      xid: 3,
      bindings: [1, 2, 3].map((address) => ({
        address,
        bindingStatus: BindingStatus.ACTIVE,
        clientId: '01020304',
        hardwareType: 1,
        hardwareAddress: '001122334455',
        leaseExpiresAt: T,
        potentialExpiresAt: T,
        ipFlags: 2,
        ddns: { flags: 3, fqdn: fromHex('0161') },
        clientRequestOptions: fromHex('63825363'),
      })),
    }),
    buildBndAck({
      time: T,
      xid: 3,
      acks: [{ address: 1 }, { address: 2, rejectReason: RejectReason.FATAL_CONFLICT, message: 'x' }],
    }),
  ].map(encodeFailover);
  return [...fromFixture, ...built];
}

function setLength(bytes: Uint8Array): void {
  if (bytes.length >= 2) {
    bytes[0] = (bytes.length >>> 8) & 0xff;
    bytes[1] = bytes.length & 0xff;
  }
}

/** Decode must return a value; a successful decode must re-encode and decode to the same options. */
function check(bytes: Uint8Array): boolean {
  const r = decodeFailover(bytes);
  if (!r.ok) {
    assert.equal(typeof r.error.reason, 'string');
    assert.ok(r.error.offset >= 0 && r.error.offset <= bytes.length);
    return false;
  }
  const again = decodeFailover(encodeFailover(r.message));
  assert.ok(again.ok);
  assert.deepEqual(again.message.options, r.message.options);
  return true;
}

describe('failover fuzz', () => {
  it('survives ≥ 100 000 random and mutated messages within the time budget', () => {
    const started = performance.now();
    const next = rng(0xf00d);
    const seeds = corpus();
    let total = 0;
    let decoded = 0;

    // 1. Pure random bytes, half with a consistent length field and a valid type so parsing goes deep.
    for (let i = 0; i < 40_000; i++) {
      const length = next() % 300;
      const bytes = new Uint8Array(length);
      for (let j = 0; j < length; j++) bytes[j] = next() & 0xff;
      if (i % 2 === 0 && length >= 12) {
        setLength(bytes);
        bytes[2] = 1 + (next() % 12);
        bytes[3] = 12;
      }
      if (check(bytes)) decoded++;
      total++;
    }

    // 2. Mutations of real and built messages: byte flips, option-length edits, truncation, growth.
    for (let i = 0; i < 70_000; i++) {
      const seed = seeds[next() % seeds.length]!;
      let bytes = new Uint8Array(seed);
      const kind = next() % 5;
      if (kind === 0) {
        const flips = 1 + (next() % 4);
        for (let f = 0; f < flips; f++) bytes[next() % bytes.length] = next() & 0xff;
      } else if (kind === 1 && bytes.length > 16) {
        // Hit an option length byte (usually) and keep the header length consistent.
        bytes[12 + (next() % (bytes.length - 12))] = next() & 0xff;
        bytes[15] = next() & 0xff;
      } else if (kind === 2) {
        bytes = bytes.subarray(0, next() % (bytes.length + 1));
        if (next() & 1) setLength(bytes);
      } else if (kind === 3) {
        const grown = new Uint8Array(bytes.length + 1 + (next() % 64));
        grown.set(bytes);
        for (let j = bytes.length; j < grown.length; j++) grown[j] = next() & 0xff;
        bytes = grown;
        setLength(bytes);
      } else {
        bytes[3] = next() & 0xff; // payload offset
      }
      if (kind !== 2 && next() % 3 === 0) setLength(bytes);
      if (check(bytes)) decoded++;
      total++;
    }

    // 3. The framer over a stream of mutated messages, and the digest check on mutated signed ones.
    const framer = new FailoverFramer();
    const key = { algorithm: 'hmac-sha256' as const, secret: 'fuzz-secret' };
    for (let i = 0; i < 5_000; i++) {
      const seed = seeds[next() % seeds.length]!;
      const signed = signFailover(seed, key);
      const mutated = new Uint8Array(signed);
      const at = next() % mutated.length;
      mutated[at] = mutated[at]! ^ (1 << (next() % 8));
      const verdict = verifyFailover(mutated, key);
      assert.ok(['ok', 'missing', 'bad', 'unexpected'].includes(verdict));
      assert.notEqual(verdict, 'ok', 'a flipped bit must not verify');
      framer.push(mutated.subarray(0, next() % (mutated.length + 1)));
      for (let r = framer.next(); r?.ok; r = framer.next()) check(r.bytes);
      total++;
    }

    const elapsed = performance.now() - started;
    assert.ok(total >= 100_000, `${total} inputs`);
    assert.ok(
      decoded > 1_000,
      `only ${decoded} inputs decoded: the fuzzer is not reaching the option parser`,
    );
    assert.ok(elapsed < TIME_BUDGET_MS, `took ${Math.round(elapsed)} ms`);
  });

  it('never throws on arbitrary bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2100 }), (bytes) => {
        check(bytes);
        const withLength = new Uint8Array(bytes);
        setLength(withLength);
        check(withLength);
        verifyFailover(withLength, { algorithm: 'hmac-md5-d12', secret: 's' });
        verifyFailover(withLength, { algorithm: 'none' });
      }),
      { numRuns: 5_000 },
    );
  });
});
