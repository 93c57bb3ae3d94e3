// The shipped systemd unit (packaging/twinlease.service, issue 18 item 6): `systemd-analyze verify`
// accepts it (and rejects a broken copy, so the check bites), and it says what docs/install.md
// says: its own user, only CAP_NET_BIND_SERVICE, a state directory, restart on failure, reload as
// SIGHUP. CI installs systemd-analyze (.ci/run NEEDED: systemd).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const UNIT = fileURLToPath(new URL('../../packaging/twinlease.service', import.meta.url));
const PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url));

function verify(path: string): { code: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  if (r.error)
    throw new Error(
      `systemd-analyze not found (.ci/run installs the Debian package systemd): ${r.error.message}`,
    );
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Every `Key=value` of the unit, by key. */
function directives(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const d = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (d) m.set(d[1]!, [...(m.get(d[1]!) ?? []), d[2]!]);
  }
  return m;
}

describe('packaging/twinlease.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const d = directives(text);

  test('systemd-analyze verify accepts it, and rejects a broken copy', () => {
    const ok = verify(UNIT);
    assert.equal(ok.code, 0, ok.output);
    assert.equal(ok.output.trim(), '', 'no warning either');
    const dir = mkdtempSync(join(tmpdir(), 'twinlease-unit-'));
    try {
      const broken = join(dir, 'twinlease.service');
      writeFileSync(broken, text.replace(/^ExecStart=.*$/m, 'ExecStart=no-such-twinlease serve'));
      const bad = verify(broken);
      assert.notEqual(bad.code, 0);
      assert.match(bad.output, /no-such-twinlease is not executable/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('its own user, only CAP_NET_BIND_SERVICE, a state directory, restart on failure, reload = SIGHUP', () => {
    assert.deepEqual(d.get('User'), ['twinlease']);
    assert.deepEqual(d.get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(d.get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(d.get('StateDirectory'), ['twinlease']);
    assert.deepEqual(d.get('Restart'), ['on-failure']);
    assert.deepEqual(d.get('ExecReload'), ['/bin/kill -HUP $MAINPID']);
    assert.deepEqual(d.get('ExecStart'), [
      '/usr/bin/env twinlease serve --config /etc/twinlease/config.json',
    ]);
    assert.deepEqual(d.get('NoNewPrivileges'), ['yes']);
    assert.deepEqual(d.get('WantedBy'), ['multi-user.target']);
  });

  test('npm pack ships it', () => {
    const files = (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { files: string[] }).files;
    assert.ok(files.includes('packaging'), `package.json files: ${files.join(', ')}`);
  });
});
