// Dynamic DNS end to end (docs/dns.md) against a real BIND 9 named, started by this test in the
// server's namespace ($PFX-srv, PFX = tld) on 127.0.0.1:53 with zones tld.test and
// 77.10.in-addr.arpa and a TSIG key from tsig-keygen. Real dhclients send option 81
// (`send fqdn.fqdn`); `dig` checks A, PTR and DHCID. Covers: registration; a second client asking
// for a taken name does not get it; RELEASE and expiry remove the records; a wrong key leaves the
// lease working, the work pending, the error logged and counted; named stopped and restarted:
// the queued update completes.

process.env.TL_E2E_PFX = 'tld';

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';

const { ADDR, e2eSkipReason, NS } = await import('./lib/env.js');
const { BindServer, reverseName } = await import('./lib/bind.js');
const { sleep } = await import('./lib/proc.js');
const { apiGetText } = await import('./lib/api-get.js');
const { fqdnDhclient } = await import('./lib/real-client.js');
const { harnessConfig, harnessScope, makeWorkDir, TwinleaseServer } = await import('./lib/server.js');
const { topologyDown, topologyUp } = await import('./lib/topology.js');

const skip = e2eSkipReason(['dhclient', 'named', 'dig', 'tsig-keygen', 'curl']);

const LEASE_SECONDS = 30;
const API_PORT = 8067;
const TOKEN = 'tld-e2e-token-0123456789';
const WRONG_SECRET = Buffer.from('this is not the key named knows!').toString('base64');

describe('dynamic DNS against BIND 9', { skip: skip ?? false }, () => {
  const dir = makeWorkDir('ddns');
  const bind = new BindServer(join(dir, 'bind'), {
    ns: NS.srv,
    listenAddress: '127.0.0.1',
    keyName: 'tl-e2e-key',
    forwardZone: 'tld.test',
    reverseZone: '77.10.in-addr.arpa',
  });
  let server: InstanceType<typeof TwinleaseServer>;
  let secret = '';

  const config = (keySecret: string): Config =>
    harnessConfig(
      dir,
      [
        harnessScope({
          leaseTimeSeconds: LEASE_SECONDS,
          dns: {
            forwardZone: 'tld.test',
            reverseZone: '77.10.in-addr.arpa',
            server: { address: '127.0.0.1', port: 53 },
            tsigKey: { name: 'tl-e2e-key', algorithm: 'hmac-sha256', secret: keySecret },
            ttlSeconds: 60,
          },
        }),
      ],
      { api: { listenAddress: ADDR.srv, port: API_PORT, tokens: [{ name: 'e2e', token: TOKEN }] } },
    );

  const api = (path: string) => apiGetText(`http://${ADDR.srv}:${API_PORT}`, TOKEN, path);

  const client = (name: string, fqdn: string) => fqdnDhclient(dir, name, fqdn);
  const dig = (name: string, type: string) => bind.dig(name, type);
  const waitRecords = (name: string, ip: string, present: boolean, timeoutMs?: number) =>
    bind.waitRecords(name, ip, present, timeoutMs);

  before(async () => {
    await topologyUp();
    secret = await bind.setup();
    await bind.start();
    server = new TwinleaseServer(dir, config(secret));
    await server.start();
  });

  after(async () => {
    await server?.stop();
    await bind.stop();
    await topologyDown();
  });

  let alphaIp = '';

  test('a dhclient sending option 81 gets a lease; dig shows A, PTR and DHCID', {
    timeout: 60_000,
  }, async () => {
    const c = client('alpha', 'alpha.tld.test');
    try {
      await c.start();
      const bound = await c.waitEvent(['BOUND'], 20_000);
      alphaIp = bound.ip;
      await waitRecords('alpha.tld.test', bound.ip, true);
      const leases = readFileSync(join(dir, 'alpha', 'dhclient.leases'), 'utf8');
      assert.match(leases, /option fqdn\.server-update true|option fqdn\.fqdn "alpha\.tld\.test\.?"/, leases);
    } finally {
      await c.stop(); // no RELEASE: alpha keeps its lease
    }
  });

  test('a second client asking for the same name does not take it over', { timeout: 60_000 }, async () => {
    const c = client('beta', 'alpha.tld.test');
    try {
      await c.start();
      const bound = await c.waitEvent(['BOUND'], 20_000);
      assert.notEqual(bound.ip, alphaIp);
      await server.waitForLog('ddns.conflict', (r) => r.event === 'ddns.conflict', 15_000);
      assert.deepEqual(await dig('alpha.tld.test', 'A'), [alphaIp], 'the name still points to alpha');
      assert.deepEqual(await dig(reverseName(bound.ip), 'PTR'), [], 'no PTR for the loser');
    } finally {
      await c.stop();
    }
  });

  test('RELEASE removes the records', { timeout: 60_000 }, async () => {
    const c = client('gamma', 'gamma.tld.test');
    try {
      await c.start();
      const bound = await c.waitEvent(['BOUND'], 20_000);
      await waitRecords('gamma.tld.test', bound.ip, true);
      await c.release();
      await waitRecords('gamma.tld.test', bound.ip, false);
    } finally {
      await c.stop();
    }
  });

  test('expiry removes the records', { timeout: 90_000 }, async () => {
    // alpha stopped without releasing in the first test: its lease runs out.
    await waitRecords('alpha.tld.test', alphaIp, false, 60_000);
  });

  test('a wrong TSIG key: the lease works, the work stays pending, the error is logged and counted', {
    timeout: 90_000,
  }, async () => {
    server.reload(config(WRONG_SECRET));
    await server.waitForLog('reload', (r) => r.event === 'config.reloaded', 10_000);
    const c = client('epsilon', 'epsilon.tld.test');
    try {
      await c.start();
      const bound = await c.waitEvent(['BOUND'], 20_000);
      const failed = await server.waitForLog(
        'DNS update failure',
        (r) => r.event === 'ddns.update-failed' && r.zone === 'tld.test',
        15_000,
      );
      assert.match(failed, /"reason":"(notauth|badsig|badkey)"/, failed);
      assert.deepEqual(await dig('epsilon.tld.test', 'A'), []);
      const lease = JSON.parse(await api(`/api/v1/leases/${bound.ip}`)) as {
        dns: { registrationPending: boolean };
      };
      assert.equal(lease.dns.registrationPending, true, JSON.stringify(lease));
      const metrics = await api('/metrics');
      assert.match(metrics, /twinlease_events_total\{name="ddns-update-errors"\} [1-9]/, 'counted');
      // The right key again: the pending registration completes.
      server.reload(config(secret));
      await waitRecords('epsilon.tld.test', bound.ip, true, 30_000);
    } finally {
      await c.stop();
    }
  });

  test('named stopped, then restarted: the queued update completes', { timeout: 120_000 }, async () => {
    await bind.stop();
    const c = client('zeta', 'zeta.tld.test');
    try {
      await c.start();
      const bound = await c.waitEvent(['BOUND'], 20_000);
      await server.waitForLog(
        'timeout while named is down',
        (r) => r.event === 'ddns.update-failed' && r.fqdn === 'zeta.tld.test',
        20_000,
      );
      await sleep(2000);
      await bind.start();
      await waitRecords('zeta.tld.test', bound.ip, true, 60_000);
    } finally {
      await c.stop();
    }
  });

  test('the server logged no error', () => {
    assert.deepEqual(server.errors(), []);
  });
});
