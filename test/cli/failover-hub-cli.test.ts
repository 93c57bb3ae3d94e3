// `twinlease failover get` filters and `twinlease failover listeners` (spawned processes) against
// an API server of a hub with three relationships (fake failover endpoint, failover-helpers.ts).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listQuery } from '../../src/cli/commands/failover.js';
import { ServerState } from '../../src/wire/failover-message.js';
import {
  type FailoverApiServer,
  fakeStatus,
  READ_TOKEN,
  relationshipConfig,
  startFailoverApi,
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
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

test('list filters: D12 state text becomes the API name', () => {
  assert.equal(listQuery({ state: 'communications-interrupted' }), 'state=communicationsInterrupted');
  assert.equal(
    listQuery({ state: 'normal', connection: 'down', match: 'br' }),
    'state=normal&connection=down&name=br',
  );
  assert.equal(listQuery({}), '');
});

describe('a hub from the command line', () => {
  let a: FailoverApiServer;
  let ro: string[];

  before(async () => {
    a = await startFailoverApi('hub', {
      failover: ['north', 'south'].map((name, k) =>
        relationshipConfig({
          name: `branch-${name}`,
          role: 'secondary',
          partner: { address: `10.0.1.${k + 1}` },
          scopeIds: [['lab', 'office'][k]],
        }),
      ),
    });
    a.failover.statusList = [
      fakeStatus({ name: 'branch-north', role: 'secondary' }),
      fakeStatus({
        name: 'branch-south',
        role: 'secondary',
        localState: ServerState.COMMUNICATIONS_INTERRUPTED,
        isCommunicating: false,
      }),
    ];
    a.failover.listenerList = [
      {
        listen: '10.0.0.2:647',
        relationships: ['branch-north', 'branch-south'],
        matched: 4,
        refused: {
          'unknown-peer': 3,
          'unknown-name': 0,
          'no-connect': 0,
          'not-connect': 0,
          'wake-up': 0,
          closing: 0,
        },
        nameOfAnotherPartner: 0,
        waitingForConnect: 0,
      },
    ];
    ro = ['--api', a.baseUrl, '--token', READ_TOKEN];
  });
  after(async () => {
    await a.close();
  });

  test('failover get --state / --connection / --partner filter the list', async () => {
    const down = await cli([...ro, 'failover', 'get', '--state', 'communications-interrupted']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /branch-south/);
    assert.doesNotMatch(down.stdout, /branch-north/);
    const up = await cli([...ro, 'failover', 'get', '--connection', 'up', '--json']);
    assert.deepEqual(
      (JSON.parse(up.stdout) as { items: { name: string }[] }).items.map((r) => r.name),
      ['branch-north'],
    );
    const byPartner = await cli([...ro, 'failover', 'get', '--partner', '10.0.1.2', '--json']);
    assert.deepEqual(
      (JSON.parse(byPartner.stdout) as { items: { name: string }[] }).items.map((r) => r.name),
      ['branch-south'],
    );
    const mixed = await cli([...ro, 'failover', 'get', '--name', 'branch-north', '--state', 'normal']);
    assert.notEqual(mixed.code, 0);
    assert.match(mixed.stderr, /list filters go without them/);
  });

  test('failover listeners', async () => {
    const r = await cli([...ro, 'failover', 'listeners']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /10\.0\.0\.2:647/);
    assert.match(r.stdout, /unknown-peer 3/);
  });
});
