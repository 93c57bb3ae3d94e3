import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeDhcp, encodeDhcp, encodeDhcpReport } from '../../src/wire/dhcp-codec.js';
import {
  getBytesOption,
  getStringOption,
  getUint8Option,
  getUint16Option,
  linkSelectionOf,
  OPTION,
  parseRelayAgentInfo,
  serverIdOverrideOf,
} from '../../src/wire/dhcp-options.js';
import type { DhcpDecodeError, DhcpPacket } from '../../src/wire/dhcp-packet.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

// ---- byte builders ---------------------------------------------------------------------------

type Chunk = number | readonly number[] | Uint8Array | string;

/** Concatenates bytes, byte arrays and ASCII strings. */
function bytes(...chunks: Chunk[]): Uint8Array {
  const out: number[] = [];
  for (const c of chunks) {
    if (typeof c === 'number') out.push(c);
    else if (typeof c === 'string') for (const ch of c) out.push(ch.charCodeAt(0));
    else out.push(...c);
  }
  return new Uint8Array(out);
}

const COOKIE = [99, 130, 83, 99];
const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const ip = (text: string) => u32(parseIpv4(text));

interface HeaderFields {
  op?: number;
  htype?: number;
  hlen?: number;
  hops?: number;
  xid?: number;
  secs?: number;
  flags?: number;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  chaddr?: readonly number[];
  sname?: Uint8Array;
  file?: Uint8Array;
}

/** The 236-byte RFC 2131 §2 fixed header. */
function header(f: HeaderFields = {}): Uint8Array {
  const h = new Uint8Array(236);
  h[0] = f.op ?? 1;
  h[1] = f.htype ?? 1;
  h[2] = f.hlen ?? 6;
  h[3] = f.hops ?? 0;
  h.set(u32(f.xid ?? 0x3903f326), 4);
  h.set([((f.secs ?? 0) >> 8) & 255, (f.secs ?? 0) & 255], 8);
  h.set([((f.flags ?? 0) >> 8) & 255, (f.flags ?? 0) & 255], 10);
  h.set(ip(f.ciaddr ?? '0.0.0.0'), 12);
  h.set(ip(f.yiaddr ?? '0.0.0.0'), 16);
  h.set(ip(f.siaddr ?? '0.0.0.0'), 20);
  h.set(ip(f.giaddr ?? '0.0.0.0'), 24);
  h.set(f.chaddr ?? [0x00, 0x0c, 0x29, 0x3a, 0xbc, 0x01], 28);
  if (f.sname) h.set(f.sname, 44);
  if (f.file) h.set(f.file, 108);
  return h;
}

function padTo(b: Uint8Array, length: number): Uint8Array {
  if (b.length >= length) return b;
  const out = new Uint8Array(length);
  out.set(b);
  return out;
}

function decodeOk(b: Uint8Array): DhcpPacket {
  const r = decodeDhcp(b);
  if (!r.ok) assert.fail(`expected ok, got ${r.error.reason} at ${r.error.offset}: ${r.error.message}`);
  return r.packet;
}

function decodeErr(b: Uint8Array, opts?: { requireEnd?: boolean }): DhcpDecodeError {
  const r = decodeDhcp(b, opts);
  if (r.ok) assert.fail('expected a decode error');
  return r.error;
}

function emptyPacket(options: [number, Uint8Array][] = []): DhcpPacket {
  return {
    op: 2,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0xdeadbeef,
    secs: 0,
    flags: 0x8000,
    ciaddr: 0,
    yiaddr: parseIpv4('10.0.0.42'),
    siaddr: parseIpv4('10.0.0.1'),
    giaddr: 0,
    chaddr: new Uint8Array([0, 0x0c, 0x29, 0x3a, 0xbc, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    sname: new Uint8Array(64),
    file: new Uint8Array(128),
    hasMagicCookie: true,
    options: new Map(options),
  };
}

const entries = (m: ReadonlyMap<number, Uint8Array>) => [...m.entries()];

// ---- hand-made vectors -------------------------------------------------------------------------

// A DISCOVER as ISC dhclient sends it: 53, 61, 55, 12, 57, End, zero padding to 300 bytes.
const DHCLIENT_DISCOVER = padTo(
  bytes(
    header({ xid: 0x3903f326, secs: 3 }),
    COOKIE,
    [53, 1, 1],
    [61, 7, 1, 0x00, 0x0c, 0x29, 0x3a, 0xbc, 0x01],
    [55, 13, 1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42],
    [12, 6],
    'debian',
    [57, 2, 0x05, 0xdc],
    255,
  ),
  300,
);

test('dhclient DISCOVER: header fields and options in wire order', () => {
  assert.equal(DHCLIENT_DISCOVER.length, 300);
  const p = decodeOk(DHCLIENT_DISCOVER);
  assert.equal(p.op, 1);
  assert.equal(p.htype, 1);
  assert.equal(p.hlen, 6);
  assert.equal(p.xid, 0x3903f326);
  assert.equal(p.secs, 3);
  assert.equal(p.flags, 0);
  assert.equal(p.ciaddr, 0);
  assert.equal(p.hasMagicCookie, true);
  assert.deepEqual(p.chaddr, new Uint8Array([0, 0x0c, 0x29, 0x3a, 0xbc, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(p.sname.length, 64);
  assert.equal(p.file.length, 128);
  assert.deepEqual([...p.options.keys()], [53, 61, 55, 12, 57]);
  assert.equal(getUint8Option(p.options, OPTION.messageType), 1);
  assert.equal(getStringOption(p.options, OPTION.hostName), 'debian');
  assert.equal(getUint16Option(p.options, OPTION.maxMessageSize), 1500);
  assert.deepEqual(
    getBytesOption(p.options, OPTION.clientId),
    new Uint8Array([1, 0x00, 0x0c, 0x29, 0x3a, 0xbc, 0x01]),
  );
  assert.deepEqual(
    [...getBytesOption(p.options, OPTION.parameterRequestList)!],
    [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42],
  );
});

test('dhclient DISCOVER re-encodes to the identical 300 bytes', () => {
  assert.deepEqual(encodeDhcp(decodeOk(DHCLIENT_DISCOVER)), DHCLIENT_DISCOVER);
});

test('decoded arrays are plain Uint8Array copies, never views of the input Buffer', () => {
  const input = Buffer.from(DHCLIENT_DISCOVER);
  const p = decodeOk(input);
  input.fill(0xee);
  assert.equal(Object.getPrototypeOf(p.chaddr), Uint8Array.prototype);
  assert.equal(Object.getPrototypeOf(p.options.get(12)!), Uint8Array.prototype);
  assert.equal(getStringOption(p.options, 12), 'debian');
  assert.equal(p.chaddr[1], 0x0c);
});

// A REQUEST relayed by a relay agent on 10.1.2.1 for the 10.20.0.0/24 link (RFC 3527 link
// selection) with RFC 5107 server-id override.
const RELAYED_REQUEST = padTo(
  bytes(
    header({ hops: 1, giaddr: '10.1.2.1', xid: 0x11223344 }),
    COOKIE,
    [53, 1, 3],
    [50, 4, ...ip('10.20.0.57')],
    [54, 4, ...ip('10.9.9.9')],
    [82, 2 + 5 + 2 + 6 + 2 + 4 + 2 + 4],
    [1, 5],
    'Gi0/1',
    [2, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff],
    [5, 4, ...ip('10.20.0.0')],
    [11, 4, ...ip('10.1.2.1')],
    255,
  ),
  300,
);

test('relayed REQUEST: option 82 sub-options, link selection, server-id override', () => {
  const p = decodeOk(RELAYED_REQUEST);
  assert.equal(p.hops, 1);
  assert.equal(p.giaddr, parseIpv4('10.1.2.1'));
  assert.deepEqual([...p.options.keys()], [53, 50, 54, 82]);
  const rai = parseRelayAgentInfo(p.options.get(OPTION.relayAgentInfo)!);
  assert.ok(rai);
  assert.deepEqual([...rai.keys()], [1, 2, 5, 11]);
  assert.equal(Buffer.from(rai.get(1)!).toString('latin1'), 'Gi0/1');
  assert.equal(linkSelectionOf(p.options), parseIpv4('10.20.0.0'));
  assert.equal(serverIdOverrideOf(p.options), parseIpv4('10.1.2.1'));
  assert.deepEqual(encodeDhcp(p), RELAYED_REQUEST);
});

test('overloaded file and sname: options continue in file, then sname (RFC 2132 §9.3, RFC 3396)', () => {
  // Option 119 is split three ways: options field, file, sname; RFC 3396 concatenates in that order.
  const file = new Uint8Array(128);
  file.set(bytes([119, 4, 3], 'com', [15, 11], 'example.com', 255));
  const sname = new Uint8Array(64);
  sname.set(bytes([119, 1, 0], [66, 4], 'tftp', 255));
  const b = padTo(
    bytes(header({ op: 2, file, sname }), COOKIE, [53, 1, 5], [52, 1, 3], [119, 8, 7], 'example', 255),
    300,
  );
  const p = decodeOk(b);
  assert.deepEqual([...p.options.keys()], [53, 119, 15, 66]);
  assert.deepEqual(p.options.get(119), bytes(7, 'example', 3, 'com', 0));
  assert.equal(getStringOption(p.options, 15), 'example.com');
  assert.equal(getStringOption(p.options, 66), 'tftp');
  assert.equal(p.options.has(52), false, 'option 52 is consumed');
  assert.deepEqual(p.file, new Uint8Array(128), 'an overloaded field holds no file name');
  assert.deepEqual(p.sname, new Uint8Array(64));
});

test('overload=1 reads only file; the sname field keeps its bytes', () => {
  const file = new Uint8Array(128);
  file.set(bytes([67, 10], 'pxelinux.0', 255));
  const sname = new Uint8Array(64);
  sname.set(bytes('boot-server'));
  const p = decodeOk(padTo(bytes(header({ op: 2, file, sname }), COOKIE, [52, 1, 1], 255), 300));
  assert.equal(getStringOption(p.options, 67), 'pxelinux.0');
  assert.equal(Buffer.from(p.sname.subarray(0, 11)).toString('latin1'), 'boot-server');
});

test('option 52 inside an overloaded field is ignored (it belongs in the options field only)', () => {
  const file = new Uint8Array(128);
  file.set(bytes([52, 1, 2], [12, 1], 'h', 255));
  const sname = new Uint8Array(64).fill(0x41);
  const p = decodeOk(padTo(bytes(header({ file, sname }), COOKIE, [52, 1, 1], 255), 300));
  assert.deepEqual([...p.options.keys()], [12]);
  assert.equal(p.sname[0], 0x41, 'sname was not read as options');
});

test('a 300-byte option arrives as 255 + 45 byte instances and is concatenated (RFC 3396)', () => {
  const data = Uint8Array.from({ length: 300 }, (_, i) => i & 255);
  const b = encodeDhcp(emptyPacket([[43, data]]), { maxSize: 1500 });
  assert.deepEqual([...b.subarray(240, 242)], [43, 255]);
  assert.deepEqual([...b.subarray(240 + 257, 240 + 259)], [43, 45]);
  assert.equal(b[240 + 257 + 47], 255, 'End follows the second instance');
  assert.deepEqual(decodeOk(b).options.get(43), data);
});

test('hand-made: three instances of one code with another option between them', () => {
  const b = padTo(
    bytes(header(), COOKIE, [43, 3, 1, 2, 3], [12, 2], 'ab', [43, 2, 4, 5], [43, 0], [43, 1, 6], 255),
    300,
  );
  const p = decodeOk(b);
  assert.deepEqual([...p.options.keys()], [43, 12]);
  assert.deepEqual(p.options.get(43), new Uint8Array([1, 2, 3, 4, 5, 6]));
});

test('pad options are skipped, bytes after End are ignored, zero-length options are kept', () => {
  const b = padTo(bytes(header(), COOKIE, 0, 0, [80, 0], 0, [53, 1, 1], 255, [12, 200, 1, 2, 3]), 300);
  const p = decodeOk(b);
  assert.deepEqual(entries(p.options), [
    [80, new Uint8Array(0)],
    [53, new Uint8Array([1])],
  ]);
});

test('unknown options are preserved byte for byte', () => {
  const weird = Uint8Array.from({ length: 37 }, (_, i) => (i * 37) & 255);
  const b = padTo(bytes(header(), COOKIE, [224, 37], weird, [254, 1, 9], 255), 300);
  const p = decodeOk(b);
  assert.deepEqual(p.options.get(224), weird);
  assert.deepEqual(p.options.get(254), new Uint8Array([9]));
  assert.deepEqual(encodeDhcp(p), b);
});

// ---- BOOTP -----------------------------------------------------------------------------------

test('plain BOOTP: no cookie, zero vend area → hasMagicCookie=false, no options', () => {
  const p = decodeOk(padTo(header(), 300));
  assert.equal(p.hasMagicCookie, false);
  assert.equal(p.options.size, 0);
  assert.equal(decodeOk(header()).hasMagicCookie, false, 'a bare 236-byte header is BOOTP too');
  const out = encodeDhcp(p);
  assert.equal(out.length, 300);
  assert.deepEqual(out, padTo(header(), 300));
});

test('BOOTP encode drops options and reports them', () => {
  const p = { ...emptyPacket([[1, new Uint8Array(4)]]), hasMagicCookie: false };
  const r = encodeDhcpReport(p);
  assert.deepEqual(r.droppedOptionCodes, [1]);
  assert.equal(r.bytes.length, 300);
});

// ---- errors ----------------------------------------------------------------------------------

test('error: too-short, with the datagram length as offset', () => {
  const e = decodeErr(new Uint8Array(235));
  assert.equal(e.reason, 'too-short');
  assert.equal(e.offset, 235);
  assert.equal(decodeErr(new Uint8Array(0)).reason, 'too-short');
});

test('error: too-long above 65507 bytes', () => {
  const b = padTo(bytes(header(), COOKIE, 255), 65508);
  const e = decodeErr(b);
  assert.equal(e.reason, 'too-long');
  assert.equal(e.offset, 65507);
  assert.ok(decodeDhcp(b.subarray(0, 65507)).ok);
});

test('error: bad-op and bad-hlen point at their header bytes', () => {
  for (const op of [0, 3, 255]) {
    const e = decodeErr(padTo(bytes(header({ op }), COOKIE, 255), 300));
    assert.deepEqual([e.reason, e.offset], ['bad-op', 0]);
  }
  const e = decodeErr(padTo(bytes(header({ hlen: 17 }), COOKIE, 255), 300));
  assert.deepEqual([e.reason, e.offset], ['bad-hlen', 2]);
  assert.ok(decodeDhcp(padTo(bytes(header({ hlen: 16 }), COOKIE, 255), 300)).ok);
});

test('error: bad-magic-cookie when the 4 bytes after the header are not the cookie', () => {
  const e = decodeErr(padTo(bytes(header(), [99, 130, 83, 98], 255), 300));
  assert.deepEqual([e.reason, e.offset], ['bad-magic-cookie', 236]);
  const e2 = decodeErr(bytes(header(), 1, 2));
  assert.equal(e2.reason, 'bad-magic-cookie', 'a non-zero stub too short for a cookie');
});

test('error: option-truncated when a code has no length byte', () => {
  const e = decodeErr(bytes(header(), COOKIE, [53, 1, 1], 12));
  assert.deepEqual([e.reason, e.offset], ['option-truncated', 243]);
});

test('error: option-overrun when the data runs past the area', () => {
  const e = decodeErr(bytes(header(), COOKIE, [53, 1, 1], [12, 10], 'ab'));
  assert.deepEqual([e.reason, e.offset], ['option-overrun', 243]);
  assert.match(e.message, /declares 10 bytes but only 2 remain/);
});

test('error: option-overrun inside an overloaded file field reports the absolute offset', () => {
  const file = new Uint8Array(128);
  file.set([12, 1, 0x41], 0);
  file.set([15, 200], 120);
  const e = decodeErr(padTo(bytes(header({ file }), COOKIE, [52, 1, 1], 255), 300));
  assert.deepEqual([e.reason, e.offset], ['option-overrun', 108 + 120]);
});

test('error: bad-overload for a value outside 1–3 or a wrong length', () => {
  for (const opt of [
    [52, 1, 0],
    [52, 1, 4],
    [52, 2, 1, 1],
    [52, 0],
  ]) {
    const e = decodeErr(padTo(bytes(header(), COOKIE, [53, 1, 1], opt, 255), 300));
    assert.deepEqual([e.reason, e.offset], ['bad-overload', 243]);
  }
});

test('missing End: accepted by default (like deployed servers), rejected with requireEnd', () => {
  const b = bytes(header(), COOKIE, [53, 1, 1], [12, 1, 0x68]);
  assert.equal(decodeOk(b).options.size, 2);
  const e = decodeErr(b, { requireEnd: true });
  assert.deepEqual([e.reason, e.offset], ['missing-end', b.length]);
  assert.ok(decodeDhcp(padTo(bytes(b, 255), 300), { requireEnd: true }).ok);
  // An overloaded file field without End.
  const file = new Uint8Array(128).fill(0);
  file.set([12, 1, 0x68]);
  const overloaded = padTo(bytes(header({ file }), COOKIE, [52, 1, 1], 255), 300);
  assert.ok(decodeDhcp(overloaded).ok);
  assert.equal(decodeErr(overloaded, { requireEnd: true }).reason, 'missing-end');
});

// ---- encoder ---------------------------------------------------------------------------------

test('encode pads to 300 bytes and writes the cookie and End', () => {
  const b = encodeDhcp(emptyPacket([[53, new Uint8Array([2])]]));
  assert.equal(b.length, 300);
  assert.deepEqual([...b.subarray(236, 244)], [...COOKIE, 53, 1, 2, 255]);
  assert.ok(b.subarray(244).every((x) => x === 0));
});

test('encode normalises chaddr/sname/file to their wire sizes', () => {
  const p = {
    ...emptyPacket(),
    chaddr: new Uint8Array([1, 2, 3, 4, 5, 6]),
    sname: bytes('srv'),
    file: new Uint8Array(200).fill(7),
  };
  const q = decodeOk(encodeDhcp(p));
  assert.deepEqual(q.chaddr, padTo(new Uint8Array([1, 2, 3, 4, 5, 6]), 16));
  assert.deepEqual(q.sname, padTo(bytes('srv'), 64));
  assert.deepEqual(q.file, new Uint8Array(128).fill(7));
});

test('default maxSize 576 keeps the message within 548 bytes (576 − IP − UDP headers) by overloading', () => {
  const opts: [number, Uint8Array][] = [
    [53, new Uint8Array([5])],
    [54, new Uint8Array([10, 0, 0, 1])],
    [43, new Uint8Array(290).fill(0x2b)],
    [67, bytes('a-long-bootfile-name-that-goes-somewhere-else.efi')],
    [15, bytes('example.com')],
  ];
  const r = encodeDhcpReport(emptyPacket(opts));
  assert.ok(r.bytes.length <= 548, `length ${r.bytes.length}`);
  assert.deepEqual(r.droppedOptionCodes, []);
  assert.ok(r.overload === 1 || r.overload === 3, `overload ${r.overload}`);
  assert.deepEqual([...r.bytes.subarray(240, 243)], [52, 1, r.overload], 'option 52 opens the options field');
  const q = decodeOk(r.bytes);
  assert.deepEqual(entries(q.options), opts);
  assert.deepEqual(q.file, new Uint8Array(128));
});

test('overloading keeps a short option in one piece rather than splitting it across fields', () => {
  // The options field has room for 53 + 43(290) + part of 67; 67 must move whole into file.
  const bootfile = bytes('x'.repeat(40));
  const r = encodeDhcpReport(
    emptyPacket([
      [53, new Uint8Array([5])],
      [43, new Uint8Array(290)],
      [67, bootfile],
    ]),
  );
  assert.equal(r.overload, 1);
  assert.deepEqual([...r.bytes.subarray(108, 110)], [67, 40], 'option 67 starts the file field');
  assert.equal(r.bytes[108 + 42], 255, 'End closes the file field');
});

test('options too big for every area are dropped from where they do not fit; later small ones still go', () => {
  const opts: [number, Uint8Array][] = [
    [53, new Uint8Array([5])],
    [43, new Uint8Array(1000)],
    [12, bytes('host')],
  ];
  const r = encodeDhcpReport(emptyPacket(opts));
  assert.deepEqual(r.droppedOptionCodes, [43]);
  assert.equal(r.overload, 0, 'no overload when nothing more fits by it');
  assert.deepEqual([...decodeOk(r.bytes).options.keys()], [53, 12]);
});

test('a large option is split across options field, file and sname when that makes it fit', () => {
  const big = Uint8Array.from({ length: 450 }, (_, i) => (i * 7) & 255);
  const r = encodeDhcpReport(
    emptyPacket([
      [53, new Uint8Array([5])],
      [125, big],
    ]),
  );
  assert.deepEqual(r.droppedOptionCodes, []);
  assert.equal(r.overload, 3);
  assert.ok(r.bytes.length <= 548);
  assert.deepEqual(decodeOk(r.bytes).options.get(125), big);
});

test('no overload when file or sname carry data: options that do not fit are dropped', () => {
  const p = {
    ...emptyPacket([
      [53, new Uint8Array([5])],
      [43, new Uint8Array(400)],
    ]),
    file: padTo(bytes('boot.efi'), 128),
  };
  const r = encodeDhcpReport(p);
  assert.equal(r.overload, 0);
  assert.deepEqual(r.droppedOptionCodes, [43]);
  assert.equal(getUint8Option(decodeOk(r.bytes).options, 53), 5);
});

/** The option codes of the options field itself (not file/sname), in wire order, up to End. */
function optionsFieldCodes(wire: Uint8Array): number[] {
  const codes: number[] = [];
  for (let i = 240; i < wire.length && wire[i] !== 255; ) {
    if (wire[i] === 0) {
      i++;
      continue;
    }
    codes.push(wire[i]!);
    i += 2 + wire[i + 1]!;
  }
  return codes;
}

test('relay agent information (82) keeps its room: options that fill the message go first; it is last in the options field (RFC 3046 §2.2)', () => {
  const rai = bytes(1, 8, 'circuit1', 2, 30, 'r'.repeat(30));
  // 43 nearly fills the options field, 66 the file field and 67 sname: nothing is left for 82.
  const opts: [number, Uint8Array][] = [
    [53, bytes(2)],
    [54, bytes(10, 0, 0, 1)],
    [43, new Uint8Array(290).fill(0x2b)],
    [66, bytes('t'.repeat(120))],
    [67, bytes('f'.repeat(60))],
    [82, rai],
  ];
  const r = encodeDhcpReport(emptyPacket(opts));
  assert.ok(r.bytes.length <= 548, `length ${r.bytes.length}`);
  assert.ok(!r.droppedOptionCodes.includes(82), `dropped ${r.droppedOptionCodes}`);
  assert.deepEqual(decodeOk(r.bytes).options.get(82), rai);
  // Servers SHALL NOT place it in the overloaded sname or file fields, and SHOULD put it last.
  assert.equal(optionsFieldCodes(r.bytes).at(-1), 82);
  // When everything fits, it is still the last option, wherever the map has it.
  const small = encodeDhcpReport(
    emptyPacket([
      [53, bytes(2)],
      [82, rai],
      [54, bytes(10, 0, 0, 1)],
    ]),
  );
  assert.deepEqual(optionsFieldCodes(small.bytes), [53, 54, 82]);
});

test('a relay agent information option too long for the options field is left out and reported, never moved to file/sname', () => {
  const rai = new Uint8Array(310).fill(0x82);
  const r = encodeDhcpReport(
    emptyPacket([
      [53, bytes(2)],
      [82, rai],
      [12, bytes('host')],
    ]),
  );
  assert.deepEqual(r.droppedOptionCodes, [82]);
  assert.equal(r.overload, 0);
  assert.deepEqual(optionsFieldCodes(r.bytes), [53, 12]);
});

test('the client maximum message size (option 57) lifts the limit', () => {
  const p = emptyPacket([[43, new Uint8Array(1000)]]);
  const r = encodeDhcpReport(p, { maxSize: 1500 });
  assert.deepEqual(r.droppedOptionCodes, []);
  assert.equal(r.overload, 0);
  assert.ok(r.bytes.length <= 1472);
  // Below the legal minimum (RFC 2132 §9.10) is read as 576.
  assert.equal(encodeDhcpReport(p, { maxSize: 100 }).bytes.length <= 548, true);
});

test('unsendable codes are dropped and reported (0, 52, 255, out of range)', () => {
  const r = encodeDhcpReport(
    emptyPacket([
      [0, new Uint8Array(1)],
      [52, new Uint8Array([1])],
      [53, new Uint8Array([5])],
      [255, new Uint8Array(0)],
      [300, new Uint8Array(1)],
    ]),
  );
  assert.deepEqual(r.droppedOptionCodes, [0, 52, 255, 300]);
  assert.deepEqual([...decodeOk(r.bytes).options.keys()], [53]);
});

test('encode results do not alias the encoder scratch buffer', () => {
  const a = encodeDhcp(emptyPacket([[12, bytes('first')]]));
  const copy = a.slice();
  encodeDhcp(emptyPacket([[12, bytes('second-and-longer')]]));
  assert.deepEqual(a, copy);
});

// ---- properties ------------------------------------------------------------------------------

const arbCode = fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52);

const arbPacket = (maxOptionLength: number, maxOptions: number) =>
  fc.record({
    op: fc.constantFrom(1, 2),
    htype: fc.integer({ min: 0, max: 255 }),
    hlen: fc.integer({ min: 0, max: 16 }),
    hops: fc.integer({ min: 0, max: 255 }),
    xid: fc.integer({ min: 0, max: 0xffffffff }),
    secs: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.integer({ min: 0, max: 0xffff }),
    ciaddr: fc.integer({ min: 0, max: 0xffffffff }),
    yiaddr: fc.integer({ min: 0, max: 0xffffffff }),
    siaddr: fc.integer({ min: 0, max: 0xffffffff }),
    giaddr: fc.integer({ min: 0, max: 0xffffffff }),
    chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    sname: fc.oneof(fc.constant(new Uint8Array(64)), fc.uint8Array({ minLength: 64, maxLength: 64 })),
    file: fc.oneof(fc.constant(new Uint8Array(128)), fc.uint8Array({ minLength: 128, maxLength: 128 })),
    hasMagicCookie: fc.boolean(),
    optionList: fc.uniqueArray(fc.tuple(arbCode, fc.uint8Array({ maxLength: maxOptionLength })), {
      selector: ([code]) => code,
      maxLength: maxOptions,
    }),
  });

function toPacket(r: Omit<DhcpPacket, 'options'> & { optionList: [number, Uint8Array][] }): DhcpPacket {
  const { optionList, ...rest } = r;
  return { ...rest, options: new Map(rest.hasMagicCookie ? optionList : []) };
}

/** Options in the order the encoder writes them: map order, relay agent information (82) last. */
function wireOrder(m: ReadonlyMap<number, Uint8Array>): [number, Uint8Array][] {
  const all = entries(m);
  return [...all.filter(([c]) => c !== 82), ...all.filter(([c]) => c === 82)];
}

function assertSamePacket(actual: DhcpPacket, expected: DhcpPacket): void {
  const { options: a, ...ah } = actual;
  const { options: e, ...eh } = expected;
  assert.deepEqual(ah, eh);
  assert.deepEqual(entries(a), wireOrder(e), 'options, in order');
}

test('property: decode(encode(p)) ≡ p when the message size allows everything', () => {
  fc.assert(
    fc.property(arbPacket(700, 12), (r) => {
      const p = toPacket(r);
      const report = encodeDhcpReport(p, { maxSize: 65535 });
      assert.deepEqual(report.droppedOptionCodes, []);
      assertSamePacket(decodeOk(report.bytes), p);
    }),
    { numRuns: 500 },
  );
});

test('property: at the default size, decode(encode(p)) ≡ p minus exactly the reported dropped options', () => {
  fc.assert(
    fc.property(arbPacket(300, 8), (r) => {
      const p = toPacket(r);
      const report = encodeDhcpReport(p);
      assert.ok(report.bytes.length >= 300 && report.bytes.length <= 548);
      const expected = new Map([...p.options].filter(([code]) => !report.droppedOptionCodes.includes(code)));
      assertSamePacket(decodeOk(report.bytes), { ...p, options: expected });
      // Nothing dropped needlessly: each dropped option alone is bigger than the free space left.
      if (report.droppedOptionCodes.length > 0 && report.overload === 0) {
        const free = 548 - report.bytes.length;
        for (const code of report.droppedOptionCodes) assert.ok(p.options.get(code)!.length + 2 > free);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: encoding is canonical — encode(decode(encode(p))) is byte-identical', () => {
  fc.assert(
    fc.property(arbPacket(400, 10), fc.constantFrom(576, 1500, 65535), (r, maxSize) => {
      const b1 = encodeDhcp(toPacket(r), { maxSize });
      assert.deepEqual(encodeDhcp(decodeOk(b1), { maxSize }), b1);
    }),
    { numRuns: 300 },
  );
});

test('throughput sanity: encode and decode a DISCOVER/OFFER pair ≥ 20k times per second', () => {
  const offer = emptyPacket([
    [53, new Uint8Array([2])],
    [54, new Uint8Array([10, 0, 0, 1])],
    [51, new Uint8Array([0, 1, 81, 128])],
    [1, new Uint8Array([255, 255, 255, 0])],
    [3, new Uint8Array([10, 0, 0, 1])],
    [6, new Uint8Array([10, 0, 0, 53, 10, 0, 1, 53])],
    [15, bytes('example.com')],
  ]);
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    decodeDhcp(DHCLIENT_DISCOVER);
    encodeDhcp(offer);
  }
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(seconds < 1, `${n} decode+encode pairs took ${seconds.toFixed(3)} s`);
});
