// Relayed clients (RFC 2131 §4.3.1, RFC 3046, RFC 3527): the scope is chosen by giaddr, by a
// scope's relayAddresses, or by the option 82 link-selection sub-option; the reply goes back to
// giaddr:67. Relays are crafted by the test client in $PFX-srv2, whose extra addresses the server
// namespace routes to 10.77.0.3; perfdhcp (a relay at 10.77.0.2) adds a burst of its own.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DhcpMessageType, DhcpTestClient, type Reply, testMac } from './lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from './lib/env.js';
import { readLeases } from './lib/lease-db.js';
import { harnessConfig, harnessScope, makeWorkDir, TwinleaseServer } from './lib/server.js';
import { addRelayAddress, nsRun, topologyDown, topologyUp } from './lib/topology.js';

const skip = e2eSkipReason(['ss', 'perfdhcp']);

const RELAYED_GIADDR = '10.99.0.1'; // inside scope 10.99.0.0/24
const LISTED_GIADDR = '10.66.0.1'; // outside every subnet, listed in relayAddresses of 10.88.0.0/24
const UNKNOWN_GIADDR = '10.55.0.1'; // matches no scope

const ipInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const between = (ip: string, lo: string, hi: string) => ipInt(ip) >= ipInt(lo) && ipInt(ip) <= ipInt(hi);

function option(reply: Reply, code: number): Uint8Array | undefined {
  return reply.packet.options.get(code);
}
const dotted = (b: Uint8Array | undefined) => (b && b.length >= 4 ? [...b.subarray(0, 4)].join('.') : '');

describe('relayed clients', { skip: skip ?? false }, () => {
  let server: TwinleaseServer;
  let relay: DhcpTestClient;
  const dir = makeWorkDir('relay');

  before(async () => {
    await topologyUp();
    for (const a of [RELAYED_GIADDR, LISTED_GIADDR, UNKNOWN_GIADDR]) await addRelayAddress(a);
    server = new TwinleaseServer(
      dir,
      harnessConfig(dir, [
        harnessScope(),
        {
          subnet: '10.99.0.0/24',
          ranges: [{ start: '10.99.0.10', end: '10.99.0.200' }],
          leaseTimeSeconds: 3600,
          options: [{ name: 'routers', data: RELAYED_GIADDR }],
        },
        {
          subnet: '10.88.0.0/24',
          ranges: [{ start: '10.88.0.10', end: '10.88.0.20' }],
          relayAddresses: [LISTED_GIADDR],
          leaseTimeSeconds: 3600,
        },
      ]),
    );
    await server.start();
    relay = await DhcpTestClient.start({ ns: NS.srv2, giaddr: ADDR.srv2, server: ADDR.srv });
  });

  after(async () => {
    await relay?.close();
    await server?.stop();
    await topologyDown();
  });

  test('giaddr 10.99.0.1 gets an address of 10.99.0.0/24, sent back to the relay', {
    timeout: 20_000,
  }, async () => {
    const mac = testMac(0x99, 1);
    const r = await relay.dora(mac, { giaddr: RELAYED_GIADDR });
    assert.equal(r.offer?.type, DhcpMessageType.Offer, 'OFFER');
    assert.ok(between(r.offer!.yiaddr, '10.99.0.10', '10.99.0.200'), `offered ${r.offer!.yiaddr}`);
    assert.equal(r.offer!.giaddr, RELAYED_GIADDR, 'giaddr echoed');
    assert.equal(dotted(option(r.offer!, 1)), '255.255.255.0', 'subnet mask of the relayed scope');
    assert.equal(dotted(option(r.offer!, 3)), RELAYED_GIADDR, 'routers of the relayed scope');
    assert.equal(r.reply?.type, DhcpMessageType.Ack, 'ACK');
    assert.equal(r.reply!.yiaddr, r.offer!.yiaddr);
    assert.equal(r.reply!.leaseTimeSeconds, 3600);
    const row = (await readLeases(server.dbPath)).get(r.reply!.yiaddr);
    assert.equal(row?.state, 'active');
    assert.equal(row?.hardwareAddress, mac);
  });

  test('giaddr inside the direct subnet gets an address of 10.77.0.0/16', { timeout: 20_000 }, async () => {
    const r = await relay.dora(testMac(0x99, 2));
    assert.equal(r.reply?.type, DhcpMessageType.Ack);
    assert.ok(between(r.reply!.yiaddr, ADDR.poolStart, ADDR.poolEnd), `got ${r.reply!.yiaddr}`);
  });

  test('a giaddr listed in relayAddresses selects that scope', { timeout: 20_000 }, async () => {
    const r = await relay.dora(testMac(0x99, 3), { giaddr: LISTED_GIADDR });
    assert.equal(r.reply?.type, DhcpMessageType.Ack);
    assert.ok(between(r.reply!.yiaddr, '10.88.0.10', '10.88.0.20'), `got ${r.reply!.yiaddr}`);
    assert.equal(r.reply!.giaddr, LISTED_GIADDR);
  });

  test('option 82 link-selection overrides giaddr and is echoed', { timeout: 20_000 }, async () => {
    const r = await relay.dora(testMac(0x99, 4), { linkSelection: '10.99.0.0', circuitId: '0102' });
    assert.equal(r.reply?.type, DhcpMessageType.Ack);
    assert.ok(between(r.reply!.yiaddr, '10.99.0.10', '10.99.0.200'), `got ${r.reply!.yiaddr}`);
    assert.equal(r.reply!.giaddr, ADDR.srv2, 'the reply still goes to the relay that sent it');
    const rai = option(r.reply!, 82);
    assert.ok(rai, 'option 82 echoed (RFC 3046 §2.2)');
    assert.deepEqual([...rai.subarray(0, 4)], [1, 2, 1, 2], 'circuit-id sub-option copied');
  });

  test('a relayed RENEWING request (ciaddr) extends the lease; a wrong-network INIT-REBOOT is NAKed', {
    timeout: 20_000,
  }, async () => {
    const mac = testMac(0x99, 6);
    const first = await relay.dora(mac, { giaddr: RELAYED_GIADDR });
    assert.equal(first.reply?.type, DhcpMessageType.Ack);
    const ip = first.reply!.yiaddr;
    const before = (await readLeases(server.dbPath)).get(ip)!;
    await new Promise((r) => setTimeout(r, 1100)); // so the new expiry is visibly later
    // RFC 2131 §4.3.2 RENEWING: ciaddr filled in, no option 50/54.
    const renew = await relay.request(mac, { giaddr: RELAYED_GIADDR, ciaddr: ip });
    assert.equal(renew?.type, DhcpMessageType.Ack, 'renewal ACKed');
    assert.equal(renew!.yiaddr, ip);
    const after = (await readLeases(server.dbPath)).get(ip)!;
    assert.ok(
      after.leaseExpiresAt > before.leaseExpiresAt,
      `expiry moved: ${before.leaseExpiresAt} -> ${after.leaseExpiresAt}`,
    );
    // INIT-REBOOT (option 50, no server id) for an address of another network: NAK (§4.3.2).
    const reboot = await relay.request(mac, { giaddr: RELAYED_GIADDR, requestedAddress: '10.77.1.77' });
    assert.equal(reboot?.type, DhcpMessageType.Nak, 'wrong network is NAKed');
  });

  test('a giaddr that matches no scope gets no answer', { timeout: 20_000 }, async () => {
    const r = await relay.discover(testMac(0x99, 5), {
      giaddr: UNKNOWN_GIADDR,
      attempts: 2,
      attemptTimeoutMs: 700,
    });
    assert.equal(r, null);
  });

  test('perfdhcp as a relay (10.77.0.2) completes its exchanges', { timeout: 30_000 }, async (t) => {
    const r = await nsRun(
      NS.cli,
      'perfdhcp',
      ['-4', '-r', '200', '-R', '300', '-p', '3', '-l', ADDR.cli, ADDR.srv],
      { timeoutMs: 20_000, check: false },
    );
    const out = r.stdout + r.stderr;
    const sent = Number(/sent packets: (\d+)/.exec(out)?.[1] ?? 0);
    const acks = [...out.matchAll(/received packets: (\d+)/g)].map((m) => Number(m[1]));
    t.diagnostic(`perfdhcp rc=${r.code} sent=${sent} received=${acks.join('/')}`);
    assert.ok(sent >= 300, `perfdhcp sent ${sent} DISCOVERs\n${out}`);
    // perfdhcp counts an exchange still open at the end of the period as a drop: allow 2%.
    assert.ok((acks[1] ?? 0) >= sent * 0.98, `ACKs ${acks[1]} for ${sent} DISCOVERs\n${out}`);
    const leases = [...(await readLeases(server.dbPath)).values()].filter((l) => l.state === 'active');
    for (const l of leases) {
      if (l.hardwareAddress.startsWith('02')) continue; // ours, checked above
      assert.ok(between(l.ip, ADDR.poolStart, ADDR.poolEnd), `perfdhcp lease ${l.ip} outside 10.77 pool`);
    }
  });

  test('the server logged no error', () => {
    assert.deepEqual(server.errors(), []);
  });
});
