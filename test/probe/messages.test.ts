// The probe's messages (src/probe/messages.ts) through the project's own codec: what a relayed
// client sends in each step, and how a reply is read.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  discover,
  nthClient,
  type ProbeClient,
  readReply,
  release,
  requestRenewing,
  requestSelecting,
} from '../../src/probe/messages.js';
import { decodeDhcp, encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { getIpv4Option, getStringOption, OPTION } from '../../src/wire/dhcp-options.js';
import { BOOTREPLY, BOOTREQUEST, DhcpMessageType, type DhcpPacket } from '../../src/wire/dhcp-packet.js';
import { fromHex, parseIpv4, toHex } from '../../src/wire/ipv4.js';

const client: ProbeClient = {
  hardwareAddress: fromHex('0200000000ff'),
  clientId: fromHex('010200000000ff'),
  hostname: 'laptop',
};
const giaddr = parseIpv4('127.0.0.3');
const base = { client, giaddr, xid: 0xdeadbeef, secs: 4.7 };

/** Through the wire and back, as a server sees it. */
function onTheWire(p: DhcpPacket): DhcpPacket {
  const d = decodeDhcp(encodeDhcp(p));
  assert.ok(d.ok);
  return d.packet;
}

describe('probe messages', () => {
  test('DISCOVER: relayed (giaddr, hops 1), secs in whole seconds, identity and wishes', () => {
    const p = onTheWire(discover(base));
    assert.equal(p.op, BOOTREQUEST);
    assert.equal(p.giaddr, giaddr);
    assert.equal(p.hops, 1);
    assert.equal(p.xid, 0xdeadbeef);
    assert.equal(p.secs, 4);
    assert.equal(p.ciaddr, 0);
    assert.equal(toHex(p.chaddr.subarray(0, p.hlen)), '0200000000ff');
    assert.deepEqual([...p.options.get(OPTION.messageType)!], [DhcpMessageType.Discover]);
    assert.equal(toHex(p.options.get(OPTION.clientId)!), '010200000000ff');
    assert.equal(getStringOption(p.options, OPTION.hostName), 'laptop');
    assert.ok(p.options.get(OPTION.parameterRequestList)!.includes(OPTION.leaseTime));
    assert.equal(p.options.has(OPTION.requestedAddress), false);
  });

  test('SELECTING REQUEST names the offered address and the server; RENEWING carries ciaddr only', () => {
    const offered = parseIpv4('192.168.77.200');
    const server = parseIpv4('127.0.0.2');
    const selecting = onTheWire(requestSelecting(base, offered, server));
    assert.equal(getIpv4Option(selecting.options, OPTION.requestedAddress), offered);
    assert.equal(getIpv4Option(selecting.options, OPTION.serverIdentifier), server);
    assert.equal(selecting.ciaddr, 0);

    const renewing = onTheWire(requestRenewing(base, offered));
    assert.deepEqual([...renewing.options.get(OPTION.messageType)!], [DhcpMessageType.Request]);
    assert.equal(renewing.ciaddr, offered);
    assert.equal(renewing.giaddr, giaddr);
    assert.equal(renewing.options.has(OPTION.requestedAddress), false);
    assert.equal(renewing.options.has(OPTION.serverIdentifier), false);
  });

  test('RELEASE: ciaddr and the server identifier, no parameter list', () => {
    const address = parseIpv4('192.168.77.100');
    const server = parseIpv4('127.0.0.1');
    const p = onTheWire(release({ ...base, secs: 0 }, address, server));
    assert.deepEqual([...p.options.get(OPTION.messageType)!], [DhcpMessageType.Release]);
    assert.equal(p.ciaddr, address);
    assert.equal(getIpv4Option(p.options, OPTION.serverIdentifier), server);
    assert.equal(p.options.has(OPTION.parameterRequestList), false);
  });

  test('the n-th client counts MAC and client id up (with carry) and numbers the host name', () => {
    const third = nthClient(client, 2);
    assert.equal(toHex(third.hardwareAddress), '020000000101');
    assert.equal(toHex(third.clientId!), '010200000001' + '01');
    assert.equal(third.hostname, 'laptop-2');
    assert.equal(nthClient(client, 0).hostname, 'laptop');
    assert.equal(toHex(client.hardwareAddress), '0200000000ff', 'the base client is not changed');
    assert.equal(nthClient({ ...client, clientId: null, hostname: null }, 3).clientId, null);
  });

  test('readReply takes replies to its xid only, and reads lease, timers, server id and NAK message', () => {
    const reply = (type: DhcpMessageType, xid = 0xdeadbeef): DhcpPacket => {
      const p = discover(base);
      p.op = BOOTREPLY;
      p.xid = xid;
      p.yiaddr = type === DhcpMessageType.Nak ? 0 : parseIpv4('192.168.77.5');
      p.options = new Map([
        [OPTION.messageType, Uint8Array.of(type)],
        [OPTION.serverIdentifier, Uint8Array.of(127, 0, 0, 1)],
      ]);
      if (type === DhcpMessageType.Ack) {
        p.options.set(OPTION.leaseTime, Uint8Array.of(0, 0, 0x0e, 0x10));
        p.options.set(OPTION.renewalTime, Uint8Array.of(0, 0, 0x07, 0x08));
        p.options.set(OPTION.rebindingTime, Uint8Array.of(0, 0, 0x0c, 0x4e));
      }
      if (type === DhcpMessageType.Nak)
        p.options.set(OPTION.message, new TextEncoder().encode('wrong network'));
      return onTheWire(p);
    };
    const ack = readReply(reply(DhcpMessageType.Ack), 0xdeadbeef);
    assert.deepEqual(ack, {
      type: 'ack',
      address: parseIpv4('192.168.77.5'),
      serverId: parseIpv4('127.0.0.1'),
      leaseSeconds: 3600,
      renewSeconds: 1800,
      rebindSeconds: 3150,
      message: null,
    });
    assert.equal(readReply(reply(DhcpMessageType.Nak), 0xdeadbeef)?.message, 'wrong network');
    assert.equal(readReply(reply(DhcpMessageType.Offer), 0xdeadbeef)?.type, 'offer');
    assert.equal(readReply(reply(DhcpMessageType.Ack, 1), 0xdeadbeef), null, 'another xid');
    assert.equal(readReply(onTheWire(discover(base)), 0xdeadbeef), null, 'a request, not a reply');
    assert.equal(
      readReply(reply(DhcpMessageType.Inform), 0xdeadbeef),
      null,
      'not an answer a client waits for',
    );
  });
});
