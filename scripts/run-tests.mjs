#!/usr/bin/env node
// Runs the test suites through node's own test runner (Node 20 does not glob .ts files itself).
//   node scripts/run-tests.mjs [unit|e2e|all] [extra files...]
// unit: every test/**/*.test.ts outside test/e2e, test/chaos and test/differential (no root, no network).
// e2e:  test/e2e, test/chaos and test/differential: real processes, real clients, Kea, network
//       namespaces (root).
// all (default): builds dist/ first (e2e runs the built bin), then unit, then e2e.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const group = process.argv[2] ?? 'all';

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(walk(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out.sort();
}

const all = walk(join(root, 'test'));
const isSlow = (f) =>
  f.startsWith('test/e2e/') || f.startsWith('test/chaos/') || f.startsWith('test/differential/');
const unit = all.filter((f) => !isSlow(f));
const e2e = all.filter(isSlow);

function run(files, extraArgs = []) {
  if (files.length === 0) return 0;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...extraArgs, ...files], {
    cwd: root,
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

function build() {
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  // The direct-mode e2e test runs the native addon: build it when missing or older than its source.
  const n = spawnSync(process.execPath, ['scripts/build-native.mjs', '--if-stale'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (n.status !== 0) process.exit(n.status ?? 1);
}

let files;
if (group === 'unit') files = unit;
else if (group === 'e2e') {
  build();
  files = e2e;
} else if (group === 'all') {
  build();
  files = [...unit, ...e2e];
} else files = process.argv.slice(2);

// One runner process for everything, so the closing "# pass N / # fail N" lines cover the whole run.
// e2e tests share network namespaces and port 67: run files one at a time.
// The second reporter prints the failed tests again at the very end (scripts/failures-reporter.mjs).
process.exit(
  run(files, [
    '--test-concurrency=1',
    '--test-reporter=tap',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/failures-reporter.mjs',
    '--test-reporter-destination=stdout',
  ]),
);
