// Builds the native addon of the DHCP direct mode and the ping check (native/twinlease_net.c,
// README "DHCP modes") with node-gyp against the headers of the Node that runs this script, offline:
// npm's own node-gyp (npm sets npm_config_node_gyp in scripts; else the copy beside npm), and
// --nodedir pointing at this Node's installation (include/node/node_api.h), so nothing is fetched.
//   node scripts/build-native.mjs            build, fail loudly
//   node scripts/build-native.mjs --if-stale build only when the .node is older than the source

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'native');
const output = join(dir, 'build', 'Release', 'twinlease_net.node');
const source = join(dir, 'twinlease_net.c');

if (process.argv.includes('--if-stale') && existsSync(output)) {
  if (statSync(output).mtimeMs >= statSync(source).mtimeMs) process.exit(0);
}

const prefix = resolve(dirname(process.execPath), '..');
const nodedir =
  process.env.npm_config_nodedir ||
  [prefix, '/usr', '/usr/local'].find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
if (!nodedir) {
  console.error(
    `build-native: no Node headers (include/node/node_api.h) under ${prefix}, /usr or /usr/local; ` +
      'install the Node development headers or set npm_config_nodedir',
  );
  process.exit(1);
}
const gyp =
  process.env.npm_config_node_gyp ||
  [
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].find((p) => existsSync(p));
if (!gyp) {
  console.error('build-native: node-gyp not found (it comes with npm)');
  process.exit(1);
}
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: dir,
  stdio: 'inherit',
  env: { ...process.env, npm_config_nodedir: nodedir },
});
if (r.status !== 0 || !existsSync(output)) {
  console.error(`build-native: node-gyp failed (exit ${r.status})`);
  process.exit(r.status || 1);
}
console.log(`build-native: ${output}`);
