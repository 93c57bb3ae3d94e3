// A hub's view over the API: many relationships, listed and filtered by state, connection,
// partner, scope, role and name; the shared TCP listeners with their matched and refused
// connections, in JSON and in /metrics. The endpoint is the fake of failover-helpers.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ServerState } from '../../src/wire/failover-message.js';
import {
  type FailoverApiServer,
  fakeStatus,
  READ_TOKEN,
  relationshipConfig,
  startFailoverApi,
} from './failover-helpers.js';
import { http, parsePrometheusText, sampleValue } from './helpers.js';

type Json = Record<string, unknown>;

const BRANCHES = ['north', 'south', 'east'] as const;

describe('a hub over the API', () => {
  let a: FailoverApiServer;

  before(async () => {
    a = await startFailoverApi('hub', {
      failover: BRANCHES.map((name, k) =>
        relationshipConfig({
          name: `branch-${name}`,
          role: k === 2 ? 'primary' : 'secondary',
          local: { address: '10.0.0.2' },
          partner: { address: `10.0.1.${k + 1}`, name: `dhcp-${name}` },
          scopeIds: [['lab', 'office', '10.70.0.0'][k]],
        }),
      ),
    });
    a.failover.statusList = BRANCHES.map((name, k) =>
      fakeStatus({
        name: `branch-${name}`,
        role: k === 2 ? 'primary' : 'secondary',
        ...(k === 1 ? { localState: ServerState.COMMUNICATIONS_INTERRUPTED, isCommunicating: false } : {}),
      }),
    );
    a.failover.listenerList = [
      {
        listen: '10.0.0.2:647',
        relationships: BRANCHES.map((n) => `branch-${n}`),
        matched: 5,
        refused: {
          'unknown-peer': 2,
          'unknown-name': 1,
          'no-connect': 0,
          'not-connect': 0,
          'wake-up': 0,
          closing: 0,
        },
        nameOfAnotherPartner: 1,
        waitingForConnect: 0,
      },
    ];
  });
  after(async () => {
    await a.close();
  });

  const names = async (query: string) => {
    const r = await http<{ items: Json[] }>(a.baseUrl, `/api/v1/failover/relationships${query}`);
    assert.equal(r.status, 200, r.text);
    return r.body.items.map((i) => i.name);
  };

  test('the list filters by state, connection, partner, scope, role and name; filters combine', async () => {
    assert.deepEqual(await names(''), ['branch-north', 'branch-south', 'branch-east']);
    assert.deepEqual(await names('?state=communicationsInterrupted'), ['branch-south']);
    assert.deepEqual(await names('?connection=up'), ['branch-north', 'branch-east']);
    assert.deepEqual(await names('?partner=10.0.1.3'), ['branch-east']);
    assert.deepEqual(await names('?scope=office'), ['branch-south']);
    assert.deepEqual(await names('?role=secondary&connection=up'), ['branch-north']);
    assert.deepEqual(await names('?name=NOR'), ['branch-north']);
    assert.deepEqual(await names('?state=partnerDown'), []);
    const bad = await http<Json>(a.baseUrl, '/api/v1/failover/relationships?state=sleepy');
    assert.equal(bad.status, 400);
    const badAddress = await http<Json>(a.baseUrl, '/api/v1/failover/relationships?partner=10.0.1');
    assert.equal(badAddress.status, 400);
  });

  test('the listeners, in JSON and in /metrics', async () => {
    const r = await http<{ items: Json[] }>(a.baseUrl, '/api/v1/failover/listeners', { token: READ_TOKEN });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.items.length, 1);
    const l = r.body.items[0]!;
    assert.equal(l.listen, '10.0.0.2:647');
    assert.deepEqual(l.relationships, ['branch-north', 'branch-south', 'branch-east']);
    assert.equal((l.refused as Json)['unknown-peer'], 2);
    assert.equal(l.nameOfAnotherPartner, 1);
    const m = await http<string>(a.baseUrl, '/metrics', { token: null });
    const families = parsePrometheusText(m.text);
    const at = (outcome: string) =>
      sampleValue(families, 'twinlease_failover_listener_connections_total', {
        listener: '10.0.0.2:647',
        outcome,
      });
    assert.equal(at('matched'), 5);
    assert.equal(at('unknown-peer'), 2);
    assert.equal(at('unknown-name'), 1);
    assert.equal(at('wake-up'), 0);
    assert.equal(
      sampleValue(families, 'twinlease_failover_listener_relationships', { listener: '10.0.0.2:647' }),
      3,
    );
  });
});
