// What a relationship change over the API really does on a running server (issue 14 item 6): the
// reload that writes it restarts the relationship at once (src/server/failover-service.ts
// reconfigure), and the API, the operation tracker and the CLI say so — no server restart needed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, freeUdpPort, http, startTestServer, type TestServer, WRITE_TOKEN } from './helpers.js';

type Json = Record<string, unknown>;

describe('a relationship change on a running server', () => {
  let t: TestServer;

  before(async () => {
    const localPort = await freeUdpPort();
    t = await startTestServer({
      failover: [
        {
          name: 'dc-pair',
          role: 'primary',
          local: { address: '127.0.0.1', port: localPort },
          // Nobody listens there: the relationship runs, the partner stays unreachable.
          partner: { address: '127.0.0.1', port: localPort + 1, name: 'dhcp-b' },
          scopeIds: ['office'],
          mcltSeconds: 1800,
        },
      ],
    });
  });
  after(async () => {
    await t.dispose();
  });

  test('PATCH restarts the relationship at once and the tracker says so', async () => {
    const r0 = await http<Json>(t.baseUrl, '/api/v1/failover/relationships/dc-pair');
    assert.equal(r0.body.isRunning, true);
    assert.equal(r0.body.mcltSeconds, 1800);
    const patched = await http<Json & { operationTracker: Json[] }>(
      t.baseUrl,
      '/api/v1/failover/relationships/dc-pair',
      { token: WRITE_TOKEN, method: 'PATCH', body: { mcltSeconds: 600 } },
    );
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.operationTracker[0]?.effect, 'restarted');
    assert.equal(patched.body.isRunning, true);
    // The endpoint runs the new configuration now: its MCLT in force is the new one.
    assert.equal(t.server.failover.statuses()[0]?.mcltSeconds, 600);
    assert.equal(patched.body.mcltSeconds, 600);
    await eventually(async () => {
      const log = readFileSync(join(t.dir, 'server.log'), 'utf8');
      return (
        /"event":"failover\.reconfiguring"/.test(log) &&
        (log.match(/"event":"failover\.started"/g) ?? []).length >= 2
      );
    }, 'the relationship restarted');
  });

  test('resync and rebalance while the partner is unreachable: 409 with the reason (issue 18)', async () => {
    for (const kind of ['resync', 'rebalance']) {
      const r = await http<Json>(t.baseUrl, `/api/v1/failover/relationships/dc-pair/actions/${kind}`, {
        token: WRITE_TOKEN,
        method: 'POST',
      });
      assert.equal(r.status, 409, r.text);
      assert.equal(r.body.error, 'invalid-state');
      assert.match(
        String(r.body.message),
        new RegExp(`the partner cannot be reached .*nothing to ${kind} with`),
      );
    }
  });

  test('the state history records the change the startup timer makes, with its rule (issue 18)', async () => {
    // STARTUP ends 15 s after the (re)start without the partner: the endpoint moves on.
    let r: Json & { stateHistory: Json[] } = { stateHistory: [] };
    await eventually(
      async () => {
        r = (await http<Json & { stateHistory: Json[] }>(t.baseUrl, '/api/v1/failover/relationships/dc-pair'))
          .body;
        return r.stateHistory.length > 0;
      },
      'a state change',
      25_000,
    );
    const change = r.stateHistory[0]!;
    assert.equal(change.from, 'startup');
    assert.equal(change.to, r.state);
    assert.equal(change.rule, 'startup:startup-timer-expired');
    assert.equal(change.reason, 'the startup period ended without reaching the partner');
    assert.equal(r.previousState, 'startup');
    assert.equal(r.stateChangeReason, change.reason);
  });
});
