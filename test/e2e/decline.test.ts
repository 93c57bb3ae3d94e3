// DHCPDECLINE (RFC 2131 §4.3.3): the declined address is taken out of use, and the client (and
// everyone else) is offered a different one. Once with crafted relayed packets, once with an
// unmodified dhclient whose hook rejects the first address it is given.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DhcpMessageType, DhcpTestClient, testMac } from './lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from './lib/env.js';
import { describeLease, readLeases } from './lib/lease-db.js';
import { sleep } from './lib/proc.js';
import { RealClient } from './lib/real-client.js';
import { harnessConfig, harnessScope, makeWorkDir, TwinleaseServer } from './lib/server.js';
import { topologyDown, topologyUp } from './lib/topology.js';

const skip = e2eSkipReason(['dhclient', 'ss']);
const DECLINE_HOLD_S = 600;

describe('DECLINE', { skip: skip ?? false }, () => {
  let server: TwinleaseServer;
  let relay: DhcpTestClient;
  const dir = makeWorkDir('decline');

  before(async () => {
    await topologyUp();
    server = new TwinleaseServer(
      dir,
      harnessConfig(dir, [harnessScope({ declineHoldSeconds: DECLINE_HOLD_S })]),
    );
    await server.start();
    // The relay lives in $PFX-srv2 (10.77.0.3): giaddr inside the served subnet.
    relay = await DhcpTestClient.start({ ns: NS.srv2, giaddr: ADDR.srv2, server: ADDR.srv });
  });

  after(async () => {
    await relay?.close();
    await server?.stop();
    await topologyDown();
  });

  test('a declined address is offered to nobody, the decliner included', { timeout: 30_000 }, async () => {
    const a = testMac(0xdc, 1);
    const first = await relay.dora(a);
    assert.equal(first.offer?.type, DhcpMessageType.Offer, 'OFFER');
    assert.equal(first.reply?.type, DhcpMessageType.Ack, 'ACK');
    const declined = first.reply!.yiaddr;

    relay.decline(a, declined, first.reply!.serverId ?? ADDR.srv);
    await sleep(300); // no reply to a DECLINE; give the server a moment to take it in

    const again = await relay.discover(a);
    assert.equal(again?.type, DhcpMessageType.Offer, 'the decliner gets a new OFFER');
    assert.notEqual(again!.yiaddr, declined, 'with a different address');
    const ack = await relay.request(a, {
      xid: again!.xid,
      requestedAddress: again!.yiaddr,
      serverId: again!.serverId ?? ADDR.srv,
    });
    assert.equal(ack?.type, DhcpMessageType.Ack);
    assert.equal(ack!.yiaddr, again!.yiaddr);

    // Other clients never see it either: the next fresh clients walk the pool past it.
    for (let i = 2; i < 12; i++) {
      const r = await relay.dora(testMac(0xdc, i));
      assert.equal(r.reply?.type, DhcpMessageType.Ack, `client ${i} ACKed`);
      assert.notEqual(r.reply!.yiaddr, declined, `client ${i} got the declined address`);
    }
    // Asking for it by name (option 50) does not get it either.
    const asking = await relay.discover(testMac(0xdc, 99), { requestedAddress: declined });
    assert.equal(asking?.type, DhcpMessageType.Offer);
    assert.notEqual(asking!.yiaddr, declined, 'requested (option 50) declined address must not be offered');

    const row = (await readLeases(server.dbPath)).get(declined);
    assert.equal(row?.state, 'abandoned', describeLease(row));
    const nowS = Math.floor(Date.now() / 1000);
    assert.ok(
      row!.leaseExpiresAt >= nowS + DECLINE_HOLD_S - 10,
      `held for declineHoldSeconds: ${describeLease(row)}`,
    );
  });

  test('a DECLINE or RELEASE from another client leaves the binding alone', { timeout: 20_000 }, async () => {
    const owner = testMac(0xdc, 200);
    const intruder = testMac(0xdc, 201);
    const r = await relay.dora(owner);
    assert.equal(r.reply?.type, DhcpMessageType.Ack);
    const ip = r.reply!.yiaddr;
    relay.decline(intruder, ip, ADDR.srv);
    relay.release(intruder, ip, ADDR.srv);
    await sleep(300);
    const row = (await readLeases(server.dbPath)).get(ip);
    assert.equal(row?.state, 'active', describeLease(row));
    assert.equal(row?.hardwareAddress, owner);
    const again = await relay.dora(owner);
    assert.equal(again.reply?.yiaddr, ip, 'the owner keeps its address');
  });

  test('dhclient that rejects its first address gets another one', { timeout: 45_000 }, async (t) => {
    const client = new RealClient('dhclient', dir, { declineFirstBound: true });
    try {
      await client.start();
      const first = await client.waitEvent(['BOUND'], 15_000);
      // dhclient waits about 10 s after a DECLINE before it starts over (RFC 2131 §3.1 step 5).
      const firstIndex = client.events().findIndex((e) => e.reason === 'BOUND');
      const second = await client.waitEvent(['BOUND'], 30_000, firstIndex + 1);
      t.diagnostic(`declined ${first.ip}, then bound ${second.ip} after ${second.atMs - first.atMs} ms`);
      assert.match(client.log(), /DHCPDECLINE of/);
      assert.notEqual(second.ip, first.ip);
      const row = (await readLeases(server.dbPath)).get(first.ip);
      assert.equal(row?.state, 'abandoned', describeLease(row));
    } finally {
      await client.stop();
    }
  });

  test('the server logged no error', () => {
    assert.deepEqual(server.errors(), []);
  });
});
