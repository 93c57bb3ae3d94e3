// Policy conditions (src/dhcp/policy.ts): the value syntax, the tree's shape rules, and a
// fast-check comparison of the compiled evaluator with a reference written here on strings (hex
// text), from the rules in docs/policies.md rather than from the implementation.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  compileCondition,
  compileValue,
  type EnginePolicy,
  evaluateCondition,
  matchPolicy,
  POLICY_FIELDS,
  POLICY_OPERATORS,
  type PolicyConditionInput,
  type PolicyField,
  type PolicyOperator,
  RequestFields,
} from '../../src/dhcp/policy.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { fromHex } from '../../src/wire/ipv4.js';
import { packet } from './helpers.js';

const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

function compiled(input: PolicyConditionInput) {
  const r = compileCondition(input);
  if (!r.ok) assert.fail(JSON.stringify(r.problems));
  return r.condition;
}

function problems(input: unknown) {
  const r = compileCondition(input as PolicyConditionInput);
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : r.problems;
}

describe('value syntax (docs/policies.md)', () => {
  const bytes = (field: PolicyField, op: PolicyOperator, value: string) => {
    const r = compileValue(field, op, value);
    if ('error' in r) assert.fail(r.error);
    return { hex: Buffer.from(r.pattern).toString('hex'), isPrefix: r.isPrefix };
  };

  test('hardware addresses and client ids are hex with any of the usual separators', () => {
    for (const v of [
      '00:15:5d:0a:1b:2c',
      '00-15-5D-0A-1B-2C',
      '0015.5d0a.1b2c',
      '00155d0a1b2c',
      'hex:00155d0a1b2c',
    ])
      assert.deepEqual(bytes('hardwareAddress', 'equals', v), { hex: '00155d0a1b2c', isPrefix: false }, v);
    assert.deepEqual(bytes('clientId', 'equals', '01:00:15:5d:0a:1b:2c'), {
      hex: '0100155d0a1b2c',
      isPrefix: false,
    });
  });

  test('a trailing * is a prefix (the separator before it belongs to it); * alone is "sent at all"', () => {
    assert.deepEqual(bytes('hardwareAddress', 'equals', '00:15:5d:*'), { hex: '00155d', isPrefix: true });
    assert.deepEqual(bytes('hardwareAddress', 'notEquals', '00-15-5d-*'), { hex: '00155d', isPrefix: true });
    assert.deepEqual(bytes('vendorClass', 'equals', 'MSFT*'), { hex: hex('MSFT'), isPrefix: true });
    assert.deepEqual(bytes('vendorClass', 'startsWith', 'MSFT'), { hex: hex('MSFT'), isPrefix: true });
    assert.deepEqual(bytes('vendorClass', 'equals', '*'), { hex: '', isPrefix: true });
  });

  test('text fields take UTF-8 text or hex:…; DNS names compare without case and without the final dot', () => {
    assert.deepEqual(bytes('vendorClass', 'equals', 'MSFT 5.0'), { hex: hex('MSFT 5.0'), isPrefix: false });
    assert.deepEqual(bytes('relayRemoteId', 'equals', 'hex:00:1a:2b'), { hex: '001a2b', isPrefix: false });
    assert.deepEqual(bytes('userClass', 'equals', 'café'), { hex: hex('café'), isPrefix: false });
    assert.deepEqual(bytes('hostname', 'equals', 'PC-1.'), { hex: hex('pc-1'), isPrefix: false });
    assert.deepEqual(bytes('fqdn', 'startsWith', 'Lab.'), { hex: hex('lab.'), isPrefix: true });
  });

  test('malformed values are refused with the reason', () => {
    const error = (field: PolicyField, value: string) => {
      const r = compileValue(field, 'equals', value);
      assert.ok('error' in r, `${field} ${value} should be refused`);
      return 'error' in r ? r.error : '';
    };
    assert.match(error('hardwareAddress', 'zz:11'), /not hex bytes/);
    assert.match(error('hardwareAddress', '0:15'), /not hex bytes/);
    assert.match(error('hardwareAddress', '00:15:'), /not hex bytes/);
    assert.match(error('clientId', 'hex:'), /empty value/);
    assert.match(error('vendorClass', ''), /empty value/);
    assert.match(error('vendorClass', 'a*b'), /wildcard only at the end/);
    assert.match(error('vendorClass', 'x'.repeat(256)), /at most 255/);
  });
});

describe('condition tree shape', () => {
  test('a leaf needs field, operator and value; a node one of and / or; not both', () => {
    assert.deepEqual(problems({ field: 'vendorClass', value: 'x' }), [
      { path: [], message: "missing 'operator'" },
    ]);
    assert.match(problems({})[0]!.message, /needs 'field', 'operator' and 'value', or 'and', or 'or'/);
    assert.deepEqual(
      problems({ field: 'vendorClass', operator: 'equals', value: 'x', and: [] })[0]!.path,
      [],
    );
    assert.match(problems({ and: [{}], or: [{}] })[0]!.message, /not both/);
    assert.deepEqual(problems({ and: [] })[0]!.path, ['and']);
  });

  test('problems carry the path inside the tree', () => {
    const p = problems({
      or: [
        { field: 'vendorClass', operator: 'equals', value: 'ok' },
        {
          and: [
            { field: 'macAddress', operator: 'equals', value: '1' },
            { field: 'clientId', operator: 'is', value: '01' },
          ],
        },
        { field: 'hardwareAddress', operator: 'startsWith', value: 'nothex' },
      ],
    });
    assert.deepEqual(
      p.map((x) => x.path),
      [
        ['or', 1, 'and', 0, 'field'],
        ['or', 1, 'and', 1, 'operator'],
        ['or', 2, 'value'],
      ],
    );
  });

  test('nesting is bounded', () => {
    let deep: PolicyConditionInput = { field: 'vendorClass', operator: 'equals', value: 'x' };
    for (let i = 0; i < 4; i++) deep = { and: [deep] };
    assert.equal(compileCondition(deep).ok, true);
    const p = problems({ or: [deep] });
    assert.match(p[0]!.message, /at most 5 levels/);
  });
});

// ---------------------------------------------------------------------------------------------
// A client, described as text, and the packet it sends.

interface Client {
  mac: string; // 12 hex digits
  vendorClass: string | null;
  /** a single class sent as is, or RFC 3004 instances */
  userClass: { raw: string } | { instances: string[] } | null;
  clientId: string | null; // hex
  circuitId: string | null;
  remoteId: string | null;
  subscriberId: string | null;
  fqdn: string | null;
  hostname: string | null;
}

// Letters and digits only: a raw user class then never reads as RFC 3004 instances (its first
// byte, the would-be length, is at least 0x30, longer than any string generated here).
const word = fc.string({ unit: fc.constantFrom(...'aAbBcC019'), minLength: 1, maxLength: 6 });
const label = fc.string({ unit: fc.constantFrom(...'aAbB0-'), minLength: 1, maxLength: 4 });
const hexBytes = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('hex'));

const clientArb: fc.Arbitrary<Client> = fc.record({
  mac: fc.constantFrom('00155d', '02aabb', '00155e').chain((oui) => hexBytes(3, 3).map((rest) => oui + rest)),
  vendorClass: fc.option(
    fc.oneof(
      word,
      word.map((w) => `${w}\u0000`),
    ),
  ),
  userClass: fc.option(
    fc.oneof(
      word.map((raw) => ({ raw })),
      fc.array(word, { minLength: 1, maxLength: 3 }).map((instances) => ({ instances })),
    ),
  ),
  clientId: fc.option(hexBytes(2, 7)),
  circuitId: fc.option(word),
  remoteId: fc.option(word),
  subscriberId: fc.option(word),
  fqdn: fc.option(fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.'))),
  hostname: fc.option(
    fc.oneof(
      word,
      word.map((w) => `${w}.`),
    ),
  ),
});

function packetOf(c: Client) {
  const extra: [number, Uint8Array][] = [];
  const text = (s: string) => new TextEncoder().encode(s);
  if (c.vendorClass !== null) extra.push([60, text(c.vendorClass)]);
  if (c.userClass !== null) {
    extra.push([
      77,
      'raw' in c.userClass
        ? text(c.userClass.raw)
        : Buffer.concat(c.userClass.instances.map((i) => Buffer.concat([Buffer.of(i.length), text(i)]))),
    ]);
  }
  const subs: Buffer[] = [];
  for (const [code, v] of [
    [1, c.circuitId],
    [2, c.remoteId],
    [6, c.subscriberId],
  ] as const) {
    if (v !== null) subs.push(Buffer.concat([Buffer.of(code, v.length), text(v)]));
  }
  if (subs.length > 0) extra.push([82, Buffer.concat(subs)]);
  if (c.fqdn !== null) {
    // RFC 4702: flags E (wire format), two rcodes, labels, root.
    const labels = c.fqdn.split('.').map((l) => Buffer.concat([Buffer.of(l.length), text(l)]));
    extra.push([81, Buffer.concat([Buffer.of(0x04, 0, 0), ...labels, Buffer.of(0)])]);
  }
  return packet(T.Discover, {
    mac: c.mac,
    ...(c.clientId === null ? {} : { clientId: c.clientId }),
    ...(c.hostname === null ? {} : { hostname: c.hostname }),
    extra,
  });
}

// ---------------------------------------------------------------------------------------------
// The reference: every field value and every condition value as lower-case hex text.

function referenceValues(c: Client, field: PolicyField): string[] {
  const stripNul = (s: string) => s.replace(/\u0000+$/, '');
  switch (field) {
    case 'vendorClass':
      return c.vendorClass === null || stripNul(c.vendorClass) === '' ? [] : [hex(stripNul(c.vendorClass))];
    case 'userClass':
      if (c.userClass === null) return [];
      if ('raw' in c.userClass) return [hex(c.userClass.raw)];
      return [
        c.userClass.instances.map((i) => i.length.toString(16).padStart(2, '0') + hex(i)).join(''),
        ...c.userClass.instances.map(hex),
      ];
    case 'hardwareAddress':
      return [c.mac];
    case 'clientId':
      return c.clientId === null ? [] : [c.clientId];
    case 'relayCircuitId':
      return c.circuitId === null ? [] : [hex(c.circuitId)];
    case 'relayRemoteId':
      return c.remoteId === null ? [] : [hex(c.remoteId)];
    case 'relaySubscriberId':
      return c.subscriberId === null ? [] : [hex(c.subscriberId)];
    case 'fqdn':
      return c.fqdn === null ? [] : [hex(c.fqdn.toLowerCase())];
    case 'hostname':
      return c.hostname === null ? [] : [hex(c.hostname.replace(/\.$/, '').toLowerCase())];
  }
}

function referenceMatches(c: Client, cond: PolicyConditionInput): boolean {
  if (cond.and) return cond.and.every((x) => referenceMatches(c, x as PolicyConditionInput));
  if (cond.or) return cond.or.some((x) => referenceMatches(c, x as PolicyConditionInput));
  const field = cond.field as PolicyField;
  let v = cond.value!;
  let isPrefix = cond.operator === 'startsWith';
  if (v.endsWith('*')) {
    isPrefix = true;
    v = v.slice(0, -1);
  }
  const isDnsName = field === 'hostname' || field === 'fqdn';
  let pattern: string;
  if (field === 'hardwareAddress' || field === 'clientId' || v.startsWith('hex:')) {
    pattern = v.replace(/^hex:/, '').replace(/[:.-]/g, '').toLowerCase();
  } else if (isDnsName) {
    pattern = hex((isPrefix ? v : v.replace(/\.$/, '')).toLowerCase());
  } else {
    pattern = hex(v);
  }
  const found = referenceValues(c, field).some((x) => (isPrefix ? x.startsWith(pattern) : x === pattern));
  return cond.operator === 'notEquals' ? !found : found;
}

// Condition values: mostly taken from the client (whole, cut short, re-cased, written as hex),
// so that matches are frequent; sometimes from elsewhere.
function valueArb(c: Client, field: PolicyField): fc.Arbitrary<string> {
  const own = referenceValues(c, field);
  const sep = fc.constantFrom('', ':', '-');
  const asHexText = (h: string, s: string) => (h.match(/../g) ?? []).join(s);
  const fromClient: fc.Arbitrary<string>[] = own.map((h) => {
    const isBinary = field === 'hardwareAddress' || field === 'clientId';
    return fc
      .record({
        cut: fc.nat(h.length / 2),
        sep,
        star: fc.boolean(),
        upper: fc.boolean(),
        asHex: fc.boolean(),
      })
      .map(({ cut, sep: s, star, upper, asHex }) => {
        const part = h.slice(0, 2 * (star ? cut : h.length / 2));
        if (isBinary) return `${asHexText(part, s)}${star ? (part === '' ? '*' : `${s}*`) : ''}` || '*';
        if (asHex && part !== '') return `hex:${asHexText(part, s)}${star ? '*' : ''}`;
        const t = Buffer.from(part, 'hex').toString('utf8');
        const shown = upper ? t.toUpperCase() : t;
        return `${shown}${star ? '*' : ''}` || '*';
      });
  });
  const other = field === 'hardwareAddress' || field === 'clientId' ? hexBytes(1, 6) : word;
  return fc.oneof(other, fc.constant('*'), ...fromClient);
}

function conditionArb(c: Client, depth: number): fc.Arbitrary<PolicyConditionInput> {
  const leaf = fc
    .record({ field: fc.constantFrom(...POLICY_FIELDS), operator: fc.constantFrom(...POLICY_OPERATORS) })
    .chain(({ field, operator }) => valueArb(c, field).map((value) => ({ field, operator, value })));
  if (depth === 0) return leaf;
  const list = fc.array(conditionArb(c, depth - 1), { minLength: 1, maxLength: 3 });
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: list.map((and) => ({ and })) },
    { weight: 1, arbitrary: list.map((or) => ({ or })) },
  );
}

describe('evaluation against the reference (fast-check)', () => {
  test('the compiled condition agrees with the reference on random clients and trees', () => {
    let matched = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        clientArb.chain((c) => conditionArb(c, 3).map((cond) => ({ c, cond }))),
        ({ c, cond }) => {
          const r = compileCondition(cond);
          if (!r.ok) return; // a generated value that is not valid (e.g. an empty cut of a text)
          runs++;
          const expected = referenceMatches(c, cond);
          if (expected) matched++;
          assert.equal(
            evaluateCondition(r.condition, new RequestFields(packetOf(c))),
            expected,
            JSON.stringify({ c, cond }),
          );
        },
      ),
      { numRuns: 3000 },
    );
    // The generator is useful only if both outcomes are common.
    assert.ok(runs > 2500, `${runs} valid runs`);
    assert.ok(matched > runs * 0.2 && matched < runs * 0.8, `${matched} of ${runs} matched`);
  });

  test('each field is read from its option', () => {
    const c: Client = {
      mac: '00155d0a1b2c',
      vendorClass: 'MSFT 5.0\u0000',
      userClass: { instances: ['iPXE', 'lab'] },
      clientId: '0100155d0a1b2c',
      circuitId: 'eth0/1',
      remoteId: 'cm-42',
      subscriberId: 'sub-7',
      fqdn: 'PC1.Example.test',
      hostname: 'PC1.',
    };
    const f = new RequestFields(packetOf(c));
    const is = (cond: PolicyConditionInput) => evaluateCondition(compiled(cond), f);
    assert.ok(is({ field: 'vendorClass', operator: 'equals', value: 'MSFT 5.0' }), 'trailing NUL ignored');
    assert.ok(is({ field: 'userClass', operator: 'equals', value: 'lab' }), 'any RFC 3004 instance');
    assert.ok(is({ field: 'hardwareAddress', operator: 'equals', value: '00:15:5d:*' }));
    assert.ok(is({ field: 'clientId', operator: 'equals', value: '01:00:15:5d:0a:1b:2c' }));
    assert.ok(is({ field: 'relayCircuitId', operator: 'equals', value: 'eth0/1' }));
    assert.ok(is({ field: 'relayRemoteId', operator: 'equals', value: 'hex:63:6d:2d:34:32' }));
    assert.ok(is({ field: 'relaySubscriberId', operator: 'startsWith', value: 'sub-' }));
    assert.ok(is({ field: 'fqdn', operator: 'equals', value: 'pc1.example.test.' }));
    assert.ok(is({ field: 'hostname', operator: 'equals', value: 'pc1' }));
    assert.ok(!is({ field: 'hostname', operator: 'notEquals', value: 'PC1' }));
  });

  test('an absent field: equals and startsWith fail, notEquals holds, "*" tells whether it was sent', () => {
    const f = new RequestFields(packet(T.Discover, { mac: '02aabbccddee' }));
    const is = (cond: PolicyConditionInput) => evaluateCondition(compiled(cond), f);
    assert.equal(is({ field: 'vendorClass', operator: 'equals', value: '*' }), false);
    assert.equal(is({ field: 'vendorClass', operator: 'notEquals', value: '*' }), true);
    assert.equal(is({ field: 'vendorClass', operator: 'notEquals', value: 'MSFT 5.0' }), true);
    assert.equal(is({ field: 'relayRemoteId', operator: 'startsWith', value: 'a' }), false);
  });
});

describe('matchPolicy', () => {
  const policy = (name: string, cond: PolicyConditionInput): EnginePolicy => ({
    name,
    level: 'scope',
    processingOrder: 1,
    condition: compiled(cond),
    ranges: [],
    options: new Map(),
    alwaysSend: new Set(),
    leaseTimeSeconds: 60,
    renewTimeSeconds: 30,
    rebindTimeSeconds: 52,
    dns: null,
  });

  test('the first policy in the list whose condition holds; null when none does', () => {
    const p = packet(T.Discover, { mac: '00155d000001', extra: [[60, fromHex('4d534654')]] });
    const list = [
      policy('linux', { field: 'vendorClass', operator: 'equals', value: 'dhcpcd*' }),
      policy('hyper-v', { field: 'hardwareAddress', operator: 'startsWith', value: '00:15:5d' }),
      policy('msft', { field: 'vendorClass', operator: 'equals', value: 'MSFT' }),
    ];
    assert.equal(matchPolicy(list, p)?.name, 'hyper-v');
    assert.equal(matchPolicy(list.slice(2), p)?.name, 'msft');
    assert.equal(matchPolicy(list.slice(0, 1), p), null);
    assert.equal(matchPolicy([], p), null);
  });
});
