// TLS on a shared failover listener: a hub in two relationships on one address and port, each with
// tls, and two branch servers (real servers on loopback addresses 127.0.0.2 and 127.0.0.3). The
// listener hands each connection to the relationship of its partner address before a byte is read,
// so TLS (docs/failover.md "TLS") runs per relationship as with a listener of its own: both reach
// NORMAL over TLS through one listener.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { ServerState } from '../../src/wire/failover-message.js';
import { eventually, freeUdpPort } from '../api/helpers.js';
import { TestCa, type TestCert } from '../lib/test-ca.js';

interface Side {
  server: RunningServer;
  log: string;
}

describe('TLS through one listener shared by two relationships', () => {
  let dir = '';
  let ca: TestCa;
  const certs = new Map<string, TestCert>();
  const running: RunningServer[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinlease-hub-tls-'));
    ca = new TestCa(dir);
    for (const [name, address] of [
      ['hub', '127.0.0.1'],
      ['branch-1', '127.0.0.2'],
      ['branch-2', '127.0.0.3'],
    ] as const) {
      certs.set(name, ca.issue(name, [`IP:${address}`, `DNS:${name}`]));
    }
  });
  after(async () => {
    for (const s of running) await s.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(name: string, config: Record<string, unknown>): Promise<Side> {
    const configPath = join(dir, `${name}.json`);
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const log = join(dir, `${name}.log`);
    const server = await startServer({ configPath, logDestination: log });
    running.push(server);
    return { server, log };
  }

  test('two TLS relationships on one port: each branch reaches NORMAL over TLS', async () => {
    const hubPort = await freeUdpPort();
    const branches = [
      { name: 'branch-1', address: '127.0.0.2', port: await freeUdpPort(), subnet: '192.168.81' },
      { name: 'branch-2', address: '127.0.0.3', port: await freeUdpPort(), subnet: '192.168.82' },
    ];
    const tlsOf = (name: string) => {
      const c = certs.get(name)!;
      return { cert: c.cert, key: c.key, ca: ca.cert };
    };
    const scopeOf = (b: (typeof branches)[number]) => ({
      id: b.name,
      subnet: `${b.subnet}.0/24`,
      ranges: [{ start: `${b.subnet}.100`, end: `${b.subnet}.200` }],
    });
    const base = async (name: string, address: string) => ({
      server: { name, serverIdentifier: address },
      dhcp: { listenAddress: address, port: await freeUdpPort() },
      leaseStore: { path: join(dir, `${name}.db`) },
      logging: { level: 'debug' },
      api: { listenAddress: '127.0.0.1', port: 0 },
    });
    const hub = await start('hub', {
      ...(await base('hub', '127.0.0.1')),
      scopes: branches.map(scopeOf),
      failover: branches.map((b) => ({
        name: b.name,
        role: 'secondary',
        mcltSeconds: 60,
        local: { address: '127.0.0.1', port: hubPort },
        partner: { address: b.address, port: b.port, name: b.name },
        scopeIds: [b.name],
        tls: tlsOf('hub'),
      })),
    });
    const sides: Side[] = [];
    for (const b of branches) {
      sides.push(
        await start(b.name, {
          ...(await base(b.name, b.address)),
          scopes: [scopeOf(b)],
          failover: [
            {
              name: b.name,
              role: 'primary',
              mcltSeconds: 60,
              local: { address: b.address, port: b.port },
              partner: { address: '127.0.0.1', port: hubPort, name: 'hub' },
              scopeIds: [b.name],
              tls: tlsOf(b.name),
            },
          ],
        }),
      );
    }
    const isNormal = (s: Side) =>
      s.server.failover.statuses().every((r) => r.localState === ServerState.NORMAL);
    await eventually(async () => isNormal(hub) && sides.every(isNormal), 'every relationship normal', 90_000);
    assert.equal(hub.server.failover.statuses().length, 2);
    const listeners = hub.server.failover.listenerStats();
    assert.equal(listeners.length, 1, 'one listener for both relationships');
    assert.deepEqual([...listeners[0]!.relationships].sort(), ['branch-1', 'branch-2']);
    for (const s of [hub, ...sides]) {
      const log = readFileSync(s.log, 'utf8');
      assert.match(log, /"event":"failover\.link-up"[^\n]*"isTls":true/);
      assert.doesNotMatch(log, /"isTls":false/);
      assert.doesNotMatch(log, /"event":"failover\.tls-(failed|required|unexpected)"/);
    }
  });
});
