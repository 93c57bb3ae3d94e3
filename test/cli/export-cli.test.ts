// `twinlease export`, `twinlease backup`, `twinlease lease import` and `twinlease import twinlease`
// (issue 18 item 5): the real command against a real server with leases made over relayed DHCP.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
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
      { cwd: ROOT, env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('export, backup and import from the command line', () => {
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

  test('export to a file and to stdout; a read-only token is refused', async () => {
    const file = join(t.dir, 'export.json');
    const r = await cli([...rw, 'export', '--out', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `twinlease: wrote ${file}\n`);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { leases: { address: string }[]; config: unknown };
    assert.deepEqual(doc.leases.map((l) => l.address).sort(), [...addr].sort());
    const stdout = await cli([...rw, 'export', '--no-leases']);
    assert.equal(stdout.code, 0, stdout.stderr);
    const configOnly = JSON.parse(stdout.stdout) as Record<string, unknown>;
    assert.equal(configOnly.leases, undefined);
    assert.deepEqual(configOnly.config, doc.config);
    const ro = await cli(['--api', t.baseUrl, '--token', READ_TOKEN, 'export']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /not allowed: token "grafana" is read-only/);
  });

  test('backup; lease import --dry-run; import twinlease into a new store', async () => {
    const path = join(t.dir, 'cli-backup.db');
    const b = await cli([...rw, 'backup', '--path', path]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, new RegExp(`Backup\\s+│ ${path.replace(/[.]/g, '\\.')}`));
    assert.match(b.stdout, /Lease records\s+│ 2/);
    assert.ok(existsSync(path));

    const file = join(t.dir, 'export.json');
    const dry = await cli([...rw, 'lease', 'import', '--file', file, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^Dry run: would import 0 of 2 leases; skipped 2 \(2 address-in-use\)\./);

    const db = join(t.dir, 'cli-imported.db');
    const out = join(t.dir, 'cli-imported.json');
    const imp = await cli(['import', 'twinlease', '--file', file, '--out', out, '--lease-db', db]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, new RegExp(`wrote ${out}; 2 of 2 leases into ${db}`));
    assert.ok(existsSync(db));
  });
});
