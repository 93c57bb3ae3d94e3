// The values a secondary takes from the primary (D12 §7.8.2: MCLT and the hash-bucket assignment
// in CONNECT) are what its status reports, not its own configuration (issue 14 item 6).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerState } from '../../src/wire/failover-message.js';
import { SimPair } from './lib/pair.js';

test('the secondary reports the MCLT and the load-balance share in force, taken from the primary', () => {
  const p = new SimPair({
    primary: { mcltSeconds: 300, loadBalancePercent: 70 },
    secondary: { mcltSeconds: 600, loadBalancePercent: 50 },
  });
  assert.equal(p.b.endpoint.status(p.now).mcltSeconds, 600, 'its own until the first CONNECT');
  assert.equal(p.b.endpoint.status(p.now).clientSharePercent, 50);
  p.runUntil(
    () =>
      p.a.endpoint.currentState === ServerState.NORMAL && p.b.endpoint.currentState === ServerState.NORMAL,
    120,
    'both NORMAL',
  );
  const b = p.b.endpoint.status(p.now);
  assert.equal(b.mcltSeconds, 300);
  assert.equal(b.clientSharePercent, 30, 'the primary keeps 70 % of the buckets');
  const a = p.a.endpoint.status(p.now);
  assert.equal(a.mcltSeconds, 300);
  assert.equal(a.clientSharePercent, 70);
});

test('hot standby: the share in force says who is active', () => {
  const p = new SimPair({
    primary: { mode: 'hotStandby', serverRole: 'active' },
    // Misconfigured: the secondary thinks it is active too.
    secondary: { mode: 'hotStandby', serverRole: 'active' },
  });
  assert.equal(p.b.endpoint.status(p.now).clientSharePercent, 100);
  p.runUntil(() => p.b.endpoint.currentState === ServerState.NORMAL, 120, 'NORMAL');
  assert.equal(
    p.b.endpoint.status(p.now).clientSharePercent,
    0,
    "the primary's assignment: it answers nobody",
  );
  assert.equal(p.a.endpoint.status(p.now).clientSharePercent, 100);
});
