// Policies in the configuration: every mistake is an error at its JSON path (through the real
// loader: schema, then the resolver), and a valid file resolves to each scope's evaluation list.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ConfigError,
  formatConfigErrors,
  parseConfigText,
  type ResolvedConfig,
} from '../../src/config/loader.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

type Json = Record<string, unknown>;

const VC = { field: 'vendorClass', operator: 'equals', value: 'MSFT 5.0' };

function policy(over: Json = {}): Json {
  return { name: 'p', processingOrder: 1, conditions: VC, ...over };
}

function config(scopePolicies: Json[] | undefined, serverPolicies?: Json[], scopeOver: Json = {}): Json {
  return {
    ...(serverPolicies ? { policies: serverPolicies } : {}),
    scopes: [
      {
        subnet: '10.0.0.0/24',
        ranges: [
          { start: '10.0.0.10', end: '10.0.0.99' },
          { start: '10.0.0.100', end: '10.0.0.200' },
        ],
        ...(scopePolicies ? { policies: scopePolicies } : {}),
        ...scopeOver,
      },
    ],
  };
}

function load(c: Json) {
  return parseConfigText(JSON.stringify(c, null, 2), 'config.json', { hostname: 'h' });
}

function loadOk(c: Json): ResolvedConfig {
  const r = load(c);
  if (!r.ok) assert.fail(formatConfigErrors(r.errors));
  return r.config;
}

/** Exactly one error, at `path`, matching `message`. */
function expectOnly(c: Json, path: string, message: RegExp): ConfigError {
  const r = load(c);
  assert.equal(r.ok, false, 'expected an error');
  const errors = r.ok ? [] : r.errors;
  assert.equal(errors.length, 1, formatConfigErrors(errors));
  assert.equal(errors[0]!.path, path, formatConfigErrors(errors));
  assert.match(errors[0]!.message, message);
  return errors[0]!;
}

describe('policy errors name the JSON path', () => {
  test('an unknown field or operator, with a suggestion and the line', () => {
    const e = expectOnly(
      config([policy({ conditions: { field: 'vendorclass', operator: 'equals', value: 'x' } })]),
      '/scopes/0/policies/0/conditions/field',
      /must be one of 'vendorClass', .* not vendorclass \(did you mean 'vendorClass'\?\)/,
    );
    assert.equal(e.readablePath, 'scopes[0].policies[0].conditions.field');
    assert.ok(e.line !== undefined);
    expectOnly(
      config([policy({ conditions: { or: [VC, { field: 'clientId', operator: 'matches', value: '01' }] } })]),
      '/scopes/0/policies/0/conditions/or/1/operator',
      /must be one of 'equals', 'notEquals' or 'startsWith'/,
    );
    // Deeper than the schema spells out: the condition compiler reports it, also with the path.
    expectOnly(
      config([policy({ conditions: { and: [{ or: [{ field: 'mac', operator: 'equals', value: '1' }] }] } })]),
      '/scopes/0/policies/0/conditions/and/0/or/0/field',
      /must be one of vendorClass, userClass, hardwareAddress/,
    );
    expectOnly(
      config([policy({ conditions: { and: [VC], fieldd: 'x' } })]),
      '/scopes/0/policies/0/conditions/fieldd',
      /unknown property 'fieldd'/,
    );
  });

  test('a malformed value or tree', () => {
    expectOnly(
      config([policy({ conditions: { field: 'hardwareAddress', operator: 'equals', value: '00:1g:*' } })]),
      '/scopes/0/policies/0/conditions/value',
      /not hex bytes/,
    );
    expectOnly(
      config([policy({ conditions: { field: 'vendorClass', operator: 'equals', value: 'x', or: [VC] } })]),
      '/scopes/0/policies/0/conditions',
      /either a test .* or 'or', not both/,
    );
    expectOnly(
      config([policy({ conditions: { and: [{ field: 'vendorClass', value: 'x' }] } })]),
      '/scopes/0/policies/0/conditions/and/0',
      /missing 'operator'/,
    );
  });

  test('names and processing orders are unique at their level (scope and server are different levels)', () => {
    expectOnly(
      config([policy(), policy({ processingOrder: 2 })]),
      '/scopes/0/policies/1/name',
      /policy name 'p' is already used by scopes\[0\]\.policies\[0\]/,
    );
    expectOnly(
      config([policy({ name: 'a' }), policy({ name: 'b' })]),
      '/scopes/0/policies/1/processingOrder',
      /processing order 1 is already used by scopes\[0\]\.policies\[0\] \('a'\)/,
    );
    assert.ok(load(config([policy()], [policy()])).ok, 'the same name and order at both levels is fine');
  });

  test("ranges lie inside the scope's ranges, overlap no other policy's, and only scope policies have them", () => {
    expectOnly(
      config([policy({ ranges: [{ start: '10.0.0.5', end: '10.0.0.20' }] })]),
      '/scopes/0/policies/0/ranges/0',
      /10\.0\.0\.5–10\.0\.0\.20 is not inside the scope's ranges/,
    );
    expectOnly(
      config([policy({ ranges: [{ start: '10.0.0.250', end: '10.0.1.20' }] })]),
      '/scopes/0/policies/0/ranges/0/end',
      /10\.0\.1\.20 is outside the scope subnet 10\.0\.0\.0\/24/,
    );
    // Across two adjacent scope ranges is inside them.
    assert.ok(load(config([policy({ ranges: [{ start: '10.0.0.90', end: '10.0.0.110' }] })])).ok);
    expectOnly(
      config([
        policy({ name: 'a', ranges: [{ start: '10.0.0.150', end: '10.0.0.160' }] }),
        policy({ name: 'b', processingOrder: 2, ranges: [{ start: '10.0.0.160', end: '10.0.0.170' }] }),
      ]),
      '/scopes/0/policies/1/ranges/0',
      /overlaps scopes\[0\]\.policies\[0\]\.ranges\[0\]/,
    );
    expectOnly(
      config(undefined, [policy({ ranges: [{ start: '10.0.0.150', end: '10.0.0.160' }] })]),
      '/policies/0/ranges',
      /only a scope policy has ranges/,
    );
  });

  test('options are checked like scope options', () => {
    expectOnly(
      config([policy({ options: [{ name: 'routerz', data: '10.0.0.1' }] })]),
      '/scopes/0/policies/0/options/0/name',
      /unknown option name 'routerz' \(did you mean 'routers'\?\)/,
    );
    expectOnly(
      config(undefined, [policy({ options: [{ name: 'leaseTime', data: 60 }] })]),
      '/policies/0/options/0/name',
      /managed by the server; set leaseTimeSeconds instead/,
    );
  });
});

describe('resolution', () => {
  test('no policies: the scope has no policies property (nothing for the engine to evaluate)', () => {
    const c = loadOk(config(undefined));
    assert.equal('policies' in c.scopes[0]!, false);
    const off = loadOk(config([policy({ enabled: false })]));
    assert.equal('policies' in off.scopes[0]!, false, 'a disabled policy is as if absent');
  });

  test("each scope's list: its policies by processing order, then the server's; options and timers merged", () => {
    const c = loadOk({
      options: [
        { name: 'domainName', data: 'server.test' },
        { name: 'timeOffset', data: 3600, alwaysSend: true },
      ],
      policies: [
        policy({
          name: 'srv',
          processingOrder: 1,
          options: [{ name: 'timeOffset', data: 7200 }],
          dns: { enabled: false },
        }),
      ],
      scopes: [
        {
          subnet: '10.0.0.0/24',
          ranges: [{ start: '10.0.0.10', end: '10.0.0.200' }],
          leaseTimeSeconds: 7200,
          renewTimeSeconds: 1000,
          rebindTimeSeconds: 2000,
          options: [{ name: 'routers', data: '10.0.0.1' }],
          policies: [
            policy({ name: 'late', processingOrder: 9 }),
            policy({
              name: 'early',
              processingOrder: 2,
              ranges: [{ start: '10.0.0.150', end: '10.0.0.160' }],
              leaseTimeSeconds: 600,
              options: [{ name: 'domainName', data: 'policy.test', alwaysSend: true }],
            }),
          ],
        },
        { subnet: '10.1.0.0/24', ranges: [{ start: '10.1.0.10', end: '10.1.0.20' }] },
      ],
    });
    const [s0, s1] = c.scopes;
    assert.deepEqual(
      s0!.policies!.map((p) => [p.name, p.level]),
      [
        ['early', 'scope'],
        ['late', 'scope'],
        ['srv', 'server'],
      ],
    );
    assert.deepEqual(
      s1!.policies!.map((p) => p.name),
      ['srv'],
    );
    const early = s0!.policies![0]!;
    assert.deepEqual(early.ranges, [{ start: parseIpv4('10.0.0.150'), end: parseIpv4('10.0.0.160') }]);
    assert.deepEqual(
      [early.leaseTimeSeconds, early.renewTimeSeconds, early.rebindTimeSeconds],
      [600, 300, 525],
    );
    assert.equal(new TextDecoder().decode(early.options.get(15)), 'policy.test');
    assert.deepEqual([...early.options.get(3)!], [10, 0, 0, 1], 'scope options underneath');
    assert.deepEqual(
      [...early.alwaysSend].sort((a, b) => a - b),
      [2, 15],
    );
    const late = s0!.policies![1]!;
    assert.deepEqual(
      [late.leaseTimeSeconds, late.renewTimeSeconds, late.rebindTimeSeconds],
      [7200, 1000, 2000],
    );
    const srv = s0!.policies![2]!;
    assert.deepEqual([...srv.options.get(2)!], [0, 0, 0x1c, 0x20], 'the server policy over the scope');
    assert.deepEqual([...srv.alwaysSend], [], 'the winning definition decides alwaysSend');
    assert.deepEqual(srv.dns, { enabled: false }, 'dns settings reach the policy (docs/dns.md)');
  });

  test('the shipped example in docs/policies.md loads', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../docs/policies.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length > 0, 'docs/policies.md has json examples');
    for (const block of blocks) {
      const json = JSON.parse(block) as Json;
      if (!('scopes' in json)) continue;
      const r = load(json);
      if (!r.ok) assert.fail(`${block}\n${formatConfigErrors(r.errors)}`);
    }
  });
});
