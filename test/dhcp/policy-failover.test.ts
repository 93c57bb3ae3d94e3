// Policies across a failover pair: policyName travels in BNDUPD as Microsoft's option 40 (Client
// Matched Policy, UTF-16LE, failover.md §3.4) to non-ISC partners and is read back; pool
// balancing splits each policy's range; long names never push a BNDUPD past 2048 bytes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { compileCondition, type EnginePolicy } from '../../src/dhcp/policy.js';
import {
  bindingFromLease,
  decodeMatchedPolicy,
  encodeMatchedPolicy,
  leaseFromBinding,
} from '../../src/failover/binding-update.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { buildBndUpd, decodeFailover, encodeFailover } from '../../src/wire/failover-codec.js';
import {
  type FailoverBinding,
  FailoverMessageType,
  FailoverOptionCode,
  ServerState,
} from '../../src/wire/failover-message.js';
import { ipString, SimPair, type SimServer } from '../failover/lib/pair.js';
import { ip, mac, packet } from './helpers.js';

const T0 = 1_700_000_000;
const SCOPE = '10.0.0.0';

function active(over: Partial<Lease> = {}): Lease {
  return {
    ...emptyLease(ip('10.0.0.120'), SCOPE, 'active', T0),
    hardwareType: 1,
    hardwareAddress: '00155d0a1b2c',
    leaseExpiresAt: T0 + 600,
    clientLastTransactionAt: T0,
    ownerServer: 'a',
    policyName: 'hyper-v',
    ...over,
  };
}

/** The binding as the partner decodes it from the BNDUPD bytes. */
function wire(lease: Lease, isIscPeer = false): FailoverBinding {
  const bytes = encodeFailover(
    buildBndUpd({ time: T0, xid: 1, bindings: [bindingFromLease(lease, { isIscPeer })] }),
  );
  const r = decodeFailover(bytes);
  assert.ok(r.ok);
  return r.message.bindings[0]!;
}

describe('option 40, Client Matched Policy', () => {
  test('UTF-16LE with a terminating NUL', () => {
    assert.deepEqual([...encodeMatchedPolicy('Hv')], [0x48, 0, 0x76, 0, 0, 0]);
    assert.equal(decodeMatchedPolicy(Uint8Array.of(0x48, 0, 0x76, 0, 0, 0)), 'Hv');
    assert.equal(decodeMatchedPolicy(Uint8Array.of(0x48, 0, 0x76, 0)), 'Hv', 'without the NUL');
    assert.equal(decodeMatchedPolicy(Uint8Array.of(0x48, 0, 0x76)), 'H', 'odd length');
    assert.equal(decodeMatchedPolicy(Uint8Array.of(0, 0)), null);
    assert.equal(decodeMatchedPolicy(new Uint8Array(0)), null);
  });

  test('decode(encode(name)) = name for any name without a trailing NUL (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }).filter((s) => !s.endsWith('\u0000')),
        (name) => assert.equal(decodeMatchedPolicy(encodeMatchedPolicy(name)), name),
      ),
    );
  });

  test('an ACTIVE binding carries it; the receiver records the same policyName', () => {
    const b = wire(active({ policyName: 'Téléphones ☎' }));
    const option = b.otherOptions.find((o) => o.code === FailoverOptionCode.MS_CLIENT_MATCHED_POLICY);
    assert.ok(option, 'option 40 in the BNDUPD');
    assert.equal(Buffer.from(option.data).toString('utf16le'), 'Téléphones ☎\u0000');
    assert.equal(leaseFromBinding(b, undefined, SCOPE, 'a', T0).policyName, 'Téléphones ☎');
  });

  test('never toward ISC dhcpd, never without a policy, never for a binding that is not ACTIVE', () => {
    const has40 = (b: FailoverBinding) =>
      b.otherOptions.some((o) => o.code === FailoverOptionCode.MS_CLIENT_MATCHED_POLICY);
    assert.equal(has40(wire(active(), true)), false, 'isc- partner');
    assert.equal(has40(wire(active({ policyName: null }))), false);
    for (const state of ['free', 'expired', 'released', 'abandoned', 'reset', 'backup'] as const)
      assert.equal(has40(wire(active({ state }))), false, state);
  });

  test('an ACTIVE binding without option 40 has no policyName (ISC, or a client no policy matched)', () => {
    const ours = active({ policyName: 'old' });
    assert.equal(leaseFromBinding(wire(active({ policyName: null })), ours, SCOPE, 'b', T0).policyName, null);
    // Freed again: the binding keeps the name it had, like the client's identity.
    const released = leaseFromBinding(wire(active({ state: 'released' })), ours, SCOPE, 'b', T0 + 5);
    assert.equal(released.state, 'free');
    assert.equal(released.policyName, 'old');
  });
});

// ---------------------------------------------------------------------------------------------
// A pair (test/failover/lib/pair.ts): two engines and endpoints, messages through the codec.

function policy(name: string, over: Partial<EnginePolicy> = {}): EnginePolicy {
  const c = compileCondition({ field: 'hardwareAddress', operator: 'startsWith', value: '02:00:00:00' });
  assert.ok(c.ok);
  return {
    name,
    level: 'scope',
    processingOrder: 1,
    condition: c.condition,
    ranges: [{ start: ip('10.0.0.130'), end: ip('10.0.0.139') }],
    options: new Map(),
    alwaysSend: new Set(),
    leaseTimeSeconds: 600,
    renewTimeSeconds: 300,
    rebindTimeSeconds: 525,
    dns: null,
    ...over,
  };
}

function normal(p: SimPair): SimPair {
  p.runUntil(
    () =>
      p.a.endpoint.currentState === ServerState.NORMAL && p.b.endpoint.currentState === ServerState.NORMAL,
    120,
    'both NORMAL',
  );
  p.runUntil(() => p.a.endpoint.status(p.now).queuedUpdates === 0, 60, 'updates sent');
  return p;
}

function states(s: SimServer, from: string, to: string): Map<string, number> {
  const m = new Map<string, number>();
  for (let a = ip(from); a <= ip(to); a++) {
    const state = s.engine.getLease(a)?.state ?? 'free';
    m.set(state, (m.get(state) ?? 0) + 1);
  }
  return m;
}

describe('a failover pair with a policy', () => {
  test('pool balancing gives the secondary part of the policy range as well as of the rest', () => {
    const p = normal(new SimPair({ scope: { policies: [policy('lab')] } }));
    p.run(5);
    const inPolicy = states(p.a, '10.0.0.130', '10.0.0.139');
    const rest = states(p.a, '10.0.0.100', '10.0.0.129');
    assert.equal(inPolicy.get('backup'), 5, JSON.stringify([...inPolicy]));
    assert.equal(inPolicy.get('free'), 5);
    assert.equal(rest.get('backup'), 15, JSON.stringify([...rest]));
  });

  test("a client ACKed by either server: both report the policy's name", () => {
    const p = normal(new SimPair({ scope: { policies: [policy('lab')] } }));
    for (let client = 1; client <= 6; client++) {
      // Whichever server the load balancing gives the client to.
      const server = [p.a, p.b].find((s) => {
        const offer = p.dhcp(s, packet(T.Discover, { mac: mac(client), xid: client }));
        return offer !== null;
      })!;
      const address = p.dora(server, client);
      assert.ok(address !== null, `client ${client} bound`);
      assert.ok(address >= ip('10.0.0.130') && address <= ip('10.0.0.139'), ipString(address));
      p.run(2);
      for (const s of [p.a, p.b]) {
        const l = s.engine.getLease(address);
        assert.equal(l?.state, 'active', `${s.name} ${ipString(address)}`);
        assert.equal(l?.policyName, 'lab', `${s.name} reports the policy of ${ipString(address)}`);
      }
    }
  });

  test('long host and policy names: every BNDUPD stays within 2048 bytes and every binding arrives', () => {
    const name = `a-policy-with-a-rather-long-name-${'x'.repeat(200)}`;
    const p = normal(
      new SimPair({
        scope: {
          ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.199') }],
          policies: [policy(name, { ranges: [] })],
        },
      }),
    );
    const bound: number[] = [];
    for (let client = 1; client <= 40; client++) {
      for (const s of [p.a, p.b]) {
        const hostname = `host-${client}-${'h'.repeat(200)}`;
        const offer = p.dhcp(s, packet(T.Discover, { mac: mac(client), xid: client, hostname }));
        if (offer === null) continue;
        const ack = p.dhcp(
          s,
          packet(T.Request, {
            mac: mac(client),
            xid: client,
            hostname,
            requested: ipString(offer.yiaddr),
            serverId: ipString(s.config.local.address),
          }),
        );
        if (ack?.options.get(53)?.[0] === T.Ack) bound.push(ack.yiaddr);
        break;
      }
    }
    assert.equal(bound.length, 40);
    // A message over 2048 bytes would have thrown in the pair's encoder.
    p.run(5);
    const bndupds = p.trace.filter((t) => t.split('>')[1] === String(FailoverMessageType.BNDUPD));
    assert.ok(bndupds.length > 0, p.trace.slice(-5).join(' '));
    for (const address of bound)
      for (const s of [p.a, p.b])
        assert.equal(s.engine.getLease(address)?.policyName, name, ipString(address));
  });
});
