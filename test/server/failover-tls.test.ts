// The failover link over TLS between two real servers (issue 18 item 7), and the API over HTTPS,
// with a CA made for the test: with tls on both partners the pair reaches NORMAL over TLS; with
// tls on one only, neither side connects and both say why (a plain CONNECT gets CONNECTACK reject
// 11 "TLS required but not supported by partner"; a TLS ClientHello on a plain listener is named);
// a certificate that does not name the partner is refused.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { ServerState } from '../../src/wire/failover-message.js';
import { eventually, freeUdpPort, WRITE_TOKEN } from '../api/helpers.js';
import { TestCa, type TestCert } from '../lib/test-ca.js';

const ENTRY = fileURLToPath(new URL('../cli/entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Side {
  server: RunningServer;
  log: string;
}

describe('TLS: the failover link and the API', () => {
  let dir = '';
  let ca: TestCa;
  let certA: TestCert;
  let certB: TestCert;
  let wrongName: TestCert;
  const running: RunningServer[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinlease-tls-'));
    ca = new TestCa(dir);
    certA = ca.issue('dhcp-a', ['IP:127.0.0.1', 'DNS:dhcp-a']);
    certB = ca.issue('dhcp-b', ['IP:127.0.0.1', 'DNS:dhcp-b']);
    wrongName = ca.issue('elsewhere', ['IP:10.9.9.9', 'DNS:elsewhere']);
  });
  after(async () => {
    for (const s of running) await s.stop().catch(() => undefined);
    if (process.env.KEEP_TLS_TEST_DIR === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  });

  /** Two servers on loopback sharing scope demo; `tls` per side (null: plain). */
  async function pair(
    label: string,
    tlsA: TestCert | null,
    tlsB: TestCert | null,
    extraA: Record<string, unknown> = {},
  ): Promise<[Side, Side]> {
    const [fa, fb] = [await freeUdpPort(), await freeUdpPort()];
    const sides: Side[] = [];
    for (const [i, name] of (['dhcp-a', 'dhcp-b'] as const).entries()) {
      const isA = i === 0;
      const own = isA ? tlsA : tlsB;
      const config = {
        server: { name, serverIdentifier: '127.0.0.1' },
        dhcp: { listenAddress: '127.0.0.1', port: await freeUdpPort() },
        leaseStore: { path: join(dir, `${label}-${name}.db`) },
        logging: { level: 'debug' },
        api: { listenAddress: '127.0.0.1', port: 0, tokens: [{ name: 'ops', token: WRITE_TOKEN }] },
        scopes: [
          {
            id: 'demo',
            subnet: '192.168.77.0/24',
            ranges: [{ start: '192.168.77.100', end: '192.168.77.200' }],
          },
        ],
        failover: [
          {
            name: 'tls-pair',
            role: isA ? 'primary' : 'secondary',
            mcltSeconds: 60,
            local: { address: '127.0.0.1', port: isA ? fa : fb },
            partner: { address: '127.0.0.1', port: isA ? fb : fa, name: isA ? 'dhcp-b' : 'dhcp-a' },
            scopeIds: ['demo'],
            ...(own === null ? {} : { tls: { cert: own.cert, key: own.key, ca: ca.cert } }),
          },
        ],
        ...(isA ? extraA : {}),
      };
      const configPath = join(dir, `${label}-${name}.json`);
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      const log = join(dir, `${label}-${name}.log`);
      const server = await startServer({ configPath, logDestination: log });
      running.push(server);
      sides.push({ server, log });
    }
    return sides as [Side, Side];
  }
  const logOf = (s: Side) => readFileSync(s.log, 'utf8');
  const stateOf = (s: Side) => s.server.failover.statuses()[0]?.localState;
  const stop = async (sides: Side[]) => {
    for (const s of sides) await s.server.stop();
  };

  test('tls on both partners: NORMAL over TLS', async () => {
    const sides = await pair('both', certA, certB);
    await eventually(
      async () => sides.every((s) => stateOf(s) === ServerState.NORMAL),
      'both normal',
      30_000,
    );
    for (const s of sides) {
      assert.match(logOf(s), /"event":"failover\.link-up"[^\n]*"isTls":true/);
      assert.doesNotMatch(logOf(s), /"isTls":false/);
    }
    await stop(sides);
  });

  test('tls on one side only: refused on both sides, each saying why', async () => {
    // The plain side is the primary: its CONNECT reaches the TLS secondary in plain text.
    const [plain, withTls] = await pair('mismatch', null, certB);
    await eventually(
      async () =>
        /"event":"failover\.connect-refused-by-partner"[^\n]*"rejectReason":11/.test(logOf(plain)) &&
        /"event":"failover\.tls-unexpected"/.test(logOf(plain)) &&
        /"event":"failover\.tls-required"/.test(logOf(withTls)) &&
        /"event":"failover\.tls-failed"/.test(logOf(withTls)),
      'both sides to log the mismatch',
      20_000,
    );
    assert.match(logOf(plain), /TLS required but not supported by partner/);
    assert.match(logOf(plain), /has no tls here: configure tls on both partners, or on neither/);
    assert.match(
      logOf(withTls),
      /is tls configured on the partner too\? Both partners need it \(ISC dhcpd has no TLS/,
    );
    assert.notEqual(stateOf(plain), ServerState.NORMAL);
    assert.notEqual(stateOf(withTls), ServerState.NORMAL);
    await stop([plain, withTls]);
  });

  test('a certificate that names another server is refused', async () => {
    const sides = await pair('wrong-name', certA, wrongName);
    await eventually(
      async () => /names neither IP Address:127\.0\.0\.1 nor DNS:dhcp-b/.test(logOf(sides[0])),
      'the primary to refuse the secondary certificate',
      20_000,
    );
    assert.notEqual(stateOf(sides[0]), ServerState.NORMAL);
    await stop(sides);
  });

  test('the API over HTTPS with the operator certificate; the CLI trusts it through NODE_EXTRA_CA_CERTS', async () => {
    const [a, b] = await pair('https', certA, certB, {
      api: {
        listenAddress: '127.0.0.1',
        port: 0,
        tokens: [{ name: 'ops', token: WRITE_TOKEN }],
        tls: { cert: certA.cert, key: certA.key },
      },
    });
    const port = a.server.api.port;
    const body = await new Promise<string>((resolve, reject) => {
      httpsGet({ host: '127.0.0.1', port, path: '/healthz', ca: readFileSync(ca.cert) }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, '{"status":"ok"}');
    const plainHttp = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    assert.equal(plainHttp, 'refused', 'no plain HTTP on an HTTPS API');
    const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          ENTRY,
          '--api',
          `https://127.0.0.1:${port}`,
          '--token',
          WRITE_TOKEN,
          '--json',
          'status',
        ],
        { cwd: ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.cert }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      );
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal((JSON.parse(cli.stdout) as { serverName: string }).serverName, 'dhcp-a');
    await stop([a, b]);
  });

  test('the loader checks the TLS files: unreadable, not a certificate, a key of another certificate', async () => {
    const { loadConfigFile } = await import('../../src/config/loader.js');
    const base = {
      scopes: [
        {
          id: 'demo',
          subnet: '192.168.77.0/24',
          ranges: [{ start: '192.168.77.100', end: '192.168.77.200' }],
        },
      ],
      failover: [
        {
          name: 'x',
          role: 'primary',
          local: { address: '127.0.0.1' },
          partner: { address: '127.0.0.2' },
          scopeIds: ['demo'],
          tls: { cert: certA.cert, key: certB.key, ca: join(dir, 'missing.pem') },
        },
      ],
      api: { tls: { cert: certA.key, key: certA.key } },
    };
    const path = join(dir, 'bad-tls.json');
    writeFileSync(path, JSON.stringify(base, null, 2));
    const r = loadConfigFile(path);
    assert.equal(r.ok, false);
    const messages = !r.ok ? r.errors.map((e) => `${e.readablePath}: ${e.message}`) : [];
    assert.ok(
      messages.some((m) => /^failover\[0\]\.tls\.key: .* is not the private key of the certificate/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /^failover\[0\]\.tls\.ca: cannot read .*missing\.pem: ENOENT/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /^api\.tls\.cert: .* holds no PEM certificate/.test(m)),
      messages.join('\n'),
    );
    assert.ok(!r.ok && r.errors.every((e) => e.line !== undefined), 'each with its line');
  });
});
