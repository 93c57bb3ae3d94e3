// The pure mapping config + live status → relationship resource (seed 002), with hand-made
// statuses: state names (windows-model.md §1.3), Server1 = primary / Server2 = secondary whatever
// our role, percentages, record ids, and what a relationship without a live status looks like.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  failoverStateName,
  primaryPercentage,
  relationshipRecordId,
  relationshipResource,
  relationshipSummary,
  serverRecordId,
} from '../../src/api/relationship-resource.js';
import { FAILOVER_STATES } from '../../src/api/schemas.js';
import { parseConfigText } from '../../src/config/loader.js';
import type { ResolvedRelationship } from '../../src/config/resolved.js';
import { ServerState } from '../../src/wire/failover-message.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { fakeStatus, NOW, relationshipConfig } from './failover-helpers.js';

function resolved(over: Record<string, unknown> = {}): ResolvedRelationship {
  const r = parseConfigText(
    JSON.stringify({
      server: { name: 'dhcp-a' },
      scopes: [{ id: 'lab', subnet: '10.50.0.0/24', ranges: [{ start: '10.50.0.10', end: '10.50.0.20' }] }],
      failover: [relationshipConfig(over)],
    }),
    'test.json',
  );
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config.failover[0]!;
}

const none = { operations: [], configurationDifferences: null };

describe('relationship resource', () => {
  test('every D12 state has its windows-model.md §1.3 name', () => {
    const expected: [ServerState, string][] = [
      [ServerState.STARTUP, 'startup'],
      [ServerState.NORMAL, 'normal'],
      [ServerState.COMMUNICATIONS_INTERRUPTED, 'communicationsInterrupted'],
      [ServerState.PARTNER_DOWN, 'partnerDown'],
      [ServerState.POTENTIAL_CONFLICT, 'potentialConflict'],
      [ServerState.RECOVER, 'recover'],
      [ServerState.PAUSED, 'paused'],
      [ServerState.SHUTDOWN, 'shutdown'],
      [ServerState.RECOVER_DONE, 'recoverDone'],
      [ServerState.RESOLUTION_INTERRUPTED, 'resolutionInterrupted'],
      [ServerState.CONFLICT_DONE, 'conflictDone'],
      [ServerState.RECOVER_WAIT, 'recoverWait'],
    ];
    for (const [code, name] of expected) {
      assert.equal(failoverStateName(code), name);
      assert.ok((FAILOVER_STATES as readonly string[]).includes(name));
    }
    assert.equal(failoverStateName(99 as ServerState), 'noState');
  });

  test('a primary in NORMAL: config, live state, Server1 = this server', () => {
    const r = resolved({ sharedSecret: 's3cret-value', auth: 'hmacSha256' });
    const x = relationshipResource(r, fakeStatus(), none);
    assert.equal(x.state, 'normal');
    assert.equal(x.partnerState, 'normal');
    assert.equal(x.stateSince, '2026-11-23T23:50:00Z');
    assert.equal(x.partnerStateSince, '2026-11-23T23:50:10Z');
    assert.deepEqual(x.connection, {
      status: 'up',
      lastContactAt: '2026-11-23T23:59:58Z',
      clockSkewSeconds: -1,
      partnerVendorClass: 'twinlease 0.1.0',
      queuedUpdates: 7,
      unackedUpdates: 3,
    });
    assert.equal(x.isRunning, true);
    assert.equal(x.mcltSeconds, 1800);
    assert.equal(x.sharedSecretEnabled, true);
    assert.ok(!JSON.stringify(x).includes('s3cret-value'), 'the secret never appears');
    assert.deepEqual(x.server1, {
      role: 'primary',
      isThisServer: true,
      address: '10.0.0.2',
      name: 'dhcp-a',
      recordId: serverRecordId(parseIpv4('10.0.0.2'), 647),
      state: 'normal',
      isStateStale: false,
      percentage: 50,
    });
    assert.equal(x.isPartnerStateStale, false, 'connected: the partner state is current');
    assert.equal(x.server2.isThisServer, false);
    assert.equal(x.server2.name, 'dhcp-b');
    assert.equal(x.recordId, relationshipRecordId('dc-pair'));
    assert.deepEqual(x.counters, { messagesSent: 42, messagesReceived: 40, bindingUpdatesRejected: 0 });
    assert.equal(x.serverOwner, null);
    assert.deepEqual(x.operationTracker, []);
  });

  test('a secondary: Server1 is the partner, states follow the roles', () => {
    const r = resolved({ role: 'secondary', loadBalancePercent: 30 });
    const x = relationshipResource(
      r,
      fakeStatus({
        role: 'secondary',
        localState: ServerState.COMMUNICATIONS_INTERRUPTED,
        partnerState: ServerState.PARTNER_DOWN,
        isCommunicating: false,
        partnerDownAt: NOW + 3000,
        clientSharePercent: 30,
      }),
      none,
    );
    assert.equal(x.server1.isThisServer, false);
    assert.equal(x.server1.address, '10.0.0.3');
    assert.equal(x.server1.state, 'partnerDown');
    assert.equal(x.server1.percentage, 70, 'the primary serves the complement of our 30 %');
    assert.equal(x.server2.isThisServer, true);
    assert.equal(x.server2.state, 'communicationsInterrupted');
    assert.equal(x.server2.percentage, 30);
    assert.equal(x.connection.status, 'down');
    assert.equal(x.partnerDownAt, '2026-11-24T00:50:00Z');
  });

  test('a secondary shows the MCLT and split in force (the primary’s), its configured values beside', () => {
    const r = resolved({ role: 'secondary', mcltSeconds: 600, loadBalancePercent: 40 });
    const x = relationshipResource(
      r,
      fakeStatus({ role: 'secondary', mcltSeconds: 300, clientSharePercent: 50 }),
      none,
    );
    assert.equal(x.mcltSeconds, 300);
    assert.equal(x.loadBalancePercent, 50);
    assert.deepEqual(x.configuredValues, { mcltSeconds: 600, loadBalancePercent: 40 });
    assert.equal(x.server1.percentage, 50, 'the percentages follow the split in force');
    assert.equal(x.server2.percentage, 50);
    // In agreement: nothing beside.
    const same = relationshipResource(
      resolved({ role: 'secondary', mcltSeconds: 300, loadBalancePercent: 50 }),
      fakeStatus({ role: 'secondary', mcltSeconds: 300, clientSharePercent: 50 }),
      none,
    );
    assert.deepEqual(same.configuredValues, {});
    // Not running: the configuration.
    const idle = relationshipResource(r, null, none);
    assert.equal(idle.mcltSeconds, 600);
    assert.deepEqual(idle.configuredValues, {});
  });

  test('hot standby: the server role in force comes from the primary’s assignment', () => {
    const r = resolved({ role: 'secondary', mode: 'hotStandby', serverRole: 'active', reservePercent: 10 });
    const x = relationshipResource(
      r,
      fakeStatus({ role: 'secondary', mode: 'hotStandby', clientSharePercent: 0 }),
      none,
    );
    assert.equal(x.serverRole, 'standby');
    assert.deepEqual(x.configuredValues, { serverRole: 'active' });
    assert.equal(x.server1.percentage, 90, 'the primary is active: it keeps all but the reserve');
  });

  test('an unreachable partner: its state is the last known one, with when it was last heard', () => {
    const status = fakeStatus({
      localState: ServerState.COMMUNICATIONS_INTERRUPTED,
      partnerState: ServerState.NORMAL,
      isCommunicating: false,
      lastContactAt: NOW - 300,
    });
    const x = relationshipResource(resolved(), status, none);
    assert.equal(x.partnerState, 'normal');
    assert.equal(x.isPartnerStateStale, true);
    assert.equal(x.partnerStateHeardAt, '2026-11-23T23:55:00Z');
    assert.equal(x.server2.isStateStale, true, 'the partner’s entry');
    assert.equal(x.server1.isStateStale, false);
    const s = relationshipSummary('dc-pair', resolved(), status);
    assert.equal(s.partnerState, 'normal');
    assert.equal(s.isPartnerStateStale, true);
    assert.equal(s.partnerStateHeardAt, '2026-11-23T23:55:00Z');
    // Never heard: no state to be stale.
    const never = relationshipSummary(
      'dc-pair',
      resolved(),
      fakeStatus({ partnerState: null, isCommunicating: false, lastContactAt: 0 }),
    );
    assert.equal(never.isPartnerStateStale, false);
    assert.equal(never.partnerStateHeardAt, null);
  });

  test('hot standby percentages: the standby keeps reservePercent', () => {
    assert.equal(primaryPercentage(resolved({ mode: 'hotStandby', reservePercent: 5 })), 95);
    assert.equal(
      primaryPercentage(resolved({ mode: 'hotStandby', role: 'secondary', reservePercent: 5 })),
      95,
    );
    assert.equal(
      primaryPercentage(resolved({ mode: 'hotStandby', serverRole: 'standby', reservePercent: 10 })),
      10,
    );
  });

  test('configured but not running: noState, no live numbers', () => {
    const x = relationshipResource(resolved(), null, {
      operations: [
        {
          operation: 'create',
          at: NOW,
          serverName: 'dhcp-a',
          tokenName: 'ops',
          effect: 'started',
          detail: null,
        },
      ],
      configurationDifferences: [{ name: 'mcltSeconds', ours: 1800, partner: 600, rule: 'equal' }],
    });
    assert.equal(x.state, 'noState');
    assert.equal(x.partnerState, null);
    assert.equal(x.isRunning, false);
    assert.equal(x.stateSince, null);
    assert.equal(x.connection.status, 'down');
    assert.equal(x.server1.state, 'noState');
    assert.equal(x.server2.state, null);
    assert.equal(x.serverOwner, 'dhcp-a');
    assert.equal(x.operationTracker[0]?.at, '2026-11-24T00:00:00Z');
    assert.equal(x.configurationDiffers, true);
    assert.deepEqual(x.configurationDifferences?.[0]?.name, 'mcltSeconds');
    const s = relationshipSummary('dc-pair', resolved(), null);
    assert.equal(s.state, 'noState');
    assert.equal(s.isPartnerReachable, false);
  });

  test('record ids are stable, distinct, and exact in JSON', () => {
    assert.equal(relationshipRecordId('a'), relationshipRecordId('a'));
    assert.notEqual(relationshipRecordId('a'), relationshipRecordId('b'));
    assert.ok(Number.isSafeInteger(relationshipRecordId('dc-pair')));
    assert.notEqual(serverRecordId(parseIpv4('10.0.0.2'), 647), serverRecordId(parseIpv4('10.0.0.3'), 647));
    assert.notEqual(
      serverRecordId(parseIpv4('127.0.0.1'), 6470),
      serverRecordId(parseIpv4('127.0.0.1'), 6471),
    );
  });
});
