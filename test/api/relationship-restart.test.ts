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
});
