// `twinlease failover set --replicate`, `failover resync`, `failover rebalance` and
// `failover history` (issue 18 item 4): the real command against API servers with a fake failover
// endpoint (deterministic states), two of them for the change on both partners.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type FailoverApiServer,
  fakeStatus,
  NOW,
  relationshipConfig,
  startFailoverApi,
  WRITE_TOKEN,
} from '../api/failover-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { TWINLEASE_TOKEN: _t, TWINLEASE_API: _a, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ENTRY, ...args],
      { cwd: ROOT, env, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('failover operations from the command line', () => {
  let a: FailoverApiServer;
  let b: FailoverApiServer;
  let rw: string[];
  const relationshipOf = (s: FailoverApiServer) =>
    (JSON.parse(readFileSync(s.configPath, 'utf8')) as { failover: Record<string, unknown>[] }).failover[0]!;

  before(async () => {
    b = await startFailoverApi('dhcp-b', {
      failover: [
        relationshipConfig({
          role: 'secondary',
          local: { address: '10.0.0.3' },
          partner: { address: '10.0.0.2' },
        }),
      ],
    });
    a = await startFailoverApi('dhcp-a', {
      failover: [
        relationshipConfig({ partner: { address: '10.0.0.3', api: { url: b.baseUrl, token: WRITE_TOKEN } } }),
      ],
    });
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
        ],
      }),
    ];
    rw = ['--api', a.baseUrl, '--token', WRITE_TOKEN];
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('failover set --replicate changes both partners', async () => {
    const r = await cli([
      ...rw,
      'failover',
      'set',
      '--name',
      'dc-pair',
      '--mclt',
      '20m',
      '--load-balance-percent',
      '70',
      '--replicate',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Changed "dc-pair" here and on the partner/);
    assert.equal(relationshipOf(a).mcltSeconds, 1200);
    assert.equal(relationshipOf(b).mcltSeconds, 1200);
    assert.equal(relationshipOf(a).loadBalancePercent, 70);
    assert.equal(relationshipOf(b).loadBalancePercent, 30);
  });

  test('resync, rebalance, and their refusal', async () => {
    const resync = await cli([...rw, 'failover', 'resync', '--name', 'dc-pair']);
    assert.equal(resync.code, 0, resync.stderr);
    assert.match(
      resync.stdout,
      /^Resync of "dc-pair" started: the partner sends every binding again \(UPDREQALL\)/,
    );
    const rebalance = await cli([...rw, 'failover', 'rebalance', '--name', 'dc-pair']);
    assert.equal(rebalance.code, 0, rebalance.stderr);
    assert.match(rebalance.stdout, /this primary moves free addresses to the secondary/);
    assert.deepEqual(
      a.failover.syncCalls.map((c) => c[1]),
      ['resync', 'rebalance'],
    );
    a.failover.syncAnswer = {
      ok: false,
      reason: 'invalidState',
      message: 'state communications-interrupted: …',
    };
    const refused = await cli([...rw, 'failover', 'resync', '--name', 'dc-pair']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, 'twinlease: refused: state communications-interrupted: …\n');
    a.failover.syncAnswer = { ok: true };
  });

  test('history, and the previous state in failover get', async () => {
    const h = await cli([...rw, 'failover', 'history', '--name', 'dc-pair']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^State normal since 2026-11-23 23:50:00Z/);
    assert.match(
      h.stdout,
      /2026-11-23 23:50:00Z │ communicationsInterrupted │ normal │ the partner reported state normal │ normal\s+│ communications-interrupted:partner-normal/,
    );
    const g = await cli([...rw, 'failover', 'get', '--name', 'dc-pair']);
    assert.match(
      g.stdout,
      /Previous state\s+│ communicationsInterrupted \(left because the partner reported state normal\)/,
    );
  });
});
