// Policies in the allocation engine, configured through the real loader (so the resolver's
// option merging and timers are part of what is tested): range, options, lease time and
// policyName for clients matched by vendor class, MAC prefix and relay remote id; processing
// order; scope policies before server policies; exhausted policy ranges; reservations; renewals.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatConfigErrors, parseConfigText, type ResolvedConfig } from '../../src/config/loader.js';
import { DhcpEngine, type EngineResult } from '../../src/dhcp/engine.js';
import { encodeRelayAgentInfo } from '../../src/wire/dhcp-options.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { ip, NOW, type PacketOptions, packet, readU32, SERVER_ID } from './helpers.js';

type Reply = Extract<EngineResult, { action: 'reply' }>;
type Json = Record<string, unknown>;

const text = (s: string) => new TextEncoder().encode(s);
const vendorClass = (v: string): [number, Uint8Array] => [60, text(v)];
const remoteId = (v: string): [number, Uint8Array] => [82, encodeRelayAgentInfo([[2, text(v)]])];

/** Scope 10.0.0.0/24, range .100–.199; the phones' policy owns .150–.159, the printers' .160–.161. */
function baseConfig(over: { scopePolicies?: Json[]; serverPolicies?: Json[]; scope?: Json } = {}): Json {
  return {
    options: [{ name: 'domainNameServers', data: '10.0.0.53' }],
    leaseTimeSeconds: 3600,
    ...(over.serverPolicies ? { policies: over.serverPolicies } : {}),
    scopes: [
      {
        subnet: '10.0.0.0/24',
        ranges: [{ start: '10.0.0.100', end: '10.0.0.199' }],
        options: [
          { name: 'routers', data: '10.0.0.1' },
          { name: 'domainName', data: 'example.test' },
        ],
        ...(over.scopePolicies ? { policies: over.scopePolicies } : {}),
        ...over.scope,
      },
    ],
  };
}

const PHONES = {
  name: 'phones',
  processingOrder: 1,
  conditions: { field: 'vendorClass', operator: 'startsWith', value: 'Polycom' },
  ranges: [{ start: '10.0.0.150', end: '10.0.0.159' }],
  options: [
    { name: 'tftpServerName', data: 'tftp.phones.test' },
    { name: 'domainName', data: 'phones.test' },
  ],
  leaseTimeSeconds: 86400,
};
const HYPERV = {
  name: 'hyper-v',
  processingOrder: 2,
  conditions: { field: 'hardwareAddress', operator: 'equals', value: '00:15:5d:*' },
  ranges: [{ start: '10.0.0.170', end: '10.0.0.179' }],
  leaseTimeSeconds: 600,
};
const CABLE = {
  name: 'cable-modems',
  processingOrder: 3,
  conditions: {
    and: [
      { field: 'relayRemoteId', operator: 'startsWith', value: 'cm-' },
      { field: 'vendorClass', operator: 'notEquals', value: 'Polycom*' },
    ],
  },
  ranges: [{ start: '10.0.0.180', end: '10.0.0.181' }],
  options: [{ name: 'routers', data: '10.0.0.254' }],
};

function load(config: Json): ResolvedConfig {
  const r = parseConfigText(JSON.stringify(config), 'policies.json', { hostname: 'h' });
  if (!r.ok) assert.fail(formatConfigErrors(r.errors));
  return r.config;
}

function engineFor(config: Json): DhcpEngine {
  const c = load(config);
  return new DhcpEngine(
    {
      serverName: 'tl-test',
      serverIdentifier: SERVER_ID,
      scopes: c.scopes,
      directScopeIds: [c.scopes[0]!.id],
    },
    [],
  );
}

function reply(r: EngineResult, type: T): Reply {
  assert.equal(r.action, 'reply', r.action === 'ignore' ? `ignored: ${r.reason} ${r.detail ?? ''}` : '');
  const rr = r as Reply;
  assert.equal(rr.messageType, type, rr.detail);
  return rr;
}

/** DISCOVER + REQUEST; returns the ACK. */
function dora(e: DhcpEngine, o: PacketOptions, now = NOW): Reply {
  const offer = reply(e.handle(packet(T.Discover, o), now), T.Offer);
  return reply(
    e.handle(
      packet(T.Request, { ...o, requested: formatIpv4(offer.reply.yiaddr), serverId: '10.0.0.1' }),
      now,
    ),
    T.Ack,
  );
}

const inRange = (a: number, lo: string, hi: string) => a >= ip(lo) && a <= ip(hi);
const optionText = (r: Reply, code: number) => {
  const d = r.reply.options.get(code);
  return d === undefined ? undefined : new TextDecoder().decode(d);
};
const dotted = (r: Reply, code: number) => {
  const d = r.reply.options.get(code);
  return d === undefined ? undefined : [...d].join('.');
};

describe('a matching client gets the policy range, options, lease time and policyName', () => {
  const e = engineFor(baseConfig({ scopePolicies: [PHONES, HYPERV, CABLE] }));

  test('by vendor class', () => {
    const ack = dora(e, { mac: '020000000001', extra: [vendorClass('Polycom-VVX')] });
    assert.ok(inRange(ack.reply.yiaddr, '10.0.0.150', '10.0.0.159'), formatIpv4(ack.reply.yiaddr));
    assert.equal(optionText(ack, 66), 'tftp.phones.test', 'policy option');
    assert.equal(optionText(ack, 15), 'phones.test', 'policy option overrides the scope');
    assert.equal(dotted(ack, 3), '10.0.0.1', 'scope option kept');
    assert.equal(dotted(ack, 6), '10.0.0.53', 'server option kept');
    assert.equal(readU32(ack.reply.options.get(51)), 86400);
    assert.equal(readU32(ack.reply.options.get(58)), 43200, 'T1 = 50% of the policy lease');
    assert.equal(readU32(ack.reply.options.get(59)), 75600, 'T2 = 87.5% of the policy lease');
    assert.equal(ack.changes[0]?.policyName, 'phones');
    assert.equal(e.getLease(ack.reply.yiaddr)?.policyName, 'phones');
    assert.equal(e.getLease(ack.reply.yiaddr)?.leaseExpiresAt, NOW + 86400);
  });

  test('by MAC prefix', () => {
    const ack = dora(e, { mac: '00155d0a1b2c' });
    assert.ok(inRange(ack.reply.yiaddr, '10.0.0.170', '10.0.0.179'), formatIpv4(ack.reply.yiaddr));
    assert.equal(readU32(ack.reply.options.get(51)), 600);
    assert.equal(optionText(ack, 15), 'example.test');
    assert.equal(ack.changes[0]?.policyName, 'hyper-v');
  });

  test('by relay remote id (and a notEquals)', () => {
    const ack = dora(e, { mac: '020000000003', giaddr: '10.0.0.2', extra: [remoteId('cm-0042')] });
    assert.ok(inRange(ack.reply.yiaddr, '10.0.0.180', '10.0.0.181'), formatIpv4(ack.reply.yiaddr));
    assert.equal(dotted(ack, 3), '10.0.0.254');
    assert.equal(readU32(ack.reply.options.get(51)), 3600, 'no lease time in the policy: the scope one');
    assert.equal(ack.changes[0]?.policyName, 'cable-modems');
  });

  test('a client matching nothing: outside every policy range, scope settings, no policyName', () => {
    for (let n = 0; n < 20; n++) {
      const ack = dora(e, {
        mac: `0200000001${n.toString(16).padStart(2, '0')}`,
        extra: [vendorClass('MSFT 5.0')],
      });
      const a = ack.reply.yiaddr;
      assert.ok(inRange(a, '10.0.0.100', '10.0.0.199'));
      assert.ok(
        !inRange(a, '10.0.0.150', '10.0.0.159') && !inRange(a, '10.0.0.170', '10.0.0.181'),
        formatIpv4(a),
      );
      assert.equal(readU32(ack.reply.options.get(51)), 3600);
      assert.equal(ack.changes[0]?.policyName, null);
    }
  });

  test('INFORM gets the policy options too', () => {
    const r = reply(
      e.handle(
        packet(T.Inform, { mac: '020000000009', ciaddr: '10.0.0.20', extra: [vendorClass('Polycom')] }),
        NOW,
      ),
      T.Ack,
    );
    assert.equal(optionText(r, 66), 'tftp.phones.test');
  });
});

describe('order of evaluation', () => {
  const both = (name: string, processingOrder: number, extra: Json = {}) => ({
    name,
    processingOrder,
    conditions: { field: 'vendorClass', operator: 'equals', value: 'Polycom*' },
    ...extra,
  });

  test('processing order decides, not the order in the file; the first match wins', () => {
    const e = engineFor(
      baseConfig({
        scopePolicies: [
          both('second', 7, { leaseTimeSeconds: 700 }),
          both('first', 3, { leaseTimeSeconds: 300 }),
        ],
      }),
    );
    const ack = dora(e, { mac: '020000000010', extra: [vendorClass('Polycom')] });
    assert.equal(ack.changes[0]?.policyName, 'first');
    assert.equal(readU32(ack.reply.options.get(51)), 300);
  });

  test('scope policies before server policies, whatever their processing order', () => {
    const e = engineFor(
      baseConfig({
        serverPolicies: [both('server-wide', 1, { leaseTimeSeconds: 100 })],
        scopePolicies: [both('scope', 50, { leaseTimeSeconds: 500 })],
      }),
    );
    const ack = dora(e, { mac: '020000000011', extra: [vendorClass('Polycom')] });
    assert.equal(ack.changes[0]?.policyName, 'scope');
  });

  test('a server policy applies in every scope when no scope policy matches; a disabled policy is skipped', () => {
    const e = engineFor(
      baseConfig({
        serverPolicies: [
          both('off', 1, { enabled: false, leaseTimeSeconds: 1 }),
          both('server-wide', 2, {
            leaseTimeSeconds: 100,
            options: [{ name: 'domainName', data: 'srv.test' }],
          }),
        ],
        scopePolicies: [
          { ...both('scope', 1), conditions: { field: 'userClass', operator: 'equals', value: 'x' } },
        ],
      }),
    );
    const ack = dora(e, { mac: '020000000012', extra: [vendorClass('Polycom')] });
    assert.equal(ack.changes[0]?.policyName, 'server-wide');
    assert.equal(readU32(ack.reply.options.get(51)), 100);
    assert.equal(optionText(ack, 15), 'srv.test');
    assert.equal(dotted(ack, 3), '10.0.0.1');
  });
});

describe('addresses', () => {
  test('an exhausted policy range leaves its clients without an address, though the scope has more', () => {
    const e = engineFor(
      baseConfig({
        scopePolicies: [{ ...PHONES, ranges: [{ start: '10.0.0.150', end: '10.0.0.151' }] }],
      }),
    );
    const phone = (n: number) => ({
      mac: `0200000002${n.toString(16).padStart(2, '0')}`,
      extra: [vendorClass('Polycom')],
    });
    const a = dora(e, phone(1)).reply.yiaddr;
    const b = dora(e, phone(2)).reply.yiaddr;
    assert.deepEqual([a, b].sort().map(formatIpv4), ['10.0.0.150', '10.0.0.151']);
    const r = e.handle(packet(T.Discover, phone(3)), NOW);
    assert.equal(r.action, 'ignore');
    assert.equal(r.action === 'ignore' ? r.reason : '', 'no-free-address');
    // Other clients are still served.
    assert.ok(inRange(dora(e, { mac: '020000000299' }).reply.yiaddr, '10.0.0.100', '10.0.0.149'));
  });

  test('a requested address outside the client’s policy range is not offered; a SELECTING REQUEST for one is NAKed', () => {
    const e = engineFor(baseConfig({ scopePolicies: [PHONES] }));
    const offer = reply(
      e.handle(
        packet(T.Discover, { mac: '020000000020', requested: '10.0.0.120', extra: [vendorClass('Polycom')] }),
        NOW,
      ),
      T.Offer,
    );
    assert.ok(inRange(offer.reply.yiaddr, '10.0.0.150', '10.0.0.159'));
    const plain = reply(
      e.handle(packet(T.Discover, { mac: '020000000021', requested: '10.0.0.155' }), NOW),
      T.Offer,
    );
    assert.ok(!inRange(plain.reply.yiaddr, '10.0.0.150', '10.0.0.159'), formatIpv4(plain.reply.yiaddr));
    reply(
      e.handle(
        packet(T.Request, { mac: '020000000021', requested: '10.0.0.155', serverId: '10.0.0.1' }),
        NOW,
      ),
      T.Nak,
    );
  });

  test('a renewing client whose address is outside its policy range is NAKed (it starts over)', () => {
    // First without policies; then the same leases under a config that has them (a reload).
    const before = engineFor(baseConfig());
    const ack = dora(before, { mac: '020000000030', extra: [vendorClass('Polycom')] });
    const address = formatIpv4(ack.reply.yiaddr);
    assert.ok(!inRange(ack.reply.yiaddr, '10.0.0.150', '10.0.0.159'));
    const c = load(baseConfig({ scopePolicies: [PHONES] }));
    const after = new DhcpEngine(
      {
        serverName: 'tl-test',
        serverIdentifier: SERVER_ID,
        scopes: c.scopes,
        directScopeIds: [c.scopes[0]!.id],
      },
      [...before.leases()],
    );
    const renew = { mac: '020000000030', ciaddr: address, extra: [vendorClass('Polycom')] };
    const nak = reply(after.handle(packet(T.Request, renew), NOW + 100), T.Nak);
    assert.match(nak.detail ?? '', /outside the ranges for policy 'phones'/);
    // A client without the policy keeps its address as before.
    const other = dora(before, { mac: '020000000031' });
    const keeps = new DhcpEngine(
      {
        serverName: 'tl-test',
        serverIdentifier: SERVER_ID,
        scopes: c.scopes,
        directScopeIds: [c.scopes[0]!.id],
      },
      [...before.leases()],
    );
    reply(
      keeps.handle(
        packet(T.Request, { mac: '020000000031', ciaddr: formatIpv4(other.reply.yiaddr) }),
        NOW + 100,
      ),
      T.Ack,
    );
  });

  test('a reserved client keeps its reserved address; options: reservation > policy > scope; policyName recorded', () => {
    const e = engineFor(
      baseConfig({
        scopePolicies: [PHONES],
        scope: {
          reservations: [
            {
              address: '10.0.0.20',
              hardwareAddress: '02:00:00:00:00:40',
              options: [{ name: 'tftpServerName', data: 'tftp.desk.test' }],
            },
          ],
        },
      }),
    );
    const ack = dora(e, { mac: '020000000040', extra: [vendorClass('Polycom')] });
    assert.equal(formatIpv4(ack.reply.yiaddr), '10.0.0.20');
    assert.equal(optionText(ack, 66), 'tftp.desk.test', 'the reservation wins');
    assert.equal(optionText(ack, 15), 'phones.test', 'the policy beats the scope');
    assert.equal(readU32(ack.reply.options.get(51)), 86400);
    assert.equal(ack.changes[0]?.policyName, 'phones');
  });

  test('a freed policy address goes back to the policy, not to other clients', () => {
    const e = engineFor(
      baseConfig({ scopePolicies: [{ ...PHONES, ranges: [{ start: '10.0.0.150', end: '10.0.0.150' }] }] }),
    );
    const phone = { mac: '020000000050', extra: [vendorClass('Polycom')] };
    const ack = dora(e, phone);
    assert.equal(formatIpv4(ack.reply.yiaddr), '10.0.0.150');
    e.handle(packet(T.Release, { ...phone, ciaddr: '10.0.0.150', serverId: '10.0.0.1' }), NOW + 1);
    for (let n = 0; n < 60; n++) {
      const a = dora(e, { mac: `0200000003${n.toString(16).padStart(2, '0')}` }, NOW + 2).reply.yiaddr;
      assert.notEqual(formatIpv4(a), '10.0.0.150');
    }
    const again = dora(e, { mac: '020000000051', extra: [vendorClass('Polycom')] }, NOW + 3);
    assert.equal(formatIpv4(again.reply.yiaddr), '10.0.0.150');
  });
});
