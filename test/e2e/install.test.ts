// docs/install.md as far as CI can run it (issue 18 item 6): `npm pack` (which builds), the
// tarball installed globally into a temporary prefix, the installed systemd unit verified with
// `systemd-analyze verify`, `twinlease check` on the shipped example, and the shipped loopback pair
// started from the installed copy the way the unit starts it — an unprivileged user holding only
// CAP_NET_BIND_SERVICE (setpriv does what AmbientCapabilities= does) — on the standard ports 67
// and 647 in a network namespace, reaching NORMAL, leasing, reloading on SIGHUP. Without the
// capability the same start fails: it is needed, and it is enough.

import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { e2eSkipReason, REPO_ROOT } from './lib/env.js';
import { LineProcess, run, waitUntil } from './lib/proc.js';

const NS = 'tli-install';
const skip = e2eSkipReason(['setpriv', 'systemd-analyze', 'npm']) ?? false;
const NOBODY = 65534;
/** What the unit grants: CAP_NET_BIND_SERVICE (bit 10) and nothing else. */
const CAP_NET_BIND_SERVICE_MASK = (1n << 10n).toString(16).padStart(16, '0');

type Json = Record<string, unknown>;

describe('install walk-through (docs/install.md), as far as CI can run it', { skip }, () => {
  let dir = '';
  let prefix = '';
  let installed = '';
  let twinlease = '';
  const servers: LineProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinlease-install-'));
    chmodSync(dir, 0o755); // the unprivileged server must reach its files
    prefix = join(dir, 'prefix');
    await run('ip', ['netns', 'del', NS], { check: false });
  });
  after(async () => {
    for (const s of servers) await s.stop('SIGTERM', 3000).catch(() => undefined);
    const pids = await run('ip', ['netns', 'pids', NS], { check: false });
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    await run('ip', ['netns', 'del', NS], { check: false });
    rmSync(dir, { recursive: true, force: true });
  });

  test('npm pack builds a tarball; npm install -g puts twinlease on the prefix', async (t) => {
    const started = Date.now();
    const pack = await run('npm', ['pack', '--pack-destination', dir], {
      cwd: REPO_ROOT,
      timeoutMs: 300_000,
    });
    const tarball = join(dir, pack.stdout.trim().split('\n').at(-1)!);
    assert.match(tarball, /twinlease-\d+\.\d+\.\d+\.tgz$/);
    const list = await run('tar', ['-tzf', tarball]);
    for (const f of [
      'package/bin/twinlease.js',
      'package/dist/cli/main.js',
      'package/packaging/twinlease.service',
      'package/config/example.json',
      'package/docs/install.md',
    ])
      assert.ok(list.stdout.split('\n').includes(f), `${f} in the tarball`);
    await run(
      'npm',
      ['install', '-g', tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'],
      {
        cwd: dir,
        timeoutMs: 900_000,
      },
    );
    twinlease = join(prefix, 'bin', 'twinlease');
    installed = join(prefix, 'lib', 'node_modules', 'twinlease');
    const version = await run(twinlease, ['--version']);
    assert.equal(
      version.stdout.trim(),
      (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Json).version,
    );
    t.diagnostic(`pack + install: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  test('the installed unit verifies; twinlease check accepts the shipped example and refuses a broken file', async () => {
    const unit = join(installed, 'packaging', 'twinlease.service');
    const verified = await run('systemd-analyze', ['verify', unit]);
    assert.equal(`${verified.stdout}${verified.stderr}`.trim(), '');
    const ok = await run(twinlease, ['check', '--config', join(installed, 'config', 'example.json')]);
    assert.match(ok.stdout, /the configuration is valid/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "scopes": [ { "subnet": "10.0.0.0/33" } ] }\n');
    const bad = await run(twinlease, ['check', '--config', broken], { check: false });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`^${broken}:1:\\d+: scopes\\[0\\]`));
  });

  test('the shipped pair, run as the unit runs it (nobody + CAP_NET_BIND_SERVICE only) on ports 67 and 647, reaches NORMAL and leases', async (t) => {
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', NS, 'addr', 'add', '127.0.0.2/8', 'dev', 'lo']);
    const state = join(dir, 'state');
    mkdirSync(state);
    chownSync(state, NOBODY, NOBODY); // StateDirectory=: owned by the service's user
    const configs: { path: string; url: string; token: string }[] = [];
    for (const role of ['primary', 'secondary'] as const) {
      const c = JSON.parse(readFileSync(join(installed, 'config', `pair-${role}.json`), 'utf8'));
      const [local, partner] = role === 'primary' ? ['127.0.0.1', '127.0.0.2'] : ['127.0.0.2', '127.0.0.1'];
      delete c.$schema;
      c.dhcp = { listenAddress: local, port: 67 };
      c.server.serverIdentifier = local;
      c.leaseStore.path = join(state, `${role}.db`);
      c.failover[0].local = { address: local, port: 647 };
      c.failover[0].partner = { ...c.failover[0].partner, address: partner, port: 647 };
      const path = join(state, `${role}.json`);
      writeFileSync(path, `${JSON.stringify(c, null, 2)}\n`);
      chownSync(path, NOBODY, NOBODY);
      configs.push({ path, url: `http://127.0.0.1:${c.api.port}`, token: c.api.tokens[0].token });
    }
    const asNobody = (caps: string) => [
      'netns',
      'exec',
      NS,
      'setpriv',
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      `--inh-caps=-all${caps}`,
      `--ambient-caps=-all${caps}`,
      `--bounding-set=-all${caps}`,
      '--no-new-privs',
    ];

    // Without the capability: port 647 (failover starts first) or 67 is refused.
    const denied = await run(
      'ip',
      [...asNobody(''), process.execPath, twinlease, 'serve', '--config', configs[0]!.path],
      {
        check: false,
        timeoutMs: 20_000,
      },
    );
    assert.notEqual(denied.code, 0);
    assert.match(`${denied.stdout}${denied.stderr}`, /EACCES/);

    for (const c of configs) {
      const p = new LineProcess(
        'ip',
        [...asNobody(',+net_bind_service'), process.execPath, twinlease, 'serve', '--config', c.path],
        { cwd: state },
      );
      servers.push(p);
    }
    const cli = (c: { url: string; token: string }, args: string[]) =>
      run(
        'ip',
        ['netns', 'exec', NS, process.execPath, twinlease, '--api', c.url, '--token', c.token, ...args],
        {
          check: false,
          timeoutMs: 20_000,
        },
      );
    for (const c of configs) {
      await waitUntil(
        `${c.url}: demo-pair normal`,
        async () => {
          for (const s of servers) if (!s.isRunning) throw new Error(`a server exited:\n${s.tail()}`);
          const r = await cli(c, ['--json', 'failover', 'get', '--name', 'demo-pair']);
          if (r.code !== 0) return false;
          const rel = JSON.parse(r.stdout) as Json;
          return rel.state === 'normal' && rel.partnerState === 'normal';
        },
        45_000,
        500,
      );
    }
    // The server process: uid nobody, the one capability, no more.
    for (const s of servers) {
      const status = readFileSync(`/proc/${s.pid}/status`, 'utf8');
      assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'));
      assert.match(status, new RegExp(`^CapEff:\\s+${CAP_NET_BIND_SERVICE_MASK}$`, 'm'));
      assert.match(status, new RegExp(`^CapBnd:\\s+${CAP_NET_BIND_SERVICE_MASK}$`, 'm'));
    }
    // A relayed client is served on port 67 by the installed pair.
    const probe = await run(
      'ip',
      [
        'netns',
        'exec',
        NS,
        process.execPath,
        twinlease,
        'probe',
        '--server',
        '127.0.0.1,127.0.0.2',
        '--port',
        '67',
        '--giaddr',
        '127.0.0.3',
        '--count',
        '2',
      ],
      { check: false, timeoutMs: 30_000 },
    );
    assert.equal(probe.code, 0, `${probe.stdout}${probe.stderr}`);
    assert.match(probe.stdout, /2 of 2 clients leased/);
    // systemctl reload = SIGHUP: the config is read again.
    const before = servers[0]!.lines.length;
    process.kill(servers[0]!.pid, 'SIGHUP');
    await servers[0]!.waitForLine(
      'config.reloaded',
      (l) => l.includes('"event":"config.reloaded"'),
      10_000,
      before,
    );
    t.diagnostic('the installed pair is normal, leases on port 67, reloads on SIGHUP');
  });
});
