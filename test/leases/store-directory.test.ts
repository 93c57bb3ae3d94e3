// The lease store's directory is created component by component, so a path the filesystem cannot
// hold is a clear startup error (issue 14: a path under /proc made Node's recursive mkdir spin at
// 100 % CPU forever with no output).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeStoreDirectory } from '../../src/leases/store-directory.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('../cli/entry.ts', import.meta.url));

test('creates the missing directories of a store path; an existing one is fine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinlease-store-dir-'));
  try {
    makeStoreDirectory(join(dir, 'a', 'b', 'leases.db'));
    assert.ok(statSync(join(dir, 'a', 'b')).isDirectory());
    makeStoreDirectory(join(dir, 'a', 'b', 'leases.db'));
    // A file where a directory should be: ENOTDIR, named.
    writeFileSync(join(dir, 'file'), '');
    assert.throws(
      () => makeStoreDirectory(join(dir, 'file', 'x', 'leases.db')),
      /lease store .*file\/x\/leases\.db: cannot create the directory .*file\/x: .*not a directory/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory under /proc is refused at once, with the reason', {
  skip: !existsSync('/proc/self'),
}, () => {
  const started = Date.now();
  assert.throws(
    () => makeStoreDirectory('/proc/twinlease-test/leases.db'),
    /lease store \/proc\/twinlease-test\/leases\.db: cannot create the directory \/proc\/twinlease-test: .*\/proc does not take new directories/,
  );
  assert.ok(Date.now() - started < 1000);
});

test('`twinlease serve` with a lease store under /proc stops with a startup error', {
  skip: !existsSync('/proc/self'),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinlease-store-dir-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      dhcp: { listenAddress: '127.0.0.1', port: 26799 },
      leaseStore: { path: '/proc/twinlease-test/leases.db' },
      api: { listenAddress: '127.0.0.1', port: 0 },
      scopes: [{ subnet: '10.9.0.0/24', ranges: [{ start: '10.9.0.10', end: '10.9.0.20' }] }],
    }),
  );
  try {
    const r = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', ENTRY, 'serve', '--config', config],
        { cwd: ROOT, timeout: 20_000, killSignal: 'SIGKILL' },
        (err, _stdout, stderr) =>
          resolve({
            code: err ? ((err as { code?: number }).code ?? null) : 0,
            signal: err ? ((err as { signal?: string }).signal ?? null) : null,
            stderr,
          }),
      );
    });
    assert.equal(r.signal, null, 'it exits by itself (it used to spin until killed)');
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /twinlease: cannot start:\n.*lease store \/proc\/twinlease-test\/leases\.db: cannot create the directory/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
