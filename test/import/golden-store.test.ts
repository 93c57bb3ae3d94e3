// The store `twinlease import dhcpd` writes, row by row and value by value (with SQLite's type of
// each value), its meta keys, and what the CLI prints, for lease files with every lease shape the
// importer reads, against a record made by the importer as it was before the issue-15 speed-up
// (c6c89de). A faster import must write the same store: any difference fails here, shown as the
// first row that differs. The record is remade with UPDATE_GOLDEN=1 (then `npx biome format
// --write` on it), only for an intended change of the output, said in the commit.
//
// every-shape.leases is written by a seeded generator (fixtures/every-shape-gen.mjs): each binding
// state and none, times as dates, `epoch` and `never`, hardware types and digit forms, uids as
// hex lists, empty, printable and escaped strings, host names with escapes and non-ASCII text,
// ddns-fwd-name, reserved and BOOTP flags, ignored statements, comments, CRLF, repeated addresses,
// addresses in a subnet but no range and in no scope.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { runDhcpdImport } from '../../src/import/cli.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const GOLDEN = join(FIXTURES, 'import-golden.json');

const CASES = [
  // NOW inside the generated dates, so leases without a binding state go both ways.
  { name: 'every-shape', now: 1_797_000_000 },
  { name: 'isc-failover-secondary', now: Date.UTC(2026, 10, 26, 9, 30, 0) / 1000 },
  { name: 'real-4.4.3-primary', now: Date.UTC(2026, 10, 26, 9, 30, 0) / 1000 },
  { name: 'real-4.4.3-secondary', now: Date.UTC(2026, 10, 26, 9, 30, 0) / 1000 },
] as const;

interface Dump {
  exitCode: number;
  output: string;
  userVersion: unknown;
  journalMode: unknown;
  /** Each row as [column, SQLite type, value] triples, in address order. */
  leases: unknown[][];
  meta: unknown[][];
}

async function importAndDump(name: string, now: number): Promise<Dump> {
  const dir = mkdtempSync(join(tmpdir(), 'tl-golden-'));
  const db = join(dir, 'leases.db');
  const output: string[] = [];
  const exitCode = await runDhcpdImport(
    {
      conf: join(FIXTURES, `${name}.conf`),
      leases: join(FIXTURES, `${name}.leases`),
      leaseDb: db,
      out: join(dir, 'config.json'),
    },
    { stdout: () => {}, stderr: (s) => output.push(s), now },
  );
  const text = output.join('').replaceAll(dir, '<dir>').replaceAll(FIXTURES, '<fixtures>/');
  const store = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const columns = (
      store.prepare('SELECT name FROM pragma_table_info(?)').all('leases') as { name: string }[]
    ).map((c) => c.name);
    const typed = columns.map((c) => `typeof(${c}), ${c}`).join(', ');
    const rows = store.prepare(`SELECT ${typed} FROM leases ORDER BY address`).raw().all() as unknown[][];
    return {
      exitCode,
      output: text,
      userVersion: store.pragma('user_version', { simple: true }),
      journalMode: store.pragma('journal_mode', { simple: true }),
      leases: rows.map((r) => columns.flatMap((c, i) => [c, r[2 * i], r[2 * i + 1]])),
      meta: store.prepare('SELECT key, value FROM meta ORDER BY key').raw().all() as unknown[][],
    };
  } finally {
    store.close();
  }
}

test('the imported store and the CLI output are those recorded for every lease shape', async () => {
  const dumps: Record<string, Dump> = {};
  for (const c of CASES) dumps[c.name] = await importAndDump(c.name, c.now);
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(GOLDEN, `${JSON.stringify(dumps, null, 1)}\n`);
    return;
  }
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, Dump>;
  assert.deepEqual(Object.keys(dumps), Object.keys(golden));
  for (const c of CASES) {
    const got = dumps[c.name]!;
    const want = golden[c.name]!;
    assert.equal(got.exitCode, want.exitCode, c.name);
    assert.equal(got.output, want.output, c.name);
    assert.equal(got.userVersion, want.userVersion, c.name);
    assert.equal(got.journalMode, want.journalMode, c.name);
    assert.deepEqual(got.meta, want.meta, c.name);
    assert.equal(got.leases.length, want.leases.length, `${c.name}: rows`);
    for (let i = 0; i < want.leases.length; i++)
      assert.deepEqual(got.leases[i], want.leases[i], `${c.name}: row ${i}`);
  }
  // The record is not trivial: it holds every state the store knows and each kind of value.
  const every = golden['every-shape']!;
  assert.ok(every.leases.length > 200);
  const values = (column: string) => new Set(every.leases.map((r) => r[r.indexOf(column) + 2]));
  // (backup goes in as free in a scope without failover; the real-4.4.3 files hold backup rows.)
  assert.deepEqual([...values('state')].sort(), [
    'abandoned',
    'active',
    'expired',
    'free',
    'released',
    'reset',
  ]);
  assert.deepEqual([...values('client_type')].sort(), ['bootp', 'dhcp']);
  assert.deepEqual([...values('is_reserved')].sort(), [0, 1]);
  assert.ok(values('client_id').has(null) && values('fqdn').has(null) && values('hostname').size > 100);
});
