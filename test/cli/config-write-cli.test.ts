// --dry-run and --force on the verbs that write the config file (issue 14 item 5), and
// `scope config get|set`: a dry run prints the diff and the leases the change would orphan and
// changes nothing; a refused write exits 1 naming the leases; --force writes it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  activeLease,
  type FailoverApiServer,
  fakeStatus,
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

describe('config writes from the command line', () => {
  let a: FailoverApiServer;
  let rw: string[];

  before(async () => {
    a = await startFailoverApi('dhcp-a', { failover: [relationshipConfig({ scopeIds: ['office'] })] }, [
      activeLease('10.50.0.11', 'lab', 2),
    ]);
    rw = ['--api', a.baseUrl, '--token', WRITE_TOKEN];
  });
  after(async () => {
    await a.close();
  });

  test('scope config get, set --dry-run, a refusal, --force', async () => {
    const got = await cli([...rw, 'scope', 'config', 'get', 'lab']);
    assert.equal(got.code, 0, got.stderr);
    const lab = JSON.parse(got.stdout) as Record<string, unknown>;
    assert.equal(lab.subnet, '10.50.0.0/24');
    const moved = join(a.dir, 'moved.json');
    writeFileSync(
      moved,
      JSON.stringify({
        ...lab,
        subnet: '10.51.0.0/24',
        ranges: [{ start: '10.51.0.10', end: '10.51.0.20' }],
      }),
    );
    const fileBefore = readFileSync(a.configPath, 'utf8');

    const dry = await cli([...rw, 'scope', 'config', 'set', 'lab', '--file', moved, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: nothing was changed\. The change would be REFUSED/);
    assert.match(dry.stdout, /orphans-active-leases/);
    assert.match(dry.stdout, /\/scopes\/0\/subnet\s+│ "10\.50\.0\.0\/24"\s+│ "10\.51\.0\.0\/24"/);
    assert.match(
      dry.stdout,
      /10\.50\.0\.11\s+│ lab\s+│ 02:00:00:00:00:02\s+│ -\s+│ host-2\s+│ 2026-11-24 01:00:00Z/,
    );
    assert.equal(readFileSync(a.configPath, 'utf8'), fileBefore);

    const refused = await cli([...rw, 'scope', 'config', 'set', 'lab', '--file', moved]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^twinlease: refused: the change leaves 1 active lease outside every scope/);
    assert.match(
      refused.stderr,
      /\n {2}10\.50\.0\.11 {2}02:00:00:00:00:02 {2}host-2 {2}expires 2026-11-24T01:00:00Z/,
    );
    assert.equal(readFileSync(a.configPath, 'utf8'), fileBefore);

    const forced = await cli([...rw, 'scope', 'config', 'set', 'lab', '--file', moved, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /Scope "lab" written/);
    assert.match(readFileSync(a.configPath, 'utf8'), /10\.51\.0\.0\/24/);
  });

  test('failover set/remove --dry-run change nothing', async () => {
    const fileBefore = readFileSync(a.configPath, 'utf8');
    const set = await cli([...rw, 'failover', 'set', '--name', 'dc-pair', '--mclt', '10m', '--dry-run']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /The change would be written/);
    assert.match(set.stdout, /\/failover\/0\/mcltSeconds\s+│ 1800\s+│ 600/);
    const remove = await cli([...rw, 'failover', 'remove', '--name', 'dc-pair', '--dry-run', '--json']);
    assert.equal(remove.code, 0, remove.stderr);
    assert.deepEqual(JSON.parse(remove.stdout).changes.relationshipsRemoved, ['dc-pair']);
    assert.equal(readFileSync(a.configPath, 'utf8'), fileBefore);
  });
});

describe('failover get/set say what is in force and what a change did', () => {
  let a: FailoverApiServer;
  let rw: string[];

  before(async () => {
    a = await startFailoverApi('dhcp-b', {
      failover: [relationshipConfig({ role: 'secondary', mcltSeconds: 600, loadBalancePercent: 40 })],
    });
    a.failover.statusList = [fakeStatus({ role: 'secondary', mcltSeconds: 300, clientSharePercent: 50 })];
    rw = ['--api', a.baseUrl, '--token', WRITE_TOKEN];
  });
  after(async () => {
    await a.close();
  });

  test('values in force with the configured ones beside; a change restarts the relationship at once', async () => {
    const get = await cli([...rw, 'failover', 'get', '--name', 'dc-pair']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /MCLT\s+│ 5m 0s \(configured 10m 0s; the primary's is in force\)/);
    assert.match(get.stdout, /load balance 50% here \(configured 40%; the primary's is in force\)/);
    const set = await cli([...rw, 'failover', 'set', '--name', 'dc-pair', '--mclt', '20m']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /restarted the relationship at once: it sent STATE paused to the partner/);
    assert.match(set.stdout, /│ update\s+│ [^│]+│ dhcp-b\s+│ ops\s+│ restarted/);
    assert.doesNotMatch(set.stdout, /after a restart/);
  });
});
