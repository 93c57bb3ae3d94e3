// `twinlease lease release IP` and `twinlease lease delete IP [--force]` (issue 18 item 2): the real
// command against a real server with leases made over relayed DHCP, and the refusals.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  http,
  mac,
  READ_TOKEN,
  RELAY_LAB,
  Relay,
  startTestServer,
  type TestServer,
  WRITE_TOKEN,
} from '../api/helpers.js';

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

describe('lease release and delete from the command line', () => {
  let t: TestServer;
  let relay: Relay;
  let rw: string[];
  const addr: string[] = [];

  before(async () => {
    t = await startTestServer();
    relay = await Relay.open(RELAY_LAB, t.dhcpPort);
    for (const n of [1, 2]) addr.push(await relay.dora({ mac: mac(n) }));
    rw = ['--api', t.baseUrl, '--token', WRITE_TOKEN];
  });
  after(async () => {
    await relay.close();
    await t.dispose();
  });

  test('release, then delete; a second release is refused', async () => {
    const released = await cli([...rw, 'lease', 'release', addr[0]!]);
    assert.equal(released.code, 0, released.stderr);
    assert.equal(released.stdout, `Lease ${addr[0]} released (binding free).\n`);
    const again = await cli([...rw, 'lease', 'release', addr[0]!, '--scope', 'lab']);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      `twinlease: refused: ${addr[0]} is not an active lease (its binding is free)\n`,
    );
    const deleted = await cli([...rw, 'lease', 'delete', addr[0]!]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `Lease record ${addr[0]} deleted.\n`);
    assert.equal((await http(t.baseUrl, `/api/v1/leases/${addr[0]}`)).status, 404);
  });

  test('delete of an active lease needs --force; a read-only token is refused', async () => {
    const refused = await cli([...rw, 'lease', 'delete', addr[1]!]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^twinlease: refused: .* is an active lease of 02:00:00:00:00:02; release it first, or force/,
    );
    const readOnly = await cli([
      '--api',
      t.baseUrl,
      '--token',
      READ_TOKEN,
      'lease',
      'delete',
      addr[1]!,
      '--force',
    ]);
    assert.equal(readOnly.code, 1);
    assert.match(readOnly.stderr, /not allowed: token "grafana" is read-only/);
    const forced = await cli([...rw, '--json', 'lease', 'delete', addr[1]!, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(JSON.parse(forced.stdout), { deleted: true });
    const missing = await cli([...rw, 'lease', 'release', '10.50.0.28']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'twinlease: not found: no lease record for 10.50.0.28\n');
  });
});
