// `twinlease <verb> | head`: the reader closes the pipe early and the command's next write fails
// with EPIPE. It exits quietly, as coreutils do (they die of SIGPIPE: status 128 + 13), with no
// stack trace on stderr.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

test('output to a pipe that is closed early: a quiet exit with status 141, no stack trace', async () => {
  // A dhcpd.conf whose translation is far larger than a pipe's buffer (64 KiB).
  const dir = mkdtempSync(join(tmpdir(), 'tl-epipe-'));
  const conf = join(dir, 'dhcpd.conf');
  const hosts = Array.from(
    { length: 2000 },
    (_, i) =>
      `  host h${i} { hardware ethernet 02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}; fixed-address 10.0.${201 + (i >> 8)}.${i & 255}; }`,
  );
  writeFileSync(
    conf,
    `subnet 10.0.0.0 netmask 255.255.0.0 {\n  range 10.0.1.0 10.0.200.255;\n${hosts.join('\n')}\n}\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'import', 'dhcpd', '--conf', conf], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  // Like `head -c 1`: read one chunk, then close the reading end.
  child.stdout.once('data', () => child.stdout.destroy());
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  assert.equal(signal, null);
  assert.equal(code, 141, `exit status (stderr: ${stderr})`);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled|at .*\(/);
});
