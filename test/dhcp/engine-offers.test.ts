// DhcpEngine.pendingOffers: the read-only view of offers the API reports as addressState 'offered'.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DhcpMessageType } from '../../src/wire/dhcp-packet.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { engine, mac, NOW, packet } from './helpers.js';

test('pendingOffers lists held offers with the client as the engine knows it, and drops lapsed ones', () => {
  const e = engine();
  const a = e.handle(packet(DhcpMessageType.Discover, { mac: mac(1) }), NOW);
  const b = e.handle(packet(DhcpMessageType.Discover, { mac: mac(2), clientId: '01aabbccddeeff' }), NOW);
  assert.equal(a.action, 'reply');
  assert.equal(b.action, 'reply');
  const offers = [...e.pendingOffers(NOW + 1)].sort((x, y) => x.address - y.address);
  assert.equal(offers.length, 2);
  const [first, second] = offers;
  assert.equal(formatIpv4(first!.address), '10.0.0.100');
  assert.deepEqual(
    { ...first!, address: 0 },
    {
      address: 0,
      scopeId: '10.0.0.0',
      expiresAt: NOW + 60,
      clientId: null,
      hardwareType: 1,
      hardwareAddress: mac(1),
    },
  );
  assert.deepEqual(
    { ...second!, address: 0 },
    {
      address: 0,
      scopeId: '10.0.0.0',
      expiresAt: NOW + 60,
      clientId: '01aabbccddeeff',
      hardwareType: 0,
      hardwareAddress: '',
    },
  );
  assert.equal([...e.pendingOffers(NOW + 60)].length, 0, 'an offer is no longer pending at its expiry');
  // Binding the offered address ends the offer.
  const ack = e.handle(
    packet(DhcpMessageType.Request, { mac: mac(1), serverId: '10.0.0.1', requested: '10.0.0.100' }),
    NOW + 2,
  );
  assert.equal(ack.action, 'reply');
  assert.deepEqual(
    [...e.pendingOffers(NOW + 2)].map((o) => o.clientId),
    ['01aabbccddeeff'],
  );
});
