// Policies end to end (docs/policies.md): an unmodified ISC dhclient that sends a vendor class
// gets the policy's range, options and lease time, and the management API reports the policy on
// its lease; without the vendor class the same machine gets an address outside every policy
// range; a relayed client is matched by its relay circuit id. Runs in its own namespaces
// ($PFX = tlp), so it never shares a namespace or port 67 with the other suites.

// env.ts reads the prefix when it is first imported: set it before importing anything that does.
process.env.TL_E2E_PFX = 'tlp';

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Lease as ApiLease } from '../../src/api/schemas.js';

const { ADDR, e2eSkipReason, NS } = await import('./lib/env.js');
const { DhcpMessageType, DhcpTestClient, testMac } = await import('./lib/dhcp-test-client.js');
const { run } = await import('./lib/proc.js');
const { apiGetText } = await import('./lib/api-get.js');
const { RealClient } = await import('./lib/real-client.js');
const { harnessConfig, harnessScope, makeWorkDir, TwinleaseServer } = await import('./lib/server.js');
const { macOf, topologyDown, topologyUp } = await import('./lib/topology.js');

const skip = e2eSkipReason(['dhclient', 'ss', 'curl']);

const VENDOR_CLASS = 'tlp-e2e-vendor';
const CIRCUIT_ID = 'tlp-port-7';
const API_PORT = 8067;
const TOKEN = 'tlp-e2e-token-0123456789';

const ipInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const between = (ip: string, lo: string, hi: string) => ipInt(ip) >= ipInt(lo) && ipInt(ip) <= ipInt(hi);

/** GET on the server's management API, from the client namespace (the test's has no route). */
async function apiGet<T>(path: string): Promise<T> {
  return JSON.parse(await apiGetText(`http://${ADDR.srv}:${API_PORT}`, TOKEN, path)) as T;
}

describe('policies with real clients', { skip: skip ?? false }, () => {
  let server: InstanceType<typeof TwinleaseServer>;
  const dir = makeWorkDir('policies');

  before(async () => {
    await topologyUp();
    server = new TwinleaseServer(
      dir,
      harnessConfig(
        dir,
        [
          harnessScope({
            policies: [
              {
                name: 'e2e-vendor',
                processingOrder: 1,
                conditions: { field: 'vendorClass', operator: 'equals', value: VENDOR_CLASS },
                ranges: [{ start: '10.77.2.0', end: '10.77.2.255' }],
                options: [{ name: 'domainName', data: 'policy.e2e.test', alwaysSend: true }],
                leaseTimeSeconds: 1234,
              },
              {
                name: 'e2e-circuit',
                processingOrder: 2,
                conditions: {
                  and: [
                    { field: 'relayCircuitId', operator: 'startsWith', value: 'tlp-port-' },
                    { field: 'vendorClass', operator: 'notEquals', value: '*' },
                  ],
                },
                ranges: [{ start: '10.77.3.0', end: '10.77.3.15' }],
              },
            ],
          }),
        ],
        { api: { listenAddress: ADDR.srv, port: API_PORT, tokens: [{ name: 'e2e', token: TOKEN }] } },
      ),
    );
    await server.start();
  });

  after(async () => {
    await server?.stop();
    await topologyDown();
  });

  test('dhclient sending the vendor class gets the policy range, options and lease time; the API shows policyName', {
    timeout: 60_000,
  }, async (t) => {
    const clientDir = join(dir, 'vendor');
    await run('mkdir', ['-p', clientDir]);
    const client = new RealClient('dhclient', clientDir);
    // The client's own configuration file (RealClient starts it empty): send option 60, and ask
    // for option 15 so the policy's domain name shows in the lease.
    writeFileSync(
      join(clientDir, 'dhclient.conf'),
      `send vendor-class-identifier "${VENDOR_CLASS}";\nrequest subnet-mask, routers, domain-name;\n`,
    );
    try {
      await client.start();
      const bound = await client.waitEvent(['BOUND'], 20_000);
      t.diagnostic(`bound ${bound.ip} for ${bound.leaseTime} s`);
      assert.ok(between(bound.ip, '10.77.2.0', '10.77.2.255'), `${bound.ip} is in the policy range`);
      assert.equal(Number(bound.leaseTime), 1234, "the policy's lease time");
      const lease = await apiGet<ApiLease>(`/api/v1/leases/${bound.ip}`);
      assert.equal(lease.policyName, 'e2e-vendor', JSON.stringify(lease));
      assert.equal(lease.hardwareAddress.mac?.replaceAll(':', ''), await macOf(NS.rc));
      const leases = (await run('cat', [join(clientDir, 'dhclient.leases')])).stdout;
      assert.match(leases, /option domain-name "policy\.e2e\.test"/, 'the policy option reached the client');
      await client.release();
    } finally {
      await client.stop();
    }
  });

  test('the same machine without the vendor class gets an address outside every policy range, no policyName', {
    timeout: 60_000,
  }, async () => {
    const clientDir = join(dir, 'plain');
    await run('mkdir', ['-p', clientDir]);
    const client = new RealClient('dhclient', clientDir);
    try {
      await client.start();
      const bound = await client.waitEvent(['BOUND'], 20_000);
      assert.ok(between(bound.ip, ADDR.poolStart, ADDR.poolEnd), bound.ip);
      assert.ok(
        !between(bound.ip, '10.77.2.0', '10.77.2.255') && !between(bound.ip, '10.77.3.0', '10.77.3.15'),
        `${bound.ip} is outside the policy ranges`,
      );
      assert.equal(Number(bound.leaseTime), 4000, "the scope's lease time");
      const lease = await apiGet<ApiLease>(`/api/v1/leases/${bound.ip}`);
      assert.equal(lease.policyName, null, JSON.stringify(lease));
      await client.release();
    } finally {
      await client.stop();
    }
  });

  test('a relayed client is matched by its circuit id', { timeout: 30_000 }, async () => {
    const relay = await DhcpTestClient.start({ ns: NS.srv2, giaddr: ADDR.srv2, server: ADDR.srv });
    try {
      const mac = testMac(0x7c, 1);
      const r = await relay.dora(mac, { circuitId: Buffer.from(CIRCUIT_ID).toString('hex') });
      assert.equal(r.reply?.type, DhcpMessageType.Ack, 'ACK');
      const address = r.reply!.yiaddr;
      assert.ok(between(address, '10.77.3.0', '10.77.3.15'), address);
      const lease = await apiGet<ApiLease>(`/api/v1/leases/${address}`);
      assert.equal(lease.policyName, 'e2e-circuit');
      const plain = await relay.dora(testMac(0x7c, 2), {});
      assert.ok(!between(plain.reply!.yiaddr, '10.77.3.0', '10.77.3.15'), plain.reply!.yiaddr);
      assert.equal((await apiGet<ApiLease>(`/api/v1/leases/${plain.reply!.yiaddr}`)).policyName, null);
    } finally {
      await relay.close();
    }
  });

  test('the server logged no error', () => {
    assert.deepEqual(server.errors(), []);
  });
});
