// configurationDifferences: the partners' relationship settings compared setting by setting (mode,
// percentages, MCLT, automatic transition and its interval, authentication by a fingerprint of the
// secret, scopes), each difference named (issue 14 item 6). The secret never leaves a server.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { settingsDifferences } from '../../src/api/relationship-settings.js';
import type { RelationshipSettings } from '../../src/api/schemas.js';
import {
  type FailoverApiServer,
  relationshipConfig,
  startFailoverApi,
  WRITE_TOKEN,
} from './failover-helpers.js';
import { http } from './helpers.js';

type Json = Record<string, unknown>;
type Difference = { name: string; ours: unknown; partner: unknown; rule: string };
const SECRET_A = 'secret-of-a-0123456789';
const SECRET_B = 'secret-of-b-0123456789';

const base: RelationshipSettings = {
  name: 'dc-pair',
  role: 'primary',
  mode: 'loadBalance',
  loadBalancePercent: 60,
  reservePercent: 5,
  serverRole: null,
  poolSplit: 'even',
  mcltSeconds: 1800,
  autoStateTransition: false,
  stateSwitchIntervalSeconds: null,
  auth: 'none',
  sharedSecretFingerprint: null,
  scopeIds: ['lab'],
};

test('settingsDifferences: roles opposite, shares complementary, the rest equal', () => {
  const partner: RelationshipSettings = { ...base, role: 'secondary', loadBalancePercent: 40 };
  assert.deepEqual(settingsDifferences(base, partner), []);
  assert.deepEqual(
    settingsDifferences(base, { ...partner, role: 'primary', loadBalancePercent: 60, mcltSeconds: 600 }).map(
      (d) => [d.name, d.ours, d.partner, d.rule],
    ),
    [
      ['role', 'primary', 'primary', 'opposite'],
      ['loadBalancePercent', 60, 60, 'complement'],
      ['mcltSeconds', 1800, 600, 'equal'],
    ],
  );
  const standby = { ...base, mode: 'hotStandby' as const, serverRole: 'active' as const };
  assert.deepEqual(
    settingsDifferences(standby, { ...standby, role: 'secondary', reservePercent: 10 }).map((d) => d.name),
    ['serverRole', 'reservePercent'],
  );
});

describe('configurationDifferences between two API servers', () => {
  let a: FailoverApiServer;
  let b: FailoverApiServer;

  before(async () => {
    b = await startFailoverApi('dhcp-b');
    a = await startFailoverApi('dhcp-a', {
      failover: [
        relationshipConfig({
          loadBalancePercent: 60,
          autoStateTransition: true,
          stateSwitchIntervalSeconds: 3600,
          sharedSecret: SECRET_A,
          auth: 'hmacSha256',
          partner: { address: '10.0.0.3', api: { url: b.baseUrl, token: WRITE_TOKEN } },
        }),
      ],
    });
    const onB = await http<Json>(b.baseUrl, '/api/v1/failover/relationships', {
      token: WRITE_TOKEN,
      method: 'POST',
      body: relationshipConfig({
        role: 'secondary',
        local: { address: '10.0.0.3' },
        partner: { address: '10.0.0.2', name: 'dhcp-a' },
        loadBalancePercent: 60,
        mcltSeconds: 600,
        autoStateTransition: true,
        stateSwitchIntervalSeconds: 7200,
        sharedSecret: SECRET_B,
        auth: 'hmacSha256',
      }),
    });
    assert.equal(onB.status, 201, onB.text);
    // B's lab differs too.
    const lab = await http<Json>(b.baseUrl, '/api/v1/scopes/lab/config');
    await http(b.baseUrl, '/api/v1/scopes/lab/config', {
      token: WRITE_TOKEN,
      method: 'PUT',
      body: { ...lab.body, leaseTimeSeconds: 60 },
    });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('every difference is named, with both values', async () => {
    const r = await http<Json & { configurationDifferences: Difference[] }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair',
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.configurationDiffers, true);
    assert.deepEqual(
      r.body.configurationDifferences.map((d) => [d.name, d.ours, d.partner, d.rule]),
      [
        ['loadBalancePercent', 60, 60, 'complement'],
        ['mcltSeconds', 1800, 600, 'equal'],
        ['stateSwitchIntervalSeconds', 3600, 7200, 'equal'],
        ['sharedSecret', null, null, 'equal'],
        ['scopes/lab', null, null, 'equal'],
      ],
    );
    assert.ok(!r.text.includes(SECRET_A) && !r.text.includes(SECRET_B));
  });

  test('the settings route shows a fingerprint, never the secret; equal secrets, equal fingerprints', async () => {
    const settings = await http<Json>(b.baseUrl, '/api/v1/failover/relationships/dc-pair/settings');
    assert.equal(settings.status, 200, settings.text);
    assert.equal(settings.body.mcltSeconds, 600);
    assert.match(String(settings.body.sharedSecretFingerprint), /^[0-9a-f]{32}$/);
    assert.ok(!settings.text.includes(SECRET_B));
    const patched = await http<Json & { configurationDifferences: Difference[] }>(
      b.baseUrl,
      '/api/v1/failover/relationships/dc-pair',
      {
        token: WRITE_TOKEN,
        method: 'PATCH',
        body: { sharedSecret: SECRET_A, mcltSeconds: 1800, mode: 'hotStandby' },
      },
    );
    assert.equal(patched.status, 200, patched.text);
    const ours = await http<Json>(a.baseUrl, '/api/v1/failover/relationships/dc-pair/settings');
    const theirs = await http<Json>(b.baseUrl, '/api/v1/failover/relationships/dc-pair/settings');
    assert.equal(theirs.body.sharedSecretFingerprint, ours.body.sharedSecretFingerprint);
    // A caches the partner's answers for 10 s (its clock stands still here); any write of ours
    // clears the cache.
    await http(a.baseUrl, '/api/v1/failover/relationships/dc-pair', {
      token: WRITE_TOKEN,
      method: 'PATCH',
      body: { maxUnackedUpdates: 11 },
    });
    const r = await http<Json & { configurationDifferences: Difference[] }>(
      a.baseUrl,
      '/api/v1/failover/relationships/dc-pair',
    );
    assert.deepEqual(
      r.body.configurationDifferences.map((d) => d.name),
      ['mode', 'stateSwitchIntervalSeconds', 'scopes/lab'],
    );
  });
});
