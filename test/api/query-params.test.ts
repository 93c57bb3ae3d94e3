// Unknown query parameters are a 400 on every route, with the parameter's JSON pointer, before the
// handler runs (issue 14 item 5: `PUT …/config?dryRun=true` once ignored the parameter and wrote).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  type FailoverApiServer,
  relationshipConfig,
  startFailoverApi,
  WRITE_TOKEN,
} from './failover-helpers.js';
import { http } from './helpers.js';

type Json = Record<string, unknown>;

describe('unknown query parameters', () => {
  let a: FailoverApiServer;

  before(async () => {
    a = await startFailoverApi('dhcp-a', { failover: [relationshipConfig()] });
  });
  after(async () => {
    await a.close();
  });

  test('are refused on every kind of route, naming the parameter', async () => {
    const lab = await http<Json>(a.baseUrl, '/api/v1/scopes/lab/config');
    const cases: [string, { method?: string; body?: unknown }][] = [
      ['/healthz?verbose=1', {}],
      ['/openapi.json?format=yaml', {}],
      ['/metrics?name=x', {}],
      ['/api/v1/status?colour=red', {}],
      ['/api/v1/scopes?colour=red', {}],
      ['/api/v1/scopes/lab?colour=red', {}],
      ['/api/v1/statistics?colour=red', {}],
      ['/api/v1/leases/10.50.0.10?colour=red', {}],
      ['/api/v1/scopes/lab/config?colour=red', {}],
      [
        '/api/v1/scopes/lab/config?colour=red',
        { method: 'PUT', body: { ...lab.body, leaseTimeSeconds: 60 } },
      ],
      ['/api/v1/config/reload?colour=red', { method: 'POST', body: {} }],
      ['/api/v1/failover/relationships?colour=red', {}],
      ['/api/v1/failover/relationships/dc-pair?colour=red', { method: 'PATCH', body: { mcltSeconds: 60 } }],
      ['/api/v1/failover/relationships/dc-pair/actions/partner-down?colour=red', { method: 'POST' }],
      ['/ui/api/snapshot?colour=red', {}],
    ];
    const fileBefore = readFileSync(a.configPath, 'utf8');
    const reloads = a.reloads;
    for (const [path, init] of cases) {
      const res = await http<Json>(a.baseUrl, path, { ...init, token: WRITE_TOKEN });
      assert.equal(res.status, 400, `${init.method ?? 'GET'} ${path}: ${res.text}`);
      assert.equal(res.body.error, 'invalid-request', path);
      const name = new URL(path, 'http://x').searchParams.keys().next().value;
      assert.equal(res.body.path, `/query/${name}`, path);
      assert.equal(res.body.message, `/query/${name} is not allowed`, path);
    }
    assert.equal(readFileSync(a.configPath, 'utf8'), fileBefore, 'nothing was written');
    assert.equal(a.reloads, reloads, 'nothing was reloaded');
    assert.deepEqual(a.failover.partnerDownCalls, [], 'no action ran');
  });

  test('known parameters still work', async () => {
    assert.equal((await http(a.baseUrl, '/api/v1/leases?limit=5')).status, 200);
    assert.equal((await http(a.baseUrl, '/api/v1/status')).status, 200);
  });
});
