// Unmodified ISC dhclient and busybox udhcpc lease from Twinlease across the harness bridge
// (broadcast, no relay), renew at T1, and release; the lease store follows each step.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADDR, e2eSkipReason, NS } from './lib/env.js';
import { describeLease, readLeases } from './lib/lease-db.js';
import { waitUntil } from './lib/proc.js';
import { type ClientKind, RealClient } from './lib/real-client.js';
import { harnessConfig, harnessScope, makeWorkDir, TwinleaseServer } from './lib/server.js';
import { macOf, topologyDown, topologyUp } from './lib/topology.js';

const skip = e2eSkipReason(['dhclient', 'udhcpc', 'ss']);

// Short lease so the renewal happens within the test: dhclient renews at T1 (5 s), busybox
// udhcpc ignores T1 and renews at about 3/4 of the lease (15 s).
const LEASE_S = 20;
const T1_S = 5;
const T2_S = 15;

const inPool = (ip: string) => {
  const [a, b, c] = ip.split('.').map(Number);
  return a === 10 && b === 77 && c !== undefined && c >= 1 && c <= 64;
};

describe('real DHCP clients (broadcast on the harness bridge)', { skip: skip ?? false }, () => {
  let server: TwinleaseServer;
  let clientMac = '';
  const dir = makeWorkDir('real-clients');

  before(async () => {
    await topologyUp();
    clientMac = await macOf(NS.rc);
    server = new TwinleaseServer(
      dir,
      harnessConfig(dir, [
        harnessScope({ leaseTimeSeconds: LEASE_S, renewTimeSeconds: T1_S, rebindTimeSeconds: T2_S }),
      ]),
    );
    await server.start();
  });

  after(async () => {
    await server?.stop();
    await topologyDown();
  });

  for (const kind of ['dhclient', 'udhcpc'] as const satisfies readonly ClientKind[]) {
    test(`${kind} obtains a lease, renews it${kind === 'dhclient' ? ', reboots with it' : ''} and releases it`, {
      timeout: 60_000,
    }, async (t) => {
      const client = new RealClient(kind, dir);
      try {
        const startedAt = Date.now();
        await client.start();
        const bound = await client.waitEvent(['BOUND'], 20_000);
        t.diagnostic(`${kind} bound ${bound.ip} in ${bound.atMs - startedAt} ms`);
        assert.ok(inPool(bound.ip), `bound address ${bound.ip} is in the pool`);
        assert.equal(bound.mask, '255.255.0.0');
        assert.equal(bound.serverId, ADDR.srv);
        assert.equal(Number(bound.leaseTime), LEASE_S);

        const active = await waitUntil(
          `an active lease for ${bound.ip} in the store`,
          async () => {
            const l = (await readLeases(server.dbPath)).get(bound.ip);
            return l?.state === 'active' ? l : undefined;
          },
          5000,
        );
        assert.equal(active.hardwareAddress, clientMac, describeLease(active));
        const nowS = Math.floor(Date.now() / 1000);
        assert.ok(
          Math.abs(active.leaseExpiresAt - (nowS + LEASE_S)) <= 5,
          `expiry ${active.leaseExpiresAt} ≈ now + ${LEASE_S} (${nowS + LEASE_S})`,
        );

        const boundIndex = client.events().findIndex((e) => e.reason === 'BOUND');
        const renew = await client.waitEvent(
          ['RENEW'],
          (kind === 'udhcpc' ? LEASE_S : T1_S + 5) * 1000,
          boundIndex + 1,
        );
        t.diagnostic(`${kind} renewed after ${renew.atMs - bound.atMs} ms`);
        assert.equal(renew.ip, bound.ip, 'the renewal keeps the address');
        const renewed = (await readLeases(server.dbPath)).get(bound.ip);
        assert.equal(renewed?.state, 'active', describeLease(renewed));
        assert.ok(
          (renewed?.leaseExpiresAt ?? 0) >=
            active.leaseExpiresAt + Math.floor((renew.atMs - bound.atMs) / 1000) - 1,
          `the renewal extended the lease: ${describeLease(renewed)} (was ${active.leaseExpiresAt})`,
        );

        if (kind === 'dhclient') {
          // INIT-REBOOT (RFC 2131 §3.2): restarted with its lease file, dhclient asks for the same
          // address again (REQUEST with option 50, no server id) and must get it.
          await client.stop();
          const n = client.events().length;
          await client.start({ keepAddress: true });
          const reboot = await client.waitEvent(['REBOOT', 'BOUND'], 20_000, n);
          t.diagnostic(`dhclient restarted: ${reboot.reason} ${reboot.ip}`);
          assert.equal(reboot.ip, bound.ip, 'INIT-REBOOT keeps the address');
        }

        await client.release();
        const released = await waitUntil(
          `the lease of ${bound.ip} to be released in the store`,
          async () => {
            const l = (await readLeases(server.dbPath)).get(bound.ip);
            return l && (l.state === 'released' || l.state === 'free') ? l : undefined;
          },
          5000,
        );
        assert.ok(released.leaseExpiresAt <= Math.ceil(Date.now() / 1000), describeLease(released));
      } finally {
        await client.stop();
      }
    });
  }

  test('the server logged no error', () => {
    assert.ok(server.records().length > 0, 'the server logs JSON lines');
    assert.deepEqual(server.errors(), []);
  });
});
