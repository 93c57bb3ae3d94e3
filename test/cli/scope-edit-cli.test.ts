// `twinlease scope add|set|activate|deactivate|remove`, `reservation add|set|remove` and
// `exclusion add|remove` (issue 18 item 3): the real command against an API server over a temp
// config file; what lands in the file, the dry run, and a refusal.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  activeLease,
  type FailoverApiServer,
  startFailoverApi,
  WRITE_TOKEN,
} from '../api/failover-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));
type Json = Record<string, unknown>;

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

describe('scope, reservation and exclusion verbs from the command line', () => {
  let a: FailoverApiServer;
  let rw: string[];
  const scopeOf = (id: string) =>
    (JSON.parse(readFileSync(a.configPath, 'utf8')) as { scopes: Json[] }).scopes.find((s) => s.id === id);

  before(async () => {
    a = await startFailoverApi('dhcp-a', {}, [activeLease('10.50.0.12', 'lab', 1)]);
    rw = ['--api', a.baseUrl, '--token', WRITE_TOKEN];
  });
  after(async () => {
    await a.close();
  });

  test('scope add, set, deactivate --dry-run, deactivate, activate, remove', async () => {
    const add = await cli([
      ...rw,
      'scope',
      'add',
      'lab3',
      '--subnet',
      '10.90.0.0/24',
      '--range',
      '10.90.0.10-10.90.0.50',
      '--exclude',
      '10.90.0.20',
      '--lease-time',
      '8h',
      '--name',
      'third lab',
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'Scope "lab3" added; the server reloaded.\n');
    assert.deepEqual(scopeOf('lab3'), {
      id: 'lab3',
      name: 'third lab',
      subnet: '10.90.0.0/24',
      ranges: [{ start: '10.90.0.10', end: '10.90.0.50' }],
      exclusions: [{ start: '10.90.0.20', end: '10.90.0.20' }],
      leaseTimeSeconds: 28800,
    });
    const set = await cli([...rw, 'scope', 'set', 'lab3', '--description', 'racks 1-4']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(scopeOf('lab3')?.description, 'racks 1-4');
    const dry = await cli([...rw, 'scope', 'deactivate', 'lab3', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: nothing was changed\. The change would be written\./);
    assert.match(dry.stdout, /\/scopes\/3\/active\s+│ \(absent\)\s+│ false/);
    assert.equal(scopeOf('lab3')?.active, undefined);
    const off = await cli([...rw, 'scope', 'deactivate', 'lab3']);
    assert.equal(off.stdout, 'Scope "lab3" deactivated; the server reloaded.\n');
    assert.equal(scopeOf('lab3')?.active, false);
    const on = await cli([...rw, '--json', 'scope', 'activate', 'lab3']);
    assert.equal(on.code, 0, on.stderr);
    assert.equal((JSON.parse(on.stdout) as Json).active, undefined);
    const removed = await cli([...rw, 'scope', 'remove', 'lab3']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(scopeOf('lab3'), undefined);
  });

  test('scope remove of a scope with an active lease: refused, listing it', async () => {
    const refused = await cli([...rw, 'scope', 'remove', 'lab']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^twinlease: refused: the change leaves 1 active lease outside every scope \(10\.50\.0\.12\)/,
    );
    assert.match(refused.stderr, /10\.50\.0\.12 {2}02:00:00:00:00:01 {2}host-1/);
    assert.ok(scopeOf('lab'));
  });

  test('reservation add, set, remove; exclusion add, remove', async () => {
    const add = await cli([
      ...rw,
      'reservation',
      'add',
      '--scope',
      'lab',
      '--ip',
      '10.50.0.5',
      '--mac',
      '02:00:00:00:00:99',
      '--hostname',
      'printer',
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'Reservation of 10.50.0.5 added to scope "lab"; the server reloaded.\n');
    assert.deepEqual(scopeOf('lab')?.reservations, [
      { address: '10.50.0.5', hardwareAddress: '02:00:00:00:00:99', hostname: 'printer' },
    ]);
    const noClient = await cli([...rw, 'reservation', 'add', '--scope', 'lab', '--ip', '10.50.0.6']);
    assert.equal(noClient.code, 1);
    assert.equal(noClient.stderr, 'twinlease: give --mac or --client-id (or both)\n');
    const set = await cli([
      ...rw,
      'reservation',
      'set',
      '--scope',
      'lab',
      '--ip',
      '10.50.0.5',
      '--description',
      'door',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((scopeOf('lab')!.reservations as Json[])[0]?.description, 'door');
    const remove = await cli([...rw, 'reservation', 'remove', '--scope', 'lab', '--ip', '10.50.0.5']);
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal(scopeOf('lab')?.reservations, undefined);

    const over = await cli([...rw, 'exclusion', 'add', '--scope', 'lab', '--range', '10.50.0.12']);
    assert.equal(over.code, 1);
    assert.match(over.stderr, /refused: the change leaves 1 active lease outside every scope/);
    const exc = await cli([...rw, 'exclusion', 'add', '--scope', 'lab', '--range', '10.50.0.25-10.50.0.29']);
    assert.equal(exc.code, 0, exc.stderr);
    assert.deepEqual(scopeOf('lab')?.exclusions, [{ start: '10.50.0.25', end: '10.50.0.29' }]);
    const gone = await cli([
      ...rw,
      'exclusion',
      'remove',
      '--scope',
      'lab',
      '--range',
      '10.50.0.25-10.50.0.29',
    ]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(scopeOf('lab')?.exclusions, undefined);
    const missing = await cli([
      ...rw,
      'exclusion',
      'remove',
      '--scope',
      'lab',
      '--range',
      '10.50.0.25-10.50.0.29',
    ]);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      'twinlease: not found: scope "lab" has no exclusion 10.50.0.25-10.50.0.29\n',
    );
  });
});
