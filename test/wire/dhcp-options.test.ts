import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeOptionValue,
  encodeOptionValue,
  encodeRelayAgentInfo,
  getBytesOption,
  getIpv4Option,
  getStringOption,
  getUint8Option,
  getUint16Option,
  getUint32Option,
  linkSelectionOf,
  OPTION,
  OPTION_CATALOGUE,
  type OptionType,
  type OptionValue,
  optionByCode,
  optionByName,
  parseClientFqdn,
  parseRelayAgentInfo,
  RELAY_AGENT_SUBOPTIONS,
  relayAgentSubOption,
  serverIdOverrideOf,
  subnetSelectionOf,
} from '../../src/wire/dhcp-options.js';
import { formatIpv4, parseIpv4, prefixToMask, toHex } from '../../src/wire/ipv4.js';

function encoded(codeOrName: number | string, value: OptionValue): Uint8Array {
  const r = encodeOptionValue(codeOrName, value);
  if (!r.ok) assert.fail(r.message);
  return r.data;
}

function encodeError(codeOrName: number | string, value: OptionValue): string {
  const r = encodeOptionValue(codeOrName, value);
  if (r.ok) assert.fail(`expected an error, got ${toHex(r.data)}`);
  return r.message;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

// ---- catalogue -------------------------------------------------------------------------------

test('catalogue: codes and names are unique, OPTION and lookups agree', () => {
  const codes = new Set(OPTION_CATALOGUE.map((d) => d.code));
  const names = new Set(OPTION_CATALOGUE.map((d) => d.name));
  assert.equal(codes.size, OPTION_CATALOGUE.length);
  assert.equal(names.size, OPTION_CATALOGUE.length);
  for (const d of OPTION_CATALOGUE) {
    assert.ok(d.code >= 1 && d.code <= 254);
    assert.match(d.name, /^[a-z][A-Za-z0-9]*$/);
    assert.equal((OPTION as Record<string, number>)[d.name], d.code);
    assert.equal(optionByCode(d.code), d);
    assert.equal(optionByName(d.name), d);
  }
  assert.equal(Object.keys(OPTION).length, OPTION_CATALOGUE.length);
  assert.equal(optionByCode(0), undefined);
  assert.equal(optionByCode(224), undefined);
  assert.equal(optionByName('nope'), undefined);
});

test('catalogue: the codes the engine and config rely on', () => {
  const expected: Record<string, [number, OptionType]> = {
    subnetMask: [1, 'ipv4'],
    timeOffset: [2, 'int32'],
    routers: [3, 'ipv4List'],
    timeServers: [4, 'ipv4List'],
    domainNameServers: [6, 'ipv4List'],
    logServers: [7, 'ipv4List'],
    hostName: [12, 'string'],
    domainName: [15, 'string'],
    interfaceMtu: [26, 'uint16'],
    broadcastAddress: [28, 'ipv4'],
    staticRoutes: [33, 'ipv4PairList'],
    ntpServers: [42, 'ipv4List'],
    vendorSpecific: [43, 'bytes'],
    netbiosNameServers: [44, 'ipv4List'],
    netbiosNodeType: [46, 'uint8'],
    requestedAddress: [50, 'ipv4'],
    leaseTime: [51, 'uint32'],
    overload: [52, 'uint8'],
    messageType: [53, 'uint8'],
    serverIdentifier: [54, 'ipv4'],
    parameterRequestList: [55, 'uint8List'],
    message: [56, 'string'],
    maxMessageSize: [57, 'uint16'],
    renewalTime: [58, 'uint32'],
    rebindingTime: [59, 'uint32'],
    vendorClassId: [60, 'string'],
    clientId: [61, 'bytes'],
    tftpServerName: [66, 'string'],
    bootfileName: [67, 'string'],
    userClass: [77, 'userClass'],
    clientFqdn: [81, 'fqdn'],
    relayAgentInfo: [82, 'relayAgentInfo'],
    subnetSelection: [118, 'ipv4'],
    domainSearch: [119, 'domainList'],
    classlessStaticRoutes: [121, 'classlessRoutes'],
    vivso: [125, 'vivso'],
  };
  for (const [name, [code, type]] of Object.entries(expected)) {
    const d = optionByName(name);
    assert.ok(d, name);
    assert.deepEqual([d.code, d.type], [code, type], name);
  }
});

test('catalogue: every example encodes, and decodes to a value that re-encodes to the same bytes', () => {
  for (const d of OPTION_CATALOGUE) {
    const data = encoded(d.name, d.example);
    const value = decodeOptionValue(d.code, data);
    assert.deepEqual(encoded(d.code, value), data, d.name);
  }
});

test('docs/dhcp-options.md lists every catalogue entry with its code and type', () => {
  const doc = readFileSync(new URL('../../docs/dhcp-options.md', import.meta.url), 'utf8');
  for (const d of OPTION_CATALOGUE) {
    assert.ok(
      doc.includes(`| ${d.code} | \`${d.name}\` | ${d.type} |`),
      `${d.code} ${d.name} missing from docs`,
    );
  }
  for (const s of RELAY_AGENT_SUBOPTIONS)
    assert.ok(doc.includes(`\`${s.name}\``), `sub-option ${s.name} missing from docs`);
});

// ---- encoding: bytes and messages ------------------------------------------------------------

test('encode: scalar and list types to exact bytes', () => {
  assert.deepEqual(encoded('subnetMask', '255.255.255.0'), new Uint8Array([255, 255, 255, 0]));
  assert.deepEqual(encoded('routers', '10.0.0.1, 10.0.0.2'), new Uint8Array([10, 0, 0, 1, 10, 0, 0, 2]));
  assert.deepEqual(encoded('routers', ['10.0.0.1', '10.0.0.2']), new Uint8Array([10, 0, 0, 1, 10, 0, 0, 2]));
  assert.deepEqual(encoded('routers', '10.0.0.1 10.0.0.2'), new Uint8Array([10, 0, 0, 1, 10, 0, 0, 2]));
  assert.deepEqual(encoded('timeOffset', -1), new Uint8Array([255, 255, 255, 255]));
  assert.deepEqual(encoded('leaseTime', '86400'), new Uint8Array([0, 1, 81, 128]));
  assert.deepEqual(encoded('interfaceMtu', 1500), new Uint8Array([5, 220]));
  assert.deepEqual(encoded('netbiosNodeType', '0x8'), new Uint8Array([8]));
  assert.deepEqual(encoded('ipForwarding', 'on'), new Uint8Array([1]));
  assert.deepEqual(encoded('ipForwarding', false), new Uint8Array([0]));
  assert.deepEqual(encoded('parameterRequestList', '1, 3, 6'), new Uint8Array([1, 3, 6]));
  assert.deepEqual(encoded('parameterRequestList', [1, '3', 6]), new Uint8Array([1, 3, 6]));
  assert.deepEqual(encoded('pathMtuPlateauTable', '1500 576'), new Uint8Array([5, 220, 2, 64]));
  assert.deepEqual(
    encoded('staticRoutes', '10.20.0.0 10.0.0.254'),
    new Uint8Array([10, 20, 0, 0, 10, 0, 0, 254]),
  );
  assert.deepEqual(encoded('hostName', 'Zürich'), new TextEncoder().encode('Zürich'));
  assert.deepEqual(
    encoded('clientId', '01:00:11:22:33:44:55'),
    new Uint8Array([1, 0, 0x11, 0x22, 0x33, 0x44, 0x55]),
  );
  assert.deepEqual(encoded('vendorSpecific', [1, 2, 255]), new Uint8Array([1, 2, 255]));
  assert.deepEqual(encoded('rapidCommit', 'hex:'), new Uint8Array(0));
});

test('encode: "hex:" works for every option, catalogued or not; unknown codes need it', () => {
  assert.deepEqual(encoded('routers', 'hex:0a000001'), new Uint8Array([10, 0, 0, 1]));
  assert.deepEqual(encoded(224, 'HEX:01 02-03:04'), new Uint8Array([1, 2, 3, 4]));
  assert.match(encodeError(224, 'abc'), /^option 224: not in the catalogue; give the value as hex/);
});

test('encode: precise messages', () => {
  const cases: [number | string, OptionValue, string][] = [
    ['routers', '10.0.0.1, 10.0.0.300', "routers: '10.0.0.300' is not an IPv4 address"],
    ['routers', '', 'routers: at least one IPv4 address is required'],
    ['routers', 42, 'routers: expected an IPv4 address, got number 42'],
    ['subnetMask', true, 'subnetMask: expected an IPv4 address, got boolean true'],
    ['leaseTime', -5, 'leaseTime: -5 is not an integer in 0–4294967295'],
    ['leaseTime', '1 day', "leaseTime: '1 day' is not an integer"],
    ['interfaceMtu', 70000, 'interfaceMtu: 70000 is not an integer in 0–65535'],
    ['parameterRequestList', '1, 300', "parameterRequestList: '300' is not an integer in 0–255"],
    ['ipForwarding', 'maybe', "ipForwarding: 'maybe' is not a boolean (true/false)"],
    ['hostName', '', 'hostName: must not be empty'],
    ['hostName', 'a\nb', 'hostName: control character U+000A at index 1; give binary data as hex:…'],
    ['clientId', 'xyz', "clientId: 'xyz' is not hex (e.g. hex:01aabbccddeeff)"],
    ['clientId', 'hex:abc', "clientId: 'hex:abc' has an odd number of hex digits"],
    [
      'staticRoutes',
      '10.0.0.0',
      "staticRoutes: '10.0.0.0' is not a pair of IPv4 addresses separated by a space",
    ],
    [
      'domainSearch',
      'exa!mple.com',
      "domainSearch: 'exa!mple.com' is not a domain name (label 'exa!mple': 1–63 of letters, digits, '-', '_')",
    ],
    ['domainSearch', 'a..b', "domainSearch: 'a..b' is not a domain name (empty label)"],
    [
      'classlessStaticRoutes',
      '10.0.0.1/8 10.0.0.254',
      "classlessStaticRoutes: '10.0.0.1/8 10.0.0.254' has host bits set (did you mean 10.0.0.0/8?)",
    ],
    [
      'classlessStaticRoutes',
      '10.0.0.0/33 1.2.3.4',
      "classlessStaticRoutes: '10.0.0.0/33 1.2.3.4' has prefix length 33 (0–32)",
    ],
    [
      'classlessStaticRoutes',
      '10.0.0.0 1.2.3.4',
      "classlessStaticRoutes: '10.0.0.0 1.2.3.4' is not '<network>/<prefix> <router>'",
    ],
    [
      'clientFqdn',
      { flags: 'SN', name: 'a' },
      'clientFqdn: flags N and S cannot both be set (RFC 4702 §2.1)',
    ],
    ['clientFqdn', { flags: 'X', name: 'a' }, "clientFqdn: flags 'X' must be letters from S, O, E, N"],
    [
      'relayAgentInfo',
      { circuit: 'x' },
      "relayAgentInfo: unknown sub-option 'circuit' (known: circuitId, remoteId",
    ],
    [
      'relayAgentInfo',
      { linkSelection: '10.0.0.256' },
      "relayAgentInfo.linkSelection: '10.0.0.256' is not an IPv4 address",
    ],
    ['vivso', '4491 zz', "vivso: 'zz' is not hex"],
    ['vivso', 'acme hex:01', "vivso: 'acme hex:01' is not '<enterprise-number> hex:<data>'"],
    ['userClass', ['ok', ''], 'userClass entry 1: must not be empty'],
    ['userClass', ['ok', 'x'.repeat(256)], 'userClass entry 1: 256 bytes; each user class is 1–255 bytes'],
    ['rooters', '10.0.0.1', "unknown option name 'rooters' (did you mean 'routers'?)"],
    ['completelyUnknown', '1', "unknown option name 'completelyUnknown'"],
    [0, 'hex:00', 'option code 0 is outside 1–254'],
    [255, 'hex:00', 'option code 255 is outside 1–254'],
  ];
  for (const [option, value, message] of cases) {
    const actual = encodeError(option, value);
    if (message.endsWith('remoteId') || message.endsWith('is not hex')) {
      assert.ok(actual.startsWith(message), `${actual}\n  does not start with\n${message}`);
    } else assert.equal(actual, message);
  }
});

test('encode: RFC 3442 classless routes carry only the significant destination octets', () => {
  assert.deepEqual(
    encoded('classlessStaticRoutes', '10.0.0.0/8 10.1.1.1'),
    new Uint8Array([8, 10, 10, 1, 1, 1]),
  );
  assert.deepEqual(encoded('classlessStaticRoutes', '0.0.0.0/0 10.0.0.1'), new Uint8Array([0, 10, 0, 0, 1]));
  assert.deepEqual(
    encoded('classlessStaticRoutes', ['10.17.0.0/16 10.0.0.1', '10.27.129.0/24 - 10.0.0.2']),
    new Uint8Array([16, 10, 17, 10, 0, 0, 1, 24, 10, 27, 129, 10, 0, 0, 2]),
  );
  assert.deepEqual(
    encoded('classlessStaticRoutes', '10.229.0.128/25 10.229.0.1'),
    new Uint8Array([25, 10, 229, 0, 128, 10, 229, 0, 1]),
  );
});

test('encode: domain search list in RFC 1035 wire form, uncompressed', () => {
  assert.deepEqual(
    encoded('domainSearch', 'eng.apple.com., marketing.apple.com'),
    ascii('\x03eng\x05apple\x03com\x00\x09marketing\x05apple\x03com\x00'),
  );
});

test('encode: client FQDN (RFC 4702) in canonical wire form or ASCII', () => {
  assert.deepEqual(
    encoded('clientFqdn', 'host.example.com.'),
    ascii('\x04\xff\xff\x04host\x07example\x03com\x00'),
  );
  assert.deepEqual(
    encoded('clientFqdn', { flags: 'SE', rcode1: 0, rcode2: 0, name: 'host' }),
    ascii('\x05\x00\x00\x04host'),
  );
  assert.deepEqual(
    encoded('clientFqdn', { flags: 'S', rcode1: 0, rcode2: 0, name: 'host.example.com' }),
    ascii('\x01\x00\x00host.example.com'),
  );
  assert.deepEqual(encoded('clientFqdn', { flags: 'N', name: '' }), new Uint8Array([8, 255, 255]));
});

test('encode: vivso and user class', () => {
  assert.deepEqual(
    encoded('vivso', '4491 hex:0102, 311 hex:'),
    new Uint8Array([0, 0, 0x11, 0x8b, 2, 1, 2, 0, 0, 1, 0x37, 0]),
  );
  assert.deepEqual(
    encoded('vivso', [{ enterpriseNumber: 4491, data: 'hex:0102' }]),
    new Uint8Array([0, 0, 0x11, 0x8b, 2, 1, 2]),
  );
  assert.deepEqual(encoded('userClass', 'iPXE, gPXE'), ascii('\x04iPXE\x04gPXE'));
  assert.deepEqual(encoded('userClass', ['hex:00ff', 'a,b']), ascii('\x02\x00\xff\x03a,b'));
});

test('encode: relay agent information from an object of sub-options', () => {
  const data = encoded('relayAgentInfo', {
    circuitId: 'Gi0/1',
    remoteId: 'hex:aabbcc',
    linkSelection: '10.20.0.0',
    relayPort: true,
    sub200: 'hex:01',
  });
  assert.deepEqual(
    data,
    ascii('\x01\x05Gi0/1\x02\x03\xaa\xbb\xcc\x05\x04\x0a\x14\x00\x00\x13\x00\xc8\x01\x01'),
  );
  assert.match(encodeError('relayAgentInfo', { circuitId: 'a', sub1: 'hex:01' }), /sub-option 1 given twice/);
  assert.match(encodeError('relayAgentInfo', '10.0.0.1'), /expected an object of sub-options/);
});

// ---- decoding --------------------------------------------------------------------------------

test('decode: typed values for well-formed data', () => {
  assert.equal(decodeOptionValue(1, new Uint8Array([255, 255, 0, 0])), '255.255.0.0');
  assert.deepEqual(decodeOptionValue(6, new Uint8Array([10, 0, 0, 53, 10, 0, 1, 53])), [
    '10.0.0.53',
    '10.0.1.53',
  ]);
  assert.equal(decodeOptionValue(2, new Uint8Array([0xff, 0xff, 0xb9, 0xb0])), -18000);
  assert.equal(decodeOptionValue(51, new Uint8Array([0xff, 0xff, 0xff, 0xff])), 0xffffffff);
  assert.equal(decodeOptionValue(19, new Uint8Array([1])), true);
  assert.equal(decodeOptionValue(12, ascii('printer\x00\x00')), 'printer', 'trailing NULs stripped');
  assert.deepEqual(decodeOptionValue(55, new Uint8Array([1, 3, 6])), [1, 3, 6]);
  assert.equal(decodeOptionValue(61, new Uint8Array([1, 0xaa])), 'hex:01aa');
});

test('decode: RFC 3397 compressed search list', () => {
  // "eng.apple.com", then "marketing" + pointer to offset 4 ("apple.com").
  const data = ascii('\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04');
  assert.deepEqual(decodeOptionValue(119, data), ['eng.apple.com', 'marketing.apple.com']);
  // Re-encoding writes it uncompressed; the value is the same.
  assert.deepEqual(decodeOptionValue(119, encoded(119, decodeOptionValue(119, data))), [
    'eng.apple.com',
    'marketing.apple.com',
  ]);
});

test('decode: hostile compression pointers (self, forward, loops) fall back to hex', () => {
  const hostile = [
    ascii('\xc0\x00'), // points at itself
    ascii('\x03abc\xc0\x00'), // points back into its own name → loop
    ascii('\x03abc\x00\xc0\x07'), // forward pointer
    ascii('\x03abc\x00\x01x\xc0\x05'), // points into the second name itself
    ascii('\x03abc'), // no terminator
    ascii('\x00'), // root only
    ascii('\x40abc'), // reserved label type
  ];
  for (const data of hostile) assert.equal(decodeOptionValue(119, data), `hex:${toHex(data)}`);
});

test('decode: malformed data falls back to hex', () => {
  const cases: [number, number[]][] = [
    [1, [255, 255, 255]],
    [3, [10, 0, 0, 1, 10]],
    [3, []],
    [19, [2]],
    [26, [5]],
    [25, [5, 220, 2]],
    [121, [33, 1, 2, 3, 4, 5, 6, 7, 8]],
    [121, [8, 10, 10, 1, 1]],
    [121, [7, 0x0b, 10, 1, 1, 1]], // host bits set in 11.0.0.0/7
    [77, [5, 0x61]],
    [77, [0]],
    [125, [0, 0, 0x11, 0x8b, 3, 1]],
    [81, [0x10, 0, 0]],
    [81, [0x09, 0, 0]],
    [81, [0x04, 0, 0, 3, 0x61]],
    [81, [0x04, 0, 0, 0xc0, 0x00]],
    [82, [1, 5, 0x61]],
    [82, [1, 1, 0x61, 1, 1, 0x62]],
    [12, [0x61, 0x0a, 0x62]],
    [12, [0xc3, 0x28]],
    [12, [...ascii('hex:0a')]], // text that would read back as hex
  ];
  for (const [code, bytes] of cases) {
    const data = new Uint8Array(bytes);
    assert.equal(decodeOptionValue(code, data), `hex:${toHex(data)}`, `option ${code} ${toHex(data)}`);
  }
  assert.equal(decodeOptionValue(224, new Uint8Array([1, 2])), 'hex:0102', 'unknown code');
});

test('decode: relay agent information into named sub-options', () => {
  const data = encodeRelayAgentInfo([
    [1, ascii('Gi0/1')],
    [2, new Uint8Array([0xaa, 0, 0xcc])],
    [5, new Uint8Array([10, 20, 0, 0])],
    [10, new Uint8Array([1])],
    [11, new Uint8Array([10, 1, 2, 1])],
    [19, new Uint8Array(0)],
    [200, new Uint8Array([7])],
  ]);
  assert.deepEqual(decodeOptionValue(82, data), {
    circuitId: 'Gi0/1',
    remoteId: 'hex:aa00cc',
    linkSelection: '10.20.0.0',
    relayAgentFlags: 1,
    serverIdOverride: '10.1.2.1',
    relayPort: true,
    sub200: 'hex:07',
  });
});

// ---- getters ---------------------------------------------------------------------------------

test('getters: exact lengths or null', () => {
  const m = new Map<number, Uint8Array>([
    [50, new Uint8Array([10, 0, 0, 42])],
    [53, new Uint8Array([3])],
    [57, new Uint8Array([5, 220])],
    [51, new Uint8Array([0, 0, 14, 16])],
    [54, new Uint8Array([10, 0, 0])],
    [12, ascii('laptop\x00')],
    [15, new TextEncoder().encode('bücher.example')],
    [118, new Uint8Array([10, 9, 0, 0])],
  ]);
  assert.equal(getIpv4Option(m, 50), parseIpv4('10.0.0.42'));
  assert.equal(getIpv4Option(m, 54), null, 'three bytes is not an address');
  assert.equal(getIpv4Option(m, 99), null);
  assert.equal(getUint8Option(m, 53), 3);
  assert.equal(getUint8Option(m, 57), null);
  assert.equal(getUint16Option(m, 57), 1500);
  assert.equal(getUint32Option(m, 51), 3600);
  assert.equal(getUint32Option(m, 53), null);
  assert.equal(getStringOption(m, 12), 'laptop');
  assert.equal(getStringOption(m, 15), 'bücher.example');
  assert.equal(getStringOption(m, 13), null);
  assert.deepEqual(getBytesOption(m, 53), new Uint8Array([3]));
  assert.equal(getBytesOption(m, 1), null);
  assert.equal(subnetSelectionOf(m), parseIpv4('10.9.0.0'));
  assert.equal(linkSelectionOf(m), null);
});

test('relay agent info: parse, build, link selection, first value wins on repeats', () => {
  const data = encodeRelayAgentInfo(
    new Map([
      [1, ascii('eth0')],
      [5, new Uint8Array([10, 20, 0, 0])],
    ]),
  );
  const parsed = parseRelayAgentInfo(data);
  assert.deepEqual(
    [...parsed!.entries()],
    [
      [1, ascii('eth0')],
      [5, new Uint8Array([10, 20, 0, 0])],
    ],
  );
  assert.equal(linkSelectionOf(new Map([[82, data]])), parseIpv4('10.20.0.0'));
  assert.equal(serverIdOverrideOf(new Map([[82, data]])), null);
  assert.equal(parseRelayAgentInfo(new Uint8Array([1, 5, 0x61])), null);
  assert.equal(parseRelayAgentInfo(new Uint8Array([1])), null);
  assert.deepEqual(parseRelayAgentInfo(new Uint8Array(0)), new Map());
  const repeated = new Uint8Array([5, 4, 1, 1, 1, 1, 5, 4, 2, 2, 2, 2]);
  assert.deepEqual(parseRelayAgentInfo(repeated)!.get(5), new Uint8Array([1, 1, 1, 1]));
  assert.equal(linkSelectionOf(new Map([[82, repeated]])), parseIpv4('1.1.1.1'));
  assert.equal(linkSelectionOf(new Map([[82, new Uint8Array([5, 3, 1, 1, 1])]])), null, 'wrong length');
  assert.equal(linkSelectionOf(new Map([[82, new Uint8Array([1, 9, 1])]])), null, 'malformed');
  assert.equal(relayAgentSubOption(data, 2), null);
  assert.throws(() => encodeRelayAgentInfo([[1, new Uint8Array(256)]]), RangeError);
});

test('parseClientFqdn: wire and ASCII forms', () => {
  assert.deepEqual(parseClientFqdn(ascii('\x05\x00\x00\x04host\x07example\x03com\x00')), {
    flags: 5,
    rcode1: 0,
    rcode2: 0,
    name: 'host.example.com',
    isFullyQualified: true,
  });
  assert.deepEqual(parseClientFqdn(ascii('\x04\x00\x00\x04host')), {
    flags: 4,
    rcode1: 0,
    rcode2: 0,
    name: 'host',
    isFullyQualified: false,
  });
  assert.deepEqual(parseClientFqdn(ascii('\x00\x00\x00host.example.com.')), {
    flags: 0,
    rcode1: 0,
    rcode2: 0,
    name: 'host.example.com',
    isFullyQualified: true,
  });
  assert.equal(parseClientFqdn(ascii('\x04\x00')), null);
  assert.equal(parseClientFqdn(ascii('\x04\x00\x00\x00\x01a')), null, 'data after the root label');
});

// ---- properties ------------------------------------------------------------------------------

const arbIpv4 = fc.integer({ min: 0, max: 0xffffffff }).map(formatIpv4);
const arbLabel = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
const arbDomain = fc.array(arbLabel, { minLength: 1, maxLength: 6 }).map((labels) => labels.join('.'));
const isText = (s: string) => s !== '' && !/[\u0000-\u001f\u007f]/.test(s) && !/^hex:/i.test(s);
const arbText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter(isText);
/** Bytes that do not read as text (a leading control byte), as the decoder prints them. */
const arbBinaryHex = fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => `hex:01${toHex(b)}`);
const arbHex = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => `hex:${toHex(b)}`);

const arbRelayAgentInfo = fc
  .uniqueArray(
    fc.oneof(
      fc.record({ key: fc.constant('circuitId'), value: fc.oneof(arbText, arbBinaryHex) }),
      fc.record({ key: fc.constant('remoteId'), value: fc.oneof(arbText, arbBinaryHex) }),
      fc.record({ key: fc.constant('subscriberId'), value: arbText }),
      fc.record({ key: fc.constant('linkSelection'), value: arbIpv4 }),
      fc.record({ key: fc.constant('serverIdOverride'), value: arbIpv4 }),
      fc.record({ key: fc.constant('relayAgentFlags'), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ key: fc.constant('relayPort'), value: fc.constant(true) }),
      fc.record({ key: fc.constant('relayId'), value: arbHex(60) }),
      fc.record({ key: fc.constantFrom('sub3', 'sub42', 'sub200'), value: arbHex(60) }),
    ),
    { selector: (e) => e.key, maxLength: 8 },
  )
  .map((list) => Object.fromEntries(list.map((e) => [e.key, e.value as OptionValue])));

const arbFqdn = fc
  .record({
    s: fc.boolean(),
    o: fc.boolean(),
    e: fc.boolean(),
    n: fc.boolean(),
    rcode1: fc.integer({ min: 0, max: 255 }),
    rcode2: fc.integer({ min: 0, max: 255 }),
    wireName: fc.oneof(
      fc.constant(''),
      fc.constant('.'),
      arbDomain,
      arbDomain.map((d) => `${d}.`),
    ),
    asciiName: fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 30,
    }),
  })
  .filter((r) => !(r.s && r.n))
  .map((r) => ({
    flags: `${r.s ? 'S' : ''}${r.o ? 'O' : ''}${r.e ? 'E' : ''}${r.n ? 'N' : ''}`,
    rcode1: r.rcode1,
    rcode2: r.rcode2,
    name: r.e ? r.wireName : r.asciiName,
  }));

const arbClasslessRoute = fc
  .tuple(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }), arbIpv4)
  .map(([prefix, net, router]) => `${formatIpv4((net & prefixToMask(prefix)) >>> 0)}/${prefix} ${router}`);

/** For each type: a catalogue code of that type and values in decodeOptionValue's canonical form. */
const BY_TYPE: Record<OptionType, [number, fc.Arbitrary<OptionValue>]> = {
  ipv4: [OPTION.subnetMask, arbIpv4],
  ipv4List: [OPTION.routers, fc.array(arbIpv4, { minLength: 1, maxLength: 80 })],
  uint8: [OPTION.defaultIpTtl, fc.integer({ min: 0, max: 255 })],
  uint16: [OPTION.interfaceMtu, fc.integer({ min: 0, max: 0xffff })],
  uint32: [OPTION.leaseTime, fc.integer({ min: 0, max: 0xffffffff })],
  int32: [OPTION.timeOffset, fc.integer({ min: -0x80000000, max: 0x7fffffff })],
  bool: [OPTION.ipForwarding, fc.boolean()],
  string: [OPTION.hostName, arbText],
  bytes: [OPTION.clientId, arbHex(300)],
  uint8List: [
    OPTION.parameterRequestList,
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 300 }),
  ],
  uint16List: [
    OPTION.pathMtuPlateauTable,
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 40 }),
  ],
  ipv4PairList: [
    OPTION.staticRoutes,
    fc.array(
      fc.tuple(arbIpv4, arbIpv4).map(([a, b]) => `${a} ${b}`),
      { minLength: 1, maxLength: 40 },
    ),
  ],
  domainList: [OPTION.domainSearch, fc.array(arbDomain, { minLength: 1, maxLength: 10 })],
  classlessRoutes: [
    OPTION.classlessStaticRoutes,
    fc.array(arbClasslessRoute, { minLength: 1, maxLength: 30 }),
  ],
  fqdn: [OPTION.clientFqdn, arbFqdn],
  relayAgentInfo: [OPTION.relayAgentInfo, arbRelayAgentInfo],
  vivso: [
    OPTION.vivso,
    fc.array(
      fc.record(
        { enterpriseNumber: fc.integer({ min: 0, max: 0xffffffff }), data: arbHex(255) },
        { noNullPrototype: true },
      ),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
  ],
  userClass: [
    OPTION.userClass,
    fc.array(
      fc.oneof(
        arbText,
        fc.uint8Array({ minLength: 0, maxLength: 30 }).map((b) => `hex:00${toHex(b)}`),
      ),
      {
        minLength: 1,
        maxLength: 6,
      },
    ),
  ],
};

test('every catalogue type has a round-trip property', () => {
  for (const d of OPTION_CATALOGUE) assert.ok(BY_TYPE[d.type], d.type);
});

for (const [type, [code, arb]] of Object.entries(BY_TYPE)) {
  test(`property (${type}): decodeOptionValue(encodeOptionValue(v)) ≡ v`, () => {
    fc.assert(
      fc.property(arb, (v) => {
        assert.deepEqual(decodeOptionValue(code, encoded(code, v)), v);
      }),
      { numRuns: 300 },
    );
  });
}

test('property: for any code and any bytes, the decoded value encodes back and decodes to itself', () => {
  const codes = [...OPTION_CATALOGUE.map((d) => d.code), 224, 254];
  fc.assert(
    fc.property(fc.constantFrom(...codes), fc.uint8Array({ maxLength: 64 }), (code, data) => {
      const v = decodeOptionValue(code, data);
      const again = encodeOptionValue(code, v);
      assert.ok(again.ok, again.ok ? '' : again.message);
      assert.deepEqual(decodeOptionValue(code, again.data), v);
    }),
    { numRuns: 5000 },
  );
});

test('property: decoded typed values re-encode to the original bytes when the input was canonical', () => {
  // Values other than hex come with their exact bytes, except strings (trailing NULs) and compressed names.
  fc.assert(
    fc.property(
      fc.constantFrom(...OPTION_CATALOGUE.filter((d) => d.type !== 'string' && d.type !== 'domainList')),
      fc.uint8Array({ maxLength: 40 }),
      (d, data) => {
        const v = decodeOptionValue(d.code, data);
        assert.deepEqual(encoded(d.code, v), data);
      },
    ),
    { numRuns: 5000 },
  );
});
