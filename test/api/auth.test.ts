// Token authentication: the decision table, constant-time matching, and the no-token rule (the
// API listens on loopback only, read-only) both for startApiServer and for the whole server.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { authorize, isLoopback, matchToken } from '../../src/api/auth.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { ApiStartupError, startApiServer } from '../../src/api/server.js';
import { parseConfigText } from '../../src/config/loader.js';
import type { ResolvedConfig } from '../../src/config/resolved.js';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { StartupError, startServer } from '../../src/server/server.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { freeUdpPort, http, testConfig } from './helpers.js';

const TOKENS = [
  { name: 'ops', token: 'aaaaaaaaaaaaaaaaaaaa', isReadOnly: false },
  { name: 'ro', token: 'bbbbbbbbbbbbbbbbbbbb', isReadOnly: true },
];

describe('authorize', () => {
  test('matchToken finds exactly the configured token', () => {
    assert.equal(matchToken(TOKENS, 'aaaaaaaaaaaaaaaaaaaa')?.name, 'ops');
    assert.equal(matchToken(TOKENS, 'bbbbbbbbbbbbbbbbbbbb')?.name, 'ro');
    assert.equal(matchToken(TOKENS, 'aaaaaaaaaaaaaaaaaaa'), null, 'a prefix is not the token');
    assert.equal(matchToken(TOKENS, 'aaaaaaaaaaaaaaaaaaaaa'), null, 'nor is a longer string');
    assert.equal(matchToken(TOKENS, ''), null);
    assert.equal(matchToken([], 'aaaaaaaaaaaaaaaaaaaa'), null);
  });

  test('the decision table', () => {
    const ok = (d: ReturnType<typeof authorize>) => (d.ok ? `ok:${d.access}:${d.tokenName}` : `${d.status}`);
    const bearer = (t: string) => `Bearer ${t}`;
    const cases: [Parameters<typeof authorize>, string][] = [
      [['public', undefined, TOKENS, false], 'ok:read:null'],
      [['read', undefined, TOKENS, true], '401'],
      [['read', 'Basic abc', TOKENS, true], '401'],
      [['read', bearer('nope'), TOKENS, true], '401'],
      [['read', bearer('bbbbbbbbbbbbbbbbbbbb'), TOKENS, false], 'ok:read:ro'],
      [['read', `bearer  ${'aaaaaaaaaaaaaaaaaaaa'} `, TOKENS, false], 'ok:write:ops'],
      [['write', bearer('bbbbbbbbbbbbbbbbbbbb'), TOKENS, false], '403'],
      [['write', bearer('aaaaaaaaaaaaaaaaaaaa'), TOKENS, false], 'ok:write:ops'],
      // No tokens configured: anonymous reads on loopback only, never writes.
      [['read', undefined, [], true], 'ok:read:null'],
      [['write', undefined, [], true], '403'],
      [['read', undefined, [], false], '401'],
      [['public', undefined, [], false], 'ok:read:null'],
    ];
    for (const [args, expected] of cases)
      assert.equal(ok(authorize(...args)), expected, JSON.stringify(args));
  });

  test('loopback is 127.0.0.0/8', () => {
    assert.equal(isLoopback(parseIpv4('127.0.0.1')), true);
    assert.equal(isLoopback(parseIpv4('127.255.0.9')), true);
    assert.equal(isLoopback(parseIpv4('0.0.0.0')), false);
    assert.equal(isLoopback(parseIpv4('10.0.0.1')), false);
  });
});

function depsFor(config: ResolvedConfig): ApiDeps {
  const engine = new DhcpEngine(
    {
      serverName: config.server.name,
      serverIdentifier: parseIpv4('127.0.0.1'),
      scopes: config.scopes,
      directScopeIds: [],
    },
    [],
  );
  return {
    engine: () => engine,
    config: () => config,
    leaseStore: { path: '/nonexistent/leases.db', count: () => 0 },
    counters: { snapshot: () => ({}) },
    startedAt: Math.floor(Date.now() / 1000),
    version: '0.0.0-test',
  };
}

function configWith(api: Record<string, unknown>): ResolvedConfig {
  const r = parseConfigText(
    JSON.stringify({
      api,
      scopes: [{ subnet: '10.9.0.0/24', ranges: [{ start: '10.9.0.10', end: '10.9.0.20' }] }],
    }),
    'test.json',
  );
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config;
}

describe('without tokens', () => {
  test('startApiServer refuses a non-loopback address', async () => {
    const config = configWith({ listenAddress: '0.0.0.0', port: 0 });
    await assert.rejects(
      startApiServer(depsFor(config), { listenAddress: '0.0.0.0', port: 0 }),
      (err: Error) => {
        assert.ok(err instanceof ApiStartupError);
        assert.match(err.message, /no tokens .* loopback/);
        return true;
      },
    );
  });

  test('on loopback it serves anonymous reads and refuses writes', async () => {
    const config = configWith({ port: 0 });
    const api = await startApiServer(depsFor(config), { listenAddress: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${api.port}`;
      const status = await http<Record<string, unknown>>(base, '/api/v1/status', { token: null });
      assert.equal(status.status, 200);
      assert.equal(status.body.access, 'read');
      assert.equal((await http(base, '/api/v1/scopes', { token: null })).status, 200);
      const write = await http<Record<string, unknown>>(base, '/api/v1/config/reload', {
        method: 'POST',
        token: null,
      });
      assert.equal(write.status, 403);
      assert.match(String(write.body.message), /read-only: no API tokens/);
      // A made-up token changes nothing: there is nothing to match it against.
      assert.equal((await http(base, '/api/v1/status', { token: 'whatever-token-123' })).status, 200);
    } finally {
      await api.close();
    }
  });
});

describe('the server hook', () => {
  test('a server whose API cannot start does not start, and frees its DHCP socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinlease-api-hook-'));
    try {
      const dhcpPort = await freeUdpPort();
      const configPath = join(dir, 'config.json');
      const config = testConfig(dir, dhcpPort);
      (config.api as Record<string, unknown>) = { listenAddress: '0.0.0.0', port: 0 };
      writeFileSync(configPath, JSON.stringify(config));
      await assert.rejects(startServer({ configPath, logDestination: join(dir, 'log') }), (err: Error) => {
        assert.ok(err instanceof StartupError, String(err));
        assert.match(err.message, /config\.json: api: no tokens/);
        return true;
      });
      // The DHCP socket was closed again.
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(dhcpPort, '127.0.0.1', () => resolve());
      });
      await new Promise<void>((resolve) => s.close(() => resolve()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an API port in use is a StartupError naming the address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinlease-api-hook-'));
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const configPath = join(dir, 'config.json');
      const config = testConfig(dir, await freeUdpPort());
      (config.api as Record<string, unknown>).port = port;
      writeFileSync(configPath, JSON.stringify(config));
      await assert.rejects(startServer({ configPath, logDestination: join(dir, 'log') }), (err: Error) => {
        assert.ok(err instanceof StartupError, String(err));
        assert.match(err.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
        return true;
      });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
