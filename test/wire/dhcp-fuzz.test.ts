// Fuzzing the DHCP codec and option decoders: random and mutated datagrams must never make the
// decoder throw, must come back as a well-formed packet or a typed error, and must decode in
// bounded time. Deterministic: the seed is printed on failure and FUZZ_SEED replays it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DHCP_MAX_LENGTH, decodeDhcp, encodeDhcp } from '../../src/wire/dhcp-codec.js';
import {
  decodeOptionValue,
  encodeOptionValue,
  OPTION_CATALOGUE,
  type OptionValue,
  parseClientFqdn,
  parseRelayAgentInfo,
  relayAgentSubOption,
} from '../../src/wire/dhcp-options.js';
import type { DhcpDecodeError, DhcpDecodeResult, DhcpPacket } from '../../src/wire/dhcp-packet.js';

const SEED = process.env.FUZZ_SEED === undefined ? 0x7717ea5e : Number(process.env.FUZZ_SEED);
const MUTATED_PACKETS = 120_000;
const RANDOM_PACKETS = 30_000;
/** Generous: a decode takes microseconds; this only catches runaway loops, not slowness. */
const MAX_DECODE_MS = 100;

/** mulberry32: small, fast, good enough to drive mutations. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    bytes: (n: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}
type Rng = ReturnType<typeof prng>;

const REASONS = new Set<DhcpDecodeError['reason']>([
  'too-short',
  'bad-op',
  'bad-hlen',
  'bad-magic-cookie',
  'option-truncated',
  'option-overrun',
  'bad-overload',
  'missing-end',
  'too-long',
]);

function randomPacket(rng: Rng): DhcpPacket {
  const options = new Map<number, Uint8Array>();
  const count = rng.int(12);
  for (let i = 0; i < count; i++) {
    let code = 1 + rng.int(254);
    if (code === 52) code = 53;
    // Mostly short options, sometimes long ones that need RFC 3396 splitting.
    const length = rng.next() < 0.85 ? rng.int(20) : rng.int(700);
    options.set(code, rng.bytes(length));
  }
  const zeroFields = rng.next() < 0.8;
  return {
    op: 1 + rng.int(2),
    htype: rng.int(256),
    hlen: rng.int(17),
    hops: rng.int(256),
    xid: rng.int(2 ** 32),
    secs: rng.int(65536),
    flags: rng.int(65536),
    ciaddr: rng.int(2 ** 32),
    yiaddr: rng.int(2 ** 32),
    siaddr: rng.int(2 ** 32),
    giaddr: rng.int(2 ** 32),
    chaddr: rng.bytes(16),
    sname: zeroFields ? new Uint8Array(64) : rng.bytes(64),
    file: zeroFields ? new Uint8Array(128) : rng.bytes(128),
    hasMagicCookie: rng.next() < 0.95,
    options,
  };
}

/** Valid encodings to mutate: plain, long options, overloaded (small maxSize), BOOTP. */
function corpus(rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 400; i++) {
    const p = randomPacket(rng);
    out.push(encodeDhcp(p, { maxSize: rng.next() < 0.5 ? 576 : 1500 }));
  }
  return out;
}

/** Offsets of option length bytes in the main options area (for targeted corruption). */
function lengthByteOffsets(b: Uint8Array): number[] {
  const offsets: number[] = [];
  let i = 240;
  while (i + 1 < b.length) {
    const code = b[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) break;
    offsets.push(i + 1);
    i += 2 + b[i + 1]!;
  }
  return offsets;
}

function mutate(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
  let b: Uint8Array = input.slice();
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const n = b.length;
    switch (rng.int(10)) {
      case 0: {
        // bit flips
        const flips = 1 + rng.int(8);
        for (let k = 0; k < flips && n > 0; k++) {
          const i = rng.int(n);
          b[i] = b[i]! ^ (1 << rng.int(8));
        }
        break;
      }
      case 1:
        if (n > 0) b[rng.int(n)] = rng.int(256);
        break;
      case 2:
        // truncation, mostly inside the options area
        b = b.subarray(0, rng.next() < 0.8 ? 236 + rng.int(Math.max(1, n - 236)) : rng.int(n + 1));
        break;
      case 3: {
        // length-byte corruption
        const offsets = lengthByteOffsets(b);
        if (offsets.length > 0) {
          const i = offsets[rng.int(offsets.length)]!;
          b[i] = rng.next() < 0.5 ? rng.int(256) : (b[i]! + (rng.next() < 0.5 ? 1 : 255)) & 255;
        }
        break;
      }
      case 4: {
        // insertion of random bytes
        const at = rng.int(n + 1);
        b = concat(b.subarray(0, at), rng.bytes(1 + rng.int(16)), b.subarray(at));
        break;
      }
      case 5: {
        // deletion
        const at = rng.int(n + 1);
        b = concat(b.subarray(0, at), b.subarray(Math.min(n, at + 1 + rng.int(16))));
        break;
      }
      case 6: {
        // duplicate a range in place
        const at = rng.int(n + 1);
        const len = rng.int(64);
        b = concat(b.subarray(0, at), b.subarray(at, at + len), b.subarray(at));
        break;
      }
      case 7: {
        // splice two packets
        const at = rng.int(Math.min(n, other.length) + 1);
        b = concat(b.subarray(0, at), other.subarray(at));
        break;
      }
      case 8:
        // force an overload option at the start of the options area
        if (n >= 243) b.set([52, 1, rng.int(6)], 240);
        break;
      case 9:
        // random tail
        b = concat(b, rng.bytes(rng.int(64)));
        break;
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let w = 0;
  for (const p of parts) {
    out.set(p, w);
    w += p.length;
  }
  return out;
}

function randomDatagram(rng: Rng): Uint8Array {
  const n = rng.next() < 0.1 ? rng.int(240) : 236 + rng.int(700);
  const b = rng.bytes(n);
  // Half the time make it get past the header checks so the options walker sees random data.
  if (n >= 240 && rng.next() < 0.5) {
    b[0] = 1 + rng.int(2);
    b[2] = rng.int(17);
    b.set([99, 130, 83, 99], 236);
  }
  return b;
}

interface Stats {
  ok: number;
  errors: Map<string, number>;
  maxMs: number;
}

/** Decodes and checks the result's shape; on success, checks encode∘decode is stable. */
function check(b: Uint8Array, stats: Stats, where: string): void {
  const t0 = performance.now();
  let r: DhcpDecodeResult;
  try {
    r = decodeDhcp(b);
  } catch (e) {
    assert.fail(
      `decodeDhcp threw on ${where} (seed ${SEED}): ${String(e)}; input ${Buffer.from(b).toString('hex')}`,
    );
  }
  const ms = performance.now() - t0;
  if (ms > stats.maxMs) stats.maxMs = ms;
  if (!r.ok) {
    const e = r.error;
    if (!REASONS.has(e.reason)) assert.fail(`unknown reason ${e.reason} on ${where}`);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > Math.max(b.length, DHCP_MAX_LENGTH)) {
      assert.fail(`offset ${e.offset} outside the datagram on ${where}`);
    }
    if (e.message.startsWith('internal')) {
      assert.fail(
        `decoder belt caught an exception on ${where} (seed ${SEED}): ${e.message}; input ${Buffer.from(b).toString('hex')}`,
      );
    }
    stats.errors.set(e.reason, (stats.errors.get(e.reason) ?? 0) + 1);
    return;
  }
  stats.ok++;
  const p = r.packet;
  if (p.op !== 1 && p.op !== 2) assert.fail(`op ${p.op} accepted on ${where}`);
  if (p.hlen > 16 || p.chaddr.length !== 16 || p.sname.length !== 64 || p.file.length !== 128) {
    assert.fail(`bad field sizes on ${where}`);
  }
  if (!p.hasMagicCookie && p.options.size > 0) assert.fail(`BOOTP packet with options on ${where}`);
  for (const [code, data] of p.options) {
    if (code < 1 || code > 254 || code === 52 || !(data instanceof Uint8Array))
      assert.fail(`bad option ${code} on ${where}`);
  }
  // Whatever we accept, we can re-encode and read back identically.
  const again = decodeDhcp(encodeDhcp(p, { maxSize: 65535 }));
  if (!again.ok) assert.fail(`re-encoded packet does not decode on ${where}: ${again.error.message}`);
  const { options: ao, ...ah } = again.packet;
  const { options: po, ...ph } = p;
  assert.deepEqual(ah, ph);
  // In the order they were read, except relay agent information (82): always written last (RFC 3046 §2.2).
  const inWireOrder = [...[...po].filter(([c]) => c !== 82), ...[...po].filter(([c]) => c === 82)];
  assert.deepEqual([...ao], inWireOrder);
}

test(`fuzz: ${MUTATED_PACKETS} mutated + ${RANDOM_PACKETS} random datagrams never throw and decode in bounded time`, () => {
  const rng = prng(SEED);
  const seeds = corpus(rng);
  const stats: Stats = { ok: 0, errors: new Map(), maxMs: 0 };
  const t0 = performance.now();
  for (const b of seeds) check(b, stats, 'corpus');
  for (let i = 0; i < MUTATED_PACKETS; i++) {
    const a = seeds[rng.int(seeds.length)]!;
    const other = seeds[rng.int(seeds.length)]!;
    check(mutate(rng, a, other), stats, `mutation ${i}`);
  }
  for (let i = 0; i < RANDOM_PACKETS; i++) check(randomDatagram(rng), stats, `random ${i}`);
  const seconds = (performance.now() - t0) / 1000;
  const total = seeds.length + MUTATED_PACKETS + RANDOM_PACKETS;
  console.log(
    `fuzz seed=${SEED} packets=${total} ok=${stats.ok} errors=${JSON.stringify(Object.fromEntries(stats.errors))} ` +
      `time=${seconds.toFixed(2)}s maxDecode=${stats.maxMs.toFixed(2)}ms`,
  );
  assert.ok(stats.maxMs < MAX_DECODE_MS, `slowest decode took ${stats.maxMs} ms`);
  // The mutations must actually reach both outcomes and the deep error paths.
  assert.ok(stats.ok > total / 10, 'too few mutations decode: the fuzzer is not exploring accepted packets');
  for (const reason of [
    'option-overrun',
    'option-truncated',
    'bad-overload',
    'bad-magic-cookie',
    'too-short',
  ]) {
    assert.ok((stats.errors.get(reason) ?? 0) > 0, `no mutation produced ${reason}`);
  }
});

test('fuzz: worst-case datagrams (65507 bytes of tiny fragments) decode in bounded time', () => {
  const cases: Uint8Array[] = [];
  const header = encodeDhcp(randomPacket(prng(SEED + 1))).subarray(0, 240);
  // 1. Every code repeated with zero-length instances: the most fragments possible, 254 lists.
  const many = new Uint8Array(DHCP_MAX_LENGTH);
  many.set(header);
  for (let i = 240, k = 0; i + 1 < many.length; i += 2, k++) {
    let code = 1 + (k % 254);
    if (code === 52) code = 53;
    many[i] = code;
    many[i + 1] = 0;
  }
  cases.push(many);
  // 2. One code repeated with 1-byte instances: one long concatenation.
  const one = new Uint8Array(DHCP_MAX_LENGTH - 1);
  one.set(header);
  for (let i = 240; i + 2 < one.length; i += 3) one.set([43, 1, i & 255], i);
  cases.push(one);
  // 3. All pad, no End.
  const pads = new Uint8Array(DHCP_MAX_LENGTH);
  pads.set(header);
  cases.push(pads);
  for (const b of cases) {
    const t0 = performance.now();
    const r = decodeDhcp(b);
    const ms = performance.now() - t0;
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.ok(ms < MAX_DECODE_MS, `${ms} ms`);
  }
  const r = decodeDhcp(cases[1]!);
  assert.ok(r.ok);
  assert.equal(r.packet.options.get(43)!.length, Math.floor((DHCP_MAX_LENGTH - 1 - 240) / 3));
});

test('fuzz: option value decoders never throw and always give re-encodable values', () => {
  const rng = prng(SEED + 2);
  const codes = [...OPTION_CATALOGUE.map((d) => d.code), 200];
  // Start from canonical encodings of the examples and mutate them; also pure random data.
  const canonical = OPTION_CATALOGUE.map((d) => {
    const r = encodeOptionValue(d.code, d.example);
    assert.ok(r.ok);
    return [d.code, r.data] as const;
  });
  for (let i = 0; i < 40_000; i++) {
    let code: number;
    let data: Uint8Array;
    if (i % 2 === 0) {
      const [c, d] = canonical[rng.int(canonical.length)]!;
      code = c;
      data = mutate(rng, d, d);
    } else {
      code = codes[rng.int(codes.length)]!;
      data = rng.bytes(rng.int(80));
    }
    let v: OptionValue;
    try {
      v = decodeOptionValue(code, data);
      parseRelayAgentInfo(data);
      relayAgentSubOption(data, 5);
      parseClientFqdn(data);
    } catch (e) {
      assert.fail(
        `option decoder threw for ${code} ${Buffer.from(data).toString('hex')} (seed ${SEED}): ${String(e)}`,
      );
    }
    const again = encodeOptionValue(code, v);
    if (!again.ok)
      assert.fail(
        `decoded value of ${code} ${Buffer.from(data).toString('hex')} does not re-encode: ${again.message}`,
      );
  }
});

test('fuzz: encodeOptionValue returns a result (never throws) for arbitrary JSON values', () => {
  const names = OPTION_CATALOGUE.map((d) => d.name);
  fc.assert(
    fc.property(
      fc.oneof(fc.constantFrom(...names), fc.integer({ min: -5, max: 300 })),
      fc.jsonValue(),
      (option, value) => {
        const r = encodeOptionValue(option, value as OptionValue);
        assert.equal(typeof r.ok, 'boolean');
        if (!r.ok) assert.ok(r.message.length > 0);
      },
    ),
    { numRuns: 5000, seed: SEED },
  );
});
