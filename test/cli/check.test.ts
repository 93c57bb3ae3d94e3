// `twinlease check --config FILE [--leases DB]` (issue 18): the loader's findings with
// file:line:column and exit status 2, a valid file with 0, and with --leases the findings against a
// lease store (a reservation on another client's lease, an active lease outside every scope),
// read while a writer has the store open.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck } from '../../src/cli/commands/check.js';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { openSqliteLeaseStore, type SqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));
const NOW = 1_795_478_400;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ENTRY, ...args],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

function inProcess(args: { config: string; leases?: string; json?: boolean }) {
  let stdout = '';
  let stderr = '';
  const code = runCheck(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), now: NOW });
  return { code, stdout, stderr };
}

const VALID = {
  server: { name: 'dhcp-a' },
  dhcp: { listenAddress: '127.0.0.1', port: 6767 },
  scopes: [
    {
      id: 'lab',
      subnet: '10.50.0.0/24',
      ranges: [{ start: '10.50.0.10', end: '10.50.0.29' }],
      reservations: [{ address: '10.50.0.5', hardwareAddress: '02:00:00:00:00:99' }],
    },
  ],
};

function lease(address: string, mac: string, expiresAt = NOW + 3600): Lease {
  return {
    ...emptyLease(parseIpv4(address), 'lab', 'active', NOW - 60),
    hardwareType: 1,
    hardwareAddress: mac,
    leaseExpiresAt: expiresAt,
    clientLastTransactionAt: NOW - 60,
    ownerServer: 'dhcp-a',
  };
}

describe('twinlease check', () => {
  let dir = '';
  let store: SqliteLeaseStore;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinlease-check-'));
    // Left open for the whole test, as a running server would hold it.
    store = openSqliteLeaseStore(join(dir, 'leases.db'));
    await store.commit([
      lease('10.50.0.5', '020000000001'), // on the printer's reservation, another client
      lease('10.50.0.12', '020000000002'),
      lease('10.99.0.7', '020000000003'), // in no scope of the config
      lease('10.99.0.8', '020000000004', NOW - 10), // ran out: not held, not a finding
    ]);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a valid file: exit status 0 (the real command)', async () => {
    const path = file('valid.json', JSON.stringify(VALID, null, 2));
    const r = await cli(['check', '--config', path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${path}: the configuration is valid\n`);
    assert.equal(r.stderr, '');
  });

  test('every finding with file:line:column and its path; exit status 2 (the real command)', async () => {
    const text = `{
  "server": { "name": "dhcp-a" },
  "dhcp": { "listenAddress": "127.0.0.1", "port": 6767 },
  "scopes": [
    {
      "id": "lab",
      "subnet": "10.50.0.0/24",
      "ranges": [{ "start": "10.50.0.10", "end": "10.50.0.300" }],
      "leaseTimeSeconds": "3600",
      "colour": "red"
    }
  ]
}
`;
    const path = file('invalid.json', text);
    const r = await cli(['check', '-c', path]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.match(lines[0]!, new RegExp(`^${path}:8:50: scopes\\[0\\]\\.ranges\\[0\\]\\.end: `));
    assert.match(lines[1]!, new RegExp(`^${path}:9:27: scopes\\[0\\]\\.leaseTimeSeconds: `));
    assert.match(lines[2]!, new RegExp(`^${path}:10:7: scopes\\[0\\]\\.colour: `));
    assert.equal(r.stdout, `${path}: 3 findings\n`);
  });

  test('semantic rules and JSON syntax are findings too', () => {
    const semantic = file(
      'semantic.json',
      JSON.stringify(
        {
          ...VALID,
          scopes: [{ ...VALID.scopes[0], ranges: [{ start: '10.50.0.30', end: '10.50.0.10' }] }],
        },
        null,
        2,
      ),
    );
    const r1 = inProcess({ config: semantic });
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, new RegExp(`^${semantic}:\\d+:\\d+: scopes\\[0\\]\\.ranges\\[0\\]`));
    const syntax = file('syntax.json', '{\n  "server": { "name": "a" },\n  "scopes": [\n}\n');
    const r2 = inProcess({ config: syntax });
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, new RegExp(`^${syntax}:4:1: JSON syntax error`));
    const missing = inProcess({ config: join(dir, 'nope.json') });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.json: cannot read the file: no such file/);
  });

  test('--leases: a reservation on another client lease and an active lease outside every scope', () => {
    const path = file('valid2.json', JSON.stringify(VALID, null, 2));
    const db = join(dir, 'leases.db');
    const r = inProcess({ config: path, leases: db });
    assert.equal(r.code, 2, r.stdout);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    // The reservation, at its address in the file.
    assert.match(
      lines[0]!,
      new RegExp(
        `^${path}:\\d+:\\d+: scopes\\[0\\]\\.reservations\\[0\\]\\.address: 10\\.50\\.0\\.5 is leased to another client in ${db}: MAC 02:00:00:00:00:01`,
      ),
    );
    assert.match(
      lines[1]!,
      new RegExp(
        `^${db}: 10\\.99\\.0\\.7 \\(scope "lab", MAC 02:00:00:00:00:03\\) is an active lease outside every scope`,
      ),
    );
    assert.equal(r.stdout, `${path}: 2 findings against 4 lease records of ${db}\n`);

    // Fixed: the address is reserved for the client that holds it, a scope covers 10.99.0.0/24.
    const fixed = file(
      'fixed.json',
      JSON.stringify({
        ...VALID,
        scopes: [
          {
            ...VALID.scopes[0],
            reservations: [
              { address: '10.50.0.5', hardwareAddress: '02:00:00:00:00:01' },
              { address: '10.50.0.6', hardwareAddress: '02:00:00:00:00:99' },
            ],
          },
          { id: 'other', subnet: '10.99.0.0/24', ranges: [{ start: '10.99.0.1', end: '10.99.0.9' }] },
        ],
      }),
    );
    const ok = inProcess({ config: fixed, leases: db });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${fixed}: the configuration is valid against 4 lease records of ${db}\n`);
  });

  test('--json, and a lease store that cannot be read', () => {
    const path = file('valid3.json', JSON.stringify(VALID));
    const bad = file('not-a-db', 'hello, not SQLite');
    const r = inProcess({ config: path, leases: bad, json: true });
    assert.equal(r.code, 2);
    const report = JSON.parse(r.stdout) as { ok: boolean; findings: { file: string; message: string }[] };
    assert.equal(report.ok, false);
    assert.equal(report.findings[0]!.file, bad);
    assert.match(report.findings[0]!.message, /cannot (open|read)/);
  });
});
