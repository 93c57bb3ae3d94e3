// A lease store that fails for good under a running failover relationship (two whole servers in
// this process, on loopback): the failover messages made after the failed write vouch for it (a
// BNDACK of a binding not stored, a BNDUPD of one not on disk), so none of them may leave; the
// shell closes the connection instead, and the partner sees the link go down.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { failoverStateName } from '../../src/api/relationship-resource.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { freeUdpPort, mac, Relay } from '../api/helpers.js';

const PRIMARY = '127.0.0.31';
const SECONDARY = '127.0.0.32';
const RELAY = '127.0.1.31';

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stateOf = (s: RunningServer) => {
  const st = s.failover.statuses()[0];
  return st ? failoverStateName(st.localState) : 'absent';
};

test('a write that fails for good: nothing queued behind it is sent, the connection is closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinlease-store-failure-'));
  const servers: RunningServer[] = [];
  const failoverPort = 20000 + Math.floor(Math.random() * 40000);
  try {
    const start = async (name: string, address: string, role: 'primary' | 'secondary', dhcpPort: number) => {
      const configPath = join(dir, `${name}.json`);
      writeFileSync(
        configPath,
        JSON.stringify({
          server: { name, serverIdentifier: address },
          dhcp: { listenAddress: '127.0.0.1', port: dhcpPort },
          leaseStore: { path: join(dir, `${name}.db`) },
          logging: { level: 'info' },
          api: { listenAddress: '127.0.0.1', port: 0 },
          scopes: [
            {
              id: 'lab',
              subnet: '10.60.0.0/24',
              relayAddresses: [RELAY],
              ranges: [{ start: '10.60.0.10', end: '10.60.0.59' }],
              leaseTimeSeconds: 600,
            },
          ],
          failover: [
            {
              name: 'pair',
              role,
              mode: 'loadBalance',
              mcltSeconds: 60,
              receiveTimerSeconds: 6,
              local: { address, port: failoverPort },
              partner: { address: role === 'primary' ? SECONDARY : PRIMARY, port: failoverPort },
              scopeIds: ['lab'],
            },
          ],
        }),
      );
      const s = await startServer({
        configPath,
        logDestination: join(dir, `${name}.log`),
        interfaces: () => [{ interfaceName: 'lo', address: parseIpv4(address), prefixLength: 8 }],
      });
      servers.push(s);
      return s;
    };
    const primaryPort = await freeUdpPort();
    const primary = await start('primary', PRIMARY, 'primary', primaryPort);
    const secondary = await start('secondary', SECONDARY, 'secondary', await freeUdpPort());
    await waitFor('both NORMAL', () => stateOf(primary) === 'normal' && stateOf(secondary) === 'normal');
    await waitFor('pool balanced', () => primary.failover.statuses()[0]?.queuedUpdates === 0 || undefined);

    // The secondary's disk goes away: every write fails (not back-pressure).
    const failing = secondary.store as { commit: (leases: unknown) => Promise<void> };
    failing.commit = () => Promise.reject(new Error('disk I/O error (test)'));
    // A lease granted by the primary reaches the secondary as a BNDUPD it cannot store.
    const relay = await Relay.open(RELAY, primaryPort);
    try {
      for (let n = 1; n <= 6; n++) await relay.dora({ mac: mac(n) }).catch(() => null);
    } finally {
      await relay.close();
    }
    await waitFor(
      'the primary sees the link go down',
      () => stateOf(primary) === 'communicationsInterrupted' || undefined,
      15_000,
    );
    const log = readFileSync(join(dir, 'secondary.log'), 'utf8');
    assert.match(log, /"event":"failover.persist-failed"/);
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
