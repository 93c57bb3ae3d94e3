// After the API listens, the server answers two lease-list pages to itself in idle turns (issue 15:
// at 1M leases the first page of 1000 after start took 170 ms, a later one 30-50 ms), so an
// operator's first request finds the serializer compiled and the listing's code already run.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, startTestServer } from './helpers.js';

type Json = Record<string, unknown>;

test('the lease list is answered twice by the warm-up, with the first token, before any request of ours', async () => {
  const t = await startTestServer();
  try {
    const warmUps = () =>
      readFileSync(join(t.dir, 'server.log'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Json)
        .filter((l) => l.event === 'api.request' && l.url === '/api/v1/leases?limit=1000');
    await eventually(async () => warmUps().length === 2, 'two warm-up lease pages', 20_000);
    for (const line of warmUps()) {
      assert.equal(line.status, 200, 'answered, not refused');
      assert.equal(line.tokenName, 'ops', 'with the first configured token');
    }
  } finally {
    await t.dispose();
  }
});
