// A hub and three spokes, each a whole server (startServer) in this process, on loopback: the hub
// (127.0.0.1) is the hot-standby secondary of three relationships, one per spoke (127.0.0.11..13),
// every failover endpoint on the same TCP port. Each relationship reaches NORMAL on its own; a
// lease made at a spoke reaches the hub in that spoke's scope; a spoke that stops takes only its
// own relationship to COMMUNICATIONS-INTERRUPTED; per-relationship counters stay apart.
// (test/e2e/hub.test.ts does the same with separate processes, kill -9 and an ISC dhcpd spoke.)

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { failoverStateName } from '../../src/api/relationship-resource.js';
import type { RelationshipStatus } from '../../src/failover/types.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { Relay } from '../api/helpers.js';

const HUB = '127.0.0.1';
const SPOKES = [0, 1, 2].map((k) => ({
  name: `branch-${k}`,
  address: `127.0.0.${11 + k}`,
  relay: `127.0.1.${11 + k}`,
  subnet: `10.9${k}.0.0/24`,
  scopeId: `branch-${k}`,
}));

async function freeTcpPort(): Promise<number> {
  for (;;) {
    const s = createServer();
    const port = await new Promise<number>((resolve) =>
      s.listen(0, HUB, () => resolve((s.address() as { port: number }).port)),
    );
    await new Promise((r) => s.close(r));
    // The same port must be free on every address we use.
    const free = await Promise.all(
      SPOKES.map(
        (sp) =>
          new Promise<boolean>((resolve) => {
            const t = createServer();
            t.once('error', () => resolve(false));
            t.listen(port, sp.address, () => t.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return port;
  }
}

async function freeUdpPort(addresses: readonly string[]): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const ok = await Promise.all(
      addresses.map(
        (a) =>
          new Promise<boolean>((resolve) => {
            const s = dgram.createSocket('udp4');
            s.once('error', () => resolve(false));
            s.bind(port, a, () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return port;
  }
}

const scopeOf = (sp: (typeof SPOKES)[number]) => {
  const base = sp.subnet.replace(/\.0\/24$/, '');
  return {
    id: sp.scopeId,
    subnet: sp.subnet,
    relayAddresses: [sp.relay],
    ranges: [{ start: `${base}.10`, end: `${base}.59` }],
    leaseTimeSeconds: 600,
  };
};

const relationship = (sp: (typeof SPOKES)[number], role: 'primary' | 'secondary', port: number) => ({
  name: sp.name,
  role,
  mode: 'hotStandby',
  mcltSeconds: 60,
  receiveTimerSeconds: 6,
  local: { address: role === 'primary' ? sp.address : HUB, port },
  partner: { address: role === 'primary' ? HUB : sp.address, port },
  scopeIds: [sp.scopeId],
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stateOf = (s: RelationshipStatus | undefined) => (s ? failoverStateName(s.localState) : 'absent');

describe('one hub, three spokes, one failover port', () => {
  test('independent relationships: NORMAL each, leases to the right scope, one spoke down alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinlease-hub-'));
    const servers: RunningServer[] = [];
    try {
      const failoverPort = await freeTcpPort();
      const dhcpPorts = await Promise.all(
        [HUB, ...SPOKES.map((s) => s.address)].map(() =>
          freeUdpPort(['127.0.0.1', ...SPOKES.map((s) => s.relay)]),
        ),
      );
      const start = async (
        name: string,
        address: string,
        dhcpPort: number,
        extra: Record<string, unknown>,
      ) => {
        const configPath = join(dir, `${name}.json`);
        writeFileSync(
          configPath,
          JSON.stringify({
            server: { name, serverIdentifier: address },
            dhcp: { listenAddress: '127.0.0.1', port: dhcpPort },
            leaseStore: { path: join(dir, `${name}.db`) },
            logging: { level: 'info' },
            api: { listenAddress: '127.0.0.1', port: 0 },
            ...extra,
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
      const hub = await start('hub', HUB, dhcpPorts[0]!, {
        scopes: SPOKES.map(scopeOf),
        failover: SPOKES.map((sp) => relationship(sp, 'secondary', failoverPort)),
      });
      const spokes: RunningServer[] = [];
      for (const [k, sp] of SPOKES.entries()) {
        spokes.push(
          await start(sp.name, sp.address, dhcpPorts[k + 1]!, {
            scopes: [scopeOf(sp)],
            failover: [relationship(sp, 'primary', failoverPort)],
          }),
        );
      }
      const hubStatus = (name: string) => hub.failover.statuses().find((s) => s.name === name);
      for (const sp of SPOKES) {
        await waitFor(`${sp.name} normal on the hub`, () => stateOf(hubStatus(sp.name)) === 'normal');
      }
      assert.deepEqual(
        hub.failover.listenerStats().map((l) => [l.listen, l.relationships.length]),
        [[`${HUB}:${failoverPort}`, 3]],
      );

      // A lease at each spoke (relayed), replicated to the hub in that spoke's scope.
      for (const [k, sp] of SPOKES.entries()) {
        const relay = await Relay.open(sp.relay, dhcpPorts[k + 1]!);
        try {
          const address = await relay.dora({ mac: `02000000aa0${k}` });
          assert.ok(address.startsWith(sp.subnet.slice(0, 6)), `${address} in ${sp.subnet}`);
          const onHub = await waitFor(`${address} on the hub`, () => {
            const l = hub.dhcp.currentEngine.getLease(parseIpv4(address));
            return l?.state === 'active' ? l : undefined;
          });
          assert.equal(onHub.scopeId, sp.scopeId);
        } finally {
          await relay.close();
        }
      }

      // Spoke 1 stops: only branch-1 leaves NORMAL on the hub.
      await spokes[1]!.stop();
      await waitFor('branch-1 communications-interrupted', () =>
        stateOf(hubStatus('branch-1')) === 'communicationsInterrupted' ? true : undefined,
      );
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(stateOf(hubStatus('branch-0')), 'normal');
      assert.equal(stateOf(hubStatus('branch-2')), 'normal');
      assert.equal(hubStatus('branch-0')!.isCommunicating, true);
      assert.equal(hubStatus('branch-1')!.isCommunicating, false);

      // Per-relationship counters: each relationship got its own spoke's connection(s) only.
      for (const sp of SPOKES) {
        const c = hubStatus(sp.name)!.counters;
        assert.ok((c.connectionsAccepted ?? 0) + (c.connectsAttempted ?? 0) >= 1, sp.name);
        assert.ok((c.bindingUpdatesReceived ?? 0) >= 1, `${sp.name} received its spoke's updates`);
        assert.equal(c.connectNameMismatches, 0);
      }
      const listener = hub.failover.listenerStats()[0]!;
      assert.equal(listener.refused['unknown-peer'], 0);
    } finally {
      for (const s of servers.reverse()) await s.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
