// The dashboard's pure parts: operator alerts, the explanation of a state change, and the bounded
// histories (window and entry limits).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { operatorAlerts } from '../../src/dashboard/alerts.js';
import { type ExplainContext, explainChange } from '../../src/dashboard/explain.js';
import { ScopeHistory, StateHistory } from '../../src/dashboard/history.js';
import type { RelationshipView } from '../../src/dashboard/view.js';

const NOW = 1_800_000_000;
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

function rel(
  over: Partial<RelationshipView> = {},
  localOver: Partial<RelationshipView['local']> = {},
): RelationshipView {
  return {
    name: 'r',
    role: 'primary',
    mode: 'loadBalance',
    scopeIds: ['s'],
    mcltSeconds: 600,
    autoStateTransition: true,
    stateSwitchIntervalSeconds: 600,
    maxClockSkewSeconds: 60,
    isRunning: true,
    local: {
      name: 'a',
      address: '10.0.0.1',
      isThisServer: true,
      state: 'normal',
      since: iso(NOW - 1000),
      why: null,
      whySource: null,
      ...localOver,
    },
    partner: {
      name: 'b',
      address: '10.0.0.2',
      isThisServer: false,
      state: 'normal',
      since: iso(NOW - 1000),
      why: null,
      whySource: null,
    },
    isPartnerReachable: true,
    lastContactAt: iso(NOW),
    clockSkewSeconds: 0,
    unackedUpdates: 0,
    queuedUpdates: 0,
    partnerDownAt: null,
    partnerPoolUsableAt: null,
    hasPartnerApi: true,
    configurationDiffers: false,
    ...over,
  };
}

describe('operator alerts', () => {
  test('a healthy pair has none', () => {
    assert.deepEqual(operatorAlerts([rel()], NOW), []);
  });

  test('communications-interrupted: only past half the state switch interval', () => {
    const at = (inState: number) =>
      operatorAlerts(
        [
          rel(
            { isPartnerReachable: false, partnerDownAt: iso(NOW + 600 - inState) },
            { state: 'communicationsInterrupted', since: iso(NOW - inState) },
          ),
        ],
        NOW,
      );
    assert.equal(at(299).length, 0);
    const [a] = at(300);
    assert.equal(a?.id, 'comm-intr:r');
    assert.match(a!.action, /Automatic partner-down at .* \(in 5 min\)/);
  });

  test('without automatic partner-down: after a minute, and it says to declare it', () => {
    const [a] = operatorAlerts(
      [
        rel(
          { autoStateTransition: false, stateSwitchIntervalSeconds: null, isPartnerReachable: false },
          { state: 'communicationsInterrupted', since: iso(NOW - 61) },
        ),
      ],
      NOW,
    );
    assert.match(a!.action, /declare partner-down/);
  });

  test('partner-down is critical and says when the partner pool is usable', () => {
    const [a] = operatorAlerts(
      [rel({ partnerPoolUsableAt: iso(NOW + 120) }, { state: 'partnerDown', since: iso(NOW - 480) })],
      NOW,
    );
    assert.equal(a?.severity, 'critical');
    assert.match(a!.detail, /in 2 min/);
  });

  test('recover-wait beyond MCLT, clock skew, config drift; sorted by severity', () => {
    const alerts = operatorAlerts(
      [
        rel(
          { clockSkewSeconds: -61, configurationDiffers: true },
          { state: 'recoverWait', since: iso(NOW - 661) },
        ),
      ],
      NOW,
    );
    assert.deepEqual(
      alerts.map((a) => [a.id, a.severity]),
      [
        ['clock-skew:r', 'critical'],
        ['recover-wait:r', 'warning'],
        ['config-differs:r', 'warning'],
      ],
    );
    assert.equal(operatorAlerts([rel({}, { state: 'recoverWait', since: iso(NOW - 600) })], NOW).length, 0);
    assert.equal(operatorAlerts([rel({ clockSkewSeconds: 30 })], NOW).length, 0);
    assert.equal(operatorAlerts([rel({ clockSkewSeconds: 31 })], NOW)[0]?.severity, 'warning');
  });
});

describe('why a state holds', () => {
  const c: ExplainContext = {
    serverName: 'a',
    partnerName: 'b',
    mode: 'loadBalance',
    mcltSeconds: 600,
    autoStateTransition: true,
    stateSwitchIntervalSeconds: 60,
    operatorPartnerDown: null,
  };
  const obs = (
    atSeconds: number,
    localState: 'normal' | 'communicationsInterrupted' | 'partnerDown',
    isPartnerReachable = false,
  ) => ({
    atSeconds,
    localState,
    partnerState: null,
    isPartnerReachable,
  });

  test('lost contact, automatic and operator partner-down', () => {
    assert.match(
      explainChange(obs(NOW - 2, 'normal', true), obs(NOW, 'communicationsInterrupted'), c)!,
      /^Lost contact with b/,
    );
    assert.match(
      explainChange(obs(NOW - 2, 'communicationsInterrupted'), obs(NOW, 'partnerDown'), c)!,
      /state switch interval \(60 s\)/,
    );
    assert.match(
      explainChange(obs(NOW - 2, 'communicationsInterrupted'), obs(NOW, 'partnerDown'), {
        ...c,
        operatorPartnerDown: { atSeconds: NOW - 1, tokenName: 'ops' },
      })!,
      /Declared by an operator \(token "ops"\)/,
    );
  });

  test('without a change seen, the state itself', () => {
    assert.match(explainChange(null, obs(NOW, 'normal', true), c)!, /In contact with b/);
  });
});

describe('bounded histories', () => {
  const limits = { windowSeconds: 100, maxSegments: 5, maxScopes: 2, maxSamplesPerScope: 3 };

  test('state segments: only changes, at most maxSegments, the one in force at the window start kept', () => {
    const h = new StateHistory(limits);
    const seg = (fromSeconds: number, localState: 'normal' | 'partnerDown') => ({
      relationship: 'r',
      fromSeconds,
      localState,
      partnerState: null,
      isPartnerReachable: true,
      why: null,
    });
    assert.equal(h.observe(seg(0, 'normal'), 0), true);
    assert.equal(h.observe(seg(1, 'normal'), 1), false);
    assert.equal(h.observe(seg(10, 'partnerDown'), 10), true);
    assert.equal(h.observe(seg(20, 'normal'), 20), true);
    // At 150 the window starts at 50: the segment from 20 is in force then, the older ones go.
    assert.deepEqual(
      h.all(150).map((s) => s.fromSeconds),
      [20],
    );
    for (let t = 200; t < 210; t++) h.observe(seg(t, t % 2 === 0 ? 'normal' : 'partnerDown'), t);
    assert.equal(h.all(210).length, 5);
    assert.deepEqual(
      h.after(h.lastSeq - 1).map((s) => s.fromSeconds),
      [209],
    );
  });

  test('scope samples: per-scope limit, scope limit, window', () => {
    const h = new ScopeHistory(limits);
    const sample = (atSeconds: number) => ({
      atSeconds,
      numAddr: 1,
      thisAddrInUse: 0,
      partnerAddrInUse: 0,
      thisAddrFree: 1,
      partnerAddrFree: 0,
    });
    for (let t = 0; t < 5; t++) {
      h.record(
        new Map([
          ['a', sample(t)],
          ['b', sample(t)],
          ['c', sample(t)],
        ]),
        t,
      );
    }
    assert.deepEqual(Object.keys(h.all()), ['a', 'b']);
    assert.deepEqual(
      h.all().a!.map((x) => x.atSeconds),
      [2, 3, 4],
    );
    h.record(new Map([['a', sample(300)]]), 300);
    assert.deepEqual(Object.keys(h.all()), ['a']);
    assert.deepEqual(
      h.all().a!.map((x) => x.atSeconds),
      [300],
    );
  });
});
