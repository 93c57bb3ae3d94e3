#!/usr/bin/env node
// Runs the loopback failover pair of config/pair-primary.json and config/pair-secondary.json in one
// terminal (no root needed: DHCP on ports 6767/6768, failover on 127.0.0.1:6470 ↔ 6471, APIs on
// 8067/8068). Each line of output is prefixed with the server's role. Ctrl-C stops both (SIGTERM).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const root = new URL('..', import.meta.url).pathname;
const children = [];
for (const role of ['primary', 'secondary']) {
  const child = spawn(
    process.execPath,
    ['bin/twinlease.js', 'serve', '--config', `config/pair-${role}.json`],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`${role.padEnd(9)} ${line}`));
  }
  child.on('exit', (code, signal) => {
    console.log(`${role.padEnd(9)} exited (${signal ?? code})`);
    for (const other of children) if (other !== child && other.exitCode === null) other.kill('SIGTERM');
  });
  children.push(child);
}
const stop = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
