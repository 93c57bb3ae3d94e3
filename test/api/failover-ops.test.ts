// Failover operations over the API (issue 18 item 4): resync and rebalance (the endpoint's
// operator inputs, refused outside NORMAL), the state history in the relationship and the status,
// and PATCH with replicate=true, which makes the same change on the partner (mirrored where the
// setting is each server's own) and puts ours back when the partner refuses.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { mirroredPatch } from '../../src/api/relationship-mirror.js';
import {
  type FailoverApiServer,
  fakeStatus,
  NOW,
  relationshipConfig,
  startFailoverApi,
  WRITE_TOKEN,
} from './failover-helpers.js';
import { http, READ_TOKEN } from './helpers.js';

type Json = Record<string, unknown>;
const write = { token: WRITE_TOKEN, method: 'POST' };
const relationshipOf = (s: FailoverApiServer) =>
  (JSON.parse(readFileSync(s.configPath, 'utf8')) as { failover: Json[] }).failover[0]!;

describe('resync, rebalance and the state history', () => {
  let a: FailoverApiServer;

  before(async () => {
    a = await startFailoverApi('dhcp-a', { failover: [relationshipConfig()] });
    a.failover.statusList = [
      fakeStatus({
        stateHistory: [
          {
            from: 'communications-interrupted',
            to: 'normal',
            at: NOW - 600,
            rule: 'communications-interrupted:partner-normal',
            partnerState: 'normal',
          },
          {
            from: 'normal',
            to: 'communications-interrupted',
            at: NOW - 900,
            rule: 'normal:comm-failed',
            partnerState: 'normal',
          },
        ],
      }),
    ];
  });
  after(async () => {
    await a.close();
  });

  test('resync and rebalance reach the endpoint and are tracked', async () => {
    for (const kind of ['resync', 'rebalance'] as const) {
      const r = await http<Json & { operationTracker: Json[] }>(
        a.baseUrl,
        `/api/v1/failover/relationships/dc-pair/actions/${kind}`,
        write,
      );
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.operationTracker[0]?.operation, kind);
      assert.equal(r.body.operationTracker[0]?.tokenName, 'ops');
    }
    assert.deepEqual(a.failover.syncCalls, [
      ['dc-pair', 'resync'],
      ['dc-pair', 'rebalance'],
    ]);
  });

  test('refusals: not in NORMAL (409), unknown (404), read-only (403)', async () => {
    a.failover.syncAnswer = { ok: false, reason: 'invalidState', message: 'the partner cannot be reached' };
    const r = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/actions/resync', write);
    assert.equal(r.status, 409);
    assert.equal(r.body.error, 'invalid-state');
    assert.equal(r.body.message, 'the partner cannot be reached');
    a.failover.syncAnswer = { ok: true };
    const none = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/nope/actions/rebalance', write);
    assert.equal(none.status, 404);
    const ro = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/actions/resync', {
      token: READ_TOKEN,
      method: 'POST',
    });
    assert.equal(ro.status, 403);
  });

  test('previous state, why, and the history, in the relationship and the status', async () => {
    const r = await http<Json & { stateHistory: Json[] }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair',
    );
    assert.equal(r.body.previousState, 'communicationsInterrupted');
    assert.equal(r.body.stateChangeReason, 'the partner reported state normal');
    assert.deepEqual(r.body.stateHistory, [
      {
        from: 'communicationsInterrupted',
        to: 'normal',
        at: '2026-11-23T23:50:00Z',
        rule: 'communications-interrupted:partner-normal',
        reason: 'the partner reported state normal',
        partnerState: 'normal',
      },
      {
        from: 'normal',
        to: 'communicationsInterrupted',
        at: '2026-11-23T23:45:00Z',
        rule: 'normal:comm-failed',
        reason: 'communication with the partner was lost',
        partnerState: 'normal',
      },
    ]);
    const status = await http<Json & { relationships: Json[] }>(a.baseUrl, '/api/v1/status');
    assert.equal(status.body.relationships[0]?.previousState, 'communicationsInterrupted');
    assert.equal(status.body.relationships[0]?.stateChangeReason, 'the partner reported state normal');
  });
});

describe('failover set on both partners (PATCH replicate=true)', () => {
  let a: FailoverApiServer;
  let b: FailoverApiServer;

  before(async () => {
    b = await startFailoverApi('dhcp-b', {
      failover: [
        relationshipConfig({
          role: 'secondary',
          local: { address: '10.0.0.3' },
          partner: { address: '10.0.0.2', name: 'dhcp-a' },
        }),
      ],
    });
    a = await startFailoverApi('dhcp-a', {
      failover: [
        relationshipConfig({
          partner: { address: '10.0.0.3', name: 'dhcp-b', api: { url: b.baseUrl, token: WRITE_TOKEN } },
        }),
      ],
    });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('the partner gets the mirrored change; a dry run changes neither', async () => {
    const patch = { mcltSeconds: 900, loadBalancePercent: 60 };
    const fileA = readFileSync(a.configPath, 'utf8');
    const fileB = readFileSync(b.configPath, 'utf8');
    const dry = await http<Json & { partner: Json & { preview: Json } }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair?replicate=true&dryRun=true',
      { token: WRITE_TOKEN, method: 'PATCH', body: patch },
    );
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.wouldApply, true);
    assert.equal(dry.body.partner.url, b.baseUrl);
    assert.equal(dry.body.partner.preview.dryRun, true);
    assert.equal(readFileSync(a.configPath, 'utf8'), fileA);
    assert.equal(readFileSync(b.configPath, 'utf8'), fileB);

    const r = await http<Json & { operationTracker: Json[] }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair?replicate=true',
      { token: WRITE_TOKEN, method: 'PATCH', body: patch },
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.operationTracker[0]?.detail, 'loadBalancePercent, mcltSeconds (both partners)');
    assert.equal(relationshipOf(a).mcltSeconds, 900);
    assert.equal(relationshipOf(a).loadBalancePercent, 60);
    assert.equal(relationshipOf(b).mcltSeconds, 900);
    assert.equal(relationshipOf(b).loadBalancePercent, 40, "the partner's own share");
    assert.equal(relationshipOf(b).role, 'secondary');
  });

  test('a partner that refuses: ours is put back; without partner.api: 409', async () => {
    // The partner has no scope "office": it refuses the relationship with it.
    const removed = await http(b.baseUrl, '/api/v1/scopes/office', { token: WRITE_TOKEN, method: 'DELETE' });
    assert.equal(removed.status, 204, removed.text);
    const fileA = readFileSync(a.configPath, 'utf8');
    const reloads = a.reloads;
    const r = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair?replicate=true', {
      token: WRITE_TOKEN,
      method: 'PATCH',
      body: { scopeIds: ['lab', 'office'] },
    });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.error, 'partner-refused');
    assert.match(String(r.body.message), /the partner API answered 400: .*office.*; ours was put back/);
    assert.equal(readFileSync(a.configPath, 'utf8'), fileA, 'ours is as before');
    assert.equal(a.reloads, reloads + 2, 'written, then put back');
    assert.deepEqual(a.config().failover[0]?.scopeIds, ['lab']);
    const onB = await http<Json>(b.baseUrl, '/api/v1/failover/relationships/dc-pair?replicate=true', {
      token: WRITE_TOKEN,
      method: 'PATCH',
      body: { mcltSeconds: 1000 },
    });
    assert.equal(onB.status, 409);
    assert.equal(onB.body.error, 'partner-api-not-configured');
    // TLS files are each server's own: not mirrored.
    const tls = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair?replicate=true', {
      token: WRITE_TOKEN,
      method: 'PATCH',
      body: { tls: { cert: '/a.pem', key: '/a.key', ca: '/ca.pem' } },
    });
    assert.equal(tls.status, 400);
    assert.equal(tls.body.path, '/body/tls');
  });
});

describe('mirroredPatch', () => {
  test("each server's own settings are mirrored, shared ones copied, partner.api dropped", () => {
    assert.deepEqual(
      mirroredPatch({
        role: 'secondary',
        serverRole: 'standby',
        loadBalancePercent: 70,
        mcltSeconds: 600,
        sharedSecret: null,
        local: { address: '10.0.0.9', port: 847 },
        partner: { address: '10.0.0.8', api: { url: 'http://x' } },
      }),
      {
        role: 'primary',
        serverRole: 'active',
        loadBalancePercent: 30,
        mcltSeconds: 600,
        sharedSecret: null,
        partner: { address: '10.0.0.9', port: 847 },
        local: { address: '10.0.0.8' },
      },
    );
    assert.deepEqual(mirroredPatch({ partner: { api: { url: 'http://x' } } }), {});
  });
});
