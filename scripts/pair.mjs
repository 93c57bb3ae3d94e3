#!/usr/bin/env node
// Runs the loopback failover pair of config/pair-primary.json and config/pair-secondary.json in one
// terminal, no root needed: DHCP on 127.0.0.1:6767 and 127.0.0.2:6767 (clients relayed with giaddr
// 127.0.0.3, e.g. `twinlease probe`), failover on 127.0.0.1:6470 ↔ 6471, APIs on 8067/8068. Each
// line of output is prefixed with the server's role.
//   node scripts/pair.mjs               both servers
//   node scripts/pair.mjs primary       one of them (to restart a server that was killed)
// A server that dies (kill -9 to show failover) leaves its partner running; this says how to
// restart it. Ctrl-C (or SIGTERM) stops every server this started; it exits when none is left.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const ROLES = ['primary', 'secondary'];
const root = new URL('..', import.meta.url).pathname;
const roles = process.argv.slice(2);
for (const role of roles) {
  if (!ROLES.includes(role)) {
    console.error(`pair.mjs: unknown role ${JSON.stringify(role)}; use ${ROLES.join(' and/or ')}`);
    process.exit(2);
  }
}
const say = (who, text) => console.log(`${who.padEnd(9)} ${text}`);

const children = new Map();
let isStopping = false;
for (const role of roles.length > 0 ? roles : ROLES) {
  const args = ['bin/twinlease.js', 'serve', '--config', `config/pair-${role}.json`];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(role, child);
  say(role, `started, pid ${child.pid}: node ${args.join(' ')}`);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => say(role, line));
  }
  child.on('exit', (code, signal) => {
    say(role, `exited (${signal ?? code})`);
    children.delete(role);
    if (children.size === 0) process.exit(isStopping ? 0 : 1);
    if (!isStopping) {
      // The partner goes on serving (communications-interrupted): that is the failover to see.
      say(
        'pair',
        `${[...children.keys()].join(', ')} keeps running. Restart the ${role} with: node scripts/pair.mjs ${role}`,
      );
    }
  });
}
const stop = () => {
  isStopping = true;
  for (const child of children.values()) child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
