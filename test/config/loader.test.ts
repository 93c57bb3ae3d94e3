import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { Settings } from 'typebox/system';
import {
  type ConfigError,
  formatConfigErrors,
  type LoadResult,
  loadConfigFile,
  loadDefaultConfig,
  parseConfigText,
  type ResolvedConfig,
  reloadConfig,
} from '../../src/config/loader.js';
import { PUBLISHED_SCHEMA_PATH, publishedConfigSchemaText } from '../../src/config/published-schema.js';
import type { EngineScope, EngineSettings } from '../../src/dhcp/scope.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

const ROOT = new URL('../../', import.meta.url);
const repoFile = (path: string) => new URL(path, ROOT).pathname;

// ---- helpers ---------------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** A small valid config; tests override parts of it. */
function baseConfig(): Json {
  return {
    scopes: [{ subnet: '10.0.0.0/24', ranges: [{ start: '10.0.0.10', end: '10.0.0.200' }] }],
  };
}

function scope(overrides: Json = {}): Json {
  return { subnet: '10.0.0.0/24', ranges: [{ start: '10.0.0.10', end: '10.0.0.200' }], ...overrides };
}

function load(config: unknown): LoadResult {
  return parseConfigText(JSON.stringify(config, null, 2), 'config.json', { hostname: 'test-host' });
}

function loadOk(config: unknown): ResolvedConfig {
  const r = load(config);
  if (!r.ok) assert.fail(`expected the config to load:\n${formatConfigErrors(r.errors)}`);
  return r.config;
}

function errorsOf(config: unknown): ConfigError[] {
  const r = load(config);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors;
}

/** Asserts exactly one error: at `path`, with a message matching `message`. */
function expectOnly(config: unknown, path: string, message: RegExp | string): ConfigError {
  const errors = errorsOf(config);
  assert.equal(errors.length, 1, formatConfigErrors(errors));
  const e = errors[0]!;
  assert.equal(e.path, path, formatConfigErrors(errors));
  if (typeof message === 'string') assert.equal(e.message, message);
  else assert.match(e.message, message);
  return e;
}

function withFailover(relationship: Json, scopes: unknown[] = [scope()]): Json {
  return {
    scopes,
    failover: [
      {
        name: 'ab',
        role: 'primary',
        local: { address: '10.0.0.2' },
        partner: { address: '10.0.0.3' },
        scopeIds: ['10.0.0.0'],
        ...relationship,
      },
    ],
  };
}

// ---- stage 1: JSON syntax ----------------------------------------------------------------------

describe('JSON syntax errors', () => {
  test('a missing comma gives line and column', () => {
    const text = '{\n  "scopes": [],\n  "leaseTimeSeconds": 60\n  "logging": {}\n}\n';
    const r = parseConfigText(text, 'config.json');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.errors.length, 1);
    assert.deepEqual(
      { line: r.errors[0]!.line, column: r.errors[0]!.column, path: r.errors[0]!.path },
      { line: 4, column: 3, path: '' },
    );
    assert.match(
      r.errors[0]!.message,
      /^JSON syntax error: expected ',' or '}' after a property value, found '"'/,
    );
    assert.equal(
      formatConfigErrors(r.errors),
      `config.json:4:3: JSON syntax error: expected ',' or '}' after a property value, found '"'`,
    );
  });

  const cases: [string, string, number, number, RegExp][] = [
    ['trailing comma', '{"scopes": [],\n}', 2, 1, /trailing comma before '}'/],
    ['trailing comma in array', '{"scopes": [1,]}', 1, 15, /trailing comma before ']'/],
    ['comment', '{\n  // scopes\n  "scopes": []\n}', 2, 3, /comments are not allowed/],
    ['single quotes', "{'scopes': []}", 1, 2, /double quotes/],
    ['empty file', '   \n', 2, 1, /the file is empty/],
    ['unterminated string', '{"scopes": [], "a": "abc', 1, 21, /unterminated string/],
    ['line break in string', '{"a": "x\ny"}', 1, 9, /line break inside a string/],
    ['leading zero', '{"a": 01}', 1, 7, /leading zeros/],
    ['bad literal', '{"a": tru}', 1, 7, /expected a value, found 'tru'/],
    ['content after the document', '{"scopes": []} {}', 1, 16, /after the end of the JSON document/],
    ['bad escape', '{"a": "\\x"}', 1, 8, /invalid escape sequence '\\x'/],
    ['end of file inside an object', '{"scopes": [', 1, 13, /found the end of the file/],
  ];
  for (const [name, text, line, column, message] of cases) {
    test(name, () => {
      const r = parseConfigText(text, 'c.json');
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.errors.length, 1);
      const e = r.errors[0]!;
      assert.match(e.message, message);
      assert.deepEqual([e.line, e.column], [line, column], e.message);
    });
  }

  test('deep nesting is an error, not a stack overflow', () => {
    const text = `{"scopes": ${'['.repeat(100_000)}`;
    const r = parseConfigText(text, 'c.json');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]!.message, /nested deeper than 64 levels/);
  });

  test('a duplicate property is reported with both positions', () => {
    const text = '{\n  "scopes": [],\n  "scopes": []\n}';
    const r = parseConfigText(text, 'c.json');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors, [
      {
        file: 'c.json',
        path: '/scopes',
        readablePath: 'scopes',
        message: 'duplicate property (first defined at line 2, column 3)',
        line: 3,
        column: 3,
      },
    ]);
  });

  test('a byte order mark is accepted', () => {
    const r = parseConfigText(`\uFEFF${JSON.stringify(baseConfig())}`, 'c.json');
    assert.equal(r.ok, true);
  });
});

// ---- stage 2: schema -----------------------------------------------------------------------------

describe('schema errors', () => {
  test('an unknown property is named, with a suggestion and its position', () => {
    const text =
      '{\n  "scopes": [\n    {\n      "subnet": "10.0.0.0/24",\n      "ranges": [{ "start": "10.0.0.1", "end": "10.0.0.9" }],\n      "leaseTme": 600\n    }\n  ]\n}\n';
    const r = parseConfigText(text, 'config.json');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors, [
      {
        file: 'config.json',
        path: '/scopes/0/leaseTme',
        readablePath: 'scopes[0].leaseTme',
        message: "unknown property 'leaseTme' (did you mean 'leaseTimeSeconds'?)",
        line: 6,
        column: 7,
      },
    ]);
  });

  test('an invalid address: path, readable path and the formatted line', () => {
    const text = `{"scopes": [{"subnet": "10.0.0.0/16", "ranges": [
      {"start": "10.0.1.1", "end": "10.0.1.9"},
      {"start": "10.0.2.1", "end": "10.0.2.300"}]}]}`;
    const r = parseConfigText(text, 'config.json');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.errors.length, 1);
    const e = r.errors[0]!;
    assert.equal(e.path, '/scopes/0/ranges/1/end');
    assert.equal(e.readablePath, 'scopes[0].ranges[1].end');
    assert.equal(e.message, '10.0.2.300 is not an IPv4 address');
    assert.equal(
      formatConfigErrors(r.errors),
      'config.json:3:36: scopes[0].ranges[1].end: 10.0.2.300 is not an IPv4 address',
    );
  });

  test('every error is reported (more than TypeBox reports by default), in document order', () => {
    const scopes = Array.from({ length: 12 }, (_, i) =>
      scope({ subnet: `10.${i}.0.0/24`, ranges: [{ start: 'x', end: '10.0.0.1' }] }),
    );
    const errors = errorsOf({ scopes });
    assert.equal(errors.length, 12);
    assert.deepEqual(
      errors.map((e) => e.path),
      scopes.map((_, i) => `/scopes/${i}/ranges/0/start`),
    );
    assert.equal(Settings.Get().maxErrors, 8, "TypeBox's global setting is restored");
  });

  test('messages per keyword', () => {
    expectOnly({}, '', "missing required property 'scopes'");
    expectOnly({ scopes: [scope({ ranges: [] })] }, '/scopes/0/ranges', 'must have at least 1 entry');
    expectOnly({ scopes: 'none' }, '/scopes', 'must be an array, not a string');
    expectOnly(
      { ...baseConfig(), leaseTimeSeconds: 0 },
      '/leaseTimeSeconds',
      '0 is too small; the minimum is 1',
    );
    expectOnly(
      { ...baseConfig(), leaseTimeSeconds: 1.5 },
      '/leaseTimeSeconds',
      'must be an integer, not a number',
    );
    expectOnly(
      { ...baseConfig(), dhcp: { port: 70000 } },
      '/dhcp/port',
      '70000 is too large; the maximum is 65535',
    );
    expectOnly(
      { scopes: [scope({ subnet: '10.0.0.0/33' })] },
      '/scopes/0/subnet',
      '10.0.0.0/33 is not a subnet in a.b.c.d/len form (len 0–32)',
    );
    expectOnly(
      { ...baseConfig(), logging: { level: 'inf' } },
      '/logging/level',
      "must be one of 'fatal', 'error', 'warn', 'info', 'debug' or 'trace', not inf (did you mean 'info'?)",
    );
    expectOnly(
      { ...baseConfig(), leaseStore: { type: 'pg' } },
      '/leaseStore/type',
      "must be one of 'sqlite' or 'postgresql', not pg",
    );
    // A PostgreSQL store needs a postgresql:// URL; a URL is only for it.
    expectOnly({ ...baseConfig(), leaseStore: { type: 'postgresql' } }, '/leaseStore/url', /needs a url/);
    expectOnly(
      { ...baseConfig(), leaseStore: { type: 'postgresql', url: 'mysql://h/db' } },
      '/leaseStore/url',
      /not a postgresql:\/\/ URL/,
    );
    expectOnly(
      { ...baseConfig(), leaseStore: { url: 'postgresql://h/db' } },
      '/leaseStore/url',
      /is for leaseStore type 'postgresql'/,
    );
    expectOnly(
      { scopes: [scope({ bootpLeaseSeconds: 'forever' })] },
      '/scopes/0/bootpLeaseSeconds',
      'must be an integer or null, not a string',
    );
    // The union's integer branch is the evident intent: its own error, not "anyOf".
    expectOnly(
      { scopes: [scope({ bootpLeaseSeconds: 0 })] },
      '/scopes/0/bootpLeaseSeconds',
      '0 is too small; the minimum is 1',
    );
    expectOnly(
      { scopes: [scope({ options: [{ name: 'routers', data: null }] })] },
      '/scopes/0/options/0/data',
      'must be a string, a number, a boolean, an array or an object, not null',
    );
    expectOnly(
      withFailover({ role: 'master' }),
      '/failover/0/role',
      "must be one of 'primary' or 'secondary', not master",
    );
    expectOnly(
      withFailover({ loadBalancePercent: 101 }),
      '/failover/0/loadBalancePercent',
      '101 is too large; the maximum is 100',
    );
    expectOnly(
      withFailover({ reservePercent: -1, mode: 'hotStandby' }),
      '/failover/0/reservePercent',
      '-1 is too small; the minimum is 0',
    );
    expectOnly(
      withFailover({ name: 'x'.repeat(127) }),
      '/failover/0/name',
      'must be at most 126 characters long',
    );
  });

  test('a missing property points at its object', () => {
    const e = expectOnly(
      withFailover({ partner: {} }),
      '/failover/0/partner',
      "missing required property 'address'",
    );
    assert.equal(e.readablePath, 'failover[0].partner');
  });

  test('secrets are never echoed', () => {
    const errors = errorsOf({ ...baseConfig(), api: { tokens: [{ name: 'ops', token: 'hunter2' }] } });
    assert.equal(errors[0]?.path, '/api/tokens/0/token');
    assert.equal(errors[0]?.message, 'must be at least 16 characters long');
    assert.ok(!formatConfigErrors(errors).includes('hunter2'));
  });

  test('unknown properties everywhere, including odd names', () => {
    const errors = errorsOf({ ...baseConfig(), 'a/b': 1, __proto__x: 2, dhcp: { prot: 67 } });
    assert.deepEqual(
      errors.map((e) => [e.path, e.readablePath, e.message]),
      [
        ['/a~1b', '["a/b"]', "unknown property 'a/b'"],
        ['/__proto__x', '__proto__x', "unknown property '__proto__x'"],
        ['/dhcp/prot', 'dhcp.prot', "unknown property 'prot' (did you mean 'port'?)"],
      ],
    );
  });

  test('a "__proto__" key is data, reported as unknown', () => {
    const r = parseConfigText('{"scopes": [], "__proto__": {"x": 1}}', 'c.json');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.errors[0]?.message, "unknown property '__proto__'");
  });
});

// ---- stage 3: semantic rules ------------------------------------------------------------------------

describe('scopes, ranges, exclusions', () => {
  test('a subnet with host bits set', () => {
    expectOnly(
      { scopes: [scope({ subnet: '10.0.0.1/24' })] },
      '/scopes/0/subnet',
      'subnet 10.0.0.1/24 has host bits set (did you mean 10.0.0.0/24?)',
    );
  });

  test('range ends outside the subnet', () => {
    const errors = errorsOf({ scopes: [scope({ ranges: [{ start: '10.0.1.1', end: '10.0.1.9' }] })] });
    assert.deepEqual(
      errors.map((e) => [e.path, e.message]),
      [
        ['/scopes/0/ranges/0/start', '10.0.1.1 is outside the scope subnet 10.0.0.0/24'],
        ['/scopes/0/ranges/0/end', '10.0.1.9 is outside the scope subnet 10.0.0.0/24'],
      ],
    );
  });

  test('a range that ends before it starts', () => {
    expectOnly(
      { scopes: [scope({ ranges: [{ start: '10.0.0.9', end: '10.0.0.5' }] })] },
      '/scopes/0/ranges/0/end',
      '10.0.0.5 is before the start of the range (10.0.0.9)',
    );
  });

  test('exclusions inside the subnet, start before end', () => {
    expectOnly(
      { scopes: [scope({ exclusions: [{ start: '10.0.0.20', end: '10.0.5.1' }] })] },
      '/scopes/0/exclusions/0/end',
      '10.0.5.1 is outside the scope subnet 10.0.0.0/24',
    );
    expectOnly(
      { scopes: [scope({ exclusions: [{ start: '10.0.0.30', end: '10.0.0.20' }] })] },
      '/scopes/0/exclusions/0/end',
      '10.0.0.20 is before the start of the range (10.0.0.30)',
    );
  });

  test('overlapping ranges within a scope: the later one is reported, naming the other', () => {
    const e = expectOnly(
      {
        scopes: [
          scope({
            ranges: [
              { start: '10.0.0.10', end: '10.0.0.100' },
              { start: '10.0.0.150', end: '10.0.0.160' },
              { start: '10.0.0.100', end: '10.0.0.120' },
            ],
          }),
        ],
      },
      '/scopes/0/ranges/2',
      '10.0.0.100–10.0.0.120 overlaps scopes[0].ranges[0] (10.0.0.10–10.0.0.100)',
    );
    assert.equal(e.readablePath, 'scopes[0].ranges[2]');
    assert.ok(e.line !== undefined && e.column !== undefined);
  });

  test('overlapping subnets, and ranges overlapping across scopes', () => {
    const errors = errorsOf({
      scopes: [
        scope({ subnet: '10.0.0.0/16', ranges: [{ start: '10.0.1.1', end: '10.0.1.50' }] }),
        scope({ id: 'b', subnet: '10.0.1.0/24', ranges: [{ start: '10.0.1.40', end: '10.0.1.60' }] }),
      ],
    });
    assert.deepEqual(
      errors.map((e) => [e.path, e.message]),
      [
        ['/scopes/1/subnet', '10.0.1.0/24 overlaps scopes[0].subnet (10.0.0.0/16)'],
        ['/scopes/1/ranges/0', '10.0.1.40–10.0.1.60 overlaps scopes[0].ranges[0] (10.0.1.1–10.0.1.50)'],
      ],
    );
  });

  test('scope ids are unique; the default id is the network address', () => {
    expectOnly(
      {
        scopes: [
          scope({ id: 'x' }),
          scope({ id: 'x', subnet: '10.1.0.0/24', ranges: [{ start: '10.1.0.1', end: '10.1.0.2' }] }),
        ],
      },
      '/scopes/1/id',
      "scope id 'x' is already used by scopes[0]",
    );
    expectOnly(
      {
        scopes: [
          scope({ id: '10.1.0.0' }),
          scope({ subnet: '10.1.0.0/24', ranges: [{ start: '10.1.0.1', end: '10.1.0.2' }] }),
        ],
      },
      '/scopes/1/subnet',
      "the default scope id '10.1.0.0' (the subnet's network address) is already used by scopes[0]; set a distinct 'id'",
    );
  });

  test('relay addresses select one scope', () => {
    const other = scope({ subnet: '10.1.0.0/24', ranges: [{ start: '10.1.0.1', end: '10.1.0.2' }] });
    expectOnly(
      { scopes: [scope({ relayAddresses: ['10.1.0.1'] }), other] },
      '/scopes/0/relayAddresses/0',
      '10.1.0.1 is inside scopes[1].subnet (10.1.0.0/24), which a relay with that address selects',
    );
    expectOnly(
      { scopes: [scope({ relayAddresses: ['192.0.2.1'] }), { ...other, relayAddresses: ['192.0.2.1'] }] },
      '/scopes/1/relayAddresses/0',
      '192.0.2.1 is already a relay address of scopes[0]',
    );
    expectOnly(
      { scopes: [scope({ relayAddresses: ['192.0.2.1', '192.0.2.1'] })] },
      '/scopes/0/relayAddresses/1',
      '192.0.2.1 is listed twice',
    );
  });

  test('renew < rebind < lease', () => {
    expectOnly(
      { scopes: [scope({ leaseTimeSeconds: 1000, renewTimeSeconds: 800, rebindTimeSeconds: 700 })] },
      '/scopes/0/renewTimeSeconds',
      '800 must be less than rebindTimeSeconds (700)',
    );
    expectOnly(
      { scopes: [scope({ leaseTimeSeconds: 1000, rebindTimeSeconds: 1000 })] },
      '/scopes/0/rebindTimeSeconds',
      '1000 must be less than the lease time (1000)',
    );
    expectOnly(
      { scopes: [scope({ leaseTimeSeconds: 1000, renewTimeSeconds: 900 })] },
      '/scopes/0/renewTimeSeconds',
      '900 must be less than the rebind time (875, 87.5% of the lease time 1000)',
    );
    expectOnly(
      { scopes: [scope({ leaseTimeSeconds: 1000, rebindTimeSeconds: 400 })] },
      '/scopes/0/rebindTimeSeconds',
      '400 must be greater than the renew time (500, 50% of the lease time 1000)',
    );
    // The server-wide lease time counts too.
    expectOnly(
      { leaseTimeSeconds: 600, scopes: [scope({ rebindTimeSeconds: 700, renewTimeSeconds: 100 })] },
      '/scopes/0/rebindTimeSeconds',
      '700 must be less than the lease time (600)',
    );
    const ok = loadOk({
      scopes: [scope({ leaseTimeSeconds: 1000, renewTimeSeconds: 100, rebindTimeSeconds: 200 })],
    });
    assert.deepEqual(
      [ok.scopes[0]?.leaseTimeSeconds, ok.scopes[0]?.renewTimeSeconds, ok.scopes[0]?.rebindTimeSeconds],
      [1000, 100, 200],
    );
  });

  test('a server identifier that cannot identify a server', () => {
    expectOnly(
      { ...baseConfig(), server: { serverIdentifier: '0.0.0.0' } },
      '/server/serverIdentifier',
      '0.0.0.0 cannot identify a server',
    );
  });
});

describe('reservations', () => {
  const withReservations = (reservations: unknown[], extra: Json = {}) => ({
    scopes: [scope({ reservations, ...extra })],
  });

  test('inside the subnet, not the network or broadcast address', () => {
    expectOnly(
      withReservations([{ address: '10.0.1.5', hardwareAddress: '00:11:22:33:44:55' }]),
      '/scopes/0/reservations/0/address',
      '10.0.1.5 is outside the scope subnet 10.0.0.0/24',
    );
    expectOnly(
      withReservations([{ address: '10.0.0.255', hardwareAddress: '00:11:22:33:44:55' }]),
      '/scopes/0/reservations/0/address',
      '10.0.0.255 is the broadcast address of 10.0.0.0/24',
    );
    expectOnly(
      withReservations([{ address: '10.0.0.0', hardwareAddress: '00:11:22:33:44:55' }]),
      '/scopes/0/reservations/0/address',
      '10.0.0.0 is the network address of 10.0.0.0/24',
    );
  });

  test('not inside an exclusion', () => {
    expectOnly(
      withReservations([{ address: '10.0.0.55', hardwareAddress: '00:11:22:33:44:55' }], {
        exclusions: [{ start: '10.0.0.50', end: '10.0.0.59' }],
      }),
      '/scopes/0/reservations/0/address',
      '10.0.0.55 is inside the exclusion 10.0.0.50–10.0.0.59',
    );
  });

  test('unique by address', () => {
    expectOnly(
      withReservations([
        { address: '10.0.0.5', hardwareAddress: '00:11:22:33:44:55' },
        { address: '10.0.0.5', hardwareAddress: '00:11:22:33:44:66' },
      ]),
      '/scopes/0/reservations/1/address',
      '10.0.0.5 is already reserved by scopes[0].reservations[0]',
    );
  });

  test('unique by hardware address, whatever the separators', () => {
    expectOnly(
      withReservations([
        { address: '10.0.0.5', hardwareAddress: '00:11:22:AA:BB:CC' },
        { address: '10.0.0.6', hardwareAddress: '0011.22aa.bbcc' },
      ]),
      '/scopes/0/reservations/1/hardwareAddress',
      '0011.22aa.bbcc already has a reservation: scopes[0].reservations[0]',
    );
  });

  test('unique by client identifier', () => {
    expectOnly(
      withReservations([
        { address: '10.0.0.5', clientId: '01:00:11:22:33:44:55' },
        { address: '10.0.0.6', clientId: '01001122334455' },
      ]),
      '/scopes/0/reservations/1/clientId',
      '01001122334455 already has a reservation: scopes[0].reservations[0]',
    );
  });

  test('an identity is required and must be well formed', () => {
    expectOnly(
      withReservations([{ address: '10.0.0.5', hostname: 'x' }]),
      '/scopes/0/reservations/0',
      "a reservation needs a 'hardwareAddress' or a 'clientId'",
    );
    expectOnly(
      withReservations([{ address: '10.0.0.5', hardwareAddress: '00:11:22:33:44:zz' }]),
      '/scopes/0/reservations/0/hardwareAddress',
      '"00:11:22:33:44:zz" is not a hardware address (1–16 hex bytes, e.g. aa:bb:cc:dd:ee:ff)',
    );
    expectOnly(
      withReservations([{ address: '10.0.0.5', hardwareAddress: '00:11-22:33:44:55' }]),
      '/scopes/0/reservations/0/hardwareAddress',
      /is not a hardware address/,
    );
    expectOnly(
      withReservations([{ address: '10.0.0.5', clientId: '01' }]),
      '/scopes/0/reservations/0/clientId',
      '"01" is not a client identifier (2–255 hex bytes, e.g. 01:aa:bb:cc:dd:ee:ff)',
    );
  });

  test('identities are normalised to lower-case hex without separators', () => {
    const c = loadOk(
      withReservations([
        { address: '10.0.0.5', hardwareAddress: 'AA-BB-CC-DD-EE-FF', hostname: 'printer', description: 'p' },
        { address: '10.0.0.6', clientId: '01:AA:bb:CC:dd:EE:ff' },
        { address: '10.0.0.7', hardwareAddress: 'aabb.ccdd.ee00', clientId: 'hex:ff00' },
      ]),
    );
    const r = c.scopes[0]!.reservations;
    assert.deepEqual(
      r.map((x) => [x.hardwareAddress, x.clientId, x.hostname, x.description]),
      [
        ['aabbccddeeff', null, 'printer', 'p'],
        [null, '01aabbccddeeff', null, null],
        ['aabbccddee00', 'ff00', null, null],
      ],
    );
    assert.equal(r[0]!.address, parseIpv4('10.0.0.5'));
  });
});

describe('options', () => {
  const withOptions = (options: unknown[]) => ({ scopes: [scope({ options })] });

  test('name or code is required; both must agree', () => {
    expectOnly(
      withOptions([{ data: '10.0.0.1' }]),
      '/scopes/0/options/0',
      "an option needs a 'name' or a 'code'",
    );
    expectOnly(
      withOptions([{ name: 'routers', code: 6, data: '10.0.0.1' }]),
      '/scopes/0/options/0/code',
      "code 6 contradicts name 'routers' (option 3); give one of them",
    );
    const c = loadOk(withOptions([{ name: 'routers', code: 3, data: '10.0.0.1' }]));
    assert.deepEqual([...(c.scopes[0]!.options.get(3) ?? [])], [10, 0, 0, 1]);
  });

  test('values are checked by the option catalogue', () => {
    expectOnly(withOptions([{ name: 'routers', data: '10.0.0.300' }]), '/scopes/0/options/0/data', /routers/);
    expectOnly(
      withOptions([{ name: 'routrs', data: '10.0.0.1' }]),
      '/scopes/0/options/0/name',
      "unknown option name 'routrs' (did you mean 'routers'?)",
    );
    expectOnly(
      withOptions([{ code: 224, data: 'abc' }]),
      '/scopes/0/options/0/data',
      /not in the catalogue; give the value as hex/,
    );
    const c = loadOk(withOptions([{ code: 224, data: 'hex:0a0b' }]));
    assert.deepEqual([...(c.scopes[0]!.options.get(224) ?? [])], [10, 11]);
  });

  test('options the server manages are refused', () => {
    expectOnly(
      withOptions([{ name: 'leaseTime', data: 600 }]),
      '/scopes/0/options/0/name',
      'option 51 (leaseTime) is managed by the server; set leaseTimeSeconds instead',
    );
    expectOnly(
      withOptions([{ code: 54, data: '10.0.0.1' }]),
      '/scopes/0/options/0/code',
      'option 54 (serverIdentifier) is managed by the server; set server.serverIdentifier instead',
    );
  });

  test('an option given twice in one list', () => {
    expectOnly(
      withOptions([
        { name: 'routers', data: '10.0.0.1' },
        { code: 3, data: '10.0.0.2' },
      ]),
      '/scopes/0/options/1',
      'option 3 (routers) is already set by scopes[0].options[0]',
    );
  });

  test('reservation options are checked with their own path', () => {
    expectOnly(
      {
        scopes: [
          scope({
            reservations: [
              {
                address: '10.0.0.5',
                hardwareAddress: '00:11:22:33:44:55',
                options: [{ name: 'routers', data: 'nope' }],
              },
            ],
          }),
        ],
      },
      '/scopes/0/reservations/0/options/0/data',
      /routers/,
    );
  });

  test('server-wide options merge into scopes; the scope wins, alwaysSend follows the winner', () => {
    const c = loadOk({
      options: [
        { name: 'domainNameServers', data: '10.0.0.53', alwaysSend: true },
        { name: 'domainName', data: 'example.net', alwaysSend: true },
      ],
      scopes: [
        scope({
          options: [
            { name: 'domainName', data: 'lab.example.net' },
            { name: 'routers', data: '10.0.0.1', alwaysSend: true },
          ],
        }),
      ],
    });
    const s = c.scopes[0]!;
    assert.deepEqual(
      [...s.options.keys()].sort((a, b) => a - b),
      [3, 6, 15],
    );
    assert.equal(new TextDecoder().decode(s.options.get(15)), 'lab.example.net');
    assert.deepEqual(
      [...s.alwaysSend].sort((a, b) => a - b),
      [3, 6],
    );
    assert.deepEqual([...c.options.keys()], [6, 15]);
    assert.deepEqual([...c.alwaysSend], [6, 15]);
  });

  test('structured option values (objects) pass the schema and reach the encoder', () => {
    const c = loadOk(withOptions([{ name: 'vivso', data: [{ enterpriseNumber: 4491, data: 'hex:0102' }] }]));
    assert.deepEqual([...(c.scopes[0]!.options.get(125) ?? [])], [0, 0, 0x11, 0x8b, 2, 1, 2]);
  });
});

describe('failover relationships', () => {
  test('names unique', () => {
    const c = withFailover({});
    const first = (c.failover as Json[])[0]!;
    expectOnly(
      {
        scopes: [scope(), scope({ subnet: '10.1.0.0/24', ranges: [{ start: '10.1.0.1', end: '10.1.0.9' }] })],
        failover: [first, { ...first, scopeIds: ['10.1.0.0'] }],
      },
      '/failover/1/name',
      "relationship name 'ab' is already used by failover[0]",
    );
  });

  test('scope ids exist, appear once, and in at most one relationship', () => {
    expectOnly(
      withFailover({ scopeIds: ['10.0.0.1'] }),
      '/failover/0/scopeIds/0',
      "no scope has the id '10.0.0.1' (did you mean '10.0.0.0'?)",
    );
    expectOnly(
      withFailover({ scopeIds: ['10.0.0.0', '10.0.0.0'] }),
      '/failover/0/scopeIds/1',
      "scope '10.0.0.0' is listed twice",
    );
    const c = withFailover({});
    const first = (c.failover as Json[])[0]!;
    expectOnly(
      { scopes: [scope()], failover: [first, { ...first, name: 'ac', partner: { address: '10.0.0.4' } }] },
      '/failover/1/scopeIds/0',
      "scope '10.0.0.0' is already in relationship 'ab' (failover[0])",
    );
  });

  test('a scope with a broken subnet yields one error, not a second "no such scope"', () => {
    expectOnly(
      withFailover({}, [scope({ subnet: '10.0.0.1/24' })]),
      '/scopes/0/subnet',
      'subnet 10.0.0.1/24 has host bits set (did you mean 10.0.0.0/24?)',
    );
  });

  test('local and partner differ in address or port', () => {
    expectOnly(
      withFailover({ partner: { address: '10.0.0.2' } }),
      '/failover/0/partner/address',
      'the partner is this server itself (10.0.0.2 port 647, same as local)',
    );
    loadOk(withFailover({ partner: { address: '10.0.0.2', port: 648 } }));
  });

  test('relationships share a local address and port (a hub); a wildcard and an address on one port do not mix', () => {
    const scopes = Array.from({ length: 31 }, (_, k) =>
      scope({ subnet: `10.1.${k}.0/24`, ranges: [{ start: `10.1.${k}.10`, end: `10.1.${k}.20` }] }),
    );
    const spoke = (k: number, local = '10.0.0.2') => ({
      name: `branch-${k}`,
      role: 'secondary',
      local: { address: local },
      partner: { address: `10.0.1.${k + 1}` },
      scopeIds: [`10.1.${k}.0`],
    });
    const hub = loadOk({ scopes, failover: scopes.map((_, k) => spoke(k)) });
    assert.equal(hub.failover.length, 31);
    assert.ok(hub.failover.every((r) => r.local.port === 647));
    // Two addresses of the host on one port: two listeners, fine.
    loadOk({ scopes: scopes.slice(0, 2), failover: [spoke(0), spoke(1, '10.0.0.9')] });
    expectOnly(
      { scopes: scopes.slice(0, 2), failover: [spoke(0), spoke(1, '0.0.0.0')] },
      '/failover/1/local/address',
      'listens on 0.0.0.0 port 647, where failover[0] listens on 10.0.0.2: relationships on one port use the same local address (or distinct addresses, none of them 0.0.0.0)',
    );
  });

  test('sharedSecret exactly when auth is not none', () => {
    expectOnly(
      withFailover({ sharedSecret: 's3cret' }),
      '/failover/0/sharedSecret',
      "a shared secret is set but auth is 'none'; set auth or remove the secret",
    );
    expectOnly(
      withFailover({ auth: 'hmacSha256' }),
      '/failover/0',
      "missing property 'sharedSecret' (required when auth is 'hmacSha256')",
    );
    const c = loadOk(withFailover({ auth: 'hmacMd5', sharedSecret: 's3cret' }));
    assert.equal(c.failover[0]?.sharedSecret, 's3cret');
  });

  test('mode-specific settings only in their mode', () => {
    expectOnly(
      withFailover({ serverRole: 'active' }),
      '/failover/0/serverRole',
      "applies only to mode 'hotStandby'",
    );
    expectOnly(
      withFailover({ reservePercent: 10 }),
      '/failover/0/reservePercent',
      "applies only to mode 'hotStandby'",
    );
    expectOnly(
      withFailover({ mode: 'hotStandby', loadBalancePercent: 60 }),
      '/failover/0/loadBalancePercent',
      "applies only to mode 'loadBalance'",
    );
  });

  test('an interval with automatic transition switched off', () => {
    expectOnly(
      withFailover({ autoStateTransition: false, stateSwitchIntervalSeconds: 600 }),
      '/failover/0/stateSwitchIntervalSeconds',
      'is set but autoStateTransition is false; remove one of them',
    );
  });

  test('defaults (failover.md §14, windows-model.md §4.1)', () => {
    const c = loadOk(withFailover({}));
    assert.deepEqual(c.failover[0], {
      name: 'ab',
      role: 'primary',
      mode: 'loadBalance',
      serverRole: null,
      loadBalancePercent: 50,
      reservePercent: 5,
      mcltSeconds: 3600,
      autoStateTransition: false,
      stateSwitchIntervalSeconds: null,
      auth: 'none',
      sharedSecret: null,
      local: { address: parseIpv4('10.0.0.2'), port: 647, name: 'test-host' },
      partner: { address: parseIpv4('10.0.0.3'), port: 647, name: null },
      scopeIds: ['10.0.0.0'],
      maxUnackedUpdates: 10,
      receiveTimerSeconds: 60,
      loadBalanceMaxSeconds: 3,
      hbaBitMeaning: 'primary',
      poolSplit: 'even',
      maxClockSkewSeconds: 60,
      tls: null,
    });
    assert.equal(c.scopes[0]?.failoverRelationship, 'ab');
  });

  test('hot standby roles and automatic transition defaults', () => {
    const primary = loadOk(withFailover({ mode: 'hotStandby' })).failover[0]!;
    const secondary = loadOk(withFailover({ mode: 'hotStandby', role: 'secondary' })).failover[0]!;
    assert.deepEqual([primary.serverRole, secondary.serverRole], ['active', 'standby']);
    const byInterval = loadOk(withFailover({ stateSwitchIntervalSeconds: 7200 })).failover[0]!;
    assert.deepEqual([byInterval.autoStateTransition, byInterval.stateSwitchIntervalSeconds], [true, 7200]);
    const bySwitch = loadOk(withFailover({ autoStateTransition: true })).failover[0]!;
    assert.deepEqual([bySwitch.autoStateTransition, bySwitch.stateSwitchIntervalSeconds], [true, 3600]);
  });
});

describe('dhcp modes', () => {
  // docs/configuration.md "Mode rules". These findings were made after the resolver had already
  // returned its result, so a direct mode without interfaces loaded without a word (found in the
  // review of the PostgreSQL store's resolver change).
  test("mode 'direct' needs interfaces", () => {
    expectOnly(
      { ...baseConfig(), dhcp: { mode: 'direct' } },
      '/dhcp',
      "mode 'direct' needs 'interfaces': the interfaces to serve",
    );
  });
  test('interfaces only in direct mode', () => {
    expectOnly(
      { ...baseConfig(), dhcp: { interfaces: ['eth0'] } },
      '/dhcp/interfaces',
      /applies only to mode 'direct'/,
    );
  });
  test('udp-only settings refused in direct mode, an interface listed twice refused', () => {
    const errors = errorsOf({
      ...baseConfig(),
      dhcp: { mode: 'direct', interfaces: ['eth0', 'eth0'], broadcastAddress: '10.0.0.255' },
    });
    assert.deepEqual(
      errors.map((e) => e.path).sort(),
      ['/dhcp/broadcastAddress', '/dhcp/interfaces/1'],
      formatConfigErrors(errors),
    );
  });
  test('a valid direct mode loads', () => {
    const c = loadOk({ ...baseConfig(), dhcp: { mode: 'direct', interfaces: ['eth0', 'eth1'] } });
    assert.deepEqual(c.dhcp.interfaces, ['eth0', 'eth1']);
  });
});

describe('api tokens', () => {
  test('names and tokens are unique; tokens never echoed', () => {
    const token = 'a-long-enough-token-1234';
    const errors = errorsOf({
      ...baseConfig(),
      api: {
        tokens: [
          { name: 'ops', token },
          { name: 'ops', token },
        ],
      },
    });
    assert.deepEqual(
      errors.map((e) => [e.path, e.message]),
      [
        ['/api/tokens/1/name', "token name 'ops' is already used by api.tokens[0]"],
        ['/api/tokens/1/token', 'the same token as api.tokens[0]; every token must be distinct'],
      ],
    );
    assert.ok(!formatConfigErrors(errors).includes(token));
  });
});

// ---- defaults and resolution --------------------------------------------------------------------

describe('resolution', () => {
  test('every default applied to a minimal config', () => {
    const c = loadOk(baseConfig());
    const { scopes, options, alwaysSend, ...rest } = c;
    assert.deepEqual(rest, {
      file: 'config.json',
      server: { name: 'test-host', serverIdentifier: null },
      dhcp: {
        listenAddress: 0,
        port: 67,
        clientPort: 68,
        interface: null,
        broadcastAddress: 0xffffffff,
        mode: 'udp',
        interfaces: [],
        pingCheck: { attempts: 0, timeoutMs: 500 },
        warmUp: { exchanges: 2000, maxMs: 500 },
      },
      leaseStore: {
        type: 'sqlite',
        path: '/var/lib/twinlease/leases.db',
        commitIntervalMs: 2,
        commitBatchSize: 1,
        commitMaxDelayMs: 8,
        writerThread: false,
        url: null,
        poolSize: 4,
        connectTimeoutMs: 2000,
        statementTimeoutMs: 5000,
      },
      logging: { level: 'info', isGrantLogged: true },
      api: { listenAddress: parseIpv4('127.0.0.1'), port: 8067, tokens: [], tls: null },
      leaseTimeSeconds: 3600,
      failover: [],
    });
    assert.equal(options.size, 0);
    assert.equal(alwaysSend.size, 0);
    assert.deepEqual(scopes[0], {
      id: '10.0.0.0',
      name: null,
      description: null,
      isActive: true,
      subnet: { network: parseIpv4('10.0.0.0'), prefixLength: 24, mask: parseIpv4('255.255.255.0') },
      ranges: [{ start: parseIpv4('10.0.0.10'), end: parseIpv4('10.0.0.200') }],
      exclusions: [],
      reservations: [],
      options: new Map(),
      alwaysSend: new Set(),
      leaseTimeSeconds: 3600,
      renewTimeSeconds: 1800,
      rebindTimeSeconds: 3150,
      relayAddresses: [],
      dynamicBootp: false,
      bootpLeaseSeconds: null,
      declineHoldSeconds: 86400,
      offerHoldSeconds: 60,
      authoritative: true,
      failoverRelationship: null,
    });
  });

  test("the server-wide lease time is the scopes' default; T1/T2 follow it", () => {
    const c = loadOk({ leaseTimeSeconds: 8000, scopes: [scope()] });
    assert.deepEqual(
      [c.scopes[0]?.leaseTimeSeconds, c.scopes[0]?.renewTimeSeconds, c.scopes[0]?.rebindTimeSeconds],
      [8000, 4000, 7000],
    );
  });

  test('the server name defaults to the host name', () => {
    const r = parseConfigText(JSON.stringify(baseConfig()), 'c.json');
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.config.server.name, hostname());
  });

  test('the result is frozen', () => {
    const c = loadOk(baseConfig());
    assert.ok(
      Object.isFrozen(c) &&
        Object.isFrozen(c.scopes) &&
        Object.isFrozen(c.scopes[0]) &&
        Object.isFrozen(c.scopes[0]?.ranges),
    );
  });

  test('a resolved scope is an EngineScope', () => {
    const c = loadOk(JSON.parse(readFileSync(repoFile('config/example.json'), 'utf8')));
    const scopes: readonly EngineScope[] = c.scopes;
    const settings: EngineSettings = {
      serverName: c.server.name,
      serverIdentifier: c.server.serverIdentifier ?? 0,
      scopes,
      directScopeIds: [],
    };
    assert.equal(settings.scopes.length, 2);
  });
});

// ---- shipped files ----------------------------------------------------------------------------------

describe('shipped configs and schema', () => {
  test('config/example.json loads', () => {
    const r = loadConfigFile(repoFile('config/example.json'), { hostname: 'h' });
    if (!r.ok) assert.fail(formatConfigErrors(r.errors));
    assert.deepEqual(
      r.config.scopes.map((s) => [s.id, s.failoverRelationship, s.reservations.length]),
      [
        ['10.0.0.0', 'dhcp-a-b', 2],
        ['lab', 'dhcp-a-b', 0],
      ],
    );
    assert.equal(r.config.failover.length, 1);
  });

  test('config/default.json loads: 192.168.77.0/24, .100–.200, store in the working directory', () => {
    const r = loadDefaultConfig({ hostname: 'h' });
    if (!r.ok) assert.fail(formatConfigErrors(r.errors));
    const s = r.config.scopes[0]!;
    assert.equal(r.config.scopes.length, 1);
    assert.equal(s.id, '192.168.77.0');
    assert.deepEqual(s.ranges, [{ start: parseIpv4('192.168.77.100'), end: parseIpv4('192.168.77.200') }]);
    assert.equal(r.config.leaseStore.path, './twinlease-leases.db');
  });

  test('the committed schema/twinlease.schema.json equals the generated one', () => {
    const committed = readFileSync(repoFile(PUBLISHED_SCHEMA_PATH), 'utf8');
    assert.equal(
      committed,
      publishedConfigSchemaText(),
      'stale: run node --import tsx scripts/gen-schema.ts',
    );
  });

  test('an independent draft 2020-12 validator (Ajv) accepts the schema and the shipped configs', () => {
    const ajv = new Ajv2020.default({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(repoFile(PUBLISHED_SCHEMA_PATH), 'utf8')));
    for (const f of ['config/example.json', 'config/default.json']) {
      assert.ok(
        validate(JSON.parse(readFileSync(repoFile(f), 'utf8'))),
        `${f}: ${JSON.stringify(validate.errors)}`,
      );
    }
    assert.equal(validate({ scopes: [], leaseTme: 1 }), false);
  });
});

// ---- files and reload ---------------------------------------------------------------------------------

describe('files and reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinlease-config-'));

  test('unreadable files are errors with the file name', () => {
    const missing = join(dir, 'missing.json');
    assert.deepEqual(loadConfigFile(missing), {
      ok: false,
      errors: [{ file: missing, path: '', readablePath: '', message: 'cannot read the file: no such file' }],
    });
    const r = loadConfigFile(dir);
    assert.ok(!r.ok && r.errors[0]?.message === 'is not a regular file');
    const latin1 = join(dir, 'latin1.json');
    writeFileSync(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    const l = loadConfigFile(latin1);
    assert.ok(!l.ok && l.errors[0]?.message === 'is not valid UTF-8 text');
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, 17 * 1024 * 1024);
    const h = loadConfigFile(huge);
    assert.ok(!h.ok && /at most 16777216/.test(h.errors[0]?.message ?? ''));
  });

  test('formatting with and without positions', () => {
    assert.equal(
      formatConfigErrors([
        { file: 'a.json', path: '', readablePath: '', message: 'cannot read the file: no such file' },
        { file: 'a.json', path: '/x', readablePath: 'x', message: 'm', line: 2, column: 5 },
      ]),
      'a.json: cannot read the file: no such file\na.json:2:5: x: m',
    );
  });

  test('reload: errors leave the current config untouched; success reports changes', () => {
    const path = join(dir, 'reload.json');
    writeFileSync(path, JSON.stringify(baseConfig()));
    const first = loadConfigFile(path, { hostname: 'h' });
    assert.ok(first.ok);
    if (!first.ok) return;
    const current = first.config;
    const snapshot = structuredClone(current);

    writeFileSync(
      path,
      JSON.stringify({ scopes: [scope({ ranges: [{ start: '10.0.0.9', end: '10.0.0.1' }] })] }),
    );
    const bad = reloadConfig(path, current, { hostname: 'h' });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.errors[0]?.path, '/scopes/0/ranges/0/end');
    assert.deepEqual(current, snapshot);

    writeFileSync(path, JSON.stringify(baseConfig()));
    const same = reloadConfig(path, current, { hostname: 'h' });
    assert.ok(same.ok && same.changes.isUnchanged);

    writeFileSync(
      path,
      JSON.stringify({
        dhcp: { port: 6767 },
        scopes: [
          scope({ leaseTimeSeconds: 60 }),
          scope({ subnet: '10.1.0.0/24', ranges: [{ start: '10.1.0.1', end: '10.1.0.9' }] }),
        ],
      }),
    );
    const next = reloadConfig(path, current, { hostname: 'h' });
    assert.ok(next.ok);
    if (!next.ok) return;
    assert.deepEqual(next.changes, {
      isUnchanged: false,
      scopesAdded: ['10.1.0.0'],
      scopesRemoved: [],
      scopesChanged: ['10.0.0.0'],
      relationshipsAdded: [],
      relationshipsRemoved: [],
      relationshipsChanged: [],
      restartRequired: ['dhcp.port'],
    });
    assert.deepEqual(current, snapshot);
  });
});

// ---- robustness -----------------------------------------------------------------------------------------

/** Every place in a JSON tree: its parent container and key. */
function places(root: unknown): { parent: Json | unknown[]; key: string | number }[] {
  const out: { parent: Json | unknown[]; key: string | number }[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ parent: node, key: i });
        walk(child);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [k, child] of Object.entries(node)) {
        out.push({ parent: node as Json, key: k });
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

const interestingValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '10.0.0.1',
    '10.0.0.0/24',
    '10.0.0.255',
    '0.0.0.0',
    '300.1.1.1',
    'hex:0102',
    '00:11:22:33:44:55',
    '',
    'primary',
  ),
  fc.integer({ min: -2, max: 70000 }),
  fc.ipV4(),
);

const mutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('replace', 'delete', 'add', 'duplicate'),
  value: interestingValue,
  key: fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('id', 'name', 'code', 'address', 'subnet', 'ranges', 'scopeIds'),
  ),
});

function mutate(
  root: unknown,
  mutations: readonly { at: number; kind: string; value: unknown; key: string }[],
): unknown {
  for (const m of mutations) {
    const all = places(root);
    if (all.length === 0) break;
    const { parent, key } = all[m.at % all.length]!;
    if (Array.isArray(parent)) {
      const i = key as number;
      if (m.kind === 'replace') parent[i] = m.value;
      else if (m.kind === 'delete') parent.splice(i, 1);
      else if (m.kind === 'duplicate') parent.splice(i, 0, structuredClone(parent[i]));
      else parent.push(m.value);
    } else {
      const k = key as string;
      if (m.kind === 'replace') parent[k] = m.value;
      else if (m.kind === 'delete') delete parent[k];
      else if (m.kind === 'duplicate') parent[`${k}${m.key}`] = structuredClone(parent[k]);
      else parent[m.key] = m.value;
    }
  }
  return root;
}

function assertWellFormed(r: LoadResult): void {
  if (r.ok) {
    assert.ok(Object.isFrozen(r.config));
    return;
  }
  assert.ok(r.errors.length > 0);
  for (const e of r.errors) {
    assert.ok(e.path === '' || e.path.startsWith('/'), e.path);
    assert.equal(typeof e.message, 'string');
    assert.ok(!e.message.startsWith('internal error'), e.message);
    assert.doesNotThrow(() => formatConfigErrors([e]));
  }
}

describe('robustness (property)', () => {
  const example = JSON.parse(readFileSync(repoFile('config/example.json'), 'utf8')) as unknown;

  test('random mutations of a valid config never throw and never hit an internal error', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
        const config = mutate(structuredClone(example), mutations);
        assertWellFormed(parseConfigText(JSON.stringify(config, null, 2), 'm.json', { hostname: 'h' }));
      }),
      { numRuns: 400 },
    );
  });

  test('random text edits never throw', () => {
    const text = readFileSync(repoFile('config/example.json'), 'utf8');
    const edit = fc.record({
      at: fc.nat({ max: text.length }),
      remove: fc.nat({ max: 4 }),
      insert: fc.string({ maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let t = text;
        for (const e of edits) t = t.slice(0, e.at) + e.insert + t.slice(e.at + e.remove);
        assertWellFormed(parseConfigText(t, 'm.json', { hostname: 'h' }));
      }),
      { numRuns: 400 },
    );
  });
});
