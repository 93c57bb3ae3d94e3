// PATCH takes an RFC 7396 JSON merge patch, so it accepts its media type,
// application/merge-patch+json (RFC 7396 §4), as well as plain application/json (issue 14).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type FailoverApiServer,
  relationshipConfig,
  startFailoverApi,
  WRITE_TOKEN,
} from './failover-helpers.js';

type Json = Record<string, unknown>;

async function send(
  base: string,
  method: string,
  path: string,
  contentType: string,
  body: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${WRITE_TOKEN}`, 'content-type': contentType },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

describe('application/merge-patch+json', () => {
  let a: FailoverApiServer;

  before(async () => {
    a = await startFailoverApi('dhcp-a', { failover: [relationshipConfig()] });
  });
  after(async () => {
    await a.close();
  });

  test('PATCH accepts it, with or without a charset', async () => {
    const r = await send(
      a.baseUrl,
      'PATCH',
      '/api/v1/failover/relationships/dc-pair',
      'application/merge-patch+json',
      {
        mcltSeconds: 900,
      },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.mcltSeconds, 900);
    const c = await send(
      a.baseUrl,
      'PATCH',
      '/api/v1/failover/relationships/dc-pair',
      'application/merge-patch+json; charset=utf-8',
      { mcltSeconds: null },
    );
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(c.body.mcltSeconds, 3600, 'null removes the property: the default again');
    const bad = await send(
      a.baseUrl,
      'PATCH',
      '/api/v1/failover/relationships/dc-pair',
      'application/merge-patch+json',
      {
        mcltSeconds: 'ten',
      },
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.path, '/body/mcltSeconds');
  });

  test('it is a patch format: other methods answer 415', async () => {
    const r = await send(a.baseUrl, 'PUT', '/api/v1/scopes/lab/config', 'application/merge-patch+json', {});
    assert.equal(r.status, 415);
    assert.equal(r.body.path, '/body');
  });

  test('/openapi.json lists both media types for the PATCH', async () => {
    const doc = (await (await fetch(`${a.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    };
    const content = doc.paths['/api/v1/failover/relationships/{name}']?.patch?.requestBody?.content ?? {};
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'application/merge-patch+json']);
  });
});
