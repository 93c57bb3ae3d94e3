// The overview's relationship filter (a hub with many branches): text over names, servers,
// addresses, scopes and states; "needs attention" = not normal, not running, or partner unreachable.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsAttention, relationshipMatches } from '../../src/dashboard/client/relationship-filter.js';
import type { RelationshipView, ServerView } from '../../src/dashboard/view.js';

const server = (over: Partial<ServerView>): ServerView => ({
  name: 'hub',
  address: '10.0.0.2',
  isThisServer: true,
  state: 'normal',
  since: null,
  why: null,
  whySource: null,
  ...over,
});

const view = (name: string, over: Partial<RelationshipView> = {}): RelationshipView => ({
  name,
  role: 'secondary',
  mode: 'hotStandby',
  scopeIds: [`${name}-lan`],
  mcltSeconds: 3600,
  autoStateTransition: false,
  stateSwitchIntervalSeconds: null,
  maxClockSkewSeconds: 60,
  isRunning: true,
  local: server({}),
  partner: server({ name: `dhcp-${name}`, address: '10.0.1.7', isThisServer: false }),
  isPartnerReachable: true,
  lastContactAt: null,
  clockSkewSeconds: 0,
  unackedUpdates: 0,
  queuedUpdates: 0,
  partnerDownAt: null,
  partnerPoolUsableAt: null,
  hasPartnerApi: false,
  configurationDiffers: null,
  ...over,
});

test('needs attention: anything but a running, reachable normal', () => {
  assert.equal(needsAttention(view('a')), false);
  assert.equal(needsAttention(view('a', { isPartnerReachable: false })), true);
  assert.equal(needsAttention(view('a', { isRunning: false })), true);
  assert.equal(needsAttention(view('a', { local: server({ state: 'communicationsInterrupted' }) })), true);
});

test('text matches name, scope, partner name and address, state; combined with attention', () => {
  const north = view('north');
  const south = view('south', {
    local: server({ state: 'communicationsInterrupted' }),
    isPartnerReachable: false,
  });
  assert.equal(relationshipMatches(north, '', false), true);
  assert.equal(relationshipMatches(north, 'NORTH', false), true);
  assert.equal(relationshipMatches(north, 'north-lan', false), true);
  assert.equal(relationshipMatches(north, 'dhcp-north', false), true);
  assert.equal(relationshipMatches(north, '10.0.1.7', false), true);
  assert.equal(relationshipMatches(north, 'south', false), false);
  assert.equal(relationshipMatches(south, 'communications', false), true);
  assert.equal(relationshipMatches(north, '', true), false);
  assert.equal(relationshipMatches(south, '', true), true);
  assert.equal(relationshipMatches(south, 'north', true), false);
});
